"""Data tests on a panel: the four bokeh-sampledata tickers in one long table parse by series and
pass; a fault planted in one series fails with that series and day named."""

import pandas as pd
import pytest

from lstmops.config import SERIES, Dataset, ForecastSettings, LstmopsError, Source
from lstmops.data.prices import parse_csv, parse_folder
from lstmops.data.tickers import read_ticker
from lstmops.tasks.timeseries import checks as price_checks
from lstmops.tasks.timeseries import data as prices
from lstmops.validation import failure_message

TICKERS = ("AAPL", "GOOG", "IBM", "MSFT")
PANEL = Dataset(
    "tickers", "prices", Source(path="data/external/tickers.csv"), ForecastSettings(), panel=True
)


@pytest.fixture(scope="module")
def long_csv() -> str:
    """The tickers as one table, as a data vendor exports a panel: Symbol first, rows interleaved."""
    tables = [read_ticker(t).assign(Symbol=t) for t in TICKERS]
    table = pd.concat(tables).sort_values(["Date", "Symbol"], kind="stable")
    return table[["Symbol", "Date", "Open", "High", "Low", "Close", "Volume"]].to_csv(index=False)


def test_a_long_table_reads_each_series_in_date_order_and_passes(long_csv):
    table = parse_csv(long_csv)
    assert list(table.columns[:2]) == [SERIES, "Date"]
    assert list(table[SERIES].unique()) == sorted(TICKERS)
    for ticker, rows in table.groupby(SERIES):
        assert rows["Date"].is_monotonic_increasing
        assert rows["Close"].tolist() == read_ticker(ticker)["Close"].tolist()
    checks = price_checks.check({"tickers": table}, PANEL)
    assert all(c.success for c in checks), [c.describe() for c in checks if not c.success]
    names = [s.name for s in prices.series({"tickers": table}, PANEL)]
    assert names == sorted(TICKERS)


def test_a_fault_in_one_series_names_that_series_and_day(long_csv):
    table = parse_csv(long_csv)
    row = table.index[(table[SERIES] == "IBM")][100]
    table.loc[row, "High"] = table.loc[row, "Low"] / 2  # a High below the Low
    checks = price_checks.check({"tickers": table}, PANEL)
    message = failure_message("tickers", checks)
    assert f"first in series IBM on {table.loc[row, 'Date']}" in message, message
    assert sum(not c.success for c in checks) >= 1


def test_a_day_twice_in_one_series_is_an_error_naming_it_but_not_across_series(long_csv):
    header, first, *rest = long_csv.strip().split("\n")
    assert len(parse_csv("\n".join([header, first, *rest]))) == len(rest) + 1  # days shared
    with pytest.raises(LstmopsError, match=r"the same date \S+ for series AAPL"):
        parse_csv("\n".join([header, first, first, *rest]))


def test_a_folder_of_csvs_is_one_panel_named_by_its_files(tmp_path):
    for ticker in TICKERS[:2]:
        read_ticker(ticker).to_csv(tmp_path / f"{ticker}.csv", index=False)
    table = parse_folder(tmp_path)
    assert list(table[SERIES].unique()) == list(TICKERS[:2])
    (tmp_path / "bad.csv").write_text("Date,Open\n2020-01-01,1\n")
    with pytest.raises(LstmopsError, match=r"^bad.csv: the price file has no"):
        parse_folder(tmp_path)


def test_a_series_too_short_for_its_windows_fails_ingest_naming_it(long_csv, tmp_path, monkeypatch):
    table = parse_csv(long_csv)
    short = table[(table[SERIES] != "GOOG") | (table.index % 50 == 0)].rename(
        columns={SERIES: "Ticker"}
    )
    (tmp_path / "data/external").mkdir(parents=True)
    short.to_csv(tmp_path / "data/external/tickers.csv", index=False)
    monkeypatch.chdir(tmp_path)
    assert PANEL.source.many_series()  # found by its Ticker column
    with pytest.raises(LstmopsError, match=r"series GOOG \(\d+ rows\): seq_length=7"):
        prices.read_source(PANEL)
