"""Bad input, faults and reproducibility through the real stage commands.

Each case: a non-zero exit, one clear message (no traceback), and the last good outputs untouched.
Runs in a scratch project directory with its own params file and data mirror.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from ..conftest import IMDB_ARCHIVE, STOCK_CSV
from .workdir import Workdir

pytestmark = pytest.mark.e2e


def _digest(path: Path) -> str:
    """One hash over every file below `path` (names and bytes)."""
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(str(file.relative_to(path)).encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def good_stock(tmp_path_factory) -> Workdir:
    """A scratch project after a good ingest -> validate -> preprocess of stock."""
    work = Workdir(tmp_path_factory.mktemp("reliability"))
    for stage in ("ingest", "validate", "preprocess"):
        work.run(stage, "stock", check=True)
    return work


@pytest.fixture
def stock(good_stock: Workdir):
    """The good scratch project; each test's changes to params and mirror are undone after it."""
    params = json.loads(json.dumps(good_stock.params))
    before = {d: _digest(good_stock.root / "data" / d / "stock") for d in ("raw", "processed")}
    yield good_stock
    good_stock.params = params
    shutil.copy(STOCK_CSV, good_stock.mirror / "stock" / STOCK_CSV.name)
    assert _digest(good_stock.root / "data/processed/stock") == before["processed"]


GOOD = STOCK_CSV.read_bytes().decode("utf-8") if STOCK_CSV.is_file() else ""
LINES = GOOD.split("\r\n")


def _cell(row: int, column: int, value: str) -> str:
    lines = list(LINES)
    cells = lines[2 + row].split(",")
    cells[column] = value
    lines[2 + row] = ",".join(cells)
    return "\r\n".join(lines)


# (case, planted file, stage that must fail, words its message must contain)
STOCK_CASES = [
    ("empty file", "", "ingest", "no data rows"),
    ("header only", "\r\n".join(LINES[:2]), "ingest", "no data rows"),
    ("missing column", "\r\n".join(",".join(line.split(",")[:4]) if line[:1] != "#" else line for line in LINES), "ingest", "4 comma-separated column(s)"),
    ("renamed column", GOOD.replace("Volume,Close", "Volume,Price"), "validate", "expect_table_columns_to_match_ordered_list"),
    ("non-numeric cell", _cell(3, 0, "n/a"), "validate", "expect_column_values_to_be_in_type_list(column=Open"),
    ("missing value", _cell(3, 2, ""), "validate", "expect_column_values_to_not_be_null(column=Low"),
    ("negative volume", _cell(3, 3, "-100"), "validate", "expect_column_values_to_be_between(column=Volume"),
    ("High < Low", _cell(3, 1, "1.0"), "validate", "column_A=High, column_B=Low"),
    ("Close above High", _cell(3, 4, "2000.0"), "validate", "column_A=High, column_B=Close"),
    ("too few rows", "\r\n".join(LINES[:10]), "validate", "expect_table_row_count_to_be_between"),
    ("other delimiter", GOOD.replace(",", ";"), "ingest", "delimiter"),
    ("duplicated rows", "\r\n".join([*LINES, LINES[7]]), "validate", "expect_compound_columns_to_be_unique"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "text", "stage", "message"), STOCK_CASES, ids=[c[0] for c in STOCK_CASES]
)
def test_bad_stock_file_fails_clearly_and_keeps_good_outputs(stock, case, text, stage, message):
    raw_before = _digest(stock.root / "data/raw/stock")
    stock.plant_stock(text)
    out = stock.run("ingest", "stock")
    if stage == "validate":
        assert out.returncode == 0, out.stderr
        out = stock.run("validate", "stock")
    else:
        assert _digest(stock.root / "data/raw/stock") == raw_before
    assert out.returncode == 1
    assert message in out.stderr and "Traceback" not in out.stderr
    assert out.stderr.startswith(f"error: {stage} stock:")


@pytest.mark.parametrize(
    "text", [f"\ufeff{GOOD}", f"{GOOD}\r\n\r\n\r\n"], ids=["UTF-8 BOM", "trailing blank lines"]
)
def test_harmless_variations_are_accepted(stock, text):
    stock.plant_stock(text)
    stock.run("ingest", "stock", check=True)
    assert "all 20 expectations passed" in stock.run("validate", "stock", check=True).stdout
    stock.plant_stock(GOOD)
    stock.run("ingest", "stock", check=True)


def test_checksum_mismatch(stock):
    (stock.mirror / "stock" / STOCK_CSV.name).write_text(GOOD.replace("828.659973", "828.66"))
    out = stock.run("ingest", "stock")
    assert out.returncode == 1 and "checksum mismatch" in out.stderr and "sha256" in out.stderr


def test_mirror_configured_but_file_missing(stock):
    (stock.mirror / "stock" / STOCK_CSV.name).unlink()
    out = stock.run("ingest", "stock")
    assert out.returncode == 1 and "is missing" in out.stderr and "LSTMOPS_MIRROR" in out.stderr


def test_unreachable_url_without_mirror(stock):
    stock.set("stock.source.url", "http://127.0.0.1:9/data-02-stock_daily.csv")
    out = stock.run("ingest", "stock", env={"LSTMOPS_MIRROR": ""})
    assert out.returncode == 1 and "could not download" in out.stderr and "mirror" in out.stderr


def test_seq_length_longer_than_the_series(stock):
    stock.set("stock.preprocess.seq_length", 800)
    out = stock.run("validate", "stock")
    assert (
        out.returncode == 1 and "expect_table_row_count_to_be_between(min_value=802)" in out.stderr
    )
    out = stock.run("preprocess", "stock")
    assert out.returncode == 1 and "seq_length=800" in out.stderr


def test_bad_param_through_the_cli(stock):
    stock.set("stock.train.epochs", 0)
    out = stock.run("train", "stock")
    assert (
        out.returncode == 1 and "stock.train.epochs: Input should be greater than 0" in out.stderr
    )


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("http://127.0.0.1:9", "does not answer"),
        ("sqlite:////proc/lstmops-store/mlflow.db", "cannot create the MLflow store directory"),
    ],
)
def test_tracking_store_unusable(stock, uri, message):
    out = stock.run("train", "stock", env={"MLFLOW_TRACKING_URI": uri})
    assert out.returncode == 1 and message in out.stderr and "Traceback" not in out.stderr
    assert not (stock.root / "models").exists()


def test_corrupt_imdb_archive_keeps_raw(tmp_path):
    work = Workdir(tmp_path)
    data = IMDB_ARCHIVE.read_bytes()[: 2 * 1024 * 1024]  # a download cut short
    (work.mirror / "imdb" / IMDB_ARCHIVE.name).write_bytes(data)
    work.set("imdb.source.sha256", hashlib.sha256(data).hexdigest())
    raw = tmp_path / "data/raw/imdb"
    raw.mkdir(parents=True)
    (raw / "train.parquet").write_bytes(b"last good output")
    out = work.run("ingest", "imdb")
    assert out.returncode == 1 and "truncated or corrupt" in out.stderr
    assert (raw / "train.parquet").read_bytes() == b"last good output"
    assert sorted(p.name for p in raw.parent.iterdir()) == ["imdb"]  # no temporary left behind


def test_killed_training_resumes_and_loses_nothing(stock):
    import mlflow

    stock.set("stock.train.epochs", 2)
    stock.run("train", "stock", check=True)
    good_model = _digest(stock.root / "models/stock")

    stock.set("stock.train.epochs", 40)
    stock.set("stock.train.checkpoint_seconds", 0)  # every epoch: the kill lands after a save
    (stock.root / "params.yaml").write_text(yaml.safe_dump(stock.params, sort_keys=False))
    process = subprocess.Popen(
        [sys.executable, "-m", "lstmops", "train", "stock"],
        cwd=stock.root, env=stock.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    histories = stock.root / "checkpoints" / "stock"
    deadline = time.time() + 300
    while not any(
        len(json.loads(h.read_text())["loss"]) >= 5 for h in histories.glob("*/history.json")
    ):
        assert process.poll() is None and time.time() < deadline, (
            "training ended before it was killed"
        )
        time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert _digest(stock.root / "models/stock") == good_model  # the last good model is intact

    out = stock.run("train", "stock", check=True)
    assert "resuming run" in out.stdout
    history = json.loads((stock.root / "models/stock/history.json").read_text())
    assert len(history["loss"]) == 40
    run_id = json.loads((stock.root / "models/stock/run.json").read_text())["run_id"]
    mlflow.set_tracking_uri(f"sqlite:///{stock.root / 'mlruns' / 'mlflow.db'}")
    try:
        client = mlflow.MlflowClient()
        run = client.get_run(run_id)
        assert run.data.tags["resumed"] == "true" and int(run.data.tags["resumed_from_epoch"]) >= 5
        assert run.info.status == "FINISHED"
        steps = [m.step for m in client.get_metric_history(run_id, "loss")]
        # no epoch is missing; the one epoch logged after the last checkpoint may appear twice
        assert set(steps) == set(range(40)) and len(steps) <= 41, sorted(steps)
    finally:
        mlflow.set_tracking_uri(None)
    assert not histories.exists()  # checkpoints are dropped once the run finishes
