"""Fixtures of the end-to-end tests."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def env(mirror: Path) -> dict:
    """The environment of a user's shell: the project's tools on PATH, the data mirror, and no
    MLflow or DVC settings leaking in from the test runner."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "DVC_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env["LSTMOPS_MIRROR"] = str(mirror)
    return env
