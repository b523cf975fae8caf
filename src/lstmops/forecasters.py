"""Forecasters behind one interface: the trained network and the baselines it is judged against.

Each forecasts the value a given number of steps ahead from forecast origins (`Origins`) and is fitted on the
training part first; metrics, intervals, tables, charts and reports loop over a dataset's
forecasters rather than naming them. A baseline is one class here and one entry in BASELINES;
it says which origins it applies to (the seasonal naive needs a season).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import numpy as np


@dataclass(frozen=True)
class Origins:
    """The points forecasts start from, for the value `step` steps after each (0: the next one):
    each one's model inputs (a window), the last value seen there (in the user's units), in a
    panel each one's series, and where the data have a season the seasonal naive's forecast (the
    same period of the latest season seen)."""

    x: np.ndarray
    last: np.ndarray
    groups: np.ndarray | None = None
    seasonal: np.ndarray | None = None
    step: int = 0

    def take(self, rows: np.ndarray) -> Origins:
        """The origins at `rows`."""
        groups = None if self.groups is None else self.groups[rows]
        seasonal = None if self.seasonal is None else self.seasonal[rows]
        return Origins(self.x[rows], self.last[rows], groups, seasonal, self.step)


class Forecaster(Protocol):
    name: ClassVar[str]  # its key in metrics, calibration, MLflow and the charts
    column: ClassVar[str]  # its column in the tables of forecasts
    moves: ClassVar[
        bool
    ]  # whether its forecasts leave the last value (directional accuracy counts)

    def fit(self, origins: Origins, actual: np.ndarray) -> Forecaster: ...

    def predict(self, origins: Origins) -> np.ndarray: ...


@dataclass
class Network:
    """The trained model, its outputs turned into the user's units by preprocess's scalers."""

    model: Any
    scaling: Any  # features.StockScaling or PanelScaling
    name: ClassVar[str] = "model"
    column: ClassVar[str] = "predicted"
    moves: ClassVar[bool] = True

    def fit(self, origins: Origins, actual: np.ndarray) -> Network:
        """Trained already, by the train stage."""
        return self

    def predict(self, origins: Origins) -> np.ndarray:
        outputs = self.model.predict(origins.x, verbose=0).reshape(len(origins.x), -1)
        outputs = outputs[:, origins.step] * self.scaling.output_levels(origins.x)
        base = origins.seasonal if self.scaling.seasonal else origins.last
        assert base is not None, "predict 'seasonal' has a season"
        return self.scaling.prices(outputs, base, origins.groups)


class Baseline:
    """What the baselines share: nothing to learn, and (unless one says otherwise) any origins."""

    name: ClassVar[str]
    column: ClassVar[str]
    moves: ClassVar[bool] = True

    @staticmethod
    def applies(origins: Origins) -> bool:
        return True

    def fit(self, origins: Origins, actual: np.ndarray) -> Baseline:
        return self

    def predict(self, origins: Origins) -> np.ndarray:
        raise NotImplementedError


class Persistence(Baseline):
    """Tomorrow = today: the last value seen."""

    name: ClassVar[str] = "persistence"
    column: ClassVar[str] = "persistence"
    moves: ClassVar[bool] = False

    def predict(self, origins: Origins) -> np.ndarray:
        return origins.last


class SeasonalNaive(Baseline):
    """The same period last season (last week's weekday, last year's month): where there is one."""

    name: ClassVar[str] = "seasonal_naive"
    column: ClassVar[str] = "seasonal_naive"

    @staticmethod
    def applies(origins: Origins) -> bool:
        return origins.seasonal is not None

    def predict(self, origins: Origins) -> np.ndarray:
        assert origins.seasonal is not None, "a season"
        return origins.seasonal


# Every baseline a dataset may have, in the order ties are broken; one applies where its inputs exist.
BASELINES: dict[str, type[Baseline]] = {
    "persistence": Persistence,
    "seasonal_naive": SeasonalNaive,
}


def baselines(origins: Origins, actual: np.ndarray) -> list[Forecaster]:
    """The baselines that apply to `origins`, each fitted on the training part's origins and
    `actual` values, best first: the reference, the one with the lowest RMSE there (chosen on
    the training period, never on the test one)."""
    fitted = [kind().fit(origins, actual) for kind in BASELINES.values() if kind.applies(origins)]
    return sorted(fitted, key=lambda one: _rmse(one.predict(origins), actual))


def _rmse(forecast: np.ndarray, actual: np.ndarray) -> float:
    return float(np.sqrt(np.mean((forecast - actual) ** 2)))
