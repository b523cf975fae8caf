"""The team server's secrets and settings, without starting it (tests/e2e/test_team.py starts it)."""

from __future__ import annotations

import configparser
import stat

import pytest

from lstmops import server
from lstmops.config import LstmopsError


def test_a_secret_is_made_once_and_readable_by_its_owner_only(tmp_path):
    keys = tmp_path / "secrets"
    first = server.secret(keys, "admin-password")
    assert len(first) >= 32 and server.secret(keys, "admin-password") == first
    assert server.secret(keys, "other") != first
    assert stat.S_IMODE((keys / "admin-password").stat().st_mode) == 0o600
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700


def test_the_password_file_names_the_cluster_and_holds_the_password(tmp_path):
    path = server.password_file(tmp_path, 5433)
    password = server.secret(tmp_path, "postgres-password")
    assert path.read_text() == f"127.0.0.1:5433:*:postgres:{password}\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # libpq ignores a file others can read


def test_the_servers_settings_file_holds_no_secret(tmp_path, monkeypatch):
    monkeypatch.delenv(server.ADMIN_PASSWORD_ENV, raising=False)
    monkeypatch.setenv(server.ADMIN_USER_ENV, "lead")
    env = server.server_env(tmp_path, "postgresql://postgres@127.0.0.1:5433/mlflow_auth", 5433)
    settings = configparser.ConfigParser()
    settings.read(env["MLFLOW_AUTH_CONFIG_PATH"])
    assert settings["mlflow"]["default_permission"] == "READ"
    text = (tmp_path / "basic_auth.ini").read_text()
    assert env["MLFLOW_AUTH_ADMIN_USERNAME"] == "lead"
    for key in ("MLFLOW_AUTH_ADMIN_PASSWORD", "MLFLOW_FLASK_SERVER_SECRET_KEY"):
        assert len(env[key]) >= 32 and env[key] not in text
    assert env["PGPASSFILE"].endswith("pgpass")
    monkeypatch.setenv(server.ADMIN_PASSWORD_ENV, "chosen-by-the-lead")
    assert (
        server.server_env(tmp_path, "x", None)["MLFLOW_AUTH_ADMIN_PASSWORD"] == "chosen-by-the-lead"
    )


@pytest.mark.parametrize(
    ("rule", "refused"),
    [
        ("host all all 127.0.0.1/32 trust", True),
        ("local all all trust", True),
        ("host all all 127.0.0.1/32 scram-sha-256", False),
        ("# host all all 0.0.0.0/0 trust", False),  # a comment
    ],
)
def test_a_cluster_that_trusts_anyone_is_refused(tmp_path, rule, refused):
    (tmp_path / "pg_hba.conf").write_text(f"{rule}\nlocal all all scram-sha-256\n")
    if refused:
        with pytest.raises(LstmopsError, match="lets anyone on this host in"):
            server._refuse_trust(tmp_path)
    else:
        server._refuse_trust(tmp_path)


def test_a_role_that_is_not_one_of_ours_is_refused_before_any_request():
    with pytest.raises(
        LstmopsError, match="no role 'owner': use one of reader, member, maintainer"
    ):
        server.add_user("ann", "owner")
