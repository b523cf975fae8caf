"""ingest: fetch the source (mirror or URL, checksum verified) and parse it into data/raw/."""

from __future__ import annotations

from lstmops import config as cfg
from lstmops.config import Params
from lstmops.io import atomic_path


def ingest(dataset: str, params: Params) -> None:
    """Fetch the source (mirror or URL, checksum verified) and parse it into data/raw/<dataset>/."""
    from lstmops.data.fetch import fetch

    if dataset == "stock":
        from lstmops.data import stock

        source = fetch(params.stock.source)
        table = stock.parse_prices(source.read_text(encoding="utf-8"))
        with atomic_path(cfg.raw_dir(dataset)) as out:
            out.mkdir()
            table.to_csv(out / stock.RAW_FILE, index=False)
    else:
        from lstmops.data import imdb

        source = fetch(params.imdb.source)
        tables = imdb.read_archive(source, params.imdb.ingest.max_rows_per_split)
        with atomic_path(cfg.raw_dir(dataset)) as out:
            out.mkdir()
            for split, table in tables.items():
                table.to_parquet(out / imdb.split_file(split), index=False)
    print(f"ingest {dataset}: read {source}, wrote {cfg.raw_dir(dataset)}")
