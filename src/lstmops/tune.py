"""`python -m lstmops tune <dataset>`: an Optuna study over a dataset's settings, tracked in MLflow.

The search space is the dataset's `tune.space` (params.yaml, per task and per dataset), around its
preset. The objective never reads the test split: a review model's accuracy on its validation slice,
a price series' walk-forward RMSE ratio inside the training period. The study is one MLflow run with
a child run per trial. Optuna's storage (a SQLite file of the project, or LSTMOPS_TUNE_STORAGE, e.g.
the team server's PostgreSQL) lets any number of workers share a study: each one runs trials until
the study has `trials` finished ones; a killed worker's running trial is marked failed once its
heartbeat stops, and a restarted worker carries on. The best values become a preset in params.yaml.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import keras
import mlflow
import optuna
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from sqlalchemy.exc import IntegrityError, ProgrammingError

from lstmops import config as cfg
from lstmops import tasks, tracking, training
from lstmops.config import Dataset, LstmopsError
from lstmops.io import atomic_path

STORAGE_ENV = "LSTMOPS_TUNE_STORAGE"
STORAGE_FILE = Path("tune") / "optuna.db"  # the default storage, ignored by git
RUN_ATTR = "mlflow_run_id"  # the study's MLflow run, kept in the study for every worker
WORKER = f"{socket.gethostname()}:{os.getpid()}"  # which worker ran a trial (its run's tag)


def storage_url() -> str:
    """LSTMOPS_TUNE_STORAGE, or the project's SQLite file."""
    url = os.environ.get(STORAGE_ENV)
    if url:
        return url.replace("postgresql://", "postgresql+psycopg://", 1)  # psycopg 3 is installed
    path = cfg.workspace_root() / STORAGE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def suggest(trial, space: dict[str, cfg.Distribution]) -> dict[str, object]:
    """One value per key of the search space, drawn by the trial."""
    values: dict[str, object] = {}
    for key, d in space.items():
        if d.type == "categorical":
            values[key] = trial.suggest_categorical(key, list(d.choices or ()))
        elif d.type == "int":
            values[key] = trial.suggest_int(key, int(d.low or 0), int(d.high or 0), log=d.log)
        else:
            values[key] = trial.suggest_float(key, d.low, d.high, log=d.log)
    return values


def _nested(values: dict[str, object]) -> dict:
    """{'train.units': 8} -> {'train': {'units': 8}}."""
    out: dict = {}
    for key, value in values.items():
        section, name = key.split(".", 1)
        out.setdefault(section, {})[name] = value
    return out


def with_values(dataset: Dataset, values: dict[str, object]) -> Dataset:
    """The dataset with `values` laid over its settings, validated as params.yaml's would be."""
    overrides = _nested(values)
    if dataset.task == "prices":  # the walk-forward folds stay inside the training period
        overrides = cfg.merge(overrides, {"walk_forward": {"period": "train"}})
    raw = cfg.merge(dataset.settings.model_dump(by_alias=True, mode="json"), overrides)
    settings = cfg.settings_of(dataset.task, raw, f"{dataset.task} (a tuning trial)")
    return dataclasses.replace(dataset, settings=settings)  # a panel stays one


class Reporter:
    """What a trial's training reports: per-epoch curves to its MLflow run, and intermediate
    objective values to Optuna, which prunes a trial that is clearly worse than the others."""

    def __init__(self, trial, log) -> None:
        self.trial, self.log = trial, log

    def callbacks(self, prefix: str = "") -> list:

        return [
            training.EpochLogger(
                lambda metrics, step: self.log(
                    {f"{prefix}{k}": v for k, v in metrics.items()}, step
                )
            )
        ]

    def pruning(self, metric: str):
        """A Keras callback that reports `metric` after every epoch (step = epoch, from 1)."""

        report = self.report

        class Prune(keras.callbacks.Callback):
            def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
                report(float((logs or {})[metric]), epoch + 1)

        return Prune()

    def report(self, value: float, step: int) -> None:

        self.trial.report(value, step)
        if self.trial.should_prune():
            raise optuna.TrialPruned(f"step {step}: {value:.6g}")


SCHEMA_TRIES = 5  # workers started together race to create a new storage's tables


def _storage(settings: cfg.Tune):
    """The Optuna storage, its tables created if it has none. Two workers started at once on a new
    database both create them; the one that loses that race (a duplicate-key error) tries again,
    and then finds them."""

    for attempt in range(SCHEMA_TRIES):
        try:
            return optuna.storages.RDBStorage(
                storage_url(),
                heartbeat_interval=settings.heartbeat_seconds,
                # a trial whose worker died is marked failed and queued once more with its values
                heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(
                    max_retry=1
                ),
            )
        except (IntegrityError, ProgrammingError):
            if attempt == SCHEMA_TRIES - 1:
                raise
            time.sleep(1 + attempt)


def _study(
    name: str,
    direction: Literal["minimize", "maximize"],
    settings: cfg.Tune,
    dataset: Dataset,
    tags: dict,
):
    """The study `name` in the storage, created (with its MLflow run) by the first worker."""

    storage = _storage(settings)
    sampler = optuna.samplers.TPESampler(
        seed=settings.seed, n_startup_trials=settings.startup_trials
    )
    pruner = optuna.pruners.MedianPruner(n_startup_trials=settings.startup_trials)
    try:
        study = optuna.create_study(
            storage=storage, study_name=name, direction=direction, sampler=sampler, pruner=pruner
        )
    except optuna.exceptions.DuplicatedStudyError:
        study = optuna.load_study(storage=storage, study_name=name, sampler=sampler, pruner=pruner)
        if study.direction.name.lower() != direction:
            raise LstmopsError(
                f"study {name} in {storage_url()} does not {direction}: name another with --study."
            ) from None
        deadline = time.monotonic() + 60
        while RUN_ATTR not in study.user_attrs:  # its creator is making the MLflow run
            if time.monotonic() > deadline:
                raise LstmopsError(
                    f"study {name} has no MLflow run: start it again with another --study."
                ) from None
            time.sleep(0.5)
        return study
    with mlflow.start_run(run_name=f"{dataset.name}-tune-{name}", tags=tags) as run:
        mlflow.log_params(
            {
                "study": name,
                "direction": direction,
                "trials": settings.trials,
                "storage": storage_url().split("://")[0],
            }
        )
        mlflow.log_dict(
            {k: v.model_dump(mode="json") for k, v in settings.space.items()}, "space.json"
        )
    study.set_user_attr(RUN_ATTR, run.info.run_id)
    return study


@dataclasses.dataclass
class _Trials:
    """This worker's trials of a study: each one a child run in MLflow, scored by the task's
    `score` on the dataset with the trial's values; when to stop."""

    declared: Dataset
    score: Callable[[Dataset, Reporter], float]
    metric: str  # the objective's name in MLflow
    total: int  # finished trials the study should have
    study: str
    tags: dict = dataclasses.field(default_factory=dict)
    experiment: str = ""
    failures: list[str] = dataclasses.field(default_factory=list)  # why each failed here

    def run(self, trial) -> float:

        values = suggest(trial, self.declared.settings.tune.space)
        name = self.declared.name
        tags = {**self.tags, "stage": "tune-trial", "optuna.trial": str(trial.number)}
        with mlflow.start_run(
            experiment_id=self.experiment,
            run_name=f"{name}-{self.study}-trial-{trial.number}",
            tags={**tags, "optuna.worker": WORKER},
        ):
            mlflow.log_params(values)
            reporter = Reporter(trial, lambda m, step: mlflow.log_metrics(m, step=step))
            try:
                value = self.score(with_values(self.declared, values), reporter)
            except optuna.TrialPruned:
                mlflow.set_tag("optuna.state", "PRUNED")
                raise
            except LstmopsError as err:
                self.failures.append(str(err))
                raise
            mlflow.log_metric(self.metric, value)
            mlflow.set_tag("optuna.state", "COMPLETE")
        return value

    def enough(self, study) -> bool:
        """`total` trials finished (complete or pruned) in the whole study, by any worker; or as
        many failed here, so that settings that always fail do not loop for ever (failed trials
        of earlier runs count toward nothing: the budget is of finished ones)."""
        done = len(study.get_trials(deepcopy=False, states=_finished()))
        return done >= self.total or len(self.failures) >= self.total

    def stop_when_enough(self, study, trial) -> None:

        nothing_finished = not study.get_trials(deepcopy=False, states=_finished())
        if self.enough(study) or (trial.state == optuna.trial.TrialState.FAIL and nothing_finished):
            study.stop()  # a first failure with nothing finished: the next would fail the same way


def _finished() -> tuple:

    return (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)


def tune(
    dataset: str, trials: int | None = None, timeout: float | None = None, study: str | None = None
) -> str:
    """Run trials of the dataset's study until it has `trials` finished ones (or `timeout`
    minutes pass); log them to MLflow; write the best values as preset tuned-<dataset>."""

    declared = cfg.load_params().dataset(dataset)
    settings = declared.settings.tune
    if not settings.space:
        raise LstmopsError(
            f"{declared.task}.tune.space is empty: declare the settings to search, e.g. "
            "`train.units: {type: int, low: 4, high: 64, log: true}` (README: Tuning)."
        )
    task, score = tasks.declarations(declared.task), tasks.scoring(declared)
    total = trials or settings.trials
    name = study or f"{dataset}-{declared.settings.preset}"
    tracking.use_store(dataset, description=task.DESCRIPTION.format(dataset=dataset))
    tags = tracking.run_tags(dataset, task=declared.task, preset=declared.settings.preset)
    direction: Literal["minimize", "maximize"] = (
        "minimize" if task.TUNE_OBJECTIVE[1] else "maximize"
    )
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # a failed trial: one line at the end
    # heartbeats and their retry callback are "experimental" in Optuna since 2.8: stable enough here
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    the_study = _study(name, direction, settings, declared, {**tags, "stage": "tune"})
    parent = the_study.user_attrs[RUN_ATTR]
    experiment = mlflow.get_run(parent).info.experiment_id

    work = _Trials(declared, score.tune_score, task.TUNE_OBJECTIVE[0], total, name)
    work.tags = {**tags, "mlflow.parentRunId": parent, "optuna.study": name}
    work.experiment = experiment
    state = optuna.trial.TrialState
    ran = 0
    if not work.enough(the_study):
        before = len(the_study.trials)
        the_study.optimize(
            work.run,
            callbacks=[work.stop_when_enough],
            timeout=timeout and timeout * 60,
            catch=(LstmopsError,),
        )
        ran = len(the_study.trials) - before
    failures = work.failures
    if failures and not the_study.get_trials(deepcopy=False, states=(state.COMPLETE,)):
        raise LstmopsError(
            f"no trial of study {name} has completed; {len(failures)} failed here, the "
            f"first because: {failures[0]}"
        )
    return _summarise(the_study, declared, parent, ran)


def _summarise(study, dataset: Dataset, parent: str, ran: int) -> str:
    """Log the best trial and Optuna's plots to the study's run; write the tuned preset."""

    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    counts = {
        s.name.lower(): len(study.get_trials(deepcopy=False, states=(s,)))
        for s in optuna.trial.TrialState
    }
    with mlflow.start_run(run_id=parent):
        mlflow.log_metrics({f"trials.{k}": v for k, v in counts.items()})
        if not complete:
            return f"tune {dataset.name}: {ran} trials ran here; none of the study's completed yet"
        best = study.best_trial
        metric = tasks.declarations(dataset.task).TUNE_OBJECTIVE[0]
        mlflow.log_metric(f"best.{metric}", best.value)
        mlflow.set_tags(
            {f"best.{k}": str(v) for k, v in best.params.items()} | {"best.trial": str(best.number)}
        )
        _log_plots(study)
    preset = f"tuned-{dataset.name}"
    write_preset(Path(cfg.PARAMS_FILE), dataset, preset, best.params)
    return (
        f"tune {dataset.name}: {ran} trials ran here; the study has {counts['complete']} complete, "
        f"{counts['pruned']} pruned, {counts['fail']} failed. Best, trial {best.number}: {metric} "
        f"{best.value:.6g} with {best.params}. Written as presets.{dataset.task}.{preset} in "
        f"params.yaml: `dvc exp run -S {dataset.task}.preset={preset}`"
    )


def _log_plots(study) -> None:
    """Optuna's optimisation history and parameter importances, as PNGs in the study's run."""
    import matplotlib  # Optuna's charts: drawn once, when a study ends

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # Optuna's charts: drawn once, when a study ends
    from optuna.visualization import matplotlib as views  # with them

    with tempfile.TemporaryDirectory() as tmp:
        plots: list[tuple[str, Any]] = [("optimization_history", views.plot_optimization_history)]
        if (
            len(study.get_trials(deepcopy=False, states=(study.best_trial.state,))) > 1
            and len(study.best_trial.params) > 1
        ):
            plots.append(("param_importances", views.plot_param_importances))
        for name, draw in plots:
            with warnings.catch_warnings():  # "experimental" since Optuna 2.2; few-trial notes
                warnings.simplefilter("ignore")
                figure = draw(study).figure
            figure.tight_layout()
            figure.savefig(Path(tmp) / f"{name}.png", dpi=100)
            plt.close(figure)
        mlflow.log_artifacts(tmp, artifact_path="optuna")


def write_preset(path: Path, dataset: Dataset, name: str, best: dict[str, object]) -> None:
    """presets.<task>.<name> in params.yaml: the dataset's preset with the best values laid over it,
    written with the file's comments and layout kept (git shows what changed)."""

    yaml = YAML()
    yaml.preserve_quotes = True
    document = yaml.load(path.read_text(encoding="utf-8"))
    presets = document["presets"][dataset.task]
    base = dict(presets.get(dataset.settings.preset) or {})
    merged = cfg.merge({k: dict(v) for k, v in base.items()}, _nested(best))
    entry = CommentedMap()
    for section in sorted(merged):
        block = CommentedMap(merged[section])
        block.fa.set_flow_style()
        entry[section] = block
    entry.fa.set_flow_style()
    presets[name] = entry
    presets.yaml_add_eol_comment(
        f"tuned from {dataset.settings.preset} by `python -m lstmops tune {dataset.name}`", name
    )
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        yaml.dump(document, f)
