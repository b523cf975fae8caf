"""A series' calendar: its frequency read from its dates, the season that frequency implies, and
the dates missing from it, named or filled.

Pure functions on tables; the forecasting task's data module calls them at ingest (so a gap
stops bad data before it replaces good data) and wherever it reads the series again.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lstmops.config import Dataset, LstmopsError

# Each frequency's season: the steps after which the calendar repeats (a yearly series has none).
SEASONS = {"h": 24, "B": 5, "D": 7, "W": 52, "MS": 12, "ME": 12, "QS": 4, "QE": 4}
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
MOST_MISSING = 0.5  # a calendar missing more of its dates than this does not fit the series


def _candidates(first: pd.Timestamp) -> list[str]:
    """Frequencies coarsest first, anchored where pandas needs an anchor to the first date."""
    month, day = MONTHS[first.month - 1], DAYS[first.dayofweek]
    return [f"YS-{month}", f"YE-{month}", f"QS-{month}", f"QE-{month}", "MS", "ME", f"W-{day}", "B", "D", "h"]  # fmt: skip


def _each(
    dates: pd.Series, groups: pd.Series | None
) -> list[tuple[object, np.ndarray, pd.DatetimeIndex]]:
    """Each series' label, row numbers and dates."""
    stamps = pd.DatetimeIndex(pd.to_datetime(dates))
    labels = np.zeros(len(stamps)) if groups is None else groups.to_numpy()
    rows = [(label, np.flatnonzero(labels == label)) for label in pd.unique(labels)]
    return [(label, at, stamps[at]) for label, at in rows]


def _on(dates: pd.DatetimeIndex, freq: str) -> tuple[np.ndarray, int]:
    """Which of `dates` lie on the calendar `freq` over their span, and its length."""
    full = pd.date_range(dates.min(), dates.max(), freq=freq)
    return dates.isin(full), len(full)


def _fits(dates: pd.DatetimeIndex, frequency: str) -> bool:
    on, length = _on(dates, frequency)
    return bool(on.all()) and len(dates) >= (1 - MOST_MISSING) * length


def frequency(dates: pd.Series, groups: pd.Series | None = None) -> str | None:
    """The coarsest pandas frequency on whose calendar every series' dates lie (most of it
    present); None for timestamps no calendar fits."""
    each = [one for _, _, one in _each(dates, groups) if len(one) > 1]
    if not each:
        return None
    for candidate in _candidates(min(one.min() for one in each)):
        if all(_fits(one, candidate) for one in each):
            return candidate
    return None


def irregular(dates: pd.Series, groups: pd.Series | None, which: str) -> LstmopsError:
    """The error for timestamps no calendar fits: the first row off the calendar that most of
    its series' dates lie on."""
    for label, rows, one in _each(dates, groups):
        for freq in _candidates(one.min()):  # the coarsest holding most of the dates, mostly full
            on, length = _on(one, freq)
            if on.mean() > MOST_MISSING and on.sum() > MOST_MISSING * length:
                break
        if not on.all():
            row, odd = rows[int(np.argmin(on))], one[int(np.argmin(on))]
            named = "" if groups is None else f"series {label}: "
            break
    else:  # every series fits a calendar of its own, but not the same one
        row, odd, named, freq = 0, pd.Timestamp(dates.iloc[0]), "", "one"
    return LstmopsError(
        f"{which}{named}timestamps fit no regular calendar (hourly, daily, business daily, weekly, "
        f"monthly, quarterly, yearly): row {row + 2} is {stamp(odd)}, off the {freq} "
        "calendar that most of its dates lie on. Fix the dates, or keep the rows as they are with "
        "`preprocess: {gaps: keep}` and a declared season."
    )


def season(setting: int | str | None, freq: str | None, dataset: Dataset) -> int | None:
    """The seasonal naive's lag: as declared, or (auto) from the frequency."""
    if setting != "auto":
        return setting if isinstance(setting, int) else None
    if freq is None:
        raise LstmopsError(
            f"{dataset.task}.preprocess.season is auto, but datasets.{dataset.task}.{dataset.name}'s "
            "timestamps fit no regular calendar (hourly, daily, business daily, weekly, monthly, "
            "quarterly, yearly), or it has no dates: declare the season as a number of steps "
            "(e.g. `preprocess: {season: 7}`), or null for none."
        )
    return SEASONS.get(freq.split("-")[0])


def stamp(moment: pd.Timestamp) -> str:
    """ISO: the date, and the time of day where there is one (hourly data)."""
    return moment.isoformat() if moment != moment.normalize() else moment.date().isoformat()


def regular(
    table: pd.DataFrame, freq: str, gaps: str, columns: list[str], which: str, date: str = "Date"
) -> pd.DataFrame:
    """One series' rows on every date of its calendar: a missing date is an error naming it
    (gaps "error"), or its `columns` are filled with zero or the previous value."""
    stamps = pd.DatetimeIndex(pd.to_datetime(table[date]))
    full = pd.date_range(stamps.min(), stamps.max(), freq=freq)
    missing = full.difference(stamps)
    if not len(missing):
        return table
    if gaps == "error":
        raise LstmopsError(
            f"{which}{len(missing)} date(s) missing from its {freq} calendar, the first "
            f"{missing[0].date()} (after {stamps[stamps < missing[0]].max().date()}): add the rows, "
            "or declare how to fill a gap with `preprocess: {gaps: zero}` (counts, sales) or "
            "`{gaps: previous}` (levels)."
        )
    out = table.set_index(stamps).reindex(full)
    out[columns] = out[columns].fillna(0) if gaps == "zero" else out[columns].ffill()
    out = out.ffill()  # the other columns (the series' name) as the row before
    out[date] = full.map(stamp)
    return out.reset_index(drop=True)


# Calendar features known in advance, each a cycle as sine and cosine (its end meets its start),
# and holidays as 0 or 1: (the columns each adds, its phase in [0, 1) of a date).
CYCLES = {
    "weekday": lambda d: d.dayofweek / 7,
    "month": lambda d: (d.month - 1) / 12,
    "day_of_year": lambda d: (d.dayofyear - 1) / 365.25,
    "hour": lambda d: d.hour / 24,
}


def step_after(frequency: str | None) -> pd.DateOffset:
    """One step of a series' calendar (a business day where none was read: a trading calendar)."""
    from pandas.tseries.frequencies import to_offset

    return to_offset(frequency) if frequency else pd.offsets.BDay(1)


def feature_names(names: tuple[str, ...]) -> list[str]:
    """The columns the calendar features `names` add, in order."""
    return [
        column
        for name in names
        for column in ([f"{name}_sin", f"{name}_cos"] if name in CYCLES else [name])
    ]


def known_ahead(
    dates: np.ndarray, frequency: str | None, names: tuple[str, ...], holidays: str | None
) -> np.ndarray:
    """(rows, columns) calendar features of the date one step after each row's: known in advance,
    so a window's last row tells the model about the first date it forecasts. `holidays` is a
    country code, with a subdivision after a dash (AU-VIC), for the `holiday` feature."""
    after = pd.DatetimeIndex(pd.to_datetime(dates)) + step_after(frequency)
    columns = []
    for name in names:
        if name in CYCLES:
            phase = 2 * np.pi * np.asarray(CYCLES[name](after), dtype=np.float64)
            columns += [np.sin(phase), np.cos(phase)]
        else:
            columns.append(_holidays(after, holidays))
    return np.stack(columns, axis=1) if columns else np.zeros((len(after), 0))


def _holidays(dates: pd.DatetimeIndex, code: str | None) -> np.ndarray:
    """1 where a date is a public holiday of `code` (the holidays package's data, offline)."""
    import holidays  # only a series with holiday features needs it

    country, _, subdivision = str(code).partition("-")
    try:
        days = holidays.country_holidays(
            country, subdiv=subdivision or None, years=sorted(set(dates.year))
        )
    except NotImplementedError as err:
        raise LstmopsError(
            f"preprocess.holidays {code!r}: {err}. Give a country code the holidays package "
            "knows (AU, US, GB, DE, ...), with a subdivision after a dash (AU-VIC)."
        ) from None
    return np.array([day in days for day in dates.date], dtype=np.float64)
