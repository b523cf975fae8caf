"""train: fit the model on the training split, track the run in MLflow, log the servable model."""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import time
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import keras
import mlflow
import numpy as np

from lstmops import models, tasks, tracking, training
from lstmops.config import Dataset
from lstmops.data.fetch import describe
from lstmops.io import atomic_path, dvc_hash, read_json, sha256_of, write_json
from lstmops.layout import (
    ARRAYS,
    CHECKPOINT_DIR,
    HISTORY_FILE,
    MODEL_FILE,
    RUN_FILE,
    SERVED_DIR,
    load_arrays,
    model_dir,
    processed_dir,
    timings_file,
)
from lstmops.tasks.base import Training
from lstmops.tracking import flat

STATE_FILE = "state.npz"
# Timings go to MLflow only: DVC outputs must not change with the clock.
WALL_CLOCK = {"epoch_seconds"}


# Settings of a dataset that the train stage does not read.
NOT_TRAINING = {"walk_forward", "ingest", "validate_", "tune"}


def _pip_requirements() -> list[str]:
    """Pinned to what trained the model, and given explicitly (MLflow's inference is slow)."""
    requirements = []
    for package in ("keras", "tensorflow-cpu", "tensorflow", "pandas", "numpy", "mlflow"):
        try:
            requirements.append(f"{package}=={version(package)}")
        except PackageNotFoundError:
            continue
    return requirements


def _pyfunc(
    dataset: Dataset, model_file: Path, data: dict[str, np.ndarray], files: dict[str, str]
) -> dict:
    """The MLflow pyfunc model that takes user units (dollars, raw text), with its signature: the
    keyword arguments that mlflow.pyfunc.save_model and log_model take; `files` are the task's
    files saved beside the model."""
    processed = processed_dir(dataset.name)
    python_model, artifacts, signature, example = tasks.training(dataset).served_model(
        dataset, data, processed
    )
    return {
        "python_model": python_model,
        "artifacts": {"model": str(model_file), **artifacts, **files},
        "code_paths": [str(Path(__file__).parents[1])],  # the lstmops package: served without it
        "signature": signature,
        "input_example": example,
        "pip_requirements": _pip_requirements(),
    }


def _fingerprint(section, arrays: Path) -> str:
    """What a checkpoint belongs to: the stage's params and its input arrays."""
    digest = hashlib.sha256(section.model_dump_json(exclude=NOT_TRAINING).encode())
    digest.update(sha256_of(arrays).encode())
    return digest.hexdigest()[:16]


@dataclass
class Setup:
    """Where and how a run trains: the distribution strategy (None: one device), the device's
    facts (MLflow params) and the global batch size."""

    strategy: object
    device: dict
    batch_size: int


def _setup(p) -> Setup:
    strategy = training.make_strategy(p.distribution)
    device: dict[str, Any] = dict(training.select_device(p.device))
    device["precision_policy"] = training.set_precision(p.mixed_precision, device["device"])
    device["replicas"] = training.replicas(strategy)
    return Setup(strategy, device, p.batch_size * device["replicas"])  # batch_size is per replica


def _log_start(dataset: Dataset, run, backup: Path, setup: Setup, fit_part, val_part) -> None:
    """A new run's params, data, device and name; its id kept where a resumed run finds it."""
    section = dataset.settings
    mlflow.log_params(flat(section.model_dump(by_alias=True, exclude=NOT_TRAINING, mode="json")))
    source = describe(dataset.source)  # hashes a local file: once
    mlflow.log_params({"task": dataset.task, **source, **setup.device})
    tracking.log_data(
        dataset.name,
        dvc_hash(processed_dir(dataset.name)),
        source,
        {"training": fit_part, "validation": val_part},
    )
    name = tracking.run_name(dataset.name, section.preset, run.info.run_id)
    mlflow.set_tags({"device": setup.device["device"], "mlflow.runName": name})
    write_json(backup / RUN_FILE, {"run_id": run.info.run_id})


def _fit(model, fit_part, val_part, p, setup: Setup, callbacks: list, done: int) -> None:
    """Fit from epoch `done` on; a strategy places the replicas itself, a single device is pinned
    to what select_device chose."""
    place = (
        keras.device(f"{setup.device['device']}:0")
        if setup.strategy is None
        else training.scope(setup.strategy)
    )
    with place:
        training.fit(
            model,
            fit_part,
            val_part,
            p.epochs,
            setup.batch_size,
            callbacks,
            p.seed,
            setup.strategy,
            initial_epoch=done,
        )


def _save(dataset: Dataset, task: Training, model, val_part, data, curves: dict, run_id: str):
    """models/<dataset>: the model, its task's files, curves, run id and servable pyfunc; its
    validation scores logged; the same model logged to the run and, where this login may,
    registered. Returns the registered version (or None)."""
    with atomic_path(model_dir(dataset.name)) as out:
        out.mkdir()
        models.save(model, out / MODEL_FILE)
        # The champion is chosen on the validation slice, never the test split; scored with the
        # saved model, outside any distribution strategy (a multi_worker cluster's other workers
        # are gone by now).
        saved = models.load(out / MODEL_FILE)
        scores = task.validation_metrics(saved, val_part, data, dataset)
        # The task's files beside the model, and the scores of the model they make up.
        files, served_scores = task.model_files(saved, val_part, data, dataset, out)
        scores.update(served_scores)
        mlflow.log_metrics({f"validation.{k}": v for k, v in scores.items()})
        (out / HISTORY_FILE).write_text(json.dumps(curves, indent=2), encoding="utf-8")
        (out / RUN_FILE).write_text(json.dumps({"run_id": run_id}), encoding="utf-8")
        served = _pyfunc(dataset, out / MODEL_FILE, data, files)
        # Servable from the DVC output alone: a clone that pulled it needs no tracking store.
        mlflow.pyfunc.save_model(out / SERVED_DIR, **served)
        logged = mlflow.pyfunc.log_model(name="model", **served)
        return tracking.register(dataset.name, logged.model_uri)


def _shrunk(dataset: Dataset, task: Training, model, val_part):
    """The model that predicts: train.shrink pulls its forecast changes toward no change."""
    no_change = task.no_change(dataset, processed_dir(dataset.name))
    predicting, factor = training.predicting_model(model, val_part, no_change)
    if factor is not None:
        mlflow.log_metric("shrink_factor", factor)
        print(f"train {dataset.name}: forecast changes shrunk toward persistence by {factor:.4f}")
    return predicting


def _finish(
    dataset: Dataset,
    task: Training,
    model,
    history: dict,
    val_part,
    data,
    run_id: str,
    start: float,
) -> None:
    """After the last epoch: the run's totals, the saved (and perhaps shrunk) model and its
    registered version, which becomes @champion if its validation metric is better."""
    mlflow.flush_async_logging()
    mlflow.log_metrics(
        {
            "train_seconds": sum(history["epoch_seconds"]),
            "epochs_run": len(history["loss"]),  # fewer than asked after early stopping
        }
    )
    predicting = _shrunk(dataset, task, model, val_part)
    curves = {k: v for k, v in history.items() if k not in WALL_CLOCK}
    version = _save(dataset, task, predicting, val_part, data, curves, run_id)
    timings = timings_file(dataset.name)
    mlflow.log_metrics(
        {
            "train_stage_seconds": time.perf_counter() - start,  # all of it, saving included
            **(read_json(timings) if timings.is_file() else {}),  # preprocess_seconds
        }
    )
    metric, lower_is_better = tasks.declarations(dataset.task).CHAMPION_METRIC
    if version is not None:
        crowned = tracking.crown(dataset.name, version, metric, lower_is_better)
        print(f"train {dataset.name}: {crowned}")


def train(dataset: Dataset) -> None:
    """Fit the dataset's model on the training split; track the run in MLflow; save model + history.

    Training state is checkpointed under checkpoints/<dataset>/ at most every
    train.checkpoint_seconds; a run that is killed resumes from its last checkpoint, in the same
    MLflow run, when started again with the same params and data.
    """
    start = time.perf_counter()
    task, section = tasks.training(dataset), dataset.settings
    p, data = section.train, load_arrays(dataset)
    setup = _setup(p)
    training.seed_everything(p.seed)
    with training.scope(setup.strategy):
        model, fit_part, val_part = task.model_and_split(data, dataset)
    setup.device["lstm_cudnn_eligible"] = str(models.cudnn_eligible(model))
    setup.device["lstm_uses_cudnn"] = str(
        models.cudnn_eligible(model) and setup.device["device"] == "gpu"
    )
    if not training.is_chief(setup.strategy):  # another worker of a multi_worker cluster
        _fit(model, fit_part, val_part, p, setup, training.validation_callbacks(p, val_part), 0)
        print(f"train {dataset.name}: worker done; the chief tracks the run and saves the model")
        return
    checkpoints = CHECKPOINT_DIR / dataset.name
    backup = checkpoints / _fingerprint(section, processed_dir(dataset.name) / ARRAYS)
    resumed = read_json(backup / RUN_FILE) if (backup / RUN_FILE).is_file() else None
    description = tasks.declarations(dataset.task).DESCRIPTION.format(dataset=dataset.name)
    tracking.use_store(dataset.name, description=description)
    tags = tracking.run_tags(
        dataset.name, task=dataset.task, preset=section.preset, **task.lineage(dataset)
    )
    with mlflow.start_run(run_id=resumed["run_id"] if resumed else None, tags=tags) as run:
        watchers = training.validation_callbacks(p, val_part)
        # A multi_worker run does not resume (its loop starts at epoch 1), so it saves no state.
        interval = math.inf if training.is_multi_worker(setup.strategy) else p.checkpoint_seconds
        history = training.Checkpoint(
            backup / STATE_FILE, interval, watchers, mlflow.flush_async_logging
        )
        with training.scope(setup.strategy):
            done = history.restore(model)
        if resumed:
            mlflow.set_tags({"resumed": "true", "resumed_from_epoch": str(done)})
            print(f"train {dataset.name}: resuming run {run.info.run_id} after epoch {done}")
        else:
            _log_start(dataset, run, backup, setup, fit_part, val_part)
        device = setup.device
        print(
            f"train {dataset.name}: {device['device']} ({device['device_name']}), run {run.info.run_id}"
        )
        epoch_logger = training.EpochLogger(
            lambda metrics, step: mlflow.log_metrics(metrics, step=step, synchronous=False),
            tracking.logged_steps(run.info.run_id) if resumed else set(),
        )
        # history last: it restores the watchers
        _fit(model, fit_part, val_part, p, setup, [epoch_logger, *watchers, history], done)
        _finish(dataset, task, model, history.history, val_part, data, run.info.run_id, start)
    shutil.rmtree(checkpoints, ignore_errors=True)
