"""Shared fixtures: where the project and the real data mirror are."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

import lstmops  # noqa: F401  (before any test imports Keras: it pins TensorFlow's CPU kernels)

# A pytest-xdist worker's __main__ has no __file__ and no __spec__, which PySpark (imported by Great
# Expectations when it is installed) takes for a doctest run of its own: it exits the worker. Name it.
_main = sys.modules["__main__"]
if getattr(_main, "__spec__", None) is None and not hasattr(_main, "__file__"):
    _main.__file__ = "<pytest-xdist worker>"

ROOT = Path(__file__).resolve().parents[1]
MIRROR = Path(os.environ.get("LSTMOPS_MIRROR", ROOT.parent / "shared" / "data")).resolve()
STOCK_CSV = MIRROR / "stock" / "data-02-stock_daily.csv"
IMDB_ARCHIVE = MIRROR / "imdb" / "aclImdb_v1.tar.gz"


@pytest.fixture(scope="session")
def mirror() -> Path:
    if not STOCK_CSV.is_file() or not IMDB_ARCHIVE.is_file():
        pytest.fail(f"the data mirror is missing at {MIRROR}: set LSTMOPS_MIRROR (see README.md)")
    return MIRROR


@pytest.fixture(scope="session")
def stock_text(mirror: Path) -> str:
    return STOCK_CSV.read_bytes().decode("utf-8")  # as it is, CRLF line ends kept
