"""Data tests on the ticker series that bokeh-sampledata ships: read in time order, and valid."""

import importlib.metadata

import pandas as pd
import pytest

from lstmops.config import TICKERS, LstmopsError
from lstmops.data.tickers import read_ticker, source_version
from lstmops.expectations import price_expectations, run_suite


@pytest.mark.parametrize("ticker", TICKERS)
def test_each_ticker_reads_in_time_order_and_passes_the_stock_suite(ticker):
    from bokeh_sampledata import stocks

    table = read_ticker(ticker)
    series = getattr(stocks, ticker)
    assert list(table.columns) == ["Date", "Open", "High", "Low", "Volume", "Close"]
    assert table["Date"].is_monotonic_increasing and table["Date"].is_unique
    assert len(table) == len(series["date"]) > 150
    dates = pd.to_datetime(pd.Series(series["date"])).sort_values()
    first = series["date"].index(dates.iloc[0].strftime("%Y-%m-%d"))
    assert table["Close"].iloc[0] == series["close"][first]  # oldest day first
    checks = run_suite(table, price_expectations(), ticker)
    assert all(c.success for c in checks), [c.describe() for c in checks if not c.success]


def test_missing_package_says_how_to_install(monkeypatch):
    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", missing)
    with pytest.raises(LstmopsError, match="pip install bokeh-sampledata"):
        source_version()
