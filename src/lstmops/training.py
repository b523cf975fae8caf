"""Fit-loop wiring: device choice, seeds, validation slice, callbacks. Backend-agnostic Keras 3."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import keras
import numpy as np

from lstmops.config import LstmopsError
from lstmops.io import write_json


def _gpu_names(backend: str) -> list[str]:
    if backend == "tensorflow":
        import tensorflow as tf

        return [
            tf.config.experimental.get_device_details(d).get("device_name", d.name)
            for d in tf.config.list_physical_devices("GPU")
        ]
    if backend == "jax":
        import jax

        return [d.device_kind for d in jax.devices() if d.platform == "gpu"]
    if backend == "torch":
        import torch

        return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return []


def _backend_version(backend: str) -> str:
    module = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}.get(backend)
    return sys.modules[module].__version__ if module and module in sys.modules else "unknown"


def select_device(requested: str) -> dict[str, str]:
    """Resolve train.device (auto/cpu/gpu) to the device Keras will use; describe it for the run."""
    backend = keras.backend.backend()
    gpus = _gpu_names(backend)
    if requested == "gpu" and not gpus:
        raise LstmopsError(
            f"train.device is 'gpu' but the {backend} backend sees no GPU. Install the GPU build "
            "(make setup TF=gpu) and check the driver, or set train.device to auto or cpu."
        )
    use_gpu = bool(gpus) and requested != "cpu"
    return {
        "device": "gpu" if use_gpu else "cpu",
        "device_name": gpus[0] if use_gpu else "cpu",
        "keras_backend": backend,
        "keras_version": keras.__version__,
        "backend_version": _backend_version(backend),
    }


def seed_everything(seed: int) -> None:
    """Same seed, same data, same CPU -> the same model (TensorFlow's ops made deterministic too)."""
    keras.utils.set_random_seed(seed)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


def tail_split(x: np.ndarray, y: np.ndarray, fraction: float) -> tuple[tuple, tuple | None]:
    """Hold out the last `fraction` of the rows (the end of the training period for a time series)."""
    n_val = int(len(x) * fraction)
    if n_val == 0:
        return (x, y), None
    if n_val == len(x):
        raise LstmopsError(f"validation_fraction {fraction} leaves no training rows; lower it.")
    return (x[:-n_val], y[:-n_val]), (x[-n_val:], y[-n_val:])


def shuffled_split(
    x: np.ndarray, y: np.ndarray, fraction: float, seed: int
) -> tuple[tuple, tuple | None]:
    """Hold out a seeded random `fraction` of the rows (for data with no time order, sorted by label)."""
    order = np.random.default_rng(seed).permutation(len(x))
    return tail_split(x[order], y[order], fraction)


class EpochTimer(keras.callbacks.Callback):
    """Records each epoch's wall time, so runs show training speed beside their curves."""

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None:
            logs["epoch_seconds"] = time.perf_counter() - self._start


class HistoryBackup(keras.callbacks.Callback):
    """Keeps the whole per-epoch history in a JSON file, so a resumed run still has all its epochs."""

    def __init__(self, path: Path, history: dict[str, list[float]]) -> None:
        super().__init__()
        self.path = path
        self.history = {k: list(v) for k, v in history.items()}

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        write_json(self.path, self.history)


def fit(
    model: keras.Model,
    train: tuple[np.ndarray, np.ndarray],
    validation: tuple[np.ndarray, np.ndarray] | None,
    epochs: int,
    batch_size: int,
    callbacks: list[keras.callbacks.Callback],
) -> dict[str, list[float]]:
    """Train and return the per-epoch history (loss, metrics, val_*, epoch_seconds)."""
    history = model.fit(
        train[0],
        train[1],
        validation_data=validation,
        epochs=epochs,
        batch_size=batch_size,
        callbacks=[EpochTimer(), *callbacks],
        verbose=1 if sys.stdout.isatty() else 2,
    )
    return {k: [float(v) for v in values] for k, values in history.history.items()}
