"""preprocess: split, scale or tokenise, and window the raw tables into model arrays."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from lstmops import config as cfg
from lstmops.config import LstmopsError, Params
from lstmops.io import atomic_path
from lstmops.stages import ARRAYS, SCALING_FILE, VOCABULARY_FILE, require


def stock_values(dataset: str, params: Params) -> np.ndarray:
    """The validated raw table's feature columns (time order), checked against the preprocess settings."""
    from lstmops import features as f
    from lstmops.data import stock

    p = params.stock.preprocess
    table = stock.read_prices(require(cfg.raw_dir(dataset) / stock.RAW_FILE, "ingest", dataset))
    values = table[list(p.features)].to_numpy(dtype=np.float64)
    try:
        f.split_windows(len(values), p)
    except ValueError as err:
        raise LstmopsError(f"stock.preprocess: {err}") from None
    if p.inputs == "return" and (values <= 0).any():
        columns = [c for c, bad in zip(p.features, (values <= 0).any(axis=0), strict=True) if bad]
        raise LstmopsError(
            f"stock.preprocess.inputs is 'return' but {', '.join(columns)} has zero values, whose "
            "day-over-day return is undefined. Drop the column from stock.preprocess.features or "
            "set inputs to 'level'."
        )
    return values


def _preprocess_stock(dataset: str, params: Params, out: Path) -> None:
    import joblib

    from lstmops import features as f

    p = params.stock.preprocess
    values = stock_values(dataset, params)
    n_train, n_test = f.split_windows(len(values), p)
    arrays, scaling = f.stock_arrays(values, n_train, p)
    np.savez(out / ARRAYS, **arrays)
    joblib.dump(scaling, out / SCALING_FILE)
    print(f"preprocess {dataset}: {n_train} train and {n_test} test windows")


def _preprocess_imdb(dataset: str, params: Params, out: Path) -> None:
    from lstmops import features as f
    from lstmops.data import imdb

    p = params.imdb.preprocess
    raw = cfg.raw_dir("imdb")
    train, test = (imdb.read_split(raw, split) for split in imdb.SPLITS)
    train_text = f.standardize(train["text"].tolist())
    vocabulary = f.fit_vocabulary(train_text, p.num_words)  # fitted on the training split only
    np.savez(
        out / ARRAYS,
        x_train=f.encode(train_text, vocabulary, p.maxlen),
        y_train=train["label"].to_numpy(np.int32),
        x_test=f.encode(f.standardize(test["text"].tolist()), vocabulary, p.maxlen),
        y_test=test["label"].to_numpy(np.int32),
    )
    (out / VOCABULARY_FILE).write_text(json.dumps(vocabulary), encoding="utf-8")
    print(
        f"preprocess imdb: vocabulary of {len(vocabulary)}, {len(train)} train / {len(test)} test"
    )


def preprocess(dataset: str, params: Params) -> None:
    """Turn the validated raw tables into model arrays plus the fitted scaling or vocabulary."""
    with atomic_path(cfg.processed_dir(dataset)) as out:
        out.mkdir()
        (_preprocess_imdb if dataset == "imdb" else _preprocess_stock)(dataset, params, out)
