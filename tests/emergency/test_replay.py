"""Replay of winters 2014-15 and 2015-16 on the real aqistudy data, checked against facts computed
independently here (plain pandas on the raw file, not the engine)."""
from __future__ import annotations

import pandas as pd
import pytest

from emergency.replay import DEFAULT_SEASONS, replay_files, summarize

FILE = "cn_city_daily_aqistudy/city_daily_aqi_20131202-20160131.csv.gz"


@pytest.fixture(scope="module")
def raw(request):
    shared = request.getfixturevalue("shared_data")
    df = pd.read_csv(shared / FILE)
    df = df[df["city"].isin(["阳泉", "太原"]) & (df["aqi"] > 0)]
    df["date"] = pd.to_datetime(df["date"])
    return df, shared


@pytest.fixture(scope="module")
def table(raw):
    _, shared = raw
    return replay_files([shared / FILE])


def _runs_above(series: pd.Series, threshold: float) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Runs of consecutive days with AQI > threshold, by plain iteration."""
    out, start, prev = [], None, None
    for day, v in series.items():
        if v > threshold and start is not None and (day - prev).days == 1:
            prev = day
        elif v > threshold:
            if start is not None:
                out.append((start, prev))
            start = prev = day
        else:
            if start is not None:
                out.append((start, prev))
            start = prev = None
    if start is not None:
        out.append((start, prev))
    return out


@pytest.mark.parametrize("city", ["阳泉", "太原"])
@pytest.mark.parametrize("season", list(DEFAULT_SEASONS))
def test_2019_warnings_are_the_merged_runs_above_200(raw, table, city, season):
    df, _ = raw
    a, b = DEFAULT_SEASONS[season]
    s = df[(df["city"] == city) & df["date"].between(a, b)].set_index("date")["aqi"].sort_index()
    # 2019: every level needs >= 2 consecutive days > 200 (no day reached 500 in these winters)
    assert s.max() < 500
    runs = [(x, y) for x, y in _runs_above(s, 200) if (y - x).days + 1 >= 2]
    merged: list[list[pd.Timestamp]] = []
    for x, y in runs:  # a gap of one day (< 36 h) merges two episodes
        if merged and (x - merged[-1][1]).days <= 2:
            merged[-1][1] = y
        else:
            merged.append([x, y])
    got = table[(table["rules"] == "national-2019") & (table["city"] == city) & (table["season"] == season)]
    assert [(r.start, r.end) for r in got.itertuples()] == [(x.date().isoformat(), y.date().isoformat()) for x, y in merged]


@pytest.mark.parametrize("city", ["阳泉", "太原"])
def test_2024_covers_every_heavy_day_and_more_than_2019(raw, table, city):
    df, _ = raw
    t24 = table[(table["rules"] == "national-2024") & (table["city"] == city)]
    t19 = table[(table["rules"] == "national-2019") & (table["city"] == city)]
    covered = set()
    for r in t24.itertuples():
        covered |= set(pd.date_range(r.start, r.end))
    for season, (a, b) in DEFAULT_SEASONS.items():
        s = df[(df["city"] == city) & df["date"].between(a, b)]
        heavy = set(s.loc[s["aqi"] > 200, "date"])
        assert heavy <= covered, f"{city} {season}: heavy days outside 2024 warnings: {sorted(heavy - covered)[:5]}"
    assert t24["days"].sum() > t19["days"].sum()
    # a red 2024 episode needs a day > 300 inside it
    for r in t24[t24["level"] == "red"].itertuples():
        s = df[(df["city"] == city) & df["date"].between(r.start, r.end)]
        assert s["aqi"].max() > 300


def test_known_episode_yangquan_october_2014(raw, table):
    df, _ = raw
    s = df[(df["city"] == "阳泉") & df["date"].between("2014-10-07", "2014-10-12")].set_index("date")["aqi"]
    # raw values: three or more consecutive days > 200 with one > 300 in 8-11 October 2014
    assert (s.loc["2014-10-08":"2014-10-10"] > 200).all() and s.max() > 300
    row = table[(table["rules"] == "national-2024") & (table["city"] == "阳泉") & (table["start"] == "2014-10-08")]
    assert row["level"].tolist() == ["red"]
    summary = summarize(table)
    assert set(summary["season"]) == {"2014-15", "2015-16"}
