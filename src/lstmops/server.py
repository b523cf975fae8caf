"""A team's MLflow tracking server: PostgreSQL as the backend store, artifacts proxied by the server.

`make server` (`python -m lstmops server`) starts one on 127.0.0.1. Its database is a PostgreSQL
cluster that it initialises under the project's ignored `.server/` folder (or one that is already
running: LSTMOPS_SERVER_DB=postgresql://…); the artifacts go to `.server/artifacts` through the
server (`--serve-artifacts`), so clients need no access to that folder. Point every command at it
with MLFLOW_TRACKING_URI=http://127.0.0.1:<port>.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from lstmops.config import LstmopsError

SERVER_DIR = Path(".server")
DB_ENV = "LSTMOPS_SERVER_DB"  # a running database to use instead of the project's own cluster
DATABASE = "mlflow"
TUNE_DATABASE = "optuna"  # the cluster's second database: Optuna's studies (python -m lstmops tune)
SUPERUSER = "postgres"


def postgres_bin(program: str) -> str:
    """The path of a PostgreSQL server program (initdb, pg_ctl, …), or an error saying what to install."""
    found = shutil.which(program) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{program}"), reverse=True)), None
    )
    if found is None:
        raise LstmopsError(
            f"PostgreSQL's {program} is not installed: `apt-get install postgresql` (Debian, "
            f"Ubuntu), or set {DB_ENV} to the URI of a running PostgreSQL database."
        )
    return found


def _as_owner(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run `command` as the postgres user."""
    if os.geteuid() != 0:
        return command
    runuser = shutil.which("runuser")
    if runuser is None:
        raise LstmopsError(
            "running as root, PostgreSQL needs `runuser` (util-linux) to drop to postgres."
        )
    return [runuser, "-u", SUPERUSER, "--", *command]


def start_postgres(cluster: Path, port: int) -> str:
    """Initialise (once) and start the cluster in `cluster` on 127.0.0.1:`port`, with a database
    for MLflow; return its URI. A cluster that is already running is left as it is."""
    cluster = cluster.resolve()
    data, log = cluster / "data", cluster / "postgres.log"
    if os.geteuid() == 0:
        _ensure_reachable(cluster)
    if not (data / "PG_VERSION").is_file():
        cluster.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(cluster, SUPERUSER)
        initdb = [postgres_bin("initdb"), "-D", str(data), "-U", SUPERUSER, "--auth=trust"]
        _run(_as_owner([*initdb, "--encoding=UTF8", "--no-instructions"]), "initdb")
    status = subprocess.run(
        _as_owner([postgres_bin("pg_ctl"), "status", "-D", str(data)]), capture_output=True
    )
    if status.returncode != 0:
        options = f"-p {port} -k {cluster} -c listen_addresses=127.0.0.1"
        start = [postgres_bin("pg_ctl"), "start", "-w", "-D", str(data), "-l", str(log)]
        _run(_as_owner([*start, "-o", options]), "pg_ctl start", log)
    return create_database(port, DATABASE)


def create_database(port: int, name: str) -> str:
    """The database `name` of the cluster on `port`, created if it is not there; its URI."""
    psql = [postgres_bin("psql"), "-h", "127.0.0.1", "-p", str(port), "-U", SUPERUSER]
    exists = subprocess.run(
        [*psql, "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
        capture_output=True,
        text=True,
    )
    if exists.stdout.strip() != "1":
        _run([*psql, "-c", f"CREATE DATABASE {name}"], f"create the database {name}")
    return f"postgresql://{SUPERUSER}@127.0.0.1:{port}/{name}"


def stop_postgres(cluster: Path) -> None:
    data = cluster.resolve() / "data"
    if (data / "postmaster.pid").is_file():
        command = [postgres_bin("pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(data)]
        subprocess.run(_as_owner(command), capture_output=True)


def _ensure_reachable(cluster: Path) -> None:
    """As root, the cluster's folder must be one the postgres user can reach."""
    for parent in [*reversed(cluster.parents)]:
        if parent.exists() and not os.stat(parent).st_mode & 0o001:
            raise LstmopsError(
                f"{parent} is closed to other users, so PostgreSQL (which runs as the postgres "
                f"user) cannot reach {cluster}. Run from a checkout others can read (chmod o+x), "
                f"or set {DB_ENV} to a running database."
            )


def _run(command: list[str], what: str, log: Path | None = None) -> None:
    out = subprocess.run(command, capture_output=True, text=True)
    if out.returncode != 0:
        detail = (out.stderr or out.stdout).strip().splitlines()[-1:] or ["no output"]
        if log is not None and log.is_file():
            detail = log.read_text().strip().splitlines()[-1:] or detail
        raise LstmopsError(f"PostgreSQL: {what} failed: {detail[0]}")


def server_command(db_uri: str, artifacts: Path, port: int) -> list[str]:
    """`mlflow server` with `db_uri` as its backend store, serving the artifacts in `artifacts`."""
    return [
        sys.executable, "-m", "mlflow", "server",
        "--backend-store-uri", db_uri,
        "--artifacts-destination", str(artifacts.resolve()),
        "--serve-artifacts",
        "--host", "127.0.0.1",
        "--port", str(port),
    ]  # fmt: skip


def wait_until_up(url: str, process: subprocess.Popen, timeout_s: float = 120) -> None:
    """Wait for the tracking server at `url` to answer its health check."""
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while True:
        if process.poll() is not None:
            raise LstmopsError(f"the MLflow server exited with code {process.returncode}")
        try:
            urllib.request.urlopen(f"{url}/health", timeout=2).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise LstmopsError(
                    f"the MLflow server at {url} did not answer in {timeout_s} s"
                ) from None
            time.sleep(0.5)


def serve(port: int, db_port: int) -> str:
    """Run the tracking server in the foreground until interrupted (make server)."""
    db = os.environ.get(DB_ENV) or start_postgres(SERVER_DIR / "postgres", db_port)
    artifacts = SERVER_DIR / "artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    print(f"tracking server on http://127.0.0.1:{port} (backend {db}, artifacts {artifacts})")
    print(f"use it: export MLFLOW_TRACKING_URI=http://127.0.0.1:{port}   (Ctrl-C stops it)")
    if not os.environ.get(DB_ENV):
        studies = create_database(db_port, TUNE_DATABASE)
        print(f"tuning studies shared by every worker: export LSTMOPS_TUNE_STORAGE={studies}")
    process = subprocess.Popen(server_command(db, artifacts, port))
    try:
        process.wait()
    except KeyboardInterrupt:
        process.terminate()
        process.wait()
    return "the tracking server stopped (PostgreSQL keeps running: `make server-stop` stops it)"


def stop() -> str:
    """Stop the project's PostgreSQL cluster (make server-stop)."""
    stop_postgres(SERVER_DIR / "postgres")
    return "PostgreSQL stopped"
