"""The ambient air-quality composite index (环境空气质量综合指数) of counties, their ranking, and target tracking.

Composite index
---------------
For a county and a period (a month, or the year to date), ``I = Σ_i w_i · C_i / S_i`` over the six pollutants
(standards-notes §4; 城市环境空气质量排名技术规定, which provinces apply to their counties):

* ``C_i``: the period mean of the daily values for SO2, NO2, PM10 and PM2.5; the **90th percentile of the daily
  maximum 8 h** for O3; the **95th percentile of the daily means** for CO;
* ``S_i``: the limit set of a standard version, from ``forecast/data/composite_index_limits.csv``
  (:func:`load_limits`): GB 3095-2012 Grade II annual limits 60/40/70/35 for SO2/NO2/PM10/PM2.5, 160 for O3
  (daily maximum 8 h), 4 mg/m³ for CO (daily). The GB 3095-2026 rows hold that standard's Table 1 limits,
  but which of them the index takes under the 2026 rules is not published in what we hold
  (HJ 663-2026 not obtained), so they are refused unless ``allow_unverified=True``. The standard used is
  stored with every index (``standard`` column);
* ``w_i``: 1 (the published composite index). ``weighted=True`` uses the weights some provinces rank with
  (PM2.5 ×3, NO2 ×2, O3 ×2) [U: unverified, off by default].

Every term ``w_i·C_i/S_i`` is kept (``term_<pollutant>`` columns).

Percentiles (:func:`hj663_percentile`) follow HJ 663-2013: sort the n valid values ascending
``X(1) … X(n)``; ``k = 1 + (n − 1)·p``; ``s`` = the integer part of ``k``;
``m_p = X(s) + (X(s+1) − X(s))·(k − s)``. This is linear interpolation between closest ranks, numpy's
``method="linear"`` (the default); the test checks it on the worked example {3, 4, 8, 2, 5, 4} → 6.5
(HJ 663-2013's formula as quoted, with that example, at
https://blog.youkuaiyun.com/weixin_44237659/article/details/124068041; the standard's own text was not read [S]).

Rounding (GB/T 8170 round-half-even on the decimal value, :func:`round_gbt8170`): the statistics ``C_i`` are
rounded as published (µg/m³ to integers, CO to 0.1 mg/m³) [U: HJ 663-2013 §6 as remembered]; the terms are
**not** rounded before summing; the index is the sum rounded to two decimals, and ranks are given on that
two-decimal index. The worked example of standards-notes §4 (21/35 + 39/70 + 9/60 + 15/40 + 192/160 + 0.7/4
= 3.0571… → 3.06) fixes this: rounding each term to two decimals first gives 3.07.

Ties share a rank (``method="min"``: 1, 2, 2, 4), "指数相同的城市以并列计" (provincial ranking notes, e.g.
安徽省生态环境厅, http://www.chuzhou.cn/2019/0517/388557.shtml). Smaller is better. 城市环境空气质量排名技术规定
lets provinces rank their counties the same way [S].

Sand-dust days
--------------
CNEMC removes the effect of sand-dust processes from assessment and ranking (环办监测〔2016〕120号,
《受沙尘天气过程影响城市空气质量评价补充规定》, from 2017-01-01, for assessment and the monthly ranking; [S]: the
notice was found as reprinted at http://leewo.com.cn/newsshow.php?cid=45&id=4170, its annex was not read in
full, so which data it removes is as remembered). Rule here: on a dust day the **PM10 and PM2.5** values of the affected stations are left out of
every statistic; SO2, NO2, CO and O3 are kept. Dust days come from a ``dust`` column of the station
daily data (per station and day) or from a list of dates (every station).

Change rate
-----------
``change_rate = (I − I_last) / I_last × 100`` [%] against the same period of the previous year, both indices
computed with the **same** ``S_i`` (the limit set of this period), from the unrounded sums, rounded to 0.1 %.
Negative = improved.

Target tracking
---------------
:func:`required_rest_mean`: the mean the rest of the year must keep so that the annual mean reaches a target
(阳泉 PM2.5 ≤ 35 µg/m³): ``(T · (n_obs + n_rest) − Σ observed) / n_rest``, every remaining day counted.
:func:`target_probability`: for percentile terms (and the mean alike), the probability that the annual
statistic meets a target, by a block bootstrap of the remaining days: each simulation takes each remaining
month's days from one randomly drawn past year's same month (the days keep their order, so within-month
persistence of episodes is kept), each past year scaled to this year's level (the ratio of the observed
means over the same calendar days). The spread is only as wide as the past years allow: with three past
years a month has three possible blocks. "Met" is the unrounded annual statistic ≤ target (conservative: a
published 35.4 would read 35).

References
----------
standards-notes §1.9 (GB 3095-2026 Table 1) and §4 (composite index); HJ 663-2013 (percentiles, rounding);
GB/T 8170-2008 (rounding); 环办监测〔2016〕120号 (sand-dust days).
"""
from __future__ import annotations

import calendar
import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from airwarn.core.errors import InputError, UnknownNameError
from airwarn.core.vocab import DAILY_POLLUTANTS, HOURLY_POLLUTANTS

__all__ = [
    "DEFAULT_STANDARD", "INDEX_POLLUTANTS", "LIMITS_FILE", "LimitSet", "MeanTarget", "Period",
    "change_rates", "composite_index", "county_daily", "hj663_percentile", "load_limits", "parse_period",
    "rank_min", "ranking", "remove_dust", "required_rest_mean", "round_gbt8170", "station_daily_from_hourly",
    "target_probability",
]

#: The pollutants of the index, in the order the terms are listed (the order of the published tables).
INDEX_POLLUTANTS: tuple[str, ...] = ("so2", "no2", "pm10", "pm25", "co", "o3_8h")
#: The bundled limit sets.
LIMITS_FILE = Path(__file__).resolve().parent / "data" / "composite_index_limits.csv"
#: The limit set used unless another is named.
DEFAULT_STANDARD = "GB3095-2012"
#: Decimals a statistic is published with (GB/T 8170): µg/m³ integers, CO 0.1 mg/m³.
STAT_DECIMALS: Mapping[str, int] = {"so2": 0, "no2": 0, "pm10": 0, "pm25": 0, "co": 1, "o3_8h": 0}
#: Decimals of the published index.
INDEX_DECIMALS = 2
#: Minimum days with a valid daily mean per month for a valid monthly statistic (GB 3095-2026 Table 4:
#: 27 per month, 25 in February). The index is computed anyway; ``complete`` says whether it holds.
MIN_DAYS_PER_MONTH, MIN_DAYS_FEBRUARY = 27, 25
_STATISTICS = {"mean": None, "p90": 90.0, "p95": 95.0}
_PARTICLES = ("pm25", "pm10")


# --------------------------------------------------------------------------- limits
@dataclass(frozen=True)
class LimitSet:
    """The ``S_i`` of one standard version.

    Attributes
    ----------
    standard : str
        Its name (``GB3095-2012``, ``GB3095-2026``, ``GB3095-2026-final``, or a user file's name).
    limits : dict
        Pollutant → ``S_i`` [µg/m³; co mg/m³].
    statistics : dict
        Pollutant → ``mean``, ``p90`` or ``p95``.
    weights : dict
        Pollutant → the [U] ranking weight (used only with ``weighted=True``).
    verified : bool
        False when any row is marked ``U`` (its use in the index is not confirmed).
    sources : dict
        Pollutant → where the number comes from.
    """

    standard: str
    limits: Mapping[str, float]
    statistics: Mapping[str, str]
    weights: Mapping[str, float]
    verified: bool
    sources: Mapping[str, str] = field(default_factory=dict)


def load_limits(standard: str = DEFAULT_STANDARD, path: str | Path | None = None, *,
                allow_unverified: bool = False) -> LimitSet:
    """The limit set ``standard`` from the bundled table (or a file of the same layout).

    Parameters
    ----------
    standard : str
        A ``standard`` value of the table.
    path : path-like, optional
        A CSV in the layout of ``forecast/data/composite_index_limits.csv`` (lines starting ``#`` are
        comments); default the bundled one.
    allow_unverified : bool
        Accept a set whose rows are marked ``U``. A user's own file (``path``) counts as given.

    Raises
    ------
    UnknownNameError
        An unknown standard (the message lists the known ones).
    InputError
        A set marked unverified without ``allow_unverified``, or a table missing a pollutant or a column.
    """
    src = Path(path) if path is not None else LIMITS_FILE
    table = pd.read_csv(src, comment="#", dtype={"standard": str, "pollutant": str, "statistic": str,
                                                 "status": str, "source": str})
    needed = ("standard", "pollutant", "statistic", "limit", "weight", "status")
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise InputError(f"{src}: missing column(s) {missing}; expected {list(needed)}, found {list(table.columns)}")
    rows = table[table["standard"].str.strip() == standard.strip()]
    if rows.empty:
        raise UnknownNameError(f"{src}: no limit set {standard!r}; known: {sorted(table['standard'].unique())}")
    absent = [p for p in INDEX_POLLUTANTS if p not in set(rows["pollutant"])]
    if absent:
        raise InputError(f"{src}: limit set {standard!r} lacks pollutant(s) {absent}")
    bad = rows[~rows["statistic"].isin(list(_STATISTICS))]
    if len(bad):
        raise InputError(f"{src}: limit set {standard!r}, pollutant {bad['pollutant'].iloc[0]!r}: expected a "
                         f"statistic among {list(_STATISTICS)}, got {bad['statistic'].iloc[0]!r}")
    rows = rows.drop_duplicates("pollutant", keep="last").set_index("pollutant")
    verified = bool((rows["status"].str.strip().str.upper() != "U").all())
    if not verified and not allow_unverified and path is None:
        raise InputError(
            f"limit set {standard!r}: its limits are GB 3095-2026 Table 1's, but which of them the composite "
            f"index takes under the 2026 rules is unverified (HJ 663-2026 not obtained); pass "
            f"allow_unverified=True (airwarn rank --allow-unverified) to use it anyway, or give your own limits "
            f"file")
    limits = {p: float(rows.loc[p, "limit"]) for p in INDEX_POLLUTANTS}
    if any(not (v > 0) for v in limits.values()):
        raise InputError(f"{src}: limit set {standard!r}: every limit must be > 0, got {limits}")
    return LimitSet(standard=standard.strip(), limits=limits,
                    statistics={p: str(rows.loc[p, "statistic"]) for p in INDEX_POLLUTANTS},
                    weights={p: float(rows.loc[p, "weight"]) for p in INDEX_POLLUTANTS},
                    verified=verified,
                    sources={p: str(rows.loc[p, "source"]) if "source" in rows.columns else ""
                             for p in INDEX_POLLUTANTS})


# --------------------------------------------------------------------------- numbers
def round_gbt8170(x: float, decimals: int) -> float:
    """``x`` rounded to ``decimals`` by GB/T 8170-2008 (half-even on the decimal value ``repr(x)``).

    >>> round_gbt8170(0.375, 2), round_gbt8170(3.0571428, 2), round_gbt8170(34.5, 0), round_gbt8170(0.25, 1)
    (0.38, 3.06, 34.0, 0.2)
    """
    if x is None or not math.isfinite(float(x)):
        return float("nan")
    q = Decimal(1).scaleb(-decimals)
    return float(Decimal(repr(float(x))).quantize(q, rounding=ROUND_HALF_EVEN))


def hj663_percentile(values: Iterable[float], p: float) -> float:
    """The ``p``-th percentile (0–100) of the valid values by HJ 663-2013 (module notes).

    >>> hj663_percentile([3, 4, 8, 2, 5, 4], 90)
    6.5
    """
    x = np.sort(np.asarray([v for v in values if v is not None and np.isfinite(v)], dtype=float))
    n = len(x)
    if n == 0:
        return float("nan")
    k = 1 + (n - 1) * p / 100.0
    s = int(math.floor(k))
    if s >= n:
        return float(x[-1])
    return float(x[s - 1] + (x[s] - x[s - 1]) * (k - s))


def rank_min(values: Sequence[float]) -> np.ndarray:
    """Ranks of ``values`` ascending, ties sharing the smallest rank (1, 2, 2, 4); NaN gets no rank (-1).

    >>> rank_min([3.06, 2.5, 3.06, 4.1]).tolist()
    [2, 1, 2, 4]
    """
    s = pd.Series(values, dtype=float)
    r = s.rank(method="min", ascending=True)
    return r.fillna(-1).astype(int).to_numpy()


# --------------------------------------------------------------------------- periods
@dataclass(frozen=True)
class Period:
    """A ranking period: ``start`` … ``end`` (dates, inclusive), its label and kind."""

    start: dt.date
    end: dt.date
    label: str
    kind: str  # "month", "ytd" or "range"

    def last_year(self) -> "Period":
        """The same period one year earlier (29 February → 28 February)."""
        def back(d: dt.date) -> dt.date:
            try:
                return d.replace(year=d.year - 1)
            except ValueError:
                return d.replace(year=d.year - 1, day=28)
        label = {"month": f"{self.start.year - 1}-{self.start.month:02d}",
                 "ytd": f"{self.end.year - 1}-01—{self.end.year - 1}-{self.end.month:02d}"}.get(self.kind, "")
        return Period(back(self.start), back(self.end), label or f"{back(self.start)}—{back(self.end)}", self.kind)

    @property
    def zh(self) -> str:
        """The period in Chinese (``2026年11月``, ``2026年1—11月``)."""
        if self.kind == "month":
            return f"{self.start.year}年{self.start.month}月"
        if self.kind == "ytd":
            return f"{self.end.year}年1—{self.end.month}月"
        return f"{self.start.isoformat()}至{self.end.isoformat()}"


def parse_period(period: "str | Period | tuple", ytd: bool = False) -> Period:
    """A :class:`Period` from ``YYYY-MM`` (the month, or January to that month with ``ytd``), a
    ``(start, end)`` pair or a Period.

    Raises
    ------
    InputError
        Text that is not ``YYYY-MM``.
    """
    if isinstance(period, Period):
        return period
    if isinstance(period, tuple):
        a, b = (pd.Timestamp(x).date() for x in period)
        return Period(a, b, f"{a}—{b}", "range")
    text = str(period).strip()
    try:
        year, month = (int(v) for v in text.split("-"))
        first = dt.date(year, month, 1)
    except (ValueError, TypeError):
        raise InputError(f"period: expected a month YYYY-MM, got {period!r}") from None
    end = dt.date(year, month, calendar.monthrange(year, month)[1])
    if ytd:
        return Period(dt.date(year, 1, 1), end, f"{year}-01—{text}", "ytd")
    return Period(first, end, text, "month")


# --------------------------------------------------------------------------- daily data
def station_daily_from_hourly(hourly: pd.DataFrame, county_of: Mapping[str, str], *,
                              hour_label: str = "end") -> pd.DataFrame:
    """Station daily values with their county from station hourly data (CNEMC, UCI).

    The daily values are :func:`forecast.aggregate.hourly_to_daily`'s (GB 3095-2026 validity).

    Parameters
    ----------
    hourly : DataFrame
        ``time, station`` and 1 h means among ``pm25 pm10 so2 no2 co o3`` (a reader's frame).
    county_of : mapping
        Station → county; stations not in it are dropped (if none is left: an error).
    hour_label : {"end", "start"}
        ``end`` for CNEMC files (hour-ending), ``start`` for the UCI files.

    Returns
    -------
    DataFrame
        ``county, station, date`` and :data:`~airwarn.core.vocab.DAILY_POLLUTANTS`, ``dust`` (False).

    Raises
    ------
    UnknownNameError
        No station of the data is in ``county_of``.
    """
    from forecast.aggregate import hourly_to_daily

    stations = pd.Index(hourly["station"].astype(str).unique())
    known = stations.intersection(pd.Index([str(k) for k in county_of]))
    if known.empty:
        raise UnknownNameError(f"none of the stations of the hourly data ({list(stations[:6])}) has a county; "
                               f"the station → county map has {list(county_of)[:6]}")
    rows = hourly[hourly["station"].astype(str).isin(known)]
    pollutants = [c for c in HOURLY_POLLUTANTS if c in rows.columns]
    daily = hourly_to_daily(rows[["time", "station", *pollutants]].assign(station=rows["station"].astype(str)),
                            by="station", hour_label=hour_label)
    daily.insert(0, "county", daily["station"].map({str(k): v for k, v in county_of.items()}))
    daily["dust"] = False
    return daily[["county", "station", "date", *DAILY_POLLUTANTS, "dust"]]


def remove_dust(daily: pd.DataFrame, dust_dates: Iterable | None = None) -> pd.DataFrame:
    """PM10 and PM2.5 set to NaN on sand-dust days (module notes): rows whose ``dust`` is true and every
    row dated in ``dust_dates``."""
    out = daily.copy()
    mask = out["dust"].fillna(False).astype(bool) if "dust" in out.columns else pd.Series(False, index=out.index)
    if dust_dates is not None:
        days = pd.to_datetime(pd.Series(list(dust_dates)), errors="coerce")
        if days.isna().any():
            raise InputError(f"dust dates: expected dates YYYY-MM-DD, got {list(dust_dates)!r}")
        mask = mask | pd.to_datetime(out["date"]).dt.normalize().isin(set(days.dt.normalize()))
    for p in _PARTICLES:
        if p in out.columns:
            out.loc[mask.to_numpy(), p] = np.nan
    out.attrs["dust_station_days"] = int(mask.sum())
    return out


def county_daily(station_daily: pd.DataFrame, *, dust_dates: Iterable | None = None,
                 by: str = "county") -> pd.DataFrame:
    """County daily values: the mean of the county's stations' valid daily values (dust days removed first).

    Parameters
    ----------
    station_daily : DataFrame
        ``county, station, date`` + pollutants (:func:`forecast.io.county_daily.read_county_daily`,
        :func:`station_daily_from_hourly`), optionally ``dust``, ``control`` (control stations are left out).
    dust_dates : iterable, optional
        Dates that are sand-dust days for every station.
    by : str
        The grouping column (``county``; a column holding the city name gives the city's daily values).

    Returns
    -------
    DataFrame
        ``<by>, date``, the pollutants, ``n_stations``.
    """
    df = station_daily
    if "control" in df.columns:
        df = df[~df["control"].fillna(False).astype(bool)]
    df = remove_dust(df, dust_dates)
    values = [p for p in DAILY_POLLUTANTS if p in df.columns]
    df = df.assign(date=pd.to_datetime(df["date"]).dt.normalize())
    out = df.groupby([by, "date"], sort=True)[values].mean()
    out["n_stations"] = df.groupby([by, "date"], sort=True)["station"].nunique()
    out = out.reset_index()
    out.attrs["dust_station_days"] = df.attrs.get("dust_station_days", 0)
    return out


# --------------------------------------------------------------------------- the index
def _min_days(start: dt.date, end: dt.date) -> int:
    """Days needed for a valid period statistic: 27 per full month (25 in February), pro rata for part months."""
    need = 0.0
    for m in pd.period_range(start, end, freq="M"):
        first, last = max(m.start_time.date(), start), min(m.end_time.date(), end)
        full = MIN_DAYS_FEBRUARY if m.month == 2 else MIN_DAYS_PER_MONTH
        need += full * ((last - first).days + 1) / m.days_in_month
    return int(math.ceil(need - 1e-9))


def _statistic(values: np.ndarray, statistic: str) -> float:
    v = values[np.isfinite(values)]
    if len(v) == 0:
        return float("nan")
    if statistic == "mean":
        return float(v.mean())
    return hj663_percentile(v, _STATISTICS[statistic])


def composite_index(daily: pd.DataFrame, period: "str | Period | tuple", standard: str | LimitSet = DEFAULT_STANDARD,
                    *, by: str = "county", weighted: bool = False, round_statistics: bool = True,
                    allow_unverified: bool = False, limits_path: str | Path | None = None) -> pd.DataFrame:
    """The composite index of each county over ``period`` (module notes), each term kept.

    Parameters
    ----------
    daily : DataFrame
        County daily values (:func:`county_daily`): ``<by>, date`` and the six pollutants [µg/m³; co mg/m³],
        sand-dust days already removed.
    period : str, Period or (start, end)
        ``YYYY-MM`` (a month), a :class:`Period` (e.g. from ``parse_period("2026-11", ytd=True)``), or dates.
    standard : str or LimitSet
        The limit set (:func:`load_limits`).
    by : str
        Column naming the area.
    weighted : bool
        Use the [U] ranking weights (PM2.5 ×3, NO2 ×2, O3 ×2).
    round_statistics : bool
        Round each ``C_i`` as published (GB/T 8170) before dividing.
    allow_unverified, limits_path
        Passed to :func:`load_limits`.

    Returns
    -------
    DataFrame
        One row per area, sorted by rank: ``<by>, composite_index`` (two decimals), ``rank`` (ties share the
        smallest), ``index_exact`` (the unrounded sum), ``term_<p>`` (w·C/S, unrounded), ``c_<p>`` (the
        statistic), ``n_days_<p>``, ``complete`` (every pollutant has the days GB 3095-2026 Table 4 asks),
        ``standard``, ``limits_verified``, ``weighted``, ``period``, ``period_start``, ``period_end``.
        An area with a pollutant missing over the whole period has NaN index and rank -1.
    """
    per = parse_period(period)
    limits = standard if isinstance(standard, LimitSet) else load_limits(
        standard, limits_path, allow_unverified=allow_unverified)
    if by not in daily.columns:
        raise InputError(f"composite_index: daily data lack the column {by!r}; found {list(daily.columns)}")
    missing = [p for p in INDEX_POLLUTANTS if p not in daily.columns]
    if missing:
        raise InputError(f"composite_index: daily data lack pollutant column(s) {missing}")
    dates = pd.to_datetime(daily["date"]).dt.normalize()
    inside = daily[(dates >= pd.Timestamp(per.start)) & (dates <= pd.Timestamp(per.end))]
    need = _min_days(per.start, per.end)
    rows = []
    for area, g in inside.groupby(by, sort=True):
        row: dict = {by: area}
        total = 0.0
        ok = True
        for p in INDEX_POLLUTANTS:
            vals = g[p].to_numpy(dtype=float)
            c = _statistic(vals, limits.statistics[p])
            if round_statistics:
                c = round_gbt8170(c, STAT_DECIMALS[p])
            w = limits.weights[p] if weighted else 1.0
            term = w * c / limits.limits[p]
            row[f"c_{p}"], row[f"term_{p}"] = c, term
            row[f"n_days_{p}"] = int(np.isfinite(vals).sum())
            ok = ok and row[f"n_days_{p}"] >= need
            total += term
        row["index_exact"] = total
        row["composite_index"] = round_gbt8170(total, INDEX_DECIMALS)
        row["complete"] = ok
        rows.append(row)
    cols = [by, "composite_index", "rank", "index_exact", *[f"term_{p}" for p in INDEX_POLLUTANTS],
            *[f"c_{p}" for p in INDEX_POLLUTANTS], *[f"n_days_{p}" for p in INDEX_POLLUTANTS], "complete"]
    out = pd.DataFrame(rows, columns=[c for c in cols if c != "rank"])
    out.insert(2, "rank", rank_min(out["composite_index"].to_numpy()) if len(out) else np.array([], dtype=int))
    out["standard"] = limits.standard
    out["limits_verified"] = limits.verified
    out["weighted"] = bool(weighted)
    out["period"] = per.label
    out["period_start"] = per.start.isoformat()
    out["period_end"] = per.end.isoformat()
    order = np.where(out["rank"] < 0, np.iinfo(np.int32).max, out["rank"])
    return out.iloc[np.lexsort((out[by].astype(str).to_numpy(), order))].reset_index(drop=True)


def change_rates(now: pd.DataFrame, before: pd.DataFrame, by: str = "county") -> pd.Series:
    """``(I − I_last) / I_last × 100`` [%] per area of ``now`` (NaN where last year has no index), from the
    unrounded sums, rounded to 0.1 %. Both frames must come from the same limit set."""
    if len(now) and len(before) and set(now["standard"]) != set(before["standard"]):
        raise InputError(f"change rate: the two periods use different limit sets {set(now['standard'])} and "
                         f"{set(before['standard'])}; compute both with the same S_i")
    last = before.set_index(by)["index_exact"] if len(before) else pd.Series(dtype=float)
    prev = now[by].map(last).astype(float)
    rate = (now["index_exact"].astype(float) - prev) / prev * 100.0
    return rate.map(lambda v: round_gbt8170(v, 1))


def ranking(daily: pd.DataFrame, period: "str | Period | tuple", *, ytd: bool = False,
            standard: str | LimitSet = DEFAULT_STANDARD, by: str = "county", weighted: bool = False,
            allow_unverified: bool = False, limits_path: str | Path | None = None) -> pd.DataFrame:
    """The ranking of the areas over a month (or January to that month with ``ytd``) with the change rate.

    The previous year's same period is scored with the **same** limit set (:func:`change_rates`).

    Returns
    -------
    DataFrame
        :func:`composite_index`'s columns with ``change_rate`` [%] after ``rank`` and ``index_last_year``
        (two decimals).
    """
    per = parse_period(period, ytd=ytd)
    limits = standard if isinstance(standard, LimitSet) else load_limits(
        standard, limits_path, allow_unverified=allow_unverified)
    now = composite_index(daily, per, limits, by=by, weighted=weighted)
    before = composite_index(daily, per.last_year(), limits, by=by, weighted=weighted)
    now.insert(3, "change_rate", change_rates(now, before, by).to_numpy())
    last = before.set_index(by)["composite_index"] if len(before) else pd.Series(dtype=float)
    now.insert(4, "index_last_year", now[by].map(last).astype(float).to_numpy())
    return now


# --------------------------------------------------------------------------- targets
@dataclass(frozen=True)
class MeanTarget:
    """Where an annual mean stands against its target on a day of the year.

    Attributes
    ----------
    year, as_of : int, date
        The year and the last day counted.
    target : float
        The annual target [µg/m³].
    observed_days, observed_mean : int, float
        Days with a value up to ``as_of`` and their mean.
    remaining_days : int
        Days after ``as_of`` to 31 December.
    required_mean : float
        The mean the remaining days must keep (NaN when none remain).
    on_track : bool
        ``observed_mean ≤ target``.
    feasible : bool
        ``required_mean ≥ 0`` (False: the target can no longer be reached).
    """

    year: int
    as_of: dt.date
    target: float
    observed_days: int
    observed_mean: float
    remaining_days: int
    required_mean: float
    on_track: bool
    feasible: bool


def required_rest_mean(values: pd.Series, target: float, as_of: "dt.date | str") -> MeanTarget:
    """The mean the rest of the year must keep for the annual mean to reach ``target``.

    ``required = (T · (n_obs + n_rest) − Σ observed) / n_rest``, with the observed days of the year up to
    ``as_of`` (valid values only) and every remaining day counted.

    Parameters
    ----------
    values : Series
        Daily values indexed by date (the city's or a county's PM2.5) [µg/m³].
    target : float
        Annual target.
    as_of : date
        The last day counted.

    Examples
    --------
    273 days (1 January – 30 September 2026) averaging 38 µg/m³ against a target of 35: the 92 remaining days
    must average ``(35 · 365 − 38 · 273) / 92 = 26.1`` µg/m³.

    >>> days = pd.date_range("2026-01-01", "2026-09-30")
    >>> t = required_rest_mean(pd.Series(38.0, index=days), 35, "2026-09-30")
    >>> t.remaining_days, round(t.required_mean, 1)
    (92, 26.1)
    """
    as_of = pd.Timestamp(as_of).date()
    idx = pd.to_datetime(values.index)
    year = as_of.year
    mask = (idx.year == year) & (idx <= pd.Timestamp(as_of))
    obs = values.to_numpy(dtype=float)[mask]
    obs = obs[np.isfinite(obs)]
    n_obs = len(obs)
    n_rest = (dt.date(year, 12, 31) - as_of).days
    total = float(obs.sum())
    mean = total / n_obs if n_obs else float("nan")
    required = (target * (n_obs + n_rest) - total) / n_rest if n_rest > 0 else float("nan")
    return MeanTarget(year=year, as_of=as_of, target=float(target), observed_days=n_obs, observed_mean=mean,
                      remaining_days=n_rest, required_mean=required,
                      on_track=bool(n_obs and mean <= target),
                      feasible=bool(n_rest > 0 and required >= 0) or bool(n_rest == 0 and mean <= target))


def target_probability(values: pd.Series, target: float, as_of: "dt.date | str", statistic: str = "mean", *,
                       n_sims: int = 2000, seed: int = 0, adjust_level: bool = True) -> dict:
    """The probability that the annual statistic of ``values`` meets ``target`` (module notes: block bootstrap
    of the remaining days from past years' same months).

    Parameters
    ----------
    values : Series
        Daily values indexed by date: this year up to ``as_of`` and at least one past year (the pool).
    target : float
        The target of the annual statistic (e.g. O3 90th percentile 160 µg/m³, CO 95th percentile 4 mg/m³).
    as_of : date
        The last observed day.
    statistic : {"mean", "p90", "p95"}
        The annual statistic (percentiles by HJ 663-2013).
    n_sims : int
        Simulations.
    seed : int
        Seed of the generator.
    adjust_level : bool
        Scale each past year's values by the ratio of this year's observed mean to that year's mean over the
        same calendar days, so a past year drawn from carries this year's level (a trend of improvement
        would otherwise make the remaining days too polluted). Without an observed day, no scaling.

    Returns
    -------
    dict
        ``probability`` (share of simulations with the statistic ≤ target), ``median``, ``p05``, ``p95`` of
        the simulated annual statistic, ``observed`` (the statistic of the observed days alone),
        ``remaining_days``, ``pool_years`` (the past years drawn from), ``level_ratio`` (year → scale),
        ``n_sims``.

    Raises
    ------
    InputError
        No past year holds a remaining month (nothing to draw from), or an unknown statistic.
    """
    if statistic not in _STATISTICS:
        raise InputError(f"target_probability: statistic must be one of {list(_STATISTICS)}, got {statistic!r}")
    as_of = pd.Timestamp(as_of).normalize()
    s = pd.Series(values.to_numpy(dtype=float), index=pd.to_datetime(values.index).normalize())
    s = s[~s.index.duplicated(keep="last")]
    year = as_of.year
    obs = s[(s.index.year == year) & (s.index <= as_of)].to_numpy()
    obs = obs[np.isfinite(obs)]
    rest = pd.date_range(as_of + pd.Timedelta(days=1), pd.Timestamp(year, 12, 31), freq="D")
    p = _STATISTICS[statistic]
    stat = (lambda a: np.nanmean(a, axis=1)) if p is None else (
        lambda a: np.nanpercentile(a, p, axis=1, method="linear"))
    observed_stat = _statistic(obs, statistic)
    pool_years = sorted({int(y) for y in s.index.year if y < year})
    if len(rest) == 0:
        v = observed_stat
        return {"probability": float(v <= target), "median": v, "p05": v, "p95": v, "observed": v,
                "remaining_days": 0, "pool_years": pool_years, "level_ratio": {}, "n_sims": 0}
    months = sorted(set(rest.month))
    ratio: dict[int, float] = {}
    if adjust_level and len(obs):
        seen = s[(s.index.year == year) & (s.index <= as_of)]
        for y in pool_years:
            same = s[(s.index.year == y) & (s.index.day_of_year <= as_of.day_of_year)]
            base = np.nanmean(same.to_numpy()) if np.isfinite(same.to_numpy()).any() else np.nan
            if np.isfinite(base) and base > 0:
                ratio[y] = float(np.nanmean(seen.to_numpy()) / base)
    rng = np.random.default_rng(seed)
    sims = np.full((n_sims, len(rest)), np.nan)
    for m in months:
        cols = np.flatnonzero(rest.month == m)
        days = rest[cols].day.to_numpy()
        years = [y for y in pool_years if np.isfinite(s[(s.index.year == y) & (s.index.month == m)]).any()]
        if not years:
            raise InputError(f"target_probability: no past year has data in month {m} to draw the remaining days "
                             f"from (past years in the data: {pool_years})")
        table = np.full((len(years), 31), np.nan)
        for i, y in enumerate(years):
            g = s[(s.index.year == y) & (s.index.month == m)]
            table[i, g.index.day - 1] = g.to_numpy() * ratio.get(y, 1.0)
        # 29 February of a leap year drawn from a common year takes 28 February
        day_idx = np.minimum(days - 1, 30)
        pick = rng.integers(0, len(years), size=n_sims)
        block = table[pick][:, day_idx]
        if m == 2:
            feb28 = table[pick][:, [27]]
            block = np.where(np.isnan(block) & (days == 29), feb28, block)
        sims[:, cols] = block
    full = np.concatenate([np.broadcast_to(obs, (n_sims, len(obs))), sims], axis=1)
    annual = stat(full)
    return {"probability": float(np.mean(annual <= target)), "median": float(np.median(annual)),
            "p05": float(np.quantile(annual, 0.05)), "p95": float(np.quantile(annual, 0.95)),
            "observed": observed_stat, "remaining_days": len(rest), "pool_years": pool_years, "level_ratio": ratio,
            "n_sims": n_sims}
