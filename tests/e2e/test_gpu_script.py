"""benchmarks/gpu.sh as the lent GPU machine runs it, on this CPU: a Python with only what that
machine's image has (JAX, NumPy, pandas, scikit-learn, PyYAML and Keras's other dependencies; no
TensorFlow, Keras, pydantic or MLflow) plus the wheels `make gpu-wheels` carries, no registry. The
stock and imdb models' training throughput comes out under Keras 3's JAX backend."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import ROOT

pytestmark = pytest.mark.e2e
JAX = "jax==0.10.2"  # the image has 0.11.2, which the package index does not have yet
# What the image has besides JAX, at the locked versions (Keras's dependencies among them).
IMAGE = ["numpy", "pandas", "scikit-learn", "scipy", "pyyaml", "rich", "h5py", "ml-dtypes", "absl-py", "packaging"]  # fmt: skip


def _locked(names: list[str]) -> list[str]:
    pins = dict(
        line.split(" ")[0].split("==")
        for line in (ROOT / "requirements/cpu.txt").read_text().splitlines()
        if "==" in line
    )
    return [f"{name}=={pins[name]}" for name in names]


@pytest.fixture(scope="module")
def image(tmp_path_factory) -> Path:
    """A virtual environment like the GPU image (a package that does not install: skip)."""
    venv = tmp_path_factory.mktemp("image") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    out = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", JAX, *_locked(IMAGE)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if out.returncode != 0:
        pytest.skip(f"the GPU image's packages could not be installed here: {out.stderr[-500:]}")
    return python


def test_gpu_script_runs_with_only_the_images_packages_and_the_carried_wheels(image, tmp_path):
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    wheels = tmp_path / "wheels"
    subprocess.run(
        ["make", "-s", "gpu-wheels", f"GPU_PYTHON={version}", f"GPU_WHEELS={wheels}"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    assert sum(w.stat().st_size for w in wheels.iterdir()) < 20e6  # carried within 64 MiB
    tree = tmp_path / "tree"  # the working tree as the device tool copies it
    for part in ("src", "benchmarks"):
        shutil.copytree(ROOT / part, tree / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "params.yaml", tree)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KERAS_", "VIRTUAL_ENV"))}
    env |= {"PYTHON": str(image), "GPU_WHEELS": str(wheels), "PYTHONPATH": ""}
    bare = subprocess.run(
        [str(image), "-c", "import keras"], capture_output=True, env=env, cwd=tree
    )
    assert bare.returncode != 0  # the image has no Keras of its own
    out = subprocess.run(
        ["bash", "benchmarks/gpu.sh", "--quick"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    results = json.loads((tree / "reports/bench.json").read_text())
    assert results["backend"] == "jax" and results["keras"] == _locked(["keras"])[0].split("==")[1]
    for dataset in ("stock", "imdb"):
        assert results[dataset]["pipeline_samples_per_s"] > 0
        assert results[dataset]["plain_samples_per_s"] > 0
    assert "stock (samples/s)" in out.stdout and "imdb (samples/s)" in out.stdout
