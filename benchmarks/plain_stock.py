"""The lecture's stock experiment as one plain script (the benchmark's reference for pipeline overhead).

Usage: python benchmarks/plain_stock.py <path to data-02-stock_daily.csv>
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import lstmops  # noqa: E402, F401  (the pipeline's CPU pins, so both sides run the same kernels)

# isort: split

import keras  # noqa: E402
import numpy as np  # noqa: E402

seq_length, train_fraction = 7, 0.7
xy = np.loadtxt(sys.argv[1], delimiter=",")[::-1]  # newest first -> time order
xy = (xy - xy.min(0)) / (xy.max(0) - xy.min(0) + 1e-7)
x = np.stack([xy[i : i + seq_length] for i in range(len(xy) - seq_length)])
y = xy[seq_length:, [-1]]
n = int(len(y) * train_fraction)
keras.utils.set_random_seed(42)
model = keras.Sequential(
    [
        keras.Input(shape=(seq_length, 5)),
        keras.layers.LSTM(16, activation="relu"),
        keras.layers.Dense(1),
    ]
)
model.compile(optimizer="adam", loss="mse")
model.fit(x[:n], y[:n], epochs=100, batch_size=16, verbose=0)
predicted = model.predict(x[n:], verbose=0)
print("test RMSE (scaled):", float(np.sqrt(np.mean((predicted - y[n:]) ** 2))))
