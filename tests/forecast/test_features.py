"""Features: pure functions, no leakage from the future, calendar and regional predictors."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast import features as F
from tests.forecast._model_fixtures import coordinates, read_subset


@pytest.fixture(scope="module")
def subset(shared_data):
    return read_subset(shared_data, end="2014-12-31")


@pytest.fixture(scope="module")
def coords(shared_data):
    return coordinates(shared_data)


def test_clean_observations_complete_grid_and_range_checks():
    obs = pd.DataFrame({"city": ["a", "a", "a", "b"],
                        "date": pd.to_datetime(["2015-01-01", "2015-01-04", "2015-01-05", "2015-01-02"]),
                        "pm25": [50.0, 0.0, 2500.0, 30.0], "aqi": [70.0, 80.0, 90.0, 40.0]})
    with pytest.warns(UserWarning, match=r"2 value\(s\) of pm25 not in \(0, 2000\] set to missing"):
        out = F.clean_observations(obs)                        # never silently
    assert out.attrs["qc_dropped"] == {"pm25": 2}
    a = out[out["city"] == "a"]
    assert list(a["date"].dt.day) == [1, 2, 3, 4, 5]          # absent days filled
    assert np.isnan(a["pm25"].iloc[1]) and np.isnan(a["pm25"].iloc[2])
    assert np.isnan(a["pm25"].iloc[3])                         # 0 is missing
    assert np.isnan(a["pm25"].iloc[4])                         # above the plausible range
    assert a["pm25"].iloc[0] == 50.0


def test_features_use_past_only(subset, coords):
    """Perturbing every value after day D leaves all features of day D (and before) unchanged."""
    clean = F.clean_observations(subset)
    D = pd.Timestamp("2014-11-20")
    base = F.issue_features(clean, coords)
    perturbed = clean.copy()
    future = perturbed["date"] > D
    for v in ("pm25", "pm10", "so2", "no2", "co", "o3_8h", "aqi"):
        perturbed.loc[future, v] = perturbed.loc[future, v] * 3.7 + 11
    statics = F.city_statics(clean, coords)  # statics belong to the training period, held fixed
    a = F.issue_features(clean, coords, statics)
    b = F.issue_features(perturbed, coords, statics)
    past = a["date"] <= D
    cols = [c for c in a.columns if c not in ("city", "date")]
    pd.testing.assert_frame_equal(a.loc[past, cols], b.loc[past, cols])
    # and the perturbation does change the features after D (the test can fail)
    assert not np.allclose(a.loc[~past, "pm25_lag0"], b.loc[~past, "pm25_lag0"], equal_nan=True)
    assert len(base) == len(a)


def test_lag_and_rolling_values_by_hand():
    obs = pd.DataFrame({"city": "x", "date": pd.date_range("2015-01-01", periods=8),
                        "pm25": [9.0, 19, 29, 39, 49, 59, 69, 79]})
    out = F.lag_features(obs, ["pm25"])
    logs = np.log(obs["pm25"] + 1)
    assert out["pm25_lag0"].iloc[7] == pytest.approx(logs.iloc[7])
    assert out["pm25_lag3"].iloc[7] == pytest.approx(logs.iloc[4])
    assert out["pm25_mean3"].iloc[7] == pytest.approx(logs.iloc[5:8].mean())
    assert out["pm25_max7"].iloc[7] == pytest.approx(logs.iloc[1:8].max())
    assert out["pm25_trend"].iloc[7] == pytest.approx(logs.iloc[7] - logs.iloc[4:7].mean())
    assert np.isnan(out["pm25_lag1"].iloc[0])


def test_regional_mean_is_distance_weighted_and_excludes_self():
    coords = pd.DataFrame({"city": ["a", "b", "c"], "lon": [113.0, 113.5, 118.0], "lat": [38.0, 38.0, 38.0]})
    obs = pd.DataFrame({"city": ["a", "b", "c"], "date": pd.Timestamp("2015-01-01"),
                        "pm25": [99.0, 9.0, 999.0]})
    w = F.region_weights(coords, ["a", "b", "c"])
    assert w.loc["a", "a"] == 0 and w.loc["a", "b"] > w.loc["a", "c"] > 0
    reg = F.regional_features(obs, coords, ["pm25"]).set_index(obs["city"])
    wa = w.loc["a"]
    expected = (wa["b"] * np.log(10) + wa["c"] * np.log(1000)) / (wa["b"] + wa["c"])
    assert reg.loc["a", "reg_pm25_lag0"] == pytest.approx(expected)
    # no coordinates: NaN, not an error
    none = F.regional_features(obs, None, ["pm25"])
    assert none["reg_pm25_lag0"].isna().all()


def test_calendar_heating_season_and_spring_festival():
    cal = F.calendar_features(pd.to_datetime(["2015-11-14", "2015-11-15", "2016-03-15", "2016-03-16",
                                              "2015-02-19", "2015-02-09", "2016-02-10"]))
    assert list(cal["heating"]) == [0, 1, 1, 0, 1, 1, 1]
    assert list(cal["sf_days"]) == [-45, -45, 36, 37, 0, -10, 2]
    sf = F.spring_festival_dates()
    assert sf.index.min() == 2010 and sf.index.max() == 2040 and len(sf) == 31
    assert sf[2026] == pd.Timestamp("2026-02-17")


def test_met_daily_wind_components_and_humidity():
    hourly = pd.DataFrame({"city": "北京", "time": pd.date_range("2015-01-01", periods=48, freq="h"),
                           "temp": 0.0, "dewp": -10.0, "pres": 1020.0, "rain": 0.1,
                           "wspm": 2.0, "wd": ["N"] * 24 + ["W"] * 24})
    d = F.met_daily(hourly)
    assert len(d) == 2
    assert d["v"].iloc[0] == pytest.approx(-2.0) and d["u"].iloc[0] == pytest.approx(0.0, abs=1e-12)
    assert d["u"].iloc[1] == pytest.approx(2.0)       # wind from the west blows eastward
    assert d["rain"].iloc[0] == pytest.approx(2.4)
    assert 40 < d["rh"].iloc[0] < 50                   # 0 °C with dew point −10 °C ≈ 46 %


def test_expand_leads_valid_day_calendar(subset, coords):
    issue = F.issue_features(F.clean_observations(subset), coords).iloc[:5]
    t = F.expand_leads(issue, [1, 10])
    assert len(t) == 10
    assert (t["valid_date"] - t["issued"]).dt.days.tolist() == [1] * 5 + [10] * 5
    assert "valid_doy_sin" in t.columns and "lead_day" in F.feature_columns(t)


def test_met_daily_averages_the_stations_of_a_city_rain_included():
    # the bug: a city's rain was the sum over all rows, so 12 stations' rain added up to 12 times a station's
    t = pd.date_range("2015-07-01", periods=24, freq="h")
    rows = [pd.DataFrame({"city": "北京", "station": st, "time": t, "temp": temp, "rain": rain})
            for st, temp, rain in (("A", 20.0, 0.5), ("B", 24.0, 1.0))]
    day = F.met_daily(pd.concat(rows, ignore_index=True)).iloc[0]
    assert day["rain"] == pytest.approx((12.0 + 24.0) / 2)   # each station's daily sum, then their mean
    assert day["temp"] == pytest.approx(22.0)
