"""evaluate: score the test split once, write metrics and plots, add them to the MLflow run."""

from __future__ import annotations

import json
import time

import pandas as pd

from lstmops import config as cfg
from lstmops import tasks
from lstmops.config import Dataset
from lstmops.io import atomic_path, read_json, write_json
from lstmops.stages import (
    HISTORY_FILE,
    MODEL_FILE,
    PER_SERIES,
    RUN_FILE,
    flat,
    load_arrays,
    require,
)


def evaluate(dataset: Dataset) -> None:
    """Score the test split once; write metrics and plots; add them to the training run in MLflow."""
    import mlflow

    from lstmops import evaluation as ev
    from lstmops import models, tracking

    start = time.perf_counter()
    task = tasks.of(dataset, "evaluate")
    model_dir = cfg.model_dir(dataset.name)
    model = models.load(require(model_dir / MODEL_FILE, "train", dataset))
    history = read_json(model_dir / HISTORY_FILE)
    data = load_arrays(dataset)
    plots = cfg.plots_dir(dataset.name)
    with atomic_path(plots) as out:
        out.mkdir()
        pd.DataFrame({"epoch": range(1, len(history["loss"]) + 1), **history}).to_csv(
            out / "learning_curve.csv", index=False
        )
        ev.plot_learning_curve(history, dataset.name, out / "learning_curve.png")
        metrics = task.evaluate(model, data, dataset, out)
    write_json(cfg.metrics_file(dataset.name), metrics)

    run_id = read_json(model_dir / RUN_FILE)["run_id"]
    tracking.use_store(dataset.name)  # train created it, with its description
    with mlflow.start_run(run_id=run_id):
        logged = {k: v for k, v in flat(metrics).items() if not k.startswith(f"{PER_SERIES}.")}
        mlflow.log_metrics({f"test.{k}": v for k, v in logged.items()})  # a panel's: series.csv
        mlflow.log_artifacts(str(plots), artifact_path="plots")
        mlflow.log_artifact(str(cfg.metrics_file(dataset.name)))
        mlflow.log_metric("evaluate_seconds", time.perf_counter() - start)
    print(f"evaluate {dataset.name}: {json.dumps(metrics)}")
