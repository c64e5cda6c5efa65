"""The recommendation: which warning level, from when to when, why, how likely, how robust.

:func:`assess` reads a forecast (the model's xarray Dataset or netCDF, or a CSV), evaluates a rule set
(:mod:`emergency.rules`) on the median daily AQI series, and returns a frozen :class:`Recommendation`.

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
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from airwarn.core.vocab import WarningLevel
from emergency.decision import WINDOW as _WINDOW
from emergency.rules import RuleSet, load_rules, mark, runs
from forecast.inputs import STALE_OBSERVATION_DAYS
from airwarn.core.errors import InputError, UnknownNameError

#: Levels in order of severity (without NONE).
LEVELS = (WarningLevel.YELLOW, WarningLevel.ORANGE, WarningLevel.RED)
#: Number of comonotonic pseudo-members built from quantiles.
N_PSEUDO_MEMBERS = 200
#: A forecast file's valid dates may run at most this many days past its issue date (or, with no
#: issue date in it, past today): dates beyond are a damaged or mislabelled file, not a forecast.
MAX_LEAD_DAYS = 15
#: The AQI is 0-500 by definition (HJ 633).
AQI_RANGE = (0.0, 500.0)


# ------------------------------------------------------------------------------------ forecast input
@dataclass(frozen=True)
class ForecastSeries:
    """One city's forecast AQI series, as the engine reads it.

    Attributes
    ----------
    city : str
    times : pandas.DatetimeIndex
        Valid date of each value (daily) or the hour ending each rolling 24-h window (hourly).
    aqi : ndarray, shape (n,)
        Median (deterministic) AQI.
    members : ndarray, shape (m, n) or None
        AQI members (scenarios or comonotonic pseudo-members).
    step_hours : float
        24 (daily) or 1 (hourly rolling).
    member_method : str
        ``"scenarios"``, ``"comonotonic"`` or ``"deterministic"``.
    issued : datetime.date or None
    source : str
        File name or ``"<Dataset>"``; ``sha256`` the file's content hash (empty for objects).
    last_observed : datetime.date or None
        Last day with observations the forecast started from (the model's ``last_observed``), if known.
    issue_aqi : float
        Observed daily AQI of the issue day (``aqi_issue_day``; NaN when unknown): the day before the
        first forecast day, read with them by the probability decision.
    primary : tuple of str or None
        Primary pollutant(s) of each value, comma-joined vocabulary names (``pm25``, ``pm25,o3_8h``;
        ``""`` unknown or AQI ≤ 50); None when the forecast does not say.
    """

    city: str
    times: pd.DatetimeIndex
    aqi: np.ndarray
    members: np.ndarray | None
    step_hours: float
    member_method: str
    issued: dt.date | None = None
    source: str = ""
    sha256: str = ""
    last_observed: dt.date | None = None
    issue_aqi: float = float("nan")
    primary: tuple[str, ...] | None = None


#: A level the median forecast does not reach, but whose criteria the forecast members meet with at
#: least this probability somewhere in the horizon, is named in the reasons as an advisory.
ADVISORY_PROBABILITY = 0.5


def _pseudo_members(median: np.ndarray, cdf_points: list[list[tuple[float, float]]], m: int) -> np.ndarray:
    """Comonotonic members from per-day CDF points ``(prob_below, value)``."""
    u = (np.arange(m) + 0.5) / m
    out = np.empty((m, median.size))
    for j, pts in enumerate(cdf_points):
        pts = sorted((p, v) for p, v in pts if np.isfinite(p) and np.isfinite(v))
        if not pts:
            out[:, j] = median[j]
            continue
        p = np.array([q for q, _ in pts])
        v = np.maximum.accumulate(np.array([x for _, x in pts]))
        if p.size == 1:
            out[:, j] = v[0]
            continue
        vals = np.interp(u, p, v)
        # extrapolate linearly beyond the outermost points, so tails cross thresholds
        lo_slope = (v[1] - v[0]) / max(p[1] - p[0], 1e-9)
        hi_slope = (v[-1] - v[-2]) / max(p[-1] - p[-2], 1e-9)
        vals = np.where(u < p[0], v[0] - (p[0] - u) * lo_slope, vals)
        vals = np.where(u > p[-1], v[-1] + (u - p[-1]) * hi_slope, vals)
        out[:, j] = np.clip(vals, 0, 500)
    return out


def _file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_forecast(forecast: Any, city: str | None = None, issued: "dt.date | str | None" = None
                  ) -> ForecastSeries:
    """Read one city's forecast AQI series from any accepted input.

    Parameters
    ----------
    forecast : xarray.Dataset, path (``.nc`` or ``.csv``), pandas.DataFrame, or ForecastSeries
        * Dataset / netCDF in the forecast-model layout: ``aqi(city, issued, lead_day, quantile)``,
          coordinate ``valid_date(issued, lead_day)``, optional ``aqi_scenario(..., member)`` and
          ``p_aqi_gt_150/200/300``.
        * CSV / DataFrame with ``city, valid_date, aqi`` (the median) or ``aqi_p50``, optional
          ``issued`` (the latest issue is used), ``aqi_pNN`` quantile columns and ``p_aqi_gt_*``
          [probability 0-1]. A ``time`` column instead of ``valid_date`` means an hourly rolling
          24-h AQI series.

        The chosen city's series is checked before any decision is made on it: every AQI cell
        (median and quantiles) a number in 0-500 and every probability in 0-1, no cell empty; the
        times consecutive (days, or hours of one step) and no more than :data:`MAX_LEAD_DAYS`
        days after the issue date (without one, after today), none before it; a CSV's last line
        complete (:func:`forecast.io.check_last_line`). A Dataset's median AQI must be finite and
        in 0-500 on every day.
    city : str, optional
        Needed when the forecast holds several cities.
    issued : date, optional
        Issue date to use (default: the latest in the forecast).

    Raises
    ------
    KeyError
        Unknown city or issue date (the message lists the valid ones), missing columns.
    ValueError
        Empty series, bad values: the message names the file, the row as the file numbers it
        (header = row 1; ``index`` of a DataFrame), the column and the value.
    """
    if isinstance(forecast, ForecastSeries):
        return forecast
    issued_d = pd.Timestamp(issued).normalize() if issued is not None else None
    source, digest = "<object>", ""
    if isinstance(forecast, (str, os.PathLike)):
        path = Path(forecast)
        if not path.exists():
            raise FileNotFoundError(f"forecast file not found: {path}")
        source, digest = str(path), _file_hash(path)
        if path.suffix.lower() in (".nc", ".nc4", ".netcdf"):
            import xarray as xr

            try:
                with xr.open_dataset(path) as ds:
                    data = ds.load()
            except (OSError, ValueError, RuntimeError) as exc:  # damaged, cut or not netCDF at all
                reason = " ".join(str(exc).split()).split(". ")[0]
                raise InputError(f"forecast file {path}: not a readable netCDF file ({reason[:200]})") from None
            series = _from_dataset(data, city, issued_d, source)
        elif path.suffix.lower() in (".csv", ".gz"):
            from forecast.io import read_table

            series = _from_frame(read_table(path), city, issued_d, source, file_rows=True)
        else:
            raise InputError(f"forecast file {path}: expected a .nc or .csv file, got {path.suffix!r}")
        return _with(series, source=source, sha256=digest)
    if isinstance(forecast, pd.DataFrame):
        return _from_frame(forecast, city, issued_d, "<DataFrame>")
    try:
        import xarray as xr
    except ImportError:  # pragma: no cover
        xr = None
    if xr is not None and isinstance(forecast, xr.Dataset):
        return _from_dataset(forecast, city, issued_d, "<Dataset>")
    raise TypeError(f"forecast: expected an xarray Dataset, a .nc/.csv path or a DataFrame, got "
                    f"{type(forecast).__name__}")


def _with(s: ForecastSeries, **kw) -> ForecastSeries:
    from dataclasses import replace

    return replace(s, **kw)


def _pick_city(cities: Sequence[str], city: str | None, source: str) -> str:
    cities = [str(c) for c in cities]
    if city is None:
        if len(cities) == 1:
            return cities[0]
        raise UnknownNameError(f"forecast {source}: holds {len(cities)} cities; choose one with city=, one of {cities}")
    if city not in cities:
        raise UnknownNameError(f"forecast {source}: no city {city!r}; cities in the forecast are {cities}")
    return city


def _from_dataset(ds, city, issued, source) -> ForecastSeries:
    if "aqi" not in ds:
        raise InputError(f"forecast {source}: no variable 'aqi'; variables are {sorted(ds.data_vars)}")
    if "city" in ds.dims:
        c = _pick_city(ds["city"].values.tolist(), city, source)
        ds = ds.sel(city=c)
    else:
        c = city or str(ds.attrs.get("city", ""))
    iss = None
    if "issued" in ds.dims:
        issued_vals = pd.DatetimeIndex(ds["issued"].values)
        if issued is None:
            idx = int(np.argmax(issued_vals.values))
        else:
            hits = np.flatnonzero(issued_vals.normalize() == issued)
            if not hits.size:
                raise UnknownNameError(f"forecast {source}: no issue date {issued.date()}; issue dates are "
                               f"{[d.date().isoformat() for d in issued_vals]}")
            idx = int(hits[-1])
        ds = ds.isel(issued=idx)
        iss = issued_vals[idx].date()
    elif "issued" in ds.coords:
        iss = pd.Timestamp(ds["issued"].values).date()
    if "lead_day" in ds.dims:
        ds = ds.sortby("lead_day")
    if "valid_date" in ds.coords or "valid_date" in ds:
        times = pd.DatetimeIndex(np.atleast_1d(ds["valid_date"].values))
    elif iss is not None:
        times = pd.DatetimeIndex([pd.Timestamp(iss) + pd.Timedelta(days=int(d)) for d in ds["lead_day"].values])
    else:
        raise InputError(f"forecast {source}: needs a 'valid_date' coordinate or 'issued' + 'lead_day'")
    aqi = ds["aqi"]
    cdf: list[list[tuple[float, float]]] = [[] for _ in range(times.size)]
    if "quantile" in aqi.dims:
        qs = np.asarray(ds["quantile"].values, dtype=float)
        median = aqi.sel(quantile=qs[np.argmin(np.abs(qs - 0.5))]).values.astype(float)
        arr = aqi.transpose("quantile", ...).values.astype(float)
        for j in range(times.size):
            cdf[j] += [(float(q), float(arr[i, j])) for i, q in enumerate(qs)]
    else:
        median = aqi.values.astype(float)
    median = np.atleast_1d(median)
    with np.errstate(invalid="ignore"):
        bad = np.flatnonzero(~(np.isfinite(median) & (median >= AQI_RANGE[0]) & (median <= AQI_RANGE[1])))
    if bad.size:
        j = int(bad[0])
        raise InputError(f"forecast {source}: city {c!r}{f', issued {iss}' if iss else ''}, valid date "
                         f"{times[j].date()}: expected a median AQI 0-500, got {median[j]:g}; no warning decision "
                         f"is made on a series with a bad value")
    for t in (150, 200, 300):
        var = f"p_aqi_gt_{t}"
        if var in ds:
            pv = np.atleast_1d(ds[var].values.astype(float))
            for j in range(times.size):
                cdf[j].append((1.0 - float(pv[j]), float(t)))
    members, method = None, "deterministic"
    if "aqi_scenario" in ds and "member" in ds["aqi_scenario"].dims:
        members = ds["aqi_scenario"].transpose("member", ...).values.astype(float)
        method = "scenarios"
    elif any(len(p) > 1 for p in cdf):
        members = _pseudo_members(median, cdf, N_PSEUDO_MEMBERS)
        method = "comonotonic"
    last = None
    if "last_observed" in ds and np.ndim(ds["last_observed"].values) == 0:
        value = pd.Timestamp(ds["last_observed"].values)
        last = None if pd.isna(value) else value.date()
    issue_aqi = float(ds["aqi_issue_day"].values) if "aqi_issue_day" in ds and ds["aqi_issue_day"].ndim == 0 \
        else float("nan")
    return ForecastSeries(city=str(c), times=times, aqi=np.atleast_1d(median), members=members,
                          step_hours=24.0, member_method=method, issued=iss, source=source, last_observed=last,
                          issue_aqi=issue_aqi, primary=_dataset_primary(ds, times))


def _dataset_primary(ds, times: pd.DatetimeIndex) -> tuple[str, ...] | None:
    """The forecast's ``primary_pollutant`` per day, else from its median pollutant quantiles, else None."""
    from airwarn.core.vocab import DAILY_POLLUTANTS
    from forecast.aqi import primary_pollutants

    if "primary_pollutant" in ds:
        vals = np.atleast_1d(ds["primary_pollutant"].values).astype(object)
        return tuple("" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in vals)
    pols = [p for p in DAILY_POLLUTANTS if p in ds and "quantile" in ds[p].dims]
    if not pols:
        return None
    med = {p: np.atleast_1d(ds[p].sel(quantile=0.5, method="nearest").values.astype(float)) for p in pols}
    return tuple(str(v) for v in primary_pollutants(med, dates=times.values))


#: Spellings accepted in a forecast table's ``primary_pollutant`` column, besides the vocabulary names.
_PRIMARY_ALIASES = {"pm2.5": "pm25", "pm2_5": "pm25", "o3-8h": "o3_8h", "o3_8h": "o3_8h", "o3": "o3_8h"}
_EMPTY_PRIMARY = ("", "-", "—", "/", "na", "nan", "none")


def _read_primary(df: pd.DataFrame, source: str, at) -> tuple[str, ...]:
    """The ``primary_pollutant`` column: names joined by ``,`` (also ``，`` ``、`` ``;``), normalised to
    the vocabulary's order; an empty cell (or ``-``, ``—``, ``/``) is unknown (``""``)."""
    import re

    from airwarn.core.vocab import DAILY_POLLUTANTS

    out = []
    for i, cell in zip(df.index, df["primary_pollutant"]):
        text = "" if pd.isna(cell) else str(cell).strip()
        if text.lower() in _EMPTY_PRIMARY:
            out.append("")
            continue
        names = []
        for part in re.split(r"[,，、;；]", text):
            key = part.strip().lower().replace(" ", "")
            key = _PRIMARY_ALIASES.get(key, key)
            if key not in DAILY_POLLUTANTS:
                raise InputError(f"forecast {source}: {at(i)}, column 'primary_pollutant': expected pollutant names "
                                 f"from {list(DAILY_POLLUTANTS)} joined by ',', got {text!r}")
            names.append(key)
        out.append(",".join(p for p in DAILY_POLLUTANTS if p in names))
    return tuple(out)


def _checked_numbers(df: pd.DataFrame, col: str, source: str, at, low: float, high: float, expected: str,
                     *, required: bool = True) -> np.ndarray:
    """Column ``col`` as floats; a cell not a finite number in ``low..high`` (empty, if ``required``) raises."""
    raw = df[col]
    vals = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        bad = ~(np.isfinite(vals) & (vals >= low) & (vals <= high))
    if not required:
        bad &= raw.notna().to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        cell = raw.iloc[i]
        got = "an empty cell" if pd.isna(cell) else repr(cell.item() if isinstance(cell, np.generic) else cell)
        raise InputError(f"forecast {source}: {at(df.index[i])}, column {col!r}: expected {expected}, got {got}; "
                         f"no warning decision is made on a series with a bad value")
    return vals


def _check_times(t: pd.DatetimeIndex, index, source: str, at, time_col: str, step_hours: float,
                 reference: pd.Timestamp | None) -> None:
    """Times consecutive (one step apart) and within :data:`MAX_LEAD_DAYS` days after ``reference``
    (the issue date; None: today, and only the upper bound)."""
    step = pd.Timedelta(hours=step_hours)
    gaps = np.flatnonzero(np.diff(t.values) != step.to_timedelta64())
    if gaps.size:
        i = int(gaps[0])
        unit = "day" if step_hours == 24 else f"{step_hours:g} h"
        raise InputError(f"forecast {source}: {at(index[i + 1])}, column {time_col!r}: expected "
                         f"{_fmt_time(t[i] + step, step_hours)} (one {unit} after {at(index[i])}), got "
                         f"{_fmt_time(t[i + 1], step_hours)}; the series must be consecutive")
    ref = reference if reference is not None else pd.Timestamp.today().normalize()
    latest = ref + pd.Timedelta(days=MAX_LEAD_DAYS + (1 if step_hours < 24 else 0))
    late = np.flatnonzero(t > latest)
    if late.size:
        i = int(late[0])
        what = f"the issue date {ref.date()}" if reference is not None else f"today ({ref.date()})"
        raise InputError(f"forecast {source}: {at(index[i])}, column {time_col!r}: expected a date at most "
                         f"{MAX_LEAD_DAYS} days after {what}, got {_fmt_time(t[i], step_hours)}")
    if reference is not None and t[0] < reference:
        raise InputError(f"forecast {source}: {at(index[0])}, column {time_col!r}: expected a date on or after "
                         f"the issue date {reference.date()}, got {_fmt_time(t[0], step_hours)}")


def _from_frame(df: pd.DataFrame, city, issued, source, file_rows: bool = False) -> ForecastSeries:
    """One city's series from a table; ``file_rows``: its index + 2 is the file's row (header = row 1)."""
    def at(i) -> str:
        return f"row {int(i) + 2}" if file_rows else f"index {i}"

    df = df.copy()
    time_col = "valid_date" if "valid_date" in df.columns else "time" if "time" in df.columns else None
    if time_col is None:
        raise InputError(f"forecast {source}: needs a 'valid_date' (daily) or 'time' (hourly) column; "
                       f"columns are {list(df.columns)}")
    aqi_col = "aqi" if "aqi" in df.columns else "aqi_p50" if "aqi_p50" in df.columns else None
    if aqi_col is None:
        raise InputError(f"forecast {source}: needs an 'aqi' (median) or 'aqi_p50' column; columns are {list(df.columns)}")
    if "city" in df.columns:
        c = _pick_city(pd.unique(df["city"].astype(str)).tolist(), city, source)
        df = df[df["city"].astype(str) == c]
    else:
        c = city or ""
    iss = None
    if "issued" in df.columns:
        iss_vals = pd.to_datetime(df["issued"], errors="coerce").dt.normalize()
        if iss_vals.isna().any():
            i = int(np.flatnonzero(iss_vals.isna().to_numpy())[0])
            cell = df["issued"].iloc[i]
            raise InputError(f"forecast {source}: {at(df.index[i])}, column 'issued': expected a date YYYY-MM-DD, "
                             f"got {'an empty cell' if pd.isna(cell) else repr(cell)}")
        target = issued if issued is not None else iss_vals.max()
        if not (iss_vals == target).any():
            raise UnknownNameError(f"forecast {source}: no issue date {target.date()}; issue dates are "
                           f"{sorted({d.date().isoformat() for d in iss_vals})}")
        df = df[iss_vals == target]
        iss = target.date()
    times = pd.to_datetime(df[time_col], errors="coerce")
    if times.isna().any():
        row = int(np.flatnonzero(times.isna().to_numpy())[0])
        cell = df[time_col].iloc[row]
        raise InputError(f"forecast {source}: {at(df.index[row])}, column {time_col!r}: expected a date, got "
                         f"{'an empty cell' if pd.isna(cell) else repr(cell)}")
    df = df.assign(_t=times.to_numpy()).sort_values("_t")
    if df.empty:
        raise InputError(f"forecast {source}: no rows for city {c!r}")
    t = pd.DatetimeIndex(df["_t"])
    if t.has_duplicates:
        raise InputError(f"forecast {source}: duplicate {time_col} values for city {c!r}: "
                         f"{sorted({x.isoformat() for x in t[t.duplicated()]})[:5]}")
    step = 24.0 if time_col == "valid_date" else (
        float(np.median(np.diff(t.values).astype("timedelta64[s]").astype(float))) / 3600 if t.size > 1 else 1.0)
    _check_times(t, df.index, source, at, time_col, step, pd.Timestamp(iss) if iss is not None else issued)
    median = _checked_numbers(df, aqi_col, source, at, *AQI_RANGE, "an AQI 0-500")
    cdf: list[list[tuple[float, float]]] = [[] for _ in range(len(df))]
    for col in df.columns:
        if col.startswith("aqi_p") and col[5:].isdigit():
            q = int(col[5:]) / 100.0
            vals = _checked_numbers(df, col, source, at, *AQI_RANGE, "an AQI 0-500")
            for j in range(len(df)):
                cdf[j].append((q, vals[j]))
        if col.startswith("p_aqi_gt_") and col[9:].isdigit():
            thr = float(col[9:])
            vals = _checked_numbers(df, col, source, at, 0.0, 1.0, "probabilities in 0-1")
            for j in range(len(df)):
                cdf[j].append((1.0 - vals[j], thr))
    if not any(q == 0.5 for q, _ in (cdf[0] if cdf else [])):
        for j in range(len(df)):
            cdf[j].append((0.5, median[j]))
    members, method = None, "deterministic"
    if any(len([p for p in pts if np.isfinite(p[0])]) > 1 for pts in cdf):
        members = _pseudo_members(median, cdf, N_PSEUDO_MEMBERS)
        method = "comonotonic"
    issue_aqi = float("nan")
    if "aqi_issue_day" in df.columns:
        v = pd.Series(_checked_numbers(df, "aqi_issue_day", source, at, *AQI_RANGE, "an AQI 0-500 or an empty cell",
                                       required=False)).dropna()
        issue_aqi = float(v.iloc[0]) if len(v) else float("nan")
    primary = _read_primary(df, source, at) if "primary_pollutant" in df.columns else None
    return ForecastSeries(city=str(c), times=t, aqi=median, members=members, step_hours=step,
                          member_method=method, issued=iss, source=source, issue_aqi=issue_aqi, primary=primary)


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
        Chinese explanation, one sentence each.
    reason_details : tuple of dict
        The same, English-keyed (``code``, ``level``, ``threshold``, ``hours``, ``dates``, ``values``).
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
        before the day the recommendation is made for).
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
        }

    def to_json(self, **kw) -> str:
        """JSON text of :meth:`to_dict` (UTF-8, Chinese kept)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, **kw)


def _fmt_time(t: pd.Timestamp, step: float) -> str:
    return t.date().isoformat() if step >= 24 else t.isoformat()


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
                               tuple(_fmt_time(times[i], step) for i in idx),
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
            date = _fmt_time(times[i], step)
            label = f"第{i + 1}天({date})" if step >= 24 else date
            text = (f"若{label}AQI为{c:g}而非{v:g},预警级别变为{new.label}"
                    f" (if AQI on {date} were {c:g} instead of {v:g}, the level becomes {new.key})")
            best[new] = (abs(c - v), Sensitivity(i, date, float(v), float(c), None, new, text))
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
                    text = (f"若整个预报序列AQI{'上调' if sign > 0 else '下调'}{d:g},预警级别变为{new.label}"
                            f" (a uniform shift of {sign * d:+g} AQI makes the level {new.key})")
                    shifts.append(Sensitivity(None, None, None, None, float(sign * d), new, text))
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
    graded = _with(s, aqi=values, members=None if s.members is None else np.where(colour[None, :], s.members, np.nan))
    if decision not in (None, "probability", "median"):
        raise InputError(f"decision must be 'probability' or 'median', got {decision!r}")
    cal, why_not = (None, "") if decision == "median" else _decision_calibration(s, rules, calibration)
    if decision == "probability" and cal is None:
        raise InputError(f"forecast {s.source}: the probability decision is not possible: {why_not}")
    # the product's default fell back although the forecast could have been decided on probabilities
    fallback_warning = (f"数据提示:本次预警建议未能采用概率决策,改按中位数预报序列定级({why_not})"
                        if why_not and calibration is not None and s.member_method == "scenarios" else "")
    if decision is None:
        decision = "probability" if cal is not None else "median"
    if decision == "probability":
        return _assess_probability(graded, rules, cal, regional_minimum, as_of, in_force, raw=s)
    eps = find_episodes(values, rules, step)
    reasons: list[str] = []
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
        steps = tuple((_fmt_time(times[i], step), lvl) for i, lvl in ep.steps())
        top = [t for t in triggers if t.level == level]
        cond_text = rules.describe(level)
        reasons.append(f"预测{s.city}{start}至{end}达到{level.label}启动条件({rules.title}:{cond_text})")
        details.append({"code": f"level.{level.key}", "level": level.key, "condition": cond_text,
                        "start": str(start), "end": str(end)})
        for t in top:
            vals = "、".join(f"{d} AQI {v:g}" for d, v in zip(t.dates, t.values))
            reasons.append(f"满足{t.text}:{vals}")
            details.append({"code": t.key, "level": t.level.key, "threshold": t.threshold, "hours": t.hours,
                            "dates": list(t.dates), "values": list(t.values)})
        if len(steps) > 1:
            chain = "→".join(f"{d}起{lvl.label}" for d, lvl in steps)
            reasons.append(f"过程中级别升级({chain}),整个过程按较高级别{level.label}执行")
            details.append({"code": "episode.upgrade", "steps": [[d, lvl.key] for d, lvl in steps]})
        gaps = [i for i, x in enumerate(ep.point_levels) if x == WarningLevel.NONE]
        if gaps:
            gd = [_fmt_time(times[ep.start_index + i], step) for i in gaps]
            reasons.append(f"两次过程间隔不足{rules.merge_gap_hours:g}小时({'、'.join(gd)}),合并为一次过程")
            details.append({"code": "episode.merged", "gap": gd, "gap_shorter_than_hours": rules.merge_gap_hours})
        if lift_ok:
            reasons.append(f"预计{end}后AQI低于黄色预警启动条件且持续≥{rules.lifting_hours:g}小时,届时可解除预警")
            details.append({"code": "lifting.confirmed", "after": str(end), "hours": rules.lifting_hours})
        else:
            reasons.append(f"预报时段内未见AQI低于启动条件持续≥{rules.lifting_hours:g}小时,解除时间待后续会商")
            details.append({"code": "lifting.open", "hours": rules.lifting_hours})
        for later in eps[1:]:
            a, b = _period(times, later.start_index, later.stop_index, step)
            reasons.append(f"另预测{a}至{b}出现{later.level.label}过程")
            details.append({"code": "episode.later", "level": later.level.key, "start": str(a), "end": str(b)})
    advised = _pollutant_advice(s, rules, colour, reasons, details)
    temp = level == WarningLevel.NONE and _temporary_measures(rules, values, times, step, reasons, details)
    if level == WarningLevel.NONE and not temp:
        if advised:
            reasons.append(f"预报期内以{_colour_label(rules)}为首要污染物的日子未达到颜色预警启动条件，不启动颜色预警")
        else:
            reasons.append(f"预报期内未达到任何预警启动条件(最高AQI {np.nanmax(raw):g})"
                           if np.isfinite(raw).any() else "预报无有效AQI")
        details.append({"code": "no_warning", "max_aqi": float(np.nanmax(raw)) if np.isfinite(raw).any() else None})
    reg = WarningLevel.parse(regional_minimum) if regional_minimum is not None else None
    if reg is not None and reg > level:
        reasons.append(f"省级区域预警要求不低于{reg.label},按区域预警级别{reg.label}执行(由{level.label}上调)")
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
    if why_not:
        reasons.append(f"决策依据:按中位数预报序列定级({why_not})")
        details.append({"code": "decision.median", "why": why_not})
    likely = [lvl for lvl in LEVELS if lvl > level and prob[lvl.key] >= ADVISORY_PROBABILITY]
    if likely:
        top = likely[-1]
        reasons.append(f"概率预报:预报期内达到{top.label}启动条件的概率为{prob[top.key]:.0%},高于中位数预报给出的"
                       f"{level.label};建议会商重点研判,必要时提前预警")
        details.append({"code": "probability.advisory", "level": top.key, "probability": prob[top.key],
                        "threshold": ADVISORY_PROBABILITY})
    sens = _sensitivity(values, times, rules, step, _first_level(values, rules, step))
    eps_out = []
    for e in eps:
        a, b = _period(times, e.start_index, e.stop_index, step)
        eps_out.append({"start": str(a), "end": str(b), "level": e.level.key, "lift_confirmed": e.lift_confirmed})
    return Recommendation(
        city=s.city, level=level, start=start, end=end, probability=prob, reasons=tuple(reasons),
        reason_details=tuple(details), triggers=tuple(triggers), steps=steps, sensitivity=sens,
        temporary_measures=temp, lift_confirmed=lift_ok, rules_name=rules.name, rules_version=rules.version,
        rules_sha256=rules.sha256, issued=s.issued, forecast_source=s.source, forecast_sha256=s.sha256,
        probability_method=s.member_method, regional_minimum=reg,
        dates=tuple(_fmt_time(t, step) for t in times), aqi=tuple(float(v) for v in raw),
        episodes=tuple(eps_out), observations_through=s.last_observed,
        data_warnings=stale_data_warnings(s.city, s.last_observed,
                                          dt.date.fromisoformat(str(as_of)[:10]) if as_of else s.issued)
        + ((fallback_warning,) if fallback_warning else ()),
        primary_pollutants=s.primary or (), advisories=advised,
    )


def stale_data_warnings(city: str, last_observed: dt.date | None, as_of: dt.date | None) -> tuple[str, ...]:
    """The data warning when ``city``'s observations end :data:`STALE_OBSERVATION_DAYS` or more days
    before ``as_of`` (the issue or product day); empty otherwise or when either day is unknown."""
    if last_observed is None or as_of is None:
        return ()
    age = (pd.Timestamp(as_of) - pd.Timestamp(last_observed)).days
    if age < STALE_OBSERVATION_DAYS:
        return ()
    return (f"数据提示:{city}实况数据仅截至{last_observed.isoformat()},距{as_of.isoformat()}已{age}天,"
            f"预报缺少最近{age}天的实况,可信度下降;请核实监测数据接入后重新运行",)


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


def _colour_label(rules: RuleSet) -> str:
    from airwarn.core.vocab import POLLUTANT_LABELS

    return "、".join(POLLUTANT_LABELS.get(p, p) for p in (rules.colour_pollutants or ()))


def _pollutant_advice(s: ForecastSeries, rules: RuleSet, colour: np.ndarray, reasons: list,
                      details: list) -> tuple[dict, ...]:
    """Advice for the exceedances the colour levels leave out: the points that the AQI alone would put
    into a warning (:func:`point_levels` of the series as read) but whose primary pollutant starts no
    colour warning; one reason per advice (pollutant group). Also notes when the rules distinguish
    pollutants but the forecast does not say which leads."""
    from airwarn.core.vocab import POLLUTANT_LABELS

    if rules.colour_pollutants is None:
        return ()
    if s.primary is None:
        details.append({"code": "by_pollutant.unknown", "colour_warnings": list(rules.colour_pollutants)})
        return ()
    values, times, step = np.asarray(s.aqi, dtype=float), s.times, s.step_hours
    left_out = (point_levels(values, rules, step) > 0) & ~colour
    groups: dict[str, dict] = {}
    for i in np.flatnonzero(left_out):
        key, text = rules.advice(s.primary[i])
        g = groups.setdefault(key, {"code": f"by_pollutant.{key}", "pollutant": key, "advice": text,
                                    "dates": [], "values": [], "primary": []})
        g["dates"].append(_fmt_time(times[i], step))
        g["values"].append(float(values[i]))
        g["primary"].append(s.primary[i])
    for g in groups.values():
        days = "、".join(f"{d} AQI {v:g}（首要污染物{'、'.join(POLLUTANT_LABELS.get(p, p) for p in pp.split(','))}）"
                        for d, v, pp in zip(g["dates"], g["values"], g["primary"]))
        reasons.append(f"{days}：{g['advice']}（{rules.source}，颜色预警仅适用于以{_colour_label(rules)}为首要"
                       f"污染物的重污染过程）")
        details.append(dict(g))
    return tuple(groups.values())


def _temporary_measures(rules: RuleSet, values, times, step, reasons: list, details: list) -> bool:
    """Below yellow: whether the (median) series meets the rule set's temporary-measures condition; the
    reason and its details are appended."""
    if rules.temporary_measures is None:
        return False
    m = mark(rules.temporary_measures, values, step)
    if not m.any():
        return False
    idx = np.flatnonzero(m)
    txt = "、".join(f"{_fmt_time(times[i], step)} AQI {values[i]:g}" for i in idx)
    reasons.append(f"未达黄色预警条件,但满足临时管控条件({rules.temporary_measures.describe()}):{txt};"
                   f"可在上级部署下采取临时管控措施")
    details.append({"code": "temporary_measures", "condition": rules.temporary_measures.describe(),
                    "dates": [_fmt_time(times[i], step) for i in idx]})
    return True


def _decision_calibration(s: ForecastSeries, rules: RuleSet, calibration) -> tuple[Any, str]:
    """The calibration the probability decision can use for this forecast, or None and why not (Chinese)."""
    from emergency.decision import DECISION_FILE, DecisionCalibration, load_calibration

    if s.step_hours < 24:
        return None, "逐小时序列不适用概率决策"
    if s.member_method != "scenarios" or s.members is None:
        return None, "预报文件不含情景成员(aqi_scenario)"
    if calibration is None:
        return None, "未提供模型的预警决策校准(warning_decision.json)"
    if isinstance(calibration, DecisionCalibration):
        cal = calibration
    else:
        if not (Path(calibration) / DECISION_FILE).exists():
            return None, f"模型目录{Path(calibration).name}缺少预警决策校准,需重新训练模型"
        try:
            cal = load_calibration(calibration, rules)
        except ValueError:
            return None, f"模型目录{Path(calibration).name}的预警决策校准文件无法读取,需重新训练模型"
    if cal is None:
        return None, f"模型未对规则{rules.name}校准预警决策"
    return cal, ""


def _assess_probability(s: ForecastSeries, rules: RuleSet, cal, regional_minimum, as_of,
                        in_force=None, raw: ForecastSeries | None = None) -> Recommendation:
    """The probability decision for one forecast (:mod:`emergency.decision`), with its reasons.

    ``s`` is the series graded (days led by a pollutant without colour warnings set to NaN in the
    median and every member); ``raw`` the forecast as read (the shown AQI and the advice).
    """
    from emergency.decision import HORIZON, LEVEL_KEYS, level_shares, periods

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
    reasons: list[str] = []
    details: list[dict] = []
    prob = {k: float(pw[0, j]) for j, k in enumerate(LEVEL_KEYS)}
    outlook = {k: float(ph[0, j]) for j, k in enumerate(LEVEL_KEYS)}
    thresholds = {k: float(cal.thresholds[k]) for k in LEVEL_KEYS}
    if held > WarningLevel.NONE and cal.keep_ratio < 1:  # a warning in force is kept at the lower thresholds
        thresholds = {k: round(cal.keep_ratio * v, 4) for k, v in thresholds.items()}
    basis = "、".join(f"P({WarningLevel(j + 1).label}条件)={prob[k]:.2f}{'≥' if prob[k] >= thresholds[k] else '<'}"
                     f"{_threshold_text(thresholds[k])}" for j, k in enumerate(LEVEL_KEYS))
    if code:
        a, b = periods(shares.inside, np.array([True]), cal.window)
        start = issued + dt.timedelta(days=int(a[0]))
        end = issued + dt.timedelta(days=int(b[0]))
        reasons.append(f"预测{s.city}未来{lo}–{hi}天达到{level.label}启动条件的概率为{prob[level.key]:.2f},"
                       f"不低于决策阈值{_threshold_text(thresholds[level.key])},建议{start}至{end}启动{level.label}"
                       f"({rules.title}:{rules.describe(level)})")
    else:
        reasons.append(f"预测{s.city}未来{lo}–{hi}天各级预警启动条件的概率均低于决策阈值,暂不启动预警")
    reasons.append(f"决策依据(未来{lo}–{hi}天,经验证期校准):{basis}"
                   + (f";{held.label}持续中,按保持阈值(启动阈值的{cal.keep_ratio:.0%})判断"
                      if held > WarningLevel.NONE and cal.keep_ratio < 1 else ""))
    if not np.isfinite(s.issue_aqi):
        reasons.append("提示:预报文件未给出起报日实况AQI,跨起报日的持续过程可能被低估")
    advised = _pollutant_advice(raw, rules, colour_days(raw, rules), reasons, details)
    details.append({"code": "decision.probability", "level": level.key, "window_lead_days": [lo, hi],
                    "probability": dict(prob), "thresholds": thresholds, "outlook_probability": outlook,
                    "in_force": held.key, "keep_ratio": cal.keep_ratio, "fold": dict(cal.fold)})
    later = [k for j, k in enumerate(LEVEL_KEYS) if outlook[k] >= thresholds[k] and j + 1 > code]
    if later:
        top = WarningLevel(LEVEL_KEYS.index(later[-1]) + 1)
        reasons.append(f"展望:未来{HORIZON}天内达到{top.label}启动条件的概率为{outlook[top.key]:.0%},请后续会商关注")
        details.append({"code": "outlook", "level": top.key, "probability": outlook[top.key]})
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
        reasons.append(f"省级区域预警要求不低于{reg.label},按区域预警级别{reg.label}执行(由{level.label}上调)")
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
    temp = level == WarningLevel.NONE and _temporary_measures(rules, values, times, step, reasons, details)
    # the lift is confirmed when the median series stays below the yellow condition long enough after the period
    lift_ok = False
    if code and end is not None:
        after = int((pd.Timestamp(end) - times[0]).days) + 1
        clean = point_levels(values, rules, step)[after:] == 0
        run = int(np.argmin(clean)) if (~clean).any() else int(clean.size)
        lift_ok = run * step >= rules.lifting_hours
    eps_out = []
    for e in find_episodes(values, rules, step):
        a2, b2 = _period(times, e.start_index, e.stop_index, step)
        eps_out.append({"start": str(a2), "end": str(b2), "level": e.level.key, "lift_confirmed": e.lift_confirmed})
    return Recommendation(
        city=s.city, level=level, start=start, end=end, probability=prob, reasons=tuple(reasons),
        reason_details=tuple(details), triggers=tuple(triggers), steps=(), sensitivity=(),
        temporary_measures=temp, lift_confirmed=lift_ok, rules_name=rules.name, rules_version=rules.version,
        rules_sha256=rules.sha256, issued=s.issued, forecast_source=s.source, forecast_sha256=s.sha256,
        probability_method="calibrated", regional_minimum=reg,
        dates=tuple(_fmt_time(t, step) for t in times), aqi=tuple(float(v) for v in raw.aqi),
        episodes=tuple(eps_out), observations_through=s.last_observed,
        data_warnings=stale_data_warnings(s.city, s.last_observed,
                                          dt.date.fromisoformat(str(as_of)[:10]) if as_of else s.issued),
        decision="probability", thresholds=thresholds, outlook=outlook,
        primary_pollutants=raw.primary or (), advisories=advised,
    )


def _threshold_text(p: float) -> str:
    """A decision threshold as written in the reasons: up to three decimals, no trailing zeros (0.125, 0.3)."""
    return f"{p:.3f}".rstrip("0").rstrip(".")
