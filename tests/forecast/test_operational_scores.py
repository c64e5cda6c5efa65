"""Chinese operational scores (CMA rules) and the most probable level: hand-computed small cases, the
agreement with meteva's own functions (when meteva is installed), and the backtest scorecard."""
from __future__ import annotations

import importlib.util
import sys
import types

import numpy as np
import pandas as pd
import pytest

from forecast import verify as V

# ---------------------------------------------------------------------- the CMA rules, by hand


def test_cma_level_points_by_level_error():
    fc = np.array([1, 2, 3, 4, 5, 6, 1, np.nan])
    ob = np.array([1, 3, 5, 1, 6, 6, 6, 2])
    # errors 0, 1, 2, 3, 1, 0, 5, missing
    np.testing.assert_array_equal(V.cma_level_points(fc, ob), [100, 50, 25, 0, 50, 100, 0, np.nan])
    assert V.cma_level_score(fc, ob) == pytest.approx((100 + 50 + 25 + 0 + 50 + 100 + 0) / 7)
    assert np.isnan(V.cma_level_score([np.nan], [1]))


def test_cma_aqi_points_bands_and_their_bounds():
    ob = np.full(11, 100.0)
    fc = ob + np.array([0, 25, -25, 25.5, 50, -51, 100, 100.5, 150, -151, np.nan])
    np.testing.assert_array_equal(V.cma_aqi_points(fc, ob), [100, 100, 100, 80, 80, 60, 60, 30, 30, 0, np.nan])
    assert V.cma_aqi_score(fc, ob) == pytest.approx((300 + 160 + 120 + 60 + 0) / 10)


def test_forecast_level_rounds_the_aqi_up_first():
    # 50.2 is published as 51 (level 2); 300.0 is level 5, 300.1 → 301 level 6
    np.testing.assert_array_equal(V.forecast_level([50.0, 50.2, 300.0, 300.1, np.nan]), [1, 2, 5, 6, np.nan])


def test_short_range_composite_weights():
    assert V.short_range_composite({1: 80.0, 2: 60.0, 3: 50.0}) == pytest.approx(0.5 * 80 + 0.3 * 60 + 0.2 * 50)
    assert V.short_range_composite({1: 80.0, 2: 60.0, 3: 50.0, 4: 0.0}) == pytest.approx(68.0)  # D+4 not used
    assert np.isnan(V.short_range_composite({1: 80.0, 2: 60.0}))
    assert np.isnan(V.short_range_composite({1: 80.0, 2: np.nan, 3: 50.0}))


# ---------------------------------------------------------------------- most probable level


LEVELS3 = (0.25, 0.5, 0.75)


def test_level_cdf_interpolates_the_quantiles_between_0_and_500():
    # points (0, 0), (80, .25), (120, .5), (160, .75), (500, 1)
    cdf = V.level_cdf([[80.0, 120.0, 160.0]], LEVELS3)[0]
    expected = [0.25 * 50 / 80, 0.25 + 0.25 * 20 / 40, 0.5 + 0.25 * 30 / 40, 0.75 + 0.25 * 40 / 340,
                0.75 + 0.25 * 140 / 340]
    np.testing.assert_allclose(cdf, expected)
    probs = V.level_probabilities(cdf)[0]
    assert probs.sum() == pytest.approx(1)
    assert np.argmax(probs) + 1 == 3  # 0.3125 for 101–150
    # quantile levels in any order give the same CDF
    np.testing.assert_allclose(V.level_cdf([[160.0, 80.0, 120.0]], (0.75, 0.25, 0.5))[0], expected)


def test_level_cdf_uses_the_calibrated_exceedance_and_stays_monotone():
    q = [[80.0, 120.0, 160.0]]
    # P(>150) = .5, P(>200) = .1, P(>300) = .2: the isotonic calibrators disagree at 200/300
    cdf = V.level_cdf(q, LEVELS3, {150: np.array([0.5]), 200: np.array([0.1]), 300: np.array([0.2])})[0]
    # P(AQI > 200) is raised to P(AQI > 300) = 0.2, never P(AQI > 300) lowered
    np.testing.assert_allclose(cdf, [0.15625, 0.375, 0.5, 0.8, 0.8])
    np.testing.assert_allclose(V.level_probabilities(cdf)[0], [0.15625, 0.21875, 0.125, 0.3, 0.0, 0.2])
    # a calibrated P(AQI > 150) above the quantiles' P(AQI > 100) lifts the lower exceedances to it
    cdf = V.level_cdf(q, LEVELS3, {150: np.array([0.9])})[0]
    np.testing.assert_allclose(cdf[:3], [0.1, 0.1, 0.1])
    assert (np.diff(cdf) >= 0).all()
    # NaN exceedance: the interpolated value stays; NaN quantiles: no CDF
    np.testing.assert_allclose(V.level_cdf(q, LEVELS3, {150: np.array([np.nan])})[0][2], 0.6875)
    assert np.isnan(V.level_cdf([[np.nan, 120.0, 160.0]], LEVELS3)).all()


def test_most_probable_level_of_frame_rows():
    frame = pd.DataFrame({"aqi_p25": [80.0, 50, np.nan], "aqi_p50": [120.0, 50, 100], "aqi_p75": [160.0, 50, 110],
                          "p_aqi_gt_150": [np.nan, 0.8, 0], "p_aqi_gt_200": [np.nan, 0.1, 0],
                          "p_aqi_gt_300": [np.nan, 0.0, 0]})
    mode = V.most_probable_level(frame)
    # row 1: the quantiles alone (P(101–150) = 0.3125, level 3)
    assert mode[0] == 3
    # row 2: every quantile at 50 (by the quantiles P(≤50) = 0.75, level 1), but the calibrated
    # probabilities give P(≤150) = 0.2, hence P(≤50) = P(≤100) = 0.2, and P(151–200) = 0.9 − 0.2 = 0.7
    assert mode[1] == 4
    # row 3: a missing quantile, no distribution
    assert np.isnan(mode[2])
    # without quantile columns there is no most probable level
    assert np.isnan(V.most_probable_level(frame[["p_aqi_gt_150"]])).all()


def test_tie_of_levels_goes_to_the_lower_level():
    # P(≤50) = .5, P(51–100) = 0, …, P(>300) = .5: levels 1 and 6 tie
    frame = pd.DataFrame({"aqi_p50": [50.0], "p_aqi_gt_150": [0.5], "p_aqi_gt_200": [0.5], "p_aqi_gt_300": [0.5]})
    assert V.most_probable_level(frame)[0] == 1


# ---------------------------------------------------------------------- primary pollutant


LOW = {"so2": 10.0, "no2": 20.0, "co": 0.5}  # IAQI 10, 25, 13 (HJ 633-2012)


def _conc(**values):
    row = {"pm25": 20.0, "pm10": 40.0, "o3_8h": 50.0, **LOW}  # IAQI pm25 29, pm10 40, o3_8h 25
    row.update(values)
    return row


def test_primary_codes_ties_and_the_standard_by_date():
    df = pd.DataFrame([_conc(pm25=150.0),               # pm25 IAQI 200
                       _conc(pm25=75.0, pm10=150.0),     # pm25 100 = pm10 100: a tie
                       _conc(o3_8h=200.0),               # o3_8h 137
                       _conc(),                          # clean (AQI 40): still the largest IAQI, pm10
                       _conc(pm25=59.0, pm10=115.0),     # 2012: pm25 80, pm10 83 → pm10
                       _conc(pm25=59.0, pm10=115.0),     # 2026: pm25 98, pm10 97 → pm25
                       _conc(pm25=np.nan)])              # missing → unknown
    dates = ["2015-01-01"] * 4 + ["2026-02-28", "2026-03-01", "2015-01-01"]
    codes = V.primary_pollutant_codes(df, dates)
    bit = {p: 1 << i for i, p in enumerate(V.PRIMARY_POLLUTANTS)}
    assert list(codes) == [bit["pm25"], bit["pm25"] | bit["pm10"], bit["o3_8h"], bit["pm10"], bit["pm10"],
                           bit["pm25"], -1]
    assert list(V.primary_pollutant_names(codes)) == ["pm25", "pm25,pm10", "o3_8h", "pm10", "pm10", "pm25", None]


def test_primary_hit_rate_ties_and_clean_days():
    fc = ["pm25", "o3_8h", "pm25,pm10", "no2", "pm25", "pm25", "pm10", None]
    ob = ["pm25", "pm25", "pm10", "no2", "o3_8h", "pm25", "pm10", "pm10"]
    aqi = [120, 80, 60, 40, 51, 50, np.nan, 90]
    # scored: rows 1 (hit), 2 (miss), 3 (hit: pm10 of the forecast tie), 5 (miss; AQI 51 > 50);
    # left out: 4 and 6 (AQI ≤ 50, hits if counted), 7 (no AQI), 8 (no forecast)
    assert V.primary_hit_rate(fc, ob, aqi) == pytest.approx(2 / 4)
    assert V.primary_hit_rate(fc, ob, [120, 80, 60, 60, 51, 60, 60, 90]) == pytest.approx(5 / 7)
    assert np.isnan(V.primary_hit_rate(["pm25"], ["pm25"], [50]))


# ---------------------------------------------------------------------- in the score table


def _obs_days(types: str, start: str) -> pd.DataFrame:
    """Observed days of kinds P (pm25, AQI 200), O (o3_8h, 137), T (pm25 = pm10, 100), C (clean, pm10 40)."""
    kinds = {"P": (_conc(pm25=150.0), 200.0), "O": (_conc(o3_8h=200.0), 137.0),
             "T": (_conc(pm25=75.0, pm10=150.0), 100.0), "C": (_conc(), 40.0)}
    rows = [{"city": "x", "date": d, "aqi": kinds[k][1], **kinds[k][0]}
            for d, k in zip(pd.date_range(start, periods=len(types)), types)]
    return pd.DataFrame(rows)


def _clim(aqi: float = 100.0) -> pd.DataFrame:
    days = pd.date_range("2014-01-01", "2014-12-31")
    return V.climatology(pd.DataFrame({"city": "x", "date": days, "aqi": aqi}))


def test_score_table_operational_scores_by_hand():
    obs = _obs_days("POTCPP", "2015-03-01")
    issued = pd.date_range("2015-03-01", periods=5)
    rows = pd.DataFrame({"city": "x", "issued": issued, "lead_day": 1, "valid_date": issued + pd.Timedelta(days=1)})
    frame = V.attach_references(rows, obs, _clim())
    # the observed primary pollutants of the valid and the issue days, from the concentrations
    assert list(frame["obs_primary"]) == ["o3_8h", "pm25,pm10", "pm10", "pm25", "pm25"]
    assert list(frame["persistence_primary"]) == ["pm25", "o3_8h", "pm25,pm10", "pm10", "pm25"]
    assert list(frame["obs_aqi"]) == [137, 100, 40, 200, 200]
    assert frame["obs_o3_8h"].iloc[0] == 200 and frame["obs_pm25"].iloc[3] == 150
    # the model: point forecasts, quantiles all at the point, calibrated exceedances 0/1 except row 4
    point = np.array([137.0, 140, 140, 50, 400])
    frame["aqi_mean"] = point
    for q in ("aqi_p05", "aqi_p50", "aqi_p95"):
        frame[q] = point
    for t in V.EVENT_THRESHOLDS:
        frame[f"p_aqi_gt_{t}"] = (point > t).astype(float)
    frame.loc[3, ["p_aqi_gt_150", "p_aqi_gt_200", "p_aqi_gt_300"]] = [0.8, 0.1, 0.0]  # most probable: 151–200
    # forecast medians: o3_8h (hit), pm10 (hit, one of the observed tie), pm25 (clean day: not scored),
    # o3_8h (miss), pm25 = o3_8h 100 (a tie, hit by pm25)
    medians = [_conc(o3_8h=200.0, pm25=40.0), _conc(pm10=200.0, pm25=40.0), _conc(pm25=150.0),
               _conc(o3_8h=200.0, pm25=40.0), _conc(pm25=75.0, o3_8h=160.0)]
    for p in V.PRIMARY_POLLUTANTS:
        frame[f"{p}_p50"] = [m[p] for m in medians]
    s = V.score_table(frame).set_index(["lead_day", "metric", "model"])["value"]
    # AQI value: errors 0, 40, 100, 150, 200 → 100, 80, 60, 30, 0
    assert s[(1, "cma_aqi_score", "airwarn")] == pytest.approx(54)
    # levels: forecast 3, 3, 3, 1, 6 against observed 3, 2, 1, 4, 4 → 100, 50, 25, 0, 25
    assert s[(1, "cma_level_score", "airwarn")] == pytest.approx(40)
    assert s[(1, "level_acc", "airwarn")] == pytest.approx(0.2)
    # most probable levels 3, 3, 3, 4, 6 → right twice; 100, 50, 25, 100, 25
    assert s[(1, "level_accuracy_mode", "airwarn")] == pytest.approx(0.4)
    assert s[(1, "cma_level_score_mode", "airwarn")] == pytest.approx(60)
    # persistence 200, 137, 100, 40, 200: errors 63, 37, 60, 160, 0; levels 4, 3, 2, 1, 4
    assert s[(1, "cma_aqi_score", "persistence")] == pytest.approx((60 + 80 + 60 + 0 + 100) / 5)
    assert s[(1, "cma_level_score", "persistence")] == pytest.approx((50 + 50 + 50 + 0 + 100) / 5)
    # a deterministic reference's most probable level is its point's level
    assert s[(1, "level_accuracy_mode", "persistence")] == s[(1, "level_acc", "persistence")]
    # climatology 100: errors 37, 0, 60, 100, 100
    assert s[(1, "cma_aqi_score", "climatology")] == pytest.approx((80 + 100 + 60 + 60 + 60) / 5)
    # primary pollutant on the 4 days with AQI > 50
    assert s[(1, "n_primary", "airwarn")] == 4
    assert s[(1, "primary_hit_rate", "airwarn")] == pytest.approx(3 / 4)
    assert s[(1, "primary_hit_rate", "persistence")] == pytest.approx(1 / 4)  # only P → P
    assert np.isnan(s[(1, "primary_hit_rate", "climatology")])
    # no composite without D+2 and D+3
    assert not any(m.endswith("_composite") for m in s.index.get_level_values("metric"))


def test_score_table_composite_rows():
    days = pd.date_range("2015-03-01", periods=8)
    obs = pd.DataFrame({"city": "x", "date": days, "aqi": 120.0})  # level 3 every day; no concentrations
    rows = pd.DataFrame([("x", d, L) for d in days[:5] for L in (1, 2, 3)], columns=["city", "issued", "lead_day"])
    rows["valid_date"] = rows["issued"] + pd.to_timedelta(rows["lead_day"], unit="D")
    frame = V.attach_references(rows, obs, _clim(120.0))
    assert "obs_primary" not in frame
    # D+1 exact; D+2 160 (error 40 → 80, level 4 → 50); D+3 290 (error 170 → 0, level 5 → 25)
    frame["aqi_mean"] = frame["lead_day"].map({1: 120.0, 2: 160.0, 3: 290.0})
    frame["aqi_p50"] = frame["aqi_mean"]
    for t in V.EVENT_THRESHOLDS:
        frame[f"p_aqi_gt_{t}"] = (frame["aqi_mean"] > t).astype(float)
    scores = V.score_table(frame)
    s = scores.set_index(["lead_day", "metric", "model"])["value"]
    assert [s[(L, "cma_level_score", "airwarn")] for L in (1, 2, 3)] == [100, 50, 25]
    assert [s[(L, "cma_aqi_score", "airwarn")] for L in (1, 2, 3)] == [100, 80, 0]
    lead = V.COMPOSITE_LEAD_DAY
    assert s[(lead, "cma_level_score_composite", "airwarn")] == pytest.approx(0.5 * 100 + 0.3 * 50 + 0.2 * 25)
    assert s[(lead, "cma_aqi_score_composite", "airwarn")] == pytest.approx(0.5 * 100 + 0.3 * 80)
    assert s[(lead, "cma_level_score_mode_composite", "airwarn")] == pytest.approx(70)
    assert s[(lead, "cma_level_score_composite", "persistence")] == 100  # persistence is exact here
    assert set(scores["lead_day"]) == {1, 2, 3}  # the composite rows keep the table's leads
    assert "primary_hit_rate" not in set(scores["metric"])  # no observed concentrations, no primary scores
    composite = scores[scores["metric"].str.endswith("_composite")]
    assert len(composite) == 9 and set(composite["lead_day"]) == {lead}


def test_value_score_is_that_of_the_published_whole_aqi():
    """The forecast AQI is scored as it would be published, rounded up (HJ 633 rounds every AQI up):
    74.5 against 100 is 75, an error of 25 (100 points), not 25.5 (80)."""
    days = pd.date_range("2015-03-01", periods=3)
    obs = pd.DataFrame({"city": "x", "date": days, "aqi": 100.0})
    rows = pd.DataFrame({"city": "x", "issued": days[:2], "lead_day": 1, "valid_date": days[1:]})
    frame = V.attach_references(rows, obs, _clim(100.0)).assign(aqi_mean=[74.5, 125.2], aqi_p50=[74.5, 125.2])
    s = V.score_table(frame).set_index(["lead_day", "metric", "model"])["value"]
    assert s[(1, "cma_aqi_score", "airwarn")] == pytest.approx((100 + 80) / 2)  # 125.2 → 126: error 26


def test_score_table_vectorised_equals_the_single_scores():
    """score_table scores every lead, model and threshold in one ``scores`` call each; it must agree with
    the scalar functions, including rows where the model has no probability (BSS pairs)."""
    rng = np.random.default_rng(5)
    days = pd.date_range("2015-01-01", periods=120)
    aqi = np.clip(120 * np.exp(rng.normal(0, 0.6, len(days))), 15, 500)
    obs = pd.DataFrame({"city": "x", "date": days, "aqi": np.round(aqi)})
    rows = pd.DataFrame([("x", d, L) for d in days[:-3] for L in (1, 2, 3)], columns=["city", "issued", "lead_day"])
    rows["valid_date"] = rows["issued"] + pd.to_timedelta(rows["lead_day"], unit="D")
    clim = V.climatology(pd.DataFrame({"city": "x", "date": days - pd.Timedelta(days=365),
                                       "aqi": np.roll(obs["aqi"].to_numpy(), 7)}))
    frame = V.attach_references(rows, obs, clim)
    frame["aqi_mean"] = frame["obs_aqi"] * np.exp(rng.normal(0, 0.3, len(frame)))
    for q, z in ((5, -1.64), (50, 0.0), (95, 1.64)):
        frame[f"aqi_p{q:02d}"] = frame["aqi_mean"] * np.exp(0.4 * z)
    for t in V.EVENT_THRESHOLDS:
        p = 1 / (1 + np.exp(-(frame["aqi_mean"] - t) / 30))
        frame[f"p_aqi_gt_{t}"] = np.where(rng.random(len(frame)) < 0.1, np.nan, p)
    s = V.score_table(frame).set_index(["lead_day", "metric", "model"])["value"]
    for lead, g in V._scored_rows(frame).groupby("lead_day"):
        o = g["obs_aqi"].to_numpy(float)
        for name, col in (("airwarn", "aqi_mean"), ("persistence", "persistence_aqi"), ("climatology", "clim_aqi")):
            f = g[col].to_numpy(float)
            assert s[(lead, "rmse", name)] == pytest.approx(V.rmse(f, o))
            assert s[(lead, "corr", name)] == pytest.approx(V.correlation(f, o))
            assert s[(lead, "cma_aqi_score", name)] == pytest.approx(V.cma_aqi_score(np.ceil(f), o))
            assert s[(lead, "cma_level_score", name)] == pytest.approx(
                V.cma_level_score(V.forecast_level(f), V.forecast_level(o)))
        assert s[(lead, "crps", "airwarn")] == pytest.approx(
            V.crps_quantiles(g[["aqi_p05", "aqi_p50", "aqi_p95"]].to_numpy(float), [0.05, 0.5, 0.95], o))
        for t in V.EVENT_THRESHOLDS:
            event = (o > t).astype(float)
            p, c = g[f"p_aqi_gt_{t}"].to_numpy(float), g[f"clim_p_gt_{t}"].to_numpy(float)
            assert s[(lead, f"brier_{t}", "airwarn")] == pytest.approx(V.brier_score(p, event))
            assert s[(lead, f"bss_{t}", "airwarn")] == pytest.approx(V.brier_skill_score(p, event, c), nan_ok=True)
            yes = g["aqi_mean"].to_numpy(float) > t  # no decision thresholds: the point forecast
            for k, v in V.event_scores(yes.astype(float), event).items():
                assert s[(lead, f"{k}_{t}", "airwarn")] == pytest.approx(v, nan_ok=True)
        mode = V.most_probable_level(g)
        assert s[(lead, "level_accuracy_mode", "airwarn")] == pytest.approx(np.mean(mode == V.forecast_level(o)))


@pytest.mark.filterwarnings("ignore:numba is not available")
def test_crps_quantiles_matches_scores_crps_cdf_for_a_normal():
    """The quantile CRPS against ``scores``' exact CRPS of a normal CDF (the reference that replaces
    properscoring's ``crps_gaussian``)."""
    import xarray as xr
    from scipy import stats
    from scores.probability import crps_cdf

    levels = np.linspace(0.005, 0.995, 199)
    q = stats.norm.ppf(levels, loc=100, scale=20)[None, :]
    x = np.linspace(0, 200, 4001)
    cdf = xr.DataArray(stats.norm.cdf(x, loc=100, scale=20), dims="threshold", coords={"threshold": x})
    exact = float(crps_cdf(cdf, xr.DataArray(130.0))["total"])
    assert exact == pytest.approx(20 * (1.5 * (2 * stats.norm.cdf(1.5) - 1) + 2 * stats.norm.pdf(1.5)
                                        - 1 / np.sqrt(np.pi)), rel=1e-3)  # Gneiting & Raftery's closed form
    assert V.crps_quantiles(q, levels, np.array([130.0])) == pytest.approx(exact, rel=0.03)


# ---------------------------------------------------------------------- meteva's own functions


def _meteva_environment():
    """meteva's ``product/regulation/environment.py``, or skip. meteva 1.9.6.2 does not import on a
    case-sensitive file system (``meteva.method`` imports ``vector``, the wheel ships ``Vector``), so the
    file is loaded alone when the package is installed but its import fails (it needs meteva only for
    ``grade_correct_rate``, not compared here)."""
    try:
        from meteva.product.regulation import environment

        return environment
    except Exception:  # noqa: BLE001 - any import failure of the heavy package
        pass
    spec = importlib.util.find_spec("meteva")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("meteva is not installed (a heavy, optional reference: pip install meteva)")
    path = f"{list(spec.submodule_search_locations)[0]}/product/regulation/environment.py"
    saved = sys.modules.get("meteva")
    sys.modules["meteva"] = types.ModuleType("meteva")
    try:
        file_spec = importlib.util.spec_from_file_location("_meteva_environment", path)
        module = importlib.util.module_from_spec(file_spec)
        file_spec.loader.exec_module(module)
    finally:
        if saved is None:
            sys.modules.pop("meteva", None)
        else:
            sys.modules["meteva"] = saved
    return module


def test_agrees_with_meteva_on_random_data():
    env = _meteva_environment()
    rng = np.random.default_rng(0)
    ob, fc = rng.integers(1, 7, 2000).astype(float), rng.integers(1, 7, 2000).astype(float)
    assert V.cma_level_score(fc, ob) == pytest.approx(env.grade_score(ob, fc))
    # primary pollutants: meteva scores one station at a time (6 flags; its column order differs, which
    # does not matter for an overlap); every case here has at least one pollutant on each side
    fo_bits = rng.integers(1, 64, 300)
    ob_bits = rng.integers(1, 64, 300)
    flags = (lambda b: ((b[:, None] >> np.arange(6)) & 1).astype(float))
    theirs = np.mean([env.AQI_primary_type_correct_rate(o, f) for o, f in zip(flags(ob_bits), flags(fo_bits))])
    assert V.primary_hit_rate(fo_bits, ob_bits, np.full(300, 100.0)) == pytest.approx(theirs)
    s1, s2, s3 = rng.uniform(0, 100, 3)
    assert V.short_range_composite({1: s1, 2: s2, 3: s3}) == pytest.approx(
        env.mean_of_AQI_comprehensive_in_short_range(s1, s2, s3))
    # meteva's AQI_value_score cannot be run on arrays (``error>25&error<=50`` binds as
    # ``error > (25 & error) <= 50``); its bands, as written, are CMA_AQI_BANDS
    assert V.CMA_AQI_BANDS == ((25, 100.0), (50, 80.0), (100, 60.0), (150, 30.0))


# ---------------------------------------------------------------------- the backtest scorecard


def test_backtest_scorecard_has_the_operational_scores(shared_data):
    from forecast import backtest as B
    from forecast import model as M
    from tests.forecast._model_fixtures import SMALL_PARAMS, coordinates, read_subset

    cities = ("阳泉", "太原", "石家庄", "邢台")
    subset = read_subset(shared_data, cities, end="2015-02-28")
    model = M.ForecastModel(name="ops", params=SMALL_PARAMS, max_rows=5_000, valid_days=60)
    model.fit(subset, coords=coordinates(shared_data, cities), until="2014-12-31")
    forecasts, scores, _ = B.run_backtest(model, subset, "2015-01-01", "2015-02-10", cities=["阳泉", "太原"],
                                          chunk_days=10, n_members=20)
    frame = B.scored_frame(model, forecasts, subset)
    assert {"obs_pm25", "obs_o3_8h", "obs_primary", "persistence_primary"} <= set(frame.columns)
    metrics = set(scores["metric"])
    assert {"level_accuracy_mode", "cma_level_score", "cma_level_score_mode", "cma_aqi_score", "primary_hit_rate",
            "n_primary", "cma_level_score_composite", "cma_level_score_mode_composite",
            "cma_aqi_score_composite"} <= metrics
    s = scores.set_index(["lead_day", "metric", "model"])["value"]
    for lead in range(1, 11):
        for metric in ("level_accuracy_mode", "primary_hit_rate"):
            for name in ("airwarn", "persistence"):
                assert 0 <= s[(lead, metric, name)] <= 1
        assert 0 <= s[(lead, "cma_aqi_score", "airwarn")] <= 100
        assert np.isnan(s[(lead, "primary_hit_rate", "climatology")])
    lead = V.COMPOSITE_LEAD_DAY
    expected = sum(w * s[(L, "cma_aqi_score", "airwarn")] for L, w in V.COMPOSITE_WEIGHTS.items())
    assert s[(lead, "cma_aqi_score_composite", "airwarn")] == pytest.approx(expected)
    assert set(scores["lead_day"]) == set(range(1, 11))
