"""params.yaml validation: every bad value is an error that names its key."""

from pathlib import Path

import pytest
import yaml

from lstmops.config import LstmopsError, load_params, parse_params, workspace_root

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def raw() -> dict:
    return yaml.safe_load((ROOT / "params.yaml").read_text())


def test_project_params_are_valid(raw):
    params = parse_params(raw)
    assert params.stock.train.epochs == 100 and params.stock.preprocess.seq_length == 7
    assert params.imdb.preprocess.num_words == 10000 and params.imdb.preprocess.maxlen == 80


@pytest.mark.parametrize(
    ("dataset", "section", "key", "value", "named"),
    [
        ("stock", "train", "epochs", 0, "stock.train.epochs"),
        ("stock", "train", "batch_size", 0, "stock.train.batch_size"),
        ("stock", "train", "epochs", "many", "stock.train.epochs"),
        ("stock", "preprocess", "train_fraction", 0, "stock.preprocess.train_fraction"),
        ("stock", "preprocess", "train_fraction", 1, "stock.preprocess.train_fraction"),
        ("stock", "preprocess", "seq_length", 0, "stock.preprocess.seq_length"),
        ("stock", "preprocess", "scaler_fit", "everything", "stock.preprocess.scaler_fit"),
        ("stock", "train", "device", "tpu", "stock.train.device"),
        ("stock", "preprocess", "predict", "price", "stock.preprocess.predict"),
        ("stock", "preprocess", "inputs", "log", "stock.preprocess.inputs"),
        ("stock", "preprocess", "features", ["Open", "Volume"], "must include the target column"),
        ("stock", "preprocess", "features", ["Close", "Close"], "each column once"),
        ("stock", "walk_forward", "folds", 0, "stock.walk_forward.folds"),
        ("stock", "walk_forward", "period", "test", "stock.walk_forward.period"),
        ("imdb", "preprocess", "maxlen", 0, "imdb.preprocess.maxlen"),
        ("imdb", "preprocess", "num_words", 2, "imdb.preprocess.num_words"),
        ("imdb", "train", "lerning_rate", 0.1, "imdb.train.lerning_rate"),
        ("imdb", "train", "members", 0, "imdb.train.members"),
        ("stock", "train", "shrink", True, "set preprocess.predict to change"),
    ],
)
def test_bad_value_names_the_key(raw, dataset, section, key, value, named):
    raw[dataset][section][key] = value
    with pytest.raises(LstmopsError) as err:
        parse_params(raw)
    assert named in str(err.value)
    assert "params.yaml" in str(err.value)


def test_unknown_dataset_section_is_named(raw):
    raw["mnist"] = {}
    with pytest.raises(LstmopsError, match="mnist"):
        parse_params(raw)


def test_missing_params_file_says_where_to_run(tmp_path):
    with pytest.raises(LstmopsError, match="not found"):
        load_params(tmp_path / "params.yaml")


def test_dvc_temp_experiments_share_the_workspace_root(tmp_path):
    temp_copy = tmp_path / "proj" / ".dvc" / "tmp" / "exps" / "tmpabc123"
    temp_copy.mkdir(parents=True)
    assert workspace_root(temp_copy) == (tmp_path / "proj").resolve()
    assert workspace_root(tmp_path) == tmp_path.resolve()


def test_a_preset_overrides_its_dataset_section(raw):
    raw["imdb"]["preset"] = "bilstm"
    params = parse_params(raw)
    assert params.imdb.preset == "bilstm"
    assert params.imdb.preprocess.maxlen == raw["presets"]["imdb"]["bilstm"]["preprocess"]["maxlen"]
    assert params.imdb.train.bidirectional is True
    assert params.imdb.train.embedding_dim == raw["imdb"]["train"]["embedding_dim"]  # kept


def test_the_lecture_preset_is_the_lecture_model(raw):
    params = parse_params(raw)
    assert params.imdb.preset == "lecture"
    assert (params.imdb.preprocess.maxlen, params.imdb.train.units, params.imdb.train.epochs) == (
        80,
        128,
        3,
    )
    assert not params.imdb.train.bidirectional and params.imdb.train.layers == 1


def test_unknown_preset_is_named_with_the_choices(raw):
    raw["imdb"]["preset"] = "huge"
    with pytest.raises(LstmopsError, match="'huge'.*lecture, stacked, bilstm"):
        parse_params(raw)


def test_a_preset_may_not_change_the_data(raw):
    raw["presets"]["imdb"]["sneaky"] = {"validate": {"rows_per_split": 10}}
    raw["imdb"]["preset"] = "sneaky"
    with pytest.raises(LstmopsError, match="may only set preprocess and train"):
        parse_params(raw)


def test_a_bad_value_inside_a_preset_is_named(raw):
    raw["presets"]["imdb"]["bilstm"]["train"]["dropout"] = 1.5
    raw["imdb"]["preset"] = "bilstm"
    with pytest.raises(LstmopsError, match="imdb.train.dropout"):
        parse_params(raw)


def test_unknown_stock_preset_is_named(raw):
    raw["stock"]["preset"] = "oracle"
    with pytest.raises(LstmopsError, match="stock.preset is 'oracle'"):
        parse_params(raw)


def test_tickers_are_the_packaged_ones(raw):
    raw["tickers"]["names"] = ["AAPL", "TSLA"]
    with pytest.raises(LstmopsError, match="tickers.names"):
        parse_params(raw)


def test_a_ticker_uses_the_stock_settings(raw):
    params = parse_params(raw)
    assert params.section("IBM") is params.stock and params.section("imdb") is params.imdb
