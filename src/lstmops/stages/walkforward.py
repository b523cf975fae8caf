"""walkforward: expanding-window folds, each model scored against persistence on its block.

With walk_forward.period "train" every fold lies inside the 70/30 split's training part, so settings
can be compared on it without looking at the test period.
"""

from __future__ import annotations

import json

import pandas as pd

from lstmops import charts, layout, tasks, tracking
from lstmops.config import Dataset
from lstmops.io import atomic_path, read_json, write_json


def walkforward(dataset: Dataset) -> None:
    """Score expanding-window folds (retrained or not) against persistence; log them to the run."""
    task = tasks.forecasting(dataset, "walkforward")
    panel = task.series(task.read_raw(layout.raw_dir(dataset.name), dataset), dataset)
    metrics, rows = task.score_folds(panel, dataset)
    summary = metrics.get("series")  # a panel's: the mean of its series' own ratios, and more
    path, plots = layout.walkforward_files(dataset.name)
    write_json(path, metrics)
    with atomic_path(plots) as out:
        out.mkdir()
        charts.write({"folds": pd.DataFrame(rows)}, dataset.name, out)
    run = layout.require(layout.model_dir(dataset.name) / layout.RUN_FILE, "train", dataset)
    with tracking.reopen(dataset.name, read_json(run)["run_id"]) as log:
        log.params(dataset.settings.model_dump(mode="json")["walk_forward"], "walk_forward.")
        log.metrics(
            {k: metrics[k] for k in ("rmse_ratio", "model_rmse", "persistence_rmse")}
            | ({"mean_series_rmse_ratio": summary["mean_rmse_ratio"]} if summary else {}),
            "walk_forward.",
        )
        for row in rows:
            log.step("walk_forward.fold_rmse_ratio", row["rmse_ratio"], row["fold"])
        for k, step in metrics.get("steps", {}).items():  # a horizon of several steps
            log.step("walk_forward.step_rmse_ratio", step["rmse_ratio"], int(k))
        log.artifact(path)
        log.artifacts(plots, "plots/walk_forward")
    shown = {k: v for k, v in metrics.items() if k not in ("folds", layout.PER_SERIES)}
    print(f"walkforward {dataset.name}: {json.dumps(shown)}")
