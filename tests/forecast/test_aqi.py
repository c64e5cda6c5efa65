"""The AQI engine against the standards' tables, worked values, rules and error messages."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from airwarn.core.errors import AirwarnError, AirwarnWarning
from forecast import aqi as A
from forecast.aqi import (
    AQI_LEVELS,
    BREAKPOINTS,
    Standard,
    aqi_from_concentrations,
    aqi_level,
    daily_aqi,
    iaqi,
    realtime_aqi,
    standard_for_date,
)
from tests.forecast.test_aqi_reference import IAQI_STEPS, TABLES, reference_iaqi

S12, S26 = "HJ633-2012", "HJ633-2026"
POINTS = [  # every breakpoint of every column of both versions
    (std, ind, bp, IAQI_STEPS[j]) for std, table in TABLES.items() for ind, bps in table.items()
    for j, bp in enumerate(bps)
]


# --------------------------------------------------------------------------- the tables


def test_bundled_tables_match_the_standards_text():
    for std, table in TABLES.items():
        bundled = BREAKPOINTS[Standard(std)]
        assert set(bundled) == set(table)
        for name, bps in table.items():
            assert bundled[name].concentrations == bps, (std, name)
            assert bundled[name].iaqis == IAQI_STEPS[: len(bps)]
            assert bundled[name].unit == ("mg/m3" if name.startswith("co") else "ug/m3")
    assert BREAKPOINTS[Standard.HJ633_2026]["so2_1h"].above == 200
    assert BREAKPOINTS[Standard.HJ633_2026]["o3_8h"].above == 300
    assert BREAKPOINTS[Standard.HJ633_2012]["so2_1h"].above == "defer"
    assert BREAKPOINTS[Standard.HJ633_2012]["o3_8h"].above == "defer"
    with pytest.raises(TypeError):
        BREAKPOINTS[Standard.HJ633_2012]["x"] = None  # immutable


@pytest.mark.parametrize("std, ind, bp, step", POINTS, ids=[f"{s[-4:]}-{i}-{b}" for s, i, b, _ in POINTS])
def test_every_breakpoint_scores_its_iaqi_and_just_above_is_higher(std, ind, bp, step):
    assert iaqi(ind, bp, std) == step
    assert iaqi(ind, float(bp), std) == step
    # the smallest step the standard distinguishes: 1 µg/m³ or 0.1 mg/m³ under 2026 (after rounding)
    delta = (0.1 if ind.startswith("co") else 1) if std == S26 else (0.01 if ind.startswith("co") else 0.1)
    above_bp = round(bp + delta, 2)
    expected, over = reference_iaqi(ind, above_bp, std)
    if not over:
        got = iaqi(ind, above_bp, std)
        assert got == expected and got > step
        slope = (IAQI_STEPS[min(IAQI_STEPS.index(step) + 1, 7)] - step) / 1.0
        assert got <= step + math.ceil(slope)


@pytest.mark.parametrize(
    "ind, value, std, expected",
    [
        ("co_1h", 65.4, S26, 218),  # float + ceil gives 219
        ("co_1h", 65.4, S12, 218),
        ("co_24h", 2.2, S12, 55),  # float + ceil gives 56
        ("pm25_24h", 4.9, S12, 7),  # float + ceil gives 8
        ("pm25_24h", 150.2, S12, 201),  # python-aqi (truncation, half-even) gives 200
        ("pm25_24h", 75, S12, 100), ("pm25_24h", 75, S26, 114),  # 2026: 100 + 50*15/55 = 113.6
        ("pm25_24h", 60, S26, 100), ("pm25_24h", 61, S26, 101),
        ("pm10_24h", 150, S12, 100), ("pm10_24h", 150, S26, 112),  # 100 + 50*30/130 = 111.5
        ("pm10_24h", 120, S26, 100),
        ("so2_24h", 100, S26, 75),  # aqi-hub's bug used the 1 h table here (34)
        ("o3_8h", 160, S12, 100), ("o3_8h", 800, S26, 300),
        ("no2_1h", 1201, S12, 201),  # 200 + 100/1140 -> 201
    ],
)
def test_worked_values(ind, value, std, expected):
    assert iaqi(ind, value, std) == expected


@pytest.mark.parametrize(
    "value, rounded",
    [(34.5, 34), (35.5, 36), (36.5, 36), (34.49, 34), (34.51, 35), (59.5, 60), (60.5, 60),
     (60.50001, 61), (61.5, 62), (0.4, 0), (0.5, 0), (1.5, 2), (114.5, 114), (115.5, 116),
     (10.5002, 11), (12.1498, 12)],  # the last two: GB/T 8170-2008's own examples
)
def test_2026_rounds_pm_half_even_before_scoring(value, rounded):
    assert iaqi("pm25_24h", value, S26) == iaqi("pm25_24h", rounded, S26)
    assert iaqi("pm25_24h", value, S26) == reference_iaqi("pm25_24h", value, S26)[0]


@pytest.mark.parametrize(
    "value, rounded",
    [(0.05, 0.0), (0.15, 0.2), (0.25, 0.2), (0.35, 0.4), (1.45, 1.4), (3.95, 4.0), (4.05, 4.0),
     (4.0500001, 4.1), (4.15, 4.2), (5.45, 5.4), (5.35, 5.4), (2.25, 2.2), (2.35, 2.4),
     (1.050, 1.0), (12.1498, 12.1)],  # the last two: GB/T 8170-2008's own examples
)
def test_2026_rounds_co_to_a_tenth_half_even_on_the_decimal(value, rounded):
    # 0.15 is 0.1499999999999999944... in binary and 5.35 is 5.3499999999999996...: read as the
    # decimals they were written as, both are exact halves and round to the even neighbour
    for ind in ("co_24h", "co_1h"):
        assert iaqi(ind, value, S26) == iaqi(ind, rounded, S26) == reference_iaqi(ind, value, S26)[0]


def test_2012_does_not_round_concentrations():
    assert iaqi("pm25_24h", 34.5, S12) == 50  # 49.28... -> 50
    assert iaqi("pm25_24h", 35.01, S12) == 51
    assert iaqi("co_24h", 0.001, S12) == 1
    assert iaqi("pm25_24h", 35.0000001, S12) == 51  # beyond 6 decimals: exact too
    assert iaqi("pm25_24h", 35 + 1e-12, S12) == 51
    assert iaqi("pm25_24h", 34.9999999, S12) == 50 and iaqi("pm25_24h", 1e-7, S12) == 1


def test_2012_values_a_hair_above_the_top_are_above_the_table():
    # 2620.0000001 has more than 6 decimals; it must not be scored inside the last segment (501)
    with pytest.warns(AirwarnWarning):
        got, flags = iaqi("so2_24h", [2620, 2620.0000001], S12, return_flags=True)
    np.testing.assert_array_equal(got, [500, 500])
    np.testing.assert_array_equal(flags, [False, True])
    np.testing.assert_array_equal(iaqi("o3_8h", [800.0000001], S12), [np.nan])


# --------------------------------------------------------------------------- rules above the tables


def test_2012_so2_1h_and_o3_8h_above_800_defer_to_another_indicator():
    got = iaqi("so2_1h", [800, 801, 2000], S12)
    np.testing.assert_array_equal(got, [200, np.nan, np.nan])
    got, flags = iaqi("o3_8h", [800, 800.1, 1000], S12, return_flags=True)
    np.testing.assert_array_equal(got, [300, np.nan, np.nan])
    np.testing.assert_array_equal(flags, [False, True, True])


def test_2026_so2_1h_above_800_is_200_and_o3_8h_above_800_is_300():
    np.testing.assert_array_equal(iaqi("so2_1h", [800, 800.4, 800.6, 5000], S26), [200, 200, 200, 200])
    np.testing.assert_array_equal(iaqi("o3_8h", [799.6, 800.5, 801, 3000], S26), [300, 300, 300, 300])
    # 800.4 rounds to 800 (in the table); 800.6 rounds to 801 (above it)
    _, flags = iaqi("so2_1h", [800.4, 800.6], S26, return_flags=True)
    np.testing.assert_array_equal(flags, [False, True])


def test_above_the_top_of_a_table_scores_500_flags_and_warns():
    with pytest.warns(AirwarnWarning, match=r"pm25_24h.*1 value\(s\), max 600 µg/m³"):
        got, flags = iaqi("pm25_24h", [500, 600, np.nan], S12, return_flags=True, above="warn")
    np.testing.assert_array_equal(got, [500, 500, np.nan])
    np.testing.assert_array_equal(flags, [False, True, False])
    with pytest.warns(AirwarnWarning):
        assert iaqi("pm10_24h", 8819) == 500  # a real dust-storm value (Kashgar)
    with pytest.raises(ValueError, match=r"above the top of the IAQI table.*co_24h.*max 61 mg/m³"):
        iaqi("co_24h", [1, 61], S12, above="raise")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert iaqi("co_1h", 151, S26, above="ignore") == 500
    # 500.4 rounds to 500 under 2026 (in the table), 500.6 does not
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert iaqi("pm25_24h", 500.4, S26) == 500
    with pytest.warns(AirwarnWarning):
        assert iaqi("pm25_24h", 500.6, S26) == 500


# --------------------------------------------------------------------------- input kinds and missing values


def test_accepted_input_types_and_what_comes_back():
    scalar = iaqi("pm25_24h", 35)
    assert isinstance(scalar, np.float64) and scalar == 50
    assert iaqi("pm25_24h", 35.0) == 50 and iaqi("pm25_24h", np.int64(35)) == 50
    lst = iaqi("pm25_24h", [35, 60, None])
    assert isinstance(lst, np.ndarray) and lst.dtype == float
    np.testing.assert_array_equal(lst, [50, 100, np.nan])
    arr = iaqi("pm25_24h", np.array([[35, 60], [115, 150]]))
    assert arr.shape == (2, 2)
    np.testing.assert_array_equal(arr, [[50, 100], [150, 200]])
    s = pd.Series([35.0, None, 60.0], index=["a", "b", "c"], dtype="Float64")
    out = iaqi("pm25_24h", s)
    assert isinstance(out, pd.Series) and list(out.index) == ["a", "b", "c"] and out.name == "iaqi_pm25_24h"
    np.testing.assert_array_equal(out.to_numpy(), [50, np.nan, 100])
    da = xr.DataArray([[35.0, 60.0], [np.nan, 150.0]], dims=("city", "lead_day"),
                      coords={"city": ["阳泉", "太原"], "lead_day": [1, 2]}, attrs={"units": "ug m-3"})
    out = iaqi("pm25_24h", da)
    assert isinstance(out, xr.DataArray) and out.dims == ("city", "lead_day")
    assert list(out.city.values) == ["阳泉", "太原"] and out.attrs["standard"] == S26
    np.testing.assert_array_equal(out.values, [[50, 100], [np.nan, 200]])
    values, flags = iaqi("so2_1h", xr.DataArray([800.4, 800.6]), return_flags=True)
    assert values.values.tolist() == [200, 200] and flags.values.tolist() == [False, True]


def test_dask_backed_dataarray_stays_lazy():
    pytest.importorskip("dask")
    da = xr.DataArray(np.arange(0.0, 400.0, 0.5), dims="t").chunk({"t": 100})
    out = iaqi("pm25_24h", da, S12)
    assert out.chunks is not None  # not computed yet
    np.testing.assert_array_equal(out.compute().values, iaqi("pm25_24h", da.values, S12))


def test_missing_and_negative_values_give_nan():
    got = iaqi("pm25_24h", [np.nan, None, -1, -0.001, -0.0, 0, pd.NA], S26)
    np.testing.assert_array_equal(got, [np.nan, np.nan, np.nan, np.nan, 0, 0, np.nan])
    got = iaqi("co_24h", np.array([np.nan, -np.inf, -5.0]), S12)
    assert np.isnan(got).all()


def test_error_messages():
    with pytest.raises(AirwarnError, match=r"unknown indicator 'pm25'.*valid names are \['so2_24h'"):
        iaqi("pm25", 10)
    with pytest.raises(AirwarnError, match=r"pm25_1h.*HJ633-2012.*24 h moving mean"):
        iaqi("pm25_1h", 10, S12)
    with pytest.raises(AirwarnError, match=r"unknown AQI standard 'HJ633-2019'; valid names are \['HJ633-2012', "):
        iaqi("pm25_24h", 10, "HJ633-2019")
    with pytest.raises(AirwarnError, match=r"'auto' needs dates"):
        iaqi("pm25_24h", 10, "auto")
    with pytest.raises(TypeError, match=r"iaqi\('pm25_24h'\): expected numbers, got str 'high'"):
        iaqi("pm25_24h", [10, "high"])
    with pytest.raises(TypeError, match=r"expected numbers, got str '10'"):
        iaqi("pm25_24h", np.array(["10", "20"]))
    with pytest.raises(TypeError, match=r"expected numbers, got dtype str"):
        iaqi("pm25_24h", pd.Series(["10", "x"]))


def test_standard_names_are_parsed_leniently():
    assert Standard.parse("HJ 633-2026") is Standard.HJ633_2026
    assert Standard.parse("2012") is Standard.HJ633_2012
    assert iaqi("pm25_24h", 75, Standard.HJ633_2026) == iaqi("pm25_24h", 75, "hj633-2026") == 114


# --------------------------------------------------------------------------- levels and the date rule


def test_levels_categories_and_official_colours():
    assert [lv.category for lv in AQI_LEVELS.values()] == ["优", "良", "轻度污染", "中度污染", "重度污染", "严重污染"]
    assert [lv.colour for lv in AQI_LEVELS.values()] == [
        "#00E400", "#FFFF00", "#FF7E00", "#FF0000", "#99004C", "#7E0023"]
    assert AQI_LEVELS[5].rgb == (153, 0, 76) and AQI_LEVELS[6].cmyk == (30, 100, 100, 30)
    assert [(lv.aqi_min, lv.aqi_max) for lv in AQI_LEVELS.values()] == [
        (0, 50), (51, 100), (101, 150), (151, 200), (201, 300), (301, 500)]
    np.testing.assert_array_equal(aqi_level([0, 50, 51, 100, 101, 150, 151, 200, 201, 300, 301, 500, np.nan]),
                                  [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, np.nan])


def test_standard_for_date_switches_on_2026_03_01():
    assert standard_for_date("2026-02-28") is Standard.HJ633_2012
    assert standard_for_date(pd.Timestamp("2026-03-01 00:00")) is Standard.HJ633_2026
    got = standard_for_date(pd.to_datetime(["2026-02-28 23:00", "2026-03-01 00:00"]))
    assert list(got) == [Standard.HJ633_2012, Standard.HJ633_2026]
    with pytest.raises(ValueError, match="no date"):
        standard_for_date(None)


# --------------------------------------------------------------------------- daily report


def _day(**kw) -> dict:
    row = {"date": "2026-03-01", "pm25": 20.0, "pm10": 30.0, "so2": 10.0, "no2": 20.0, "co": 0.5, "o3_8h": 50.0}
    row.update(kw)
    return row


def test_daily_aqi_switches_standard_by_date():
    df = pd.DataFrame([_day(date="2026-02-28", pm25=75), _day(date="2026-03-01", pm25=75)])
    out = daily_aqi(df)
    assert list(out["standard"].astype(str)) == [S12, S26]
    assert list(out["aqi"]) == [100, 114]
    assert list(out["level"]) == [2, 3] and list(out["category"].astype(str)) == ["良", "轻度污染"]
    assert out["level"].dtype == "Int8" and out["category"].cat.ordered
    forced = daily_aqi(df, "HJ633-2012")
    assert list(forced["aqi"]) == [100, 100]


def test_daily_aqi_columns_index_and_passthrough():
    df = pd.DataFrame([_day(pm25=40), _day(pm25=300)], index=[10, 20]).assign(city=["阳泉", "太原"])
    out = daily_aqi(df)
    assert list(out.index) == [10, 20]
    assert list(out.columns[: len(df.columns)]) == list(df.columns)
    for col in ("iaqi_pm25", "iaqi_pm10", "iaqi_so2", "iaqi_no2", "iaqi_co", "iaqi_o3_8h", "aqi",
                "aqi_published", "level", "category", "primary_pollutant", "exceedance_pollutants",
                "standard", "above_table"):
        assert col in out.columns, col
    assert "iaqi_o3_1h" not in out.columns
    assert list(out["city"]) == ["阳泉", "太原"]
    np.testing.assert_array_equal(out["aqi"], out.filter(like="iaqi_").max(axis=1))


def test_primary_pollutant_ties_and_none_when_aqi_at_most_50():
    # PM2.5 115 and PM10 250 both score 150 (2012): both primary; AQI 50 -> no primary pollutant
    df = pd.DataFrame([
        _day(date="2015-01-01", pm25=115, pm10=250),
        _day(date="2015-01-02", pm25=35, pm10=40),
        _day(date="2015-01-03", pm25=np.nan, pm10=np.nan, so2=np.nan, no2=np.nan, co=np.nan, o3_8h=np.nan),
        _day(date="2015-01-04", pm25=20, o3_8h=215),
    ])
    out = daily_aqi(df)
    assert out["primary_pollutant"].tolist()[:2] == ["pm25,pm10", ""]
    assert pd.isna(out["primary_pollutant"].iloc[2]) and np.isnan(out["aqi"].iloc[2])
    assert pd.isna(out["level"].iloc[2]) and pd.isna(out["category"].iloc[2])
    assert out["primary_pollutant"].iloc[3] == "o3_8h"
    assert out["exceedance_pollutants"].tolist()[:2] == ["pm25,pm10", ""]
    assert out["exceedance_pollutants"].iloc[3] == "o3_8h"


def test_exceedance_pollutants_only_under_2012():
    out = daily_aqi(pd.DataFrame([_day(date="2026-01-01", pm25=200), _day(date="2026-06-01", pm25=200)]))
    assert out["exceedance_pollutants"].iloc[0] == "pm25"
    assert pd.isna(out["exceedance_pollutants"].iloc[1])


def test_o3_1h_is_scored_in_2012_daily_reports_only():
    df = pd.DataFrame([_day(date="2015-07-01", o3_8h=150, o3_1h=300),
                       _day(date="2026-07-01", o3_8h=150, o3_1h=300)])
    out = daily_aqi(df)
    assert out["iaqi_o3_1h"].iloc[0] == 150 and np.isnan(out["iaqi_o3_1h"].iloc[1])
    assert out["primary_pollutant"].iloc[0] == "o3_1h"
    assert list(out["aqi"]) == [150, iaqi("o3_8h", 150, S26)]


def test_2012_o3_8h_above_800_is_scored_by_o3_1h():
    df = pd.DataFrame([_day(date="2015-07-01", o3_8h=850, o3_1h=900)])
    out = daily_aqi(df)
    assert np.isnan(out["iaqi_o3_8h"].iloc[0]) and out["aqi"].iloc[0] == iaqi("o3_1h", 900, S12) == 350
    with pytest.warns(AirwarnWarning, match=r"O3 8 h > 800.*no o3_1h"):
        out = daily_aqi(pd.DataFrame([_day(date="2015-07-01", o3_8h=850)]))
    assert out["aqi"].iloc[0] == max(iaqi(p, v, S12) for p, v in
                                     [("pm25_24h", 20), ("pm10_24h", 30), ("so2_24h", 10), ("no2_24h", 20),
                                      ("co_24h", 0.5)])
    assert daily_aqi(pd.DataFrame([_day(o3_8h=850)]))["aqi"].iloc[0] == 300  # 2026


def test_2026_publication_rule_for_missing_pollutants():
    df = pd.DataFrame([
        _day(pm10=np.nan, pm25=50),  # AQI from the rest 72 <= 100 -> not published
        _day(pm10=np.nan, pm25=100),  # 187 > 100 -> published
        _day(date="2015-01-01", pm10=np.nan, pm25=50),  # 2012: no such rule
        _day(pm25=50),  # complete
    ])
    out = daily_aqi(df)
    assert list(out["aqi"]) == [iaqi("pm25_24h", 50), iaqi("pm25_24h", 100), iaqi("pm25_24h", 50, S12),
                                iaqi("pm25_24h", 50)]
    pub = out["aqi_published"].to_numpy()
    assert np.isnan(pub[0]) and pub[1] == out["aqi"][1] and pub[2] == out["aqi"][2] and pub[3] == out["aqi"][3]
    assert out["level"].iloc[0] == 2  # level and category follow the computed AQI


def test_daily_aqi_keeps_a_published_aqi_column_as_aqi_input():
    df = pd.DataFrame([_day(pm25=75, date="2015-01-01") | {"aqi": 101}])
    out = daily_aqi(df)
    assert out["aqi_input"].iloc[0] == 101 and out["aqi"].iloc[0] == 100
    assert list(out.columns).count("aqi") == 1


def test_daily_aqi_above_table_flag_and_warning():
    df = pd.DataFrame([_day(pm10=8819), _day()])
    with pytest.warns(AirwarnWarning, match=r"daily_aqi: .*pm10_24h \(HJ633-2026\): 1 value\(s\), max 8819"):
        out = daily_aqi(df)
    assert list(out["above_table"]) == [True, False] and out["aqi"].iloc[0] == 500
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        daily_aqi(df, above="ignore")


def test_daily_aqi_accepts_datetime_and_text_dates_and_nullable_numbers():
    df = pd.DataFrame([_day(date="2026-02-28"), _day(date="2026-03-01")])
    a = daily_aqi(df)
    b = daily_aqi(df.assign(date=pd.to_datetime(df["date"])))
    c = daily_aqi(df.assign(date=pd.to_datetime(df["date"]).dt.tz_localize("Asia/Shanghai")))
    d = daily_aqi(df.astype({"pm25": "Float64"}))
    for other in (b, c, d):
        assert list(other["standard"].astype(str)) == [S12, S26]
        np.testing.assert_array_equal(other["aqi"], a["aqi"])


def test_daily_aqi_error_messages():
    with pytest.raises(AirwarnError, match=r"daily_aqi: input lacks column\(s\) \['pm10', 'o3_8h'\]"):
        daily_aqi(pd.DataFrame([_day()]).drop(columns=["pm10", "o3_8h"]))
    with pytest.raises(ValueError, match=r"daily_aqi: row 1, column 'pm25': expected a number \[µg/m³\], got 'n/a'"):
        daily_aqi(pd.DataFrame([_day(), _day(pm25="n/a")]))
    with pytest.raises(ValueError, match=r"row 1, column 'date': no date, but standard='auto'"):
        daily_aqi(pd.DataFrame([_day(), _day(date=None)]))
    with pytest.raises(ValueError, match=r"row 0, column 'date': expected a date, got 'yesterday'"):
        daily_aqi(pd.DataFrame([_day(date="yesterday")]))
    with pytest.raises(AirwarnError, match=r"no date column"):
        daily_aqi(pd.DataFrame([_day()]).drop(columns="date"))
    assert daily_aqi(pd.DataFrame([_day()]).drop(columns="date"), S26)["aqi"].iloc[0] > 0


def test_daily_aqi_on_a_large_mixed_frame_matches_iaqi_per_column():
    rng = np.random.default_rng(7)
    n = 150_000
    dates = pd.date_range("2025-11-01", periods=n // 1000, freq="D").repeat(1000)
    df = pd.DataFrame({
        "date": rng.permutation(dates)[:n],  # mixed standards inside blocks too
        "pm25": np.round(rng.lognormal(3.8, 0.8, n), 1), "pm10": np.round(rng.lognormal(4.3, 0.7, n)),
        "so2": np.round(rng.lognormal(2.5, 0.8, n)), "no2": np.round(rng.lognormal(3.3, 0.5, n)),
        "co": np.round(rng.lognormal(0, 0.5, n), 3), "o3_8h": np.round(rng.lognormal(4.2, 0.5, n), 2),
    })
    df.loc[rng.random(n) < 0.02, "pm25"] = np.nan
    out = daily_aqi(df, above="ignore")
    is26 = (df["date"] >= "2026-03-01").to_numpy()
    for col, ind in (("pm25", "pm25_24h"), ("co", "co_24h"), ("o3_8h", "o3_8h")):
        expected = np.where(is26, iaqi(ind, df[col].to_numpy(), S26, above="ignore"),
                            iaqi(ind, df[col].to_numpy(), S12, above="ignore"))
        np.testing.assert_array_equal(out[f"iaqi_{col}"].to_numpy(), expected)
    assert out["standard"].eq(S26).sum() == is26.sum()


# --------------------------------------------------------------------------- real-time report and AQI only


def test_realtime_aqi_2026_scores_pm_1h_on_daily_breakpoints():
    df = pd.DataFrame({"time": pd.to_datetime(["2026-05-01 08:00"]), "pm25": [75.0], "pm10": [50.0],
                       "so2": [900.0], "no2": [100.0], "co": [5.0], "o3": [160.0]})
    out = realtime_aqi(df)
    assert out["iaqi_pm25"].iloc[0] == iaqi("pm25_24h", 75, S26) == 114
    assert out["iaqi_so2"].iloc[0] == 200  # SO2 1 h > 800 -> 200
    assert out["aqi"].iloc[0] == 200 and out["primary_pollutant"].iloc[0] == "so2"
    assert "iaqi_o3_8h" not in out.columns or np.isnan(out["iaqi_o3_8h"].iloc[0])


def test_realtime_aqi_2012_uses_moving_means_and_the_so2_fallback():
    df = pd.DataFrame({"time": pd.to_datetime(["2015-05-01 08:00", "2015-05-01 09:00"]),
                       "pm25": [300.0, 300.0], "pm10": [50.0, 50.0], "so2": [100.0, 900.0],
                       "no2": [100.0, 100.0], "co": [5.0, 5.0], "o3": [160.0, 160.0], "o3_8h": [100.0, 100.0],
                       "pm25_24h": [75.0, 75.0], "pm10_24h": [50.0, 50.0], "so2_24h": [700.0, 700.0]})
    out = realtime_aqi(df)
    assert list(out["iaqi_pm25"]) == [100, 100]  # the 24 h moving mean, not the 1 h 300
    assert list(out["iaqi_so2"]) == [iaqi("so2_1h", 100, S12), iaqi("so2_24h", 700, S12)]
    with pytest.warns(AirwarnWarning, match=r"SO2 1 h > 800.*no so2_24h"):
        realtime_aqi(df.drop(columns="so2_24h"))
    with pytest.raises(AirwarnError, match=r"lacks column\(s\) \['o3_8h', 'pm10_24h', 'pm25_24h'\]"):
        realtime_aqi(df.drop(columns=["o3_8h", "pm10_24h", "pm25_24h"]))


def test_aqi_from_concentrations_matches_daily_aqi_and_broadcasts():
    rng = np.random.default_rng(3)
    shape = (4, 10, 7)
    conc = {"pm25": rng.lognormal(4, 0.8, shape), "pm10": rng.lognormal(4.5, 0.6, shape),
            "so2": rng.lognormal(2.5, 0.5, shape), "no2": rng.lognormal(3.3, 0.4, shape),
            "co": rng.lognormal(0, 0.4, shape), "o3_8h": rng.lognormal(4.2, 0.4, shape)}
    for std in (S12, S26):
        got = aqi_from_concentrations(std, **conc)
        assert got.shape == shape
        flat = pd.DataFrame({k: v.ravel() for k, v in conc.items()})
        np.testing.assert_array_equal(got.ravel(), daily_aqi(flat, std, above="ignore")["aqi"].to_numpy())
    # a scalar broadcasts against arrays; one pollutant alone is scored alone
    np.testing.assert_array_equal(aqi_from_concentrations(S26, pm25=[35, 60], co=0.5), [50, 100])
    np.testing.assert_array_equal(aqi_from_concentrations(S26, pm25=[np.nan, 60]), [np.nan, 100])


def test_aqi_from_concentrations_with_dataarrays():
    q = xr.DataArray(np.array([[20.0, 80.0, 160.0]]), dims=("lead_day", "quantile"),
                     coords={"quantile": [0.1, 0.5, 0.9]})
    out = aqi_from_concentrations(S26, pm25=q, o3_8h=100.0)
    assert isinstance(out, xr.DataArray) and out.dims == ("lead_day", "quantile")
    np.testing.assert_array_equal(out.values, [[50, iaqi("pm25_24h", 80), iaqi("pm25_24h", 160)]])
    with pytest.raises(AirwarnError, match=r"'auto' picks the standard by date"):
        aqi_from_concentrations("auto", pm25=q)
    with pytest.raises(AirwarnError, match=r"unknown or no pollutant\(s\) \['o3_1h'\]; valid names under HJ633-2026"):
        aqi_from_concentrations(S26, pm25=q, o3_1h=q)
    assert aqi_from_concentrations(S12, o3_8h=[900.0], o3_1h=[900.0])[0] == 350


def test_kernel_fast_and_general_paths_agree():
    """Short decimals are looked up, others computed; both must give the same numbers."""
    rng = np.random.default_rng(11)
    for (std, name), kernel in A._KERNELS.items():
        x = np.concatenate([np.round(rng.uniform(0, kernel.ind.top * 1.02, 3000), d) for d in (0, 1, 2, 3, 5)])
        fast = np.empty_like(x)
        flags = np.zeros(x.shape, dtype=bool)
        kernel.score(x, fast, flags)
        general, gflags = kernel.general(x)
        np.testing.assert_array_equal(fast, general, err_msg=f"{std} {name}")
        np.testing.assert_array_equal(flags, gflags, err_msg=f"{std} {name}")
