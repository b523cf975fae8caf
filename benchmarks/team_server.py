"""What asking who you are costs: the same tracking calls against `make server`'s secured server
and against the same server without the auth app, both on one PostgreSQL cluster, in one run.

Each round logs a run the way train does per epoch (one log_batch of 6 metrics) and reads it back
(get_run), as a member on the secured server and anonymously on the open one; the ratio of their
times is the figure (machines are noisy: compare within a run).

Usage: python benchmarks/team_server.py [--rounds 200]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import mlflow
from mlflow.entities import Metric

from lstmops import server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(command: list[str], env: dict, url: str) -> subprocess.Popen:
    process = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    server.wait_until_up(url, process)
    return process


def rounds(url: str, login: dict[str, str], n: int) -> float:
    """Seconds per round: one log_batch of 6 metrics and one get_run, as `login`."""
    for name in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
        os.environ.pop(name, None)
    os.environ.update(login)
    client = mlflow.MlflowClient(url)
    experiment = client.create_experiment(f"bench-{secrets.token_hex(4)}")
    run = client.create_run(experiment).info.run_id
    started = time.perf_counter()
    for step in range(n):
        metrics = [Metric(f"m{i}", float(step), 0, step) for i in range(6)]
        client.log_batch(run, metrics=metrics)
        client.get_run(run)
    return (time.perf_counter() - started) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="lstmops-bench-server-"))
    scratch.chmod(0o755)  # PostgreSQL runs as the postgres user when this runs as root
    keys, db_port = scratch / "secrets", free_port()
    processes = []
    try:
        db = server.start_postgres(scratch / "postgres", db_port, keys)
        auth_db = server.create_database(db_port, server.AUTH_DATABASE, keys)
        env = server.server_env(keys, auth_db, db_port)
        secured, open_ = free_port(), free_port()
        command = server.server_command(db, scratch / "artifacts", secured)
        processes.append(start(command, env, f"http://127.0.0.1:{secured}"))
        plain = server.server_command(db, scratch / "artifacts", open_)
        del plain[plain.index("--app-name") : plain.index("--app-name") + 2]
        processes.append(start(plain, env, f"http://127.0.0.1:{open_}"))
        admin = {
            "MLFLOW_TRACKING_USERNAME": server.admin_user(),
            "MLFLOW_TRACKING_PASSWORD": (keys / "admin-password").read_text().strip(),
        }
        os.environ.update(admin, LSTMOPS_USER_PASSWORD=secrets.token_urlsafe(18))
        os.environ["MLFLOW_TRACKING_URI"] = f"http://127.0.0.1:{secured}"
        server.add_user("bench", "member")
        member = {
            "MLFLOW_TRACKING_USERNAME": "bench",
            "MLFLOW_TRACKING_PASSWORD": os.environ["LSTMOPS_USER_PASSWORD"],
        }
        rounds(f"http://127.0.0.1:{open_}", {}, 10)  # warm both up
        rounds(f"http://127.0.0.1:{secured}", member, 10)
        without = rounds(f"http://127.0.0.1:{open_}", {}, args.rounds)
        with_auth = rounds(f"http://127.0.0.1:{secured}", member, args.rounds)
        print(
            json.dumps(
                {
                    "rounds": args.rounds,
                    "open_ms_per_round": round(without * 1000, 2),
                    "secured_ms_per_round": round(with_auth * 1000, 2),
                    "ratio": round(with_auth / without, 3),
                },
                indent=2,
            )
        )
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        server.stop_postgres(scratch / "postgres")
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
