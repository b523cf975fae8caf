"""params.yaml validation: every bad value is an error that names its key."""

from pathlib import Path

import pytest
import yaml

from lstmops.config import SETTINGS, LstmopsError, load_params, parse_params, workspace_root

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def raw() -> dict:
    return yaml.safe_load((ROOT / "params.yaml").read_text())


def test_project_params_are_valid(raw):
    params = parse_params(raw)
    assert params.names() == ["stock", "AAPL", "GOOG", "IBM", "MSFT", "unemployment", "imdb"]
    stock, imdb = params.dataset("stock"), params.dataset("imdb")
    assert (stock.task, stock.source.format, stock.settings.train.epochs) == (
        "prices",
        "lecture",
        100,
    )
    assert stock.settings.preprocess.seq_length == 7
    assert imdb.task == "sentiment" and imdb.settings.preprocess.num_words == 10000
    assert imdb.settings.preprocess.maxlen == 80
    assert imdb.settings.validate_.rows_per_split == 25000  # the dataset's own override
    assert params.dataset("IBM").source.ticker == "IBM"


@pytest.mark.parametrize(
    ("task", "section", "key", "value", "named"),
    [
        ("prices", "train", "epochs", 0, "prices.train.epochs"),
        ("prices", "train", "batch_size", 0, "prices.train.batch_size"),
        ("prices", "train", "epochs", "many", "prices.train.epochs"),
        ("prices", "preprocess", "train_fraction", 0, "prices.preprocess.train_fraction"),
        ("prices", "preprocess", "train_fraction", 1, "prices.preprocess.train_fraction"),
        ("prices", "preprocess", "seq_length", 0, "prices.preprocess.seq_length"),
        ("prices", "preprocess", "scaler_fit", "everything", "prices.preprocess.scaler_fit"),
        ("prices", "train", "device", "tpu", "prices.train.device"),
        ("prices", "train", "activation", "rleu", "prices.train.activation"),
        ("prices", "preprocess", "predict", "price", "prices.preprocess.predict"),
        ("prices", "preprocess", "inputs", "log", "prices.preprocess.inputs"),
        ("prices", "preprocess", "features", ["Open", "Volume"], "must include the target column"),
        ("prices", "preprocess", "features", ["Close", "Close"], "each column once"),
        ("prices", "walk_forward", "folds", 0, "prices.walk_forward.folds"),
        ("prices", "walk_forward", "period", "test", "prices.walk_forward.period"),
        ("sentiment", "preprocess", "maxlen", 0, "sentiment.preprocess.maxlen"),
        ("sentiment", "preprocess", "num_words", 2, "sentiment.preprocess.num_words"),
        ("sentiment", "train", "lerning_rate", 0.1, "sentiment.train.lerning_rate"),
        ("sentiment", "train", "members", 0, "sentiment.train.members"),
        ("sentiment", "train", "pooling", "avg", "sentiment.train.pooling"),
        ("prices", "train", "shrink", True, "set preprocess.predict to change"),
        ("prices", "forecast", "window", 8, "needs a window of at least 9 days"),
        ("prices", "forecast", "coverage", 1, "prices.forecast.coverage"),
    ],
)
def test_bad_value_names_the_key(raw, task, section, key, value, named):
    raw[task][section][key] = value
    with pytest.raises(LstmopsError) as err:
        parse_params(raw)
    assert named in str(err.value)
    assert "params.yaml" in str(err.value)


def test_a_dataset_overrides_its_task_settings_and_errors_name_its_key(raw):
    raw["datasets"]["prices"]["IBM"]["train"] = {"epochs": 7}
    params = parse_params(raw)
    assert params.dataset("IBM").settings.train.epochs == 7
    assert params.dataset("stock").settings.train.epochs == 100
    raw["datasets"]["prices"]["IBM"]["train"] = {"epochs": -1}
    with pytest.raises(LstmopsError, match=r"datasets\.prices\.IBM\.train\.epochs"):
        parse_params(raw)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ({}, "exactly one of path, url or package"),
        ({"path": "data/external/a.csv", "url": "http://x"}, "exactly one of path, url or package"),
        ({"url": "http://x/a.csv"}, "a url needs its sha256"),
        ({"path": "/home/me/a.csv"}, "must lie under data/external/"),
        ({"path": "data/external/../../a.csv"}, "must lie under data/external/"),
        ({"package": "bokeh-sampledata"}, "needs a ticker"),
        ({"package": "bokeh-sampledata", "ticker": "TSLA"}, "ticker"),
    ],
)
def test_a_bad_source_is_named(raw, source, message):
    raw["datasets"]["prices"]["acme"] = {"source": source}
    with pytest.raises(LstmopsError, match=message) as err:
        parse_params(raw)
    assert "datasets.prices.acme.source" in str(err.value)


def test_a_url_is_found_in_a_mirror_by_its_file_name_unless_told(raw):
    sha = "0" * 64
    raw["datasets"]["prices"]["acme"] = {
        "source": {"url": "https://x.org/d/acme.csv", "sha256": sha}
    }
    params = parse_params(raw)
    assert params.dataset("acme").source.local_name == "acme.csv"
    assert params.dataset("stock").source.local_name == "stock/data-02-stock_daily.csv"


def test_a_users_own_dataset_needs_only_its_source(raw):
    raw["datasets"]["prices"]["acme"] = {"source": {"path": "data/external/acme.csv"}}
    raw["datasets"]["sentiment"]["reviews"] = {"source": {"path": "data/external/reviews.csv"}}
    params = parse_params(raw)
    assert params.dataset("acme").task == "prices"
    assert params.dataset("reviews").settings.validate_.rows_per_split is None


def test_names_are_unique_and_safe(raw):
    raw["datasets"]["sentiment"]["stock"] = {"source": {"path": "data/external/s.csv"}}
    with pytest.raises(LstmopsError, match="under both datasets.prices and datasets.sentiment"):
        parse_params(raw)
    del raw["datasets"]["sentiment"]["stock"]
    raw["datasets"]["prices"]["my data"] = {"source": {"path": "data/external/s.csv"}}
    with pytest.raises(LstmopsError, match="letters, digits"):
        parse_params(raw)


def test_an_undeclared_dataset_lists_the_declared_ones(raw):
    with pytest.raises(LstmopsError, match="no dataset 'mnist'.*stock, AAPL"):
        parse_params(raw).dataset("mnist")


def test_the_schema_defaults_agree_with_params_yaml(raw):
    """Defaults live in params.yaml; where the schema has one too, it must be the same (a search
    space has none: the schema's is empty). The series section differs from the schema's (the
    lecture's prices) by design: it is the settings a series that is not prices starts from."""
    for task, model in SETTINGS.items():
        if task == "series":
            continue
        defaults = model().model_dump(by_alias=True)
        for section, values in raw[task].items():
            if isinstance(values, dict):
                for key, value in values.items():
                    if isinstance(value, dict) and defaults[section][key] == {}:
                        continue
                    value = tuple(value) if isinstance(value, list) else value
                    assert defaults[section][key] == value, f"{task}.{section}.{key}"


def test_missing_params_file_says_where_to_run(tmp_path):
    with pytest.raises(LstmopsError, match="not found"):
        load_params(tmp_path / "params.yaml")


def test_dvc_temp_experiments_share_the_workspace_root(tmp_path):
    temp_copy = tmp_path / "proj" / ".dvc" / "tmp" / "exps" / "tmpabc123"
    temp_copy.mkdir(parents=True)
    assert workspace_root(temp_copy) == (tmp_path / "proj").resolve()
    assert workspace_root(tmp_path) == tmp_path.resolve()


def test_a_preset_overrides_its_task_section(raw):
    raw["sentiment"]["preset"] = "bilstm"
    imdb = parse_params(raw).dataset("imdb").settings
    assert imdb.preset == "bilstm"
    assert imdb.preprocess.maxlen == raw["presets"]["sentiment"]["bilstm"]["preprocess"]["maxlen"]
    assert imdb.train.bidirectional is True
    assert imdb.train.embedding_dim == raw["sentiment"]["train"]["embedding_dim"]  # kept


def test_a_dataset_may_choose_its_own_preset(raw):
    raw["datasets"]["prices"]["IBM"]["preset"] = "change"
    params = parse_params(raw)
    assert params.dataset("IBM").settings.preprocess.predict == "change"
    assert params.dataset("stock").settings.preprocess.predict == "level"


def test_the_lecture_preset_is_the_lecture_model(raw):
    imdb = parse_params(raw).dataset("imdb").settings
    assert imdb.preset == "lecture"
    assert (imdb.preprocess.maxlen, imdb.train.units, imdb.train.epochs) == (80, 128, 3)
    assert not imdb.train.bidirectional and imdb.train.layers == 1


def test_unknown_preset_is_named_with_the_choices(raw):
    raw["sentiment"]["preset"] = "huge"
    with pytest.raises(LstmopsError, match="'huge'.*lecture, stacked, bilstm"):
        parse_params(raw)


def test_a_preset_may_not_change_the_data(raw):
    raw["presets"]["sentiment"]["sneaky"] = {"validate": {"rows_per_split": 10}}
    raw["sentiment"]["preset"] = "sneaky"
    with pytest.raises(LstmopsError, match="may only set preprocess and train"):
        parse_params(raw)


def test_a_bad_value_inside_a_preset_is_named(raw):
    raw["presets"]["sentiment"]["bilstm"]["train"]["dropout"] = 1.5
    raw["sentiment"]["preset"] = "bilstm"
    with pytest.raises(LstmopsError, match="sentiment.train.dropout"):
        parse_params(raw)


def test_unknown_prices_preset_is_named(raw):
    raw["prices"]["preset"] = "oracle"
    with pytest.raises(LstmopsError, match="prices.preset .* is 'oracle'"):
        parse_params(raw)


def test_a_pretrained_classifier_must_have_the_language_models_shapes(raw):
    raw["presets"]["sentiment"]["mine"] = {
        "preprocess": {"pretrained": True, "num_words": 20000},
        "train": {"units": 64, "bidirectional": True},
    }
    raw["sentiment"]["preset"] = "mine"
    raw["sentiment"]["pretrain"]["epochs"] = 1
    with pytest.raises(LstmopsError) as err:
        parse_params(raw)
    assert "train.units is 64, the language model's 128" in str(err.value)
    assert "train.bidirectional is True, the language model's False" in str(err.value)
    assert "preprocess.num_words" not in str(err.value)  # that one agrees
    assert "pretrain.epochs" not in str(err.value)
    raw["presets"]["sentiment"]["mine"]["train"] = {}
    raw["sentiment"]["pretrain"]["epochs"] = 0
    with pytest.raises(LstmopsError, match="pretrain.epochs is 0: there is no language model"):
        parse_params(raw)


def test_the_language_model_is_shared_by_every_preset_not_set_by_one(raw):
    raw["presets"]["sentiment"]["mine"] = {"pretrain": {"epochs": 3}}
    raw["sentiment"]["preset"] = "mine"
    with pytest.raises(LstmopsError, match="may only set preprocess and train"):
        parse_params(raw)
    raw["datasets"]["sentiment"]["imdb"]["pretrain"] = {"output_words": 30000}
    raw["sentiment"]["preset"] = "lecture"
    with pytest.raises(LstmopsError, match="output_words must not exceed num_words"):
        parse_params(raw)


def test_a_hybrid_needs_a_validation_slice_for_its_weights(raw):
    raw["sentiment"]["train"]["combine"] = "linear"
    parse_params(raw)
    raw["sentiment"]["train"]["validation_fraction"] = 0
    with pytest.raises(
        LstmopsError, match="combine is 'linear'.*validation_fraction must be above 0"
    ):
        parse_params(raw)


def test_document_vectors_are_a_part_of_the_hybrid(raw):
    raw["sentiment"]["train"]["docvectors"] = True
    with pytest.raises(LstmopsError, match="docvectors is a part of the hybrid.*combine to linear"):
        parse_params(raw)
    raw["sentiment"]["train"]["combine"] = "linear"
    parse_params(raw)
