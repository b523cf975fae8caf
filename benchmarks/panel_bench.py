"""Many series: a seeded synthetic panel through `dvc repro` as one dataset, against per-series models.

In a throw-away copy of the project that declares only the panel (and, later, the baselines):
1. `dvc repro` of the panel (`{source: {path: data/external/panel.csv}}`): wall time up to evaluate
   and of the rest (walkforward, forecast, the lecture's networks), peak memory of any stage;
2. a no-op `dvc repro` (median of 3);
3. the per-series baseline: the first --baseline series, each its own dataset (the lecture's
   settings, as a single series gets), up to evaluate: seconds per series, and their RMSE ratio to
   persistence against the panel model's on the same series and test days;
4. the four bokeh-sampledata tickers as one panel against the project's four per-series models
   (metrics/<ticker>.json of the workspace, after `make repro`): the same rows and test periods.

Writes reports/panel_bench.json and prints a table. Usage:
  python benchmarks/panel_bench.py [--series 300] [--days 800] [--baseline 5]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from panel import panel  # noqa: E402

TICKERS = ("AAPL", "GOOG", "IBM", "MSFT")
GIT = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com"]


def _run(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    return time.perf_counter() - start


def copy_project(proj: Path) -> None:
    """The project's tracked files copied to `proj`, without dvc.lock (nothing run yet)."""
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    for name in files.stdout.split():
        (proj / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, proj / name)
    (proj / "dvc.lock").unlink(missing_ok=True)
    _run(["git", "init", "-q"], proj)


def declare(proj: Path, datasets: dict, task: str = "prices") -> None:
    """params.yaml with these datasets of `task` only; dvc.yaml written for them; committed."""
    params = yaml.safe_load((proj / "params.yaml").read_text())
    params["datasets"] = {"prices": {}, "series": {}, "sentiment": {}, task: datasets}
    (proj / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    _run([sys.executable, "-m", "lstmops", "dvc-yaml"], proj)
    _run([*GIT, "add", "-A"], proj)
    _run([*GIT, "commit", "-qm", "declare", "--allow-empty"], proj)


def _ratios(proj: Path, dataset: str) -> dict[str, float]:
    metrics = json.loads((proj / f"metrics/{dataset}.json").read_text())
    return {name: m["rmse_ratio"] for name, m in metrics["per_series"].items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=300)
    parser.add_argument("--days", type=int, default=800)
    parser.add_argument("--baseline", type=int, default=5, help="series run one by one")
    args = parser.parse_args()
    results: dict = {"series": args.series, "days": args.days}
    with tempfile.TemporaryDirectory() as tmp:
        proj = Path(tmp) / "proj"
        table = panel(args.series, args.days, seed=0)
        external = proj / "data/external"
        external.mkdir(parents=True, exist_ok=True)
        table.to_csv(external / "panel.csv", index=False)
        copy_project(proj)
        declare(proj, {"panel": {"source": {"path": "data/external/panel.csv"}}})

        evaluate = _run(["dvc", "repro", "prices-evaluate@panel"], proj)
        rest = _run(["dvc", "repro"], proj)
        noop = [_run(["dvc", "repro"], proj) for _ in range(3)]
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        summary = json.loads((proj / "metrics/panel.json").read_text())["series"]
        results["panel"] = {
            "to_evaluate_s": evaluate,
            "walkforward_forecast_lecture_s": rest,
            "total_s": evaluate + rest,
            "noop_repro_s": statistics.median(noop),
            "peak_stage_rss_mb": peak_mb,
            "summary": summary,
        }
        print(json.dumps(results["panel"], indent=1), flush=True)

        # the per-series baseline on the first series, and the tickers as one panel
        names = sorted(table["Ticker"].unique())[: args.baseline]
        for name in names:
            rows = table[table["Ticker"] == name].drop(columns="Ticker")
            rows.to_csv(external / f"{name}.csv", index=False)
        from lstmops.data.tickers import read_ticker

        tickers = pd.concat([read_ticker(t).assign(Ticker=t) for t in TICKERS])
        tickers.to_csv(external / "tickers.csv", index=False)
        declared = {"panel": {"source": {"path": "data/external/panel.csv"}}}
        declared |= {n: {"source": {"path": f"data/external/{n}.csv"}} for n in names}
        declared["tickers"] = {"source": {"path": "data/external/tickers.csv"}}
        declare(proj, declared)
        one_by_one = _run(["dvc", "repro", *(f"prices-evaluate@{n}" for n in names)], proj)
        panel_ratios = _ratios(proj, "panel")
        single = {
            n: json.loads((proj / f"metrics/{n}.json").read_text())["rmse_ratio"] for n in names
        }
        results["baseline"] = {
            "series": len(names),
            "seconds_per_series": one_by_one / len(names),
            "all_series_estimate_s": one_by_one / len(names) * args.series,
            "per_series_ratio": single,
            "panel_ratio": {n: panel_ratios[n] for n in names},
        }
        tickers_s = _run(["dvc", "repro", "prices-evaluate@tickers"], proj)
        together = _ratios(proj, "tickers")
        apart = {}
        for t in TICKERS:
            path = ROOT / f"metrics/{t}.json"
            apart[t] = json.loads(path.read_text())["rmse_ratio"] if path.is_file() else None
        results["tickers"] = {
            "panel_s": tickers_s,
            "panel_ratio": together,
            "per_series_ratio": apart,
        }
    out = ROOT / "reports/panel_bench.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=1))
    p, b, t = results["panel"], results["baseline"], results["tickers"]
    print(f"\n{args.series} series x {args.days} days, one dataset:")
    print(
        f"  dvc repro to evaluate {p['to_evaluate_s']:.0f} s, the rest {p['walkforward_forecast_lecture_s']:.0f} s, total {p['total_s'] / 60:.1f} min"
    )
    print(
        f"  no-op dvc repro {p['noop_repro_s']:.1f} s, peak stage memory {p['peak_stage_rss_mb']:.0f} MB"
    )
    print(
        f"  mean RMSE ratio {p['summary']['mean_rmse_ratio']:.4f}, beating persistence {p['summary']['beating_persistence']:.0%}"
    )
    print(
        f"per series, one dataset each: {b['seconds_per_series']:.0f} s a series, ~{b['all_series_estimate_s'] / 3600:.1f} h for {args.series}"
    )
    for n in b["per_series_ratio"]:
        print(
            f"  {n}: per-series model {b['per_series_ratio'][n]:.4f}, panel {b['panel_ratio'][n]:.4f}"
        )
    print(f"tickers as one panel ({t['panel_s']:.0f} s):")
    for n in TICKERS:
        alone = t["per_series_ratio"][n]
        print(
            f"  {n}: panel {t['panel_ratio'][n]:.4f}, per-series {'-' if alone is None else f'{alone:.4f}'}"
        )
    print(f"wrote {out}")


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # dvc and the stages' python: this interpreter's environment (the project's .venv)
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    main()
