"""The comparison table's rows: newest run per preset, ratios from the logged test metrics."""

from types import SimpleNamespace

from lstmops.config import Dataset, ForecastSettings, SentimentSettings, Source
from lstmops.report import format_table, latest_rows

IMDB = Dataset("imdb", "sentiment", Source(path="data/external/r.csv"), SentimentSettings())
IBM = Dataset("IBM", "prices", Source(package="bokeh-sampledata", ticker="IBM"), ForecastSettings())


def _run(run_id, preset, accuracy, epochs_run=None, tags=None):
    metrics = {
        "test.model.accuracy": accuracy,
        "test.majority_class.accuracy": 0.5,
        "train_seconds": 60.0,
    }
    if epochs_run:
        metrics["epochs_run"] = float(epochs_run)
    params = {"preset": preset, "train.epochs": "8"}
    return SimpleNamespace(
        info=SimpleNamespace(run_id=run_id),
        data=SimpleNamespace(metrics=metrics, params=params, tags=tags or {}),
    )


def test_newest_run_of_each_preset_with_its_ratio():
    runs = [
        _run("newbilstm", "bilstm", 0.86, 4),
        _run("oldbilstm", "bilstm", 0.80),
        _run("lecture1", "lecture", 0.82),
    ]
    rows = latest_rows(IMDB, runs)
    assert [(r["preset"], r["run"]) for r in rows] == [
        ("bilstm", "newbilstm"[:8]),
        ("lecture", "lecture1"),
    ]
    assert rows[0]["ratio"] == 0.86 / 0.5 and rows[0]["epochs"] == 4
    assert rows[1]["epochs"] == "8"  # runs from before epochs_run was logged: the param


def test_a_pretrained_run_shows_its_language_models_time():
    pretrain = SimpleNamespace(
        info=SimpleNamespace(run_id="lm123456"),
        data=SimpleNamespace(metrics={"pretrain_seconds": 431.5}, params={}, tags={}),
    )
    runs = [_run("best1", "best", 0.9, tags={"pretrained_from": "lm123456"}), pretrain]
    runs.append(_run("lecture1", "lecture", 0.82))
    rows = {row["preset"]: row for row in latest_rows(IMDB, runs)}
    assert set(rows) == {"best", "lecture"}  # the pretrain run has no row of its own
    assert (rows["best"]["pretrain_s"], rows["lecture"]["pretrain_s"]) == (431.5, "-")
    assert rows["best"]["minutes"] == "-"  # a run without its stages' times


def test_minutes_add_up_every_stage_of_the_run_and_its_language_model():
    pretrain = SimpleNamespace(
        info=SimpleNamespace(run_id="lm123456"),
        data=SimpleNamespace(metrics={"pretrain_seconds": 120.0}, params={}, tags={}),
    )
    run = _run("best1", "best", 0.92, tags={"pretrained_from": "lm123456"})
    run.data.metrics |= {
        "preprocess_seconds": 150.0,
        "train_stage_seconds": 600.0,
        "evaluate_seconds": 30.0,
    }
    [row] = [r for r in latest_rows(IMDB, [run, pretrain]) if r["preset"] == "best"]
    assert row["minutes"] == (150 + 600 + 30 + 120) / 60


def test_runs_without_test_metrics_are_skipped_and_table_has_a_header():
    unfinished = _run("x", "lecture", 0.8)
    del unfinished.data.metrics["test.model.accuracy"]
    assert latest_rows(IMDB, [unfinished]) == []
    table = format_table(latest_rows(IMDB, [_run("abc", "lecture", 0.82)]))
    assert table.splitlines()[0].split()[:3] == ["dataset", "preset", "metric"]
    assert "0.82" in table and "1.64" in table


def test_price_series_rows_carry_the_walk_forward_ratio():
    run = SimpleNamespace(
        info=SimpleNamespace(run_id="ibmrun12"),
        data=SimpleNamespace(
            metrics={
                "test.model.rmse": 2.0,
                "test.persistence.rmse": 2.5,
                "walk_forward.rmse_ratio": 0.99,
                "test.interval.model.coverage": 0.91,
                "forecast.model.forecast": 120.5,
                "forecast.model.lower": 117.25,
                "forecast.model.upper": 123.75,
            },
            params={"preset": "returns", "train.epochs": "100"},
            tags={},
        ),
    )
    (row,) = latest_rows(IBM, [run])  # every price series is compared like the stock dataset
    assert row["ratio"] == 0.8 and row["wf_ratio"] == 0.99 and row["metric"].startswith("RMSE")
    assert row["linear_ratio"] == row["dm_p"] == "-"  # not logged by this run
    assert row["coverage"] == 0.91 and row["next_day"] == "120.50±3.25"  # one word: no spaces
    (row,) = latest_rows(IBM, [run_without_forecast(run)])
    assert row["next_day"] == row["coverage"] == "-"


def run_without_forecast(run):
    metrics = {
        k: v for k, v in run.data.metrics.items() if not k.startswith(("forecast", "test.interval"))
    }
    return SimpleNamespace(
        info=run.info, data=SimpleNamespace(metrics=metrics, params=run.data.params, tags={})
    )


def test_a_series_row_names_its_reference_and_every_baseline():
    """The ratio is to the baseline chosen on the training period (here seasonal naive, whose
    test RMSE gives the logged ratio), and the row lists each baseline's RMSE."""
    run = SimpleNamespace(
        info=SimpleNamespace(run_id="series12"),
        data=SimpleNamespace(
            metrics={
                "test.model.rmse": 2.0,
                "test.persistence.rmse": 2.5,
                "test.seasonal_naive.rmse": 4.0,
                "test.rmse_ratio": 0.5,
            },
            params={"preset": "seasonal"},
            tags={},
        ),
    )
    (row,) = latest_rows(IBM, [run])
    assert (row["reference"], row["baseline"], row["ratio"]) == ("seasonal_naive", 4.0, 0.5)
    assert row["baselines"] == "persistence=2.5,seasonal_naive=4"
    imdb = latest_rows(IMDB, [_run("abc", "lecture", 0.82)])[0]
    assert (imdb["reference"], imdb["baselines"]) == ("majority_class", "-")
