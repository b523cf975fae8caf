"""Bad input, faults and reproducibility through the real stage commands.

Each case: a non-zero exit, one clear message (no traceback), and the last good outputs untouched.
Runs in a scratch project directory with its own params file and data mirror.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from ..conftest import IMDB_ARCHIVE, STOCK_CSV
from .workdir import Workdir, copy_project
from .workdir import run as run_ok

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
    """The good scratch project; each test's changes to params, mirror and raw data are undone."""
    params = json.loads(json.dumps(good_stock.params))
    before = {d: _digest(good_stock.root / "data" / d / "stock") for d in ("raw", "processed")}
    yield good_stock
    good_stock.params = params
    shutil.copy(STOCK_CSV, good_stock.mirror / "stock" / STOCK_CSV.name)
    if _digest(good_stock.root / "data/raw/stock") != before["raw"]:  # a test ingested other data
        good_stock.run("ingest", "stock", check=True)
    assert _digest(good_stock.root / "data/raw/stock") == before["raw"]
    assert _digest(good_stock.root / "data/processed/stock") == before["processed"]


GOOD = STOCK_CSV.read_bytes().decode("utf-8") if STOCK_CSV.is_file() else ""
LINES = GOOD.split("\r\n")


def _cell(row: int, column: int, value: str) -> str:
    lines = list(LINES)
    cells = lines[2 + row].split(",")
    cells[column] = value
    lines[2 + row] = ",".join(cells)
    return "\r\n".join(lines)


def _row(row: int, values: str) -> str:
    lines = list(LINES)
    lines[2 + row] = values
    return "\r\n".join(lines)


# (case, planted file, words the message must contain): each fails in ingest, before the bad table
# can replace the last good raw data.
STOCK_CASES = [
    ("empty file", "", "no data rows"),
    ("header only", "\r\n".join(LINES[:2]), "no data rows"),
    ("missing column", "\r\n".join(",".join(line.split(",")[:4]) if line[:1] != "#" else line for line in LINES), "4 comma-separated column(s)"),
    ("other delimiter", GOOD.replace(",", ";"), "delimiter"),
    ("UTF-16", GOOD.encode("utf-16"), "is not UTF-8 text (it starts with a UTF-16 byte order mark)"),
    ("binary", bytes(range(256)) * 20, "is not UTF-8 text: byte 0x80 at offset 128"),
    ("renamed column", GOOD.replace("Volume,Close", "Volume,Price"), "expect_table_columns_to_match_set"),
    ("oldest first", "\r\n".join(LINES[:2] + LINES[2:][::-1]), "the rows look reversed in time"),
    ("non-numeric cell", _cell(3, 0, "n/a"), "expect_column_values_to_be_in_type_list(column=Open"),
    ("missing value", _cell(3, 2, ""), "expect_column_values_to_not_be_null(column=Low"),
    ("missing Volume", _cell(3, 3, ""), "expect_column_values_to_not_be_null(column=Volume"),
    ("negative volume", _cell(3, 3, "-100"), "expect_column_values_to_be_between(column=Volume"),
    ("zero Close", _cell(3, 4, "0"), "column_A=Close, column_B=Low"),
    ("infinite Close", _cell(3, 4, "inf"), "expect_column_values_to_not_be_in_set(column=Close, value_set=[inf, -inf])"),
    ("negative prices", _row(3, "-5,-4,-6,1000,-5"), "expect_column_values_to_be_between(column=Low"),
    ("High < Low", _cell(3, 1, "1.0"), "column_A=High, column_B=Low"),
    ("Close above High", _cell(3, 4, "2000.0"), "column_A=High, column_B=Close"),
    ("one row", "\r\n".join(LINES[:3]), "leave 0 training and 0 test windows from the series' 1 rows"),
    ("duplicated rows", "\r\n".join([*LINES, LINES[7]]), "expect_compound_columns_to_be_unique"),
    ("constant rows", "\r\n".join(LINES[:2] + [LINES[2]] * 700), "expect_compound_columns_to_be_unique"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "text", "message"), STOCK_CASES, ids=[c[0] for c in STOCK_CASES])
def test_bad_stock_file_fails_in_ingest_and_keeps_the_good_raw_data(stock, case, text, message):
    raw_before = _digest(stock.root / "data/raw/stock")
    stock.plant_stock(text)
    out = stock.run("ingest", "stock")
    assert out.returncode == 1
    assert message in out.stderr and "Traceback" not in out.stderr, out.stderr
    assert out.stderr.startswith("error: ingest stock:")
    assert _digest(stock.root / "data/raw/stock") == raw_before
    if "expect_" in message:  # the report says what failed, and that the good data was kept
        report = json.loads((stock.root / "reports/validation/stock.json").read_text())
        assert not report["success"] and report["failed"] >= 1
        assert "was not replaced" in out.stderr and "stock.html" in out.stderr
    assert not list((stock.root / "data/raw").glob(".*.tmp"))  # no temporary left behind


@pytest.mark.parametrize(
    "text", [f"\ufeff{GOOD}", f"{GOOD}\r\n\r\n\r\n"], ids=["UTF-8 BOM", "trailing blank lines"]
)
def test_harmless_variations_are_accepted(stock, text):
    stock.plant_stock(text)
    stock.run("ingest", "stock", check=True)
    assert "all 26 expectations passed" in stock.run("validate", "stock", check=True).stdout


def test_checksum_mismatch(stock):
    (stock.mirror / "stock" / STOCK_CSV.name).write_text(GOOD.replace("828.659973", "828.66"))
    out = stock.run("ingest", "stock")
    assert out.returncode == 1 and "checksum mismatch" in out.stderr and "sha256" in out.stderr


def test_mirror_configured_but_file_missing(stock):
    (stock.mirror / "stock" / STOCK_CSV.name).unlink()
    out = stock.run("ingest", "stock")
    assert out.returncode == 1 and "is missing" in out.stderr and "LSTMOPS_MIRROR" in out.stderr


def test_unreachable_url_without_mirror(stock):
    stock.set("datasets.prices.stock.source.url", "http://127.0.0.1:9/data-02-stock_daily.csv")
    out = stock.run("ingest", "stock", env={"LSTMOPS_MIRROR": ""})
    assert out.returncode == 1 and "could not download" in out.stderr and "mirror" in out.stderr


@pytest.mark.parametrize(
    ("setting", "value", "rows"),
    [("prices.preprocess.seq_length", 800, 732), ("prices.preprocess.seq_length", 720, 732),
     ("prices.preprocess.train_fraction", 0.99, 732)],
)  # fmt: skip
def test_too_short_a_test_period_is_a_settings_error(stock, setting, value, rows):
    stock.set(setting, value)
    assert stock.run("validate", "stock").returncode == 0  # the data are fine: the setting is not
    out = stock.run("preprocess", "stock")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    name = setting.rsplit(".", 1)[1]
    assert f"{name}={value}" in out.stderr and f"{rows} rows" in out.stderr
    assert "min_test_windows=30" in out.stderr and "source data" not in out.stderr


def test_a_ten_row_series_is_refused_in_ingest_and_keeps_the_good_raw_data(stock):
    raw_before = _digest(stock.root / "data/raw/stock")
    stock.plant_stock("\r\n".join(LINES[:10]))  # 8 days: valid data, far too short to judge
    out = stock.run("ingest", "stock")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "8 rows" in out.stderr and "0 training and 1 test" in out.stderr  # preprocess's words
    assert "data/raw/stock was not replaced" in out.stderr
    assert _digest(stock.root / "data/raw/stock") == raw_before


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("prices.train.epochs", 0, "prices.train.epochs: Input should be greater than 0"),
        (
            "prices.train.activation",
            "rleu",
            "prices.train.activation: Input should be 'relu', 'tanh'",
        ),
        ("prices.train.distribution", "ring", "prices.train.distribution: Input should be 'none'"),
        ("prices.preprocess.scaler_fit", "test", "prices.preprocess.scaler_fit: Input should be"),
        ("prices.train.validation_fraction", 0.001, "leaves 0 for validation"),
    ],
)
def test_bad_param_through_the_cli(stock, setting, value, message):
    stock.set(setting, value)
    out = stock.run("train", "stock")
    assert out.returncode == 1 and message in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("http://127.0.0.1:9", "does not answer"),
        ("sqlite:////proc/lstmops-store/mlflow.db", "cannot create the MLflow store directory"),
        ("foo://bar", "has the scheme 'foo', which MLflow cannot track to"),
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
    work.set("datasets.sentiment.imdb.source.sha256", hashlib.sha256(data).hexdigest())
    raw = tmp_path / "data/raw/imdb"
    raw.mkdir(parents=True)
    (raw / "train.parquet").write_bytes(b"last good output")
    out = work.run("ingest", "imdb")
    assert out.returncode == 1 and "truncated or corrupt" in out.stderr
    assert (raw / "train.parquet").read_bytes() == b"last good output"
    assert sorted(p.name for p in raw.parent.iterdir()) == ["imdb"]  # no temporary left behind


EPOCHS = 30


def _train_killed_after(stock: Workdir, epochs_saved: int) -> None:
    """Start training and SIGKILL it once a checkpoint covers at least `epochs_saved` epochs."""
    (stock.root / "params.yaml").write_text(yaml.safe_dump(stock.params, sort_keys=False))
    process = subprocess.Popen(
        [sys.executable, "-m", "lstmops", "train", "stock"],
        cwd=stock.root, env=stock.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.time() + 300
    while _saved_epochs(stock) < epochs_saved:
        assert process.poll() is None and time.time() < deadline, "training ended before the kill"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()


def _saved_epochs(stock: Workdir) -> int:
    for state in (stock.root / "checkpoints" / "stock").glob("*/state.npz"):
        with contextlib.suppress(OSError, ValueError, KeyError), np.load(state) as saved:
            return json.loads(str(saved["meta"]))["epoch"]
    return 0


def test_killed_training_resumes_exactly(stock):
    import mlflow

    stock.set("prices.train.epochs", EPOCHS)
    stock.set("prices.train.checkpoint_seconds", 0)  # save after every epoch
    stock.run("train", "stock", check=True)
    stock.run("evaluate", "stock", check=True)
    uninterrupted = json.loads((stock.root / "metrics/stock.json").read_text())
    model_file = stock.root / "models/stock/model.keras"
    weights = model_file.read_bytes()

    mlflow.set_tracking_uri(f"sqlite:///{stock.root / 'mlruns' / 'mlflow.db'}")
    try:
        for kill_after in (5, 17):
            good_model = _digest(stock.root / "models/stock")
            _train_killed_after(stock, kill_after)
            assert (
                _digest(stock.root / "models/stock") == good_model
            )  # the last good model is intact
            out = stock.run("train", "stock", check=True)
            resumed_from = int(out.stdout.split("after epoch ")[1].split()[0])
            assert resumed_from >= kill_after
            # the same weights as the uninterrupted run: the same model file, byte for byte
            assert model_file.read_bytes() == weights
            stock.run("evaluate", "stock", check=True)
            metrics = json.loads((stock.root / "metrics/stock.json").read_text())
            assert metrics["model"]["rmse"] == pytest.approx(
                uninterrupted["model"]["rmse"], rel=1e-6
            )
            assert metrics["rmse_ratio"] == pytest.approx(uninterrupted["rmse_ratio"], rel=1e-6)

            run_id = json.loads((stock.root / "models/stock/run.json").read_text())["run_id"]
            client = mlflow.MlflowClient()
            run = client.get_run(run_id)
            assert run.data.tags["resumed"] == "true"
            assert run.data.tags["resumed_from_epoch"] == str(resumed_from)
            assert run.info.status == "FINISHED"
            for key in ("loss", "val_loss", "rmse", "epoch_seconds"):
                steps = [m.step for m in client.get_metric_history(run_id, key)]
                assert sorted(steps) == list(range(1, EPOCHS + 1)), (
                    key,
                    sorted(steps),
                )  # each once
            history = json.loads((stock.root / "models/stock/history.json").read_text())
            assert len(history["loss"]) == EPOCHS and "epoch_seconds" not in history
    finally:
        mlflow.set_tracking_uri(None)
    assert not (stock.root / "checkpoints" / "stock").exists()  # dropped once the run finishes


def test_a_dataset_added_to_params_yaml_is_never_skipped_by_dvc_repro(tmp_path, env):
    """A user adds a dataset and runs `dvc repro`, as every DVC user would: it stops at its first
    stage with one line saying what to run, before any other stage; after that, it runs."""

    def ibm_only(params: dict) -> None:
        params["datasets"] = {
            "prices": {"IBM": params["datasets"]["prices"]["IBM"]},
            "sentiment": {},
        }

    project = copy_project(tmp_path / "p", env, ibm_only)
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["datasets"]["prices"]["MSFT"] = {
        "source": {"package": "bokeh-sampledata", "ticker": "MSFT"}
    }
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    out = subprocess.run(["dvc", "repro"], cwd=project, env=env, capture_output=True, text=True)
    assert out.returncode != 0
    said = [line for line in (out.stdout + out.stderr).splitlines() if line.startswith("error:")]
    assert said == [
        "error: pipeline: prices datasets MSFT are declared but not in dvc.yaml: run "
        "`python -m lstmops dvc-yaml` (or `make repro`, which runs it first), then `dvc repro` again."
    ]
    assert [line for line in out.stdout.splitlines() if "Running stage" in line] == [
        "Running stage 'pipeline':"
    ]
    run_ok([sys.executable, "-m", "lstmops", "dvc-yaml"], project, env)
    out = run_ok(["dvc", "repro", "prices-ingest@MSFT"], project, env)
    assert "Running stage 'prices-ingest@MSFT'" in out.stdout
    assert (project / "data/raw/MSFT").is_dir() and not (project / "data/raw/IBM").exists()


def test_validate_reports_ingests_outcome_and_runs_the_suite_on_raw_data_changed_since(stock):
    """Ingest ran the suite on the raw data it wrote: validate reports that outcome without
    importing Great Expectations, the same report the suite gives when run again; raw data changed
    after ingest are checked again, and bad ones stop validate."""
    report = stock.root / "reports/validation/stock.json"
    stock.run("ingest", "stock", check=True)  # with these params (an earlier test planted others)
    traced = stock.run("validate", "stock", env={"PYTHONPROFILEIMPORTTIME": "1"}, check=True)
    assert "(as ingest found them)" in traced.stdout
    assert "great_expectations" not in traced.stderr  # the import-time trace names every module
    kept = report.read_bytes()
    (stock.root / "reports/ingest/stock.json").unlink()  # no outcome kept: the suite runs here
    assert "(run here)" in stock.run("validate", "stock", check=True).stdout
    assert report.read_bytes() == kept
    raw = stock.root / "data/raw/stock/prices.csv"
    header, first, *rest = raw.read_text().split("\n")
    cells = first.split(",")
    cells[header.split(",").index("Low")] = "-1"  # a negative price, written after ingest
    raw.write_text("\n".join([header, ",".join(cells), *rest]))
    out = stock.run("validate", "stock")
    assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
    assert "expectations failed" in out.stderr and "column=Low" in out.stderr
