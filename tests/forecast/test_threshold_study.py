"""The decision-rule study: held-out contingency counts add up, and the rules differ where they should."""
from __future__ import annotations

import numpy as np
import pandas as pd

from forecast.threshold_study import RULES, compare_rules, report


def test_compare_rules_counts_every_held_out_row_once():
    rng = np.random.default_rng(0)
    cities = ["甲", "乙", "丙"]
    coords = pd.DataFrame({"city": cities, "lon": [113.0, 113.5, 121.0], "lat": [38.0, 38.2, 31.0]})
    days = pd.date_range("2014-10-02", periods=56)
    obs = pd.DataFrame([(c, d, a) for c in cities for d in pd.date_range("2014-09-01", "2014-11-30")
                        for a in [float(rng.gamma(2, 60))]], columns=["city", "date", "aqi"])
    rows = []
    for c in cities:
        for d in days:
            for lead in (1, 2):
                o = obs.loc[(obs["city"] == c) & (obs["date"] == d + pd.Timedelta(days=lead)), "aqi"].iloc[0]
                rows.append((c, d, lead, o, float(np.clip((o - 120) / 200 + rng.normal(0, 0.1), 0, 1))))
    val = pd.DataFrame(rows, columns=["city", "issued", "lead_day", "obs_aqi", "p_aqi_gt_200"])
    counts = compare_rules(val, obs, coords, 200)
    assert set(counts.index.get_level_values("rule")) == set(RULES)
    per = counts.groupby(["rule", "lead_day", "city"]).sum()
    n_rows = per["hits"] + per["false_alarms"] + per["misses"]
    events = val.assign(e=val["obs_aqi"] > 200).groupby(["lead_day", "city"])["e"].sum()
    for rule in RULES:  # every event is a hit or a miss, whatever the rule
        got = (per.loc[rule, "hits"] + per.loc[rule, "misses"]).sort_index()
        assert (got.to_numpy() == events.sort_index().to_numpy()).all()
    assert (n_rows >= 0).all()
    text = report(counts, cities=cities, city="甲")
    assert "nbhd250" in text and "甲 persistence: D+1" in text
