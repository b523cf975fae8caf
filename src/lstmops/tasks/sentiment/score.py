"""A text model scored on the test split beside its baselines (evaluate), and a tuning trial's
score on the validation slice.

Pure but for `fitted`, which reads what preprocess and train saved: the functions take arrays,
settings and fitted objects and return results; the stages write them.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from lstmops import docvectors, ngrams, training
from lstmops import evaluation as ev
from lstmops.config import Dataset, LstmopsError
from lstmops.io import read_json
from lstmops.layout import (
    COMBINATION_FILE,
    DOCVECTORS_DIR,
    NGRAM_MODEL_FILE,
    load_arrays,
    model_dir,
)
from lstmops.tasks.sentiment.data import settings, texts
from lstmops.tasks.sentiment.train import model_and_split, validation_metrics


class Fitted(NamedTuple):
    """What evaluate reads besides the model: for a hybrid (train.combine linear), its n-gram part
    (and document vectors), the weights that stack them with the LSTM, and the test texts they
    read whole."""

    ngrams: ngrams.NgramModel | None = None
    combination: ngrams.Combination | None = None
    texts: list[str] | None = None
    docvectors: docvectors.DocVectorModel | None = None


def fitted(dataset: Dataset) -> Fitted:
    if settings(dataset).train.combine == "none":
        return Fitted()
    folder = model_dir(dataset.name)
    return Fitted(
        ngrams.NgramModel.load(folder / NGRAM_MODEL_FILE),
        ngrams.Combination.from_dict(read_json(folder / COMBINATION_FILE)),
        texts(dataset, "test"),
        docvectors.DocVectorModel.load(folder / DOCVECTORS_DIR)
        if settings(dataset).train.docvectors
        else None,
    )


def evaluate(
    model, arrays: dict[str, np.ndarray], dataset: Dataset, fit: Fitted
) -> tuple[dict, dict[str, pd.DataFrame]]:
    """Accuracy and friends beside the majority class and the linear n-gram model (a hybrid's:
    also each part's); the tables of the confusion matrix and the ROC curve."""
    probabilities = training.predict(model, arrays["x_test"])
    labels = arrays["y_test"]
    parts = {}
    if fit.ngrams is not None and fit.combination is not None and fit.texts is not None:
        logits = {
            "lstm": ngrams.logit(probabilities),
            "ngrams": fit.ngrams.logits(ngrams.features(fit.texts)),
        }
        if fit.docvectors is not None:
            logits["docvectors"] = fit.docvectors.logits(fit.texts)
        parts = {part: {"accuracy": ngrams.accuracy(z, labels)} for part, z in logits.items()}
        probabilities = fit.combination.probabilities(logits)
    predicted = (probabilities >= 0.5).astype(int)
    metrics = {
        **ev.classification_metrics(labels, probabilities, arrays.get("linear_test")),
        **parts,
    }
    tables = {
        "confusion": pd.DataFrame({"actual": labels, "predicted": predicted}),
        "roc": ev.roc_table(labels, probabilities),
    }
    return metrics, tables


def tune_score(dataset: Dataset, reporter) -> float:
    """A tuning trial's objective: the validation slice's accuracy of a model trained as train
    trains it, from preprocess's training arrays only (the test split is not even loaded);
    val_accuracy after each epoch goes to the reporter, which prunes a clearly worse trial."""
    p = settings(dataset).train
    if not p.validation_fraction:
        raise LstmopsError(
            "a tuning trial is scored on the validation slice: set "
            "sentiment.train.validation_fraction above 0."
        )
    arrays = {k: v for k, v in load_arrays(dataset).items() if "test" not in k}
    training.seed_everything(p.seed)
    model, fit_part, val_part = model_and_split(arrays, dataset)
    watchers = [*reporter.callbacks(), *training.validation_callbacks(p, val_part)]
    watchers.append(reporter.pruning("val_accuracy"))
    training.fit(model, fit_part, val_part, p.epochs, p.batch_size, watchers, p.seed)
    predicting, _ = training.predicting_model(model, val_part, None)
    return validation_metrics(predicting, val_part, arrays, dataset)["accuracy"]
