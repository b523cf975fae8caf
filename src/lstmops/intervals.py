"""Prediction intervals: split conformal over the latest one-step errors, the one routine behind
evaluate's, the forecast stage's, the served model's and `predict`'s intervals.

An error is taken as a share of the last value the forecast started from (`relative`, prices'): a
price's errors in dollars grow with its level (the test period follows the validation slice, often
at another level), their share of the price much less. A series that reaches zero or below (counts,
temperatures) takes its errors in its own units instead. Errors are not exchangeable across
regimes (a calm test period after a crisis), so an interval is calibrated on the latest `window`
errors only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def errors(
    last: np.ndarray, actual: np.ndarray, forecast: np.ndarray, relative: bool = True
) -> np.ndarray:
    """Errors as shares of the last value, (actual - forecast) / last, or (not relative) in the
    series' units."""
    error = np.asarray(actual, dtype=np.float64) - forecast
    return error / np.asarray(last) if relative else error


def band(
    center: np.ndarray | float,
    last: np.ndarray | float,
    share: float | np.ndarray,
    relative: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """The interval center -/+ share of the last value (not relative: -/+ share itself)."""
    half = share * np.asarray(last, dtype=np.float64) if relative else np.asarray(share)
    return center - half, center + half


def by_step(errors: list) -> list[list[float]]:
    """A series' calibration errors, one list for each step ahead (a model trained before
    horizons saved its one step's as one list)."""
    return errors if errors and isinstance(errors[0], list) else [errors]


@dataclass(frozen=True)
class Conformal:
    """Intervals that hold the actual value with probability >= `coverage` when errors are
    exchangeable: calibrate a share on known errors, apply it around a forecast."""

    coverage: float
    window: int | None = None  # rolling: the latest errors each day is calibrated on
    relative: bool = True  # errors as shares of the last value (see the module's docstring)

    def share(self, known: np.ndarray) -> float:
        """The ceil((n + 1) * coverage)-th smallest of the n absolute errors `known`; inf when n
        is too small for the coverage."""
        ranked = np.sort(np.abs(np.asarray(known, dtype=np.float64)))
        k = math.ceil((len(ranked) + 1) * self.coverage)
        return float(ranked[k - 1]) if k <= len(ranked) else math.inf

    def rolling(self, before: np.ndarray, new: np.ndarray, lag: int = 0) -> np.ndarray:
        """The share for each of the `new` errors' origins in turn, calibrated on the `window`
        errors known by then: those `before` it, then the new ones whose value is known, each
        `lag` + 1 steps after its origin (lag k for the forecast k + 1 steps ahead)."""
        before, new = (np.asarray(e, dtype=np.float64) for e in (before, new))
        known, window = np.concatenate([before, new]), self.window or len(before) + len(new)
        ends = len(before) + np.maximum(np.arange(len(new)) - lag, 0)
        return np.array([self.share(known[max(0, end - window) : end]) for end in ends])

    def bounds(
        self, center: np.ndarray, last: np.ndarray, actual: np.ndarray, before, lag: int = 0
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each day's interval around `center`, rolling over the errors known by its origin:
        those `before` the first day, then each day's own once its value is known (`lag`: see
        rolling). NaN where fewer are known than the coverage needs."""
        shares = self.rolling(np.asarray(before), errors(last, actual, center, self.relative), lag)
        shares[~np.isfinite(shares)] = np.nan
        return band(center, last, shares, self.relative)
