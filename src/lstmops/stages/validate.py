"""validate: the dataset's Great Expectations suite; JSON + HTML reports; non-zero exit on bad data.

Ingest runs the same checks on the tables it has just parsed, before they may replace the last good
raw data, so a bad source never overwrites good data (`publish` is shared).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from lstmops import layout, tasks
from lstmops import validation as v
from lstmops.config import Dataset, LstmopsError
from lstmops.data.fetch import describe
from lstmops.io import atomic_path, sha256_of, write_json
from lstmops.lineage import SOURCE, closure


def raw_files(raw: Path) -> dict[str, str]:
    """The sha256 of each raw file, by name."""
    return {f.name: sha256_of(f) for f in sorted(raw.iterdir()) if f.is_file()}


def fingerprint(dataset: Dataset, data: dict[str, str]) -> str:
    """What the dataset's suite outcome on raw files `data` depends on (validation.fingerprint),
    with the code that validate runs: the same files as its code deps in dvc.yaml."""
    code = closure(tasks.modules(dataset.task, "validate"))
    return v.fingerprint([SOURCE.parent / path for path in code], dataset, data)


def publish(dataset: Dataset, checks: list, data: dict[str, str], kept: str = "") -> None:
    """Write the JSON and HTML reports on the raw files `data` (raw_files: their sha256); raise,
    naming every failed expectation, if any failed."""
    report = v.report(checks, v.facts(describe(dataset.source), data))
    path = layout.report_file(dataset.name)
    write_json(path, report)
    run_time = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    with atomic_path(path.with_suffix(".html")) as tmp:
        tmp.write_text(v.render_html(dataset.name, report, run_time), encoding="utf-8")
    if not all(c.success for c in checks):
        raise LstmopsError(
            v.failure_message(dataset.name, checks, kept) + f"\nReport: {path.with_suffix('.html')}"
        )


def validate(dataset: Dataset) -> None:
    """The dataset's Great Expectations suite on its raw data; write JSON + HTML reports; fail on
    bad data. Ingest ran the same suite on the same files moments before, as a rule: its kept
    outcome is reported where its fingerprint holds, without importing Great Expectations again."""
    raw = layout.raw_dir(dataset.name)
    files = raw_files(raw)  # hashed once: the fingerprint and the report
    results = v.kept(layout.outcome_file(dataset.name), fingerprint(dataset, files))
    source = "as ingest found them"
    if results is None:  # the raw data, the suite or the settings changed since ingest ran it
        data, checks = tasks.data(dataset, "validate"), tasks.checks(dataset, "validate")
        results, source = checks.check(data.read_raw(raw, dataset), dataset), "run here"
    publish(dataset, results, files)
    print(
        f"validate {dataset.name}: all {len(results)} expectations passed ({source}); "
        f"report {layout.report_file(dataset.name)}"
    )
