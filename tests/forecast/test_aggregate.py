"""Hourly → daily, moving means and the rolling 24 h AQI: validity counts, windows, labels, real data."""
from __future__ import annotations

from airwarn.core.errors import AirwarnError
import numpy as np
import pandas as pd
import pytest

from forecast.aggregate import hourly_to_daily, moving_averages, realtime_aqi_series, rolling_aqi
from forecast.aqi import daily_aqi, iaqi

PRSA_DONGSI = "beijing_multisite_uci/PRSA_Data_Dongsi_20130301-20160229.csv.gz"
HAIKOU = "cnemc_station_hourly/station_1410A_haikou_20140513-20220330.csv.gz"


def _hours(day: str, values, column: str = "pm25", **extra) -> pd.DataFrame:
    t = pd.date_range(day, periods=len(values), freq="h")
    return pd.DataFrame({"time": t, column: np.asarray(values, dtype=float), **extra})


# --------------------------------------------------------------------------- daily means


@pytest.mark.parametrize("valid, expected_valid", [(24, True), (20, True), (19, False), (0, False)])
def test_daily_mean_needs_20_valid_hours(valid, expected_valid):
    values = [50.0] * valid + [np.nan] * (24 - valid)
    day = hourly_to_daily(_hours("2026-03-02", values), counts=True)
    assert len(day) == 1 and day["n_pm25"].iloc[0] == valid
    assert (day["pm25"].iloc[0] == 50.0) if expected_valid else np.isnan(day["pm25"].iloc[0])


def test_absent_rows_count_as_missing_hours():
    df = _hours("2026-03-02", [10.0] * 24)
    assert hourly_to_daily(df.iloc[:20])["pm25"].iloc[0] == 10.0
    assert np.isnan(hourly_to_daily(df.iloc[:19])["pm25"].iloc[0])
    # negative values are missing too
    assert np.isnan(hourly_to_daily(df.assign(pm25=[10.0] * 19 + [-1.0] * 5))["pm25"].iloc[0])


def test_daily_mean_is_exact_so_breakpoints_score_exactly():
    # these 24 one-decimal values average exactly 75.0; float summation gives 75.00000000000001
    values = [75.5, 76.0, 77.4, 77.8, 74.4, 72.1, 76.6, 77.2, 77.9, 76.3, 72.4, 77.7, 76.2, 77.7, 77.4,
              76.4, 77.3, 75.1, 77.2, 76.8, 73.6, 75.4, 74.4, 51.2]
    assert np.mean(values) != 75.0 and iaqi("pm25_24h", np.mean(values), "HJ633-2012") == 101
    day = hourly_to_daily(_hours("2015-01-10", values))
    assert day["pm25"].iloc[0] == 75.0
    assert daily_aqi(day)["iaqi_pm25"].iloc[0] == 100


def test_days_run_from_first_to_last_and_groups_are_separate():
    a = _hours("2026-03-01", [10.0] * 72, station="A")
    b = _hours("2026-03-02", [30.0] * 24, station="B")
    day = hourly_to_daily(pd.concat([b, a], ignore_index=True))
    assert list(day["station"]) == ["A", "A", "A", "B"]
    assert list(day["date"].dt.strftime("%m-%d")) == ["03-01", "03-02", "03-03", "03-02"]
    assert list(day["pm25"]) == [10, 10, 10, 30]
    assert day["date"].dtype == "datetime64[ns]"
    assert set(day.columns) >= {"pm25", "pm10", "so2", "no2", "co", "o3_8h", "o3_1h"}
    assert day["pm10"].isna().all()  # not measured


def test_hour_ending_labels_shift_the_day():
    # hour-ending: 01:00 .. 24:00 (= next day's 00:00) make one day
    t = pd.date_range("2026-03-02 01:00", periods=24, freq="h")
    df = pd.DataFrame({"time": t, "pm25": 40.0})
    assert list(hourly_to_daily(df, hour_label="end")["date"].dt.strftime("%m-%d")) == ["03-02"]
    start = hourly_to_daily(df, counts=True)
    assert list(start["date"].dt.strftime("%m-%d")) == ["03-02", "03-03"]
    assert start["n_pm25"].tolist() == [23, 1] and np.isnan(start["pm25"].iloc[1])


# --------------------------------------------------------------------------- ozone


def test_o3_8h_moving_mean_is_labelled_at_its_last_hour_and_needs_6_values():
    o3 = np.arange(24, dtype=float) * 10  # hour h has 10 h
    ma = moving_averages(_hours("2026-06-01", o3, column="o3"))
    row = ma.set_index("time")["o3_8h"]
    assert row["2026-06-01 07:00"] == np.mean(o3[0:8])  # hours 00..07
    assert row["2026-06-01 23:00"] == np.mean(o3[16:24])
    assert np.isnan(row["2026-06-01 04:00"])  # only 5 hours so far
    assert row["2026-06-01 05:00"] == np.mean(o3[0:6])  # 6 values suffice
    gaps = o3.copy()
    gaps[[9, 10, 11]] = np.nan  # windows ending 11:00 .. 16:00 hold 5 values, the one ending 17:00 six
    row = moving_averages(_hours("2026-06-01", gaps, column="o3")).set_index("time")["o3_8h"]
    assert row["2026-06-01 08:00"] == np.mean(o3[1:9])
    assert row[pd.date_range("2026-06-01 11:00", "2026-06-01 16:00", freq="h")].isna().all()
    assert row["2026-06-01 17:00"] == np.nanmean(gaps[10:18])


def test_o3_daily_max_8h_uses_the_17_in_day_windows():
    o3 = np.full(48, 50.0)
    o3[24:30] = 300.0  # early next-day hours: only windows reaching back into day 1 would see them
    o3[0:3] = 200.0  # day 1's first hours: inside the window ending 07:00
    day = hourly_to_daily(_hours("2026-06-01", o3, column="o3"), counts=True)
    assert day["n_o3_8h"].tolist() == [17, 17]
    assert day["o3_8h"].iloc[0] == np.mean(o3[0:8])  # 3*200+5*50 / 8
    # day 2: the in-day windows ending 07:00 .. 23:00; the highest is hours 00..07 of day 2
    assert day["o3_8h"].iloc[1] == np.mean(o3[24:32])
    assert day["o3_1h"].tolist() == [200.0, 300.0]


@pytest.mark.parametrize("missing_windows, peak, valid", [(3, 100.0, True), (4, 100.0, False), (4, 200.0, True)])
def test_o3_daily_max_8h_needs_14_windows_unless_it_exceeds_the_limit(missing_windows, peak, valid):
    o3 = np.full(24, peak)
    # three missing hours in a row invalidate no window; knock out windows by emptying hours 16..23
    # in blocks: windows ending 23 - k .. 23 lose validity when they hold fewer than 6 values
    o3[24 - (2 + missing_windows):] = np.nan
    day = hourly_to_daily(_hours("2026-06-01", o3, column="o3"), counts=True, min_hours=1)
    assert day["n_o3_8h"].iloc[0] == 17 - missing_windows
    assert (day["o3_8h"].iloc[0] == peak) if valid else np.isnan(day["o3_8h"].iloc[0])


# --------------------------------------------------------------------------- rolling 24 h AQI


def test_rolling_aqi_at_the_last_hour_of_a_day_equals_the_daily_report():
    rng = np.random.default_rng(5)
    n = 24 * 5
    df = pd.DataFrame({"time": pd.date_range("2026-02-26", periods=n, freq="h"),
                       "pm25": np.round(rng.lognormal(4.5, 0.5, n)), "pm10": np.round(rng.lognormal(5, 0.4, n)),
                       "so2": np.round(rng.lognormal(3, 0.3, n)), "no2": np.round(rng.lognormal(3.5, 0.3, n)),
                       "co": np.round(rng.lognormal(0.3, 0.3, n), 1), "o3": np.round(rng.lognormal(4, 0.5, n))})
    df.loc[rng.random(n) < 0.1, "pm25"] = np.nan
    roll = rolling_aqi(df, above="ignore").set_index("time")
    days = daily_aqi(hourly_to_daily(df), above="ignore").set_index("date")
    for day in days.index:
        at = roll.loc[day + pd.Timedelta(hours=23)]
        for col in ("pm25", "pm10", "co", "o3_8h", "o3_1h", "aqi"):
            assert at[col] == days.loc[day, col] or (np.isnan(at[col]) and np.isnan(days.loc[day, col])), (day, col)
        assert at["standard"] == days.loc[day, "standard"]
    # the standard switches with the window's last hour: 2026-02-28 23:00 is HJ 633-2012
    assert roll.loc["2026-02-28 23:00", "standard"] == "HJ633-2012"
    assert roll.loc["2026-03-01 00:00", "standard"] == "HJ633-2026"
    assert len(roll) == n and roll["pm25"].iloc[:19].isna().all()  # fewer than 20 hours at the start
    assert roll["pm10"].iloc[:19].isna().all() and not np.isnan(roll["pm10"].iloc[19])


def test_rolling_aqi_on_real_prsa_data_matches_pandas_rolling(shared_data):
    from forecast.io import read_prsa_multisite

    hourly = read_prsa_multisite([shared_data / PRSA_DONGSI])
    hourly = hourly[hourly["time"] < "2014-03-01"]
    roll = rolling_aqi(hourly, above="ignore")
    assert len(roll) == len(hourly)  # PRSA has no gaps in its time index
    s = hourly.set_index("time")["pm25"]
    expected = s.rolling("24h", min_periods=20).mean().to_numpy()
    np.testing.assert_allclose(roll["pm25"].to_numpy(), expected, rtol=1e-12, equal_nan=True)
    o3_8h = hourly.set_index("time")["o3"].rolling("8h", min_periods=6).mean()
    ma = moving_averages(hourly)
    np.testing.assert_allclose(ma["o3_8h"].to_numpy(), o3_8h.to_numpy(), rtol=1e-12, equal_nan=True)
    # the daily AQI of the winter 2013/14 Beijing episodes reaches 'heavy' and 'severe'
    daily = daily_aqi(hourly_to_daily(hourly), above="ignore")
    assert daily["level"].max() == 6 and (daily["level"] >= 5).sum() > 20
    assert roll["level"].max() == 6


def test_realtime_series_on_a_real_station_without_pm10(shared_data):
    raw = pd.read_csv(shared_data / HAIKOU, parse_dates=["datetime"])
    hourly = raw.rename(columns={"datetime": "time", "PM2.5": "pm25", "O3": "o3", "NO2": "no2", "SO2": "so2",
                                 "CO": "co"})
    hourly = hourly[(hourly["time"] >= "2015-01-01") & (hourly["time"] < "2015-03-01")]
    rt = realtime_aqi_series(hourly, hour_label="end", above="ignore")
    assert rt["pm10"].isna().all() and rt["iaqi_pm10"].isna().all()
    scored = rt.dropna(subset=["pm25_24h"])
    np.testing.assert_array_equal(scored["iaqi_pm25"], iaqi("pm25_24h", scored["pm25_24h"].to_numpy(),
                                                             "HJ633-2012"))
    # rows the series absent from the file (gaps) are present on the grid, with NaN
    assert len(rt) >= len(hourly) and rt["time"].diff().dropna().eq(pd.Timedelta("1h")).all()


# --------------------------------------------------------------------------- errors


def test_error_messages():
    df = _hours("2026-03-02", [1.0] * 24, station="A")
    with pytest.raises(AirwarnError, match=r"hourly_to_daily: no time column 'time'"):
        hourly_to_daily(df.rename(columns={"time": "t"}))
    with pytest.raises(AirwarnError, match=r"no group column\(s\) \['city'\]"):
        hourly_to_daily(df, by="city")
    dup = pd.concat([df, df.iloc[[3]]], ignore_index=True)
    with pytest.raises(ValueError, match=r"rows 3 and 24 are the same hour \(2026-03-02 03:00:00\)"):
        hourly_to_daily(dup)
    with pytest.raises(ValueError, match=r"row 2, column 'time': expected a time on the hour, got 2026-03-02 02:30"):
        hourly_to_daily(df.assign(time=df["time"].where(df.index != 2, pd.Timestamp("2026-03-02 02:30"))))
    with pytest.raises(ValueError, match=r"row 5, column 'time': expected a time, got 'noon'"):
        hourly_to_daily(df.assign(time=df["time"].astype(str).where(df.index != 5, "noon")))
    with pytest.raises(ValueError, match=r"row 7, column 'pm25': expected a number \[µg/m³\], got 'x'"):
        hourly_to_daily(df.assign(pm25=df["pm25"].astype(object).where(df.index != 7, "x")))
    with pytest.raises(AirwarnError, match=r"unknown hour_label 'middle'"):
        rolling_aqi(df, hour_label="middle")
    with pytest.raises(ValueError, match=r"both 'o3' and 'o3_1h'"):
        moving_averages(df.assign(o3=1.0, o3_1h=1.0))
    with pytest.raises(ValueError, match=r"min_hours must be 1..24, got 30"):
        hourly_to_daily(df, min_hours=30)


# --------------------------------------------------------------------------- stations → city days
def _station_hours(code: str, pm25: float, hours: int = 24, day: str = "2025-01-15") -> pd.DataFrame:
    """Hour-ending CNEMC labels: the day's hours are 01:00 … 24:00 (= 00:00 of the next date)."""
    times = pd.date_range(pd.Timestamp(day) + pd.Timedelta(hours=1), periods=24, freq="h")[:hours]
    return pd.DataFrame({"time": times, "station": code, "pm25": pm25, "pm10": 2 * pm25, "so2": 10.0,
                         "no2": 20.0, "co": 0.5, "o3": 40.0})


def test_city_day_is_the_mean_of_its_valid_non_control_stations():
    from forecast.aggregate import city_daily_from_stations

    hourly = pd.concat([_station_hours("1738A", 100.0), _station_hours("1739A", 50.0),
                        _station_hours("3619A", 500.0),            # control (对照点): left out
                        _station_hours("1740A", 400.0, hours=12),  # 12 valid hours < 20: no daily value
                        _station_hours("9999A", 300.0),            # not in the list: left out
                        _station_hours("1081A", 35.0)], ignore_index=True)
    stations = pd.DataFrame({"code": ["1738A", "1739A", "3619A", "1740A", "1081A"],
                             "city": ["阳泉", "阳泉", "阳泉", "阳泉", "太原"],
                             "control": [False, False, True, False, False]})
    out = city_daily_from_stations(hourly, stations).set_index("city")
    assert list(out.index) == ["太原", "阳泉"] and (out["date"] == pd.Timestamp("2025-01-15")).all()
    yq = out.loc["阳泉"]
    assert yq["pm25"] == 75.0 and yq["pm10"] == 150.0 and yq["n_stations"] == 2
    # PM2.5 75 is the top of IAQI 100 and PM10 150 the top of IAQI 100: AQI 100 by either standard
    assert yq["aqi"] == 100
    # 太原: PM2.5 35 → IAQI 50, PM10 70 → IAQI 50 + 20/100 × 50 = 60
    assert out.loc["太原", "aqi"] == 60 and out.loc["太原", "n_stations"] == 1
    with pytest.raises(AirwarnError, match=r"none of the 1 stations .*\['9999A'\]"):
        city_daily_from_stations(_station_hours("9999A", 1.0), stations)
