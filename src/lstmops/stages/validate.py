"""validate: the dataset's Great Expectations suite; JSON + HTML reports; non-zero exit on bad data."""

from __future__ import annotations

from lstmops import config as cfg
from lstmops.config import LstmopsError, Params
from lstmops.io import atomic_path, write_json
from lstmops.stages import require


def validate(dataset: str, params: Params) -> None:
    """Run the dataset's Great Expectations suite; write JSON + HTML reports; fail on bad data."""
    from lstmops import validation as v

    raw = cfg.raw_dir(dataset)
    if dataset == "imdb":
        from lstmops.data import imdb

        p = params.imdb.validate_
        checks = []
        for split in imdb.SPLITS:
            table = imdb.read_split(raw, split)
            checks += v.run_suite(
                table, v.imdb_expectations(p.rows_per_split, p.balance_tolerance), split
            )
    else:
        from lstmops.data import stock

        table = stock.read_prices(require(raw / stock.RAW_FILE, "ingest", dataset))
        p = params.stock.preprocess
        checks = v.run_suite(
            table, v.stock_expectations(v.min_stock_rows(p.seq_length, p.train_fraction)), dataset
        )
    path = cfg.report_file(dataset)
    write_json(path, v.report(checks))
    with atomic_path(path.with_suffix(".html")) as tmp:
        tmp.write_text(v.render_html(dataset, checks), encoding="utf-8")
    if not all(c.success for c in checks):
        raise LstmopsError(
            v.failure_message(dataset, checks) + f"\nReport: {path.with_suffix('.html')}"
        )
    print(f"validate {dataset}: all {len(checks)} expectations passed; report {path}")
