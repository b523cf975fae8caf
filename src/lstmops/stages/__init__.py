"""The stage commands, one module each: read settings, call pure functions, write outputs.

Each module is a separate DVC dependency of its stage, so editing one stage reruns only that stage
and those after it. Heavy libraries are imported inside the stages that use them, so the CLI and
the light stages start fast.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lstmops import config as cfg
from lstmops.config import LstmopsError

ARRAYS = "arrays.npz"
MODEL_FILE = "model.keras"
HISTORY_FILE = "history.json"
RUN_FILE = "run.json"
SCALING_FILE = "scaling.joblib"
VOCABULARY_FILE = "vocabulary.json"


def require(path: Path, stage: str, dataset: str) -> Path:
    """`path` if it exists, else an error that names the stage that makes it."""
    if not path.exists():
        raise LstmopsError(
            f"{path} is missing: run `dvc repro {cfg.stage_name(dataset, stage)}` first."
        )
    return path


def load_arrays(dataset: str) -> dict[str, np.ndarray]:
    path = require(cfg.processed_dir(dataset) / ARRAYS, "preprocess", dataset)
    with np.load(path) as data:
        return dict(data)


def load_scaling(dataset: str):
    """The price series' fitted features.StockScaling, saved by preprocess."""
    import joblib

    return joblib.load(require(cfg.processed_dir(dataset) / SCALING_FILE, "preprocess", dataset))


def flat(section: dict, prefix: str = "") -> dict[str, object]:
    """{'train': {'epochs': 3}} -> {'train.epochs': 3}: the names params.yaml and `dvc exp` use."""
    out: dict[str, object] = {}
    for key, value in section.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flat(value, f"{name}."))
        else:
            out[name] = value
    return out
