"""A series dataset's expectations (ingest and validate run them): the price rules for prices, and
for a price series without dates, that it runs forward in time; finite numbers for any series."""

from __future__ import annotations

import dataclasses

import pandas as pd

from lstmops import expectations as ex
from lstmops.config import SERIES, Dataset
from lstmops.data import prices as data
from lstmops.tasks.timeseries.data import REQUIRED, resolved, settings


def check(tables: dict[str, pd.DataFrame], dataset: Dataset) -> list:
    """The price expectations (a price table), or any numeric series' (its target and features);
    for a price series without dates, also that it runs forward in time."""
    (table,) = tables.values()
    date = data.DATE if data.DATE in table else None
    many = SERIES if SERIES in table else None
    if REQUIRED[dataset.task]:
        suite = ex.price_expectations(date, many)
    else:
        p = resolved(settings(dataset).preprocess, table, dataset)
        suite = ex.series_expectations(list(p.features or ()), date, many)
    if many:  # a panel: each failure names the first series and day it holds
        labels, days = table[SERIES].to_numpy(), table[data.DATE].to_numpy()

        def locate(rows: list[int]) -> str:
            return f"first in series {labels[rows[0]]} on {days[rows[0]]}"

        return ex.run_suite(table, suite, dataset.name, locate)
    checks = ex.run_suite(table, suite, dataset.name)
    if not REQUIRED[dataset.task]:
        return checks
    order = None if date else ex.time_order(table)
    if order is not None:
        (result,) = ex.run_suite(order, ex.order_expectations(), f"{dataset.name} time order")
        if not result.success:
            result = dataclasses.replace(
                result,
                detail=f"{result.detail}: each Open lies nearer the next day's Close than the "
                "previous one, so the rows look reversed in time (a lecture-format file lists the "
                "newest day first; a file listed oldest first needs a header and dates, format csv)",
            )
        checks.append(result)
    return checks
