"""walkforward: expanding-window folds, each model scored against persistence on its block.

With walk_forward.period "train" every fold lies inside the 70/30 split's training part, so settings
can be compared on it without looking at the test period.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from lstmops import config as cfg
from lstmops.config import LstmopsError, Params
from lstmops.io import atomic_path, read_json, write_json
from lstmops.stages import RUN_FILE, flat, require


def _fit(arrays: dict[str, np.ndarray], scaling, params: Params):
    """A fresh model trained as the train stage trains it (same split, seed, early stopping,
    ensemble and shrinkage)."""
    from lstmops import models, training

    p = params.stock.train
    training.seed_everything(p.seed)
    x, y = arrays["x_train"], arrays["y_train"]
    fit_part, val_part = training.tail_split(x, y, p.validation_fraction)
    model = models.stock_model(x.shape[1], x.shape[2], p)
    callbacks = training.validation_callbacks(p, val_part)
    training.fit(model, fit_part, val_part, p.epochs, p.batch_size, callbacks, p.seed)
    return training.predicting_model(model, val_part, scaling.no_change() if p.shrink else None)[0]


def score_folds(values: np.ndarray, params: Params) -> tuple[dict, list[dict]]:
    """Time-ordered raw rows -> pooled metrics over every fold's block, and one row per fold."""
    from lstmops import evaluation as ev
    from lstmops import features as f

    p, w = params.stock.preprocess, params.stock.walk_forward
    n_train, n_test = f.split_windows(len(values), p)
    period = n_train if w.period == "train" else n_train + n_test
    try:
        bounds = f.fold_bounds(period, w.initial_fraction, w.folds)
    except ValueError as err:
        raise LstmopsError(
            f"stock.walk_forward: {err}. Lower stock.walk_forward.folds or initial_fraction."
        ) from None
    rows, predictions = [], []
    for fold, (train_end, test_end) in enumerate(bounds, start=1):
        if w.retrain or fold == 1:
            # Arrays reach to this block's end (retrain) or the period's end (one model for all).
            end = test_end if w.retrain else bounds[-1][1]
            arrays, scaling = f.stock_arrays(values[: end + p.seq_length], train_end, p)
            model, first = _fit(arrays, scaling, params), train_end
        block = slice(train_end - first, test_end - first)
        previous, actual = arrays["previous_test"][block], arrays["actual_test"][block]
        outputs = model.predict(arrays["x_test"][block], verbose=0).reshape(-1)
        predicted = scaling.prices(outputs, previous)
        m = ev.stock_metrics(previous, actual, predicted)
        rows.append(
            {
                "fold": fold,
                "train_windows": train_end,
                "test_windows": test_end - train_end,
                "model_rmse": m["model"]["rmse"],
                "persistence_rmse": m["persistence"]["rmse"],
                "rmse_ratio": m["rmse_ratio"],
            }
        )
        predictions.append((previous, actual, predicted))
    previous, actual, predicted = (
        np.concatenate(parts) for parts in zip(*predictions, strict=True)
    )
    pooled = ev.stock_metrics(previous, actual, predicted)
    metrics = {
        "model_rmse": pooled["model"]["rmse"],
        "persistence_rmse": pooled["persistence"]["rmse"],
        "rmse_ratio": pooled["rmse_ratio"],  # over every block's days together
        "folds_beating_persistence": sum(r["rmse_ratio"] < 1 for r in rows),
        "folds": {str(row["fold"]): row for row in rows},
    }
    return metrics, rows


def walkforward(dataset: str, params: Params) -> None:
    """Score expanding-window folds (retrained or not) against persistence; log them to the run."""
    if dataset == "imdb":
        raise LstmopsError("walk-forward evaluation is for the price series (stock and tickers).")
    import mlflow

    from lstmops import tracking
    from lstmops.stages.preprocess import stock_values

    w = params.stock.walk_forward
    metrics, rows = score_folds(stock_values(dataset, params), params)
    path, table = cfg.walkforward_files(dataset)
    write_json(path, metrics)
    with atomic_path(table) as tmp:
        pd.DataFrame(rows).to_csv(tmp, index=False)

    run_id = read_json(require(cfg.model_dir(dataset) / RUN_FILE, "train", dataset))["run_id"]
    tracking.use_store(dataset)
    with mlflow.start_run(run_id=run_id):
        mlflow.log_params(flat(w.model_dump(mode="json"), "walk_forward."))
        mlflow.log_metrics(
            {
                "walk_forward.rmse_ratio": metrics["rmse_ratio"],
                "walk_forward.model_rmse": metrics["model_rmse"],
                "walk_forward.persistence_rmse": metrics["persistence_rmse"],
            }
        )
        for row in rows:
            mlflow.log_metric("walk_forward.fold_rmse_ratio", row["rmse_ratio"], step=row["fold"])
        mlflow.log_artifact(str(path))
    print(
        f"walkforward {dataset}: {json.dumps({k: v for k, v in metrics.items() if k != 'folds'})}"
    )
