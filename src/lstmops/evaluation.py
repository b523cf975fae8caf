"""Test metrics and the baselines a user compares against (the charts: charts.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from sklearn import metrics as skm

# --- prices: one-step-ahead forecasts in dollars ----------------------------------------------


def regression_metrics(actual: np.ndarray, predicted: np.ndarray) -> dict[str, float | None]:
    """RMSE, MAE and MAPE; MAPE None, "undefined", where an actual value is 0 (counts, sales)."""
    error = predicted - actual
    return {
        "rmse": float(np.sqrt(np.mean(error**2))),
        "mae": float(np.mean(np.abs(error))),
        "mape": float(np.mean(np.abs(error / actual)) * 100) if np.all(actual != 0) else None,
    }


def directional_accuracy(previous: np.ndarray, actual: np.ndarray, predicted: np.ndarray) -> float:
    """Share of days on which the forecast moves from today's close in the direction the price moved."""
    return float(np.mean(np.sign(predicted - previous) == np.sign(actual - previous)))


def naive_mae(previous: np.ndarray, actual: np.ndarray) -> float:
    """MASE's scale: the mean absolute error of the one-step naive forecast (tomorrow = today) over
    the training period, in dollars."""
    return float(np.mean(np.abs(np.asarray(actual) - np.asarray(previous))))


def diebold_mariano(actual: np.ndarray, model: np.ndarray, baseline: np.ndarray) -> dict:
    """Diebold–Mariano test of equal squared-error accuracy of two one-step forecasts, with
    Harvey, Leybourne & Newbold's small-sample correction (t distribution, n - 1 degrees of
    freedom). A negative statistic favours the model; the p-value is two-sided, so a large one says
    the two cannot be told apart."""

    d = (np.asarray(model) - actual) ** 2 - (np.asarray(baseline) - actual) ** 2
    n = len(d)
    variance = float(np.mean((d - d.mean()) ** 2))
    if n < 2 or variance == 0:
        return {"statistic": 0.0, "p_value": 1.0}
    statistic = float(d.mean() / np.sqrt(variance / n) * np.sqrt((n - 1) / n))
    return {"statistic": statistic, "p_value": float(2 * stats.t.sf(abs(statistic), df=n - 1))}


def forecast_metrics(
    last: np.ndarray,
    actual: np.ndarray,
    forecasts: dict[str, np.ndarray],
    moving: set[str],
    scale: float | None = None,
) -> dict:
    """Each forecaster's errors (`forecasts`: the model's first, then the baselines', the first of
    them the reference, named), the ratio of the model's RMSE to the reference's and a Diebold–Mariano
    test of the two; with `scale` (naive_mae of the training period), each one's MASE (None where
    the scale is 0: a series that never moved that way in training); for those whose forecasts
    move (`moving`), their directional accuracy."""
    (model, reference, *_) = forecasts
    metrics: dict = {}
    for name, predicted in forecasts.items():
        metrics[name] = regression_metrics(actual, predicted)
        if scale is not None:
            metrics[name]["mase"] = ratio(metrics[name]["mae"], scale)
        if name in moving:
            metrics[name]["directional_accuracy"] = directional_accuracy(last, actual, predicted)
    return {
        **metrics,
        "reference": reference,
        "rmse_ratio": ratio(metrics[model]["rmse"], metrics[reference]["rmse"]),
        "diebold_mariano": diebold_mariano(actual, forecasts[model], forecasts[reference]),
        "test_windows": len(actual),
    }


def ratio(model: float, reference: float) -> float | None:
    """The model's error over the reference's; None, "undefined", where the reference made no
    error at all (a series constant over its test period, which persistence forecasts exactly)."""
    return model / reference if reference > 0 else None


def panel_summary(per_series: list[dict], names: list[str], significance: float) -> dict:
    """Many series' forecast_metrics in a few numbers: how many, the model's RMSE ratio to the
    reference baseline (mean and median over the series where it is defined, and how many it is
    not), the shares whose ratio is below 1 and whose Diebold-Mariano test favours the model at
    `significance`, and each forecaster's mean MASE where the series have one (`names`: the
    model's first, then the baselines')."""
    model, reference, *_ = names
    ratios = np.array([m["rmse_ratio"] for m in per_series if m["rmse_ratio"] is not None])
    better = [
        m["diebold_mariano"]["statistic"] < 0 and m["diebold_mariano"]["p_value"] < significance
        for m in per_series
    ]
    mase = {name: _mean([m[name].get("mase") for m in per_series]) for name in names}
    undefined = len(per_series) - len(ratios)
    return {
        "count": len(per_series),
        "mean_rmse_ratio": float(ratios.mean()) if len(ratios) else None,
        "median_rmse_ratio": float(np.median(ratios)) if len(ratios) else None,
        **({"undefined_rmse_ratio": undefined} if undefined else {}),
        f"beating_{reference}": float(np.sum(ratios < 1) / len(per_series)),
        "significantly_better": float(np.mean(better)),
        "significance": significance,
        "mean_mase": mase[model],
        **{f"{name}_mean_mase": mase[name] for name in names[1:]},
    }


def _mean(values: list[float | None]) -> float | None:
    """The mean of the defined values; None where none is."""
    defined = [v for v in values if v is not None]
    return float(np.mean(defined)) if defined else None


def series_table(per_series: dict[str, dict], names: list[str]) -> pd.DataFrame:
    """One row per series of its test metrics, the model's beside each baseline's (`names`: the
    model's first)."""
    model = names[0]
    return pd.DataFrame(
        [
            {
                "series": series,
                "test_windows": m["test_windows"],
                **{f"{name}_rmse": m[name]["rmse"] for name in names},
                "rmse_ratio": m["rmse_ratio"],
                **{f"{name}_mase": m[name]["mase"] for name in names},
                "directional_accuracy": m[model]["directional_accuracy"],
                "dm_statistic": m["diebold_mariano"]["statistic"],
                "dm_p_value": m["diebold_mariano"]["p_value"],
            }
            for series, m in per_series.items()
        ]
    )


# --- prices: prediction intervals (intervals.py makes them) ----------------------------------


def interval_scores(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> dict:
    """How often the interval held the actual close, and its mean width in dollars."""
    inside = (np.asarray(actual) >= lower) & (np.asarray(actual) <= upper)
    return {"coverage": float(inside.mean()), "mean_width": float(np.mean(upper - lower))}


# --- sentiment: binary labels -----------------------------------------------------------------


def classification_metrics(
    labels: np.ndarray,
    probabilities: np.ndarray,
    linear: np.ndarray | None = None,
    threshold: float = 0.5,
) -> dict:
    """Accuracy, loss, precision, recall, F1 and ROC AUC; the majority-class baseline's accuracy
    and the model's over it (above 1 beats it); with the linear baseline's probabilities, its
    accuracy and ROC AUC and the model's accuracy over its."""
    predicted = (probabilities >= threshold).astype(int)
    majority = int(np.mean(labels) >= 0.5)
    baseline = float(np.mean(labels == majority))
    accuracy = float(skm.accuracy_score(labels, predicted))
    compared = {}
    if linear is not None:
        linear_accuracy = float(np.mean((linear >= threshold) == labels))
        compared = {
            "linear": {
                "accuracy": linear_accuracy,
                "roc_auc": float(skm.roc_auc_score(labels, linear)),
            },
            "linear_accuracy_ratio": accuracy / linear_accuracy,
        }
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
        **compared,
        "test_reviews": len(labels),
    }


def roc_table(labels: np.ndarray, probabilities: np.ndarray) -> pd.DataFrame:
    """The ROC curve's points: false and true positive rates at each threshold."""
    fpr, tpr, _ = skm.roc_curve(labels, probabilities)
    return pd.DataFrame({"fpr": fpr, "tpr": tpr})
