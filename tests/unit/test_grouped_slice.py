"""The reviews' validation slice: a seeded share of the reviews, or of whole groups (movies)."""

from __future__ import annotations

import numpy as np
import pytest

from lstmops.config import Dataset, LstmopsError, SentimentSettings, SentimentTrain, Source
from lstmops.tasks.sentiment.train import validation_rows


def _dataset(validation: str) -> Dataset:
    settings = SentimentSettings(train=SentimentTrain(validation=validation))
    return Dataset("reviews", "sentiment", Source(path="data/external/r.csv"), settings)


def test_a_grouped_slice_holds_whole_movies_and_a_random_one_is_the_lectures():
    groups = np.repeat([f"tt{i}" for i in range(50)], 4)
    arrays = {"y_train": np.zeros(200, np.int32), "group_train": groups}
    fit, held = validation_rows(arrays, _dataset("grouped"))
    assert sorted([*fit, *held]) == list(range(200)) and 40 <= len(held) <= 44
    assert not set(groups[held]) & set(groups[fit])  # no validation movie trains
    fit, held = validation_rows(arrays, _dataset("random"))
    assert len(held) == 40 and set(groups[held]) & set(groups[fit])  # movies on both sides


def test_a_grouped_slice_without_groups_says_how_to_get_them():
    arrays = {"y_train": np.zeros(10, np.int32), "group_train": np.array([""] * 10)}
    with pytest.raises(LstmopsError, match="urls files.*`group` column.*random"):
        validation_rows(arrays, _dataset("grouped"))
