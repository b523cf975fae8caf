"""MLflow helpers: where the store is, one experiment per dataset, and the run hand-off between stages.

By default the store is SQLite at <workspace>/mlruns/mlflow.db with artifacts beside it, so runs from
`dvc repro`, `dvc exp run` and `dvc exp run --temp/--queue` all land in one place. MLFLOW_TRACKING_URI
switches every command to another store, e.g. a team's tracking server (`make server`), which then
keeps the artifacts too.
"""

from __future__ import annotations

import base64
import contextlib
import os
import subprocess
import sys
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator
from pathlib import Path

from lstmops.config import LstmopsError, workspace_root
from lstmops.io import read_json
from lstmops.layout import PER_SERIES

# MLflow's asynchronous logging (each epoch's metrics) waits for its queue with a 1 s timeout, so
# each flush (every checkpoint, the end of training) waited up to a second; buffered, its thread
# waits on the flush itself and sends the buffered epochs in one batch: train stock 16.7 -> 14 s.
os.environ.setdefault("MLFLOW_ASYNC_LOGGING_BUFFERING_SECONDS", "1")

STORE_DIR = "mlruns"
EXPERIMENT_PREFIX = "lstmops"  # experiments and registered models: lstmops-<dataset>
CHAMPION = "champion"  # the alias of the registered model version that `make serve` serves
DESCRIPTION_TAG = "mlflow.note.content"  # what the MLflow UI shows as a description


def store_dir() -> Path:
    return workspace_root() / STORE_DIR


def tracking_uri() -> str:
    """MLFLOW_TRACKING_URI if set (e.g. a shared server), else the project's SQLite store."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{store_dir() / 'mlflow.db'}"


def experiment_name(dataset: str) -> str:
    return f"{EXPERIMENT_PREFIX}-{dataset}"


# What MLflow's tracking store accepts: a server, a database (SQLAlchemy) or a local directory.
TRACKING_SCHEMES = ("http", "https", "sqlite", "postgresql", "mysql", "mssql", "file", "databricks")


def check_reachable(uri: str) -> None:
    """Fail within seconds, not after MLflow's long retries, when a tracking store is unusable or
    a tracking server does not take this login."""
    scheme = uri.split("://", 1)[0].split("+", 1)[0] if "://" in uri else "file"
    if scheme not in TRACKING_SCHEMES:
        raise LstmopsError(
            f"MLFLOW_TRACKING_URI={uri} has the scheme {scheme!r}, which MLflow cannot track to; use "
            f"one of {', '.join(TRACKING_SCHEMES)} (e.g. http://127.0.0.1:5000 or "
            "sqlite:///path/mlflow.db), or unset it to use the project's store under mlruns/."
        )
    if uri.startswith(("http://", "https://")):
        try:
            urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=5).close()
        except (urllib.error.URLError, TimeoutError, OSError) as err:
            raise LstmopsError(
                f"the MLflow tracking server {uri} does not answer ({getattr(err, 'reason', err)}). "
                "Start it, or unset MLFLOW_TRACKING_URI to use the project's own store under mlruns/."
            ) from None
        _check_login(uri)
    elif uri.startswith("sqlite:///"):
        directory = Path(uri.removeprefix("sqlite:///")).parent
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise LstmopsError(
                f"cannot create the MLflow store directory {directory}: {err}"
            ) from None
        if not os.access(directory, os.W_OK):
            raise LstmopsError(
                f"the MLflow store directory {directory} is not writable: fix its permissions "
                "(chmod u+w) or point MLFLOW_TRACKING_URI at another store."
            )


LOGIN_ENV = ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD")


def _check_login(uri: str) -> None:
    """A server that asks who you are (basic auth) answers 401 to a missing or wrong login."""
    user, password = (os.environ.get(name) for name in LOGIN_ENV)
    request = urllib.request.Request(
        uri.rstrip("/") + "/api/2.0/mlflow/experiments/search?max_results=1"
    )
    if user and password:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    elif os.environ.get("MLFLOW_TRACKING_TOKEN"):
        request.add_header("Authorization", f"Bearer {os.environ['MLFLOW_TRACKING_TOKEN']}")
    try:
        urllib.request.urlopen(request, timeout=10).close()
    except urllib.error.HTTPError as err:
        if err.code != 401:
            return  # anything else is for the command itself to meet and explain
        if user and password:
            raise LstmopsError(
                f"the tracking server at {uri} does not take the login of {user}: check "
                f"MLFLOW_TRACKING_PASSWORD (or ask its admin: make server-user NAME={user})"
            ) from None
        raise LstmopsError(
            f"the tracking server at {uri} asks for a login: set MLFLOW_TRACKING_USERNAME and "
            "MLFLOW_TRACKING_PASSWORD (its admin makes you a user: make server-user NAME=<you>)"
        ) from None
    except (urllib.error.URLError, TimeoutError, OSError):
        return  # /health answered a moment ago; MLflow's own retries take it from here


def refusal(err: BaseException) -> str | None:
    """What to tell a user whom the tracking server refused (MLflow's PERMISSION_DENIED or
    UNAUTHENTICATED), or None for any other error. No mlflow import: any exception may come."""
    code = getattr(err, "error_code", None)
    if code == "UNAUTHENTICATED":
        return (
            f"the tracking server at {tracking_uri()} asks for a login: set "
            "MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD"
        )
    if code == "PERMISSION_DENIED":
        who = os.environ.get(LOGIN_ENV[0]) or "this login"
        return (
            f"the tracking server at {tracking_uri()} does not let {who} do this (403): logging "
            "runs takes the member role, registering versions and moving @champion the "
            "maintainer role (its admin: make server-user NAME=<you> ROLE=…)"
        )
    return None


def use_store(dataset: str, create: bool = True, description: str | None = None) -> str | None:
    """Point MLflow at the store and the dataset's experiment (created on first use unless `create`
    is false, and given `description`); return its id, or None when it does not exist and was not
    created."""
    import mlflow  # ~2 s to import: loaded where a run is logged or read, not by the CLI

    uri = tracking_uri()
    check_reachable(uri)
    mlflow.set_tracking_uri(uri)
    name = experiment_name(dataset)
    experiment = mlflow.get_experiment_by_name(name)
    if experiment is None and not create:
        return None
    if experiment is None:
        # The embedded store keeps artifacts beside it; any other store decides for itself (a
        # server started with --serve-artifacts proxies them to its own artifact store).
        embedded = not os.environ.get("MLFLOW_TRACKING_URI")
        artifacts = (store_dir() / "artifacts" / dataset).as_uri() if embedded else None
        # A parallel experiment may create it between our look-up and here.
        with contextlib.suppress(mlflow.exceptions.MlflowException):
            mlflow.create_experiment(name, artifact_location=artifacts)
        experiment = mlflow.get_experiment_by_name(name)
    assert experiment is not None, name  # made above
    if description and experiment.tags.get(DESCRIPTION_TAG) != description:
        mlflow.MlflowClient().set_experiment_tag(
            experiment.experiment_id, DESCRIPTION_TAG, description
        )
    mlflow.set_experiment(experiment_id=experiment.experiment_id)
    return experiment.experiment_id


def git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True, timeout=10
        )
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def run_name(dataset: str, preset: str, run_id: str) -> str:
    """<dataset>-<preset>[-<DVC experiment>]-<short run id>: what a run is, at a glance in the UI."""
    parts = [dataset, preset, os.environ.get("DVC_EXP_NAME"), run_id[:8]]
    return "-".join(part for part in parts if part)


def run_tags(dataset: str, **facts: str) -> dict[str, str]:
    """Tags that say what a run is (dataset, and e.g. task and preset) and tie it to its code and
    DVC experiment."""
    tags = {"dataset": dataset, **facts}
    commit = git_commit()
    if commit:
        tags["mlflow.source.git.commit"] = commit
    if os.environ.get("DVC_EXP_NAME"):
        tags["dvc.exp_name"] = os.environ["DVC_EXP_NAME"]
    return tags


def log_data(
    name: str, digest: str, source: dict[str, str], parts: dict[str, tuple | None]
) -> None:
    """Log each part, (inputs, targets) by context (training, validation), as an MLflow dataset
    input named <name>-<context> whose digest is DVC's hash of the data it came from, so the Runs
    table's Dataset column tells runs on other data apart; `source` (data.fetch.describe: the URL
    or file and its sha256, or the package and its version) becomes the input's tags."""
    import mlflow  # ~2 s to import: loaded where a run is logged or read, not by the CLI
    import mlflow.data  # ~2 s to import: loaded where a run is logged or read, not by the CLI
    from mlflow.data.code_dataset_source import CodeDatasetSource  # with them

    where = source.get("source.url") or source.get("source.path") or ""
    if source.get("source.path"):
        where = (workspace_root() / where).resolve().as_uri()
    for context, part in parts.items():
        if part is None:
            continue
        with warnings.catch_warnings():  # MLflow registers its local-file source twice
            warnings.filterwarnings("ignore", "The specified dataset source can be interpreted")
            data = mlflow.data.from_numpy(  # type: ignore[attr-defined]  # lazily exported
                part[0],
                targets=part[1],
                source=where or CodeDatasetSource(tags=source),
                name=f"{name}-{context}",
                digest=digest,
            )
        mlflow.log_input(data, context=context, tags=source)


def end_killed(unfinished: Path) -> None:
    """Mark the run recorded in `unfinished` KILLED if MLflow still has it RUNNING: its process was
    killed before it could end it. The record is removed either way."""
    if not unfinished.is_file():
        return
    import mlflow  # ~2 s to import: loaded where a run is logged or read, not by the CLI

    run_id = read_json(unfinished)["run_id"]
    client = mlflow.MlflowClient()
    with contextlib.suppress(mlflow.exceptions.MlflowException):  # a run deleted meanwhile
        if client.get_run(run_id).info.status == "RUNNING":
            client.set_terminated(run_id, "KILLED")
            print(f"MLflow run {run_id} was left running by a killed process: marked KILLED")
    unfinished.unlink()


def logged_steps(run_id: str) -> set[tuple[str, int]]:
    """Every (metric, step) pair the run already holds."""
    import mlflow  # ~2 s to import: loaded where a run is logged or read, not by the CLI

    client = mlflow.MlflowClient()
    return {
        (key, m.step)
        for key in client.get_run(run_id).data.metrics
        for m in client.get_metric_history(run_id, key)
    }


def beats(value: float | None, champion: float | None, lower_is_better: bool) -> bool:
    """Whether a new version's validation metric beats the champion's (strictly: a tie keeps the
    champion). Without a value of its own a version never does; against a champion without one,
    any value does."""
    if value is None:
        return False
    if champion is None:
        return True
    return value < champion if lower_is_better else value > champion


def crown(dataset: str, version: str, metric: str, lower_is_better: bool) -> str:
    """Move lstmops-<dataset>@champion to `version` if it is the first, or if its run's validation
    `metric` beats the champion's run's; return a line that says what happened."""
    import mlflow  # ~2 s to import: loaded where a run is logged or read, not by the CLI

    client = mlflow.MlflowClient()
    name = experiment_name(dataset)
    new = client.get_model_version(name, version)
    value = client.get_run(str(new.run_id)).data.metrics.get(metric)
    try:
        current = client.get_model_version_by_alias(name, CHAMPION)
    except mlflow.exceptions.MlflowException:
        client.set_registered_model_alias(name, CHAMPION, version)
        return f"{name} version {version} is the first: it is @{CHAMPION}"
    best = client.get_run(str(current.run_id)).data.metrics.get(metric)
    if current.version == version or not beats(value, best, lower_is_better):
        return f"{name} version {version} ({metric} {value}) does not beat @{CHAMPION} version {current.version} ({best}), which stays"
    client.set_registered_model_alias(name, CHAMPION, version)
    return f"{name} version {version} ({metric} {value:.6g}) beats version {current.version} ({best}): it is @{CHAMPION} now"


def champion_uri(dataset: str) -> str:
    """models:/lstmops-<dataset>@champion, the URI `mlflow models serve` takes, once it exists. Says
    on stderr which version and run it is, so a moved champion shows in the log of what loads it."""
    import mlflow  # ~2 s to import: loaded where a run is logged or read, not by the CLI

    from lstmops.config import load_params  # workspace facts, at call time

    load_params().dataset(dataset)  # a dataset params.yaml declares, or an error naming those
    use_store(dataset, create=False)
    name = experiment_name(dataset)
    try:
        version = mlflow.MlflowClient().get_model_version_by_alias(name, CHAMPION)
    except mlflow.exceptions.MlflowException as err:
        if refusal(err):
            raise
        raise LstmopsError(
            f"no {name}@{CHAMPION} model in {tracking_uri()}: train {dataset} first (`dvc repro`), "
            f"or serve the DVC output: mlflow models serve -m models/{dataset}/served --env-manager local"
        ) from None
    print(
        f"{name}@{CHAMPION} is version {version.version} (run {version.run_id}) in {tracking_uri()}",
        file=sys.stderr,
    )
    return f"models:/{name}@{CHAMPION}"


def register(dataset: str, model_uri: str) -> str | None:
    """Register `model_uri` as a new version of lstmops-<dataset>; its version, or None (with a
    line saying so) where this login may not: on a team's server that takes the maintainer role,
    and the run keeps its model for a maintainer to promote."""
    import mlflow  # ~2 s to import: loaded where a run is logged or read, not by the CLI

    try:
        return mlflow.register_model(model_uri, experiment_name(dataset)).version
    except mlflow.exceptions.MlflowException as err:
        if getattr(err, "error_code", None) != "PERMISSION_DENIED":
            raise
    print(
        f"{experiment_name(dataset)}: this login may not register versions (the maintainer role "
        f"may): the run keeps its model; a maintainer promotes it with `python -m lstmops promote "
        f"{dataset} <run id>`",
        file=sys.stderr,
    )
    return None


def promote(dataset: str, run_id: str) -> str:
    """Make the model of run `run_id` lstmops-<dataset>@champion, registering it first if no
    version holds it: a maintainer's decision, whatever its validation metric."""
    import mlflow  # ~2 s to import: loaded where a run is logged or read, not by the CLI

    experiment = use_store(dataset, create=False)
    client = mlflow.MlflowClient()
    name = experiment_name(dataset)
    try:
        run = client.get_run(run_id)
    except mlflow.exceptions.MlflowException as err:
        if refusal(err):
            raise
        raise LstmopsError(
            f"no run {run_id} in {tracking_uri()}: copy its id from the MLflow UI"
        ) from None
    if run.info.experiment_id != experiment:
        raise LstmopsError(f"run {run_id} is not a run of {name}: promote it for its own dataset")
    versions = client.search_model_versions(f"name = '{name}' and run_id = '{run_id}'")
    if versions:
        version = max(versions, key=lambda v: int(v.version)).version
    else:
        logged = mlflow.search_logged_models(
            experiment_ids=[run.info.experiment_id],
            filter_string=f"source_run_id = '{run_id}'",
            output_format="list",
        )
        if not logged:
            raise LstmopsError(f"run {run_id} logged no model: only a train run can be promoted")
        version = mlflow.register_model(logged[0].model_uri, name).version
    client.set_registered_model_alias(name, CHAMPION, version)
    return f"{name} version {version} (run {run_id}) is @{CHAMPION} now"


def flat(section: dict, prefix: str = "") -> dict[str, object]:
    """{'train': {'epochs': 3}} -> {'train.epochs': 3}: the names params.yaml and `dvc exp` use."""
    out: dict[str, object] = {}
    for key, value in section.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flat(value, f"{name}."))
        else:
            out[name] = value
    return out


class Reopened:
    """What a later stage adds to the training run: its figures, params, tags and files."""

    def metrics(self, values: dict, prefix: str = "") -> None:
        """Every number of `values` (nested: dotted names after `prefix`), but a panel's figures
        per series, which its tables hold."""
        import mlflow  # ~2 s to import: loaded where a run is logged or read, not by the CLI

        numbers = {
            f"{prefix}{k}": float(v)
            for k, v in flat(values).items()
            if isinstance(v, int | float) and not k.startswith(f"{PER_SERIES}.")
        }
        mlflow.log_metrics(numbers)

    def step(self, name: str, value: float | None, step: int) -> None:
        """One point of a curve; an undefined figure (None: a ratio to a zero error) is left out,
        as `metrics` leaves it out."""
        import mlflow  # ~2 s to import: loaded where a run is logged or read, not by the CLI

        if value is not None:
            mlflow.log_metric(name, value, step=step)

    def params(self, values: dict, prefix: str = "") -> None:
        import mlflow  # ~2 s to import: loaded where a run is logged or read, not by the CLI

        mlflow.log_params(flat(values, prefix))

    def tags(self, values: dict[str, str]) -> None:
        import mlflow  # ~2 s to import: loaded where a run is logged or read, not by the CLI

        mlflow.set_tags(values)

    def artifact(self, path: Path) -> None:
        import mlflow  # ~2 s to import: loaded where a run is logged or read, not by the CLI

        mlflow.log_artifact(str(path))

    def artifacts(self, folder: Path, under: str) -> None:
        import mlflow  # ~2 s to import: loaded where a run is logged or read, not by the CLI

        mlflow.log_artifacts(str(folder), artifact_path=under)


@contextlib.contextmanager
def reopen(dataset: str, run_id: str) -> Iterator[Reopened]:
    """The training run of `dataset` (train made it and its experiment), open to add to."""
    import mlflow  # ~2 s to import: loaded where a run is logged or read, not by the CLI

    use_store(dataset)
    with mlflow.start_run(run_id=run_id):
        yield Reopened()
