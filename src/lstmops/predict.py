"""`python -m lstmops predict <dataset> INPUT OUTPUT`: a file scored with the dataset's champion.

Reviews stream through in chunks (CSV or Parquet, by extension), so a file larger than memory
works; a price file is read whole, in any format ingest accepts (a century of days is 25,000 rows),
and forecast in chunks. The output is written beside its final path and renamed when complete:
a bad row or a failure leaves no half-written file, and an earlier file of that name untouched.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import mlflow.pyfunc
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from mlflow.exceptions import MlflowException
from pyarrow.lib import ArrowException
from tqdm import tqdm

from lstmops import serving, tracking
from lstmops.config import SERIES, Dataset, LstmopsError, load_params
from lstmops.data import prices
from lstmops.data.calendar import stamp, step_after
from lstmops.features import history_rows
from lstmops.io import atomic_path, read_text
from lstmops.serving import InvalidInput
from lstmops.tasks.timeseries import score as task
from lstmops.tasks.timeseries.data import REQUIRED, calendar, resolved, settings, with_calendar

CHUNK_ROWS = 10_000  # rows read and scored at once: the memory bound
FORMATS = (".csv", ".parquet")


def _kind(path: Path, role: str) -> str:
    if path.suffix.lower() not in FORMATS:
        raise LstmopsError(
            f"{role} {path} is neither .csv nor .parquet: name the file with one of those extensions."
        )
    return path.suffix.lower()


def chunks(path: Path, rows: int) -> Iterator[pd.DataFrame]:
    """The table at `path` in chunks of `rows`, each indexed by its rows' numbers in the file
    (from 0, the header not counted)."""
    if _kind(path, "input") == ".csv":
        # every line a row, a blank one too (pandas would drop it and shift the row numbers)
        yield from pd.read_csv(
            path, chunksize=rows, dtype={"text": object}, keep_default_na=False,
            skip_blank_lines=False,
        )  # fmt: skip
        return

    start = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=rows):
        table = batch.to_pandas()
        table.index = pd.RangeIndex(start, start + len(table))
        start += len(table)
        yield table


class _Writer:
    """Appends chunks to a CSV or Parquet file."""

    def __init__(self, path: Path, kind: str) -> None:
        self.path, self.kind, self.parquet = path, kind, None

    def write(self, table: pd.DataFrame) -> None:
        if self.kind == ".csv":
            header = not self.path.exists()
            table.to_csv(self.path, mode="a", header=header, index=False)
            return

        batch = pa.Table.from_pandas(table, preserve_index=False)
        if self.parquet is None:
            self.parquet = pq.ParquetWriter(self.path, batch.schema)
        self.parquet.write_table(batch)  # type: ignore[attr-defined]  # made above

    def close(self) -> None:
        if self.parquet is not None:
            self.parquet.close()


def review_scores(model, table: pd.DataFrame, name: str) -> pd.DataFrame:
    """The chunk's row numbers, its other columns, and each review's probability and label; a
    bad row is named by its number in the file `name`."""

    if "text" not in table:
        raise LstmopsError(
            f'the table has no "text" column (its columns: {", ".join(map(str, table.columns))}): '
            "name the column of review texts text."
        )
    try:
        serving.review_texts(table[["text"]], first_row=int(table.index[0]))
    except serving.InvalidInput as err:
        raise LstmopsError(
            f"{name} {err.message} (rows count from 0, the header not counted)"
        ) from None
    scores = model.predict(table[["text"]].reset_index(drop=True))
    kept = table.drop(columns=["text"]).reset_index(names="row").reset_index(drop=True)
    return pd.concat([kept, scores], axis=1)


def price_table(path: Path, dataset: Dataset) -> pd.DataFrame:
    """The price file parsed as ingest parses it: a single series, or (for a dataset of many
    series) a panel with a Series column."""

    if path.suffix.lower() != ".csv":
        raise LstmopsError(
            f"{path}: a price file is a CSV, with a header and dates or in the lecture's format."
        )
    kind = "lecture" if _headerless(path) else "csv"
    try:
        text = read_text(path)
        table = (
            prices.parse_lecture(text)
            if kind == "lecture"
            else prices.parse_csv(text, dataset.source.series, REQUIRED[dataset.task])
        )
    except (ValueError, LstmopsError) as err:
        raise LstmopsError(f"{path} is not a price file ingest reads: {err}") from None
    if (SERIES in table) != dataset.panel:
        raise LstmopsError(
            f"{path} holds many series, and {dataset.name}'s model forecasts one: give it one "
            "series' rows."
            if SERIES in table
            else f"{dataset.name}'s model forecasts many series: name each row's series in a "
            f"column of {path} (as in its source: Ticker, Symbol, Series or id)."
        )
    return table


def price_windows(
    table: pd.DataFrame, path: Path, dataset: Dataset
) -> tuple[np.ndarray, pd.DataFrame, str | None]:
    """Every window of one series' rows in dollars, each window's last row number, date (where
    the file has dates) and close (read whole: the served model computes in slices), and the
    series' calendar frequency (or None)."""

    try:
        p = resolved(settings(dataset).preprocess, table, dataset)
        frequency, season = calendar(table, p, dataset)
        rows = history_rows(p, season)
    except LstmopsError as err:
        raise LstmopsError(f"{path}: {err}") from None
    assert p.features is not None and p.target is not None, "resolved"
    values = table[list(p.features)].to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(values).all(axis=1))
    if len(bad):
        raise LstmopsError(
            f"{path} row {bad[0]}: a value of {', '.join(p.features)} is missing or not a number."
        )
    if len(values) < rows:
        raise LstmopsError(f"{path} has {len(values)} rows: a forecast needs {rows}.")
    dates = table[prices.DATE].to_numpy(dtype=str) if prices.DATE in table else None
    where = f"datasets.{dataset.task}.{dataset.name}"
    values = with_calendar(values, np.array([]) if dates is None else dates, frequency, p, where)
    close = values[:, p.features.index(p.target)]
    last = np.arange(rows - 1, len(values))
    facts = {
        "row": last,
        **({"date": dates[last]} if dates is not None else {}),
        "close": close[last],
    }
    return task.windows_ending(values, last, rows), pd.DataFrame(facts), frequency


def price_forecasts(model, path: Path, dataset: Dataset, bar) -> pd.DataFrame:
    """Every day's forecasts of each step ahead (a row each), with intervals calibrated on the
    model's errors at that step over the forecast.window days before (as evaluate's); blank
    bounds where fewer are known than the coverage needs. Where the file has dates, each
    forecast's date (forecast_date) by the series' calendar. A panel's: each series' (rows count
    within their series), named."""

    table = price_table(path, dataset)
    one = [(None, table)] if SERIES not in table else table.groupby(SERIES, sort=False)
    parts = []
    for name, rows in one:
        windows, facts, frequency = price_windows(rows.reset_index(drop=True), path, dataset)
        params = None if name is None else {"series": name}
        served = model.predict(windows, params=params)
        steps = int(served["step"].max())
        part = facts.loc[facts.index.repeat(steps)].reset_index(drop=True)
        part["step"], part["forecast"] = served["step"].to_numpy(), served["forecast"].to_numpy()
        close = facts["close"].to_numpy()
        forecast = part["forecast"].to_numpy().reshape(len(facts), steps)
        lower, upper = np.empty_like(forecast), np.empty_like(forecast)
        for k in range(steps):  # the value k + 1 steps on; the last ones are not known yet
            following = np.concatenate([close[k + 1 :], np.full(k + 1, np.nan)])
            lower[:, k], upper[:, k] = task.interval(dataset).bounds(
                forecast[:, k], close, following, [], k
            )
        part["lower"], part["upper"] = lower.ravel(), upper.ravel()
        if "date" in part:
            offset = step_after(frequency)
            dates = pd.to_datetime(part["date"])
            part["forecast_date"] = [
                stamp(d + offset * k) for d, k in zip(dates, part["step"], strict=True)
            ]
        if name is not None:
            part.insert(0, "series", name)
        parts.append(part)
        bar.update(len(facts))
    return pd.concat(parts, ignore_index=True)


def _headerless(path: Path) -> bool:
    """A lecture-format file: its first line is a # comment or numbers, not a header."""
    with open(path, encoding="utf-8", errors="replace") as f:
        first = f.readline().strip()
    return first.startswith("#") or first[:1].isdigit()


def predict(
    dataset: str, input: str, output: str, model: str | None = None, chunk_rows: int = CHUNK_ROWS
) -> str:
    """Score INPUT with the dataset's champion (or `model`, an MLflow model URI or folder) into
    OUTPUT; a line saying how many rows, how fast."""

    declared = load_params().dataset(dataset)
    source, target = Path(input), Path(output)
    if not source.is_file():
        raise LstmopsError(
            f"input {source} does not exist: give the path of a CSV or Parquet file."
        )
    kind = _kind(target, "output")
    uri = model or tracking.champion_uri(dataset)
    tracking.use_store(dataset, create=False)
    try:
        pyfunc = mlflow.pyfunc.load_model(uri)
    except (MlflowException, OSError) as err:
        raise LstmopsError(f"cannot load the model {uri}: {str(err).splitlines()[0]}") from None
    started, done = time.perf_counter(), 0
    with atomic_path(target) as tmp, tqdm(unit=" rows", desc=f"predict {dataset}") as bar:
        writer = _Writer(tmp, kind)
        try:
            if declared.task == "sentiment":
                for table in chunks(source, chunk_rows):
                    writer.write(review_scores(pyfunc, table, source.name))
                    done += len(table)
                    bar.update(len(table))
            else:
                table = price_forecasts(pyfunc, source, declared, bar)
                for start in range(0, len(table), chunk_rows):
                    writer.write(table.iloc[start : start + chunk_rows])
                done = len(table)
        except (pd.errors.ParserError, UnicodeDecodeError, ArrowException) as err:
            raise LstmopsError(f"{source} cannot be read as a table: {err}") from None
        except InvalidInput as err:  # the model's own refusal, e.g. of an old model
            raise LstmopsError(f"{uri}: {err.message}") from None
        finally:
            writer.close()
        if not done:
            raise LstmopsError(f"{source} has no rows to score: nothing was written.")
    seconds = time.perf_counter() - started
    return f"predict {dataset}: {done} rows in {seconds:.1f} s ({done / seconds:.0f} rows/s) -> {target}"
