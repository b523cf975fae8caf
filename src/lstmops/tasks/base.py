"""The task contract: what the stages and tools call on a task, as typing.Protocols that mypy checks
every task's modules against (tasks/contract.py).

A task is a package with a light `__init__` (its declarations: `Declarations`) and one module per
group of stages, so that each stage depends on the code it runs and no more: `data` (ingest,
validate, pretrain, preprocess), `checks` (the expectations of ingest and validate), `train` and
`score` (evaluate, walkforward, forecast, tune).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from lstmops.config import Dataset

Tables = dict[str, pd.DataFrame]
Arrays = dict[str, np.ndarray]
Part = (
    tuple[np.ndarray, np.ndarray] | None
)  # (inputs, targets) of the fit part or the validation slice


class Declarations(Protocol):
    STAGE_SETTINGS: dict[str, tuple[str, ...]]  # each stage and the settings sections it reads
    STAGES: tuple[str, ...]
    REPORT: tuple[
        str, str, str
    ]  # `make report`: the model's metric, the baseline's, the comparison
    DESCRIPTION: str  # the MLflow experiment's, with {dataset}
    CHAMPION_METRIC: tuple[
        str, bool
    ]  # the validation metric that moves @champion; lower is better?
    TUNE_OBJECTIVE: tuple[str, bool]  # what a tuning trial scores; lower is better?
    PAGE_CHARTS: tuple[tuple[str, str, str], ...]  # the plots page: (stage, table, chart)


class Data(Protocol):
    def read_source(self, dataset: Dataset) -> Tables: ...

    def write_raw(self, tables: Tables, out: Path) -> None: ...

    def read_raw(self, raw: Path, dataset: Dataset) -> Tables: ...

    def preprocess(self, tables: Tables, dataset: Dataset, out: Path) -> str: ...


class Pretraining(Data, Protocol):
    def pretraining_texts(self, tables: Tables) -> list[str]: ...


class Checks(Protocol):
    def check(self, tables: Tables, dataset: Dataset) -> list: ...


class Training(Protocol):
    def model_and_split(self, arrays: Arrays, dataset: Dataset) -> tuple[Any, Part, Part]: ...

    def lineage(self, dataset: Dataset) -> dict[str, str]: ...

    def validation_metrics(
        self, model: Any, val_part: Part, arrays: Arrays, dataset: Dataset
    ) -> dict: ...

    def model_files(
        self, model: Any, val_part: Part, arrays: Arrays, dataset: Dataset, out: Path
    ) -> tuple[dict[str, str], dict[str, float]]: ...

    def no_change(self, dataset: Dataset, processed: Path) -> float | None: ...

    def served_model(self, dataset: Dataset, arrays: Arrays, processed: Path) -> tuple: ...


class Scoring(Protocol):
    def fitted(self, dataset: Dataset) -> Any: ...

    def evaluate(
        self, model: Any, arrays: Arrays, dataset: Dataset, fit: Any
    ) -> tuple[dict, Tables]: ...

    def tune_score(self, dataset: Dataset, reporter: Any) -> float: ...


class Forecasting(Scoring, Protocol):
    def read_raw(self, raw: Path, dataset: Dataset) -> Tables: ...

    def next_day(
        self, model: Any, tables: Tables, dataset: Dataset, fit: Any
    ) -> tuple[dict, pd.DataFrame]: ...

    def series(self, tables: Tables, dataset: Dataset) -> list: ...

    def score_folds(
        self, panel: list, dataset: Dataset, reporter: Any = None
    ) -> tuple[dict, list[dict]]: ...
