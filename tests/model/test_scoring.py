"""Scoring a price model on small synthetic series, with no files: evaluate (test metrics beside
persistence, rolling intervals, tables), the next day's forecast and walk-forward folds, for one
series and for a panel of two."""

import numpy as np
import pandas as pd
import pytest

from lstmops import features, forecasters, models
from lstmops.config import Dataset, ForecastSettings, Source
from lstmops.tasks.timeseries import score
from lstmops.tasks.timeseries.data import series

DAYS = 160


def _table(seed: int, name: str | None = None) -> pd.DataFrame:
    """A random-walk price table with dates (business days) and the five lecture columns."""
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, DAYS)))
    table = pd.DataFrame(
        {
            "Date": pd.bdate_range("2024-01-01", periods=DAYS).strftime("%Y-%m-%d"),
            "Open": close * (1 + rng.normal(0, 0.002, DAYS)),
            "High": close * 1.01,
            "Low": close * 0.99,
            "Volume": rng.integers(1_000, 2_000, DAYS).astype(float),
            "Close": close,
        }
    )
    return table if name is None else table.assign(Series=name)[["Series", *table.columns]]


def _dataset(panel: bool, preprocess: dict | None = None, **train) -> Dataset:
    settings = ForecastSettings.model_validate(
        {
            "preprocess": preprocess or {},
            "train": {"epochs": 1, "batch_size": 32, "units": 4, **train},
            "forecast": {"window": 20},
            "walk_forward": {"folds": 2},
        }
    )
    return Dataset(
        "synthetic", "prices", Source(path="data/external/synthetic.csv"), settings, panel=panel
    )


def _fitted(dataset: Dataset, tables: dict) -> tuple[dict, score.Fitted, object]:
    """The arrays and fitted objects preprocess and train would save, made in memory."""
    p = dataset.settings.preprocess
    panel = series(tables, dataset)
    splits = [features.split_windows(len(s.values), p)[0] for s in panel]
    # one series or many: a panel, of one or of two
    arrays, scaling = features.panel_arrays(
        [s.values for s in panel], splits, [s.name for s in panel], p, panel[0].target_index
    )
    before = list(np.linspace(-0.02, 0.02, 20))
    calibration = {who: {s.name: before for s in panel} for who in ("model", "persistence")}
    model = models.price_model(p.seq_length, len(p.features), dataset.settings.train)
    return arrays, score.Fitted(scaling, calibration), model


def _rmse(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(np.mean((a - b) ** 2)))


@pytest.mark.parametrize("panel", [False, True], ids=["one series", "a panel of two"])
def test_evaluate_scores_the_test_period_beside_persistence(panel):
    dataset = _dataset(panel)
    if panel:
        tables = {"synthetic": pd.concat([_table(1, "A"), _table(2, "B")], ignore_index=True)}
    else:
        tables = {"synthetic": _table(1)}
    arrays, fit, model = _fitted(dataset, tables)
    metrics, out = score.evaluate(model, arrays, dataset, fit)
    previous, actual = arrays["previous_test"], arrays["actual_test"][:, 0]
    assert metrics["persistence"]["rmse"] == pytest.approx(_rmse(previous, actual))
    assert metrics["rmse_ratio"] == pytest.approx(
        metrics["model"]["rmse"] / metrics["persistence"]["rmse"]
    )
    table = out["predictions"]
    assert len(table) == len(actual) and table["actual"].tolist() == actual.tolist()
    assert metrics["model"]["rmse"] == pytest.approx(_rmse(table["predicted"], actual))
    assert (table["lower"] <= table["predicted"]).all() and (
        table["predicted"] <= table["upper"]
    ).all()
    assert 0 <= metrics["interval"]["model"]["coverage"] <= 1
    assert set(out) == ({"predictions", "series"} if panel else {"predictions"})
    if panel:
        assert set(metrics["per_series"]) == {"A", "B"} and metrics["series"]["count"] == 2
        assert table["series"].unique().tolist() == ["A", "B"]
        assert out["series"]["series"].tolist() == ["A", "B"]


def test_the_next_day_is_the_next_business_day_with_an_interval_around_each_forecast():
    dataset = _dataset(False)
    tables = {"synthetic": _table(3)}
    arrays, fit, model = _fitted(dataset, tables)
    result, table = score.next_day(model, tables, dataset, fit)
    last = tables["synthetic"].iloc[-1]
    assert result["last_date"] == last["Date"]
    assert pd.Timestamp(result["date"]) == pd.Timestamp(last["Date"]) + pd.offsets.BDay(1)
    assert result["persistence"]["forecast"] == pytest.approx(last["Close"])
    for who in ("model", "persistence"):
        assert result[who]["lower"] < result[who]["forecast"] < result[who]["upper"]
    assert table["date"].iloc[-1] == result["date"] and table["close"].iloc[-2] == last["Close"]


def test_walk_forward_folds_score_each_block_beside_persistence():
    dataset = _dataset(False)
    panel = series({"synthetic": _table(4)}, dataset)
    metrics, rows = score.score_folds(panel, dataset)
    assert [r["fold"] for r in rows] == [1, 2]
    assert all(r["test_windows"] > 0 for r in rows)
    assert rows[1]["train_windows"] > rows[0]["train_windows"]  # the window expands
    assert metrics["folds_beating_persistence"] == sum(r["rmse_ratio"] < 1 for r in rows)
    assert metrics["rmse_ratio"] == pytest.approx(
        metrics["model_rmse"] / metrics["persistence_rmse"]
    )
    assert "steps" not in metrics  # one step ahead: the figures above are all there is


def test_walk_forward_of_a_horizon_scores_each_step_on_the_same_blocks():
    dataset = _dataset(False, {"horizon": 3})
    metrics, rows = score.score_folds(series({"synthetic": _table(4)}, dataset), dataset)
    steps = metrics["steps"]
    assert list(steps) == ["1", "2", "3"]
    assert steps["1"]["rmse_ratio"] == metrics["rmse_ratio"]  # the folds are compared on step 1
    assert steps["1"]["model_rmse"] == metrics["model_rmse"]
    # a random walk: the last value drifts further from the value three days on than the next
    assert steps["3"]["persistence_rmse"] > 1.3 * steps["1"]["persistence_rmse"]
    for step in steps.values():
        assert step["reference"] == "persistence"
        assert step["rmse_ratio"] == pytest.approx(step["model_rmse"] / step["persistence_rmse"])


def test_walk_forward_of_a_panel_scores_each_series_too():
    """A panel's folds give each series' own figures and their mean ratio (what a choice on the
    mean of per-series ratios reads), beside the ratio pooled over every series' days."""
    dataset = _dataset(True)
    table = pd.concat([_table(4, "a"), _table(5, "b")], ignore_index=True)
    metrics, _ = score.score_folds(series({"synthetic": table}, dataset), dataset)
    per = metrics["per_series"]
    assert list(per) == ["a", "b"]
    assert metrics["series"]["count"] == 2
    assert metrics["series"]["mean_rmse_ratio"] == pytest.approx(
        np.mean([m["rmse_ratio"] for m in per.values()])
    )
    rmses = [m["model"]["rmse"] for m in per.values()]
    assert min(rmses) <= metrics["model_rmse"] <= max(rmses)  # pooled: between the two
    assert sum(m["test_windows"] for m in per.values()) == sum(
        row["test_windows"] for row in metrics["folds"].values()
    )


class _Mean(forecasters.Baseline):
    """A baseline for the test: the mean of the training part's actual values."""

    name, column = "mean", "mean"

    def fit(self, origins, actual):
        self.level = float(np.mean(actual))
        return self

    def predict(self, origins):
        return np.full(len(origins.last), self.level)


def test_a_baseline_is_one_class_and_one_registration(monkeypatch, tmp_path):
    """Registered beside persistence, a baseline is scored, calibrated, tabled and charted with
    no other change; the model is still judged against the first baseline."""
    from lstmops import charts

    monkeypatch.setitem(forecasters.BASELINES, "mean", _Mean)
    dataset = _dataset(False)
    tables = {"synthetic": _table(5)}
    arrays, fit, model = _fitted(dataset, tables)
    fit.calibration["mean"] = fit.calibration["persistence"]
    metrics, out = score.evaluate(model, arrays, dataset, fit)
    assert list(metrics)[:3] == ["model", "persistence", "mean"]
    assert metrics["mean"]["rmse"] == pytest.approx(
        _rmse(
            np.full(len(arrays["actual_test"]), arrays["actual_train"].mean()),
            arrays["actual_test"][:, 0],
        )
    )
    assert set(metrics["interval"]) >= {"model", "persistence", "mean"}
    assert list(out["predictions"].columns) == [
        "day", "actual", "predicted", "persistence", "mean", "lower", "upper"
    ]  # fmt: skip
    assert charts.baselines_in(out["predictions"]) == ["persistence", "mean"]
    charts.write(out, dataset.name, tmp_path)
    assert (tmp_path / "predictions.png").stat().st_size > 0
    result, table = score.next_day(model, tables, dataset, fit)
    assert result["mean"]["lower"] < result["mean"]["forecast"] < result["mean"]["upper"]
    assert {"mean", "mean_lower", "mean_upper"} <= set(table.columns)
    charts.write({"forecast": table}, dataset.name, tmp_path)
    metrics, rows = score.score_folds(series(tables, dataset), dataset)
    assert {"model_rmse", "persistence_rmse", "mean_rmse"} <= set(metrics)
    charts.write({"folds": pd.DataFrame(rows)}, dataset.name, tmp_path)
