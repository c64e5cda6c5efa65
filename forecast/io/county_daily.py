"""Reader of station daily values with their county: the input of the county ranking (``airwarn rank``).

Layout: one row per station and day, ``county,station,date,pm25,pm10,so2,no2,co,o3_8h`` (µg/m³, CO mg/m³;
``o3_8h`` the daily maximum 8 h O3), optionally ``dust`` (the day is a sand-dust day for this station, yes/no)
and ``synthetic`` (yes/no). Chinese headers (``区县``, ``站点``, ``日期``) and the usual pollutant spellings
(``PM2.5``, ``O3_8h``) are mapped through :data:`COUNTY_DAILY_VARIABLE_MAP`.

- :func:`read_county_daily` (paths), :func:`parse_county_daily` (an open text buffer).
- :data:`UCI_BEIJING_DISTRICTS`: the district (区) of each of the 12 UCI Beijing multi-site stations, so the
  real Beijing data can be ranked by district.

A malformed file raises :class:`~airwarn.core.errors.ReaderError` naming the file, the line, the column, what
was expected and what came (an unreadable date or number, an empty county or station, a station listed under
two counties, two different rows for one station and day). Implausible values (negative, beyond
:data:`forecast.io.PLAUSIBLE_RANGES`) become NaN with one :class:`~forecast.io.ReaderWarning`, as in the other
readers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO

import pandas as pd

from airwarn.core.errors import ReaderError
from airwarn.core.vocab import DAILY_POLLUTANTS
from forecast.io._csv import (
    PathLike,
    _as_paths,
    _bool_column,
    _drop_duplicates,
    _first_bad,
    _map_columns,
    _range_check,
    _read_text_table,
    _source_name,
    _to_datetime,
    _to_numeric,
    _to_text,
    _warn_qc,
)

__all__ = ["COUNTY_DAILY_COLUMNS", "COUNTY_DAILY_VARIABLE_MAP", "UCI_BEIJING_DISTRICTS", "parse_county_daily",
           "read_county_daily"]

#: Columns of the frame :func:`read_county_daily` returns.
COUNTY_DAILY_COLUMNS: tuple[str, ...] = ("county", "station", "date", *DAILY_POLLUTANTS, "dust", "synthetic")

#: Source column → glossary name of the station daily layout.
COUNTY_DAILY_VARIABLE_MAP: dict[str, str] = {
    "county": "county",
    "district": "county",
    "区县": "county",
    "区县名称": "county",
    "station": "station",
    "stationcode": "station",
    "站点": "station",
    "监测点编码": "station",
    "date": "date",
    "日期": "date",
    "pm25": "pm25",
    "pm2.5": "pm25",
    "pm2_5": "pm25",
    "pm10": "pm10",
    "so2": "so2",
    "no2": "no2",
    "co": "co",
    "o3_8h": "o3_8h",
    "o38h": "o3_8h",
    "o3-8h": "o3_8h",
    "dust": "dust",
    "沙尘": "dust",
    "synthetic": "synthetic",
}

#: District (区) of each UCI Beijing multi-site station (the station names of
#: :data:`forecast.io.PRSA_STATION_CODES`): 东城 Dongsi, Tiantan; 西城 Guanyuan, Wanshouxigong (万寿西宫);
#: 朝阳 Aotizhongxin (奥体中心), Nongzhanguan (农展馆); 海淀 Wanliu (万柳); 顺义 Shunyi; 昌平 Changping, Dingling
#: (定陵); 怀柔 Huairou; 石景山 Gucheng (古城).
UCI_BEIJING_DISTRICTS: dict[str, str] = {
    "Dongsi": "东城", "Tiantan": "东城",
    "Guanyuan": "西城", "Wanshouxigong": "西城",
    "Aotizhongxin": "朝阳", "Nongzhanguan": "朝阳",
    "Wanliu": "海淀",
    "Shunyi": "顺义",
    "Changping": "昌平", "Dingling": "昌平",
    "Huairou": "怀柔",
    "Gucheng": "石景山",
}


def read_county_daily(paths: PathLike | Iterable[PathLike]) -> pd.DataFrame:
    """Read station daily files with their county (``county,station,date,pm25,pm10,so2,no2,co,o3_8h``).

    Parameters
    ----------
    paths : path-like or iterable of path-likes
        CSV files (UTF-8 or GB18030, ``.csv`` / ``.csv.gz``); ``date`` as ``YYYY-MM-DD`` (Beijing natural
        day); empty fields are missing. Pollutant columns may be absent (all NaN then), ``county``,
        ``station`` and ``date`` may not. Several files are concatenated.

    Returns
    -------
    pandas.DataFrame
        :data:`COUNTY_DAILY_COLUMNS`, sorted by county, station and date: ``date`` datetime64[ns],
        concentrations float [µg/m³; co mg/m³], ``dust`` and ``synthetic`` bool (False where the file has no
        such column). ``attrs["qc"]`` counts the values set to NaN, ``attrs["qc_rows"]`` names them.

    Raises
    ------
    ReaderError
        Missing ``county``/``station``/``date`` column, an empty county or station, an unreadable date, number
        or flag, a station under two counties, two different rows for one station and day (file, row, column,
        expected, got).
    """
    frames = []
    for p in _as_paths(paths):
        frames.append(_county_daily(p, str(p)))
    if len(frames) == 1:
        return frames[0]
    qc_rows = [r for f in frames for r in f.attrs.get("qc_rows", [])]
    qc: dict[str, int] = {}
    for f in frames:
        for k, v in f.attrs.get("qc", {}).items():
            qc[k] = qc.get(k, 0) + v
    out = pd.concat(frames, ignore_index=True)
    _check_one_county(out, "the files")
    twice = out.duplicated(["station", "date"], keep="last")
    out = out.loc[~twice].sort_values(["county", "station", "date"], kind="stable").reset_index(drop=True)
    out.attrs.update(qc=qc, qc_rows=qc_rows)
    return out


def parse_county_daily(buf: IO[str]) -> pd.DataFrame:
    """Parse a station daily table from an open text buffer (see :func:`read_county_daily`)."""
    return _county_daily(buf, _source_name(buf))


def _county_daily(src: PathLike | IO[str], source: str) -> pd.DataFrame:
    raw = _read_text_table(src, source, dtype=str)
    raw = raw.loc[raw.notna().any(axis=1)]  # blank lines (kept so that index + 2 is the line number)
    df, origin = _map_columns(raw, COUNTY_DAILY_VARIABLE_MAP, ("county", "station", "date"), source)
    present = [p for p in DAILY_POLLUTANTS if p in df.columns]
    if not present:
        raise ReaderError(source, f"no pollutant column; expected some of {list(DAILY_POLLUTANTS)}, "
                                  f"found {list(raw.columns)}")
    out = pd.DataFrame(index=df.index)
    out["county"] = _to_text(df, "county", source, origin, required=True)
    out["station"] = _to_text(df, "station", source, origin, required=True)
    out["date"] = _to_datetime(df, "date", source, origin, "%Y-%m-%d", "a date YYYY-MM-DD")
    for name in DAILY_POLLUTANTS:
        out[name] = _to_numeric(df, name, source, origin) if name in present else float("nan")
    for flag in ("dust", "synthetic"):
        out[flag] = _bool_column(df, flag, source, origin) if flag in df.columns else False
    _check_one_county(out, source, origin)
    qc: dict[str, int] = {}
    records: list[dict] = []
    out = _drop_duplicates(out, ["station", "date"], source, qc, origin)
    out = _range_check(out, present, qc, source=source, raw=df, origin=origin, records=records,
                       keys=("station", "date"))
    _warn_qc(source, qc, records=records)
    out = out.sort_values(["county", "station", "date"], kind="stable").reset_index(drop=True)
    out.attrs.update(qc=qc, qc_rows=records)
    return out


def _check_one_county(df: pd.DataFrame, source: str, origin: dict[str, str] | None = None) -> None:
    """A station belongs to one county: the first row naming a second county for a station raises."""
    first = df.groupby("station", sort=False)["county"].transform("first")
    bad = df["county"] != first
    if bad.any():
        idx = _first_bad(bad)
        station = df.loc[idx, "station"]
        raise ReaderError(source, row=int(idx) + 2 if origin is not None else None,
                          column=(origin or {}).get("county", "county"),
                          expected=f"the county {first.loc[idx]!r} given for station {station!r} on an earlier row",
                          got=df.loc[idx, "county"])
