"""The n-gram model's variants, chosen on the grouped validation slice (issue: reviews past 0.92).

Each variant is fitted on the training split's reviews outside the slice (a seeded 20% of the
movies, as `train.validation: grouped` draws it) and scored on the slice, whose movies it never
saw, as the test split's are new. The variant with the best slice accuracy is then refitted on the
whole training split and scored once on the test split, beside the project's baseline (the same
refit); nothing is chosen on test. Run after `make repro` (it reads imdb's processed texts):

    python benchmarks/ngram_variants.py        # writes reports/ngram_variants.json
    python benchmarks/ngram_variants.py --chars    # and a second model of character n-grams,
                                                   # stacked with the word model on the slice
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from lstmops import ngrams
from lstmops.io import read_json, write_json
from lstmops.training import grouped_rows

ROOT = Path(__file__).resolve().parents[1]
PROCESSED = ROOT / "data/processed/imdb"


def hashed(texts: list[str], n: int, bits: int) -> sparse.csr_matrix:
    """Binary word 1..n-grams in 2**bits slots (ngrams.features with other sizes; the texts as
    preprocess wrote them, marked)."""
    vectorizer = HashingVectorizer(
        ngram_range=(1, n), n_features=2**bits, binary=True, norm=None, alternate_sign=False,
        lowercase=False, token_pattern=r"\S+", dtype=np.float32,
    )  # fmt: skip
    return vectorizer.transform(texts).tocsr()


def nb_logistic(c: float, alpha: float = 1.0) -> Callable:
    """The project's model (`ngrams.fit`): NB log-count ratios scale the features, a logistic
    regression with a bias per n-gram present."""
    return lambda x, y: ngrams.fit(x, y, c, alpha).logits


def nbsvm(c: float, beta: float) -> Callable:
    """Wang & Manning's NBSVM: a linear SVM on the r-scaled features, its weights interpolated
    toward their mean magnitude, w' = (1 - beta) mean|w| + beta w."""

    def fit(x, y):
        r = ngrams.log_count_ratio(x, y)
        svm = LinearSVC(C=c).fit(x @ sparse.diags(r), y)
        w = svm.coef_.reshape(-1)
        w = (1 - beta) * np.abs(w).mean() + beta * w
        weights, bias = r * w, svm.intercept_[0]
        return lambda z: np.asarray(z @ weights).reshape(-1) + bias

    return fit


def variants() -> dict[str, tuple[tuple[int, int], Callable]]:
    """name: ((n-gram order, hash bits), fit(x, y) -> scorer)."""
    out: dict[str, tuple[tuple[int, int], Callable]] = {}
    for c in ngrams.C_GRID:
        out[f"nb-lr 1-3 2^22 C={c:g}"] = ((3, 22), nb_logistic(c))
    for c in (0.3, 1.0, 3.0):
        out[f"nb-lr 1-3 2^24 C={c:g}"] = ((3, 24), nb_logistic(c))
        out[f"nb-lr 1-2 2^22 C={c:g}"] = ((2, 22), nb_logistic(c))
    for c in (0.3, 1.0):
        out[f"nb-lr 1-3 2^22 C={c:g} alpha=0.5"] = ((3, 22), nb_logistic(c, alpha=0.5))
    for beta in (0.25, 1.0):
        out[f"nbsvm 1-3 2^22 C=1 beta={beta:g}"] = ((3, 22), nbsvm(1.0, beta))
    return out


def character_stack(train: list[str], y: np.ndarray, fit_rows, val_rows, word) -> dict:
    """A second NB-weighted model on binary character 2-5-grams inside words, and the two models'
    logits stacked as the hybrid stacks its parts (ngrams.fit_combination's cross-validation on the
    slice): does a model of other features add to the word model on movies it never saw?"""
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    vectorizer = HashingVectorizer(
        analyzer="char_wb", ngram_range=(2, 5), n_features=2**22, binary=True, norm=None,
        alternate_sign=False, lowercase=False, dtype=np.float32,
    )  # fmt: skip
    chars = vectorizer.transform(train).tocsr()
    logits = {
        "words": word,
        "chars": nb_logistic(0.3)(chars[fit_rows], y[fit_rows])(chars[val_rows]),
    }
    labels = y[val_rows]
    out = {name: float(np.mean((z >= 0) == labels)) for name, z in logits.items()}
    folds = StratifiedKFold(ngrams.COMBINE_FOLDS, shuffle=True, random_state=0)
    both = np.column_stack([logits["words"], logits["chars"]])
    out["stacked"] = float(np.mean(cross_val_score(LogisticRegression(), both, labels, cv=folds)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chars", action="store_true", help="also stack a character n-gram model")
    args = parser.parse_args()
    texts = pd.read_parquet(PROCESSED / "texts.parquet")
    with np.load(PROCESSED / "arrays.npz") as arrays:
        y, y_test, groups = arrays["y_train"], arrays["y_test"], arrays["group_train"]
    train = texts.loc[texts["split"] == "train", "text"].tolist()
    test = texts.loc[texts["split"] == "test", "text"].tolist()
    fit_rows, val_rows = grouped_rows(groups, 0.2, 42)  # the grouped slice of sentiment.train
    candidates = variants()
    features: dict[tuple[int, int], sparse.csr_matrix] = {}
    results: dict[str, dict] = {}
    slice_logits: dict[str, np.ndarray] = {}
    for name, (shape, fit) in candidates.items():
        if shape not in features:
            features[shape] = hashed(train, *shape)
        x = features[shape]
        start = time.perf_counter()
        slice_logits[name] = fit(x[fit_rows], y[fit_rows])(x[val_rows])
        accuracy = float(np.mean((slice_logits[name] >= 0) == y[val_rows]))
        results[name] = {"validation": accuracy, "seconds": time.perf_counter() - start}
        print(f"{name:<36} validation {accuracy:.4f}  ({results[name]['seconds']:.0f} s)")
    best = max(results, key=lambda k: results[k]["validation"])
    report = {"slice_reviews": len(val_rows), "variants": results, "chosen": best}
    c = read_json(PROCESSED / "ngrams.json")["C"]  # the baseline's, chosen in preprocess
    baseline = f"nb-lr 1-3 2^22 C={c:g}"
    for name in dict.fromkeys([best, baseline]):  # refitted on the whole split, scored on test once
        shape, fit = candidates[name]
        score = fit(features[shape], y)
        accuracy = float(np.mean((score(hashed(test, *shape)) >= 0) == y_test))
        report.setdefault("test", {})[name] = accuracy
        print(f"test {name:<31} {accuracy:.5f}")
    if args.chars:
        word = slice_logits[baseline]  # the baseline's model, fitted outside the slice above
        report["characters"] = character_stack(train, y, fit_rows, val_rows, word)
        print("slice accuracy, words / characters / stacked:", report["characters"])
    write_json(ROOT / "reports" / "ngram_variants.json", report)


if __name__ == "__main__":
    main()
