"""The served text model computes what the Keras model does, for any number of rows: straight
through its compiled predict function, in slices, with the vocabulary looked up once at load."""

import json

import mlflow.pyfunc
import numpy as np
import pandas as pd
import pytest

from lstmops import features as f
from lstmops import models, serving
from lstmops.config import SentimentTrain

MAXLEN = 12


def test_the_served_model_equals_keras_predict_for_any_number_of_rows(tmp_path):
    words = ["good", "bad", "film", "plot", "great", "awful", "dull", "fun"]
    vocabulary = ["", "[UNK]", *words]
    (tmp_path / "vocabulary.json").write_text(json.dumps(vocabulary))
    model = models.sentiment_model(
        len(vocabulary), MAXLEN, SentimentTrain(units=8, embedding_dim=4)
    )
    model.save(tmp_path / "model.keras")
    mlflow.pyfunc.save_model(
        tmp_path / "served",
        python_model=serving.SentimentModel(MAXLEN),
        artifacts={"model": str(tmp_path / "model.keras"), "vocabulary": str(tmp_path / "vocabulary.json")},
    )  # fmt: skip
    served = mlflow.pyfunc.load_model(str(tmp_path / "served"))
    rng = np.random.default_rng(0)
    rows = serving.PREDICT_BATCH * 2 + 3  # more than one slice
    texts = [" ".join(rng.choice([*words, "unseen"], rng.integers(1, 30))) for _ in range(rows)]
    ids = f.encode(f.standardize(texts), f.token_lookup(vocabulary), MAXLEN)
    expected = model.predict(ids, verbose=0).reshape(-1)
    for n in (1, 10, rows):
        answer = served.predict(pd.DataFrame({"text": texts[:n]}))
        np.testing.assert_allclose(answer["probability"], expected[:n], atol=1e-6)
        assert (answer["label"] == (expected[:n] >= 0.5)).all()


def test_the_served_hybrid_stacks_the_lstm_and_the_ngram_model_as_evaluate_does(tmp_path):
    """Raw text in: the LSTM's probability (a bucketing one: ids of any length), the n-gram
    logit of the same text with its marks (a comma here) and its document vector's logit,
    combined by the saved weights."""
    from lstmops import docvectors, ngrams

    words = ["good", "bad", "film", "plot"]
    vocabulary = ["", "[UNK]", *words]
    (tmp_path / "vocabulary.json").write_text(json.dumps(vocabulary))
    params = SentimentTrain(units=4, embedding_dim=4, bucketing=True)
    model = models.sentiment_model(len(vocabulary), MAXLEN, params)
    model.save(tmp_path / "model.keras")
    texts = ["a good film", "a bad plot, truly bad", "good good good", "bad film"] * 5
    standardized = f.standardize(texts)
    part = ngrams.fit(ngrams.features(texts), np.array([1, 0, 1, 0] * 5), 1.0)
    part.save(tmp_path / "ngrams.npz")
    vectors = docvectors.fit(texts, np.array([1, 0, 1, 0] * 5), ["an unlabelled film"] * 5)
    vectors.save(tmp_path / "docvectors")
    combination = ngrams.Combination({"lstm": 0.7, "ngrams": 1.3, "docvectors": 0.5}, bias=-0.2)
    (tmp_path / "combination.json").write_text(json.dumps(combination.as_dict()))
    artifacts = {name: str(tmp_path / file) for name, file in [("model", "model.keras"), ("vocabulary", "vocabulary.json"), ("ngrams", "ngrams.npz"), ("combination", "combination.json"), ("docvectors", "docvectors")]}  # fmt: skip
    mlflow.pyfunc.save_model(
        tmp_path / "served", python_model=serving.SentimentModel(MAXLEN), artifacts=artifacts
    )
    answer = mlflow.pyfunc.load_model(str(tmp_path / "served")).predict(
        pd.DataFrame({"text": texts})
    )
    lstm = model.predict(f.encode(standardized, f.token_lookup(vocabulary), MAXLEN), verbose=0)
    logits = {
        "lstm": ngrams.logit(lstm.reshape(-1)),
        "ngrams": part.logits(ngrams.features(texts)),
        "docvectors": vectors.logits(texts),
    }
    expected = combination.probabilities(logits)
    np.testing.assert_allclose(answer["probability"], expected, rtol=1e-6)
    assert (answer["label"] == (expected >= 0.5)).all()
    assert answer["label"].tolist()[:4] == [1, 0, 1, 0]  # the n-gram part's weight carries it


def test_the_served_price_model_gives_the_forecast_with_its_conformal_interval(tmp_path):
    import joblib

    from lstmops.config import ForecastPreprocess, ForecastTrain
    from lstmops.intervals import Conformal

    rng = np.random.default_rng(0)
    values = 100 + np.cumsum(rng.normal(0, 1, (300, 5)), axis=0)  # five random walks, "dollars"
    arrays, scaling = f.price_arrays(values, 200, ForecastPreprocess(), 4)
    model = models.price_model(7, 5, ForecastTrain(units=4))
    model.save(tmp_path / "model.keras")
    joblib.dump(scaling, tmp_path / "scaling.joblib")
    errors = rng.normal(0, 0.01, 40).tolist()
    (tmp_path / "calibration.json").write_text(json.dumps({"model": errors}))
    mlflow.pyfunc.save_model(
        tmp_path / "served",
        python_model=serving.PriceModel(7, 5, 0.9),
        artifacts={name: str(tmp_path / file) for name, file in
                   (("model", "model.keras"), ("scaling", "scaling.joblib"), ("calibration", "calibration.json"))},
    )  # fmt: skip
    served = mlflow.pyfunc.load_model(str(tmp_path / "served"))
    windows = arrays["windows_test"]
    answer = served.predict(windows)
    expected = scaling.prices(model.predict(arrays["x_test"], verbose=0), windows[:, -1, 4])
    np.testing.assert_allclose(answer["forecast"], expected, rtol=1e-6)
    half = Conformal(0.9).share(errors) * windows[:, -1, 4]  # a share of the last close
    np.testing.assert_allclose(answer["upper"] - answer["forecast"], half, rtol=1e-9)
    np.testing.assert_allclose(answer["forecast"] - answer["lower"], half, rtol=1e-9)
    # the model's own interval unless the request asks for another coverage; too high a one is refused
    python_model = served.unwrap_python_model()
    narrower = python_model.predict(None, windows, params={"coverage": 0.5})
    assert ((narrower["upper"] - narrower["lower"]) < (answer["upper"] - answer["lower"])).all()
    for coverage, message in ((0.99, "days of errors"), (1.5, "between 0 and 1")):
        with pytest.raises(serving.InvalidInput, match=message):
            python_model.predict(None, windows, params={"coverage": coverage})


def test_a_window_scaled_model_serves_what_evaluate_scores():
    """preprocess.scaler window: the served model multiplies each window's outputs by its level
    as the evaluate stage's forecaster does, on a series that falls thirtyfold, then to zero."""
    from lstmops.config import ForecastPreprocess, ForecastTrain
    from lstmops.forecasters import Network, Origins

    rows = np.arange(90)
    values = (np.where(rows < 40, 30.0, 1.0) * (10 + 3 * np.sin(rows * np.pi / 2)))[:, None]
    values[-10:] = 0.0
    p = ForecastPreprocess(
        seq_length=3, min_test_windows=5, inputs="seasonal_gap", predict="seasonal", target=None,
        scaler="window",
    )  # fmt: skip
    arrays, scaling = f.panel_arrays([values], [f.split_windows(90, p, 4)[0]], "a", p, 0, 4)
    model = models.price_model(3, arrays["x_test"].shape[2], ForecastTrain(units=4))
    at = Origins(
        arrays["x_test"],
        arrays["previous_test"],
        arrays["series_test"],
        arrays["seasonal_test"][:, 0],
    )
    scored = Network(model, scaling).predict(at)
    served = serving.forecast_table(model, scaling.of("a"), arrays["windows_test"], [0.0])
    np.testing.assert_allclose(served["forecast"], scored, rtol=1e-5)
    levels = scaling.output_levels(arrays["x_test"])
    assert levels.min() == pytest.approx(f.LEVEL_FLOOR) and levels.max() > 3 * f.LEVEL_FLOOR
