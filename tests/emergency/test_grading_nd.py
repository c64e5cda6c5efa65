"""The vectorised grading (emergency.grading) agrees with the one-series engine on every series.

The engine's `find_episodes` / `mark` are the reference (table-tested in test_grading.py); here
random and boundary series of all rule sets are graded both ways, one at a time and as one array.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings as hsettings, strategies as st

from emergency.rules import load_rules
from emergency.engine import find_episodes, point_levels
from emergency.grading import episode_levels_of, mark_nd, merge_gap_points, point_levels_nd
from emergency.rules import mark

RULE_SETS = ["national-2024", "national-2019", "yangquan-example"]
# values at and around the thresholds, and NaN (never exceeds)
VALUES = st.sampled_from([50.0, 100.0, 101.0, 150.0, 151.0, 200.0, 201.0, 300.0, 301.0, 420.0, float("nan")])


def reference_episode_levels(values: np.ndarray, rules) -> np.ndarray:
    out = np.zeros(values.shape, dtype=np.int8)
    for ep in find_episodes(values, rules, 24.0):
        out[ep.start_index:ep.stop_index] = int(ep.level)
    return out


@pytest.mark.parametrize("name", RULE_SETS)
@hsettings(max_examples=300, deadline=None)
@given(series=st.lists(VALUES, min_size=1, max_size=14))
def test_episode_levels_match_find_episodes(name, series):
    rules = load_rules(name)
    v = np.asarray(series, dtype=float)
    assert np.array_equal(point_levels_nd(v, rules), point_levels(v, rules))
    assert np.array_equal(episode_levels_of(v, rules), reference_episode_levels(v, rules))
    for level, cond in rules.levels.items():
        assert np.array_equal(mark_nd(cond, v), mark(cond, v)), level


@pytest.mark.parametrize("name", RULE_SETS)
def test_many_series_at_once_equal_one_at_a_time(name):
    rules = load_rules(name)
    rng = np.random.default_rng(7)
    # lognormal AQI around 150 with day-to-day persistence: runs of every length occur
    z = np.cumsum(rng.normal(0, 0.35, size=(40, 25, 11)), axis=-1) * 0.6
    values = np.clip(150 * np.exp(z + rng.normal(0, 0.2, size=z.shape)), 10, 500)
    values[rng.random(values.shape) < 0.03] = np.nan
    got = episode_levels_of(values, rules)
    want = np.stack([[reference_episode_levels(values[i, j], rules) for j in range(values.shape[1])]
                     for i in range(values.shape[0])])
    assert np.array_equal(got, want)
    assert (got == 3).any() and (got == 1).any()  # the sample exercises red and yellow


def test_merge_gap_in_points():
    rules = load_rules("national-2024")  # merge gaps shorter than 36 h: one day
    assert merge_gap_points(rules) == 1
    assert merge_gap_points(rules, step_hours=1.0) == 35
