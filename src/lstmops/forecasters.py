"""Forecasters behind one interface: the trained network and the baselines it is judged against.

Each makes one-step-ahead forecasts from forecast origins (`Origins`) and is fitted on the
training part first; metrics, intervals, tables, charts and reports loop over a dataset's
forecasters rather than naming them. A baseline is one class here and one entry in BASELINES.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import numpy as np


@dataclass(frozen=True)
class Origins:
    """The points forecasts start from: each one's model inputs (a window), the last value seen
    there (in the user's units) and, in a panel, each one's series."""

    x: np.ndarray
    last: np.ndarray
    groups: np.ndarray | None = None

    def take(self, rows: np.ndarray) -> Origins:
        """The origins at `rows`."""
        groups = None if self.groups is None else self.groups[rows]
        return Origins(self.x[rows], self.last[rows], groups)


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
        outputs = self.model.predict(origins.x, verbose=0).reshape(-1)
        return self.scaling.prices(outputs, origins.last, origins.groups)


class Persistence:
    """Tomorrow = today: the last value seen."""

    name: ClassVar[str] = "persistence"
    column: ClassVar[str] = "persistence"
    moves: ClassVar[bool] = False

    def fit(self, origins: Origins, actual: np.ndarray) -> Persistence:
        """Nothing to learn."""
        return self

    def predict(self, origins: Origins) -> np.ndarray:
        return origins.last


# Every dataset's baselines; the first is the reference the model's ratios and tests compare against.
BASELINES: dict[str, type[Persistence]] = {"persistence": Persistence}


def baselines(names: tuple[str, ...], origins: Origins, actual: np.ndarray) -> list[Forecaster]:
    """The baselines `names`, each fitted on the training part's `origins` and `actual` values."""
    return [BASELINES[name]().fit(origins, actual) for name in names]
