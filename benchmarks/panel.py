"""A seeded synthetic panel: many daily OHLCV series in one long CSV (Ticker, Date, OHLCV).

Each series is a geometric random walk of its own level and volatility over business days, with
an Open near the previous Close and High/Low around both, so it passes the price expectations.

Usage: python benchmarks/panel.py OUT.csv [--series 300] [--days 800] [--seed 0]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd


def panel(series: int, days: int, seed: int) -> pd.DataFrame:
    """`series` random walks of `days` business days each, as one long table."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2015-01-02", periods=days).strftime("%Y-%m-%d")
    tables = []
    for i in range(series):
        level, volatility = rng.uniform(10, 500), rng.uniform(0.005, 0.03)
        close = level * np.exp(np.cumsum(rng.normal(0, volatility, days)))
        open_ = np.r_[close[0], close[:-1]] * np.exp(rng.normal(0, volatility / 4, days))
        high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0, volatility / 2, days)))
        low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0, volatility / 2, days)))
        volume = rng.integers(10_000, 5_000_000, days)
        tables.append(
            pd.DataFrame(
                {
                    "Ticker": f"S{i:04d}",
                    "Date": dates,
                    "Open": open_.round(4),
                    "High": high.round(4),
                    "Low": low.round(4),
                    "Close": close.round(4),
                    "Volume": volume,
                }
            )
        )
    return pd.concat(tables, ignore_index=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--series", type=int, default=300)
    parser.add_argument("--days", type=int, default=800)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    panel(args.series, args.days, args.seed).to_csv(args.out, index=False)
    print(f"wrote {args.out}: {args.series} series of {args.days} days")


if __name__ == "__main__":
    main()
