"""What a Great Expectations suite found, in plain data: the checks, the report the validate stage
writes (JSON and HTML), the failure message, and ingest's outcome kept for validate.

A failed expectation stops the pipeline: the validate stage exits non-zero, DVC stops before
preprocess, and the message names each failed expectation. Ingest runs the suite (expectations.py)
before the new data may replace the last good data and keeps its outcome with a fingerprint of what
it depends on; validate reuses it where the fingerprint still holds, so one `dvc repro` imports
Great Expectations once per dataset, not twice.
"""

from __future__ import annotations

import hashlib
import html
import importlib.metadata
from dataclasses import asdict, dataclass
from pathlib import Path

from lstmops.io import read_json, write_json


@dataclass(frozen=True)
class Check:
    """One expectation's outcome on one table, in plain data for JSON, HTML and messages."""

    table: str
    expectation: str
    kwargs: dict
    success: bool
    detail: str

    def arguments(self) -> str:
        """The expectation's arguments as a person writes them: column=Close, value_set=[0, 1]."""
        return ", ".join(f"{k}={_readable(v)}" for k, v in self.kwargs.items())

    def describe(self) -> str:
        return f"{self.table}: {self.expectation}({self.arguments()}) — {self.detail}"


def _readable(value: object) -> str:
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_readable(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_readable(v)}" for k, v in value.items()) + "}"
    return str(value)


def report(checks: list[Check], facts: dict) -> dict:
    """The JSON report: the outcome, what was checked (`facts`: source, data sha256s, GX version)
    and every check. No clock time: the same data give the same file."""
    return {
        "success": all(c.success for c in checks),
        "evaluated": len(checks),
        "passed": sum(c.success for c in checks),
        "failed": sum(not c.success for c in checks),
        **facts,
        "checks": [asdict(c) for c in checks],
    }


def facts(source: dict[str, str], data: dict[str, str]) -> dict:
    """What a report was run on: the source (as data.fetch.describe gives it), the sha256 of each
    raw file validated, and the Great Expectations version."""
    return {"source": source, "data_sha256": data, "great_expectations": _gx_version()}


def _gx_version() -> str:
    return importlib.metadata.version("great_expectations")  # without importing it


def failure_message(dataset: str, checks: list[Check], kept: str = "") -> str:
    """One line per failed expectation; `kept` says what was left as it was, if anything."""
    failed = [c for c in checks if not c.success]
    lines = [f"{dataset}: {len(failed)} of {len(checks)} expectations failed on the raw data:"]
    lines += [f"  - {c.describe()}" for c in failed]
    if kept:
        lines.append(kept)
    lines.append("Fix or replace the source data, then run `dvc repro` again.")
    return "\n".join(lines)


def render_html(dataset: str, report: dict, run_time: str) -> str:
    """A small self-contained HTML page: what was checked and when, the counts, then one row per
    expectation, failures first."""
    checks = sorted(report["checks"], key=lambda c: c["success"])
    rows = "\n".join(
        f"<tr class={'ok' if c['success'] else 'bad'}><td>{'pass' if c['success'] else 'FAIL'}</td>"
        f"<td>{html.escape(c['table'])}</td><td>{html.escape(c['expectation'])}</td>"
        f"<td>{html.escape(Check(**c).arguments())}</td><td>{html.escape(c['detail'])}</td></tr>"
        for c in checks
    )
    status = "passed" if report["success"] else "FAILED"
    about = {
        "run at": run_time,
        **{k.replace("source.", "source "): v for k, v in report["source"].items()},
        **{f"sha256 of {name}": digest for name, digest in report["data_sha256"].items()},
        "Great Expectations": report["great_expectations"],
        "expectations": f"{report['evaluated']}: {report['passed']} passed, "
        f"{report['failed']} failed",
    }
    facts = "\n".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
        for k, v in about.items()
    )
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>{dataset} validation</title>
<style>body{{font-family:sans-serif}}td,th{{padding:2px 8px;border-bottom:1px solid #ddd;
text-align:left}}.ok td:first-child{{color:green}}.bad td:first-child{{color:#b00;font-weight:bold}}
.about th{{font-weight:normal;color:#555}}</style></head>
<body><h1>{dataset}: validation {status}</h1>
<table class=about>{facts}</table>
<h2>Expectations</h2><table><tr><th>result</th><th>table</th>
<th>expectation</th><th>arguments</th><th>detail</th></tr>
{rows}</table></body></html>
"""


def fingerprint(code: list[Path], dataset: object, data: dict[str, str]) -> str:
    """What a suite's outcome depends on: the code that builds and runs it, the dataset (its
    source and settings), the sha256 of each raw file and the Great Expectations version."""
    digest = hashlib.sha256()
    for path in code:
        digest.update(path.read_bytes())
    digest.update(f"{dataset!r}\n{sorted(data.items())}\n{_gx_version()}".encode())
    return digest.hexdigest()


def keep(path: Path, checks: list[Check], fingerprint: str) -> None:
    """Ingest's outcome, for validate: the checks and what they were found on."""
    write_json(path, {"fingerprint": fingerprint, "checks": [asdict(c) for c in checks]})


def kept(path: Path, fingerprint: str) -> list[Check] | None:
    """The outcome ingest kept, if it was found on what `fingerprint` describes; else None (the
    raw data, the suite's code or the settings changed since, or ingest kept none)."""
    if not path.is_file():
        return None
    outcome = read_json(path)
    if outcome.get("fingerprint") != fingerprint:
        return None
    return [Check(**c) for c in outcome["checks"]]
