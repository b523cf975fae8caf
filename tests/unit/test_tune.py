"""Tuning's pieces: a trial's values laid over the settings (validated, folds kept inside the
training period), the search space's checks, and the preset written into params.yaml as it was."""

from __future__ import annotations

import shutil

import optuna
import pytest
import yaml

from lstmops import config as cfg
from lstmops import tune
from lstmops.config import LstmopsError, parse_params

from ..conftest import ROOT


@pytest.fixture
def raw() -> dict:
    return yaml.safe_load((ROOT / "params.yaml").read_text())


def test_a_trial_draws_each_setting_of_the_space(raw):
    space = parse_params(raw).dataset("stock").settings.tune.space
    fixed = optuna.trial.FixedTrial(
        {"train.units": 7, "train.learning_rate": 0.003, "preprocess.seq_length": 10}
    )
    assert tune.suggest(fixed, space) == {
        "train.units": 7,
        "train.learning_rate": 0.003,
        "preprocess.seq_length": 10,
    }


def test_a_trials_values_are_validated_and_its_folds_stay_in_the_training_period(raw):
    raw["prices"]["walk_forward"]["period"] = "all"
    stock = parse_params(raw).dataset("stock")
    trial = tune.with_values(stock, {"train.units": 5, "preprocess.seq_length": 12})
    assert trial.settings.train.units == 5 and trial.settings.preprocess.seq_length == 12
    assert trial.settings.walk_forward.period == "train"  # never the test period
    assert trial.settings.train.epochs == stock.settings.train.epochs  # the rest as it was
    with pytest.raises(LstmopsError, match="train.units"):
        tune.with_values(stock, {"train.units": 0})


@pytest.mark.parametrize(
    ("task", "key", "value", "message"),
    [
        ("prices", "walk_forward.folds", {"type": "int", "low": 2, "high": 4}, "not a setting of"),
        ("prices", "train.unit", {"type": "int", "low": 2, "high": 4}, "not a setting of"),
        ("sentiment", "preprocess.maxlen", {"type": "int", "low": 80, "high": 400}, "not a setting of train"),
        ("prices", "train.units", {"type": "int", "low": 8, "high": 4}, "low < high"),
        ("prices", "train.learning_rate", {"type": "float", "low": 0, "high": 1, "log": True}, "log scale"),
        ("prices", "train.activation", {"type": "categorical"}, "takes choices"),
    ],
)  # fmt: skip
def test_a_bad_search_space_is_named(raw, task, key, value, message):
    raw[task]["tune"]["space"][key] = value
    with pytest.raises(LstmopsError, match=message):
        parse_params(raw)


def test_the_best_values_become_a_preset_and_params_yaml_keeps_its_comments(tmp_path, raw):
    path = tmp_path / "params.yaml"
    shutil.copy(ROOT / "params.yaml", path)
    raw["prices"]["preset"] = "change"
    stock = parse_params(raw).dataset("stock")
    tune.write_preset(path, stock, "tuned-stock", {"train.units": 6, "preprocess.seq_length": 9})
    text = path.read_text()
    assert "# Every setting that changes a result." in text  # the file's own comments stay
    assert "tuned from change by `python -m lstmops tune stock`" in text
    written = yaml.safe_load(text)
    assert written["presets"]["prices"]["tuned-stock"] == {
        # the change preset's values, with the best ones laid over them
        "preprocess": {"inputs": "return", "predict": "change", "seq_length": 9},
        "train": {
            "units": 6,
            "activation": "tanh",
            "early_stopping_patience": 20,
            "validation_fraction": 0.2,
        },
    }
    del written["presets"]["prices"]["tuned-stock"]
    assert written == yaml.safe_load((ROOT / "params.yaml").read_text())  # nothing else changed
    written = yaml.safe_load(text)
    written["prices"]["preset"] = "tuned-stock"
    assert parse_params(written).dataset("stock").settings.train.units == 6
    assert cfg.PARAMS_FILE == "params.yaml"
