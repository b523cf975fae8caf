"""Pure feature functions: exact values on small arrays."""

import numpy as np
import pytest

from lstmops import features as f
from lstmops.config import ForecastPreprocess

CLOSE = 4  # the target's column among the lecture's five features


def test_make_windows_takes_all_columns_and_next_target():
    values = np.arange(12, dtype=float).reshape(6, 2)  # rows [0,1],[2,3],...,[10,11]
    x, y = f.make_windows(values, seq_length=2, target_index=1)
    assert x.shape == (4, 2, 2)
    np.testing.assert_array_equal(x[0], [[0, 1], [2, 3]])
    np.testing.assert_array_equal(x[-1], [[6, 7], [8, 9]])
    np.testing.assert_array_equal(y, [[5], [7], [9], [11]])
    # a horizon of 2: each window's next two targets, one window fewer
    x, y = f.make_windows(values, seq_length=2, target_index=1, horizon=2)
    np.testing.assert_array_equal(y, [[5, 7], [7, 9], [9, 11]])
    assert len(x) == 3


def test_make_windows_needs_more_rows_than_seq_length():
    with pytest.raises(ValueError, match="seq_length 3"):
        f.make_windows(np.zeros((3, 1)), seq_length=3, target_index=0)


def test_chronological_split_counts():
    assert f.train_window_count(725, 0.7) == 507  # the lecture's file: 732 rows, seq_length 7
    assert f.training_rows(507, 7) == 514
    assert f.split_windows(732, ForecastPreprocess()) == (507, 218)


@pytest.mark.parametrize(
    "rows,settings",
    [(10, {}), (732, {"seq_length": 700}), (732, {"train_fraction": 0.99}), (8, {"seq_length": 7})],
)
def test_too_short_a_test_period_names_the_settings(rows, settings):
    with pytest.raises(
        ValueError, match=r"seq_length=\d+ and train_fraction=.* rows.*min_test_windows=30"
    ):
        f.split_windows(rows, ForecastPreprocess(**settings))


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


def _prices(rows: int = 40) -> np.ndarray:
    """Rows of Open, High, Low, Volume, Close on a gentle random walk (all positive)."""
    close = 100 + np.cumsum(np.random.default_rng(0).normal(0, 1, rows))
    return np.column_stack([close - 0.5, close + 1, close - 1, np.full(rows, 1000.0), close])


def _preprocess(**settings) -> ForecastPreprocess:
    return ForecastPreprocess(seq_length=3, **settings)


@pytest.mark.parametrize("predict", ["level", "change", "return"])
def test_targets_invert_to_the_next_close(predict):
    previous, following = np.array([10.0, 20, 40]), np.array([11.0, 18, 40])
    target = f.as_target(previous, following, predict)
    np.testing.assert_allclose(f.to_price(target, previous, predict), following)


def test_return_inputs_are_day_over_day_changes_within_a_window():
    windows = np.array([[[100.0, 10], [110, 5], [99, 10]]])
    np.testing.assert_allclose(f.as_inputs(windows, "return"), [[[0.1, -0.5], [-0.1, 1.0]]])
    assert f.as_inputs(windows, "level") is windows


def test_level_arrays_are_the_lectures_min_max_scaled_columns():
    values = _prices()
    arrays, scaling = f.price_arrays(values, 20, _preprocess(), CLOSE)
    lecture = f.fit_scaler(values[: f.training_rows(20, 3)]).transform(values)
    x, y = f.make_windows(lecture, 3, 4)
    np.testing.assert_allclose(arrays["x_train"], x[:20], rtol=1e-6)
    np.testing.assert_allclose(arrays["y_test"], y[20:], rtol=1e-6)
    np.testing.assert_allclose(
        scaling.prices(arrays["y_test"], arrays["previous_test"]), arrays["actual_test"][:, 0]
    )


@pytest.mark.parametrize("inputs,predict", [("level", "change"), ("return", "return")])
def test_scaled_targets_map_back_to_dollars(inputs, predict):
    values = _prices()
    arrays, scaling = f.price_arrays(values, 20, _preprocess(inputs=inputs, predict=predict), CLOSE)
    close = values[:, 4]
    # by hand: the target series of the 23 training rows, min-max scaled
    change = np.diff(close[:23]) if predict == "change" else close[1:23] / close[:22] - 1
    low, high = change.min(), change.max()
    following, previous = close[23:], close[22:-1]
    expected = (following - previous) if predict == "change" else following / previous - 1
    np.testing.assert_allclose(arrays["y_test"][:, 0], (expected - low) / (high - low), rtol=1e-5)
    np.testing.assert_allclose(
        scaling.prices(arrays["y_test"], arrays["previous_test"]), following, rtol=1e-5
    )
    # raw test windows, as a client sends them, give exactly the model's test inputs
    np.testing.assert_array_equal(scaling.model_inputs(arrays["windows_test"]), arrays["x_test"])
    assert arrays["x_test"].shape[1] == (3 if inputs == "level" else 2)


@pytest.mark.parametrize("predict", ["change", "return"])
def test_no_change_output_is_persistence(predict):
    values = _prices()
    _, scaling = f.price_arrays(values, 20, _preprocess(inputs="return", predict=predict), CLOSE)
    today = values[30:33, 4]
    np.testing.assert_allclose(scaling.prices(np.full(3, scaling.no_change()), today), today)


def test_shrink_factor_is_least_squares_through_the_center_within_0_and_1():
    predicted = np.array([1.0, -2.0, 3.0, -1.0]) + 5
    assert f.shrink_factor(5 + 0.3 * (predicted - 5), predicted, 5) == pytest.approx(0.3)
    assert f.shrink_factor(5 - (predicted - 5), predicted, 5) == 0  # wrong way round: persistence
    assert f.shrink_factor(5 + 4 * (predicted - 5), predicted, 5) == 1  # never amplified
    assert f.shrink_factor(predicted, np.full(4, 5.0), 5) == 0  # predictions that never move


@pytest.mark.parametrize("inputs,predict", [("level", "level"), ("return", "change")])
def test_scalers_never_see_the_test_period(inputs, predict):
    values = _prices()
    first_test_row = f.training_rows(20, 3)  # 20 training windows of 3 days touch rows 0..22
    changed = values.copy()
    changed[first_test_row] *= 3  # only the first test row: a one-row leak would show
    settings = _preprocess(inputs=inputs, predict=predict)
    a, scaling_a = f.price_arrays(values, 20, settings, CLOSE)
    b, scaling_b = f.price_arrays(changed, 20, settings, CLOSE)
    for scaler in ("input_scaler", "target_scaler"):
        np.testing.assert_array_equal(
            getattr(scaling_a, scaler).data_max_, getattr(scaling_b, scaler).data_max_
        )
    np.testing.assert_array_equal(a["x_train"], b["x_train"])  # training is untouched...
    np.testing.assert_array_equal(a["y_train"], b["y_train"])
    assert not np.array_equal(a["y_test"], b["y_test"])  # ...while the test period did change


def test_fold_bounds_expand_over_consecutive_blocks():
    assert f.fold_bounds(100, 0.5, 3) == [(50, 67), (67, 83), (83, 100)]
    with pytest.raises(ValueError, match="too few"):
        f.fold_bounds(10, 0.9, 3)


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
    encoded = f.encode(["a b c a b", "c", "zzz a", ""], f.token_lookup(vocabulary), maxlen=3)
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


def test_token_ids_are_keras_text_vectorizations():
    """The dictionary look-up gives the ids Keras's TextVectorization gave (training used it)."""
    from keras.layers import TextVectorization

    texts = f.standardize(
        [
            "It's a <br />GREAT film!!",
            "Don't   watch\u00a0it: 1/10",
            "naïve, café-style",
            "zzz",
            "a",
        ]
    )
    vocabulary = f.fit_vocabulary(texts[:3], num_words=8)
    layer = TextVectorization(
        vocabulary=vocabulary, standardize=None, split="whitespace", ragged=True
    )
    expected = layer(np.asarray(texts, dtype=object)).to_list()
    got = f.token_ids(texts, f.token_lookup(vocabulary))
    assert [ids.tolist() for ids in got] == expected
    assert all(ids.dtype == np.int32 for ids in got)


def test_language_model_pieces_target_the_next_word_and_cap_what_is_predicted():
    texts = [np.array([2, 3, 4]), np.array([5, 9, 2, 6, 7])]  # one stream: 2 3 4 5 9 2 6 7
    x, y = f.language_model_pieces(texts, seq_length=3, output_words=8)
    assert x.tolist() == [[2, 3, 4], [5, 9, 2]]  # 7 words left after the first: two pieces of 3
    assert y.tolist() == [[3, 4, 5], [1, 2, 6]]  # 9 is not among the 8 predicted: out of vocabulary
    with pytest.raises(ValueError, match="too few"):
        f.language_model_pieces([np.array([2, 3])], seq_length=3, output_words=8)


def test_reading_order_is_seeded_whole_passes_then_a_part():
    order = f.reading_order(10, epochs=2.5, seed=1)
    assert len(order) == 25
    assert sorted(order[:10]) == sorted(order[10:20]) == list(range(10))  # each pass reads all
    assert len(set(order[20:])) == 5 and order[:10].tolist() != order[10:20].tolist()
    assert order.tolist() == f.reading_order(10, 2.5, seed=1).tolist()
    assert len(f.reading_order(10, epochs=0.01, seed=1)) == 1  # at least one piece


def _front_padded(lengths: list[int], width: int) -> np.ndarray:
    x = np.zeros((len(lengths), width), dtype=np.int32)
    for row, n in enumerate(lengths):
        x[row, width - n :] = 2 + row % 7
    return x


def test_lengths_count_the_tokens_of_front_padded_rows():
    np.testing.assert_array_equal(f.lengths(_front_padded([3, 0, 10], 10)), [3, 0, 10])


def test_length_batches_hold_every_row_once_and_rows_of_similar_length():
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 500, 5000)
    batches = f.length_batches(lengths, 32, seed=42, epoch=0)
    np.testing.assert_array_equal(np.sort(np.concatenate(batches)), np.arange(5000))
    kept = sum(f.batch_width(lengths[rows]) * len(rows) for rows in batches)
    assert kept < 0.6 * 500 * 5000  # padded to maxlen, every row would cost 500 steps
    assert kept < 1.1 * (lengths.sum() + f.WIDTH_STEP * 5000)  # nearly only the words
    again = f.length_batches(lengths, 32, seed=42, epoch=0)
    assert all((a == b).all() for a, b in zip(batches, again, strict=True))
    other = f.length_batches(lengths, 32, seed=42, epoch=1)
    assert not all((a == b).all() for a, b in zip(batches, other, strict=True))


def test_validation_batches_are_sorted_and_the_first_two_differ_in_width():
    lengths = np.array([5] * 64 + [40] * 64 + [3] * 10)
    batches = f.length_batches(lengths, 32, seed=None)
    widths = [f.batch_width(lengths[rows]) for rows in batches]
    assert widths[0] != widths[1]  # Keras takes the first two batches' shapes for all
    assert sorted(np.concatenate(batches).tolist()) == list(range(len(lengths)))
    assert f.batch_width(np.array([1])) == f.WIDTH_STEP and f.batch_width(np.array([17])) == 32
