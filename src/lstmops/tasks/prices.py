"""The prices task: one-step-ahead forecasting of a daily Close, judged against persistence.

Everything that differs from the other tasks lives here: the formats a price source comes in, its
expectations, windows and scaling, the model and its chronological validation slice, the served
model (dollars in, dollars out), the metrics beside persistence and their plots, and walk-forward.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from lstmops.config import SERIES, Dataset, LstmopsError
from lstmops.data import prices as data

NAME = "prices"
# The stages of a price series, and the sections of its settings each one reads (DVC params).
STAGE_SETTINGS = {
    "ingest": (),
    "validate": (),
    "preprocess": ("preprocess",),
    "train": ("preprocess", "train", "forecast"),  # the served model's interval coverage
    "evaluate": ("forecast",),
    "walkforward": ("preprocess", "train", "walk_forward"),
    "forecast": ("preprocess", "forecast"),
}
STAGES = tuple(STAGE_SETTINGS)
FORMATS = ("lecture", "csv")
# For `make report`: the model's test metric, its baseline's, and how the two compare.
REPORT = ("test.model.rmse", "test.persistence.rmse", "RMSE, model / persistence")
# What the dataset's MLflow experiment says it is, and the validation metric (lower is better?)
# that moves the registered model's champion alias.
DESCRIPTION = (
    "One-step-ahead forecasts of {dataset}'s daily close, in dollars. Judge a run by "
    "test.rmse_ratio, the model's test RMSE over persistence's (tomorrow's close = today's): below "
    "1 beats persistence; test.diebold_mariano.p_value says whether the difference is more than "
    "chance, and test.model.mase scales the model's MAE by the training period's one-step naive "
    "MAE. walk_forward.rmse_ratio is the same ratio over expanding-window folds. The "
    "forecast.* is the next day's forecast with its interval, and test.interval.model.coverage how often "
    "that interval held the test period's close. The registered model lstmops-{dataset} moves its @champion alias to a version only when its "
    "validation.rmse (dollars, on the validation slice, never the test period) is lower."
)
CHAMPION_METRIC = ("validation.rmse", True)
# What a tuning trial scores, and whether lower is better: never the test period.
TUNE_OBJECTIVE = ("walk_forward.rmse_ratio", True)
SCALING_FILE = "scaling.joblib"
CALIBRATION_FILE = "calibration.json"  # beside the model: its errors on the validation slice
SERIES_TABLE = "series.csv"  # a panel's test metrics, one row per series, in its plots folder
SIGNIFICANCE = 0.05  # a panel's share of series whose Diebold-Mariano test favours the model


# --- ingest and validate ------------------------------------------------------------------------


def read_source(dataset: Dataset) -> dict[str, pd.DataFrame]:
    """The source as one time-ordered table, whatever its format (a panel: by series, then date)."""
    table = _parse_source(dataset)
    if SERIES in table and not dataset.panel:
        raise LstmopsError(
            f"datasets.prices.{dataset.name}'s file holds {table[SERIES].nunique()} series in a "
            "series column: declare it with `series: <column>` in its source, so that it gets the "
            "settings of many series (prices.panel_preset)."
        )
    if SERIES in table:
        for name, rows in table.groupby(SERIES, sort=False):
            long_enough(len(rows), dataset, f"series {name} ({len(rows)} rows): ")
    else:
        long_enough(len(table), dataset)
    return {dataset.name: table}


def _parse_source(dataset: Dataset) -> pd.DataFrame:
    source = dataset.source
    if source.package is not None:
        from lstmops.data import tickers

        return tickers.read_ticker(source.ticker)
    from lstmops.data.fetch import fetch, read_text

    path = fetch(source)
    if path.is_dir():
        return data.parse_folder(path)
    kind = source.format or ("lecture" if source.url else "csv")
    if kind not in FORMATS:
        raise LstmopsError(
            f"datasets.prices.{dataset.name}.source.format is {kind!r}: a price source is one of "
            f"{', '.join(FORMATS)} (csv: a header row with a date column)."
        )
    text = read_text(path)
    return data.parse_lecture(text) if kind == "lecture" else data.parse_csv(text, source.series)


def long_enough(n_rows: int, dataset: Dataset, which: str = "") -> None:
    """An error, preprocess's, when the settings leave too few windows in a series of `n_rows`
    (`which` names it in a panel): ingest asks before the series may replace the last good raw
    data, which the settings can use."""
    from lstmops import features as f

    try:
        f.split_windows(n_rows, dataset.settings.preprocess)
    except ValueError as err:
        raise LstmopsError(f"prices.preprocess: {which}{err}") from None


def write_raw(tables: dict[str, pd.DataFrame], out: Path) -> None:
    (table,) = tables.values()
    table.to_csv(out / data.RAW_FILE, index=False)


def read_raw(raw: Path, dataset: Dataset) -> dict[str, pd.DataFrame]:
    from lstmops.stages import require

    return {dataset.name: data.read_prices(require(raw / data.RAW_FILE, "ingest", dataset))}


def check(tables: dict[str, pd.DataFrame], dataset: Dataset) -> list:
    """The price expectations; for a series without dates, also that it runs forward in time."""
    from lstmops import validation as v

    (table,) = tables.values()
    date = data.DATE if data.DATE in table else None
    if SERIES in table:  # a panel: each failure names the first series and day it holds
        labels, days = table[SERIES].to_numpy(), table[data.DATE].to_numpy()

        def locate(rows: list[int]) -> str:
            return f"first in series {labels[rows[0]]} on {days[rows[0]]}"

        return v.run_suite(table, v.price_expectations(date, SERIES), dataset.name, locate)
    checks = v.run_suite(table, v.price_expectations(date), dataset.name)
    order = None if date else v.time_order(table)
    if order is not None:
        (result,) = v.run_suite(order, v.order_expectations(), f"{dataset.name} time order")
        if not result.success:
            result = dataclasses.replace(
                result,
                detail=f"{result.detail}: each Open lies nearer the next day's Close than the "
                "previous one, so the rows look reversed in time (a lecture-format file lists the "
                "newest day first; a file listed oldest first needs a header and dates, format csv)",
            )
        checks.append(result)
    return checks


# --- preprocess ---------------------------------------------------------------------------------


class Series(NamedTuple):
    """One price series of a dataset: its name, feature rows in time order, dates (or none)."""

    name: str
    values: np.ndarray
    dates: np.ndarray


def series(tables: dict[str, pd.DataFrame], dataset: Dataset) -> list[Series]:
    """The validated raw table's series (a single one is named as its dataset): each one's
    feature columns and dates, checked against the preprocess settings."""
    (table,) = tables.values()
    if SERIES not in table:
        return [Series(dataset.name, *_features(table, dataset))]
    return [
        Series(str(name), *_features(rows, dataset, f"series {name}: "))
        for name, rows in table.groupby(SERIES, sort=False)
    ]


def _features(table: pd.DataFrame, dataset: Dataset, which: str = "") -> tuple:
    """One series' feature rows and dates; an error naming the series (`which`) where they do
    not fit the settings."""
    p = dataset.settings.preprocess
    where = f"datasets.prices.{dataset.name}"
    unknown = [c for c in p.features if c not in table.columns]
    if unknown:
        raise LstmopsError(
            f"prices.preprocess.features names {', '.join(unknown)}, which {where} does not have "
            f"(its columns: {', '.join(table.columns)}). Name columns it has."
        )
    try:
        values = table[list(p.features)].to_numpy(dtype=np.float64)
    except ValueError as err:
        raise LstmopsError(f"{where}: a feature column is not numeric ({err}).") from None
    long_enough(len(values), dataset, which)
    if p.inputs == "return" and (values <= 0).any():
        columns = [c for c, bad in zip(p.features, (values <= 0).any(axis=0), strict=True) if bad]
        raise LstmopsError(
            f"prices.preprocess.inputs is 'return' but {which}{', '.join(columns)} has zero "
            "values, whose day-over-day return is undefined. Drop the column from prices.preprocess.features or "
            "set inputs to 'level'."
        )
    dates = table[data.DATE].to_numpy(dtype=str) if data.DATE in table else np.array([], dtype=str)
    return values, dates


def preprocess(tables: dict[str, pd.DataFrame], dataset: Dataset, out: Path) -> str:
    """Windows, the chronological split and the scalers fitted on the training rows."""
    import joblib

    from lstmops import features as f
    from lstmops.stages import ARRAYS

    p = dataset.settings.preprocess
    panel = series(tables, dataset)
    splits = [f.split_windows(len(s.values), p) for s in panel]
    if dataset.panel:  # each series split and scaled on its own training rows
        arrays, scaling = f.panel_arrays(
            [s.values for s in panel], [n for n, _ in splits], [s.name for s in panel], p
        )
    else:
        arrays, scaling = f.price_arrays(panel[0].values, splits[0][0], p)
    if len(panel[0].dates):  # the day each test forecast is for
        arrays["dates_test"] = np.concatenate(
            [s.dates[-n_test:] for s, (_, n_test) in zip(panel, splits, strict=True)]
        )
    np.savez(out / ARRAYS, **arrays)
    joblib.dump(scaling, out / SCALING_FILE)
    n_train, n_test = (sum(part) for part in zip(*splits, strict=True))
    many = f" in {len(panel)} series" if dataset.panel else ""
    return f"{n_train} train and {n_test} test windows{many}"


def load_scaling(processed: Path):
    """The fitted features.StockScaling that preprocess saved."""
    import joblib

    return joblib.load(processed / SCALING_FILE)


# --- train --------------------------------------------------------------------------------------


def model_and_split(arrays: dict[str, np.ndarray], dataset: Dataset):
    """The model, and its training part and validation slice: the end of the training period."""
    from lstmops import models, training

    p = dataset.settings.train
    x, y = arrays["x_train"], arrays["y_train"]
    fit_part, val_part = training.tail_split(
        x, y, p.validation_fraction, arrays.get("series_train")
    )
    return models.price_model(x.shape[1], x.shape[2], p), fit_part, val_part


def lineage(dataset: Dataset) -> dict[str, str]:
    """Nothing trained before a price model."""
    return {}


def _dollars(model, x: np.ndarray, previous: np.ndarray, dataset: Dataset, series=None):
    """The model's forecasts in dollars for model inputs `x`, given each one's last close (and,
    in a panel, its series)."""
    from lstmops import config as cfg

    outputs = model.predict(x, verbose=0).reshape(-1)
    return load_scaling(cfg.processed_dir(dataset.name)).prices(outputs, previous, series)


def _each_series(groups: np.ndarray | None, n: int) -> list[np.ndarray]:
    """The row indices of each series among `n` rows (`groups`: each row's series; None: one)."""
    rows = np.arange(n)
    return [rows] if groups is None else np.split(rows, np.flatnonzero(np.diff(groups)) + 1)


def validation_metrics(model, val_part, arrays: dict[str, np.ndarray], dataset: Dataset) -> dict:
    """The saved model's RMSE in dollars on the validation slice (the end of the training period),
    which picks the champion; none without a slice."""
    from lstmops import evaluation as ev
    from lstmops import training

    if val_part is None:
        return {}
    fraction, groups = dataset.settings.train.validation_fraction, arrays.get("series_train")
    _, (previous, actual) = training.tail_split(
        arrays["previous_train"], arrays["actual_train"], fraction, groups
    )
    if groups is not None:
        _, (groups, _) = training.tail_split(groups, groups, fraction, groups)
    dollars = _dollars(model, val_part[0], previous, dataset, groups)
    return {"rmse": ev.regression_metrics(actual, dollars)["rmse"]}


def model_files(model, val_part, arrays: dict[str, np.ndarray], dataset: Dataset, out: Path):
    """The interval's calibration beside the model: its and persistence's one-step errors on the
    training period's last forecast.window days, as shares of the last close. The served model,
    which sees only the windows it is sent, calibrates on these; evaluate starts from them and
    rolls on. Returned as the served model's artifacts (and no validation scores)."""
    from lstmops import config as cfg
    from lstmops import evaluation as ev
    from lstmops.io import write_json

    days, groups = dataset.settings.forecast.window, arrays.get("series_train")
    parts = [rows[-days:] for rows in _each_series(groups, len(arrays["x_train"]))]
    rows = np.concatenate(parts)
    previous, actual = arrays["previous_train"][rows], arrays["actual_train"][rows]
    dollars = _dollars(
        model, arrays["x_train"][rows], previous, dataset, None if groups is None else groups[rows]
    )
    errors = {
        "model": ev.relative_errors(previous, actual, dollars),
        "persistence": ev.relative_errors(previous, actual, previous),
    }
    if groups is None:
        errors = {who: e.tolist() for who, e in errors.items()}
    else:  # a panel: each series' own, by name
        names, cuts = (
            load_scaling(cfg.processed_dir(dataset.name)).names,
            np.cumsum([len(p) for p in parts])[:-1],
        )
        errors = {
            who: {n: part.tolist() for n, part in zip(names, np.split(e, cuts), strict=True)}
            for who, e in errors.items()
        }
    write_json(
        out / CALIBRATION_FILE,
        {
            "errors": "(actual - forecast) / last close, on the training period's last days",
            "days": len(parts[0]),
            **errors,
        },
    )
    return {"calibration": str(out / CALIBRATION_FILE)}, {}


def calibration(dataset: Dataset) -> dict:
    """The errors that train saved beside the model (model_files)."""
    from lstmops import config as cfg
    from lstmops.io import read_json
    from lstmops.stages import require

    return read_json(require(cfg.model_dir(dataset.name) / CALIBRATION_FILE, "train", dataset))


def rolling_bounds(
    forecast: np.ndarray, previous: np.ndarray, actual: np.ndarray, before: list, dataset: Dataset
) -> tuple[np.ndarray, np.ndarray]:
    """Each day's interval around `forecast`, calibrated on the forecast.window one-step errors
    known the day before: those `before` the first day, then each day's own as its close comes
    in. NaN where fewer are known than the coverage needs."""
    from lstmops import evaluation as ev

    f = dataset.settings.forecast
    errors = ev.relative_errors(previous, actual, forecast)
    shares = ev.rolling_shares(np.asarray(before), errors, f.coverage, f.window)
    shares[~np.isfinite(shares)] = np.nan
    return ev.bounds(forecast, previous, shares)


def no_change(dataset: Dataset, processed: Path) -> float | None:
    """The model output that means persistence, where train.shrink pulls the forecast toward it."""
    if not dataset.settings.train.shrink:
        return None
    if dataset.panel:
        raise LstmopsError(
            f"{dataset.name} holds many series, whose outputs for 'no change' differ: "
            "train.shrink works on one series. Set it to false for this dataset."
        )
    return load_scaling(processed).no_change()


def served_model(dataset: Dataset, arrays: dict[str, np.ndarray], processed: Path):
    """The pyfunc that takes raw windows in dollars, its artifacts, signature and input example."""
    from mlflow.models import infer_signature

    from lstmops import serving

    example = arrays["windows_test"][:2]
    coverage = dataset.settings.forecast.coverage
    output = pd.DataFrame({column: np.zeros(len(example)) for column in serving.PRICE_OUTPUTS})
    params = {"coverage": coverage}
    if dataset.panel:  # the series of the windows sent, by default the first
        params["series"] = load_scaling(processed).names[0]
    return (
        serving.PriceModel(*example.shape[1:], coverage),
        {"scaling": str(processed / SCALING_FILE)},
        infer_signature(example, output, params=params),
        example,
    )


# --- evaluate -----------------------------------------------------------------------------------


def evaluate(model, arrays: dict[str, np.ndarray], dataset: Dataset, out: Path) -> dict:
    """Forecasts in dollars on the test period: the model's and persistence's errors, and how
    often each one's interval held the actual close; plots. A panel's are pooled over its test
    days, with each series' own (`per_series` and series.csv) and the shares of series that beat
    persistence, and significantly so."""
    from lstmops import config as cfg
    from lstmops import evaluation as ev
    from lstmops.stages import PER_SERIES

    predicted = model.predict(arrays["x_test"], verbose=0).reshape(-1)
    scaling = load_scaling(cfg.processed_dir(dataset.name))
    groups = arrays.get("series_test")
    previous, actual = arrays["previous_test"], arrays["actual_test"]
    dollars = scaling.prices(predicted, previous, groups)
    errors = calibration(dataset)
    names = scaling.names if groups is not None else [dataset.name]
    tests = _each_series(groups, len(actual))
    trains = _each_series(arrays.get("series_train"), len(arrays["actual_train"]))
    around, steady, per_series = [], [], {}  # each series' intervals, model's and persistence's
    for name, test, train in zip(names, tests, trains, strict=True):
        before = {
            who: errors[who] if groups is None else errors[who][name]
            for who in ("model", "persistence")
        }
        around.append(
            rolling_bounds(dollars[test], previous[test], actual[test], before["model"], dataset)
        )
        steady.append(
            rolling_bounds(
                previous[test], previous[test], actual[test], before["persistence"], dataset
            )
        )
        scale = ev.naive_mae(arrays["previous_train"][train], arrays["actual_train"][train])
        per_series[name] = ev.price_metrics(previous[test], actual[test], dollars[test], scale)
    (lower, upper), steady = (
        [np.concatenate(b) for b in zip(*x, strict=True)] for x in (around, steady)
    )
    if groups is None:
        metrics = per_series[dataset.name]
    else:
        metrics = ev.price_metrics(previous, actual, dollars)
        metrics["series"] = ev.panel_summary(list(per_series.values()), SIGNIFICANCE)
    metrics["interval"] = {
        "nominal": dataset.settings.forecast.coverage,
        "window": dataset.settings.forecast.window,
        "model": ev.interval_scores(actual, lower, upper),
        "persistence": ev.interval_scores(actual, *steady),
    }
    table = pd.DataFrame(
        {
            "day": np.concatenate([np.arange(1, len(t) + 1) for t in tests]),
            "actual": actual,
            "predicted": dollars,
            "persistence": previous,
            "lower": lower,
            "upper": upper,
        }
    )
    if "dates_test" in arrays:
        table.insert(1, "date", arrays["dates_test"])
    if groups is not None:
        table.insert(0, "series", np.asarray(names)[groups])
        metrics[PER_SERIES] = per_series
        ev.series_table(per_series).to_csv(out / SERIES_TABLE, index=False)
    table.to_csv(out / "predictions.csv", index=False)
    first = table if groups is None else table[table["series"] == names[0]]
    ev.plot_predictions(
        first,
        dataset.name if groups is None else f"{dataset.name} {names[0]}",
        out / "predictions.png",
    )
    return metrics


# --- forecast -----------------------------------------------------------------------------------


def windows_ending(values: np.ndarray, ends: np.ndarray, seq_length: int) -> np.ndarray:
    """The raw windows (len(ends), seq_length, features) whose last rows are `ends`."""
    return np.stack([values[end - seq_length + 1 : end + 1] for end in ends])


def next_day(model, tables: dict[str, pd.DataFrame], dataset: Dataset) -> tuple[dict, pd.DataFrame]:
    """The close of the business day after the raw data's last row, the model's and persistence's,
    each with its interval from its errors on the last forecast.window days; and the chart's
    table: the last days' closes, then the forecast. A panel's: each series' (`per_series`, and
    the table's `series` column)."""
    from lstmops import config as cfg
    from lstmops.stages import PER_SERIES

    scaling = load_scaling(cfg.processed_dir(dataset.name))
    panel = series(tables, dataset)
    if not dataset.panel:
        return _next_day(model, panel[0], scaling, dataset)
    results = {s.name: _next_day(model, s, scaling.of(s.name), dataset) for s in panel}
    result = {
        "date": max(r["date"] for r, _ in results.values()),
        "series": len(results),
        PER_SERIES: {name: r for name, (r, _) in results.items()},
    }
    table = pd.concat([t.assign(series=name) for name, (_, t) in results.items()])
    return result, table[["series", *table.columns[:-1]]]


def _next_day(model, one: Series, scaling, dataset: Dataset) -> tuple[dict, pd.DataFrame]:
    from lstmops import config as cfg
    from lstmops import evaluation as ev
    from lstmops import serving

    p, settings = dataset.settings.preprocess, dataset.settings.forecast
    values, dates = one.values, one.dates
    close = values[:, scaling.target_index]
    ends = np.arange(max(p.seq_length - 1, len(values) - settings.window - 1), len(values))
    windows = windows_ending(values, ends, p.seq_length)
    forecasts = serving.forecast_table(model, scaling, windows, 0.0)["forecast"].to_numpy()
    seen, following = close[ends[:-1]], close[ends[:-1] + 1]
    shares = [
        ev.conformal_share(ev.relative_errors(seen, following, made), settings.coverage)
        for made in (forecasts[:-1], seen)
    ]
    if not np.isfinite(shares).all():
        raise LstmopsError(
            f"{one.name} has {len(seen)} days to calibrate the interval on; a coverage of "
            f"{settings.coverage} needs {cfg.fewest_errors(settings.coverage)}."
        )
    last = float(close[-1])
    result = {
        "date": None,
        "last_date": str(dates[-1]) if len(dates) else None,
        "last_close": last,
        "coverage": settings.coverage,
        "window": settings.window,
    }
    if result["last_date"]:  # the next weekday: exchange holidays are not known here
        result["date"] = (pd.Timestamp(result["last_date"]) + pd.offsets.BDay(1)).date().isoformat()
    for who, centre, share in (
        ("model", float(forecasts[-1]), shares[0]),
        ("persistence", last, shares[1]),
    ):
        result[who] = {
            "forecast": centre,
            "lower": centre - share * last,
            "upper": centre + share * last,
        }
    days = min(settings.history_days, len(values))
    history = pd.DataFrame({"day": range(1 - days, 1), "close": close[-days:]})
    ahead = {
        "day": 1,
        **result["model"],
        **{f"persistence_{k}": v for k, v in result["persistence"].items()},
    }
    table = pd.concat([history, pd.DataFrame([ahead])], ignore_index=True)
    table = table.rename(columns={"persistence_forecast": "persistence"})
    if result["last_date"]:
        table.insert(1, "date", [*dates[-days:], result["date"]])
    return result, table


def charts(dataset: Dataset) -> tuple[list, list[str]]:
    """The plots page's charts: the test forecast, the learning curve, the walk-forward folds and
    the next day's forecast."""
    from lstmops import config as cfg
    from lstmops import plots

    folder, (_, folds) = cfg.plots_dir(dataset.name), cfg.walkforward_files(dataset.name)
    return plots.from_files(
        dataset,
        [
            (folder / "predictions.csv", plots.forecast, "evaluate"),
            (folder / "learning_curve.csv", plots.learning_curve, "evaluate"),
            (folds / cfg.WALKFORWARD_TABLE, plots.walkforward, "walkforward"),
            (cfg.forecast_files(dataset.name)[1] / cfg.FORECAST_TABLE, plots.next_day, "forecast"),
        ],
    )


# --- walk-forward -------------------------------------------------------------------------------


def _fit(arrays: dict[str, np.ndarray], scaling, dataset: Dataset, watchers=()):
    """A fresh model trained as the train stage trains it (same split, seed, early stopping,
    ensemble and shrinkage); `watchers` are more Keras callbacks."""
    from lstmops import training

    p = dataset.settings.train
    training.seed_everything(p.seed)
    model, fit_part, val_part = model_and_split(arrays, dataset)
    callbacks = [*training.validation_callbacks(p, val_part), *watchers]
    training.fit(model, fit_part, val_part, p.epochs, p.batch_size, callbacks, p.seed)
    return training.predicting_model(model, val_part, scaling.no_change() if p.shrink else None)[0]


def score_folds(panel: list[Series], dataset: Dataset, reporter=None) -> tuple[dict, list[dict]]:
    """A dataset's series -> pooled metrics over every fold's block, and one row per fold; a
    tuning trial's `reporter` gets each fold's curves and the pooled ratio so far. A panel's folds
    cut each series at the same shares of its period, and one model learns from every series."""
    from lstmops import evaluation as ev
    from lstmops import features as f

    p, w = dataset.settings.preprocess, dataset.settings.walk_forward
    try:
        bounds = []  # per series: (train_end, test_end) of each fold
        for one in panel:
            n_train, n_test = f.split_windows(len(one.values), p)
            period = n_train if w.period == "train" else n_train + n_test
            bounds.append(f.fold_bounds(period, w.initial_fraction, w.folds))
    except ValueError as err:
        raise LstmopsError(
            f"prices.walk_forward: {err}. Lower prices.walk_forward.folds or initial_fraction."
        ) from None
    rows, predictions = [], []
    for fold in range(1, w.folds + 1):
        ends = [b[fold - 1] for b in bounds]
        if w.retrain or fold == 1:
            # Arrays reach to this block's end (retrain) or the period's end (one model for all).
            reach = [
                test_end if w.retrain else b[-1][1]
                for (_, test_end), b in zip(ends, bounds, strict=True)
            ]
            cut = [one.values[: r + p.seq_length] for one, r in zip(panel, reach, strict=True)]
            firsts = [train_end for train_end, _ in ends]
            if dataset.panel:
                arrays, scaling = f.panel_arrays(cut, firsts, [one.name for one in panel], p)
            else:
                arrays, scaling = f.price_arrays(cut[0], firsts[0], p)
            watchers = reporter.callbacks(f"fold{fold}.") if reporter else ()
            model = _fit(arrays, scaling, dataset, watchers)
            tests = _each_series(arrays.get("series_test"), len(arrays["y_test"]))
        block = np.concatenate(
            [
                test[train_end - first : test_end - first]
                for test, (train_end, test_end), first in zip(tests, ends, firsts, strict=True)
            ]
        )
        previous, actual = arrays["previous_test"][block], arrays["actual_test"][block]
        groups = arrays["series_test"][block] if dataset.panel else None
        outputs = model.predict(arrays["x_test"][block], verbose=0).reshape(-1)
        predicted = scaling.prices(outputs, previous, groups)
        m = ev.price_metrics(previous, actual, predicted)
        rows.append(
            {
                "fold": fold,
                "train_windows": sum(train_end for train_end, _ in ends),
                "test_windows": len(block),
                "model_rmse": m["model"]["rmse"],
                "persistence_rmse": m["persistence"]["rmse"],
                "rmse_ratio": m["rmse_ratio"],
            }
        )
        predictions.append((previous, actual, predicted))
        if reporter:
            so_far = (np.concatenate(parts) for parts in zip(*predictions, strict=True))
            reporter.report(ev.price_metrics(*so_far)["rmse_ratio"], fold)
    previous, actual, predicted = (
        np.concatenate(parts) for parts in zip(*predictions, strict=True)
    )
    pooled = ev.price_metrics(previous, actual, predicted)
    metrics = {
        "model_rmse": pooled["model"]["rmse"],
        "persistence_rmse": pooled["persistence"]["rmse"],
        "rmse_ratio": pooled["rmse_ratio"],  # over every block's days together
        "folds_beating_persistence": sum(r["rmse_ratio"] < 1 for r in rows),
        "folds": {str(row["fold"]): row for row in rows},
    }
    return metrics, rows


# --- tune ---------------------------------------------------------------------------------------


def tune_score(dataset: Dataset, reporter) -> float:
    """A tuning trial's objective: the walk-forward RMSE ratio inside the training period (the
    trial's settings have walk_forward.period train, so no test day is read); the pooled ratio
    after each fold goes to the reporter, which prunes a trial clearly worse than the others."""
    from lstmops import config as cfg

    panel = series(read_raw(cfg.raw_dir(dataset.name), dataset), dataset)
    return score_folds(panel, dataset, reporter)[0]["rmse_ratio"]
