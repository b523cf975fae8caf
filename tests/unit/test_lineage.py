"""dvc.yaml is generated from the code: it is current, and each stage's deps cover its code."""

from pathlib import Path

import pytest
import yaml

from lstmops import pipeline

ROOT = Path(__file__).resolve().parents[2]


def test_dvc_yaml_is_current():
    assert (ROOT / "dvc.yaml").read_text() == pipeline.render(), (
        "dvc.yaml is out of date with the code: run `python -m lstmops dvc-yaml`"
    )


def test_a_stages_deps_follow_imports_also_inside_functions():
    deps = pipeline.closure(["lstmops.stages.train"])
    # train imports its task through the registry, the model code at its top
    assert "src/lstmops/training.py" in deps and "src/lstmops/tasks/__init__.py" in deps
    assert "src/lstmops/stages/__init__.py" in deps and "src/lstmops/__init__.py" in deps
    assert "src/lstmops/tasks/timeseries/train.py" not in deps  # a task's part is added by its task


def _deps(stages: dict, name: str) -> set[str]:
    stage = stages[name]
    return set(stage.get("do", stage)["deps"])


def test_each_task_stage_depends_on_the_parts_of_its_task_it_runs():
    stages = yaml.safe_load(pipeline.render())["stages"]
    runs = (("prices", "timeseries"), ("series", "timeseries"), ("sentiment", "sentiment"))
    for task, package in runs:
        other = "sentiment" if package == "timeseries" else "timeseries"
        deps = _deps(stages, f"{task}-train")
        assert f"src/lstmops/tasks/{package}/train.py" in deps
        assert f"src/lstmops/tasks/{package}/score.py" not in deps
        assert not any(f"tasks/{other}/" in d for d in deps)
        assert f"src/lstmops/tasks/{package}/checks.py" in _deps(stages, f"{task}-ingest")
        assert f"src/lstmops/tasks/{package}/checks.py" not in _deps(stages, f"{task}-preprocess")
    assert "src/lstmops/lecture.py" in stages["lecture-xor"]["deps"]
    assert not any("tasks/" in d for d in stages["lecture-xor"]["deps"])  # no task code at all


def test_the_chart_code_is_a_dep_only_of_the_stages_that_draw():
    stages = yaml.safe_load(pipeline.render())["stages"]
    drawing = {
        f"{task}-{stage}"
        for task in ("prices", "series")
        for stage in ("evaluate", "walkforward", "forecast")
    } | {"sentiment-evaluate"}
    assert {n for n in stages if "src/lstmops/charts.py" in _deps(stages, n)} == drawing
    assert not any("src/lstmops/plots.py" in _deps(stages, n) for n in stages)  # make plots'


def test_the_model_code_is_no_dep_of_a_data_stage():
    stages = yaml.safe_load(pipeline.render())["stages"]
    data = [n for n in stages if n.split("-")[-1] in ("ingest", "validate", "preprocess")]
    assert len(data) == 9  # three tasks
    for name in data:
        deps = _deps(stages, name)
        for module in ("models", "training", "serving", "evaluation", "tracking"):
            assert f"src/lstmops/{module}.py" not in deps, (name, module)


def test_dvc_lock_holds_only_the_stages_dvc_yaml_has():
    locked = set(yaml.safe_load((ROOT / "dvc.lock").read_text())["stages"])
    assert locked == set(pipeline.stage_names()), (
        f"dvc.lock has stale stages {sorted(locked - set(pipeline.stage_names()))}: run "
        "`python -m lstmops dvc-yaml`, which drops them"
    )


def test_writing_dvc_yaml_drops_the_stale_stages_from_dvc_lock(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)  # params.yaml declares the datasets
    live = {name: {"cmd": f"python -m lstmops {name}"} for name in pipeline.stage_names()}
    lock = {"schema": "2.0", "stages": {"stock-train": {"cmd": "old name"}, **live}}
    (tmp_path / "dvc.lock").write_text(yaml.safe_dump(lock, sort_keys=False))
    assert "dropped 1 stale stages" in pipeline.write(tmp_path)
    assert yaml.safe_load((tmp_path / "dvc.lock").read_text()) == {"schema": "2.0", "stages": live}
    assert (tmp_path / "dvc.yaml").read_text() == pipeline.render()


def test_the_first_stage_names_the_datasets_dvc_yaml_does_not_run(tmp_path, monkeypatch):
    import shutil

    from lstmops.config import LstmopsError

    (tmp_path / "dvc.yaml").write_text(pipeline.render())
    shutil.copy(ROOT / "params.yaml", tmp_path)
    monkeypatch.chdir(tmp_path)
    assert pipeline.check(tmp_path) == pipeline.GUARD_TEXT.strip()
    assert (tmp_path / pipeline.GUARD_OUT).read_text() == pipeline.GUARD_TEXT
    params = yaml.safe_load((tmp_path / "params.yaml").read_text())
    prices = params["datasets"]["prices"]
    prices["NEW"] = prices.pop("AAPL")
    prices["IBM"] = {"source": {"path": "data/external/ibm.csv"}}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    with pytest.raises(LstmopsError) as err:
        pipeline.check(tmp_path)
    assert str(err.value) == (
        "prices datasets NEW are declared but not in dvc.yaml; prices datasets AAPL are in "
        "dvc.yaml but not declared; prices datasets IBM read another source now: run "
        "`python -m lstmops dvc-yaml` (or `make repro`, which runs it first), then `dvc repro` again."
    )


def test_every_param_a_stage_depends_on_is_in_params_yaml():
    """DVC refuses to run a stage whose params key params.yaml lacks (a task section's default
    left to the schema, say): each one resolves, for every dataset of its foreach."""
    stages = yaml.safe_load(pipeline.render())["stages"]
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    for name, stage in stages.items():
        body = stage.get("do", stage)
        keys = [k for k in body.get("params", []) if isinstance(k, str)]
        for item in stage.get("foreach", {"-": None}):
            for key in keys:
                node = params
                for part in key.replace("${key}", item).split("."):
                    assert isinstance(node, dict) and part in node, (
                        f"{name}: params.yaml has no {key}"
                    )
                    node = node[part]
