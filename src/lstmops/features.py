"""Windowing, scaling, text standardisation, vocabulary and padding: pure functions on arrays.

The same functions serve preprocessing and the served model, so training and serving cannot drift.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

import numpy as np

from lstmops.config import ForecastPreprocess, LstmopsError

if TYPE_CHECKING:  # scikit-learn costs ingest, which only counts windows, 0.7 s to import
    from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler

    Scaler: TypeAlias = MinMaxScaler | MaxAbsScaler

# --- prices -----------------------------------------------------------------------------------


def make_windows(
    values: np.ndarray, seq_length: int, target_index: int, horizon: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Windows of `seq_length` consecutive rows (all columns) and the `horizon` rows' target values
    that follow each.

    values: (rows, features) in time order -> X: (n, seq_length, features), y: (n, horizon), where
    n = rows - seq_length - horizon + 1
    """
    n = len(values) - seq_length - horizon + 1
    if n < 1:
        raise ValueError(
            f"seq_length {seq_length} and horizon {horizon} need more than "
            f"{seq_length + horizon - 1} rows, got {len(values)}"
        )
    X = np.stack([values[i : i + seq_length] for i in range(n)])
    y = np.stack(
        [values[seq_length + k : seq_length + k + n, target_index] for k in range(horizon)], 1
    )
    return X, y


SEASONAL_INPUTS = ("seasonal", "seasonal_gap")  # inputs that read a season back
# scaler "window": a window's level is at least this share of the training rows' (all-zero windows)
LEVEL_FLOOR = 0.01


def seasonal_lag(step: int, season: int) -> int:
    """How far back the seasonal naive reaches for the value `step` steps ahead (1 is the next):
    the same period of the latest season already seen."""
    return season * -(-step // season)


def train_window_count(n_windows: int, train_fraction: float) -> int:
    """How many of the first windows train; the rest test (a chronological split)."""
    return int(n_windows * train_fraction)


def lead(p: ForecastPreprocess, season: int | None) -> int:
    """Rows a series' first window starts after, so that every target has the value one season
    before it (the seasonal naive forecast) even where the season is longer than the window, and
    (inputs "seasonal", "seasonal_gap") every row of the window has its own."""
    if p.inputs in SEASONAL_INPUTS:
        return season or 0
    return max((season or 0) - p.seq_length, 0)


def history_rows(p: ForecastPreprocess, season: int | None) -> int:
    """The raw rows a forecast reads: its window, and for predict "seasonal" or seasonal inputs the
    rows before it as far back as `lead`."""
    reaches_back = p.predict == "seasonal" or p.inputs in SEASONAL_INPUTS
    return p.seq_length + (lead(p, season) if reaches_back else 0)


def input_rows(p: ForecastPreprocess, season: int | None) -> int:
    """The raw rows behind a window's model inputs: the window, and for seasonal inputs the season
    before it."""
    return p.seq_length + ((season or 0) if p.inputs in SEASONAL_INPUTS else 0)


def split_windows(n_rows: int, p: ForecastPreprocess, season: int | None = None) -> tuple[int, int]:
    """(training windows, test windows) of a series of `n_rows` rows, or a settings error when the
    test period is shorter than p.min_test_windows: a metric over a handful of days means nothing.

    The test windows are the last ones; with a horizon of h steps the h - 1 windows before them
    neither train nor test, so that no training target is a test period's value."""
    gap = p.horizon - 1
    n_windows = max(n_rows - p.seq_length - lead(p, season) - gap, 0)
    if p.test_periods:
        n_train, split = max(n_windows - p.test_periods, 0), f"test_periods={p.test_periods}"
    else:
        n_train = train_window_count(n_windows, p.train_fraction)
        split = f"train_fraction={p.train_fraction}"
    n_test = n_windows - n_train - gap
    if n_train < 1 or n_test < p.min_test_windows:
        ahead = f", horizon={p.horizon}" if gap else ""
        raise ValueError(
            f"seq_length={p.seq_length}{f', season={season}' if season else ''}{ahead} and "
            f"{split} leave {n_train} training and {max(n_test, 0)} test "
            f"windows from the series' {n_rows} rows, and the test "
            f"period needs at least min_test_windows={p.min_test_windows}. Lower seq_length"
            f"{' or horizon' if gap else ''} or {split.split('=')[0]}, or use a longer series."
        )
    return n_train, n_test


def fold_bounds(n_windows: int, initial_fraction: float, folds: int) -> list[tuple[int, int]]:
    """Expanding-window folds over the first `n_windows` windows: (train_end, test_end) each.

    Fold k trains on windows [0, train_end) and tests on [train_end, test_end); the blocks after
    the initial part are consecutive and about equal.
    """
    start = int(n_windows * initial_fraction)
    if start < 1 or n_windows - start < folds:
        raise ValueError(
            f"{n_windows} windows with initial_fraction {initial_fraction} leave too few for "
            f"{folds} test blocks"
        )
    edges = np.linspace(start, n_windows, folds + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=True)]


def training_rows(n_train_windows: int, seq_length: int) -> int:
    """Rows the training windows touch (inputs and targets): all that a scaler may be fitted on."""
    return n_train_windows + seq_length


def fit_scaler(rows: np.ndarray, kind: str = "minmax") -> Scaler:
    """preprocess.scaler's scaler of each column, fitted on `rows`."""
    from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler  # only the price scalers need it

    return (MinMaxScaler() if kind == "minmax" else MaxAbsScaler()).fit(rows)


def as_inputs(windows: np.ndarray, inputs: str, season: int | None = None) -> np.ndarray:
    """Raw windows (..., days, features) as the model sees them before scaling.

    level: the prices and volumes themselves (the lecture); return: day-over-day relative changes
    inside each window (one step fewer), which look alike in any price range; change: the
    differences; seasonal: each row's change from a season before (a season's rows fewer);
    seasonal_gap: those, and beside them each row's change from the value a season before the row
    after it (at the last row: persistence's forecast less seasonal naive's), so that the model
    sees where the level is as well as the season (twice the columns).
    """
    if inputs == "level":
        return windows
    back = (season or 0) if inputs in SEASONAL_INPUTS else 1
    if back < 1:
        raise ValueError(
            f"inputs '{inputs}' are changes from the value one season before: the series needs a "
            "season (preprocess.season auto, with dates, or a number)"
        )
    if inputs == "return":
        return windows[..., back:, :] / windows[..., :-back, :] - 1
    change = windows[..., back:, :] - windows[..., :-back, :]
    if inputs != "seasonal_gap":
        return change
    gap = windows[..., back:, :] - windows[..., 1 : windows.shape[-2] - back + 1, :]
    return np.concatenate([change, gap], axis=-1)


def raw_rows(steps: int, inputs: str, season: int | None = None) -> int:
    """The raw rows behind a model input of `steps` steps (changes and returns: one step fewer;
    seasonal inputs: a season fewer)."""
    if inputs in SEASONAL_INPUTS:
        return steps + (season or 0)
    return steps + (inputs != "level")


def as_target(base: np.ndarray, following: np.ndarray, predict: str) -> np.ndarray:
    """What the model predicts from its base (the last value; for "seasonal" the value one
    season before the next) and the next value: the level, the change or the return."""
    if predict == "level":
        return following
    if predict in ("change", "seasonal"):
        return following - base
    return following / base - 1


def to_price(target: np.ndarray, base: np.ndarray, predict: str) -> np.ndarray:
    """Invert `as_target`: the next value in the user's units."""
    if predict == "level":
        return target
    if predict in ("change", "seasonal"):
        return base + target
    return base * (1 + target)


@dataclass(frozen=True)
class StockScaling:
    """Raw windows in dollars -> model inputs, and model outputs -> dollars: fitted once, saved with
    the model, so training, evaluation and serving transform alike."""

    inputs: str
    predict: str
    target_index: int  # the target column (Close) among the features
    input_scaler: Scaler
    target_scaler: Scaler
    season: int | None = None  # predict or inputs "seasonal": the steps back to a season before
    horizon: int = 1  # the steps ahead each window is forecast for
    level: float | None = None  # scaler "window": the training rows' mean absolute target

    def base(self, windows: np.ndarray) -> np.ndarray:
        """Each raw window's values its forecasts start from, (windows, horizon): its last target
        value, or (predict "seasonal") each step's value a season before (windows of at least a
        season)."""
        steps = range(1, self.horizon + 1)
        ends = (
            [seasonal_lag(k, self.season) - k + 1 for k in steps]
            if self.predict == "seasonal" and self.season
            else [1 for _ in steps]
        )
        return np.asarray(windows)[:, [-end for end in ends], self.target_index]

    def window_levels(self, windows: np.ndarray) -> np.ndarray:
        """Each raw window's level: its mean absolute target as a share of the training rows',
        between LEVEL_FLOOR and 1, so only a window whose series has fallen below its training
        level is scaled (up); 1 for every window unless scaler "window"."""
        windows = np.asarray(windows, dtype=np.float64)
        if self.level is None:
            return np.ones(len(windows))
        own = np.abs(windows[:, :, self.target_index]).mean(axis=1)
        return np.clip(own / self.level, LEVEL_FLOOR, 1.0)

    def model_inputs(self, windows: np.ndarray) -> np.ndarray:
        """(windows, rows, features) raw -> scaled float32 model inputs; with scaler "window"
        the target's columns divided by the window's level, whose log is a last column."""
        x = as_inputs(np.asarray(windows, dtype=np.float64), self.inputs, self.season)
        x = self.input_scaler.transform(x.reshape(-1, x.shape[-1])).reshape(x.shape)
        if self.level is None:
            return x.astype(np.float32)
        levels = self.window_levels(windows)[:, None, None]
        features = x.shape[-1] // (2 if self.inputs == "seasonal_gap" else 1)
        if self.inputs != "return":  # returns are the same in any range
            x[..., np.arange(x.shape[-1]) % features == self.target_index] /= levels
        log_level = np.broadcast_to(np.log(levels), (*x.shape[:2], 1))
        return np.concatenate([x, log_level], axis=-1).astype(np.float32)

    def output_levels(self, x: np.ndarray) -> np.ndarray:
        """Each model input's window level (scaler "window": its last column's exp), which turns
        the model's outputs back into the target scaler's units; else 1."""
        if self.level is None:
            return np.ones(len(x))
        return np.exp(np.asarray(x, dtype=np.float64)[:, -1, -1])

    def model_targets(
        self, base: np.ndarray, following: np.ndarray, levels: np.ndarray
    ) -> np.ndarray:
        """(windows, horizon) bases and values -> the scaled targets, of the same shape, in units
        of each window's level (`window_levels`)."""
        target = as_target(base, following, self.predict)
        scaled = self.target_scaler.transform(target.reshape(-1, 1)).reshape(target.shape)
        return (scaled / levels[:, None]).astype(np.float32)

    def no_change(self) -> float:
        """The model output that means tomorrow = today (persistence), for a change or return."""
        return float(self.target_scaler.transform([[0.0]])[0, 0])

    def prices(self, outputs: np.ndarray, previous: np.ndarray) -> np.ndarray:
        """Model outputs -> tomorrow's close in dollars, given today's close (the window's last)."""
        target = self.target_scaler.inverse_transform(
            np.asarray(outputs, dtype=np.float64).reshape(-1, 1)
        ).reshape(-1)
        return to_price(target, previous, self.predict)


@dataclass(frozen=True)
class PanelScaling:
    """A dataset's scalings, one per series, each fitted on its own series' training rows, so that
    one global model sees every series in the same range whatever its price level (a single
    series is a panel of one)."""

    names: tuple[str, ...]
    scalings: tuple[StockScaling, ...]

    @property
    def target_index(self) -> int:
        return self.scalings[0].target_index

    def of(self, name: str) -> StockScaling:
        return self.scalings[self.names.index(name)]

    def no_change(self) -> float:
        """The model output that means no change, which train.shrink pulls toward: one for the
        whole panel (a panel of one, or max-abs scaling's 0), else a settings error."""
        outputs = {scaling.no_change() for scaling in self.scalings}
        if len(outputs) > 1:
            raise LstmopsError(
                f"train.shrink pulls every forecast toward one output for 'no change', and min-max "
                f"scaling gives each of the {len(self.scalings)} series its own. Set preprocess.scaler: "
                "maxabs (0 in every series) or train.shrink: false for this dataset."
            )
        return outputs.pop()

    @property
    def seasonal(self) -> bool:
        """Whether its forecasts start from the value one season before (predict "seasonal")."""
        return self.scalings[0].predict == "seasonal"

    def output_levels(self, x: np.ndarray) -> np.ndarray:
        """The same rule in every series: the level travels in the inputs."""
        return self.scalings[0].output_levels(x)

    def prices(self, outputs: np.ndarray, previous: np.ndarray, series: np.ndarray) -> np.ndarray:
        """Model outputs -> the next values in the user's units, from each one's base (the last
        value, or the value a season before); `series` is each row's series index."""
        outputs, dollars = np.asarray(outputs).reshape(-1), np.empty(len(previous))
        for i, scaling in enumerate(self.scalings):
            rows = series == i
            dollars[rows] = scaling.prices(outputs[rows], previous[rows])
        return dollars


def panel_arrays(
    panel: Sequence[np.ndarray],
    n_trains: Sequence[int],
    names: Sequence[str],
    p: ForecastPreprocess,
    target_index: int,
    season: int | None = None,
) -> tuple[dict[str, np.ndarray], PanelScaling]:
    """price_arrays of each series (its own split and scaling) end to end, with series_train and
    series_test: each window's series, as an index into `names`."""
    parts, scalings = [], []
    for values, n_train in zip(panel, n_trains, strict=True):
        arrays, scaling = price_arrays(values, n_train, p, target_index, season)
        parts.append(arrays)
        scalings.append(scaling)
    arrays = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
    for split in ("train", "test"):
        counts = [len(part[f"y_{split}"]) for part in parts]
        arrays[f"series_{split}"] = np.repeat(np.arange(len(parts)), counts)
    return arrays, PanelScaling(tuple(names), tuple(scalings))


def shrink_factor(actual: np.ndarray, predicted: np.ndarray, center: float) -> float:
    """The factor in [0, 1] for predicted deviations from `center` that minimises the squared error
    (least squares through `center`); 0 where the predictions never leave it."""
    a, p = np.ravel(actual) - center, np.ravel(predicted) - center
    spread = float((p * p).sum())
    return float(np.clip((a * p).sum() / spread, 0, 1)) if spread > 0 else 0.0


def fit_stock_scaling(
    rows: np.ndarray,
    target_index: int,
    inputs: str,
    predict: str,
    season: int | None = None,
    horizon: int = 1,
    scaler: str = "minmax",
) -> StockScaling:
    """Fit `scaler`s on `rows` (time order): on the inputs, and on the targets of every step of the
    horizon (a change over k steps, or from k seasons before)."""
    close = rows[:, target_index]
    steps = range(1, horizon + 1)
    backs = sorted({seasonal_lag(k, season or 0) if predict == "seasonal" else k for k in steps})
    targets = (
        close
        if predict == "level"
        else np.concatenate([as_target(close[:-back], close[back:], predict) for back in backs])
    )
    return StockScaling(
        inputs=inputs,
        predict=predict,
        target_index=target_index,
        input_scaler=fit_scaler(as_inputs(rows, inputs, season), scaler),
        target_scaler=fit_scaler(targets.reshape(-1, 1), scaler),
        season=season if predict == "seasonal" or inputs in SEASONAL_INPUTS else None,
        horizon=horizon,
        level=(float(np.abs(close).mean()) or 1.0) if scaler == "window" else None,
    )


def price_arrays(
    values: np.ndarray,
    n_train: int,
    p: ForecastPreprocess,
    target_index: int,
    season: int | None = None,
) -> tuple[dict[str, np.ndarray], StockScaling]:
    """Time-ordered rows of the features (the target's column at `target_index`) -> the first
    `n_train` windows to train, the rest to test.

    The scalers see only the training rows unless p.scaler_fit is "all" (the lecture's leak).
    previous_* are the target's last value and actual_* the next p.horizon ones (windows,
    horizon), in the user's units, for the metrics; with a `season`, seasonal_* are the seasonal
    naive's forecasts of those (the same period of the latest season seen).
    """
    seq_length = p.seq_length
    if p.predict == "seasonal" and not season:
        raise ValueError(
            "predict 'seasonal' starts from the value one season before: the series needs a "
            "season (preprocess.season auto, with dates, or a number)"
        )
    start, back = lead(p, season), history_rows(p, season) - seq_length
    rows = values[start:]
    n_fit = len(rows) if p.scaler_fit == "all" else training_rows(n_train, seq_length)
    # the fitted rows reach back as far as a window's history does (predict "seasonal", seasonal inputs)
    fit_rows = values[start - back : start + n_fit]
    scaling = fit_stock_scaling(
        fit_rows, target_index, p.inputs, p.predict, season, p.horizon, p.scaler
    )
    windows, following = make_windows(rows, seq_length, target_index, p.horizon)
    previous = windows[:, -1, target_index]
    # what a client of the served model sends: raw rows, in the user's units, from a season back
    history = make_windows(values[start - back :], seq_length + back, target_index, p.horizon)[0]
    read = history[:, -input_rows(p, season) :]  # the rows the model reads
    x = scaling.model_inputs(read)
    y = scaling.model_targets(scaling.base(history), following, scaling.window_levels(read))
    test = slice(n_train + p.horizon - 1, None)  # after the gap split_windows leaves
    arrays = {
        "x_train": x[:n_train],
        "y_train": y[:n_train],
        "x_test": x[test],
        "y_test": y[test],
        "windows_test": history[test],
        "previous_train": previous[:n_train],
        "actual_train": following[:n_train],
        "previous_test": previous[test],
        "actual_test": following[test],
    }
    if season:
        n, first = len(following), start + seq_length  # the row of the first window's next value
        seasonal = np.stack(
            [
                values[first + k - seasonal_lag(k + 1, season) :][:n, target_index]
                for k in range(p.horizon)
            ],
            1,
        )
        arrays |= {"seasonal_train": seasonal[:n_train], "seasonal_test": seasonal[test]}
    return arrays, scaling


# --- sentiment ---------------------------------------------------------------------------------

PAD, OOV = "", "[UNK]"  # indices 0 and 1 of every vocabulary
OOV_ID = 1
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_NON_WORD = re.compile(r"[^\w']+")
_LOOSE_QUOTE = re.compile(r"(?<!\w)'+|'+(?!\w)")


def standardize(texts: Sequence[str]) -> list[str]:
    """Lower case, HTML line breaks removed, punctuation removed (in-word apostrophes kept), single spaces."""
    out = []
    for text in texts:
        text = _NON_WORD.sub(" ", _BREAK.sub(" ", text.lower())).replace("_", " ")
        out.append(" ".join(_LOOSE_QUOTE.sub(" ", text).split()))
    return out


def fit_vocabulary(standardized: Sequence[str], num_words: int) -> list[str]:
    """The `num_words` most frequent tokens, with padding (0) and out-of-vocabulary (1) first."""
    from keras.layers import (
        TextVectorization,
    )  # TensorFlow: only fitting a vocabulary needs it, never a price stage

    layer = TextVectorization(max_tokens=num_words, standardize=None, split="whitespace")
    layer.adapt(list(standardized), batch_size=1024)
    return [str(token) for token in layer.get_vocabulary()]


def token_lookup(vocabulary: Sequence[str]) -> dict[str, int]:
    """Token -> id for a vocabulary (index 0 padding, 1 out of vocabulary): built once, then every
    text is a dictionary look-up per word (a served model builds it when it loads)."""
    return {token: i for i, token in enumerate(vocabulary)}


def token_ids(standardized: Sequence[str], lookup: dict[str, int]) -> list[np.ndarray]:
    """Each standardized text's token ids, all of them: int32 arrays of each text's length, words
    split on the single spaces `standardize` leaves (1: out of vocabulary)."""
    return [
        np.fromiter((lookup.get(word, OOV_ID) for word in text.split()), dtype=np.int32)
        for text in standardized
    ]


def encode(standardized: Sequence[str], lookup: dict[str, int], maxlen: int) -> np.ndarray:
    """Token ids, the **last** `maxlen` of each text, padded with 0 at the front: (texts, maxlen) int32."""
    out = np.zeros((len(standardized), maxlen), dtype=np.int32)
    for row, ids in enumerate(token_ids(standardized, lookup)):
        kept = ids[-maxlen:]
        out[row, maxlen - len(kept) :] = kept
    return out


def lengths(ids: np.ndarray) -> np.ndarray:
    """Each front-padded row's number of tokens (ids above 0)."""
    return np.count_nonzero(ids, axis=1)


WIDTH_STEP = 16  # a batch's width is rounded up to a multiple of this: few shapes to compile
POOL = 50  # batches' worth of shuffled rows sorted by length together


def length_batches(
    row_lengths: np.ndarray, batch_size: int, seed: int | None, epoch: int = 0
) -> list[np.ndarray]:
    """Row indices, batch by batch, so that a batch holds rows of similar length.

    seed None (validation): all rows sorted by length. Otherwise epoch `epoch`'s order: a seeded
    shuffle, cut into pools of POOL batches, each pool sorted by length and cut into batches,
    and the batches shuffled. The first two batches differ in width where any do: Keras reads
    the shape of the first two as every batch's.
    """
    n = len(row_lengths)
    if seed is None:
        order = np.argsort(row_lengths, kind="stable")
    else:
        rng = np.random.default_rng([seed, epoch])
        shuffled = rng.permutation(n)
        pool = POOL * batch_size
        order = np.concatenate(
            [
                part[np.argsort(row_lengths[part], kind="stable")]
                for part in np.split(shuffled, range(pool, n, pool))
            ]
        )
    out = [order[i : i + batch_size] for i in range(0, n, batch_size)]
    if seed is not None:
        out = [out[i] for i in rng.permutation(len(out))]
    widths = [batch_width(row_lengths[rows]) for rows in out]
    other = next((i for i in range(1, len(out)) if widths[i] != widths[0]), None)
    if other is not None:
        out[1], out[other] = out[other], out[1]
    return out


def batch_width(row_lengths: np.ndarray) -> int:
    """The columns a batch keeps: its longest row's tokens, rounded up to WIDTH_STEP."""
    return max(1, -(-int(row_lengths.max(initial=1)) // WIDTH_STEP) * WIDTH_STEP)


def trim_padding(ids: np.ndarray, row_lengths: np.ndarray | None = None) -> np.ndarray:
    """A batch of front-padded ids cut to its batch_width (`row_lengths`: its rows', if known)."""
    width = batch_width(lengths(ids) if row_lengths is None else row_lengths)
    return ids[:, -min(width, ids.shape[1]) :]


def language_model_pieces(
    texts: Sequence[np.ndarray], seq_length: int, output_words: int
) -> tuple[np.ndarray, np.ndarray]:
    """The texts' token ids, one after another, cut into pieces of `seq_length` words, and each
    word's next word as its target, words from `output_words` on as out-of-vocabulary (1): what a
    language model learns from, truncated backpropagation through time being the cut."""
    stream = np.concatenate(
        [np.asarray(t, dtype=np.int32) for t in texts] or [np.zeros(0, np.int32)]
    )
    pieces = max(len(stream) - 1, 0) // seq_length
    if pieces == 0:
        raise ValueError(
            f"the texts hold {len(stream)} words: too few for one piece of seq_length={seq_length}"
        )
    inputs = stream[: pieces * seq_length].reshape(pieces, seq_length)
    targets = stream[1 : pieces * seq_length + 1].reshape(pieces, seq_length).copy()
    targets[targets >= output_words] = OOV_ID
    return inputs, targets


def reading_order(pieces: int, epochs: float, seed: int) -> np.ndarray:
    """The pieces in the order the language model reads them: `epochs` seeded shuffles one after
    another, the last cut short for a fraction of a pass."""
    rng = np.random.default_rng(seed)
    passes = [rng.permutation(pieces) for _ in range(math.ceil(epochs))]
    return np.concatenate(passes)[: max(1, round(epochs * pieces))]
