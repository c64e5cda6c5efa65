"""The weather add-on (forecast.weather_addon): the committed model plus a city's residual boosters on the
synthetic weather history; the correction follows the weather, other cities and the base are unchanged."""
from __future__ import annotations

import datetime as dt
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from airwarn.cli import main
from airwarn.core.errors import InputError
from forecast.met import daily_predictors
from forecast.model import load_model
from forecast.synthetic import SHANXI_CITIES, make_city_daily
from forecast.synthetic_met import make_met_daily, met_csv_text
from forecast.weather_addon import add_city_weather, addon_variables
from forecast.weather_model import MIN_WEATHER_DAYS, SCALE_FACTOR_RANGE

REPO = Path(__file__).resolve().parents[2]
BASE = REPO / "models" / "aqistudy-2016"
DATE = dt.date(2026, 12, 3)
#: Yangquan, Shanxi and the plain next to it (the regional predictors need the neighbours).
CITIES = (*SHANXI_CITIES, "石家庄", "邢台", "邯郸", "保定")


@pytest.fixture(scope="module")
def base():
    return load_model(BASE)


@pytest.fixture(scope="module")
def obs():
    return make_city_daily(CITIES, pd.Timestamp(DATE) - pd.Timedelta(days=400), DATE, seed=2026)


@pytest.fixture(scope="module")
def history(obs, base):
    """The synthetic history as the tidy met CSV reader gives it (daily predictors of forecast.met)."""
    met = daily_predictors(make_met_daily(obs, coords=base.coords_).drop(columns="synthetic"))
    met.attrs["sources"] = ["synthetic_met_daily.csv"]
    return met


@pytest.fixture(scope="module")
def addon(base, obs, history):
    return add_city_weather(base, obs, history, ["阳泉"], name="test-weather")


def _run(history: pd.DataFrame, days: pd.DataFrame, leads=range(1, 11)) -> pd.DataFrame:
    """A forecast run issued on DATE for 阳泉 whose every day is the mean of ``days``, beside the history."""
    cols = [c for c in history.columns if c not in ("city", "date")]
    run = pd.DataFrame([days[cols].mean()] * len(leads))
    run.insert(0, "date", [pd.Timestamp(DATE) + pd.Timedelta(days=k) for k in leads])
    run.insert(0, "issued", pd.Timestamp(DATE))
    run.insert(0, "city", "阳泉")
    met = pd.concat([run, history.assign(issued=pd.NaT)], ignore_index=True)
    met.attrs["sources"] = ["run", "history"]
    return met


@pytest.fixture(scope="module")
def runs(history):
    """A stagnant run (the mean of 阳泉's 30 least ventilated winter days) and a windy one (the 30 most)."""
    yq = history[(history["city"] == "阳泉") & history["date"].dt.month.isin([11, 12, 1, 2])]
    order = yq.sort_values("ventilation")
    return {"stagnant": _run(history, order.head(30)), "windy": _run(history, order.tail(30))}


#: The cities forecast: the corrected one and a neighbour without weather.
FORECAST_CITIES = ["阳泉", "太原"]


@pytest.fixture(scope="module")
def plain(base, obs):
    """The base model's forecast."""
    return base.predict(obs, DATE, cities=FORECAST_CITIES, n_members=20)


@pytest.fixture(scope="module")
def got(addon, obs, runs):
    """The add-on's forecasts with the stagnant and the windy run."""
    return {k: addon.predict(obs, DATE, cities=FORECAST_CITIES, met=m, n_members=20) for k, m in runs.items()}


def _p50(ds, city, var="pm25"):
    return ds[var].sel(city=city, quantile=0.5).isel(issued=0).values


def test_the_city_follows_its_weather(addon, obs, plain, got):
    stagnant, windy = _p50(got["stagnant"], "阳泉"), _p50(got["windy"], "阳泉")
    assert (stagnant > windy).all() and np.mean(np.log(stagnant / windy)) > 0.5
    # the base forecast lies between the two weathers on most days
    between = (windy < _p50(plain, "阳泉")) & (_p50(plain, "阳泉") < stagnant)
    assert between.sum() >= 8
    for ds in got.values():                              # 太原 has no residual booster: the base forecast
        for var in ("pm25", "aqi"):
            np.testing.assert_array_equal(_p50(ds, "太原", var), _p50(plain, "太原", var))
        np.testing.assert_array_equal(ds["p_aqi_gt_200"].sel(city="太原").values,
                                      plain["p_aqi_gt_200"].sel(city="太原").values)
    # without weather (no met, or lead days the run lacks) 阳泉 keeps the base forecast
    np.testing.assert_array_equal(_p50(addon.predict(obs, DATE, cities=FORECAST_CITIES, n_members=20), "阳泉"),
                                  _p50(plain, "阳泉"))


def test_days_without_weather_keep_the_base_forecast(addon, obs, history, plain):
    yq = history[history["city"] == "阳泉"].sort_values("ventilation").head(30)
    short = _run(history, yq, leads=range(1, 6))
    got = _p50(addon.predict(obs, DATE, cities=FORECAST_CITIES, met=short, n_members=20), "阳泉")
    assert (got[:5] > _p50(plain, "阳泉")[:5]).all()
    np.testing.assert_array_equal(got[5:], _p50(plain, "阳泉")[5:])


def test_the_base_is_kept_whole(base, addon, history):
    assert not base.with_met_ and getattr(base, "residuals_", None) is None and base.name == "aqistudy-2016"
    assert "weather" not in base.card_ or base.card_["weather"] is None
    assert addon.regressors_ is base.regressors_ and addon.features_ == base.features_
    assert addon.calibration_ == base.calibration_ and addon.decision_thresholds_ == base.decision_thresholds_
    assert addon.city_thresholds_ is base.city_thresholds_
    assert addon.with_met_ and addon.residuals_.cities == ["阳泉"]
    assert len(addon.residuals_.boosters) == len(base.pollutants_)
    variables = addon.met_variables_
    assert "blh" in variables and "ventilation" in variables and "t2m_min" not in variables   # a copy of t2m here
    factors = addon.residuals_.factors
    assert set(factors) == {("阳泉", p, g) for p in base.pollutants_ for g in range(5)}
    assert all(SCALE_FACTOR_RANGE[0] <= f <= SCALE_FACTOR_RANGE[1] for f in factors.values())
    assert max(factors[("阳泉", "pm25", g)] for g in range(5)) < 0.95   # the weather narrows PM2.5's spread
    w = addon.card_["weather"]
    assert w["kind"] == "city residuals added to aqistudy-2016" and w["scores_of"] == "aqistudy-2016"
    assert w["sources"] == ["synthetic_met_daily.csv"] and w["variables"] == variables
    assert w["cities"] == {"阳泉": 401} and w["residual_cities"] == ["阳泉"]


def test_save_and_load_round_trip(addon, obs, runs, got, tmp_path):
    out = addon.save(tmp_path / "test-weather")
    back = load_model(out)
    assert back.with_met_ and back.met_variables_ == addon.met_variables_ and back.residuals_.cities == ["阳泉"]
    assert back.residuals_.factors == pytest.approx(addon.residuals_.factors)
    card = json.loads((out / "card.json").read_text(encoding="utf-8"))
    assert card["name"] == "test-weather" and card["weather"]["scores_of"] == "aqistudy-2016"
    assert len(card["weather"]["residual_models"]) == 6
    b = back.predict(obs, DATE, cities=FORECAST_CITIES, met=runs["stagnant"], n_members=20)
    for var in ("pm25", "aqi", "p_aqi_gt_200"):
        np.testing.assert_allclose(b[var].values, got["stagnant"][var].values, rtol=1e-6)


def test_refusals(base, addon, obs, history):
    with pytest.raises(InputError, match="already has weather"):
        add_city_weather(addon, obs, history, ["阳泉"])
    with pytest.raises(InputError, match="no observations of \\['广州'\\]"):
        add_city_weather(base, obs, history, ["阳泉", "广州"])
    recent = history[history["date"] > pd.Timestamp(DATE) - pd.Timedelta(days=200)]
    with pytest.raises(InputError, match=f"expected ≥ {MIN_WEATHER_DAYS} days per city, got 阳泉 200"):
        add_city_weather(base, obs, recent, ["阳泉"])
    flags = pd.DataFrame({"city": "阳泉", "date": pd.date_range("2026-01-01", periods=3), "blh": [300.0, 400, 500],
                          "copy": [300.0, 400, 500], "synthetic": True})
    assert addon_variables(flags) == (["blh"], ["copy", "synthetic"])


def test_cli_refuses_the_base_folder_and_a_short_history(obs, history, tmp_path, capsys):
    obs_csv, met_csv = tmp_path / "obs.csv", tmp_path / "met.csv"
    obs.assign(date=obs["date"].dt.strftime("%Y-%m-%d")).drop(columns="synthetic").to_csv(obs_csv, index=False)
    short = make_met_daily(obs[obs["date"] > pd.Timestamp(DATE) - pd.Timedelta(days=100)])
    met_csv.write_text(met_csv_text(short.drop(columns="synthetic")), encoding="utf-8")
    args = ["weather-add", "--model", str(BASE), "--obs", str(obs_csv), "--met", str(met_csv), "--cities", "阳泉"]
    assert main(args + ["--out", str(BASE)]) != 0
    assert "base model's folder" in capsys.readouterr().err
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(args + ["--out", str(tmp_path / "w")]) != 0
    assert "got 阳泉 100" in capsys.readouterr().err and not (tmp_path / "w").exists()


def test_a_city_the_add_on_does_not_correct_is_not_reported_as_using_weather(addon, obs, runs, plain):
    from forecast.product import weather_info

    met = runs["stagnant"]
    both = pd.concat([met, met[met["issued"].notna()].assign(city="太原")], ignore_index=True)
    both.attrs = dict(met.attrs)
    ds = addon.predict(obs, DATE, cities=FORECAST_CITIES, met=both, n_members=20)
    info = weather_info(ds)
    assert info["used"] and info["cities"] == ["阳泉"]  # 太原 has weather in the run, but no booster
    assert np.isnan(ds["met_blh"].sel(city="太原").values).all()
    assert np.isfinite(ds["met_blh"].sel(city="阳泉").values).any()
    np.testing.assert_array_equal(_p50(ds, "太原"), _p50(plain, "太原"))


def test_residual_files_of_cities_outside_the_base_do_not_collide(tmp_path):
    from forecast import weather_model as W

    import lightgbm

    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 1))

    def booster(slope):
        return lightgbm.train({"verbose": -1, "num_leaves": 4}, lightgbm.Dataset(x, slope * x[:, 0]), 5)

    res = W.CityResiduals(boosters={("甲", "pm25"): booster(1.0), ("乙", "pm25"): booster(-1.0)},
                          features={"pm25": ["lead_day"]})
    files, entries = W.save_residuals(res, tmp_path, ["北京", "天津"])  # neither city among the model's
    assert len(set(files)) == 2
    back = W.read_residuals(tmp_path, entries)
    probe = np.array([[1.5]])
    assert back.boosters[("甲", "pm25")].predict(probe)[0] > 0 > back.boosters[("乙", "pm25")].predict(probe)[0]
