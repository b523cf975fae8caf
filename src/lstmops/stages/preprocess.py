"""preprocess: split, scale or tokenise, and window the raw tables into model arrays."""

from __future__ import annotations

import time

from lstmops import layout, tasks
from lstmops.config import Dataset
from lstmops.io import atomic_path, write_json


def preprocess(dataset: Dataset) -> None:
    """Turn the validated raw tables into model arrays plus the fitted scaling or vocabulary."""
    start = time.perf_counter()
    data = tasks.data(dataset, "preprocess")
    tables = data.read_raw(layout.raw_dir(dataset.name), dataset)
    with atomic_path(layout.processed_dir(dataset.name)) as out:
        out.mkdir()
        summary = data.preprocess(tables, dataset, out)
    write_json(
        layout.timings_file(dataset.name), {"preprocess_seconds": time.perf_counter() - start}
    )
    print(f"preprocess {dataset.name}: {summary}")
