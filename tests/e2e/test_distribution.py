"""train.distribution on the CPU: `mirrored` over two logical devices, and `multi_worker` with two real
worker processes on localhost, train and land near the single-device loss."""

from __future__ import annotations

import json
import shutil
import socket
from concurrent.futures import ThreadPoolExecutor

import pytest

from .workdir import Workdir

pytestmark = pytest.mark.e2e
EPOCHS = 5


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Workdir:
    work = Workdir(tmp_path_factory.mktemp("distribution"))
    for stage in ("ingest", "validate", "preprocess"):
        work.run(stage, "stock", check=True)
    work.set("prices.train.epochs", EPOCHS)
    return work


def _final_loss(work: Workdir) -> float:
    return json.loads((work.root / "models/stock/history.json").read_text())["loss"][-1]


def _clean_models(work: Workdir) -> None:
    """No model from an earlier test: whatever is there afterwards, this run wrote."""
    shutil.rmtree(work.root / "models", ignore_errors=True)


def _chief_run(work: Workdir, replicas: int):
    """The MLflow run whose id the chief wrote to models/stock/run.json, checked as finished and
    tracked with `replicas` replicas."""
    import mlflow

    run_id = json.loads((work.root / "models/stock/run.json").read_text())["run_id"]
    mlflow.set_tracking_uri(f"sqlite:///{work.root / 'mlruns' / 'mlflow.db'}")
    try:
        run = mlflow.MlflowClient().get_run(run_id)
    finally:
        mlflow.set_tracking_uri(None)
    assert run.info.status == "FINISHED"
    assert run.data.params["replicas"] == str(replicas)
    assert run.data.params["train.distribution"] == work.params["prices"]["train"]["distribution"]
    return run


@pytest.fixture(scope="module")
def single_loss(work) -> float:
    work.set("prices.train.batch_size", 16)
    work.set("prices.train.distribution", "none")
    work.run("train", "stock", check=True)
    return _final_loss(work)


def test_mirrored_on_two_logical_cpus(work, single_loss):
    work.set("prices.train.batch_size", 8)  # per replica: the same global batch of 16
    work.set("prices.train.distribution", "mirrored")
    _clean_models(work)
    out = work.run("train", "stock", env={"LSTMOPS_CPU_DEVICES": "2"}, check=True)
    assert "run " in out.stdout
    _chief_run(work, replicas=2)
    assert _final_loss(work) == pytest.approx(single_loss, rel=0.1)


def _free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_multi_worker_with_two_worker_processes(work, single_loss):
    work.set("prices.train.batch_size", 8)  # per worker: the same global batch of 16
    work.set("prices.train.distribution", "multi_worker")
    cluster = {"worker": [f"localhost:{port}" for port in _free_ports(2)]}
    _clean_models(work)
    workers = [
        work.start(
            "train",
            "stock",
            env={
                "TF_CONFIG": json.dumps(
                    {"cluster": cluster, "task": {"type": "worker", "index": i}}
                )
            },
        )
        for i in range(2)
    ]
    with ThreadPoolExecutor(2) as pool:  # read both at once: a full pipe would stall its worker
        outs = list(pool.map(lambda worker: worker.communicate(timeout=600), workers))
    for worker, (_, stderr) in zip(workers, outs, strict=True):
        assert worker.returncode == 0, stderr[-3000:]
    assert (
        "run " in outs[0][0] and "worker done" in outs[1][0]
    )  # the chief tracks, the other trains
    run = _chief_run(work, replicas=2)
    assert run.info.run_id in outs[0][0]  # the chief's run, the one it printed
    history = json.loads((work.root / "models/stock/history.json").read_text())
    assert len(history["loss"]) == len(history["val_loss"]) == EPOCHS
    assert _final_loss(work) == pytest.approx(single_loss, rel=0.1)


def test_multi_worker_without_a_cluster_says_what_is_missing(work):
    work.set("prices.train.distribution", "multi_worker")
    out = work.run("train", "stock")
    assert out.returncode == 1 and "TF_CONFIG" in out.stderr
