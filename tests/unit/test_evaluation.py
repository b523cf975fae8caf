"""Metrics and baselines: exact values on small arrays."""

import numpy as np
import pytest

from lstmops import evaluation as ev


def test_stock_metrics_against_persistence():
    previous = np.array([10.0, 10, 10, 10])
    actual = np.array([11.0, 9, 12, 10])
    predicted = np.array([11.0, 11, 11, 10])
    m = ev.price_metrics(previous, actual, predicted)
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
