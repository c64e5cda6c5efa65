"""Reader of the tidy station/city meteorology CSV a meteorological bureau exports.

One row per city and day (``city,date``) or per station (or city) and hour (``station,time``),
plus any of the columns of :data:`MET_CSV_COLUMNS`:

=========  ======  ============================================  ===============
column     unit    what                                          plausible range
=========  ======  ============================================  ===============
``t2m``    °C      2 m temperature                               −60 … 60
``d2m``    °C      2 m dew point                                 −80 … 45
``rh``     %       2 m relative humidity                         0 … 105
``u10``    m/s     10 m eastward wind                            −75 … 75
``v10``    m/s     10 m northward wind                           −75 … 75
``ws10``   m/s     10 m wind speed                               0 … 75
``wd10``   °       10 m wind direction (blowing from)            0 … 360
``psfc``   hPa     surface pressure                              400 … 1100
``precip`` mm      precipitation (of the day, or of the hour     0 … 500
                   ending at ``time``)
``blh``    m       boundary-layer height                         0 … 6000
``t850``   °C      temperature at 850 hPa                        −60 … 45
``t925``   °C      temperature at 925 hPa                        −60 … 50
``tcc``    0–1     total cloud cover                             0 … 1
=========  ======  ============================================  ===============

An optional ``issued`` column (a date) makes the rows a forecast issued that day (a bureau's
daily forecast of the coming days), kept as a key. Times without an offset are Beijing time; a time with an offset (``2016-12-14T00:00+00:00``) is
converted to Beijing time. Hourly station rows need their city: a ``city`` column, or a station list
(the CNEMC list, :func:`forecast.io.read_station_list`: the station code or name → city).

Units are checked column by column: a column whose values lie outside the plausible range of its
unit but inside that of a unit often confused with it is refused as a whole, naming both
(``t2m``: "expected °C, got values 250–300 that look like K"). A single value outside the range is
set to missing and reported in one :class:`~forecast.io.ReaderWarning` (file, row, column, value),
as the other readers do; a cell that is not a number raises
:class:`~airwarn.core.errors.ReaderError` naming file, row, column, expected and got. Columns that
are not known are named in one warning and left out.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from typing import IO

import numpy as np
import pandas as pd

from airwarn.core.dates import BEIJING
from airwarn.core.errors import InputError, ReaderError
from forecast.io._csv import (
    PathLike,
    ReaderWarning,
    _add_record,
    _as_paths,
    _drop_duplicates,
    _first_bad,
    _map_columns,
    _read_text_table,
    _source_name,
    _to_datetime,
    _to_numeric,
    _to_text,
    _warn_qc,
)

__all__ = ["MET_CSV_COLUMNS", "MET_CSV_VARIABLE_MAP", "parse_met_csv", "read_met_csv"]

#: Meteorological columns: name → (unit text, plausible range, [(range, unit it looks like) …]).
MET_CSV_COLUMNS: dict[str, tuple[str, tuple[float, float], tuple[tuple[tuple[float, float], str], ...]]] = {
    "t2m": ("°C", (-60, 60), (((180, 340), "K"),)),
    "d2m": ("°C", (-80, 45), (((180, 340), "K"),)),
    "rh": ("%", (0, 105), (((0, 1.0), "a fraction 0–1"),)),
    "u10": ("m/s", (-75, 75), ()),
    "v10": ("m/s", (-75, 75), ()),
    "ws10": ("m/s", (0, 75), ()),
    "wd10": ("°", (0, 360), ()),
    "psfc": ("hPa", (400, 1100), (((40_000, 110_000), "Pa"), ((40, 110), "kPa"))),
    "precip": ("mm", (0, 500), ()),
    "blh": ("m", (0, 6000), (((0, 6.0), "km"),)),
    "t850": ("°C", (-60, 45), (((180, 340), "K"),)),
    "t925": ("°C", (-60, 50), (((180, 340), "K"),)),
    "tcc": ("0–1", (0, 1), (((0, 100), "%"),)),
}

#: Source column → name. Headers match case-insensitively, ignoring spaces, ``_`` and ``.``.
MET_CSV_VARIABLE_MAP: dict[str, str] = {
    "city": "city", "城市": "city",
    "station": "station", "站点": "station", "站号": "station",
    "date": "date", "日期": "date",
    "time": "time", "时间": "time",
    "issued": "issued", "起报日期": "issued",
    **{name: name for name in MET_CSV_COLUMNS},
}
_KEYS = ("city", "station", "issued", "date", "time")
#: Column that marks synthetic rows (``synthetic = True``, as the demo's files carry it): read into
#: ``attrs["synthetic"]``, never warned about as an unknown column.
SYNTHETIC_MARKER = "synthetic"
#: Fewer values than this in a column: no unit guess (a handful of cold days can look like anything).
_MIN_VALUES_FOR_UNIT_GUESS = 3
_OFFSET = re.compile(r"(?:[+-]\d{2}:?\d{2}|Z)$")


def read_met_csv(path: PathLike, *, stations: pd.DataFrame | PathLike | None = None) -> pd.DataFrame:
    """Read a tidy meteorology CSV (see the module doc for the layout).

    Parameters
    ----------
    path : path-like
        The CSV (``.csv`` or ``.csv.gz``; UTF-8 or GB18030).
    stations : DataFrame or path-like, optional
        A station list (:func:`forecast.io.read_station_list` or its file) mapping the ``station``
        column (code or name) to cities, when the file has no ``city`` column.

    Returns
    -------
    DataFrame
        ``city``, ``station`` (hourly station files), ``issued`` (if given), ``date`` (daily files,
        ``datetime64[ns]``) or ``time`` (hourly files, naive Beijing time), then the columns of :data:`MET_CSV_COLUMNS`
        present, as float, in the units of the table. ``attrs["qc"]`` counts the values set to
        missing, ``attrs["qc_rows"]`` lists them, ``attrs["unknown_columns"]`` the columns left out, ``attrs["synthetic"]`` whether a ``synthetic`` column
        marks rows as synthetic.

    Raises
    ------
    ReaderError
        Missing key columns, an unreadable cell (file, row, column, expected, got), a column in
        the wrong unit, a station that maps to no city, a key given twice with different values.
    """
    path = _as_paths(path)[0]
    return _met_csv(path, str(path), stations)


def parse_met_csv(buf: IO[str], *, stations: pd.DataFrame | PathLike | None = None) -> pd.DataFrame:
    """Parse a tidy meteorology CSV from an open text buffer (see :func:`read_met_csv`)."""
    return _met_csv(buf, _source_name(buf), stations)


def _met_csv(src, source: str, stations) -> pd.DataFrame:
    raw = _read_text_table(src, source, dtype=str)
    df, origin = _map_columns(raw, MET_CSV_VARIABLE_MAP, (), source)
    has = set(origin)
    if "date" in has and "time" in has:
        raise ReaderError(source, f"both {origin['date']!r} and {origin['time']!r} columns; expected "
                                  f"'date' (daily rows) or 'time' (hourly rows)")
    if not has & {"date", "time"}:
        raise ReaderError(source, f"no 'date' or 'time' column; expected city,date (daily) or station,time "
                                  f"(hourly) plus any of {list(MET_CSV_COLUMNS)}, found {list(raw.columns)}")
    if not has & {"city", "station"}:
        raise ReaderError(source, f"no 'city' or 'station' column; expected city,date (daily) or "
                                  f"station,time (hourly), found {list(raw.columns)}")
    unknown = [c for c in raw.columns if c not in origin.values()]
    fields = [name for name in MET_CSV_COLUMNS if name in has]
    if not fields:
        raise ReaderError(source, f"no meteorological column; expected any of {list(MET_CSV_COLUMNS)}, "
                                  f"found {list(raw.columns)}")
    # the marker of the project's own synthetic files (demo weather): recorded, not a weather variable
    marker = next((c for c in unknown if str(c).strip().lower() == SYNTHETIC_MARKER), None)
    synthetic = marker is not None and raw[marker].astype(str).str.strip().str.lower().isin(
        ("true", "1", "yes")).any()
    unknown = [c for c in unknown if c != marker]
    if unknown:
        warnings.warn(f"{source}: columns not known, left out: {unknown}; the known columns are "
                      f"{[*_KEYS, *MET_CSV_COLUMNS]}", ReaderWarning, stacklevel=3)
    out = pd.DataFrame(index=df.index)
    for key in ("city", "station"):
        if key in has:
            out[key] = _to_text(df, key, source, origin, required=key == "city" or "city" not in has)
    if "issued" in has:
        out["issued"] = _to_datetime(df, "issued", source, origin, None, "a date YYYY-MM-DD").dt.normalize()
    if "date" in has:
        out["date"] = _to_datetime(df, "date", source, origin, None, "a date YYYY-MM-DD").dt.normalize()
    else:
        out["time"] = _times(df, source, origin)
    qc: dict[str, int] = {}
    records: list[dict] = []
    for name in fields:
        values = _to_numeric(df, name, source, origin)
        _check_unit(values, name, source, origin)
        out[name] = _range_check(values, df, name, source, origin, qc, records, out)
    if "city" not in out.columns:
        out.insert(0, "city", _station_cities(out, stations, source, origin))
    keys = ["city", "station"] if "station" in out.columns else ["city"]
    keys += ["issued"] if "issued" in out.columns else []
    keys += ["date" if "date" in out.columns else "time"]
    out = _drop_duplicates(out, keys, source, qc, origin)
    out = out.sort_values(keys, kind="stable").reset_index(drop=True)
    _warn_qc(source, qc, stacklevel=4, records=records)
    out.attrs.update(qc=qc, qc_rows=records, unknown_columns=unknown, synthetic=bool(synthetic))
    return out


def _times(df: pd.DataFrame, source: str, origin: Mapping[str, str]) -> pd.Series:
    """Hourly times as naive Beijing time; times with an offset are converted."""
    text = df["time"].astype("string").str.strip()
    aware = text.str.contains(_OFFSET, na=False)
    if not aware.any():
        return _to_datetime(df, "time", source, origin, None, "a time YYYY-MM-DD HH:MM (Beijing time)")
    parsed = pd.to_datetime(text.where(aware), utc=True, errors="coerce", format="ISO8601")
    local = parsed.dt.tz_convert(BEIJING).dt.tz_localize(None)
    naive = pd.to_datetime(text.where(~aware), errors="coerce", format="ISO8601")
    values = local.where(aware, naive)
    bad = values.isna()
    if bad.any():
        idx = _first_bad(bad)
        raise ReaderError(source, row=int(idx) + 2, column=origin["time"],
                          expected="a time YYYY-MM-DD HH:MM (Beijing time, or with an offset)",
                          got=df.loc[idx, "time"])
    return values.astype("datetime64[ns]")


def _check_unit(values: pd.Series, name: str, source: str, origin: Mapping[str, str]) -> None:
    """Refuse a column whose values fit a commonly confused unit rather than the expected one."""
    unit, (low, high), confused = MET_CSV_COLUMNS[name]
    v = values.dropna()
    if len(v) < _MIN_VALUES_FOR_UNIT_GUESS:
        return
    inside = ((v >= low) & (v <= high)).mean()
    for (lo, hi), other in confused:
        fits = ((v >= lo) & (v <= hi)).mean()
        if lo >= low and hi <= high:  # within the right range (a fraction for %, km for m): all of them
            looks = fits == 1.0 and v.max() > 0 and v.nunique() > 1
        elif lo <= low and hi >= high:  # around it (% for a fraction): all fit, many beyond the right one
            looks = fits == 1.0 and (v > high).mean() >= 0.1
        else:  # apart (K for °C, Pa for hPa)
            looks = fits >= 0.9 and inside < 0.5
        if looks:
            raise ReaderError(source, column=origin[name], message=(
                f"expected {unit}, got values {v.min():g}–{v.max():g} that look like {other}; "
                f"convert the column to {unit}"))


def _range_check(values: pd.Series, df: pd.DataFrame, name: str, source: str, origin: Mapping[str, str],
                 qc: dict[str, int], records: list[dict], keys: pd.DataFrame) -> pd.Series:
    """Values outside the plausible range (or not finite) → NaN, counted and recorded."""
    _, (low, high), _ = MET_CSV_COLUMNS[name]
    finite = np.isfinite(values.fillna(0.0))
    bad = values.notna() & (~finite | (values < low) | (values > high))
    if not bad.any():
        return values
    qc[f"{name} outside {low:g}..{high:g}"] = int(bad.sum())
    for idx in bad.index[bad.to_numpy()]:
        v = values.loc[idx]
        rec = {"file": source, "row": int(idx) + 2, "column": origin[name], "value": str(df.loc[idx, name]),
               "problem": f"outside the plausible range {low:g}..{high:g} {MET_CSV_COLUMNS[name][0]}"
               if np.isfinite(v) else "not a finite number"}
        for k in ("city", "station"):
            if k in keys.columns and isinstance(keys.loc[idx, k], str):
                rec[k] = keys.loc[idx, k]
        _add_record(records, rec)
    return values.mask(bad)


def _station_cities(out: pd.DataFrame, stations, source: str, origin: Mapping[str, str]) -> pd.Series:
    """The city of each row's station, from the station list (code first, then name)."""
    from forecast.io.stations import read_station_list

    if stations is None:
        raise ReaderError(source, f"the rows name stations ({origin['station']!r}) and no city; expected a "
                                  f"'city' column or a station list (--stations) mapping stations to cities")
    st = stations if isinstance(stations, pd.DataFrame) else read_station_list(stations)
    if not {"code", "city"} <= set(st.columns):
        raise InputError(f"the station list lacks 'code'/'city' columns; found {list(st.columns)}")
    lookup = dict(zip(st["code"].astype(str), st["city"]))
    if "name" in st.columns:
        for name, city in zip(st["name"].astype(str), st["city"]):
            lookup.setdefault(name, city)
    cities = out["station"].map(lookup)
    bad = cities.isna() & out["station"].notna()
    if bad.any():
        idx = _first_bad(bad)
        missing = sorted(set(out.loc[bad, "station"]))
        raise ReaderError(source, row=int(idx) + 2, column=origin["station"],
                          message=f"station {out.loc[idx, 'station']!r} is not in the station list "
                                  f"({len(missing)} such: {missing[:10]}); expected a station code or name "
                                  f"of the list, or a 'city' column")
    return cities
