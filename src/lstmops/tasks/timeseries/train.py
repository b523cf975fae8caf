"""A price model: its network and chronological validation slice, its scores there (in
dollars), the interval's calibration saved beside it, and the served model (train)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from mlflow.models import infer_signature

from lstmops import evaluation as ev
from lstmops import intervals, models, serving, training
from lstmops.config import Dataset
from lstmops.forecasters import Forecaster, Network, Origins, baselines
from lstmops.io import write_json
from lstmops.layout import CALIBRATION_FILE, SCALING_FILE, processed_dir
from lstmops.tasks.timeseries.data import load_scaling, settings


def model_and_split(arrays: dict[str, np.ndarray], dataset: Dataset):
    """The model, and its training part and validation slice: the end of the training period."""
    p = settings(dataset).train
    x, y = arrays["x_train"], arrays["y_train"]
    fit_part, val_part = training.tail_split(x, y, p.validation_fraction, arrays["series_train"])
    return models.price_model(x.shape[1], x.shape[2], p, y.shape[1]), fit_part, val_part


def lineage(dataset: Dataset) -> dict[str, str]:
    """Nothing trained before a price model."""
    return {}


# the arrays of one column per step ahead
STEPWISE = ("actual_train", "actual_test", "seasonal_train", "seasonal_test", "dates_test")


def horizon(arrays: dict[str, np.ndarray]) -> int:
    """The steps each window is forecast for."""
    return arrays["actual_train"].shape[1]


def step_arrays(arrays: dict[str, np.ndarray], step: int) -> dict[str, np.ndarray]:
    """The arrays of the value `step` steps after each origin (0: the next one): each window's
    actual value and seasonal naive forecast then, as one column; what every score reads."""
    view = {key: value[:, step] if key in STEPWISE else value for key, value in arrays.items()}
    return view | {"step": np.asarray(step)}


def origins(view: dict[str, np.ndarray], split: str) -> Origins:
    """The forecast origins of a split's windows (train or test), in a step_arrays view."""
    return Origins(
        view[f"x_{split}"],
        view[f"previous_{split}"],
        view[f"series_{split}"],
        view.get(f"seasonal_{split}"),
        int(view["step"]),
    )


def forecasters(model, scaling, view: dict[str, np.ndarray]) -> list[Forecaster]:
    """The network, then every baseline that applies, fitted on the training windows, best
    there first: the reference the ratios and tests compare against (a step_arrays view's step)."""
    return [Network(model, scaling), *baselines(origins(view, "train"), view["actual_train"])]


def each_series(groups: np.ndarray) -> list[np.ndarray]:
    """The row indices of each series, given each row's series (each series' rows together)."""
    return np.split(np.arange(len(groups)), np.flatnonzero(np.diff(groups)) + 1)


def validation_metrics(model, val_part, arrays: dict[str, np.ndarray], dataset: Dataset) -> dict:
    """The saved model's RMSE in dollars on the validation slice (the end of the training period)
    over every step of the horizon, which picks the champion; none without a slice."""
    if val_part is None:
        return {}
    fraction, groups = settings(dataset).train.validation_fraction, arrays["series_train"]
    rows = np.arange(len(groups))
    held = training.tail_split(rows, rows, fraction, groups)[1]
    assert held is not None  # a validation slice: val_part is
    network = Network(model, load_scaling(processed_dir(dataset.name)))
    views = [step_arrays(arrays, k) for k in range(horizon(arrays))]
    actual = np.concatenate([view["actual_train"][held[0]] for view in views])
    forecasts = np.concatenate([network.predict(origins(v, "train").take(held[0])) for v in views])
    return {"rmse": ev.regression_metrics(actual, forecasts)["rmse"]}


def model_files(model, val_part, arrays: dict[str, np.ndarray], dataset: Dataset, out: Path):
    """The intervals' calibration beside the model: each forecaster's errors at each step of the
    horizon on the training period's last forecast.window days, as shares of the last close
    (forecast.relative) or in the series' units ({forecaster: {series: [each step's errors]}}).
    The served model, which sees only the windows it is sent, calibrates on these; evaluate starts
    from them and rolls on. Returned as the served model's artifacts (and no validation scores)."""
    fc, groups = settings(dataset).forecast, arrays["series_train"]
    scaling = load_scaling(processed_dir(dataset.name))
    saved: dict[str, dict[str, list]] = {}
    for view in (step_arrays(arrays, k) for k in range(horizon(arrays))):
        # the origins whose value k steps on lies in the training period too
        k = int(view["step"])
        parts = [rows[: len(rows) - k][-fc.window :] for rows in each_series(groups)]
        rows, cuts = np.concatenate(parts), np.cumsum([len(p) for p in parts])[:-1]
        at, actual = origins(view, "train").take(rows), view["actual_train"][rows]
        for one in forecasters(model, scaling, view):
            made = one.predict(at)
            errors = np.split(intervals.errors(at.last, actual, made, fc.relative), cuts)
            mine = saved.setdefault(one.name, {name: [] for name in scaling.names})
            for name, part in zip(scaling.names, errors, strict=True):
                mine[name].append(part.tolist())
    write_json(
        out / CALIBRATION_FILE,
        {
            "errors": "(actual - forecast) / last close, on the training period's last days"
            if fc.relative
            else "actual - forecast, on the training period's last days",
            "relative": fc.relative,
            "days": min(fc.window, len(each_series(groups)[0])),
            **saved,
        },
    )
    return {"calibration": str(out / CALIBRATION_FILE)}, {}


def no_change(dataset: Dataset, processed: Path) -> float | None:
    """The model output that means persistence, where train.shrink pulls the forecast toward it."""
    if not settings(dataset).train.shrink:
        return None
    return load_scaling(processed).no_change()


def served_model(dataset: Dataset, arrays: dict[str, np.ndarray], processed: Path):
    """The pyfunc that takes raw windows in dollars, its artifacts, signature and input example."""
    example = arrays["windows_test"][:2]
    coverage = settings(dataset).forecast.coverage
    rows = len(example) * horizon(arrays)  # a row for each window's each step ahead
    output = pd.DataFrame({column: np.zeros(rows) for column in serving.PRICE_OUTPUTS})
    output["step"] = np.tile(np.arange(1, horizon(arrays) + 1), len(example))
    # the series of the windows sent, by default the first (a single series: its only one)
    params = {"coverage": coverage, "series": load_scaling(processed).names[0]}
    return (
        serving.PriceModel(example.shape[1], example.shape[2], coverage),
        {"scaling": str(processed / SCALING_FILE)},
        infer_signature(example, output, params=params),
        example,
    )
