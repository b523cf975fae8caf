"""`make report`: the latest finished run of each preset of each dataset, read from MLflow."""

from __future__ import annotations

import mlflow

from lstmops import tasks, tracking
from lstmops.config import Dataset, load_params
from lstmops.forecasters import BASELINES

COLUMNS = (
    "dataset",
    "preset",
    "metric",
    "model",
    "reference",  # the baseline the ratio is to (a series': chosen on the training period)
    "baseline",
    "ratio",
    "baselines",  # a series' every baseline's test RMSE
    "linear_ratio",  # accuracy over the linear baseline's (reviews)
    "dm_p",  # the Diebold–Mariano p-value, model against persistence (price series)
    "wf_ratio",  # the walk-forward folds' RMSE ratio (price series)
    "coverage",  # how often the model's interval held the test period's close (price series)
    "next_day",  # the forecast stage's forecast and its interval (price series)
    "epochs",
    "train_s",  # the training epochs
    "pretrain_s",  # the language model the run started from (its time counted once, in its run)
    "minutes",  # all of the run's stages: preprocess, pretrain, train and evaluate
    "run",
)


def latest_rows(dataset: Dataset, runs: list) -> list[dict]:
    """One row per preset: its newest run that has test metrics (runs come newest first)."""
    model_key, baseline_key, metric = tasks.declarations(dataset.task).REPORT
    rows: dict[str, dict] = {}
    seconds = {run.info.run_id: run.data.metrics.get("pretrain_seconds") for run in runs}
    for run in runs:
        m = run.data.metrics
        preset = run.data.params.get("preset", "-")
        if preset in rows or model_key not in m or baseline_key not in m:
            continue
        reference, baseline = _reference(m, model_key, baseline_key)
        rows[preset] = {
            "dataset": dataset.name,
            "preset": preset,
            "metric": metric,
            "model": m[model_key],
            "reference": reference,
            "baseline": baseline,
            "ratio": m[model_key] / baseline,
            "baselines": ",".join(f"{k}={v:.4g}" for k, v in _baselines(m).items()) or "-",
            "linear_ratio": m.get("test.linear_accuracy_ratio", "-"),
            "dm_p": m.get("test.diebold_mariano.p_value", "-"),
            "wf_ratio": m.get("walk_forward.rmse_ratio", "-"),
            "coverage": m.get("test.interval.model.coverage", "-"),
            "next_day": _next_day(m),
            "epochs": int(m.get("epochs_run", 0)) or run.data.params.get("train.epochs", "?"),
            "train_s": m.get("train_seconds", float("nan")),
            "pretrain_s": seconds.get(run.data.tags.get("pretrained_from")) or "-",
            "minutes": _minutes(m, seconds.get(run.data.tags.get("pretrained_from"))),
            "run": run.info.run_id[:8],
        }
    return list(rows.values())


def _baselines(metrics: dict) -> dict[str, float]:
    """Each series baseline's test RMSE that the run logged, by name (forecasters.BASELINES)."""
    return {b: metrics[f"test.{b}.rmse"] for b in BASELINES if f"test.{b}.rmse" in metrics}


def _reference(metrics: dict, model_key: str, baseline_key: str) -> tuple[str, float]:
    """The baseline the run's test ratio is to, and its figure: a series' is the baseline whose
    RMSE gives the logged test.rmse_ratio (chosen on the training period, named in its metrics
    file); otherwise the task's REPORT baseline."""
    each, ratio = _baselines(metrics), metrics.get("test.rmse_ratio")
    if ratio and each:
        name = min(each, key=lambda b: abs(metrics[model_key] / each[b] - ratio))
        return name, each[name]
    return baseline_key.split(".")[1], metrics[baseline_key]


STAGE_SECONDS = ("preprocess_seconds", "train_stage_seconds", "evaluate_seconds")


def _minutes(metrics: dict, pretrain: float | None) -> float | str:
    """The run's stages' wall time in minutes, where it has all of them (runs of before lstmops
    timed them have not)."""
    if not all(k in metrics for k in STAGE_SECONDS):
        return "-"
    return (sum(metrics[k] for k in STAGE_SECONDS) + (pretrain or 0)) / 60


def _next_day(metrics: dict) -> str:
    """'832.50±20.24': the forecast and its interval's half-width, where the run has them."""
    keys = [f"forecast.model.{k}" for k in ("forecast", "upper")]
    if not all(k in metrics for k in keys):
        return "-"
    forecast, upper = (metrics[k] for k in keys)
    return f"{forecast:.2f}±{upper - forecast:.2f}"


def format_table(rows: list[dict]) -> str:
    cells = [list(COLUMNS)] + [
        [f"{row[c]:.4g}" if isinstance(row[c], float) else str(row[c]) for c in COLUMNS]
        for row in rows
    ]
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    return "\n".join(
        "  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)) for line in cells
    )


def report() -> str:
    """The comparison table of params.yaml's datasets, from the project's MLflow store (or
    MLFLOW_TRACKING_URI)."""

    params = load_params()
    rows = []
    for name in params.names():
        dataset = params.dataset(name)
        experiment = tracking.use_store(name, create=False)
        if experiment is None:
            continue
        runs = mlflow.search_runs(
            [experiment],
            filter_string="attributes.status = 'FINISHED'",
            order_by=["attributes.start_time DESC"],
            output_format="list",
        )
        rows += latest_rows(dataset, runs)
    return format_table(rows)
