"""Warnings verified as events: observed episodes against recommended runs.

Definitions (``shared/docs/verification.md`` §1, applied exactly; an independent evaluation of a
later year scores ``recommendations.csv`` with the same ones):

* **Observed episodes** are the episodes the rule set finds on the *observed* daily AQI series of a
  city (the same marks, merging of short gaps and levels as :func:`emergency.engine.find_episodes`
  grades a forecast; computed by :mod:`emergency.grading`). A missing day never exceeds a threshold.
* A **recommendation** of issue day D: a level (none/yellow/orange/red) and a period (start, end).
* **Hit**: an observed episode starting on S is hit when a recommendation issued on S−3 … S−1 has a
  level ≥ yellow and a period overlapping the episode. **Level right**: the highest such level ≥ the
  episode's level. **Lead** = S − the first issue day among those recommendations.
* **Recommended run**: consecutive recommendations (issue days D, D+1, …) ≥ yellow, each period
  touching or overlapping the previous one's; a **false alarm** is a run that overlaps no observed
  episode. A run that overlaps none but whose period reaches past the last observed day cannot be
  verified yet: it is *pending*, neither a run nor a false alarm (the end of a data set, or today).
* POD = hits / episodes; FAR = false alarms / runs; CSI = hits / (hits + misses + false alarms);
  level-right share = level-right hits / episodes.

Scored episodes are those starting on S with S − 1 among the scored issue days (so that at least the
D+1 recommendation could catch them); every observed episode, whenever it started, can make a
recommended run not a false alarm. With ``min_level`` above yellow the same scores are computed for
the event "a warning of that level or higher": episodes of at least that level, recommendations of at
least that level, and runs that overlap no episode of at least that level are false alarms; that is
the score each level's probability threshold is chosen on (:mod:`emergency.decision`).

``warning_events.csv`` lists every scored episode (``hit`` or ``miss``) and every recommended run
(``false_alarm``, ``run`` when it overlaps an observed episode, ``pending`` when it cannot be verified
yet), so a timeline can draw both. Only recommendations issued on the scored issue days count.

Two more counts describe the cost: ``warning_days`` are the distinct city-days inside the periods of
the recommended runs, ``false_warning_days`` those of them inside no observed episode.

Intervals: a circular block bootstrap over calendar days (:func:`forecast.verify.block_bootstrap_counts`,
10-day blocks), each episode counted on its start day and each run on its first issue day, the same
replicates for every decision (paired differences).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from emergency.grading import episode_levels_of
from emergency.rules import RuleSet, runs
from airwarn.core.errors import InputError

#: Issue days before an episode's start on which a recommendation can catch it (S−3 … S−1).
HIT_LEADS: tuple[int, ...] = (1, 2, 3)
#: Columns of ``recommendations.csv`` (pinned: the independent evaluation reads them).
RECOMMENDATION_COLUMNS: tuple[str, ...] = ("city", "issued", "level", "start", "end", "p_yellow", "p_orange",
                                           "p_red", "decision")
#: Columns of ``warning_events.csv``.
EVENT_COLUMNS: tuple[str, ...] = ("decision", "city", "kind", "observed_start", "observed_end", "observed_level",
                                  "first_issued", "warned_level", "lead_days", "run_start", "run_end")
#: Metrics of ``event_scores.csv``.
EVENT_METRICS: tuple[str, ...] = ("episodes", "hits", "misses", "runs", "false_alarms", "pod", "far", "csi",
                                  "level_right_share", "median_lead_days", "warning_days", "false_warning_days")
#: Names of the decisions in ``event_scores.csv`` (the product's probability decision is ``airwarn``).
MODEL_NAMES: dict[str, str] = {"probability": "airwarn", "median": "median", "persistence": "persistence"}
_LEVEL_NAMES = ("none", "yellow", "orange", "red")
_DAY = np.timedelta64(1, "D")


def level_code(level) -> int:
    """0 none, 1 yellow, 2 orange, 3 red, from a name (yellow, 黄色, 黄色预警 …), a code, or empty/NaN (none)."""
    from airwarn.core.vocab import WarningLevel

    if level is None or (isinstance(level, float) and np.isnan(level)):
        return 0
    if isinstance(level, (int, np.integer, float, np.floating)):
        return int(level)
    text = str(level).strip()
    if text.lower() in ("", "nan", "none"):
        return 0
    return int(WarningLevel.parse(int(text) if text.isdigit() else text))


def _days(values) -> np.ndarray:
    """Dates as integer days since 1970-01-01 (NaT → a large negative sentinel)."""
    d = pd.to_datetime(pd.Series(values)).to_numpy("datetime64[D]")
    out = d.astype("int64")
    out[np.isnat(d)] = np.iinfo(np.int64).min // 2
    return out


def _date(day: int) -> str:
    return str(np.datetime64(int(day), "D"))


def observed_episodes(obs: pd.DataFrame, rules: RuleSet, cities: Sequence[str] | None = None,
                      start=None, end=None) -> pd.DataFrame:
    """Episodes of the observed daily AQI per city.

    Parameters
    ----------
    obs : DataFrame
        ``city, date, aqi`` (daily; other columns ignored; duplicates of a city-day averaged).
    rules : RuleSet
    cities : sequence of str, optional
        Cities to grade (default: all in ``obs``).
    start, end : date-like, optional
        Part of each series that is graded (default: all of it). Give some days of margin beyond the
        scored period: an episode's start and level depend on the days around it.

    Returns
    -------
    DataFrame
        ``city, start, end, level`` (level 1–3), one row per episode.
    """
    o = obs[["city", "date", "aqi"]].copy()
    o["city"] = o["city"].astype(str)
    o["date"] = pd.to_datetime(o["date"]).dt.normalize()
    o["aqi"] = pd.to_numeric(o["aqi"], errors="coerce")
    if cities is not None:
        o = o[o["city"].isin(list(cities))]
    if start is not None:
        o = o[o["date"] >= pd.Timestamp(start)]
    if end is not None:
        o = o[o["date"] <= pd.Timestamp(end)]
    rows = []
    for city, g in o.groupby("city", sort=True):
        s = g.groupby("date")["aqi"].mean()
        s = s.reindex(pd.date_range(s.index.min(), s.index.max(), freq="D"))
        days = s.index.to_numpy("datetime64[D]").astype("int64")
        levels = episode_levels_of(s.to_numpy(float), rules)  # = engine.find_episodes, tested
        for a, b in runs(levels > 0):
            rows.append((city, int(days[a]), int(days[b - 1]), int(levels[a])))
    out = pd.DataFrame(rows, columns=["city", "start", "end", "level"])
    out["start"] = out["start"].to_numpy().astype("datetime64[D]")
    out["end"] = out["end"].to_numpy().astype("datetime64[D]")
    return out


@dataclass
class EventTally:
    """Per-decision counts and the event table of :func:`verify_events`."""

    counts: dict
    events: pd.DataFrame
    #: per calendar day (index = day − first day): episodes, hits, level-right hits, runs, false alarms
    daily: np.ndarray
    first_day: int
    leads: np.ndarray


def _city_arrays(recs: pd.DataFrame):
    """Per city: issue day, level, start, end (ints), sorted by issue day.

    Raises
    ------
    ValueError
        A recommendation at a level ≥ yellow without a start or an end, or one that ends before it starts.
    """
    out = {}
    if recs.empty:
        return out
    issued = _days(recs["issued"])
    start = _days(recs["start"].replace("", None))
    end = _days(recs["end"].replace("", None))
    level = np.asarray([level_code(v) for v in recs["level"].tolist()], dtype=np.int8)
    missing = np.iinfo(np.int64).min // 2
    bad = (level > 0) & ((start == missing) | (end == missing) | (end < start))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        r = recs.iloc[i]
        raise InputError(f"recommendations row {i}: {r['city']} issued {r['issued']} at {r['level']}: expected a "
                         f"period start ≤ end, got start {r['start']!r}, end {r['end']!r}")
    city = recs["city"].astype(str).to_numpy()
    order = np.lexsort((issued, city))
    city, issued, start, end, level = city[order], issued[order], start[order], end[order], level[order]
    bounds = np.flatnonzero(np.r_[True, city[1:] != city[:-1], True])
    for a, b in zip(bounds[:-1], bounds[1:]):
        out[city[a]] = (issued[a:b], level[a:b], start[a:b], end[a:b])
    return out


def observed_through(obs: pd.DataFrame) -> dict[str, np.datetime64]:
    """Per city, the last day with an observed AQI: a run reaching past it cannot be verified yet."""
    o = obs.loc[pd.to_numeric(obs["aqi"], errors="coerce").notna(), ["city", "date"]]
    last = o.assign(city=o["city"].astype(str), date=pd.to_datetime(o["date"])).groupby("city")["date"].max()
    return {c: d.to_datetime64() for c, d in last.items()}


def verify_events(recs: pd.DataFrame, episodes: pd.DataFrame, first_issued, last_issued, *,
                  min_level: int = 1, decision: str = "", with_events: bool = True,
                  observed_until: "Mapping[str, object] | object | None" = None) -> EventTally:
    """Score one decision's recommendations as events (module notes).

    Parameters
    ----------
    recs : DataFrame
        ``city, issued, level, start, end`` (level a name or 0–3; start/end empty when none).
    episodes : DataFrame
        :func:`observed_episodes` of the same cities, covering the scored period and its margins.
    first_issued, last_issued : date-like
        The scored issue days.
    min_level : int
        1 (any warning), 2 (orange or higher) or 3 (red).
    decision : str
        Name written in the event table.
    with_events : bool
        Build the event table (False when only the counts are needed, as in a threshold search).
    observed_until : mapping of city to date, or a date, optional
        The last observed day (per city; :func:`observed_through`). A run that overlaps no episode but
        whose period reaches past it cannot be verified: it is *pending* (in the event table), neither a
        run nor a false alarm, and its days are not counted.
    """
    d0, d1 = int(_days([first_issued])[0]), int(_days([last_issued])[0])
    if isinstance(observed_until, Mapping):
        until_of = {str(c): int(_days([d])[0]) for c, d in observed_until.items()}
        default_until = None
    else:
        until_of = {}
        default_until = int(_days([observed_until])[0]) if observed_until is not None else None
    n_days = d1 - d0 + 2 + max(HIT_LEADS)
    daily = np.zeros((5, n_days), dtype=np.int64)
    by_city = _city_arrays(recs)
    ep = episodes[episodes["level"] >= min_level]
    ep_city = ep["city"].astype(str).to_numpy()
    ep_start = _days(ep["start"])
    ep_end = _days(ep["end"])
    ep_level = ep["level"].to_numpy(int)
    ep_rows: dict[str, np.ndarray] = {}
    for i, c in enumerate(ep_city):
        ep_rows.setdefault(c, []).append(i)
    events, leads = [], []
    hits = lr_hits = n_ep = n_runs = n_fa = 0
    warn_days = false_days = 0
    cities = sorted(set(by_city) | set(ep_rows))
    for city in cities:
        rows = np.asarray(ep_rows.get(city, []), dtype=int)
        es, ee, el = ep_start[rows], ep_end[rows], ep_level[rows]
        iss, lvl, rs, re_ = by_city.get(city, (np.zeros(0, int), np.zeros(0, np.int8), np.zeros(0, int),
                                               np.zeros(0, int)))
        on = lvl >= min_level
        # episodes: hit when a recommendation issued on S-3..S-1 is on and overlaps the episode
        scored = (es - 1 >= d0) & (es - 1 <= d1)
        scored_issue = (iss >= d0) & (iss <= d1)
        for k in np.flatnonzero(scored):
            s, e = es[k], ee[k]
            cand = on & scored_issue & (iss >= s - max(HIT_LEADS)) & (iss <= s - min(HIT_LEADS)) \
                & (rs <= e) & (re_ >= s)
            n_ep += 1
            day = s - d0
            daily[0, day] += 1
            if cand.any():
                hits += 1
                daily[1, day] += 1
                warned = int(lvl[cand].max())
                right = warned >= el[k]
                lr_hits += right
                daily[2, day] += right
                lead = int(s - iss[cand].min())
                leads.append(lead)
                if with_events:
                    events.append((decision, city, "hit", _date(s), _date(e), _LEVEL_NAMES[el[k]],
                                   _date(iss[cand].min()), _LEVEL_NAMES[warned], lead, "", ""))
            elif with_events:
                events.append((decision, city, "miss", _date(s), _date(e), _LEVEL_NAMES[el[k]], "", "", np.nan,
                               "", ""))
        # recommended runs: consecutive issue days on, each period touching or overlapping the previous one
        idx = np.flatnonzero(on & scored_issue)
        runs: list[list[int]] = []   # [first issue, last issue, span start, span end, max level, prev start, prev end]
        for i in idx:
            cur = runs[-1] if runs else None
            if cur is not None and iss[i] == cur[1] + 1 and rs[i] <= cur[6] + 1 and re_[i] >= cur[5] - 1:
                cur[1] = iss[i]
                cur[2] = min(cur[2], rs[i])
                cur[3] = max(cur[3], re_[i])
                cur[4] = max(cur[4], int(lvl[i]))
                cur[5], cur[6] = rs[i], re_[i]
            else:
                runs.append([iss[i], iss[i], rs[i], re_[i], int(lvl[i]), rs[i], re_[i]])
        covered = np.zeros(0, dtype=np.int64)
        until = until_of.get(city, default_until)
        for first, last, a, b, top, _, _ in runs:
            overlaps = ((es <= b) & (ee >= a)).any() if len(es) else False
            if not overlaps and until is not None and b > until:
                if with_events:  # not verifiable yet: its period reaches past the last observed day
                    events.append((decision, city, "pending", "", "", "", _date(first), _LEVEL_NAMES[top], np.nan,
                                   _date(a), _date(b)))
                continue
            n_runs += 1
            daily[3, first - d0] += 1
            if not overlaps:
                n_fa += 1
                daily[4, first - d0] += 1
            if with_events:
                events.append((decision, city, "run" if overlaps else "false_alarm", "", "", "", _date(first),
                               _LEVEL_NAMES[top], np.nan, _date(a), _date(b)))
            covered = np.union1d(covered, np.arange(a, min(b, until) + 1 if until is not None else b + 1))
        if covered.size:
            warn_days += covered.size
            inside = np.zeros(covered.size, dtype=bool)
            for s, e in zip(es, ee):
                inside |= (covered >= s) & (covered <= e)
            false_days += int((~inside).sum())
    counts = _ratios(n_ep, hits, lr_hits, n_runs, n_fa)
    counts.update(median_lead_days=float(np.median(leads)) if leads else float("nan"),
                  warning_days=warn_days, false_warning_days=false_days)
    table = pd.DataFrame(events, columns=list(EVENT_COLUMNS)) if with_events else pd.DataFrame(
        columns=list(EVENT_COLUMNS))
    return EventTally(counts, table, daily, d0, np.asarray(leads))


def _ratios(episodes, hits, level_right, runs, false_alarms) -> dict:
    """POD, FAR, CSI and level-right share from counts (arrays broadcast; NaN where undefined)."""
    e, h, lr, r, fa = (np.asarray(x, dtype=float) for x in (episodes, hits, level_right, runs, false_alarms))
    with np.errstate(invalid="ignore", divide="ignore"):
        pod = np.where(e > 0, h / e, np.nan)
        far = np.where(r > 0, fa / r, np.nan)
        denom = e + fa  # hits + misses + false alarms
        csi = np.where(denom > 0, h / denom, np.nan)
        lrs = np.where(e > 0, lr / e, np.nan)

    values = {"episodes": e, "hits": h, "misses": e - h, "runs": r, "false_alarms": fa,
              "pod": pod, "far": far, "csi": csi, "level_right_share": lrs}
    if all(np.ndim(v) == 0 for v in values.values()):  # one tally: plain numbers
        return {k: (int(v) if k in ("episodes", "hits", "misses", "runs", "false_alarms") else float(v))
                for k, v in values.items()}
    return values


def event_scores(tallies: Mapping[str, EventTally], *, n_boot: int = 1000, seed: int = 0,
                 alpha: float = 0.05, reference: str = "airwarn") -> pd.DataFrame:
    """The ``event_scores.csv`` table: ``model,metric,value,lo,hi`` for every decision, and the paired
    differences ``<reference>-minus-<other>`` of POD, FAR, CSI and level-right share.

    ``lo``/``hi`` are the central ``1 − alpha`` interval of a circular block bootstrap over calendar
    days (module notes); counts and day totals have no interval.
    """
    from forecast.verify import BOOTSTRAP_BLOCK_DAYS, block_bootstrap_counts

    tallies = dict(tallies)
    if not tallies:
        return pd.DataFrame(columns=["model", "metric", "value", "lo", "hi"])
    n_days = max(t.daily.shape[1] for t in tallies.values())
    weights = block_bootstrap_counts(n_days, n_boot, BOOTSTRAP_BLOCK_DAYS, seed).astype(float)  # (B, days)
    rows, reps = [], {}
    for name, t in tallies.items():
        daily = np.zeros((5, n_days))
        daily[:, :t.daily.shape[1]] = t.daily
        boot = _ratios(*(weights @ daily[i] for i in range(5)))
        reps[name] = boot
        for metric in EVENT_METRICS:
            value = t.counts[metric]
            lo = hi = np.nan
            if metric in ("pod", "far", "csi", "level_right_share"):
                lo, hi = _interval(boot[metric], alpha)
            rows.append((name, metric, value, lo, hi))
    if reference in reps:
        for name in reps:
            if name == reference:
                continue
            for metric in ("pod", "far", "csi", "level_right_share"):
                diff = reps[reference][metric] - reps[name][metric]
                value = tallies[reference].counts[metric] - tallies[name].counts[metric]
                lo, hi = _interval(diff, alpha)
                rows.append((f"{reference}-minus-{name}", metric, value, lo, hi))
    return pd.DataFrame(rows, columns=["model", "metric", "value", "lo", "hi"])


def _interval(values: np.ndarray, alpha: float) -> tuple[float, float]:
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if not v.size:
        return float("nan"), float("nan")
    return float(np.quantile(v, alpha / 2)), float(np.quantile(v, 1 - alpha / 2))


def score_decisions(recs: pd.DataFrame, obs: pd.DataFrame, rules: RuleSet, first_issued=None, last_issued=None,
                    *, by_city: bool = False, n_boot: int = 1000, seed: int = 0
                    ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """Event verification of every decision in ``recs`` against the observations.

    Parameters
    ----------
    recs : DataFrame
        :data:`RECOMMENDATION_COLUMNS` (several decisions stacked, told apart by ``decision``).
    obs : DataFrame
        ``city, date, aqi``: the observed daily AQI of the scored period and its margins.
    rules : RuleSet
    first_issued, last_issued : date-like, optional
        Scored issue days (default: the first and last in ``recs``).
    by_city : bool
        Also score each city alone (third table, with a leading ``city`` column; no intervals).

    Returns
    -------
    events, scores, scores_by_city
        ``warning_events.csv`` (:data:`EVENT_COLUMNS`), ``event_scores.csv``
        (:func:`event_scores`; the probability decision, ``airwarn``, is the reference of the paired
        differences) and, with ``by_city``, the per-city scores (``city,model,metric,value``).
    """
    issued = pd.to_datetime(recs["issued"])
    first = pd.Timestamp(first_issued) if first_issued is not None else issued.min()
    last = pd.Timestamp(last_issued) if last_issued is not None else issued.max()
    cities = sorted(recs["city"].astype(str).unique())
    episodes = observed_episodes(obs, rules, cities, first - pd.Timedelta(days=30), last + pd.Timedelta(days=15))
    tallies, tables, per_city = {}, [], []
    until = observed_through(obs)
    for decision, g in recs.groupby("decision", sort=False):
        name = MODEL_NAMES.get(str(decision), str(decision))
        t = verify_events(g, episodes, first, last, decision=str(decision), observed_until=until)
        tallies[name] = t
        tables.append(t.events)
        if by_city:
            for city, gc in g.groupby("city", sort=True):
                c = verify_events(gc, episodes[episodes["city"] == city], first, last, with_events=False,
                                  observed_until=until).counts
                per_city += [(city, name, k, c[k]) for k in EVENT_METRICS]
    events = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=list(EVENT_COLUMNS))
    scores = event_scores(tallies, n_boot=n_boot, seed=seed)
    city_table = pd.DataFrame(per_city, columns=["city", "model", "metric", "value"]) if by_city else None
    return events, scores, city_table


def record_event_scores(model_dir, paths: Mapping[str, "str | os.PathLike"], rules: RuleSet) -> None:
    """Copy a backtest's event scores into the model folder (``backtest_<name>.csv``) and name them in
    its ``card.json`` under ``backtest.events`` (the out-of-sample warning scorecard the 会商 page shows)."""
    import json
    from pathlib import Path

    from airwarn.core.files import atomic_write_text

    folder = Path(model_dir)
    card_path = folder / "card.json"
    if not card_path.exists():
        raise FileNotFoundError(f"--record-in {folder}: no card.json")
    card = json.loads(card_path.read_text(encoding="utf-8"))
    entry = {"rules": rules.version}
    for key, path in paths.items():
        name = f"backtest_{Path(path).name}"
        atomic_write_text(folder / name, Path(path).read_text(encoding="utf-8"))
        entry[f"{key}_file"] = name
    card.setdefault("backtest", {})["events"] = entry
    atomic_write_text(card_path, json.dumps(card, ensure_ascii=False, indent=1))
