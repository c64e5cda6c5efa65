"""Readers of the two UCI Beijing data sets (PRSA): hourly air quality and meteorology.

- *Beijing Multi-Site Air-Quality* (``PRSA_Data_<Station>_….csv``, 12 stations,
  :data:`PRSA_MULTISITE_VARIABLE_MAP`; ``CO`` is µg/m³ there and becomes mg/m³):
  :func:`read_prsa_multisite` (files or a folder), :func:`parse_prsa_multisite` (a buffer).
  :data:`PRSA_STATION_CODES` maps the UCI station names to CNEMC codes.
- *Beijing PM2.5* (``PRSA_data_2010.1.1-….csv``, US Embassy PM2.5 and airport meteorology,
  :data:`PRSA_SINGLE_VARIABLE_MAP`): :func:`read_prsa_single`, :func:`parse_prsa_single`.

Both are hourly, naive Beijing time from ``year, month, day, hour``. The readers return hours as
in the files; the daily values and AQI of the multi-site stations are a separate step
(:func:`forecast.io.observations.prsa_daily_with_aqi`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO

import pandas as pd

from airwarn.core.errors import ReaderError
from airwarn.core.units import CONCENTRATION, convert, unit_of
from forecast.io._csv import (
    HOURLY_POLLUTANTS,
    PathLike,
    _as_paths,
    _drop_duplicates,
    _first_bad,
    _hourly_grid,
    _key_text,
    _map_columns,
    _range_check,
    _read_text_table,
    _require_known,
    _source_name,
    _to_numeric,
    _to_text,
    _warn_qc,
)

__all__ = [
    "CBWD_VALUES",
    "COMPASS_16",
    "PRSA_MULTISITE_VARIABLE_MAP",
    "PRSA_SINGLE_VARIABLE_MAP",
    "PRSA_STATION_CODES",
    "parse_prsa_multisite",
    "parse_prsa_single",
    "read_prsa_multisite",
    "read_prsa_single",
]

#: Source column → glossary name of the UCI *Beijing Multi-Site Air-Quality* files.
#: ``CO`` there is µg/m³ and is converted to mg/m³.
PRSA_MULTISITE_VARIABLE_MAP: dict[str, str] = {
    "No": "no",
    "year": "year",
    "month": "month",
    "day": "day",
    "hour": "hour",
    "PM2.5": "pm25",
    "PM10": "pm10",
    "SO2": "so2",
    "NO2": "no2",
    "CO": "co",
    "O3": "o3",
    "TEMP": "temp",
    "PRES": "pres",
    "DEWP": "dewp",
    "RAIN": "rain",
    "wd": "wd",
    "WSPM": "wspm",
    "station": "station",
}

#: UCI station name → CNEMC station code (README §2).
PRSA_STATION_CODES: dict[str, str] = {
    "Aotizhongxin": "1011A",
    "Changping": "1010A",
    "Dingling": "1002A",
    "Dongsi": "1003A",
    "Guanyuan": "1006A",
    "Gucheng": "1012A",
    "Huairou": "1009A",
    "Nongzhanguan": "1005A",
    "Shunyi": "1008A",
    "Tiantan": "1004A",
    "Wanliu": "1007A",
    "Wanshouxigong": "1001A",
}

#: The 16 compass points of the ``wd`` column.
COMPASS_16: tuple[str, ...] = (
    "N",
    "NNE",
    "NE",
    "ENE",
    "E",
    "ESE",
    "SE",
    "SSE",
    "S",
    "SSW",
    "SW",
    "WSW",
    "W",
    "WNW",
    "NW",
    "NNW",
)

_MET = ("temp", "pres", "dewp", "rain", "wspm")


def read_prsa_multisite(paths: PathLike | Iterable[PathLike]) -> pd.DataFrame:
    """Read UCI *Beijing Multi-Site Air-Quality* files (``PRSA_Data_<Station>_….csv``).

    Parameters
    ----------
    paths : path-like or iterable of path-likes
        One or more station files (header ``No,year,month,day,hour,PM2.5,PM10,
        SO2,NO2,CO,O3,TEMP,PRES,DEWP,RAIN,wd,WSPM,station``; ``NA`` missing), or a
        folder holding them.

    Returns
    -------
    pandas.DataFrame
        Hourly rows sorted by ``station, time``: ``time`` (``datetime64[ns]``, naive
        Beijing time from ``year, month, day, hour``; UCI does not say whether
        the hour starts or ends the average), ``station`` (UCI name),
        ``station_code`` (CNEMC code, :data:`PRSA_STATION_CODES`; NaN if unknown),
        ``pm25 pm10 so2 no2 o3`` [µg/m³], ``co`` [mg/m³, converted from the
        file's µg/m³], ``temp`` [°C], ``pres`` [hPa], ``dewp`` [°C], ``rain``
        [mm/h], ``wd`` (16-point compass, ``str``), ``wspm`` [m/s].
    """
    path_list = _expand_dir(paths, "PRSA_Data_*.csv*")
    frames = [_parse_prsa_multisite_file(p, str(p)).assign(_order=k) for k, p in enumerate(path_list)]
    qc: dict[str, int] = {}
    records: list[dict] = []
    for f in frames:
        for k, v in f.attrs.get("qc", {}).items():
            qc[k] = qc.get(k, 0) + v
        records += f.attrs.get("qc_rows", [])
    data = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    dup = data.duplicated(["station", "time"])
    if dup.any():
        idx = _first_bad(dup)
        first = _first_bad((data["station"] == data.loc[idx, "station"])
                           & (data["time"] == data.loc[idx, "time"]))
        raise ReaderError(
            str(path_list[int(data.loc[idx, "_order"])]),
            row=int(data.loc[idx, "_row"]),
            message=f"station {data.loc[idx, 'station']!r} at {_key_text(data.loc[idx, 'time'])} appears in "
                    f"more than one file (also {path_list[int(data.loc[first, '_order'])]} row "
                    f"{int(data.loc[first, '_row'])}); expected each station's hours once",
        )
    data = data.drop(columns=["_order", "_row"])
    data = data.sort_values(["station", "time"], kind="stable").reset_index(drop=True)
    data.attrs.update(qc=qc, qc_rows=records, timezone="Asia/Shanghai")
    return data


def _expand_dir(paths: PathLike | Iterable[PathLike], pattern: str) -> list[Path]:
    if isinstance(paths, (str, os.PathLike)) and Path(paths).is_dir():
        found = sorted(Path(paths).glob(pattern))
        if not found:
            raise FileNotFoundError(f"no file matching {pattern!r} in folder {paths}")
        return found
    return _as_paths(paths)


def _time_from_parts(df: pd.DataFrame, source: str, origin: Mapping[str, str]) -> pd.Series:
    parts = {}
    for name, (low, high) in {
        "year": (1900, 2200),
        "month": (1, 12),
        "day": (1, 31),
        "hour": (0, 23),
    }.items():
        values = _to_numeric(df, name, source, origin)
        bad = values.isna() | (values != values.round()) | (values < low) | (values > high)
        if bad.any():
            idx = _first_bad(bad)
            got = df.loc[idx, name]
            raise ReaderError(
                source,
                row=int(idx) + 2,
                column=origin.get(name, name),
                expected=f"a whole number {low}-{high}",
                got="" if pd.isna(got) else got,
            )
        parts[name] = values.astype("int64")
    time = pd.to_datetime(pd.DataFrame(parts), errors="coerce")
    if time.isna().any():
        idx = _first_bad(time.isna())
        raise ReaderError(
            source,
            row=int(idx) + 2,
            column=origin.get("day", "day"),
            expected="a valid calendar date",
            got=f"{parts['year'][idx]}-{parts['month'][idx]}-{parts['day'][idx]}",
        )
    return time.astype("datetime64[ns]")


def parse_prsa_multisite(buf: IO[str]) -> pd.DataFrame:
    """Parse one UCI multi-site station table from an open text buffer (see :func:`read_prsa_multisite`)."""
    out = _parse_prsa_multisite_file(buf, _source_name(buf)).drop(columns="_row")
    return out.sort_values(["station", "time"], kind="stable").reset_index(drop=True)


def _parse_prsa_multisite_file(src: PathLike | IO[str], source: str) -> pd.DataFrame:
    raw = _read_text_table(src, source)
    required = ("year", "month", "day", "hour", *HOURLY_POLLUTANTS, *_MET, "wd", "station")
    df, origin = _map_columns(raw, PRSA_MULTISITE_VARIABLE_MAP, required, source)
    out = pd.DataFrame(index=df.index)
    out["time"] = _time_from_parts(df, source, origin)
    out["station"] = _to_text(df, "station", source, origin, required=True)
    out["station_code"] = out["station"].map(PRSA_STATION_CODES)
    for name in (*HOURLY_POLLUTANTS, *_MET):
        out[name] = _to_numeric(df, name, source, origin)
    out["co"] = convert(out["co"], CONCENTRATION, unit_of("co"))  # the file's µg/m³ → mg/m³
    wd = _to_text(df, "wd", source, origin, required=False)
    _require_known(wd, COMPASS_16, df, "wd", source, origin, f"a 16-point compass direction {list(COMPASS_16)}")
    out["wd"] = wd
    qc: dict[str, int] = {}
    records: list[dict] = []
    out = _drop_duplicates(out, ["station", "time"], source, qc, origin)
    out = _range_check(out, (*HOURLY_POLLUTANTS, *_MET), qc, source=source, raw=df,
                       origin=origin, records=records, keys=("station", "time"))
    _warn_qc(source, qc, stacklevel=4, records=records)
    out["_row"] = out.index + 2
    out = out.reset_index(drop=True)
    out.attrs.update(qc=qc, qc_rows=records)
    return out


#: Source column → glossary name of the UCI *Beijing PM2.5* file (US Embassy PM2.5,
#: Beijing Capital Airport meteorology). ``cbwd`` is the combined wind direction
#: (``NW``, ``NE``, ``SE``, ``cv`` calm/variable); ``iws`` the cumulated wind speed
#: [m/s]; ``is``/``ir`` the cumulated hours of snow / rain.
PRSA_SINGLE_VARIABLE_MAP: dict[str, str] = {
    "No": "no",
    "year": "year",
    "month": "month",
    "day": "day",
    "hour": "hour",
    "pm2.5": "pm25",
    "DEWP": "dewp",
    "TEMP": "temp",
    "PRES": "pres",
    "cbwd": "cbwd",
    "Iws": "iws",
    "Is": "is",
    "Ir": "ir",
}

CBWD_VALUES: tuple[str, ...] = ("NW", "NE", "SE", "SW", "cv")


def read_prsa_single(path: PathLike) -> pd.DataFrame:
    """Read the UCI *Beijing PM2.5* file (``PRSA_data_2010.1.1-….csv``).

    Returns
    -------
    pandas.DataFrame
        Hourly rows: ``time`` (``datetime64[ns]``, naive Beijing time), ``pm25``
        [µg/m³] (US Embassy), ``dewp`` [°C], ``temp`` [°C], ``pres`` [hPa],
        ``cbwd`` (``NW NE SE SW cv``), ``iws`` [m/s, cumulated], ``is``, ``ir``
        [cumulated hours of snow, rain]. Absent hours are added as NaN rows.
    """
    path = _as_paths(path)[0]
    return _prsa_single(path, str(path))


def parse_prsa_single(buf: IO[str]) -> pd.DataFrame:
    """Parse the UCI *Beijing PM2.5* table from an open text buffer (see :func:`read_prsa_single`)."""
    return _prsa_single(buf, _source_name(buf))


def _prsa_single(src: PathLike | IO[str], source: str) -> pd.DataFrame:
    raw = _read_text_table(src, source)
    required = ("year", "month", "day", "hour", "pm25", "dewp", "temp", "pres", "cbwd", "iws", "is", "ir")
    df, origin = _map_columns(raw, PRSA_SINGLE_VARIABLE_MAP, required, source)
    out = pd.DataFrame(index=df.index)
    out["time"] = _time_from_parts(df, source, origin)
    for name in ("pm25", "dewp", "temp", "pres"):
        out[name] = _to_numeric(df, name, source, origin)
    cbwd = _to_text(df, "cbwd", source, origin, required=False)
    _require_known(cbwd, CBWD_VALUES, df, "cbwd", source, origin, f"a combined wind direction {list(CBWD_VALUES)}")
    out["cbwd"] = cbwd
    for name in ("iws", "is", "ir"):
        values = _to_numeric(df, name, source, origin)
        neg = values < 0
        if neg.any():
            idx = _first_bad(neg)
            raise ReaderError(
                source,
                row=int(idx) + 2,
                column=origin[name],
                expected="a cumulated value >= 0",
                got=df.loc[idx, name],
            )
        out[name] = values
    qc: dict[str, int] = {}
    records: list[dict] = []
    out = _drop_duplicates(out, ["time"], source, qc, origin)
    out = _range_check(out, ("pm25", "dewp", "temp", "pres"), qc, source=source, raw=df, origin=origin,
                       records=records, keys=("time",))
    n = len(out)
    out = _hourly_grid(out.sort_values("time"))
    if len(out) > n:
        qc["absent_hours"] = len(out) - n
    _warn_qc(source, {k: v for k, v in qc.items() if k != "absent_hours"}, records=records)
    out.attrs.update(qc=qc, qc_rows=records, timezone="Asia/Shanghai")
    return out.reset_index(drop=True)
