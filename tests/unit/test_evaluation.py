"""Metrics and baselines: exact values on small arrays."""

import numpy as np
import pytest

from lstmops import evaluation as ev


def test_stock_metrics_against_persistence():
    previous = np.array([10.0, 10, 10, 10])
    actual = np.array([11.0, 9, 12, 10])
    predicted = np.array([11.0, 11, 11, 10])
    m = ev.forecast_metrics(
        previous, actual, {"model": predicted, "persistence": previous}, moving={"model"}
    )
    assert list(m) == [
        "model", "persistence", "reference", "rmse_ratio", "diebold_mariano", "test_windows"
    ]  # fmt: skip
    assert "directional_accuracy" not in m["persistence"]  # it never moves
    assert m["model"]["rmse"] == pytest.approx(np.sqrt((0 + 4 + 1 + 0) / 4))
    assert m["model"]["mae"] == pytest.approx(0.75)
    assert m["persistence"]["rmse"] == pytest.approx(np.sqrt((1 + 1 + 4 + 0) / 4))
    assert m["rmse_ratio"] == pytest.approx(np.sqrt(5 / 6))
    assert m["model"]["directional_accuracy"] == pytest.approx(
        0.75
    )  # up ok, down wrong, up ok, flat ok
    assert m["persistence"]["mape"] == pytest.approx(100 * np.mean([1 / 11, 1 / 9, 2 / 12, 0]))


def test_classification_metrics_and_majority_baseline():
    labels = np.array([1, 1, 1, 0])
    probabilities = np.array([0.9, 0.4, 0.8, 0.1])
    m = ev.classification_metrics(labels, probabilities)
    assert m["model"]["accuracy"] == pytest.approx(0.75)
    assert m["model"]["precision"] == pytest.approx(1.0)
    assert m["model"]["recall"] == pytest.approx(2 / 3)
    assert m["model"]["roc_auc"] == pytest.approx(1.0)
    assert m["majority_class"] == {"accuracy": 0.75}
    assert m["accuracy_ratio"] == pytest.approx(1.0)  # 3 of 4 right, as always answering 1


def test_accuracy_ratio_against_the_majority_class():
    labels = np.array([0, 0, 0, 1])  # the majority answers 0 and gets 0.75
    m = ev.classification_metrics(labels, np.array([0.1, 0.2, 0.3, 0.9]))  # all 4 right
    assert m["accuracy_ratio"] == pytest.approx(1 / 0.75)


def test_naive_mae_and_mase():
    previous, actual = np.array([10.0, 11.0, 13.0]), np.array([11.0, 13.0, 12.0])
    assert ev.naive_mae(previous, actual) == pytest.approx(4 / 3)
    last, actual = np.array([10.0, 10.0]), np.array([11.0, 9.0])
    forecasts = {"model": np.array([10.5, 9.5]), "persistence": last}
    m = ev.forecast_metrics(last, actual, forecasts, {"model"}, scale=2.0)
    assert m["model"]["mase"] == pytest.approx(0.25) and m["persistence"]["mase"] == 0.5


def test_diebold_mariano_by_hand():
    actual = np.array([1.0, 2.0, 3.0, 4.0])
    model = np.array([1.5, 2.0, 3.5, 4.0])  # squared errors .25 0 .25 0
    baseline = np.array([2.0, 2.0, 2.0, 5.0])  # squared errors 1 0 1 1
    d = np.array([-0.75, 0.0, -0.75, -1.0])
    statistic = d.mean() / np.sqrt(d.var() / 4) * np.sqrt(3 / 4)
    result = ev.diebold_mariano(actual, model, baseline)
    assert result["statistic"] == pytest.approx(statistic) and result["statistic"] < 0
    from scipy import stats

    assert result["p_value"] == pytest.approx(2 * stats.t.sf(abs(statistic), 3))


def test_diebold_mariano_tells_a_tie_from_a_real_difference():
    rng = np.random.default_rng(0)
    actual = rng.normal(size=500)
    noisy = actual + rng.normal(scale=1.0, size=500)
    also_noisy = actual + rng.normal(scale=1.0, size=500)
    assert ev.diebold_mariano(actual, noisy, also_noisy)["p_value"] > 0.05
    better = actual + rng.normal(scale=0.5, size=500)
    assert ev.diebold_mariano(actual, better, noisy)["p_value"] < 1e-6
    assert ev.diebold_mariano(actual, noisy, noisy) == {"statistic": 0.0, "p_value": 1.0}


def test_classification_metrics_against_the_linear_baseline():
    labels = np.array([1, 1, 0, 0])
    m = ev.classification_metrics(
        labels, np.array([0.9, 0.8, 0.2, 0.6]), linear=np.array([0.9, 0.4, 0.1, 0.2])
    )
    assert m["linear"] == {"accuracy": 0.75, "roc_auc": 1.0}
    assert m["linear_accuracy_ratio"] == pytest.approx(0.75 / 0.75)


def test_interval_scores_in_dollars():
    scores = ev.interval_scores(
        np.array([103.0, 97.0]), np.array([99.0, 98.0]), np.array([103.0, 100.0])
    )
    assert scores == {"coverage": 0.5, "mean_width": 3.0}


def test_every_forecaster_is_scored_and_the_first_baseline_is_the_reference():
    last, actual = np.array([10.0, 10.0, 10.0]), np.array([11.0, 12.0, 9.0])
    forecasts = {
        "model": np.array([11.0, 11.0, 10.0]),
        "persistence": last,
        "mean": actual * 0 + 11,
    }
    m = ev.forecast_metrics(last, actual, forecasts, {"model", "mean"})
    assert list(m)[:3] == ["model", "persistence", "mean"]
    assert m["rmse_ratio"] == pytest.approx(m["model"]["rmse"] / m["persistence"]["rmse"])
    assert m["mean"]["directional_accuracy"] == pytest.approx(2 / 3)  # up, up, (down: up) wrong


def test_a_series_constant_over_its_test_period_has_an_undefined_ratio_not_a_crash():
    """Persistence forecasts a constant stretch exactly (RMSE 0): the model's ratio to it is
    undefined (None, null in JSON), the panel's mean and median skip it and count it, and the
    per-series table shows it blank."""
    flat = np.full(20, 3.0)
    rng = np.random.default_rng(0)
    moving = np.cumsum(rng.normal(size=21)) + 50
    constant = ev.forecast_metrics(
        flat, flat, {"model": flat + 0.5, "persistence": flat}, {"model"}, scale=1.0
    )
    assert constant["rmse_ratio"] is None and constant["persistence"]["rmse"] == 0
    varying = ev.forecast_metrics(
        moving[:-1],
        moving[1:],
        {"model": moving[:-1] + 0.1, "persistence": moving[:-1]},
        {"model"},
        scale=1.0,
    )
    summary = ev.panel_summary([constant, varying], ["model", "persistence"], 0.05)
    assert summary["undefined_rmse_ratio"] == 1 and summary["count"] == 2
    assert summary["mean_rmse_ratio"] == summary["median_rmse_ratio"] == varying["rmse_ratio"]
    assert summary["beating_persistence"] == (0.5 if varying["rmse_ratio"] < 1 else 0.0)
    table = ev.series_table({"flat": constant, "moving": varying}, ["model", "persistence"])
    assert table["rmse_ratio"].isna().tolist() == [True, False]
    alone = ev.panel_summary([constant], ["model", "persistence"], 0.05)
    assert alone["mean_rmse_ratio"] is None and alone["beating_persistence"] == 0.0


def test_zeros_and_a_still_training_period_give_undefined_mape_and_mase_not_a_crash():
    """An intermittent series (prescriptions, sales): a zero in its test period leaves MAPE
    undefined, and a training period whose seasonal naive never erred leaves MASE undefined; both
    are None (null in JSON, blank in the table), and the panel's mean MASE skips them."""
    actual, last = np.array([0.0, 4.0, 2.0]), np.array([1.0, 0.0, 4.0])
    forecasts = {"model": np.array([1.0, 3.0, 2.0]), "persistence": last}
    still = ev.forecast_metrics(last, actual, forecasts, {"model"}, scale=0.0)
    assert still["model"]["mape"] is None and still["model"]["mase"] is None
    assert still["model"]["mae"] == pytest.approx(2 / 3)
    scaled = ev.forecast_metrics(last, actual + 1, forecasts, {"model"}, scale=2.0)
    assert scaled["model"]["mase"] == pytest.approx(scaled["model"]["mae"] / 2)
    assert scaled["model"]["mape"] is not None
    summary = ev.panel_summary([still, scaled], ["model", "persistence"], 0.05)
    assert summary["mean_mase"] == scaled["model"]["mase"]
    assert ev.panel_summary([still], ["model", "persistence"], 0.05)["mean_mase"] is None
    table = ev.series_table({"still": still, "scaled": scaled}, ["model", "persistence"])
    assert table["model_mase"].isna().tolist() == [True, False]
