"""The models as MLflow logs and serves them: inputs and outputs in the user's units.

Scaling, standardisation, vocabulary and padding travel with each model, so a client sends prices in
dollars or plain review text, and the same feature functions as in training do the rest.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import joblib
import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
from mlflow.pyfunc import PythonModel, PythonModelContext

from lstmops import models, ngrams
from lstmops.features import encode, raw_rows, standardize, token_lookup, trim_padding
from lstmops.intervals import Conformal, band, by_step
from lstmops.models import any_length
from lstmops.ngrams import Combination, NgramModel

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
        return self._text  # type: ignore[attr-defined]  # MlflowException keeps it there

    @message.setter
    def message(self, value: str) -> None:
        self.__dict__.setdefault("_text", str(value))


def review_texts(model_input: pd.DataFrame, first_row: int = 0) -> list[str]:
    """The `text` column as a list of reviews, or InvalidInput naming the first bad row (counted
    from `first_row`)."""
    if not isinstance(model_input, pd.DataFrame) or "text" not in model_input:
        raise InvalidInput('send a table with a "text" column of review texts')
    texts = model_input["text"].tolist()
    if len(texts) == 1 and isinstance(texts[0], list | tuple | np.ndarray):
        # MLflow's `inputs` form, {"text": [...]}, hands the whole column over as one list
        texts = list(texts[0])
    for row, text in enumerate(texts, start=first_row):
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


PREDICT_BATCH = 1024  # rows a served model computes at once: bounded memory for any request


def load_keras(path: str):
    """The Keras model, its predict function compiled by one warm-up call at load time, so that a
    request pays only for its own rows."""

    model = models.load(path, compile=False)
    shape = [size or 1 for size in model.input_shape[1:]]  # ids of any length: one
    model.predict_on_batch(np.zeros((1, *shape), dtype=model.inputs[0].dtype))
    return model


def model_outputs(model, x: np.ndarray) -> np.ndarray:
    """The model's outputs for `x`, computed straight through its compiled predict function in
    slices of PREDICT_BATCH rows: `model.predict` sets up a data pipeline on every call, which
    cost a one-review request ~70 ms. A model of ids of any length (train.bucketing) reads each
    slice only as wide as its longest review."""

    parts = []
    for i in range(0, len(x), PREDICT_BATCH):
        part = x[i : i + PREDICT_BATCH]
        parts.append(model.predict_on_batch(trim_padding(part) if any_length(model) else part))
    return np.concatenate(parts) if parts else np.zeros((0, 1), dtype=np.float32)


PRICE_OUTPUTS = ("step", "forecast", "lower", "upper")  # the served price model's columns


def forecast_table(
    model, scaling, windows: np.ndarray, shares: Sequence[float], relative: bool = True
) -> pd.DataFrame:
    """Raw windows in the user's units -> the values of each step ahead (1 the next, a row each,
    window by window) and their intervals: `shares[k]` (Conformal.share of step k + 1's errors)
    of the window's last value either side of the forecast (not `relative`: `shares[k]` itself).
    The model reads each window's last rows (as many as its inputs need: a window may reach
    further back, to the value a season before, which predict "seasonal" starts from)."""
    last = windows[:, -1, scaling.target_index]
    inputs = scaling.model_inputs(
        windows[:, -raw_rows(model.input_shape[1], scaling.inputs, scaling.season) :]
    )
    outputs = model_outputs(model, inputs).reshape(len(windows), -1)
    outputs = outputs * scaling.output_levels(inputs)[:, None]
    forecast = scaling.prices(outputs.ravel(), scaling.base(windows).ravel())
    forecast = forecast.reshape(outputs.shape)
    lower, upper = band(forecast, last[:, None], np.asarray(shares), relative)
    step = np.tile(np.arange(1, outputs.shape[1] + 1), len(windows))
    columns = (step, forecast.ravel(), lower.ravel(), upper.ravel())
    return pd.DataFrame(dict(zip(PRICE_OUTPUTS, columns, strict=True)))


class PriceModel(PythonModel):
    """Windows of raw rows (windows, seq_length, features) in the user's units -> the target's
    value at each step of the horizon (a row each: step 1 the next), with the split-conformal
    interval at `coverage` (a request may ask for another). A panel's model takes the windows'
    `series` as a param: its scaling and its errors."""

    def __init__(self, seq_length: int, n_features: int, coverage: float) -> None:
        self.shape = (seq_length, n_features)
        self.coverage = coverage

    def load_context(self, context: PythonModelContext) -> None:

        self.model = load_keras(context.artifacts["model"])
        self.scaling = joblib.load(context.artifacts["scaling"])
        self.errors = None  # a model logged before lstmops calibrated intervals has none
        self.relative = True  # errors as shares of the last value, as every model before series
        if "calibration" in context.artifacts:
            with open(context.artifacts["calibration"], encoding="utf-8") as f:
                calibration = json.load(f)
            self.errors = calibration["model"]
            self.relative = calibration.get("relative", True)

    def predict(self, context, model_input: np.ndarray, params=None) -> pd.DataFrame:
        if self.errors is None:
            raise InvalidInput(
                "this model was logged before lstmops calibrated intervals: retrain it (dvc repro) "
                "to forecast with an interval"
            )
        coverage = (params or {}).get("coverage", self.coverage)
        if not isinstance(coverage, int | float) or not 0 < coverage < 1:
            raise InvalidInput(f"coverage must be a number between 0 and 1, got {coverage!r}")
        scaling, errors = self.scaling, self.errors
        if isinstance(errors, dict):  # each series' own (a single series: a panel of one)
            series = (params or {}).get("series") or (
                next(iter(errors)) if len(errors) == 1 else ""
            )
            if series not in errors:
                names = list(errors)
                raise InvalidInput(
                    f"this model forecasts {len(names)} series: name the windows' series in the "
                    f'request\'s params, e.g. {{"series": "{names[0]}"}} (got {series!r})'
                )
            scaling, errors = scaling.of(series), errors[series]
        steps = by_step(errors)
        shares = [Conformal(coverage).share(np.asarray(step)) for step in steps]
        if not np.isfinite(shares).all():
            raise InvalidInput(
                f"coverage {coverage} needs more than the {min(map(len, steps))} days of errors "
                "this model's interval was calibrated on; ask for a lower coverage"
            )
        windows = price_windows(model_input, self.shape)
        return forecast_table(self.model, scaling, windows, shares, self.relative)


class SentimentModel(PythonModel):
    """DataFrame with a `text` column of raw reviews -> DataFrame of `probability` and `label`:
    the LSTM's, or a hybrid's (its artifacts hold an n-gram part, document vectors if trained,
    and the combination's weights)."""

    def __init__(self, maxlen: int) -> None:
        self.maxlen = maxlen

    def load_context(self, context: PythonModelContext) -> None:

        self.model = load_keras(context.artifacts["model"])
        with open(context.artifacts["vocabulary"], encoding="utf-8") as f:
            self.lookup = token_lookup(json.load(f))  # once, not per request
        self.ngrams = self.combination = self.docvectors = None
        if "ngrams" in context.artifacts:
            self.ngrams = NgramModel.load(context.artifacts["ngrams"])
            with open(context.artifacts["combination"], encoding="utf-8") as f:
                self.combination = Combination.from_dict(json.load(f))
        if "docvectors" in context.artifacts:
            from lstmops.docvectors import DocVectorModel

            self.docvectors = DocVectorModel.load(context.artifacts["docvectors"])

    def parts(self, texts: list[str]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """The LSTM's probability of each raw text and, for a hybrid, each part's logit: the
        LSTM's (of that probability), the n-gram model's and the document vectors' (if trained)."""
        x = encode(standardize(texts), self.lookup, self.maxlen)
        probability = model_outputs(self.model, x).reshape(-1)
        if self.ngrams is None:
            return probability, {}
        logits = {
            "lstm": ngrams.logit(probability),
            "ngrams": self.ngrams.logits(ngrams.features(texts)),
        }
        if self.docvectors is not None:
            logits["docvectors"] = self.docvectors.logits(texts)
        return probability, logits

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:

        probability, logits = self.parts(review_texts(model_input))
        if self.combination is not None and logits:  # a hybrid: all its parts or none
            probability = self.combination.probabilities(logits)
        return pd.DataFrame(
            {"probability": probability, "label": (probability >= THRESHOLD).astype(int)}
        )
