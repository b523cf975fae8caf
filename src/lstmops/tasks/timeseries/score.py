"""A price model scored: the test period beside persistence with each one's interval (evaluate),
the next day's forecast (forecast), expanding-window folds (walkforward) and a tuning trial's score.

Pure but for `fitted`, which reads what preprocess and train saved: the functions take arrays,
tables, settings and fitted objects and return results; the stages write them.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from lstmops import evaluation as ev
from lstmops import features as f
from lstmops import serving, training
from lstmops.config import Dataset, LstmopsError, fewest_errors
from lstmops.data.calendar import stamp, step_after
from lstmops.forecasters import BASELINES, Network, Origins, baselines
from lstmops.intervals import Conformal, band, by_step, errors
from lstmops.io import read_json
from lstmops.layout import CALIBRATION_FILE, PER_SERIES, model_dir, processed_dir, raw_dir, require
from lstmops.tasks.timeseries.data import Series, load_scaling, read_raw, series, settings
from lstmops.tasks.timeseries.train import (
    each_series,
    forecasters,
    horizon,
    model_and_split,
    origins,
    step_arrays,
)

SIGNIFICANCE = 0.05  # a panel's share of series whose Diebold-Mariano test favours the model


class Fitted(NamedTuple):
    """What evaluate and forecast read besides the model: preprocess's scalers and the errors
    train saved beside the model to calibrate the interval on."""

    scaling: f.PanelScaling
    calibration: dict


def fitted(dataset: Dataset) -> Fitted:
    return Fitted(
        load_scaling(processed_dir(dataset.name)),
        read_json(require(model_dir(dataset.name) / CALIBRATION_FILE, "train", dataset)),
    )


def interval(dataset: Dataset) -> Conformal:
    """The dataset's intervals: at forecast.coverage, over the latest forecast.window errors."""
    f = settings(dataset).forecast
    return Conformal(f.coverage, f.window, f.relative)


def _each_series_scored(arrays, forecasts, moving, names, tests, calibration, dataset):
    """Per series: its metrics (MASE scaled on its own training period) and each forecaster's
    rolling intervals over its test days (a step_arrays view: that step's)."""
    step = int(arrays["step"])
    previous, actual = arrays["previous_test"], arrays["actual_test"]
    trains = each_series(arrays["series_train"])
    bounds: dict[str, list] = {who: [] for who in forecasts}
    per_series, rolling = {}, interval(dataset)
    for name, test, train in zip(names, tests, trains, strict=True):
        for who, forecast in forecasts.items():
            before = by_step(calibration[who][name])[step]
            bounds[who].append(
                rolling.bounds(forecast[test], previous[test], actual[test], before, step)
            )
        # MASE's scale: the in-sample error of the seasonal naive where there is a season
        naive = arrays.get("seasonal_train", arrays["previous_train"])
        scale = ev.naive_mae(naive[train], arrays["actual_train"][train])
        mine = {who: forecast[test] for who, forecast in forecasts.items()}
        per_series[name] = ev.forecast_metrics(previous[test], actual[test], mine, moving, scale)
    joined = {
        who: tuple(np.concatenate(b) for b in zip(*parts, strict=True))
        for who, parts in bounds.items()
    }
    return per_series, joined


def evaluate(
    model, arrays: dict[str, np.ndarray], dataset: Dataset, fit: Fitted
) -> tuple[dict, dict[str, pd.DataFrame]]:
    """Forecasts in dollars on the test period, step by step of the horizon (_evaluate_step).
    The metrics are the first step's, the one-step-ahead forecast every horizon has; a horizon of
    several steps adds each step's errors, ratio and interval coverage (`steps`), and the tables
    hold every step's rows (a `step` column)."""
    scored = [
        _evaluate_step(model, step_arrays(arrays, k), dataset, fit) for k in range(horizon(arrays))
    ]
    metrics, tables = scored[0]
    if len(scored) == 1:  # the lecture's one step: its files as they always were
        return metrics, tables
    steps = {str(k): _step_summary(m) for k, (m, _) in enumerate(scored, start=1)}
    joined = {
        name: pd.concat(
            [t[name].assign(step=k) for k, (_, t) in enumerate(scored, start=1)],
            ignore_index=True,
        )
        for name in tables
    }
    return {**metrics, "horizon": len(scored), "steps": steps}, joined


def _step_summary(metrics: dict) -> dict:
    """One step's figures: each forecaster's RMSE, MAE (and MASE) and interval coverage, and the
    model's RMSE ratio to the reference."""
    names = [who for who in metrics["interval"] if isinstance(metrics["interval"][who], dict)]
    keep = ("rmse", "mae", "mase")
    return {
        **{who: {k: v for k, v in metrics[who].items() if k in keep} for who in names},
        "reference": metrics["reference"],
        "rmse_ratio": metrics["rmse_ratio"],
        "coverage": {who: metrics["interval"][who]["coverage"] for who in names},
    }


def _evaluate_step(
    model, arrays: dict[str, np.ndarray], dataset: Dataset, fit: Fitted
) -> tuple[dict, dict[str, pd.DataFrame]]:
    """Forecasts in dollars on the test period (a step_arrays view: its step ahead): each
    forecaster's errors (the model's and the baselines'), and how often each one's interval held
    the actual value. A panel's are pooled over its test days, with each series' own
    (`per_series`) and the shares of series that beat the reference baseline, and significantly
    so. The tables: each test day's forecasts (predictions, with the model's interval), and a
    panel's metrics per series (series)."""
    groups = arrays["series_test"]
    previous, actual = arrays["previous_test"], arrays["actual_test"]
    at = origins(arrays, "test")
    every = forecasters(model, fit.scaling, arrays)
    forecasts = {f.name: f.predict(at) for f in every}
    moving = {f.name for f in every if f.moves}
    names = fit.scaling.names  # a single series: a panel of one
    tests = each_series(groups)
    per_series, bounds = _each_series_scored(
        arrays, forecasts, moving, names, tests, fit.calibration, dataset
    )
    if not dataset.panel:  # its metrics are its one series'
        metrics = per_series[names[0]]
    else:
        metrics = ev.forecast_metrics(previous, actual, forecasts, moving)
        metrics["series"] = ev.panel_summary(
            list(per_series.values()), list(forecasts), SIGNIFICANCE
        )
    metrics["interval"] = {
        "nominal": settings(dataset).forecast.coverage,
        "window": settings(dataset).forecast.window,
        **{who: ev.interval_scores(actual, *bounds[who]) for who in forecasts},
    }
    lower, upper = bounds[Network.name]
    table = pd.DataFrame(
        {
            "day": np.concatenate([np.arange(1, len(t) + 1) for t in tests]),
            "actual": actual,
            **{f.column: forecasts[f.name] for f in every},
            "lower": lower,
            "upper": upper,
        }
    )
    if "dates_test" in arrays:
        table.insert(1, "date", arrays["dates_test"])
    if not dataset.panel:
        return metrics, {"predictions": table}
    table.insert(0, "series", np.asarray(names)[groups])
    metrics[PER_SERIES] = per_series
    return metrics, {"predictions": table, "series": ev.series_table(per_series, list(forecasts))}


def windows_ending(values: np.ndarray, ends: np.ndarray, seq_length: int) -> np.ndarray:
    """The raw windows (len(ends), seq_length, features) whose last rows are `ends`."""
    return np.stack([values[end - seq_length + 1 : end + 1] for end in ends])


def next_day(
    model, tables: dict[str, pd.DataFrame], dataset: Dataset, fit: Fitted
) -> tuple[dict, pd.DataFrame]:
    """The close of the business day after the raw data's last row, the model's and persistence's,
    each with its interval from its errors on the last forecast.window days; and the chart's
    table: the last days' closes, then the forecast. A panel's: each series' (`per_series`, and
    the table's `series` column)."""
    results = {
        s.name: _next_day(model, s, fit.scaling.of(s.name), dataset)
        for s in series(tables, dataset)
    }
    if not dataset.panel:  # its one series'
        (only,) = results.values()
        return only
    result = {
        "date": max(r["date"] for r, _ in results.values()),
        "series": len(results),
        PER_SERIES: {name: r for name, (r, _) in results.items()},
    }
    table = pd.concat([t.assign(series=name) for name, (_, t) in results.items()])
    return result, table[["series", *table.columns[:-1]]]


def _next_day(model, one: Series, scaling, dataset: Dataset) -> tuple[dict, pd.DataFrame]:
    p, fc = settings(dataset).preprocess, settings(dataset).forecast
    values, dates, steps = one.values, one.dates, p.horizon
    close = values[:, scaling.target_index]
    first = p.seq_length - 1 + f.lead(p, one.season)
    # the origins of the last forecast.window errors of every step, and the forecast's own (the last)
    ends = np.arange(max(first, len(values) - fc.window - steps), len(values))
    windows = windows_ending(values, ends, f.history_rows(p, one.season))
    # the network as the served model runs it: (origins, steps)
    network = serving.forecast_table(model, scaling, windows, [0.0] * steps)["forecast"]
    network = network.to_numpy().reshape(len(ends), steps)
    last = float(close[-1])
    result: dict[str, Any] = {
        "date": None,
        "last_date": str(dates[-1]) if len(dates) else None,
        f"last_{one.target.lower()}": last,  # the lecture's last_close
        "coverage": fc.coverage,
        "window": fc.window,
    }
    ahead = [_step_ahead(one, ends, windows, network, k, dataset) for k in range(steps)]
    if result["last_date"]:  # the steps of its calendar (exchange holidays are not known)
        offset = step_after(one.frequency)
        for k, step in enumerate(ahead, start=1):
            step["date"] = stamp(pd.Timestamp(result["last_date"]) + offset * k)
        result["date"] = ahead[0]["date"]
    result |= {who: its for who, its in ahead[0].items() if who not in ("step", "date")}
    if steps > 1:  # the lecture's one step keeps its file as it was
        each = {str(step["step"]): {k: v for k, v in step.items() if k != "step"} for step in ahead}
        result |= {"horizon": steps, "steps": each}
    days = min(fc.history_days, len(values))
    history = pd.DataFrame({"day": range(1 - days, 1), "close": close[-days:]})
    rows = []
    for step in ahead:
        row = {"day": step["step"], **step[Network.name]}
        for who, its in step.items():
            if who not in ("step", "date", Network.name):
                row |= {f"{who}_{k}": v for k, v in its.items()}
        rows.append(row)
    table = pd.concat([history, pd.DataFrame(rows)], ignore_index=True)
    table = table.rename(columns={f"{b.name}_forecast": b.column for b in BASELINES.values()})
    if result["last_date"]:
        table.insert(1, "date", [*dates[-days:], *(step["date"] for step in ahead)])
    return result, table


def _step_ahead(
    one: Series, ends: np.ndarray, windows: np.ndarray, network: np.ndarray, k: int, dataset
) -> dict[str, Any]:
    """The forecast `k` + 1 steps after the last origin in `ends`, the network's and each
    baseline's, each with its interval from its errors at that step on the latest
    forecast.window origins whose value then is known."""
    fc = settings(dataset).forecast
    close = one.values[:, one.target_index]
    known = np.arange(len(ends) - 1 - k)[-fc.window :]
    seen, following = close[ends[known]], close[ends[known] + k + 1]
    seasonal = close[ends + k + 1 - f.seasonal_lag(k + 1, one.season)] if one.season else None
    at = Origins(windows, close[ends], None, seasonal, k)
    others = baselines(at.take(known), following)
    forecasts = {
        Network.name: network[:, k],
        **{baseline.name: baseline.predict(at) for baseline in others},
    }
    calibrated = Conformal(fc.coverage)
    shares = {
        who: calibrated.share(errors(seen, following, made[known], fc.relative))
        for who, made in forecasts.items()
    }
    if len(seen) < fewest_errors(fc.coverage):
        raise LstmopsError(
            f"{one.name} has {len(seen)} days to calibrate the interval on; a coverage of "
            f"{fc.coverage} needs {fewest_errors(fc.coverage)}."
        )
    if not np.isfinite(list(shares.values())).all():
        raise LstmopsError(
            f"{one.name}'s last value is 0 on some of the days its interval is calibrated on, and "
            "forecast.relative takes errors as shares of it: set forecast.relative to false (errors "
            "in the series' units) for a series that reaches zero."
        )
    last = float(close[-1])
    step: dict[str, Any] = {"step": k + 1, "date": None}
    for who, made in forecasts.items():
        centre = float(made[-1])
        lower, upper = band(centre, last, shares[who], fc.relative)
        step[who] = {"forecast": centre, "lower": float(lower), "upper": float(upper)}
    return step


def _fit(arrays: dict[str, np.ndarray], scaling, dataset: Dataset, watchers=()):
    """A fresh model trained as the train stage trains it (same split, seed, early stopping,
    ensemble and shrinkage); `watchers` are more Keras callbacks."""
    p = settings(dataset).train
    training.seed_everything(p.seed)
    model, fit_part, val_part = model_and_split(arrays, dataset)
    callbacks = [*training.validation_callbacks(p, val_part), *watchers]
    training.fit(model, fit_part, val_part, p.epochs, p.batch_size, callbacks, p.seed)
    return training.predicting_model(model, val_part, scaling.no_change() if p.shrink else None)[0]


def _fold_bounds(panel: list[Series], dataset: Dataset) -> list[list[tuple[int, int]]]:
    """Per series: (train_end, test_end) of each fold, at the same shares of each one's period."""
    p, w = settings(dataset).preprocess, settings(dataset).walk_forward
    try:
        bounds = []
        for one in panel:
            n_train, n_test = f.split_windows(len(one.values), p, one.season)
            period = n_train if w.period == "train" else n_train + n_test
            bounds.append(f.fold_bounds(period, w.initial_fraction, w.folds))
    except ValueError as err:
        raise LstmopsError(
            f"prices.walk_forward: {err}. Lower prices.walk_forward.folds or initial_fraction."
        ) from None
    return bounds


def _fold_forecasters(panel, bounds, fold: int, dataset: Dataset, reporter):
    """The forecasters of fold `fold` (the network trained on the windows before its block, the
    baselines fitted there) for each step of the horizon, the test arrays they forecast (a
    step_arrays view each) and each series' test rows."""
    p, w = settings(dataset).preprocess, settings(dataset).walk_forward
    ends = [b[fold - 1] for b in bounds]
    # Arrays reach to this block's end (retrain) or the period's end (one model for all).
    reach = [
        test_end if w.retrain else b[-1][1] for (_, test_end), b in zip(ends, bounds, strict=True)
    ]
    start = p.seq_length + f.lead(p, panel[0].season) + p.horizon - 1
    cut = [one.values[: r + start] for one, r in zip(panel, reach, strict=True)]
    firsts = [train_end for train_end, _ in ends]
    names, target, season = [one.name for one in panel], panel[0].target_index, panel[0].season
    arrays, scaling = f.panel_arrays(cut, firsts, names, p, target, season)
    watchers = reporter.callbacks(f"fold{fold}.") if reporter else ()
    model = _fit(arrays, scaling, dataset, watchers)
    tests = each_series(arrays["series_test"])
    views = [step_arrays(arrays, k) for k in range(horizon(arrays))]
    return [forecasters(model, scaling, view) for view in views], views, tests, firsts


def _joined(forecasts: list[tuple]) -> tuple:
    """Every block so far as one: (last, actual, forecasts, each row's series) of each, joined."""
    last, actual, groups = (np.concatenate([part[i] for part in forecasts]) for i in (0, 1, 3))
    made = {name: np.concatenate([part[2][name] for part in forecasts]) for name in forecasts[0][2]}
    return last, actual, made, groups


def _pooled(forecasts: list[tuple], moving: set[str]) -> dict:
    """forecast_metrics over every block so far."""
    last, actual, made, _ = _joined(forecasts)
    return ev.forecast_metrics(last, actual, made, moving)


def score_folds(panel: list[Series], dataset: Dataset, reporter=None) -> tuple[dict, list[dict]]:
    """A dataset's series -> pooled metrics over every fold's block, and one row per fold; a
    tuning trial's `reporter` gets each fold's curves and the pooled ratio so far. A panel's folds
    cut each series at the same shares of its period, and one model learns from every series."""
    w, gap = settings(dataset).walk_forward, settings(dataset).preprocess.horizon - 1
    bounds = _fold_bounds(panel, dataset)
    rows: list[dict] = []
    blocks: list[list[tuple]] = [[] for _ in range(gap + 1)]  # each step's, fold by fold
    for fold in range(1, w.folds + 1):
        ends = [b[fold - 1] for b in bounds]
        if w.retrain or fold == 1:
            by_step, views, tests, firsts = _fold_forecasters(
                panel, bounds, fold, dataset, reporter
            )
            every = by_step[0]  # the next step's: what the folds are scored and compared by
            moving = {one.name for one in every if one.moves}
        block = np.concatenate(
            [
                # a horizon's test windows start `gap` after the training ones (split_windows)
                rows_of[max(train_end - first - gap, 0) : test_end - first - gap]
                for rows_of, (train_end, test_end), first in zip(tests, ends, firsts, strict=True)
            ]
        )
        for step, view, made_by in zip(blocks, views, by_step, strict=True):
            at, actual = origins(view, "test").take(block), view["actual_test"][block]
            made = {one.name: one.predict(at) for one in made_by}
            step.append((at.last, actual, made, at.groups))
        m = _pooled(blocks[0][-1:], moving)
        rows.append(
            {
                "fold": fold,
                "train_windows": sum(train_end for train_end, _ in ends),
                "test_windows": len(block),
                **{f"{one.name}_rmse": m[one.name]["rmse"] for one in every},
                "rmse_ratio": m["rmse_ratio"],
            }
        )
        so_far = _pooled(blocks[0], moving)["rmse_ratio"]
        if reporter and so_far is not None:
            reporter.report(so_far, fold)
    each = [_pooled(step, moving) for step in blocks]  # step 1's, and a horizon's later ones
    pooled, reference = each[0], every[1].name
    names = [one.name for one in every]
    metrics = {
        **{f"{name}_rmse": pooled[name]["rmse"] for name in names},
        "rmse_ratio": pooled["rmse_ratio"],  # over every block's days together, step 1's
        f"folds_beating_{reference}": sum(
            r["rmse_ratio"] is not None and r["rmse_ratio"] < 1 for r in rows
        ),
        "folds": {str(row["fold"]): row for row in rows},
        **({"steps": {str(k): _step(m, names) for k, m in enumerate(each, 1)}} if gap else {}),
    }
    if dataset.panel:  # each series' step-1 figures over its blocks, as evaluate gives the test's
        per_series = _each_series_pooled(blocks[0], [one.name for one in panel], moving)
        metrics["series"] = ev.panel_summary(list(per_series.values()), names, SIGNIFICANCE)
        metrics[PER_SERIES] = per_series
    return metrics, rows


def _each_series_pooled(forecasts: list[tuple], names: list[str], moving: set[str]) -> dict:
    """forecast_metrics of each series over every block so far, for the series with rows there."""
    last, actual, made, groups = _joined(forecasts)
    return {
        name: ev.forecast_metrics(
            last[rows], actual[rows], {k: v[rows] for k, v in made.items()}, moving
        )
        for i, name in enumerate(names)
        if (rows := groups == i).any()
    }


def _step(pooled: dict, names: list[str]) -> dict:
    """One step's pooled figures, for a horizon of several: each forecaster's RMSE, the reference
    and the model's ratio to it."""
    return {
        **{f"{name}_rmse": pooled[name]["rmse"] for name in names},
        "reference": pooled["reference"],
        "rmse_ratio": pooled["rmse_ratio"],
    }


def tune_score(dataset: Dataset, reporter) -> float:
    """A tuning trial's objective: the walk-forward RMSE ratio inside the training period (the
    trial's settings have walk_forward.period train, so no test day is read); the pooled ratio
    after each fold goes to the reporter, which prunes a trial clearly worse than the others."""
    panel = series(read_raw(raw_dir(dataset.name), dataset), dataset)
    ratio = score_folds(panel, dataset, reporter)[0]["rmse_ratio"]
    if ratio is None:
        raise LstmopsError(
            f"{dataset.name}: persistence made no error on any fold's test days (every series is "
            "constant there), so the RMSE ratio a trial is scored by is undefined; tune on data "
            "that move, or with more walk_forward.folds"
        )
    return ratio
