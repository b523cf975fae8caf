"""Keras model builders from settings, written against Keras 3's own API (any backend)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import keras

from lstmops.config import ForecastTrain, SentimentPretrain, SentimentTrain, Train

MEMBERS = "members"  # the layer that puts the members' outputs side by side while training


def _side_by_side(outputs: list) -> keras.KerasTensor:
    """One member's output as it is; several as columns, each trained against the same target."""
    if len(outputs) == 1:
        return outputs[0]
    return keras.layers.Concatenate(name=MEMBERS, dtype="float32")(outputs)


def _compiled(inputs, member, params: Train, name: str, loss: str, metric) -> keras.Model:
    """`params.members` models built by `member` on the same inputs, side by side, under Adam."""
    outputs = [member(inputs) for _ in range(params.members)]
    model = keras.Model(inputs, _side_by_side(outputs), name=name)
    model.compile(
        optimizer=keras.optimizers.Adam(params.learning_rate), loss=loss, metrics=[metric]
    )
    return model


def any_length(model: keras.Model) -> bool:
    """Whether the model takes ids of any length (train.bucketing), not one fixed width."""
    return model.input_shape[1] is None


def for_prediction(model: keras.Model) -> keras.Model:
    """The model that predicts: an ensemble's members averaged into one column; else `model` itself.

    It shares the trained weights, so it is what the train stage saves and the walk-forward scores.
    """
    try:
        members = model.get_layer(MEMBERS)
    except ValueError:
        return model
    mean = keras.layers.Average(name="mean", dtype="float32")(members.input)
    return keras.Model(model.inputs, mean, name=model.name)


def shrunk(model: keras.Model, center: float, factor: float) -> keras.Model:
    """`model` with its output pulled toward `center`: center + factor * (output - center)."""
    rescale = keras.layers.Rescaling(factor, offset=(1 - factor) * center, dtype="float32")
    return keras.Model(model.inputs, rescale(model.outputs[0]), name=model.name)


def price_model(
    seq_length: int, n_features: int, params: ForecastTrain, horizon: int = 1
) -> keras.Model:
    """The lecture's regressor: LSTM(units, activation) -> Dense(horizon), one output for each
    step ahead, MSE, Adam; `members` of them side by side for an ensemble (for_prediction
    averages them)."""
    return _compiled(
        keras.Input(shape=(seq_length, n_features)),
        lambda inputs: _price_member(inputs, params, horizon),
        params,
        "stock_lstm",
        "mse",
        keras.metrics.RootMeanSquaredError(name="rmse"),
    )


def _price_member(
    inputs: keras.KerasTensor, params: ForecastTrain, horizon: int
) -> keras.KerasTensor:
    x = keras.layers.LSTM(params.units, activation=params.activation)(inputs)
    return keras.layers.Dense(horizon, dtype="float32")(x)  # float32 output under mixed precision


@keras.saving.register_keras_serializable(package="lstmops")
class MaskedGlobalMaxPooling1D(keras.layers.Layer):
    """The largest value of each feature over the steps the mask keeps (Keras's
    GlobalMaxPooling1D ignores a mask, so padding would take part in the maximum)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is not None:
            kept = keras.ops.expand_dims(keras.ops.cast(mask, "bool"), -1)
            inputs = keras.ops.where(kept, inputs, keras.ops.full_like(inputs, -1e9))
        return keras.ops.max(inputs, axis=1)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])


def sentiment_model(num_words: int, maxlen: int, params: SentimentTrain) -> keras.Model:
    """The lecture's classifier: Embedding -> LSTM -> Dense(1, sigmoid), binary cross-entropy, Adam;
    with params for what the stronger presets use: dropout on the embedded words, stacked and
    bidirectional LSTMs, dropout after each, and pooling over every time step instead of the last;
    `members` of them side by side for an ensemble (for_prediction averages them).

    With train.bucketing the model takes ids of any length (training batches are as wide as their
    longest review) and masks the padding: the LSTMs carry their state over it and the pooling
    leaves it out.

    The LSTMs keep Keras's defaults (tanh, sigmoid, no recurrent dropout) so that they are eligible
    for the cuDNN kernel on a GPU.
    """
    return _compiled(
        keras.Input(shape=(None if params.bucketing else maxlen,), dtype="int32"),
        lambda inputs: _sentiment_member(inputs, num_words, params),
        params,
        "imdb_lstm",
        "binary_crossentropy",
        # named, not "accuracy": Keras would read several members' columns as categories
        keras.metrics.BinaryAccuracy(name="accuracy"),
    )


def _sentiment_member(
    inputs: keras.KerasTensor, num_words: int, params: SentimentTrain
) -> keras.KerasTensor:
    x = keras.layers.Embedding(num_words, params.embedding_dim, mask_zero=params.bucketing)(inputs)
    if params.embedding_dropout:
        x = keras.layers.SpatialDropout1D(params.embedding_dropout)(x)  # whole word vectors
    for i in range(params.layers):
        top = i == params.layers - 1
        lstm = keras.layers.LSTM(params.units, return_sequences=not top or params.pooling != "last")
        x = keras.layers.Bidirectional(lstm)(x) if params.bidirectional else lstm(x)
        largest = MaskedGlobalMaxPooling1D if params.bucketing else keras.layers.GlobalMaxPooling1D
        if top and params.pooling == "max":
            x = largest()(x)
        elif top and params.pooling == "max_mean":  # the mean leaves masked steps out itself
            x = keras.layers.Concatenate()([largest()(x), keras.layers.GlobalAveragePooling1D()(x)])
        if params.dropout:  # on what the next layer sees: for the top one, after pooling
            x = keras.layers.Dropout(params.dropout)(x)
    return keras.layers.Dense(1, activation="sigmoid", dtype="float32")(x)


def language_model(params: SentimentPretrain) -> keras.Model:
    """The pretrain stage's model: Embedding -> LSTM -> Dense over the `output_words` most frequent
    words, predicting each next word (cross-entropy on logits, Adam). Its embedding and LSTM have
    the shapes a pretrained classifier's have, which `start_from` copies."""
    inputs = keras.Input(shape=(params.seq_length,), dtype="int32")
    x = keras.layers.Embedding(params.num_words, params.embedding_dim)(inputs)
    x = keras.layers.LSTM(params.units, return_sequences=True)(x)
    logits = keras.layers.Dense(params.output_words, dtype="float32")(x)
    model = keras.Model(inputs, logits, name="language_model")
    model.compile(
        optimizer=keras.optimizers.Adam(params.learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model


def start_from(model: keras.Model, language_model: keras.Model) -> None:
    """Set every Embedding and LSTM of `model` (each member's) to the language model's weights."""
    pretrained = {
        kind: next(layer for layer in language_model.layers if isinstance(layer, kind))
        for kind in (keras.layers.Embedding, keras.layers.LSTM)
    }
    for layer in model.layers:
        for kind, source in pretrained.items():
            if type(layer) is kind:
                layer.set_weights(source.get_weights())


def cudnn_eligible(model: keras.Model) -> bool:
    """Whether every LSTM layer meets the cuDNN kernel's conditions (used on a GPU when true)."""
    lstms = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.Bidirectional):
            lstms += [layer.forward_layer, layer.backward_layer]
        elif isinstance(layer, keras.layers.LSTM):
            lstms.append(layer)
    return bool(lstms) and all(
        layer.activation is keras.activations.tanh
        and layer.recurrent_activation is keras.activations.sigmoid
        and layer.recurrent_dropout == 0
        and not layer.unroll
        and layer.use_bias
        for layer in lstms
    )


def load(path: Path | str, compile: bool = True) -> keras.Model:
    """A model `save` wrote; this module registers the layers of lstmops's own that it may hold."""
    return keras.saving.load_model(path, compile=compile)


ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry can hold


def _renumbered(config: object, ids: dict) -> object:
    """`config` with each shared_object_id (a memory address) replaced by its order of appearance."""
    if isinstance(config, list):
        return [_renumbered(item, ids) for item in config]
    if not isinstance(config, dict):
        return config
    return {
        key: ids.setdefault(value, len(ids))
        if key == "shared_object_id"
        else _renumbered(value, ids)
        for key, value in config.items()
    }


def save(model: keras.Model, path: Path) -> None:
    """`model.save(path)` without the run's accidents: the same weights give the same bytes, so DVC
    sees an unchanged model as unchanged. Keras stamps the save date into the archive and numbers
    shared objects by their memory address."""
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        entries = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w") as archive:
        for info, data in entries:
            if info.filename == "metadata.json":
                metadata = json.loads(data)
                metadata.pop("date_saved", None)
                data = json.dumps(metadata).encode()
            if info.filename == "config.json":
                data = json.dumps(_renumbered(json.loads(data), {})).encode()
            fixed = zipfile.ZipInfo(info.filename, date_time=ZIP_EPOCH)
            fixed.compress_type = info.compress_type
            archive.writestr(fixed, data)
