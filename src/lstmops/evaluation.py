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
    """Accuracy, loss, precision, recall, F1 and ROC AUC, and the majority-class baseline's accuracy."""
    predicted = (probabilities >= threshold).astype(int)
    majority = int(np.mean(labels) >= 0.5)
    return {
        "model": {
            "accuracy": float(skm.accuracy_score(labels, predicted)),
            "loss": float(
                skm.log_loss(labels, np.clip(probabilities, 1e-7, 1 - 1e-7), labels=[0, 1])
            ),
            "precision": float(skm.precision_score(labels, predicted, zero_division=0)),
            "recall": float(skm.recall_score(labels, predicted, zero_division=0)),
            "f1": float(skm.f1_score(labels, predicted, zero_division=0)),
            "roc_auc": float(skm.roc_auc_score(labels, probabilities)),
        },
        "majority_class": {"accuracy": float(np.mean(labels == majority)), "label": majority},
        "test_reviews": len(labels),
    }


# --- plots ------------------------------------------------------------------------------------


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


def plot_learning_curve(history: dict[str, list[float]], path: Path) -> None:
    fig, ax = _figure()
    for key in ("loss", "val_loss"):
        if key in history:
            ax.plot(range(1, len(history[key]) + 1), history[key], label=key)
    ax.set(xlabel="epoch", ylabel="loss", title="Learning curve")
    ax.legend()
    _save(fig, path)


def plot_predictions(table: pd.DataFrame, path: Path) -> None:
    fig, ax = _figure()
    dated = "date" in table
    x = pd.to_datetime(table["date"]) if dated else table["day"]
    for column in ("actual", "predicted", "persistence"):
        ax.plot(x, table[column], label=column, lw=1)
    ax.set(
        xlabel="date" if dated else "test day",
        ylabel="Close ($)",
        title="One-step-ahead forecast on the test period",
    )
    ax.legend()
    _save(fig, path)


def plot_roc(labels: np.ndarray, probabilities: np.ndarray, path: Path) -> pd.DataFrame:
    """Save the ROC curve as PNG and return its points for `dvc plots`."""
    fpr, tpr, _ = skm.roc_curve(labels, probabilities)
    fig, ax = _figure()
    ax.plot(fpr, tpr, label=f"AUC {skm.auc(fpr, tpr):.3f}")
    ax.plot([0, 1], [0, 1], ls="--", c="grey")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC curve")
    ax.legend()
    _save(fig, path)
    return pd.DataFrame({"fpr": fpr, "tpr": tpr})


def plot_confusion(labels: np.ndarray, predicted: np.ndarray, path: Path) -> None:
    display = skm.ConfusionMatrixDisplay.from_predictions(
        labels, predicted, display_labels=["neg", "pos"], colorbar=False
    )
    _save(display.figure_, path)
