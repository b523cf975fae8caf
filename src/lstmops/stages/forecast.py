"""forecast: the next business day's close after the raw data's last row, with its interval."""

from __future__ import annotations

import json

from lstmops import charts, layout, serving, tasks, tracking
from lstmops.config import Dataset
from lstmops.io import atomic_path, read_json, write_json


def forecast(dataset: Dataset) -> None:
    """Forecast the day after the data with the trained model; write it with its chart; add it to
    the training run in MLflow."""
    task = tasks.forecasting(dataset, "forecast")
    folder = layout.model_dir(dataset.name)
    model = serving.load_keras(str(layout.require(folder / layout.MODEL_FILE, "train", dataset)))
    tables = task.read_raw(layout.raw_dir(dataset.name), dataset)
    result, table = task.next_day(model, tables, dataset, task.fitted(dataset))
    path, plots = layout.forecast_files(dataset.name)
    write_json(path, result)
    with atomic_path(plots) as out:
        out.mkdir()
        charts.write({"forecast": table}, dataset.name, out)  # a panel's chart: its first series
    with tracking.reopen(dataset.name, read_json(folder / layout.RUN_FILE)["run_id"]) as log:
        log.metrics(result, "forecast.")
        log.tags({"forecast.date": str(result["date"])})
        log.artifact(path)
        log.artifacts(plots, "plots/forecast")
    print(f"forecast {dataset.name}: {json.dumps(layout.summary(result))}")
