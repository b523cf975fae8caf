"""A team's setup, for real: the stock pipeline tracked on an MLflow server backed by PostgreSQL, and
a DVC remote that lets a second clone take the data and models of the first without training.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest

from lstmops import server

from .workdir import GIT_ID, Workdir, copy_project, free_port, post, run, served

pytestmark = pytest.mark.e2e
EPOCHS = 5


@pytest.fixture(scope="module")
def tracking_server():
    """PostgreSQL and `mlflow server` on free local ports; both stopped afterwards."""
    # PostgreSQL runs as the postgres user when the tests run as root: its folder must be open to it.
    cluster = Path(tempfile.mkdtemp(prefix="lstmops-postgres-"))
    cluster.chmod(0o755)
    artifacts = Path(tempfile.mkdtemp(prefix="lstmops-artifacts-"))
    db = server.start_postgres(cluster, free_port())
    port = free_port()
    process = subprocess.Popen(
        server.server_command(db, artifacts, port),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        server.wait_until_up(url, process)
        yield url, db
    finally:
        process.terminate()
        process.wait(timeout=30)
        server.stop_postgres(cluster)
        shutil.rmtree(cluster, ignore_errors=True)
        shutil.rmtree(artifacts, ignore_errors=True)


def test_the_pipeline_tracks_to_a_server_on_postgresql(tmp_path, tracking_server, env):
    import mlflow

    url, db = tracking_server
    assert db.startswith("postgresql://")
    work = Workdir(tmp_path)
    work.set("prices.train.epochs", EPOCHS)
    env = {**env, "MLFLOW_TRACKING_URI": url}
    for stage in ("ingest", "validate", "preprocess", "train", "evaluate"):
        work.run(stage, "stock", env={**env, "LSTMOPS_MIRROR": str(work.mirror)}, check=True)
    assert not (tmp_path / "mlruns").exists()  # nothing went to the embedded store

    run_id = json.loads((tmp_path / "models/stock/run.json").read_text())["run_id"]
    mlflow.set_tracking_uri(url)  # the logged model's artifacts resolve through the global URI
    try:
        _check_the_run(run_id, tmp_path, work, env)
    finally:
        mlflow.set_tracking_uri(None)


def _check_the_run(run_id: str, tmp_path: Path, work: Workdir, env: dict) -> None:
    import mlflow

    client = mlflow.MlflowClient()
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params["train.epochs"] == str(EPOCHS) and run.data.params["task"] == "prices"
    assert [m.step for m in client.get_metric_history(run_id, "loss")] == list(range(1, EPOCHS + 1))
    metrics = json.loads((tmp_path / "metrics/stock.json").read_text())
    assert run.data.metrics["test.rmse_ratio"] == pytest.approx(metrics["rmse_ratio"])
    experiment = client.get_experiment(run.info.experiment_id)
    assert experiment.artifact_location.startswith("mlflow-artifacts:")  # proxied by the server
    assert {a.path for a in client.list_artifacts(run_id, "model")} >= {"model/MLmodel"}

    out = work.run("model-uri", "stock", env=env, check=True)  # as `make serve` asks
    assert out.stdout.strip() == "models:/lstmops-stock@champion"
    assert client.get_model_version_by_alias("lstmops-stock", "champion").run_id == run_id
    # the registered model, served from the server's artifact store, forecasts the test windows
    # as evaluate did
    windows = np.load(tmp_path / "data/processed/stock/arrays.npz")["windows_test"][:5]
    predictions = _serve_and_predict(out.stdout.strip(), {**work.env, **env}, windows, tmp_path)
    expected = np.loadtxt(tmp_path / "plots/stock/predictions.csv", delimiter=",", skiprows=1,
                          usecols=2)[:5]  # fmt: skip
    np.testing.assert_allclose(predictions, expected, rtol=1e-6)


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
    tmp_path, tracking_server
):
    """Two `tune` workers on one study in PostgreSQL (the cluster of `make server`, its optuna
    database) finish its trials between them, each trial once, tracked on the team's server; a
    worker killed mid-trial leaves that trial failed, and started again it reruns it and goes on."""
    import time

    import mlflow
    import optuna
    from optuna.storages import RetryHeartbeatStaleTrialCallback
    from optuna.trial import TrialState

    url, db = tracking_server
    storage = server.create_database(int(db.rsplit(":", 1)[1].split("/")[0]), server.TUNE_DATABASE)
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
    env = {"LSTMOPS_TUNE_STORAGE": storage, "MLFLOW_TRACKING_URI": url}
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
    client = mlflow.MlflowClient(url)
    experiment = client.get_experiment_by_name("lstmops-stock").experiment_id
    children = client.search_runs([experiment], "tags.`optuna.study` = 'stock-lecture'")
    assert len({run.data.tags["optuna.worker"] for run in children}) == 2  # both took trials

    work.params["prices"]["tune"]["trials"] = len(finished) + 2
    worker = work.start("tune", "stock", env)
    deadline = time.monotonic() + 300
    while not study().get_trials(states=(TrialState.RUNNING,)):
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
