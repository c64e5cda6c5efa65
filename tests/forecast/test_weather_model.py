"""Weather predictors of the forecast model: the generic join, the card's check, per-city residual boosters,
and the degraded weather of the three-curve study (forecast.features, forecast.weather_model,
forecast.weather_study). The data below are synthetic (marked so in their names)."""
from __future__ import annotations

import argparse
import json
import warnings

import numpy as np
import pandas as pd
import pytest

from airwarn.core.errors import InputError
from forecast import features as F
from forecast import weather_model as W
from forecast import weather_study as S

TINY = dict(n_estimators=15, scale_n_estimators=8, num_leaves=7, min_child_samples=40)
SYNTHETIC_CITIES = ("甲", "乙", "丙", "丁")


def _keys(city, issued, valid):
    return pd.DataFrame({"city": city, "issued": pd.to_datetime(issued), "valid_date": pd.to_datetime(valid)})


# ---------------------------------------------------------------------- the join
def test_met_features_date_keyed_valid_issue_and_change():
    met = pd.DataFrame({"city": ["A"] * 5, "date": pd.date_range("2015-01-01", periods=5),
                        "t2m": [0.0, 1.0, 2.0, 3.0, 4.0], "blh": [100, 200, 300, 400, 500],
                        "source": "synthetic"})
    assert F.met_predictors(met) == ["t2m", "blh"]  # any numeric column, keys and text left out
    keys = _keys(["A", "A", "B"], ["2015-01-01", "2015-01-02", "2015-01-02"], ["2015-01-04", "2015-01-03", "2015-01-03"])
    out = F.met_features(keys, met, ["t2m", "blh"])
    np.testing.assert_allclose(out["met_t2m"].iloc[:2], [3.0, 2.0])
    np.testing.assert_allclose(out["met0_t2m"].iloc[:2], [0.0, 1.0])
    np.testing.assert_allclose(out["met_dt2m"].iloc[:2], [3.0, 1.0])
    np.testing.assert_allclose(out["met_dblh"].iloc[:2], [300.0, 100.0])
    assert out.iloc[2].isna().all()  # a city without weather: NaN, not an error


def test_met_features_run_keyed_never_after_the_issue_day():
    # run r (issued day r) forecasts day r + L with the value 100·r + L (synthetic)
    runs = [(r, L) for r in (0, 1, 3) for L in range(0, 6)]
    base = pd.Timestamp("2015-01-01")
    met = pd.DataFrame({"city": "A", "issued": [base + pd.Timedelta(days=r) for r, _ in runs],
                        "date": [base + pd.Timedelta(days=r + L) for r, L in runs],
                        "t2m": [100.0 * r + L for r, L in runs]})
    day = lambda k: base + pd.Timedelta(days=k)  # noqa: E731
    keys = _keys(["A"] * 4, [day(1), day(2), day(3), day(6)], [day(3), day(4), day(4), day(7)])
    out = F.met_features(keys, met, ["t2m"])
    # issued day 1: run 1, lead 2; issued day 2 (no run): the latest run before it, run 1 (lead 3);
    # issued day 3: its own run, never run 1's; issued day 6: run 3 is older than the allowed age → NaN
    np.testing.assert_allclose(out["met_t2m"].iloc[:3], [102.0, 103.0, 301.0])
    assert np.isnan(out["met_t2m"].iloc[3])
    # the issue day's weather: the latest run issued on or before it (day 2 from run 1, day 3 from run 3)
    np.testing.assert_allclose(out["met0_t2m"].iloc[:3], [100.0, 101.0, 300.0])


def test_check_met_refuses_a_frame_lacking_the_card_variables_and_takes_synonyms():
    met = pd.DataFrame({"city": ["A"], "date": [pd.Timestamp("2015-01-01")], "t2m": [1.0], "u10": [2.0]})
    met.attrs["sources"] = ["bureau_met.csv"]
    aligned = W.check_met(met, ["temp", "u"], "m")  # the UCI names of load_met, found under forecast.met's
    assert aligned["temp"].iloc[0] == 1.0 and aligned["u"].iloc[0] == 2.0
    with pytest.raises(InputError) as err:
        W.check_met(met, ["temp", "blh", "rh"], "m")
    msg = str(err.value)
    assert "bureau_met.csv" in msg and "['blh', 'rh']" in msg


# ---------------------------------------------------------------------- the degraded weather
def _observed_synthetic(n_days=1200, stations=("S1", "S2", "S3")):
    dates = pd.date_range("2015-01-01", periods=n_days)
    return pd.concat([pd.DataFrame({"city": s, "date": dates, "temp": 10.0, "dewp": 0.0, "wspm": 5.0, "u": 0.0,
                                    "v": 0.0, "pres": 1010.0}) for s in stations], ignore_index=True)


def test_degraded_weather_is_seeded_lead_dependent_autocorrelated_and_shared():
    obs = _observed_synthetic()
    issued = pd.date_range("2015-01-01", periods=1180)
    a = S.degraded_weather(obs, issued, seed=3)
    assert a.equals(S.degraded_weather(obs, issued, seed=3))
    assert not a["temp"].equals(S.degraded_weather(obs, issued, seed=4)["temp"])
    lead = (a["date"] - a["issued"]).dt.days.to_numpy()
    err = a["temp"].to_numpy() - 10.0
    assert np.all(err[lead == 0] == 0)  # the issue day's weather is observed
    sd = np.array([err[lead == L].std() for L in range(1, 11)])
    np.testing.assert_allclose(sd, S.error_sd("temp", np.arange(1, 11)), rtol=0.1)
    assert sd[0] == pytest.approx(2.6, rel=0.1) and sd[-1] == pytest.approx(2.6 * S.GROWTH_AT_10, rel=0.1)
    # one error series for every station
    wide = a.pivot_table(index=["issued", "date"], columns="city", values="temp")
    assert np.allclose(wide["S1"], wide["S2"]) and np.allclose(wide["S1"], wide["S3"])
    # AR(1) along the valid days of a run
    one = a[a["city"] == "S1"].assign(lead=lead[a["city"].to_numpy() == "S1"])
    x = one.pivot_table(index="issued", columns="lead", values="temp").to_numpy()[:, 1:] - 10.0
    z = x / x.std(axis=0)
    lag1 = np.mean([np.corrcoef(z[:, j], z[:, j + 1])[0, 1] for j in range(9)])
    assert lag1 == pytest.approx(S.AR1_PHI, abs=0.08)
    assert (a["wspm"] > 0).all() and (a["dewp"] <= a["temp"]).all()


def test_degraded_rain_is_never_wetter_than_the_wettest_observed_day():
    obs = _observed_synthetic(400).assign(rain=lambda d: np.where(d["date"].dt.day % 9 == 0, 60.0, 0.0))
    a = S.degraded_weather(obs, pd.date_range("2015-01-01", periods=380), seed=0)
    assert a["rain"].max() <= 60.0 and (a["rain"] >= 0).all()
    assert (a["rain"] == 60.0).sum() > 0 and a.loc[a["rain"] > 0, "rain"].nunique() > 10  # capped, still perturbed


def test_persisted_weather_carries_the_issue_day():
    obs = _observed_synthetic(40).assign(temp=lambda d: d["date"].dt.day.astype(float))
    p = S.persisted_weather(obs, pd.date_range("2015-01-05", periods=3))
    assert (p["temp"].to_numpy() == p["issued"].dt.day.to_numpy()).all()
    assert set((p["date"] - p["issued"]).dt.days) == set(S.RUN_LEADS)


# ---------------------------------------------------------------------- one city with weather, pooled
def synthetic_pool(n_days=420, seed=1):
    """Four synthetic cities sharing a regional AR(1) signal; city 甲's PM2.5 also falls with its wind
    ``ws`` of the day (the only city with weather)."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2014-01-01", periods=n_days, freq="D")
    ws = rng.gamma(2.0, 1.0, n_days)
    shared = np.zeros(n_days)
    for t in range(1, n_days):
        shared[t] = 0.7 * shared[t - 1] + 0.3 * rng.standard_normal()
    doy = dates.day_of_year.to_numpy()
    frames = []
    for k, c in enumerate(SYNTHETIC_CITIES):
        logp = 4.0 + 0.4 * np.cos(2 * np.pi * doy / 365.25) + shared + 0.3 * rng.standard_normal(n_days)
        if k == 0:
            logp = logp - 0.5 * (ws - 2.0)
        pm25 = np.exp(logp)
        frames.append(pd.DataFrame({"city": c, "date": dates, "pm25": pm25, "pm10": pm25 * 1.6,
                                    "aqi": np.minimum(pm25 * 1.3, 500)}))
    met = pd.DataFrame({"city": SYNTHETIC_CITIES[0], "date": dates, "ws": ws,
                        "temp": 10 + rng.standard_normal(n_days)})
    met.attrs["sources"] = ["synthetic_met.csv"]
    coords = pd.DataFrame({"city": list(SYNTHETIC_CITIES), "lon": [112.0, 112.5, 113.0, 113.5],
                           "lat": [38.0, 38.2, 38.4, 38.6]})
    return pd.concat(frames, ignore_index=True), met, coords


@pytest.fixture(scope="module")
def pooled(tmp_path_factory):
    from forecast.io import ReaderWarning
    from forecast.model import ForecastModel

    obs, met, coords = synthetic_pool()
    model = ForecastModel(name="synthetic-weather", params=TINY, max_rows=3000, valid_days=100, n_jobs=1,
                          residual_params=dict(n_estimators=40, learning_rate=0.1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ReaderWarning)
        model.fit(obs, met=met, coords=coords, until="2015-01-31")
    folder = model.save(tmp_path_factory.mktemp("models") / "synthetic-weather")
    return model, obs, met, folder


def _median_pm25(model, obs, met, issued):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = model.predict(obs, issued, met=met, n_members=10)
    return ds


def test_residual_model_learns_the_weather_of_the_one_city(pooled):
    model, obs, met, _ = pooled
    assert model.residual_cities_ == ["甲"] and model.residuals_.cities == ["甲"]
    assert model.met_variables_ == ["ws", "temp"]
    issued = pd.date_range("2015-02-01", "2015-02-20")
    truth = obs.set_index(["city", "date"])["pm25"]

    def error(m):
        f = _median_pm25(m, obs, met, issued)["pm25"].sel(city="甲", quantile=0.5).to_dataframe("f").reset_index()
        f["valid"] = f["issued"] + pd.to_timedelta(f["lead_day"], unit="D")
        o = truth.reindex(pd.MultiIndex.from_arrays([["甲"] * len(f), f["valid"]])).to_numpy()
        return np.sqrt(np.nanmean((np.log(f["f"].to_numpy()) - np.log(o)) ** 2))

    with_residual = error(model)
    kept, model.residuals_ = model.residuals_, None
    try:
        pooled_only = error(model)
    finally:
        model.residuals_ = kept
    assert with_residual < 0.92 * pooled_only
    # the correction follows the valid day's wind of 甲 (its PM2.5 falls by 0.5 per m/s)
    table = model.forecast_table(obs, list(issued), ["甲"], met)
    corr = model.residuals_.location(table, "pm25")
    ws = table["met_ws"].to_numpy()
    known = np.isfinite(ws)
    assert known.sum() > 100 and np.corrcoef(corr[known], -ws[known])[0, 1] > 0.6


def test_cities_without_weather_still_forecast(pooled):
    model, obs, met, _ = pooled
    ds = _median_pm25(model, obs, met, "2015-02-10")
    assert set(ds["city"].values) == set(SYNTHETIC_CITIES)
    assert np.isfinite(ds["aqi"].values).all()


def test_card_records_the_weather_and_the_residual_boosters_round_trip(pooled):
    from forecast.model import load_model

    model, obs, met, folder = pooled
    card = json.loads((folder / "card.json").read_text(encoding="utf-8"))
    w = card["weather"]
    assert w["variables"] == ["ws", "temp"] and w["sources"] == ["synthetic_met.csv"]
    assert w["cities"] == {"甲": 396} and not w["keyed_by_run"]
    assert [e["city"] for e in w["residual_models"]] == ["甲", "甲"]
    assert all((folder / e["file"]).exists() and e["file"] in card["files"] for e in w["residual_models"])
    again = load_model(folder)
    a = _median_pm25(model, obs, met, "2015-02-10")["aqi"].values
    b = _median_pm25(again, obs, met, "2015-02-10")["aqi"].values
    np.testing.assert_allclose(a, b, rtol=1e-6)


def test_forecast_met_refuses_a_file_lacking_the_card_variables(pooled, shared_data, capsys):
    from forecast.model_cli import met_for_model

    model, *_ = pooled
    prsa = sorted((shared_data / "beijing_multisite_uci").glob("PRSA_Data_*"))[0]
    with pytest.raises(InputError) as err:
        met_for_model(argparse.Namespace(met=[str(prsa)]), model)
    assert prsa.name in str(err.value) and "['ws']" in str(err.value)
    assert met_for_model(argparse.Namespace(met=[]), model) is None
    assert "trained with weather" in capsys.readouterr().err
    model.with_met_ = False
    try:
        assert met_for_model(argparse.Namespace(met=[str(prsa)]), model) is None
    finally:
        model.with_met_ = True
    said = capsys.readouterr().err
    assert "trained without weather" in said and "ignored" in said
