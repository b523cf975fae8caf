"""One tuning worker against two on the same trial budget, measured in one run.

A scratch project (the workspace's raw stock data, the `change` preset, a search around it) and a
throw-away PostgreSQL cluster that holds both the Optuna studies and the MLflow store: one worker
runs study `one` to TRIALS finished trials, then two workers run study `two` to as many. Prints the
wall times, their ratio and each study's best walk-forward ratio (the hand search's best: 0.9914).
Run after `make repro`: python benchmarks/tune_workers.py [TRIALS]
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from lstmops import server

ROOT = Path(__file__).resolve().parents[1]
SPACE = {
    "train.units": {"type": "int", "low": 2, "high": 8, "log": True},
    "train.learning_rate": {"type": "float", "low": 3.0e-4, "high": 1.0e-2, "log": True},
    "preprocess.seq_length": {"type": "int", "low": 3, "high": 14},
}


def main(trials: int) -> None:
    import optuna

    work = Path(tempfile.mkdtemp(prefix="lstmops-tune-bench-"))
    work.chmod(0o755)
    shutil.copytree(ROOT / "data/raw/stock", work / "data/raw/stock")
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["datasets"] = {
        "prices": {"stock": params["datasets"]["prices"]["stock"]},
        "sentiment": {},
    }
    params["prices"]["preset"] = "change"
    params["prices"]["tune"].update({"trials": trials, "startup_trials": 3, "space": SPACE})
    (work / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    cluster = work / "postgres"
    port = 5477
    tracking = server.start_postgres(cluster, port)
    storage = server.create_database(port, server.TUNE_DATABASE)
    env = {**os.environ, "LSTMOPS_TUNE_STORAGE": storage, "MLFLOW_TRACKING_URI": tracking}
    command = [sys.executable, "-m", "lstmops", "tune", "stock", "--study"]
    try:
        seconds = {}
        for study, workers in (("one", 1), ("two", 2)):
            start = time.perf_counter()
            running = [
                subprocess.Popen(
                    [*command, study],
                    cwd=work,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    text=True,
                )  # fmt: skip
                for _ in range(workers)
            ]
            for process in running:
                out, _ = process.communicate()
                print(
                    out.strip().splitlines()[-1]
                    if out.strip()
                    else f"worker exit {process.returncode}"
                )
            seconds[study] = time.perf_counter() - start
        url = storage.replace("postgresql://", "postgresql+psycopg://", 1)
        for study in seconds:
            s = optuna.load_study(study_name=study, storage=url)
            states = [t.state.name for t in s.trials]
            print(
                f"study {study}: {seconds[study]:.0f} s, {len(states)} trials "
                f"({states.count('COMPLETE')} complete, {states.count('PRUNED')} pruned), best "
                f"walk-forward ratio {s.best_value:.4f} with {s.best_params}"
            )
        print(f"two workers / one: {seconds['two'] / seconds['one']:.2f} of the wall time")
    finally:
        server.stop_postgres(cluster)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 8)
