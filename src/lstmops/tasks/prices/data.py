"""A price dataset's data: its source in the formats it comes in, its raw table, its series and
their windows, split and scaled (ingest, validate, preprocess and what reads their outputs)."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import joblib
import numpy as np
import pandas as pd

from lstmops import features as f
from lstmops.config import SERIES, Dataset, LstmopsError, PricesSettings
from lstmops.data import prices as data
from lstmops.data import tickers
from lstmops.data.fetch import fetch
from lstmops.io import read_text
from lstmops.layout import ARRAYS, PRICES_FILE, SCALING_FILE, require

FORMATS = ("lecture", "csv")


def settings(dataset: Dataset) -> PricesSettings:
    """The dataset's settings, which are a price series' (tasks.of dispatched it here)."""
    assert isinstance(dataset.settings, PricesSettings), dataset.task
    return dataset.settings


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
        return tickers.read_ticker(str(source.ticker))
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
    try:
        f.split_windows(n_rows, settings(dataset).preprocess)
    except ValueError as err:
        raise LstmopsError(f"prices.preprocess: {which}{err}") from None


def write_raw(tables: dict[str, pd.DataFrame], out: Path) -> None:
    (table,) = tables.values()
    table.to_csv(out / PRICES_FILE, index=False)


def read_raw(raw: Path, dataset: Dataset) -> dict[str, pd.DataFrame]:
    return {dataset.name: data.read_prices(require(raw / PRICES_FILE, "ingest", dataset))}


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
    p = settings(dataset).preprocess
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
    p = settings(dataset).preprocess
    panel = series(tables, dataset)
    splits = [f.split_windows(len(s.values), p) for s in panel]
    # each series split and scaled on its own training rows (a single series: a panel of one)
    arrays, scaling = f.panel_arrays(
        [s.values for s in panel], [n for n, _ in splits], [s.name for s in panel], p
    )
    if len(panel[0].dates):  # the day each test forecast is for
        arrays["dates_test"] = np.concatenate(
            [s.dates[-n_test:] for s, (_, n_test) in zip(panel, splits, strict=True)]
        )
    np.savez(out / ARRAYS, **arrays)  # type: ignore[arg-type]  # numpy's stub: arrays by name
    joblib.dump(scaling, out / SCALING_FILE)
    n_train, n_test = (sum(part) for part in zip(*splits, strict=True))
    many = f" in {len(panel)} series" if dataset.panel else ""
    return f"{n_train} train and {n_test} test windows{many}"


def load_scaling(processed: Path) -> f.PanelScaling:
    """The scalers preprocess fitted, one per series."""
    return joblib.load(processed / SCALING_FILE)
