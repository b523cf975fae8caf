"""Files: atomic writes (a stage that fails or is killed half-way leaves the previous good output
in place), JSON, hashes, and text read as UTF-8 with one clear error."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lstmops.config import LstmopsError


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary sibling of `path` to write a file or directory into; move it in on success.

    The rename is atomic on one file system, so readers see the old output or the new one, never a mix.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    target = tmp / path.name
    try:
        yield target
        if path.is_dir() and not path.is_symlink():
            old = tmp / "old"
            path.rename(old)
            target.rename(path)
        else:
            os.replace(target, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_json(path: Path, data: object) -> None:
    """Write `data` as indented JSON, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _hexdigest(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    return _hexdigest(path, "sha256")


def dvc_hash(folder: Path) -> str:
    """DVC's md5 of a folder, as dvc.lock records it ('<md5>.dir'): the md5 of the sorted JSON list
    of its files' md5s and relative paths. Computed here so a stage can name its inputs' version
    without loading DVC."""
    entries = [
        {
            "md5": _hexdigest(f, "md5"),
            "relpath": f.relative_to(folder).as_posix(),
        }
        for f in folder.rglob("*")
        if f.is_file()
    ]
    listing = json.dumps(sorted(entries, key=lambda e: e["relpath"]), sort_keys=True)
    return hashlib.md5(listing.encode("utf-8")).hexdigest() + ".dir"


def read_text(path: Path) -> str:
    """The file as UTF-8 text, or one clear error naming the file and the encoding expected."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        hint = (
            " (it starts with a UTF-16 byte order mark)"
            if data[:2] in (b"\xff\xfe", b"\xfe\xff")
            else ""
        )
        raise LstmopsError(
            f"{path} is not UTF-8 text{hint}: byte 0x{data[err.start]:02x} at offset {err.start} "
            "cannot be decoded. Save the file as UTF-8 CSV (plain ASCII is fine) and run again."
        ) from None
