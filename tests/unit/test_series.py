"""Code tests of any numeric series: the target and features resolved from a table, its calendar
(frequency, season, gaps), the seasonal naive's values beside each window, and the reference
baseline chosen on the training period."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lstmops import features as f
from lstmops.config import Dataset, ForecastPreprocess, ForecastSettings, LstmopsError, Source
from lstmops.data import calendar as cal
from lstmops.forecasters import Origins, baselines
from lstmops.tasks.timeseries.data import resolved

DATASET = Dataset("mine", "series", Source(path="data/external/mine.csv"), ForecastSettings())
ANY = ForecastPreprocess(features=None, target=None)


def _table(**columns) -> pd.DataFrame:
    return pd.DataFrame({"Date": ["2020-01-01", "2020-01-02"], **columns})


def test_the_target_is_declared_or_close_or_the_only_number():
    assert resolved(ANY, _table(Sales=[1, 2]), DATASET).features == ("Sales",)
    both = _table(Close=[1.0, 2.0], Volume=[3, 4])
    assert resolved(ANY, both, DATASET).target == "Close"
    p = resolved(ForecastPreprocess(features=("Demand", "Temp"), target="Demand"),
                 _table(Demand=[1, 2], Temp=[3, 4]), DATASET)  # fmt: skip
    assert (p.target, p.features) == ("Demand", ("Demand", "Temp"))


def test_no_single_target_is_an_error_listing_the_candidates():
    with pytest.raises(LstmopsError, match=r"candidates: Demand, Temp\).*target: <column>"):
        resolved(ANY, _table(Demand=[1, 2], Temp=[3, 4]), DATASET)
    with pytest.raises(LstmopsError, match="candidates: none"):
        resolved(ANY, _table(Name=["a", "b"]), DATASET)
    with pytest.raises(LstmopsError, match="names Sales, which .* does not have"):
        resolved(ForecastPreprocess(features=None, target="Sales"), _table(Demand=[1, 2]), DATASET)


@pytest.mark.parametrize(
    ("dates", "frequency", "season"),
    [
        (pd.date_range("2020-01-01", periods=50, freq="h"), "h", 24),
        (pd.date_range("2020-01-01", periods=50, freq="D"), "D", 7),
        (pd.bdate_range("2020-01-01", periods=50), "B", 5),
        (pd.date_range("2020-01-06", periods=50, freq="W-MON"), "W-MON", 52),
        (pd.date_range("2020-01-01", periods=50, freq="MS"), "MS", 12),
        (pd.date_range("2020-01-31", periods=50, freq="ME"), "ME", 12),
        (pd.date_range("2020-04-01", periods=50, freq="QS-APR"), "QS-APR", 4),
        (pd.date_range("2020-01-01", periods=20, freq="YS"), "YS-JAN", None),
    ],
)
def test_the_frequency_and_season_come_from_the_dates(dates, frequency, season):
    found = cal.frequency(pd.Series(dates.astype(str)))
    assert found == frequency
    assert cal.season("auto", found, DATASET) == season
    assert cal.season(3, found, DATASET) == 3 and cal.season(None, found, DATASET) is None


def test_timestamps_no_calendar_fits_need_a_declared_season():
    rng = np.random.default_rng(0)
    days = pd.Timestamp("2020-01-01") + pd.to_timedelta(
        np.sort(rng.choice(400, 40, replace=False)), "D"
    )
    assert cal.frequency(pd.Series(days.astype(str))) is None
    with pytest.raises(LstmopsError, match="fit no regular calendar.*season: 7"):
        cal.season("auto", None, DATASET)


def test_a_gap_is_named_or_filled():
    dates = pd.date_range("2020-01-06", periods=6, freq="W-MON").delete(3)
    table = pd.DataFrame(
        {"Date": dates.strftime("%Y-%m-%d"), "Series": "A", "y": [1.0, 2, 3, 5, 6]}
    )
    with pytest.raises(LstmopsError, match=r"series A: 1 date\(s\) missing .* first 2020-01-27"):
        cal.regular(table, "W-MON", "error", ["y"], "series A: ")
    zero = cal.regular(table, "W-MON", "zero", ["y"], "")
    assert zero["y"].tolist() == [1, 2, 3, 0, 5, 6] and (zero["Series"] == "A").all()
    assert zero["Date"].iloc[3] == "2020-01-27"
    assert cal.regular(table, "W-MON", "previous", ["y"], "")["y"].tolist() == [1, 2, 3, 3, 5, 6]


@pytest.mark.parametrize("season", [2, 7, 12])
def test_each_window_has_the_value_one_season_before_its_target(season):
    p = ForecastPreprocess(seq_length=4, min_test_windows=5)
    values = np.arange(60, dtype=float).reshape(-1, 1) * np.ones((1, 5)) + np.arange(5)
    n_train, n_test = f.split_windows(len(values), p, season)
    assert n_train + n_test == 60 - 4 - max(season - 4, 0)
    arrays, _ = f.price_arrays(values, n_train, p, 4, season)
    for split in ("train", "test"):
        actual, seasonal = arrays[f"actual_{split}"], arrays[f"seasonal_{split}"]
        np.testing.assert_array_equal(actual - seasonal, season)  # the target rises 1 a row
    assert "seasonal_train" not in f.price_arrays(values, n_train, p, 4)[0]


def test_the_reference_is_the_best_baseline_on_the_training_part():
    weekly = np.tile([10.0, 20, 30, 40, 50, 60, 70], 10)
    last, seasonal, actual = weekly[6:-1], weekly[:-7], weekly[7:]
    at = Origins(np.zeros((len(actual), 1, 1)), last, None, seasonal)
    assert [b.name for b in baselines(at, actual)] == ["seasonal_naive", "persistence"]
    trend = np.arange(70.0)
    at = Origins(np.zeros((63, 1, 1)), trend[6:-1], None, trend[:-7])
    assert [b.name for b in baselines(at, trend[7:])] == ["persistence", "seasonal_naive"]
    assert [b.name for b in baselines(Origins(at.x, at.last), trend[7:])] == ["persistence"]


def test_predict_seasonal_starts_from_the_value_a_season_before():
    """Its targets are changes from the seasonal naive's forecast, its served windows reach back a
    season, and the model's outputs map back to the next values through the same base."""
    p = ForecastPreprocess(seq_length=4, min_test_windows=5, inputs="change", predict="seasonal")
    rng = np.random.default_rng(0)
    values = 100 + np.cumsum(rng.normal(0, 1, (80, 2)), axis=0)
    n_train, _ = f.split_windows(len(values), p, 12)
    arrays, scaling = f.price_arrays(values, n_train, p, 1, 12)
    assert f.history_rows(p, 12) == 12 and arrays["windows_test"].shape[1:] == (12, 2)
    np.testing.assert_array_equal(scaling.base(arrays["windows_test"]), arrays["seasonal_test"])
    np.testing.assert_allclose(
        scaling.prices(arrays["y_test"], arrays["seasonal_test"][:, 0]),
        arrays["actual_test"][:, 0],
        rtol=1e-5,
    )
    with pytest.raises(ValueError, match="needs a season"):
        f.price_arrays(values, n_train, p, 1)
    assert f.history_rows(ForecastPreprocess(seq_length=4), 12) == 4  # other bases: the window


def test_seasonal_inputs_are_each_rows_change_from_a_season_before():
    """Each window's rows as changes from a season before: the window starts a season in, the
    served window reaches a season further back, and its last rows give the training inputs."""
    p = ForecastPreprocess(
        seq_length=3, min_test_windows=5, inputs="seasonal", predict="seasonal", target=None
    )
    values = (np.arange(40.0) ** 1.5)[:, None]
    n_train, n_test = f.split_windows(40, p, 4)
    assert n_train + n_test == 40 - 3 - 4  # the first window's rows each have a season before
    arrays, scaling = f.price_arrays(values, n_train, p, 0, 4)
    assert f.history_rows(p, 4) == f.input_rows(p, 4) == 7
    assert arrays["windows_test"].shape[1:] == (7, 1) and arrays["x_test"].shape[1:] == (3, 1)
    first = values[4:7, 0] - values[:3, 0]  # the first training window, unscaled
    np.testing.assert_allclose(
        scaling.input_scaler.inverse_transform(arrays["x_train"][0]).ravel(), first, rtol=1e-5
    )
    np.testing.assert_array_equal(scaling.model_inputs(arrays["windows_test"]), arrays["x_test"])
    assert f.raw_rows(arrays["x_test"].shape[1], "seasonal", scaling.season) == 7
    with pytest.raises(ValueError, match="needs a season"):
        f.as_inputs(arrays["windows_test"], "seasonal")


def test_seasonal_gap_inputs_add_each_rows_distance_from_the_next_rows_seasonal_naive():
    """The second half of the columns: each row less the value a season before the row after it;
    at the window's last row, persistence's forecast less seasonal naive's."""
    windows = (np.arange(9.0) ** 2)[None, :, None]  # rows 0..8 of one series, a season of 4
    x = f.as_inputs(windows, "seasonal_gap", 4)
    np.testing.assert_array_equal(x[0, :, 0], [16 - 0, 25 - 1, 36 - 4, 49 - 9, 64 - 16])
    np.testing.assert_array_equal(x[0, :, 1], [16 - 1, 25 - 4, 36 - 9, 49 - 16, 64 - 25])
    assert f.raw_rows(5, "seasonal_gap", 4) == 9
    p = ForecastPreprocess(
        seq_length=3, min_test_windows=5, inputs="seasonal_gap", predict="seasonal", target=None
    )
    values = (np.arange(40.0) ** 1.5)[:, None]
    arrays, scaling = f.price_arrays(values, f.split_windows(40, p, 4)[0], p, 0, 4)
    assert arrays["x_test"].shape[1:] == (3, 2) and arrays["windows_test"].shape[1:] == (7, 1)
    np.testing.assert_array_equal(scaling.model_inputs(arrays["windows_test"]), arrays["x_test"])


def _seasonal_gap(scaler: str) -> ForecastPreprocess:
    """The seasonal preset's inputs and output on short windows, with `scaler`."""
    return ForecastPreprocess(
        seq_length=3, min_test_windows=5, inputs="seasonal_gap", predict="seasonal", target=None,
        scaler=scaler,
    )  # fmt: skip


def test_a_maxabs_scaler_keeps_no_change_at_zero_in_every_series():
    """preprocess.scaler maxabs: each series' changes only divided by their largest size, so the
    seasonal naive's forecast is the model output 0 whatever the series (min-max moves it), and
    train.shrink can pull a panel's forecasts toward it."""
    rng = np.random.default_rng(0)
    panel = [50 * k + np.cumsum(rng.normal(k, 1, (60, 1)), axis=0) for k in (1, 2, 3)]
    outputs = {}
    for scaler in ("minmax", "maxabs"):
        p = _seasonal_gap(scaler)
        n_trains = [f.split_windows(60, p, 4)[0]] * 3
        arrays, scaling = f.panel_arrays(panel, n_trains, "abc", p, 0, 4)
        outputs[scaler] = [s.no_change() for s in scaling.scalings]
        assert np.abs(arrays["x_train"]).max() <= 1 + 1e-6
        again = scaling.prices(
            arrays["y_test"], arrays["seasonal_test"][:, 0], arrays["series_test"]
        )
        np.testing.assert_allclose(again, arrays["actual_test"][:, 0], rtol=1e-5)
        if scaler == "maxabs":  # train.shrink's center: one for the whole panel
            assert scaling.no_change() == 0.0
        else:
            with pytest.raises(LstmopsError, match="each of the 3 series its own.*scaler: maxabs"):
                scaling.no_change()
    assert outputs["maxabs"] == [0.0, 0.0, 0.0] and len(set(outputs["minmax"])) == 3


def test_a_window_scaler_keeps_a_series_that_collapses_in_range():
    """preprocess.scaler window: a series that falls a hundredfold gives its last windows targets
    of the size its first ones had (max-abs: a hundredth), an all-zero window reads as zeros at
    the floor's level, and the outputs come back through each window's level to the values."""
    rng = np.random.default_rng(0)
    rows = np.arange(90)
    size = np.where(rows < 40, 100.0, 1.0)
    values = (size * (10 + 3 * np.sin(rows * np.pi / 2) + rng.normal(0, 0.5, 90)))[:, None]
    values[-12:] = 0.0
    spread = {}
    for scaler in ("maxabs", "window"):
        p = _seasonal_gap(scaler)
        arrays, scaling = f.panel_arrays([values], [f.split_windows(90, p, 4)[0]], "a", p, 0, 4)
        x, y = arrays["x_test"], arrays["y_test"][:, 0]
        late = slice(-20, -12)  # windows and targets wholly after the fall, before the zeros
        spread[scaler] = np.abs(y[late]).mean() / np.abs(arrays["y_train"][:20]).mean()
        assert np.abs(x[-1, :, :2]).max() == 0.0  # the last window is all zeros
        again = scaling.prices(
            y * scaling.output_levels(x), arrays["seasonal_test"][:, 0], arrays["series_test"]
        )
        np.testing.assert_allclose(again, arrays["actual_test"][:, 0], rtol=1e-4, atol=1e-4)
    assert spread["maxabs"] < 0.02 and 0.5 < spread["window"] < 2
    assert x.shape[-1] == 3 and np.exp(x[-1, -1, -1]) == pytest.approx(f.LEVEL_FLOOR)


def test_the_test_period_may_be_the_last_n_periods():
    p = ForecastPreprocess(seq_length=4, test_periods=36, min_test_windows=30)
    assert f.split_windows(144, p, 12) == (144 - 12 - 36, 36)
    assert f.split_windows(144, p) == (144 - 4 - 36, 36)
    with pytest.raises(
        ValueError, match="test_periods=36 leave 0 training.*Lower seq_length or test_periods"
    ):
        f.split_windows(40, p)


def test_irregular_timestamps_name_the_first_odd_step():
    dates = pd.Series(["2020-01-06", "2020-01-13", "2020-01-20", "2020-01-23", "2020-01-27"])
    err = cal.irregular(dates, pd.Series(["A"] * 5), "datasets.series.x: ")
    assert str(err).startswith("datasets.series.x: series A: timestamps fit no regular calendar")
    assert "row 5 is 2020-01-23, off the W-MON calendar that most of its dates lie on" in str(err)


def test_the_series_benchmark_tries_variants_given_as_section_key_values():
    """benchmarks/series.py --set: each value read as YAML, grouped by section."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from series import parse_sets

    pairs = ["preprocess.inputs=seasonal", "train.members=3", "preprocess.calendar=[weekday]"]
    assert parse_sets(pairs) == {
        "preprocess": {"inputs": "seasonal", "calendar": ["weekday"]},
        "train": {"members": 3},
    }
