"""Daily price files: the lecture's (header-less, newest first) and CSV with a header and dates.

Structure problems (no rows, wrong delimiter, a missing column, bad or repeated dates) are errors
here; value problems (non-numeric cells, gaps, impossible prices) are left in the table for the
expectations to name. Every table comes back in time order.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from lstmops.config import PRICE_COLUMNS, SERIES, SERIES_NAMES, LstmopsError, series_column
from lstmops.data.calendar import stamp
from lstmops.io import read_text

DATE = "Date"  # the raw table's date column, where the source has dates
DATE_NAMES = ("date", "datetime", "timestamp", "time", "day", "ds")  # matched case-insensitively


def _header_from_comments(lines: list[str]) -> list[str] | None:
    """The column names the file declares in its last `#` comment line, if it declares any."""
    for line in reversed(lines):
        body = line.lstrip("#").strip()
        if line.startswith("#") and "," in body and "://" not in body:
            return [name.strip() for name in body.split(",")]
    return None


def parse_lecture(text: str) -> pd.DataFrame:
    """The lecture's format: `#` comment lines, CRLF or LF, no header row, rows newest first.

    Returned oldest first (the file's order reversed).
    """
    text = text.lstrip("\ufeff")
    lines = text.splitlines()
    comments = [line for line in lines if line.startswith("#")]
    body = "\n".join(line for line in lines if line.strip() and not line.startswith("#"))
    if not body:
        raise LstmopsError(
            "the price file has no data rows (empty, or only comment/header lines); "
            "expected rows of Open,High,Low,Volume,Close. Replace it with the canonical file."
        )
    names = _header_from_comments(comments) or list(PRICE_COLUMNS)
    try:
        table = pd.read_csv(io.StringIO(body), header=None, dtype=str, keep_default_na=False)
    except pd.errors.ParserError as err:
        raise LstmopsError(
            f"the price file is not a {len(PRICE_COLUMNS)}-column CSV ({err}); each row must be "
            f"{','.join(PRICE_COLUMNS)} separated by commas."
        ) from None
    if table.shape[1] != len(names):
        raise LstmopsError(
            f"the price file has {table.shape[1]} comma-separated column(s) per row but declares "
            f"{len(names)} ({','.join(names)}); rows must be {','.join(PRICE_COLUMNS)} separated by "
            "commas (is the delimiter something else?)."
        )
    table.columns = names
    return table.apply(_to_number).iloc[::-1].reset_index(drop=True)


def _hint(columns: pd.Index) -> str:
    """Why a header lacks the price columns: another delimiter where it is one column holding
    one, else a table of something other than prices (which the series task takes)."""
    other = [d for d in ";\t|" if len(columns) == 1 and d in str(columns[0])]
    if other:
        return f"Its one column holds {other[0]!r}: is the delimiter {other[0]!r}, not a comma?"
    return (
        "A series of another kind (demand, sales, counts) is declared under datasets.series, "
        "which takes any numeric column as its target."
    )


def parse_csv(
    text: str, series: str | None = None, required: tuple[str, ...] = PRICE_COLUMNS
) -> pd.DataFrame:
    """A CSV with a header row: parse_table of its cells."""
    try:
        table = pd.read_csv(
            io.StringIO(text.lstrip("\ufeff")), dtype=str, keep_default_na=False, comment=None
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise LstmopsError(
            f"the {_what(required)} is not a CSV with a header row ({err})."
        ) from None
    return parse_table(table, series, required)


def _what(required: tuple[str, ...]) -> str:
    return "price file" if required else "file"


def parse_table(
    table: pd.DataFrame, series: str | None = None, required: tuple[str, ...] = PRICE_COLUMNS
) -> pd.DataFrame:
    """A table of text cells, as finance sites and most tools export it: a date column (Date,
    timestamp, …), the `required` columns (a price file's Open, High, Low, Close and Volume)
    matched by name whatever their case, other columns kept (an `Adj Close`, a temperature), rows
    in either time order. A column naming each row's series (`series`, or one
    config.SERIES_NAMES names) makes it a panel.

    Returned in date order (a panel: by series, then date), the date column as `Date` (ISO), a
    panel's series column as `Series`, the required columns named as above, numbers as numbers.
    """
    what = _what(required)
    if table.empty:
        raise LstmopsError(f"the {what} has a header but no data rows.")
    by_name = {str(c).strip().lower(): c for c in table.columns}
    missing = [c for c in required if c.lower() not in by_name]
    if missing:
        raise LstmopsError(
            f"the price file has no {', '.join(missing)} column (its columns: "
            f"{', '.join(map(str, table.columns))}); it needs Open, High, Low, Close and Volume "
            f"(any case), and a date column. {_hint(table.columns)}"
        )
    dates = next((by_name[n] for n in DATE_NAMES if n in by_name), None)
    if dates is None:
        lecture = (
            " Without dates, declare the source with `format: lecture` (no header, newest first)."
        )
        raise LstmopsError(
            f"the {what} has no date column (one named {', '.join(DATE_NAMES)}, any case; its "
            f"columns: {', '.join(map(str, table.columns))}).{lecture if required else ''}"
        )
    names = series_column(list(table.columns), series)
    if series is not None and names is None:
        raise LstmopsError(
            f"the source declares `series: {series}`, but the file has no such column (its "
            f"columns: {', '.join(map(str, table.columns))}). Name the column that holds each "
            "row's series."
        )
    renamed = {by_name[c.lower()]: c for c in required}
    others = [c for c in table.columns if c not in renamed and c not in (dates, names)]
    out = table[others].apply(_to_number)
    for original, name in renamed.items():
        out[name] = _to_number(table[original])
    keys = [DATE]
    if names is not None:
        labels = table[names].str.strip()
        if (labels == "").any():
            row = int((labels == "").idxmax())
            raise LstmopsError(
                f"row {row + 2} of the {what} has no series in its {names} column: each row "
                "names its series. Fill it in or remove the row."
            )
        out.insert(0, SERIES, labels)
        keys = [SERIES, DATE]
    out.insert(len(keys) - 1, DATE, _dates(table[dates], out.get(SERIES), what))
    out = out[[*keys, *required, *others]]
    return out.sort_values(keys, kind="stable").reset_index(drop=True)


def parse_folder(folder: Path, required: tuple[str, ...] = PRICE_COLUMNS) -> pd.DataFrame:
    """A folder of CSVs, one series each, named by its file (AAPL.csv is AAPL): one panel."""
    files = sorted(folder.glob("*.csv"))
    if not files:
        raise LstmopsError(
            f"{folder} holds no .csv files: a folder source holds one CSV per series."
        )
    tables = []
    for file in files:
        try:
            table = parse_csv(read_text(file), None, required)
        except LstmopsError as err:
            raise LstmopsError(f"{file.name}: {err}") from None
        if SERIES in table:
            raise LstmopsError(
                f"{file.name} has a series column ({', '.join(SERIES_NAMES)}): in a folder "
                "source each file is one series, named by the file. Split it, or declare the file "
                "itself as the source."
            )
        table.insert(0, SERIES, file.stem)
        tables.append(table)
    return pd.concat(tables, ignore_index=True)


def _dates(
    column: pd.Series, series: pd.Series | None = None, what: str = "price file"
) -> pd.Series:
    """ISO dates; an unparsable date, or one repeated (within a series), is an error naming its
    first row."""
    parsed = pd.to_datetime(column.str.strip(), errors="coerce", format="mixed")
    bad = parsed.isna()
    if bad.any():
        row = int(bad.idxmax())
        raise LstmopsError(
            f"row {row + 2} of the {what} has the date {column[row]!r}, which does not parse "
            "as a date (e.g. 2016-01-04). Fix or remove the row."
        )
    keys = parsed.to_frame() if series is None else pd.DataFrame({"s": series, "d": parsed})
    repeated = keys.duplicated(keep=False)
    if repeated.any():
        rows = [int(i) + 2 for i in parsed.index[repeated][:2]]
        within = "" if series is None else f" for series {series[rows[0] - 2]}"
        raise LstmopsError(
            f"rows {rows[0]} and {rows[1]} of the {what} have the same date "
            f"{stamp(parsed[rows[0] - 2])}{within}: each date may appear once. Remove the duplicate."
        )
    return parsed.map(stamp)


def _to_number(column: pd.Series) -> pd.Series:
    """Numbers where every non-empty cell is one; else the column stays text for validation to flag."""
    cells = column.str.strip().replace("", None)
    numbers = pd.to_numeric(cells, errors="coerce")
    return numbers if numbers.isna().equals(cells.isna()) else cells


def read_prices(path: Path) -> pd.DataFrame:
    """Read a raw table written by `ingest` (header row, time order).

    Only empty cells are missing; text such as "n/a" stays text, for validation to name as non-numeric.
    """
    return pd.read_csv(path, keep_default_na=False, na_values=[""], dtype={DATE: str, SERIES: str})
