"""train: fit the model on the training split, track the run in MLflow, log the servable model."""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import time
from pathlib import Path

import numpy as np

from lstmops import config as cfg
from lstmops import tasks
from lstmops.config import Dataset
from lstmops.io import atomic_path, dvc_hash, read_json, sha256_of, write_json
from lstmops.stages import (
    ARRAYS,
    CHECKPOINT_DIR,
    HISTORY_FILE,
    MODEL_FILE,
    RUN_FILE,
    flat,
    load_arrays,
)

STATE_FILE = "state.npz"
SERVED_DIR = "served"  # models/<dataset>/served: the pyfunc model, as MLflow logs it
# Timings go to MLflow only: DVC outputs must not change with the clock.
WALL_CLOCK = {"epoch_seconds"}


# Settings of a dataset that the train stage does not read.
NOT_TRAINING = {"walk_forward", "ingest", "validate_", "tune"}


def _pip_requirements() -> list[str]:
    """Pinned to what trained the model, and given explicitly (MLflow's inference is slow)."""
    from importlib.metadata import PackageNotFoundError, version

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
    processed = cfg.processed_dir(dataset.name)
    python_model, artifacts, signature, example = tasks.of(dataset).served_model(
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


def train(dataset: Dataset) -> None:
    """Fit the dataset's model on the training split; track the run in MLflow; save model + history.

    Training state is checkpointed under checkpoints/<dataset>/ at most every
    train.checkpoint_seconds; a run that is killed resumes from its last checkpoint, in the same
    MLflow run, when started again with the same params and data.
    """
    import keras
    import mlflow

    from lstmops import models, tracking, training
    from lstmops.data.fetch import describe

    start = time.perf_counter()
    task = tasks.of(dataset, "train")
    section = dataset.settings
    p = section.train
    data = load_arrays(dataset)
    strategy = training.make_strategy(p.distribution)
    device = training.select_device(p.device)
    device["precision_policy"] = training.set_precision(p.mixed_precision, device["device"])
    device["replicas"] = training.replicas(strategy)
    batch_size = p.batch_size * device["replicas"]  # train.batch_size is per replica
    training.seed_everything(p.seed)
    with training.scope(strategy):
        model, fit_part, val_part = task.model_and_split(data, dataset)
    device["lstm_cudnn_eligible"] = str(models.cudnn_eligible(model))
    device["lstm_uses_cudnn"] = str(models.cudnn_eligible(model) and device["device"] == "gpu")
    if not training.is_chief(strategy):  # another worker of a multi_worker cluster: train only
        callbacks = training.validation_callbacks(p, val_part)
        with training.scope(strategy):
            training.fit(
                model, fit_part, val_part, p.epochs, batch_size, callbacks, p.seed, strategy
            )
        print(f"train {dataset.name}: worker done; the chief tracks the run and saves the model")
        return

    checkpoints = CHECKPOINT_DIR / dataset.name
    backup = checkpoints / _fingerprint(section, cfg.processed_dir(dataset.name) / ARRAYS)
    resumed = read_json(backup / RUN_FILE) if (backup / RUN_FILE).is_file() else None
    tracking.use_store(dataset.name, description=task.DESCRIPTION.format(dataset=dataset.name))
    run_id = resumed["run_id"] if resumed else None
    tags = tracking.run_tags(
        dataset.name, task=dataset.task, preset=section.preset, **task.lineage(dataset)
    )
    with mlflow.start_run(run_id=run_id, tags=tags) as run:
        watchers = training.validation_callbacks(p, val_part)
        # A multi_worker run does not resume (its loop starts at epoch 1), so it saves no state.
        interval = math.inf if training.is_multi_worker(strategy) else p.checkpoint_seconds
        history = training.Checkpoint(
            backup / STATE_FILE, interval, watchers, mlflow.flush_async_logging
        )
        with training.scope(strategy):
            done = history.restore(model)
        if resumed:
            mlflow.set_tags({"resumed": "true", "resumed_from_epoch": str(done)})
            print(f"train {dataset.name}: resuming run {run.info.run_id} after epoch {done}")
        else:
            logged = section.model_dump(by_alias=True, exclude=NOT_TRAINING, mode="json")
            mlflow.log_params(flat(logged))
            source = describe(dataset.source)  # hashes a local file: once
            mlflow.log_params({"task": dataset.task, **source, **device})
            tracking.log_data(
                dataset.name,
                dvc_hash(cfg.processed_dir(dataset.name)),
                source,
                {"training": fit_part, "validation": val_part},
            )
            mlflow.set_tags(
                {
                    "device": device["device"],
                    "mlflow.runName": tracking.run_name(
                        dataset.name, section.preset, run.info.run_id
                    ),
                }
            )
            write_json(backup / RUN_FILE, {"run_id": run.info.run_id})
        print(
            f"train {dataset.name}: {device['device']} ({device['device_name']}), "
            f"run {run.info.run_id}"
        )
        epoch_logger = training.EpochLogger(
            lambda metrics, step: mlflow.log_metrics(metrics, step=step, synchronous=False),
            tracking.logged_steps(run.info.run_id) if resumed else set(),
        )
        # A strategy places the replicas itself; a single device is pinned to what select_device chose.
        place = (
            keras.device(f"{device['device']}:0") if strategy is None else training.scope(strategy)
        )
        with place:
            training.fit(
                model,
                fit_part,
                val_part,
                p.epochs,
                batch_size,
                [epoch_logger, *watchers, history],  # history last: it restores the watchers
                p.seed,
                strategy,
                initial_epoch=done,
            )
        mlflow.flush_async_logging()
        mlflow.log_metrics(
            {
                "train_seconds": sum(history.history["epoch_seconds"]),
                "epochs_run": len(history.history["loss"]),  # fewer than asked after early stopping
            }
        )
        no_change = task.no_change(dataset, cfg.processed_dir(dataset.name))
        predicting, factor = training.predicting_model(model, val_part, no_change)
        if factor is not None:
            mlflow.log_metric("shrink_factor", factor)
            print(
                f"train {dataset.name}: forecast changes shrunk toward persistence by {factor:.4f}"
            )
        out_dir = cfg.model_dir(dataset.name)
        with atomic_path(out_dir) as out:
            out.mkdir()
            models.save(predicting, out / MODEL_FILE)
            # The champion is chosen on the validation slice, never the test split; scored with
            # the saved model, outside any distribution strategy (a multi_worker cluster's other
            # workers are gone by now).
            saved = models.load(out / MODEL_FILE)
            scores = task.validation_metrics(saved, val_part, data, dataset)
            # The task's files beside the model, and the scores of the model they make up.
            files, served_scores = task.model_files(saved, val_part, data, dataset, out)
            scores.update(served_scores)
            mlflow.log_metrics({f"validation.{k}": v for k, v in scores.items()})
            curves = {k: v for k, v in history.history.items() if k not in WALL_CLOCK}
            (out / HISTORY_FILE).write_text(json.dumps(curves, indent=2), encoding="utf-8")
            (out / RUN_FILE).write_text(json.dumps({"run_id": run.info.run_id}), encoding="utf-8")
            served = _pyfunc(dataset, out / MODEL_FILE, data, files)
            # Servable from the DVC output alone: a clone that pulled it needs no tracking store.
            mlflow.pyfunc.save_model(out / SERVED_DIR, **served)
            # The same model, in the run and (where this login may) as a new version of
            # lstmops-<dataset>.
            logged = mlflow.pyfunc.log_model(name="model", **served)
            version = tracking.register(dataset.name, logged.model_uri)
        timings = cfg.timings_file(dataset.name)
        mlflow.log_metrics(
            {
                "train_stage_seconds": time.perf_counter() - start,  # all of it, saving included
                **(read_json(timings) if timings.is_file() else {}),  # preprocess_seconds
            }
        )
        metric, lower_is_better = task.CHAMPION_METRIC
        if version is not None:
            crowned = tracking.crown(dataset.name, version, metric, lower_is_better)
            print(f"train {dataset.name}: {crowned}")
    shutil.rmtree(checkpoints, ignore_errors=True)
