"""A horizon of several steps on a real daily series: each step's error and interval coverage.

The data mirror's daily electricity demand of Victoria (2012-2014, with the day's maximum
temperature) is declared as a bare `datasets.series` entry of a scratch project with
`preprocess.horizon` set: the demand alone, with the temperature as a past covariate, and with the
weekday and Victoria's public holidays as calendar features besides; ingest,
preprocess, train, evaluate and forecast run as `dvc repro` would run them. Printed and written to
reports/horizon_<H>.json: for each step, the model's and persistence's test RMSE over seasonal naive's,
the reference baseline chosen on the training period, and each step's interval coverage;
`--walkforward` also runs the walkforward stage and gives each step's model RMSE over seasonal
naive's on the folds inside the training period (the figures to choose a variant by), and
`--set section.key=value` tries a variant of the preset.
Usage: python benchmarks/horizon.py [--horizon 7] [--walkforward] [--set k=v ...] [--mirror DIR]
       [--keep DIR] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from series import parse_sets, run  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("ingest", "preprocess", "train", "evaluate", "forecast")
SERIES = "series/vic_elec_daily.csv"
# Each variant's preprocess settings besides the horizon.
VARIANTS: dict[str, dict] = {
    "demand": {"features": ["Demand"]},
    "temperature": {"features": ["Demand", "Temperature"]},
    "temperature_calendar": {
        "features": ["Demand", "Temperature"],
        "calendar": ["weekday", "holiday"],
        "holidays": "AU-VIC",
    },
}


def each_step(metrics: dict) -> dict[str, dict]:
    """The metrics of each step; a horizon of one has its figures at the top."""
    if "steps" in metrics:
        return metrics["steps"]
    coverage = {k: v["coverage"] for k, v in metrics["interval"].items() if isinstance(v, dict)}
    return {"1": {**metrics, "coverage": coverage}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--horizon", type=int, default=7)
    mirror = os.environ.get("LSTMOPS_MIRROR", str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--mirror", default=mirror)
    parser.add_argument("--keep", help="a folder for the scratch project (default: temporary)")
    parser.add_argument("--walkforward", action="store_true", help="score walk-forward folds too")
    parser.add_argument("--set", action="append", default=[], help="section.key=value")
    parser.add_argument("--out", help="the JSON file (default: reports/horizon_<H>.json)")
    args = parser.parse_args()
    overrides = parse_sets(args.set)
    work = Path(args.keep or tempfile.mkdtemp(prefix="lstmops-horizon-"))
    (work / "data/external").mkdir(parents=True, exist_ok=True)
    shutil.copy(Path(args.mirror) / SERIES, work / "data/external/demand.csv")
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["datasets"] = {
        "series": {
            name: {
                "source": {"path": "data/external/demand.csv"},
                **overrides,
                "preprocess": {
                    "target": "Demand",
                    "horizon": args.horizon,
                    **settings,
                    **overrides.get("preprocess", {}),
                },
            }
            for name, settings in VARIANTS.items()
        }
    }
    (work / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    results = {}
    for name in VARIANTS:
        started = time.perf_counter()
        metrics = run(work, name, STAGES)
        folds = {}
        if args.walkforward:
            run(work, name, ("walkforward",))
            walked = json.loads((work / "metrics" / f"{name}_walkforward.json").read_text())
            folds = walked.get("steps") or {"1": walked}
        steps = {
            k: {
                "model": s["model"]["rmse"] / s["seasonal_naive"]["rmse"],
                "persistence": s["persistence"]["rmse"] / s["seasonal_naive"]["rmse"],
                "reference": s["reference"],
                "coverage": s["coverage"],
                **(
                    {"walk_forward": folds[k]["model_rmse"] / folds[k]["seasonal_naive_rmse"]}
                    if folds
                    else {}
                ),
            }
            for k, s in each_step(metrics).items()
        }
        results[name] = {
            "nominal": metrics["interval"]["nominal"],
            "test_windows": metrics["test_windows"],
            "steps": steps,
            "seconds": time.perf_counter() - started,
        }
        print(f"{name} ({metrics['test_windows']} test origins, {results[name]['seconds']:.0f} s)")
        for k, s in steps.items():
            cover = "  ".join(f"{who} {c:.3f}" for who, c in s["coverage"].items())
            walked = f"; walk-forward {s['walk_forward']:.3f}" if "walk_forward" in s else ""
            print(
                f"  step {k}: RMSE / seasonal naive: model {s['model']:.3f}, persistence "
                f"{s['persistence']:.3f}; reference {s['reference']}; coverage {cover}{walked}",
                flush=True,
            )
        if folds:
            mean = sum(s["walk_forward"] for s in steps.values()) / len(steps)
            print(f"  walk-forward, mean over the steps: {mean:.3f}", flush=True)
    path = ROOT / (args.out or f"reports/horizon_{args.horizon}.json")
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps({"settings": overrides, **results}, indent=2), encoding="utf-8")
    print(f"written to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
