"""Many series in one dataset: the panel's settings, arrays, validation slice and summary, and the
lineage of a user's own files."""

import numpy as np
import pytest
import yaml

from lstmops import evaluation as ev
from lstmops import features as f
from lstmops import pipeline, training
from lstmops.config import ForecastPreprocess, Source, parse_params, series_column

from .test_config import ROOT


def _walk(rows: int, level: float, seed: int) -> np.ndarray:
    close = level * np.exp(np.cumsum(np.random.default_rng(seed).normal(0, 0.01, rows)))
    return np.column_stack([close, close * 1.01, close * 0.99, np.full(rows, 1e6), close])


@pytest.mark.parametrize(
    ("columns", "declared", "found"),
    [
        (["Date", "Ticker", "Close"], None, "Ticker"),
        (["SYMBOL", "Date"], None, "SYMBOL"),
        (["id", "series", "Date"], None, "series"),  # the first of SERIES_NAMES' order
        (["Date", "Close"], None, None),
        (["Date", "shop", "Close"], "shop", "shop"),
        (["Date", "Close"], "shop", None),
    ],
)
def test_the_series_column_is_found_by_name_or_declared(columns, declared, found):
    assert series_column(columns, declared) == found


def test_a_panel_gets_the_panel_preset_and_a_single_series_keeps_the_lectures(
    tmp_path, monkeypatch
):
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    (tmp_path / "data/external/folder").mkdir(parents=True)
    (tmp_path / "data/external/panel.csv").write_text("Ticker,Date,Open,High,Low,Close,Volume\n")
    (tmp_path / "data/external/one.csv").write_text("Date,Open,High,Low,Close,Volume\n")
    raw["datasets"]["prices"] |= {
        "panel": {"source": {"path": "data/external/panel.csv"}},
        "folder": {"source": {"path": "data/external/folder"}},
        "one": {"source": {"path": "data/external/one.csv"}},
        "mine": {"source": {"path": "data/external/panel.csv"}, "preset": "lecture"},
    }
    monkeypatch.chdir(tmp_path)
    params = parse_params(raw)
    for name in ("panel", "folder"):
        panel = params.dataset(name)
        assert panel.panel and panel.settings.train.batch_size == 256
        assert panel.settings.train.early_stopping_patience > 0 and panel.settings.preset == "panel"
    for name in ("one", "stock", "mine"):  # "mine" names its own preset
        assert params.dataset(name).settings.train.epochs == 100
    assert not params.dataset("one").panel and params.dataset("mine").panel


def test_panel_arrays_scale_each_series_on_its_own_training_rows_only():
    p = ForecastPreprocess()
    low, high = _walk(200, 10, 1), _walk(300, 900, 2)
    n_trains = [f.split_windows(len(v), p)[0] for v in (low, high)]
    arrays, scaling = f.panel_arrays([low, high], n_trains, ["low", "high"], p, 4)
    assert scaling.names == ("low", "high")
    assert np.bincount(arrays["series_train"]).tolist() == n_trains
    # both series fill the same range however far apart their prices: each is scaled on its own
    for i in range(2):
        x = arrays["x_train"][arrays["series_train"] == i]
        assert x.min() == pytest.approx(0, abs=1e-6) and x.max() == pytest.approx(1, abs=1e-6)
    # a series' test period is never read: changing it leaves every training array as it was
    changed = high.copy()
    changed[n_trains[1] + p.seq_length :] *= 3
    again, _ = f.panel_arrays([low, changed], n_trains, ["low", "high"], p, 4)
    for key in ("x_train", "y_train", "previous_train", "actual_train"):
        np.testing.assert_array_equal(arrays[key], again[key])
    # and back to dollars with each series' own scaling
    dollars = scaling.prices(arrays["y_test"], arrays["previous_test"], arrays["series_test"])
    np.testing.assert_allclose(dollars, arrays["actual_test"][:, 0], rtol=1e-5)


def test_the_validation_slice_is_the_end_of_every_series_training_period():
    groups = np.repeat([0, 1, 2], [10, 20, 30])
    x = np.arange(60)
    (fit_x, _), (val_x, _) = training.tail_split(x, x, 0.1, groups)
    assert val_x.tolist() == [9, 28, 29, 57, 58, 59]
    assert len(fit_x) + len(val_x) == 60
    (one_fit, _), (one_val, _) = training.tail_split(x, x, 0.1)  # one series: the last rows
    assert one_val.tolist() == list(range(54, 60)) and one_fit.tolist() == list(range(54))


def test_the_panel_summary_counts_series_that_beat_persistence_and_significantly():
    def series(ratio: float, statistic: float, p: float) -> dict:
        return {
            "rmse_ratio": ratio,
            "diebold_mariano": {"statistic": statistic, "p_value": p},
            "model": {"mase": ratio},
            "persistence": {"mase": 1.0},
        }

    summary = ev.panel_summary(
        [series(0.9, -3, 0.01), series(0.95, -1, 0.3), series(1.2, 3, 0.01), series(1.1, 1, 0.5)],
        ["model", "persistence"],
        0.05,
    )
    assert summary["count"] == 4 and summary["beating_persistence"] == 0.5
    assert summary["significantly_better"] == 0.25  # the worse one's small p-value does not count
    assert summary["median_rmse_ratio"] == pytest.approx(1.025)
    assert summary["mean_mase"] == pytest.approx(1.0375) and summary["persistence_mean_mase"] == 1.0


def test_an_ingest_depends_on_its_own_file_only():
    stages = yaml.safe_load(pipeline.render())["stages"]
    ingest = stages["prices-ingest"]
    assert "data/external" not in ingest["do"]["deps"] and "${item.reads}" in ingest["do"]["deps"]
    assert ingest["foreach"]["stock"]["reads"] == "src/lstmops/data/fetch.py"
    assert ingest["foreach"]["AAPL"]["reads"] == "src/lstmops/data/tickers.py"
    # every stage of a task runs over the same datasets
    assert all(stages[f"prices-{s}"]["foreach"] == ingest["foreach"] for s in ("train", "forecast"))
    assert pipeline._reads(Source(path="data/external/acme.csv")) == "data/external/acme.csv"
