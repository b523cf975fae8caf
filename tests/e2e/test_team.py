"""A team's setup, for real: the stock pipeline tracked on an MLflow server that asks who you are,
backed by PostgreSQL with a password, each role allowed what it may do and refused the rest; and
a DVC remote that lets a second clone take the data and models of the first without training.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from lstmops import server

from ..conftest import ROOT
from .workdir import GIT_ID, Workdir, copy_project, free_port, make_serve, post, run, served

pytestmark = pytest.mark.e2e
EPOCHS = 5


ROLES = ("reader", "member", "maintainer")


@dataclass
class Team:
    """A secured tracking server and what its tests need to reach it."""

    url: str
    db_port: int
    keys: Path
    log: Path
    admin: tuple[str, str]
    passwords: dict[str, str] = field(default_factory=dict)  # user: password

    def login(self, user: str) -> dict[str, str]:
        password = self.admin[1] if user == self.admin[0] else self.passwords[user]
        return {
            "MLFLOW_TRACKING_URI": self.url,
            "MLFLOW_TRACKING_USERNAME": user,
            "MLFLOW_TRACKING_PASSWORD": password,
        }

    def secrets(self) -> list[str]:
        """Every credential of the team: none may show anywhere but in its own file."""
        files = [self.keys / name for name in ("postgres-password", "flask-secret-key")]
        return [self.admin[1], *self.passwords.values(), *(f.read_text().strip() for f in files)]


@pytest.fixture(scope="module")
def tracking_server():
    """PostgreSQL (with a password) and `mlflow server` behind the auth app, as `make server` starts
    them, on free local ports; both stopped afterwards."""
    # PostgreSQL runs as the postgres user when the tests run as root: its folder must be open to it.
    cluster = Path(tempfile.mkdtemp(prefix="lstmops-postgres-"))
    cluster.chmod(0o755)
    scratch = Path(tempfile.mkdtemp(prefix="lstmops-server-"))
    keys, artifacts, log = scratch / "secrets", scratch / "artifacts", scratch / "server.log"
    db_port = free_port()
    db = server.start_postgres(cluster, db_port, keys)
    auth_db = server.create_database(db_port, server.AUTH_DATABASE, keys)
    env = server.server_env(keys, auth_db, db_port)
    port = free_port()
    with open(log, "w") as out:
        process = subprocess.Popen(
            server.server_command(db, artifacts, port),
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    admin = (server.admin_user(), (keys / "admin-password").read_text().strip())
    try:
        server.wait_until_up(url, process)
        yield Team(url, db_port, keys, log, admin)
    finally:
        process.terminate()
        process.wait(timeout=30)
        server.stop_postgres(cluster)
        shutil.rmtree(cluster, ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)


def test_the_server_and_its_database_let_no_one_in_without_a_login(tmp_path, tracking_server):
    team = tracking_server
    request = f"{team.url}/api/2.0/mlflow/experiments/search?max_results=1"
    with pytest.raises(urllib.error.HTTPError) as anonymous:
        urllib.request.urlopen(request, timeout=30)
    assert anonymous.value.code == 401
    # the database asks for the password: none, or a wrong one, is refused
    psql = [server.postgres_bin("psql"), "-h", "127.0.0.1", "-p", str(team.db_port), "-w"]
    psql += ["-U", server.SUPERUSER, "-d", server.DATABASE, "-c", "SELECT 1"]
    plain = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    for extra in ({}, {"PGPASSWORD": "not-the-password"}):
        out = subprocess.run(psql, env={**plain, **extra}, capture_output=True, text=True)
        assert out.returncode != 0 and "password" in out.stderr, out.stderr
    password = (team.keys / "postgres-password").read_text().strip()
    out = subprocess.run(psql, env={**plain, "PGPASSWORD": password}, capture_output=True)
    assert out.returncode == 0, out.stderr  # and the right one is taken
    # a command without a login, or with a wrong one: one line that says what to set, nothing written
    work = Workdir(tmp_path)
    wrong = {**team.login(team.admin[0]), "MLFLOW_TRACKING_PASSWORD": "wrong"}
    for env, says in (
        ({"MLFLOW_TRACKING_URI": team.url}, "asks for a login: set MLFLOW_TRACKING_USERNAME"),
        (wrong, f"does not take the login of {team.admin[0]}"),
    ):
        out = work.run("model-uri", "stock", env=env)  # as `make serve` asks
        assert out.returncode == 1 and says in out.stderr, out.stderr
        assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_a_member_logs_a_reader_reads_and_only_a_maintainer_moves_the_champion(
    tmp_path, tracking_server, env
):
    import mlflow

    team = tracking_server
    work = Workdir(tmp_path)
    work.set("prices.train.epochs", EPOCHS)
    said = []  # every command's output: no credential may show in it
    for user in ROLES:  # the admin adds the team, one documented command each
        team.passwords[user] = secrets.token_urlsafe(18)
        login = {**team.login(team.admin[0]), "LSTMOPS_USER_PASSWORD": team.passwords[user]}
        command = [sys.executable, "-m", "lstmops", "server-user", user, "--role", user]
        out = run(command, tmp_path, {**env, **login})
        assert f"user {user} created; role {user}" in out.stdout
        said += [out.stdout, out.stderr]

    member = {**env, **team.login("member"), "LSTMOPS_MIRROR": str(work.mirror)}
    for stage in ("ingest", "validate", "preprocess", "train", "evaluate"):
        out = work.run(stage, "stock", env=member, check=True)
        said += [out.stdout, out.stderr]
    assert "may not register versions" in said[-3]  # train's: the run keeps its model
    assert not (tmp_path / "mlruns").exists()  # nothing went to the embedded store
    run_id = json.loads((tmp_path / "models/stock/run.json").read_text())["run_id"]

    def client(user: str) -> mlflow.MlflowClient:
        os.environ.update(team.login(user))  # MLflow's client reads the login from the environment
        return mlflow.MlflowClient(team.url)

    try:
        mlflow.set_tracking_uri(team.url)  # the logged model's artifacts resolve through it
        _check_the_run(client("member"), run_id, tmp_path)
        said += _check_who_may_do_what(team, work, client, run_id)
        # `make serve` as a reader: it names the version and run it loads, and forecasts as evaluate did
        reader = {**work.env, **env, **team.login("reader")}
        out = work.run("model-uri", "stock", env=team.login("reader"), check=True)
        assert out.stdout.strip() == "models:/lstmops-stock@champion"
        assert f"is version 1 (run {run_id})" in out.stderr
        said += [out.stdout, out.stderr]
        windows = np.load(tmp_path / "data/processed/stock/arrays.npz")["windows_test"][:5]
        with make_serve("stock", reader, ROOT) as url:  # the project's Makefile, the team's server
            status, answer = post(url, {"inputs": windows.tolist()})
        assert status == 200, answer
        expected = np.loadtxt(tmp_path / "plots/stock/predictions.csv", delimiter=",",
                              skiprows=1, usecols=2)[:5]  # fmt: skip
        forecasts = [row["forecast"] for row in answer["predictions"]]
        np.testing.assert_allclose(forecasts, expected, rtol=1e-6)
        run_data = client("reader").get_run(run_id).data
    finally:
        mlflow.set_tracking_uri(None)
        for name in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
            os.environ.pop(name, None)
    _check_no_credential_shows(team, said, run_data, tmp_path)


def _check_the_run(client, run_id: str, tmp_path: Path) -> None:
    """The member's run, read back: params, one loss per epoch, test metrics, the proxied model."""
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params["train.epochs"] == str(EPOCHS) and run.data.params["task"] == "prices"
    assert [m.step for m in client.get_metric_history(run_id, "loss")] == list(range(1, EPOCHS + 1))
    metrics = json.loads((tmp_path / "metrics/stock.json").read_text())
    assert run.data.metrics["test.rmse_ratio"] == pytest.approx(metrics["rmse_ratio"])
    experiment = client.get_experiment(run.info.experiment_id)
    assert experiment.artifact_location.startswith("mlflow-artifacts:")  # proxied by the server
    assert {a.path for a in client.list_artifacts(run_id, "model")} >= {"model/MLmodel"}


def _check_who_may_do_what(team: Team, work: Workdir, client, run_id: str) -> list[str]:
    """403 for what a role may not do, through the client and through `promote`; the admin and a
    maintainer move @champion. The outputs of the commands it ran."""
    import mlflow

    name, said = "lstmops-stock", []
    experiment = client("reader").get_run(run_id).info.experiment_id  # a reader reads runs …
    model_uri = f"runs:/{run_id}/model"
    denied = {  # … and may not do any of these; a member may not register or move an alias
        "reader": [
            lambda c: c.create_run(experiment),
            lambda c: c.delete_run(run_id),
            lambda c: c.create_registered_model(name),
        ],
        "member": [lambda c: c.create_registered_model(name)],
    }
    for user, attempts in denied.items():
        for attempt in attempts:
            with pytest.raises(mlflow.exceptions.MlflowException) as refused:
                attempt(client(user))
            assert refused.value.error_code == "PERMISSION_DENIED"
    for user in ("reader", "member"):  # the CLI says so in one line
        out = _promote(work, run_id, team.login(user))
        assert (
            out.returncode == 1 and "does not let" in out.stderr and "Traceback" not in out.stderr
        )
        said += [out.stdout, out.stderr]
    out = _promote(work, run_id, team.login(team.admin[0]))  # the admin moves @champion
    assert out.returncode == 0 and "version 1" in out.stdout, out.stderr
    said += [out.stdout, out.stderr]
    # a member has EDIT on every registered model, and still may not add a version or move the alias
    for attempt in (
        lambda c: c.create_model_version(name, model_uri, run_id),
        lambda c: c.set_registered_model_alias(name, "champion", "1"),
        lambda c: c.delete_registered_model_alias(name, "champion"),
    ):
        for user in ("reader", "member"):
            with pytest.raises(mlflow.exceptions.MlflowException) as refused:
                attempt(client(user))
            assert refused.value.error_code == "PERMISSION_DENIED"
    maintainer = client("maintainer")  # a maintainer may
    maintainer.set_registered_model_alias(name, "checked", "1")
    maintainer.delete_registered_model_alias(name, "checked")
    assert maintainer.get_model_version_by_alias(name, "champion").run_id == run_id
    return said


def _promote(work: Workdir, run_id: str, env: dict) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "lstmops", "promote", "stock", run_id]
    return subprocess.run(
        command, cwd=work.root, env={**work.env, **env}, capture_output=True, text=True
    )


def _check_no_credential_shows(team: Team, said: list[str], run_data, project: Path) -> None:
    """No password or key in what the commands printed, the server's log, the run's params and
    tags, the scratch project's params.yaml and dvc.lock, or any file git tracks here."""
    places = {
        "the commands' output": "\n".join(said),
        "the server's log": team.log.read_text(errors="replace"),
        "the run's params and tags": json.dumps([run_data.params, run_data.tags]),
    }
    for name in ("params.yaml", "dvc.lock"):
        if (project / name).is_file():
            places[name] = (project / name).read_text()
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True)
    for name in filter(None, tracked.stdout.split("\0")):
        path = ROOT / name
        if path.is_file() and path.stat().st_size < 5_000_000:
            places[f"git: {name}"] = path.read_text(errors="replace")
    for credential in team.secrets():
        assert len(credential) >= 16
        leaks = [where for where, text in places.items() if credential in text]
        assert not leaks, f"a credential shows in {leaks}"


def _serve_and_predict(model_uri: str, env: dict, windows: np.ndarray, cwd: Path) -> np.ndarray:
    """Serve the model, post the windows; the predictions."""
    with served(model_uri, env, cwd) as url:
        status, answer = post(url, {"inputs": windows.tolist()})
    assert status == 200, answer
    return np.asarray([row["forecast"] for row in answer["predictions"]])


def _stock_only(params: dict) -> None:
    params["datasets"] = {
        "prices": {"stock": params["datasets"]["prices"]["stock"]},
        "sentiment": {},
    }


def _stock_briefly(params: dict) -> None:
    """Stock alone, trained for a few epochs: what travels through the remote is the point."""
    _stock_only(params)
    params["prices"]["train"]["epochs"] = EPOCHS


def test_a_second_clone_pulls_from_the_dvc_remote_instead_of_training(tmp_path, env):
    remote = tmp_path / "remote"
    a = copy_project(tmp_path / "a", env, _stock_briefly)
    default = str(Path.home() / ".cache/lstmops/dvc-remote")  # every clone of this user reaches it
    assert f"shared  {default} (default)" in run(["dvc", "remote", "list"], a, env).stdout
    run(["dvc", "remote", "modify", "--local", "shared", "url", str(remote)], a, env)
    run(["dvc", "repro"], a, env, timeout=1200)
    run(["git", "add", "-A"], a, env)
    run(["git", *GIT_ID, "commit", "-qm", "repro"], a, env)
    run(["dvc", "push"], a, env)

    b = tmp_path / "b"
    run(["git", "clone", "-q", str(a), str(b)], tmp_path, env)
    run(["dvc", "remote", "modify", "--local", "shared", "url", str(remote)], b, env)
    run(["dvc", "pull"], b, env)
    assert "Data and pipelines are up to date" in run(["dvc", "status"], b, env).stdout
    out = run(["dvc", "repro"], b, env).stdout
    assert "Running stage" not in out and "Data and pipelines are up to date" in out
    assert (b / "metrics/stock.json").read_bytes() == (a / "metrics/stock.json").read_bytes()
    # B serves the model it pulled: no training, no tracking store
    windows = np.load(b / "data/processed/stock/arrays.npz")["windows_test"][:3]
    predictions = _serve_and_predict(str(b / "models/stock/served"), env, windows, cwd=b)
    assert not (b / "mlruns").exists()
    expected = np.loadtxt(a / "plots/stock/predictions.csv", delimiter=",", skiprows=1,
                          usecols=2)[:3]  # fmt: skip
    np.testing.assert_allclose(predictions, expected, rtol=1e-6)


def test_tuning_workers_share_a_study_on_postgresql_and_a_killed_one_carries_on(
    tmp_path, tracking_server, monkeypatch
):
    """Two `tune` workers on one study in PostgreSQL (the cluster of `make server`, its optuna
    database) finish its trials between them, each trial once, tracked on the team's server; a
    worker killed mid-trial leaves that trial failed, and started again it reruns it and goes on."""
    import time

    import mlflow
    import optuna
    from optuna.storages import RetryHeartbeatStaleTrialCallback
    from optuna.trial import TrialState

    team = tracking_server
    storage = server.create_database(team.db_port, server.TUNE_DATABASE, team.keys)
    work = Workdir(tmp_path)
    _stock_only(work.params)
    work.set("prices.walk_forward.folds", 2)
    work.params["prices"]["tune"] = {
        "trials": 4,
        "startup_trials": 1,
        "heartbeat_seconds": 1,
        "seed": 42,
        "space": {
            "train.epochs": {"type": "int", "low": 2, "high": 3},
            "train.units": {"type": "int", "low": 2, "high": 6},
        },
    }
    for stage in ("ingest", "validate"):
        work.run(stage, "stock", check=True)
    team.passwords.setdefault("tuner", secrets.token_urlsafe(18))
    login = {**team.login(team.admin[0]), "LSTMOPS_USER_PASSWORD": team.passwords["tuner"]}
    command = [sys.executable, "-m", "lstmops", "server-user", "tuner", "--role", "member"]
    run(command, tmp_path, {**work.env, **login})
    # the workers reach the database with its password file, the server with a member's login
    pgpass = str(server.password_file(team.keys, team.db_port))
    env = {"LSTMOPS_TUNE_STORAGE": storage, "PGPASSFILE": pgpass, **team.login("tuner")}
    monkeypatch.setenv("PGPASSFILE", pgpass)  # this test reads the study too
    workers = [work.start("tune", "stock", env) for _ in range(2)]
    for worker in workers:
        _, stderr = worker.communicate(timeout=900)
        assert worker.returncode == 0, stderr[-3000:]

    def study():
        url = storage.replace("postgresql://", "postgresql+psycopg://")
        return optuna.load_study(study_name="stock-lecture", storage=url)

    done = (TrialState.COMPLETE, TrialState.PRUNED)
    finished = study().get_trials(states=done)
    assert len(finished) >= 4 and len({t.number for t in finished}) == len(finished)
    os.environ.update(team.login("tuner"))
    try:
        client = mlflow.MlflowClient(team.url)
        experiment = client.get_experiment_by_name("lstmops-stock").experiment_id
        children = client.search_runs([experiment], "tags.`optuna.study` = 'stock-lecture'")
    finally:
        for name in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
            os.environ.pop(name, None)
    assert len({run.data.tags["optuna.worker"] for run in children}) == 2  # both took trials

    work.params["prices"]["tune"]["trials"] = len(finished) + 2
    worker = work.start("tune", "stock", env)
    deadline = time.monotonic() + 300
    # killed once a trial has drawn its values (killed before, it would leave none to rerun)
    while not any(t.params for t in study().get_trials(states=(TrialState.RUNNING,))):
        assert time.monotonic() < deadline and worker.poll() is None, "no trial started"
        time.sleep(0.5)
    worker.kill()
    worker.wait()
    time.sleep(3)  # past the grace period: twice the heartbeat
    work.run("tune", "stock", env, check=True)
    trials = study().trials
    (failed,) = [t for t in trials if t.state == TrialState.FAIL]
    (rerun,) = [
        t
        for t in trials
        if RetryHeartbeatStaleTrialCallback.retried_trial_number(t) == failed.number
    ]
    assert rerun.params == failed.params and rerun.state in done
    assert len([t for t in trials if t.state in done]) >= len(finished) + 2
    assert {t.number for t in finished} <= {t.number for t in trials if t.state in done}
