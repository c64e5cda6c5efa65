"""Replay past winters with the observed daily AQI as a perfect forecast.

For each rule set, city and season, the observed daily AQI series (missing days are NaN and never
exceed a threshold) is graded exactly as :func:`emergency.engine.find_episodes` grades a forecast:
runs, merging of episodes with short gaps at the higher level, and lifting after the series stays
below the yellow condition for 36 h; with ``by_pollutant=True`` a rule set's ``by_pollutant``
(national-2024) applies, only the days whose primary pollutant starts colour warnings counting
(:func:`colour_days_observed`). The result is the list of warnings the rules *would have*
issued — with hindsight of the whole season, i.e. a perfect forecast of any length.

Seasons: the autumn-winter campaign period 1 October – 31 March. 2015-16 ends on 2016-01-31 because
the shared data stop there (the rest is the hold-out).
"""
from __future__ import annotations

import os
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from emergency.engine import find_episodes
from emergency.rules import load_rules
from airwarn.core.errors import InputError, UnknownNameError

#: Seasons replayed by default: name -> (first day, last day).
DEFAULT_SEASONS: Mapping[str, tuple[str, str]] = {
    "2014-15": ("2014-10-01", "2015-03-31"),
    "2015-16": ("2015-10-01", "2016-01-31"),
}
COLUMNS = ("rules", "city", "season", "level", "start", "end", "days", "max_aqi", "steps", "lift_on",
           "missing_days")


def replay(daily: pd.DataFrame, cities: Sequence[str] = ("阳泉", "太原"),
           rules: Sequence[str] = ("national-2024", "national-2019"),
           seasons: Mapping[str, tuple[str, str]] = DEFAULT_SEASONS, by_pollutant: bool = False) -> pd.DataFrame:
    """Warnings each rule set would have issued on the observed series.

    Parameters
    ----------
    daily : DataFrame
        ``city, date, aqi`` (the layout of :func:`forecast.io.read_city_daily`).
    cities, rules : sequences of str
    seasons : mapping
        Season name -> (first day, last day), inclusive.
    by_pollutant : bool
        Apply a rule set's ``by_pollutant`` as :func:`emergency.engine.assess` does (only days whose
        primary pollutant starts colour warnings count, :func:`colour_days_observed`). Off by default:
        on the observed record the strict primary-pollutant reading leaves out mixed haze-and-dust days
        (阳泉 2014-10-09/10: PM2.5 263/300 µg/m³, PM10-led), see docs.

    Returns
    -------
    DataFrame
        One row per episode: ``rules, city, season, level, start, end, days, max_aqi, steps``
        (level changes inside the episode), ``lift_on`` (first day the warning may be lifted, or
        empty if the season ends first), ``missing_days`` (of the season, for the city).

    Raises
    ------
    KeyError
        Missing columns or a city absent from the data (the message lists the cities).
    """
    missing = [c for c in ("city", "date", "aqi") if c not in daily.columns]
    if missing:
        raise InputError(f"replay: daily data need columns ['city', 'date', 'aqi']; missing {missing}")
    known = set(daily["city"].astype(str))
    absent = [c for c in cities if c not in known]
    if absent:
        raise UnknownNameError(f"replay: no data for {absent}; cities in the data include {sorted(known)[:20]}")
    rows = []
    for rname in rules:
        rs = load_rules(rname)
        for city in cities:
            sub = daily[daily["city"].astype(str) == city].set_index(pd.to_datetime(daily.loc[daily["city"].astype(str) == city, "date"]))
            for season, (a, b) in seasons.items():
                idx = pd.date_range(a, b, freq="D")
                aqi = sub["aqi"].reindex(idx).to_numpy(dtype=float)
                n_missing = int(np.isnan(aqi).sum())
                colour = colour_days_observed(sub, rs, idx) if by_pollutant else None
                graded = aqi if colour is None else np.where(colour, aqi, np.nan)
                for ep in find_episodes(graded, rs):
                    steps = "; ".join(f"{idx[i].date()} {lvl.key}" for i, lvl in ep.steps())
                    lift = idx[ep.stop_index].date().isoformat() if (ep.lift_confirmed and ep.stop_index < len(idx)) else ""
                    rows.append({"rules": rs.name, "city": city, "season": season, "level": ep.level.key,
                                 "start": idx[ep.start_index].date().isoformat(),
                                 "end": idx[ep.stop_index - 1].date().isoformat(),
                                 "days": ep.stop_index - ep.start_index,
                                 "max_aqi": float(np.nanmax(graded[ep.start_index:ep.stop_index])),
                                 "steps": steps, "lift_on": lift, "missing_days": n_missing})
    return pd.DataFrame(rows, columns=list(COLUMNS))


def colour_days_observed(sub: pd.DataFrame, rules, idx: pd.DatetimeIndex) -> np.ndarray | None:
    """Which days of ``idx`` count toward the colour levels under the rule set's ``by_pollutant``.

    The observed day's primary pollutant is the data's ``primary_pollutant`` column, else the AQI
    engine (:func:`forecast.aqi.primary_pollutants`) on its daily concentrations; a day counts as
    :meth:`emergency.rules.RuleSet.counts_for_colour` says (an unknown primary pollutant counts), as
    :func:`emergency.engine.assess` grades a forecast. None when every day counts (no ``by_pollutant``,
    or neither the column nor any concentration in the data).

    Parameters
    ----------
    sub : DataFrame
        One city's daily rows, indexed by date.
    rules : RuleSet
    idx : DatetimeIndex
        The days graded.
    """
    from airwarn.core.vocab import DAILY_POLLUTANTS
    from forecast.aqi import primary_pollutants

    if rules.colour_pollutants is None:
        return None
    if "primary_pollutant" in sub.columns:
        names = sub["primary_pollutant"]
    else:
        pols = [p for p in DAILY_POLLUTANTS if p in sub.columns]
        if not pols:
            return None
        conc = {p: sub[p].to_numpy(dtype=float) for p in pols}
        names = pd.Series(primary_pollutants(conc, dates=sub.index.values), index=sub.index)
    names = names[~names.index.duplicated(keep="last")].reindex(idx)
    names = names.where(names.notna(), "").astype(str)
    return np.array([rules.counts_for_colour(p) for p in names], dtype=bool)


def summarize(table: pd.DataFrame) -> pd.DataFrame:
    """Count of warnings per level and warning days, per rule set, city and season."""
    if table.empty:
        return pd.DataFrame(columns=["rules", "city", "season", "yellow", "orange", "red", "warnings", "warning_days"])
    counts = table.pivot_table(index=["rules", "city", "season"], columns="level", values="start",
                               aggfunc="count", fill_value=0)
    for lvl in ("yellow", "orange", "red"):
        if lvl not in counts.columns:
            counts[lvl] = 0
    counts = counts[["yellow", "orange", "red"]]
    counts["warnings"] = counts.sum(axis=1)
    counts["warning_days"] = table.groupby(["rules", "city", "season"])["days"].sum()
    return counts.reset_index()


def replay_files(paths: "Iterable[str | os.PathLike]", cities: Sequence[str] = ("阳泉", "太原"),
                 rules: Sequence[str] = ("national-2024", "national-2019"),
                 seasons: Mapping[str, tuple[str, str]] = DEFAULT_SEASONS, by_pollutant: bool = False
                 ) -> pd.DataFrame:
    """:func:`replay` on city daily files read with :func:`forecast.io.read_city_daily`."""
    import warnings

    from forecast.io import read_city_daily

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the reader's cleaning notes; the replay counts missing days itself
        daily = read_city_daily(list(paths))
    daily = daily[daily["city"].astype(str).isin(list(cities))]
    return replay(daily, cities, rules, seasons, by_pollutant=by_pollutant)


def format_markdown(table: pd.DataFrame) -> str:
    """The replay table (and its summary) as Markdown."""
    def md(df: pd.DataFrame) -> str:
        cols = list(df.columns)
        out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        for rec in df.itertuples(index=False):
            out.append("| " + " | ".join("" if (isinstance(v, float) and np.isnan(v)) else
                                         (f"{v:g}" if isinstance(v, float) else str(v)) for v in rec) + " |")
        return "\n".join(out)
    return md(summarize(table)) + "\n\n" + md(table)
