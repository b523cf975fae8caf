"""Get a dataset's source file: the user's own under data/external/, or a pinned URL's (from a
local mirror directory, or downloaded once and cached).

A URL's file must match the sha256 pinned in params.yaml, so the mirror and the download give the
same bytes; a local file is checked against its sha256 when one is given.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

from tqdm import tqdm

from lstmops.config import MIRROR_ENV, LstmopsError, Source, mirror_dir, workspace_root
from lstmops.data import tickers
from lstmops.io import atomic_path, sha256_of

DOWNLOAD_DIR = Path("data/downloads")  # outside DVC's outputs: a cache of fetched source files
TIMEOUT_S = 30


def verify(path: Path, expected: str) -> None:
    actual = sha256_of(path)
    if actual != expected:
        raise LstmopsError(
            f"checksum mismatch for {path}: sha256 is {actual}, expected {expected}. The file is "
            "corrupt or not the pinned source; replace it with the canonical file (or, if the source "
            "really changed, update the sha256 param in params.yaml)."
        )


def download(url: str, dest: Path) -> None:
    """Download `url` to `dest` atomically, showing progress."""
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response, atomic_path(dest) as tmp:
            total = int(response.headers.get("Content-Length") or 0) or None
            with (
                tmp.open("wb") as f,
                tqdm(total=total, unit="B", unit_scale=True, desc=f"download {dest.name}") as bar,
            ):
                for block in iter(lambda: response.read(1 << 20), b""):
                    f.write(block)
                    bar.update(len(block))
    except (urllib.error.URLError, TimeoutError, OSError) as err:
        raise LstmopsError(
            f"could not download {url}: {getattr(err, 'reason', err)}. Without internet, point "
            f"{MIRROR_ENV} at a mirror directory that holds the file (see README.md)."
        ) from None


def fetch(source: Source) -> Path:
    """Return a local, checksum-verified path to the source file or folder (a local path as it is;
    a URL's file from the mirror first, else downloaded)."""
    if source.path is not None:
        path = workspace_root() / source.path
        if not path.exists():
            raise LstmopsError(
                f"{source.path} is missing: put your file there (params.yaml declares it as a "
                "dataset's source), or fix the path."
            )
        if source.sha256 is not None and path.is_file():
            verify(path, source.sha256)
        return path
    mirror = mirror_dir(source)
    if mirror is not None:
        path = mirror / source.local_name
        if not path.is_file():
            raise LstmopsError(
                f"mirror configured ({MIRROR_ENV} or the source.mirror param = {mirror}) but "
                f"{path} is missing. Put the file there, or unset the mirror to download it."
            )
    else:
        path = workspace_root() / DOWNLOAD_DIR / source.local_name
        if not path.is_file():
            download(str(source.url), path)
    verify(path, str(source.sha256))  # a URL's is required (Source)
    return path


def describe(source: Source) -> dict[str, str]:
    """Which data a run used, for its MLflow params: the file and its sha256, or the package."""
    if source.package is not None:
        which = (
            {"source.ticker": str(source.ticker)}
            if source.ticker
            else {"source.sample": str(source.sample)}
        )
        return {"source.package": tickers.source_version(), **which}
    if source.url is not None:
        return {"source.url": source.url, "source.sha256": str(source.sha256)}
    path = workspace_root() / str(source.path)
    digest = sha256_of(path) if path.is_file() else "(a folder)"
    return {"source.path": str(source.path), "source.sha256": digest}
