"""Any numeric series through the real stage commands: the mirror's monthly airline passengers
(one series) and its weekly panel of 30 airline routes (zeros, missing weeks filled by the declared
policy), each a bare `datasets.series` entry, judged against persistence and seasonal naive."""

from __future__ import annotations

import json
import shutil
import sys

import pandas as pd
import pytest

from ..conftest import MIRROR
from .workdir import Workdir, run

pytestmark = pytest.mark.e2e
STAGES = ("ingest", "validate", "preprocess", "train", "evaluate", "forecast")


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Workdir:
    work = Workdir(tmp_path_factory.mktemp("series"))
    (work.root / "data/external").mkdir(parents=True)
    for name in ("airpassengers_monthly", "ansett_weekly"):
        shutil.copy(MIRROR / "series" / f"{name}.csv", work.root / "data/external")
    work.params["datasets"] = {
        "series": {
            "passengers": {"source": {"path": "data/external/airpassengers_monthly.csv"}},
            "routes": {
                "source": {"path": "data/external/ansett_weekly.csv"},
                "preprocess": {"gaps": "zero"},
                "train": {"epochs": 3},
            },
        }
    }
    for dataset in ("passengers", "routes"):
        for stage in STAGES:
            work.run(stage, dataset, check=True)
    return work


def _json(work: Workdir, path: str) -> dict:
    return json.loads((work.root / path).read_text())


def test_a_monthly_series_is_judged_against_its_best_baseline(work):
    m = _json(work, "metrics/passengers.json")
    assert {"model", "persistence", "seasonal_naive"} <= set(m)
    # chosen on the training period: the airline's trend makes last month beat last year there
    assert m["reference"] == "persistence"
    assert m["rmse_ratio"] == pytest.approx(m["model"]["rmse"] / m["persistence"]["rmse"])
    # MASE is scaled by the seasonal naive's error in the training period, so its own is above 1
    assert m["seasonal_naive"]["mase"] > 1
    assert set(m["interval"]) >= {"model", "persistence", "seasonal_naive"}
    predictions = pd.read_csv(work.root / "plots/passengers/predictions.csv")
    assert {"persistence", "seasonal_naive", "predicted"} <= set(predictions.columns)
    assert predictions["date"].iloc[-1] == "1960-12-01"
    # the seasonal naive is the value 12 months before each one
    raw = pd.read_csv(work.root / "data/raw/passengers/prices.csv").set_index("Date")
    last_year = (pd.to_datetime(predictions["date"]) - pd.DateOffset(years=1)).dt.strftime(
        "%Y-%m-%d"
    )
    assert predictions["seasonal_naive"].tolist() == raw.loc[last_year, "Passengers"].tolist()


def test_the_next_month_is_forecast_with_its_interval(work):
    forecast = _json(work, "forecasts/passengers.json")
    assert (forecast["last_date"], forecast["date"]) == ("1960-12-01", "1961-01-01")
    for who in ("model", "persistence", "seasonal_naive"):
        assert forecast[who]["lower"] < forecast[who]["forecast"] < forecast[who]["upper"]
    assert forecast["seasonal_naive"]["forecast"] == 417  # January 1960's passengers
    assert forecast["last_passengers"] == forecast["persistence"]["forecast"] == 432


def test_a_weekly_panel_with_zeros_and_gaps_runs_and_reports_every_baseline(work):
    m = _json(work, "metrics/routes.json")
    assert m["series"]["count"] == 30
    assert {"persistence_mean_mase", "seasonal_naive_mean_mase"} <= set(m["series"])
    table = pd.read_csv(work.root / "plots/routes/series.csv")
    assert {"persistence_rmse", "seasonal_naive_rmse", "model_rmse"} <= set(table.columns)
    # a route constant over its test period (a discontinued class) has no ratio, not a traceback
    undefined = table["rmse_ratio"].isna().sum()
    assert m["series"].get("undefined_rmse_ratio", 0) == undefined
    out = work.run("evaluate", "routes", check=True).stdout
    assert "per_series" not in out and len(out) < 5000  # a summary, not the table


def test_a_gap_without_a_policy_stops_ingest_and_keeps_the_good_data(work):
    before = (work.root / "data/raw/routes/prices.csv").read_bytes()
    work.params["datasets"]["series"]["routes"]["preprocess"] = {"gaps": "error"}
    try:
        out = work.run("ingest", "routes")
    finally:
        work.params["datasets"]["series"]["routes"]["preprocess"] = {"gaps": "zero"}
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert "date(s) missing from its W-MON calendar" in out.stderr
    assert (work.root / "data/raw/routes/prices.csv").read_bytes() == before


def test_the_served_model_and_predict_forecast_as_evaluate_did(work, tmp_path):
    """inputs "seasonal" (the preset's) read windows reaching a season back: the logged pyfunc
    and `predict` on the user's file give evaluate's forecasts."""
    import numpy as np

    model = work.logged_model("passengers")
    arrays = np.load(work.root / "data/processed/passengers/arrays.npz")
    evaluated = pd.read_csv(work.root / "plots/passengers/predictions.csv")
    assert arrays["windows_test"].shape[1] == 13 + 12  # the preset's window, and a season before
    served = model.predict(arrays["windows_test"])
    np.testing.assert_allclose(served["forecast"], evaluated["predicted"], rtol=1e-4)
    # errors in the series' units (series.forecast.relative false): one half-width for every
    # window, not a share of each window's last value
    calibration = _json(work, "models/passengers/calibration.json")
    assert calibration["relative"] is False
    half = (served["upper"] - served["forecast"]).to_numpy()
    assert half[0] > 0 and np.allclose(half, half[0])
    run([sys.executable, "-m", "lstmops", "predict", "passengers",
         "data/external/airpassengers_monthly.csv", str(tmp_path / "f.csv")], work.root, work.env)  # fmt: skip
    scored = pd.read_csv(tmp_path / "f.csv")
    scored["next"] = scored["date"].shift(-1)
    both = evaluated.merge(scored, left_on="date", right_on="next")
    assert len(both) == len(evaluated)
    np.testing.assert_allclose(both["forecast"], both["predicted"], rtol=1e-4)
