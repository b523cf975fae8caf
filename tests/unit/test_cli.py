"""The CLI: every command has --help, and a user error is a message, not a traceback."""

import subprocess
import sys
from pathlib import Path

import pytest

from lstmops.__main__ import STAGES


@pytest.mark.parametrize("stage", [*STAGES, "model-uri"])
def test_every_command_has_help(stage):
    out = subprocess.run(
        [sys.executable, "-m", "lstmops", stage, "--help"], capture_output=True, text=True
    )
    assert out.returncode == 0
    assert "dataset" in out.stdout and "params.yaml" in out.stdout


def test_unknown_dataset_is_rejected():
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-m", "lstmops", "train", "mnist"],
        capture_output=True,
        text=True,
        cwd=root,
    )
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "no dataset 'mnist' in params.yaml: it declares stock, AAPL" in out.stderr


def test_bad_params_file_is_a_clear_error(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("datasets: [1, 2]\n")
    out = subprocess.run(
        [sys.executable, "-m", "lstmops", "preprocess", "stock", "--params", str(params)],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    assert "error: preprocess stock:" in out.stderr and "stock" in out.stderr


def test_walk_forward_is_for_price_series_only():
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-m", "lstmops", "walkforward", "imdb"],
        capture_output=True,
        text=True,
        cwd=root,
    )
    assert out.returncode == 1
    assert (
        "error: walkforward imdb: imdb is a sentiment dataset, which has no walkforward"
        in out.stderr
    )


def test_server_user_offers_exactly_the_servers_roles():
    """The CLI names the roles itself (every stage process loads it, the server module it need
    not): they must be the server's."""
    import argparse

    from lstmops import server
    from lstmops.__main__ import build_parser

    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    role = next(a for a in commands.choices["server-user"]._actions if a.dest == "role")
    assert tuple(role.choices) == tuple(server.ROLES) and role.default in server.ROLES
