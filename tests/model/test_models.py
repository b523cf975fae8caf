"""Model behaviour: the lecture's architectures, cuDNN eligibility, seeded reproducibility, learning."""

import keras
import numpy as np
import pytest

from lstmops import models, training
from lstmops.config import ForecastTrain, LstmopsError, SentimentTrain


def _layer(model, kind: str):
    return next(layer for layer in model.layers if layer.__class__.__name__ == kind)


def _lstm(model):
    return _layer(model, "LSTM")


def test_stock_model_is_the_lecture_model():
    model = models.price_model(7, 5, ForecastTrain())
    lstm = _lstm(model)
    assert lstm.units == 16 and lstm.activation.__name__ == "relu"
    assert model.output_shape == (None, 1)
    assert model.loss == "mse"


def test_imdb_lstm_is_eligible_for_cudnn():
    model = models.sentiment_model(10000, 80, SentimentTrain())
    lstm = _lstm(model)
    assert lstm.units == 128
    assert lstm.activation.__name__ == "tanh" and lstm.recurrent_activation.__name__ == "sigmoid"
    assert lstm.recurrent_dropout == 0 and not lstm.unroll and lstm.use_bias
    embedding = _layer(model, "Embedding")
    assert embedding.input_dim == 10000 and embedding.output_dim == 128
    assert model.output_shape == (None, 1)


def _train_stock(seed: int, x: np.ndarray, y: np.ndarray):
    params = ForecastTrain(epochs=3, batch_size=8, seed=seed)
    training.seed_everything(seed)
    model = models.price_model(x.shape[1], x.shape[2], params)
    history = training.fit(model, (x, y), None, params.epochs, params.batch_size, [])
    return model, history


def _sine_windows(n: int = 200, seq_length: int = 7):
    from lstmops.features import make_windows

    t = np.arange(n + seq_length)
    series = (np.sin(t / 5) + 1) / 2
    return [a.astype("float32") for a in make_windows(series[:, None], seq_length, 0)]


def test_same_seed_same_weights():
    x, y = _sine_windows()
    first, _ = _train_stock(7, x, y)
    second, _ = _train_stock(7, x, y)
    for a, b in zip(first.get_weights(), second.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_stock_model_learns_a_sine_wave():
    x, y = _sine_windows()
    params = ForecastTrain(
        epochs=30, batch_size=16, activation="tanh", units=16, learning_rate=0.01
    )
    training.seed_everything(1)
    model = models.price_model(7, 1, params)
    history = training.fit(model, (x, y), None, params.epochs, params.batch_size, [])
    assert history["loss"][-1] < 0.1 * history["loss"][0]
    assert len(history["epoch_seconds"]) == 30


def test_validation_slices():
    x, y = np.arange(10), np.arange(10)
    (fx, _), (vx, _) = training.tail_split(x, y, 0.2)
    np.testing.assert_array_equal(vx, [8, 9])  # the end of the training period
    np.testing.assert_array_equal(fx, np.arange(8))
    fx, vx = training.shuffled_rows(10, 0.3, seed=0)
    assert sorted([*fx, *vx]) == list(range(10)) and len(vx) == 3
    assert training.tail_split(x, y, 0.0)[1] is None
    # by group: a movie's reviews all train or all validate; a review without one is its own
    groups = np.array(["a", "a", "a", "b", "b", "c", "", "", "d", "d"], dtype=object)
    fx, vx = training.grouped_rows(groups, 0.3, seed=0)
    assert sorted([*fx, *vx]) == list(range(10)) and 2 <= len(vx) <= 5
    assert not set(groups[vx][groups[vx] != ""]) & set(groups[fx])
    np.testing.assert_array_equal(training.grouped_rows(groups, 0.3, seed=0)[1], vx)  # seeded


def test_device_selection_on_this_machine():
    info = training.select_device("auto")
    assert info["device"] in ("cpu", "gpu") and info["keras_version"]
    assert training.select_device("cpu")["device"] == "cpu"
    if info["device"] == "cpu":
        with pytest.raises(LstmopsError, match="no GPU"):
            training.select_device("gpu")


def test_cudnn_eligibility_follows_the_activation():
    assert models.cudnn_eligible(models.sentiment_model(100, 10, SentimentTrain()))
    assert not models.cudnn_eligible(
        models.price_model(7, 5, ForecastTrain())
    )  # the lecture's relu
    assert models.cudnn_eligible(models.price_model(7, 5, ForecastTrain(activation="tanh")))


def test_mixed_precision_only_on_a_gpu_with_a_float32_output():
    import keras

    try:
        assert training.set_precision(True, "cpu") == "float32"
        assert training.set_precision(True, "gpu") == "mixed_float16"
        model = models.sentiment_model(100, 10, SentimentTrain())
        assert _lstm(model).compute_dtype == "float16"  # the LSTM computes in float16
        assert model.layers[-1].compute_dtype == "float32"  # the sigmoid output does not
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_preset_architectures_stack_and_wrap_lstms():
    import keras

    stacked = models.sentiment_model(100, 20, SentimentTrain(layers=2, units=8, dropout=0.2))
    lstms = [layer for layer in stacked.layers if isinstance(layer, keras.layers.LSTM)]
    assert [layer.return_sequences for layer in lstms] == [True, False]
    assert sum(isinstance(layer, keras.layers.Dropout) for layer in stacked.layers) == 2
    bilstm = models.sentiment_model(100, 20, SentimentTrain(bidirectional=True, units=8))
    assert _layer(bilstm, "Bidirectional").output.shape == (None, 16)
    assert models.cudnn_eligible(stacked) and models.cudnn_eligible(bilstm)


def test_pooled_preset_reads_every_time_step():
    params = SentimentTrain(bidirectional=True, units=8, embedding_dropout=0.3, pooling="max_mean")
    model = models.sentiment_model(100, 20, params)
    assert _layer(model, "SpatialDropout1D").rate == 0.3
    assert _layer(model, "Bidirectional").output.shape == (None, 20, 16)  # every step...
    assert _layer(model, "Concatenate").output.shape == (None, 32)  # ...max and mean pooled
    assert model.output_shape == (None, 1) and models.cudnn_eligible(model)


def test_validation_callbacks_follow_the_patience_params():
    import keras

    params = SentimentTrain(early_stopping_patience=2, reduce_lr_patience=1)
    validation = (np.zeros((4, 10)), np.zeros(4))
    reduce, stop = training.validation_callbacks(params, validation)
    assert isinstance(reduce, keras.callbacks.ReduceLROnPlateau) and reduce.patience == 1
    assert isinstance(stop, keras.callbacks.EarlyStopping) and stop.restore_best_weights
    assert training.validation_callbacks(params, None) == []  # nothing to watch
    assert training.validation_callbacks(SentimentTrain(), validation) == []  # both off by default


def test_members_train_side_by_side_and_predict_their_mean():
    x, y = _sine_windows(60)
    params = ForecastTrain(epochs=2, batch_size=16, members=3, activation="tanh")
    training.seed_everything(3)
    model = models.price_model(7, 1, params)
    assert model.output_shape == (None, 3)  # one column a member while training
    history = training.fit(model, (x, y), (x[:10], y[:10]), params.epochs, params.batch_size, [])
    assert len(history["val_loss"]) == 2
    columns = model.predict(x, verbose=0)
    assert not np.allclose(columns[:, 0], columns[:, 1])  # initialised apart
    predicting = models.for_prediction(model)
    assert predicting.output_shape == (None, 1)
    np.testing.assert_allclose(
        predicting.predict(x, verbose=0)[:, 0], columns.mean(axis=1), rtol=1e-5
    )
    single = models.sentiment_model(100, 10, SentimentTrain())
    assert models.for_prediction(single) is single


def test_shrunk_model_pulls_outputs_toward_the_center_and_survives_saving(tmp_path):
    import keras

    x, y = _sine_windows(40)
    model = models.price_model(7, 1, ForecastTrain(epochs=1))
    shrunk = models.shrunk(model, 0.25, 0.4)
    raw = model.predict(x, verbose=0)
    np.testing.assert_allclose(shrunk.predict(x, verbose=0), 0.25 + 0.4 * (raw - 0.25), rtol=1e-5)
    shrunk.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), shrunk.predict(x, verbose=0))
    fitted, factor = training.predicting_model(model, (x, y), 0.5)
    assert 0 <= factor <= 1 and fitted.output_shape == (None, 1)
    assert training.predicting_model(model, (x, y), None) == (model, None)  # shrink off


def test_ensemble_survives_save_and_load(tmp_path):
    import keras

    model = models.sentiment_model(
        50, 6, SentimentTrain(members=2, units=4, embedding_dim=4, pooling="max")
    )
    ids = np.random.default_rng(0).integers(0, 50, size=(5, 6)).astype("int32")
    columns = model.predict(ids, verbose=0)
    labels = (np.arange(5) % 2).astype("float32")
    logs = model.evaluate(ids, training.member_targets(labels, model), verbose=0, return_dict=True)
    assert logs["accuracy"] == pytest.approx(((columns > 0.5) == labels[:, None]).mean())
    expected = columns.mean(axis=1)
    models.for_prediction(model).save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(loaded.predict(ids, verbose=0)[:, 0], expected, rtol=1e-5)
    assert models.cudnn_eligible(model)


def test_a_pretrained_classifier_starts_from_the_language_models_weights():
    from lstmops.config import SentimentPretrain

    lm_params = SentimentPretrain(num_words=50, output_words=20, embedding_dim=8, units=6)
    training.seed_everything(1)
    language_model = models.language_model(lm_params)
    x = np.random.default_rng(0).integers(2, 50, size=(64, lm_params.seq_length))
    language_model.fit(x, np.minimum(x, 19), epochs=1, verbose=0)  # no longer its initial weights
    assert language_model.output_shape == (None, lm_params.seq_length, 20)
    params = SentimentTrain(embedding_dim=8, units=6, pooling="max_mean", members=2)
    classifier = models.sentiment_model(50, 30, params)
    models.start_from(classifier, language_model)
    embeddings = [lr for lr in classifier.layers if lr.__class__.__name__ == "Embedding"]
    lstms = [lr for lr in classifier.layers if lr.__class__.__name__ == "LSTM"]
    assert len(embeddings) == len(lstms) == 2  # each member's
    for layer in embeddings + lstms:
        source = _layer(language_model, layer.__class__.__name__)
        for a, b in zip(layer.get_weights(), source.get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)


def _reviews(n: int, maxlen: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.zeros((n, maxlen), dtype=np.int32)
    for row in range(n):
        length = rng.integers(1, maxlen + 1)
        x[row, maxlen - length :] = rng.integers(2, 50, length)
    return x, (x == 7).any(axis=1).astype(np.int32)


@pytest.mark.parametrize("pooling", ["last", "max", "max_mean"])
def test_a_bucketing_model_ignores_its_padding(pooling, tmp_path):
    """The same review scores the same however much padding is in front of it, before and after
    saving: the LSTMs carry their state over the mask and the pooling leaves it out."""
    params = SentimentTrain(
        units=4, embedding_dim=4, bidirectional=True, pooling=pooling, bucketing=True
    )
    model = models.sentiment_model(50, 20, params)
    assert model.input_shape == (None, None)
    x, _ = _reviews(6, 20)
    padded = np.pad(x, ((0, 0), (30, 0)))
    np.testing.assert_allclose(
        model.predict(padded, verbose=0), model.predict(x, verbose=0), atol=1e-6
    )
    model.save(tmp_path / "model.keras")
    again = keras.saving.load_model(tmp_path / "model.keras", compile=False)
    np.testing.assert_allclose(
        again.predict(padded, verbose=0), model.predict(x, verbose=0), atol=1e-6
    )


def test_bucketing_trains_on_batches_only_as_wide_as_their_reviews():
    from lstmops import features

    seen = []

    class Batches(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            seen.append(batch)

    x, y = _reviews(320, 200)
    x[:, :150] = 0  # every review at most 50 words: a batch is never 200 wide
    data = training.LengthBatches(x, y, 32, seed=1)
    widths = [data[i][0].shape[1] for i in range(len(data))]
    assert max(widths) <= 64 and len(set(widths)) > 1
    first = [rows.copy() for rows in data.order]
    data.on_epoch_end()  # the next epoch: another order, the one a restored run starts from
    resumed = training.LengthBatches(x, y, 32, seed=1, epoch=1)
    assert all((a == b).all() for a, b in zip(data.order, resumed.order, strict=True))
    assert not all((a == b).all() for a, b in zip(first, data.order, strict=True))
    model = models.sentiment_model(
        50, 200, SentimentTrain(units=4, embedding_dim=4, bucketing=True)
    )
    history = training.fit(model, (x, y), (x[:64], y[:64]), 2, 32, [Batches()], 1)
    assert len(history["loss"]) == 2 and len(seen) == 2 * len(data)
    assert min(widths) >= features.WIDTH_STEP
