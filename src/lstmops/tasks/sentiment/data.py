"""A text dataset's data: its source in the formats it comes in, its raw tables, and the texts as
token ids of a vocabulary beside the linear n-gram baseline (ingest, validate, pretrain,
preprocess and what reads their outputs)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from lstmops import features as f
from lstmops import ngrams
from lstmops.config import Dataset, LstmopsError, SentimentSettings
from lstmops.data import reviews as data
from lstmops.data.fetch import fetch
from lstmops.io import read_json, write_json
from lstmops.layout import (
    ARRAYS,
    NGRAMS_FILE,
    TEXTS_FILE,
    VOCABULARY_FILE,
    pretrain_dir,
    processed_dir,
    require,
)

FORMATS = ("aclimdb", "csv", "parquet")


def settings(dataset: Dataset) -> SentimentSettings:
    """The dataset's settings, which are a text dataset's (tasks.of dispatched it here)."""
    assert isinstance(dataset.settings, SentimentSettings), dataset.task
    return dataset.settings


def _format(path: Path, given: str | None) -> str:
    if given is not None:
        return given
    if path.is_dir() or path.name.endswith((".tar.gz", ".tgz")):
        return "aclimdb"
    return "parquet" if path.suffix == ".parquet" else "csv"


def read_source(dataset: Dataset) -> dict[str, pd.DataFrame]:
    """One table per split (train, test) of id, rating, label and text, and one of unlabelled
    texts (unsup)."""
    path = fetch(dataset.source)
    kind = _format(path, dataset.source.format)
    ingest = settings(dataset).ingest
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


def pretraining_texts(tables: dict[str, pd.DataFrame]) -> list[str]:
    """What the language model reads: the training split's and the unlabelled texts, standardised
    (never the test split's)."""
    return f.standardize([*tables["train"]["text"], *tables[data.UNSUP]["text"]])


def preprocess(tables: dict[str, pd.DataFrame], dataset: Dataset, out: Path) -> str:
    """Standardised texts as the last `maxlen` token ids of a vocabulary fitted on train only, or
    of the language model's (fitted on the training and unlabelled texts) when pretrained."""
    p = settings(dataset).preprocess
    train, test = tables["train"], tables["test"]
    train_text, test_text = (f.standardize(t["text"].tolist()) for t in (train, test))
    vocabulary: list[str]
    if p.pretrained:
        vocabulary = read_json(
            require(pretrain_dir(dataset.name) / VOCABULARY_FILE, "pretrain", dataset)
        )
    else:
        vocabulary = f.fit_vocabulary(train_text, p.num_words)  # the training split only
    y_train = train["label"].to_numpy(np.int32)
    # The linear baseline reads the whole texts, marks kept (the LSTM: the last maxlen tokens).
    marked_train, marked_test = (ngrams.marked(t["text"].tolist()) for t in (train, test))
    linear, c = ngrams.baseline(
        ngrams.features(marked_train), y_train, ngrams.features(marked_test)
    )
    lookup = f.token_lookup(vocabulary)
    np.savez(
        out / ARRAYS,
        x_train=f.encode(train_text, lookup, p.maxlen),
        y_train=y_train,
        x_test=f.encode(test_text, lookup, p.maxlen),
        y_test=test["label"].to_numpy(np.int32),
        linear_test=linear,
        # each review's group (the archive's movie), for a validation slice grouped by it
        group_train=train["group"].fillna("").to_numpy(str),
    )
    (out / VOCABULARY_FILE).write_text(json.dumps(vocabulary), encoding="utf-8")
    texts = pd.DataFrame({"split": ["train"] * len(train) + ["test"] * len(test)})
    texts["text"] = marked_train + marked_test
    texts.to_parquet(out / TEXTS_FILE, index=False)
    write_json(out / NGRAMS_FILE, {"C": c, "ngrams": ngrams.NGRAMS, "bits": ngrams.BITS})
    return (
        f"vocabulary of {len(vocabulary)}, {len(train)} train / {len(test)} test; NB-weighted "
        f"1-{ngrams.NGRAMS}-gram baseline C={c:g} (chosen on a 20% slice of the training split)"
    )


def texts(dataset: Dataset, split: str) -> list[str]:
    """The texts of one split as the n-gram model reads them (`ngrams.marked`), in the order of
    its arrays."""
    path = require(processed_dir(dataset.name) / TEXTS_FILE, "preprocess", dataset)
    table = pd.read_parquet(path)
    return table.loc[table["split"] == split, "text"].tolist()
