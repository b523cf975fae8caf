"""benchmarks/peers.py: the yardstick of seasonal series (seasonal naive, statsforecast's models,
one step ahead with parameters fitted on the training part only). `make peers` runs this file in
the peers' venv too, where statsforecast is installed."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import peers  # noqa: E402


def test_seasonal_naive_is_the_value_one_season_before():
    y = np.arange(10.0)
    assert peers.seasonal_naive(y, 3, 5).tolist() == [2.0, 3.0, 4.0, 5.0, 6.0]


def test_a_seasonal_series_with_a_trend_is_scored_against_seasonal_naive():
    """In the peers' venv (`make peers` runs this file there): statsforecast needs pandas < 3."""
    pytest.importorskip("statsforecast")
    rng = np.random.default_rng(0)
    t = np.arange(144)
    y = 100 + 0.5 * t + 50 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 2, len(t))
    r = peers.forecast_series(y, 12, 0.7)
    assert (r["periods"], r["test"]) == (144, 44)
    assert r["seasonal_naive"]["rmse_ratio"] == 1.0
    assert r["persistence"]["rmse_ratio"] > 1  # a strong season: last period is a poor guess
    assert r["auto_ets"]["rmse_ratio"] < 1  # it learns the trend seasonal naive lags behind
    assert all(r[n]["mase"] > 0 for n in ("persistence", "seasonal_naive", "auto_ets"))


def test_an_exactly_seasonal_series_has_undefined_ratios_not_a_crash():
    y = np.tile([1.0, 5.0, 3.0, 8.0], 20)
    r = peers.scores(y[40:], {"seasonal_naive": y[36:-4], "persistence": y[39:-1]}, scale=0.0)
    assert r["seasonal_naive"]["rmse"] == 0 and r["persistence"]["rmse_ratio"] is None
    assert r["persistence"]["mase"] is None


def test_a_missing_week_takes_the_last_value_seen(tmp_path):
    (tmp_path / "series").mkdir()
    rows = ["Series,Date,Passengers", "a,2020-01-06,1", "a,2020-01-20,3", "b,2020-01-06,0"]
    rows += ["b,2020-01-13,0", "b,2020-01-20,2"]
    (tmp_path / "series" / "ansett_weekly.csv").write_text("\n".join(rows) + "\n")
    series = peers.read(peers.SERIES["ansett"], tmp_path)
    assert series["a"][1].tolist() == [1.0, 1.0, 3.0] and series["b"][1].tolist() == [0, 0, 2]
    assert [str(d.date()) for d in series["a"][0]] == ["2020-01-06", "2020-01-13", "2020-01-20"]
    peers.export(series, peers.SERIES["ansett"], tmp_path / "out" / "ansett.csv")
    exported = (tmp_path / "out" / "ansett.csv").read_text().splitlines()
    assert exported[:2] == ["Series,Date,Passengers", "a,2020-01-06,1.0"] and len(exported) == 7
    peers.export({"x": series["a"]}, peers.SERIES["airpassengers"], tmp_path / "one.csv")
    assert (tmp_path / "one.csv").read_text().splitlines()[:2] == [
        "Date,Passengers",
        "2020-01-06,1.0",
    ]


def test_a_summed_table_adds_up_each_days_hours(tmp_path):
    """Pedestrian counts come by the hour: the daily panel is each day's total per sensor."""
    (tmp_path / "series").mkdir()
    rows = ["Sensor,Date,Time,Count", "s,2015-01-01,0,3", "s,2015-01-01,1,4", "s,2015-01-02,0,5"]
    (tmp_path / "series" / "hours.csv").write_text("\n".join(rows) + "\n")
    spec = peers.Series("hours.csv", "Count", 7, "D", 1, ("Sensor",), summed=True)
    assert peers.read(spec, tmp_path)["s"][1].tolist() == [7.0, 5.0]


def test_the_test_part_is_a_fraction_or_the_last_periods():
    assert peers.test_start(144, 0.7) == 100 and peers.test_start(144, 36) == 108


def test_quarters_months_and_dates_are_read_as_each_periods_start():
    import pandas as pd

    quarters = peers.timestamps(pd.Series(["1998 Q1", "1998 Q4"]))
    months = peers.timestamps(pd.Series(["1982 Apr", "1983 Jan"]))
    days = peers.timestamps(pd.Series(["2012-01-01", "2012-01-02"]))
    assert [str(t.date()) for t in quarters] == ["1998-01-01", "1998-10-01"]
    assert [str(t.date()) for t in months] == ["1982-04-01", "1983-01-01"]
    assert [str(t.date()) for t in days] == ["2012-01-01", "2012-01-02"]


def test_one_lightgbm_over_a_panel_forecasts_each_series_test_part():
    """In the peers' venv: a global model over three series of one season, each in its units."""
    pytest.importorskip("lightgbm")
    rng = np.random.default_rng(0)
    t = np.arange(120)
    panel = {
        f"s{i}": (10 + i) * (5 + np.sin(2 * np.pi * t / 12)) + rng.normal(0, 0.1, 120)
        for i in range(3)
    }
    out = peers.global_lightgbm(panel, 12, 0.7)
    start = int(120 * 0.7)
    for name, y in panel.items():
        assert out[name].shape == (120 - start,)
        rmse = lambda f: float(np.sqrt(np.mean((f - y[start:]) ** 2)))  # noqa: E731, B023
        assert rmse(out[name]) < rmse(y[start - 1 : -1])  # a strong season: beats persistence
