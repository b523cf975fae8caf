"""forecast: the next business day's close after the raw data's last row, with its interval."""

from __future__ import annotations

import json

from lstmops import config as cfg
from lstmops import tasks
from lstmops.config import Dataset
from lstmops.io import atomic_path, read_json, write_json
from lstmops.stages import MODEL_FILE, PER_SERIES, RUN_FILE, flat, require


def forecast(dataset: Dataset) -> None:
    """Forecast the day after the data with the trained model; write it with its chart; add it to
    the training run in MLflow."""
    task = tasks.of(dataset, "forecast")
    import mlflow

    from lstmops import evaluation as ev
    from lstmops import serving, tracking

    model_dir = cfg.model_dir(dataset.name)
    model = serving.load_keras(str(require(model_dir / MODEL_FILE, "train", dataset)))
    result, table = task.next_day(model, task.read_raw(cfg.raw_dir(dataset.name), dataset), dataset)
    path, plots = cfg.forecast_files(dataset.name)
    write_json(path, result)
    with atomic_path(plots) as out:
        out.mkdir()
        table.to_csv(out / cfg.FORECAST_TABLE, index=False)
        if "series" in table:  # a panel's chart: its first series
            first = table["series"].iloc[0]
            ev.plot_next_day(
                table[table["series"] == first], f"{dataset.name} {first}", out / "forecast.png"
            )
        else:
            ev.plot_next_day(table, dataset.name, out / "forecast.png")

    run_id = read_json(model_dir / RUN_FILE)["run_id"]
    tracking.use_store(dataset.name)
    with mlflow.start_run(run_id=run_id):
        numbers = {
            k: v
            for k, v in flat(result).items()
            if isinstance(v, float) and not k.startswith(f"{PER_SERIES}.")
        }
        mlflow.log_metrics({f"forecast.{k}": v for k, v in numbers.items()})
        mlflow.set_tags({"forecast.date": str(result["date"])})
        mlflow.log_artifact(str(path))
        mlflow.log_artifacts(str(plots), artifact_path="plots/forecast")
    print(f"forecast {dataset.name}: {json.dumps(result)}")
