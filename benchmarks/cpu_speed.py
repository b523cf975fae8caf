"""Why the imdb lecture model's CPU throughput swings from run to run, and the machine's matmul peak.

Each variant runs in a fresh process (TensorFlow's thread pools are fixed at start-up): it trains the
lecture imdb model through the pipeline's own loop (training.fit) for 3 epochs on the first
`--samples` training reviews and reports epochs 2 and 3 (epoch 1 includes tracing), then measures the
float32 matmul rate with a compiled function (best of 20 after a warm-up, so it reproduces). The
variants alternate, so drifts in the machine's load hit them alike. Run after `make repro`:

    python benchmarks/cpu_speed.py [--repeats 4] [--samples 5000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from lstmops import CPU_PINS

ROOT = Path(__file__).resolve().parents[1]

# "default" is what every stage runs (lstmops/__init__.py pins oneDNN off and its sgemm to AVX2, for
# one result on every CPU); "sgemm_any_isa" lifts the AVX2 cap only; "native" is TensorFlow's own
# default on a CPU with AVX-512 (LSTMOPS_CPU_KERNELS=native): the speed the pins cost.
# name -> (environment, inter-op threads, intra-op threads); None keeps TensorFlow's default
VARIANTS = {
    "default": (CPU_PINS, None, None),
    "inter1": (CPU_PINS, 1, None),
    "inter1_intra2": (CPU_PINS, 1, 2),
    "sgemm_any_isa": ({**CPU_PINS, "ONEDNN_MAX_CPU_ISA": "ALL"}, None, None),
    "native": ({"TF_ENABLE_ONEDNN_OPTS": "1", "ONEDNN_MAX_CPU_ISA": "ALL"}, None, None),
}


def child(inter: int | None, intra: int | None, samples: int) -> dict:
    """Train and time in this process; the figures as a dict."""
    import numpy as np
    import tensorflow as tf

    if inter is not None:
        tf.config.threading.set_inter_op_parallelism_threads(inter)
    if intra is not None:
        tf.config.threading.set_intra_op_parallelism_threads(intra)
    import keras

    from lstmops import models, training
    from lstmops.config import load_params

    settings = load_params(ROOT / "params.yaml").dataset("imdb").settings
    with np.load(ROOT / "data/processed/imdb/arrays.npz") as data:
        x, y = data["x_train"][:samples], data["y_train"][:samples]
    training.seed_everything(0)
    model = models.sentiment_model(settings.preprocess.num_words, x.shape[1], settings.train)
    seconds: list[float] = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            seconds.append(time.perf_counter() - self.start)

    training.fit(model, (x, y), None, 3, settings.train.batch_size, [Timer()], seed=0)

    size = 2048
    a = tf.random.normal((size, size), seed=1)
    b = tf.random.normal((size, size), seed=2)
    matmul = tf.function(lambda: tf.reduce_sum(tf.matmul(a, b)))
    matmul().numpy()
    best = float("inf")
    for _ in range(20):
        start = time.perf_counter()
        matmul().numpy()
        best = min(best, time.perf_counter() - start)
    return {
        "samples_per_s": [samples / s for s in seconds[1:]],
        "matmul_gflops": 2 * size**3 / best / 1e9,
        "inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
        "intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
    }


def flops_per_sample(maxlen: int = 80, embedding_dim: int = 128, units: int = 128) -> float:
    """Training FLOPs of one review through the lecture LSTM (gate matmuls, x3 for backward)."""
    return 3 * (maxlen * 4 * 2 * (embedding_dim + units) * units + 2 * units)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=4)
    parser.add_argument("--samples", type=int, default=5000)
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _, inter, intra = VARIANTS[args.child]
        print(json.dumps(child(inter, intra, args.samples)))
        return
    results: dict[str, list[dict]] = {name: [] for name in VARIANTS}
    for repeat in range(args.repeats):
        order = list(VARIANTS) if repeat % 2 == 0 else list(VARIANTS)[::-1]
        for name in order:
            env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **VARIANTS[name][0]}
            out = subprocess.run(
                [sys.executable, __file__, "--child", name, "--samples", str(args.samples)],
                capture_output=True, text=True, env=env, cwd=ROOT, check=True,
            )  # fmt: skip
            results[name].append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(name, results[name][-1], flush=True)
    per_sample = flops_per_sample()
    print(
        f"\n{'variant':<16}{'samples/s (epochs 2-3, all runs)':<40}{'median':>8}{'matmul':>9}{'share':>7}"
    )
    for name, runs in results.items():
        speeds = [s for run in runs for s in run["samples_per_s"]]
        peak = statistics.median(run["matmul_gflops"] for run in runs)
        median = statistics.median(speeds)
        share = per_sample * median / 1e9 / peak
        spread = f"{min(speeds):.0f}-{max(speeds):.0f}"
        print(f"{name:<16}{spread:<40}{median:>8.0f}{peak:>8.0f}G{100 * share:>6.1f}%")


if __name__ == "__main__":
    main()
