"""The sentiment task: is a text positive or negative, judged against the majority class.

Everything that differs from the other tasks lives here: the formats a source of labelled texts
comes in (the aclImdb archive or a folder like it, CSV, Parquet), their expectations, the
vocabulary and padding, the model and its seeded validation slice, the served model (raw text in),
and the metrics and plots.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from lstmops.config import Dataset, LstmopsError
from lstmops.data import reviews as data

NAME = "sentiment"
# The stages of a text dataset, and the sections of its settings each one reads (DVC params).
STAGE_SETTINGS = {
    "ingest": ("ingest", "validate"),  # ingest validates before it replaces the raw data
    "validate": ("validate",),
    "pretrain": ("pretrain",),  # not in presets: every preset that starts from it shares it
    "preprocess": ("preprocess",),
    "train": ("preprocess", "train"),
    "evaluate": (),
}
STAGES = tuple(STAGE_SETTINGS)
FORMATS = ("aclimdb", "csv", "parquet")
REPORT = ("test.model.accuracy", "test.majority_class.accuracy", "accuracy, model / majority")
# What a tuning trial scores, and whether lower is better: never the test split.
TUNE_OBJECTIVE = ("validation.accuracy", False)
# What the dataset's MLflow experiment says it is, and the validation metric (lower is better?)
# that moves the registered model's champion alias.
DESCRIPTION = (
    "Positive or negative: the sentiment of {dataset}'s reviews. Judge a run by "
    "test.model.accuracy against two baselines: test.accuracy_ratio, its ratio to the majority "
    "class's accuracy (above 1 beats always answering the commoner label), and "
    "test.linear_accuracy_ratio, its ratio to an NB-weighted word 1-3-gram logistic regression's "
    "(above 1 beats the linear model). The registered model lstmops-{dataset} moves its "
    "@champion alias to a version only when its validation.accuracy (on the validation slice of "
    "the training split, never the test split) is higher."
)
CHAMPION_METRIC = ("validation.accuracy", False)
VOCABULARY_FILE = "vocabulary.json"
TEXTS_FILE = "texts.parquet"  # the standardised texts, which the n-gram model reads whole
NGRAMS_FILE = "ngrams.json"  # the linear baseline's C, which the hybrid's n-gram part reuses
NGRAM_MODEL_FILE = "ngrams.npz"  # beside a hybrid's LSTM: its n-gram part
COMBINATION_FILE = "combination.json"  # and the weights that stack the two


# --- ingest and validate ------------------------------------------------------------------------


def _format(path: Path, given: str | None) -> str:
    if given is not None:
        return given
    if path.is_dir() or path.name.endswith((".tar.gz", ".tgz")):
        return "aclimdb"
    return "parquet" if path.suffix == ".parquet" else "csv"


def read_source(dataset: Dataset) -> dict[str, pd.DataFrame]:
    """One table per split (train, test) of id, rating, label and text, and one of unlabelled
    texts (unsup)."""
    from lstmops.data.fetch import fetch

    path = fetch(dataset.source)
    kind = _format(path, dataset.source.format)
    ingest = dataset.settings.ingest
    if kind not in FORMATS:
        raise LstmopsError(
            f"datasets.sentiment.{dataset.name}.source.format is {kind!r}: a text source is one "
            f"of {', '.join(FORMATS)} (aclimdb: the Stanford archive or a folder laid out like it)."
        )
    if kind == "aclimdb":
        return data.read_archive(path, ingest.max_rows_per_split)
    return data.read_table(path, kind, ingest.max_rows_per_split, ingest.test_fraction, ingest.seed)


def write_raw(tables: dict[str, pd.DataFrame], out: Path) -> None:
    for name, table in tables.items():
        table.to_parquet(out / data.split_file(name), index=False)


def read_raw(raw: Path, dataset: Dataset) -> dict[str, pd.DataFrame]:
    return {name: data.read_split(raw, name) for name in data.TABLES}


def check(tables: dict[str, pd.DataFrame], dataset: Dataset) -> list:
    """Each table's expectations; ratings are checked against labels where the source has them."""
    from lstmops import validation as v

    p = dataset.settings.validate_

    def expectations(name: str, table: pd.DataFrame) -> list:
        if name == data.UNSUP:
            return v.unsup_expectations(p.unsup_rows)
        ratings = bool(table["rating"].notna().any())
        return v.review_expectations(p.rows_per_split, p.balance_tolerance, ratings)

    return [
        result
        for name, table in tables.items()
        for result in v.run_suite(table, expectations(name, table), name)
    ]


# --- pretrain -----------------------------------------------------------------------------------


def pretraining_texts(tables: dict[str, pd.DataFrame]) -> list[str]:
    """What the language model reads: the training split's and the unlabelled texts, standardised
    (never the test split's)."""
    from lstmops import features as f

    return f.standardize([*tables["train"]["text"], *tables[data.UNSUP]["text"]])


# --- preprocess ---------------------------------------------------------------------------------


def preprocess(tables: dict[str, pd.DataFrame], dataset: Dataset, out: Path) -> str:
    """Standardised texts as the last `maxlen` token ids of a vocabulary fitted on train only, or
    of the language model's (fitted on the training and unlabelled texts) when pretrained."""
    from lstmops import config as cfg
    from lstmops import features as f
    from lstmops import ngrams
    from lstmops.io import read_json, write_json
    from lstmops.stages import ARRAYS, require

    p = dataset.settings.preprocess
    train, test = tables["train"], tables["test"]
    train_text, test_text = (f.standardize(t["text"].tolist()) for t in (train, test))
    if p.pretrained:
        vocabulary = read_json(
            require(cfg.pretrain_dir(dataset.name) / VOCABULARY_FILE, "pretrain", dataset)
        )
    else:
        vocabulary = f.fit_vocabulary(train_text, p.num_words)  # the training split only
    y_train = train["label"].to_numpy(np.int32)
    # The linear baseline reads the whole texts (the LSTM: the last maxlen tokens).
    linear, c = ngrams.baseline(ngrams.features(train_text), y_train, ngrams.features(test_text))
    lookup = f.token_lookup(vocabulary)
    np.savez(
        out / ARRAYS,
        x_train=f.encode(train_text, lookup, p.maxlen),
        y_train=y_train,
        x_test=f.encode(test_text, lookup, p.maxlen),
        y_test=test["label"].to_numpy(np.int32),
        linear_test=linear,
    )
    (out / VOCABULARY_FILE).write_text(json.dumps(vocabulary), encoding="utf-8")
    texts = pd.DataFrame({"split": ["train"] * len(train) + ["test"] * len(test)})
    texts["text"] = train_text + test_text
    texts.to_parquet(out / TEXTS_FILE, index=False)
    write_json(out / NGRAMS_FILE, {"C": c, "ngrams": ngrams.NGRAMS, "bits": ngrams.BITS})
    return (
        f"vocabulary of {len(vocabulary)}, {len(train)} train / {len(test)} test; NB-weighted "
        f"1-{ngrams.NGRAMS}-gram baseline C={c:g} (chosen on a 20% slice of the training split)"
    )


def texts(dataset: Dataset, split: str) -> list[str]:
    """Preprocess's standardised texts of one split, in the order of its arrays."""
    from lstmops import config as cfg
    from lstmops.stages import require

    path = require(cfg.processed_dir(dataset.name) / TEXTS_FILE, "preprocess", dataset)
    table = pd.read_parquet(path)
    return table.loc[table["split"] == split, "text"].tolist()


# --- train --------------------------------------------------------------------------------------


def model_and_split(arrays: dict[str, np.ndarray], dataset: Dataset):
    """The model, and its training part and validation slice: a seeded share of the training
    split (texts have no time order)."""

    from lstmops import models, training

    s = dataset.settings
    x, y = arrays["x_train"], arrays["y_train"]
    fit_part, val_part = training.shuffled_split(x, y, s.train.validation_fraction, s.train.seed)
    model = models.sentiment_model(s.preprocess.num_words, s.preprocess.maxlen, s.train)
    if s.preprocess.pretrained:
        models.start_from(model, models.load(language_model(dataset)))
    return model, fit_part, val_part


def language_model(dataset: Dataset) -> Path:
    """The pretrain stage's saved language model."""
    from lstmops import config as cfg
    from lstmops.stages import MODEL_FILE, require

    return require(cfg.pretrain_dir(dataset.name) / MODEL_FILE, "pretrain", dataset)


def lineage(dataset: Dataset) -> dict[str, str]:
    """Tags that tie a train run to the pretrain stage's run it started from, if it did."""
    from lstmops import config as cfg
    from lstmops.io import read_json
    from lstmops.stages import RUN_FILE, require

    if not dataset.settings.preprocess.pretrained:
        return {}
    run = require(cfg.pretrain_dir(dataset.name) / RUN_FILE, "pretrain", dataset)
    return {"pretrained_from": read_json(run)["run_id"]}


def validation_metrics(model, val_part, arrays: dict[str, np.ndarray], dataset: Dataset) -> dict:
    """The saved model's accuracy on the validation slice, which picks the champion; none without
    a slice."""
    if val_part is None:
        return {}
    x, labels = val_part
    from lstmops import training

    predicted = training.predict(model, x) >= 0.5
    return {"accuracy": float(np.mean(predicted == labels))}


def model_files(model, val_part, arrays: dict[str, np.ndarray], dataset: Dataset, out: Path):
    """For a hybrid (train.combine: linear), its n-gram part and the weights that stack it with
    the LSTM, beside the model, and their validation scores; else nothing (the served LSTM needs
    only preprocess's vocabulary).

    The n-gram part is fitted on the rows the LSTM trained on, with the baseline's C, so that on
    the validation slice both are scored on texts they never saw; the weights are fitted there.
    """
    from lstmops import config as cfg
    from lstmops import ngrams, training
    from lstmops.io import read_json, write_json

    p = dataset.settings.train
    if p.combine == "none":
        return {}, {}
    c = read_json(cfg.processed_dir(dataset.name) / NGRAMS_FILE)["C"]
    x = ngrams.features(texts(dataset, "train"))
    labels = arrays["y_train"]
    fit_rows, val_rows = training.shuffled_rows(len(labels), p.validation_fraction, p.seed)
    part = ngrams.fit(x[fit_rows], labels[fit_rows], c)
    lstm = training.predict(model, val_part[0])
    logits = part.logits(x[val_rows])
    combination, held_out = ngrams.fit_combination(lstm, logits, val_part[1])
    part.save(out / NGRAM_MODEL_FILE)
    write_json(out / COMBINATION_FILE, combination.as_dict())
    ngram_accuracy = ngrams.accuracy(logits, val_part[1])
    scores = {
        "accuracy": held_out,  # the served model's: the combination's, on folds it was not fitted on
        "lstm.accuracy": float(np.mean((lstm >= 0.5) == val_part[1])),
        "ngrams.accuracy": ngram_accuracy,
        "combination.beats_ngrams": float(held_out > ngram_accuracy),
        **{f"combination.{k}": v for k, v in combination.as_dict().items()},
    }
    if held_out <= ngram_accuracy:
        print(
            f"train {dataset.name}: the combination ({held_out:.4f}) does not beat its n-gram "
            f"part alone ({ngram_accuracy:.4f}) on the validation slice: the LSTM adds nothing"
        )
    files = {"ngrams": str(out / NGRAM_MODEL_FILE), "combination": str(out / COMBINATION_FILE)}
    return files, scores


def no_change(dataset: Dataset, processed: Path) -> None:
    """No shrinking toward a baseline for a classifier."""
    return None


def served_model(dataset: Dataset, arrays: dict[str, np.ndarray], processed: Path):
    """The pyfunc that takes raw text, its artifacts, signature and input example."""
    from mlflow.models import ModelSignature, infer_signature
    from mlflow.types.schema import AnyType, ColSpec, Schema

    from lstmops import serving

    example = pd.DataFrame({"text": ["A wonderful, moving film.", "Dull and far too long."]})
    output = pd.DataFrame({"probability": [0.9, 0.1], "label": [1, 0]})
    # `Any`, not `string`: MLflow would turn a number or null into text before the model could
    # refuse it (serving.review_texts checks every value instead).
    signature = ModelSignature(
        Schema([ColSpec(AnyType(), "text")]), infer_signature(example, output).outputs
    )
    return (
        serving.SentimentModel(dataset.settings.preprocess.maxlen),
        {"vocabulary": str(processed / VOCABULARY_FILE)},
        signature,
        example,
    )


# --- evaluate -----------------------------------------------------------------------------------


def evaluate(model, arrays: dict[str, np.ndarray], dataset: Dataset, out: Path) -> dict:
    """Accuracy and friends beside the majority class; confusion matrix and ROC."""
    from lstmops import config as cfg
    from lstmops import evaluation as ev
    from lstmops import ngrams, training
    from lstmops.io import read_json

    probabilities = training.predict(model, arrays["x_test"])
    labels = arrays["y_test"]
    parts = {}
    if dataset.settings.train.combine != "none":
        folder = cfg.model_dir(dataset.name)
        logits = ngrams.NgramModel.load(folder / NGRAM_MODEL_FILE).logits(
            ngrams.features(texts(dataset, "test"))
        )
        combination = ngrams.Combination(**read_json(folder / COMBINATION_FILE))
        parts = {
            "lstm": {"accuracy": float(np.mean((probabilities >= 0.5) == labels))},
            "ngrams": {"accuracy": ngrams.accuracy(logits, labels)},
        }
        probabilities = combination.probabilities(probabilities, logits)
    predicted = (probabilities >= 0.5).astype(int)
    pd.DataFrame({"actual": labels, "predicted": predicted}).to_csv(
        out / "confusion.csv", index=False
    )
    ev.plot_confusion(labels, predicted, dataset.name, out / "confusion.png")
    ev.plot_roc(labels, probabilities, dataset.name, out / "roc.png").to_csv(
        out / "roc.csv", index=False
    )
    return {
        **ev.classification_metrics(labels, probabilities, arrays.get("linear_test")),
        **parts,
    }


def charts(dataset: Dataset) -> tuple[list, list[str]]:
    """The plots page's charts: the learning curve, the ROC curve and the confusion matrix."""
    from lstmops import config as cfg
    from lstmops import plots

    folder = cfg.plots_dir(dataset.name)
    return plots.from_files(
        dataset,
        [
            (folder / "learning_curve.csv", plots.learning_curve, "evaluate"),
            (folder / "roc.csv", plots.roc, "evaluate"),
            (folder / "confusion.csv", plots.confusion, "evaluate"),
        ],
    )


# --- tune ---------------------------------------------------------------------------------------


def tune_score(dataset: Dataset, reporter) -> float:
    """A tuning trial's objective: the validation slice's accuracy of a model trained as train
    trains it, from preprocess's training arrays only (the test split is not even loaded);
    val_accuracy after each epoch goes to the reporter, which prunes a clearly worse trial."""
    from lstmops import training
    from lstmops.stages import load_arrays

    p = dataset.settings.train
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
