"""The hybrid's document vectors (lstmops.docvectors): gensim's PV-DBOW over word n-grams, a
regression on the vectors, inference that does not depend on what was scored before."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from lstmops import docvectors

POSITIVE = [f"good{i}" for i in range(20)]
NEGATIVE = [f"bad{i}" for i in range(20)]
NEUTRAL = [f"word{i}" for i in range(2000)]


def reviews(n: int, seed: int) -> tuple[list[str], np.ndarray]:
    """Texts of neutral words and a few words of their label's side (a fifth from the other)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    texts = []
    for label in labels:
        side, other = (POSITIVE, NEGATIVE) if label else (NEGATIVE, POSITIVE)
        words = [*rng.choice(NEUTRAL, 60), *rng.choice(side, 8), *rng.choice(other, 2)]
        texts.append(" ".join(rng.permutation(words)))
    return texts, labels


@pytest.fixture(scope="module")
def fitted():
    """Fitted without subsampling: in these few thousand texts of 2,040 words every word is
    frequent, and SAMPLE (made for millions of tokens of real reviews) would skip nearly all."""
    patch = pytest.MonkeyPatch()
    patch.setattr(docvectors, "SAMPLE", 0)
    texts, labels = reviews(3000, 0)
    unlabelled, _ = reviews(1000, 1)
    yield docvectors.fit(texts, labels, unlabelled)
    patch.undo()


def test_tokens_are_the_words_and_their_2_and_3_grams():
    assert docvectors.tokens("a good film !") == [
        "a", "good", "film", "!", "a_good", "good_film", "film_!", "a_good_film", "good_film_!",
    ]  # fmt: skip


def test_document_vectors_tell_the_sides_apart_on_texts_they_never_saw(fitted):
    texts, labels = reviews(200, 2)
    assert docvectors_accuracy(fitted, texts, labels) > 0.8


def docvectors_accuracy(model, texts, labels) -> float:
    return float(np.mean((model.logits(texts) >= 0) == labels))


def test_a_texts_score_is_the_same_in_any_order_and_after_saving(fitted, tmp_path):
    """Inference draws its negative samples from a generator seeded by the text: a served review
    scores the same whatever came before it, and the saved model (float16 output weights, no
    input word vectors) scores as the fitted one."""
    texts, _ = reviews(20, 3)
    first = fitted.logits(texts)
    np.testing.assert_array_equal(fitted.logits(texts[::-1]), first[::-1])
    fitted.save(tmp_path / "docvectors")
    again = docvectors.DocVectorModel.load(tmp_path / "docvectors")
    np.testing.assert_array_equal(again.logits(texts), first)
    assert again.doc2vec.wv.vectors.size == 0 and again.doc2vec.dv.vectors.size == 0


def test_a_texts_score_is_the_same_in_another_process(fitted, tmp_path):
    """A served model runs in another process, with another seed of Python's string hashing."""
    texts, _ = reviews(5, 4)
    fitted.save(tmp_path / "docvectors")
    (tmp_path / "texts.json").write_text(json.dumps(texts))
    script = (
        "import json, sys; from lstmops.docvectors import DocVectorModel; "
        "texts = json.load(open(sys.argv[2])); "
        "print(json.dumps(DocVectorModel.load(sys.argv[1]).logits(texts).tolist()))"
    )
    args = [
        sys.executable,
        "-c",
        script,
        str(tmp_path / "docvectors"),
        str(tmp_path / "texts.json"),
    ]
    for seed in ("1", "2"):
        out = subprocess.run(args, capture_output=True, text=True, check=True,
                             env={**os.environ, "PYTHONHASHSEED": seed})  # fmt: skip
        np.testing.assert_array_equal(json.loads(out.stdout), fitted.logits(texts))
