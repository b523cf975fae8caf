"""The PNG charts of the stages that draw (evaluate, walkforward, forecast), each drawn from the
table written beside it as CSV (for `dvc plots` and the plots page); one colour per series in
every figure, PNG and HTML alike."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display: before pyplot is imported

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
from sklearn import metrics as skm  # noqa: E402

# What was, the model, the baseline.
COLOURS = {
    "actual": "#111111",
    "predicted": "#1f77b4",
    "model": "#1f77b4",
    "persistence": "#ff7f0e",
    "loss": "#1f77b4",
    "val_loss": "#ff7f0e",
}


def _figure():
    return plt.subplots(figsize=(9, 4.5))


def _save(fig: Figure, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def learning_curve(table: pd.DataFrame, label: str, path: Path) -> None:
    fig, ax = _figure()
    for key in ("loss", "val_loss"):
        if key in table:
            ax.plot(table["epoch"], table[key], label=key, c=COLOURS[key])
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set(xlabel="epoch", ylabel="loss", title=f"{label}: learning curve")
    ax.legend()
    _save(fig, path)


def predictions(table: pd.DataFrame, label: str, path: Path) -> None:
    """Persistence, the forecast, and the actual close drawn last, on top of both."""
    fig, ax = _figure()
    dated = "date" in table
    x = pd.to_datetime(table["date"]) if dated else table["day"]
    for column, width in (("persistence", 1), ("predicted", 1), ("actual", 1.4)):
        ax.plot(x, table[column], label=column, lw=width, c=COLOURS[column])
    ax.set(
        xlabel="date" if dated else "test day",
        ylabel="Close ($)",
        title=f"{label}: one-step-ahead forecast of the close on the test period",
    )
    ax.legend()
    _save(fig, path)


def next_day(table: pd.DataFrame, label: str, path: Path) -> None:
    """The last days' close and tomorrow's forecast with its band, persistence's beside it."""
    fig, ax = _figure()
    dated = "date" in table and table["date"].notna().all()
    x = pd.to_datetime(table["date"]) if dated else table["day"]
    seen, ahead = table["close"].notna(), table["forecast"].notna()
    ax.plot(x[seen], table["close"][seen], c=COLOURS["actual"], lw=1.4, label="close")
    for column, who, shift in (("forecast", "model", 0.0), ("persistence", "persistence", 0.15)):
        low, high = (
            ("lower", "upper") if column == "forecast" else (f"{column}_lower", f"{column}_upper")
        )
        where = x[ahead] + (pd.Timedelta(days=shift) if dated else shift)
        centre = table[column][ahead]
        ax.errorbar(
            where,
            centre,
            yerr=[centre - table[low][ahead], table[high][ahead] - centre],
            fmt="o",
            capsize=4,
            c=COLOURS[who],
            label=f"{who} and its interval",
        )
    ax.set(
        xlabel="date" if dated else "day (0: the last day seen)",
        ylabel="Close ($)",
        title=f"{label}: the next day's forecast",
    )
    ax.legend()
    _save(fig, path)


def folds(rows: pd.DataFrame, label: str, path: Path) -> None:
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
        title=f"{label}: walk-forward folds, model against persistence",
    )
    ax.legend()
    _save(fig, path)


def roc(table: pd.DataFrame, label: str, path: Path) -> None:
    fig, ax = _figure()
    area = skm.auc(table["fpr"], table["tpr"])
    ax.plot(table["fpr"], table["tpr"], label=f"model (AUC {area:.3f})", c=COLOURS["model"])
    ax.plot([0, 1], [0, 1], ls="--", c="grey", label="chance (AUC 0.5)")
    ax.set(
        xlabel="false positive rate",
        ylabel="true positive rate",
        title=f"{label}: ROC curve on the test split",
    )
    ax.legend()
    _save(fig, path)


def confusion(table: pd.DataFrame, label: str, path: Path) -> None:
    """Rows: the actual label; columns: the predicted one (as in the HTML page)."""
    display = skm.ConfusionMatrixDisplay.from_predictions(
        table["actual"], table["predicted"], display_labels=["negative", "positive"], colorbar=False
    )
    display.ax_.set(
        xlabel="predicted", ylabel="actual", title=f"{label}: confusion matrix on the test split"
    )
    _save(display.figure_, path)


# Each table a stage writes that has a chart, by the table's name: the PNG beside its CSV.
DRAW: dict[str, Callable[[pd.DataFrame, str, Path], None]] = {
    "learning_curve": learning_curve,
    "predictions": predictions,
    "forecast": next_day,
    "folds": folds,
    "roc": roc,
    "confusion": confusion,
}


def write(tables: dict[str, pd.DataFrame], dataset: str, folder: Path) -> None:
    """Each table as `<name>.csv` in `folder`, and its chart as `<name>.png` beside it; a panel's
    chart shows its first series."""
    for name, table in tables.items():
        table.to_csv(folder / f"{name}.csv", index=False)
        if name not in DRAW:
            continue
        label = dataset
        if "series" in table:
            first = table["series"].iloc[0]
            table, label = table[table["series"] == first], f"{dataset} {first}"
        DRAW[name](table, label, folder / f"{name}.png")
