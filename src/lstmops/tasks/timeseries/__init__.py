"""The series tasks (prices, and any numeric series): one-step-ahead forecasting of a target,
judged against the best baseline on the training period (persistence, seasonal naive).

What differs from the other tasks lives in this package, cut by the stages that run it, so that a
stage depends only on the code it runs: `data` (the formats a price source comes in, the series,
windows and scaling), `checks` (the expectations), `train` (the model, its chronological
validation slice, the interval's calibration and the served model: dollars in, dollars out) and
`score` (the test metrics beside persistence, the next day's forecast and walk-forward). This
module holds what every part and the tools around the stages read: the task's declarations.
"""

from __future__ import annotations

# The stages of a price series, and the sections of its settings each one reads (DVC params).
STAGE_SETTINGS: dict[str, tuple[str, ...]] = {
    "ingest": (),
    "validate": (),
    "preprocess": ("preprocess",),
    "train": ("preprocess", "train", "forecast"),  # the served model's interval coverage
    "evaluate": ("forecast",),
    "walkforward": ("preprocess", "train", "walk_forward"),
    "forecast": ("preprocess", "forecast"),
}
STAGES = tuple(STAGE_SETTINGS)
# For `make report`: the model's test metric, its reference baseline's (the first of
# forecasters.BASELINES), and how the two compare.
REPORT = ("test.model.rmse", "test.persistence.rmse", "RMSE, model / persistence")
# What the dataset's MLflow experiment says it is, and the validation metric (lower is better?)
# that moves the registered model's champion alias.
DESCRIPTION = (
    "One-step-ahead forecasts of {dataset}'s target (a price series: its daily close, in dollars). "
    "Judge a run by test.rmse_ratio, the model's test RMSE over its reference baseline's (the best "
    "on the training period of persistence, the last value, and seasonal naive, the value one "
    "season before: metrics.json names it): below 1 beats it; test.diebold_mariano.p_value says "
    "whether the difference is more than chance, and test.model.mase scales the model's MAE by the "
    "training period's naive MAE (seasonal where there is a season). walk_forward.rmse_ratio is the "
    "same ratio over expanding-window folds. The forecast.* is the next step's forecast with its "
    "interval, and test.interval.model.coverage how often that interval held the test period's "
    "values. The registered model lstmops-{dataset} moves its @champion alias to a version only "
    "when its validation.rmse (on the validation slice, never the test period) is lower."
)
CHAMPION_METRIC = ("validation.rmse", True)
# What a tuning trial scores, and whether lower is better: never the test period.
TUNE_OBJECTIVE = ("walk_forward.rmse_ratio", True)
# The plots page's charts, in order: (the stage that writes the table, the table, the chart).
PAGE_CHARTS: tuple[tuple[str, str, str], ...] = (
    ("evaluate", "predictions", "forecast"),
    ("evaluate", "learning_curve", "learning_curve"),
    ("walkforward", "folds", "walkforward"),
    ("forecast", "forecast", "next_day"),
)
