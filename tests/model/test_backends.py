"""The model and training code are Keras 3 only, so the stock model also trains under PyTorch."""

import importlib.util
import json
import os
import subprocess
import sys

import pytest

SCRIPT = """
import json
import numpy as np
from lstmops import models, training
from lstmops.config import ForecastTrain
from lstmops.features import make_windows

t = np.arange(207)
x, y = make_windows(((np.sin(t / 5) + 1) / 2)[:, None], 7, 0)
params = ForecastTrain(epochs=20, batch_size=16, activation="tanh", learning_rate=0.01)
training.seed_everything(1)
model = models.price_model(7, 1, params)
history = training.fit(model, (x.astype("float32"), y.astype("float32")), None, 20, 16, [])
print(json.dumps({"device": training.select_device("auto"), "loss": history["loss"]}))
"""


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="PyTorch is not installed")
def test_stock_model_trains_under_the_torch_backend():
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env={**os.environ, "KERAS_BACKEND": "torch"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["device"]["keras_backend"] == "torch"
    assert result["loss"][-1] < 0.2 * result["loss"][0]
