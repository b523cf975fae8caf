"""Data tests for labelled texts: the real archive reads and passes; a folder laid out like it and
CSV / Parquet tables read the same way; planted faults fail by name."""

import io
import tarfile
from pathlib import Path

import pandas as pd
import pytest

from lstmops.config import LstmopsError
from lstmops.data.reviews import SPLITS, UNSUP, read_archive, read_table
from lstmops.expectations import (
    review_expectations,
    run_suite,
    unsup_expectations,
)
from lstmops.validation import failure_message

from ..conftest import IMDB_ARCHIVE

ROWS = 4  # per split in the planted archives: 2 neg, 2 pos


def _archive(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _good_members() -> dict[str, bytes]:
    members = {}
    for split in ("train", "test"):
        for i in range(2):
            members[f"aclImdb/{split}/neg/{i}_{2 + i}.txt"] = b"A dull, tiresome film.<br />Avoid."
            members[f"aclImdb/{split}/pos/{i}_{8 + i}.txt"] = b"A wonderful film. Loved it!"
    members["aclImdb/train/unsup/0_0.txt"] = b"Not labelled: for pretraining."
    members["aclImdb/train/unsup/1_0.txt"] = b"Another one."
    members["aclImdb/README"] = b"readme"
    return members


def _failures(tables) -> str:
    checks = []
    for split in SPLITS:
        checks += run_suite(tables[split], review_expectations(ROWS, 0.05, ratings=True), split)
    assert not all(c.success for c in checks), "validation should have failed"
    return failure_message("imdb", checks)


def test_small_good_archive_reads_and_passes(tmp_path):
    tables = read_archive(_archive(tmp_path / "a.tar.gz", _good_members()))
    for split in SPLITS:
        table = tables[split]
        assert list(table.columns) == ["id", "rating", "label", "text", "group"]
        assert len(table) == ROWS and sorted(table["label"]) == [0, 0, 1, 1]
        checks = run_suite(table, review_expectations(ROWS, 0.05, ratings=True), split)
        assert all(c.success for c in checks), [c.describe() for c in checks if not c.success]


def test_wrong_label_rating_is_named(tmp_path):
    members = _good_members()
    members["aclImdb/train/neg/1_9.txt"] = members.pop("aclImdb/train/neg/1_3.txt")
    message = _failures(read_archive(_archive(tmp_path / "a.tar.gz", members)))
    expected = "train: expect_column_values_to_be_between(column=rating, row_condition=label==0, "
    assert expected + "min_value=1.0, max_value=4.0) — 1 unexpected value(s), e.g. [9]" in message


def test_empty_review_is_named(tmp_path):
    members = _good_members()
    members["aclImdb/test/pos/0_8.txt"] = b"  \n"
    message = _failures(read_archive(_archive(tmp_path / "a.tar.gz", members)))
    assert "test: expect_column_values_to_not_match_regex(column=text" in message


def test_missing_split_is_named(tmp_path):
    members = {k: v for k, v in _good_members().items() if "/test/" not in k}
    message = _failures(read_archive(_archive(tmp_path / "a.tar.gz", members)))
    assert "test: expect_table_row_count_to_equal(value=4) — observed 0" in message


def test_file_name_without_rating_is_named(tmp_path):
    members = _good_members()
    members["aclImdb/train/pos/1.txt"] = members.pop("aclImdb/train/pos/1_9.txt")
    message = _failures(read_archive(_archive(tmp_path / "a.tar.gz", members)))
    assert "train: expect_column_values_to_not_be_null(column=rating" in message


def test_non_utf8_bytes_are_replaced(tmp_path):
    members = _good_members()
    members["aclImdb/train/pos/0_8.txt"] = b"Caf\xe9 scene was great"
    tables = read_archive(_archive(tmp_path / "a.tar.gz", members))
    assert "Caf\ufffd scene was great" in tables["train"]["text"].tolist()


@pytest.mark.parametrize("cut", [0.5, None])
def test_truncated_or_corrupt_archive_is_a_clear_error(tmp_path, cut):
    data = _archive(tmp_path / "a.tar.gz", _good_members()).read_bytes()
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(data[: int(len(data) * cut)] if cut else b"\x1f\x8b" + b"\x00" * 100)
    with pytest.raises(LstmopsError, match="truncated or corrupt"):
        read_archive(bad)


def test_real_archive_slice_is_balanced_and_valid(mirror):
    tables = read_archive(IMDB_ARCHIVE, max_rows_per_split=200)
    unsup = tables[UNSUP]
    assert unsup["id"].tolist() == list(range(200))  # the lowest ids, unlabelled, unrated
    assert unsup["label"].isna().all() and unsup["rating"].isna().all()
    assert all(c.success for c in run_suite(unsup, unsup_expectations(200), UNSUP))
    for split in SPLITS:
        table = tables[split]
        assert len(table) == 200 and table["label"].sum() == 100
        assert table.groupby("label")["id"].max().tolist() == [
            99,
            99,
        ]  # the lowest ids of each label
        assert all(
            c.success for c in run_suite(table, review_expectations(200, 0.05, ratings=True), split)
        )


def test_a_folder_laid_out_like_the_archive_reads_the_same(tmp_path):
    members = _good_members()
    archive = read_archive(_archive(tmp_path / "a.tar.gz", members))
    for name, data in members.items():
        path = tmp_path / "folder" / name.removeprefix("aclImdb/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    folder = read_archive(tmp_path / "folder")
    for name in (*SPLITS, UNSUP):
        assert folder[name].equals(archive[name])


def _reviews_table(n: int = 40) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Text": [f"review number {i} {'great' if i % 2 else 'awful'}" for i in range(n)],
            "Label": [i % 2 for i in range(n)],
        }
    )


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_a_table_without_split_gets_a_seeded_stratified_test_share(tmp_path, kind):
    path = tmp_path / f"reviews.{kind}"
    table = _reviews_table()
    table.to_csv(path, index=False) if kind == "csv" else table.to_parquet(path)
    tables = read_table(path, kind, None, test_fraction=0.25, seed=42)
    assert (len(tables["train"]), len(tables["test"])) == (30, 10)
    assert tables["test"]["label"].mean() == 0.5  # stratified: 5 of each label
    assert read_table(path, kind, None, 0.25, 42)["test"].equals(tables["test"])  # seeded
    checks = [
        c
        for split in SPLITS
        for c in run_suite(tables[split], review_expectations(None, 0.05, ratings=False), split)
    ]
    assert all(c.success for c in checks), [c.describe() for c in checks if not c.success]


def test_a_split_column_is_kept_and_a_missing_column_is_named(tmp_path):
    table = _reviews_table(8).assign(split=["train"] * 6 + ["test"] * 2)
    table.to_csv(tmp_path / "r.csv", index=False)
    tables = read_table(tmp_path / "r.csv", "csv", None, 0.5, 0)
    assert (len(tables["train"]), len(tables["test"])) == (6, 2)
    table.drop(columns="Label").to_csv(tmp_path / "r.csv", index=False)
    with pytest.raises(LstmopsError, match="no label column"):
        read_table(tmp_path / "r.csv", "csv", None, 0.5, 0)


def test_unlabelled_reviews_are_a_third_table_never_mixed_with_test(tmp_path):
    tables = read_archive(_archive(tmp_path / "a.tar.gz", _good_members()))
    unsup = tables[UNSUP]
    assert unsup["text"].tolist() == ["Not labelled: for pretraining.", "Another one."]
    assert unsup["label"].isna().all() and unsup["rating"].isna().all()
    assert all(c.success for c in run_suite(unsup, unsup_expectations(2), UNSUP))
    assert not set(unsup["text"]) & set(tables["test"]["text"])


def test_unlabelled_table_expectations_catch_labels_blanks_and_repeats(tmp_path):
    unsup = read_archive(_archive(tmp_path / "a.tar.gz", _good_members()))[UNSUP]
    bad = unsup.assign(label=pd.array([1, None], "Int64"), text=["  ", "x"], id=[3, 3])
    failed = {
        c.expectation for c in run_suite(bad, unsup_expectations(None), UNSUP) if not c.success
    }
    assert failed == {
        "expect_column_values_to_be_null",
        "expect_column_values_to_not_match_regex",
        "expect_column_values_to_be_unique",
    }
    count = run_suite(unsup, unsup_expectations(5), UNSUP)
    assert [c.detail for c in count if not c.success] == ["observed 2"]


def test_a_table_may_hold_unlabelled_texts_and_without_any_has_an_empty_third_table(tmp_path):
    table = _reviews_table(8).assign(split=["train"] * 4 + ["test"] * 2 + ["unsup"] * 2)
    table.to_csv(tmp_path / "r.csv", index=False)
    tables = read_table(tmp_path / "r.csv", "csv", None, 0.5, 0)
    assert [len(tables[n]) for n in ("train", "test", UNSUP)] == [4, 2, 2]
    assert tables[UNSUP]["label"].isna().all()  # the given labels are not kept
    _reviews_table(8).to_csv(tmp_path / "r.csv", index=False)
    empty = read_table(tmp_path / "r.csv", "csv", None, 0.5, 0)[UNSUP]
    assert len(empty) == 0
    assert all(c.success for c in run_suite(empty, unsup_expectations(None), UNSUP))


@pytest.mark.parametrize("column", ["label", "text", "id", "rating"])
def test_a_blank_in_a_required_column_is_named(tmp_path, column):
    """Value-set and mean expectations skip nulls: each required column has a not-null of its own
    (a blank label used to pass validation and fail inside scikit-learn in preprocess)."""
    train = read_archive(_archive(tmp_path / "a.tar.gz", _good_members()))["train"]
    train[column] = train[column].astype(object)
    train.loc[1, column] = None
    message = failure_message(
        "imdb", run_suite(train, review_expectations(ROWS, 0.05, ratings=True), "train")
    )
    assert f"expect_column_values_to_not_be_null(column={column}) — 1 unexpected" in message


def test_each_review_gets_its_movie_from_the_urls_files(tmp_path):
    """aclImdb/<split>/urls_<label>.txt: line i is the page of review i's movie (what a validation
    slice grouped by movie keeps together); a review past the file's end has none."""
    members = _good_members()
    page = "http://www.imdb.com/title/{}/usercomments\n"
    members["aclImdb/train/urls_neg.txt"] = (page.format("tt01") + page.format("tt02")).encode()
    members["aclImdb/train/urls_pos.txt"] = page.format("tt01").encode()
    members["aclImdb/train/urls_unsup.txt"] = (page.format("tt07") * 2).encode()
    tables = read_archive(_archive(tmp_path / "a.tar.gz", members))
    train = tables["train"]
    assert train[train["label"] == 0]["group"].tolist() == ["tt01", "tt02"]
    assert train[train["label"] == 1]["group"].fillna("none").tolist() == ["tt01", "none"]
    assert tables[UNSUP]["group"].tolist() == ["tt07", "tt07"]
    assert tables["test"]["group"].isna().all()  # no urls files for it: no groups
