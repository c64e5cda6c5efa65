"""The real-time AQI as CNEMC publishes it (HJ 633-2012 hours): O3 8 h reported, not in the maximum."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast.aggregate import realtime_aqi_series
from forecast.aqi import iaqi, realtime_aqi

S12 = "HJ633-2012"


def _ozone_afternoon() -> pd.DataFrame:
    """One 2015 station hour where the O3 8 h moving mean has the largest IAQI of all indicators."""
    return pd.DataFrame({"time": pd.to_datetime(["2015-07-01 16:00"]), "so2": [10.0], "no2": [30.0],
                         "co": [0.6], "o3": [180.0], "o3_8h": [250.0], "pm10_24h": [60.0],
                         "pm25_24h": [40.0], "pm10": [70.0], "pm25": [45.0]})


def test_i15_realtime_aqi_leaves_o3_8h_out_of_the_published_maximum():
    df = _ozone_afternoon()
    o3_8h = iaqi("o3_8h", 250.0, S12)
    o3_1h = iaqi("o3_1h", 180.0, S12)
    assert o3_8h == 185 and o3_1h < o3_8h  # the constructed hour: O3 8 h is the largest IAQI
    out = realtime_aqi(df)
    assert out["iaqi_o3_8h"].iloc[0] == o3_8h  # still reported as its own column
    others = [iaqi("so2_1h", 10.0, S12), iaqi("no2_1h", 30.0, S12), iaqi("co_1h", 0.6, S12), o3_1h,
              iaqi("pm10_24h", 60.0, S12), iaqi("pm25_24h", 40.0, S12)]
    assert out["aqi"].iloc[0] == max(others) == o3_1h
    assert out["primary_pollutant"].iloc[0] == "o3_1h"
    assert out["exceedance_pollutants"].iloc[0] == ""  # O3 8 h IAQI 185 is not an exceedance there


def test_i15_realtime_aqi_strict_convention_takes_o3_8h_into_the_maximum():
    out = realtime_aqi(_ozone_afternoon(), convention="strict")
    assert out["aqi"].iloc[0] == 185 and out["primary_pollutant"].iloc[0] == "o3_8h"
    assert out["category"].iloc[0] == "中度污染"
    with pytest.raises(ValueError, match=r"convention must be one of \['published', 'strict'\], got 'cnemc'"):
        realtime_aqi(_ozone_afternoon(), convention="cnemc")


def test_i15_realtime_aqi_2026_hours_are_the_same_under_both_conventions():
    df = pd.DataFrame({"time": pd.to_datetime(["2026-07-01 16:00"]), "so2": [10.0], "no2": [30.0],
                       "co": [0.6], "o3": [180.0], "pm10": [70.0], "pm25": [45.0]})
    a, b = realtime_aqi(df), realtime_aqi(df, convention="strict")
    pd.testing.assert_frame_equal(a, b)


def test_i15_realtime_series_publishes_without_o3_8h_on_an_ozone_day():
    # 24 hours of one station: ozone builds to 280 µg/m³ in the afternoon, particles stay low
    hours = pd.date_range("2015-07-01 00:00", periods=24, freq="h")
    o3 = np.r_[np.full(8, 60.0), np.linspace(120, 280, 8), np.linspace(260, 80, 8)]
    hourly = pd.DataFrame({"station": "A", "time": hours, "pm25": 20.0, "pm10": 40.0, "so2": 8.0,
                           "no2": 20.0, "co": 0.5, "o3": o3})
    rt = realtime_aqi_series(hourly, above="ignore")
    scored = rt.dropna(subset=["iaqi_o3_8h"])
    assert (scored["iaqi_o3_8h"] > scored["iaqi_o3_1h"]).any()  # hours where the strict reading differs
    expected = rt[["iaqi_so2", "iaqi_no2", "iaqi_co", "iaqi_o3_1h", "iaqi_pm10", "iaqi_pm25"]].max(axis=1)
    np.testing.assert_array_equal(rt["aqi"].to_numpy(), expected.to_numpy())
