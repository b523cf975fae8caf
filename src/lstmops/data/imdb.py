"""The Stanford Large Movie Review Dataset v1.0, read straight from its .tar.gz (no unpacking)."""

from __future__ import annotations

import re
import tarfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from lstmops.config import LstmopsError

SPLITS = ("train", "test")
LABELS = {"neg": 0, "pos": 1}
COLUMNS = ("id", "rating", "label", "text")
# aclImdb/<split>/<pos|neg>/<id>_<rating>.txt; a name without a rating is kept (rating missing) so
# that validation can name it rather than the file silently vanishing.
_MEMBER = re.compile(r"^aclImdb/(train|test)/(pos|neg)/(\d+)(?:_(\d+))?\.txt$")


def split_file(split: str) -> str:
    return f"{split}.parquet"


def _reviews(archive: Path, keep_ids_below: int | None) -> Iterator[tuple[str, dict]]:
    """Yield (split, row) for every labelled review in the archive, in archive order."""
    with (
        tarfile.open(archive, mode="r:gz") as tar,
        tqdm(desc=f"read {archive.name}", unit=" files") as bar,
    ):
        for member in tar:
            bar.update()
            match = _MEMBER.match(member.name)
            if not match or not member.isfile():
                continue
            split, label, review_id, rating = match.groups()
            if keep_ids_below is not None and int(review_id) >= keep_ids_below:
                continue
            raw = tar.extractfile(member).read()
            yield (
                split,
                {
                    "id": int(review_id),
                    "rating": int(rating) if rating else None,
                    "label": LABELS[label],
                    # Non-UTF-8 bytes are replaced (U+FFFD), not rejected: one bad byte in 50,000
                    # reviews should not stop the pipeline, and the rest of the review is still usable.
                    "text": raw.decode("utf-8", errors="replace"),
                },
            )


def read_archive(archive: Path, max_rows_per_split: int | None = None) -> dict[str, pd.DataFrame]:
    """Read the labelled train and test reviews into one table per split, sorted by (label, id).

    `max_rows_per_split` keeps the reviews with the lowest ids, half of them of each label.
    """
    keep_below = None if max_rows_per_split is None else -(-max_rows_per_split // 2)
    rows: dict[str, list[dict]] = {split: [] for split in SPLITS}
    try:
        for split, row in _reviews(archive, keep_below):
            rows[split].append(row)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as err:
        raise LstmopsError(
            f"{archive} is not a readable .tar.gz archive ({err}): it is truncated or corrupt. "
            "Fetch it again from the canonical source (or replace the mirror copy)."
        ) from None
    tables = {}
    for split, split_rows in rows.items():
        table = pd.DataFrame(split_rows, columns=list(COLUMNS)).astype({"rating": "Int64"})
        table = table.sort_values(["label", "id"], kind="stable").reset_index(drop=True)
        if max_rows_per_split is not None:
            table = table.groupby("label", group_keys=False).head(keep_below)
            table = table.head(max_rows_per_split).reset_index(drop=True)
        tables[split] = table
    return tables


def read_split(directory: Path, split: str) -> pd.DataFrame:
    path = directory / split_file(split)
    if not path.is_file():
        raise LstmopsError(
            f"{path} is missing: run the ingest stage first (dvc repro imdb-ingest)."
        )
    return pd.read_parquet(path)
