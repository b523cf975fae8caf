"""validate: the dataset's Great Expectations suite; JSON + HTML reports; non-zero exit on bad data.

Ingest runs the same checks on the tables it has just parsed, before they may replace the last good
raw data, so a bad source never overwrites good data (`publish` is shared).
"""

from __future__ import annotations

from lstmops import config as cfg
from lstmops import tasks
from lstmops.config import Dataset, LstmopsError
from lstmops.io import atomic_path, write_json


def publish(dataset: Dataset, checks: list, kept: str = "") -> None:
    """Write the JSON and HTML reports; raise, naming every failed expectation, if any failed."""
    from lstmops import validation as v

    path = cfg.report_file(dataset.name)
    write_json(path, v.report(checks))
    with atomic_path(path.with_suffix(".html")) as tmp:
        tmp.write_text(v.render_html(dataset.name, checks), encoding="utf-8")
    if not all(c.success for c in checks):
        raise LstmopsError(
            v.failure_message(dataset.name, checks, kept) + f"\nReport: {path.with_suffix('.html')}"
        )


def validate(dataset: Dataset) -> None:
    """Run the dataset's Great Expectations suite; write JSON + HTML reports; fail on bad data."""
    task = tasks.of(dataset, "validate")
    checks = task.check(task.read_raw(cfg.raw_dir(dataset.name), dataset), dataset)
    publish(dataset, checks)
    print(
        f"validate {dataset.name}: all {len(checks)} expectations passed; "
        f"report {cfg.report_file(dataset.name)}"
    )
