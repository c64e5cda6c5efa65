"""The demo's synthetic daily weather (forecast.synthetic_met): layout, determinism, physics, regimes."""
from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from airwarn.core.errors import InputError
from forecast.io import ReaderWarning
from forecast.io.met_csv import MET_CSV_COLUMNS, read_met_csv
from forecast.synthetic import DEMO_CITIES, make_city_daily
from forecast.synthetic_met import MET_COLUMNS, make_met_daily, met_csv_text, regional_anomaly

REPO = Path(__file__).resolve().parents[2]
DATE = dt.date(2026, 12, 3)


@pytest.fixture(scope="module")
def coords():
    return pd.read_csv(REPO / "models" / "aqistudy-2016" / "coords.csv")


@pytest.fixture(scope="module")
def obs():
    return make_city_daily(list(DEMO_CITIES), pd.Timestamp(DATE) - pd.Timedelta(days=400), DATE, seed=2026)


@pytest.fixture(scope="module")
def met(obs, coords):
    return make_met_daily(obs, coords=coords)


def test_layout_and_determinism(obs, coords, met):
    assert list(met.columns) == list(MET_COLUMNS) and met["synthetic"].all()
    keys = obs[["city", "date"]].sort_values(["city", "date"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(met[["city", "date"]], keys)          # one row per city-day of obs
    assert met.drop(columns=["city", "date", "synthetic"]).notna().all().all()
    pd.testing.assert_frame_equal(make_met_daily(obs, coords=coords), met)
    other = make_met_daily(obs, seed=7, coords=coords)
    assert not np.allclose(other["blh"], met["blh"])
    part = make_met_daily(obs, coords=coords, cities=["阳泉"])             # a subset: the same rows
    pd.testing.assert_frame_equal(part, met[met["city"] == "阳泉"].reset_index(drop=True))


def test_tidy_csv_round_trip(tmp_path, met):
    path = tmp_path / "synthetic_met_daily.csv"
    path.write_text(met_csv_text(met), encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ReaderWarning)
        back = read_met_csv(path)
    notes = [str(w.message) for w in caught]
    assert notes == [] and back.attrs["synthetic"] is True              # the marker is read, not warned about
    for v in MET_CSV_COLUMNS:
        if v in met.columns:                                              # every value inside its plausible range
            np.testing.assert_allclose(back[v].to_numpy(float), met[v].to_numpy(float))


def test_physically_plausible(met):
    assert met["blh"].between(80, 2000).all() and met["ws10"].between(0.3, 12).all()
    np.testing.assert_allclose(np.hypot(met["u10"], met["v10"]), met["ws10"], atol=0.02)
    assert (met["d2m"] <= met["t2m"]).all() and met["rh"].between(5, 100).all()
    assert met["tcc"].between(0, 1).all() and (met["precip"] >= 0).all() and (met["precip"] > 0).mean() < 0.4
    assert met["psfc"].between(850, 1045).all()
    month = pd.to_datetime(met["date"]).dt.month
    plain = met["city"] == "石家庄"
    assert met.loc[plain & (month == 7), "t2m"].mean() - met.loc[plain & (month == 1), "t2m"].mean() > 20
    assert met.loc[met["city"] == "阳泉", "psfc"].mean() < met.loc[plain, "psfc"].mean() - 40   # the plateau


def test_polluted_days_are_stagnant(obs, met):
    z = regional_anomaly(obs)
    day = pd.to_datetime(met["date"])
    zz = z.reindex(day).to_numpy()
    polluted, clean = zz > np.quantile(zz, 0.8), zz < np.quantile(zz, 0.2)
    inversion = met["t850"] - met["t2m"]
    assert met["blh"][polluted].median() < met["blh"][clean].median() - 300
    assert met["ws10"][polluted].median() < met["ws10"][clean].median() - 2.5
    assert met["rh"][polluted].median() > met["rh"][clean].median() + 15
    assert inversion[polluted].median() > inversion[clean].median() + 3
    # the city's own pollution too: its most polluted days have the shallowest boundary layer
    yq = met[met["city"] == "阳泉"].merge(obs[["city", "date", "pm25"]], on=["city", "date"])
    assert np.corrcoef(np.log(yq["pm25"]), yq["blh"])[0, 1] < -0.4
    assert np.corrcoef(np.log(yq["pm25"]), yq["ws10"])[0, 1] < -0.4


def test_winter_regimes_hold_the_synthetic_run(met, coords):
    """The daily means of the demo's GRIB2 run at 阳泉 (stagnant, then after the front) lie inside its history."""
    from forecast.synthetic_nwp import GRID_LAT, GRID_LON, SYNTHETIC_NWP_SEED, synthetic_run

    c = coords[coords["city"] == "阳泉"].iloc[0]
    i, j = int(np.abs(GRID_LAT - c["lat"]).argmin()), int(np.abs(GRID_LON - c["lon"]).argmin())
    run = dt.datetime.combine(DATE, dt.time(0))
    steps, fields = synthetic_run(run, seed=SYNTHETIC_NWP_SEED + pd.Timestamp(DATE).toordinal() % 10_000)
    day = (steps + 8) // 24                                               # Beijing-time day of each step
    full = np.isin(day, [d for d in np.unique(day) if (day == d).sum() == 4])
    point = {k: v[:, i, j] for k, v in fields.items()}
    daily = pd.DataFrame({"day": day, "blh": point["blh"], "ws10": np.hypot(point["u10"], point["v10"]),
                          "inversion": point["t850"] - point["t2m"]})[full].groupby("day").mean()
    history = met[met["city"] == "阳泉"].assign(inversion=lambda d: d["t850"] - d["t2m"])
    for v in ("blh", "ws10", "inversion"):
        assert history[v].min() <= daily[v].min() and daily[v].max() <= history[v].max(), v
    assert daily["blh"].iloc[:3].mean() < 500 and daily["blh"].iloc[-3:].mean() > 700      # stagnant, then ventilated
    assert daily["ws10"].iloc[:3].mean() < 2 and daily["ws10"].iloc[-3:].mean() > 5


def test_refusals(obs):
    with pytest.raises(InputError, match="pm25"):
        make_met_daily(obs.drop(columns="pm25"))
    with pytest.raises(InputError, match="广州"):
        make_met_daily(obs, cities=["广州"])
