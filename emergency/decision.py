"""The warning decision from calibrated probabilities of each level's criteria.

Why
---
A median forecast regresses to the mean: it almost never stays above 200 for two days, so a level
read off the median series is almost never orange or red even when those criteria have a 40–50 %
chance. The decision here reads the *probability* that each level's criteria are met, from the
forecast's scenario members, calibrates it on the model's validation fold and warns at the highest
level whose probability reaches a threshold chosen there.

Steps
-----
1. **Series per member.** Each scenario member (``aqi_scenario``, D+1 … D+10; its days co-vary as the
   model's fitted Gaussian copula of lead-to-lead errors says) is prefixed with the issue day's
   observed AQI (``aqi_issue_day``), so that a run that began today counts as it would in the
   observed series.
2. **Grading per member** with the rule set (:mod:`emergency.grading`): point levels, merged episodes
   and each episode's level, exactly as for one series (:func:`emergency.engine.find_episodes`).
3. **Raw probabilities.** ``P_window(L)``: the share of members with an episode of level ≥ L on one of
   the days of the decision window (D+1 … D+3, :data:`WINDOW`: the days a warning is issued for).
   The outlook has the same for D+4 … D+6, D+7 … D+10 and the whole horizon D+1 … D+10
   (:data:`SPANS`).
4. **Calibration** (:func:`calibrate`): per level and span, isotonic regression of the observed event
   (the same grading of the observed series of the same days) on the raw share, over the held-out
   forecasts of the model's validation fold (inside its training period). Under a rule set with
   ``by_pollutant`` the fold's members are graded as a forecast is (:func:`colour_mask`): a day whose
   median forecast is led by a pollutant that starts no colour warning counts in no member. Reliability per decile is
   reported out of fold (two-fold cross-fitting by issue-day blocks).
5. **Thresholds.** ``p*_L`` is chosen on the event CSI of "a warning of level ≥ L"
   (:mod:`emergency.events`) over the validation fold's issue days for all cities (step 6); a level
   with fewer than :data:`MIN_THRESHOLD_EPISODES` observed episodes there takes the next lower
   level's threshold.
6. **Decision.** A warning is recommended when the calibrated ``P_window(yellow) ≥ p*_yellow``, at
   the highest level L with ``P_window(L) ≥ p*_L``. While a warning is in force (yesterday's
   recommendation, or the active warning) each threshold is lowered to ``keep_ratio · p*_L``
   (hysteresis: a warning is kept while its criteria stay reasonably likely; ``keep_ratio`` is chosen
   with ``p*_yellow``, from :data:`KEEP_GRID`). The yellow threshold maximises the event CSI among
   those whose event FAR on the fold is at most :data:`MAX_FAR`; the orange and red ones their own
   event CSI. The recommendation's period is the run of days from D+1 on around the decision window
   where the share of members inside an episode that touches the window is at least half its
   maximum (:func:`periods`).

``decision="median"`` keeps the old rule for comparison: the same grading on the median series (one
member), the level of the episode touching the window. Both are stored, with the fold they came
from, in the model folder's :data:`DECISION_FILE`, one entry per rule set (keyed by the grading
signature of its conditions, so a city file that only changes targets reuses the national entry).
"""
from __future__ import annotations

import hashlib
import json
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from airwarn.core.files import atomic_write_text
from airwarn.core.vocab import WarningLevel
from emergency.events import RECOMMENDATION_COLUMNS, observed_episodes, observed_through, verify_events
from emergency.grading import episode_levels_of, run_contains
from emergency.rules import RuleSet, load_rules
from forecast.calibration import apply_isotonic, fit_isotonic
from forecast.verify import reliability_table
from airwarn.core.errors import InputError

#: Lead days of the decision window (the days a warning is issued for).
WINDOW: tuple[int, int] = (1, 3)
#: Last lead day of the outlook (the forecast horizon).
HORIZON: int = 10
#: Spans of lead days whose level probabilities are calibrated: the decision window, the later lead
#: windows of the outlook, and the whole horizon.
SPANS: dict[str, tuple[int, int]] = {"window": WINDOW, "4-6": (4, 6), "7-10": (7, 10), "horizon": (1, HORIZON)}
#: Level keys, mildest first (codes 1, 2, 3).
LEVEL_KEYS: tuple[str, ...] = ("yellow", "orange", "red")
#: Candidate probability thresholds searched on the validation fold.
THRESHOLD_GRID: np.ndarray = np.round(np.arange(0.05, 0.951, 0.025), 3)
#: Candidate ratios of the keep threshold to the start threshold (1: no hysteresis).
KEEP_GRID: tuple[float, ...] = (1.0, 0.75, 0.5)
#: Largest false-alarm ratio of recommended runs the start threshold (yellow: whether to warn at all) may
#: give on the validation fold (the command's tolerance: a warning system that is wrong more than one
#: time in three is not acted on); among the thresholds within it the event CSI is maximised (None: CSI
#: alone). The orange and red thresholds (which level) maximise their own event CSI.
MAX_FAR: float | None = 0.35
#: A level needs this many observed episodes in the validation fold to get a threshold of its own.
MIN_THRESHOLD_EPISODES: int = 10
#: The model folder's file of decision calibrations (one entry per rule set).
DECISION_FILE = "warning_decision.json"


def rules_signature(rules: RuleSet) -> str:
    """Hash of what the grading and the thresholds depend on: the level conditions, the merge gap, the
    primary pollutants whose days count toward the colours (``by_pollutant``: the fold is graded by them,
    :func:`calibrate`) and any cost–loss ratios (not the titles, comments, targets or lifting)."""
    doc = {"levels": {k.key: repr(v) for k, v in sorted(rules.levels.items())},
           "merge_gap_hours": rules.merge_gap_hours}
    if rules.colour_pollutants is not None:
        doc["colour_pollutants"] = sorted(rules.colour_pollutants)
    if rules.cost_loss:  # the thresholds follow the cost–loss ratios
        doc["cost_loss"] = {k.key: v for k, v in sorted(rules.cost_loss.items())}
    text = json.dumps(doc, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


# ------------------------------------------------------------------------------------- grading
@dataclass(frozen=True)
class LevelShares:
    """Graded scenario members of many forecasts.

    Attributes
    ----------
    spans : dict of str to ndarray, shape (n, 3)
        Per span of :data:`SPANS`: share of members with an episode of level ≥ yellow / orange / red on
        a day of that span of lead days (``"window"``: the decision window D+1 … D+3; ``"horizon"``:
        D+1 … D+10; ``"4-6"``, ``"7-10"``: the later lead windows of the outlook).
    inside : ndarray, shape (n, 11)
        Share of members for which day D+k (k = 0 … 10; 0 is the issue day) lies inside an episode that
        touches the decision window.
    """

    spans: Mapping[str, np.ndarray]
    inside: np.ndarray

    @property
    def window(self) -> np.ndarray:
        return self.spans["window"]

    @property
    def horizon(self) -> np.ndarray:
        return self.spans["horizon"]


def level_shares(members: np.ndarray, issue_aqi: np.ndarray, rules: RuleSet, window=WINDOW,
                 chunk: int = 4096) -> LevelShares:
    """Grade scenario members (module notes, steps 1–3).

    Parameters
    ----------
    members : ndarray, shape (n, m, 10)
        AQI members of n forecasts, leads 1–10 (NaN: missing).
    issue_aqi : ndarray, shape (n,)
        Observed AQI of each forecast's issue day (NaN: unknown, never exceeds).
    rules : RuleSet
    window : (int, int)
        First and last lead day of the decision window.
    chunk : int
        Forecasts graded at a time (memory).
    """
    members = np.asarray(members, dtype=np.float32)
    n, m, leads = members.shape
    spans = dict(SPANS, window=tuple(window))
    masks = {}
    for name, (lo, hi) in spans.items():
        mask = np.zeros(leads + 1, dtype=bool)
        mask[lo:min(hi, leads) + 1] = True
        masks[name] = mask
    out = {name: np.zeros((n, 3)) for name in spans}
    out_in = np.zeros((n, leads + 1))
    for a in range(0, n, chunk):
        b = min(a + chunk, n)
        series = np.concatenate([np.broadcast_to(np.asarray(issue_aqi[a:b], np.float32)[:, None, None],
                                                 (b - a, m, 1)), members[a:b]], axis=-1)
        ep = episode_levels_of(series, rules)                      # (k, m, 11)
        for name, mask in masks.items():
            top = ep[..., mask].max(axis=-1)
            for j in range(3):
                out[name][a:b, j] = (top >= j + 1).mean(axis=1)
        in_ep = ep > 0
        touching = run_contains(in_ep, in_ep & masks["window"])
        out_in[a:b] = touching.mean(axis=1)
    return LevelShares(out, out_in)


def periods(inside: np.ndarray, on: np.ndarray, window=WINDOW) -> tuple[np.ndarray, np.ndarray]:
    """Start and end day offsets (0 = issue day) of each recommendation's period (−1 where off).

    The period is the run of days whose share ``inside`` is at least half its maximum, around the
    window day where the share is largest, from D+1 on (the issue day itself is observed, not warned
    for).
    """
    inside = np.asarray(inside, dtype=float)
    n, k = inside.shape
    lo, hi = window
    anchor = lo + np.argmax(inside[:, lo:hi + 1], axis=1)
    keep = inside >= 0.5 * inside.max(axis=1, keepdims=True)
    keep &= inside > 0
    keep[:, :lo] = False  # a warning is issued for the days ahead: the period starts on D+1 at the earliest
    keep[np.arange(n), anchor] = True
    start, end = _run_around(keep, anchor)
    on = np.asarray(on, dtype=bool)
    return np.where(on, start, -1), np.where(on, end, -1)


def first_episodes(values: np.ndarray, rules: RuleSet) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Today's engine on many deterministic series: the first episode of each series.

    Parameters
    ----------
    values : ndarray, shape (n, k)
        Daily AQI series (the median forecast, or persistence), lead 1 first.

    Returns
    -------
    level, start, end : ndarray, shape (n,)
        The first episode's level (0 none) and its first and last index (−1 when none), as
        :func:`emergency.engine.assess` with ``decision="median"`` recommends.
    """
    ep = episode_levels_of(np.asarray(values, dtype=np.float32), rules)
    on = ep > 0
    n, k = on.shape
    anyon = on.any(axis=1)
    first = np.where(anyon, np.argmax(on, axis=1), -1)
    level = np.where(anyon, ep[np.arange(n), np.maximum(first, 0)], 0).astype(np.int8)
    _, end = _run_around(on, np.maximum(first, 0))
    return level, first, np.where(anyon, end, -1)


def _run_around(mask: np.ndarray, anchor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last index of the run of True in each row of ``mask`` (n, k) that contains ``anchor``
    (the anchor itself counts as True)."""
    n, k = mask.shape
    rows = np.arange(n)
    start, end = anchor.copy(), anchor.copy()
    for _ in range(k):  # grow both ways while the neighbours are True
        left = np.maximum(start - 1, 0)
        start = np.where((start > 0) & mask[rows, left], left, start)
        right = np.minimum(end + 1, k - 1)
        end = np.where((end < k - 1) & mask[rows, right], right, end)
    return start, end


def observed_levels(observed: np.ndarray, issue_aqi: np.ndarray, rules: RuleSet, window=WINDOW
                    ) -> dict[str, np.ndarray]:
    """Observed level (0–3) per span of :func:`level_shares` on the same days; NaN where a day of the 11
    is not observed."""
    obs = np.asarray(observed, dtype=np.float32)
    series = np.concatenate([np.asarray(issue_aqi, np.float32)[:, None], obs], axis=-1)[:, None, :]
    sh = level_shares(series[:, :, 1:], series[:, 0, 0], rules, window)
    complete = np.isfinite(series[:, 0, :]).all(axis=1)
    return {name: np.where(complete, v.sum(axis=1), np.nan) for name, v in sh.spans.items()}


# ------------------------------------------------------------------------------------- calibration
def _reliability(p: np.ndarray, y: np.ndarray, bins: int = 10) -> list[dict]:
    """:func:`forecast.verify.reliability_table` without its empty bins, rounded for the JSON file."""
    table = reliability_table(p, y, bins)
    table = table[table["n"] > 0].round({"bin_lower": 2, "bin_upper": 2, "mean_probability": 4,
                                         "observed_frequency": 4})
    return [{k: (int(v) if k == "n" else float(v)) for k, v in row.items()} for row in table.to_dict("records")]


@dataclass
class DecisionCalibration:
    """A rule set's calibrated decision for one model (an entry of :data:`DECISION_FILE`)."""

    rules_name: str
    rules_version: str
    signature: str
    window: tuple[int, int]
    tables: dict                      # {span of SPANS: {level: isotonic table}}
    thresholds: dict                  # {level: p*}
    keep_ratio: float = 1.0           # a warning in force is kept while P ≥ keep_ratio · p*
    fold: dict = field(default_factory=dict)
    validation: dict = field(default_factory=dict)

    def calibrated(self, shares: LevelShares) -> tuple[np.ndarray, np.ndarray]:
        """Calibrated (window, horizon) probabilities, shape (n, 3), monotone across levels."""
        spans = self.calibrated_spans(shares)
        return spans["window"], spans["horizon"]

    def calibrated_spans(self, shares: LevelShares) -> dict[str, np.ndarray]:
        """Calibrated probabilities of every span the calibration has tables for, shape (n, 3) each."""
        out = {}
        for span, raw in shares.spans.items():
            if span not in self.tables:
                continue
            cols = [apply_isotonic(self.tables[span][k], raw[:, j]) for j, k in enumerate(LEVEL_KEYS)]
            out[span] = np.minimum.accumulate(np.stack(cols, axis=1), axis=1)  # P(≥ orange) ≤ P(≥ yellow)
        return out

    def levels(self, p_window: np.ndarray, in_force=None) -> np.ndarray:
        """Highest level whose calibrated probability reaches its threshold (0 = none).

        Where a warning is in force (``in_force`` > 0: yesterday's recommendation or the active
        warning), each level's threshold is lowered to ``keep_ratio · p*_L``: a warning is kept while
        its criteria stay reasonably likely, and started only when they are likely.
        """
        p_window = np.asarray(p_window, dtype=float)
        level = np.zeros(len(p_window), dtype=np.int8)
        held = np.zeros(len(p_window), dtype=bool) if in_force is None else np.asarray(in_force) > 0
        for j, k in enumerate(LEVEL_KEYS):
            t = np.where(held, self.keep_ratio * self.thresholds[k], self.thresholds[k])
            # yellow's threshold decides whether to warn at all; the higher ones which level
            level = np.where((p_window[:, j] >= t) & ((level > 0) | (j == 0)), j + 1, level)
        return level

    def sequential_levels(self, keys: pd.DataFrame, p_window: np.ndarray) -> np.ndarray:
        """:meth:`levels` over consecutive issue days of each city, yesterday's level being in force."""
        city = keys["city"].astype(str).to_numpy()
        day = pd.to_datetime(keys["issued"]).to_numpy("datetime64[D]").astype(np.int64)
        level = np.zeros(len(keys), dtype=np.int8)
        if self.keep_ratio >= 1.0:
            return self.levels(p_window)
        codes = pd.Index(sorted(set(city))).get_indexer(city)
        prev = np.zeros(codes.max() + 1 if len(codes) else 0, dtype=np.int8)
        prev_day = np.full(len(prev), np.iinfo(np.int64).min // 2)
        for d in np.unique(day):
            rows = np.flatnonzero(day == d)
            c = codes[rows]
            held = np.where(prev_day[c] == d - 1, prev[c], 0)
            lv = self.levels(p_window[rows], held)
            level[rows] = lv
            prev[c], prev_day[c] = lv, d
        return level

    def to_dict(self) -> dict:
        return {"rules": {"name": self.rules_name, "version": self.rules_version, "signature": self.signature},
                "window_lead_days": list(self.window), "calibration": self.tables,
                "thresholds": self.thresholds, "keep_ratio": self.keep_ratio, "fold": self.fold,
                "validation": self.validation}

    @classmethod
    def from_dict(cls, d: Mapping) -> "DecisionCalibration":
        return cls(rules_name=d["rules"]["name"], rules_version=d["rules"]["version"],
                   signature=d["rules"]["signature"], window=tuple(d["window_lead_days"]),
                   tables=d["calibration"], thresholds={k: float(v) for k, v in d["thresholds"].items()},
                   keep_ratio=float(d.get("keep_ratio", 1.0)), fold=d.get("fold", {}),
                   validation=d.get("validation", {}))


def recommendations(keys: pd.DataFrame, shares: LevelShares, calibration: DecisionCalibration | None,
                    name: str = "probability") -> pd.DataFrame:
    """The ``recommendations.csv`` rows of the probability decision for many forecasts.

    Parameters
    ----------
    keys : DataFrame
        ``city, issued`` of each forecast (row order of ``shares``).
    shares : LevelShares
        Of the forecasts' scenario members (:func:`level_shares`).
    calibration : DecisionCalibration
    name : str
        Written in the ``decision`` column.
    """
    issued = pd.to_datetime(keys["issued"]).to_numpy("datetime64[D]")
    if calibration is None:
        raise InputError("the probability decision needs a calibration (warning_decision.json of the model)")
    pw, _ = calibration.calibrated(shares)
    level = calibration.sequential_levels(keys, pw)
    start, end = periods(shares.inside, level > 0, calibration.window)
    return _rows(keys, issued, level, start, end, pw, name)


def median_recommendations(keys: pd.DataFrame, series: np.ndarray, rules: RuleSet, name: str = "median",
                           probabilities: np.ndarray | None = None) -> pd.DataFrame:
    """``recommendations.csv`` rows of today's engine (:func:`first_episodes`) fed ``series`` (n, 10):
    the median forecast, or persistence (the issue day's AQI at every lead)."""
    issued = pd.to_datetime(keys["issued"]).to_numpy("datetime64[D]")
    level, first, last = first_episodes(series, rules)
    on = level > 0
    # index 0 of the series is lead 1
    start, end = np.where(on, first + 1, -1), np.where(on, last + 1, -1)
    pw = probabilities if probabilities is not None else np.full((len(keys), 3), np.nan)
    return _rows(keys, issued, level, start, end, pw, name)


def _rows(keys, issued, level, start, end, pw, name) -> pd.DataFrame:
    on = level > 0
    start_d = np.where(on, issued + start.astype("timedelta64[D]"), np.datetime64("NaT"))
    end_d = np.where(on, issued + end.astype("timedelta64[D]"), np.datetime64("NaT"))
    return pd.DataFrame({
        "city": keys["city"].astype(str).to_numpy(), "issued": pd.DatetimeIndex(issued).strftime("%Y-%m-%d"),
        "level": np.asarray(["none", *LEVEL_KEYS], dtype=object)[level],
        "start": pd.DatetimeIndex(start_d).strftime("%Y-%m-%d").where(on, ""),
        "end": pd.DatetimeIndex(end_d).strftime("%Y-%m-%d").where(on, ""),
        "p_yellow": np.round(pw[:, 0], 4), "p_orange": np.round(pw[:, 1], 4), "p_red": np.round(pw[:, 2], 4),
        "decision": name})


def _search(keys, shares, pw: np.ndarray, cal: "DecisionCalibration", j: int, episodes, first, last,
            keep_grid: Sequence[float], max_far: float | None, observed_until) -> tuple[float, float, float, float]:
    """(threshold of level j (0 yellow), keep ratio, CSI, FAR) maximising the event CSI of "level ≥ j+1"
    over the grids among those whose FAR ≤ ``max_far`` (all when none is), the lower levels'
    thresholds held as they are in ``cal`` and the higher ones equal to level j's."""
    start, end = periods(shares.inside, np.ones(len(keys), dtype=bool), cal.window)
    issued = pd.to_datetime(keys["issued"]).to_numpy("datetime64[D]")
    base = pd.DataFrame({"city": keys["city"].astype(str).to_numpy(), "issued": issued,
                         "start": issued + start.astype("timedelta64[D]"),
                         "end": issued + end.astype("timedelta64[D]")})
    trials = []
    for keep in keep_grid:
        for t in THRESHOLD_GRID:
            trial = DecisionCalibration(cal.rules_name, cal.rules_version, cal.signature, cal.window, cal.tables,
                                        {**cal.thresholds, **{k: float(t) for k in LEVEL_KEYS[j:]}}, keep)
            level = trial.sequential_levels(keys, pw)
            c = verify_events(base.assign(level=level), episodes, first, last, min_level=j + 1,
                              with_events=False, observed_until=observed_until).counts
            if np.isfinite(c["csi"]):
                trials.append((float(t), float(keep), float(c["csi"]), float(c["far"])))
    if not trials:
        return float(THRESHOLD_GRID[-1]), cal.keep_ratio, float("nan"), float("nan")
    within = [x for x in trials if max_far is None or x[3] <= max_far]
    # the best CSI; among equal CSIs the higher threshold (fewer warnings)
    return max(within or trials, key=lambda x: (round(x[2], 12), x[0]))


def calibrate(scenarios, observations: pd.DataFrame, rules: "RuleSet | str" = "national-2024",
              fold: Mapping[str, Any] | None = None, max_far: float | None = MAX_FAR) -> DecisionCalibration:
    """Calibrate a rule set's level probabilities and choose its thresholds on a validation fold.

    Parameters
    ----------
    scenarios : forecast.model.ValidationScenarios
        The held-out forecasts of the model's validation fold (``ForecastModel.validation_scenarios_``).
    observations : DataFrame
        ``city, date, aqi``: the observed daily AQI of the training period (for the observed episodes).
    rules : RuleSet or name
    fold : mapping, optional
        Description of the fold stored with the calibration (span, scheme).
    max_far : float or None
        The thresholds maximise the event CSI among those whose FAR on the fold is at most this.
    """
    rules = load_rules(rules)
    keys = scenarios.keys.reset_index(drop=True)
    members = scenarios.members
    by_primary = rules.colour_pollutants is not None and scenarios.primary is not None
    if by_primary:
        # graded as a forecast is graded (forecast_recommendations, engine.assess): a day led by a
        # pollutant that starts no colour warning counts in no member; the observed events stay all days
        members = np.where(colour_days(scenarios.primary, rules)[:, None, :], members, np.nan)
    elif rules.colour_pollutants is not None:
        warnings.warn(f"{rules.name}: the validation scenarios carry no primary pollutants; the fold is graded "
                      f"on every day, not by primary pollutant as a forecast is", RuntimeWarning, stacklevel=2)
    shares = level_shares(members, scenarios.issue_aqi, rules)
    observed_spans = observed_levels(scenarios.observed, scenarios.issue_aqi, rules)
    tables: dict = {span: {} for span in SPANS}
    issued = pd.to_datetime(keys["issued"])
    # two-fold cross-fitting by alternate 15-day blocks of issue days: the out-of-fold reliability
    block = ((issued - issued.min()).dt.days // 15).to_numpy() % 2
    reliability: dict = {span: {} for span in SPANS}
    bss: dict = {span: {} for span in SPANS}
    for span in SPANS:
        raw, obs = shares.spans[span], observed_spans[span]
        for j, k in enumerate(LEVEL_KEYS):
            y = np.where(np.isfinite(obs), obs >= j + 1, np.nan)
            tables[span][k] = fit_isotonic(raw[:, j], y)
            oof = np.full(len(y), np.nan)
            for b in (0, 1):
                tab = fit_isotonic(raw[block != b, j], y[block != b])
                oof[block == b] = apply_isotonic(tab, raw[block == b, j])
            reliability[span][k] = _reliability(oof, y)
            ok = np.isfinite(oof) & np.isfinite(y)
            clim = np.nanmean(y[ok]) if ok.any() else np.nan
            bs = np.mean((oof[ok] - y[ok]) ** 2) if ok.any() else np.nan
            bs_ref = np.mean((clim - y[ok]) ** 2) if ok.any() else np.nan
            bss[span][k] = {"n": int(ok.sum()), "base_rate": round(float(clim), 5),
                            "brier": round(float(bs), 5),
                            "bss": round(float(1 - bs / bs_ref), 4) if bs_ref and np.isfinite(bs_ref) else None}
    cal = DecisionCalibration(rules.name, rules.version, rules_signature(rules), WINDOW, tables,
                              {k: 0.5 for k in LEVEL_KEYS})
    pw, _ = cal.calibrated(shares)
    first, last = issued.min(), issued.max()
    cities = sorted(keys["city"].astype(str).unique())
    episodes = observed_episodes(observations, rules, cities, first - pd.Timedelta(days=20),
                                 last + pd.Timedelta(days=HORIZON + 3))
    until = observed_through(observations)  # runs reaching past the data are pending, not false alarms
    chosen = {}
    if rules.cost_loss:
        cal.thresholds, chosen = _economic_thresholds(pw, observed_spans["window"], rules), {}
        cal.keep_ratio = 1.0
        for j, k in enumerate(LEVEL_KEYS):
            chosen[k] = {"cost_loss_ratio": rules.cost_loss[WarningLevel(j + 1)],
                         "rule": "maximises the relative economic value at the cost-loss ratio"}
    for j, k in enumerate(LEVEL_KEYS if not rules.cost_loss else ()):
        n_ep = int(((episodes["level"] >= j + 1) & (episodes["start"] > first.to_datetime64())
                    & (episodes["start"] <= (last + pd.Timedelta(days=1)).to_datetime64())).sum())
        if n_ep >= MIN_THRESHOLD_EPISODES or j == 0:
            # the keep ratio is chosen with the yellow threshold (any warning in force) and then held
            t, keep, csi, far = _search(keys, shares, pw, cal, j, episodes, first, last,
                                        KEEP_GRID if j == 0 else (cal.keep_ratio,), max_far if j == 0 else None,
                                        until)
            cal.keep_ratio = keep
            chosen[k] = {"episodes": n_ep, "event_csi": round(csi, 4), "event_far": round(far, 4),
                         "rule": (f"maximises the event CSI among thresholds with FAR ≤ {max_far}"
                                  if j == 0 and max_far is not None and far <= max_far
                                  else "maximises the event CSI")}
        else:
            t = cal.thresholds[LEVEL_KEYS[j - 1]]
            chosen[k] = {"episodes": n_ep, "rule": f"fewer than {MIN_THRESHOLD_EPISODES} episodes: the "
                                                   f"{LEVEL_KEYS[j - 1]} threshold"}
        cal.thresholds = {**cal.thresholds, **{kk: float(t) for kk in LEVEL_KEYS[j:]}}
    recs = recommendations(keys, shares, cal)
    scored = verify_events(recs, episodes, first, last, with_events=False, observed_until=until).counts
    cal.fold = dict(fold or {}, issue_days=[str(first.date()), str(last.date())], cities=len(cities),
                    forecasts=int(len(keys)), members=int(scenarios.members.shape[1]),
                    colour_days_by_primary_pollutant=by_primary)
    cal.validation = {"thresholds": chosen, "event_scores": scored, "reliability_out_of_fold": reliability,
                      "brier_out_of_fold": bss,
                      "note": "event scores at the chosen thresholds on the fold they were chosen on (in sample); "
                              "reliability and Brier skill out of fold (two-fold cross-fitting by 15-day blocks)"}
    return cal


def _economic_thresholds(pw: np.ndarray, observed: np.ndarray, rules: RuleSet) -> dict:
    """Per level, the threshold of the grid maximising Richardson's relative economic value at the rule
    set's cost–loss ratio (``scores.probability.relative_economic_value``), on the calibrated window
    probabilities against the observed window events of the fold."""
    import xarray as xr
    from scores.probability import relative_economic_value

    out = {}
    for j, k in enumerate(LEVEL_KEYS):
        y = np.where(np.isfinite(observed), (observed >= j + 1).astype(float), np.nan)
        ok = np.isfinite(y) & np.isfinite(pw[:, j])
        alpha = rules.cost_loss[WarningLevel(j + 1)]
        rev = relative_economic_value(xr.DataArray(pw[ok, j], dims="case"), xr.DataArray(y[ok], dims="case"),
                                      cost_loss_ratios=[alpha], probability_thresholds=list(THRESHOLD_GRID))
        values = np.asarray(rev.values, dtype=float).ravel()
        out[k] = float(THRESHOLD_GRID[int(np.nanargmax(values))]) if np.isfinite(values).any() else float(alpha)
    return out


# ------------------------------------------------------------------------------------- storage
def save_calibrations(model_dir: "str | os.PathLike", calibrations: Sequence[DecisionCalibration]) -> Path:
    """Write :data:`DECISION_FILE` in the model folder (atomically) and name it in ``card.json``."""
    folder = Path(model_dir)
    path = folder / DECISION_FILE
    doc = {"note": "warning decision calibrated on the model's validation fold (emergency.decision)",
           "rule_sets": {c.rules_name: c.to_dict() for c in calibrations}}
    atomic_write_text(path, json.dumps(doc, ensure_ascii=False, indent=1))
    card_path = folder / "card.json"
    if card_path.exists():
        card = json.loads(card_path.read_text(encoding="utf-8"))
        card["warning_decision"] = {
            "file": DECISION_FILE, "window_lead_days": list(WINDOW),
            "rule_sets": {c.rules_name: {"version": c.rules_version, "thresholds": c.thresholds,
                                         "fold": c.fold} for c in calibrations},
            "method": "isotonic calibration of the share of scenario members meeting each level's criteria in "
                      "each span of lead days; on the validation fold, p*_yellow and the keep ratio maximise the "
                      "event CSI among the choices with an event FAR within the bound, p*_orange and p*_red the "
                      "event CSI of their level (or all three the relative economic value at a rule set's "
                      "cost-loss ratio)"}
        atomic_write_text(card_path, json.dumps(card, ensure_ascii=False, indent=1))
    return path


def load_calibration(model_dir: "str | os.PathLike | None", rules: "RuleSet | str") -> DecisionCalibration | None:
    """The model's calibration for ``rules`` (matched by the grading signature, :func:`rules_signature`),
    or None when the model has none for it."""
    if model_dir is None:
        return None
    path = Path(model_dir) / DECISION_FILE
    if not path.exists():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON: {exc}") from exc
    rules = load_rules(rules)
    sig = rules_signature(rules)
    entries = [DecisionCalibration.from_dict(d) for d in doc.get("rule_sets", {}).values()]
    for c in entries:
        if c.signature == sig:
            return c
    return None


# ------------------------------------------------------------------------------------- many forecasts
def forecast_recommendations(ds, rules: "RuleSet | str", calibration: DecisionCalibration | None,
                             decisions: Sequence[str] = ("probability", "median", "persistence"),
                             observations: pd.DataFrame | None = None):
    """Recommendations of every city and issue day of a forecast Dataset (a backtest), per decision.

    Parameters
    ----------
    ds : xarray.Dataset
        The forecast layout of :func:`forecast.product.forecast_dataset` with ``aqi_scenario`` (members)
        and ``aqi_issue_day`` (the issue day's observed AQI; NaN where absent).
    rules : RuleSet or name
    calibration : DecisionCalibration or None
        The model's calibration for ``rules``; without it the ``probability`` decision is left out.
    decisions : sequence of str
        ``probability`` (the product's decision), ``median`` (today's engine on the median series) and
        ``persistence`` (today's engine on the issue day's AQI repeated at every lead).

    observations : DataFrame, optional
        ``city, date, aqi``: with them (and a calibration), the calibrated level probabilities of every
        span are scored too (:func:`probability_scores`) and ``(recommendations, scores, reliability)``
        is returned.

    Returns
    -------
    DataFrame
        :data:`emergency.events.RECOMMENDATION_COLUMNS`, one row per decision, city and issue day
        that has a forecast.

    Notes
    -----
    Under a rule set with ``by_pollutant`` the days whose primary pollutant starts no colour warning
    (:func:`colour_mask`) are left out of the median and of every member, exactly as
    :func:`emergency.engine.assess` grades one forecast; the issue day's observed AQI and the
    persistence reference (which says nothing of the pollutant) are graded as they are. Without a
    ``primary_pollutant`` (or pollutant quantiles) in the Dataset every day counts, as before.
    """
    rules = load_rules(rules)
    ds = ds.sortby("lead_day")
    cities = [str(c) for c in ds["city"].values]
    issued = pd.DatetimeIndex(ds["issued"].values)
    n_c, n_i, L = ds.sizes["city"], ds.sizes["issued"], ds.sizes["lead_day"]
    want_members = calibration is not None and ("probability" in decisions or "median" in decisions
                                                or observations is not None)
    if want_members and "aqi_scenario" not in ds:
        raise InputError("forecast: the probability decision needs the scenario members (aqi_scenario); the "
                         f"variables are {sorted(ds.data_vars)}")
    scen = (ds["aqi_scenario"].transpose("city", "issued", "member", "lead_day").values
            .reshape(n_c * n_i, -1, L) if want_members else np.full((n_c * n_i, 0, L), np.nan))
    median = ds["aqi"].sel(quantile=0.5).transpose("city", "issued", "lead_day").values.reshape(n_c * n_i, L)
    if "aqi_issue_day" in ds:
        issue = ds["aqi_issue_day"].transpose("city", "issued").values.reshape(-1).astype(float)
    else:
        issue = np.full(n_c * n_i, np.nan)
    keys = pd.DataFrame({"city": np.repeat(cities, n_i), "issued": np.tile(issued.values, n_c)})
    have = np.isfinite(median).all(axis=1)
    keys, scen, median, issue = keys[have].reset_index(drop=True), scen[have], median[have], issue[have]
    colour = colour_mask(ds, rules)
    if colour is not None:  # by primary pollutant, as emergency.engine.assess grades one forecast
        colour = colour[have]
        median = np.where(colour, median, np.nan)
        scen = np.where(colour[:, None, :], scen, np.nan)
    out = []
    pw = np.full((len(keys), 3), np.nan)
    if want_members:
        shares = level_shares(scen, issue, rules, calibration.window)
        air = recommendations(keys, shares, calibration)
        pw = air[["p_yellow", "p_orange", "p_red"]].to_numpy(float)
        if "probability" in decisions:
            out.append(air)
    if "median" in decisions:
        out.append(median_recommendations(keys, median, rules, "median", pw))
    if "persistence" in decisions:
        out.append(median_recommendations(keys, np.repeat(issue[:, None], L, axis=1), rules, "persistence"))
    recs = pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=list(RECOMMENDATION_COLUMNS))
    if observations is None:
        return recs
    if calibration is None:
        return recs, pd.DataFrame(), pd.DataFrame()
    return (recs, *probability_scores(keys, shares, calibration, observations, rules))


def colour_mask(ds, rules: RuleSet) -> np.ndarray | None:
    """Which forecast days count toward the colour levels under the rule set's ``by_pollutant``.

    The same rule as :func:`emergency.engine.colour_days` for one forecast: a day counts when one of
    its primary pollutants starts colour warnings (:meth:`RuleSet.counts_for_colour`; an empty or
    unknown primary pollutant counts). The primary pollutant is the Dataset's ``primary_pollutant``,
    else the AQI engine on the median pollutant quantiles (as the engine reads a forecast file). The
    scenario members are AQI only: a member-day counts when the median's day does.

    Parameters
    ----------
    ds : xarray.Dataset
        Forecast layout of :func:`forecast.product.forecast_dataset` (sorted by ``lead_day``).
    rules : RuleSet

    Returns
    -------
    ndarray of bool, shape (city × issued, lead_day), or None
        Row order of :func:`forecast_recommendations` (city-major); None when every day counts (the rule
        set has no ``by_pollutant``, or the Dataset says nothing about the primary pollutant).
    """
    if rules.colour_pollutants is None:
        return None
    n, L = ds.sizes["city"] * ds.sizes["issued"], ds.sizes["lead_day"]
    if "primary_pollutant" in ds:
        names = ds["primary_pollutant"].transpose("city", "issued", "lead_day").values.reshape(n, L)
    else:
        from airwarn.core.vocab import DAILY_POLLUTANTS
        from forecast.aqi import primary_pollutants

        pols = [p for p in DAILY_POLLUTANTS if p in ds and "quantile" in ds[p].dims]
        if not pols:
            return None
        med = {p: ds[p].sel(quantile=0.5, method="nearest").transpose("city", "issued", "lead_day").values
               .reshape(n, L).astype(float) for p in pols}
        dates = None
        if "valid_date" in ds:
            dates = np.broadcast_to(ds["valid_date"].broadcast_like(ds[pols[0]].sel(quantile=0.5, method="nearest"))
                                    .transpose("city", "issued", "lead_day").values.reshape(n, L), (n, L))
        names = primary_pollutants(med, dates=dates)
    return colour_days(np.asarray(names, dtype=object).reshape(n, L), rules)


def colour_days(primary: np.ndarray, rules: RuleSet) -> np.ndarray:
    """Which days of primary pollutant names (comma-joined; ``""``/None unknown) count toward the colour
    levels (:meth:`RuleSet.counts_for_colour`), same shape."""
    names = np.asarray(primary, dtype=object)
    names = np.where(pd.isna(names), "", names).astype(str)
    uniq, inv = np.unique(names, return_inverse=True)
    counts = np.array([rules.counts_for_colour(u) for u in uniq], dtype=bool)
    return counts[inv].reshape(names.shape)


def probability_scores(keys: pd.DataFrame, shares: LevelShares, calibration: DecisionCalibration,
                       observations: pd.DataFrame, rules: RuleSet) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Brier score, Brier skill and reliability of the calibrated level probabilities of every span.

    The reference is the climatological frequency of the criterion: each city's own frequency of the
    event over the scored forecasts (the sample climatology, known only afterwards: a strict reference).

    Returns
    -------
    scores : DataFrame
        ``span,level,n,base_rate,brier,brier_reference,bss``.
    reliability : DataFrame
        ``span,level,bin_lower,bin_upper,n,mean_probability,observed_frequency`` (deciles).
    """
    o = observations[["city", "date", "aqi"]].assign(city=observations["city"].astype(str),
                                                     date=pd.to_datetime(observations["date"]).dt.normalize())
    series = o.groupby(["city", "date"])["aqi"].mean()
    issued = pd.to_datetime(keys["issued"]).to_numpy("datetime64[D]")
    cities = keys["city"].astype(str).to_numpy()
    days = issued[:, None] + np.arange(0, HORIZON + 1)[None] * np.timedelta64(1, "D")
    idx = pd.MultiIndex.from_arrays([np.repeat(cities, HORIZON + 1), days.ravel().astype("datetime64[ns]")])
    obs = series.reindex(idx).to_numpy(float).reshape(len(keys), HORIZON + 1)
    observed = observed_levels(obs[:, 1:], obs[:, 0], rules, calibration.window)
    probs = calibration.calibrated_spans(shares)
    rows, rel = [], []
    for span, p in probs.items():
        for j, k in enumerate(LEVEL_KEYS):
            y = np.where(np.isfinite(observed[span]), observed[span] >= j + 1, np.nan)
            ok = np.isfinite(y) & np.isfinite(p[:, j])
            if not ok.any():
                continue
            frame = pd.DataFrame({"city": cities[ok], "p": p[ok, j], "y": y[ok]})
            frame["clim"] = frame.groupby("city")["y"].transform("mean")
            bs = float(np.mean((frame["p"] - frame["y"]) ** 2))
            ref = float(np.mean((frame["clim"] - frame["y"]) ** 2))
            rows.append((span, k, int(ok.sum()), float(frame["y"].mean()), bs, ref,
                         1 - bs / ref if ref > 0 else np.nan))
            rel += [(span, k, *r.values()) for r in _reliability(frame["p"].to_numpy(), frame["y"].to_numpy())]
    scores = pd.DataFrame(rows, columns=["span", "level", "n", "base_rate", "brier", "brier_reference", "bss"])
    reliability = pd.DataFrame(rel, columns=["span", "level", "bin_lower", "bin_upper", "n", "mean_probability",
                                             "observed_frequency"])
    return scores, reliability
