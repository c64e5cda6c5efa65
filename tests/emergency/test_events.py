"""Warning events (emergency.events): the definitions of verification.md §1 on hand-made cases."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from emergency.rules import load_rules
from emergency.events import (RECOMMENDATION_COLUMNS, event_scores, observed_episodes, score_decisions,
                              verify_events)

RULES = load_rules("national-2024")


def obs_series(city: str, start: str, values) -> pd.DataFrame:
    return pd.DataFrame({"city": city, "date": pd.date_range(start, periods=len(values)), "aqi": values})


def rec(city, issued, level, start=None, end=None, decision="probability"):
    return {"city": city, "issued": issued, "level": level, "start": start or "", "end": end or "",
            "p_yellow": np.nan, "p_orange": np.nan, "p_red": np.nan, "decision": decision}


# 阳泉, January 2026: an orange episode 01-05..01-06 (two days > 200), a yellow one 01-12 (one day > 200),
# a red one 01-20..01-23 (> 200 for 4 days with a day > 300); clean otherwise
VALUES = [80] * 31
VALUES[4:6] = [230, 240]
VALUES[11] = 210
VALUES[19:23] = [220, 310, 250, 230]
OBS = obs_series("阳泉", "2026-01-01", VALUES)


def test_observed_episodes_are_the_engines_episodes():
    ep = observed_episodes(OBS, RULES)
    assert [(str(r.start.date()), str(r.end.date()), r.level) for r in ep.itertuples()] == [
        ("2026-01-05", "2026-01-06", 2), ("2026-01-12", "2026-01-12", 1), ("2026-01-20", "2026-01-23", 3)]


def test_hits_misses_false_alarms_levels_and_leads():
    recs = pd.DataFrame([
        # issued 01-02 (S-3) at yellow for 01-05..01-06, again 01-03 and 01-04 at orange: one run, a hit, level right
        rec("阳泉", "2026-01-02", "yellow", "2026-01-05", "2026-01-06"),
        rec("阳泉", "2026-01-03", "orange", "2026-01-05", "2026-01-07"),
        rec("阳泉", "2026-01-04", "orange", "2026-01-05", "2026-01-06"),
        # nothing before 01-12: a miss
        rec("阳泉", "2026-01-10", "none"),
        # a warning for 01-15..01-16 that no episode overlaps: a false alarm
        rec("阳泉", "2026-01-14", "yellow", "2026-01-15", "2026-01-16"),
        # the red episode warned the day before at orange: hit, level wrong, lead 1
        rec("阳泉", "2026-01-19", "orange", "2026-01-20", "2026-01-22"),
        # a warning issued on the episode's first day does not count for it (S-3..S-1 only) but is no false alarm
        rec("阳泉", "2026-01-20", "red", "2026-01-20", "2026-01-23"),
    ])
    t = verify_events(recs, observed_episodes(OBS, RULES), "2026-01-01", "2026-01-28", decision="probability")
    c = t.counts
    assert (c["episodes"], c["hits"], c["misses"]) == (3, 2, 1)
    # runs: 01-02..01-04 (one, consecutive issue days, touching periods), 01-14, 01-19..01-20
    assert (c["runs"], c["false_alarms"]) == (3, 1)
    assert c["pod"] == pytest.approx(2 / 3) and c["far"] == pytest.approx(1 / 3)
    assert c["csi"] == pytest.approx(2 / (3 + 1))
    assert c["level_right_share"] == pytest.approx(1 / 3)
    assert c["median_lead_days"] == pytest.approx(2.0)  # leads 3 (01-02 → 01-05) and 1 (01-19 → 01-20)
    # warned days: 01-05..07, 01-15..16, 01-20..23 → 9; outside episodes: 01-07, 01-15, 01-16 → 3
    assert (c["warning_days"], c["false_warning_days"]) == (9, 3)
    ev = t.events
    assert sorted(ev["kind"]) == ["false_alarm", "hit", "hit", "miss", "run", "run"]
    red = ev[(ev["kind"] == "hit") & (ev["observed_level"] == "red")].iloc[0]
    assert (red["warned_level"], red["first_issued"], red["lead_days"]) == ("orange", "2026-01-19", 1)


def test_periods_must_overlap_and_issue_days_must_be_consecutive():
    recs = pd.DataFrame([
        rec("阳泉", "2026-01-02", "yellow", "2026-01-03", "2026-01-04"),  # ends before the episode: no hit
        rec("阳泉", "2026-01-04", "yellow", "2026-01-08", "2026-01-09"),  # a day off in between: a new run
    ])
    c = verify_events(recs, observed_episodes(OBS, RULES), "2026-01-01", "2026-01-28").counts
    assert c["hits"] == 0 and c["runs"] == 2 and c["false_alarms"] == 2


def test_level_specific_scores():
    recs = pd.DataFrame([rec("阳泉", "2026-01-04", "yellow", "2026-01-05", "2026-01-06"),
                         rec("阳泉", "2026-01-18", "orange", "2026-01-19", "2026-01-21")])
    ep = observed_episodes(OBS, RULES)
    c = verify_events(recs, ep, "2026-01-01", "2026-01-28", min_level=2).counts
    # the orange and red episodes count; the yellow warning is not an orange one
    assert (c["episodes"], c["hits"], c["runs"], c["false_alarms"]) == (2, 1, 1, 0)


def test_scored_episodes_need_an_issue_day_before_them():
    recs = pd.DataFrame([rec("阳泉", d.strftime("%Y-%m-%d"), "none") for d in pd.date_range("2026-01-06", "2026-01-28")])
    c = verify_events(recs, observed_episodes(OBS, RULES), "2026-01-06", "2026-01-28").counts
    assert c["episodes"] == 2  # 01-05 starts before the first issue day + 1


def test_event_scores_intervals_and_paired_differences():
    rng = np.random.default_rng(3)
    days = pd.date_range("2025-10-01", "2026-03-31")
    values = np.where(rng.random(len(days)) < 0.12, 260, 90)
    obs = obs_series("阳泉", days[0].strftime("%Y-%m-%d"), values)
    ep = observed_episodes(obs, RULES)
    good, bad = [], []
    for d in days[:-3]:
        nxt = d + pd.Timedelta(days=1)
        hit = obs.set_index("date").loc[nxt, "aqi"] > 200
        good.append(rec("阳泉", d.strftime("%Y-%m-%d"), "orange" if hit else "none",
                        *(2 * [nxt.strftime("%Y-%m-%d")] if hit else [None, None])))
        bad.append(rec("阳泉", d.strftime("%Y-%m-%d"), "none", decision="persistence"))
    recs = pd.DataFrame(good + bad)
    assert list(recs.columns) == list(RECOMMENDATION_COLUMNS)
    events, scores, by_city = score_decisions(recs, obs, RULES, by_city=True, n_boot=200)
    s = scores.set_index(["model", "metric"])
    assert s.loc[("airwarn", "pod"), "value"] == pytest.approx(1.0)
    assert s.loc[("persistence", "pod"), "value"] == 0.0
    lo, hi = s.loc[("airwarn-minus-persistence", "csi"), ["lo", "hi"]]
    assert 0 < lo <= hi <= 1
    assert set(by_city["model"]) == {"airwarn", "persistence"}
    assert s.loc[("airwarn", "episodes"), "value"] <= len(ep)


def test_event_scores_empty():
    assert event_scores({}).empty


def test_runs_past_the_last_observed_day_are_pending_not_false_alarms():
    recs = pd.DataFrame([rec("阳泉", "2026-01-28", "yellow", "2026-01-30", "2026-02-02"),
                         rec("阳泉", "2026-01-14", "yellow", "2026-01-15", "2026-01-16")])
    ep = observed_episodes(OBS, RULES)
    t = verify_events(recs, ep, "2026-01-01", "2026-01-30", observed_until={"阳泉": "2026-01-31"})
    assert (t.counts["runs"], t.counts["false_alarms"]) == (1, 1)
    assert sorted(t.events["kind"]) == ["false_alarm", "miss", "miss", "miss", "pending"]
    # without knowing where the data end, it is a false alarm like any other
    assert verify_events(recs, ep, "2026-01-01", "2026-01-30").counts["false_alarms"] == 2


def test_a_run_chains_each_period_to_the_previous_one():
    # 01-14: 01-16..01-25; 01-15: 01-17..01-18; 01-16: 01-24..01-25 (touches the first period, not the second)
    recs = pd.DataFrame([rec("阳泉", "2026-01-14", "yellow", "2026-01-16", "2026-01-25"),
                         rec("阳泉", "2026-01-15", "yellow", "2026-01-17", "2026-01-18"),
                         rec("阳泉", "2026-01-16", "yellow", "2026-01-24", "2026-01-25")])
    c = verify_events(recs, observed_episodes(OBS, RULES), "2026-01-01", "2026-01-28").counts
    assert c["runs"] == 2


def test_bad_recommendations_are_named_and_empty_ones_score_nothing():
    ep = observed_episodes(OBS, RULES)
    empty = pd.DataFrame(columns=list(RECOMMENDATION_COLUMNS))
    c = verify_events(empty, ep, "2026-01-01", "2026-01-28").counts
    assert (c["episodes"], c["hits"], c["runs"]) == (3, 0, 0)
    bad = pd.DataFrame([rec("阳泉", "2026-01-03", "橙色预警", None, "2026-01-06")])
    with pytest.raises(ValueError, match=r"row 0: 阳泉 issued 2026-01-03 at 橙色预警: expected a period"):
        verify_events(bad, ep, "2026-01-01", "2026-01-28")
    chinese = pd.DataFrame([rec("阳泉", "2026-01-03", "橙色预警", "2026-01-05", "2026-01-06")])
    assert verify_events(chinese, ep, "2026-01-01", "2026-01-28").counts["hits"] == 1
