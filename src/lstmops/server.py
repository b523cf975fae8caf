"""A team's MLflow tracking server that asks who you are: PostgreSQL as the backend store (with a
password), artifacts proxied by the server, and MLflow's basic-auth app (`lstmops.auth`).

`make server` (`python -m lstmops server`) starts one on 127.0.0.1. Its database is a PostgreSQL
cluster that it initialises under the project's ignored `.server/` folder with scram-sha-256
password authentication (or one that is already running: LSTMOPS_SERVER_DB=postgresql://…). The
secrets it needs (the database password, the admin's first password, the Flask secret key) are made
on first start in `.server/secrets/`, readable by their owner only, and never reach git, params,
MLflow or a log: the database password travels in a libpq password file (PGPASSFILE), the admin's
in MLFLOW_AUTH_ADMIN_PASSWORD of the server process alone.
"""

from __future__ import annotations

import configparser
import getpass
import glob
import os
import secrets
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path

from lstmops.config import LstmopsError

SERVER_DIR = Path(".server")
SECRETS = "secrets"  # under the server folder: one file a secret, mode 0600
DB_ENV = "LSTMOPS_SERVER_DB"  # a running database to use instead of the project's own cluster
AUTH_DB_ENV = "LSTMOPS_SERVER_AUTH_DB"  # … and the auth app's database beside it
DATABASE = "mlflow"
AUTH_DATABASE = "mlflow_auth"  # the basic-auth app's users, roles and permissions
TUNE_DATABASE = "optuna"  # the cluster's second database: Optuna's studies (python -m lstmops tune)
SUPERUSER = "postgres"
APP = "lstmops-auth"  # the MLflow app (pyproject.toml's mlflow.app entry point: lstmops.auth)
ADMIN_USER_ENV = "LSTMOPS_ADMIN_USER"  # the first admin's name (default admin) …
ADMIN_PASSWORD_ENV = "LSTMOPS_ADMIN_PASSWORD"  # … and password (default: made on first start)
USER_PASSWORD_ENV = "LSTMOPS_USER_PASSWORD"  # `server-user`: the new user's password (else asked)
# What each role may do, as MLflow role grants on every experiment and registered model. A reader
# is any user without a role: the auth app's default permission is READ.
ROLES = {
    "reader": {},
    "member": {"experiment": "EDIT", "registered_model": "EDIT"},
    "maintainer": {"experiment": "MANAGE", "registered_model": "MANAGE"},
}
ROLE_DOES = {
    "reader": "reads every run and model; logs, deletes and registers nothing",
    "member": "also logs runs to every experiment; registers no version and moves no alias",
    "maintainer": "also deletes, registers versions and moves @champion",
}
ROLE_PREFIX = "lstmops-"  # the MLflow role of a member is lstmops-member, …
WORKSPACE = "default"  # the auth app's roles live in a workspace; without workspaces, this one
AUTH_CACHE_SECONDS = 60  # how long a server worker trusts a login it checked


def secret(directory: Path, name: str) -> str:
    """The secret `name` kept in `directory`, made (random, 32 bytes) on first use; the file is
    readable by its owner only."""
    path = directory / name
    if not path.is_file():
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(32))
    return path.read_text().strip()


def password_file(directory: Path, port: int) -> Path:
    """A libpq password file (PGPASSFILE) in `directory` for the cluster on `port`."""
    path = directory / "pgpass"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(f"127.0.0.1:{port}:*:{SUPERUSER}:{secret(directory, 'postgres-password')}\n")
    return path


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


def start_postgres(cluster: Path, port: int, keys: Path) -> str:
    """Initialise (once, with the password kept in `keys`) and start the cluster in `cluster` on
    127.0.0.1:`port`, with a database for MLflow; return its URI. A cluster that is already running
    is left as it is. Connections then need the password: PGPASSFILE=password_file(keys, port)."""
    cluster = cluster.resolve()
    data, log = cluster / "data", cluster / "postgres.log"
    if os.geteuid() == 0:
        _ensure_reachable(cluster)
    if not (data / "PG_VERSION").is_file():
        cluster.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(cluster, SUPERUSER)
        # initdb reads the password from a file (as root: one the postgres user can open), gone after.
        pwfile = cluster / ".initdb-password"
        with open(os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write(secret(keys, "postgres-password") + "\n")
        try:
            if os.geteuid() == 0:
                shutil.chown(pwfile, SUPERUSER)
            initdb = [
                postgres_bin("initdb"),
                "-D",
                str(data),
                "-U",
                SUPERUSER,
                f"--pwfile={pwfile}",
            ]
            initdb += ["--auth=scram-sha-256", "--encoding=UTF8", "--no-instructions"]
            _run(_as_owner(initdb), "initdb")
        finally:
            pwfile.unlink()
    _refuse_trust(data)
    status = subprocess.run(
        _as_owner([postgres_bin("pg_ctl"), "status", "-D", str(data)]), capture_output=True
    )
    if status.returncode != 0:
        options = f"-p {port} -k {cluster} -c listen_addresses=127.0.0.1"
        start = [postgres_bin("pg_ctl"), "start", "-w", "-D", str(data), "-l", str(log)]
        _run(_as_owner([*start, "-o", options]), "pg_ctl start", log)
    return create_database(port, DATABASE, keys)


def create_database(port: int, name: str, keys: Path) -> str:
    """The database `name` of the cluster on `port`, created if it is not there; its URI, which
    holds no password (libpq finds it in PGPASSFILE)."""
    psql = [postgres_bin("psql"), "-h", "127.0.0.1", "-p", str(port), "-U", SUPERUSER, "-w"]
    env = {**os.environ, "PGPASSFILE": str(password_file(keys, port))}
    exists = subprocess.run(
        [*psql, "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
        capture_output=True,
        text=True,
        env=env,
    )
    if exists.stdout.strip() != "1":
        _run([*psql, "-c", f"CREATE DATABASE {name}"], f"create the database {name}", env=env)
    return f"postgresql://{SUPERUSER}@127.0.0.1:{port}/{name}"


def _refuse_trust(data: Path) -> None:
    """A cluster made by an earlier `make server` (--auth=trust) lets anyone on the host in."""
    hba = data / "pg_hba.conf"
    rules = [line.split() for line in hba.read_text().splitlines() if line.strip()[:1] not in "#"]
    if any(rule[-1] == "trust" for rule in rules if rule):
        raise LstmopsError(
            f"the PostgreSQL cluster in {data.parent} lets anyone on this host in (trust "
            f"authentication, from an earlier `make server`). Stop it (`make server-stop`) and move "
            f"it aside (mv {data.parent} {data.parent}.old) so that `make server` makes one with a "
            f"password, or set {DB_ENV} to a database that asks for one."
        )


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


def _run(
    command: list[str],
    what: str,
    log: Path | None = None,
    env: dict[str, str] | None = None,
) -> None:
    out = subprocess.run(command, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        detail = (out.stderr or out.stdout).strip().splitlines()[-1:] or ["no output"]
        if log is not None and log.is_file():
            detail = log.read_text().strip().splitlines()[-1:] or detail
        raise LstmopsError(f"PostgreSQL: {what} failed: {detail[0]}")


def server_command(db_uri: str, artifacts: Path, port: int) -> list[str]:
    """`mlflow server` with `db_uri` as its backend store, serving the artifacts in `artifacts`,
    behind the auth app (its settings come from server_env)."""
    return [
        sys.executable, "-m", "mlflow", "server",
        "--app-name", APP,
        "--backend-store-uri", db_uri,
        "--artifacts-destination", str(artifacts.resolve()),
        "--serve-artifacts",
        "--host", "127.0.0.1",
        "--port", str(port),
    ]  # fmt: skip


def server_env(keys: Path, auth_db_uri: str, db_port: int | None) -> dict[str, str]:
    """The environment of `mlflow server`: the auth app's settings file (no secret in it), the
    first admin's name and password, the Flask secret key, and the database password file."""
    settings = configparser.ConfigParser()
    settings["mlflow"] = {
        "default_permission": "READ",  # every user may read: a reader needs no grant
        "database_uri": auth_db_uri,
        "authorization_function": "mlflow.server.auth:authenticate_request_basic_auth",
        # A login's password hash is checked once a minute per server worker, not on every request
        # (7.3x the time of the same calls on the open server without it: docs/results.md); a
        # password changed or a user deleted reaches the other workers within that minute.
        "auth_cache_ttl_seconds": str(AUTH_CACHE_SECONDS),
    }
    ini = keys / "basic_auth.ini"
    with open(os.open(ini, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        settings.write(f)
    env = {
        **os.environ,
        "MLFLOW_AUTH_CONFIG_PATH": str(ini.resolve()),
        "MLFLOW_AUTH_ADMIN_USERNAME": admin_user(),
        "MLFLOW_AUTH_ADMIN_PASSWORD": os.environ.get(ADMIN_PASSWORD_ENV)
        or secret(keys, "admin-password"),
        "MLFLOW_FLASK_SERVER_SECRET_KEY": secret(keys, "flask-secret-key"),
    }
    if db_port is not None:
        env["PGPASSFILE"] = str(password_file(keys, db_port).resolve())
    return env


def admin_user() -> str:
    return os.environ.get(ADMIN_USER_ENV) or "admin"


def wait_until_up(url: str, process: subprocess.Popen, timeout_s: float = 120) -> None:
    """Wait for the tracking server at `url` to answer its health check."""
    import urllib.request  # only the health check

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
    keys = SERVER_DIR / SECRETS
    own = not os.environ.get(DB_ENV)
    if not own and not os.environ.get(AUTH_DB_ENV):
        raise LstmopsError(
            f"with {DB_ENV} set, set {AUTH_DB_ENV} too: the URI of a second database, where the "
            "auth app keeps users and permissions (its password in PGPASSFILE, not the URI)"
        )
    db = start_postgres(SERVER_DIR / "postgres", db_port, keys) if own else os.environ[DB_ENV]
    auth_db = create_database(db_port, AUTH_DATABASE, keys) if own else os.environ[AUTH_DB_ENV]
    artifacts = SERVER_DIR / "artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    env = server_env(keys, auth_db, db_port if own else None)
    print(f"tracking server on http://127.0.0.1:{port} (backend {db}, artifacts {artifacts})")
    where = (
        ""
        if os.environ.get(ADMIN_PASSWORD_ENV)
        else f" (its first password: {keys}/admin-password)"
    )
    print(f"it asks who you are; the admin is {admin_user()}{where}. Every client sets:")
    print(
        f"  export MLFLOW_TRACKING_URI=http://127.0.0.1:{port} MLFLOW_TRACKING_USERNAME=<you> MLFLOW_TRACKING_PASSWORD=<yours>"
    )
    print("add a user (as the admin): make server-user NAME=<who> ROLE=reader|member|maintainer")
    if own:
        studies = create_database(db_port, TUNE_DATABASE, keys)
        print(
            f"tuning studies shared by every worker: export LSTMOPS_TUNE_STORAGE={studies} "
            f"PGPASSFILE={keys.resolve()}/pgpass"
        )
    process = subprocess.Popen(server_command(db, artifacts, port), env=env)
    try:
        process.wait()
    except KeyboardInterrupt:
        process.terminate()
        process.wait()
    return "the tracking server stopped (PostgreSQL keeps running: `make server-stop` stops it)"


def add_user(name: str, role: str) -> str:
    """Create user `name` on the tracking server (MLFLOW_TRACKING_URI, as the admin that
    MLFLOW_TRACKING_USERNAME/PASSWORD name) if new, and give them `role` (ROLES) in place of any
    other of lstmops's roles."""
    from mlflow.exceptions import MlflowException  # ~2 s: only the server commands that call MLflow
    from mlflow.server import get_app_client  # ~2 s: only the server commands that call MLflow

    from lstmops import tracking  # MLflow's client: only where the server is asked

    if role not in ROLES:
        raise LstmopsError(f"no role {role!r}: use one of {', '.join(ROLES)}")
    uri = tracking.tracking_uri()
    if not uri.startswith(("http://", "https://")):
        raise LstmopsError(
            "users live on a tracking server: set MLFLOW_TRACKING_URI to it (and "
            "MLFLOW_TRACKING_USERNAME/PASSWORD to the admin's login)"
        )
    tracking.check_reachable(uri)
    with warnings.catch_warnings():  # Starlette's deprecation of a module MLflow's server loads
        warnings.simplefilter("ignore")
        client = get_app_client("basic-auth", tracking_uri=uri)
    try:
        client.get_user(name)
        made = "exists"
    except MlflowException as err:
        if err.error_code == "PERMISSION_DENIED":
            raise LstmopsError(
                "only the admin adds users and changes roles: log in as the admin "
                "(MLFLOW_TRACKING_USERNAME/PASSWORD)"
            ) from None
        password = os.environ.get(USER_PASSWORD_ENV) or getpass.getpass(f"password for {name}: ")
        if len(password) < 12:
            raise LstmopsError(
                f"a password of at least 12 characters, please (set {USER_PASSWORD_ENV} or type it)"
            ) from None
        client.create_user(name, password)
        made = "created"
    roles = {r.name: r for r in client.list_roles(WORKSPACE)}
    held = {r.name for r in client.list_user_roles(name)}
    for other in set(ROLES) - {role}:
        if ROLE_PREFIX + other in held:
            client.unassign_role(name, roles[ROLE_PREFIX + other].id)
    if ROLES[role] and ROLE_PREFIX + role not in held:
        mine = roles.get(ROLE_PREFIX + role)
        if mine is None:
            mine = client.create_role(WORKSPACE, ROLE_PREFIX + role, f"lstmops {role}")
            for kind, permission in ROLES[role].items():
                client.add_role_permission(mine.id, kind, "*", permission)
        client.assign_role(name, mine.id)
    return f"user {name} {made}; role {role}: {ROLE_DOES[role]}"


def stop() -> str:
    """Stop the project's PostgreSQL cluster (make server-stop)."""
    stop_postgres(SERVER_DIR / "postgres")
    return "PostgreSQL stopped"
