"""Run names, and the champion alias: moved on the validation metric only, in a real MLflow store."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lstmops import tracking
from lstmops.io import dvc_hash, write_json


def test_run_name_says_dataset_preset_experiment_and_run(monkeypatch):
    monkeypatch.delenv("DVC_EXP_NAME", raising=False)
    assert tracking.run_name("stock", "lecture", "0123456789abcdef") == "stock-lecture-01234567"
    monkeypatch.setenv("DVC_EXP_NAME", "sappy-yurt")
    assert tracking.run_name("imdb", "bilstm", "fedcba98765") == "imdb-bilstm-sappy-yurt-fedcba98"


@pytest.mark.parametrize(
    ("value", "champion", "lower", "expected"),
    [
        (1.0, 2.0, True, True),
        (2.0, 1.0, True, False),
        (1.0, 1.0, True, False),  # a tie keeps the champion
        (0.9, 0.8, False, True),
        (None, 1.0, True, False),  # no validation metric: it cannot show it is better
        (3.0, None, True, True),
    ],
)
def test_beats(value, champion, lower, expected):
    assert tracking.beats(value, champion, lower) is expected


@pytest.fixture
def store(tmp_path, monkeypatch):
    import mlflow

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    tracking.use_store("stock", description="what the runs of stock are")
    yield mlflow.MlflowClient()
    mlflow.set_tracking_uri(None)


def _version(client, validation: float | None, test: float) -> str:
    """A run with a validation and a test RMSE, registered as a new version of lstmops-stock."""
    import mlflow

    with mlflow.start_run() as run:
        if validation is not None:
            mlflow.log_metric("validation.rmse", validation)
        mlflow.log_metric("test.model.rmse", test)
    if not client.search_registered_models("name='lstmops-stock'"):
        client.create_registered_model("lstmops-stock")
    source = f"{run.info.artifact_uri}/model"
    return client.create_model_version("lstmops-stock", source, run_id=run.info.run_id).version


def test_champion_moves_only_on_a_better_validation_metric(store):
    champion = lambda: store.get_model_version_by_alias("lstmops-stock", "champion").version  # noqa: E731
    experiment = store.get_experiment_by_name("lstmops-stock")
    assert experiment.tags["mlflow.note.content"] == "what the runs of stock are"
    first = _version(store, 2.0, test=9.0)
    assert "is the first" in tracking.crown("stock", first, "validation.rmse", True)
    assert champion() == first
    worse = _version(store, 3.0, test=1.0)  # far better on test: never looked at
    assert "does not beat" in tracking.crown("stock", worse, "validation.rmse", True)
    assert champion() == first
    better = _version(store, 1.5, test=20.0)
    assert "beats version" in tracking.crown("stock", better, "validation.rmse", True)
    assert champion() == better
    blind = _version(store, None, test=0.1)  # trained without a validation slice
    tracking.crown("stock", blind, "validation.rmse", True)
    assert champion() == better


def test_champion_uri_names_the_alias_or_says_what_to_do(store, monkeypatch, tmp_path, capsys):
    from lstmops.config import LstmopsError

    with pytest.raises(
        LstmopsError, match="no lstmops-stock@champion model in .*train stock first"
    ):
        tracking.champion_uri("stock")
    version = _version(store, 1.0, test=1.0)
    tracking.crown("stock", version, "validation.rmse", True)
    assert tracking.champion_uri("stock") == "models:/lstmops-stock@champion"
    run_id = store.get_model_version("lstmops-stock", version).run_id
    # what loads it says which version and run it is: a moved champion shows in the log
    assert f"lstmops-stock@champion is version {version} (run {run_id})" in capsys.readouterr().err
    with pytest.raises(LstmopsError, match="no dataset 'nope' in params.yaml"):
        tracking.champion_uri("nope")


def test_a_run_a_killed_process_left_running_is_marked_killed(store, tmp_path):
    import mlflow

    experiment = mlflow.get_experiment_by_name("lstmops-stock").experiment_id
    left = store.create_run(experiment).info.run_id  # as a SIGKILLed pretrain leaves it: RUNNING
    ended = store.create_run(experiment).info.run_id
    store.set_terminated(ended, "FAILED")
    for run_id in (left, ended):
        unfinished = tmp_path / "checkpoints" / "run.json"
        write_json(unfinished, {"run_id": run_id})
        tracking.end_killed(unfinished)
        assert not unfinished.exists()
    assert store.get_run(left).info.status == "KILLED"
    assert store.get_run(ended).info.status == "FAILED"  # an ended run keeps its status
    tracking.end_killed(tmp_path / "nothing.json")  # no record: nothing to do


def test_a_curve_leaves_out_an_undefined_point(store):
    """A fold's or a step's ratio to a baseline that made no error is None: not logged, and the
    stage goes on."""
    import mlflow

    experiment = mlflow.get_experiment_by_name("lstmops-stock").experiment_id
    run_id = store.create_run(experiment).info.run_id
    with tracking.reopen("stock", run_id) as log:
        log.step("walk_forward.step_rmse_ratio", 0.9, 1)
        log.step("walk_forward.step_rmse_ratio", None, 2)
        log.metrics({"rmse_ratio": None, "model_rmse": 1.5}, "walk_forward.")
    history = store.get_metric_history(run_id, "walk_forward.step_rmse_ratio")
    assert [(m.step, m.value) for m in history] == [(1, 0.9)]
    assert store.get_run(run_id).data.metrics == {
        "walk_forward.step_rmse_ratio": 0.9,
        "walk_forward.model_rmse": 1.5,
    }


def test_training_data_are_logged_as_inputs_named_by_their_dvc_hash(store, tmp_path):
    import mlflow

    folder = tmp_path / "processed"
    folder.mkdir()
    np.savez(folder / "arrays.npz", x=np.arange(6.0))
    digest = dvc_hash(folder)
    assert digest.endswith(".dir") and len(digest) == 36
    source = {"source.url": "https://example.com/prices.csv", "source.sha256": "ab" * 32}
    x, y = np.zeros((4, 7, 5), "float32"), np.zeros((4, 1))
    with mlflow.start_run() as run:
        tracking.log_data("stock", digest, source, {"training": (x, y), "validation": None})
    (logged,) = store.get_run(run.info.run_id).inputs.dataset_inputs
    assert (logged.dataset.name, logged.dataset.digest) == ("stock-training", digest)
    assert json.loads(logged.dataset.source) == {"url": "https://example.com/prices.csv"}
    tags = {t.key: t.value for t in logged.tags}
    assert tags["mlflow.data.context"] == "training" and tags["source.sha256"] == "ab" * 32
    (folder / "arrays.npz").write_bytes(b"other data")
    assert dvc_hash(folder) != digest


def test_promote_registers_a_runs_model_once_and_moves_the_champion(store):
    import mlflow

    from lstmops.config import LstmopsError

    class Constant(mlflow.pyfunc.PythonModel):
        def predict(self, context, model_input, params=None):
            return [0.0] * len(model_input)

    def trained() -> str:
        with mlflow.start_run() as run:
            mlflow.pyfunc.log_model(name="model", python_model=Constant())
        return run.info.run_id

    first, second = trained(), trained()
    assert "version 1 (run" in tracking.promote("stock", first)
    assert "version 2 (run" in tracking.promote("stock", second)
    assert "version 1 (run" in tracking.promote("stock", first)  # back: no third version
    champion = store.get_model_version_by_alias("lstmops-stock", "champion")
    assert champion.run_id == first and len(store.search_model_versions()) == 2
    with mlflow.start_run() as bare:
        pass
    with pytest.raises(LstmopsError, match="logged no model"):
        tracking.promote("stock", bare.info.run_id)
    with pytest.raises(LstmopsError, match="no run nope"):
        tracking.promote("stock", "nope")


def test_a_refusal_of_the_tracking_server_is_one_line_and_anything_else_is_not_hidden(monkeypatch):
    from mlflow.exceptions import MlflowException
    from mlflow.protos.databricks_pb2 import PERMISSION_DENIED, UNAUTHENTICATED

    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://team.example:5050")
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "ann")
    denied = tracking.refusal(MlflowException("Permission denied", error_code=PERMISSION_DENIED))
    assert "does not let ann do this (403)" in denied and "maintainer" in denied
    unknown = tracking.refusal(MlflowException("who?", error_code=UNAUTHENTICATED))
    assert "asks for a login: set MLFLOW_TRACKING_USERNAME" in unknown
    assert tracking.refusal(MlflowException("boom")) is None
    assert tracking.refusal(ValueError("boom")) is None
