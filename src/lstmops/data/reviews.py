"""Labelled texts: the Stanford Large Movie Review Dataset v1.0 read straight from its .tar.gz (no
unpacking) or from a folder laid out like it, or a CSV / Parquet table of `text` and `label`.

Every reader gives one table per split (train, test) of id, rating (missing where the source has
none), label (0 negative, 1 positive), text and group (the archive's movie, from its urls files; a
table's `group` column; missing where there is none), and a third table, unsup, of unlabelled texts (the
archive's 50,000 train/unsup reviews; a table's rows whose split is `unsup`): they are for
pretraining only, never mixed with the labelled splits.
"""

from __future__ import annotations

import re
import tarfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from lstmops.config import LstmopsError

SPLITS = ("train", "test")  # the labelled splits
UNSUP = "unsup"  # the unlabelled texts
TABLES = (*SPLITS, UNSUP)
LABELS = {"neg": 0, "pos": 1}
COLUMNS = ("id", "rating", "label", "text", "group")
# aclImdb/<split>/urls_<pos|neg|unsup>.txt: line i is the IMDb page of the movie review i is about.
_URLS = re.compile(r"^(?:aclImdb/)?(train|test)/urls_(pos|neg|unsup)\.txt$")
_MOVIE = re.compile(r"/title/(tt\d+)/")
# aclImdb/<split>/<pos|neg>/<id>_<rating>.txt; a name without a rating is kept (rating missing) so
# that validation can name it rather than the file silently vanishing. aclImdb/train/unsup/<id>_0.txt
# are the unlabelled reviews (0: no rating).
_MEMBER = re.compile(
    r"^(?:aclImdb/)?(?:(train|test)/(pos|neg)|train/(unsup))/(\d+)(?:_(\d+))?\.txt$"
)


def split_file(split: str) -> str:
    return f"{split}.parquet"


def _limit(table: str, max_rows_per_split: int | None) -> int | None:
    """Ids kept below this in `table` when capped: half the cap for each label of a labelled split
    (ids restart at 0 in each label's folder), the whole cap for the unlabelled texts."""
    if max_rows_per_split is None:
        return None
    return max_rows_per_split if table == UNSUP else -(-max_rows_per_split // 2)


def _row(name: str, read: Callable[[], bytes], max_rows: int | None) -> tuple[str, dict] | None:
    """(table, row) for a review file called `name` (read only if it is kept), else None."""
    match = _MEMBER.match(name)
    if not match:
        return None
    split, label, unsup, review_id, rating = match.groups()
    table = unsup or split
    limit = _limit(table, max_rows)
    if limit is not None and int(review_id) >= limit:
        return None
    return (
        table,
        {
            "id": int(review_id),
            "rating": int(rating) if rating and not unsup else None,
            "label": None if unsup else LABELS[label],
            # Non-UTF-8 bytes are replaced (U+FFFD), not rejected: one bad byte in 100,000 reviews
            # should not stop the pipeline, and the rest of the review is still usable.
            "text": read().decode("utf-8", errors="replace"),
            "group": None,
        },
    )


def _movies(
    name: str, read: Callable[[], bytes]
) -> tuple[tuple[str, str], list[str | None]] | None:
    """((table, label folder), each review id's movie) from an urls file called `name`, else
    None: what a validation slice grouped by movie needs (train.validation: grouped)."""
    match = _URLS.match(name)
    if not match:
        return None
    split, label = match.groups()
    lines = read().decode("utf-8", errors="replace").splitlines()
    found = [_MOVIE.search(line) for line in lines]
    return (UNSUP if label == UNSUP else split, label), [m and m.group(1) for m in found]


def _archive_files(archive: Path) -> Iterator[tuple[str, Callable[[], bytes]]]:
    """Yield (name, read) for every file in the archive, in archive order (streamed)."""
    with (
        tarfile.open(archive, mode="r:gz") as tar,
        tqdm(desc=f"read {archive.name}", unit=" files") as bar,
    ):
        for member in tar:
            bar.update()
            if member.isfile():
                yield member.name, lambda m=member: tar.extractfile(m).read()  # type: ignore[union-attr,misc]


def _folder_files(folder: Path) -> Iterator[tuple[str, Callable[[], bytes]]]:
    """Yield (name, read) for every text file of an aclImdb-style folder."""
    for path in sorted(folder.rglob("*.txt")):
        yield path.relative_to(folder).as_posix(), path.read_bytes


def read_archive(archive: Path, max_rows_per_split: int | None = None) -> dict[str, pd.DataFrame]:
    """Read the train, test and unsup reviews of the .tar.gz (or of an aclImdb-style folder) into
    one table each, sorted by (label, id).

    `max_rows_per_split` keeps the reviews with the lowest ids, half of them of each label.
    """
    rows: dict[str, list[dict]] = {table: [] for table in TABLES}
    movies: dict[tuple[str, str], list[str | None]] = {}
    files = _folder_files if archive.is_dir() else _archive_files
    try:
        for name, read in files(archive):
            if found := _row(name, read, max_rows_per_split):
                rows[found[0]].append(found[1])
            elif listed := _movies(name, read):
                movies[listed[0]] = listed[1]
    except (tarfile.TarError, EOFError, zlib.error, OSError) as err:
        raise LstmopsError(
            f"{archive} is not a readable .tar.gz archive ({err}): it is truncated or corrupt. "
            "Fetch it again from the canonical source (or replace the mirror copy)."
        ) from None
    if archive.is_dir() and not any(rows.values()):
        raise LstmopsError(
            f"{archive} holds no reviews laid out as train|test/pos|neg/<id>[_<rating>].txt."
        )
    for table, table_rows in rows.items():  # each review's movie, where the urls files say
        for row in table_rows:
            label = UNSUP if table == UNSUP else ("neg", "pos")[row["label"]]
            movie = movies.get((table, label), [])
            row["group"] = movie[row["id"]] if row["id"] < len(movie) else None
    return _tables(rows, max_rows_per_split)


def _tables(rows: dict[str, list[dict]], max_rows_per_split: int | None) -> dict[str, pd.DataFrame]:
    tables = {}
    for name, table_rows in rows.items():
        table = pd.DataFrame(table_rows, columns=list(COLUMNS)).astype(
            {"rating": "Int64", **({"label": "Int64"} if name == UNSUP else {})}
        )
        table = table.sort_values(["label", "id"], kind="stable").reset_index(drop=True)
        if max_rows_per_split is not None:
            if name != UNSUP:
                table = table.groupby("label", group_keys=False).head(
                    _limit(name, max_rows_per_split)
                )
            table = table.head(max_rows_per_split).reset_index(drop=True)
        tables[name] = table
    return tables


def read_table(
    path: Path, kind: str, max_rows_per_split: int | None, test_fraction: float, seed: int
) -> dict[str, pd.DataFrame]:
    """A CSV or Parquet table of `text` and `label` (0/1), and optionally `split` (train, test, or
    unsup for unlabelled texts), `id` and `group` (what a grouped validation slice keeps
    together: a movie, an author); without `split`, a seeded stratified `test_fraction` of
    each label is the test split."""
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
            "`split` (train, test, or unsup for unlabelled texts)."
        )
    if "id" not in table.columns:
        table["id"] = range(len(table))
    if "split" not in table.columns:
        test = table.groupby("label", group_keys=False).sample(
            frac=test_fraction, random_state=seed
        )
        table["split"] = "train"
        table.loc[test.index, "split"] = "test"
    unknown = sorted(set(table["split"].astype(str)) - set(TABLES))
    if unknown:
        raise LstmopsError(
            f"{path}: split must be train, test or unsup, found {', '.join(unknown)}."
        )
    table["rating"] = pd.array(
        table["rating"] if "rating" in table else [None] * len(table), "Int64"
    )
    table["text"] = table["text"].astype(object).where(table["text"].notna(), None)
    if "group" not in table:  # what a grouped validation slice keeps together (a movie)
        table["group"] = None
    table["group"] = table["group"].astype(object).where(table["group"].notna(), None)
    table["group"] = [None if g is None else str(g) for g in table["group"]]
    rows = {
        name: table[table["split"] == name][list(COLUMNS)].to_dict("records") for name in TABLES
    }
    rows[UNSUP] = [{**row, "label": None} for row in rows[UNSUP]]  # a label there is unused
    return _tables(rows, max_rows_per_split)


def read_split(directory: Path, split: str) -> pd.DataFrame:
    path = directory / split_file(split)
    if not path.is_file():
        raise LstmopsError(f"{path} is missing: run the ingest stage first (dvc repro).")
    return pd.read_parquet(path)
