"""Get a dataset's source file: from a local mirror directory, or downloaded once and cached.

Either way the file's sha256 must match the pinned one in params.yaml, so both paths give the same bytes.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

from tqdm import tqdm

from lstmops.config import MIRROR_ENV, LstmopsError, Source, mirror_dir, workspace_root
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
    """Return a local, checksum-verified path to the source file (mirror first, else download)."""
    mirror = mirror_dir(source)
    if mirror is not None:
        path = mirror / source.mirror_path
        if not path.is_file():
            raise LstmopsError(
                f"mirror configured ({MIRROR_ENV} or the source.mirror param = {mirror}) but "
                f"{path} is missing. Put the file there, or unset the mirror to download it."
            )
    else:
        path = workspace_root() / DOWNLOAD_DIR / source.mirror_path
        if not path.is_file():
            download(source.url, path)
    verify(path, source.sha256)
    return path
