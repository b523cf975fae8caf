"""Data tests on the real stock file: it passes, and planted faults fail with the right message."""

import pytest

from lstmops.config import LstmopsError
from lstmops.data.stock import parse_prices
from lstmops.validation import MIN_PRICE_ROWS, failure_message, run_suite, stock_expectations


def _validate(text: str):
    return run_suite(parse_prices(text), stock_expectations(), "stock")


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


def test_real_file_parses_newest_first_and_passes(stock_text):
    table = parse_prices(stock_text)
    assert list(table.columns) == ["Open", "High", "Low", "Volume", "Close"]
    assert len(table) == 732
    assert table["Close"].iloc[0] == pytest.approx(831.659973)  # newest row first, as in the file
    assert all(c.success for c in _validate(stock_text))


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
    assert "expect_table_columns_to_match_ordered_list" in _failed(text)


def test_too_few_rows_for_a_day_over_day_step(stock_text):
    lines = stock_text.split("\r\n")
    text = "\r\n".join(lines[: 2 + MIN_PRICE_ROWS - 1])
    assert "expect_table_row_count_to_be_between(min_value=2)" in _failed(text)


def test_duplicated_rows_are_named(stock_text):
    lines = stock_text.split("\r\n")
    assert "expect_compound_columns_to_be_unique" in _failed("\r\n".join([*lines, lines[5]]))


def test_bom_and_trailing_blank_lines_are_tolerated(stock_text):
    table = parse_prices("\ufeff" + stock_text + "\r\n\r\n\r\n")
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
        parse_prices(text)


def test_other_delimiter_is_a_clear_error(stock_text):
    with pytest.raises(LstmopsError, match="delimiter"):
        parse_prices(stock_text.replace(",", ";"))
