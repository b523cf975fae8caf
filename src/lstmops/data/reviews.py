"""Labelled texts: the Stanford Large Movie Review Dataset v1.0 read straight from its .tar.gz (no
unpacking) or from a folder laid out like it, or a CSV / Parquet table of `text` and `label`.

Every reader gives one table per split (train, test) of id, rating (missing where the source has
none), label (0 negative, 1 positive) and text.
"""

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
_MEMBER = re.compile(r"^(?:aclImdb/)?(train|test)/(pos|neg)/(\d+)(?:_(\d+))?\.txt$")


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


def _folder_reviews(folder: Path, keep_ids_below: int | None) -> Iterator[tuple[str, dict]]:
    """Yield (split, row) for every review file of an aclImdb-style folder."""
    for path in sorted(folder.rglob("*.txt")):
        match = _MEMBER.match(path.relative_to(folder).as_posix())
        if not match:
            continue
        split, label, review_id, rating = match.groups()
        if keep_ids_below is not None and int(review_id) >= keep_ids_below:
            continue
        yield (
            split,
            {
                "id": int(review_id),
                "rating": int(rating) if rating else None,
                "label": LABELS[label],
                "text": path.read_bytes().decode("utf-8", errors="replace"),
            },
        )


def read_archive(archive: Path, max_rows_per_split: int | None = None) -> dict[str, pd.DataFrame]:
    """Read the labelled train and test reviews of the .tar.gz (or of an aclImdb-style folder) into
    one table per split, sorted by (label, id).

    `max_rows_per_split` keeps the reviews with the lowest ids, half of them of each label.
    """
    keep_below = None if max_rows_per_split is None else -(-max_rows_per_split // 2)
    rows: dict[str, list[dict]] = {split: [] for split in SPLITS}
    reviews = _folder_reviews if archive.is_dir() else _reviews
    try:
        for split, row in reviews(archive, keep_below):
            rows[split].append(row)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as err:
        raise LstmopsError(
            f"{archive} is not a readable .tar.gz archive ({err}): it is truncated or corrupt. "
            "Fetch it again from the canonical source (or replace the mirror copy)."
        ) from None
    if archive.is_dir() and not any(rows.values()):
        raise LstmopsError(
            f"{archive} holds no reviews laid out as train|test/pos|neg/<id>[_<rating>].txt."
        )
    return _tables(rows, max_rows_per_split, keep_below)


def _tables(
    rows: dict[str, list[dict]], max_rows_per_split: int | None, keep_below: int | None
) -> dict[str, pd.DataFrame]:
    tables = {}
    for split, split_rows in rows.items():
        table = pd.DataFrame(split_rows, columns=list(COLUMNS)).astype({"rating": "Int64"})
        table = table.sort_values(["label", "id"], kind="stable").reset_index(drop=True)
        if max_rows_per_split is not None:
            table = table.groupby("label", group_keys=False).head(keep_below)
            table = table.head(max_rows_per_split).reset_index(drop=True)
        tables[split] = table
    return tables


def read_table(
    path: Path, kind: str, max_rows_per_split: int | None, test_fraction: float, seed: int
) -> dict[str, pd.DataFrame]:
    """A CSV or Parquet table of `text` and `label` (0/1), and optionally `split` (train/test) and
    `id`; without `split`, a seeded stratified `test_fraction` of each label is the test split."""
    try:
        table = (
            pd.read_parquet(path) if kind == "parquet" else pd.read_csv(path, dtype={"text": str})
        )
    except (ValueError, OSError, pd.errors.ParserError) as err:
        raise LstmopsError(f"{path} is not a readable {kind.upper()} table ({err}).") from None
    table.columns = [str(c).strip().lower() for c in table.columns]
    missing = [c for c in ("text", "label") if c not in table.columns]
    if missing:
        raise LstmopsError(
            f"{path} has no {' or '.join(missing)} column (its columns: {', '.join(table.columns)}): "
            "a reviews table needs `text` and `label` (0 negative, 1 positive), and may have "
            "`split` (train/test)."
        )
    if "id" not in table.columns:
        table["id"] = range(len(table))
    if "split" not in table.columns:
        test = table.groupby("label", group_keys=False).sample(
            frac=test_fraction, random_state=seed
        )
        table["split"] = "train"
        table.loc[test.index, "split"] = "test"
    unknown = sorted(set(table["split"].astype(str)) - set(SPLITS))
    if unknown:
        raise LstmopsError(f"{path}: split must be train or test, found {', '.join(unknown)}.")
    table["rating"] = pd.array(
        table["rating"] if "rating" in table else [None] * len(table), "Int64"
    )
    table["text"] = table["text"].astype(object).where(table["text"].notna(), None)
    rows = {
        split: table[table["split"] == split][list(COLUMNS)].to_dict("records") for split in SPLITS
    }
    keep_below = None if max_rows_per_split is None else -(-max_rows_per_split // 2)
    return _tables(rows, max_rows_per_split, keep_below)


def read_split(directory: Path, split: str) -> pd.DataFrame:
    path = directory / split_file(split)
    if not path.is_file():
        raise LstmopsError(f"{path} is missing: run the ingest stage first (dvc repro).")
    return pd.read_parquet(path)
