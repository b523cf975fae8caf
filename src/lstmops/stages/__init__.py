"""The stage commands, one module each: read settings, call the dataset's task, write outputs.

The stages are the same for every task: what differs between tasks lives in lstmops.tasks. Heavy
libraries are imported inside the functions that use them, so the CLI and the light stages start fast.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lstmops import config as cfg
from lstmops.config import Dataset, LstmopsError

ARRAYS = "arrays.npz"
MODEL_FILE = "model.keras"
HISTORY_FILE = "history.json"
RUN_FILE = "run.json"
PER_SERIES = "per_series"  # a panel's metrics of each series: in its metrics file, not in MLflow
CHECKPOINT_DIR = Path("checkpoints")  # state of unfinished runs (not a DVC output)


def require(path: Path, stage: str, dataset: Dataset) -> Path:
    """`path` if it exists, else an error that names the stage that makes it."""
    if not path.exists():
        raise LstmopsError(
            f"{path} is missing: run `dvc repro {cfg.stage_name(dataset, stage)}` first."
        )
    return path


def load_arrays(dataset: Dataset) -> dict[str, np.ndarray]:
    path = require(cfg.processed_dir(dataset.name) / ARRAYS, "preprocess", dataset)
    with np.load(path) as data:
        return dict(data)


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
