"""Warning events as the pages score them: the recorded backtest's event scores and events, and the
archive of daily recommendations scored live against the observations (:mod:`emergency.events`).
"""
from __future__ import annotations

import datetime as dt
import functools
import json
from pathlib import Path

import numpy as np
import pandas as pd

from airwarn.core.errors import AirwarnError
from airwarn.core.products import RECOMMENDATION_JSON, product_days, product_path
from airwarn.core.settings import Settings
from dashboard.services.context import rules, settings, stamp
from dashboard.services.observations import observation_key, read_all
from dashboard.services.scores import model_card, read_csv, scored_model_label
from emergency.events import level_code, observed_episodes, verify_events
from emergency.rules import load_rules

#: Days of the archive of daily recommendations scored as events on the 会商 page.
LIVE_EVENT_DAYS = 365
#: Date columns of an event table.
_EVENT_DATES = ("observed_start", "observed_end", "first_issued", "run_start", "run_end")


def backtest_source(s: Settings | None = None) -> dict | None:
    """Which recorded backtest the warning-event scores come from (``card.json`` → ``backtest``):
    ``model`` (the scored model), ``period`` (first, last issue day), ``cities`` (list or None),
    ``rules`` (version of the rule set), ``files`` (the ``backtest.events`` entry), ``model_label``,
    ``rules_label``; None when the model folder has no event scores recorded (``airwarn backtest
    --record-in``)."""
    s = s or settings()
    card = model_card(s)
    bt = card.get("backtest") or {}
    events = bt.get("events") or {}
    if not events:
        return None
    cities = bt.get("cities")
    return {"model": bt.get("scored_model") or card.get("name") or Path(s.model_dir).name,
            "period": list(bt.get("period") or []), "cities": cities if isinstance(cities, list) else None,
            "rules": events.get("rules", ""), "files": events, "model_label": scored_model_label(card),
            "rules_label": rules_label(events.get("rules", ""))}


def rules_label(version: str) -> str:
    """A rule set as the pages name it: its Chinese title (``national-2024@2024-01-31`` → 重点区域…（2024）)."""
    if not version:
        return ""
    try:
        return load_rules(version.split("@", 1)[0]).title
    except (AirwarnError, KeyError, ValueError, FileNotFoundError):
        return "已停用的分级规则"


def _events_file(key: str, s: Settings) -> Path | None:
    src = backtest_source(s)
    name = (src or {}).get("files", {}).get(f"{key}_file")
    if not name:
        return None
    path = Path(s.model_dir) / name
    return path if path.exists() else None


def event_scorecard(city: str | None = None, s: Settings | None = None) -> dict | None:
    """The warning-event scores of the recorded backtest (:mod:`emergency.events`).

    Returns
    -------
    dict or None
        ``region``: ``model, metric, value, lo, hi`` of all the backtest's cities (``event_scores.csv``;
        models airwarn, median, persistence and the paired differences ``airwarn-minus-…``);
        ``city``: the same columns for ``city`` alone from the by-city file (``lo``/``hi`` NaN: the
        by-city scores have no intervals), or None when that file does not have the city;
        ``source``: :func:`backtest_source`. None when no event scores are recorded.
    """
    s = s or settings()
    src = backtest_source(s)
    path = _events_file("event_scores", s)
    if src is None or path is None:
        return None
    own = None
    by_city = _events_file("event_scores_by_city", s)
    if city and by_city is not None:
        table = read_csv(by_city)
        table = table[table["city"] == city]
        if len(table):
            own = table.drop(columns="city").assign(lo=np.nan, hi=np.nan).reset_index(drop=True)
    return {"region": read_csv(path).copy(), "city": own, "source": src}


def backtest_warning_events(city: str, s: Settings | None = None) -> pd.DataFrame | None:
    """The recorded backtest's warning events of ``city`` for the product's decision
    (``warning_events.csv``, ``decision == "probability"``): :data:`emergency.events.EVENT_COLUMNS`,
    dates as Timestamps; empty when the city was not in the backtest; None when no events are recorded."""
    s = s or settings()
    path = _events_file("warning_events", s)
    if path is None:
        return None
    ev = read_csv(path)
    ev = ev[(ev["decision"] == "probability") & (ev["city"] == city)].copy()
    for c in _EVENT_DATES:
        ev[c] = pd.to_datetime(ev[c])
    return ev.reset_index(drop=True)


def _recommendation_sources(s: Settings, days: int) -> tuple:
    """``(path, day, stamp)`` of the archived ``recommendation.json`` files of the ``days`` days up to the
    newest one."""
    found = product_days(s.output_dir, RECOMMENDATION_JSON)
    if not found:
        return ()
    first = found[-1] - dt.timedelta(days=days - 1)
    out = []
    for day in (d for d in found if d >= first):
        path = product_path(s.output_dir, day, RECOMMENDATION_JSON)
        out.append((str(path), day.isoformat(), stamp(path)))
    return tuple(out)


@functools.lru_cache(maxsize=4)
def _assemble_recommendations(sources: tuple) -> pd.DataFrame:
    """``city, issued, level, start, end`` of the archived recommendations (issued = the product day)."""
    rows = []
    for path, day, _ in sources:
        try:
            doc = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        rows.append({"city": str(doc.get("city", "")), "issued": day, "level": str(doc.get("level") or "none"),
                     "start": doc.get("start"), "end": doc.get("end")})
    return pd.DataFrame(rows, columns=["city", "issued", "level", "start", "end"])


def live_events(city: str, s: Settings | None = None, days: int = LIVE_EVENT_DAYS) -> dict | None:
    """The archived daily recommendations of ``city`` scored as warning events against the observations.

    The recommendations are ``<output_dir>/<date>/recommendation.json`` of the ``days`` days up to the
    newest (one per product day, the day it was made counting as its issue day); the observations
    those of the ``observations`` setting. Episodes and events use
    :func:`emergency.events.observed_episodes` and :func:`emergency.events.verify_events`, the
    definitions of the backtest, on the issue days of the archive. A recommended run that overlaps no
    observed episode but whose period goes beyond the last observed day is not yet decided: it is
    counted apart (``pending``), not as a false alarm.

    Returns
    -------
    dict or None
        ``first``, ``last`` (scored issue days), ``n_days`` (recommendations), ``observed_through``
        (last observed day or None), ``counts`` (``episodes, hits, misses, level_right, runs,
        false_alarms, pending``), ``events`` (the event table, dates as Timestamps). None when the
        archive has no recommendation for ``city``.
    """
    s = s or settings()
    sources = _recommendation_sources(s, days)
    if not (_assemble_recommendations(sources)["city"] == city).any():
        return None
    return _live_events(city, s.rules, sources, observation_key(s), str(s.stations) if s.stations else None)


@functools.lru_cache(maxsize=8)
def _live_events(city: str, rule_set: str, sources: tuple, obs_key: tuple, stations: str | None) -> dict:
    """:func:`live_events`, cached on the files' (path, mtime, size)."""
    recs = _assemble_recommendations(sources)
    recs = recs[recs["city"] == city].copy()
    for c in ("issued", "start", "end"):
        recs[c] = pd.to_datetime(recs[c], errors="coerce")
    first, last = recs["issued"].min(), recs["issued"].max()
    obs = read_all(obs_key, stations)
    obs = obs[obs["city"] == city][["city", "date", "aqi"]]
    through = obs.dropna(subset=["aqi"])["date"].max() if len(obs) else pd.NaT
    episodes = observed_episodes(obs, rules(rule_set), [city], first - pd.Timedelta(days=30),
                                 last + pd.Timedelta(days=15))
    tally = verify_events(recs, episodes, first, last, decision="probability")
    ev = tally.events.copy()
    for c in _EVENT_DATES:
        ev[c] = pd.to_datetime(ev[c].where(ev[c] != ""), errors="coerce")
    pending = (ev["kind"] == "false_alarm") & (pd.isna(through) | (ev["run_end"] > through))
    ev.loc[pending, "kind"] = "pending"
    hits = ev[ev["kind"] == "hit"]
    level_right = int(sum(level_code(w) >= level_code(o) for w, o in zip(hits["warned_level"],
                                                                          hits["observed_level"])))
    counts = {"episodes": int(tally.counts["episodes"]), "hits": int(tally.counts["hits"]),
              "misses": int(tally.counts["misses"]), "level_right": level_right,
              "runs": int(tally.counts["runs"]), "false_alarms": int((ev["kind"] == "false_alarm").sum()),
              "pending": int(pending.sum())}
    return {"first": first.date(), "last": last.date(), "n_days": int(len(recs)),
            "observed_through": None if pd.isna(through) else pd.Timestamp(through).date(),
            "counts": counts, "events": ev.reset_index(drop=True)}
