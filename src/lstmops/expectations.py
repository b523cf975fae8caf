"""The Great Expectations suites of the raw tables, and running one on a table.

The task's `checks` modules build their suite here; ingest runs it before the new raw data may
replace the last good data, and validate only where ingest's outcome does not hold for the raw
data it finds (see validation.py). Importing Great Expectations takes seconds, so only these do.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
from collections.abc import Callable, Iterator

import pandas as pd

from lstmops.config import PRICE_COLUMNS
from lstmops.validation import Check

# Great Expectations imports PySpark and SQLAlchemy wherever they are installed (PySpark comes with
# the dev tools, SQLAlchemy with MLflow), though a pandas table needs neither: hidden while it
# imports, each ingest starts 0.5 s sooner. A process that imported them before keeps them.
OPTIONAL_BACKENDS = ("pyspark", "sqlalchemy")


@contextlib.contextmanager
def _hidden(modules: tuple[str, ...]) -> Iterator[None]:
    """Imports of `modules` fail as if they were not installed, unless imported already."""
    hidden = [name for name in modules if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # Python's "not importable" mark
    try:
        yield
    finally:
        for name in hidden:
            if sys.modules.get(name, False) is None:
                del sys.modules[name]


os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
with _hidden(OPTIONAL_BACKENDS):
    import great_expectations as gx
    import great_expectations.expectations as gxe
    from great_expectations.data_context.types.base import ProgressBarsConfig

NOT_FINITE = [float("inf"), float("-inf")]  # "inf" in a CSV reads as a number, but is no price
NUMERIC_TYPES = ["int64", "float64", "Int64", "Float64", "int32", "float32"]


MIN_PRICE_ROWS = 2  # one day-over-day step; whether a series is long enough for its windows and
# test period depends on the settings: ingest and preprocess check that (features.split_windows)
ORDER_COLUMN = "open_nearer_previous_close"
MIN_ORDERLY_SHARE = 0.5  # the lecture file: 0.77; the same rows reversed in time: 0.23


def price_expectations(date: str | None = None, series: str | None = None) -> list[gxe.Expectation]:
    """The price columns' values; `date`, the date column where the table has one, never null;
    `series`, a panel's series column, too (and a row repeated only within its series counts)."""
    suite: list[gxe.Expectation] = []
    # The five price columns; a date and other columns (an Adj Close) may stand beside them.
    suite.append(
        gxe.ExpectTableColumnsToMatchSet(column_set=list(PRICE_COLUMNS), exact_match=False)
    )
    suite.append(gxe.ExpectTableRowCountToBeBetween(min_value=MIN_PRICE_ROWS))
    for column in (date, series):
        if column is not None:
            suite.append(gxe.ExpectColumnValuesToNotBeNull(column=column))
    for column in PRICE_COLUMNS:
        suite.extend(_numbers(column))
    suite.append(gxe.ExpectColumnValuesToBeBetween(column="Volume", min_value=0))
    # Prices are positive (Low is the smallest of the four); returns divide by them.
    suite.append(gxe.ExpectColumnValuesToBeBetween(column="Low", min_value=0, strict_min=True))
    for high, low in [
        ("High", "Low"),
        ("High", "Open"),
        ("Open", "Low"),
        ("High", "Close"),
        ("Close", "Low"),
    ]:
        suite.append(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A=high, column_B=low, or_equal=True)
        )
    within = [series] if series else []
    suite.append(gxe.ExpectCompoundColumnsToBeUnique(column_list=[*within, *PRICE_COLUMNS]))
    return suite


def series_expectations(
    columns: list[str], date: str | None = None, series: str | None = None
) -> list[gxe.Expectation]:
    """Any numeric series: its target and feature `columns` are finite numbers in every row (zeros,
    negatives, repeats and constant stretches are data); `date` and `series` never null."""
    suite: list[gxe.Expectation] = [gxe.ExpectTableRowCountToBeBetween(min_value=MIN_PRICE_ROWS)]
    for column in (date, series):
        if column is not None:
            suite.append(gxe.ExpectColumnValuesToNotBeNull(column=column))
    for column in columns:
        suite.extend(_numbers(column))
    return suite


def _numbers(column: str) -> list[gxe.Expectation]:
    """A column of finite numbers in every row."""
    return [
        gxe.ExpectColumnValuesToBeInTypeList(column=column, type_list=NUMERIC_TYPES),
        gxe.ExpectColumnValuesToNotBeNull(column=column),
        gxe.ExpectColumnValuesToNotBeInSet(column=column, value_set=NOT_FINITE),
    ]


def time_order(table: pd.DataFrame) -> pd.DataFrame | None:
    """For a series without dates: whether each day's Open lies nearer the previous day's Close
    than the next day's, as it does in real daily prices. None where the columns are not numbers."""
    try:
        open_, close = (table[c].astype(float).to_numpy() for c in ("Open", "Close"))
    except (KeyError, TypeError, ValueError):
        return None
    previous, following = abs(open_[1:-1] - close[:-2]), abs(open_[1:-1] - close[2:])
    return pd.DataFrame({ORDER_COLUMN: (previous < following).astype(float)})


def order_expectations() -> list[gxe.Expectation]:
    return [gxe.ExpectColumnMeanToBeBetween(column=ORDER_COLUMN, min_value=MIN_ORDERLY_SHARE)]


def review_expectations(
    rows: int | None, balance_tolerance: float, ratings: bool
) -> list[gxe.Expectation]:
    """Labels, texts and ids of one split; `rows` exactly, when given; the ratings' agreement with
    the labels (neg 1-4, pos 7-10) where the source has ratings."""
    suite: list[gxe.Expectation] = []
    suite.append(
        gxe.ExpectTableColumnsToMatchSet(column_set=["id", "rating", "label", "text", "group"])
    )
    if rows is None:
        suite.append(gxe.ExpectTableRowCountToBeBetween(min_value=2))
    else:
        suite.append(gxe.ExpectTableRowCountToEqual(value=rows))
    # Value-set and mean expectations skip nulls, so a blank label needs its own.
    suite.append(gxe.ExpectColumnValuesToNotBeNull(column="label"))
    suite.append(gxe.ExpectColumnValuesToBeInSet(column="label", value_set=[0, 1]))
    suite.append(
        gxe.ExpectColumnMeanToBeBetween(
            column="label", min_value=0.5 - balance_tolerance, max_value=0.5 + balance_tolerance
        )
    )
    suite.append(gxe.ExpectColumnValuesToNotBeNull(column="text"))
    suite.append(gxe.ExpectColumnValuesToNotMatchRegex(column="text", regex=r"^\s*$"))
    if ratings:
        suite.append(gxe.ExpectColumnValuesToNotBeNull(column="rating"))
        for label, low, high in [(0, 1, 4), (1, 7, 10)]:
            suite.append(
                gxe.ExpectColumnValuesToBeBetween(
                    column="rating",
                    min_value=low,
                    max_value=high,
                    row_condition=f"label=={label}",
                    condition_parser="pandas",
                )
            )
    suite.append(gxe.ExpectColumnValuesToNotBeNull(column="id"))
    suite.append(gxe.ExpectCompoundColumnsToBeUnique(column_list=["label", "id"]))
    return suite


def unsup_expectations(rows: int | None) -> list[gxe.Expectation]:
    """The unlabelled texts: the same columns, texts present, ids unique, no labels (a labelled
    review there would be unused, or, worse, a test review in the wrong place); `rows` exactly, when
    given (any number, none included, otherwise: a source need not have any)."""
    suite: list[gxe.Expectation] = [
        gxe.ExpectTableColumnsToMatchSet(column_set=["id", "rating", "label", "text", "group"])
    ]
    if rows is not None:
        suite.append(gxe.ExpectTableRowCountToEqual(value=rows))
    suite.append(gxe.ExpectColumnValuesToBeNull(column="label"))
    suite.append(gxe.ExpectColumnValuesToNotBeNull(column="text"))
    suite.append(gxe.ExpectColumnValuesToNotMatchRegex(column="text", regex=r"^\s*$"))
    suite.append(gxe.ExpectColumnValuesToNotBeNull(column="id"))
    suite.append(gxe.ExpectColumnValuesToBeUnique(column="id"))
    return suite


def _plain(value: object) -> object:
    """numpy scalars, nested lists and infinities -> plain Python and strict JSON, for messages."""
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    value = value.item() if hasattr(value, "item") else value
    return str(value) if isinstance(value, float) and not math.isfinite(value) else value


def _detail(result: dict, locate: Callable[[list[int]], str] | None = None) -> str:
    if result.get("exception_info", {}).get("raised_exception"):
        return f"could not be evaluated: {result['exception_info']['exception_message']}"
    res = result.get("result", {})
    if "unexpected_count" in res:
        sample = _plain(res.get("partial_unexpected_list", [])[:5])
        text = f"{res['unexpected_count']} unexpected value(s)"
        rows = res.get("partial_unexpected_index_list") or []
        if locate is not None and rows and not result["success"]:
            text += f", {locate(rows)}"
        return text + (f", e.g. {sample}" if sample and not result["success"] else "")
    if "observed_value" in res:
        return f"observed {res['observed_value']}"
    if "details" in res:
        return str(res["details"])
    return "ok" if result["success"] else "failed"


def run_suite(
    table: pd.DataFrame,
    expectations: list[gxe.Expectation],
    table_name: str,
    locate: Callable[[list[int]], str] | None = None,
) -> list[Check]:
    """Validate `table` with an ephemeral Great Expectations context; one Check per expectation.
    `locate` says where the failing rows are (given their index), for a table of many series."""
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)  # one table: no bars
    suite = gx.ExpectationSuite(name=table_name, expectations=expectations)
    asset = context.data_sources.add_pandas("pandas").add_dataframe_asset(name=table_name)
    batch = asset.add_batch_definition_whole_dataframe("all").get_batch(
        batch_parameters={"dataframe": table}
    )
    outcome = batch.validate(suite, result_format="SUMMARY").to_json_dict()
    checks = []
    for result in outcome["results"]:
        config = result["expectation_config"]
        kwargs = {
            k: _plain(v)
            for k, v in config["kwargs"].items()
            if k not in ("batch_id", "condition_parser")
        }
        condition = kwargs.get("row_condition")
        if isinstance(condition, dict):  # GX's wrapped form -> the condition text
            kwargs["row_condition"] = condition.get("pass_through_filter")
        checks.append(
            Check(
                table_name, config["type"], kwargs, bool(result["success"]), _detail(result, locate)
            )
        )
    return checks
