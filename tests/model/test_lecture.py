"""The lecture's small networks learn what the lecture says they learn (and XOR defeats the perceptron)."""

import numpy as np

from lstmops import lecture as lec


def _perceptron_outputs(weights):
    x = np.hstack([np.ones((4, 1)), lec.BOOLEAN_INPUTS])
    return lec.step(x @ np.asarray(weights)).tolist()


def test_perceptron_learns_and_and_or_but_not_xor():
    for gate in ("and", "or"):
        result = lec.train_perceptron(lec.BOOLEAN_INPUTS, lec.GATES[gate], 0.1, 100)
        assert result["converged"], gate
        assert _perceptron_outputs(result["weights"]) == lec.GATES[gate].tolist()
    xor = lec.train_perceptron(lec.BOOLEAN_INPUTS, lec.GATES["xor"], 0.1, 100)
    assert not xor["converged"] and xor["epochs"] == 100
    assert _perceptron_outputs(xor["weights"]) != lec.GATES["xor"].tolist()


def test_perceptron_update_rule_by_hand():
    # AND from zero weights, eta 0.1: the first mistake is (0,0) -> net 0 -> f=1, t=0: w0 -= 0.1.
    result = lec.train_perceptron(lec.BOOLEAN_INPUTS[:1], np.array([0]), 0.1, 5)
    assert result["converged"] and result["epochs"] == 2
    np.testing.assert_allclose(result["weights"], [-0.1, 0, 0])


def test_hand_set_network_separates_xor():
    outputs = lec.xor_fixed()
    assert ((outputs >= 0.5).astype(int) == lec.GATES["xor"]).all()
    assert outputs[[0, 3]].max() < 0.1 and outputs[[1, 2]].min() > 0.9


def test_keras_mlp_is_trained_until_it_solves_xor():
    result = lec.train_xor(hidden=3, learning_rate=0.1, batch_size=4, max_epochs=20000, seed=42)
    assert result["solved"] and 0 < result["epochs"] < 20000
    assert ((np.array(result["outputs"]) >= 0.5).astype(int) == lec.GATES["xor"]).all()


def test_character_vocabulary_and_end_padding():
    vocabulary = lec.char_vocabulary(["good", "so good"])
    assert vocabulary == ["<pad>", " ", "d", "g", "o", "s"]
    np.testing.assert_array_equal(lec.encode_chars(["god"], vocabulary, 5), [[3, 4, 2, 0, 0]])


def test_character_rnn_classifies_all_four_words():
    result = lec.train_words(
        ["good", "bad", "worse", "so good"], [1, 0, 0, 1], 10, "SimpleRNN", 10, 50, 0.05, 42
    )
    assert result["accuracy"] == 1.0
    assert [p >= 0.5 for p in result["probabilities"]] == [True, False, False, True]
