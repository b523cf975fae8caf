"""validate: the dataset's Great Expectations suite; JSON + HTML reports; non-zero exit on bad data.

Ingest runs the same checks on the tables it has just parsed, before they may replace the last good
raw data, so a bad source never overwrites good data (`publish` is shared).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from lstmops import config as cfg
from lstmops import tasks
from lstmops.config import Dataset, LstmopsError
from lstmops.io import atomic_path, sha256_of, write_json


def publish(dataset: Dataset, checks: list, raw: Path, kept: str = "") -> None:
    """Write the JSON and HTML reports on the tables in `raw`; raise, naming every failed
    expectation, if any failed."""
    from lstmops import validation as v
    from lstmops.data.fetch import describe

    data = {f.name: sha256_of(f) for f in sorted(raw.iterdir()) if f.is_file()}
    report = v.report(checks, v.facts(describe(dataset.source), data))
    path = cfg.report_file(dataset.name)
    write_json(path, report)
    run_time = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    with atomic_path(path.with_suffix(".html")) as tmp:
        tmp.write_text(v.render_html(dataset.name, report, run_time), encoding="utf-8")
    if not all(c.success for c in checks):
        raise LstmopsError(
            v.failure_message(dataset.name, checks, kept) + f"\nReport: {path.with_suffix('.html')}"
        )


def validate(dataset: Dataset) -> None:
    """Run the dataset's Great Expectations suite; write JSON + HTML reports; fail on bad data."""
    task = tasks.of(dataset, "validate")
    raw = cfg.raw_dir(dataset.name)
    checks = task.check(task.read_raw(raw, dataset), dataset)
    publish(dataset, checks, raw)
    print(
        f"validate {dataset.name}: all {len(checks)} expectations passed; "
        f"report {cfg.report_file(dataset.name)}"
    )
