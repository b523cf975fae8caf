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

from lstmops.forecasters import BASELINES  # noqa: E402

# What was, the model, each baseline (forecasters.BASELINES, in order; more take the spares).
COLOURS = {
    "actual": "#111111",
    "predicted": "#1f77b4",
    "model": "#1f77b4",
    "persistence": "#ff7f0e",
    "loss": "#1f77b4",
    "val_loss": "#ff7f0e",
}
SPARE = ("#2ca02c", "#9467bd", "#8c564b", "#e377c2")


def colour(name: str) -> str:
    """The colour of `name`; a baseline without one of its own gets a spare, by its place."""
    return COLOURS.get(name) or SPARE[list(BASELINES).index(name) % len(SPARE)]


def baselines_in(columns, suffix: str = "") -> list[str]:
    """The baselines a table has a column of (`<name><suffix>`), in the registry's order."""
    return [name for name in BASELINES if f"{name}{suffix}" in columns]


def first_step(table: pd.DataFrame) -> pd.DataFrame:
    """A test period's forecasts of the next step (a horizon's table holds every step's)."""
    return table[table["step"] == 1] if "step" in table else table


def _figure():
    return plt.subplots(figsize=(9, 4.5))


def _finish(fig: Figure, ax, path: Path, **labels: str) -> None:
    """Label the axes and title, add the legend, and save the figure."""
    ax.set(**labels)
    ax.legend()
    _save(fig, path)


def _save(fig: Figure, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def learning_curve(table: pd.DataFrame, label: str, path: Path) -> None:
    fig, ax = _figure()
    for key in ("loss", "val_loss"):
        if key in table:
            ax.plot(table["epoch"], table[key], label=key, c=colour(key))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    _finish(fig, ax, path, xlabel="epoch", ylabel="loss", title=f"{label}: learning curve")


def predictions(table: pd.DataFrame, label: str, path: Path) -> None:
    """The baselines, the forecast, and the actual close drawn last, on top of them."""
    fig, ax = _figure()
    table = first_step(table)
    dated = "date" in table
    x = pd.to_datetime(table["date"]) if dated else table["day"]
    drawn = [*((name, 1) for name in baselines_in(table)), ("predicted", 1), ("actual", 1.4)]
    for column, width in drawn:
        ax.plot(x, table[column], label=column, lw=width, c=colour(column))
    _finish(
        fig,
        ax,
        path,
        xlabel="date" if dated else "test day",
        ylabel="Close ($)",
        title=f"{label}: one-step-ahead forecast of the close on the test period",
    )


def next_day(table: pd.DataFrame, label: str, path: Path) -> None:
    """The last days' close and tomorrow's forecast with its band, each baseline's beside it."""
    fig, ax = _figure()
    dated = "date" in table and table["date"].notna().all()
    x = pd.to_datetime(table["date"]) if dated else table["day"]
    seen, ahead = table["close"].notna(), table["forecast"].notna()
    ax.plot(x[seen], table["close"][seen], c=colour("actual"), lw=1.4, label="close")
    others = [(name, name, 0.15 * (i + 1)) for i, name in enumerate(baselines_in(table, "_lower"))]
    for column, who, shift in (("forecast", "model", 0.0), *others):
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
            c=colour(who),
            label=f"{who} and its interval",
        )
    _finish(
        fig,
        ax,
        path,
        xlabel="date" if dated else "day (0: the last day seen)",
        ylabel="Close ($)",
        title=f"{label}: the next day's forecast",
    )


def folds(rows: pd.DataFrame, label: str, path: Path) -> None:
    """Each fold's test RMSE, the model's beside each baseline's, with the model's ratio to the
    reference baseline (the first) above."""
    fig, ax = _figure()
    who = ["model", *baselines_in(rows, "_rmse")]
    x, width = np.arange(len(rows)), 0.8 / len(who)
    for i, name in enumerate(who):
        offset = (i - (len(who) - 1) / 2) * width
        ax.bar(x + offset, rows[f"{name}_rmse"], width, label=name, color=colour(name))
    top = rows[[f"{name}_rmse" for name in who]].max(axis=1)
    for i, (ratio, height) in enumerate(zip(rows["rmse_ratio"], top, strict=True)):
        ax.annotate(f"{ratio:.2f}", (i, height), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, [str(f) for f in rows["fold"]])
    _finish(
        fig,
        ax,
        path,
        xlabel=f"fold (numbers above: model RMSE / {who[1]} RMSE)",
        ylabel="test RMSE ($)",
        title=f"{label}: walk-forward folds, model against {', '.join(who[1:])}",
    )


def roc(table: pd.DataFrame, label: str, path: Path) -> None:
    fig, ax = _figure()
    area = skm.auc(table["fpr"], table["tpr"])
    ax.plot(table["fpr"], table["tpr"], label=f"model (AUC {area:.3f})", c=colour("model"))
    ax.plot([0, 1], [0, 1], ls="--", c="grey", label="chance (AUC 0.5)")
    _finish(
        fig,
        ax,
        path,
        xlabel="false positive rate",
        ylabel="true positive rate",
        title=f"{label}: ROC curve on the test split",
    )


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
