"""ingest: read the dataset's source (a local file, a pinned URL or mirror, a package) into data/raw/.

The parsed tables are checked with the validate stage's expectations (and a price series against
the settings: long enough for its windows) before they may replace the last good raw data: a bad
source fails here and leaves data/raw/<dataset> as it was.
"""

from __future__ import annotations

from lstmops import config as cfg
from lstmops import tasks
from lstmops.config import Dataset, LstmopsError
from lstmops.io import atomic_path


def ingest(dataset: Dataset) -> None:
    """Read and parse the source into data/raw/<dataset>/ (time-ordered), if it passes validation."""
    from lstmops.stages.validate import publish

    task = tasks.of(dataset, "ingest")
    raw = cfg.raw_dir(dataset.name)
    kept = (
        f"{raw} was not replaced: it still holds the last good data."
        if raw.exists()
        else f"Nothing was written to {raw}."
    )
    try:
        tables = task.read_source(dataset)
    except LstmopsError as err:
        raise LstmopsError(f"{err}\n{kept}") from None
    with atomic_path(raw) as out:
        out.mkdir()
        task.write_raw(tables, out)
        checks = task.check(task.read_raw(out, dataset), dataset)  # as validate will read them
        if not all(c.success for c in checks):
            publish(dataset, checks, out, kept)
    print(f"ingest {dataset.name}: {len(checks)} expectations passed, wrote {raw}")
