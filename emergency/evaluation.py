"""Weather-normalised evaluation of a warning episode (总结评估): how much of the change was the measures?

For each warning episode, the business-as-usual model (:mod:`forecast.bau`, trained on weather and
calendar without warning days and the :data:`forecast.bau.AFTER_DAYS` days after each) gives what the
city's PM2.5 and the fast tracers NO2, SO2, CO would have been without measures. Then

* **effect** = Σ (observed − BAU median) over the warning days and :data:`EFFECT_LAG_DAYS` lag days
  [µg/m³·day; CO mg/m³·day], and relative = Σ observed / Σ BAU − 1 [%]. **Band**: the same with the
  BAU p95 and p05 in place of the median (their sums: the days' errors taken as fully dependent, a
  conservative 90 % band);
* **placebo null**: the same relative effect of every window of the same length on **non-warning
  stagnant days** of the training span, each predicted by a BAU model that did not see its month
  (:attr:`forecast.bau.BauModel.oof`). A window qualifies when it lies in the episode's half-year
  (October–March or April–September), holds no excluded day, and at least
  ``max(1, n − 1)`` of its first ``n`` days (``n`` = warning days) are stagnant by :class:`StagnationRule`
  (daily mean wind ≤ 1.5 m/s, relative humidity ≥ 50 %, rain < 1 mm: the weather warnings are issued
  in). The effect's **percentile** in that distribution decides: inside the central 90 % (5th–95th)
  the effect is **not detectable** against the weather's own variation; below the 5th percentile it
  is a detectable reduction, above the 95th a detectable increase; with fewer than
  :data:`MIN_PLACEBO` windows it is not judged. The placebo median is also the BAU's typical error on
  such days: ``adjusted_relative`` = relative − placebo median;
* the **timeliness** of the warning (:func:`timeliness`) from the event definitions of
  :mod:`emergency.events` when its issue day is known (a warning record, or ``issued`` given), else
  not available; the **planned against achieved cuts** when compliance data exist
  (:func:`compliance_summary`); the **benefit model's** prediction beside the estimate when given.

:func:`evaluate_episodes` runs it all; :func:`evaluation_summary` is the small dict a page shows;
:mod:`emergency.evaluation_report` writes the Chinese report.
"""
from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from airwarn.core.errors import InputError
from airwarn.core.vocab import DAILY_POLLUTANTS
from forecast.bau import AFTER_DAYS, BAU_POLLUTANTS, BauModel, fit_bau, predict_bau

__all__ = [
    "CENTRAL", "EFFECT_LAG_DAYS", "MIN_PLACEBO", "Episode", "EpisodeEvaluation", "PollutantEffect",
    "StagnationRule", "benefit_prediction", "compliance_summary", "evaluate_episodes", "evaluation_summary",
    "load_control_periods", "placebo_windows", "prsa_city_inputs", "timeliness",
]

#: Days after a warning's end counted in its effect (the measures' after-effect, the pollution's lag).
EFFECT_LAG_DAYS = 2
#: Central share of the placebo distribution inside which an effect is "not detectable".
CENTRAL = 0.90
#: Fewest placebo windows for a judgement.
MIN_PLACEBO = 20
#: The cold half-year (months); the other months form the warm one.
COLD_MONTHS: tuple[int, ...] = (10, 11, 12, 1, 2, 3)


@dataclass(frozen=True)
class StagnationRule:
    """A stagnant (静稳) day from the station weather: weak wind, humid, dry.

    Attributes
    ----------
    max_wind : float
        Largest daily mean wind speed [m/s] (station mean of the UCI ``WSPM``).
    min_rh : float
        Smallest daily mean relative humidity [%].
    max_rain : float
        Rain below this [mm/day].
    """

    max_wind: float = 1.5
    min_rh: float = 50.0
    max_rain: float = 1.0

    def days(self, met: pd.DataFrame) -> pd.Series:
        """Boolean series indexed by day (missing weather: not stagnant)."""
        m = met.copy()
        m["date"] = pd.to_datetime(m["date"]).dt.normalize()
        m = m.groupby("date").mean(numeric_only=True)
        for col in ("wspm", "rh"):
            if col not in m.columns:
                raise InputError(f"stagnation rule: the meteorology needs '{col}'; got columns {list(met.columns)}")
        rain = m["rain"] if "rain" in m.columns else pd.Series(0.0, index=m.index)
        out = (m["wspm"] <= self.max_wind) & (m["rh"] >= self.min_rh) & ~(rain >= self.max_rain)
        return out.fillna(False).astype(bool)

    def text_zh(self) -> str:
        """The rule in the report's words."""
        return (f"日均风速不超过{self.max_wind:g}米/秒、日均相对湿度不低于{self.min_rh:g}%、"
                f"日降水量小于{self.max_rain:g}毫米")

    def to_dict(self) -> dict:
        return {"max_wind_m_s": self.max_wind, "min_rh_percent": self.min_rh, "max_rain_mm": self.max_rain}


@dataclass(frozen=True)
class Episode:
    """A warning episode to evaluate.

    Attributes
    ----------
    start, end : date
        The warning period (Beijing natural days, inclusive).
    level : str
        ``yellow``, ``orange`` or ``red``.
    city : str
    warning_id : int, optional
        Its record in the database, when it has one.
    issued : date, optional
        The day the warning was issued (Beijing time), for the timeliness.
    """

    start: dt.date
    end: dt.date
    level: str = "red"
    city: str = ""
    warning_id: int | None = None
    issued: dt.date | None = None

    def __post_init__(self):
        if self.end < self.start:
            raise InputError(f"warning period: expected start ≤ end, got {self.start} … {self.end}")
        if self.level not in ("yellow", "orange", "red"):
            raise InputError(f"warning level: expected yellow, orange or red, got {self.level!r}")

    @property
    def days(self) -> int:
        """Warning days."""
        return (self.end - self.start).days + 1

    def window(self, lag_days: int = EFFECT_LAG_DAYS) -> pd.DatetimeIndex:
        """The warning days and the lag days after them."""
        return pd.date_range(self.start, self.end + dt.timedelta(days=lag_days), freq="D")

    def key(self) -> str:
        """A file-name stem: ``<start>_<level>``."""
        return f"{self.start.isoformat()}_{self.level}"


@dataclass(frozen=True)
class PollutantEffect:
    """The effect on one pollutant over an episode's window (module notes for the definitions).

    Attributes
    ----------
    pollutant : str
    days : int
        Window days with both an observation and a BAU value (the sums run over them).
    observed, bau, bau_p05, bau_p95 : float
        Sums over those days [µg/m³·day; CO mg/m³·day].
    effect, effect_low, effect_high : float
        Σ observed − Σ BAU median, − Σ p95, − Σ p05.
    relative, relative_low, relative_high : float
        Σ observed / Σ BAU − 1 with the median, p95 and p05 [%].
    placebo_n : int
    placebo_p05, placebo_p50, placebo_p95 : float
        Quantiles of the placebo relative effects [%].
    percentile : float
        Share of placebo relative effects below the effect's (ties counted half) [%].
    verdict : str
        ``reduction``, ``increase``, ``not_detectable`` or ``not_judged``.
    adjusted_relative, adjusted_low, adjusted_high : float
        ``relative − placebo_p50`` [%], and the empirical 90 % band ``relative − placebo_p95`` …
        ``relative − placebo_p05``: the effect net of the BAU's typical error on such windows, with the
        spread of that error.
    minimum_detectable : float
        The relative reduction [%, negative] a typical such window (at the placebo median) needs to fall below
        the placebo's 5th percentile: ``(1 + p05) / (1 + p50) − 1``; smaller reductions cannot be told from
        the weather's variation.
    """

    pollutant: str
    days: int
    observed: float
    bau: float
    bau_p05: float
    bau_p95: float
    effect: float
    effect_low: float
    effect_high: float
    relative: float
    relative_low: float
    relative_high: float
    placebo_n: int
    placebo_p05: float
    placebo_p50: float
    placebo_p95: float
    percentile: float
    verdict: str
    adjusted_relative: float
    adjusted_low: float
    adjusted_high: float
    minimum_detectable: float

    @property
    def detectable(self) -> bool | None:
        """True for a detectable reduction or increase, False inside the placebo's central 90 %,
        None when not judged."""
        return None if self.verdict == "not_judged" else self.verdict != "not_detectable"

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["detectable"] = self.detectable
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in d.items()}


@dataclass(frozen=True)
class EpisodeEvaluation:
    """The evaluation of one episode (:func:`evaluate_episodes`).

    Attributes
    ----------
    episode : Episode
    days : DataFrame
        Per window day: ``date, in_warning, stagnant`` and for each pollutant ``<p>`` (observed),
        ``<p>_p05, <p>_p50, <p>_p95`` (BAU), ``aqi`` when known.
    effects : mapping pollutant → PollutantEffect
        PM2.5 first, then the gases.
    placebo : DataFrame
        The placebo windows: ``start, end`` and ``<p>_relative`` [%] per pollutant.
    rule : StagnationRule
    bau : dict
        The BAU model's card (:meth:`forecast.bau.BauModel.card`).
    lag_days : int
    timeliness : dict or None
        :func:`timeliness`, None when the issue day is unknown.
    compliance : DataFrame or None
        :func:`compliance_summary`, None without compliance data.
    benefit : dict or None
        The benefit model's prediction for the episode (``pm25_relative`` [%] with ``low``/``high``,
        ``source``), None when it is not available.
    synthetic : bool
        The inputs are synthetic (marked in the report).
    notes : tuple of str
        Caveats found on the way (English; the report renders its own Chinese).
    placebo_months : tuple of int
        Months the placebo windows were drawn from.
    """

    episode: Episode
    days: pd.DataFrame
    effects: Mapping[str, PollutantEffect]
    placebo: pd.DataFrame
    rule: StagnationRule
    bau: dict
    lag_days: int = EFFECT_LAG_DAYS
    timeliness: dict | None = None
    compliance: pd.DataFrame | None = None
    benefit: dict | None = None
    synthetic: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)
    placebo_months: tuple[int, ...] = COLD_MONTHS

    @property
    def pm25(self) -> PollutantEffect | None:
        """The PM2.5 effect (None if PM2.5 was not modelled)."""
        return self.effects.get("pm25")

    def to_dict(self) -> dict:
        """JSON-ready: the episode, effects, placebo summary, timeliness, compliance, benefit, notes."""
        e = self.episode
        return {"episode": {"city": e.city, "level": e.level, "start": e.start.isoformat(), "end": e.end.isoformat(),
                            "days": e.days, "warning_id": e.warning_id,
                            "issued": e.issued.isoformat() if e.issued else None},
                "lag_days": self.lag_days, "effects": {p: x.to_dict() for p, x in self.effects.items()},
                "placebo_windows": int(len(self.placebo)), "placebo_months": list(self.placebo_months),
                "stagnation_rule": self.rule.to_dict(),
                "stagnant_warning_days": int(self.days.loc[self.days["in_warning"], "stagnant"].sum()),
                "bau": self.bau, "timeliness": self.timeliness,
                "compliance": None if self.compliance is None else self.compliance.to_dict("records"),
                "benefit": self.benefit, "synthetic": self.synthetic, "notes": list(self.notes)}


def load_control_periods(source: "str | Path" = "beijing-2013-2015", city: str | None = None) -> pd.DataFrame:
    """Known warning and control periods to leave out of BAU training.

    Parameters
    ----------
    source : str or path
        A bundled name (``beijing-2013-2015``: ``emergency/data/control_periods_beijing_2013-2015.csv``) or a
        CSV path with ``start,end`` and optional ``city,kind,level,source``.
    city : str, optional
        Keep the rows of this city (and those without a city).

    Returns
    -------
    DataFrame
        ``city, start, end, kind, level, source`` (dates as ``datetime.date``).

    Raises
    ------
    InputError
        A row whose start or end is not a date, or ends before it starts (file and row named).
    """
    path = Path(source)
    if not path.exists() and "/" not in str(source) and not str(source).endswith(".csv"):
        name = f"data/control_periods_{source.replace('-', '_', 1)}.csv"
        ref = resources.files("emergency").joinpath(name)
        if not ref.is_file():
            raise InputError(f"control periods: no bundled table {source!r} (expected e.g. 'beijing-2013-2015') "
                             f"and no such file")
        with ref.open(encoding="utf-8") as fh:
            table = pd.read_csv(fh, dtype=str, keep_default_na=False)
        where = f"emergency/{name}"
    else:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
        where = str(path)
    for col in ("start", "end"):
        if col not in table.columns:
            raise InputError(f"{where}: expected a column '{col}'; got columns {list(table.columns)}")
    for col in ("city", "kind", "level", "source"):
        if col not in table.columns:
            table[col] = ""
    rows = []
    for i, r in table.iterrows():
        try:
            a, b = dt.date.fromisoformat(r["start"].strip()), dt.date.fromisoformat(r["end"].strip())
        except ValueError:
            raise InputError(f"{where} row {i + 2}: columns start/end: expected dates YYYY-MM-DD, got "
                             f"{r['start']!r}, {r['end']!r}") from None
        if b < a:
            raise InputError(f"{where} row {i + 2}: expected start ≤ end, got {a} … {b}")
        rows.append({"city": r["city"].strip(), "start": a, "end": b, "kind": r["kind"], "level": r["level"],
                     "source": r["source"]})
    out = pd.DataFrame(rows, columns=["city", "start", "end", "kind", "level", "source"])
    if city is not None:
        out = out[(out["city"] == "") | (out["city"] == city)]
    return out.reset_index(drop=True)


def _half_year(month: int) -> tuple[int, ...]:
    return COLD_MONTHS if month in COLD_MONTHS else tuple(m for m in range(1, 13) if m not in COLD_MONTHS)


def placebo_windows(obs: pd.DataFrame, oof: pd.DataFrame, stagnant: pd.Series, n_warning: int, length: int,
                    months: Sequence[int], pollutants: Sequence[str]) -> pd.DataFrame:
    """Relative effects of same-length windows on non-warning stagnant days (the placebo null).

    Parameters
    ----------
    obs : DataFrame
        Indexed by day: observed ``pollutants``.
    oof : DataFrame
        :func:`forecast.bau.cross_fit_bau`: out-of-fold ``<p>_p50`` of the training days (excluded days absent).
    stagnant : Series of bool
        Indexed by day (:meth:`StagnationRule.days`).
    n_warning : int
        Warning days of the episode: at least ``max(1, n_warning − 1)`` of a window's first ``n_warning``
        days must be stagnant.
    length : int
        Window length (warning days + lag days).
    months : sequence of int
        Months every day of a window must lie in.
    pollutants : sequence of str

    Returns
    -------
    DataFrame
        ``start, end`` and ``<p>_relative`` [%] (NaN when a window lacks that pollutant on a day), one row
        per qualifying window; windows overlap (every start day is tried).
    """
    o = oof.set_index(pd.to_datetime(oof["date"]))
    days = o.index
    if not len(days):
        return pd.DataFrame(columns=["start", "end", *[f"{p}_relative" for p in pollutants]])
    grid = pd.date_range(days.min(), days.max(), freq="D")
    present = pd.Series(grid.isin(days), index=grid)
    in_season = pd.Series(grid.month.isin(list(months)), index=grid)
    stag = stagnant.reindex(grid).fillna(False).astype(bool)
    ok = (present & in_season).to_numpy()
    st = stag.to_numpy()
    need = max(1, n_warning - 1)
    rows = []
    for i in range(len(grid) - length + 1):
        if not ok[i:i + length].all() or st[i:i + n_warning].sum() < need:
            continue
        win = grid[i:i + length]
        row = {"start": win[0].date(), "end": win[-1].date()}
        for p in pollutants:
            col = f"{p}_p50"
            if col not in o.columns or p not in obs.columns:
                row[f"{p}_relative"] = np.nan
                continue
            ob = obs[p].reindex(win).to_numpy(float)
            bau = o[col].reindex(win).to_numpy(float)
            good = np.isfinite(ob) & np.isfinite(bau)
            row[f"{p}_relative"] = (100.0 * (ob[good].sum() / bau[good].sum() - 1.0)
                                    if good.sum() == length and bau[good].sum() > 0 else np.nan)
        rows.append(row)
    return pd.DataFrame(rows, columns=["start", "end", *[f"{p}_relative" for p in pollutants]])


def _verdict(value: float, placebo: np.ndarray) -> tuple[float, str]:
    placebo = placebo[np.isfinite(placebo)]
    if not np.isfinite(value) or len(placebo) == 0:
        return float("nan"), "not_judged"
    pct = 100.0 * (float((placebo < value).sum()) + 0.5 * float((placebo == value).sum())) / len(placebo)
    if len(placebo) < MIN_PLACEBO:
        return pct, "not_judged"
    tail = 100.0 * (1.0 - CENTRAL) / 2.0
    if pct < tail:
        return pct, "reduction"
    if pct > 100.0 - tail:
        return pct, "increase"
    return pct, "not_detectable"


def _effect(pollutant: str, obs: np.ndarray, p05: np.ndarray, p50: np.ndarray, p95: np.ndarray,
            placebo: np.ndarray) -> PollutantEffect:
    good = np.isfinite(obs) & np.isfinite(p50)
    n = int(good.sum())
    so, s05, s50, s95 = (float(x[good].sum()) if n else float("nan") for x in (obs, p05, p50, p95))

    def rel(base: float) -> float:
        return 100.0 * (so / base - 1.0) if n and base > 0 else float("nan")

    finite = placebo[np.isfinite(placebo)]
    q = np.quantile(finite, [0.05, 0.5, 0.95]) if len(finite) else np.full(3, np.nan)
    pct, verdict = _verdict(rel(s50), placebo)
    return PollutantEffect(pollutant, n, so, s50, s05, s95, so - s50, so - s95, so - s05, rel(s50), rel(s95),
                           rel(s05), int(len(finite)), float(q[0]), float(q[1]), float(q[2]), pct, verdict,
                           rel(s50) - float(q[1]), rel(s50) - float(q[2]), rel(s50) - float(q[0]),
                           100.0 * ((1 + q[0] / 100.0) / (1 + q[1] / 100.0) - 1.0))


def timeliness(episode: Episode, observed_aqi: pd.DataFrame | None, rules="national-2024") -> dict | None:
    """Was the warning issued in time for the episode the observed AQI shows?

    Scores the warning as one recommendation (issued on ``episode.issued``, the warning's level and
    period) against the observed episodes (:func:`emergency.events.observed_episodes`) with the event
    definitions of :func:`emergency.events.verify_events` (hit: issued 1–3 days before the observed
    episode's start, period overlapping; level right; lead).

    Returns
    -------
    dict or None
        None without an issue day or observed AQI; else ``issued, observed`` (the overlapping observed
        episodes: ``start, end, level``), ``kind`` (``hit``, ``miss`` or ``no_episode``), ``lead_days``,
        ``warned_level``, ``level_right``, ``rules``.
    """
    if episode.issued is None or observed_aqi is None or "aqi" not in observed_aqi.columns:
        return None
    from emergency.events import observed_episodes, verify_events
    from emergency.rules import load_rules

    rs = load_rules(rules) if isinstance(rules, str) else rules
    city = episode.city or "city"
    o = observed_aqi.assign(city=city)
    margin = dt.timedelta(days=15)
    eps = observed_episodes(o, rs, start=episode.start - margin, end=episode.end + margin)
    over = eps[(eps["start"] <= np.datetime64(episode.end)) & (eps["end"] >= np.datetime64(episode.start))]
    recs = pd.DataFrame([{"city": city, "issued": episode.issued, "level": episode.level,
                          "start": episode.start, "end": episode.end}])
    first = min(episode.issued, episode.start - dt.timedelta(days=10))
    tally = verify_events(recs, over, first, max(episode.end, episode.issued))
    ev = tally.events
    hits = ev[ev["kind"].isin(["hit", "miss"])]
    names = {1: "yellow", 2: "orange", 3: "red"}
    out = {"issued": episode.issued.isoformat(), "rules": getattr(rs, "name", str(rules)),
           "observed": [{"start": str(r.start)[:10], "end": str(r.end)[:10], "level": names[int(r.level)]}
                        for r in over.itertuples()],
           "kind": "no_episode", "lead_days": None, "warned_level": episode.level, "level_right": None}
    if len(hits):
        first_ep = hits.sort_values("observed_start").iloc[0]
        out["kind"] = str(first_ep["kind"])
        if first_ep["kind"] == "hit":
            out["lead_days"] = int(first_ep["lead_days"])
            levels = ("none", "yellow", "orange", "red")
            out["level_right"] = levels.index(str(first_ep["warned_level"])) >= levels.index(
                str(first_ep["observed_level"]))
        else:
            out["lead_days"] = (np.datetime64(first_ep["observed_start"]) - np.datetime64(episode.issued)) \
                .astype(int).item()
    return out


def compliance_summary(reductions: pd.DataFrame | None, episode: Episode) -> pd.DataFrame | None:
    """Planned against compliance-adjusted cuts over the warning days, per pollutant.

    Parameters
    ----------
    reductions : DataFrame or None
        ``compliance_reductions.csv`` rows (:func:`emergency.compliance.achieved_reductions`: ``date, pollutant,
        planned, adjusted, target, total, planned_ratio, adjusted_ratio``), one or more days.

    Returns
    -------
    DataFrame or None
        ``pollutant, days, planned, adjusted, target, planned_ratio, adjusted_ratio`` (t/day means and
        fractions over the judged warning days), None when there are no rows for the warning days.
    """
    if reductions is None or not len(reductions):
        return None
    need = ["date", "pollutant", "planned", "adjusted"]
    missing = [c for c in need if c not in reductions.columns]
    if missing:
        raise InputError(f"compliance reductions: expected columns {need}; missing {missing}")
    r = reductions.copy()
    r["date"] = pd.to_datetime(r["date"]).dt.date
    r = r[(r["date"] >= episode.start) & (r["date"] <= episode.end)]
    if not len(r):
        return None
    for c in ("target", "planned_ratio", "adjusted_ratio"):
        if c not in r.columns:
            r[c] = np.nan
        r[c] = pd.to_numeric(r[c], errors="coerce")
    g = r.groupby("pollutant", sort=False)
    out = g.agg(days=("date", "nunique"), planned=("planned", "mean"), adjusted=("adjusted", "mean"),
                target=("target", "mean"), planned_ratio=("planned_ratio", "mean"),
                adjusted_ratio=("adjusted_ratio", "mean")).reset_index()
    return out


def prsa_city_inputs(paths, city: str = "北京") -> tuple[pd.DataFrame, pd.DataFrame]:
    """The city's daily observations and meteorology from UCI Beijing multi-site files, read once.

    Concentrations are the daily values of each station (:func:`forecast.io.observations.prsa_daily_with_aqi`,
    GB 3095 validity rules) averaged over the stations, the AQI that of the averages
    (:func:`forecast.aqi.daily_aqi`); the meteorology each station's daily weather
    (:func:`forecast.features.met_daily`: means, the rain a daily sum) averaged over the stations.

    Returns
    -------
    (DataFrame, DataFrame)
        ``city, date, pm25, pm10, so2, no2, co, o3_8h, aqi`` and ``city, date, temp, dewp, rh, pres, rain,
        wspm, u, v``.
    """
    import warnings

    from forecast.aqi import daily_aqi
    from forecast.features import met_daily
    from forecast.io import ReaderWarning, read_prsa_multisite
    from forecast.io.observations import expand_paths, prsa_daily_with_aqi

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=ReaderWarning)
        hourly = read_prsa_multisite(expand_paths(paths))
    per_station = prsa_daily_with_aqi(hourly)
    conc = [c for c in DAILY_POLLUTANTS if c in per_station.columns]
    daily = per_station.groupby("date", as_index=False)[conc].mean()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        daily["aqi"] = daily_aqi(daily)["aqi"].to_numpy()
    daily.insert(0, "city", city)
    met = met_daily(hourly[["station", "time", "temp", "pres", "dewp", "rain", "wd", "wspm"]]
                    .rename(columns={"station": "city"}))
    met = met.drop(columns="city").groupby("date", as_index=False).mean()
    met.insert(0, "city", city)
    return daily, met


def _one_city(frame: pd.DataFrame, what: str) -> pd.DataFrame:
    if "city" in frame.columns and frame["city"].astype(str).nunique() > 1:
        cities = sorted(frame["city"].astype(str).unique())[:5]
        raise InputError(f"{what}: expected one city's series, got cities {cities}")
    out = frame.drop(columns=[c for c in ("city",) if c in frame.columns]).copy()
    out["date"] = pd.to_datetime(out["date"]).dt.normalize().astype("datetime64[ns]")
    return out.groupby("date", as_index=False).mean(numeric_only=True)


def evaluate_episodes(daily: pd.DataFrame, met: pd.DataFrame, episodes: Sequence[Episode],
                      exclude_periods: Iterable[tuple] = (), *, train_start=None, train_end=None,
                      train_years: float = 3.0, pollutants: Sequence[str] = BAU_POLLUTANTS,
                      lag_days: int = EFFECT_LAG_DAYS, after_days: int = AFTER_DAYS,
                      rule: StagnationRule = StagnationRule(), months: Sequence[int] | None = None,
                      rules="national-2024", compliance: pd.DataFrame | None = None,
                      cut_fractions: Mapping | None = None, synthetic: bool = False,
                      folds: int = 5, seed: int = 0, params: Mapping | None = None,
                      model: BauModel | None = None) -> list[EpisodeEvaluation]:
    """Evaluate warning episodes of one city against its weather-normalised BAU.

    Parameters
    ----------
    daily : DataFrame
        Daily observations of the city: ``date``, the ``pollutants`` [µg/m³; CO mg/m³], optional ``aqi``.
    met : DataFrame
        Its daily meteorology (:func:`forecast.features.met_daily`; ``wspm`` and ``rh`` needed for the
        stagnation rule).
    episodes : sequence of Episode
    exclude_periods : iterable of (start, end)
        Other warning or control periods; the episodes are always excluded from training too.
    train_start, train_end : date-like, optional
        BAU training span (default: the ``train_years`` ending the day before the first episode).
    pollutants : sequence of str
        PM2.5 and the tracers.
    lag_days, after_days : int
    rule : StagnationRule
    months : sequence of int, optional
        Months of the placebo windows (default: the first episode's half-year, October–March or
        April–September).
    rules : str or RuleSet
        Warning rules for the observed episodes of the timeliness.
    compliance : DataFrame, optional
        Compliance reductions (:func:`compliance_summary`).
    cut_fractions : mapping, optional
        The cut fractions of the measures (β key → fraction, :data:`emergency.benefit.BETA_KEYS`), for the
        benefit model's prediction beside the estimate (:func:`benefit_prediction`); or a mapping of
        episode start → such a mapping. None: no prediction.
    synthetic : bool
        Mark the evaluations (and reports) as made from synthetic inputs.
    folds, seed : int
        Cross-fitting folds of the placebo; seed of every booster.
    params : mapping, optional
        LightGBM parameters (:data:`forecast.bau.BAU_PARAMS`).
    model : BauModel, optional
        An already fitted BAU model (it must exclude the episodes; its out-of-fold medians make the placebo).

    Returns
    -------
    list of EpisodeEvaluation
        In the order of ``episodes``.

    Raises
    ------
    InputError
        No episode, episodes of several cities, inputs of several cities, too few training days.
    """
    if not episodes:
        raise InputError("evaluate: no warning episode given")
    obs = _one_city(daily, "observations").set_index("date")
    metd = _one_city(met, "meteorology")
    first = min(e.start for e in episodes)
    end = pd.Timestamp(train_end) if train_end is not None else pd.Timestamp(first) - pd.Timedelta(days=1)
    start = (pd.Timestamp(train_start) if train_start is not None
             else end - pd.Timedelta(days=int(round(365.25 * train_years)) - 1))
    periods = [(pd.Timestamp(a).date(), pd.Timestamp(b).date()) for a, b in exclude_periods]
    periods += [(e.start, e.end) for e in episodes]
    pols = [p for p in pollutants if p in obs.columns]
    if "pm25" not in pols:
        raise InputError(f"evaluate: the observations need 'pm25'; got columns {list(daily.columns)}")
    train_obs = obs[pols].reset_index()
    if model is None:
        model = fit_bau(train_obs, metd, periods, pollutants=pols, start=start, end=end, after_days=after_days,
                        folds=folds, seed=seed, params=params)
    oof = model.oof
    stagnant = rule.days(metd)
    notes: list[str] = []
    if model.train_end >= first:
        notes.append(f"the BAU training span reaches {model.train_end}, after the first episode's start {first}: "
                     f"the episodes are excluded from training, but later days are in it")
    out = []
    for ep in episodes:
        win = ep.window(lag_days)
        bau = predict_bau(model, metd, win).set_index("date")
        days = pd.DataFrame({"date": win.date, "in_warning": (win.date >= ep.start) & (win.date <= ep.end),
                             "stagnant": stagnant.reindex(win).fillna(False).to_numpy(bool)})
        if "aqi" in obs.columns:
            days["aqi"] = obs["aqi"].reindex(win).to_numpy(float)
        mon = tuple(months) if months is not None else _half_year(ep.start.month)
        plc = placebo_windows(obs, oof, stagnant, ep.days, len(win), mon, model.pollutants)
        effects = {}
        ep_notes = list(notes)
        for p in model.pollutants:
            ob = obs[p].reindex(win).to_numpy(float) if p in obs.columns else np.full(len(win), np.nan)
            q = {lab: bau[f"{p}_{lab}"].to_numpy(float) for lab in ("p05", "p50", "p95")}
            days[p] = ob
            for lab, v in q.items():
                days[f"{p}_{lab}"] = v
            effects[p] = _effect(p, ob, q["p05"], q["p50"], q["p95"], plc[f"{p}_relative"].to_numpy(float))
            if effects[p].days < len(win):
                ep_notes.append(f"{p}: {len(win) - effects[p].days} of {len(win)} window days lack an observation "
                                f"or weather; the sums run over the rest")
        if len(plc) < MIN_PLACEBO:
            ep_notes.append(f"only {len(plc)} placebo windows (fewer than {MIN_PLACEBO}): the effect is not judged")
        ep_obs = obs.reset_index()[["date", "aqi"]] if "aqi" in obs.columns else None
        out.append(EpisodeEvaluation(
            episode=ep, days=days, effects=effects, placebo=plc, rule=rule, bau=model.card(), lag_days=lag_days,
            timeliness=timeliness(ep, ep_obs, rules), compliance=compliance_summary(compliance, ep),
            benefit=_benefit_of(ep, cut_fractions, days, seed), synthetic=synthetic, notes=tuple(ep_notes),
            placebo_months=tuple(int(m) for m in mon)))
    return out


def benefit_prediction(fractions: Mapping[str, float], bau: np.ndarray, in_warning: np.ndarray, *,
                       params=None, n_draws: int = 10_000, seed: int = 0) -> dict:
    """The benefit model's predicted PM2.5 change over an episode's window (:mod:`emergency.benefit`).

    The measures cut ``fractions`` on the warning days (none before, none on the lag days); the model's
    daily relative response (:func:`emergency.benefit.relative_response`, its lag kernel carrying the
    effect into the lag days) is drawn ``n_draws`` times from the parameters' triangular ranges and
    applied to the BAU median: predicted relative change = −Σ BAU_t · ΔC_t/C_t / Σ BAU_t.

    Parameters
    ----------
    fractions : mapping β key → fraction
        E.g. ``{"ppm": 0.36, "nox": 0.36, "so2": 0.36, "nh3": 0.36, "voc": 0.36}``.
    bau : ndarray
        BAU median PM2.5 of the window days [µg/m³].
    in_warning : ndarray of bool
        Which window days are warning days.

    Returns
    -------
    dict
        ``pm25_relative`` (default parameters), ``low``, ``high`` (5th and 95th percentiles of the draws)
        [%], ``pm25_effect`` [µg/m³·day], ``fractions``, ``parameters`` (name@version), ``unverified``,
        ``source``.
    """
    from emergency import benefit as B

    p = B.load_benefit_parameters(params)
    vec = np.array([float(fractions.get(k, 0.0)) for k in B.BETA_KEYS])
    bad = sorted(set(fractions) - set(B.BETA_KEYS))
    if bad or not np.isfinite(vec).all() or (vec < 0).any() or (vec > 1).any():
        raise InputError(f"cut fractions: expected some of {list(B.BETA_KEYS)} with fractions 0–1, "
                         f"got {dict(fractions)}")
    w = np.asarray(in_warning, dtype=bool)
    r = vec[:, None] * w[None, :].astype(float)
    c = np.asarray(bau, dtype=float)
    good = np.isfinite(c)
    rng = np.random.default_rng(seed)
    beta, f_local = p.sample(int(n_draws), rng)
    draws = B.relative_response(r, beta, f_local, p.lag)
    default = B.relative_response(r, p.beta_default()[None, :], np.array([p.f_local.default]), p.lag)[0]
    total = c[good].sum()
    rel_draws = -100.0 * (draws[:, good] * c[good]).sum(axis=1) / total
    rel = -100.0 * float((default[good] * c[good]).sum() / total)
    lo, hi = np.quantile(rel_draws, [0.05, 0.95])
    return {"pm25_relative": rel, "low": float(lo), "high": float(hi),
            "pm25_effect": rel / 100.0 * float(total), "fractions": {k: float(v) for k, v in zip(B.BETA_KEYS, vec)},
            "parameters": p.label, "unverified": list(p.unverified), "source": "减排效益模型（简化响应）"}


def _benefit_of(ep: Episode, cut_fractions, days: pd.DataFrame, seed: int) -> dict | None:
    if not cut_fractions or "pm25_p50" not in days.columns:
        return None
    fr = cut_fractions.get(ep.start) if ep.start in cut_fractions else cut_fractions
    if not fr or not all(isinstance(k, str) for k in fr):
        return None
    try:
        return benefit_prediction(fr, days["pm25_p50"].to_numpy(float), days["in_warning"].to_numpy(bool),
                                  seed=seed)
    except ImportError:  # the benefit model is not installed in this copy: no prediction beside the estimate
        return None


def evaluation_summary(evaluation: "EpisodeEvaluation | str | Path") -> dict:
    """What the 指挥 page shows of an evaluation: one small dict.

    Parameters
    ----------
    evaluation : EpisodeEvaluation, or the path of an ``evaluation_<start>_<level>.json`` written by
        ``airwarn evaluate``.

    Returns
    -------
    dict
        ``city, level, start, end, pm25_relative, pm25_relative_low, pm25_relative_high`` [%],
        ``pm25_effect`` [µg/m³·day], ``percentile``, ``verdict``, ``placebo_windows``, ``minimum_detectable``
        [%], the tracers'
        ``<gas>_relative`` and ``<gas>_verdict``, ``benefit_pm25_relative`` (None when not available),
        ``synthetic``.
    """
    d = evaluation.to_dict() if isinstance(evaluation, EpisodeEvaluation) else json.loads(
        Path(evaluation).read_text(encoding="utf-8"))
    pm = d["effects"].get("pm25", {})
    out = {"city": d["episode"]["city"], "level": d["episode"]["level"], "start": d["episode"]["start"],
           "end": d["episode"]["end"], "pm25_relative": pm.get("relative"),
           "pm25_relative_low": pm.get("relative_low"), "pm25_relative_high": pm.get("relative_high"),
           "pm25_effect": pm.get("effect"), "percentile": pm.get("percentile"), "verdict": pm.get("verdict"),
           "placebo_windows": pm.get("placebo_n", d["placebo_windows"]), "synthetic": d["synthetic"],
           "minimum_detectable": pm.get("minimum_detectable"),
           "benefit_pm25_relative": (d.get("benefit") or {}).get("pm25_relative")}
    for gas in ("no2", "so2", "co"):
        if gas in d["effects"]:
            out[f"{gas}_relative"] = d["effects"][gas]["relative"]
            out[f"{gas}_verdict"] = d["effects"][gas]["verdict"]
    return out
