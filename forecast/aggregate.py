"""Hourly → daily and moving-window statistics with the GB 3095-2026 validity rules, and the rolling 24 h AQI.

Input is a tidy hourly DataFrame: a ``time`` column (one row per place and hour, Beijing local time),
optional group columns (``city`` and/or ``station`` by default) and 1 h mean concentrations among
``pm25 pm10 so2 no2 co o3`` [µg/m³; CO mg/m³] (``o3_1h`` is accepted for ``o3``). Missing hours may be
absent rows or NaN; negative values count as missing. Each group is laid on a regular hourly grid, so
every statistic is a vectorised window operation.

Validity (GB 3095-2026 Table 4)
-------------------------------
* Daily mean of SO2, NO2, CO, PM10, PM2.5: at least ``min_hours`` = 20 valid hourly values in the day.
* O3 8 h moving mean, labelled with its **last** hour X: the mean of hours X-7 … X, valid with at least
  6 values.
* O3 daily maximum 8 h (日最大8小时平均): the maximum of the 8 h means whose 8 hours all lie in the natural
  day, i.e. the 17 windows ending at hours 07 … 23 (labelled by their start hour; with hour-ending labels
  these are the windows ending 08:00 … 24:00, as in HJ 663-2013). Valid with at least ``min_o3_windows``
  = 14 valid windows, or with fewer if the maximum still exceeds ``o3_8h_limit`` (160 µg/m³, the Grade II
  limit). The 14-of-17 rule is HJ 663-2013's [U: HJ 663-2026 was not obtained; GB 3095-2026 §3.9 says only
  "the maximum of the 8 h moving means within a natural day"]; pass ``min_o3_windows=0`` to drop it.
* O3 daily maximum 1 h (for HJ 633-2012 daily reports): the largest hourly value of the day, valid with at
  least ``min_hours`` hourly values (the daily-mean rule applied by analogy; the standards give none).

Exactness: when a pollutant's hourly values all have at most 3 decimals (as published), window sums are
computed on integers, so a mean is the float nearest to the exact mean and the AQI engine scores it
exactly (a daily mean of exactly 75.0 stays 75.0, not 75.00000000000001).

Hour labels: with ``hour_label="start"`` (default; PRSA files, most archives) the hour labelled 13:00 covers
13:00–14:00 and a day holds the labels 00 … 23. With ``"end"`` (CNEMC's hour-ending convention) 13:00
covers 12:00–13:00 and a day holds 01:00 … 24:00 (= 00:00 of the next date). Outputs keep the input's
labels.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from airwarn.core.errors import InputError, UnknownNameError
from airwarn.core.vocab import AQI_POLLUTANTS, DAILY_POLLUTANTS, HOURLY_POLLUTANTS
from forecast import aqi as _aqi

__all__ = ["HOURLY_POLLUTANTS", "city_daily_from_stations", "hourly_to_daily", "moving_averages",
           "realtime_aqi_series", "rolling_aqi"]

# Hourly pollutant columns (1 h means) [µg/m³; CO mg/m³]: the glossary's HOURLY_POLLUTANTS, re-exported.
#: Pollutants whose daily value is the mean of the hours (all but O3).
_MEANS = tuple(p for p in HOURLY_POLLUTANTS if p != "o3")
HourLabel = Literal["start", "end"]


class _Grid:
    """Groups of a tidy hourly frame laid end to end on one regular hourly axis.

    Each group gets one padding day of NaN in front of its first day, so windows of up to 24 hours
    never reach into the previous group. Slot ``offset[g] + 24 + 24 d + h`` holds hour ``h`` (start
    label) of day ``d`` of group ``g``.
    """

    def __init__(self, hourly: pd.DataFrame, time: str, by: Sequence[str] | str | None, hour_label: HourLabel,
                 where: str):
        if not isinstance(hourly, pd.DataFrame):
            raise TypeError(f"{where}: expected a DataFrame, got {type(hourly).__name__}")
        if time not in hourly.columns:
            raise InputError(f"{where}: no time column {time!r}; got columns {list(hourly.columns)}")
        if hour_label not in ("start", "end"):
            raise UnknownNameError(f"{where}: unknown hour_label {hour_label!r}; valid names are ['start', 'end']")
        if by is None:
            by = [c for c in ("city", "station") if c in hourly.columns]
        elif isinstance(by, str):
            by = [by]
        missing = [c for c in by if c not in hourly.columns]
        if missing:
            raise InputError(f"{where}: no group column(s) {missing}; got columns {list(hourly.columns)}")
        self.by = list(by)
        self.where = where
        self.hour_label = hour_label
        if "o3" in hourly.columns and "o3_1h" in hourly.columns:
            raise InputError(f"{where}: both 'o3' and 'o3_1h' given; pass the 1 h ozone once")
        self.frame = hourly.rename(columns={"o3_1h": "o3"}) if "o3_1h" in hourly.columns else hourly

        hours = self._hours(hourly[time])
        if hour_label == "end":
            hours = hours - 1
        if self.by:
            codes = hourly.groupby(self.by, sort=True, dropna=False, observed=True).ngroup().to_numpy()
            first_rows = np.unique(codes, return_index=True)[1]
            keys = hourly[self.by].iloc[first_rows].reset_index(drop=True)
        else:
            codes = np.zeros(len(hourly), dtype=np.int64)
            keys = pd.DataFrame(index=range(1 if len(hourly) else 0))
        ngroups = len(keys)
        self.keys = keys
        if len(hourly):
            first = np.full(ngroups, np.iinfo(np.int64).max)
            last = np.full(ngroups, np.iinfo(np.int64).min)
            np.minimum.at(first, codes, hours)
            np.maximum.at(last, codes, hours)
        else:
            first = last = np.zeros(0, dtype=np.int64)
        self.first_hour, self.last_hour = first, last
        self.day0 = np.floor_divide(first, 24)
        self.ndays = np.floor_divide(last, 24) - self.day0 + 1
        slots = 24 * (self.ndays + 1)
        self.offset = np.concatenate([[0], np.cumsum(slots)[:-1]]).astype(np.int64)
        self.size = int(slots.sum())
        pos = self.offset[codes] + 24 + (hours - 24 * self.day0[codes])
        order = np.argsort(pos, kind="stable")
        dup = np.flatnonzero(np.diff(pos[order]) == 0)
        if dup.size:
            i, j = order[dup[0]], order[dup[0] + 1]
            raise InputError(f"{where}: rows {hourly.index[i]!r} and {hourly.index[j]!r} are the same hour "
                             f"({hourly[time].iloc[j]}) of the same group; expected one row per hour")
        self.pos = pos
        self.index = hourly.index

    def _hours(self, t: pd.Series) -> np.ndarray:
        if isinstance(t.dtype, pd.DatetimeTZDtype):
            t = t.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
        if t.dtype.kind != "M":
            parsed = pd.to_datetime(t, errors="coerce", format="mixed")
            bad = np.flatnonzero(parsed.isna().to_numpy() & t.notna().to_numpy())
            if bad.size:
                raise InputError(f"{self.where}: row {t.index[bad[0]]!r}, column {t.name!r}: expected a time, "
                                 f"got {t.iloc[bad[0]]!r}")
            t = parsed
        values = t.to_numpy().astype("datetime64[s]")
        nat = np.isnat(values)
        if nat.any():
            raise InputError(f"{self.where}: row {t.index[np.flatnonzero(nat)[0]]!r}, column {t.name!r}: "
                             f"no time; every row needs its hour")
        secs = values.astype(np.int64)
        off = np.flatnonzero(secs % 3600)
        if off.size:
            raise InputError(f"{self.where}: row {t.index[off[0]]!r}, column {t.name!r}: expected a time on the "
                             f"hour, got {t.iloc[off[0]]}")
        return secs // 3600

    # ---- values on the grid
    def column(self, name: str) -> tuple[np.ndarray, np.ndarray, int] | None:
        """The pollutant on the grid as scaled integers (int64, 0 where missing), its validity and scale.

        Returns ``(ints, valid, scale)`` where ``value = ints / scale``; ``scale`` is 10^d for the fewest
        decimals d ≤ 3 that represent every value, or 0 when the values are arbitrary floats (then
        ``ints`` holds the floats themselves).
        """
        if name not in self.frame.columns:
            return None
        x = _aqi._column(self.frame, name, self.where)
        with np.errstate(invalid="ignore"):
            ok = ~np.isnan(x) & (x >= 0) & np.isfinite(x)
        xv = x[ok]
        grid_ok = np.zeros(self.size, dtype=bool)
        grid_ok[self.pos[ok]] = True
        for d in range(4):
            s = 10.0 ** d
            n = np.rint(xv * s)
            if np.array_equal(n / s, xv) and (n.size == 0 or n.max() < 2 ** 40):
                ints = np.zeros(self.size, dtype=np.int64)
                ints[self.pos[ok]] = n.astype(np.int64)
                return ints, grid_ok, int(s)
        vals = np.zeros(self.size, dtype=float)
        vals[self.pos[ok]] = xv
        return vals, grid_ok, 0

    def window_mean(self, col: tuple, hours: int, min_values: int) -> np.ndarray:
        """Mean over the ``hours`` slots ending at each slot; NaN with fewer than ``min_values`` valid."""
        ints, ok, scale = col
        total = _window_sum(ints, hours)
        count = _window_sum(ok.astype(np.int64), hours)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = total / (count * scale) if scale else total / count
        mean[count < min_values] = np.nan
        return mean

    def daily(self, values: np.ndarray) -> np.ndarray:
        """``values`` reshaped to (slot-days, 24)."""
        return values.reshape(-1, 24)

    def day_rows(self) -> np.ndarray:
        """Row numbers (in ``daily()`` shape) of the real days (not the padding days)."""
        starts = self.offset // 24 + 1
        return np.concatenate([np.arange(s, s + n) for s, n in zip(starts, self.ndays)]) if len(starts) else \
            np.zeros(0, dtype=np.int64)

    def hour_slots(self) -> np.ndarray:
        """Slots from each group's first to its last observed hour."""
        firsts = self.offset + 24 + (self.first_hour - 24 * self.day0)
        counts = self.last_hour - self.first_hour + 1
        if not len(firsts):
            return np.zeros(0, dtype=np.int64)
        return np.concatenate([np.arange(f, f + c) for f, c in zip(firsts, counts)])

    def keys_for(self, group_of: np.ndarray) -> dict[str, np.ndarray]:
        return {c: self.keys[c].to_numpy()[group_of] for c in self.by}

    def group_of_slots(self, slots: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.offset, slots, side="right") - 1

    def slot_times(self, slots: np.ndarray) -> np.ndarray:
        """Times of slots in the input's label convention (datetime64[ns])."""
        g = self.group_of_slots(slots)
        hours = 24 * self.day0[g] + (slots - self.offset[g] - 24)
        if self.hour_label == "end":
            hours = hours + 1
        return (hours * 3600).astype("datetime64[s]").astype("datetime64[ns]")


def _window_sum(a: np.ndarray, w: int) -> np.ndarray:
    """Sum of the ``w`` elements ending at each position (fewer at the array's start).

    Integers: exact, by a cumulative sum. Floats: ``w`` shifted additions, so rounding errors do not
    accumulate along the series.
    """
    if a.dtype.kind in "iub":
        cs = np.cumsum(a)
        out = cs.copy()
        out[w:] -= cs[:-w]
        return out
    out = a.copy()
    for k in range(1, w):
        out[k:] += a[:-k]
    return out


def _window_max(a: np.ndarray, w: int) -> np.ndarray:
    """NaN-ignoring max of the ``w`` elements ending at each position."""
    out = a.copy()
    for k in range(1, w):
        np.fmax(out[k:], a[:-k], out=out[k:])
    return out


def _daily_o3_8h(o3_8h: np.ndarray, min_windows: int, limit: float) -> tuple[np.ndarray, np.ndarray]:
    """Daily max of the in-day 8 h windows (ending at start-hours 07..23) and their valid count."""
    days = o3_8h.reshape(-1, 24)[:, 7:]
    mx = np.fmax.reduce(days, axis=1)
    n = np.count_nonzero(~np.isnan(days), axis=1)
    with np.errstate(invalid="ignore"):
        mx[(n < min_windows) & ~(mx > limit)] = np.nan
    return mx, n


def _check(min_hours: int, min_o3_windows: int, where: str) -> None:
    if not 1 <= min_hours <= 24:
        raise InputError(f"{where}: min_hours must be 1..24, got {min_hours}")
    if not 0 <= min_o3_windows <= 17:
        raise InputError(f"{where}: min_o3_windows must be 0..17, got {min_o3_windows}")


def hourly_to_daily(
    hourly: pd.DataFrame,
    *,
    time: str = "time",
    by: Sequence[str] | str | None = None,
    hour_label: HourLabel = "start",
    min_hours: int = 20,
    min_o3_windows: int = 14,
    o3_8h_limit: float = 160.0,
    counts: bool = False,
) -> pd.DataFrame:
    """Daily values from hourly data, with the GB 3095-2026 validity rules.

    Parameters
    ----------
    hourly : DataFrame
        ``time`` (Beijing local), optional group columns, 1 h means among ``pm25 pm10 so2 no2 co o3``
        (or ``o3_1h``) [µg/m³; CO mg/m³].
    time : str
        Name of the time column.
    by : str or list of str, optional
        Group columns; default: whichever of ``city``, ``station`` exist. ``[]`` for one series.
    hour_label : {"start", "end"}
        Whether a time labels the start (00 … 23 make a day) or the end (01 … 24) of its hour.
    min_hours : int
        Valid hourly values needed for a daily mean (GB 3095-2026: 20).
    min_o3_windows : int
        Valid in-day 8 h windows (of 17) needed for the O3 daily maximum 8 h, unless it exceeds
        ``o3_8h_limit`` anyway (HJ 663-2013: 14).
    o3_8h_limit : float
        The O3 8 h limit above which a daily maximum counts with fewer windows [µg/m³].
    counts : bool
        Add ``n_<pollutant>`` columns: valid hours per day (``n_o3_8h``: valid in-day 8 h windows).

    Returns
    -------
    DataFrame
        One row per group and day from each group's first to last day: group columns, ``date``
        (datetime64[ns]), daily means ``pm25 pm10 so2 no2 co``, ``o3_8h`` (daily maximum 8 h) and
        ``o3_1h`` (daily maximum 1 h), NaN where invalid or not measured; ready for
        :func:`forecast.aqi.daily_aqi`.

    Raises
    ------
    KeyError
        Missing time or group column.
    ValueError
        A bad time (not parseable, missing, not on the hour), two rows for one hour and group, or a
        non-numeric concentration; the message names the row and column.

    Examples
    --------
    >>> t = pd.date_range("2026-03-01", periods=24, freq="h")
    >>> hourly_to_daily(pd.DataFrame({"time": t, "pm25": 75.0}))[["date", "pm25", "o3_8h"]]
            date  pm25  o3_8h
    0 2026-03-01  75.0    NaN
    """
    where = "hourly_to_daily"
    _check(min_hours, min_o3_windows, where)
    grid = _Grid(hourly, time, by, hour_label, where)
    rows = grid.day_rows()
    g = np.repeat(np.arange(len(grid.keys)), grid.ndays)
    out: dict[str, np.ndarray] = grid.keys_for(g)
    day_number = np.concatenate([np.arange(n) for n in grid.ndays]) if len(g) else g
    out["date"] = ((grid.day0[g] + day_number) * 86400).astype("datetime64[s]").astype("datetime64[ns]")
    n_cols: dict[str, np.ndarray] = {}
    for p in _MEANS:
        col = grid.column(p)
        if col is None:
            out[p] = np.full(len(rows), np.nan)
            continue
        ints, ok, scale = col
        s = grid.daily(ints)[rows].sum(axis=1)
        n = grid.daily(ok)[rows].sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = s / (n * scale) if scale else s / n
        mean[n < min_hours] = np.nan
        out[p] = mean
        n_cols[f"n_{p}"] = n
    col = grid.column("o3")
    if col is None:
        out["o3_8h"] = np.full(len(rows), np.nan)
        out["o3_1h"] = np.full(len(rows), np.nan)
    else:
        o3_8h = grid.window_mean(col, 8, 6)
        mx8, n8 = _daily_o3_8h(o3_8h, min_o3_windows, o3_8h_limit)
        out["o3_8h"] = mx8[rows]
        ints, ok, scale = col
        hourly_vals = np.where(ok, ints / scale if scale else ints, np.nan)
        days = grid.daily(hourly_vals)[rows]
        mx1 = np.fmax.reduce(days, axis=1)
        n1 = grid.daily(ok)[rows].sum(axis=1)
        mx1[n1 < min_hours] = np.nan
        out["o3_1h"] = mx1
        n_cols["n_o3"] = n1
        n_cols["n_o3_8h"] = n8[rows]
    frame = pd.DataFrame(out)
    if counts:
        for name, values in n_cols.items():
            frame[name] = values
    return frame


def moving_averages(
    hourly: pd.DataFrame,
    *,
    time: str = "time",
    by: Sequence[str] | str | None = None,
    hour_label: HourLabel = "start",
    min_hours: int = 20,
) -> pd.DataFrame:
    """Hourly series with the 24 h and O3 8 h moving means (the HJ 633-2012 real-time indicators).

    Returns
    -------
    DataFrame
        One row per group and hour from each group's first to last observed hour: group columns,
        ``time`` (input labels), the 1 h values ``pm25 pm10 so2 no2 co o3``, the 24 h moving means
        ``pm25_24h pm10_24h so2_24h no2_24h co_24h`` (hours X-23 … X, ≥ ``min_hours`` values) and
        ``o3_8h`` (hours X-7 … X, ≥ 6 values), each labelled with its last hour X.
    """
    where = "moving_averages"
    _check(min_hours, 0, where)
    grid = _Grid(hourly, time, by, hour_label, where)
    slots = grid.hour_slots()
    out: dict[str, np.ndarray] = grid.keys_for(grid.group_of_slots(slots))
    out[time] = grid.slot_times(slots)
    for p in HOURLY_POLLUTANTS:
        col = grid.column(p)
        if col is None:
            out[p] = np.full(len(slots), np.nan)
            if p != "o3":
                out[f"{p}_24h"] = np.full(len(slots), np.nan)
            else:
                out["o3_8h"] = np.full(len(slots), np.nan)
            continue
        ints, ok, scale = col
        out[p] = np.where(ok, ints / scale if scale else ints, np.nan)[slots]
        if p == "o3":
            out["o3_8h"] = grid.window_mean(col, 8, 6)[slots]
        else:
            out[f"{p}_24h"] = grid.window_mean(col, 24, min_hours)[slots]
    order = [*grid.by, time, *HOURLY_POLLUTANTS, *(f"{p}_24h" for p in _MEANS), "o3_8h"]
    return pd.DataFrame(out)[order]


def rolling_aqi(
    hourly: pd.DataFrame,
    standard: str = "auto",
    *,
    time: str = "time",
    by: Sequence[str] | str | None = None,
    hour_label: HourLabel = "start",
    min_hours: int = 20,
    min_o3_windows: int = 14,
    o3_8h_limit: float = 160.0,
    above: _aqi.AboveMode = "warn",
) -> pd.DataFrame:
    """The AQI of the 24 hours ending at each hour: a "day" that may start at any hour.

    Warnings count days as any continuous 24 h (the 2019 unified warning standard), so this scores, at
    every hour X, the daily report of hours X-23 … X: 24 h means of ``pm25 pm10 so2 no2 co`` (≥
    ``min_hours`` values), ``o3_8h`` = the maximum of the 17 8 h means lying inside the window (≥
    ``min_o3_windows`` valid, or above ``o3_8h_limit``) and ``o3_1h`` = the window's maximum hourly O3
    (scored under HJ 633-2012 only, as in its daily report).

    Parameters
    ----------
    standard : {"auto", "HJ633-2012", "HJ633-2026"}
        ``auto`` picks by the date of the window's last hour.

    Other parameters are those of :func:`hourly_to_daily`; ``above`` as in :func:`forecast.aqi.daily_aqi`.

    Returns
    -------
    DataFrame
        One row per group and hour from each group's first to last observed hour: group columns,
        ``time`` (the window's last hour, input labels), the window values ``pm25 pm10 so2 no2 co o3_8h
        o3_1h``, and the columns of :func:`forecast.aqi.daily_aqi` (``aqi``, ``level``, ``category``,
        ``primary_pollutant``, ``standard`` …). At the last hour of a natural day (23:00 start label)
        the row equals that day's daily report from :func:`hourly_to_daily`.
    """
    where = "rolling_aqi"
    _check(min_hours, min_o3_windows, where)
    grid = _Grid(hourly, time, by, hour_label, where)
    slots = grid.hour_slots()
    out: dict[str, np.ndarray] = grid.keys_for(grid.group_of_slots(slots))
    out[time] = grid.slot_times(slots)
    for p in _MEANS:
        col = grid.column(p)
        out[p] = np.full(len(slots), np.nan) if col is None else grid.window_mean(col, 24, min_hours)[slots]
    col = grid.column("o3")
    if col is None:
        out["o3_8h"] = np.full(len(slots), np.nan)
        out["o3_1h"] = np.full(len(slots), np.nan)
    else:
        o3_8h = grid.window_mean(col, 8, 6)
        mx8 = _window_max(o3_8h, 17)
        n8 = _window_sum((~np.isnan(o3_8h)).astype(np.int64), 17)
        with np.errstate(invalid="ignore"):
            mx8[(n8 < min_o3_windows) & ~(mx8 > o3_8h_limit)] = np.nan
        out["o3_8h"] = mx8[slots]
        ints, ok, scale = col
        hourly_vals = np.where(ok, ints / scale if scale else ints, np.nan)
        mx1 = _window_max(hourly_vals, 24)
        n1 = _window_sum(ok.astype(np.int64), 24)
        mx1[n1 < min_hours] = np.nan
        out["o3_1h"] = mx1[slots]
    frame = pd.DataFrame(out)
    last_hour = frame[time] - pd.Timedelta(hours=1) if hour_label == "end" else frame[time]
    scored = _aqi.daily_aqi(frame.assign(date=last_hour.dt.normalize()), standard, above=above)
    return scored.drop(columns="date")


def realtime_aqi_series(
    hourly: pd.DataFrame,
    standard: str = "auto",
    *,
    time: str = "time",
    by: Sequence[str] | str | None = None,
    hour_label: HourLabel = "start",
    min_hours: int = 20,
    above: _aqi.AboveMode = "warn",
) -> pd.DataFrame:
    """The real-time hourly AQI report (实时报) of each hour: :func:`moving_averages` then
    :func:`forecast.aqi.realtime_aqi` (HJ 633-2012: 1 h gases, O3 8 h and PM 24 h moving means;
    HJ 633-2026: the six 1 h values)."""
    frame = moving_averages(hourly, time=time, by=by, hour_label=hour_label, min_hours=min_hours)
    if str(standard) == "auto" and hour_label == "end":
        frame = frame.assign(_start=frame[time] - pd.Timedelta(hours=1))
        out = _aqi.realtime_aqi(frame, standard, time="_start", above=above)
        return out.drop(columns="_start")
    return _aqi.realtime_aqi(frame, standard, time=time, above=above)


def city_daily_from_stations(hourly: pd.DataFrame, station_list: pd.DataFrame, *, hour_label: HourLabel = "end",
                             standard: str = "auto") -> pd.DataFrame:
    """City daily observations from station hourly data (e.g. the CNEMC national archive).

    Each station's daily values come from :func:`hourly_to_daily` (GB 3095-2026 validity); a city's
    daily concentration of a pollutant is the mean of its stations' valid daily values, control
    (background, 对照点) stations excluded, as in HJ 663 for city assessment; the AQI comes from the
    AQI engine (:func:`forecast.aqi.daily_aqi`, the standard chosen by date by default) with the O3
    1 h daily maximum, so that under HJ 633-2012 it is defined as the published city daily AQI.

    Parameters
    ----------
    hourly : DataFrame
        ``time, station`` and 1 h means among ``pm25 pm10 so2 no2 co o3`` (the
        :func:`forecast.io.read_china_sites` frame; its ``*_24h`` and ``o3_8h`` columns are ignored).
    station_list : DataFrame
        ``code, city`` and optionally ``control`` (:func:`forecast.io.read_station_list`).
    hour_label : {"end", "start"}
        Hour convention of ``time`` (the CNEMC archive is hour-ending).
    standard : str
        AQI standard (``"auto"``: by date).

    Returns
    -------
    DataFrame
        ``city, date, aqi, pm25, pm10, so2, no2, co, o3_8h, n_stations`` (the city daily schema of
        :func:`forecast.io.read_city_daily`; ``n_stations``: stations with a valid value that day),
        sorted by city and date; days without any valid station value are left out.

    Raises
    ------
    KeyError
        If no station of ``hourly`` is in the station list (the message lists some codes of each).
    """
    pollutants = [c for c in HOURLY_POLLUTANTS if c in hourly.columns]
    known = station_list.drop_duplicates("code").set_index("code")
    if "control" in known.columns:
        known = known[~known["control"].fillna(False).astype(bool)]
    stations = pd.Index(hourly["station"].unique())
    inside = stations.intersection(known.index)
    if inside.empty:
        raise UnknownNameError(f"none of the {len(stations)} stations of the hourly data is a (non-control) station of "
                       f"the station list: data have {list(stations[:5])}…, the list has "
                       f"{list(known.index[:5])}…")
    rows = hourly[hourly["station"].isin(inside)]
    daily = hourly_to_daily(rows[["time", "station", *pollutants]], by="station", hour_label=hour_label)
    daily["city"] = known.loc[daily["station"], "city"].to_numpy()
    values = [c for c in AQI_POLLUTANTS if c in daily.columns]
    daily = daily[daily[values].notna().any(axis=1)]  # a station-day with no valid value counts for nothing
    city = daily.groupby(["city", "date"], sort=True)[values].mean()  # invalid (NaN) values are skipped
    city["n_stations"] = daily.groupby(["city", "date"], sort=True)["station"].nunique()
    city = city.reset_index()
    report = _aqi.daily_aqi(city.drop(columns=["n_stations"]), standard=standard)
    city["aqi"] = report["aqi"].to_numpy()
    keep = ["city", "date", "aqi", *DAILY_POLLUTANTS, "n_stations"]
    return city[[c for c in keep if c in city.columns]]
