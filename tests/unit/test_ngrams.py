"""The NB-weighted n-gram model and the hybrid's combination: pure functions on small texts."""

import sys
from pathlib import Path

import numpy as np
import pytest

from lstmops import ngrams

GOOD = ["a truly great film", "great acting and a great story", "loved it , great fun"]
BAD = ["an awful film", "awful acting and an awful story", "hated it , awful mess"]
TEXTS, LABELS = (GOOD + BAD) * 10, np.array([1, 1, 1, 0, 0, 0] * 10)


def _slot(gram: str) -> int:
    return int(ngrams.features([gram])[0, :].nonzero()[1][-1])  # the longest n-gram's slot


def test_features_are_binary_word_1_to_3_grams():
    x = ngrams.features(["great great film", "not a great film at all"])
    assert x.shape == (2, 2**ngrams.BITS) and set(x.data) == {1.0}
    assert x[0].nnz == 5  # great, film, great great, great film, great great film
    assert x[1].nnz == 6 + 5 + 4  # uni-, bi- and trigrams of six words
    assert x[1, _slot("not a great")] == 1 and x[0, _slot("not a great")] == 0


def test_log_count_ratio_leans_to_the_label_an_ngram_appears_with():
    x = ngrams.features(TEXTS)
    r = ngrams.log_count_ratio(x, LABELS)
    assert r[_slot("great")] > 0 > r[_slot("awful")]
    assert r[_slot("film")] == pytest.approx(0, abs=0.05)  # as often in both


def test_the_baseline_learns_words_from_the_training_texts_only():
    test = ngrams.features(["great great", "awful awful", "film"])
    probabilities, c = ngrams.baseline(ngrams.features(TEXTS), LABELS, test)
    assert probabilities[0] > 0.5 > probabilities[1] and c in ngrams.C_GRID
    assert probabilities[2] == pytest.approx(0.5, abs=0.1)  # "film": no evidence either way


def test_the_folded_model_scores_as_the_regression_on_r_scaled_features(tmp_path):
    """logit = x . (r * w) + b equals the logistic regression on x * r, and survives saving."""
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    x = ngrams.features(TEXTS)
    model = ngrams.fit(x, LABELS, 1.0)
    r = ngrams.log_count_ratio(x, LABELS)
    regression = LogisticRegression(C=1.0, solver="liblinear").fit(x @ sparse.diags(r), LABELS)
    expected = regression.decision_function(x @ sparse.diags(r))
    np.testing.assert_allclose(model.logits(x), expected, rtol=1e-4, atol=1e-5)
    model.save(tmp_path / "ngrams.npz")
    again = ngrams.NgramModel.load(tmp_path / "ngrams.npz")
    np.testing.assert_array_equal(again.logits(x), model.logits(x))


def test_the_combination_weighs_the_model_that_knows_more():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 2000)
    informed = np.where(labels == 1, 2.0, -2.0) + rng.normal(size=2000)  # mostly right
    noise = rng.uniform(0.01, 0.99, size=2000)  # an LSTM that knows nothing
    logits = {"lstm": ngrams.logit(noise), "ngrams": informed}
    combination, held_out = ngrams.fit_combination(logits, labels)
    weights = combination.weights
    assert weights["ngrams"] > 1 and abs(weights["lstm"]) < 0.2
    alone = float(np.mean((informed >= 0) == labels))
    assert held_out == pytest.approx(alone, abs=0.02)
    np.testing.assert_allclose(
        combination.probabilities(logits),
        ngrams.sigmoid(
            weights["lstm"] * ngrams.logit(noise) + weights["ngrams"] * informed + combination.bias
        ),
    )


def test_a_combination_saved_before_the_third_part_loads_and_saves_the_same():
    saved = {"lstm": 0.3, "ngrams": 0.8, "bias": -0.1}  # combination.json of a two-part hybrid
    combination = ngrams.Combination.from_dict(saved)
    assert combination.weights == {"lstm": 0.3, "ngrams": 0.8} and combination.bias == -0.1
    assert combination.as_dict() == saved


def test_two_half_informed_models_combine_into_a_better_one():
    """Each model sees a different part of the evidence: the combination beats each, and a third
    part adds to two."""
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 4000)
    sign = np.where(labels == 1, 1.0, -1.0)
    a, b = sign + rng.normal(scale=1.5, size=4000), sign + rng.normal(scale=1.5, size=4000)
    c = sign + rng.normal(scale=1.5, size=4000)  # a third half-informed part
    two, held_out_two = ngrams.fit_combination({"lstm": a, "ngrams": b}, labels)
    best_alone = max(np.mean((a >= 0) == labels), np.mean((b >= 0) == labels))
    assert held_out_two > best_alone + 0.02
    assert two.weights["lstm"] == pytest.approx(two.weights["ngrams"], rel=0.2)
    three, held_out_three = ngrams.fit_combination(
        {"lstm": a, "ngrams": b, "docvectors": c}, labels
    )
    assert held_out_three > held_out_two + 0.01 and list(three.weights) == [
        "lstm",
        "ngrams",
        "docvectors",
    ]


def test_logit_inverts_sigmoid_and_stays_finite_at_saturated_probabilities():
    z = np.array([-5.0, 0.0, 3.0])
    np.testing.assert_allclose(ngrams.logit(ngrams.sigmoid(z)), z)
    assert np.isfinite(ngrams.logit(np.array([0.0, 1.0]))).all()


def test_the_variants_benchmark_scores_the_projects_model_as_the_project_does():
    """benchmarks/ngram_variants.py: its base variant is ngrams.fit on ngrams.features, so the
    slice's figures compare the project's model, not a look-alike."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    import ngram_variants

    x = ngrams.features(TEXTS)
    assert (ngram_variants.hashed(TEXTS, 3, 22) != x).nnz == 0
    score = ngram_variants.nb_logistic(1.0)(x, LABELS)
    np.testing.assert_allclose(score(x), ngrams.fit(x, LABELS, 1.0).logits(x), rtol=1e-5)
    svm = ngram_variants.nbsvm(1.0, beta=1.0)(x, LABELS)  # beta 1: the SVM's own weights
    assert ((svm(x) >= 0) == LABELS).all()


def test_the_ngram_model_reads_marks_as_words_and_drops_line_breaks():
    """ "great!" and "great." are different n-grams; an HTML line break is no word; marking twice
    reads the same as once (texts.parquet holds marked texts that features marks again)."""
    once = ngrams.marked(["Great!<br /><br />Not (really) BAD."])
    assert once == ["great ! not ( really ) bad ."]
    assert ngrams.marked(once) == once
    x = ngrams.features(["great!", "great.", "great !"])
    assert (x[0] != x[1]).nnz > 0 and (x[0] != x[2]).nnz == 0


def test_the_ngram_models_bias_is_one_per_ngram_so_a_text_of_none_leans_nowhere():
    """The regression's bias feature is the text's n-gram count: folded into the weights, the
    model has no bias per text, and a text without n-grams gets a logit of exactly 0."""
    model = ngrams.fit(ngrams.features(TEXTS), LABELS, 1.0)
    assert model.bias == 0.0
    assert model.logits(ngrams.features([""]))[0] == 0.0
    assert ((model.logits(ngrams.features(TEXTS)) >= 0) == LABELS).all()
