"""A scratch project for running the real stage commands with their own params and data mirror."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from ..conftest import ROOT, STOCK_CSV


class Workdir:
    """A scratch project: params.yaml, a mirror directory, and the stage commands run inside it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.mirror = root / "mirror"
        (self.mirror / "stock").mkdir(parents=True)
        (self.mirror / "imdb").mkdir()
        shutil.copy(STOCK_CSV, self.mirror / "stock" / STOCK_CSV.name)
        self.params = yaml.safe_load((ROOT / "params.yaml").read_text())
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "DVC_"))}
        self.env["LSTMOPS_MIRROR"] = str(self.mirror)

    def set(self, dotted: str, value) -> None:
        *path, key = dotted.split(".")
        section = self.params
        for part in path:
            section = section[part]
        section[key] = value

    def start(self, stage: str, dataset: str, env: dict | None = None) -> subprocess.Popen:
        """Start a stage command without waiting (for several workers at once)."""
        (self.root / "params.yaml").write_text(yaml.safe_dump(self.params, sort_keys=False))
        return subprocess.Popen(
            [sys.executable, "-m", "lstmops", stage, dataset],
            cwd=self.root,
            env={**self.env, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run(self, stage: str, dataset: str, env: dict | None = None, check: bool = False):
        process = self.start(stage, dataset, env)
        stdout, stderr = process.communicate(timeout=600)
        out = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
        if check:
            assert out.returncode == 0, out.stderr[-3000:]
        return out

    def plant_stock(self, text: str | bytes) -> None:
        """Put `text` (or raw bytes) in the mirror as the stock file and pin its checksum, as a user would."""
        path = self.mirror / "stock" / STOCK_CSV.name
        path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
        self.set("stock.source.sha256", hashlib.sha256(path.read_bytes()).hexdigest())
