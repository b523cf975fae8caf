"""The task registry: the one place that maps a dataset's task, and a stage, to the module that
does its work.

Each task is a package (timeseries/, sentiment/) whose modules the contract in base.py describes; a
stage imports only the part it runs (PARTS), so that its DVC deps are that part's code. A third
kind of task is one more package here and a section in params.yaml; no stage changes.
"""

from __future__ import annotations

import importlib
from typing import cast

from lstmops.config import Dataset, LstmopsError
from lstmops.tasks.base import (
    Checks,
    Data,
    Declarations,
    Forecasting,
    Pretraining,
    Scoring,
    Training,
)

MODULES = {
    "prices": "lstmops.tasks.timeseries",
    "series": "lstmops.tasks.timeseries",
    "sentiment": "lstmops.tasks.sentiment",
}
# The parts of a task each stage runs.
PARTS = {
    "ingest": ("data", "checks"),
    "validate": ("data", "checks"),
    "pretrain": ("data",),
    "preprocess": ("data",),
    "train": ("train",),
    "evaluate": ("score",),
    "walkforward": ("score",),
    "forecast": ("score",),
}


def declarations(task: str) -> Declarations:
    return cast(Declarations, importlib.import_module(MODULES[task]))


def dvc_plots(task: str) -> dict[str, dict]:
    """The task's `dvc plots` definitions (its `plots` module: no stage imports it)."""
    return cast(dict[str, dict], importlib.import_module(f"{MODULES[task]}.plots").DVC_PLOTS)


def modules(task: str, stage: str) -> list[str]:
    """The modules of `task` that `stage` runs."""
    return [f"{MODULES[task]}.{part}" for part in PARTS[stage]]


def _part(dataset: Dataset, stage: str, part: str):
    stages = declarations(dataset.task).STAGES
    if stage not in stages:
        raise LstmopsError(
            f"{dataset.name} is a {dataset.task} dataset, which has no {stage} stage (its stages: "
            f"{', '.join(stages)})."
        )
    return importlib.import_module(f"{MODULES[dataset.task]}.{part}")


def data(dataset: Dataset, stage: str) -> Data:
    return cast(Data, _part(dataset, stage, "data"))


def pretraining(dataset: Dataset) -> Pretraining:
    return cast(Pretraining, _part(dataset, "pretrain", "data"))


def checks(dataset: Dataset, stage: str) -> Checks:
    return cast(Checks, _part(dataset, stage, "checks"))


def training(dataset: Dataset) -> Training:
    return cast(Training, _part(dataset, "train", "train"))


def scoring(dataset: Dataset, stage: str = "evaluate") -> Scoring:
    return cast(Scoring, _part(dataset, stage, "score"))


def forecasting(dataset: Dataset, stage: str) -> Forecasting:
    return cast(Forecasting, _part(dataset, stage, "score"))
