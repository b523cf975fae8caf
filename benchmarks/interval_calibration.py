"""How well persistence's interval is calibrated inside each price series' training period only.

No test day is read: each series' training rows (the 70/30 split's first part) are split 70/30
again; the interval is calibrated either once on the 10% before that split (a fixed slice), or on
a rolling window of the latest one-step errors, and scored on the 30% after it. Persistence fits
nothing, so any day of its errors is out of sample. Run after `make repro` (it reads data/raw/).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lstmops.config import load_params
from lstmops.features import split_windows
from lstmops.intervals import Conformal

WINDOWS = (60, 120, 250)


def coverage(errors: np.ndarray, before: np.ndarray, level: float, window: int | None) -> float:
    """The share of `errors` inside the interval calibrated on `before` (window None: only on
    it), or on the `window` errors known the day before."""
    inside = []
    for t, error in enumerate(errors):
        known = before if window is None else np.concatenate([before, errors[:t]])[-window:]
        inside.append(abs(error) <= Conformal(level).share(known))
    return float(np.mean(inside))


def main() -> None:
    params, rows = load_params(), []
    for name in params.names():
        dataset = params.dataset(name)
        if dataset.task != "prices":
            continue
        p = dataset.settings.preprocess
        close = pd.read_csv(f"data/raw/{name}/prices.csv")["Close"].to_numpy()
        n_train, _ = split_windows(len(close), p)
        train = close[: n_train + p.seq_length]  # the training period's rows only
        errors = (train[1:] - train[:-1]) / train[:-1]
        split = int(len(errors) * 0.7)
        before, later = errors[split - int(split * 0.1) : split], errors[split:]
        for level in (0.8, 0.9):
            row = {"series": name, "nominal": level, "days": len(later)}
            row["fixed_slice"] = coverage(later, before, level, None)
            for window in WINDOWS:
                row[f"rolling{window}"] = coverage(later, before, level, window)
            rows.append(row)
    table = pd.DataFrame(rows)
    print(table.round(3).to_string(index=False))
    for column in ["fixed_slice", *(f"rolling{w}" for w in WINDOWS)]:
        gap = (table[column] - table["nominal"]).abs().mean()
        print(f"{column}: mean |coverage - nominal| {gap:.4f}")


if __name__ == "__main__":
    main()
