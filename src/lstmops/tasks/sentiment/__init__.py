"""The sentiment task: is a text positive or negative, judged against the majority class and a
linear n-gram model.

What differs from the other tasks lives in this package, cut by the stages that run it, so that a
stage depends only on the code it runs: `data` (the formats a source of labelled texts comes in:
the aclImdb archive or a folder like it, CSV, Parquet; the vocabulary, padding and the n-gram
baseline), `checks` (the expectations), `train` (the model, its seeded validation slice, the hybrid's
n-gram part and the served model: raw text in) and `score` (the test metrics and tuning). This
module holds what every part and the tools around the stages read: the task's declarations.
"""

from __future__ import annotations

# The stages of a text dataset, and the sections of its settings each one reads (DVC params).
STAGE_SETTINGS: dict[str, tuple[str, ...]] = {
    "ingest": ("ingest", "validate"),  # ingest validates before it replaces the raw data
    "validate": ("validate",),
    "pretrain": ("pretrain",),  # not in presets: every preset that starts from it shares it
    "preprocess": ("preprocess",),
    "train": ("preprocess", "train"),
    "evaluate": (),
}
STAGES = tuple(STAGE_SETTINGS)
REPORT = ("test.model.accuracy", "test.majority_class.accuracy", "accuracy, model / majority")
# What a tuning trial scores, and whether lower is better: never the test split.
TUNE_OBJECTIVE = ("validation.accuracy", False)
# What the dataset's MLflow experiment says it is, and the validation metric (lower is better?)
# that moves the registered model's champion alias.
DESCRIPTION = (
    "Positive or negative: the sentiment of {dataset}'s reviews. Judge a run by "
    "test.model.accuracy against two baselines: test.accuracy_ratio, its ratio to the majority "
    "class's accuracy (above 1 beats always answering the commoner label), and "
    "test.linear_accuracy_ratio, its ratio to an NB-weighted word 1-3-gram logistic regression's "
    "(above 1 beats the linear model). The registered model lstmops-{dataset} moves its "
    "@champion alias to a version only when its validation.accuracy (on the validation slice of "
    "the training split, never the test split) is higher."
)
CHAMPION_METRIC = ("validation.accuracy", False)
# The plots page's charts, in order: (the stage that writes the table, the table, the chart).
PAGE_CHARTS: tuple[tuple[str, str, str], ...] = (
    ("evaluate", "learning_curve", "learning_curve"),
    ("evaluate", "roc", "roc"),
    ("evaluate", "confusion", "confusion"),
)
