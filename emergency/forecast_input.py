"""The forecast the warning engine decides on: one city's AQI series read and checked from any accepted input.

:func:`read_forecast` turns the forecast model's product (an xarray Dataset or its netCDF, read with
:func:`forecast.product.open_forecast`), a forecast CSV / DataFrame or an hourly rolling-24-h table
into a :class:`ForecastSeries`: the median AQI, the members the probabilities are counted on, the issue
day, the last observed day and the primary pollutants. The product's names (``p_aqi_gt_<t>`` of
:data:`forecast.product.THRESHOLDS`, the ``aqi_pNN`` quantile columns) come from
:mod:`forecast.product`, the one owner of the product schema.

A series is checked before any decision is made on it (see :func:`read_forecast`): a bad value is
refused with a message naming the file, the row, the column, what was expected and what was found.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from airwarn.core.errors import InputError, UnknownNameError
from airwarn.core.vocab import DAILY_POLLUTANTS
from forecast.aqi import primary_pollutants
from forecast.product import P_VARS, THRESHOLDS, open_forecast, p_var, quantile_column

#: Number of comonotonic pseudo-members built from quantiles.
N_PSEUDO_MEMBERS = 200
#: A forecast file's valid dates may run at most this many days past its issue date (or, with no
#: issue date in it, past today): dates beyond are a damaged or mislabelled file, not a forecast.
MAX_LEAD_DAYS = 15
#: The AQI is 0-500 by definition (HJ 633).
AQI_RANGE = (0.0, 500.0)
#: The product's median AQI column (``aqi_p50``).
MEDIAN_COLUMN = quantile_column(0.5)
#: Quantile level of each AQI quantile column a table may hold (the product's ``aqi_pNN`` names, 01-99).
_QUANTILE_OF_COLUMN = {quantile_column(k / 100): k / 100 for k in range(1, 100)}
#: Threshold of each exceedance-probability column a table may hold (the product's ``p_aqi_gt_<t>``, t in 0-500).
_THRESHOLD_OF_COLUMN = {p_var(t): float(t) for t in range(int(AQI_RANGE[1]) + 1)}


def format_time(t: pd.Timestamp, step_hours: float) -> str:
    """A series time as the engine writes it: the date (daily series) or the ISO time (hourly)."""
    return t.date().isoformat() if step_hours >= 24 else t.isoformat()


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
        out[:, j] = np.clip(vals, *AQI_RANGE)
    return out


def _file_hash(path: Path) -> str:
    """SHA-256 of a file's content (hex)."""
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
        * Dataset / netCDF in the forecast product's layout (:mod:`forecast.product`; a file is read
          with :func:`forecast.product.open_forecast`): ``aqi(city, issued, lead_day, quantile)``,
          coordinate ``valid_date(issued, lead_day)``, optional ``aqi_scenario(..., member)``,
          ``p_aqi_gt_150/200/300`` (:data:`forecast.product.P_VARS`), ``primary_pollutant``,
          ``last_observed`` and ``aqi_issue_day``.
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

    Returns
    -------
    ForecastSeries
        ``source`` and ``sha256`` name a file's path and content hash.

    Raises
    ------
    FileNotFoundError
        The path does not exist.
    UnknownNameError
        Unknown city or issue date (the message lists the valid ones).
    InputError
        Missing columns or variables, an empty series, bad values, a damaged netCDF: the message
        names the file, the row as the file numbers it (header = row 1; ``index`` of a DataFrame),
        the column and the value.
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
            # the product's reader: a damaged file or an ``aqi`` without the product's dims is refused there;
            # the variables are checked below, as for a Dataset object
            series = _from_dataset(open_forecast(path, require=()), city, issued_d, source)
        elif path.suffix.lower() in (".csv", ".gz"):
            from forecast.io import read_table

            series = _from_frame(read_table(path), city, issued_d, source, file_rows=True)
        else:
            raise InputError(f"forecast file {path}: expected a .nc or .csv file, got {path.suffix!r}")
        return replace(series, source=source, sha256=digest)
    if isinstance(forecast, pd.DataFrame):
        return _from_frame(forecast, city, issued_d, "<DataFrame>")
    if isinstance(forecast, xr.Dataset):
        return _from_dataset(forecast, city, issued_d, "<Dataset>")
    raise TypeError(f"forecast: expected an xarray Dataset, a .nc/.csv path or a DataFrame, got "
                    f"{type(forecast).__name__}")


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
    for t, var in zip(THRESHOLDS, P_VARS):
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
                          issue_aqi=issue_aqi, primary=dataset_primary(ds, times))


def dataset_primary(ds, times: pd.DatetimeIndex) -> tuple[str, ...] | None:
    """The primary pollutant(s) of each day of one city's forecast Dataset.

    Parameters
    ----------
    ds : xarray.Dataset
        One city and issue day of a forecast product (``lead_day`` the only dim of a daily variable).
    times : pandas.DatetimeIndex
        The valid dates (the AQI standard of each day depends on it).

    Returns
    -------
    tuple of str or None
        The product's ``primary_pollutant`` per day, else the AQI engine on its median pollutant
        quantiles, else None (the forecast does not say).
    """
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
                         f"{format_time(t[i] + step, step_hours)} (one {unit} after {at(index[i])}), got "
                         f"{format_time(t[i + 1], step_hours)}; the series must be consecutive")
    ref = reference if reference is not None else pd.Timestamp.today().normalize()
    latest = ref + pd.Timedelta(days=MAX_LEAD_DAYS + (1 if step_hours < 24 else 0))
    late = np.flatnonzero(t > latest)
    if late.size:
        i = int(late[0])
        what = f"the issue date {ref.date()}" if reference is not None else f"today ({ref.date()})"
        raise InputError(f"forecast {source}: {at(index[i])}, column {time_col!r}: expected a date at most "
                         f"{MAX_LEAD_DAYS} days after {what}, got {format_time(t[i], step_hours)}")
    if reference is not None and t[0] < reference:
        raise InputError(f"forecast {source}: {at(index[0])}, column {time_col!r}: expected a date on or after "
                         f"the issue date {reference.date()}, got {format_time(t[0], step_hours)}")


def _from_frame(df: pd.DataFrame, city, issued, source, file_rows: bool = False) -> ForecastSeries:
    """One city's series from a table; ``file_rows``: its index + 2 is the file's row (header = row 1)."""
    def at(i) -> str:
        return f"row {int(i) + 2}" if file_rows else f"index {i}"

    df = df.copy()
    time_col = "valid_date" if "valid_date" in df.columns else "time" if "time" in df.columns else None
    if time_col is None:
        raise InputError(f"forecast {source}: needs a 'valid_date' (daily) or 'time' (hourly) column; "
                       f"columns are {list(df.columns)}")
    aqi_col = "aqi" if "aqi" in df.columns else MEDIAN_COLUMN if MEDIAN_COLUMN in df.columns else None
    if aqi_col is None:
        raise InputError(f"forecast {source}: needs an 'aqi' (median) or {MEDIAN_COLUMN!r} column; columns are "
                         f"{list(df.columns)}")
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
        if col in _QUANTILE_OF_COLUMN:
            q = _QUANTILE_OF_COLUMN[col]
            vals = _checked_numbers(df, col, source, at, *AQI_RANGE, "an AQI 0-500")
            for j in range(len(df)):
                cdf[j].append((q, vals[j]))
        if col in _THRESHOLD_OF_COLUMN:
            thr = _THRESHOLD_OF_COLUMN[col]
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
