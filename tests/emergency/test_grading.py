"""Table-driven tests of the warning grading at its boundaries, for both national rule sets.

Each row is a forecast daily AQI series (day 1 = 2026-01-01) and the expected recommendation: level,
first and last day of the episode (1-based), and whether the below-yellow temporary-measures
condition holds. Values are chosen at the thresholds (150 / 200 / 300 exactly, and one above) and at
run lengths of exactly 24 / 48 / 72 / 96 h.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings as hsettings, strategies as st

from airwarn.core.vocab import WarningLevel
from emergency.engine import assess
from emergency.rules import load_rules
from emergency.engine import find_episodes, point_levels

N, Y, O, R = WarningLevel.NONE, WarningLevel.YELLOW, WarningLevel.ORANGE, WarningLevel.RED
DAY1 = dt.date(2026, 1, 1)


def daily(values, **extra) -> pd.DataFrame:
    return pd.DataFrame({"city": "阳泉", "valid_date": pd.date_range(DAY1, periods=len(values)),
                         "aqi": values, **extra})


def day(k: int) -> dt.date:
    return DAY1 + dt.timedelta(days=k - 1)


# (series, level, start day, end day, temporary measures)
CASES_2024 = [
    ([150, 50, 50], N, None, None, False),        # exactly 150 is not > 150
    ([151, 50, 50], N, None, None, True),         # one day > 150: temporary measures only
    ([200, 50, 50], N, None, None, True),         # exactly 200 is not > 200
    ([201, 50, 50], Y, 1, 1, False),              # one day > 200: yellow
    ([151, 151, 50], Y, 1, 2, False),             # > 150 for exactly 48 h: yellow
    ([200, 200, 50], Y, 1, 2, False),             # 200 counts as > 150
    ([151, 150, 50], N, None, None, True),        # > 150 for only 24 h
    ([151, 151, 151, 50], O, 1, 3, False),        # > 150 for exactly 72 h: orange
    ([201, 201, 50], O, 1, 2, False),             # > 200 for exactly 48 h: orange
    ([201, 200, 50], Y, 1, 2, False),             # > 200 for 24 h, > 150 for 48 h: yellow
    ([201, 201, 201, 50], O, 1, 3, False),        # 72 h > 200 without a day > 300: orange
    ([201, 201, 300, 50], O, 1, 3, False),        # exactly 300 is not > 300
    ([201, 201, 301, 50], R, 1, 3, False),        # 72 h > 200 and a day > 300: red
    ([301, 301, 50], O, 1, 2, False),             # > 300 but only 48 h > 200
    ([301, 201, 150, 201], O, 1, 4, False),       # one-day gap: merged, higher level (orange) applies
    ([100, 100, 50], N, None, None, False),       # exactly 100 is not > 100
    ([101, 101, 50], N, None, None, True),        # > 100 for 48 h: temporary measures
    ([101, 50, 50], N, None, None, False),        # > 100 for only 24 h
    ([201, 100, 201, 50], Y, 1, 3, False),        # one-day gap merges two yellow days
    ([201, 100, 100, 201], Y, 1, 1, False),       # a two-day (48 h >= 36 h) gap separates them
    ([160, 160, 140, 210, 210, 50], O, 1, 5, False),  # upgrade mid-episode: yellow then orange
]

CASES_2019 = [
    ([201, 50, 50], N, None, None, False),        # one day > 200 is not enough in 2019
    ([200, 200, 50], N, None, None, False),       # exactly 200
    ([201, 201, 50], Y, 1, 2, False),             # > 200 for exactly 48 h: yellow
    ([201, 201, 201, 50], O, 1, 3, False),        # exactly 72 h: orange
    ([201, 201, 201, 301, 50], O, 1, 4, False),   # 96 h > 200 but only 24 h > 300
    ([201, 201, 301, 300, 50], O, 1, 4, False),   # 300 is not > 300
    ([201, 201, 301, 301, 50], R, 1, 4, False),   # 96 h > 200 and 48 h > 300: red
    ([499, 50, 50], N, None, None, False),        # below 500
    ([500, 50, 50], R, 1, 1, False),              # AQI reaching 500: red
    ([151, 151, 151, 50], N, None, None, False),  # 2019 has no > 150 condition
    ([201, 201, 100, 201, 201, 50], Y, 1, 5, False),       # one-day gap: one yellow episode
    ([201, 201, 100, 201, 201, 201, 50], O, 1, 6, False),  # upgrade mid-episode: yellow then orange
    ([201, 201, 100, 100, 201, 201], Y, 1, 2, False),      # 48 h gap: separate episodes
]


@pytest.mark.parametrize("rules, cases", [("national-2024", CASES_2024), ("national-2019", CASES_2019)])
def test_grading_table(rules, cases):
    for values, level, a, b, temp in cases:
        rec = assess(daily(values), rules)
        got = (rec.level, rec.start, rec.end, rec.temporary_measures)
        want = (level, day(a) if a else None, day(b) if b else None, temp)
        assert got == want, f"{rules} {values}: got {got}, want {want}"


@pytest.mark.parametrize("rules, values, steps", [
    ("national-2024", [160, 160, 140, 210, 210, 50], [(1, Y), (4, O)]),
    ("national-2019", [201, 201, 100, 201, 201, 201, 50], [(1, Y), (4, O)]),
    ("national-2024", [160, 160, 160, 210, 210, 310, 50], [(1, O), (4, R)]),  # red only on the > 200 run
    ("national-2024", [160, 160, 160, 50], [(1, O)]),  # one run is graded as a whole: orange from day 1
])
def test_upgrade_mid_episode_steps(rules, values, steps):
    rec = assess(daily(values), rules)
    assert [(d, lvl) for d, lvl in rec.steps] == [(day(k).isoformat(), lvl) for k, lvl in steps]
    if len(steps) > 1:
        assert any("升级" in r for r in rec.reasons)


@pytest.mark.parametrize("rules", ["national-2024", "national-2019"])
@pytest.mark.parametrize("clean_days, lift", [(1, False), (2, True), (3, True)])
def test_lifting_daily(rules, clean_days, lift):
    # 24 h below the condition is not enough; 48 h (>= 36 h) is.
    rec = assess(daily([210, 210, 210] + [90] * clean_days), rules)
    assert rec.level != N
    assert rec.lift_confirmed is lift


def hourly(values) -> pd.DataFrame:
    return pd.DataFrame({"city": "阳泉", "time": pd.date_range("2026-01-01 00:00", periods=len(values), freq="h"),
                         "aqi": values})


@pytest.mark.parametrize("rules", ["national-2024", "national-2019"])
@pytest.mark.parametrize("clean_hours, lift", [(35, False), (36, True)])
def test_lifting_after_36_hours_hourly(rules, clean_hours, lift):
    # rolling 24-h AQI > 200 for 25 consecutive hourly values covers (25-1)+24 = 48 h
    rec = assess(hourly([210] * 25 + [80] * clean_hours), rules)
    assert rec.level != N
    assert rec.lift_confirmed is lift


@pytest.mark.parametrize("rules, n_hours, level", [
    # rolling 24-h windows crossing midnight: n consecutive values > 200 cover (n-1)+24 hours
    ("national-2024", 1, Y),    # 24 h > 200
    ("national-2024", 24, Y),   # 47 h: not yet 48
    ("national-2024", 25, O),   # 48 h
    ("national-2024", 48, O),   # 71 h
    ("national-2024", 49, O),   # 72 h > 200 but nothing > 300
    ("national-2019", 24, N),
    ("national-2019", 25, Y),
    ("national-2019", 49, O),
])
def test_hourly_rolling_runs(rules, n_hours, level):
    rec = assess(hourly([80] * 3 + [210] * n_hours + [80] * 40), rules)
    assert rec.level == level
    if level != N:
        # the episode starts with the first 24-h window (23 h before the first exceeding hour)
        assert rec.start == dt.datetime(2026, 1, 1, 3) - dt.timedelta(hours=23)


def test_regional_minimum_raises_level():
    rec = assess(daily([120, 130, 90]), "national-2024", regional_minimum="orange")
    assert rec.level == O and rec.regional_minimum == O
    assert rec.start == day(1)
    assert rec.probability["orange"] == 1.0
    assert any("区域预警" in r for r in rec.reasons)
    # a regional level below the local one does not lower it
    rec2 = assess(daily([201, 201, 201, 301, 50]), "national-2024", regional_minimum="yellow")
    assert rec2.level == R


def test_sensitivity_names_the_smallest_change():
    rec = assess(daily([120, 160, 188, 100, 100]), "national-2024")
    assert rec.level == Y
    texts = [s.text for s in rec.sensitivity]
    assert texts[0].startswith("若第1天(2026-01-01)AQI为151而非120,预警级别变为橙色预警"), texts
    down = [s for s in rec.sensitivity if s.level_to == N and s.day is not None]
    assert down and down[0].day == 1 and down[0].aqi_to == 150  # day 2: 160 -> 150 breaks the 48 h run
    # every single-day suggestion really changes the level
    for s in rec.sensitivity:
        if s.day is not None:
            v = list(rec.aqi)
            v[s.day] = s.aqi_to
            assert assess(daily(v)).level == s.level_to


def test_city_override_extends_national():
    base, city = load_rules("national-2024"), load_rules("yangquan-example")
    assert city.extends == "national-2024"
    assert city.levels[O] == base.levels[O]
    assert city.target(Y, "so2") == city.target(Y, "vocs") == 0.12 and city.target(O, "so2") == 0.20
    series = daily([141, 145, 149, 90, 90])  # > 140 for 72 h: yellow only in the example override
    assert assess(series, base).level == N
    assert assess(series, city).level == Y


@hsettings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 520), min_size=1, max_size=10), st.integers(0, 9), st.integers(1, 200))
def test_raising_a_value_never_lowers_the_level(values, i, bump):
    rules = load_rules("national-2024")
    v = np.array(values, dtype=float)
    w = v.copy()
    w[i % len(v)] += bump
    for r in (rules, load_rules("national-2019")):
        assert point_levels(w, r).max(initial=0) >= point_levels(v, r).max(initial=0)


def test_episodes_merge_only_short_gaps():
    r = load_rules("national-2024")
    eps = find_episodes(np.array([201, 50, 201, 50, 50, 201.0]), r)
    assert [(e.start_index, e.stop_index, e.level) for e in eps] == [(0, 3, Y), (5, 6, Y)]
    assert eps[0].lift_confirmed and not eps[1].lift_confirmed
