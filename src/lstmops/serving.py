"""The models as MLflow logs and serves them: inputs and outputs in the user's units.

Scaling, standardisation, vocabulary and padding travel with each model, so a client sends prices in
dollars or plain review text, and the same feature functions as in training do the rest.
"""

from __future__ import annotations

import json

import mlflow.pyfunc
import numpy as np
import pandas as pd

THRESHOLD = 0.5


def _load_keras(path: str):
    import keras

    return keras.saving.load_model(path, compile=False)


class PriceModel(mlflow.pyfunc.PythonModel):
    """Windows of raw daily rows (windows, seq_length, features) in dollars -> next Close in dollars."""

    def load_context(self, context: mlflow.pyfunc.PythonModelContext) -> None:
        import joblib

        self.model = _load_keras(context.artifacts["model"])
        self.scaling = joblib.load(context.artifacts["scaling"])

    def predict(self, context, model_input: np.ndarray, params=None) -> np.ndarray:
        windows = np.asarray(model_input, dtype=np.float64)
        outputs = self.model.predict(self.scaling.model_inputs(windows), verbose=0)
        return self.scaling.prices(outputs, windows[:, -1, self.scaling.target_index])


class SentimentModel(mlflow.pyfunc.PythonModel):
    """DataFrame with a `text` column of raw reviews -> DataFrame of `probability` and `label`."""

    def __init__(self, maxlen: int) -> None:
        self.maxlen = maxlen

    def load_context(self, context: mlflow.pyfunc.PythonModelContext) -> None:
        self.model = _load_keras(context.artifacts["model"])
        with open(context.artifacts["vocabulary"], encoding="utf-8") as f:
            self.vocabulary = json.load(f)

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        from lstmops.features import encode, standardize

        ids = encode(
            standardize(model_input["text"].astype(str).tolist()), self.vocabulary, self.maxlen
        )
        probability = self.model.predict(ids, verbose=0).reshape(-1) if len(ids) else np.zeros(0)
        return pd.DataFrame(
            {"probability": probability, "label": (probability >= THRESHOLD).astype(int)}
        )
