"""Data tests on the real series of the mirror that are not prices (../shared/data/series/): each
is read as a bare `datasets.series` entry would read it, its calendar found, its expectations met;
the weekly panel's missing weeks are named until a gap policy is declared."""

from __future__ import annotations

import shutil

import pytest
import yaml

from lstmops.config import Dataset, LstmopsError, Params
from lstmops.tasks.timeseries import checks
from lstmops.tasks.timeseries.data import calendar, read_source, resolved, series, settings

from ..conftest import MIRROR, ROOT

SERIES = {  # file: (target, frequency, season, series)
    "airpassengers_monthly": ("Passengers", "MS", 12, 1),
    "aus_beer_quarterly": ("Beer", "QS-JAN", 4, 1),
    "us_gasoline_weekly": ("Barrels", "W-MON", 52, 1),
    "ansett_weekly": ("Passengers", "W-MON", 52, 30),
}


def _dataset(tmp_path, monkeypatch, name: str, **entry) -> Dataset:
    """The mirror's file as a bare entry of the project's params (its series section)."""
    (tmp_path / "data/external").mkdir(parents=True, exist_ok=True)
    shutil.copy(MIRROR / "series" / f"{name}.csv", tmp_path / "data/external" / f"{name}.csv")
    return _declared(tmp_path, monkeypatch, f"data/external/{name}.csv", entry)


def _declared(tmp_path, monkeypatch, path: str, entry: dict) -> Dataset:
    monkeypatch.chdir(tmp_path)
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    raw["datasets"] = {"series": {"mine": {"source": {"path": path}, **entry}}}
    return Params.model_validate(raw).dataset("mine")


@pytest.mark.parametrize("name", sorted(SERIES))
def test_a_real_series_reads_as_a_bare_entry(name, tmp_path, monkeypatch):
    target, frequency, season, count = SERIES[name]
    entry = {"preprocess": {"gaps": "zero"}} if count > 1 else {}
    dataset = _dataset(tmp_path, monkeypatch, name, **entry)
    assert dataset.panel == (count > 1)
    tables = read_source(dataset)
    (table,) = tables.values()
    p = resolved(settings(dataset).preprocess, table, dataset)
    assert (p.target, p.features) == (target, (target,))
    assert calendar(table, p, dataset) == (frequency, season)
    assert len(series(tables, dataset)) == count
    assert all(check.success for check in checks.check(tables, dataset))


def test_the_electricity_demand_takes_its_temperature_as_a_covariate(tmp_path, monkeypatch):
    with pytest.raises(LstmopsError, match="candidates: Demand, Temperature"):
        read_source(_dataset(tmp_path, monkeypatch, "vic_elec_daily"))
    entry = {"preprocess": {"target": "Demand", "features": ["Demand", "Temperature"]}}
    dataset = _dataset(tmp_path, monkeypatch, "vic_elec_daily", **entry)
    (one,) = series(read_source(dataset), dataset)
    assert (one.frequency, one.season, one.values.shape) == ("D", 7, (1096, 2))
    assert one.values[0].tolist() == [222437.912, 32.7]


def test_the_panels_missing_weeks_are_named_until_a_policy_fills_them(tmp_path, monkeypatch):
    with pytest.raises(LstmopsError, match=r"series [A-Z]+-[A-Z]+/\w+: 1 date\(s\) missing from "
                       r"its W-MON calendar, the first \d{4}-\d\d-\d\d .*gaps: zero"):  # fmt: skip
        read_source(_dataset(tmp_path, monkeypatch, "ansett_weekly"))
    dataset = _dataset(tmp_path, monkeypatch, "ansett_weekly", preprocess={"gaps": "zero"})
    panel = series(read_source(dataset), dataset)
    assert sum(len(one.values) for one in panel) == 7407 + 13  # the 13 missing weeks, as zeros
    assert any((one.values == 0).all(axis=1).sum() > 10 for one in panel)  # the dispute's zeros


def test_zeros_and_repeats_are_data_but_a_blank_target_is_not(tmp_path, monkeypatch):
    dataset = _dataset(tmp_path, monkeypatch, "airpassengers_monthly")
    tables = read_source(dataset)
    (table,) = tables.values()
    table.loc[3:9, "Passengers"] = 0  # a constant stretch of zeros
    assert all(check.success for check in checks.check(tables, dataset))
    table.loc[5, "Passengers"] = None
    failed = [c for c in checks.check(tables, dataset) if not c.success]
    assert [c.expectation for c in failed] == ["expect_column_values_to_not_be_null"]


def _own(tmp_path, monkeypatch, text: str, **entry) -> Dataset:
    (tmp_path / "data/external").mkdir(parents=True, exist_ok=True)
    (tmp_path / "data/external/own.csv").write_text(text)
    return _declared(tmp_path, monkeypatch, "data/external/own.csv", entry)


def test_a_constant_series_and_irregular_dates_are_named(tmp_path, monkeypatch):
    passengers = (MIRROR / "series/airpassengers_monthly.csv").read_text().splitlines()
    rows = [line.split(",") for line in passengers[1:]]
    panel = "Series,Date,Passengers\n" + "".join(
        f"{name},{date},{value if name == 'real' else 0}\n"
        for name in ("real", "flat")
        for date, value in rows
    )
    with pytest.raises(
        LstmopsError, match="^series flat: its Passengers is 0 on every one of its 144 rows"
    ):
        read_source(_own(tmp_path, monkeypatch, panel, preprocess={"season": 12}))
    odd = "\n".join([passengers[0], *passengers[1:60], "1953-12-15,200", *passengers[60:]])
    with pytest.raises(
        LstmopsError, match=r"fit no regular calendar.*row 62 is 1953-12-15, off the MS calendar"
    ):
        read_source(_own(tmp_path, monkeypatch, odd + "\n"))
