"""CLI: `python -m lstmops <stage> <dataset>`; DVC calls these, and so can you."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ start-up chatter

from lstmops.config import LECTURE_NETWORKS, PARAMS_FILE, LstmopsError, load_params  # noqa: E402

# The commands besides the stages: (module, function, the arguments it takes).
COMMANDS = {
    "report": ("lstmops.report", "report", ()),
    "check": ("lstmops.config", "check", ()),
    "model-uri": ("lstmops.tracking", "champion_uri", ("dataset",)),
    "promote": ("lstmops.tracking", "promote", ("dataset", "run_id")),
    "predict": ("lstmops.predict", "predict", ("dataset", "input", "output", "model")),
    "tune": ("lstmops.tune", "tune", ("dataset", "trials", "timeout", "study")),
    "plots": ("lstmops.plots", "write", ()),
    "tracking-uri": ("lstmops.tracking", "tracking_uri", ()),
    "dvc-yaml": ("lstmops.pipeline", "write", ()),
    "server": ("lstmops.server", "serve", ("port", "db_port")),
    "server-stop": ("lstmops.server", "stop", ()),
    "server-user": ("lstmops.server", "add_user", ("dataset", "role")),
}
# For the lineage test: where each stage process appends the lstmops modules it loaded.
MODULES_LOG_ENV = "LSTMOPS_MODULES_LOG"

STAGES = {
    "ingest": "fetch the source (URL or mirror), verify its checksum, parse it into data/raw/",
    "validate": "check the raw data with Great Expectations; stop on bad data",
    "pretrain": "texts: train an LSTM language model on the training and unlabelled texts",
    "preprocess": "split, scale or tokenise, and window the data into arrays",
    "train": "fit the model and track the run in MLflow",
    "evaluate": "score the test split, write metrics and plots, log them to MLflow",
    "walkforward": "price series: expanding-window folds, each scored against persistence",
    "forecast": "price series: the next day's close after the data, with its interval",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lstmops", description=__doc__)
    commands = parser.add_subparsers(dest="stage", required=True, metavar="stage")
    _add_stages(commands)
    _add_model_commands(commands)
    _add_project_commands(commands)
    return parser


def _add_stages(stages) -> None:
    """The pipeline's stages, one dataset each, and the lecture's networks."""
    for name, help_text in STAGES.items():
        sub = stages.add_parser(name, help=help_text, description=help_text)
        sub.add_argument(
            "dataset", help="a dataset that params.yaml declares (stock, imdb, AAPL, …)"
        )
        sub.add_argument("--params", type=Path, default=Path(PARAMS_FILE), help="parameters file")
    lecture = stages.add_parser(
        "lecture",
        help="run one of the lecture's small networks (perceptron, xor_fixed, xor, words)",
    )
    lecture.add_argument("dataset", metavar="network", choices=LECTURE_NETWORKS)
    lecture.add_argument("--params", type=Path, default=Path(PARAMS_FILE), help="parameters file")


def _add_model_commands(stages) -> None:
    """What works with a dataset's trained models: its champion, promotion, predict, tune."""
    uri = stages.add_parser(
        "model-uri",
        help="print the MLflow URI of a dataset's champion model (models:/lstmops-<dataset>@champion)",
    )
    uri.add_argument("dataset", help="a dataset that params.yaml declares")
    promote = stages.add_parser(
        "promote",
        help="make a train run's model a dataset's champion (registered first if need be): a "
        "maintainer's call on a team's server",
    )
    promote.add_argument("dataset", help="a dataset that params.yaml declares")
    promote.add_argument("run_id", help="the train run, as the MLflow UI shows it")
    batch = stages.add_parser(
        "predict",
        help="score a CSV or Parquet file with a dataset's champion: reviews in, probability and "
        "label out; a price CSV in, each next day's forecast and interval out",
    )
    batch.add_argument("dataset", help="a dataset that params.yaml declares")
    batch.add_argument("input", help="the file to score (.csv or .parquet; prices: .csv)")
    batch.add_argument("output", help="where the scores go (.csv or .parquet)")
    batch.add_argument(
        "--model", default=None, help="an MLflow model URI or folder instead of the champion"
    )
    tune = stages.add_parser(
        "tune",
        help="an Optuna study over a dataset's tune.space, tracked in MLflow; writes preset "
        "tuned-<dataset>",
    )
    tune.add_argument("dataset", help="a dataset that params.yaml declares")
    tune.add_argument("--trials", type=int, default=None, help="finished trials (tune.trials)")
    tune.add_argument("--timeout", type=float, default=None, help="minutes this worker may run")
    tune.add_argument("--study", default=None, help="the study's name (<dataset>-<preset>)")


def _add_project_commands(stages) -> None:
    """What works on the whole project: params, reports, plots, the tracking server, dvc.yaml."""
    stages.add_parser(
        "check", help="validate params.yaml: every dataset's source and settings, names unique"
    ).set_defaults(dataset="params.yaml")
    stages.add_parser(
        "report", help="print the latest run of each preset of each dataset, from MLflow"
    ).set_defaults(dataset="all")
    stages.add_parser(
        "plots", help="write plots/index.html: every dataset's charts, one page that works offline"
    ).set_defaults(dataset="")
    stages.add_parser(
        "tracking-uri",
        help="print the MLflow store every command uses (MLFLOW_TRACKING_URI or mlruns/)",
    ).set_defaults(dataset="")
    server = stages.add_parser(
        "server",
        help="run a team's MLflow tracking server: PostgreSQL backend store, proxied artifacts",
    )
    server.add_argument("--port", type=int, default=5050, help="the server's port on 127.0.0.1")
    server.add_argument("--db-port", type=int, default=5433, help="the PostgreSQL cluster's port")
    server.set_defaults(dataset="")
    stages.add_parser(
        "server-stop", help="stop the PostgreSQL cluster that `server` started"
    ).set_defaults(dataset="")
    user = stages.add_parser(
        "server-user",
        help="as the tracking server's admin: add a user (password from LSTMOPS_USER_PASSWORD or "
        "asked) or change their role",
    )
    user.add_argument("dataset", metavar="name", help="the user's login")
    user.add_argument("--role", default="member", choices=("reader", "member", "maintainer"))
    stages.add_parser(
        "dvc-yaml", help="write dvc.yaml (its stages and their code deps) from the code"
    ).set_defaults(dataset="dvc.yaml")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    try:
        if args.stage in COMMANDS:  # imported by name: a stage's process loads none of them
            module, function, arguments = COMMANDS[args.stage]
            command = getattr(importlib.import_module(module), function)
            print(command(*(getattr(args, name) for name in arguments)))
            return 0
        params = load_params(args.params)
        stage = importlib.import_module(f"lstmops.stages.{args.stage}")
        if args.stage == "lecture":
            stage.lecture(args.dataset, params)
        else:
            getattr(stage, args.stage)(params.dataset(args.dataset))
    except LstmopsError as err:
        print(f"error: {args.stage} {args.dataset}: {err}", file=sys.stderr)
        return 1
    except Exception as err:  # the tracking server's refusal is a message; anything else a bug
        from lstmops.tracking import refusal  # only on an error, to word a refusal

        if (message := refusal(err)) is None:
            raise
        print(f"error: {args.stage} {args.dataset}: {message}", file=sys.stderr)
        return 1
    finally:
        _log_modules(args)
    return 0


def _log_modules(args: argparse.Namespace) -> None:
    """Append the lstmops modules this process loaded to $LSTMOPS_MODULES_LOG, if it is set."""
    log = os.environ.get(MODULES_LOG_ENV)
    if not log:
        return
    package = Path(__file__).resolve().parent
    loaded = {
        Path(f).resolve() for m in list(sys.modules.values()) if (f := getattr(m, "__file__", None))
    }
    files = sorted(
        f.relative_to(package.parents[1]).as_posix() for f in loaded if package in f.parents
    )
    with open(log, "a", encoding="utf-8") as f:
        f.write(json.dumps({"stage": args.stage, "dataset": args.dataset, "modules": files}) + "\n")


if __name__ == "__main__":
    sys.exit(main())
