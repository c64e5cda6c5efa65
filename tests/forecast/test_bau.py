"""The business-as-usual model: weather and calendar only, warning days and the days after them left out."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from airwarn.core.errors import InputError
from forecast.bau import (
    AFTER_DAYS, bau_features, cross_fit_bau, excluded_days, fit_bau, predict_bau, quantile_label,
)

SMALL = {"n_estimators": 80}


def _synthetic(seed: int = 3, days: int = 900):
    """A city whose log PM2.5 is set by the weather (wind now and on the two days before, humidity, season)."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2013-03-01", periods=days, freq="D")
    season = np.cos(2 * np.pi * (dates.day_of_year.to_numpy() - 15) / 365.25)
    lw = np.zeros(days)
    for i in range(1, days):
        lw[i] = 0.6 * lw[i - 1] + rng.normal(0, 0.35)
    wspm = 1.6 * np.exp(lw)
    rh = np.clip(55 + rng.normal(0, 15, days), 10, 98)
    met = pd.DataFrame({"date": dates, "temp": 13 - 15 * season + rng.normal(0, 2, days), "rh": rh,
                        "pres": 1015 + 10 * season + rng.normal(0, 4, days), "wspm": wspm,
                        "rain": np.where(rng.random(days) < 0.1, rng.exponential(5, days), 0.0)})
    lag = pd.Series(lw).shift(1).fillna(0).to_numpy()
    pm = np.exp(3.8 + 0.5 * season - 0.9 * lw - 0.4 * lag + 0.02 * (rh - 55) + rng.normal(0, 0.15, days))
    daily = pd.DataFrame({"date": dates, "pm25": pm, "no2": np.exp(3.4 - 0.5 * lw + rng.normal(0, 0.1, days))})
    return daily, met


@pytest.fixture(scope="module")
def city():
    return _synthetic()


def test_excluded_days_are_the_periods_and_the_days_after():
    out = excluded_days([("2015-12-07", "2015-12-10"), ("2015-12-12", "2015-12-13")])
    assert out[0] == pd.Timestamp("2015-12-07")
    assert out[-1] == pd.Timestamp("2015-12-13") + pd.Timedelta(days=AFTER_DAYS)
    assert len(out) == len(pd.date_range("2015-12-07", "2015-12-18"))  # overlapping after-days counted once
    with pytest.raises(InputError, match="start ≤ end"):
        excluded_days([("2015-12-10", "2015-12-07")])


def test_features_hold_no_pollutant(city):
    daily, met = city
    X = bau_features(met.assign(pm25=daily["pm25"]))
    assert not [c for c in X.columns if "pm25" in c or "no2" in c]
    assert {"met_wspm", "met_wspm_lag1", "met_wspm_lag2", "doy_sin", "heating", "trend"} <= set(X.columns)
    assert X.loc[pd.Timestamp("2013-03-03"), "met_wspm_lag2"] == pytest.approx(met["wspm"].iloc[0])


def test_warning_days_and_five_after_are_not_learnt(city):
    daily, met = city
    period = [("2014-12-10", "2014-12-13")]
    gone = excluded_days(period)
    base = fit_bau(daily, met, period, pollutants=["pm25"], params=SMALL)
    assert base.n_train["pm25"] == len(daily) - len(gone) and base.n_excluded == len(gone)
    # halving the observations of the excluded days changes nothing: the model never saw them
    halved = daily.copy()
    halved.loc[halved["date"].isin(gone), "pm25"] *= 0.5
    again = fit_bau(halved, met, period, pollutants=["pm25"], params=SMALL)
    days = pd.date_range("2014-11-01", "2015-01-31")
    a, b = predict_bau(base, met, days), predict_bau(again, met, days)
    np.testing.assert_array_equal(a["pm25_p50"].to_numpy(), b["pm25_p50"].to_numpy())
    # while halving days that are trained on does change the model
    other = daily.copy()
    other.loc[other["date"].isin(gone + pd.Timedelta(days=30)), "pm25"] *= 0.5
    moved = predict_bau(fit_bau(other, met, period, pollutants=["pm25"], params=SMALL), met, days)
    assert not np.array_equal(a["pm25_p50"].to_numpy(), moved["pm25_p50"].to_numpy())


def test_quantiles_are_ordered_and_cover_held_out_days(city):
    daily, met = city
    model = fit_bau(daily, met, end="2015-02-28", params=SMALL)
    assert model.pollutants == ("pm25", "no2")
    test = daily[daily["date"] > "2015-02-28"]
    pred = predict_bau(model, met, test["date"])
    lab = [quantile_label(q) for q in model.quantiles]
    assert lab == ["p05", "p50", "p95"]
    q = pred[[f"pm25_{x}" for x in lab]].to_numpy()
    assert (np.diff(q, axis=1) >= 0).all()
    obs = test["pm25"].to_numpy()
    inside = ((obs >= q[:, 0]) & (obs <= q[:, 2])).mean()
    assert 0.7 < inside <= 1.0  # a nominal 90 % band on days the model has not seen
    corr = np.corrcoef(np.log(obs), np.log(q[:, 1]))[0, 1]
    assert corr > 0.7  # the weather explains most of it


def test_cross_fit_predicts_each_day_from_other_months(city):
    daily, met = city
    period = [("2014-01-10", "2014-01-13")]
    oof = cross_fit_bau(daily, met, period, folds=4, pollutants=["pm25"], params=SMALL)
    assert not oof["date"].isin(excluded_days(period)).any()
    months = oof["date"].dt.year * 12 + oof["date"].dt.month
    assert (oof.groupby(months)["fold"].nunique() == 1).all()  # a month is held out whole
    assert oof["pm25_p50"].notna().mean() > 0.99


def test_errors_name_what_is_wrong(city):
    daily, met = city
    with pytest.raises(InputError, match="including 0.5"):
        fit_bau(daily, met, quantiles=(0.1, 0.9))
    with pytest.raises(InputError, match="one city"):
        fit_bau(daily.assign(city=["a", "b"] * (len(daily) // 2)), met)
    with pytest.raises(InputError, match="training days"):
        fit_bau(daily.head(60), met, params=SMALL)
