"""train.distribution on the CPU: `mirrored` over two logical devices trains and lands near the
single-device loss; `multi_worker` is refused with the upstream reason."""

from __future__ import annotations

import json

import pytest

from .workdir import Workdir

pytestmark = pytest.mark.e2e
EPOCHS = 5


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Workdir:
    work = Workdir(tmp_path_factory.mktemp("distribution"))
    for stage in ("ingest", "validate", "preprocess"):
        work.run(stage, "stock", check=True)
    work.set("stock.train.epochs", EPOCHS)
    return work


def _final_loss(work: Workdir) -> float:
    return json.loads((work.root / "models/stock/history.json").read_text())["loss"][-1]


@pytest.fixture(scope="module")
def single_loss(work) -> float:
    work.set("stock.train.batch_size", 16)
    work.set("stock.train.distribution", "none")
    work.run("train", "stock", check=True)
    return _final_loss(work)


def test_mirrored_on_two_logical_cpus(work, single_loss):
    work.set("stock.train.batch_size", 8)  # per replica: the same global batch of 16
    work.set("stock.train.distribution", "mirrored")
    out = work.run("train", "stock", env={"LSTMOPS_CPU_DEVICES": "2"}, check=True)
    assert "run " in out.stdout
    assert _final_loss(work) == pytest.approx(single_loss, rel=0.1)


def test_multi_worker_is_refused_with_the_reason(work):
    work.set("stock.train.distribution", "multi_worker")
    out = work.run("train", "stock")
    assert out.returncode == 1 and "keras-team/keras#20585" in out.stderr
