"""CLI: `python -m lstmops <stage> <dataset>`; DVC calls these, and so can you."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ start-up chatter

from lstmops.config import (  # noqa: E402
    DATASETS,
    LECTURE_NETWORKS,
    PARAMS_FILE,
    TICKERS,
    LstmopsError,
    load_params,
)

STAGES = {
    "ingest": "fetch the source (URL or mirror), verify its checksum, parse it into data/raw/",
    "validate": "check the raw data with Great Expectations; stop on bad data",
    "preprocess": "split, scale or tokenise, and window the data into arrays",
    "train": "fit the model and track the run in MLflow",
    "evaluate": "score the test split, write metrics and plots, log them to MLflow",
    "walkforward": "stock and tickers: expanding-window folds, each scored against persistence",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lstmops", description=__doc__)
    stages = parser.add_subparsers(dest="stage", required=True, metavar="stage")
    for name, help_text in STAGES.items():
        sub = stages.add_parser(name, help=help_text, description=help_text)
        sub.add_argument(
            "dataset", choices=DATASETS + TICKERS, help="which dataset's pipeline to run"
        )
        sub.add_argument("--params", type=Path, default=Path(PARAMS_FILE), help="parameters file")
    uri = stages.add_parser(
        "model-uri", help="print the MLflow URI of the latest logged model of a dataset"
    )
    uri.add_argument("dataset", choices=DATASETS + TICKERS)
    stages.add_parser(
        "report", help="print the latest run of each preset of each dataset, from MLflow"
    ).set_defaults(dataset="all")
    lecture = stages.add_parser(
        "lecture",
        help="run one of the lecture's small networks (perceptron, xor_fixed, xor, words)",
    )
    lecture.add_argument("dataset", metavar="network", choices=LECTURE_NETWORKS)
    lecture.add_argument("--params", type=Path, default=Path(PARAMS_FILE), help="parameters file")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    try:
        if args.stage == "report":
            from lstmops.report import report

            print(report())
            return 0
        if args.stage == "model-uri":
            from lstmops.tracking import latest_model_uri

            print(latest_model_uri(args.dataset))
            return 0
        params = load_params(args.params)
        module = importlib.import_module(f"lstmops.stages.{args.stage}")
        getattr(module, args.stage)(args.dataset, params)
    except LstmopsError as err:
        print(f"error: {args.stage} {args.dataset}: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
