"""walkforward: expanding-window folds, each model scored against persistence on its block.

With walk_forward.period "train" every fold lies inside the 70/30 split's training part, so settings
can be compared on it without looking at the test period.
"""

from __future__ import annotations

import json

import pandas as pd

from lstmops import config as cfg
from lstmops import tasks
from lstmops.config import Dataset
from lstmops.io import atomic_path, read_json, write_json
from lstmops.stages import RUN_FILE, flat, require


def walkforward(dataset: Dataset) -> None:
    """Score expanding-window folds (retrained or not) against persistence; log them to the run."""
    task = tasks.of(dataset, "walkforward")
    import mlflow

    from lstmops import evaluation as ev
    from lstmops import tracking

    w = dataset.settings.walk_forward
    panel = task.series(task.read_raw(cfg.raw_dir(dataset.name), dataset), dataset)
    metrics, rows = task.score_folds(panel, dataset)
    path, plots = cfg.walkforward_files(dataset.name)
    write_json(path, metrics)
    with atomic_path(plots) as out:
        out.mkdir()
        table = pd.DataFrame(rows)
        table.to_csv(out / cfg.WALKFORWARD_TABLE, index=False)
        ev.plot_walkforward(table, dataset.name, out / "folds.png")

    run_id = read_json(require(cfg.model_dir(dataset.name) / RUN_FILE, "train", dataset))["run_id"]
    tracking.use_store(dataset.name)
    with mlflow.start_run(run_id=run_id):
        mlflow.log_params(flat(w.model_dump(mode="json"), "walk_forward."))
        mlflow.log_metrics(
            {
                "walk_forward.rmse_ratio": metrics["rmse_ratio"],
                "walk_forward.model_rmse": metrics["model_rmse"],
                "walk_forward.persistence_rmse": metrics["persistence_rmse"],
            }
        )
        for row in rows:
            mlflow.log_metric("walk_forward.fold_rmse_ratio", row["rmse_ratio"], step=row["fold"])
        mlflow.log_artifact(str(path))
        mlflow.log_artifacts(str(plots), artifact_path="plots/walk_forward")
    summary = {k: v for k, v in metrics.items() if k != "folds"}
    print(f"walkforward {dataset.name}: {json.dumps(summary)}")
