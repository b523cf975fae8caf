"""lecture: run one of the lecture's small networks; write its metrics; record an MLflow run."""

from __future__ import annotations

import mlflow
import numpy as np

from lstmops import lecture as lec
from lstmops import tracking
from lstmops.config import Params
from lstmops.io import write_json
from lstmops.layout import metrics_file
from lstmops.tracking import flat

EXPERIMENT = "lecture"
DESCRIPTION = (
    "The lecture's small networks, one run each: a perceptron (learns AND and OR, never XOR), XOR "
    "with hand-set weights and learned by an MLP (metric `solved`), and a many-to-one character "
    "RNN on four words (metric `accuracy`)."
)


def _perceptron(params: Params) -> tuple[dict, dict]:
    p = params.lecture.perceptron
    gates = {
        gate: lec.train_perceptron(lec.BOOLEAN_INPUTS, targets, p.learning_rate, p.max_epochs)
        for gate, targets in lec.GATES.items()
    }
    return p.model_dump(), gates


def _xor_fixed(params: Params) -> tuple[dict, dict]:
    outputs = lec.xor_fixed()
    separates = bool(np.array_equal(outputs >= 0.5, lec.GATES["xor"] == 1))
    return {}, {"outputs": outputs.tolist(), "separates_xor": separates}


def _xor(params: Params) -> tuple[dict, dict]:
    p = params.lecture.xor
    return p.model_dump(), lec.train_xor(
        p.hidden, p.learning_rate, p.batch_size, p.max_epochs, p.seed
    )


def _words(params: Params) -> tuple[dict, dict]:
    p = params.lecture.words
    result = lec.train_words(
        list(p.words), list(p.labels), p.maxlen, p.cell, p.units, p.epochs, p.learning_rate, p.seed
    )
    return p.model_dump(mode="json"), result


def lecture(network: str, params: Params) -> None:
    """Run `network`, write metrics/lecture/<network>.json and log the same to MLflow."""

    used, result = {
        "perceptron": _perceptron,
        "xor_fixed": _xor_fixed,
        "xor": _xor,
        "words": _words,
    }[network](params)
    write_json(metrics_file(f"lecture/{network}"), result)
    tracking.use_store(EXPERIMENT, description=DESCRIPTION)
    with mlflow.start_run(
        run_name=network, tags={**tracking.run_tags(EXPERIMENT), "network": network}
    ):
        mlflow.log_params({k: str(v) for k, v in flat(used).items()})
        numbers = {
            k: float(v) for k, v in flat(result).items() if isinstance(v, bool | int | float)
        }
        mlflow.log_metrics(numbers)
        mlflow.log_dict(result, f"{network}.json")
    print(f"lecture {network}: {result}")
