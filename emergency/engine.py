"""The recommendation: which warning level, from when to when, why, how likely, how robust.

:func:`assess` reads a forecast (:func:`emergency.forecast_input.read_forecast`: the model's xarray
Dataset or netCDF, or a CSV), evaluates a rule set (:mod:`emergency.rules`) on the median daily AQI
series, and returns a frozen :class:`Recommendation`. The engine records what it decided on as
structured details (``reason_details``: English-keyed dicts with a ``code`` and the numbers and
dates); the Chinese reasons, data warnings and sensitivity lines are rendered from them by
:mod:`emergency.reasons`.

Logic
-----
1. Each level's condition marks the days (or hours) of the runs that meet it; each point gets the
   highest level whose condition marks it.
2. Runs of marked points are *episodes*; two episodes separated by a gap shorter than
   ``rules.merge_gap_hours`` are merged, and the merged episode takes the higher level. The level
   steps inside an episode (e.g. yellow then orange) are kept as ``steps``.
3. The recommendation is the first episode of the series. An episode's warning may be lifted once the
   series stays below the yellow condition for ``rules.lifting_hours``; if the forecast ends sooner,
   ``lift_confirmed`` is False.
4. A regional (provincial) warning sets a minimum level.
5. Probabilities: the share of forecast members for which the level's criteria (or a higher level's)
   are met anywhere in the series. Members are the model's ``aqi_scenario`` when present. Otherwise
   they are built from the per-day quantiles and ``p_aqi_gt_*`` under the assumption of *perfect rank
   correlation across days* (comonotonic: member k sits at the same quantile every day). That is an
   upper bound for the probability of multi-day runs (real errors are strongly but not perfectly
   correlated); single-day probabilities are reproduced exactly. With a median only, the
   probabilities are 0 or 1.
6. Sensitivity: the smallest change of one day's AQI (and the smallest uniform shift of the whole
   series) that changes the level.
"""
from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from airwarn.core.errors import InputError
from airwarn.core.vocab import WarningLevel
from emergency.decision import (DECISION_FILE, HORIZON, LEVEL_KEYS, WINDOW as _WINDOW, DecisionCalibration,
                                level_shares, load_calibration, periods)
from emergency.forecast_input import ForecastSeries, format_time, read_forecast
from emergency.reasons import data_warning_text, render_reasons, sensitivity_text, shift_text, why_not_text
from emergency.rules import RuleSet, load_rules, mark, runs
from forecast.inputs import STALE_OBSERVATION_DAYS

#: Levels in order of severity (without NONE).
LEVELS = (WarningLevel.YELLOW, WarningLevel.ORANGE, WarningLevel.RED)
#: A level the median forecast does not reach, but whose criteria the forecast members meet with at
#: least this probability somewhere in the horizon, is named in the reasons as an advisory.
ADVISORY_PROBABILITY = 0.5


# ------------------------------------------------------------------------------------ evaluation
@dataclass(frozen=True)
class Episode:
    """A warning episode found in a series (indices are half-open into the series)."""

    start_index: int
    stop_index: int
    level: WarningLevel
    point_levels: tuple[WarningLevel, ...]
    lift_confirmed: bool
    clean_hours_after: float

    def steps(self) -> list[tuple[int, WarningLevel]]:
        """(index, level) where the level in force changes (only rises are steps; the higher applies)."""
        out: list[tuple[int, WarningLevel]] = []
        cur = WarningLevel.NONE
        for k, lvl in enumerate(self.point_levels):
            if lvl > cur:
                out.append((self.start_index + k, lvl))
                cur = lvl
        return out


def point_levels(values: np.ndarray, rules: RuleSet, step_hours: float = 24.0) -> np.ndarray:
    """Highest level whose condition marks each point (0 = none)."""
    values = np.asarray(values, dtype=float)
    out = np.zeros(values.shape, dtype=np.int8)
    for lvl in LEVELS:
        out[mark(rules.levels[lvl], values, step_hours)] = int(lvl)
    return out


def find_episodes(values: np.ndarray, rules: RuleSet, step_hours: float = 24.0) -> list[Episode]:
    """Warning episodes of a series, with short gaps merged (see module notes).

    Parameters
    ----------
    values : ndarray, shape (n,)
        Daily AQI (``step_hours=24``) or hourly rolling 24-h AQI (``step_hours=1``).
    rules : RuleSet
    step_hours : float

    Returns
    -------
    list of Episode, in time order.
    """
    levels = point_levels(values, rules, step_hours)
    segs = runs(levels > 0)
    merged: list[list[int]] = []
    for a, b in segs:
        if merged and (a - merged[-1][1]) * step_hours < rules.merge_gap_hours:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    n = len(values)
    out = []
    for i, (a, b) in enumerate(merged):
        nxt = merged[i + 1][0] if i + 1 < len(merged) else n
        clean = (nxt - b) * step_hours
        pl = tuple(WarningLevel(int(x)) for x in levels[a:b])
        out.append(Episode(a, b, max(pl), pl, clean >= rules.lifting_hours, clean))
    return out


def _first_level(values: np.ndarray, rules: RuleSet, step_hours: float) -> WarningLevel:
    eps = find_episodes(values, rules, step_hours)
    return eps[0].level if eps else WarningLevel.NONE


def _max_level(values: np.ndarray, rules: RuleSet, step_hours: float) -> int:
    return int(point_levels(values, rules, step_hours).max(initial=0))


# ------------------------------------------------------------------------------------ recommendation
@dataclass(frozen=True)
class Trigger:
    """A condition of the rules that the median forecast meets."""

    level: WarningLevel
    key: str
    text: str
    threshold: float
    hours: int
    dates: tuple[str, ...]
    values: tuple[float, ...]


@dataclass(frozen=True)
class Sensitivity:
    """A change of the forecast that would change the recommended level."""

    day: int | None
    date: str | None
    aqi_from: float | None
    aqi_to: float | None
    shift: float | None
    level_to: WarningLevel
    text: str


@dataclass(frozen=True)
class Recommendation:
    """The warning recommendation for one city.

    Attributes
    ----------
    city : str
    level : WarningLevel
    start, end : datetime.date or datetime.datetime or None
        First and last day (daily series; for an hourly series, start of the first 24-h window and
        the last hour) of the recommended episode; None when the level is NONE.
    probability : dict
        ``{"yellow", "orange", "red"}``: share of forecast members meeting the level's criteria or a
        higher level's, anywhere in the series.
    reasons : tuple of str
        Chinese explanation, one sentence each, rendered from ``reason_details`` by
        :func:`emergency.reasons.render_reasons`.
    reason_details : tuple of dict
        What the decision was made on, English-keyed: ``code`` (the kind of record, listed in
        :mod:`emergency.reasons`) and its numbers, dates and level keys (``level``, ``threshold``,
        ``hours``, ``dates``, ``values`` …).
    triggers : tuple of Trigger
    steps : tuple of (date, WarningLevel)
        Level changes inside the episode (an upgrade mid-episode).
    sensitivity : tuple of Sensitivity
    temporary_measures : bool
        Below yellow, the temporary-measures condition is met.
    lift_confirmed : bool
        The forecast shows the series below the yellow condition for ``rules.lifting_hours`` after
        the episode.
    rules_name, rules_version, rules_sha256 : str
    issued : datetime.date or None
    forecast_source, forecast_sha256 : str
    probability_method : str
        ``scenarios``, ``comonotonic`` or ``deterministic``.
    regional_minimum : WarningLevel or None
    dates : tuple of str; aqi : tuple of float
        The median series the decision used.
    episodes : tuple of dict
        Every episode in the series (start, end, level).
    observations_through : datetime.date or None
        Last day with observations the forecast started from, when the forecast says.
    data_warnings : tuple of str
        Chinese warnings on the inputs (observations ending :data:`STALE_OBSERVATION_DAYS` or more days
        before the day the recommendation is made for; a fallback from the probability decision),
        rendered from ``data_warning_details`` by :func:`emergency.reasons.data_warning_text`.
    decision : str
        ``"probability"`` (the level whose calibrated probability reaches its threshold,
        :mod:`emergency.decision`) or ``"median"`` (the first episode of the median series).
    thresholds : dict
        The probability decision's thresholds p*_L per level (empty for the median decision).
    outlook : dict
        Calibrated probability per level that its criteria are met anywhere in D+1 … D+10 (empty
        without a calibration).
    primary_pollutants : tuple of str
        The forecast's primary pollutant(s) per day (empty when it does not say).
    advisories : tuple of dict
        Exceedances that start no colour warning because another pollutant leads them (rule set's
        ``by_pollutant``): ``pollutant`` (the advice key), ``dates``, ``values``, ``primary``, ``advice``
        (Chinese).
    data_warning_details : tuple of dict
        The records of ``data_warnings`` (``code`` ``data.stale_observations`` or
        ``data.decision_fallback``, with their dates and reasons).
    """

    city: str
    level: WarningLevel
    start: dt.date | None
    end: dt.date | None
    probability: Mapping[str, float]
    reasons: tuple[str, ...]
    reason_details: tuple[Mapping[str, Any], ...] = ()
    triggers: tuple[Trigger, ...] = ()
    steps: tuple[tuple[str, WarningLevel], ...] = ()
    sensitivity: tuple[Sensitivity, ...] = ()
    temporary_measures: bool = False
    lift_confirmed: bool = False
    rules_name: str = ""
    rules_version: str = ""
    rules_sha256: str = ""
    issued: dt.date | None = None
    forecast_source: str = ""
    forecast_sha256: str = ""
    probability_method: str = "deterministic"
    regional_minimum: WarningLevel | None = None
    dates: tuple[str, ...] = ()
    aqi: tuple[float, ...] = ()
    episodes: tuple[Mapping[str, Any], ...] = field(default=())
    observations_through: dt.date | None = None
    data_warnings: tuple[str, ...] = ()
    decision: str = "median"
    thresholds: Mapping[str, float] = field(default_factory=dict)
    outlook: Mapping[str, float] = field(default_factory=dict)
    primary_pollutants: tuple[str, ...] = ()
    advisories: tuple[Mapping[str, Any], ...] = ()
    data_warning_details: tuple[Mapping[str, Any], ...] = ()

    @property
    def duration_days(self) -> int:
        """Days from start to end, inclusive (0 without a warning)."""
        if self.start is None or self.end is None:
            return 0
        return (pd.Timestamp(self.end).normalize() - pd.Timestamp(self.start).normalize()).days + 1

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; the first keys are the pinned CLI output."""
        def iso(d):
            return None if d is None else d.isoformat()
        return {
            "city": self.city,
            "level": self.level.key,
            "start": iso(self.start),
            "end": iso(self.end),
            "probability": {k: round(float(v), 4) for k, v in self.probability.items()},
            "reasons": list(self.reasons),
            "level_label": self.level.label,
            "response": self.level.response,
            "steps": [{"date": d, "level": lvl.key} for d, lvl in self.steps],
            "temporary_measures": self.temporary_measures,
            "lift_confirmed": self.lift_confirmed,
            "sensitivity": [s.text for s in self.sensitivity],
            "triggers": [{"level": t.level.key, "key": t.key, "text": t.text, "threshold": t.threshold,
                          "hours": t.hours, "dates": list(t.dates), "values": list(t.values)}
                         for t in self.triggers],
            "reason_details": [dict(r) for r in self.reason_details],
            "regional_minimum": self.regional_minimum.key if self.regional_minimum is not None else None,
            "rules": {"name": self.rules_name, "version": self.rules_version, "sha256": self.rules_sha256},
            "forecast": {"source": self.forecast_source, "sha256": self.forecast_sha256,
                         "issued": iso(self.issued), "observations_through": iso(self.observations_through),
                         "probability_method": self.probability_method,
                         "dates": list(self.dates), "aqi": [None if not np.isfinite(v) else v for v in self.aqi]},
            "episodes": [dict(e) for e in self.episodes],
            "data_warnings": list(self.data_warnings),
            "decision": {"rule": self.decision, "thresholds": {k: float(v) for k, v in self.thresholds.items()},
                         "window_lead_days": list(_WINDOW),
                         "outlook_probability": {k: round(float(v), 4) for k, v in self.outlook.items()}},
            "primary_pollutants": list(self.primary_pollutants),
            "advisories": [dict(a) for a in self.advisories],
            "data_warning_details": [dict(d) for d in self.data_warning_details],
        }

    def to_json(self, **kw) -> str:
        """JSON text of :meth:`to_dict` (UTF-8, Chinese kept)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, **kw)


def _period(times: pd.DatetimeIndex, a: int, b: int, step: float):
    if step >= 24:
        return times[a].date(), times[b - 1].date()
    return (times[a] - pd.Timedelta(hours=24 - step)).to_pydatetime(), times[b - 1].to_pydatetime()


def _leaf_triggers(cond, lvl, values, times, step, a, b) -> list[Trigger]:
    out = []
    for leaf in cond.leaves():
        m = mark(leaf, values, step)[a:b]
        if m.any():
            idx = np.flatnonzero(m) + a
            out.append(Trigger(lvl, f"{lvl.key}.{leaf.key()}", leaf.describe(), leaf.value, leaf.hours,
                               tuple(format_time(times[i], step) for i in idx),
                               tuple(float(values[i]) for i in idx)))
    return out


def _sensitivity(values: np.ndarray, times: pd.DatetimeIndex, rules: RuleSet, step: float,
                 level: WarningLevel) -> tuple[Sensitivity, ...]:
    """Smallest one-day changes (per resulting level) and uniform shifts that change the level."""
    leaves = [leaf for lvl in LEVELS for leaf in rules.levels[lvl].leaves()]
    ups = sorted({leaf.value if leaf.inclusive else np.floor(leaf.value) + 1 for leaf in leaves})
    downs = sorted({leaf.value - 1 if leaf.inclusive else leaf.value for leaf in leaves})
    best: dict[WarningLevel, tuple[float, Sensitivity]] = {}
    for i, v in enumerate(values):
        if not np.isfinite(v):
            continue
        for c in [u for u in ups if u > v] + [d for d in downs if d < v]:
            trial = values.copy()
            trial[i] = c
            new = _first_level(trial, rules, step)
            if new == level or (new in best and best[new][0] <= abs(c - v)):
                continue
            date = format_time(times[i], step)
            sentence = sensitivity_text(day=i, date=date, daily=step >= 24, aqi_from=float(v),
                                        aqi_to=float(c), level_to=new)
            best[new] = (abs(c - v), Sensitivity(i, date, float(v), float(c), None, new, sentence))
    # rises first (nearest level first), then falls; smallest change first within each
    single = sorted(best.values(), key=lambda x: (x[1].level_to < level, abs(int(x[1].level_to) - int(level)), x[0]))
    shifts: list[Sensitivity] = []
    if np.isfinite(values).any():
        fin = np.unique(values[np.isfinite(values)])
        cand = {1: sorted({float(u - v) for u in ups for v in fin if u - v > 0}),
                -1: sorted({float(v - d) for d in downs for v in fin if v - d > 0})}
        for sign in (1, -1):
            # the level can only change where some value crosses a threshold
            for d in cand[sign]:
                new = _first_level(values + sign * d, rules, step)
                if new != level:
                    shifts.append(Sensitivity(None, None, None, None, float(sign * d), new,
                                              shift_text(float(sign * d), new)))
                    break
    return tuple([s for _, s in single] + shifts)


def assess(forecast: Any, rules: "RuleSet | str | os.PathLike" = "national-2024", city: str | None = None,
           regional_minimum: "WarningLevel | str | None" = None, issued: "dt.date | str | None" = None,
           as_of: "dt.date | str | None" = None, decision: str | None = None,
           calibration: "Any | str | os.PathLike | None" = None,
           in_force: "WarningLevel | str | None" = None) -> Recommendation:
    """Recommend a warning level from a forecast.

    Parameters
    ----------
    forecast : xarray.Dataset, path, DataFrame or ForecastSeries
        See :func:`read_forecast`.
    rules : RuleSet, bundled name or path
        Warning-grading rules (default ``national-2024``).
    city : str, optional
        City to assess when the forecast holds several.
    regional_minimum : WarningLevel or str, optional
        Level of a regional warning from the province: the recommendation is at least this level,
        starting no later than the first forecast day.
    issued : date, optional
        Issue date to use (default: the latest in the forecast).
    as_of : date, optional
        Day the recommendation is made for (the daily products' day), against which the age of the
        forecast's observations is judged (default: the forecast's issue day); see
        :func:`stale_data_warnings`.
    decision : {"probability", "median"}, optional
        ``"probability"``: the highest level whose calibrated probability of its criteria in the
        decision window (D+1 … D+3) reaches the threshold chosen on the model's validation fold
        (:mod:`emergency.decision`); needs scenario members and a calibration. ``"median"``: the first
        episode of the median series. Default: ``"probability"`` when both are there, else
        ``"median"`` (the reasons say why).
    calibration : DecisionCalibration or model folder, optional
        The model's decision calibration (:func:`emergency.decision.load_calibration`).
    in_force : WarningLevel or str, optional
        Level of the warning in force (the active warning, or yesterday's recommendation): the
        probability decision keeps a warning in force at its lower keep threshold.

    Returns
    -------
    Recommendation

    Notes
    -----
    With the median decision the level comes from the median series and the probabilities are the
    raw share of members meeting each level's criteria anywhere in the series (see module notes);
    with the probability decision they are the calibrated probabilities in the decision window.

    References
    ----------
    环大气〔2024〕6号 (2024 grading); 环办大气函〔2019〕648号 (2019 grading); 国发〔2023〕24号 item 27
    (regional warnings).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"city": "阳泉", "valid_date": pd.date_range("2026-01-01", periods=4),
    ...                    "aqi": [120, 160, 170, 90]})
    >>> r = assess(df)
    >>> r.level.key, str(r.start), str(r.end)
    ('yellow', '2026-01-02', '2026-01-03')
    """
    rules = load_rules(rules)
    s = read_forecast(forecast, city=city, issued=issued)
    raw, times, step = np.asarray(s.aqi, dtype=float), s.times, s.step_hours
    if raw.size == 0:
        raise InputError(f"forecast {s.source}: empty AQI series for city {s.city!r}")
    # by primary pollutant: only the days led by a colour-warning pollutant count toward the levels
    colour = colour_days(s, rules)
    values = np.where(colour, raw, np.nan)
    graded = replace(s, aqi=values, members=None if s.members is None else np.where(colour[None, :], s.members, np.nan))
    if decision not in (None, "probability", "median"):
        raise InputError(f"decision must be 'probability' or 'median', got {decision!r}")
    cal, why = (None, None) if decision == "median" else _decision_calibration(s, rules, calibration)
    if decision == "probability" and cal is None:
        raise InputError(f"forecast {s.source}: the probability decision is not possible: {why_not_text(why)}")
    warnings = list(stale_observations(s.city, s.last_observed, _as_of(as_of, s)))
    if why is not None and calibration is not None and s.member_method == "scenarios":
        # the product's default fell back although the forecast could have been decided on probabilities
        warnings.append({"code": "data.decision_fallback", "why": dict(why)})
    if decision is None:
        decision = "probability" if cal is not None else "median"
    if decision == "probability":
        return _assess_probability(graded, rules, cal, regional_minimum, in_force, raw=s, warnings=warnings)
    eps = find_episodes(values, rules, step)
    details: list[dict] = []
    triggers: list[Trigger] = []
    steps: tuple = ()
    level, start, end, lift_ok = WarningLevel.NONE, None, None, False
    if eps:
        ep = eps[0]
        level = ep.level
        start, end = _period(times, ep.start_index, ep.stop_index, step)
        lift_ok = ep.lift_confirmed
        for lvl in LEVELS:
            if lvl <= level:
                triggers += _leaf_triggers(rules.levels[lvl], lvl, values, times, step, ep.start_index,
                                           ep.stop_index)
        steps = tuple((format_time(times[i], step), lvl) for i, lvl in ep.steps())
        details.append({"code": f"level.{level.key}", "level": level.key, "condition": rules.describe(level),
                        "start": str(start), "end": str(end)})
        for t in triggers:
            if t.level == level:
                details.append({"code": t.key, "level": t.level.key, "threshold": t.threshold, "hours": t.hours,
                                "dates": list(t.dates), "values": list(t.values), "condition": t.text})
        if len(steps) > 1:
            details.append({"code": "episode.upgrade", "steps": [[d, lvl.key] for d, lvl in steps],
                            "level": level.key})
        gaps = [i for i, x in enumerate(ep.point_levels) if x == WarningLevel.NONE]
        if gaps:
            gd = [format_time(times[ep.start_index + i], step) for i in gaps]
            details.append({"code": "episode.merged", "gap": gd, "gap_shorter_than_hours": rules.merge_gap_hours})
        if lift_ok:
            details.append({"code": "lifting.confirmed", "after": str(end), "hours": rules.lifting_hours})
        else:
            details.append({"code": "lifting.open", "hours": rules.lifting_hours})
        for later in eps[1:]:
            a, b = _period(times, later.start_index, later.stop_index, step)
            details.append({"code": "episode.later", "level": later.level.key, "start": str(a), "end": str(b)})
    advised = _pollutant_advice(s, rules, colour, details)
    temp = level == WarningLevel.NONE and _temporary_measures(rules, values, times, step, details)
    if level == WarningLevel.NONE and not temp:
        details.append({"code": "no_warning", "max_aqi": float(np.nanmax(raw)) if np.isfinite(raw).any() else None,
                        "by_pollutant": bool(advised)})
    reg = WarningLevel.parse(regional_minimum) if regional_minimum is not None else None
    if reg is not None and reg > level:
        details.append({"code": "regional_minimum", "from": level.key, "to": reg.key})
        level = reg
        first = _period(times, 0, 1, step)[0]
        start = first if start is None else min(start, first)
        end = end if end is not None else first
    elif reg is not None:
        details.append({"code": "regional_minimum.met", "regional": reg.key, "level": level.key})
    # probabilities (members conditioned on the median's primary pollutant: the scenarios are AQI only)
    if graded.members is not None and graded.members.size:
        maxima = np.array([_max_level(row, rules, step) for row in graded.members])
    else:
        maxima = np.array([_max_level(values, rules, step)])
    prob = {lvl.key: float(np.mean(maxima >= int(lvl))) for lvl in LEVELS}
    if reg is not None:
        for lvl in LEVELS:
            if lvl <= reg:
                prob[lvl.key] = 1.0
    if why is not None:
        details.append({"code": "decision.median", "why": why_not_text(why), "why_code": why["code"]})
    likely = [lvl for lvl in LEVELS if lvl > level and prob[lvl.key] >= ADVISORY_PROBABILITY]
    if likely:
        details.append({"code": "probability.advisory", "level": likely[-1].key, "probability": prob[likely[-1].key],
                        "threshold": ADVISORY_PROBABILITY})
    sens = _sensitivity(values, times, rules, step, _first_level(values, rules, step))
    return Recommendation(
        city=s.city, level=level, start=start, end=end, probability=prob,
        reasons=render_reasons(details, city=s.city, rules=rules, level=level),
        reason_details=tuple(details), triggers=tuple(triggers), steps=steps, sensitivity=sens,
        temporary_measures=temp, lift_confirmed=lift_ok, rules_name=rules.name, rules_version=rules.version,
        rules_sha256=rules.sha256, issued=s.issued, forecast_source=s.source, forecast_sha256=s.sha256,
        probability_method=s.member_method, regional_minimum=reg,
        dates=tuple(format_time(t, step) for t in times), aqi=tuple(float(v) for v in raw),
        episodes=_episodes_out(eps, times, step), observations_through=s.last_observed,
        data_warnings=tuple(data_warning_text(w) for w in warnings), data_warning_details=tuple(warnings),
        primary_pollutants=s.primary or (), advisories=advised,
    )


def _as_of(as_of, s: ForecastSeries) -> dt.date | None:
    """The day a recommendation is made for: ``as_of`` (a date or ISO text), else the forecast's issue day."""
    return dt.date.fromisoformat(str(as_of)[:10]) if as_of else s.issued


def _episodes_out(eps: list[Episode], times: pd.DatetimeIndex, step: float) -> tuple[dict, ...]:
    """``Recommendation.episodes``: start, end, level and lift of every episode of the series."""
    out = []
    for e in eps:
        a, b = _period(times, e.start_index, e.stop_index, step)
        out.append({"start": str(a), "end": str(b), "level": e.level.key, "lift_confirmed": e.lift_confirmed})
    return tuple(out)


def stale_observations(city: str, last_observed: dt.date | None, as_of: dt.date | None) -> tuple[dict, ...]:
    """The data-warning record when ``city``'s observations end :data:`STALE_OBSERVATION_DAYS` or more
    days before ``as_of`` (the issue or product day): ``code`` ``data.stale_observations``, ``city``,
    ``last_observed``, ``as_of`` (ISO dates) and ``age_days``; empty otherwise or when either day is unknown."""
    if last_observed is None or as_of is None:
        return ()
    age = (pd.Timestamp(as_of) - pd.Timestamp(last_observed)).days
    if age < STALE_OBSERVATION_DAYS:
        return ()
    return ({"code": "data.stale_observations", "city": city, "last_observed": last_observed.isoformat(),
             "as_of": as_of.isoformat(), "age_days": int(age)},)


def stale_data_warnings(city: str, last_observed: dt.date | None, as_of: dt.date | None) -> tuple[str, ...]:
    """The Chinese data warning of :func:`stale_observations` (:func:`emergency.reasons.data_warning_text`)."""
    return tuple(data_warning_text(w) for w in stale_observations(city, last_observed, as_of))


def colour_days(s: ForecastSeries, rules: RuleSet) -> np.ndarray:
    """Which points of a forecast count toward the colour levels (:meth:`RuleSet.counts_for_colour`).

    Every point counts when the rule set has no ``by_pollutant`` or the forecast gives no primary
    pollutant; a point with an unknown primary pollutant counts (it may be PM2.5-led). The scenario
    members are AQI only, so a member-day counts when the median's day does (conditioning on the
    median's primary pollutant).
    """
    n = len(np.asarray(s.aqi))
    if s.primary is None or rules.colour_pollutants is None:
        return np.ones(n, dtype=bool)
    return np.array([rules.counts_for_colour(p) for p in s.primary], dtype=bool)


def _pollutant_advice(s: ForecastSeries, rules: RuleSet, colour: np.ndarray, details: list) -> tuple[dict, ...]:
    """Advice for the exceedances the colour levels leave out: the points that the AQI alone would put
    into a warning (:func:`point_levels` of the series as read) but whose primary pollutant starts no
    colour warning; one record per advice (pollutant group), appended to ``details``. Also notes when
    the rules distinguish pollutants but the forecast does not say which leads."""
    if rules.colour_pollutants is None:
        return ()
    if s.primary is None:
        details.append({"code": "by_pollutant.unknown", "colour_warnings": list(rules.colour_pollutants)})
        return ()
    values, times, step = np.asarray(s.aqi, dtype=float), s.times, s.step_hours
    left_out = (point_levels(values, rules, step) > 0) & ~colour
    groups: dict[str, dict] = {}
    for i in np.flatnonzero(left_out):
        key, advice = rules.advice(s.primary[i])
        g = groups.setdefault(key, {"code": f"by_pollutant.{key}", "pollutant": key, "advice": advice,
                                    "dates": [], "values": [], "primary": []})
        g["dates"].append(format_time(times[i], step))
        g["values"].append(float(values[i]))
        g["primary"].append(s.primary[i])
    details.extend(dict(g) for g in groups.values())
    return tuple(groups.values())


def _temporary_measures(rules: RuleSet, values, times, step, details: list) -> bool:
    """Below yellow: whether the (median) series meets the rule set's temporary-measures condition; its
    record is appended to ``details``."""
    if rules.temporary_measures is None:
        return False
    m = mark(rules.temporary_measures, values, step)
    if not m.any():
        return False
    idx = np.flatnonzero(m)
    details.append({"code": "temporary_measures", "condition": rules.temporary_measures.describe(),
                    "dates": [format_time(times[i], step) for i in idx],
                    "values": [float(values[i]) for i in idx]})
    return True


def _decision_calibration(s: ForecastSeries, rules: RuleSet, calibration) -> tuple[Any, dict | None]:
    """The calibration the probability decision can use for this forecast, or None and why not (a record
    for :func:`emergency.reasons.why_not_text`)."""
    if s.step_hours < 24:
        return None, {"code": "hourly"}
    if s.member_method != "scenarios" or s.members is None:
        return None, {"code": "no_scenarios"}
    if calibration is None:
        return None, {"code": "no_calibration"}
    if isinstance(calibration, DecisionCalibration):
        cal = calibration
    else:
        if not (Path(calibration) / DECISION_FILE).exists():
            return None, {"code": "calibration_missing", "model": Path(calibration).name}
        try:
            cal = load_calibration(calibration, rules)
        except ValueError:
            return None, {"code": "calibration_unreadable", "model": Path(calibration).name}
    if cal is None:
        return None, {"code": "not_calibrated", "rules": rules.name}
    return cal, None


def _assess_probability(s: ForecastSeries, rules: RuleSet, cal, regional_minimum, in_force=None,
                        raw: ForecastSeries | None = None, warnings: list | tuple = ()) -> Recommendation:
    """The probability decision for one forecast (:mod:`emergency.decision`), with its details.

    ``s`` is the series graded (days led by a pollutant without colour warnings set to NaN in the
    median and every member); ``raw`` the forecast as read (the shown AQI and the advice);
    ``warnings`` the data-warning records.
    """
    raw = raw if raw is not None else s
    members = np.asarray(s.members, dtype=float)[None]           # (1, m, n)
    shares = level_shares(members[..., :HORIZON], np.array([s.issue_aqi]), rules, cal.window)
    pw, ph = cal.calibrated(shares)
    held = WarningLevel.parse(in_force) if in_force is not None else WarningLevel.NONE
    code = int(cal.levels(pw, [int(held)])[0])
    level = WarningLevel(code)
    lo, hi = cal.window
    issued = s.issued or (s.times[0] - pd.Timedelta(days=1)).date()
    start = end = None
    details: list[dict] = []
    prob = {k: float(pw[0, j]) for j, k in enumerate(LEVEL_KEYS)}
    outlook = {k: float(ph[0, j]) for j, k in enumerate(LEVEL_KEYS)}
    thresholds = {k: float(cal.thresholds[k]) for k in LEVEL_KEYS}
    if held > WarningLevel.NONE and cal.keep_ratio < 1:  # a warning in force is kept at the lower thresholds
        thresholds = {k: round(cal.keep_ratio * v, 4) for k, v in thresholds.items()}
    if code:
        a, b = periods(shares.inside, np.array([True]), cal.window)
        start = issued + dt.timedelta(days=int(a[0]))
        end = issued + dt.timedelta(days=int(b[0]))
    details.append({"code": "decision.probability", "level": level.key, "window_lead_days": [lo, hi],
                    "probability": dict(prob), "thresholds": thresholds, "outlook_probability": outlook,
                    "in_force": held.key, "keep_ratio": cal.keep_ratio, "fold": dict(cal.fold),
                    "start": None if start is None else str(start), "end": None if end is None else str(end),
                    "condition": rules.describe(level) if code else None,
                    "issue_aqi": float(s.issue_aqi) if np.isfinite(s.issue_aqi) else None})
    advised = _pollutant_advice(raw, rules, colour_days(raw, rules), details)
    later = [k for j, k in enumerate(LEVEL_KEYS) if outlook[k] >= thresholds[k] and j + 1 > code]
    if later:
        top = WarningLevel(LEVEL_KEYS.index(later[-1]) + 1)
        details.append({"code": "outlook", "level": top.key, "probability": outlook[top.key], "horizon_days": HORIZON})
    values, times, step = np.asarray(s.aqi, dtype=float), s.times, s.step_hours
    triggers: list[Trigger] = []
    if code:
        k0 = max(int((pd.Timestamp(start) - times[0]).days), 0)
        k1 = min(int((pd.Timestamp(end) - times[0]).days) + 1, len(values))
        for lvl in LEVELS:
            if lvl <= level and k1 > k0:
                triggers += _leaf_triggers(rules.levels[lvl], lvl, values, times, step, k0, k1)
    reg = WarningLevel.parse(regional_minimum) if regional_minimum is not None else None
    if reg is not None and reg > level:
        details.append({"code": "regional_minimum", "from": level.key, "to": reg.key})
        level = reg
        first = times[0].date()
        start = first if start is None else min(start, first)
        end = end if end is not None else first
        for lvl in LEVELS:
            if lvl <= reg:
                prob[lvl.key] = 1.0
    elif reg is not None:
        details.append({"code": "regional_minimum.met", "regional": reg.key, "level": level.key})
    temp = level == WarningLevel.NONE and _temporary_measures(rules, values, times, step, details)
    # the lift is confirmed when the median series stays below the yellow condition long enough after the period
    lift_ok = False
    if code and end is not None:
        after = int((pd.Timestamp(end) - times[0]).days) + 1
        clean = point_levels(values, rules, step)[after:] == 0
        run = int(np.argmin(clean)) if (~clean).any() else int(clean.size)
        lift_ok = run * step >= rules.lifting_hours
    return Recommendation(
        city=s.city, level=level, start=start, end=end, probability=prob,
        reasons=render_reasons(details, city=s.city, rules=rules, level=level),
        reason_details=tuple(details), triggers=tuple(triggers), steps=(), sensitivity=(),
        temporary_measures=temp, lift_confirmed=lift_ok, rules_name=rules.name, rules_version=rules.version,
        rules_sha256=rules.sha256, issued=s.issued, forecast_source=s.source, forecast_sha256=s.sha256,
        probability_method="calibrated", regional_minimum=reg,
        dates=tuple(format_time(t, step) for t in times), aqi=tuple(float(v) for v in raw.aqi),
        episodes=_episodes_out(find_episodes(values, rules, step), times, step),
        observations_through=s.last_observed,
        data_warnings=tuple(data_warning_text(w) for w in warnings), data_warning_details=tuple(warnings),
        decision="probability", thresholds=thresholds, outlook=outlook,
        primary_pollutants=raw.primary or (), advisories=advised,
    )
