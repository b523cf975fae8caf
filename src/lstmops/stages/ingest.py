"""ingest: read the dataset's source (a local file, a pinned URL or mirror, a package) into data/raw/.

The parsed tables are checked with the validate stage's expectations (and a price series against
the settings: long enough for its windows) before they may replace the last good raw data: a bad
source fails here and leaves data/raw/<dataset> as it was.
"""

from __future__ import annotations

from lstmops import layout, tasks
from lstmops import validation as v
from lstmops.config import Dataset, LstmopsError
from lstmops.io import atomic_path
from lstmops.stages.validate import fingerprint, publish, raw_files


def ingest(dataset: Dataset) -> None:
    """Read and parse the source into data/raw/<dataset>/ (time-ordered), if it passes validation."""
    data, checks = tasks.data(dataset, "ingest"), tasks.checks(dataset, "ingest")
    raw = layout.raw_dir(dataset.name)
    kept = (
        f"{raw} was not replaced: it still holds the last good data."
        if raw.exists()
        else f"Nothing was written to {raw}."
    )
    try:
        tables = data.read_source(dataset)
    except LstmopsError as err:
        raise LstmopsError(f"{err}\n{kept}") from None
    with atomic_path(raw) as out:
        out.mkdir()
        data.write_raw(tables, out)
        results = checks.check(data.read_raw(out, dataset), dataset)  # as validate will read them
        files = raw_files(out)
        if not all(c.success for c in results):
            publish(dataset, results, files, kept)
        outcome = fingerprint(dataset, files)
    v.keep(layout.outcome_file(dataset.name), results, outcome)  # validate reports it
    print(f"ingest {dataset.name}: {len(results)} expectations passed, wrote {raw}")
