"""Document vectors over word n-grams (Le & Mikolov's PV-DBOW, read as Thongtan & Phienthrakul
2019 read it): each text a vector trained to predict its own word 1-3-grams, then a logistic
regression on the vectors. A third part of the hybrid (`train.docvectors`) that sees a review
otherwise than the n-gram model's weights and the LSTM's states: stacked with the n-gram model on
the grouped slice, 0.9151 against the n-gram model's 0.9099 (the LSTM added 0.3 points there).

Trained on the texts the other parts train on and the unlabelled ones (no labels read); any other
text, a validation, test or served one, gets its vector by inference against the frozen n-gram
weights, seeded by the text itself, so a review scores the same whatever was scored before it and
in whichever process.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lstmops.io import read_json, write_json
from lstmops.ngrams import marked

NGRAMS = 3  # word 1- to 3-grams, as the n-gram model reads them (`ngrams.marked`)
VECTOR_SIZE = 100
EPOCHS = 10  # passes of training, and of each text's inference
# Rarer n-grams are dropped: the saved output weights grow with the vocabulary (of the imdb
# training part and unlabelled texts: 481,000 n-grams at 8, 1.45 million at 3; stacked with the
# n-gram model on the grouped slice 0.9151 against 0.9159).
MIN_COUNT = 8
NEGATIVE = 5  # negative samples an n-gram
SAMPLE = 1e-4  # n-grams more frequent than this share of the corpus are skipped at random
C = 0.1  # the regression's inverse regularisation (0.1 against 1.0 on the grouped slice)
WORKERS = 2  # training threads: faster, and not bit for bit the same run to run

DOC2VEC_FILE = "doc2vec.model"
REGRESSION_FILE = "regression.json"


def tokens(text: str) -> list[str]:
    """A marked text's words and their 2- and 3-grams, each n-gram's words joined by `_`."""
    words = text.split()
    grams = list(words)
    for n in range(2, NGRAMS + 1):
        grams += ["_".join(words[i : i + n]) for i in range(len(words) - n + 1)]
    return grams


@dataclass
class DocVectorModel:
    """logit = vector(text) . weights + bias."""

    doc2vec: object  # gensim's Doc2Vec, frozen
    weights: np.ndarray
    bias: float

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        """Each text's inferred vector: gensim's `infer_vector` (EPOCHS passes, the learning rate
        falling from the model's alpha to its min_alpha), but started from a vector and negative
        samples drawn by generators seeded by the text. gensim seeds the start with Python's
        `hash`, which differs from process to process, and the samples with the model's shared
        generator, which depends on what was inferred before."""
        from gensim.models.doc2vec_inner import train_document_dbow

        model = self.doc2vec
        alpha, min_alpha = model.alpha, model.min_alpha  # type: ignore[attr-defined]
        step = (alpha - min_alpha) / max(EPOCHS - 1, 1)
        work, lockf = np.zeros(VECTOR_SIZE, dtype=np.float32), np.ones(1, dtype=np.float32)
        out = np.empty((len(texts), VECTOR_SIZE), dtype=np.float32)
        for i, text in enumerate(marked(texts)):
            seed = zlib.crc32(text.encode())
            model.random = np.random.RandomState(seed)  # type: ignore[attr-defined]
            start = np.random.default_rng(seed).random(VECTOR_SIZE, dtype=np.float32)
            vector = ((start - 0.5) / VECTOR_SIZE).reshape(1, VECTOR_SIZE)
            words = tokens(text)
            for epoch in range(EPOCHS):
                train_document_dbow(
                    model, words, [0], alpha - epoch * step, work, learn_words=False,
                    learn_hidden=False, doctag_vectors=vector, doctags_lockf=lockf,
                )  # fmt: skip
            out[i] = vector[0]
        return out

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        return self.vectors(texts).astype(np.float64) @ self.weights + self.bias

    def save(self, folder: Path) -> None:
        """The n-grams' output weights as float16 (`fit` rounded them so: they load the same)."""
        model = self.doc2vec
        folder.mkdir(parents=True, exist_ok=True)
        weights = model.syn1neg  # type: ignore[attr-defined]
        model.syn1neg = weights.astype(np.float16)  # type: ignore[attr-defined]
        try:
            model.save(str(folder / DOC2VEC_FILE))  # type: ignore[attr-defined]
        finally:
            model.syn1neg = weights  # type: ignore[attr-defined]
        write_json(folder / REGRESSION_FILE, {"weights": self.weights.tolist(), "bias": self.bias})

    @classmethod
    def load(cls, folder: str | Path) -> DocVectorModel:
        from gensim.models.doc2vec import Doc2Vec  # gensim (0.8 s): only where the part runs

        regression = read_json(Path(folder) / REGRESSION_FILE)
        doc2vec = Doc2Vec.load(str(Path(folder) / DOC2VEC_FILE))
        doc2vec.syn1neg = doc2vec.syn1neg.astype(np.float32)  # inference computes in float32
        return cls(doc2vec, np.asarray(regression["weights"]), float(regression["bias"]))


def fit(
    texts: Sequence[str], labels: np.ndarray, unlabelled: Sequence[str], seed: int = 0
) -> DocVectorModel:
    """Vectors for these texts and the unlabelled ones (PV-DBOW, no word vectors trained), then
    the regression on the labelled texts' trained vectors. The input word vectors, which PV-DBOW
    never reads, and the training texts' vectors are dropped, and the n-grams' output weights
    rounded to float16: the saved model is those weights, the vocabulary and the regression."""
    from gensim.models.doc2vec import Doc2Vec, TaggedDocument
    from sklearn.linear_model import LogisticRegression

    documents = [
        TaggedDocument(tokens(text), [i]) for i, text in enumerate(marked([*texts, *unlabelled]))
    ]
    model = Doc2Vec(
        documents, dm=0, dbow_words=0, vector_size=VECTOR_SIZE, negative=NEGATIVE, hs=0,
        min_count=MIN_COUNT, sample=SAMPLE, epochs=EPOCHS, workers=WORKERS, seed=seed,
    )  # fmt: skip
    trained = np.vstack([model.dv[i] for i in range(len(texts))])
    regression = LogisticRegression(C=C, max_iter=2000).fit(trained, np.asarray(labels))
    model.wv.vectors = np.zeros((0, VECTOR_SIZE), dtype=np.float32)
    model.dv.vectors = np.zeros((0, VECTOR_SIZE), dtype=np.float32)
    model.syn1neg = model.syn1neg.astype(np.float16).astype(np.float32)  # as saved: half the size
    return DocVectorModel(model, regression.coef_.reshape(-1), float(regression.intercept_[0]))
