"""Ingest's kept outcome: validate reports it only where what it was found on still holds."""

from __future__ import annotations

import subprocess
import sys

from lstmops import validation as v

CHECKS = [v.Check("stock", "expect_column_values_to_not_be_null", {"column": "Close"}, True, "ok")]


def test_kept_outcome_is_returned_only_for_its_fingerprint(tmp_path):
    code = tmp_path / "suite.py"
    code.write_text("SUITE = 1\n")
    data = {"prices.csv": "ab" * 32}
    before = v.fingerprint([code], "stock settings", data)
    path = tmp_path / "outcome.json"
    assert v.kept(path, before) is None  # none kept
    v.keep(path, CHECKS, before)
    assert v.kept(path, before) == CHECKS
    code.write_text("SUITE = 2\n")
    changed = [
        v.fingerprint([code], "stock settings", data),  # the suite's code
        v.fingerprint([], "stock settings", data),
        v.fingerprint([code], "other settings", data),  # the dataset's source or settings
        v.fingerprint([code], "stock settings", {"prices.csv": "cd" * 32}),  # the raw data
    ]
    assert len({before, *changed}) == 5
    assert all(v.kept(path, other) is None for other in changed)


def test_great_expectations_loads_without_the_optional_backends_which_stay_importable():
    """A pandas table needs neither PySpark nor SQLAlchemy: GX is imported without them (0.5 s of
    each ingest), and the process can still import them afterwards."""
    code = (
        "import sys, lstmops.expectations as ex; "
        "assert not set(ex.OPTIONAL_BACKENDS) & set(sys.modules), sorted(sys.modules); "
        "import sqlalchemy; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]
