"""The probabilistic model on a small real subset: fit, predict, quantiles, probabilities, scenarios."""
from __future__ import annotations

from airwarn.core.errors import AirwarnError
import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from forecast import calibration as C
from forecast import estimator as E
from forecast import model as M
from forecast import model_store as S
from forecast import product as P
from forecast import verify as V
from tests.forecast._model_fixtures import SMALL_PARAMS, coordinates, read_subset


@pytest.fixture(scope="module")
def subset(shared_data):
    return read_subset(shared_data, end="2015-03-31")


@pytest.fixture(scope="module")
def trained(subset, shared_data, tmp_path_factory):
    m = M.ForecastModel(name="small", params=SMALL_PARAMS, max_rows=15_000, valid_days=90)
    m.fit(subset, coords=coordinates(shared_data), until="2014-12-31")
    out = m.save(tmp_path_factory.mktemp("model") / "small")
    return m, out


@pytest.fixture(scope="module")
def forecast_ds(trained, subset):
    m, _ = trained
    return m.predict(subset, issued=["2015-01-10", "2015-02-20"], cities=["阳泉", "太原", "北京"])


def test_estimator_contract():
    est = E.LogLocationScaleRegressor(n_estimators=5)
    assert est.get_params()["n_estimators"] == 5
    assert not hasattr(est, "location_")
    X = pd.DataFrame({"a": np.arange(100.0), "b": np.arange(100.0) % 7})
    with pytest.raises(ValueError, match="non-finite"):
        est.fit(X, np.r_[np.nan, np.ones(99)])
    with pytest.raises(ValueError, match="rows but y has"):
        est.fit(X, np.ones(99))
    est.fit(X, np.log1p(X["a"]))
    assert est.n_features_in_ == 2 and hasattr(est, "location_") and hasattr(est, "scale_")
    assert np.all(est.predict_scale(X) > 0)


def test_dataset_layout(forecast_ds):
    ds = forecast_ds
    assert dict(ds.sizes) == {"city": 3, "issued": 2, "lead_day": 10, "quantile": 7,
                              "member": M.N_MEMBERS, "criterion": len(P.CRITERIA)}
    assert list(ds["quantile"].values) == list(P.QUANTILES)
    for v in ("pm25", "pm10", "o3_8h", "aqi"):
        assert ds[v].dims == ("city", "issued", "lead_day", "quantile")
    assert ds["p_aqi_gt_200"].dims == ("city", "issued", "lead_day")
    assert ds["aqi_scenario"].dims == ("city", "issued", "lead_day", "member")
    assert (ds["valid_date"].sel(issued="2015-01-10", lead_day=1).values
            == np.datetime64("2015-01-11"))
    assert ds.attrs["standard"] == "HJ633-2012" and ds.attrs["Conventions"].startswith("CF")
    assert ds["pm25"].attrs["units"] == "ug m-3"


def test_quantiles_monotone_and_probabilities_bounded(forecast_ds):
    ds = forecast_ds
    for v in ("pm25", "pm10", "so2", "no2", "co", "o3_8h", "aqi"):
        d = np.diff(ds[v].values, axis=-1)
        assert np.all(d >= -1e-6), v
    for t in (150, 200, 300):
        p = ds[f"p_aqi_gt_{t}"].values
        assert np.isfinite(p).all() and (p >= 0).all() and (p <= 1).all()
    # exceedance probabilities fall with the threshold (calibrated separately, so allow a small slack)
    assert np.mean(ds["p_aqi_gt_150"].values >= ds["p_aqi_gt_300"].values - 1e-6) > 0.95
    pc = ds["p_criterion"].values
    assert ((pc >= 0) & (pc <= 1)).all()


def test_aqi_quantiles_are_the_engine_of_pollutant_quantiles(forecast_ds):
    from forecast.aqi import aqi_from_concentrations

    ds = forecast_ds
    conc = {p: ds[p].values for p in ("pm25", "pm10", "so2", "no2", "co", "o3_8h")}
    expected = aqi_from_concentrations("HJ633-2012", **conc)
    np.testing.assert_array_equal(ds["aqi"].values, expected.astype("float32"))


def test_standard_by_valid_date():
    std = P.standard_for(pd.to_datetime(["2026-02-28", "2026-03-01"]))
    assert list(std) == ["HJ633-2012", "HJ633-2026"]


def test_scenarios_consistent_with_quantiles(forecast_ds):
    ds = forecast_ds
    scen = ds["aqi_scenario"].values          # (city, issued, lead, member)
    q = ds["aqi"].values                      # (city, issued, lead, quantile)
    lo, hi = q[..., 0], q[..., -1]           # 5 % and 95 %
    below = (scen < lo[..., None]).mean()
    above = (scen > hi[..., None]).mean()
    assert 0.0 < below < 0.15 and 0.0 < above < 0.15
    med = np.median(scen, axis=-1)
    rel = np.abs(med - q[..., 3]) / np.maximum(q[..., 3], 1)
    assert np.median(rel) < 0.15
    # consecutive days co-vary in the members (copula correlation from the validation residuals)
    s = scen[0, 0]
    r = np.corrcoef(s[0], s[1])[0, 1]
    assert r > 0.2


def test_criterion_met_runs():
    aqi = np.array([[160, 210, 220, 140, 310, 100, 90, 90, 90, 90],
                    [120, 120, 120, 120, 120, 120, 120, 120, 120, 120.0]])
    assert list(C.criterion_met(aqi, P.Criterion("x", 200, 2))) == [True, False]
    assert list(C.criterion_met(aqi, P.Criterion("x", 200, 3))) == [False, False]
    assert list(C.criterion_met(aqi, P.Criterion("x", 150, 3))) == [True, False]
    assert list(C.criterion_met(aqi, P.Criterion("x", 300, 1))) == [True, False]


def test_exceedance_probability_interpolates():
    levels = np.array([0.1, 0.5, 0.9])
    grid = np.array([[100.0, 200.0, 300.0]])
    assert C.exceedance_probability(grid, 200.0, levels)[0] == pytest.approx(0.5)
    assert C.exceedance_probability(grid, 250.0, levels)[0] == pytest.approx(0.3)
    assert C.exceedance_probability(grid, 50.0, levels)[0] == pytest.approx(0.95)


def test_best_threshold_maximises_threat_score():
    p = np.array([0.9, 0.8, 0.6, 0.3, 0.2, 0.1, 0.05])
    o = np.array([1, 1, 0, 1, 0, 0, 0.0])
    # ≥ 0.3 → 3 hits, 1 false alarm (TS 0.75); ≥ 0.8 → 2 hits, 1 miss (TS 0.667)
    assert 0.2 < C.best_threshold(p, o) <= 0.3
    assert C.best_threshold(p, np.zeros(7)) == 0.5  # no event: the neutral 0.5


def test_neighbourhood_thresholds_pool_nearby_cities_only():
    coords = pd.DataFrame({"city": ["甲", "乙", "丙", "丁"], "lon": [113.0, 113.5, 120.0, np.nan],
                           "lat": [38.0, 38.2, 30.0, np.nan]})
    dist = __import__("forecast.features", fromlist=["x"]).distance_matrix_km(coords, ["甲", "乙", "丙", "丁"])
    # 甲 and 乙 (~50 km apart) share events forecast with low probabilities; 丙 (far) with high ones
    cities = np.array(["甲"] * 4 + ["乙"] * 4 + ["丙"] * 4 + ["丁"] * 4)
    p = np.array([0.2, 0.1, 0.05, 0.05, 0.15, 0.05, 0.05, 0.05, 0.9, 0.7, 0.6, 0.1, 0.9, 0.1, 0.1, 0.1])
    o = np.array([1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0, 1, 0, 0, 0.0])
    thr, events = C.neighbourhood_thresholds(p, o, cities, dist, fallback=0.5)
    assert list(events) == [2, 2, 2, 0]
    assert thr[0] == thr[1] and 0.1 < thr[0] <= 0.15  # pooled 甲 + 乙: both events caught, no false alarm
    assert 0.6 < thr[2] <= 0.7  # 丙 alone (>250 km away)
    assert thr[3] == 0.5  # no coordinates: the all-city fallback


def test_save_load_roundtrip_and_card(trained, subset, forecast_ds, tmp_path):
    m, folder = trained
    card = json.loads((folder / "card.json").read_text(encoding="utf-8"))
    for key in ("train_span", "validation_span", "cities", "features", "hyperparameters", "created_with",
                "validation_scores", "calibration", "decision_thresholds", "copula_correlation"):
        assert key in card, key
    assert card["train_span"] == ["2013-12-02", "2014-12-31"]
    assert card["validation_span"][1] == "2014-12-31"
    thr = pd.read_csv(folder / "decision_thresholds.csv")
    assert list(thr.columns) == ["city", "lead_day", "threshold", "value", "events"]
    assert len(thr) == len(card["cities"]) * len(P.LEADS) * len(P.THRESHOLDS)
    assert thr["value"].between(0.05, 0.95).all()
    loaded = M.load_model(folder)
    assert np.array_equal(loaded.decision_thresholds(200, ["阳泉", "北京"]), m.decision_thresholds(200, ["阳泉", "北京"]))
    assert forecast_ds["decision_threshold_gt_200"].dims == ("city", "lead_day")
    ds = loaded.predict(subset, issued=["2015-01-10", "2015-02-20"], cities=["阳泉", "太原", "北京"])
    xr.testing.assert_allclose(ds, forecast_ds)
    # the scorecard's climatology reference travels with the model, exactly as computed from the
    # training period's observations, and is saved to the same bytes each time
    assert card["climatology"]["file"] == S.CLIMATOLOGY_FILE and S.CLIMATOLOGY_FILE in card["files"]
    want = V.climatology(subset[subset["date"] <= "2014-12-31"])
    pd.testing.assert_frame_equal(loaded.climatology_, want)
    assert sorted(want["city"].unique()) == sorted(card["cities"]) and len(want) == 366 * len(card["cities"])
    again = m.save(tmp_path / "again")
    assert (again / S.CLIMATOLOGY_FILE).read_bytes() == (folder / S.CLIMATOLOGY_FILE).read_bytes()
    assert (folder / S.CLIMATOLOGY_FILE).read_bytes()[4:8] == b"\0\0\0\0"  # no gzip time stamp
    # a model without one (trained without AQI) leaves no earlier model's file behind in the folder
    no_clim = M.load_model(again)
    no_clim.climatology_ = None
    no_clim.card_ = dict(no_clim.card_, climatology=None)
    no_clim.save(again)
    assert not (again / S.CLIMATOLOGY_FILE).exists() and M.load_model(again).climatology_ is None


def test_deterministic_files(trained, subset, tmp_path):
    m, _ = trained
    paths = []
    for k in range(2):
        ds = m.predict(subset, issued="2015-02-20", cities=["阳泉", "太原"])
        nc, csv = P.write_forecast(ds, tmp_path / f"run{k}" / "forecast.nc")
        paths.append((nc, csv))
    assert paths[0][1].read_bytes() == paths[1][1].read_bytes()
    assert paths[0][0].read_bytes() == paths[1][0].read_bytes()
    head = paths[0][1].read_text(encoding="utf-8").splitlines()[0].split(",")
    assert head[:4] == ["city", "issued", "lead_day", "valid_date"]
    assert {"aqi_p05", "aqi_p50", "aqi_p95", "p_aqi_gt_150", "p_aqi_gt_200", "p_aqi_gt_300", "pm25_p50"} <= set(head)


def test_forecast_uses_observations_up_to_issue_day_only(trained, subset):
    m, _ = trained
    a = m.predict(subset, issued="2015-01-10", cities=["阳泉"])
    later = subset.copy()
    later.loc[later["date"] > "2015-01-10", ["pm25", "pm10", "aqi"]] *= 5
    b = m.predict(later, issued="2015-01-10", cities=["阳泉"])
    xr.testing.assert_equal(a, b)


def test_unknown_city_and_missing_card(trained, subset, tmp_path):
    m, _ = trained
    with pytest.raises(AirwarnError, match="no observations for city"):
        m.predict(subset, issued="2015-01-10", cities=["不存在"])
    with pytest.raises(FileNotFoundError, match="no card.json"):
        M.load_model(tmp_path)


def test_wide_text_puts_each_row_at_its_key_and_lead():
    """The validation scenarios' primary pollutants (ValidationScenarios.primary) are laid out by
    _wide_text like the members by _to_wide_grid: row order of the keys, column = lead day − 1."""
    from forecast.model import _wide_text

    rows = [(c, d, lead) for c in ("阳泉", "太原") for d in pd.date_range("2015-01-01", periods=3)
            for lead in range(1, 11) if not (c == "太原" and lead == 7)]
    table = pd.DataFrame(rows, columns=["city", "issued", "lead_day"]).sample(frac=1.0, random_state=3)
    values = (table["city"] + "|" + table["issued"].dt.strftime("%d") + "|" + table["lead_day"].astype(str)).to_numpy()
    keys = table[["city", "issued"]].drop_duplicates().sample(frac=1.0, random_state=4).reset_index(drop=True)
    out = _wide_text(table, values, keys)
    assert out.shape == (6, 10)
    for i, (city, issued) in enumerate(keys.itertuples(index=False)):
        for lead in range(1, 11):
            expected = "" if (city == "太原" and lead == 7) else f"{city}|{issued:%d}|{lead}"
            assert out[i, lead - 1] == expected
