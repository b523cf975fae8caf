"""Every task's modules held against the contract (base.py, and `Plots` here): mypy checks these
assignments. No stage imports this module."""

from __future__ import annotations

from typing import Protocol

from lstmops.tasks import base, prices, sentiment
from lstmops.tasks.prices import checks as prices_checks
from lstmops.tasks.prices import data as prices_data
from lstmops.tasks.prices import plots as prices_plots
from lstmops.tasks.prices import score as prices_score
from lstmops.tasks.prices import train as prices_train
from lstmops.tasks.sentiment import checks as sentiment_checks
from lstmops.tasks.sentiment import data as sentiment_data
from lstmops.tasks.sentiment import plots as sentiment_plots
from lstmops.tasks.sentiment import score as sentiment_score
from lstmops.tasks.sentiment import train as sentiment_train

DECLARATIONS: list[base.Declarations] = [prices, sentiment]
DATA: list[base.Data] = [prices_data, sentiment_data]
PRETRAINING: list[base.Pretraining] = [sentiment_data]
CHECKS: list[base.Checks] = [prices_checks, sentiment_checks]
TRAINING: list[base.Training] = [prices_train, sentiment_train]
SCORING: list[base.Scoring] = [prices_score, sentiment_score]
FORECASTING: list[base.Forecasting] = [prices_score]


class Plots(Protocol):
    """A task's `plots` module, which only `python -m lstmops dvc-yaml` reads (so no stage depends
    on it): its charts for `dvc plots show`, {ds} for the dataset, besides the learning curve."""

    DVC_PLOTS: dict[str, dict]


PLOTS: list[Plots] = [prices_plots, sentiment_plots]
