"""The served text model computes what the Keras model does, for any number of rows: straight
through its compiled predict function, in slices, with the vocabulary looked up once at load."""

import json

import mlflow.pyfunc
import numpy as np
import pandas as pd

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
