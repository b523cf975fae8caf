"""dvc.yaml is generated from the code: it is current, and each stage's deps cover its code."""

from pathlib import Path

import yaml

from lstmops import pipeline

ROOT = Path(__file__).resolve().parents[2]


def test_dvc_yaml_is_current():
    assert (ROOT / "dvc.yaml").read_text() == pipeline.render(), (
        "dvc.yaml is out of date with the code: run `python -m lstmops dvc-yaml`"
    )


def test_a_stages_deps_follow_imports_also_inside_functions():
    deps = pipeline.closure(["lstmops.stages.train"])
    # train imports its task through the registry and keras code inside its function
    assert "src/lstmops/training.py" in deps and "src/lstmops/tasks/__init__.py" in deps
    assert "src/lstmops/stages/__init__.py" in deps and "src/lstmops/__init__.py" in deps
    assert "src/lstmops/tasks/prices.py" not in deps  # a task module is added by its task


def test_each_task_stage_depends_on_its_task_module_and_not_the_others():
    stages = yaml.safe_load(pipeline.render())["stages"]
    for task, other in (("prices", "sentiment"), ("sentiment", "prices")):
        deps = stages[f"{task}-train"]["do"]["deps"]
        assert f"src/lstmops/tasks/{task}.py" in deps
        assert f"src/lstmops/tasks/{other}.py" not in deps
    assert "src/lstmops/lecture.py" in stages["lecture-xor"]["deps"]
    assert not any("tasks/" in d for d in stages["lecture-xor"]["deps"])  # no task code at all
