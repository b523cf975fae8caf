"""Code tests of a horizon of several steps and of calendar features: exact windows, targets,
baselines and rolling intervals on small arrays, and the calendar of the date after each row."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from lstmops import features as f
from lstmops.config import ForecastPreprocess
from lstmops.data import calendar as cal
from lstmops.intervals import Conformal, by_step


def test_the_seasonal_naive_reaches_back_to_the_latest_season_seen():
    assert [f.seasonal_lag(k, 7) for k in (1, 7, 8, 14, 15)] == [7, 7, 14, 14, 21]
    assert [f.seasonal_lag(k, 1) for k in (1, 2, 3)] == [1, 2, 3]


def test_a_horizon_leaves_a_gap_between_training_and_test_windows():
    p = ForecastPreprocess(seq_length=4, min_test_windows=5, horizon=3)
    # 60 rows: 60 - 4 - 2 = 54 windows with 3 values after them; 37 train, 2 skipped, 15 test
    assert f.split_windows(60, p) == (37, 15)
    # the last 10 periods: the origins whose 3 values all lie in them
    assert f.split_windows(60, p.model_copy(update={"test_periods": 10})) == (44, 8)
    with pytest.raises(
        ValueError, match="horizon=12.*test_periods=10.*Lower seq_length or horizon"
    ):
        f.split_windows(60, p.model_copy(update={"test_periods": 10, "horizon": 12}))


@pytest.mark.parametrize("predict", ["level", "change", "seasonal"])
def test_each_window_has_the_next_h_values_and_their_seasonal_naive(predict):
    p = ForecastPreprocess(
        seq_length=4, min_test_windows=5, horizon=3, inputs="change", predict=predict
    )
    rng = np.random.default_rng(1)
    values = np.column_stack([100 + np.cumsum(rng.normal(0, 1, 60)), np.arange(60.0)])
    n_train, n_test = f.split_windows(60, p, 2)
    arrays, scaling = f.price_arrays(values, n_train, p, 0, 2)
    assert arrays["y_train"].shape == (n_train, 3) and arrays["actual_test"].shape == (n_test, 3)
    # column 1 counts the rows: each window's last row, and its values 1, 2 and 3 rows on
    last = arrays["windows_test"][:, -1, 1].astype(int)
    for k in range(3):
        np.testing.assert_array_equal(arrays["actual_test"][:, k], values[last + k + 1, 0])
        lag = f.seasonal_lag(k + 1, 2)  # 2, 2, 4
        np.testing.assert_array_equal(arrays["seasonal_test"][:, k], values[last + k + 1 - lag, 0])
    # the test windows are the last ones, the training ones end two windows before them
    assert last[-1] == 56 and arrays["previous_train"][-1] == values[last[0] - 3, 0]
    base = scaling.base(arrays["windows_test"])
    if predict == "seasonal":
        np.testing.assert_array_equal(base, arrays["seasonal_test"])
    for k in range(3):  # the scaled targets map back to each step's value
        dollars = scaling.prices(arrays["y_test"][:, k], base[:, k])
        np.testing.assert_allclose(dollars, arrays["actual_test"][:, k], rtol=1e-6)


def test_a_step_ahead_interval_uses_only_errors_known_at_its_origin():
    rolling = Conformal(coverage=0.5, window=3)
    before, new = np.array([1.0, 2.0, 3.0]), np.array([10.0, 20.0, 30.0, 40.0])
    # the next step: each new error is known one step on
    np.testing.assert_array_equal(rolling.rolling(before, new), [2, 3, 10, 20])
    # two steps ahead (lag 1): each new error is known two steps on
    np.testing.assert_array_equal(rolling.rolling(before, new, 1), [2, 2, 3, 10])
    assert by_step([0.1, 0.2]) == [[0.1, 0.2]]  # a model saved before horizons: one step
    assert by_step([[0.1], [0.2]]) == [[0.1], [0.2]]


def test_calendar_features_describe_the_date_after_each_row():
    dates = np.array(["2013-12-23", "2013-12-24", "2013-12-25"])  # Mon, Tue, Wed
    got = cal.known_ahead(dates, "D", ("weekday", "holiday"), "AU-VIC")
    assert got.shape == (3, 3)
    np.testing.assert_allclose(got[:, 0], np.sin(2 * np.pi * np.array([1, 2, 3]) / 7))
    np.testing.assert_allclose(got[:, 1], np.cos(2 * np.pi * np.array([1, 2, 3]) / 7))
    # Christmas and Boxing Day follow the 24th and 25th
    np.testing.assert_array_equal(got[:, 2], [0, 1, 1])
    assert cal.feature_names(("weekday", "holiday")) == ["weekday_sin", "weekday_cos", "holiday"]
    monthly = cal.known_ahead(np.array(["2020-11-01", "2020-12-01"]), "MS", ("month",), None)
    np.testing.assert_allclose(monthly[:, 0], np.sin(2 * np.pi * np.array([11, 0]) / 12))


def test_calendar_settings_that_cannot_work_are_named():
    with pytest.raises(ValidationError, match="name the country"):
        ForecastPreprocess(calendar=("holiday",))
    with pytest.raises(ValidationError, match="return is undefined"):
        ForecastPreprocess(calendar=("weekday",), inputs="return", predict="return")
    with pytest.raises(Exception, match="holidays package knows"):
        cal.known_ahead(np.array(["2020-01-01"]), "D", ("holiday",), "XX")
