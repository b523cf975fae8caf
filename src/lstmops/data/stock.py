"""The lecture's stock file: daily GOOG prices, newest first, two `#` comment lines, no header."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from lstmops.config import STOCK_COLUMNS, LstmopsError

RAW_FILE = "prices.csv"


def _header_from_comments(lines: list[str]) -> list[str] | None:
    """The column names the file declares in its last `#` comment line, if it declares any."""
    for line in reversed(lines):
        body = line.lstrip("#").strip()
        if line.startswith("#") and "," in body and "://" not in body:
            return [name.strip() for name in body.split(",")]
    return None


def parse_prices(text: str) -> pd.DataFrame:
    """Parse the file as it is: comment lines, CRLF or LF, no header row, rows newest first.

    Structure problems (wrong delimiter, ragged rows, no content) are errors here; value problems
    (non-numeric cells, gaps, impossible prices) are left in the table for the validate stage to name.
    """
    text = text.lstrip("\ufeff")
    lines = text.splitlines()
    comments = [line for line in lines if line.startswith("#")]
    body = "\n".join(line for line in lines if line.strip() and not line.startswith("#"))
    if not body:
        raise LstmopsError(
            "the stock file has no data rows (empty, or only comment/header lines); "
            "expected rows of Open,High,Low,Volume,Close. Replace it with the canonical file."
        )
    names = _header_from_comments(comments) or list(STOCK_COLUMNS)
    try:
        table = pd.read_csv(io.StringIO(body), header=None, dtype=str, keep_default_na=False)
    except pd.errors.ParserError as err:
        raise LstmopsError(
            f"the stock file is not a {len(STOCK_COLUMNS)}-column CSV ({err}); each row must be "
            f"{','.join(STOCK_COLUMNS)} separated by commas."
        ) from None
    if table.shape[1] != len(names):
        raise LstmopsError(
            f"the stock file has {table.shape[1]} comma-separated column(s) per row but declares "
            f"{len(names)} ({','.join(names)}); rows must be {','.join(STOCK_COLUMNS)} separated by "
            "commas (is the delimiter something else?)."
        )
    table.columns = names
    return table.apply(_to_number)


def _to_number(column: pd.Series) -> pd.Series:
    """Numbers where every non-empty cell is one; else the column stays text for validation to flag."""
    cells = column.str.strip().replace("", None)
    numbers = pd.to_numeric(cells, errors="coerce")
    return numbers if numbers.isna().equals(cells.isna()) else cells


def read_prices(path: Path) -> pd.DataFrame:
    """Read a parsed raw table written by `ingest` (header row, original file order).

    Only empty cells are missing; text such as "n/a" stays text, for validation to name as non-numeric.
    """
    return pd.read_csv(path, keep_default_na=False, na_values=[""])
