"""evaluate: score the test split once, write metrics and plots, add them to the MLflow run."""

from __future__ import annotations

import json

import pandas as pd

from lstmops import config as cfg
from lstmops.config import Params
from lstmops.io import atomic_path, read_json, write_json
from lstmops.stages import (
    HISTORY_FILE,
    MODEL_FILE,
    RUN_FILE,
    flat,
    load_arrays,
    load_scaling,
    require,
)


def evaluate(dataset: str, params: Params) -> None:
    """Score the test split once; write metrics and plots; add them to the training run in MLflow."""
    import keras
    import mlflow

    from lstmops import evaluation as ev
    from lstmops import tracking

    model_dir = cfg.model_dir(dataset)
    model = keras.saving.load_model(require(model_dir / MODEL_FILE, "train", dataset))
    history = read_json(model_dir / HISTORY_FILE)
    data = load_arrays(dataset)
    plots = cfg.plots_dir(dataset)
    with atomic_path(plots) as out:
        out.mkdir()
        pd.DataFrame({"epoch": range(1, len(history["loss"]) + 1), **history}).to_csv(
            out / "learning_curve.csv", index=False
        )
        ev.plot_learning_curve(history, out / "learning_curve.png")
        predicted = model.predict(data["x_test"], verbose=0).reshape(-1)
        if dataset == "imdb":
            labels = data["y_test"]
            metrics = ev.classification_metrics(labels, predicted)
            pd.DataFrame({"actual": labels, "predicted": (predicted >= 0.5).astype(int)}).to_csv(
                out / "confusion.csv", index=False
            )
            ev.plot_confusion(labels, (predicted >= 0.5).astype(int), out / "confusion.png")
            ev.plot_roc(labels, predicted, out / "roc.png").to_csv(out / "roc.csv", index=False)
        else:
            scaling = load_scaling(dataset)
            dollars = scaling.prices(predicted, data["previous_test"])
            metrics = ev.stock_metrics(data["previous_test"], data["actual_test"], dollars)
            table = pd.DataFrame(
                {
                    "day": range(1, len(dollars) + 1),
                    "actual": data["actual_test"],
                    "predicted": dollars,
                    "persistence": data["previous_test"],
                }
            )
            table.to_csv(out / "predictions.csv", index=False)
            ev.plot_predictions(table, out / "predictions.png")
    write_json(cfg.metrics_file(dataset), metrics)

    run_id = read_json(model_dir / RUN_FILE)["run_id"]
    tracking.use_store(dataset)
    with mlflow.start_run(run_id=run_id):
        mlflow.log_metrics({f"test.{k}": v for k, v in flat(metrics).items()})
        mlflow.log_artifacts(str(plots), artifact_path="plots")
        mlflow.log_artifact(str(cfg.metrics_file(dataset)))
    print(f"evaluate {dataset}: {json.dumps(metrics)}")
