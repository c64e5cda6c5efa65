"""Reader of the CNEMC national archive: all stations' hourly values, one file a day.

The layout of ``china_sites_YYYYMMDD.csv``: header ``date,hour,type,<station codes…>``, one row
per hour and pollutant ``type`` (:data:`CHINA_SITES_TYPE_MAP`; the ``_24h`` types are the 24-h
moving averages of the real-time report), Beijing time with the CNEMC hour-ending label,
µg/m³ (CO mg/m³). :func:`read_china_sites` returns a wide tidy frame, one row per station and hour.

- :data:`CHINA_SITES_VARIABLE_MAP` (the fixed columns) and :data:`CHINA_SITES_TYPE_MAP` (the
  ``type`` values) → glossary names.
- :func:`read_china_sites` (paths), :func:`parse_china_sites` (an open text buffer).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO

import numpy as np
import pandas as pd

from airwarn.core.errors import ReaderError, UnknownNameError, _as_file_text
from forecast.io._csv import (
    PLAUSIBLE_RANGES,
    PathLike,
    _add_record,
    _as_paths,
    _drop_duplicates,
    _first_bad,
    _hourly_grid,
    _key_text,
    _map_columns,
    _read_text_table,
    _require_known,
    _source_name,
    _to_datetime,
    _to_numeric,
    _to_text,
    _warn_qc,
)

__all__ = ["CHINA_SITES_TYPE_MAP", "CHINA_SITES_VARIABLE_MAP", "parse_china_sites", "read_china_sites"]

#: ``type`` values of the national archive (``china_sites_YYYYMMDD.csv``) → glossary
#: names. ``_24h`` types are the 24-h moving averages (for O3, the maximum over
#: the past 24 h) that the real-time report carries.
CHINA_SITES_TYPE_MAP: dict[str, str] = {
    "AQI": "aqi",
    "PM2.5": "pm25",
    "PM2.5_24h": "pm25_24h",
    "PM10": "pm10",
    "PM10_24h": "pm10_24h",
    "SO2": "so2",
    "SO2_24h": "so2_24h",
    "NO2": "no2",
    "NO2_24h": "no2_24h",
    "O3": "o3",
    "O3_24h": "o3_24h",
    "O3_8h": "o3_8h",
    "O3_8h_24h": "o3_8h_24h",
    "CO": "co",
    "CO_24h": "co_24h",
}

#: Column of the archive layout → glossary name (the station columns follow).
CHINA_SITES_VARIABLE_MAP: dict[str, str] = {"date": "date", "hour": "hour", "type": "type"}

_CHINA_SITES_RANGE = {
    "pm25_24h": "pm25",
    "pm10_24h": "pm10",
    "so2_24h": "so2",
    "no2_24h": "no2",
    "co_24h": "co",
    "o3_24h": "o3",
    "o3_8h_24h": "o3_8h",
}


def read_china_sites(
    paths: PathLike | Iterable[PathLike], stations: Iterable[str] | None = None
) -> pd.DataFrame:
    """Read CNEMC national archive files (``china_sites_YYYYMMDD.csv``).

    Parameters
    ----------
    paths : path-like or iterable of path-likes
        Daily files in the archive layout: header ``date,hour,type,<station
        codes…>``, one row per hour and ``type`` (see :data:`CHINA_SITES_TYPE_MAP`),
        ``date`` as ``YYYYMMDD``, ``hour`` 0–23 (Beijing time, CNEMC hour-ending
        label), station values in µg/m³ (CO mg/m³), empty where missing.
        Files may list different stations; a (time, type) found in several
        files takes the later file's row.
    stations : iterable of str, optional
        Station codes to keep (e.g. the Yangquan ``1738A``…``1743A``); all by default.
        A requested code in no file raises :class:`~airwarn.core.errors.UnknownNameError`.

    Returns
    -------
    pandas.DataFrame
        Wide tidy hourly frame sorted by ``station, time``: ``time``
        (``datetime64[ns]``, naive Beijing time, hour-ending), ``station``, then one
        column per type present, in the order of :data:`CHINA_SITES_TYPE_MAP`
        (``aqi``, ``pm25``, ``pm25_24h``, … ``o3`` is 1-h O3). Hours absent from
        the files are added with NaN so every station has a complete hourly grid
        over the span of the files.
    """
    path_list = _as_paths(paths)
    source = str(path_list[0]) if len(path_list) == 1 else f"{len(path_list)} files ({path_list[0].name} …)"
    return _china_sites([(p, str(p)) for p in path_list], stations, source)


def parse_china_sites(buf: IO[str], stations: Iterable[str] | None = None) -> pd.DataFrame:
    """Parse one national archive table from an open text buffer (see :func:`read_china_sites`)."""
    source = _source_name(buf)
    return _china_sites([(buf, source)], stations, source)


def _china_sites(
    sources: list[tuple[PathLike | IO[str], str]], stations: Iterable[str] | None, source: str
) -> pd.DataFrame:
    wanted = None if stations is None else [str(s).strip() for s in stations]
    longs = []
    found: set[str] = set()
    qc: dict[str, int] = {}
    records: list[dict] = []
    for order, (src, name) in enumerate(sources):
        long, in_file = _parse_china_sites_file(src, name, wanted, qc, records)
        longs.append(long.assign(_order=order))
        found.update(in_file)
    data = pd.concat(longs, ignore_index=True)
    if wanted is not None:
        absent = [s for s in wanted if s not in found]
        if absent:
            raise UnknownNameError(
                f"{source}: station(s) {absent} in none of the {len(sources)} file(s); "
                f"stations found: {sorted(found)[:20]}{' …' if len(found) > 20 else ''}"
            )
    data = data.sort_values("_order", kind="stable").drop_duplicates(["time", "type", "station"], keep="last")
    wide = data.pivot(index=["station", "time"], columns="type", values="value")
    order = [v for v in CHINA_SITES_TYPE_MAP.values() if v in wide.columns]
    wide = wide[order].reset_index()
    wide.columns.name = None
    wide = wide[["time", "station", *order]]
    n = len(wide)
    wide = _hourly_grid(wide.sort_values(["station", "time"]), by="station").reset_index(drop=True)
    if len(wide) > n:
        qc["absent_hours"] = len(wide) - n
    _warn_qc(source, {k: v for k, v in qc.items() if k != "absent_hours"}, records=records)
    wide.attrs.update(qc=qc, qc_rows=records, hour_label="end", timezone="Asia/Shanghai")
    return wide


def _parse_china_sites_file(
    src: PathLike | IO[str], source: str, wanted: list[str] | None, qc: dict[str, int], records: list[dict]
) -> tuple[pd.DataFrame, list[str]]:
    """One archive file → (long frame ``time, type, station, value``, the file's station codes).

    Implausible values (:data:`PLAUSIBLE_RANGES` of the type, its 24-h form alike) become NaN,
    counted in ``qc`` and listed in ``records``.
    """
    raw = _read_text_table(src, source, dtype={"date": str, "type": str})
    df, origin = _map_columns(raw, CHINA_SITES_VARIABLE_MAP, ("date", "hour", "type"), source)
    station_cols = [c for c in df.columns if c not in ("date", "hour", "type")]
    if not station_cols:
        raise ReaderError(source, f"no station columns after date,hour,type; found {list(raw.columns)}")
    day = _to_datetime(df, "date", source, origin, "%Y%m%d", "a date YYYYMMDD")
    hour = _to_numeric(df, "hour", source, origin)
    bad = hour.isna() | (hour != hour.round()) | (hour < 0) | (hour > 23)
    if bad.any():
        idx = _first_bad(bad)
        raw_hour = df.loc[idx, "hour"]
        raise ReaderError(
            source,
            row=int(idx) + 2,
            column=origin["hour"],
            expected="an hour 0-23",
            got="" if pd.isna(raw_hour) else raw_hour,
        )
    types = _to_text(df, "type", source, origin, required=True)
    _require_known(types, CHINA_SITES_TYPE_MAP, df, "type", source, origin,
                   f"a pollutant type, one of {list(CHINA_SITES_TYPE_MAP)}")
    keep = station_cols if wanted is None else [c for c in station_cols if c in wanted]
    values = pd.DataFrame({c: _to_numeric(df, c, source, {}) for c in keep}, index=df.index)
    frame = pd.DataFrame(
        {"time": day + pd.to_timedelta(hour, unit="h"), "type": types.map(CHINA_SITES_TYPE_MAP)}
    )
    both = _drop_duplicates(pd.concat([frame, values], axis=1), ["time", "type"], source, qc, origin)
    long = both.assign(_row=both.index + 2).melt(
        id_vars=["time", "type", "_row"], var_name="station", value_name="value"
    )
    base = long["type"].map(lambda t: _CHINA_SITES_RANGE.get(t, t))
    low = base.map(lambda b: PLAUSIBLE_RANGES.get(b, (-np.inf, np.inf))[0])
    high = base.map(lambda b: PLAUSIBLE_RANGES.get(b, (-np.inf, np.inf))[1])
    v = long["value"].astype("float64")
    bad = v.notna() & (~np.isfinite(v.fillna(0)) | (v < low) | (v > high))
    if bad.any():
        for t, k in long.loc[bad, "type"].value_counts(sort=False).items():
            lo, hi = PLAUSIBLE_RANGES.get(_CHINA_SITES_RANGE.get(t, t), (-np.inf, np.inf))
            qc[f"{t} outside {lo:g}..{hi:g}"] = qc.get(f"{t} outside {lo:g}..{hi:g}", 0) + int(k)
        for idx in long.index[bad.to_numpy()]:
            x, lo, hi = v.loc[idx], low.loc[idx], high.loc[idx]
            problem = "not a finite number" if not np.isfinite(x) else (
                f"below {lo:g}" if x < lo else f"above the plausible maximum {hi:g}")
            _add_record(records, {"file": source, "row": int(long.loc[idx, "_row"]),
                                  "column": long.loc[idx, "station"], "value": _as_file_text(x),
                                  "problem": f"{long.loc[idx, 'type']} {problem}",
                                  "station": long.loc[idx, "station"],
                                  "time": _key_text(long.loc[idx, "time"])})
        long["value"] = v.mask(bad)
    return long.drop(columns="_row"), station_cols
