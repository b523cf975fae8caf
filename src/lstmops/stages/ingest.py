"""ingest: fetch the source (mirror or URL, checksum verified; or a package) into data/raw/.

The parsed tables are checked with the validate stage's expectations before they may replace the
last good raw data: a bad source fails here and leaves data/raw/<dataset> as it was.
"""

from __future__ import annotations

from pathlib import Path

from lstmops import config as cfg
from lstmops.config import LstmopsError, Params
from lstmops.io import atomic_path


def read_text(path: Path) -> str:
    """The file as UTF-8 text, or one clear error naming the file and the encoding expected."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        hint = (
            " (it starts with a UTF-16 byte order mark)"
            if data[:2] in (b"\xff\xfe", b"\xfe\xff")
            else ""
        )
        raise LstmopsError(
            f"{path} is not UTF-8 text{hint}: byte 0x{data[err.start]:02x} at offset {err.start} "
            "cannot be decoded. Save the file as UTF-8 CSV (plain ASCII is fine) and run again."
        ) from None


def _write_stock(dataset: str, params: Params, out: Path) -> str:
    from lstmops.data import stock

    if dataset in cfg.TICKERS:
        from lstmops.data import tickers

        source = tickers.source_version()
        table = tickers.read_ticker(dataset)
    else:
        from lstmops.data.fetch import fetch

        path = fetch(params.stock.source)
        source = str(path)
        # The lecture's file is newest first; the raw table is in time order.
        table = stock.parse_prices(read_text(path)).iloc[::-1]
    table.to_csv(out / stock.RAW_FILE, index=False)
    return source


def _write_imdb(dataset: str, params: Params, out: Path) -> str:
    from lstmops.data import imdb
    from lstmops.data.fetch import fetch

    path = fetch(params.imdb.source)
    for split, table in imdb.read_archive(path, params.imdb.ingest.max_rows_per_split).items():
        table.to_parquet(out / imdb.split_file(split), index=False)
    return str(path)


def ingest(dataset: str, params: Params) -> None:
    """Fetch and parse the source into data/raw/<dataset>/ (time-ordered), if it passes validation."""
    from lstmops.stages.validate import check_raw, publish

    raw = cfg.raw_dir(dataset)
    with atomic_path(raw) as out:
        out.mkdir()
        source = (_write_imdb if dataset == "imdb" else _write_stock)(dataset, params, out)
        checks = check_raw(dataset, out, params)  # as the validate stage will read them
        if not all(c.success for c in checks):
            kept = (
                f"{raw} was not replaced: it still holds the last good data."
                if raw.exists()
                else f"Nothing was written to {raw}."
            )
            publish(dataset, checks, kept)
    print(f"ingest {dataset}: read {source}, {len(checks)} expectations passed, wrote {raw}")
