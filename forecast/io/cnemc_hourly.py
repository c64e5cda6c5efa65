"""Reader of one CNEMC monitoring station's hourly series (``datetime,PM2.5,O3,NO2,CO,SO2``).

The layout of ``../shared/data/cnemc_station_hourly`` (README §4) and of other CNEMC exports
(``pm2_5``, ``timepoint``, ``stationcode``): Beijing time with the CNEMC *hour-ending* label,
µg/m³ (CO mg/m³). The hours absent from the file are added as NaN rows (a complete hourly grid).

- :data:`CNEMC_HOURLY_VARIABLE_MAP`: source column → glossary name.
- :func:`read_cnemc_station_hourly` (a path), :func:`parse_cnemc_station_hourly` (an open text buffer).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import IO

import pandas as pd

from airwarn.core.errors import ReaderError
from forecast.io._csv import (
    HOURLY_POLLUTANTS,
    PathLike,
    _as_paths,
    _drop_duplicates,
    _first_bad,
    _hourly_grid,
    _map_columns,
    _range_check,
    _read_text_table,
    _source_name,
    _to_datetime,
    _to_numeric,
    _to_text,
    _warn_qc,
)

__all__ = ["CNEMC_HOURLY_VARIABLE_MAP", "parse_cnemc_station_hourly", "read_cnemc_station_hourly"]

#: Source column → glossary name of the CNEMC single-station hourly layout
#: (``../shared/data/cnemc_station_hourly``, README §4), plus the names used by
#: other CNEMC exports (``pm2_5``, ``timepoint``, ``stationcode``).
CNEMC_HOURLY_VARIABLE_MAP: dict[str, str] = {
    "datetime": "time",
    "timepoint": "time",
    "time": "time",
    "station": "station",
    "stationcode": "station",
    "pm2.5": "pm25",
    "pm2_5": "pm25",
    "pm25": "pm25",
    "pm10": "pm10",
    "so2": "so2",
    "no2": "no2",
    "co": "co",
    "o3": "o3",
}


def read_cnemc_station_hourly(path: PathLike, station: str | None = None) -> pd.DataFrame:
    """Read one CNEMC station's hourly series (``datetime,PM2.5,O3,NO2,CO,SO2``).

    Parameters
    ----------
    path : path-like
        CSV (``.csv``/``.csv.gz``) with a ``datetime`` column ``YYYY-MM-DD HH:MM:SS``
        (Beijing time, CNEMC *hour-ending* label: 01:00 is the mean of 00:00–01:00)
        and pollutant columns among ``PM2.5, PM10, SO2, NO2, CO, O3`` (µg/m³; CO
        mg/m³). Empty fields are missing.
    station : str, optional
        Station code. Defaults to a ``station`` column if the file has one, else
        the code in the file name (``station_1410A_haikou_….csv.gz`` → ``1410A``).

    Returns
    -------
    pandas.DataFrame
        ``time`` (``datetime64[ns]``, naive Beijing time, hour-ending), ``station``,
        then the pollutants present in the file among :data:`HOURLY_POLLUTANTS`
        (``o3`` is the 1-h O3 concentration). The hours absent from the file are
        added with NaN values so that the time axis is a complete hourly grid
        (``df.attrs["qc"]["absent_hours"]`` counts them).

    Raises
    ------
    ReaderError
        Missing ``datetime`` or pollutant columns, an unreadable timestamp or
        value, a timestamp off the hour or repeated.
    """
    path = _as_paths(path)[0]
    return _cnemc_hourly(path, str(path), station)


def parse_cnemc_station_hourly(buf: IO[str], station: str | None = None) -> pd.DataFrame:
    """Parse a CNEMC station hourly table from an open text buffer (see :func:`read_cnemc_station_hourly`)."""
    return _cnemc_hourly(buf, _source_name(buf), station)


def _cnemc_hourly(src: PathLike | IO[str], source: str, station: str | None) -> pd.DataFrame:
    raw = _read_text_table(src, source)
    df, origin = _map_columns(raw, CNEMC_HOURLY_VARIABLE_MAP, ("time",), source)
    present = [p for p in HOURLY_POLLUTANTS if p in df.columns]
    if not present:
        raise ReaderError(
            source,
            f"no pollutant column; expected some of {['PM2.5', 'PM10', 'SO2', 'NO2', 'CO', 'O3']}, "
            f"found {list(raw.columns)}",
        )
    out = pd.DataFrame(index=df.index)
    out["time"] = _to_datetime(df, "time", source, origin, None, "a timestamp YYYY-MM-DD HH:MM:SS")
    off = out["time"] != out["time"].dt.floor("h")
    if off.any():
        idx = _first_bad(off)
        raise ReaderError(
            source,
            row=int(idx) + 2,
            column=origin["time"],
            expected="a timestamp on the hour",
            got=df.loc[idx, "time"],
        )
    if "station" in df.columns and station is None:
        out["station"] = _to_text(df, "station", source, origin, required=True)
    else:
        out["station"] = station or _station_from_name(source)
    for name in present:
        out[name] = _to_numeric(df, name, source, origin)
    qc: dict[str, int] = {}
    records: list[dict] = []
    out = _drop_duplicates(out, ["station", "time"], source, qc, origin)
    out = _range_check(out, present, qc, source=source, raw=df, origin=origin, records=records,
                       keys=("station", "time"))
    n = len(out)
    out = _hourly_grid(out.sort_values(["station", "time"]), by="station")
    if len(out) > n:
        qc["absent_hours"] = len(out) - n
    out = out.reset_index(drop=True)
    _warn_qc(source, {k: v for k, v in qc.items() if k != "absent_hours"}, records=records)
    out.attrs.update(qc=qc, qc_rows=records, hour_label="end", timezone="Asia/Shanghai")
    return out


def _station_from_name(source: str) -> str:
    match = re.search(r"(\d{4}A)", Path(source).name)
    if not match:
        raise ReaderError(
            source,
            "no station code: the file has no 'station' column and its name holds no code like '1410A'; "
            "pass station=...",
        )
    return match.group(1)
