"""assess() on each accepted input (Dataset, netCDF, CSV, DataFrame), probabilities, rule loading errors."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from airwarn.core.errors import AirwarnError
from airwarn.core.vocab import WarningLevel
from emergency.engine import assess
from emergency.rules import load_rules
from emergency.rules import bundled_rules

QUANTILES = [0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95]


def make_dataset(median_by_city: dict[str, list[float]], members: dict[str, np.ndarray] | None = None,
                 issued="2026-01-10") -> xr.Dataset:
    """A small forecast in the pinned layout (city, issued, lead_day, quantile, member)."""
    cities = list(median_by_city)
    leads = np.arange(1, len(next(iter(median_by_city.values()))) + 1)
    iss = np.array([np.datetime64(issued, "ns")])
    spread = np.array([-0.35, -0.25, -0.12, 0.0, 0.12, 0.25, 0.35])
    aqi = np.array([[[[m * (1 + s) for s in spread] for m in median_by_city[c]]] for c in cities])
    valid = iss[:, None] + leads[None, :].astype("timedelta64[D]")
    ds = xr.Dataset(
        {"aqi": (("city", "issued", "lead_day", "quantile"), aqi)},
        coords={"city": cities, "issued": iss, "lead_day": leads, "quantile": QUANTILES,
                "valid_date": (("issued", "lead_day"), valid)},
        attrs={"model": "test-fixture"})
    if members is not None:
        n = next(iter(members.values())).shape[0]
        scen = np.stack([members[c].T for c in cities])[:, None]  # city, issued, lead, member
        ds["aqi_scenario"] = (("city", "issued", "lead_day", "member"), scen)
        ds = ds.assign_coords(member=np.arange(n))
    return ds


def test_dataset_with_scenarios_gives_member_shares(tmp_path):
    # 4 members x 3 days; hand count under 2024 rules:
    # m0 [210,210,90] orange; m1 [210,120,90] yellow; m2 [160,160,160] orange; m3 [90,90,90] none
    # -> P(>=yellow)=3/4, P(>=orange)=2/4, P(red)=0
    m = np.array([[210, 210, 90], [210, 120, 90], [160, 160, 160], [90, 90, 90]], dtype=float)
    ds = make_dataset({"阳泉": [205, 170, 120], "太原": [60, 60, 60]}, {"阳泉": m, "太原": m * 0 + 50})
    rec = assess(ds, "national-2024", city="阳泉")
    assert rec.probability == {"yellow": 0.75, "orange": 0.5, "red": 0.0}
    assert rec.probability_method == "scenarios"
    assert rec.level == WarningLevel.YELLOW and rec.start == dt.date(2026, 1, 11) and rec.end == dt.date(2026, 1, 12)
    assert rec.issued == dt.date(2026, 1, 10)
    # P(orange) = 0.5 reaches the advisory threshold although the median gives yellow
    advisory = [d for d in rec.reason_details if d["code"] == "probability.advisory"]
    assert advisory == [{"code": "probability.advisory", "level": "orange", "probability": 0.5, "threshold": 0.5}]
    assert any("橙色预警启动条件的概率为50%" in r for r in rec.reasons)
    # the same from the netCDF file, whose hash is recorded
    path = tmp_path / "forecast.nc"
    ds.to_netcdf(path)
    rec_nc = assess(path, "national-2024", city="阳泉")
    assert rec_nc.probability == rec.probability and rec_nc.level == rec.level
    assert len(rec_nc.forecast_sha256) == 64 and rec_nc.forecast_source.endswith("forecast.nc")
    with pytest.raises(AirwarnError, match=r"no city '北京'.*阳泉"):
        assess(ds, city="北京")
    with pytest.raises(AirwarnError, match="holds 2 cities"):
        assess(ds)


def test_csv_with_probabilities_comonotonic(tmp_path):
    # single-day criteria reproduce the column probabilities; runs take the weakest day (comonotonic)
    df = pd.DataFrame({"city": "阳泉", "valid_date": pd.date_range("2026-01-11", periods=4),
                       "aqi": [170, 180, 140, 90],
                       "p_aqi_gt_150": [0.8, 0.9, 0.3, 0.0], "p_aqi_gt_200": [0.25, 0.3, 0.05, 0.0],
                       "p_aqi_gt_300": [0.0, 0.0, 0.0, 0.0]})
    path = tmp_path / "f.csv"
    df.to_csv(path, index=False)
    rec = assess(path)
    # yellow: max(P(any day > 200) = 0.30, P(days 1-2 > 150) = min(0.8, 0.9) = 0.8) = 0.8
    # orange: max(P(two days > 200) = min(.25,.3) = .25, P(3 days > 150) = min(.8,.9,.3) = .3) = 0.3
    assert rec.probability["yellow"] == pytest.approx(0.8, abs=0.01)
    assert rec.probability["orange"] == pytest.approx(0.3, abs=0.01)
    assert rec.probability["red"] == 0.0
    assert rec.probability_method == "comonotonic"
    assert rec.level == WarningLevel.YELLOW


def test_csv_median_only_is_deterministic():
    df = pd.DataFrame({"city": "阳泉", "valid_date": ["2026-01-11", "2026-01-12"], "aqi": [230, 210]})
    rec = assess(df)
    assert rec.probability == {"yellow": 1.0, "orange": 1.0, "red": 0.0}
    assert rec.probability_method == "deterministic"
    d = rec.to_dict()
    assert list(d)[:6] == ["city", "level", "start", "end", "probability", "reasons"]
    assert d["level"] == "orange" and d["start"] == "2026-01-11"


def test_latest_issue_is_used_from_recent_forecasts_layout():
    rows = []
    for issued, vals in (("2026-01-09", [250, 250, 250]), ("2026-01-10", [90, 90, 90])):
        for k, v in enumerate(vals, 1):
            rows.append({"city": "阳泉", "issued": issued, "lead_day": k,
                         "valid_date": (pd.Timestamp(issued) + pd.Timedelta(days=k)).date().isoformat(),
                         "aqi_p10": v * 0.8, "aqi_p50": v, "aqi_p90": v * 1.2})
    df = pd.DataFrame(rows)
    assert assess(df).level == WarningLevel.NONE
    assert assess(df, issued="2026-01-09").level == WarningLevel.ORANGE
    with pytest.raises(AirwarnError, match="no issue date 2026-01-01"):
        assess(df, issued="2026-01-01")


def test_bad_forecast_inputs(tmp_path):
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"city": ["阳泉"], "day": ["2026-01-01"], "aqi": [100]}).to_csv(bad, index=False)
    with pytest.raises(AirwarnError, match=r"needs a 'valid_date'.*columns are \['city', 'day', 'aqi'\]"):
        assess(bad)
    bad2 = tmp_path / "bad2.csv"
    pd.DataFrame({"city": ["阳泉"], "valid_date": ["2026-01-01"], "aqi": [100], "p_aqi_gt_200": [35]}).to_csv(bad2, index=False)
    with pytest.raises(ValueError, match="p_aqi_gt_200.*probabilities in 0-1"):
        assess(bad2)
    with pytest.raises(FileNotFoundError):
        assess(tmp_path / "missing.nc")


def test_bundled_rules_and_validation(tmp_path):
    assert {"national-2024", "national-2019", "yangquan-example"} <= set(bundled_rules())
    r = load_rules("national-2024")
    assert r.version == f"national-2024@{r.issued.isoformat()}" and len(r.sha256) == 64
    assert r.lifting_hours == 36 and r.reduction_targets[WarningLevel.RED] == {"so2": 0.30, "nox": 0.30, "pm": 0.30, "vocs": 0.30}
    with pytest.raises(AirwarnError, match=r"unknown warning rule set 'national-2030'.*national-2024"):
        load_rules("national-2030")
    text = (tmp_path / "ok.yaml")
    text.write_text("name: t\nlevels:\n  yellow: {above: 200, hours: 24}\n  orange: {above: 200, hours: 48}\n"
                    "  red: {above: 200, hours: 72}\n", encoding="utf-8")
    assert load_rules(text).name == "t"
    cases = [
        ("  purple: {above: 200}\n", AirwarnError, r"unknown level\(s\) \['purple'\]; valid levels are \['yellow', 'orange', 'red'\]"),
        ("  red: {above: 200, hours: 72, color: x}\n", AirwarnError, r"unknown key\(s\) \['color'\]"),
    ]
    for extra, exc, msg in cases:
        p = tmp_path / "bad.yaml"
        base = text.read_text(encoding="utf-8")
        if "red:" in extra:
            base = base.replace("  red: {above: 200, hours: 72}\n", extra)
        else:
            base += extra
        p.write_text(base, encoding="utf-8")
        with pytest.raises(exc, match=msg):
            load_rules(p)
    p = tmp_path / "bad3.yaml"
    p.write_text(text.read_text(encoding="utf-8") + "colour: red\n", encoding="utf-8")
    with pytest.raises(AirwarnError, match=r"unknown key\(s\) \['colour'\]; valid keys are"):
        load_rules(p)
    p.write_text(text.read_text(encoding="utf-8").replace("hours: 48", "hours: 12"), encoding="utf-8")
    with pytest.raises(ValueError, match="hours must be a number >= 24"):
        load_rules(p)
    p.write_text(text.read_text(encoding="utf-8") + "reduction_targets: {yellow: 10}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"reduction_targets.yellow must be a fraction"):
        load_rules(p)


def test_probability_advisory_when_median_stays_below():
    # median [195, 140, 120] meets nothing; members: 3 of 4 have a day above 200 -> P(yellow) = 0.75
    m = np.array([[230, 140, 120], [205, 150, 110], [210, 100, 90], [150, 120, 100]], dtype=float)
    ds = make_dataset({"阳泉": [195, 140, 120]}, {"阳泉": m})
    rec = assess(ds, "national-2024")
    assert rec.level == WarningLevel.NONE
    assert rec.probability["yellow"] == 0.75
    assert [d["level"] for d in rec.reason_details if d["code"] == "probability.advisory"] == ["yellow"]
    # below the threshold: no advisory
    ds_low = make_dataset({"阳泉": [195, 140, 120]}, {"阳泉": np.where(m > 200, 190.0, m)})
    assert not [d for d in assess(ds_low).reason_details if d["code"] == "probability.advisory"]


def test_stale_data_warning_from_two_days_on():
    import datetime as dt

    from emergency.engine import STALE_OBSERVATION_DAYS, stale_data_warnings

    day = dt.date(2026, 1, 10)
    assert STALE_OBSERVATION_DAYS == 2
    assert stale_data_warnings("阳泉", day, day) == ()
    assert stale_data_warnings("阳泉", day - dt.timedelta(days=1), day) == ()  # yesterday's data: routine
    (w,) = stale_data_warnings("阳泉", day - dt.timedelta(days=2), day)
    assert "阳泉实况数据仅截至2026-01-08,距2026-01-10已2天" in w
    assert stale_data_warnings("阳泉", None, day) == () and stale_data_warnings("阳泉", day, None) == ()
