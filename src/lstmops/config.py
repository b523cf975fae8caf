"""params.yaml -> validated, typed settings; the datasets it declares; the project's paths.

Every value that changes a result lives in params.yaml; this module is the only reader of it, so a
typo or an impossible value is caught once, with the key named, before any work starts. A dataset
is declared under `datasets.<task>`; its settings are its task's section, with the chosen preset and
then the dataset's own overrides laid over it (`Params.dataset`).
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

Task = Literal["prices", "series", "sentiment"]
TASKS: tuple[Task, ...] = get_args(Task)
# The tasks that forecast series (the lecture's stock prices, any numeric series): one package of
# code, each with its own section of defaults in params.yaml.
FORECASTING: tuple[Task, ...] = ("prices", "series")
# Daily OHLCV (2000-2013) that the bokeh-sampledata package ships.
Ticker = Literal["AAPL", "GOOG", "IBM", "MSFT", "FB"]
TICKERS: tuple[str, ...] = get_args(Ticker)
TICKER_PACKAGE = "bokeh-sampledata"
# Its series that are not prices: US unemployment (%, not seasonally adjusted), monthly 1948-2016.
Sample = Literal["unemployment1948"]
SAMPLES: tuple[str, ...] = get_args(Sample)
MIRROR_ENV = "LSTMOPS_MIRROR"
PARAMS_FILE = "params.yaml"
EXTERNAL_DIR = "data/external"  # where a user's own source files live (a DVC dependency)
PRICE_COLUMNS = ("Open", "High", "Low", "Volume", "Close")
# A price table of many series (a panel) names each row's series in a column: `source.series`, or
# the first of these names (any case). The raw table keeps it as SERIES.
SERIES_NAMES = ("ticker", "symbol", "series", "id", "unique_id")
SERIES = "Series"
DATASET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def series_column(columns: list[str], declared: str | None = None) -> str | None:
    """The column of `columns` that names each row's series: `declared`, else the first whose name
    SERIES_NAMES holds (any case); None for a table of one series."""
    if declared is not None:
        return declared if declared in columns else None
    by_name = {str(c).strip().lower(): c for c in columns}
    return next((by_name[n] for n in SERIES_NAMES if n in by_name), None)


class LstmopsError(Exception):
    """An error the user can fix: its message says what is wrong and how to fix it."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


PositiveInt = Annotated[int, Field(gt=0)]
Fraction = Annotated[float, Field(gt=0, lt=1)]


class Source(_Strict):
    """Where a dataset's data come from: one of a local `path` (under data/external/), a `url` with
    its sha256 (read from `mirror_path` inside a mirror directory when one is set), or a `package`."""

    path: str | None = None
    url: str | None = None
    package: Literal["bokeh-sampledata"] | None = None
    ticker: Ticker | None = None  # with package: a ticker's daily prices
    sample: Sample | None = None  # with package: one of its other series
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None = None
    mirror_path: str | None = (
        None  # the file's path inside a mirror; by default the URL's file name
    )
    mirror: str | None = None  # a mirror directory; the LSTMOPS_MIRROR environment variable wins
    format: str | None = None  # the task's formats; by default read from the file's name
    series: str | None = None  # prices: the column naming each row's series (many series)

    @model_validator(mode="after")
    def _one_kind(self) -> Source:
        kinds = [k for k in ("path", "url", "package") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("give exactly one of path, url or package")
        if self.url and not self.sha256:
            raise ValueError("a url needs its sha256, so that every copy is the same file")
        if self.package and (self.ticker is None) == (self.sample is None):
            raise ValueError(
                f"package {self.package} needs a ticker (one of {', '.join(TICKERS)}) or a sample "
                f"(one of {', '.join(SAMPLES)})"
            )
        if self.path is not None:
            parts = Path(self.path).parts
            if Path(self.path).is_absolute() or ".." in parts or parts[:2] != ("data", "external"):
                raise ValueError(
                    f"path {self.path} must lie under {EXTERNAL_DIR}/ inside the project, which "
                    "DVC tracks for the ingest stage: move (or link) the file there"
                )
        return self

    def many_series(self) -> bool:
        """Whether the source holds many price series: a folder of CSVs, a declared `series`
        column, or a local CSV whose header has a column SERIES_NAMES names (read here, so
        that the dataset's settings can follow: a panel gets `prices.panel_preset`)."""
        if self.series is not None:
            return True
        if self.path is None:
            return False
        path = workspace_root() / self.path
        if path.is_dir():
            return True
        try:
            with path.open(encoding="utf-8-sig") as f:
                header = f.readline()
        except (OSError, UnicodeDecodeError):
            return False  # ingest says what is wrong with the file
        return series_column([c.strip() for c in header.split(",")]) is not None

    @property
    def local_name(self) -> str:
        """A URL's file inside a mirror directory and the download cache."""
        return self.mirror_path or (self.url or "").rstrip("/").rsplit("/", 1)[-1]


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


class ForecastPreprocess(_Strict):
    seq_length: PositiveInt = 7
    train_fraction: Fraction = 0.7
    # The last N periods of each series test instead (the forecasting competitions' split).
    test_periods: PositiveInt | None = None
    # Columns of the raw table in each window (past covariates besides the target): any numeric
    # column the source has; null: the target alone.
    features: tuple[str, ...] | None = PRICE_COLUMNS
    # The column forecast; null: Close where the table has one, else its only numeric column.
    target: str | None = "Close"
    # The seasonal naive baseline's lag, in steps: a number, "auto" (from the dates' frequency:
    # 24 hourly, 7 daily, 5 business daily, 52 weekly, 12 monthly, 4 quarterly), or null (none).
    season: PositiveInt | Literal["auto"] | None = None
    # A date missing from a series' calendar: error (named), or filled with zero or the previous value;
    # keep: the rows as they are (a trading calendar's holidays are no gap).
    gaps: Literal["error", "zero", "previous", "keep"] = "keep"
    # Calendar features of the date after each row (known in advance), added to the features:
    # weekday, month, day_of_year, hour (each a sine and a cosine), holiday (0 or 1, of `holidays`).
    calendar: tuple[Literal["weekday", "month", "day_of_year", "hour", "holiday"], ...] = ()
    # The country whose public holidays `holiday` marks, a subdivision after a dash: US, AU-VIC.
    holidays: str | None = None
    # Steps forecast at once from each window (one output each: a direct multi-step model, each
    # step with its own interval); 1: the lecture's next step.
    horizon: PositiveInt = 1
    # Fewest test windows whose metrics mean something; fewer is a settings error, not a result.
    min_test_windows: PositiveInt = 30
    # "train" fits the scaler on the training rows only; "all" reproduces the lecture's leak.
    scaler_fit: Literal["train", "all"] = "train"
    # minmax: each column to [0, 1] (the lecture's); maxabs: divided by its largest absolute value,
    # so a change of zero stays zero in every series of a panel (one global "no change"); window:
    # maxabs, and a window whose mean absolute target has fallen below the training rows' has its
    # target columns and outputs divided by that share (1% at least), so a series that collapses
    # a thousandfold stays in range (DeepAR's scaling, one way only)
    scaler: Literal["minmax", "maxabs", "window"] = "minmax"
    # level: the values; return: step-over-step relative changes within a window; change: differences;
    # seasonal: each row's change from the value one season before; seasonal_gap: those, and each
    # row's change from the value a season before the next row (twice the columns)
    inputs: Literal["level", "return", "change", "seasonal", "seasonal_gap"] = "level"
    # the next value, its change from the last, its return, or (seasonal) its change from the value
    # one season before (the seasonal naive's forecast)
    predict: Literal["level", "change", "return", "seasonal"] = "level"

    @model_validator(mode="after")
    def _features_hold_target(self) -> ForecastPreprocess:
        if (
            self.target is not None
            and self.features is not None
            and self.target not in self.features
        ):
            raise ValueError(
                f"features must include the target column {self.target}: the forecast starts from it"
            )
        if self.features is not None and len(set(self.features)) != len(self.features):
            raise ValueError("features must name each column once")
        if "holiday" in self.calendar and not self.holidays:
            raise ValueError(
                "calendar holds holiday: name the country whose holidays it marks, e.g. "
                "holidays: US (or AU-VIC: a country and a subdivision)"
            )
        if self.calendar and self.inputs == "return":
            raise ValueError(
                "calendar features are sines, cosines and zeros, whose return is undefined: set "
                "inputs to level or change"
            )
        if self.inputs in ("return", "change") and self.seq_length < 2:
            raise ValueError(
                f"inputs '{self.inputs}' needs seq_length of at least 2 (one step-over-step change)"
            )
        return self


class WalkForward(_Strict):
    """Expanding-window folds: fold k trains on every window before its block and tests on the block."""

    period: Literal["train", "all"] = (
        "train"  # train: inside the training part only (safe to tune on)
    )
    initial_fraction: Fraction = 0.5  # of the period's windows, training the first fold
    folds: PositiveInt = 3
    retrain: bool = True  # false: train once on the first fold's windows, predict every block


def fewest_errors(coverage: float) -> int:
    """The fewest calibration errors that give a split-conformal interval at `coverage`."""
    return math.ceil(coverage / (1 - coverage) - 1e-9)


class ForecastInterval(_Strict):
    """Each forecast's split-conformal interval, calibrated on the model's errors of the latest
    `window` days."""

    coverage: Fraction = 0.9  # the share of days the interval should hold the actual close
    window: PositiveInt = 60  # days of the latest one-step errors each interval is calibrated on
    # errors as shares of the last value (prices: errors grow with the level); false: in the
    # series' units (a series that reaches zero or below)
    relative: bool = True
    history_days: PositiveInt = 60  # days before the forecast on its chart

    @model_validator(mode="after")
    def _window_holds_the_coverage(self) -> ForecastInterval:
        if self.window < fewest_errors(self.coverage):
            raise ValueError(
                f"a coverage of {self.coverage} needs a window of at least "
                f"{fewest_errors(self.coverage)} days of errors (window is {self.window})"
            )
        return self


class Distribution(_Strict):
    """One setting's range in a tuning study: an int or float between low and high (log: on a
    log scale), or one of some choices."""

    type: Literal["int", "float", "categorical"]
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple[str | bool | int | float, ...] | None = None

    @model_validator(mode="after")
    def _a_range_or_choices(self) -> Distribution:
        if self.type == "categorical":
            if not self.choices or self.low is not None or self.high is not None:
                raise ValueError("a categorical setting takes choices (and no low or high)")
        elif self.low is None or self.high is None or not self.low < self.high:
            raise ValueError(f"an {self.type} setting takes low < high")
        elif self.log and self.low <= 0:
            raise ValueError("a log scale needs low above 0")
        return self


class Tune(_Strict):
    """`python -m lstmops tune`: Optuna's search over settings, around the dataset's preset."""

    # "<section>.<key>" (preprocess or train) -> its range
    space: dict[str, Distribution] = {}
    trials: PositiveInt = 20  # finished trials the study runs to, by all its workers together
    startup_trials: Annotated[int, Field(ge=0)] = 5  # random ones before TPE; the pruner waits too
    heartbeat_seconds: PositiveInt = 10  # a trial silent for twice this is failed and run again
    seed: int = 42


def _space_fits(settings: Any, sections: tuple[str, ...]) -> None:
    """Every key of tune.space names a setting of one of `sections`."""
    for key in settings.tune.space:
        section, _, name = key.partition(".")
        if section not in sections or name not in type(getattr(settings, section)).model_fields:
            raise ValueError(
                f"tune.space key {key!r} is not a setting of {' or '.join(sections)} "
                "(write <section>.<key>, e.g. train.units)"
            )


LstmActivation = Literal["relu", "tanh", "sigmoid", "elu", "selu", "gelu", "softsign", "linear"]
LSTM_ACTIVATIONS: tuple[str, ...] = get_args(LstmActivation)


class ForecastTrain(Train):
    units: PositiveInt = 16
    activation: LstmActivation = "relu"
    epochs: PositiveInt = 100
    batch_size: PositiveInt = 16
    # Pull the forecast change toward 0 (persistence) by the factor in [0, 1] that minimises the
    # validation slice's squared error: the model keeps only as much of its change as held up there.
    shrink: bool = False


class ForecastSettings(_Strict):
    """A price series' settings: the `prices` section, its preset and the dataset's overrides."""

    preset: str = "lecture"
    panel_preset: str = "panel"  # the preset of a dataset holding many series
    preprocess: ForecastPreprocess = ForecastPreprocess()
    train: ForecastTrain = ForecastTrain()
    walk_forward: WalkForward = WalkForward()
    forecast: ForecastInterval = ForecastInterval()
    tune: Tune = Tune()

    @model_validator(mode="after")
    def _shrink_has_a_change_and_a_slice(self) -> ForecastSettings:
        _space_fits(self, ("preprocess", "train"))
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


class SentimentIngest(_Strict):
    # Cap on reviews per split (half pos, half neg) for quick runs; null reads everything.
    max_rows_per_split: PositiveInt | None = None
    # A table without a `split` column: this share of each label is the test split (seeded).
    test_fraction: Fraction = 0.2
    seed: int = 42


class SentimentValidate(_Strict):
    rows_per_split: PositiveInt | None = None  # exactly this many reviews in each split; null: any
    unsup_rows: Annotated[int, Field(ge=0)] | None = None  # unlabelled texts, exactly; null: any
    balance_tolerance: Annotated[float, Field(ge=0, le=0.5)] = 0.05


RESERVED_INDICES = 2  # 0 = padding, 1 = out-of-vocabulary


class SentimentPreprocess(_Strict):
    num_words: Annotated[int, Field(gt=RESERVED_INDICES)] = 10000
    maxlen: PositiveInt = 80
    # true: encode with the pretrain stage's vocabulary, and start the classifier's embedding and
    # LSTM from its language model's weights
    pretrained: bool = False


class SentimentPretrain(_Strict):
    """The pretrain stage's LSTM language model, trained on the training split's and the unlabelled
    texts (never the test split's) to predict each next word."""

    # Passes over the texts (0.5: a seeded half of them); 0: no language model.
    epochs: Annotated[float, Field(ge=0)] = 0.0
    # Its vocabulary, fitted on those texts: a pretrained classifier adopts it.
    num_words: Annotated[int, Field(gt=RESERVED_INDICES)] = 20000
    # The words it predicts, the most frequent; rarer ones count as out-of-vocabulary. The softmax
    # over them costs most of the time: 2000 covers about 85% of IMDB's words.
    output_words: Annotated[int, Field(gt=RESERVED_INDICES)] = 2000
    embedding_dim: PositiveInt = 128
    units: PositiveInt = 128
    # Truncated backpropagation through time: the texts are read in pieces of this many words.
    seq_length: PositiveInt = 64
    batch_size: PositiveInt = 128
    learning_rate: Annotated[float, Field(gt=0)] = 0.002
    seed: int = 42

    @model_validator(mode="after")
    def _predicts_known_words(self) -> SentimentPretrain:
        if self.output_words > self.num_words:
            raise ValueError("output_words must not exceed num_words: it predicts words it knows")
        return self


class SentimentTrain(Train):
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
    # random: a seeded share of the rows; grouped: of the groups (the archive's movies, a table's
    # `group` column), so that no validation group has rows the model trains on
    validation: Literal["random", "grouped"] = "random"
    # linear: the LSTM and the NB-weighted n-gram model stacked by weights fitted on the
    # validation slice (one served model); none: the LSTM alone
    combine: Literal["none", "linear"] = "none"
    # true: a third part for the hybrid, document vectors over word 1-3-grams trained on the
    # training and unlabelled texts (lstmops.docvectors; several minutes on the full data)
    docvectors: bool = False
    # true: batches of reviews of similar length, each as wide as its longest, padding masked
    bucketing: bool = False

    @model_validator(mode="after")
    def _parts_fit(self) -> SentimentTrain:
        if self.combine != "none" and not self.validation_fraction:
            raise ValueError(
                f"train.combine is {self.combine!r}: its weights are fitted on the validation "
                "slice, so train.validation_fraction must be above 0"
            )
        if self.docvectors and self.combine == "none":
            raise ValueError(
                "train.docvectors is a part of the hybrid: set train.combine to linear, or "
                "docvectors to false"
            )
        if self.bucketing and self.distribution == "multi_worker":
            raise ValueError(
                "train.bucketing batches by length in one process; set train.distribution to "
                "none or mirrored, or bucketing to false"
            )
        return self


class SentimentSettings(_Strict):
    """A text dataset's settings: the `sentiment` section, its preset and the dataset's overrides."""

    preset: str = "lecture"
    ingest: SentimentIngest = SentimentIngest()
    validate_: SentimentValidate = Field(SentimentValidate(), alias="validate")
    preprocess: SentimentPreprocess = SentimentPreprocess()
    pretrain: SentimentPretrain = SentimentPretrain()
    train: SentimentTrain = SentimentTrain()
    tune: Tune = Tune()

    @model_validator(mode="after")
    def _pretrained_fits(self) -> SentimentSettings:
        """A classifier that starts from the language model has its shapes; a tuning study
        searches train settings (a trial reads the preprocess stage's arrays)."""
        _space_fits(self, ("train",))
        if not self.preprocess.pretrained:
            return self
        lm, p, t = self.pretrain, self.preprocess, self.train
        wrong = [
            f"{name} is {mine}, the language model's {theirs}"
            for name, mine, theirs in [
                ("preprocess.num_words", p.num_words, lm.num_words),
                ("train.embedding_dim", t.embedding_dim, lm.embedding_dim),
                ("train.units", t.units, lm.units),
                ("train.layers", t.layers, 1),
                ("train.bidirectional", t.bidirectional, False),
            ]
            if mine != theirs
        ]
        if lm.epochs == 0:
            wrong.append(
                "pretrain.epochs is 0: there is no language model to start from (set it, e.g. "
                "`dvc exp run -S sentiment.pretrain.epochs=1`)"
            )
        if wrong:
            raise ValueError(
                "preprocess.pretrained starts the classifier from the pretrained language model, "
                f"but {'; '.join(wrong)}: make them equal, or set preprocess.pretrained to false"
            )
        return self


SETTINGS: dict[str, type[_Strict]] = {
    "prices": ForecastSettings,
    "series": ForecastSettings,
    "sentiment": SentimentSettings,
}


def settings_of(task: str, raw: dict, where: str) -> ForecastSettings | SentimentSettings:
    """A task's settings validated from `raw`; an error names each bad key under `where`."""
    return _check(SETTINGS[task], raw, where)


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


@dataclass(frozen=True)
class Dataset:
    """One declared dataset: its name, task, source and resolved settings."""

    name: str
    task: str
    source: Source
    settings: ForecastSettings | SentimentSettings
    panel: bool = False  # many price series, one model (Source.many_series)


class Params(_Strict):
    datasets: dict[Task, dict[str, dict]]
    prices: dict = {}
    series: dict = {}
    sentiment: dict = {}
    presets: dict[Task, dict[str, dict | None]] = {}
    lecture: LectureParams = LectureParams()

    def declared(self, task: str) -> dict[str, dict]:
        """The datasets params.yaml declares for `task` (none: an empty mapping)."""
        return self.datasets.get(task) or {}  # type: ignore[call-overload]  # Task or not

    def names(self) -> list[str]:
        return [name for task in TASKS for name in self.declared(task)]

    def dataset(self, name: str) -> Dataset:
        """The dataset `name` with its settings resolved, or an error listing the declared ones."""
        for task in TASKS:
            entry = self.declared(task).get(name)
            if entry is not None:
                return resolve(name, task, entry, self)
        raise LstmopsError(
            f"no dataset {name!r} in params.yaml: it declares {', '.join(self.names())}. "
            "Declare it under datasets.prices, datasets.series or datasets.sentiment (README: Bring your own data)."
        )


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


def _check(model: type[_Strict], raw: object, where: str, overrides: dict | None = None):
    """`model` validated from `raw`; an error names each key as `where`.<key>, or as the dataset's
    own key where `overrides` (a dataset entry) set it."""
    try:
        return model.model_validate(raw)
    except ValidationError as err:
        lines = ["params.yaml has invalid parameters:"]
        for e in err.errors():
            loc = [str(p).replace("validate_", "validate") for p in e["loc"]]
            prefix = where
            if overrides is not None and _holds(overrides, loc):
                prefix = f"datasets.{where}.{overrides['__name__']}"
            key = ".".join([prefix, *loc]) if prefix else ".".join(loc) or "(top level)"
            got = f" (got {e['input']!r})" if e["type"] != "missing" and "input" in e else ""
            lines.append(f"  - {key}: {e['msg']}{got}")
        lines.append(
            "Fix the key(s) in params.yaml (or the value given with `dvc exp run -S key=value`); "
            "see README.md for every parameter."
        )
        raise LstmopsError("\n".join(lines)) from None


def _holds(mapping: dict, loc: list[str]) -> bool:
    for key in loc:
        if not isinstance(mapping, dict) or key not in mapping:
            return False
        mapping = mapping[key]
    return True


def resolve(name: str, task: str, entry: object, params: Params) -> Dataset:
    """A dataset entry -> its source and settings: the task section, the preset, the overrides."""
    where = f"datasets.{task}.{name}"
    if not DATASET_NAME.match(name):
        raise LstmopsError(
            f"{where}: a dataset name may hold letters, digits, '_', '-' and '.' only (it names "
            "folders and DVC stages)."
        )
    if not isinstance(entry, dict) or "source" not in entry:
        raise LstmopsError(
            f"{where} needs a source, e.g. {{source: {{path: {EXTERNAL_DIR}/x.csv}}}}."
        )
    overrides = {k: v for k, v in entry.items() if k != "source"}
    source = _check(Source, entry["source"], f"{where}.source")
    panel = task in FORECASTING and source.many_series()
    section = getattr(params, task) or {}
    default = section.get("panel_preset", "panel") if panel else section.get("preset", "lecture")
    preset_name = overrides.get("preset", default)
    presets = params.presets.get(task) or {"lecture": {}}  # type: ignore[call-overload]
    if preset_name not in presets:
        raise LstmopsError(
            f"{task}.{'panel_preset' if panel else 'preset'} (or {where}.preset) is "
            f"{preset_name!r}, which is not one of "
            f"presets.{task}: {', '.join(presets)}. Pick one of those or add it under presets.{task}."
        )
    preset = presets[preset_name] or {}
    if not isinstance(preset, dict) or not set(preset) <= PRESET_SECTIONS:
        raise LstmopsError(
            f"presets.{task}.{preset_name} may only set {' and '.join(sorted(PRESET_SECTIONS))} values."
        )
    merged = {**merge(merge(section, preset), overrides), "preset": preset_name}  # the one used
    settings = _check(SETTINGS[task], merged, task, {**overrides, "__name__": name})
    return Dataset(name, task, source, settings, panel)


def parse_params(raw: object, path: Path = Path(PARAMS_FILE)) -> Params:
    """Validate a parsed params mapping and every dataset in it; a bad key or value raises
    LstmopsError naming it."""
    if not isinstance(raw, dict) or not isinstance(raw.get("datasets"), dict):
        raise LstmopsError(
            f"{path} must hold a mapping with a `datasets` section (datasets.prices, "
            "datasets.sentiment) and the task sections prices and sentiment."
        )
    params = _check(Params, raw, "")
    seen: dict[str, str] = {}
    for task in TASKS:
        for name in params.datasets.get(task) or {}:
            if name in seen:
                raise LstmopsError(
                    f"dataset {name!r} is declared under both datasets.{seen[name]} and "
                    f"datasets.{task}: its stages would write the same outputs. Give each dataset "
                    "its own name."
                )
            seen[name] = task
    for name in seen:
        params.dataset(name)
    return params


def check(path: Path = Path(PARAMS_FILE)) -> str:
    """Validate params.yaml as every stage will (`make repro` asks first: DVC's own error for a
    name declared twice suggests the wrong fix); say what it declares."""
    params = load_params(path)
    return f"{path}: {len(params.names())} datasets ({', '.join(params.names())}), settings valid"


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
