"""pretrain: an LSTM language model on a text dataset's training and unlabelled texts, tracked as an
MLflow run of its own; a classifier with preprocess.pretrained starts from its weights."""

from __future__ import annotations

import json
import math
import time

import keras
import mlflow
import numpy as np

from lstmops import features, models, tasks, tracking, training
from lstmops.config import Dataset, SentimentPretrain, SentimentSettings
from lstmops.io import atomic_path, write_json
from lstmops.layout import (
    CHECKPOINT_DIR,
    MODEL_FILE,
    RUN_FILE,
    VOCABULARY_FILE,
    pretrain_dir,
    raw_dir,
    require,
)
from lstmops.tracking import flat

PROGRESS_POINTS = 50  # loss and speed logged this many times over the run


class Progress(keras.callbacks.Callback):
    """Logs the loss and the words per second `PROGRESS_POINTS` times over the run, step = batches
    done, and prints them: pretraining takes minutes."""

    def __init__(self, log, batches: int, words_per_batch: int) -> None:
        super().__init__()
        self.log, self.words_per_batch = log, words_per_batch
        self.every = max(1, batches // PROGRESS_POINTS)
        self.batches, self.started, self.seconds = batches, 0.0, 0.0

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.started = time.perf_counter()

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        done = batch + 1
        if done % self.every and done != self.batches:
            return
        self.seconds = time.perf_counter() - self.started
        speed = done * self.words_per_batch / self.seconds
        self.log({"loss": float(logs["loss"]), "words_per_second": speed}, done)
        print(
            f"pretrain: {done}/{self.batches} batches, loss {logs['loss']:.3f}, {speed:,.0f} words/s"
        )


def _pieces(
    texts: list[str], p: SentimentPretrain
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """The vocabulary, the language model's inputs and next words, and the order it reads them in."""
    vocabulary = features.fit_vocabulary(texts, p.num_words)
    x, y = features.language_model_pieces(
        features.token_ids(texts, features.token_lookup(vocabulary)), p.seq_length, p.output_words
    )
    return vocabulary, x, y, features.reading_order(len(x), p.epochs, p.seed)


def _fit(
    model, x: np.ndarray, y: np.ndarray, order: np.ndarray, p: SentimentPretrain, device: str
) -> Progress:
    """One pass over the pieces in `order`, its progress logged to the active MLflow run."""
    progress = Progress(
        lambda metrics, step: mlflow.log_metrics(metrics, step=step, synchronous=False),
        math.ceil(len(order) / p.batch_size),
        p.batch_size * p.seq_length,
    )
    with keras.device(f"{device}:0"):
        model.fit(
            x[order],
            y[order],
            batch_size=p.batch_size,
            epochs=1,
            shuffle=False,
            verbose=0,
            callbacks=[progress],
        )
    mlflow.flush_async_logging()
    return progress


def pretrain(dataset: Dataset) -> None:
    """Fit the language model, or, with pretrain.epochs 0, record that there is none."""
    data = tasks.pretraining(dataset)
    settings = dataset.settings
    assert isinstance(settings, SentimentSettings)  # the only task with a pretrain stage
    p = settings.pretrain
    raw = require(raw_dir(dataset.name), "ingest", dataset)
    with atomic_path(pretrain_dir(dataset.name)) as out:
        out.mkdir()
        if p.epochs == 0:
            (out / RUN_FILE).write_text(json.dumps({"run_id": None}), encoding="utf-8")
            print(f"pretrain {dataset.name}: pretrain.epochs is 0, no language model")
            return
        texts = data.pretraining_texts(data.read_raw(raw, dataset))
        vocabulary, x, y, order = _pieces(texts, p)
        training.seed_everything(p.seed)
        device = training.select_device("auto")
        model = models.language_model(p)
        description = tasks.declarations(dataset.task).DESCRIPTION.format(dataset=dataset.name)
        tracking.use_store(dataset.name, description=description)
        tags = tracking.run_tags(dataset.name, task=dataset.task, stage="pretrain")
        # A killed pretrain starts over (its minutes are cheaper than a resumable loop), but the run
        # it left RUNNING in MLflow is marked KILLED first.
        unfinished = CHECKPOINT_DIR / f"{dataset.name}_pretrain" / RUN_FILE
        tracking.end_killed(unfinished)
        with mlflow.start_run(tags=tags) as run:
            write_json(unfinished, {"run_id": run.info.run_id})
            mlflow.set_tag(
                "mlflow.runName", tracking.run_name(dataset.name, "pretrain", run.info.run_id)
            )
            mlflow.log_params(flat({"pretrain": p.model_dump(mode="json")}))
            mlflow.log_params({"texts": len(texts), "words": int(x.size), **device})
            words = len(order) * p.seq_length
            print(
                f"pretrain {dataset.name}: {len(texts)} texts, {x.size:,} words; reading "
                f"{words:,} ({p.epochs:g} epochs) on {device['device']}, run {run.info.run_id}"
            )
            progress = _fit(model, x, y, order, p, device["device"])
            mlflow.log_metrics(
                {
                    "pretrain_seconds": progress.seconds,
                    "words_per_second": words / progress.seconds,
                    "words_read": words,
                }
            )
            models.save(model, out / MODEL_FILE)
            (out / VOCABULARY_FILE).write_text(json.dumps(vocabulary), encoding="utf-8")
            (out / RUN_FILE).write_text(json.dumps({"run_id": run.info.run_id}), encoding="utf-8")
        unfinished.unlink()
        print(
            f"pretrain {dataset.name}: {words / progress.seconds:,.0f} words/s, "
            f"{progress.seconds / 60:.1f} min"
        )
