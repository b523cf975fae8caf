"""README's "Bring your own data", run as a user would: a finance-site price CSV and a reviews CSV
declared in params.yaml under their tasks, then `dvc repro`.

The price CSV holds the lecture's GOOG rows with dates, oldest first and an Adj Close column, so
its forecast must be the lecture's to the last digit; the reviews come from the real archive.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml

from lstmops.data.prices import parse_lecture
from lstmops.data.reviews import read_archive

from ..conftest import IMDB_ARCHIVE, STOCK_CSV
from .workdir import copy_project, run

pytestmark = pytest.mark.e2e
REVIEWS = 400  # per label


def finance_csv() -> str:
    """The lecture's rows as a finance site exports them: dated business days, oldest first."""
    table = parse_lecture(STOCK_CSV.read_bytes().decode("utf-8"))
    table.insert(0, "Date", pd.bdate_range("2014-03-27", periods=len(table)).strftime("%Y-%m-%d"))
    table["Adj Close"] = table["Close"]
    return table[["Date", "Open", "High", "Low", "Close", "Adj Close", "Volume"]].to_csv(
        index=False
    )


def reviews_csv() -> str:
    """Reviews of the archive's training split as a plain table of text and label (no split)."""
    train = read_archive(IMDB_ARCHIVE, max_rows_per_split=2 * REVIEWS)["train"]
    return train[["text", "label"]].to_csv(index=False)


def _declare(params: dict) -> None:
    """The lines README shows: two datasets of one's own."""
    params["datasets"]["prices"]["acme"] = {"source": {"path": "data/external/acme.csv"}}
    params["datasets"]["sentiment"]["reviews"] = {
        "source": {"path": "data/external/reviews.csv"},
        "train": {"epochs": 2},
    }


@pytest.fixture(scope="module")
def project(tmp_path_factory, env) -> Path:
    proj = copy_project(tmp_path_factory.mktemp("own") / "proj", env, _declare)
    (proj / "data/external/acme.csv").write_text(finance_csv())
    (proj / "data/external/reviews.csv").write_text(reviews_csv())
    run(["dvc", "repro", "prices-evaluate@acme", "sentiment-evaluate@reviews"], proj, env)
    return proj


def _metrics(project: Path, name: str) -> dict:
    return json.loads((project / f"metrics/{name}.json").read_text())


def test_a_finance_csv_gives_the_lectures_forecast_with_dates(project):
    acme = _metrics(project, "acme")
    assert acme["test_windows"] == 218
    assert acme["model"]["rmse"] == pytest.approx(8.2175, abs=1e-4)  # the lecture's, to the digit
    assert acme["persistence"]["rmse"] == pytest.approx(8.0016, abs=1e-4)
    predictions = pd.read_csv(project / "plots/acme/predictions.csv")
    assert (
        predictions["date"].iloc[0] == "2016-03-16" and predictions["date"].is_monotonic_increasing
    )


def test_a_reviews_csv_is_split_and_classified(project):
    reviews = _metrics(project, "reviews")
    assert reviews["test_reviews"] == 2 * REVIEWS * 0.2  # a seeded, stratified fifth tests
    assert reviews["majority_class"]["accuracy"] == 0.5
    assert 0 <= reviews["model"]["accuracy"] <= 1


def test_the_same_file_shuffled_changes_nothing(project, env):
    path = project / "data/external/acme.csv"
    original = path.read_text()
    header, *rows = original.strip().split("\n")
    before = _metrics(project, "acme")
    try:
        path.write_text("\n".join([header, *pd.Series(rows).sample(frac=1, random_state=1)]) + "\n")
        out = run(["dvc", "repro", "prices-evaluate@acme"], project, env).stdout
        assert "Running stage 'prices-ingest@acme'" in out  # the file changed...
        assert "Running stage 'prices-train@acme'" not in out  # ...its time-ordered table did not
        assert _metrics(project, "acme") == before
    finally:
        path.write_text(original)


def _lecture_oldest_first() -> str:
    lines = STOCK_CSV.read_bytes().decode("utf-8").split("\r\n")
    return "\r\n".join(lines[:2] + lines[2:][::-1])


@pytest.mark.parametrize(
    ("edit", "source", "message"),
    [
        (lambda t: t.replace("2014-03-28", "2014-03-27", 1), {}, "have the same date 2014-03-27"),
        (lambda t: t.replace(",Volume", ",Vol"), {}, "no Volume column"),
        (lambda t: _lecture_oldest_first(), {"format": "lecture"}, "rows look reversed in time"),
    ],
    ids=["duplicated date", "missing column", "lecture format oldest first"],
)
def test_a_broken_file_fails_clearly_and_keeps_earlier_outputs(project, env, edit, source, message):
    path, params = project / "data/external/acme.csv", project / "params.yaml"
    original, original_params = path.read_text(), params.read_text()
    outputs = {
        p: p.read_bytes()
        for p in (project / "metrics/acme.json", project / "data/raw/acme/prices.csv")
    }
    try:
        path.write_text(edit(original))
        declared = yaml.safe_load(original_params)
        declared["datasets"]["prices"]["acme"]["source"].update(source)
        params.write_text(yaml.safe_dump(declared, sort_keys=False))
        out = run_failing(["dvc", "repro", "prices-evaluate@acme"], project, env)
        assert message in out and "Traceback" not in out
        assert all(p.read_bytes() == data for p, data in outputs.items())
    finally:
        path.write_text(original)
        params.write_text(original_params)


def run_failing(cmd: list[str], cwd: Path, env: dict) -> str:
    out = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode != 0, out.stdout[-2000:]
    return out.stdout + out.stderr
