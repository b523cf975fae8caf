"""params.yaml -> validated, typed settings, and the project's paths.

Every value that changes a result lives in params.yaml; this module is the only reader of it, so a
typo or an impossible value is caught once, with the key named, before any work starts.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

DATASETS = ("stock", "imdb")
Dataset = Literal["stock", "imdb"]
# Daily OHLCV (2000-2013) that the bokeh-sampledata package ships; each is a dataset of its own that
# shares the stock section's settings.
TICKERS = ("AAPL", "GOOG", "IBM", "MSFT", "FB")
TICKER_PACKAGE = "bokeh-sampledata"
MIRROR_ENV = "LSTMOPS_MIRROR"
PARAMS_FILE = "params.yaml"
STOCK_COLUMNS = ("Open", "High", "Low", "Volume", "Close")


class LstmopsError(Exception):
    """An error the user can fix: its message says what is wrong and how to fix it."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


PositiveInt = Annotated[int, Field(gt=0)]
Fraction = Annotated[float, Field(gt=0, lt=1)]


class Source(_Strict):
    """Where a dataset's file comes from: a URL, or the same file under a local mirror directory."""

    url: str
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    mirror_path: (
        str  # the file's path inside a mirror directory, e.g. stock/data-02-stock_daily.csv
    )
    mirror: str | None = None  # a mirror directory; the LSTMOPS_MIRROR environment variable wins


class Train(_Strict):
    """Settings every training stage shares."""

    epochs: PositiveInt
    batch_size: PositiveInt
    learning_rate: Annotated[float, Field(gt=0)] = 0.001
    validation_fraction: Annotated[float, Field(ge=0, lt=1)] = 0.1
    seed: int = 42
    early_stopping_patience: Annotated[int, Field(ge=0)] = (
        0  # 0 = off; else restores the best epoch
    )
    # 0 = off; else the learning rate is multiplied by 0.2 after this many epochs without a better val_loss
    reduce_lr_patience: Annotated[int, Field(ge=0)] = 0
    checkpoint_seconds: Annotated[float, Field(ge=0)] = 5.0  # save for resuming at most this often
    device: Literal["auto", "cpu", "gpu"] = "auto"
    mixed_precision: bool = False  # float16 compute on a GPU (the output layer stays float32)
    # none | mirrored (the GPUs of one machine) | multi_worker (refused: see training.make_strategy)
    distribution: Literal["none", "mirrored", "multi_worker"] = "none"
    # An ensemble: this many models of the same settings, initialised apart and trained side by side
    # in one fit on the same batches; the saved model predicts their mean.
    members: PositiveInt = 1


class StockPreprocess(_Strict):
    seq_length: PositiveInt = 7
    train_fraction: Fraction = 0.7
    features: tuple[Literal["Open", "High", "Low", "Volume", "Close"], ...] = STOCK_COLUMNS
    target: Literal["Close"] = "Close"
    # Fewest test windows whose metrics mean something; fewer is a settings error, not a result.
    min_test_windows: PositiveInt = 30
    # "train" fits the scaler on the training rows only; "all" reproduces the lecture's leak.
    scaler_fit: Literal["train", "all"] = "train"
    inputs: Literal["level", "return"] = "level"  # return: day-over-day changes within a window
    predict: Literal["level", "change", "return"] = "level"  # next close, its change or its return

    @model_validator(mode="after")
    def _features_hold_target(self) -> StockPreprocess:
        if self.target not in self.features:
            raise ValueError(
                f"features must include the target column {self.target}: the forecast starts from it"
            )
        if len(set(self.features)) != len(self.features):
            raise ValueError("features must name each column once")
        if self.inputs == "return" and self.seq_length < 2:
            raise ValueError(
                "inputs 'return' needs seq_length of at least 2 (one day-over-day step)"
            )
        return self


class WalkForward(_Strict):
    """Expanding-window folds: fold k trains on every window before its block and tests on the block."""

    period: Literal["train", "all"] = (
        "train"  # train: inside the training part only (safe to tune on)
    )
    initial_fraction: Fraction = 0.5  # of the period's windows, training the first fold
    folds: PositiveInt = 4
    retrain: bool = True  # false: train once on the first fold's windows, predict every block


LSTM_ACTIVATIONS = ("relu", "tanh", "sigmoid", "elu", "selu", "gelu", "softsign", "linear")


class StockTrain(Train):
    units: PositiveInt = 16
    activation: Literal[LSTM_ACTIVATIONS] = "relu"
    epochs: PositiveInt = 100
    batch_size: PositiveInt = 16
    # Pull the forecast change toward 0 (persistence) by the factor in [0, 1] that minimises the
    # validation slice's squared error: the model keeps only as much of its change as held up there.
    shrink: bool = False


class StockParams(_Strict):
    preset: str = "lecture"  # a name under presets.stock; its values override this section's
    source: Source
    preprocess: StockPreprocess
    train: StockTrain
    walk_forward: WalkForward = WalkForward()

    @model_validator(mode="after")
    def _shrink_has_a_change_and_a_slice(self) -> StockParams:
        if self.train.shrink and self.preprocess.predict == "level":
            raise ValueError(
                "train.shrink pulls a predicted change toward 0: set preprocess.predict to change "
                "or return, or shrink to false"
            )
        if self.train.shrink and not self.train.validation_fraction:
            raise ValueError(
                "train.shrink fits its factor on the validation slice: set "
                "train.validation_fraction above 0, or shrink to false"
            )
        return self


class ImdbIngest(_Strict):
    # Cap on reviews per split (half pos, half neg) for quick runs; null reads everything.
    max_rows_per_split: PositiveInt | None = None


class ImdbValidate(_Strict):
    rows_per_split: PositiveInt = 25000
    balance_tolerance: Annotated[float, Field(ge=0, le=0.5)] = 0.05


RESERVED_INDICES = 2  # 0 = padding, 1 = out-of-vocabulary


class ImdbPreprocess(_Strict):
    num_words: Annotated[int, Field(gt=RESERVED_INDICES)] = 10000
    maxlen: PositiveInt = 80


class ImdbTrain(Train):
    embedding_dim: PositiveInt = 128
    units: PositiveInt = 128
    layers: PositiveInt = 1  # stacked LSTM layers
    bidirectional: bool = False
    embedding_dropout: Annotated[float, Field(ge=0, lt=1)] = 0.0  # drops whole word vectors
    # last: the top LSTM's final state (the lecture) | max, max_mean: pooled over every time step
    pooling: Literal["last", "max", "max_mean"] = "last"
    dropout: Annotated[float, Field(ge=0, lt=1)] = (
        0.0  # after each LSTM layer (not recurrent: cuDNN)
    )
    epochs: PositiveInt = 3
    batch_size: PositiveInt = 32
    validation_fraction: Annotated[float, Field(ge=0, lt=1)] = 0.2


class ImdbParams(_Strict):
    preset: str = "lecture"  # a name under presets.imdb; its values override this section's
    source: Source
    ingest: ImdbIngest = ImdbIngest()
    validate_: ImdbValidate = Field(ImdbValidate(), alias="validate")
    preprocess: ImdbPreprocess = ImdbPreprocess()
    train: ImdbTrain


class Perceptron(_Strict):
    learning_rate: Annotated[float, Field(gt=0)] = 0.1
    max_epochs: PositiveInt = 100


class XorMlp(_Strict):
    hidden: PositiveInt = 3
    learning_rate: Annotated[float, Field(gt=0)] = 0.1
    batch_size: PositiveInt = 4
    max_epochs: PositiveInt = 20000
    seed: int = 42


class Words(_Strict):
    words: tuple[str, ...] = ("good", "bad", "worse", "so good")
    labels: tuple[Literal[0, 1], ...] = (1, 0, 0, 1)
    maxlen: PositiveInt = 10
    cell: Literal["SimpleRNN", "LSTM"] = "SimpleRNN"
    units: PositiveInt = 10
    epochs: PositiveInt = 50
    learning_rate: Annotated[float, Field(gt=0)] = 0.05
    seed: int = 42

    @model_validator(mode="after")
    def _one_label_per_word(self) -> Words:
        if len(self.words) != len(self.labels) or not self.words:
            raise ValueError("words and labels must be non-empty and of the same length")
        if max(map(len, self.words)) > self.maxlen:
            raise ValueError(f"maxlen {self.maxlen} is shorter than the longest word")
        return self


class LectureParams(_Strict):
    perceptron: Perceptron = Perceptron()
    xor: XorMlp = XorMlp()
    words: Words = Words()


LECTURE_NETWORKS = ("perceptron", "xor_fixed", "xor", "words")


class TickerParams(_Strict):
    names: tuple[Literal[TICKERS], ...] = ("AAPL", "GOOG", "IBM", "MSFT")


class Params(_Strict):
    stock: StockParams
    imdb: ImdbParams
    tickers: TickerParams = TickerParams()
    lecture: LectureParams = LectureParams()
    presets: dict[Dataset, dict[str, dict]] = {}

    def section(self, dataset: str) -> StockParams | ImdbParams:
        """A dataset's settings; every ticker uses the stock section's."""
        return self.imdb if kind(dataset) == "imdb" else self.stock


def kind(dataset: str) -> Dataset:
    """Which pipeline a dataset runs: imdb, or stock (the lecture's file and every ticker)."""
    return "imdb" if dataset == "imdb" else "stock"


def stage_name(dataset: str, stage: str) -> str:
    """The DVC stage that runs `stage` for `dataset` (tickers come from dvc.yaml's foreach)."""
    return f"ticker-{stage}@{dataset}" if dataset in TICKERS else f"{dataset}-{stage}"


def merge(base: dict, override: dict) -> dict:
    """`base` with `override`'s values put in, nested mappings merged key by key."""
    out = dict(base)
    for key, value in override.items():
        out[key] = (
            merge(out[key], value)
            if isinstance(value, dict) and isinstance(out.get(key), dict)
            else value
        )
    return out


PRESET_SECTIONS = {"preprocess", "train"}


def apply_presets(raw: dict) -> dict:
    """Each dataset section with its chosen preset (`<dataset>.preset`) laid over it."""
    out = dict(raw)
    all_presets = raw.get("presets") or {}
    for dataset in DATASETS:
        section = raw.get(dataset)
        if not isinstance(section, dict) or "preset" not in section:
            continue
        name = section["preset"]
        presets = all_presets.get(dataset) or {"lecture": {}}
        if not isinstance(presets, dict) or name not in presets:
            raise LstmopsError(
                f"{dataset}.preset is {name!r}, which is not one of presets.{dataset}: "
                f"{', '.join(presets)}. Pick one of those or add it under presets.{dataset}."
            )
        preset = presets[name] or {}
        if not isinstance(preset, dict) or not set(preset) <= PRESET_SECTIONS:
            raise LstmopsError(
                f"presets.{dataset}.{name} may only set {' and '.join(sorted(PRESET_SECTIONS))} values."
            )
        out[dataset] = merge(section, preset)
    return out


def _format_validation_error(err: ValidationError, path: Path) -> str:
    lines = [f"{path} has invalid parameters:"]
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"]) or "(top level)"
        got = f" (got {e['input']!r})" if e["type"] != "missing" and "input" in e else ""
        lines.append(f"  - {key}: {e['msg']}{got}")
    lines.append(
        f"Fix the key(s) in {path} (or the value given with `dvc exp run -S key=value`); "
        "see README.md for every parameter."
    )
    return "\n".join(lines)


def parse_params(raw: object, path: Path = Path(PARAMS_FILE)) -> Params:
    """Validate a parsed params mapping; a bad key or value raises LstmopsError naming it."""
    if not isinstance(raw, dict):
        raise LstmopsError(f"{path} must hold a mapping with the sections {', '.join(DATASETS)}.")
    try:
        return Params.model_validate(apply_presets(raw))
    except ValidationError as err:
        raise LstmopsError(_format_validation_error(err, path)) from None


def load_params(path: Path = Path(PARAMS_FILE)) -> Params:
    """Read and validate params.yaml."""
    if not path.exists():
        raise LstmopsError(f"{path} not found: run from the project root (where params.yaml is).")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise LstmopsError(f"{path} is not valid YAML: {err}") from None
    return parse_params(raw, path)


def workspace_root(cwd: Path | None = None) -> Path:
    """The project root that shared state (the MLflow store, relative mirror paths) belongs to.

    `dvc exp run --temp/--queue` runs stages in a copy under <root>/.dvc/tmp/exps/; their runs must
    land in the workspace's MLflow store, not in the throw-away copy.
    """
    cwd = (cwd or Path.cwd()).resolve()
    parts = cwd.parts
    for i in range(len(parts) - 3):
        if parts[i : i + 3] == (".dvc", "tmp", "exps"):
            return Path(*parts[:i])
    return cwd


def mirror_dir(source: Source) -> Path | None:
    """The local mirror directory, if one is configured (environment variable first, then param)."""
    value = os.environ.get(MIRROR_ENV) or source.mirror
    if not value:
        return None
    path = Path(value).expanduser()
    return path if path.is_absolute() else workspace_root() / path


def raw_dir(dataset: str) -> Path:
    return Path("data/raw") / dataset


def processed_dir(dataset: str) -> Path:
    return Path("data/processed") / dataset


def model_dir(dataset: str) -> Path:
    return Path("models") / dataset


def metrics_file(dataset: str) -> Path:
    return Path("metrics") / f"{dataset}.json"


def plots_dir(dataset: str) -> Path:
    return Path("plots") / dataset


def walkforward_files(dataset: str) -> tuple[Path, Path]:
    """The walk-forward stage's metrics (JSON) and per-fold table (CSV, for `dvc plots`)."""
    return Path("metrics") / f"{dataset}_walkforward.json", Path(
        "plots"
    ) / f"{dataset}_walkforward.csv"


def report_file(dataset: str) -> Path:
    return Path("reports/validation") / f"{dataset}.json"
