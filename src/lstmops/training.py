"""Fit-loop wiring: device choice, seeds, validation slice, callbacks. Backend-agnostic Keras 3."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from pathlib import Path

import keras
import numpy as np

from lstmops import features, models
from lstmops.config import LstmopsError, Train
from lstmops.io import atomic_path


def _gpu_names(backend: str) -> list[str]:
    if backend == "tensorflow":
        import tensorflow as tf  # the backend Keras runs on: only that one is imported

        return [
            tf.config.experimental.get_device_details(d).get("device_name", d.name)
            for d in tf.config.list_physical_devices("GPU")
        ]
    if backend == "jax":
        import jax  # the backend Keras runs on: only that one is imported

        return [d.device_kind for d in jax.devices() if d.platform == "gpu"]
    if backend == "torch":
        import torch  # the backend Keras runs on: only that one is imported

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
TF_CONFIG_ENV = "TF_CONFIG"  # the cluster of a multi_worker run, as tf.distribute reads it


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
    import tensorflow as tf  # the backend Keras runs on: only that one is imported

    if distribution == "multi_worker":
        if not os.environ.get(TF_CONFIG_ENV):
            raise LstmopsError(
                "train.distribution=multi_worker needs the TF_CONFIG environment variable: the "
                "cluster's workers and this one's index (README: 'Several machines'). Set it on "
                "every worker, or use `mirrored` or `none`."
            )
        return tf.distribute.MultiWorkerMirroredStrategy()
    cpus = tf.config.list_physical_devices("CPU")
    if os.environ.get(CPU_DEVICES_ENV) and not tf.config.list_physical_devices("GPU"):
        count = int(os.environ[CPU_DEVICES_ENV])
        tf.config.set_logical_device_configuration(
            cpus[0], [tf.config.LogicalDeviceConfiguration() for _ in range(count)]
        )
    gpus = tf.config.list_logical_devices("GPU")
    devices = [d.name for d in (gpus or tf.config.list_logical_devices("CPU"))]
    return tf.distribute.MirroredStrategy(devices=devices)


def is_multi_worker(strategy) -> bool:
    if strategy is None:
        return False
    import tensorflow as tf  # the backend Keras runs on: only that one is imported

    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def is_chief(strategy) -> bool:
    """Whether this process tracks the run and writes outputs: all but the other workers of a cluster."""
    if not is_multi_worker(strategy):
        return True
    resolver = strategy.cluster_resolver
    return resolver.task_type in (None, "chief") or (
        resolver.task_type == "worker" and resolver.task_id == 0
    )


def replicas(strategy) -> int:
    return strategy.num_replicas_in_sync if strategy is not None else 1


def scope(strategy):
    return strategy.scope() if strategy is not None else contextlib.nullcontext()


def seed_everything(seed: int) -> None:
    """Same seed, same data, same CPU -> the same model (TensorFlow's ops made deterministic too)."""
    keras.utils.set_random_seed(seed)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf  # the backend Keras runs on: only that one is imported

        tf.config.experimental.enable_op_determinism()


def tail_split(
    x: np.ndarray, y: np.ndarray, fraction: float, groups: np.ndarray | None = None
) -> tuple[tuple, tuple | None]:
    """Hold out the last `fraction` of the rows (the end of the training period for a time
    series); with `groups` (each row's series, each series' rows in time order), the last
    `fraction` of every group's rows."""
    if fraction == 0:
        return (x, y), None
    groups = np.zeros(len(x), dtype=int) if groups is None else np.asarray(groups)
    held = np.zeros(len(x), dtype=bool)
    for group in np.unique(groups):
        (rows,) = np.nonzero(groups == group)
        n_val = int(len(rows) * fraction)
        if n_val == 0 or n_val == len(rows):
            raise LstmopsError(
                f"train.validation_fraction={fraction} of {len(rows)} training rows leaves "
                f"{n_val} for validation and {len(rows) - n_val} to train on; both need at least "
                "one. Change validation_fraction, or give the training period more rows (a longer "
                "series, or a smaller preprocess.seq_length or larger train_fraction)."
            )
        held[rows[len(rows) - n_val :]] = True
    return (x[~held], y[~held]), (x[held], y[held])


def shuffled_rows(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The indices of `n` rows that train and those held out: a seeded random `fraction` (for
    data with no time order, sorted by label)."""
    order = np.random.default_rng(seed).permutation(n)
    (fit_rows, _), held = tail_split(order, order, fraction)
    return fit_rows, order[:0] if held is None else held[0]


def grouped_rows(groups: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The indices of the rows that train and those held out, holding out whole groups: a seeded
    order of the groups, taken until they hold about `fraction` of the rows. A row without a
    group (None, "") is a group of its own."""
    names = np.array([g if g else f"\0row{i}" for i, g in enumerate(groups)], dtype=object)
    unique, codes = np.unique(names, return_inverse=True)
    order = np.random.default_rng(seed).permutation(len(unique))
    sizes = np.bincount(codes, minlength=len(unique))[order]
    held_groups = order[: int(np.searchsorted(np.cumsum(sizes), fraction * len(groups))) + 1]
    held = np.isin(codes, held_groups) if fraction else np.zeros(len(groups), dtype=bool)
    shuffle = np.random.default_rng(seed).permutation(len(groups))
    return shuffle[~held[shuffle]], shuffle[held[shuffle]]


class EpochTimer(keras.callbacks.Callback):
    """Records each epoch's wall time, so runs show training speed beside their curves."""

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None:
            logs["epoch_seconds"] = time.perf_counter() - self._start


# What early stopping and learning-rate reduction remember between epochs (best_weights apart).
WATCHER_STATE = ("wait", "best", "best_epoch", "stopped_epoch", "cooldown_counter")


def state_variables(model: keras.Model) -> list:
    """Everything a fit changes: the weights, the dropout layers' seed generators and the optimizer's
    variables (step count and learning rate included)."""
    if model.optimizer is not None and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    return [*model.variables, *(model.optimizer.variables if model.optimizer else [])]


class Checkpoint(keras.callbacks.Callback):
    """The whole training state in one file, replaced atomically at most every `interval_s` seconds
    after an epoch: the model's and optimizer's variables, the per-epoch history and what the
    `watchers` (early stopping, learning-rate reduction) remember. `restore` puts it back before
    `fit`, which then continues from the restored epoch (its shuffle order advanced by `fit`) exactly
    as an uninterrupted run would.

    Saving every epoch cost 17% of the stock model's training time (its epochs take 0.1 s);
    throttled, a kill loses at most `interval_s` seconds of training. `before_save` runs first (the
    train stage flushes MLflow's asynchronous logging there, so no saved epoch is missing from it).
    """

    def __init__(self, path: Path, interval_s: float, watchers=(), before_save=None) -> None:
        super().__init__()
        self.path = path
        self.interval_s = interval_s
        self.watchers = list(watchers)
        self.before_save = before_save
        self.history: dict[str, list[float]] = {}
        self._restored: list[dict] | None = None
        self._saved_at = time.monotonic()

    def restore(self, model: keras.Model) -> int:
        """Load the saved state into `model`, if there is one; return the epochs it covers."""
        if not self.path.is_file():
            return 0
        with np.load(self.path) as saved:
            meta = json.loads(str(saved["meta"]))
            for i, variable in enumerate(state_variables(model)):
                variable.assign(saved[f"variable_{i}"])
            for i, watcher in enumerate(meta["watchers"]):
                count = watcher.pop("best_weights", None)
                if count is not None:
                    watcher["best_weights"] = [saved[f"best_{i}_{j}"] for j in range(count)]
        self.history, self._restored = meta["history"], meta["watchers"]
        return meta["epoch"]

    def on_train_begin(self, logs: dict | None = None) -> None:
        for watcher, state in zip(self.watchers, self._restored or [], strict=False):
            watcher.__dict__.update(state)  # after their own on_train_begin reset them

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        if time.monotonic() - self._saved_at >= self.interval_s:
            if self.before_save is not None:
                self.before_save()
            self._save(epoch + 1)
            self._saved_at = time.monotonic()

    def _save(self, epochs: int) -> None:
        arrays = {f"variable_{i}": v.numpy() for i, v in enumerate(state_variables(self.model))}
        watchers = []
        for i, watcher in enumerate(self.watchers):
            state = {k: _plain(getattr(watcher, k)) for k in WATCHER_STATE if hasattr(watcher, k)}
            best = getattr(watcher, "best_weights", None)
            if best is not None:
                state["best_weights"] = len(best)
                arrays.update({f"best_{i}_{j}": w for j, w in enumerate(best)})
            watchers.append(state)
        meta = {"epoch": epochs, "history": self.history, "watchers": watchers}
        with atomic_path(self.path) as tmp, tmp.open("wb") as f:
            np.savez(f, meta=np.array(json.dumps(meta)), **arrays)


def _plain(value):
    """A watcher's number (numpy or Python, possibly infinite) as a JSON-ready Python number."""
    return value.item() if hasattr(value, "item") else value


class EpochLogger(keras.callbacks.Callback):
    """Hands each epoch's logs to `log(metrics, step)`, step = the epoch counted from 1 (as DVC and
    the plots count), leaving out the (name, step) pairs in `already`: a resumed run re-runs the
    epochs after its last checkpoint, with the same values, and each pair is logged once."""

    def __init__(self, log, already: frozenset | set[tuple[str, int]] = frozenset()) -> None:
        super().__init__()
        self.log, self.already = log, already

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        step = epoch + 1
        new = {k: float(v) for k, v in (logs or {}).items() if (k, step) not in self.already}
        if new:
            self.log(new, step)


def validation_callbacks(params: Train, validation: tuple | None) -> list[keras.callbacks.Callback]:
    """What watches val_loss: a lower learning rate after `reduce_lr_patience` epochs without a
    better one, a stop after `early_stopping_patience` (best weights kept); 0 turns either off."""
    if validation is None:
        return []
    callbacks: list[keras.callbacks.Callback] = []
    if params.reduce_lr_patience:
        callbacks.append(
            keras.callbacks.ReduceLROnPlateau(factor=0.2, patience=params.reduce_lr_patience)
        )
    if params.early_stopping_patience:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                patience=params.early_stopping_patience, restore_best_weights=True
            )
        )
    return callbacks


def batches(x: np.ndarray, y: np.ndarray, batch_size: int, seed: int | None):
    """A tf.data pipeline (seeded shuffle each epoch, batch, prefetch); plain arrays where the
    backend is not TensorFlow (Keras batches and shuffles those itself)."""
    if keras.backend.backend() != "tensorflow":
        return x, y
    import tensorflow as tf  # the backend Keras runs on: only that one is imported

    data = tf.data.Dataset.from_tensor_slices((x, y))
    if seed is not None:
        data = data.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    return data.batch(batch_size).prefetch(tf.data.AUTOTUNE)


PREDICT_BATCH = 256  # rows of similar length predicted at once


class LengthBatches(keras.utils.PyDataset):
    """Front-padded token ids in batches of similar length (features.length_batches), each cut to
    its width: an LSTM pays for the words a batch holds, not for maxlen. A new seeded order each
    epoch; `epoch` starts a restored run where it stopped."""

    def __init__(
        self, x: np.ndarray, y: np.ndarray, batch_size: int, seed: int | None, epoch: int = 0
    ):
        super().__init__()
        self.x, self.y, self.batch_size, self.seed, self.epoch = x, y, batch_size, seed, epoch
        self.row_lengths = features.lengths(x)
        self.order = features.length_batches(self.row_lengths, batch_size, seed, epoch)

    def __len__(self) -> int:
        return len(self.order)

    def __getitem__(self, index: int):
        rows = self.order[index]
        return features.trim_padding(self.x[rows], self.row_lengths[rows]), self.y[rows]

    def on_epoch_end(self) -> None:
        if self.seed is not None:
            self.epoch += 1
            self.order = features.length_batches(
                self.row_lengths, self.batch_size, self.seed, self.epoch
            )


def predict(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """A one-column model's outputs for `x`, (rows,); a model of ids of any length
    (train.bucketing) reads them in batches of similar length, each only as wide as it needs."""
    if not models.any_length(model):
        return model.predict(x, verbose=0).reshape(-1)
    data = LengthBatches(x, np.zeros(len(x), dtype=np.float32), PREDICT_BATCH, None)
    out = np.empty(len(x), dtype=np.float32)
    out[np.concatenate(data.order)] = model.predict(data, verbose=0).reshape(-1)
    return out


def predicting_model(
    model: keras.Model, validation: tuple | None, no_change: float | None
) -> tuple[keras.Model, float | None]:
    """What is saved and scored: an ensemble's mean, shrunk toward `no_change` (the output for
    persistence) by the factor fitted on the validation slice when one is given (train.shrink),
    and that factor (None without shrinking)."""
    predicting = models.for_prediction(model)
    if no_change is None or validation is None:  # shrinking needs the slice (config checks)
        return predicting, None
    predicted = predicting.predict(validation[0], verbose=0)
    factor = features.shrink_factor(validation[1], predicted, no_change)
    return models.shrunk(predicting, no_change, factor), factor


def member_targets(y: np.ndarray, model: keras.Model) -> np.ndarray:
    """(rows,) or (rows, steps) targets -> (rows, outputs): the targets once for each member of
    the model's ensemble, side by side as its outputs are."""
    y = np.asarray(y).reshape(len(y), -1)
    return np.tile(y, (1, model.output_shape[-1] // y.shape[1]))


def fit(
    model: keras.Model,
    train: tuple[np.ndarray, np.ndarray],
    validation: tuple[np.ndarray, np.ndarray] | None,
    epochs: int,
    batch_size: int,
    callbacks: list[keras.callbacks.Callback],
    seed: int = 0,
    strategy=None,
    initial_epoch: int = 0,
) -> dict[str, list[float]]:
    """Train (shuffling with `seed` each epoch) and return the history of the epochs run.

    Every member of an ensemble (models.MEMBERS) learns the same target: it is given once per member.
    `initial_epoch` > 0 continues a restored run: the input pipeline's shuffle order is advanced to
    that epoch, so the run sees the same batches as one that was never stopped.
    """
    train, validation = (  # type: ignore[assignment]  # train is never None
        None if part is None else (part[0], member_targets(part[1], model))
        for part in (train, validation)
    )
    if is_multi_worker(strategy):
        return _fit_multi_worker(
            model, train, validation, epochs, batch_size, callbacks, seed, strategy
        )
    if models.any_length(model):  # batches of similar length
        return _fit(
            model,
            LengthBatches(*train, batch_size, seed, initial_epoch),
            None if validation is None else LengthBatches(*validation, batch_size, None),
            epochs,
            callbacks,
            initial_epoch,
        )
    data = batches(*train, batch_size, seed)
    arrays = isinstance(data, tuple)
    # Each new iterator draws the next shuffle order, and fit makes two an epoch (the second, made
    # ahead at the end of an epoch, goes unused): a restored run skips as many as fit made before.
    for _ in range(0 if arrays else 2 * initial_epoch):
        iter(data)
    return _fit(
        model,
        data,
        None if validation is None else batches(*validation, batch_size, None),
        epochs,
        callbacks,
        initial_epoch,
        batch_size=batch_size if arrays else None,
        shuffle=arrays,
    )


def _fit(model, data, validation, epochs, callbacks, initial_epoch, **arrays):
    """model.fit on `data` (a pipeline, a PyDataset or an (x, y) pair with `arrays`' batch_size and
    shuffle); the history of the epochs run."""
    history = model.fit(
        *(data if isinstance(data, tuple) else (data,)),
        validation_data=validation,
        epochs=epochs,
        initial_epoch=initial_epoch,
        callbacks=[EpochTimer(), *callbacks],
        verbose=1 if sys.stdout.isatty() else 2,
        **arrays,
    )
    return {k: [float(v) for v in values] for k, values in history.history.items()}


def _multi_worker_steps(model, strategy, batch_size: int):
    """The compiled steps of the multi-worker loop: a distributed dataset of (x, y), one training
    step on a global batch (its mean loss), and a batch's summed validation loss."""
    import tensorflow as tf  # only a multi_worker run needs TensorFlow's distribution API

    loss_fn = keras.losses.get(model.loss)
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA

    def distributed(x, y, shuffle_seed):
        data = tf.data.Dataset.from_tensor_slices((x, y))
        if shuffle_seed is not None:
            data = data.shuffle(len(x), seed=shuffle_seed, reshuffle_each_iteration=True)
        return strategy.experimental_distribute_dataset(
            data.batch(batch_size).with_options(options)
        )

    def per_sample(x, y, training):
        predicted = model(x, training=training)
        return loss_fn(tf.cast(y, predicted.dtype), predicted)

    @tf.function
    def train_step(x, y):
        def replica(x, y):
            with tf.GradientTape() as tape:
                loss = tf.nn.compute_average_loss(
                    per_sample(x, y, True), global_batch_size=batch_size
                )
                # Under mixed_float16 the optimizer is a LossScaleOptimizer: its apply unscales
                # the gradients, so they must come from the scaled loss (a no-op otherwise).
                scaled = model.optimizer.scale_loss(loss)
            gradients = tape.gradient(scaled, model.trainable_variables)
            model.optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
            return loss

        return strategy.reduce("SUM", strategy.run(replica, args=(x, y)), axis=None)

    @tf.function
    def loss_sum(x, y):
        def replica(x, y):
            return tf.reduce_sum(per_sample(x, y, False))

        return strategy.reduce("SUM", strategy.run(replica, args=(x, y)), axis=None)

    return distributed, train_step, loss_sum


def _fit_multi_worker(model, train, validation, epochs, batch_size, callbacks, seed, strategy):
    """The loss-only training loop for MultiWorkerMirroredStrategy, whose batches Keras 3's
    Model.fit cannot take (keras-team/keras#20585): each worker reads its shard of every global
    batch, gradients are all-reduced, and the Keras callbacks (early stopping, history, MLflow)
    see the same per-epoch logs as under fit. Compiled metrics other than the loss are not kept."""
    distributed, train_step, loss_sum = _multi_worker_steps(model, strategy, batch_size)
    train_data = distributed(*train, seed)
    val_data = None if validation is None else distributed(*validation, None)
    hooks = keras.callbacks.CallbackList([EpochTimer(), *callbacks], model=model)
    model.stop_training = False
    history: dict[str, list[float]] = {}
    hooks.on_train_begin()
    for epoch in range(epochs):
        hooks.on_epoch_begin(epoch)
        losses = [float(train_step(x, y)) for x, y in train_data]
        logs = {"loss": float(np.mean(losses))}
        if val_data is not None:
            logs["val_loss"] = sum(float(loss_sum(x, y)) for x, y in val_data) / len(validation[0])
        hooks.on_epoch_end(epoch, logs)
        for key, value in logs.items():
            history.setdefault(key, []).append(float(value))
        print(
            f"Epoch {epoch + 1}/{epochs} - " + " - ".join(f"{k}: {v:.4g}" for k, v in logs.items())
        )
        if model.stop_training:
            break
    hooks.on_train_end()
    return history
