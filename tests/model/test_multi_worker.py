"""The multi_worker training loop learns like Keras's fit, also under mixed precision.

MultiWorkerMirroredStrategy must be made before TensorFlow runs anything, so the comparison runs in
a fresh process: one local worker (no TF_CONFIG), the stock model, the same seed and batches.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

SCRIPT = """
import json, sys
import keras, numpy as np
import tensorflow as tf
from lstmops import models, training
from lstmops.config import ForecastTrain

strategy = tf.distribute.MultiWorkerMirroredStrategy()
keras.mixed_precision.set_global_policy(sys.argv[1])
rng = np.random.default_rng(0)
x = rng.random((256, 7, 5)).astype("float32")
y = (x[:, -1, 4] * 0.8 + 0.1).astype("float32")
p = ForecastTrain(epochs=8, batch_size=16, activation="tanh", units=8, learning_rate=0.01)
out = {}
for name, strat in (("fit", None), ("multi_worker", strategy)):
    training.seed_everything(0)
    with training.scope(strat):
        model = models.price_model(7, 5, p)
        out[name] = training.fit(model, (x, y), None, p.epochs, p.batch_size, [], 0, strat)["loss"]
        out[name + "_optimizer"] = type(model.optimizer).__name__
print(json.dumps(out))
"""


@pytest.mark.parametrize("policy", ["float32", "mixed_float16"])
def test_multi_worker_loop_learns_like_fit(policy):
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, policy], capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr[-3000:]
    losses = json.loads(out.stdout.splitlines()[-1])
    if policy == "mixed_float16":  # Keras scales the loss through this optimizer: so must the loop
        assert losses["multi_worker_optimizer"] == "LossScaleOptimizer"
    fit, loop = losses["fit"], losses["multi_worker"]
    assert loop[0] == pytest.approx(fit[0], rel=1e-3)  # the same start
    assert loop[-1] < 0.2 * loop[0]  # it learns...
    assert loop[-1] == pytest.approx(
        fit[-1], rel=0.25
    )  # ...as fit does (unscaled: 2.7 times worse)
