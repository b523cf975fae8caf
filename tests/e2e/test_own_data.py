"""README's "Bring your own data", run as a user would: a finance-site price CSV and a reviews CSV
declared in params.yaml under their tasks, then `dvc repro`.

The price CSV holds the lecture's GOOG rows with dates, oldest first and an Adj Close column, so
its forecast must be the lecture's to the last digit; the reviews come from the real archive.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from lstmops.config import PRICE_COLUMNS
from lstmops.data.prices import parse_lecture
from lstmops.data.reviews import read_archive

from ..conftest import IMDB_ARCHIVE, STOCK_CSV
from .workdir import GIT_ID, copy_project, run

pytestmark = pytest.mark.e2e
REVIEWS = 400  # per label
ACME_TUNE = {  # the acme entry's own search, added to prices.tune.space: a trial takes seconds
    "trials": 3,
    "startup_trials": 1,
    "space": {
        "train.epochs": {"type": "int", "low": 2, "high": 4},
        "train.units": {"type": "int", "low": 2, "high": 8, "log": True},
    },
}


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
    # their own tuning budgets (tests below); tune settings change no stage's output
    params["datasets"]["prices"]["acme"]["tune"] = ACME_TUNE
    params["datasets"]["sentiment"]["reviews"]["tune"] = {
        "trials": 2,
        "startup_trials": 1,
        "space": {"train.units": {"type": "int", "low": 4, "high": 16}},
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
    assert acme["model"]["rmse"] == 8.22374887996744  # the lecture file's, to the digit
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


def _blank(column: str, rows: tuple[int, ...] = (3, 7)):
    """An edit that empties `column` in `rows` of a CSV, as a spreadsheet leaves a blank cell."""

    def edit(text: str) -> str:
        table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        table.loc[list(rows), column] = ""
        return table.to_csv(index=False)

    return edit


# A blank in each column a task requires stops in ingest, as do broken files.
BROKEN = [
    ("acme", lambda t: t.replace("2014-03-28", "2014-03-27", 1), {}, "have the same date 2014-03-27"),
    ("acme", lambda t: t.replace(",Volume", ",Vol"), {}, "no Volume column"),
    ("acme", lambda t: _lecture_oldest_first(), {"format": "lecture"}, "rows look reversed in time"),
    ("acme", _blank("Date"), {}, "row 5 of the price file has the date ''"),
    *[("acme", _blank(c), {}, f"expect_column_values_to_not_be_null(column={c}) — 2 unexpected") for c in PRICE_COLUMNS],
    ("reviews", _blank("label"), {}, "expect_column_values_to_not_be_null(column=label) — 2 unexpected"),
    ("reviews", _blank("text"), {}, "expect_column_values_to_not_be_null(column=text) — 2 unexpected"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("dataset", "edit", "source", "message"),
    BROKEN,
    ids=[
        "duplicated date",
        "missing column",
        "lecture format oldest first",
        "blank date",
        *[f"blank {c}" for c in PRICE_COLUMNS],
        "blank labels",
        "blank texts",
    ],
)
def test_a_broken_file_fails_in_ingest_and_keeps_earlier_outputs(
    project, env, dataset, edit, source, message
):
    task = "prices" if dataset == "acme" else "sentiment"
    file = project / "data/external" / ("acme.csv" if dataset == "acme" else "reviews.csv")
    params = project / "params.yaml"
    original, original_params = file.read_text(), params.read_text()
    outputs = [project / f"metrics/{dataset}.json", *(project / "data/raw" / dataset).iterdir()]
    before = {p: p.read_bytes() for p in outputs}
    try:
        file.write_text(edit(original))
        declared = yaml.safe_load(original_params)
        declared["datasets"][task][dataset]["source"].update(source)
        params.write_text(yaml.safe_dump(declared, sort_keys=False))
        out = run_failing(["dvc", "repro", f"{task}-evaluate@{dataset}"], project, env)
        assert message in out and "Traceback" not in out, out[-3000:]
        assert f"{task}-preprocess@{dataset}" not in out  # stopped before preprocess
        assert all(p.read_bytes() == data for p, data in before.items())
    finally:
        file.write_text(original)
        params.write_text(original_params)


def run_failing(cmd: list[str], cwd: Path, env: dict) -> str:
    out = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode != 0, out.stdout[-2000:]
    return out.stdout + out.stderr


# --- tuning: the user's own datasets, tiny budgets -----------------------------------------------


def _tune(project: Path, env: dict, dataset: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "lstmops", "tune", dataset],
        cwd=project, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def test_tune_a_price_series_tracks_the_study_and_its_preset_reproduces_the_best_trial(
    project, env
):
    """`tune acme` never reads the test period (its days are blanked here: a trial that read one
    would score NaN and fail), logs the study as an MLflow run with a child run per trial, and
    writes preset tuned-acme, which `dvc exp run` reproduces to the last digit."""
    import mlflow
    import optuna

    raw = project / "data/raw/acme/prices.csv"
    original, params = raw.read_text(), (project / "params.yaml").read_text()
    table = pd.read_csv(raw)
    table.loc[table.index[-200:], ["Open", "High", "Low", "Close"]] = float("nan")  # test days
    table.to_csv(raw, index=False)
    try:
        out = _tune(project, env, "acme")
        study = optuna.load_study(
            study_name="acme-lecture", storage=f"sqlite:///{project / 'tune/optuna.db'}"
        )
        states = [t.state.name for t in study.trials]
        assert len(study.trials) == 3 and set(states) <= {"COMPLETE", "PRUNED"}, states
        assert all(np.isfinite(t.value) for t in study.trials if t.state.name == "COMPLETE")
        best = study.best_trial
        assert f"Best, trial {best.number}" in out and "presets.prices.tuned-acme" in out
        mlflow.set_tracking_uri(f"sqlite:///{project / 'mlruns' / 'mlflow.db'}")
        client = mlflow.MlflowClient()
        experiment = client.get_experiment_by_name("lstmops-acme").experiment_id
        (parent,) = client.search_runs([experiment], "tags.stage = 'tune'")
        children = client.search_runs(
            [experiment], f"tags.mlflow.parentRunId = '{parent.info.run_id}'"
        )
        assert sorted(int(c.data.tags["optuna.trial"]) for c in children) == [0, 1, 2]
        for child in children:
            trial = study.trials[int(child.data.tags["optuna.trial"])]
            assert child.data.params["train.units"] == str(trial.params["train.units"])
            assert child.data.tags["optuna.state"] == trial.state.name
            curve = client.get_metric_history(child.info.run_id, "fold1.loss")
            assert [m.step for m in curve] == list(range(1, len(curve) + 1))  # one per epoch
        assert parent.data.metrics["trials.complete"] + parent.data.metrics["trials.pruned"] == 3
        assert parent.data.metrics["best.walk_forward.rmse_ratio"] == best.value
        plots = {a.path for a in client.list_artifacts(parent.info.run_id, "optuna")}
        assert "optuna/optimization_history.png" in plots
        preset = yaml.safe_load((project / "params.yaml").read_text())["presets"]["prices"]
        expected: dict = {}  # the best values over the lecture preset's (none)
        for key, value in best.params.items():
            section, name = key.split(".")
            expected.setdefault(section, {})[name] = value
        assert preset["tuned-acme"] == expected
    finally:
        raw.write_text(original)
    run(["git", "add", "params.yaml"], project, env)
    run(["git", *GIT_ID, "commit", "-qm", "tuned preset"], project, env)
    try:
        run(["dvc", "exp", "run", "--temp", "-S", "prices.preset=tuned-acme",
             "prices-walkforward@acme"], project, env)  # fmt: skip
        (rerun,) = client.search_runs([experiment], "params.preset = 'tuned-acme'")
        assert rerun.data.metrics["walk_forward.rmse_ratio"] == best.value
    finally:
        mlflow.set_tracking_uri(None)
        (project / "params.yaml").write_text(params)
        run(["git", "add", "params.yaml"], project, env)
        run(["git", *GIT_ID, "commit", "-qm", "untuned"], project, env)


def test_tune_a_review_model_reads_no_test_split(project, env):
    """`tune reviews` scores the validation slice: with preprocess's test arrays gone, it runs."""
    import optuna

    arrays_path = project / "data/processed/reviews/arrays.npz"
    saved, params = arrays_path.read_bytes(), (project / "params.yaml").read_text()
    with np.load(arrays_path) as arrays:
        np.savez(arrays_path, **{k: arrays[k] for k in arrays if "test" not in k})
    try:
        _tune(project, env, "reviews")
        study = optuna.load_study(
            study_name="reviews-lecture", storage=f"sqlite:///{project / 'tune/optuna.db'}"
        )
        assert len(study.trials) == 2 and study.best_value > 0.5  # better than the coin
        # its own range of units, the task's of dropout and learning rate
        assert set(study.best_params) == {"train.units", "train.dropout", "train.learning_rate"}
        assert 4 <= study.best_params["train.units"] <= 16
    finally:
        arrays_path.write_bytes(saved)
        (project / "params.yaml").write_text(params)
