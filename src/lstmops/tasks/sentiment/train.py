"""A text model: the classifier (from the language model's weights when pretrained), its seeded
validation slice and score there, a hybrid's n-gram part and stacking weights saved beside it,
and the served model (train)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from mlflow.models import ModelSignature, infer_signature
from mlflow.types.schema import AnyType, ColSpec, Schema

from lstmops import docvectors, models, ngrams, serving, training
from lstmops.config import Dataset, LstmopsError
from lstmops.data import reviews
from lstmops.io import read_json, write_json
from lstmops.layout import (
    COMBINATION_FILE,
    DOCVECTORS_DIR,
    MODEL_FILE,
    NGRAM_MODEL_FILE,
    NGRAMS_FILE,
    RUN_FILE,
    VOCABULARY_FILE,
    pretrain_dir,
    processed_dir,
    raw_dir,
    require,
)
from lstmops.tasks.sentiment.data import settings, texts


def model_and_split(arrays: dict[str, np.ndarray], dataset: Dataset):
    """The model, and its training part and validation slice: a seeded share of the training
    split (texts have no time order)."""

    s = settings(dataset)
    x, y = arrays["x_train"], arrays["y_train"]
    fit_rows, val_rows = validation_rows(arrays, dataset)
    fit_part = x[fit_rows], y[fit_rows]
    val_part = (x[val_rows], y[val_rows]) if s.train.validation_fraction else None
    model = models.sentiment_model(s.preprocess.num_words, s.preprocess.maxlen, s.train)
    if s.preprocess.pretrained:
        models.start_from(model, models.load(language_model(dataset)))
    return model, fit_part, val_part


def validation_rows(
    arrays: dict[str, np.ndarray], dataset: Dataset
) -> tuple[np.ndarray, np.ndarray]:
    """The training split's rows that train and those of the validation slice, each in a seeded
    order: a seeded share of the rows, or (train.validation: grouped) of the groups, so that no
    movie of the slice has reviews the models train on, as no test movie has."""
    p = settings(dataset).train
    if p.validation == "random":
        return training.shuffled_rows(len(arrays["y_train"]), p.validation_fraction, p.seed)
    groups = arrays.get("group_train")
    if groups is None or not any(groups):
        raise LstmopsError(
            f"{dataset.name}: train.validation is grouped, and its reviews have no groups: the "
            "archive's urls files name each review's movie; a table needs a `group` column. Set "
            "train.validation to random, or add the groups."
        )
    return training.grouped_rows(groups, p.validation_fraction, p.seed)


def language_model(dataset: Dataset) -> Path:
    """The pretrain stage's saved language model."""
    return require(pretrain_dir(dataset.name) / MODEL_FILE, "pretrain", dataset)


def lineage(dataset: Dataset) -> dict[str, str]:
    """Tags that tie a train run to the pretrain stage's run it started from, if it did."""
    if not settings(dataset).preprocess.pretrained:
        return {}
    run = require(pretrain_dir(dataset.name) / RUN_FILE, "pretrain", dataset)
    return {"pretrained_from": read_json(run)["run_id"]}


def validation_metrics(model, val_part, arrays: dict[str, np.ndarray], dataset: Dataset) -> dict:
    """The saved model's accuracy on the validation slice, which picks the champion; none without
    a slice."""
    if val_part is None:
        return {}
    x, labels = val_part

    predicted = training.predict(model, x) >= 0.5
    return {"accuracy": float(np.mean(predicted == labels))}


def model_files(model, val_part, arrays: dict[str, np.ndarray], dataset: Dataset, out: Path):
    """For a hybrid (train.combine: linear), its n-gram part (and with train.docvectors its
    document vectors) and the weights that stack them with the LSTM, beside the model, and their
    validation scores; else nothing (the served LSTM needs only preprocess's vocabulary).

    Each part is fitted on the rows the LSTM trained on (the n-gram model with the baseline's C),
    so that on the validation slice all are scored on texts they never saw; the weights are fitted
    there. The n-gram part saved is then refitted on the whole training split (the slice's reviews
    too): the weights stay, the validation scores are those of the part that did not see the
    slice. The document vectors are not refitted (minutes, where the n-gram model takes seconds).
    """
    p = settings(dataset).train
    if p.combine == "none":
        return {}, {}
    c = read_json(processed_dir(dataset.name) / NGRAMS_FILE)["C"]
    train_texts = texts(dataset, "train")
    x = ngrams.features(train_texts)
    labels, val_labels = arrays["y_train"], val_part[1]
    fit_rows, val_rows = validation_rows(arrays, dataset)
    logits = {
        "lstm": ngrams.logit(training.predict(model, val_part[0])),
        "ngrams": ngrams.fit(x[fit_rows], labels[fit_rows], c).logits(x[val_rows]),
    }
    files = {"ngrams": str(out / NGRAM_MODEL_FILE), "combination": str(out / COMBINATION_FILE)}
    if p.docvectors:
        vectors = docvectors.fit(
            [train_texts[i] for i in fit_rows], labels[fit_rows], unlabelled(dataset), p.seed
        )
        logits["docvectors"] = vectors.logits([train_texts[i] for i in val_rows])
        vectors.save(out / DOCVECTORS_DIR)
        files["docvectors"] = str(out / DOCVECTORS_DIR)
    combination, held_out = ngrams.fit_combination(logits, val_labels)
    ngrams.fit(x, labels, c).save(out / NGRAM_MODEL_FILE)
    write_json(out / COMBINATION_FILE, combination.as_dict())
    accuracies = {part: ngrams.accuracy(z, val_labels) for part, z in logits.items()}
    scores = {
        "accuracy": held_out,  # the served model's: the combination's, on folds it was not fitted on
        **{f"{part}.accuracy": a for part, a in accuracies.items()},
        "combination.beats_ngrams": float(held_out > accuracies["ngrams"]),
        **{f"combination.{k}": v for k, v in combination.as_dict().items()},
    }
    if held_out <= accuracies["ngrams"]:
        print(
            f"train {dataset.name}: the combination ({held_out:.4f}) does not beat its n-gram "
            f"part alone ({accuracies['ngrams']:.4f}) on the validation slice: the other parts "
            "add nothing"
        )
    return files, scores


def unlabelled(dataset: Dataset) -> list[str]:
    """The unlabelled texts (ingest's raw table), which the document vectors also train on."""
    table = reviews.read_split(raw_dir(dataset.name), reviews.UNSUP)
    return table["text"].tolist()


def no_change(dataset: Dataset, processed: Path) -> None:
    """No shrinking toward a baseline for a classifier."""
    return None


def served_model(dataset: Dataset, arrays: dict[str, np.ndarray], processed: Path):
    """The pyfunc that takes raw text, its artifacts, signature and input example."""

    example = pd.DataFrame({"text": ["A wonderful, moving film.", "Dull and far too long."]})
    output = pd.DataFrame({"probability": [0.9, 0.1], "label": [1, 0]})
    # `Any`, not `string`: MLflow would turn a number or null into text before the model could
    # refuse it (serving.review_texts checks every value instead).
    signature = ModelSignature(
        Schema([ColSpec(AnyType(), "text")]), infer_signature(example, output).outputs
    )
    return (
        serving.SentimentModel(settings(dataset).preprocess.maxlen),
        {"vocabulary": str(processed / VOCABULARY_FILE)},
        signature,
        example,
    )
