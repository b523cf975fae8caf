"""preprocess: split, scale or tokenise, and window the raw tables into model arrays."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from lstmops import config as cfg
from lstmops.config import LstmopsError, Params
from lstmops.io import atomic_path
from lstmops.stages import ARRAYS, SCALER_FILE, VOCABULARY_FILE


def _preprocess_stock(params: Params, out: Path) -> None:
    import joblib

    from lstmops import features as f
    from lstmops.data import stock

    p = params.stock.preprocess
    table = stock.read_prices(cfg.raw_dir("stock") / stock.RAW_FILE)
    values = table[list(p.features)].to_numpy(dtype=np.float64)[::-1]  # file is newest first
    n_windows = len(values) - p.seq_length
    n_train = f.train_window_count(n_windows, p.train_fraction)
    if n_train < 1 or n_train >= n_windows:
        raise LstmopsError(
            f"stock.preprocess.seq_length={p.seq_length} with train_fraction={p.train_fraction} "
            f"leaves {n_windows} windows from {len(values)} rows: too few for a train and a test part. "
            "Lower seq_length or use a longer series."
        )
    fit_rows = values if p.scaler_fit == "all" else values[: f.training_rows(n_train, p.seq_length)]
    scaler = f.fit_scaler(fit_rows)
    target = list(p.features).index(p.target)
    x, y = f.make_windows(scaler.transform(values), p.seq_length, target)
    previous = values[p.seq_length - 1 : -1, target]  # the last close in each window, in dollars
    np.savez(
        out / ARRAYS,
        x_train=x[:n_train].astype(np.float32),
        y_train=y[:n_train].astype(np.float32),
        x_test=x[n_train:].astype(np.float32),
        y_test=y[n_train:].astype(np.float32),
        previous_test=previous[n_train:],
        actual_test=values[p.seq_length + n_train :, target],
    )
    joblib.dump(scaler, out / SCALER_FILE)
    print(f"preprocess stock: {n_train} train and {n_windows - n_train} test windows")


def _preprocess_imdb(params: Params, out: Path) -> None:
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
    """Turn the validated raw tables into model arrays plus the fitted scaler or vocabulary."""
    with atomic_path(cfg.processed_dir(dataset)) as out:
        out.mkdir()
        (_preprocess_stock if dataset == "stock" else _preprocess_imdb)(params, out)
