"""Verification metrics against hand-computed values on tiny arrays; figures."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast import verify as V


def test_continuous_scores_by_hand():
    f = np.array([100.0, 150.0, 200.0, np.nan])
    o = np.array([110.0, 140.0, 230.0, 50.0])
    assert V.rmse(f, o) == pytest.approx(np.sqrt((100 + 100 + 900) / 3))
    assert V.mae(f, o) == pytest.approx(50 / 3)
    assert V.bias(f, o) == pytest.approx((-10 + 10 - 30) / 3)
    assert V.correlation(f, o) == pytest.approx(np.corrcoef(f[:3], o[:3])[0, 1])
    # levels: 100→2, 150→3, 200→4 vs 110→3, 140→3, 230→5: one of three right
    assert V.level_accuracy(f, o) == pytest.approx(1 / 3)


def test_event_scores_by_hand():
    fc = np.array([1, 1, 1, 0, 0, 0, 0, 1])
    ob = np.array([1, 1, 0, 1, 0, 0, 0, 0])
    t = V.contingency(fc, ob)
    assert t == {"hits": 2, "misses": 1, "false_alarms": 2, "correct_negatives": 3}
    s = V.event_scores(fc, ob)
    assert s["pod"] == pytest.approx(2 / 3)
    assert s["far"] == pytest.approx(2 / 4)
    assert s["ts"] == pytest.approx(2 / 5)
    a_r = 4 * 3 / 8
    assert s["ets"] == pytest.approx((2 - a_r) / (5 - a_r))


def test_brier_and_skill_by_hand():
    p = np.array([0.9, 0.2, 0.6, 0.0])
    o = np.array([1.0, 0.0, 0.0, 0.0])
    assert V.brier_score(p, o) == pytest.approx((0.01 + 0.04 + 0.36 + 0) / 4)
    ref = 0.25
    bs_ref = (0.75 ** 2 + 3 * 0.25 ** 2) / 4
    assert V.brier_skill_score(p, o, ref) == pytest.approx(1 - 0.1025 / bs_ref)


def test_reliability_table_bins():
    p = np.array([0.05, 0.05, 0.15, 0.95, 0.95])
    o = np.array([0, 1, 0, 1, 1.0])
    t = V.reliability_table(p, o, bins=10)
    assert len(t) == 10 and t["n"].sum() == 5
    assert t.loc[0, "observed_frequency"] == pytest.approx(0.5)
    assert t.loc[9, "mean_probability"] == pytest.approx(0.95)
    assert np.isnan(t.loc[5, "mean_probability"])


def test_crps_from_quantiles_matches_properscoring_for_a_normal():
    import properscoring
    from scipy import stats

    levels = np.linspace(0.005, 0.995, 199)
    q = stats.norm.ppf(levels, loc=100, scale=20)[None, :]
    exact = properscoring.crps_gaussian(130.0, mu=100, sig=20)
    approx = V.crps_quantiles(q, levels, np.array([130.0]))
    assert approx == pytest.approx(exact, rel=0.03)


def test_climatology_window_and_scores_table():
    dates = pd.date_range("2014-01-01", "2014-12-31")
    aqi = np.where(dates.month.isin([1, 2, 12]), 250.0, 80.0)
    obs = pd.DataFrame({"city": "x", "date": dates, "aqi": aqi})
    clim = V.climatology(obs)
    jan = clim[(clim["doy"] == 15)].iloc[0]
    jul = clim[(clim["doy"] == 190)].iloc[0]
    assert jan["clim_aqi"] == pytest.approx(250) and jan["clim_p_gt_200"] == pytest.approx(1)
    assert jul["clim_aqi"] == pytest.approx(80) and jul["clim_p_gt_200"] == pytest.approx(0)
    # a tiny forecast table scored against it: the perfect forecast has zero error
    test_obs = pd.DataFrame({"city": "x", "date": pd.date_range("2015-01-01", periods=12),
                             "aqi": [100.0, 210, 220, 90, 80, 300, 310, 120, 100, 90, 80, 70]})
    rows = []
    for i in range(10):
        issued = test_obs["date"].iloc[i]
        valid = test_obs["date"].iloc[i + 1]
        rows.append({"city": "x", "issued": issued, "lead_day": 1, "valid_date": valid,
                     "aqi_p50": test_obs["aqi"].iloc[i + 1], "p_aqi_gt_150": 0.5, "p_aqi_gt_200": 0.5,
                     "p_aqi_gt_300": 0.1})
    frame = V.attach_references(pd.DataFrame(rows), test_obs, clim)
    scores = V.score_table(frame)
    get = scores.set_index(["lead_day", "metric", "model"])["value"]
    assert get[(1, "rmse", "airwarn")] == 0
    pers = frame["persistence_aqi"] - frame["obs_aqi"]
    assert get[(1, "rmse", "persistence")] == pytest.approx(np.sqrt(np.mean(pers ** 2)))
    assert get[(1, "ts_200", "airwarn")] == 1.0
    assert set(scores["model"]) == {"airwarn", "persistence", "climatology"}


def test_figures():
    scores = pd.DataFrame({"lead_day": [1, 1, 2, 2], "metric": "rmse", "model": ["airwarn", "persistence"] * 2,
                           "value": [50.0, 55, 60, 75]})
    fig = V.scorecard_figure(scores, metrics=("rmse",))
    assert len(fig.data) == 2 and fig.data[0].name == "airwarn"
    rel = V.reliability_table(np.array([0.1, 0.9, 0.5]), np.array([0, 1, 1.0]))
    fig2 = V.reliability_figure({"D+1": rel})
    assert len(fig2.data) == 2
