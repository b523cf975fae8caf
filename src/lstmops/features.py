"""Windowing, scaling, text standardisation, vocabulary and padding: pure functions on arrays.

The same functions serve preprocessing and the served model, so training and serving cannot drift.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from sklearn.preprocessing import MinMaxScaler

# --- stock ------------------------------------------------------------------------------------


def make_windows(
    values: np.ndarray, seq_length: int, target_index: int
) -> tuple[np.ndarray, np.ndarray]:
    """Windows of `seq_length` consecutive rows (all columns) and the next row's target column.

    values: (rows, features) in time order -> X: (rows - seq_length, seq_length, features), y: (rows - seq_length,)
    """
    n = len(values) - seq_length
    if n < 1:
        raise ValueError(
            f"seq_length {seq_length} needs more than {seq_length} rows, got {len(values)}"
        )
    X = np.stack([values[i : i + seq_length] for i in range(n)])
    y = values[seq_length:, target_index]
    return X, y


def train_window_count(n_windows: int, train_fraction: float) -> int:
    """How many of the first windows train; the rest test (a chronological split)."""
    return int(n_windows * train_fraction)


def training_rows(n_train_windows: int, seq_length: int) -> int:
    """Rows the training windows touch (inputs and targets): all that a scaler may be fitted on."""
    return n_train_windows + seq_length


def fit_scaler(rows: np.ndarray) -> MinMaxScaler:
    return MinMaxScaler().fit(rows)


def unscale_column(scaled: np.ndarray, scaler: MinMaxScaler, column: int) -> np.ndarray:
    """Invert the min-max scaling of one column (e.g. predicted Close back to dollars)."""
    return (np.asarray(scaled, dtype=np.float64) - scaler.min_[column]) / scaler.scale_[column]


# --- imdb -------------------------------------------------------------------------------------

PAD, OOV = "", "[UNK]"  # indices 0 and 1 of every vocabulary
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
    from keras.layers import TextVectorization

    layer = TextVectorization(max_tokens=num_words, standardize=None, split="whitespace")
    layer.adapt(list(standardized), batch_size=1024)
    return [str(token) for token in layer.get_vocabulary()]


def encode(standardized: Sequence[str], vocabulary: Sequence[str], maxlen: int) -> np.ndarray:
    """Token ids, the **last** `maxlen` of each text, padded with 0 at the front: (texts, maxlen) int32."""
    from keras.layers import TextVectorization
    from keras.utils import pad_sequences

    if not len(standardized):
        return np.zeros((0, maxlen), dtype=np.int32)
    layer = TextVectorization(
        vocabulary=list(vocabulary), standardize=None, split="whitespace", ragged=True
    )
    ids = layer(np.asarray(list(standardized), dtype=object)).to_list()
    return pad_sequences(ids, maxlen=maxlen, padding="pre", truncating="pre", dtype="int32")
