"""Scratch projects: a directory for running the real stage commands with their own params and data
mirror (Workdir), and a git + DVC copy of the tracked project (copy_project)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
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

    def logged_model(self, dataset: str):
        """The pyfunc the train stage logged for `dataset`, read from this project's MLflow store."""
        import mlflow

        run_id = json.loads((self.root / "models" / dataset / "run.json").read_text())["run_id"]
        mlflow.set_tracking_uri(f"sqlite:///{self.root / 'mlruns' / 'mlflow.db'}")
        try:
            return mlflow.pyfunc.load_model(f"runs:/{run_id}/model")
        finally:
            mlflow.set_tracking_uri(None)

    def plant_stock(self, text: str | bytes) -> None:
        """Put `text` (or raw bytes) in the mirror as the stock file and pin its checksum, as a user would."""
        path = self.mirror / "stock" / STOCK_CSV.name
        path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
        self.set(
            "datasets.prices.stock.source.sha256", hashlib.sha256(path.read_bytes()).hexdigest()
        )


GIT_ID = ["-c", "user.name=test", "-c", "user.email=test@example.com"]


def run(cmd: list[str], cwd: Path, env: dict, timeout: int = 900) -> subprocess.CompletedProcess:
    """Run `cmd`; fail the test with its output if it fails."""
    out = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, (
        f"{' '.join(cmd)} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    )
    return out


def copy_project(dest: Path, env: dict, edit_params) -> Path:
    """A git repository at `dest` holding the tracked project without its dvc.lock, params.yaml
    changed by `edit_params(params)`, committed."""
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split("\0")
    for name in filter(None, files):
        if (ROOT / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dest / name)
    params = yaml.safe_load((dest / "params.yaml").read_text())
    edit_params(params)
    (dest / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    (dest / "dvc.lock").unlink(missing_ok=True)
    run([sys.executable, "-m", "lstmops", "dvc-yaml"], dest, env)  # its datasets' stages
    run(["git", "init", "-q"], dest, env)
    run(["git", "add", "-A"], dest, env)
    run(["git", *GIT_ID, "commit", "-qm", "copy"], dest, env)
    return dest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(command: list[str], port: int, env: dict, cwd: Path, probe: str = "/ping"):
    """A model server (or any server whose health page is `probe`) started by `command` on `port`,
    stopped (with its children) afterwards; yields the invocations URL once it answers `probe`."""
    server = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.time() + 180
        while True:
            assert server.poll() is None, server.stdout.read().decode()[-3000:]
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}{probe}", timeout=2).close()
                break
            except OSError:
                assert time.time() < deadline, "the server did not come up in 180 s"
                time.sleep(1)
        yield f"http://127.0.0.1:{port}/invocations"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def served(model_uri: str, env: dict, cwd: Path):
    """`mlflow models serve` of `model_uri` on a free local port (see `serving`)."""
    port = free_port()
    command = ["mlflow", "models", "serve", "-m", model_uri, "--env-manager", "local",
               "--host", "127.0.0.1", "-p", str(port)]  # fmt: skip
    return serving(command, port, env, cwd)


def make_serve(dataset: str | None, env: dict, cwd: Path):
    """`make serve [DATASET=…]` as the README says, with this test run's virtual environment (its
    setup already done: `-o setup`), on a free port (see `serving`)."""
    port = free_port()
    venv = Path(sys.executable).parents[1]
    command = ["make", "-o", "setup", "serve", f"VENV={venv}", f"SERVE_PORT={port}"]
    return serving(command + ([f"DATASET={dataset}"] if dataset else []), port, env, cwd)


def post(url: str, body: str | dict) -> tuple[int, dict]:
    """POST JSON (a dict, or text as it is); the status and the decoded answer."""
    data = body if isinstance(body, str) else json.dumps(body)
    request = urllib.request.Request(
        url, data=data.encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())
