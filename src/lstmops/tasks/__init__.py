"""The task registry: the one place that maps a dataset's task to the module that does its work.

A task module (see prices.py and sentiment.py) provides, under the same names: NAME,
STAGE_SETTINGS, STAGES, REPORT, read_source, write_raw, read_raw, check, preprocess,
model_and_split, lineage, validation_metrics, model_files, no_change, served_model and
evaluate; a task with a pretrain stage (sentiment.py) adds pretraining_texts, one with a forecast
stage (prices.py) next_day. A third kind of task is one more module here and a section in
params.yaml; no stage changes.
Modules are imported on first use, so a stage loads only its own task's code.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from lstmops.config import Dataset, LstmopsError

MODULES = {"prices": "lstmops.tasks.prices", "sentiment": "lstmops.tasks.sentiment"}


def of(dataset: Dataset, stage: str | None = None) -> ModuleType:
    """The task module of `dataset`; an error if its task has no such `stage`."""
    module = importlib.import_module(MODULES[dataset.task])
    if stage is not None and stage not in module.STAGES:
        raise LstmopsError(
            f"{dataset.name} is a {dataset.task} dataset, which has no {stage} stage (its stages: "
            f"{', '.join(module.STAGES)})."
        )
    return module
