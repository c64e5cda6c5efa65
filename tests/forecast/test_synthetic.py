"""Synthetic demo observations: schema, marking, determinism and realism."""
from __future__ import annotations

from airwarn.core.errors import AirwarnError
import numpy as np
import pandas as pd
import pytest

from forecast.synthetic import DEMO_CITIES, make_city_daily


@pytest.fixture(scope="module")
def synth():
    return make_city_daily(DEMO_CITIES, "2024-11-01", "2026-11-28", seed=7)


def test_schema_marking_and_determinism(synth):
    assert {"city", "date", "aqi", "pm25", "pm10", "so2", "no2", "co", "o3_8h", "synthetic"} <= set(synth.columns)
    assert synth["synthetic"].all()
    assert synth["city"].nunique() == len(DEMO_CITIES) == 35
    again = make_city_daily(DEMO_CITIES, "2024-11-01", "2026-11-28", seed=7)
    pd.testing.assert_frame_equal(synth, again)
    other = make_city_daily(DEMO_CITIES, "2024-11-01", "2026-11-28", seed=8)
    assert not np.allclose(other["pm25"], synth["pm25"])


def test_seasonal_cycle_and_heating_season(synth):
    y = synth[synth["city"] == "阳泉"]
    month = y["date"].dt.month
    heating = y[(month >= 12) | (month <= 2)]["pm25"].mean()
    summer = y[month.isin([6, 7, 8])]["pm25"].mean()
    assert heating > 1.3 * summer
    o3_summer = y[month.isin([6, 7])]["o3_8h"].mean()
    o3_winter = y[month.isin([12, 1])]["o3_8h"].mean()
    assert o3_summer > 1.8 * o3_winter
    so2_ratio = y[(month >= 12) | (month <= 2)]["so2"].mean() / y[month.isin([6, 7, 8])]["so2"].mean()
    assert so2_ratio > 1.8


def test_cross_city_correlation(synth):
    wide = np.log(synth.pivot(index="date", columns="city", values="pm25"))
    anomaly = wide - wide.rolling(61, center=True, min_periods=20).mean()
    r = anomaly["阳泉"].corr(anomaly["太原"])
    r_far = anomaly.corr().to_numpy()[np.triu_indices(len(DEMO_CITIES), 1)].mean()
    assert r > 0.4 and 0.4 < r_far < 0.8


def test_demo_episode_builds_to_heavy_pollution(synth):
    y = synth[synth["city"] == "阳泉"].tail(6)["aqi"].to_numpy()
    assert np.all(np.diff(y) > 0)
    assert 225 <= y[-1] <= 245
    assert y[0] < 130


def test_bad_arguments():
    with pytest.raises(ValueError, match="before start"):
        make_city_daily(["阳泉"], "2026-01-02", "2026-01-01")
    with pytest.raises(AirwarnError, match="focus city"):
        make_city_daily(["太原"], "2026-01-01", "2026-02-01")
