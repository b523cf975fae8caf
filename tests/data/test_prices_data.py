"""Data tests on price files: the lecture's real file and a finance-site CSV parse and pass; planted
faults fail with the right message."""

import numpy as np
import pandas as pd
import pytest

from lstmops.config import LstmopsError
from lstmops.data.prices import parse_csv, parse_lecture
from lstmops.expectations import (
    MIN_PRICE_ROWS,
    order_expectations,
    price_expectations,
    run_suite,
    time_order,
)
from lstmops.validation import failure_message


def _validate(text: str):
    return run_suite(parse_lecture(text), price_expectations(), "stock")


def _failed(text: str) -> str:
    checks = _validate(text)
    assert not all(c.success for c in checks), "validation should have failed"
    return failure_message("stock", checks)


def _edit_row(text: str, row: int, column: int, value: str) -> str:
    """Replace one cell of the `row`-th data row (0 = newest) of the lecture file."""
    lines = text.split("\r\n")
    data = [i for i, line in enumerate(lines) if line and not line.startswith("#")]
    cells = lines[data[row]].split(",")
    cells[column] = value
    lines[data[row]] = ",".join(cells)
    return "\r\n".join(lines)


def test_real_file_parses_oldest_first_and_passes(stock_text):
    table = parse_lecture(stock_text)
    assert list(table.columns) == ["Open", "High", "Low", "Volume", "Close"]
    assert len(table) == 732
    assert table["Close"].iloc[-1] == pytest.approx(831.659973)  # the file's first row: the newest
    assert all(c.success for c in _validate(stock_text))
    (order,) = run_suite(time_order(table), order_expectations(), "order")
    assert order.success and float(order.detail.split()[-1]) > 0.7  # Opens follow the last Close


def test_a_series_running_backwards_is_caught(stock_text):
    lines = stock_text.split("\r\n")
    backwards = "\r\n".join(
        lines[:2] + lines[2:][::-1]
    )  # oldest first: the wrong way for this format
    (order,) = run_suite(time_order(parse_lecture(backwards)), order_expectations(), "order")
    assert not order.success and float(order.detail.split()[-1]) < 0.3


def _finance_csv(stock_text: str) -> str:
    """The lecture's rows as a finance site exports them: dated, oldest first, an Adj Close."""
    table = parse_lecture(stock_text)
    dates = pd.bdate_range("2014-03-27", periods=len(table)).strftime("%Y-%m-%d")
    rows = [
        f"{d},{r.Open},{r.High},{r.Low},{r.Close},{r.Close * 0.9},{int(r.Volume)}"
        for d, r in zip(dates, table.itertuples(), strict=True)
    ]
    return "\n".join(["date,OPEN,High,low,Close,Adj Close,Volume", *rows]) + "\n"


def test_a_finance_csv_reads_in_date_order_whatever_the_row_order(stock_text):
    text = _finance_csv(stock_text)
    header, *rows = text.strip().split("\n")
    shuffled = "\n".join([header, *pd.Series(rows).sample(frac=1, random_state=0)])
    table, again = parse_csv(text), parse_csv(shuffled)
    assert list(table.columns) == ["Date", "Open", "High", "Low", "Volume", "Close", "Adj Close"]
    assert table.equals(again) and table["Date"].is_monotonic_increasing
    np.testing.assert_array_equal(
        table[["Open", "Close"]].to_numpy(), parse_lecture(stock_text)[["Open", "Close"]].to_numpy()
    )
    assert all(c.success for c in run_suite(table, price_expectations(), "acme"))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace(",Volume", ",Vol"), "no Volume column"),
        (lambda t: t.replace("date,", "when,"), "no date column"),
        (lambda t: t.replace("2014-03-28", "2014-03-27"), "rows 2 and 3 of the price file have the same date 2014-03-27"),
        (lambda t: t.replace("2014-03-28", "someday"), "row 3 of the price file has the date 'someday'"),
        (lambda t: t.replace(",", ";"), "no Open, High, Low, Volume, Close column.*is the delimiter ';'"),
        (lambda t: "Date,Passengers\n1949-01-01,112\n1949-02-01,118\n", "no Open.*another kind"),
    ],
    ids=["missing column", "no dates", "duplicated date", "bad date", "other delimiter", "not prices"],
)  # fmt: skip
def test_a_broken_finance_csv_is_one_clear_error(stock_text, edit, message):
    with pytest.raises(LstmopsError, match=message):
        parse_csv(edit(_finance_csv(stock_text)))


@pytest.mark.parametrize(
    ("column", "value", "expectation"),
    [
        (1, "1.0", "column_A=High, column_B=Low"),  # High < Low
        (4, "900.0", "column_A=High, column_B=Close"),  # Close above High
        (4, "1.0", "column_A=Close, column_B=Low"),  # Close below Low
        (3, "-5", "expect_column_values_to_be_between(column=Volume"),  # negative volume
        (2, "", "expect_column_values_to_not_be_null(column=Low"),  # a missing value
        (2, "0", "expect_column_values_to_be_between(column=Low"),  # a zero price
        (0, "abc", "expect_column_values_to_be_in_type_list(column=Open"),  # non-numeric
        (4, "inf", "expect_column_values_to_not_be_in_set(column=Close"),  # not a finite price
    ],
)
def test_planted_fault_names_the_failed_expectation(stock_text, column, value, expectation):
    message = _failed(_edit_row(stock_text, 10, column, value))
    assert expectation in message


def test_renamed_column_is_named(stock_text):
    text = stock_text.replace("# Open,High,Low,Volume,Close", "# Open,High,Low,Volume,Price")
    assert "expect_table_columns_to_match_set" in _failed(text)


def test_too_few_rows_for_a_day_over_day_step(stock_text):
    lines = stock_text.split("\r\n")
    text = "\r\n".join(lines[: 2 + MIN_PRICE_ROWS - 1])
    assert "expect_table_row_count_to_be_between(min_value=2)" in _failed(text)


def test_duplicated_rows_are_named(stock_text):
    lines = stock_text.split("\r\n")
    assert "expect_compound_columns_to_be_unique" in _failed("\r\n".join([*lines, lines[5]]))


def test_bom_and_trailing_blank_lines_are_tolerated(stock_text):
    table = parse_lecture("\ufeff" + stock_text + "\r\n\r\n\r\n")
    assert len(table) == 732 and all(c.success for c in _validate("\ufeff" + stock_text + "\n\n"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no data rows"),
        ("# http://finance.yahoo.com\r\n# Open,High,Low,Volume,Close\r\n", "no data rows"),
    ],
)
def test_empty_files_are_clear_errors(text, message):
    with pytest.raises(LstmopsError, match=message):
        parse_lecture(text)


def test_other_delimiter_is_a_clear_error(stock_text):
    with pytest.raises(LstmopsError, match="delimiter"):
        parse_lecture(stock_text.replace(",", ";"))


@pytest.mark.parametrize("column", ["Date", "Open", "High", "Low", "Close", "Volume"])
def test_a_blank_in_a_required_column_is_named(stock_text, column):
    table = parse_lecture(stock_text)
    table.insert(0, "Date", pd.bdate_range("2014-03-27", periods=len(table)).strftime("%Y-%m-%d"))
    table[column] = table[column].astype(object)
    table.loc[[4, 9], column] = None
    checks = run_suite(table, price_expectations("Date"), "stock")
    message = failure_message("stock", checks)
    assert f"expect_column_values_to_not_be_null(column={column}) — 2 unexpected" in message
