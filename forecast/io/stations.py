"""Reader of the CNEMC national station list, and city coordinates from it.

The list of ``../shared/data/stations`` (README §5): one row per station, Chinese headers
(``监测点编码``, ``城市``, ``经度``, ``纬度``, …) or English ones.

- :data:`STATION_LIST_VARIABLE_MAP`: source column → glossary name.
- :func:`read_station_list` (a path), :func:`parse_station_list` (an open text buffer).
- :func:`city_coordinates`: a city's lon/lat as the mean of its stations', matching city names
  of other sources (aqistudy) to the list's through :data:`CITY_ALIASES` and suffix rules.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import IO

import numpy as np
import pandas as pd

from airwarn.core.errors import InputError, ReaderError
from forecast.io._csv import (
    PathLike,
    ReaderWarning,
    _as_paths,
    _bool_column,
    _first_bad,
    _map_columns,
    _read_text_table,
    _source_name,
    _to_numeric,
    _to_text,
)

__all__ = [
    "CITY_ALIASES",
    "STATION_LIST_VARIABLE_MAP",
    "city_coordinates",
    "parse_station_list",
    "read_station_list",
]

#: Source column → glossary name of the CNEMC station list (``站点列表``,
#: ``../shared/data/stations``, README §5) and of English exports of it.
STATION_LIST_VARIABLE_MAP: dict[str, str] = {
    "监测点编码": "code",
    "code": "code",
    "stationcode": "code",
    "监测点名称": "name",
    "name": "name",
    "positionname": "name",
    "城市": "city",
    "city": "city",
    "area": "city",
    "经度": "lon",
    "lon": "lon",
    "longitude": "lon",
    "纬度": "lat",
    "lat": "lat",
    "latitude": "lat",
    "对照点": "control",
    "control": "control",
    "省级行政区": "province",
    "province": "province",
    "地级行政区": "prefecture",
    "prefecture": "prefecture",
    "区县": "county",
    "county": "county",
    "district": "county",
}


def read_station_list(path: PathLike) -> pd.DataFrame:
    """Read the CNEMC national station list.

    Parameters
    ----------
    path : path-like
        CSV with ``监测点编码,监测点名称,城市,经度,纬度,对照点,省级行政区,地级行政区``
        (or the English names of :data:`STATION_LIST_VARIABLE_MAP`); UTF-8 or
        GB18030. ``对照点``, ``省级行政区``, ``地级行政区`` and ``区县`` (``county``) are optional.

    Returns
    -------
    pandas.DataFrame
        One row per station, in file order: ``code`` (``1738A``), ``name``,
        ``city`` (short name as in the list, ``阳泉``), ``lon`` [°E], ``lat`` [°N]
        (WGS-84 as published; NaN where the list leaves them blank), ``control``
        (bool, background/control site ``Y``), ``province``, ``prefecture``; and ``county`` (the district or
        county of the station, for the county ranking of :mod:`forecast.ranking`) when the file has that column.

    Raises
    ------
    ReaderError
        Missing columns, an empty or repeated station code, unreadable or
        out-of-range coordinates.
    """
    path = _as_paths(path)[0]
    return _station_list(path, str(path))


def parse_station_list(buf: IO[str]) -> pd.DataFrame:
    """Parse a station list from an open text buffer (see :func:`read_station_list`)."""
    return _station_list(buf, _source_name(buf))


def _station_list(src: PathLike | IO[str], source: str) -> pd.DataFrame:
    raw = _read_text_table(src, source, dtype=str)
    df, origin = _map_columns(raw, STATION_LIST_VARIABLE_MAP, ("code", "name", "city", "lon", "lat"), source)
    out = pd.DataFrame(index=df.index)
    out["code"] = _to_text(df, "code", source, origin, required=True)
    out["name"] = _to_text(df, "name", source, origin, required=False)
    out["city"] = _to_text(df, "city", source, origin, required=True)
    for name, (low, high) in {"lon": (-180, 180), "lat": (-90, 90)}.items():
        values = _to_numeric(df, name, source, origin)
        bad = (values < low) | (values > high)
        if bad.any():
            idx = _first_bad(bad)
            raise ReaderError(
                source,
                row=int(idx) + 2,
                column=origin[name],
                expected=f"a {'longitude' if name == 'lon' else 'latitude'} in degrees {low}..{high}",
                got=df.loc[idx, name],
            )
        out[name] = values
    out["control"] = _bool_column(df, "control", source, origin) if "control" in df.columns else False
    for name in ("province", "prefecture"):
        out[name] = _to_text(df, name, source, origin, required=False) if name in df.columns else pd.NA
    if "county" in df.columns:  # only when the file has one (the ranking's station → county map)
        out["county"] = _to_text(df, "county", source, origin, required=False)
    dup = out["code"].duplicated()
    if dup.any():
        idx = _first_bad(dup)
        raise ReaderError(
            source,
            row=int(idx) + 2,
            column=origin["code"],
            expected="a station code not used before",
            got=out.loc[idx, "code"],
        )
    return out.reset_index(drop=True)


#: aqistudy city names that no rule derives from the station list, and why:
#: ``库尔勒`` is the seat of 巴音郭楞州, whose stations are all in Korla;
#: ``博州`` is the usual short name of 博尔塔拉蒙古自治州; ``莱芜`` was merged into
#: 济南 in 2019, its remaining station is listed under 济南 and named 莱芜….
CITY_ALIASES: dict[str, tuple[str, str | None]] = {
    "库尔勒": ("巴音郭楞州", None),
    "博州": ("博尔塔拉蒙古自治州", None),
    "莱芜": ("济南", "莱芜"),
}


def city_coordinates(stations: pd.DataFrame | PathLike, cities: Iterable[str] | None = None) -> pd.DataFrame:
    """City coordinates as the mean lon/lat of the city's stations.

    Parameters
    ----------
    stations : DataFrame or path-like
        The result of :func:`read_station_list`, or the path of a station list.
    cities : iterable of str, optional
        City names to locate, e.g. the aqistudy names (``阳泉``, ``临夏州``,
        ``山南地区``). Names are matched to the list's ``city`` column: exactly;
        through :data:`CITY_ALIASES`; after dropping a ``地区``/``市``/``州``
        suffix, to the one list city or prefecture starting with the rest
        (``临夏州`` → ``临夏回族自治州``, ``山南地区`` → ``山南``). Without
        ``cities``, one row per city of the list.

    Returns
    -------
    pandas.DataFrame
        One row per city, in the order given (or sorted): ``city``, ``lon``,
        ``lat`` [°; mean over the stations with coordinates], ``n_stations``,
        ``matched`` (the list's city name used), ``match`` (``exact``, ``alias``,
        ``suffix``, ``prefecture`` or ``none``). Unmatched cities keep NaN
        coordinates and are counted in a :class:`ReaderWarning`.
    """
    st = stations if isinstance(stations, pd.DataFrame) else read_station_list(stations)
    missing = [c for c in ("city", "lon", "lat") if c not in st.columns]
    if missing:
        raise InputError(
            f"stations lacks column(s) {missing}; expected the columns of read_station_list, "
            f"found {list(st.columns)}"
        )
    located = st.dropna(subset=["lon", "lat"])
    by_city = located.groupby("city", sort=True).agg(
        lon=("lon", "mean"), lat=("lat", "mean"), n_stations=("lon", "size")
    )
    if cities is None:
        out = by_city.reset_index()
        out["matched"] = out["city"]
        out["match"] = "exact"
        return out[["city", "lon", "lat", "n_stations", "matched", "match"]]

    names = sorted(by_city.index)
    prefectures = {}
    if "prefecture" in located.columns:
        prefectures = {
            p: g for p, g in located.dropna(subset=["prefecture"]).groupby("prefecture") if isinstance(p, str)
        }
    rows = []
    for city in cities:
        city = str(city).strip()
        row = {"city": city, "lon": np.nan, "lat": np.nan, "n_stations": 0, "matched": None, "match": "none"}
        group, how, matched = None, "none", None
        if city in by_city.index:
            group, how, matched = located[located.city == city], "exact", city
        elif city in CITY_ALIASES:
            target, name_part = CITY_ALIASES[city]
            g = located[located.city == target]
            if name_part is not None and "name" in g.columns:
                g = g[g["name"].fillna("").str.contains(name_part, regex=False)]
            if len(g):
                group, how, matched = g, "alias", target
        if group is None:
            base = city
            for suffix in ("地区", "市", "州"):
                if base.endswith(suffix) and len(base) > len(suffix) + 1:
                    base = base[: -len(suffix)]
                    break
            if base != city:
                candidates = [n for n in names if n.startswith(base)]
                if len(candidates) == 1:
                    group, how, matched = located[located.city == candidates[0]], "suffix", candidates[0]
            if group is None:
                pref = [p for p in prefectures if p.startswith(base) and len(p) > len(base)]
                if len(pref) == 1:
                    group, how, matched = prefectures[pref[0]], "prefecture", pref[0]
        if group is not None and len(group):
            row.update(
                lon=float(group["lon"].mean()),
                lat=float(group["lat"].mean()),
                n_stations=len(group),
                matched=matched,
                match=how,
            )
        rows.append(row)
    out = pd.DataFrame(rows, columns=["city", "lon", "lat", "n_stations", "matched", "match"])
    unmatched = out.loc[out["match"] == "none", "city"].tolist()
    if unmatched:
        warnings.warn(
            f"city_coordinates: {len(unmatched)} of {len(out)} cities have no station in the list: "
            f"{unmatched[:20]}{' …' if len(unmatched) > 20 else ''}",
            ReaderWarning,
            stacklevel=2,
        )
    return out
