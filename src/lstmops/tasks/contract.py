"""Every task's modules held against the contract (base.py, and `Plots` here): mypy checks these
assignments. No stage imports this module."""

from __future__ import annotations

from typing import Protocol

from lstmops.tasks import base, sentiment, timeseries
from lstmops.tasks.sentiment import checks as sentiment_checks
from lstmops.tasks.sentiment import data as sentiment_data
from lstmops.tasks.sentiment import plots as sentiment_plots
from lstmops.tasks.sentiment import score as sentiment_score
from lstmops.tasks.sentiment import train as sentiment_train
from lstmops.tasks.timeseries import checks as timeseries_checks
from lstmops.tasks.timeseries import data as timeseries_data
from lstmops.tasks.timeseries import plots as timeseries_plots
from lstmops.tasks.timeseries import score as timeseries_score
from lstmops.tasks.timeseries import train as timeseries_train

DECLARATIONS: list[base.Declarations] = [timeseries, sentiment]
DATA: list[base.Data] = [timeseries_data, sentiment_data]
PRETRAINING: list[base.Pretraining] = [sentiment_data]
CHECKS: list[base.Checks] = [timeseries_checks, sentiment_checks]
TRAINING: list[base.Training] = [timeseries_train, sentiment_train]
SCORING: list[base.Scoring] = [timeseries_score, sentiment_score]
FORECASTING: list[base.Forecasting] = [timeseries_score]


class Plots(Protocol):
    """A task's `plots` module, which only `python -m lstmops dvc-yaml` reads (so no stage depends
    on it): its charts for `dvc plots show`, {ds} for the dataset, besides the learning curve."""

    DVC_PLOTS: dict[str, dict]


PLOTS: list[Plots] = [timeseries_plots, sentiment_plots]
