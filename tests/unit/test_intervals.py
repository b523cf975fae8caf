"""The one interval routine: split conformal over the latest one-step errors, as shares of the
last value."""

import numpy as np
import pytest

from lstmops.config import fewest_errors
from lstmops.intervals import Conformal, band, errors


def test_conformal_share_is_the_split_conformal_rank():
    errors = np.array([0.05, -0.01, 0.02, -0.04, 0.03, 0.0, -0.02, 0.01, 0.06])  # n = 9
    # ceil(10 * 0.9) = 9: the largest absolute error; ceil(10 * 0.5) = 5: the fifth smallest
    assert Conformal(0.9).share(errors) == 0.06
    assert Conformal(0.5).share(errors) == 0.02
    assert Conformal(0.9).share(errors[:8]) == float("inf")  # 8 errors cannot give 90%
    assert fewest_errors(0.9) == 9 and fewest_errors(0.8) == 4 and fewest_errors(0.5) == 1


def test_conformal_intervals_cover_exchangeable_errors_at_least_nominally():
    """Averaged over calibration sets, the chance that a new error falls inside is the
    ceil((n + 1) c) / (n + 1) of split conformal: at least the nominal coverage, barely more."""
    from scipy import stats

    rng = np.random.default_rng(0)
    for coverage, exact in ((0.8, 25 / 31), (0.9, 28 / 31)):
        shares = [Conformal(coverage).share(rng.standard_t(3, 30)) for _ in range(4000)]
        held = np.mean(2 * stats.t.cdf(shares, 3) - 1)  # P(|new| <= share) given each set
        assert held == pytest.approx(exact, abs=0.004) and held > coverage


def test_rolling_shares_calibrate_each_day_on_the_window_known_the_day_before():
    before, errors = np.array([0.01, -0.02, 0.03]), np.array([0.5, -0.04, 0.0])
    shares = Conformal(0.5, window=3).rolling(before, errors)  # ceil(4 * 0.5) = 2nd smallest of 3
    # day 1: 0.01 0.02 0.03; day 2: 0.02 0.03 0.5 (its own error now known); day 3: 0.03 0.5 0.04
    np.testing.assert_allclose(shares, [0.02, 0.03, 0.04])
    assert np.isinf(Conformal(0.5, window=3).rolling(np.array([]), errors)[0])  # nothing known yet


def test_an_interval_is_a_share_of_the_last_value_either_side():
    lower, upper = band(np.array([101.0, 99.0]), np.array([100.0, 50.0]), 0.02)
    np.testing.assert_allclose(lower, [99.0, 98.0])
    np.testing.assert_allclose(upper, [103.0, 100.0])
    np.testing.assert_allclose(
        errors(np.array([100.0]), np.array([102.0]), np.array([101.0])), [0.01]
    )


def test_a_series_that_reaches_zero_takes_its_errors_in_its_own_units():
    """Not relative: a last value of 0 gives a finite error and an interval of the error's width."""
    last, actual, center = np.array([0.0, 5.0, 0.0]), np.array([2.0, 4.0, 1.0]), np.ones(3)
    assert not np.isfinite(errors(last, actual, center)).all()  # shares of 0
    np.testing.assert_allclose(errors(last, actual, center, relative=False), [1.0, 3.0, 0.0])
    lower, upper = Conformal(0.5, window=3, relative=False).bounds(center, last, actual, [1, 2])
    np.testing.assert_allclose(upper - center, center - lower)
    np.testing.assert_allclose(upper - center, [2.0, 1.0, 2.0])  # the 2nd smallest known error


def test_rolling_bounds_are_blank_until_enough_errors_are_known():
    center, last = np.array([100.0, 100.0, 100.0]), np.array([100.0, 100.0, 100.0])
    actual = np.array([101.0, 99.0, 102.0])  # errors 0.01, -0.01, 0.02
    lower, upper = Conformal(0.5, window=3).bounds(center, last, actual, [])
    assert np.isnan(lower[0]) and np.isnan(upper[0])  # nothing known before the first day
    np.testing.assert_allclose(upper[1:] - center[1:], [1.0, 1.0])  # 0.01 of 100 either side
