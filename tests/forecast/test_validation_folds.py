"""Where the calibration's held-out forecasts come from: the last fold, or blocks cross-fitted over the period."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from forecast import calibration as C
from forecast import estimator as E
from forecast import model as M
from forecast import product as P
from tests.forecast._model_fixtures import SMALL_PARAMS, coordinates, read_subset


def _rows(start="2013-12-02", until="2014-12-31"):
    start, until = pd.Timestamp(start), pd.Timestamp(until)
    days = pd.date_range(start, until, freq="D").to_numpy()
    issued = np.repeat(days, len(P.LEADS))
    valid = issued + np.tile(np.array(P.LEADS), len(days)).astype("timedelta64[D]")
    return issued, valid, valid <= until.to_datetime64(), start, until


def test_blocked_folds_hold_out_every_row_once_and_never_train_on_its_valid_days():
    issued, valid, in_period, start, until = _rows()
    folds = C.validation_folds(issued, valid, in_period, start, until, "blocked", n_folds=4)
    assert len(folds) == 4
    held_count = np.sum([h for _, h in folds], axis=0)
    assert np.array_equal(held_count, in_period.astype(int))  # every usable row held out exactly once
    for fit, held in folds:
        assert not (fit & held).any()
        assert not (fit & ~in_period).any()
        lo, hi = valid[held].min(), valid[held].max()
        overlap = fit & (valid >= lo) & (valid <= hi)
        assert not overlap.any(), "a training row is valid on a day the held-out rows forecast"
        # blocks are contiguous spans of issue days of about equal length
        span = (issued[held].max() - issued[held].min()) // np.timedelta64(1, "D") + 1
        assert 90 <= span <= 100
        assert fit.sum() > 2 * held.sum()  # the rest of the period trains the fold


def test_last_fold_is_the_end_of_the_period():
    issued, valid, in_period, start, until = _rows()
    [(fit, held)] = C.validation_folds(issued, valid, in_period, start, until, "last", valid_days=90)
    # the last 90 days (2014-10-03 → 12-31) are issue days held out; training rows are valid before them
    assert issued[held].min() == np.datetime64("2014-10-03") and valid[held].max() <= until.to_datetime64()
    assert valid[fit].max() == np.datetime64("2014-10-02")
    with pytest.raises(ValueError, match="validation scheme must be one of"):
        C.validation_folds(issued, valid, in_period, start, until, "random")


def test_residual_quantiles_need_enough_rows():
    z = np.random.default_rng(1).standard_normal(200)
    keys, table = C.residual_quantiles(z, np.repeat([1, 2], 100))
    assert list(keys) == [1, 2] and table.shape == (2, len(E.GRID_LEVELS))
    assert (np.diff(table, axis=1) >= 0).all()
    with pytest.raises(ValueError, match="only 20 held-out rows"):
        C.residual_quantiles(z[:20], np.ones(20))


@pytest.fixture(scope="module")
def blocked(shared_data, tmp_path_factory):
    subset = read_subset(shared_data, end="2015-03-31")
    m = M.ForecastModel(name="blocked", params=SMALL_PARAMS, max_rows=8_000, validation="blocked", folds=3)
    m.fit(subset, coords=coordinates(shared_data), until="2014-12-31")
    return m, m.save(tmp_path_factory.mktemp("model") / "blocked"), subset


def test_blocked_model_calibrates_on_the_whole_period(blocked):
    m, folder, subset = blocked
    val = m.validation_frame_
    issued = pd.to_datetime(val["issued"])
    # held-out forecasts from every season, not only the last months
    assert issued.min() == pd.Timestamp("2013-12-02") and issued.max() == pd.Timestamp("2014-12-30")
    assert set(issued.dt.month) == set(range(1, 13))
    assert val["p_aqi_gt_200"].between(0, 1).all()
    card = json.loads((folder / "card.json").read_text(encoding="utf-8"))
    assert card["hyperparameters"]["validation"] == "blocked" and card["hyperparameters"]["folds"] == 3
    assert card["validation_span"] == ["2013-12-02", "2014-12-31"]
    # the final boosters are fitted on the whole period and predict with the pooled residual quantiles
    loaded = M.load_model(folder)
    assert loaded.validation == "blocked"
    ds = loaded.predict(subset, issued="2015-02-20", cities=["阳泉", "北京"])
    q = ds["aqi"].values
    assert np.isfinite(q).all() and (np.diff(q, axis=-1) >= 0).all()
    assert ((ds["p_aqi_gt_200"] >= 0) & (ds["p_aqi_gt_200"] <= 1)).all()


def test_blocked_needs_a_long_enough_period(shared_data):
    subset = read_subset(shared_data, end="2014-03-31")
    m = M.ForecastModel(params=SMALL_PARAMS, validation="blocked", folds=5)
    with pytest.raises(ValueError, match="too short for 5 validation blocks"):
        m.fit(subset, until="2014-03-31")


def test_validation_events_count_distinct_city_days():
    table = pd.DataFrame({"city": ["阳泉", "阳泉", "阳泉", "太原"],
                          "valid_date": pd.to_datetime(["2015-01-02", "2015-01-02", "2015-01-03", "2015-01-02"])})
    ev = C.validation_events(table, np.array([250.0, 250.0, np.nan, 120.0]))
    assert ev == {"city_days": 2, "150": 1, "200": 1, "300": 0}


def test_a_summer_validation_fold_warns(shared_data):
    subset = read_subset(shared_data, end="2014-09-30")
    m = M.ForecastModel(params=SMALL_PARAMS, max_rows=4_000, valid_days=90)
    with pytest.warns(C.CalibrationWarning, match="city-days above AQI 200"):
        m.fit(subset, coords=coordinates(shared_data), until="2014-09-30")
    ev = m.validation_events_
    assert ev["share_200"] < 0.5 * ev["share_200_training_period"]
    assert m.card_["validation_events"] == ev


def test_a_winter_or_blocked_validation_does_not_warn(blocked, shared_data):
    import warnings

    m, _, _ = blocked
    assert m.validation_events_["share_200"] == pytest.approx(m.validation_events_["share_200_training_period"],
                                                               rel=0.1)
    subset = read_subset(shared_data, end="2014-12-31")
    with warnings.catch_warnings():
        warnings.simplefilter("error", C.CalibrationWarning)
        M.ForecastModel(params=SMALL_PARAMS, max_rows=4_000, valid_days=90).fit(
            subset, coords=coordinates(shared_data), until="2014-12-31")
