"""Benchmarks: the pipeline's training loop against plain Keras, pipeline overhead, no-op repro, FLOPs.

Run with `make bench` after `make repro` (it uses the processed arrays). Figures are ratios measured
in one run, alternating the variants, so a noisy shared machine affects both sides alike.
Writes reports/bench.json and prints a table. `--quick` uses fewer repetitions and samples.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import lstmops  # noqa: E402, F401  (first: it pins TensorFlow's kernels, as in every stage)

# isort: split
import keras  # noqa: E402
import numpy as np  # noqa: E402

from lstmops import models, training  # noqa: E402
from lstmops.config import load_params  # noqa: E402
from lstmops.io import write_json  # noqa: E402
from lstmops.tracking import tracking_uri  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _arrays(dataset: str, samples: int, synthetic: bool) -> tuple[np.ndarray, np.ndarray]:
    """The pipeline's training arrays, or random ones of the same shapes (speed ignores values)."""
    if synthetic:
        rng = np.random.default_rng(0)
        if dataset == "stock":
            return rng.random((samples, 7, 5), dtype=np.float32), rng.random(
                samples, dtype=np.float32
            )
        return rng.integers(0, 10000, (samples, 80), dtype=np.int32), rng.integers(0, 2, samples)
    path = ROOT / "data/processed" / dataset / "arrays.npz"
    if not path.is_file():
        sys.exit(f"{path} is missing: run `make repro` first (the benchmark uses the real arrays).")
    with np.load(path) as data:
        return data["x_train"][:samples], data["y_train"][:samples]


def _plain_model(dataset: str, x: np.ndarray) -> keras.Model:
    """The lecture's code, as a student would write it: no pipeline, no callbacks."""
    if dataset == "stock":
        model = keras.Sequential(
            [
                keras.Input(shape=x.shape[1:]),
                keras.layers.LSTM(16, activation="relu"),
                keras.layers.Dense(1),
            ]
        )
        model.compile(optimizer="adam", loss="mse")
    else:
        model = keras.Sequential(
            [
                keras.Input(shape=x.shape[1:]),
                keras.layers.Embedding(10000, 128),
                keras.layers.LSTM(128),
                keras.layers.Dense(1, activation="sigmoid"),
            ]
        )
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def _time_plain(dataset: str, x, y, epochs: int, batch_size: int) -> float:
    model = _plain_model(dataset, x)
    start = time.perf_counter()
    model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0)
    return time.perf_counter() - start


def _time_pipeline(dataset: str, x, y, epochs: int, batch_size: int, store: Path) -> float:
    """The train stage's loop: its model builder, fit wrapper and callbacks, MLflow included
    (where MLflow is installed: the GPU machine's image may lack it)."""
    try:
        import mlflow
    except ImportError:
        mlflow = None
    params = load_params(ROOT / "params.yaml")
    settings = params.dataset(dataset).settings
    p = settings.train.model_copy(update={"epochs": epochs, "batch_size": batch_size})
    if params.dataset(dataset).task == "prices":
        model = models.price_model(x.shape[1], x.shape[2], p)
    else:
        model = models.sentiment_model(settings.preprocess.num_words, x.shape[1], p)
    run = contextlib.nullcontext()
    if mlflow is not None:
        mlflow.set_tracking_uri(f"sqlite:///{store / 'mlflow.db'}")
        mlflow.set_experiment("bench")
        run = mlflow.start_run()
    with run, tempfile.TemporaryDirectory() as backup:
        callbacks = [training.Checkpoint(Path(backup) / "state.npz", p.checkpoint_seconds)]
        if mlflow is not None:
            callbacks.append(
                training.EpochLogger(lambda m, step: mlflow.log_metrics(m, step, synchronous=False))
            )
        start = time.perf_counter()
        training.fit(model, (x, y), None, epochs, batch_size, callbacks)
        return time.perf_counter() - start


def throughput(
    dataset: str,
    samples: int,
    epochs: int,
    batch_size: int,
    repeats: int,
    store: Path,
    synthetic: bool,
) -> dict:
    x, y = _arrays(dataset, samples, synthetic)
    n = len(x) * epochs
    _time_plain(dataset, x[: batch_size * 4], y[: batch_size * 4], 1, batch_size)  # warm up tracing
    plain, pipeline = [], []
    for i in range(repeats):  # alternate which goes first, so drifts in load hit both alike
        runs = [
            (plain, lambda: _time_plain(dataset, x, y, epochs, batch_size)),
            (pipeline, lambda: _time_pipeline(dataset, x, y, epochs, batch_size, store)),
        ]
        for results, timed in runs if i % 2 == 0 else runs[::-1]:
            results.append(n / timed())
    return {
        "samples_per_epoch": len(x),
        "epochs": epochs,
        "repeats": repeats,
        "plain_samples_per_s": statistics.median(plain),
        "pipeline_samples_per_s": statistics.median(pipeline),
        "ratio": statistics.median(pipeline) / statistics.median(plain),
    }


def noop_repro(repeats: int) -> dict:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = subprocess.run(["dvc", "repro"], cwd=ROOT, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if "Running stage" in out.stdout:
            return {"error": "the workspace was not up to date; run `make repro` first"}
    return {"median_s": statistics.median(times), "repeats": repeats}


# Serving goals (issue #23): in process, and over HTTP with 8 clients posting 10 reviews each.
SERVING_GOALS = {"one_review_ms": 10.0, "requests_per_s": 100.0, "p99_ms": 200.0}


def serving_speed(
    served: str, clients: int = 8, requests: int = 40, reviews: int = 10, workers: int = 1
) -> dict:
    """An imdb model as `make serve` serves it (`served`: models/imdb/served, or a models:/ URI
    such as the champion's): one review's `predict` in process (median of 50), then `clients`
    threads each posting `requests` requests of `reviews` real test reviews to `mlflow models
    serve` on localhost: requests/s and latency percentiles."""
    import socket
    import urllib.request
    from concurrent.futures import ThreadPoolExecutor

    import mlflow.pyfunc
    import pandas as pd

    # a models:/ URI resolves in the project's store, here and in the server started below
    os.environ.setdefault("MLFLOW_TRACKING_URI", tracking_uri())
    texts = pd.read_parquet(ROOT / "data/raw/imdb/test.parquet")["text"].head(400).tolist()
    model = mlflow.pyfunc.load_model(str(served))
    one = pd.DataFrame({"text": texts[:1]})
    model.predict(one)
    times = []
    for _ in range(50):
        start = time.perf_counter()
        model.predict(one)
        times.append(time.perf_counter() - start)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        ["mlflow", "models", "serve", "-m", str(served), "--env-manager", "local",
         "--host", "127.0.0.1", "-p", str(port), "-w", str(workers)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/invocations"
    try:
        deadline = time.time() + 180
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2).close()
                break
            except OSError:
                if time.time() > deadline or server.poll() is not None:
                    return {"error": "mlflow models serve did not come up"}
                time.sleep(1)

        def post(i: int) -> float:
            batch = [texts[(i * reviews + k) % len(texts)] for k in range(reviews)]
            body = json.dumps(
                {"dataframe_split": {"columns": ["text"], "data": [[t] for t in batch]}}
            )
            request = urllib.request.Request(
                url, data=body.encode(), headers={"Content-Type": "application/json"}
            )
            start = time.perf_counter()
            with urllib.request.urlopen(request, timeout=60) as response:
                assert response.status == 200
                response.read()
            return time.perf_counter() - start

        post(0)  # warm up
        start = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            latencies = sorted(pool.map(post, range(clients * requests)))
        wall = time.perf_counter() - start
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
    n = len(latencies)
    return {
        "one_review_ms": 1000 * statistics.median(times),
        "requests": n,
        "requests_per_s": n / wall,
        "p50_ms": 1000 * latencies[n // 2],
        "p99_ms": 1000 * latencies[min(n - 1, int(n * 0.99))],
        "goals": SERVING_GOALS,
        "model": served,
    }


PEAK_RSS = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
    "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def batch_predict(sizes: tuple[int, ...] = (25_000, 100_000)) -> dict:
    """`python -m lstmops predict imdb` on CSVs of `sizes` reviews (the test split repeated):
    rows/s and the process's peak memory, which chunking keeps flat as the file grows."""
    import pandas as pd

    texts = pd.read_parquet(ROOT / "data/raw/imdb/test.parquet")[["text"]]
    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            source, target = Path(tmp) / f"reviews{size}.csv", Path(tmp) / f"scores{size}.parquet"
            table = pd.concat([texts] * (size // len(texts) + 1)).iloc[:size]
            table.to_csv(source, index=False)
            command = [sys.executable, "-m", "lstmops", "predict", "imdb", str(source),
                       str(target), "--model", str(ROOT / "models/imdb/served")]  # fmt: skip
            start = time.perf_counter()
            peak_kb = subprocess.run(
                [sys.executable, "-c", PEAK_RSS, *command],
                cwd=ROOT, capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip
            seconds = time.perf_counter() - start
            out[str(size)] = {
                "seconds": seconds,
                "rows_per_s": size / seconds,
                "input_mb": source.stat().st_size / 2**20,
                "peak_rss_mb": int(peak_kb) / 1024,
            }
    return out


def pipeline_overhead(mirror: Path) -> dict:
    """Wall time of the whole stock pipeline (`dvc repro --force`, 5 stages) vs the plain script."""
    import shutil

    with tempfile.TemporaryDirectory() as tmp:
        proj = Path(tmp) / "proj"
        files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout
        for name in files.split():
            (proj / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, proj / name)
        env = {**os.environ, "LSTMOPS_MIRROR": str(mirror)}
        git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
        subprocess.run(["git", "init", "-q"], cwd=proj, check=True)
        subprocess.run([*git, "add", "-A"], cwd=proj, check=True)
        subprocess.run([*git, "commit", "-qm", "bench"], cwd=proj, check=True)
        start = time.perf_counter()
        subprocess.run(
            ["dvc", "repro", "--force", "prices-evaluate@stock"],
            cwd=proj,
            env=env,
            check=True,
            capture_output=True,
        )
        pipeline = time.perf_counter() - start
        stages, imports = {}, {}  # the same stages again, each by itself: where the time goes
        for stage in ("ingest", "validate", "preprocess", "train", "evaluate"):
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "lstmops", stage, "stock"],
                cwd=proj,
                env=env,
                check=True,
                capture_output=True,
            )
            stages[stage] = time.perf_counter() - start
            traced = subprocess.run(
                [sys.executable, "-X", "importtime", "-m", "lstmops", stage, "stock"],
                cwd=proj,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            imports[stage] = import_seconds(traced.stderr)
    start = time.perf_counter()
    csv = mirror / "stock" / "data-02-stock_daily.csv"
    subprocess.run(
        [sys.executable, str(ROOT / "benchmarks/plain_stock.py"), str(csv)],
        check=True,
        capture_output=True,
    )
    plain = time.perf_counter() - start
    return {
        "pipeline_s": pipeline,
        "plain_s": plain,
        "overhead": pipeline / plain - 1,
        "stage_s": stages,
        "stage_imports_s": imports,
    }


def import_seconds(importtime: str) -> float:
    """The seconds a process spent importing modules: the cumulative times of its top-level
    imports in `python -X importtime`'s report (start-up, before any work)."""
    total = 0
    for line in importtime.splitlines():
        if line.startswith("import time:") and "|" in line:
            _, cumulative, name = line.split("|")
            if not name[1:].startswith(" ") and cumulative.strip().isdigit():
                total += int(cumulative)
    return total / 1e6


def matmul_gflops(size: int = 2048, repeats: int = 20) -> float:
    """The machine's float32 matrix-multiply rate: best of `repeats` after a warm-up, compiled
    (tf.function) under TensorFlow so no eager dispatch or copy is timed; only a scalar comes
    back. (Eager keras.ops.matmul plus a copy to NumPy measured about half the rate.)"""
    a = keras.random.normal((size, size), seed=1)
    b = keras.random.normal((size, size), seed=2)

    def product():
        return keras.ops.sum(keras.ops.matmul(a, b))

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        product = tf.function(product)
    float(product())
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        float(product())
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9


def imdb_flops_per_sample(maxlen: int, embedding_dim: int, units: int) -> float:
    """Training FLOPs for one review: the LSTM's four gate matmuls per step, x3 for the backward pass."""
    forward = maxlen * 4 * 2 * (embedding_dim + units) * units + 2 * units
    return 3 * forward


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and samples")
    parser.add_argument(
        "--throughput-only",
        action="store_true",
        help="only the training throughput, on random arrays of the real shapes (benchmarks/gpu.sh)",
    )
    parser.add_argument(
        "--served",
        default=str(ROOT / "models/imdb/served"),
        help="the imdb model to serve (default: the workspace's; models:/lstmops-imdb@champion "
        "for the champion of the project's MLflow store)",
    )
    parser.add_argument("--serving-only", action="store_true", help="only the serving figures")
    args = parser.parse_args()
    if args.serving_only:
        results = {"serving": serving_speed(args.served)}
        write_json(ROOT / "reports" / "bench_serving.json", results)
        print(json.dumps(results, indent=1))
        return
    repeats = 2 if args.quick else 5
    device = training.select_device("auto")
    results: dict = {"backend": keras.backend.backend(), "keras": keras.__version__, **device}
    synthetic = args.throughput_only
    with tempfile.TemporaryDirectory() as store:
        epochs, samples = (5, 2000) if args.quick else (10, 5000)
        results["stock"] = throughput("stock", 507, epochs, 16, repeats, Path(store), synthetic)
        results["imdb"] = throughput("imdb", samples, 1, 32, repeats, Path(store), synthetic)
    if not args.throughput_only:
        results["noop_repro"] = noop_repro(3)
        results["serving"] = serving_speed(args.served)
        results["batch_predict"] = batch_predict()
        mirror = os.environ.get("LSTMOPS_MIRROR")
        if mirror and not args.quick:
            results["stock_pipeline"] = pipeline_overhead(Path(mirror).resolve())
    gflops = matmul_gflops()
    per_sample = imdb_flops_per_sample(maxlen=80, embedding_dim=128, units=128)  # the lecture model
    achieved = per_sample * results["imdb"]["pipeline_samples_per_s"] / 1e9
    results["imdb_flops"] = {
        "train_flops_per_sample": per_sample,
        "train_flops_per_epoch_full_data": per_sample * 20000,
        "achieved_gflops": achieved,
        "matmul_gflops": gflops,
        "fraction_of_matmul_rate": achieved / gflops,
    }
    write_json(ROOT / "reports" / "bench.json", results)

    print(
        f"\n{results['device_name']} ({results['device']}), backend {results['backend']}, keras {results['keras']}"
    )
    print(f"{'training throughput':<22}{'plain Keras':>14}{'pipeline':>14}{'ratio':>8}")
    for dataset in ("stock", "imdb"):
        r = results[dataset]
        print(
            f"{dataset + ' (samples/s)':<22}{r['plain_samples_per_s']:>14.0f}"
            f"{r['pipeline_samples_per_s']:>14.0f}{r['ratio']:>8.3f}"
        )
    if "stock_pipeline" in results:
        r = results["stock_pipeline"]
        print(
            f"whole stock pipeline {r['pipeline_s']:.1f} s vs plain script {r['plain_s']:.1f} s: "
            f"overhead {100 * r['overhead']:.0f}%"
        )
        print(
            "  stage by stage (of it imports): "
            + ", ".join(
                f"{k} {v:.1f} s ({r['stage_imports_s'][k]:.1f})" for k, v in r["stage_s"].items()
            )
        )
    if "serving" in results and "error" not in results["serving"]:
        r, goal = results["serving"], SERVING_GOALS
        print(
            f"serving imdb: one review in process {r['one_review_ms']:.1f} ms (goal <= "
            f"{goal['one_review_ms']:.0f}); 8 clients x 10 reviews: {r['requests_per_s']:.0f} "
            f"requests/s (goal >= {goal['requests_per_s']:.0f}), p50 {r['p50_ms']:.0f} ms, "
            f"p99 {r['p99_ms']:.0f} ms (goal <= {goal['p99_ms']:.0f})"
        )
    if "batch_predict" in results:
        for size, r in results["batch_predict"].items():
            print(
                f"predict imdb, {int(size):,} reviews ({r['input_mb']:.0f} MB CSV): "
                f"{r['rows_per_s']:.0f} rows/s (start-up included), peak memory {r['peak_rss_mb']:.0f} MB"
            )
    if "noop_repro" in results:
        print(f"no-op dvc repro: {results['noop_repro'].get('median_s', float('nan')):.2f} s")
    f = results["imdb_flops"]
    print(
        f"imdb: {f['train_flops_per_epoch_full_data'] / 1e12:.2f} TFLOP per full epoch; "
        f"achieved {f['achieved_gflops']:.1f} GFLOP/s of a measured {f['matmul_gflops']:.1f} GFLOP/s "
        f"matmul rate ({100 * f['fraction_of_matmul_rate']:.1f}%)"
    )
    print("written to reports/bench.json")


if __name__ == "__main__":
    main()
