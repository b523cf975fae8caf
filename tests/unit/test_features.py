"""Pure feature functions: exact values on small arrays."""

import numpy as np
import pytest

from lstmops import features as f


def test_make_windows_takes_all_columns_and_next_target():
    values = np.arange(12, dtype=float).reshape(6, 2)  # rows [0,1],[2,3],...,[10,11]
    x, y = f.make_windows(values, seq_length=2, target_index=1)
    assert x.shape == (4, 2, 2)
    np.testing.assert_array_equal(x[0], [[0, 1], [2, 3]])
    np.testing.assert_array_equal(x[-1], [[6, 7], [8, 9]])
    np.testing.assert_array_equal(y, [5, 7, 9, 11])


def test_make_windows_needs_more_rows_than_seq_length():
    with pytest.raises(ValueError, match="seq_length 3"):
        f.make_windows(np.zeros((3, 1)), seq_length=3, target_index=0)


def test_chronological_split_counts():
    assert f.train_window_count(725, 0.7) == 507  # the lecture's file: 732 rows, seq_length 7
    assert f.training_rows(507, 7) == 514


def test_scaler_ignores_the_test_period():
    rows = np.array([[1.0, 10], [2, 20], [3, 30], [4, 40], [100, 1000]])
    n_train_rows = f.training_rows(n_train_windows=2, seq_length=2)  # rows 0..3
    scaler = f.fit_scaler(rows[:n_train_rows])
    np.testing.assert_allclose(scaler.data_min_, [1, 10])
    np.testing.assert_allclose(scaler.data_max_, [4, 40])
    changed = rows.copy()
    changed[-1] = [-5, 5000]  # a different test period...
    again = f.fit_scaler(changed[:n_train_rows])  # ...gives the same scaler
    np.testing.assert_array_equal(again.scale_, scaler.scale_)


def test_scaling_round_trip_of_one_column():
    rows = np.array([[1.0, 10], [3, 30], [5, 50]])
    scaler = f.fit_scaler(rows)
    scaled = scaler.transform(rows)
    np.testing.assert_allclose(scaled[:, 1], [0, 0.5, 1])
    np.testing.assert_allclose(f.unscale_column(scaled[:, 1], scaler, 1), [10, 30, 50])


def test_standardize_lowercases_and_drops_breaks_and_punctuation():
    text = "Great movie!<br /><br />It's the BEST, don't miss it... 'Really'."
    assert f.standardize([text]) == ["great movie it's the best don't miss it really"]


def test_vocabulary_from_training_texts_only_with_reserved_indices():
    train = ["good good good film", "good film bad"]
    vocabulary = f.fit_vocabulary(train, num_words=4)
    assert vocabulary == ["", "[UNK]", "good", "film"]
    assert "unseen" not in vocabulary


def test_encode_keeps_last_tokens_and_pads_in_front():
    vocabulary = ["", "[UNK]", "a", "b", "c"]
    encoded = f.encode(["a b c a b", "c", "zzz a", ""], vocabulary, maxlen=3)
    np.testing.assert_array_equal(
        encoded,
        [
            [4, 2, 3],  # last three tokens: c a b
            [0, 0, 4],  # padded at the front
            [0, 1, 2],  # out-of-vocabulary -> 1
            [0, 0, 0],
        ],
    )
    assert encoded.dtype == np.int32
