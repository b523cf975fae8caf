"""A text dataset's expectations (ingest and validate run them); ratings are checked against
labels where the source has them."""

from __future__ import annotations

import pandas as pd

from lstmops import expectations as ex
from lstmops.config import Dataset
from lstmops.data import reviews as data
from lstmops.tasks.sentiment.data import settings


def check(tables: dict[str, pd.DataFrame], dataset: Dataset) -> list:
    """Each table's expectations; ratings are checked against labels where the source has them."""
    p = settings(dataset).validate_

    def expectations(name: str, table: pd.DataFrame) -> list:
        if name == data.UNSUP:
            return ex.unsup_expectations(p.unsup_rows)
        ratings = bool(table["rating"].notna().any())
        return ex.review_expectations(p.rows_per_split, p.balance_tolerance, ratings)

    return [
        result
        for name, table in tables.items()
        for result in ex.run_suite(table, expectations(name, table), name)
    ]
