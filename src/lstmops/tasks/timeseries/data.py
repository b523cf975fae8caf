"""A series dataset's data (prices or any numeric series): its source in the formats it comes in,
its raw table, its series on their calendar and their windows, split and scaled (ingest,
validate, preprocess and what reads their outputs)."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import joblib
import numpy as np
import pandas as pd

from lstmops import features as f
from lstmops.config import (
    PRICE_COLUMNS,
    SERIES,
    Dataset,
    ForecastPreprocess,
    ForecastSettings,
    LstmopsError,
)
from lstmops.data import calendar as cal
from lstmops.data import prices as data
from lstmops.data import tickers
from lstmops.data.fetch import fetch
from lstmops.io import read_text
from lstmops.layout import ARRAYS, PRICES_FILE, SCALING_FILE, require

FORMATS = ("lecture", "csv", "parquet")
# The columns a source of each task must have: a price table's five (and their rules: checks.py).
REQUIRED: dict[str, tuple[str, ...]] = {"prices": PRICE_COLUMNS, "series": ()}


def settings(dataset: Dataset) -> ForecastSettings:
    """The dataset's settings, which are a series' (tasks.of dispatched it here)."""
    assert isinstance(dataset.settings, ForecastSettings), dataset.task
    return dataset.settings


def read_source(dataset: Dataset) -> dict[str, pd.DataFrame]:
    """The source as one time-ordered table, whatever its format (a panel: by series, then date)."""
    table = _parse_source(dataset)
    if SERIES in table and not dataset.panel:
        raise LstmopsError(
            f"datasets.{dataset.task}.{dataset.name}'s file holds {table[SERIES].nunique()} series "
            "in a series column: declare it with `series: <column>` in its source, so that it gets "
            f"the settings of many series ({dataset.task}.panel_preset)."
        )
    if not set(REQUIRED[dataset.task]) <= set(table.columns):
        return {dataset.name: table}  # a price table without its columns: the expectations say so
    p = resolved(settings(dataset).preprocess, table, dataset)  # a target and features it has
    freq, season = calendar(table, p, dataset)
    for name, rows, which in _parts(table, dataset, p, freq):  # a gap named, or what filling leaves
        long_enough(len(rows), dataset, season, which and f"{which[:-2]} ({len(rows)} rows): ")
        if not REQUIRED[dataset.task]:  # a price table's rows are unique (its expectations)
            _moves(rows, str(p.target), which or f"{name}: ")
    return {dataset.name: table}


def _moves(rows: pd.DataFrame, target: str, which: str) -> None:
    """An error for a series whose target never changes (all zero, say): nothing to forecast, and
    every error ratio to a baseline that forecasts it exactly is undefined."""
    values = pd.to_numeric(rows[target], errors="coerce")
    if values.notna().all() and values.nunique() == 1:
        raise LstmopsError(
            f"{which}its {target} is {values.iloc[0]:g} on every one of its {len(values)} rows: a "
            "constant series has nothing to forecast. Remove it from the source."
        )


def _parts(
    table: pd.DataFrame, dataset: Dataset, p: ForecastPreprocess, freq: str | None
) -> list[tuple[str, pd.DataFrame, str]]:
    """Each series' name, rows on its calendar (preprocess.gaps: a missing date named, or
    filled) and how an error names it (a single one: as its dataset)."""
    if SERIES not in table:
        parts = [(dataset.name, table, "")]
    else:
        parts = [(str(n), rows, f"series {n}: ") for n, rows in table.groupby(SERIES, sort=False)]
    if freq is None or p.gaps == "keep":
        return parts
    columns = list(p.features or ())
    return [
        (name, cal.regular(rows, freq, p.gaps, columns, which or f"{name}: "), which)
        for name, rows, which in parts
    ]


def calendar(
    table: pd.DataFrame, p: ForecastPreprocess, dataset: Dataset
) -> tuple[str | None, int | None]:
    """The table's frequency (none without dates) and the season of the seasonal naive."""
    dates = table.get(data.DATE)
    freq = None if dates is None else cal.frequency(dates, table.get(SERIES))
    if dates is not None and freq is None and p.gaps != "keep":
        raise cal.irregular(dates, table.get(SERIES), f"datasets.{dataset.task}.{dataset.name}: ")
    return freq, cal.season(p.season, freq, dataset)


def _parse_source(dataset: Dataset) -> pd.DataFrame:
    source, required = dataset.source, REQUIRED[dataset.task]
    if source.ticker is not None:
        return tickers.read_ticker(source.ticker)
    if source.sample is not None:
        return tickers.read_sample(source.sample)
    path = fetch(source)
    if path.is_dir():
        return data.parse_folder(path, required)
    kind = source.format or (
        "lecture" if source.url and dataset.task == "prices" else
        "parquet" if path.suffix == ".parquet" else "csv"
    )  # fmt: skip
    if kind not in FORMATS:
        raise LstmopsError(
            f"datasets.{dataset.task}.{dataset.name}.source.format is {kind!r}: a series source "
            f"is one of {', '.join(FORMATS)} (csv: a header row with a date column)."
        )
    if kind == "parquet":
        try:
            cells = pd.read_parquet(path)
        except (OSError, ValueError) as err:
            raise LstmopsError(f"{path.name} is not a Parquet file ingest reads: {err}") from None
        cells = cells.astype("string").fillna("").astype(str)
        return data.parse_table(cells, source.series, required)
    text = read_text(path)
    if kind == "lecture":
        return data.parse_lecture(text)
    return data.parse_csv(text, source.series, required)


def resolved(p: ForecastPreprocess, table: pd.DataFrame, dataset: Dataset) -> ForecastPreprocess:
    """The preprocess settings with the target and features named: as declared, else Close
    where the table has one, else its only numeric column; the features, by default the target
    alone. An error lists the candidates where there is no single one."""
    where = f"{dataset.task}.preprocess"
    numeric = [
        c for c in table.columns
        if c not in (SERIES, data.DATE) and pd.api.types.is_numeric_dtype(table[c])
    ]  # fmt: skip
    target = p.target
    if target is None:
        target = "Close" if "Close" in table.columns else numeric[0] if len(numeric) == 1 else None
    if target is None:
        candidates = ", ".join(numeric) or "none"
        raise LstmopsError(
            f"{where}.target is not set and datasets.{dataset.task}.{dataset.name} has "
            f"{len(numeric)} numeric columns (candidates: {candidates}): name the one to forecast "
            f"with `preprocess: {{target: <column>}}` in its entry."
        )
    features = p.features if p.features is not None else (target,)
    unknown = [c for c in (target, *features) if c not in table.columns]
    if unknown:
        raise LstmopsError(
            f"{where} names {', '.join(dict.fromkeys(unknown))}, which datasets.{dataset.task}."
            f"{dataset.name} does not have (its columns: {', '.join(map(str, table.columns))}). "
            "Name columns it has in its target and features."
        )
    if target not in features:
        raise LstmopsError(
            f"{where}.features must include the target column {target}: the forecast starts from "
            "it. Add it to the features."
        )
    return p.model_copy(update={"target": target, "features": tuple(features)})


def long_enough(n_rows: int, dataset: Dataset, season: int | None, which: str = "") -> None:
    """An error, preprocess's, when the settings leave too few windows in a series of `n_rows`
    (`which` names it in a panel): ingest asks before the series may replace the last good raw
    data, which the settings can use."""
    try:
        f.split_windows(n_rows, settings(dataset).preprocess, season)
    except ValueError as err:
        raise LstmopsError(f"{dataset.task}.preprocess: {which}{err}") from None


def write_raw(tables: dict[str, pd.DataFrame], out: Path) -> None:
    (table,) = tables.values()
    table.to_csv(out / PRICES_FILE, index=False)


def read_raw(raw: Path, dataset: Dataset) -> dict[str, pd.DataFrame]:
    return {dataset.name: data.read_prices(require(raw / PRICES_FILE, "ingest", dataset))}


class Series(NamedTuple):
    """One series of a dataset: its name, feature rows in time order, dates (or none), its
    calendar's pandas frequency (or none), its season (or none) and its target column."""

    name: str
    values: np.ndarray
    dates: np.ndarray
    frequency: str | None = None
    season: int | None = None
    target_index: int = 0  # the target's column in values
    target: str = "Close"  # its name in the file


def series(tables: dict[str, pd.DataFrame], dataset: Dataset) -> list[Series]:
    """The validated raw table's series (a single one is named as its dataset): each one's
    feature columns and dates on a regular calendar (preprocess.gaps), checked against the
    preprocess settings."""
    (table,) = tables.values()
    p = resolved(settings(dataset).preprocess, table, dataset)
    freq, season = calendar(table, p, dataset)
    return [_series(*part, p, freq, season, dataset) for part in _parts(table, dataset, p, freq)]


def _series(
    name: str,
    table: pd.DataFrame,
    which: str,
    p: ForecastPreprocess,
    frequency: str | None,
    season: int | None,
    dataset: Dataset,
) -> Series:
    """One series' feature rows (on its calendar) and dates; an error naming the series
    (`which`) where they do not fit the settings."""
    assert p.features is not None, "resolved"
    where = f"datasets.{dataset.task}.{dataset.name}"
    try:
        values = table[list(p.features)].to_numpy(dtype=np.float64)
    except ValueError as err:
        raise LstmopsError(f"{where}: a feature column is not numeric ({err}).") from None
    long_enough(len(values), dataset, season, which)
    if p.inputs == "return" and (values <= 0).any():
        columns = [c for c, bad in zip(p.features, (values <= 0).any(axis=0), strict=True) if bad]
        raise LstmopsError(
            f"{dataset.task}.preprocess.inputs is 'return' but {which}{', '.join(columns)} has zero "
            "or negative values, whose day-over-day return is undefined. Drop the column from "
            f"{dataset.task}.preprocess.features or set inputs to 'level' (or predict a change)."
        )
    dates = table[data.DATE].to_numpy(dtype=str) if data.DATE in table else np.array([], dtype=str)
    values = with_calendar(values, dates, frequency, p, where)
    target = str(p.target)
    return Series(name, values, dates, frequency, season, p.features.index(target), target)


def with_calendar(
    values: np.ndarray, dates: np.ndarray, frequency: str | None, p: ForecastPreprocess, where: str
) -> np.ndarray:
    """A series' feature rows with the calendar features of p.calendar after them (none: as
    they are); the same for training, the forecast stage and predict."""
    if not p.calendar:
        return values
    if not len(dates):
        raise LstmopsError(
            f"{where}: preprocess.calendar needs dates, and the table has none: add a Date column "
            "or set calendar to []."
        )
    return np.hstack([values, cal.known_ahead(dates, frequency, p.calendar, p.holidays)])


def preprocess(tables: dict[str, pd.DataFrame], dataset: Dataset, out: Path) -> str:
    """Windows, the chronological split and the scalers fitted on the training rows."""
    p, panel = settings(dataset).preprocess, series(tables, dataset)
    season, target = panel[0].season, panel[0].target_index
    splits = [f.split_windows(len(s.values), p, season) for s in panel]
    # each series split and scaled on its own training rows (a single series: a panel of one)
    names = [s.name for s in panel]
    arrays, scaling = f.panel_arrays(
        [s.values for s in panel], [n for n, _ in splits], names, p, target, season
    )
    if len(panel[0].dates):  # the day each test forecast is for, at each step ahead
        arrays["dates_test"] = np.concatenate(
            [
                np.stack(
                    [
                        s.dates[len(s.dates) - n_test - p.horizon + k :][:n_test]
                        for k in range(1, p.horizon + 1)
                    ],
                    1,
                )
                for s, (_, n_test) in zip(panel, splits, strict=True)
            ]
        )
    np.savez(out / ARRAYS, **arrays)  # type: ignore[arg-type]  # numpy's stub: arrays by name
    joblib.dump(scaling, out / SCALING_FILE)
    n_train, n_test = (sum(part) for part in zip(*splits, strict=True))
    many = f" in {len(panel)} series" if dataset.panel else ""
    return f"{n_train} train and {n_test} test windows{many}"


def load_scaling(processed: Path) -> f.PanelScaling:
    """The scalers preprocess fitted, one per series."""
    return joblib.load(processed / SCALING_FILE)
