"""The lecture's small networks, on the way to the LSTMs: pure functions that learn and report.

perceptron (Rosenblatt's rule on AND, OR and XOR), xor_fixed (a hand-set two-layer network),
xor (a Keras MLP trained until it solves XOR) and words (a many-to-one character RNN).
"""

from __future__ import annotations

import numpy as np

BOOLEAN_INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
GATES = {
    "and": np.array([0, 0, 0, 1]),
    "or": np.array([0, 1, 1, 1]),
    "xor": np.array([0, 1, 1, 0]),
}
PAD_TOKEN = "<pad>"


def step(net: np.ndarray) -> np.ndarray:
    return (np.asarray(net) >= 0).astype(int)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def train_perceptron(
    inputs: np.ndarray, targets: np.ndarray, learning_rate: float, max_epochs: int
) -> dict:
    """Rosenblatt's rule w_i <- w_i + eta * x_i * (t - f(net)), step f, bias as a weight on x_0 = 1.

    Stops at the first epoch without a mistake (converged) or after `max_epochs` (a gate that is
    not linearly separable, such as XOR, never converges).
    """
    x = np.hstack([np.ones((len(inputs), 1)), inputs])
    w = np.zeros(x.shape[1])
    for epoch in range(1, max_epochs + 1):
        mistakes = 0
        for xi, t in zip(x, targets, strict=True):
            error = t - step(xi @ w)
            mistakes += int(error != 0)
            w = w + learning_rate * xi * error
        if mistakes == 0:
            return {"converged": True, "epochs": epoch, "weights": w.tolist()}
    return {
        "converged": False,
        "epochs": max_epochs,
        "weights": w.tolist(),
        "outputs": step(x @ w).tolist(),
    }


XOR_W1 = np.array([[-2, 5, 4], [3, 6, 3]], dtype=float)
XOR_B1 = np.array([2, -2, -5], dtype=float)
XOR_W2 = np.array([[-4], [8], [-8]], dtype=float)


def xor_fixed(inputs: np.ndarray = BOOLEAN_INPUTS) -> np.ndarray:
    """The lecture's hand-set network: sigmoid(sigmoid(x W1 + b1) W2), one output per input pair."""
    return sigmoid(sigmoid(inputs @ XOR_W1 + XOR_B1) @ XOR_W2).reshape(-1)


def train_xor(
    hidden: int, learning_rate: float, batch_size: int, max_epochs: int, seed: int
) -> dict:
    """A Keras MLP Dense(hidden, sigmoid) -> Dense(1, sigmoid), SGD, trained until it solves XOR.

    `epochs` in the result is a multiple of 100: the outputs are checked every 100 epochs.
    """
    import keras  # TensorFlow: only the networks that train with it

    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input(shape=(2,)),
            keras.layers.Dense(hidden, activation="sigmoid"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate),
        loss="binary_crossentropy",
        metrics=["accuracy"],
    )
    targets = GATES["xor"].astype(np.float32)
    # One fit over the four pairs tiled `check_every` times is `check_every` epochs of the lecture's
    # loop (no shuffling) at a fraction of Keras's per-epoch cost; check the outputs after each.
    check_every = 100
    x, y = np.tile(BOOLEAN_INPUTS, (check_every, 1)), np.tile(targets, check_every)
    epochs = 0
    outputs = np.asarray(model(BOOLEAN_INPUTS)).reshape(-1)
    while epochs < max_epochs and not np.array_equal(outputs >= 0.5, targets >= 0.5):
        model.fit(x, y, batch_size=batch_size, epochs=1, shuffle=False, verbose=0)
        epochs += check_every
        outputs = np.asarray(model(BOOLEAN_INPUTS)).reshape(-1)
    return {
        "solved": bool(np.array_equal(outputs >= 0.5, targets >= 0.5)),
        "epochs": epochs,
        "outputs": outputs.tolist(),
    }


def char_vocabulary(words: list[str]) -> list[str]:
    """`<pad>` (index 0), then every character of the words, sorted."""
    return [PAD_TOKEN, *sorted(set("".join(words)))]


def encode_chars(words: list[str], vocabulary: list[str], maxlen: int) -> np.ndarray:
    """Character ids, padded with 0 at the end to `maxlen`."""
    from keras.utils import pad_sequences  # TensorFlow: only the networks that train with it

    index = {c: i for i, c in enumerate(vocabulary)}
    ids = [[index[c] for c in word] for word in words]
    return pad_sequences(ids, maxlen=maxlen, padding="post", truncating="post")


def train_words(
    words: list[str],
    labels: list[int],
    maxlen: int,
    cell: str,
    units: int,
    epochs: int,
    learning_rate: float,
    seed: int,
) -> dict:
    """A many-to-one character RNN: Embedding (one-hot sized, padding masked) -> cell -> sigmoid."""
    import keras  # TensorFlow: only the networks that train with it

    keras.utils.set_random_seed(seed)
    vocabulary = char_vocabulary(words)
    x = encode_chars(words, vocabulary, maxlen)
    y = np.asarray(labels, dtype=np.float32)
    rnn = {"SimpleRNN": keras.layers.SimpleRNN, "LSTM": keras.layers.LSTM}[cell]
    model = keras.Sequential(
        [
            keras.Input(shape=(maxlen,)),
            keras.layers.Embedding(len(vocabulary), len(vocabulary), mask_zero=True),
            rnn(units),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="binary_crossentropy",
        metrics=["accuracy"],
    )
    history = model.fit(x, y, batch_size=len(words), epochs=epochs, verbose=0)
    probabilities = model.predict(x, verbose=0).reshape(-1)
    return {
        "vocabulary": vocabulary,
        "probabilities": probabilities.tolist(),
        "accuracy": float(np.mean((probabilities >= 0.5) == (y >= 0.5))),
        "final_loss": float(history.history["loss"][-1]),
    }
