"""Block-bootstrap intervals of the scores, on real observations (阳泉 and neighbours, 2014–2015)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast import verify as V
from tests.forecast._model_fixtures import read_subset

CITIES = ("阳泉", "太原", "石家庄", "邢台")


@pytest.fixture(scope="module")
def obs(shared_data):
    return read_subset(shared_data, CITIES, end="2015-12-31")


def _frame(obs: pd.DataFrame, point_of, leads=(1, 3), start="2015-01-01", end="2015-12-20") -> pd.DataFrame:
    """A backtest-like frame: issue days start…end, the given leads, the forecast ``point_of(rows)``;
    climatology from 2014 only."""
    clim = V.climatology(obs[obs["date"] <= "2014-12-31"])
    days = pd.date_range(start, end)
    rows = pd.DataFrame([(c, d, L) for c in CITIES for d in days for L in leads],
                        columns=["city", "issued", "lead_day"])
    rows["valid_date"] = rows["issued"] + pd.to_timedelta(rows["lead_day"], unit="D")
    frame = V.attach_references(rows, obs, clim)
    frame["aqi_p50"] = point_of(frame)
    for t in V.EVENT_THRESHOLDS:
        frame[f"p_aqi_gt_{t}"] = (frame["aqi_p50"] > t).astype(float) * 0.8 + 0.1
        frame[f"decision_threshold_gt_{t}"] = 0.5
    return frame


def test_counts_are_whole_resamples_of_the_days():
    c = V.block_bootstrap_counts(365, n_boot=200, block_days=10, seed=3)
    assert c.shape == (200, 365)
    assert (c.sum(axis=1) == 365).all() and (c >= 0).all()
    np.testing.assert_array_equal(c, V.block_bootstrap_counts(365, n_boot=200, block_days=10, seed=3))
    assert not np.array_equal(c, V.block_bootstrap_counts(365, n_boot=200, block_days=10, seed=4))
    # one block as long as the record: every replicate is a rotation, each day drawn exactly once
    np.testing.assert_array_equal(V.block_bootstrap_counts(50, n_boot=20, block_days=50), np.ones((20, 50)))
    with pytest.raises(ValueError, match="at least one day"):
        V.block_bootstrap_counts(0)


def test_blocks_keep_the_serial_dependence_of_daily_aqi(obs):
    """Daily AQI is autocorrelated: resampling blocks of days spreads the mean more than single days."""
    a = obs[(obs["city"] == "阳泉") & (obs["date"] >= "2015-01-01")].sort_values("date")["aqi"].to_numpy(float)
    a = a[np.isfinite(a)]
    spread = {b: (V.block_bootstrap_counts(len(a), n_boot=2000, block_days=b, seed=0) @ a / len(a)).std()
              for b in (1, 10)}
    iid = a.std() / np.sqrt(len(a))
    assert spread[1] == pytest.approx(iid, rel=0.1)
    assert spread[10] > 1.3 * spread[1]


def test_full_sample_values_are_the_score_table(obs):
    rng = np.random.default_rng(0)
    frame = _frame(obs, lambda f: 0.6 * f["persistence_aqi"] + 0.4 * f["clim_aqi"] + rng.normal(0, 10, len(f)))
    iv = V.skill_intervals(frame, n_boot=200)
    scores = V.score_table(frame).set_index(["lead_day", "metric", "model"])["value"]
    for r in iv.itertuples():
        assert r.airwarn == pytest.approx(scores[(r.lead_day, r.metric, "airwarn")], nan_ok=True)
        if not r.metric.startswith("bss"):
            assert r.reference_value == pytest.approx(scores[(r.lead_day, r.metric, r.reference)], nan_ok=True)
        ok = np.isfinite([r.airwarn_lo, r.airwarn_hi])
        if ok.all() and r.metric in ("rmse", "bss_200"):
            assert r.airwarn_lo <= r.airwarn <= r.airwarn_hi
    assert set(iv["lead_day"]) == {1, 3}
    assert set(iv.loc[iv["metric"] == "bss_200", "reference"]) == {"climatology"}
    assert set(iv.loc[iv["metric"] == "rmse", "reference"]) == {"persistence", "climatology"}


def test_the_comparison_is_paired(obs):
    """A model that *is* persistence has no advantage in any replicate, however wide its own interval."""
    iv = V.skill_intervals(_frame(obs, lambda f: f["persistence_aqi"]), n_boot=300)
    pers = iv[(iv["reference"] == "persistence") & iv["metric"].isin(["rmse", "ts_150", "ts_200"])]
    assert len(pers) == 6
    assert (pers["advantage"] == 0).all() and (pers["advantage_lo"] == 0).all() and (pers["advantage_hi"] == 0).all()
    assert (pers["share_not_worse"] == 1).all()
    rmse = pers[pers["metric"] == "rmse"]
    assert (rmse["airwarn_hi"] - rmse["airwarn_lo"] > 5).all()


def test_a_near_perfect_forecast_is_clearly_better(obs):
    rng = np.random.default_rng(1)
    iv = V.skill_intervals(_frame(obs, lambda f: f["obs_aqi"] + rng.normal(0, 5, len(f))), n_boot=300).set_index(
        ["lead_day", "metric", "reference"])
    for lead in (1, 3):
        for ref in ("persistence", "climatology"):
            r = iv.loc[(lead, "rmse", ref)]
            assert r["advantage_lo"] > 0 and r["share_not_worse"] == 1
        assert iv.loc[(lead, "ts_200", "persistence"), "advantage_lo"] > 0
        assert iv.loc[(lead, "bss_200", "climatology"), "advantage_lo"] > 0


def test_fewer_days_give_wider_intervals(obs):
    short = V.skill_intervals(_frame(obs, lambda f: f["persistence_aqi"], end="2015-02-28"), n_boot=300)
    full = V.skill_intervals(_frame(obs, lambda f: f["persistence_aqi"]), n_boot=300)
    width = {k: (t["airwarn_hi"] - t["airwarn_lo"])[t["metric"] == "rmse"].mean() for k, t in
             {"short": short, "full": full}.items()}
    assert width["short"] > width["full"]
