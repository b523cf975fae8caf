"""evaluate: score the test split once, write metrics, tables and charts, add them to the MLflow run."""

from __future__ import annotations

import json
import time

import pandas as pd

from lstmops import charts, layout, models, tasks, tracking
from lstmops.config import Dataset
from lstmops.io import atomic_path, read_json, write_json


def evaluate(dataset: Dataset) -> None:
    """Score the test split once; write metrics and plots; add them to the training run in MLflow."""
    start = time.perf_counter()
    task = tasks.scoring(dataset, "evaluate")
    folder = layout.model_dir(dataset.name)
    model = models.load(layout.require(folder / layout.MODEL_FILE, "train", dataset))
    history = read_json(folder / layout.HISTORY_FILE)
    metrics, tables = task.evaluate(
        model, layout.load_arrays(dataset), dataset, task.fitted(dataset)
    )
    curve = pd.DataFrame({"epoch": range(1, len(history["loss"]) + 1), **history})
    plots = layout.plots_dir(dataset.name)
    with atomic_path(plots) as out:
        out.mkdir()
        charts.write({"learning_curve": curve, **tables}, dataset.name, out)
    write_json(layout.metrics_file(dataset.name), metrics)
    with tracking.reopen(dataset.name, read_json(folder / layout.RUN_FILE)["run_id"]) as log:
        log.metrics(metrics, "test.")  # a panel's per-series figures: series.csv
        log.artifacts(plots, "plots")
        log.artifact(layout.metrics_file(dataset.name))
        log.metrics({"evaluate_seconds": time.perf_counter() - start})
    print(f"evaluate {dataset.name}: {json.dumps(layout.summary(metrics))}")
