"""The NB-weighted n-gram baseline's cost against the data: seconds and peak memory of what
preprocess does (hash both splits, choose C, refit, score), on imdb's reviews repeated 1x and 5x
(`--times 0.2 1`: a seeded fifth of them, and all).

Each size runs in a process of its own, so that its peak memory is its own. Run after the imdb
preprocess stage (it reads data/raw/imdb). Writes reports/linear_scaling.json and prints a table.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def one(times: float) -> dict:
    """The baseline on `times` copies of each split (a seeded share of its rows below 1), in this
    process."""
    import math

    import pandas as pd

    from lstmops import ngrams

    raw = ROOT / "data/raw/imdb"
    tables = {split: pd.read_parquet(raw / f"{split}.parquet") for split in ("train", "test")}
    if times < 1:
        tables = {s: t.sample(frac=times, random_state=0) for s, t in tables.items()}
    copies = max(1, math.floor(times))
    start = time.perf_counter()
    texts = {s: ngrams.marked(t["text"].tolist()) * copies for s, t in tables.items()}
    labels = pd.concat([tables["train"]["label"]] * copies).to_numpy()
    x_train, x_test = ngrams.features(texts["train"]), ngrams.features(texts["test"])
    hashed = time.perf_counter()
    _, c = ngrams.baseline(x_train, labels, x_test)
    return {
        "reviews": len(texts["train"]) + len(texts["test"]),
        "seconds": time.perf_counter() - start,
        "hash_seconds": hashed - start,
        "C": c,
        "peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--times", type=float, nargs="*", default=[1, 5])
    parser.add_argument("--one", type=float, help=argparse.SUPPRESS)  # a child process's size
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one)))
        return
    rows = []
    for times in args.times:
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(times)], capture_output=True, text=True
        )
        if out.returncode:
            sys.exit(out.stderr[-2000:])
        rows.append(json.loads(out.stdout.splitlines()[-1]))
        row = rows[-1]
        print(
            f"{row['reviews']:>8} reviews  {row['seconds']:7.1f} s  (hashing {row['hash_seconds']:.1f} s)"
            f"  C={row['C']:g}  peak {row['peak_gb']:.2f} GB",
            flush=True,
        )
    if len(rows) > 1:
        grow = rows[-1]["seconds"] / rows[0]["seconds"]
        data = rows[-1]["reviews"] / rows[0]["reviews"]
        print(f"{grow:.2f}x the time for {data:.0f}x the reviews")
    (ROOT / "reports").mkdir(exist_ok=True)
    (ROOT / "reports/linear_scaling.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
