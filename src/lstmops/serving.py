"""The models as MLflow logs and serves them: inputs and outputs in the user's units.

Scaling, standardisation, vocabulary and padding travel with each model, so a client sends prices in
dollars or plain review text, and the same feature functions as in training do the rest.
"""

from __future__ import annotations

import json

import mlflow.pyfunc
import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

THRESHOLD = 0.5
MAX_TEXT_CHARS = 100_000  # 7 times the longest IMDB review; longer is a mistake, not a review


class InvalidInput(MlflowException):
    """A request the model refuses: HTTP 400 with this one-line message, and no stack trace.

    MLflow's scoring server rewrites a prediction error's message into one that echoes the whole
    input over several lines; the message stays as written here.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message, error_code=INVALID_PARAMETER_VALUE)

    @property
    def message(self) -> str:
        return self._text

    @message.setter
    def message(self, value: str) -> None:
        self.__dict__.setdefault("_text", str(value))


def review_texts(model_input: pd.DataFrame) -> list[str]:
    """The `text` column as a list of reviews, or InvalidInput naming the first bad row."""
    if not isinstance(model_input, pd.DataFrame) or "text" not in model_input:
        raise InvalidInput('send a table with a "text" column of review texts')
    texts = model_input["text"].tolist()
    if len(texts) == 1 and isinstance(texts[0], list | tuple | np.ndarray):
        # MLflow's `inputs` form, {"text": [...]}, hands the whole column over as one list
        texts = list(texts[0])
    for row, text in enumerate(texts):
        if not isinstance(text, str):
            kind = "null" if text is None else type(text).__name__
            raise InvalidInput(f"row {row}: text must be a string, got {kind}")
        if not text.strip():
            raise InvalidInput(f"row {row}: text is empty; send the words of a review")
        if len(text) > MAX_TEXT_CHARS:
            raise InvalidInput(
                f"row {row}: text has {len(text)} characters, more than the {MAX_TEXT_CHARS} allowed"
            )
    return texts


def price_windows(model_input, shape: tuple[int, int]) -> np.ndarray:
    """Raw windows (n, days, features) in dollars as float64, or InvalidInput saying what is off."""
    try:
        windows = np.asarray(model_input, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidInput("windows must be numbers: (n, days, features) in dollars") from None
    if windows.ndim != 3 or windows.shape[1:] != shape:
        raise InvalidInput(
            f"windows must have shape (n, {shape[0]}, {shape[1]}), got {windows.shape}"
        )
    if not np.isfinite(windows).all():
        raise InvalidInput("windows must hold finite numbers (no NaN or infinity)")
    return windows


def _load_keras(path: str):
    import keras

    return keras.saving.load_model(path, compile=False)


class PriceModel(mlflow.pyfunc.PythonModel):
    """Windows of raw daily rows (windows, seq_length, features) in dollars -> next Close in dollars."""

    def __init__(self, seq_length: int, n_features: int) -> None:
        self.shape = (seq_length, n_features)

    def load_context(self, context: mlflow.pyfunc.PythonModelContext) -> None:
        import joblib

        self.model = _load_keras(context.artifacts["model"])
        self.scaling = joblib.load(context.artifacts["scaling"])

    def predict(self, context, model_input: np.ndarray, params=None) -> np.ndarray:
        windows = price_windows(model_input, self.shape)
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

        ids = encode(standardize(review_texts(model_input)), self.vocabulary, self.maxlen)
        probability = self.model.predict(ids, verbose=0).reshape(-1) if len(ids) else np.zeros(0)
        return pd.DataFrame(
            {"probability": probability, "label": (probability >= THRESHOLD).astype(int)}
        )
