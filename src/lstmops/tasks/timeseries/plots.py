"""A price series' charts for `dvc plots show` besides the learning curve: the test forecast beside
every baseline, the walk-forward folds and the next day's forecast ({ds}: the dataset)."""

from __future__ import annotations

from lstmops.forecasters import BASELINES

DVC_PLOTS: dict[str, dict] = {
    "forecast": {
        "title": "{ds}: one-step-ahead forecast of the close on the test period",
        "x": "day",
        "y": {"plots/{ds}/predictions.csv": [*BASELINES, "predicted", "actual"]},
        "x_label": "test day",
        "y_label": "close ($)",
    },
    "walkforward": {
        "title": "{ds}: walk-forward test RMSE per fold, model and baselines",
        "x": "fold",
        "y": {"plots/{ds}_walkforward/folds.csv": [f"{n}_rmse" for n in ("model", *BASELINES)]},
        "x_label": "fold",
        "y_label": "test RMSE ($)",
    },
    "next-day": {
        "title": "{ds}: the last days' close and the next day's forecast with its interval",
        "x": "day",
        "y": {"plots/{ds}_forecast/forecast.csv": ["close", "forecast", "lower", "upper"]},
        "x_label": "day (0: the last day seen)",
        "y_label": "close ($)",
    },
}
