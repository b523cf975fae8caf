"""validate: the dataset's Great Expectations suite; JSON + HTML reports; non-zero exit on bad data.

Ingest runs the same checks on the table it has just parsed, before that table may replace the last
good raw data, so a bad source never overwrites good data (`check_raw`, `publish`).
"""

from __future__ import annotations

from pathlib import Path

from lstmops import config as cfg
from lstmops.config import LstmopsError, Params
from lstmops.io import atomic_path, write_json
from lstmops.stages import require


def check_raw(dataset: str, raw: Path, params: Params) -> list:
    """The dataset's expectations on the raw tables in `raw`, as validation.Check results."""
    from lstmops import validation as v

    if dataset == "imdb":
        from lstmops.data import imdb

        p = params.imdb.validate_
        suite = v.imdb_expectations(p.rows_per_split, p.balance_tolerance)
        return [
            check
            for split in imdb.SPLITS
            for check in v.run_suite(imdb.read_split(raw, split), suite, split)
        ]
    from lstmops.data import stock

    table = stock.read_prices(require(raw / stock.RAW_FILE, "ingest", dataset))
    return v.run_suite(table, v.stock_expectations(), dataset)


def publish(dataset: str, checks: list, kept: str = "") -> None:
    """Write the JSON and HTML reports; raise, naming every failed expectation, if any failed."""
    from lstmops import validation as v

    path = cfg.report_file(dataset)
    write_json(path, v.report(checks))
    with atomic_path(path.with_suffix(".html")) as tmp:
        tmp.write_text(v.render_html(dataset, checks), encoding="utf-8")
    if not all(c.success for c in checks):
        raise LstmopsError(
            v.failure_message(dataset, checks, kept) + f"\nReport: {path.with_suffix('.html')}"
        )


def validate(dataset: str, params: Params) -> None:
    """Run the dataset's Great Expectations suite; write JSON + HTML reports; fail on bad data."""
    checks = check_raw(dataset, cfg.raw_dir(dataset), params)
    publish(dataset, checks)
    print(
        f"validate {dataset}: all {len(checks)} expectations passed; "
        f"report {cfg.report_file(dataset)}"
    )
