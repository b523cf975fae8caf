"""A horizon of several steps through the real stage commands: the mirror's daily electricity
demand of Victoria, with its temperature as a past covariate and the weekday and Victoria's public
holidays as calendar features, forecast a week ahead. Each step has its own metrics, interval and
date, from evaluate, the forecast stage, the served model and `predict` alike."""

from __future__ import annotations

import json
import shutil
import sys

import numpy as np
import pandas as pd
import pytest

from ..conftest import MIRROR
from .workdir import Workdir, run

pytestmark = pytest.mark.e2e
STAGES = ("ingest", "validate", "preprocess", "train", "evaluate", "forecast")
HORIZON = 7


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Workdir:
    work = Workdir(tmp_path_factory.mktemp("horizon"))
    (work.root / "data/external").mkdir(parents=True)
    shutil.copy(MIRROR / "series" / "vic_elec_daily.csv", work.root / "data/external")
    work.params["datasets"] = {
        "series": {
            "demand": {
                "source": {"path": "data/external/vic_elec_daily.csv"},
                "preprocess": {
                    "target": "Demand",
                    "features": ["Demand", "Temperature"],
                    "horizon": HORIZON,
                    "calendar": ["weekday", "holiday"],
                    "holidays": "AU-VIC",
                },
                "train": {"epochs": 20},
            }
        }
    }
    for stage in STAGES:
        work.run(stage, "demand", check=True)
    return work


def _json(work: Workdir, path: str) -> dict:
    return json.loads((work.root / path).read_text())


def test_each_step_is_scored_with_its_own_interval(work):
    m = _json(work, "metrics/demand.json")
    assert m["horizon"] == HORIZON and list(m["steps"]) == [str(k) for k in range(1, 8)]
    for step in m["steps"].values():
        assert {"model", "persistence", "seasonal_naive"} <= set(step["coverage"])
        # conformal on each step's own errors, rolling over values known at the origin
        assert abs(step["coverage"]["model"] - m["interval"]["nominal"]) < 0.06
    # the headline figures are the first step's
    assert m["model"]["rmse"] == m["steps"]["1"]["model"]["rmse"]
    # persistence a week ahead is the same weekday: a weekly cycle makes it beat its next day
    assert m["steps"]["7"]["persistence"]["rmse"] < m["steps"]["1"]["persistence"]["rmse"]
    table = pd.read_csv(work.root / "plots/demand/predictions.csv")
    assert sorted(table["step"].unique()) == list(range(1, 8))
    first = table[table["step"] == 1].reset_index(drop=True)
    last = table[table["step"] == HORIZON].reset_index(drop=True)
    # the same origins: the step-7 forecast of an origin is for 6 days after its step-1 date
    gap = pd.to_datetime(last["date"]) - pd.to_datetime(first["date"])
    assert (gap == pd.Timedelta(days=HORIZON - 1)).all()
    # the seasonal naive is the same weekday of the latest week seen: for step 7, 7 days before
    raw = pd.read_csv(work.root / "data/raw/demand/prices.csv").set_index("Date")
    week_before = (pd.to_datetime(last["date"]) - pd.Timedelta(days=7)).dt.strftime("%Y-%m-%d")
    np.testing.assert_allclose(last["seasonal_naive"], raw.loc[week_before, "Demand"])


def test_the_forecast_stage_gives_a_dated_week_with_intervals(work):
    forecast = _json(work, "forecasts/demand.json")
    assert forecast["last_date"] == "2014-12-31" and forecast["horizon"] == HORIZON
    # the last value is named after the target column (the lecture's prices: last_close)
    raw = pd.read_csv(work.root / "data/raw/demand/prices.csv")
    assert forecast["last_demand"] == raw["Demand"].iloc[-1] and "last_close" not in forecast
    assert list(forecast["steps"]) == [str(k) for k in range(1, 8)]
    dates = [step["date"] for step in forecast["steps"].values()]
    assert dates == [f"2015-01-0{k}" for k in range(1, 8)]
    for step in forecast["steps"].values():
        for who in ("model", "persistence", "seasonal_naive"):
            assert step[who]["lower"] < step[who]["forecast"] < step[who]["upper"]
    assert forecast["date"] == dates[0] and forecast["model"] == forecast["steps"]["1"]["model"]
    chart = pd.read_csv(work.root / "plots/demand_forecast/forecast.csv")
    assert chart["day"].tolist()[-HORIZON:] == list(range(1, 8))


def test_the_served_model_and_predict_give_every_step_as_evaluate_did(work, tmp_path):
    model = work.logged_model("demand")
    arrays = np.load(work.root / "data/processed/demand/arrays.npz")
    evaluated = pd.read_csv(work.root / "plots/demand/predictions.csv")
    # Demand, Temperature, then the calendar of the day after: weekday's sine and cosine, holiday
    assert arrays["windows_test"].shape[2] == 5
    christmas_eve = arrays["windows_test"][:, -1, 4] == 1
    assert christmas_eve.any()  # the day after some window is a holiday of Victoria's
    served = model.predict(arrays["windows_test"])
    assert len(served) == len(arrays["windows_test"]) * HORIZON
    assert served["step"].tolist()[:HORIZON] == list(range(1, 8))
    assert (served["lower"] < served["forecast"]).all()
    by_origin = evaluated.sort_values(["day", "step"], kind="stable")
    np.testing.assert_allclose(served["forecast"], by_origin["predicted"], rtol=1e-4)
    run([sys.executable, "-m", "lstmops", "predict", "demand",
         "data/external/vic_elec_daily.csv", str(tmp_path / "f.csv")], work.root, work.env)  # fmt: skip
    scored = pd.read_csv(tmp_path / "f.csv")
    assert sorted(scored["step"].unique()) == list(range(1, 8))
    last = scored[scored["date"] == "2014-12-31"]
    assert last["forecast_date"].tolist() == [f"2015-01-0{k}" for k in range(1, 8)]
    forecast = _json(work, "forecasts/demand.json")
    np.testing.assert_allclose(
        last["forecast"],
        [step["model"]["forecast"] for step in forecast["steps"].values()],
        rtol=1e-5,
    )
    # evaluate's forecasts of each test date at each step are predict's of the same origin
    both = evaluated.merge(scored, left_on=["date", "step"], right_on=["forecast_date", "step"])
    assert len(both) == len(evaluated)
    np.testing.assert_allclose(both["forecast"], both["predicted"], rtol=1e-4)


def test_a_horizon_longer_than_the_test_period_is_named(work):
    work.params["datasets"]["series"]["demand"]["preprocess"]["test_periods"] = 40
    work.params["datasets"]["series"]["demand"]["preprocess"]["horizon"] = 60
    try:
        out = work.run("preprocess", "demand")
    finally:
        work.params["datasets"]["series"]["demand"]["preprocess"].pop("test_periods")
        work.params["datasets"]["series"]["demand"]["preprocess"]["horizon"] = HORIZON
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert "horizon=60" in out.stderr and "test_periods=40" in out.stderr
