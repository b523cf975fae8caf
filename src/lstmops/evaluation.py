"""Test metrics, the baselines a user compares against, and plots (PNG for people, CSV for `dvc plots`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn import metrics as skm

# --- prices: one-step-ahead forecasts in dollars ----------------------------------------------


def regression_metrics(actual: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    error = predicted - actual
    return {
        "rmse": float(np.sqrt(np.mean(error**2))),
        "mae": float(np.mean(np.abs(error))),
        "mape": float(np.mean(np.abs(error / actual)) * 100),
    }


def directional_accuracy(previous: np.ndarray, actual: np.ndarray, predicted: np.ndarray) -> float:
    """Share of days on which the forecast moves from today's close in the direction the price moved."""
    return float(np.mean(np.sign(predicted - previous) == np.sign(actual - previous)))


def price_metrics(previous: np.ndarray, actual: np.ndarray, predicted: np.ndarray) -> dict:
    """The model's errors, persistence's (tomorrow's close = today's), and the ratio of their RMSEs."""
    model = regression_metrics(actual, predicted)
    persistence = regression_metrics(actual, previous)
    return {
        "model": {
            **model,
            "directional_accuracy": directional_accuracy(previous, actual, predicted),
        },
        "persistence": persistence,
        "rmse_ratio": model["rmse"] / persistence["rmse"],
        "test_windows": len(actual),
    }


# --- sentiment: binary labels -----------------------------------------------------------------


def classification_metrics(
    labels: np.ndarray, probabilities: np.ndarray, threshold: float = 0.5
) -> dict:
    """Accuracy, loss, precision, recall, F1 and ROC AUC; the majority-class baseline's accuracy,
    and the model's accuracy over it (above 1 beats it)."""
    predicted = (probabilities >= threshold).astype(int)
    majority = int(np.mean(labels) >= 0.5)
    baseline = float(np.mean(labels == majority))
    accuracy = float(skm.accuracy_score(labels, predicted))
    return {
        "model": {
            "accuracy": accuracy,
            "loss": float(
                skm.log_loss(labels, np.clip(probabilities, 1e-7, 1 - 1e-7), labels=[0, 1])
            ),
            "precision": float(skm.precision_score(labels, predicted, zero_division=0)),
            "recall": float(skm.recall_score(labels, predicted, zero_division=0)),
            "f1": float(skm.f1_score(labels, predicted, zero_division=0)),
            "roc_auc": float(skm.roc_auc_score(labels, probabilities)),
        },
        "majority_class": {"accuracy": baseline},
        "accuracy_ratio": accuracy / baseline,
        "test_reviews": len(labels),
    }


# --- plots ------------------------------------------------------------------------------------

# One colour per series in every figure, PNG and HTML alike: what was, the model, the baseline.
COLOURS = {
    "actual": "#111111",
    "predicted": "#1f77b4",
    "model": "#1f77b4",
    "persistence": "#ff7f0e",
    "loss": "#1f77b4",
    "val_loss": "#ff7f0e",
}


def _figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(9, 4.5))


def _save(fig, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_learning_curve(history: dict[str, list[float]], dataset: str, path: Path) -> None:
    from matplotlib.ticker import MaxNLocator

    fig, ax = _figure()
    for key in ("loss", "val_loss"):
        if key in history:
            ax.plot(range(1, len(history[key]) + 1), history[key], label=key, c=COLOURS[key])
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set(xlabel="epoch", ylabel="loss", title=f"{dataset}: learning curve")
    ax.legend()
    _save(fig, path)


def plot_predictions(table: pd.DataFrame, dataset: str, path: Path) -> None:
    """Persistence, the forecast, and the actual close drawn last, on top of both."""
    fig, ax = _figure()
    dated = "date" in table
    x = pd.to_datetime(table["date"]) if dated else table["day"]
    for column, width in (("persistence", 1), ("predicted", 1), ("actual", 1.4)):
        ax.plot(x, table[column], label=column, lw=width, c=COLOURS[column])
    ax.set(
        xlabel="date" if dated else "test day",
        ylabel="Close ($)",
        title=f"{dataset}: one-step-ahead forecast of the close on the test period",
    )
    ax.legend()
    _save(fig, path)


def plot_walkforward(rows: pd.DataFrame, dataset: str, path: Path) -> None:
    """Each fold's test RMSE, the model's beside persistence's, with their ratio above."""
    fig, ax = _figure()
    x, width = np.arange(len(rows)), 0.4
    ax.bar(x - width / 2, rows["model_rmse"], width, label="model", color=COLOURS["model"])
    ax.bar(
        x + width / 2,
        rows["persistence_rmse"],
        width,
        label="persistence",
        color=COLOURS["persistence"],
    )
    for i, row in enumerate(rows.itertuples()):
        top = max(row.model_rmse, row.persistence_rmse)
        ax.annotate(f"{row.rmse_ratio:.2f}", (i, top), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, [str(f) for f in rows["fold"]])
    ax.set(
        xlabel="fold (numbers above: model RMSE / persistence RMSE)",
        ylabel="test RMSE ($)",
        title=f"{dataset}: walk-forward folds, model against persistence",
    )
    ax.legend()
    _save(fig, path)


def plot_roc(
    labels: np.ndarray, probabilities: np.ndarray, dataset: str, path: Path
) -> pd.DataFrame:
    """Save the ROC curve as PNG and return its points for `dvc plots`."""
    fpr, tpr, _ = skm.roc_curve(labels, probabilities)
    fig, ax = _figure()
    ax.plot(fpr, tpr, label=f"model (AUC {skm.auc(fpr, tpr):.3f})", c=COLOURS["model"])
    ax.plot([0, 1], [0, 1], ls="--", c="grey", label="chance (AUC 0.5)")
    ax.set(
        xlabel="false positive rate",
        ylabel="true positive rate",
        title=f"{dataset}: ROC curve on the test split",
    )
    ax.legend()
    _save(fig, path)
    return pd.DataFrame({"fpr": fpr, "tpr": tpr})


def plot_confusion(labels: np.ndarray, predicted: np.ndarray, dataset: str, path: Path) -> None:
    """Rows: the actual label; columns: the predicted one (as in the HTML page)."""
    display = skm.ConfusionMatrixDisplay.from_predictions(
        labels, predicted, display_labels=["negative", "positive"], colorbar=False
    )
    display.ax_.set(
        xlabel="predicted",
        ylabel="actual",
        title=f"{dataset}: confusion matrix on the test split",
    )
    _save(display.figure_, path)
