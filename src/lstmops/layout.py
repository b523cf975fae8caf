"""Where every stage reads and writes: each folder and file name of the project, in one place.

The stages, dvc.yaml (pipeline.py fills these in with `${key}`), `predict`, `make plots` and the
tests take paths from here; task code names no path of its own.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lstmops.config import Dataset, LstmopsError

# Beside the arrays, the model and the run (the stage outputs DVC tracks).
ARRAYS = "arrays.npz"
MODEL_FILE = "model.keras"
HISTORY_FILE = "history.json"
RUN_FILE = "run.json"
SERVED_DIR = "served"  # models/<dataset>/served: the pyfunc model, as MLflow logs it
CHECKPOINT_DIR = Path("checkpoints")  # state of unfinished runs (not a DVC output)
PER_SERIES = "per_series"  # a panel's metrics of each series: in its metrics file, not in MLflow


def summary(metrics: dict) -> dict:
    """What a stage prints of its metrics: all but a panel's per-series figures (107 series printed
    over 50,000 characters); those are in its file."""
    return {k: v for k, v in metrics.items() if k != PER_SERIES}


# The tasks' own files: prices
PRICES_FILE = "prices.csv"  # data/raw/<dataset>: the parsed, time-ordered table
SCALING_FILE = "scaling.joblib"  # data/processed/<dataset>: the scalers fitted on training rows
CALIBRATION_FILE = "calibration.json"  # models/<dataset>: the interval's errors on the training end
# sentiment
VOCABULARY_FILE = "vocabulary.json"
TEXTS_FILE = "texts.parquet"  # the texts as the n-gram model reads them whole (marks kept)
NGRAMS_FILE = "ngrams.json"  # the linear baseline's C, which the hybrid's n-gram part reuses
NGRAM_MODEL_FILE = "ngrams.npz"  # beside a hybrid's LSTM: its n-gram part
COMBINATION_FILE = "combination.json"  # and the weights that stack the parts
DOCVECTORS_DIR = "docvectors"  # with train.docvectors: the document vectors' part


def raw_dir(dataset: str) -> Path:
    return Path("data/raw") / dataset


def processed_dir(dataset: str) -> Path:
    return Path("data/processed") / dataset


def model_dir(dataset: str) -> Path:
    return Path("models") / dataset


def pretrain_dir(dataset: str) -> Path:
    """The pretrain stage's language model, its vocabulary and run."""
    return Path("models") / f"{dataset}_pretrain"


def metrics_file(dataset: str) -> Path:
    return Path("metrics") / f"{dataset}.json"


def timings_file(dataset: str) -> Path:
    """The preprocess stage's wall time, which the train run logs: beside the DVC outputs, not in
    them (they must not change with the clock)."""
    return Path("reports") / "timings" / f"{dataset}.json"


def plots_dir(dataset: str) -> Path:
    return Path("plots") / dataset


def walkforward_files(dataset: str) -> tuple[Path, Path]:
    """The walk-forward stage's metrics (JSON) and plots folder (the per-fold table and figure)."""
    return Path("metrics") / f"{dataset}_walkforward.json", Path("plots") / f"{dataset}_walkforward"


def forecast_files(dataset: str) -> tuple[Path, Path]:
    """The forecast stage's forecast of the next day (JSON) and its chart's folder."""
    return Path("forecasts") / f"{dataset}.json", Path("plots") / f"{dataset}_forecast"


def tables_dir(dataset: str, stage: str) -> Path:
    """The folder of the tables (CSV) and charts (PNG) that `stage` writes for `dataset`: each
    table's name is its file's (predictions.csv, predictions.png)."""
    folders = {
        "evaluate": plots_dir(dataset),
        "walkforward": walkforward_files(dataset)[1],
        "forecast": forecast_files(dataset)[1],
    }
    return folders[stage]


def report_file(dataset: str) -> Path:
    return Path("reports/validation") / f"{dataset}.json"


def outcome_file(dataset: str) -> Path:
    """The outcome of the suite that ingest ran on the raw data it wrote, kept for validate."""
    return Path("reports/ingest") / f"{dataset}.json"


def stage_name(dataset: Dataset, stage: str) -> str:
    """The DVC stage that runs `stage` for `dataset` (from dvc.yaml's foreach over its task)."""
    return f"{dataset.task}-{stage}@{dataset.name}"


def require(path: Path, stage: str, dataset: Dataset) -> Path:
    """`path` if it exists, else an error that names the stage that makes it."""
    if not path.exists():
        raise LstmopsError(
            f"{path} is missing: run `dvc repro {stage_name(dataset, stage)}` first."
        )
    return path


def load_arrays(dataset: Dataset) -> dict[str, np.ndarray]:
    """The preprocess stage's model arrays."""
    path = require(processed_dir(dataset.name) / ARRAYS, "preprocess", dataset)
    with np.load(path) as data:
        return dict(data)
