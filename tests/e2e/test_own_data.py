"""docs/own-data.md, run as a user would: a finance-site price CSV and a reviews CSV
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

from ..conftest import IMDB_ARCHIVE, ROOT, STOCK_CSV
from .workdir import GIT_ID, copy_project, run

pytestmark = pytest.mark.e2e
REVIEWS = 400  # per label
PANEL_SERIES = 3
TARGETS = [  # what the project runs of its own datasets
    "prices-evaluate@acme",
    "sentiment-evaluate@reviews",
    "prices-evaluate@panel",
    "prices-forecast@panel",
]
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


def panel_csv() -> str:
    """A small panel as benchmarks/panel.py makes the 300-series one: Ticker, Date, OHLCV."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from panel import panel

    return panel(PANEL_SERIES, 260, seed=1).to_csv(index=False)


def _declare(params: dict) -> None:
    """The lines README shows: three datasets of one's own, one of them many series."""
    params["datasets"]["prices"]["acme"] = {"source": {"path": "data/external/acme.csv"}}
    params["datasets"]["prices"]["panel"] = {
        "source": {"path": "data/external/panel.csv"},
        "train": {"epochs": 2},
    }
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
    (proj / "data/external/panel.csv").write_text(panel_csv())
    run(["dvc", "repro", *TARGETS], proj, env)
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


def test_a_panel_is_one_model_with_each_series_and_the_pooled_figures(project, env):
    metrics = _metrics(project, "panel")
    per_series = metrics["per_series"]
    assert sorted(per_series) == [f"S{i:04d}" for i in range(PANEL_SERIES)]
    assert metrics["series"]["count"] == PANEL_SERIES
    ratios = [m["rmse_ratio"] for m in per_series.values()]
    assert metrics["series"]["mean_rmse_ratio"] == pytest.approx(np.mean(ratios))
    assert metrics["series"]["beating_persistence"] == np.mean(np.array(ratios) < 1)
    assert all(
        "mase" in m["model"] and "p_value" in m["diebold_mariano"] for m in per_series.values()
    )
    assert metrics["test_windows"] == sum(m["test_windows"] for m in per_series.values())
    table = pd.read_csv(project / "plots/panel/series.csv")
    assert table["series"].tolist() == sorted(per_series)
    assert table["rmse_ratio"].tolist() == pytest.approx(ratios)
    forecast = json.loads((project / "forecasts/panel.json").read_text())
    assert sorted(forecast["per_series"]) == sorted(per_series)
    for day in forecast["per_series"].values():
        assert day["model"]["lower"] < day["model"]["forecast"] < day["model"]["upper"]


def test_the_panels_logged_model_forecasts_the_series_its_request_names(project):
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{project / 'mlruns' / 'mlflow.db'}")
    try:
        run = json.loads((project / "models/panel/run.json").read_text())
        params = mlflow.MlflowClient().get_run(run["run_id"]).data.params
        assert params["preset"] == "panel" and params["train.batch_size"] == "256"
        assert params["train.epochs"] == "2"  # the entry's own setting wins over the preset
        model = mlflow.pyfunc.load_model(f"runs:/{run['run_id']}/model")
    finally:
        mlflow.set_tracking_uri(None)
    data = np.load(project / "data/processed/panel/arrays.npz")
    table = pd.read_csv(project / "plots/panel/predictions.csv")
    for i, name in enumerate(sorted(_metrics(project, "panel")["per_series"])):
        rows = data["series_test"] == i
        served = model.predict(data["windows_test"][rows], params={"series": name})
        np.testing.assert_allclose(
            served["forecast"], table[table["series"] == name]["predicted"], rtol=1e-4
        )
    with pytest.raises(Exception, match="name the windows' series"):
        model.predict(data["windows_test"][:2], params={"series": "NOPE"})


def test_predict_forecasts_each_series_of_a_panel_file_as_evaluate_did(project, env, tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "lstmops", "predict", "panel", "data/external/panel.csv",
         str(tmp_path / "forecasts.csv")],
        cwd=project, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    scored = pd.read_csv(tmp_path / "forecasts.csv")
    evaluated = pd.read_csv(project / "plots/panel/predictions.csv")
    # a window's forecast is for the day after its last: evaluate's rows by the day before
    scored["next"] = scored.groupby("series")["date"].shift(-1)
    both = evaluated.merge(scored, left_on=["series", "date"], right_on=["series", "next"])
    assert len(both) == len(evaluated)
    np.testing.assert_allclose(both["forecast"], both["predicted"], rtol=1e-4)
    single = tmp_path / "one.csv"  # one series' rows without its name: refused
    panel = pd.read_csv(project / "data/external/panel.csv")
    panel.drop(columns="Ticker").head(50).to_csv(single, index=False)
    refused = subprocess.run(
        [sys.executable, "-m", "lstmops", "predict", "panel", str(single), str(tmp_path / "x.csv")],
        cwd=project, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
    assert "name each row's series in a column" in refused.stderr, refused.stderr[-2000:]


def test_editing_an_own_file_reruns_only_its_dataset_and_adding_one_nothing(project, env):
    path = project / "data/external/panel.csv"
    original = path.read_text()
    try:
        before = run(["dvc", "status", "--with-deps", *TARGETS], project, env).stdout
        (project / "data/external/unrelated.csv").write_text(original)
        assert (
            run(["dvc", "status", "--with-deps", *TARGETS], project, env).stdout == before
        )  # none names it
        path.write_text(original.replace("S0001,", "S0009,", 1))  # one row of the panel
        status = run(["dvc", "status", "--with-deps", *TARGETS], project, env).stdout
        assert (
            "prices-ingest@panel" in status
            and "modified:           data/external/panel.csv" in status
        )
        assert "@acme" not in status and "@reviews" not in status and "@stock" not in status
    finally:
        path.write_text(original)
        (project / "data/external/unrelated.csv").unlink()


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


def _high_below_low(series: str, day: int):
    """An edit that puts one day's High of a panel's `series` below its Low."""

    def edit(text: str) -> str:
        table = pd.read_csv(io.StringIO(text))
        row = table.index[table["Ticker"] == series][day]
        table.loc[row, "High"] = table.loc[row, "Low"] / 2
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
    ("panel", _high_below_low("S0001", 50), {}, "1 unexpected value(s), first in series S0001 on "),
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
        "one bad series in a panel",
    ],
)
def test_a_broken_file_fails_in_ingest_and_keeps_earlier_outputs(
    project, env, dataset, edit, source, message
):
    task = "sentiment" if dataset == "reviews" else "prices"
    file = project / "data/external" / f"{dataset}.csv"
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
    """Without its stages' data, `tune acme` stops after one failed trial with one line and a
    non-zero status, and that trial counts toward no budget. With them, it never reads the test
    period (its days are blanked here: a trial that read one would score NaN and fail), logs the
    study as an MLflow run with a child run per trial, and writes preset tuned-acme, which
    `dvc exp run` reproduces to the last digit."""
    import mlflow
    import optuna

    raw = project / "data/raw/acme/prices.csv"
    original, params = raw.read_text(), (project / "params.yaml").read_text()
    raw.unlink()  # as on a fresh clone, before any `dvc repro`
    try:
        out = run_failing([sys.executable, "-m", "lstmops", "tune", "acme"], project, env)
    finally:
        raw.write_text(original)
    (said,) = [line for line in out.splitlines() if line.startswith("error:")]
    assert said.startswith("error: tune acme: no trial of study acme-lecture has completed")
    assert "data/raw/acme/prices.csv is missing: run `dvc repro prices-ingest@acme`" in said
    assert "Traceback" not in out and "Trial 0 failed" not in out  # Optuna's log of it, silenced
    table = pd.read_csv(raw)
    table.loc[table.index[-200:], ["Open", "High", "Low", "Close"]] = float("nan")  # test days
    table.to_csv(raw, index=False)
    try:
        out = _tune(project, env, "acme")  # the same study: its failed trial used up nothing
        study = optuna.load_study(
            study_name="acme-lecture", storage=f"sqlite:///{project / 'tune/optuna.db'}"
        )
        states = [t.state.name for t in study.trials]
        assert states[0] == "FAIL" and len(states) == 4, states
        assert set(states[1:]) <= {"COMPLETE", "PRUNED"}, states
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
        trials = sorted(int(c.data.tags["optuna.trial"]) for c in children)
        assert trials == [0, 1, 2, 3]  # the failed one's run ended FAILED
        children = [c for c in children if c.info.status == "FINISHED"]
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
        # a temporary copy holds git's files: the own file, untracked here, is passed with -C
        run(["dvc", "exp", "run", "--temp", "-C", "data/external/acme.csv",
             "-S", "prices.preset=tuned-acme", "prices-walkforward@acme"], project, env)  # fmt: skip
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
