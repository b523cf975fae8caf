"""Fit-loop wiring: device choice, seeds, validation slice, callbacks. Backend-agnostic Keras 3."""

from __future__ import annotations

import contextlib
import os
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


def set_precision(mixed_precision: bool, device: str) -> str:
    """Keras's global dtype policy: mixed_float16 when asked for and on a GPU, else float32."""
    policy = "mixed_float16" if mixed_precision and device == "gpu" else "float32"
    keras.mixed_precision.set_global_policy(policy)
    return policy


CPU_DEVICES_ENV = "LSTMOPS_CPU_DEVICES"  # split the CPU into N logical devices (to try `mirrored`)


def make_strategy(distribution: str):
    """A tf.distribute strategy for train.distribution, or None for a single device.

    Call before TensorFlow runs any op. `mirrored` uses every GPU, or, with none, the CPU's logical
    devices (LSTMOPS_CPU_DEVICES=2 makes two).
    """
    if distribution == "none":
        return None
    if keras.backend.backend() != "tensorflow":
        raise LstmopsError(
            f"train.distribution={distribution} needs the TensorFlow backend (KERAS_BACKEND=tensorflow); "
            "set it to none for other backends."
        )
    import tensorflow as tf

    if distribution == "multi_worker":
        # tf.distribute.MultiWorkerMirroredStrategy fails inside Keras 3's Model.fit (PerReplica
        # batches in its symbolic build and metric reduction: keras-team/keras#20585).
        raise LstmopsError(
            "train.distribution=multi_worker is not supported: Keras 3's Model.fit does not work "
            "with tf.distribute.MultiWorkerMirroredStrategy (keras-team/keras#20585). Use `mirrored` "
            "for the GPUs of one machine, or `none`."
        )
    cpus = tf.config.list_physical_devices("CPU")
    if os.environ.get(CPU_DEVICES_ENV) and not tf.config.list_physical_devices("GPU"):
        count = int(os.environ[CPU_DEVICES_ENV])
        tf.config.set_logical_device_configuration(
            cpus[0], [tf.config.LogicalDeviceConfiguration() for _ in range(count)]
        )
    gpus = tf.config.list_logical_devices("GPU")
    devices = [d.name for d in (gpus or tf.config.list_logical_devices("CPU"))]
    return tf.distribute.MirroredStrategy(devices=devices)


def replicas(strategy) -> int:
    return strategy.num_replicas_in_sync if strategy is not None else 1


def scope(strategy):
    return strategy.scope() if strategy is not None else contextlib.nullcontext()


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


class Checkpoint(keras.callbacks.BackupAndRestore):
    """Keras's BackupAndRestore plus the per-epoch history, saved together at most every
    `interval_s` seconds, so a killed run resumes from its last saved epoch with its whole history.

    Saving the model and optimizer every epoch cost 17% of the stock model's training time (its
    epochs take 0.1 s); throttled, a kill loses at most `interval_s` seconds of training.
    """

    def __init__(self, directory: Path, history: dict[str, list[float]], interval_s: float) -> None:
        super().__init__(str(directory / "keras"))
        self.path = directory / "history.json"
        self.history = {k: list(v) for k, v in history.items()}
        self.interval_s = interval_s
        self._saved_at = time.monotonic()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        if time.monotonic() - self._saved_at >= self.interval_s:
            super().on_epoch_end(epoch, logs)  # saves the model and optimizer state
            write_json(self.path, self.history)
            self._saved_at = time.monotonic()


def early_stopping(patience: int, validation: tuple | None) -> list[keras.callbacks.Callback]:
    """Stop after `patience` epochs without a better val_loss and keep the best weights (0 = off)."""
    if not patience or validation is None:
        return []
    return [keras.callbacks.EarlyStopping(patience=patience, restore_best_weights=True)]


def batches(x: np.ndarray, y: np.ndarray, batch_size: int, seed: int | None):
    """A tf.data pipeline (seeded shuffle each epoch, batch, prefetch); plain arrays where the
    backend is not TensorFlow (Keras batches and shuffles those itself)."""
    if keras.backend.backend() != "tensorflow":
        return x, y
    import tensorflow as tf

    data = tf.data.Dataset.from_tensor_slices((x, y))
    if seed is not None:
        data = data.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    return data.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def fit(
    model: keras.Model,
    train: tuple[np.ndarray, np.ndarray],
    validation: tuple[np.ndarray, np.ndarray] | None,
    epochs: int,
    batch_size: int,
    callbacks: list[keras.callbacks.Callback],
    seed: int = 0,
) -> dict[str, list[float]]:
    """Train (shuffling with `seed` each epoch) and return the per-epoch history."""
    data = batches(*train, batch_size, seed)
    arrays = isinstance(data, tuple)
    history = model.fit(
        *(data if arrays else (data,)),
        batch_size=batch_size if arrays else None,
        shuffle=arrays,
        validation_data=None if validation is None else batches(*validation, batch_size, None),
        epochs=epochs,
        callbacks=[EpochTimer(), *callbacks],
        verbose=1 if sys.stdout.isatty() else 2,
    )
    return {k: [float(v) for v in values] for k, values in history.history.items()}
