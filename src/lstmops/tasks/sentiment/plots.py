"""A text dataset's charts for `dvc plots show` besides the learning curve: the ROC curve and the
confusion matrix on the test split ({ds}: the dataset)."""

from __future__ import annotations

DVC_PLOTS: dict[str, dict] = {
    "roc": {
        "title": "{ds}: ROC curve on the test split",
        "x": "fpr",
        "y": {"plots/{ds}/roc.csv": "tpr"},
        "x_label": "false positive rate",
        "y_label": "true positive rate",
    },
    "confusion": {
        "title": "{ds}: confusion matrix on the test split",
        "template": "confusion",
        "x": "predicted",
        "y": {"plots/{ds}/confusion.csv": "actual"},
        "x_label": "predicted",
        "y_label": "actual",
    },
}
