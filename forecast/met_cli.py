"""``airwarn met extract``: the daily weather predictors the model sees, per city and valid day.

::

    airwarn met extract --met FILE [FILE ...] [--stations FILE] [--cities 阳泉,太原] --out OUT.csv

``--met`` takes any source :func:`forecast.met.read_met` reads (GRIB2 runs, netCDF grids, the tidy
station/city CSV, UCI ``PRSA_Data_*`` files) or folders of them. ``--stations`` gives the cities'
coordinates for gridded sources and the station → city map of an hourly station CSV: the CNEMC
station list (default: the shared one when present) or a ``city,lon,lat`` CSV. OUT.csv has one row
per city and valid day (and run: ``issued``, ``lead_day``) with :data:`forecast.met.DAILY_PREDICTORS`,
so a forecaster can set them against the weather forecast they read.
"""
from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from airwarn.core.errors import InputError

_MET_HELP = ("GRIB2 run files, netCDF grids, tidy city/station CSV (city,date or station,time + t2m, d2m, "
             "rh, u10, v10, ws10, wd10, psfc, precip, blh, t850, t925, tcc) or UCI PRSA_Data_* files, "
             "or folders")
_STATIONS_HELP = ("CNEMC station list (cities' coordinates, station → city) or a city,lon,lat CSV "
                  "(default: ../shared/data/stations/… when present)")


def _cities(text: str) -> list[str]:
    return [c.strip() for c in text.replace("，", ",").split(",") if c.strip()]


def read_coordinates(path, cities=None):
    """``city, lon, lat`` from a CNEMC station list (city means of its stations) or a ``city,lon,lat`` CSV.

    Returns the frame and, for a station list, the list itself (the station → city map), else None.
    """
    from forecast import io
    from forecast.io._csv import _map_columns, _read_text_table, _to_numeric, _to_text

    raw = _read_text_table(path, str(path), dtype=str)
    header = {c.strip().lower() for c in raw.columns}
    if header & {"监测点编码", "code", "stationcode"}:
        stations = io.read_station_list(path)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=io.ReaderWarning)
            coords = io.city_coordinates(stations, cities)
        return coords[["city", "lon", "lat"]], stations
    df, origin = _map_columns(raw, {"city": "city", "城市": "city", "lon": "lon", "longitude": "lon",
                                    "经度": "lon", "lat": "lat", "latitude": "lat", "纬度": "lat"},
                              ("city", "lon", "lat"), str(path))
    import pandas as pd

    coords = pd.DataFrame({"city": _to_text(df, "city", str(path), origin, required=True),
                           "lon": _to_numeric(df, "lon", str(path), origin),
                           "lat": _to_numeric(df, "lat", str(path), origin)})
    return coords.reset_index(drop=True), None


def extract(args: argparse.Namespace, settings=None) -> int:
    """The handler of ``airwarn met extract``."""
    from airwarn.core.files import atomic_path
    from forecast.met import read_met
    from forecast.model_cli import station_list_path

    cities = _cities(args.cities) if args.cities else None
    stations_path = station_list_path(args.stations)
    coords, stations = (None, None)
    if stations_path is not None:
        coords, stations = read_coordinates(stations_path, cities)
    from forecast.io import ReaderWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ReaderWarning)
        try:
            met = read_met(args.met, coords=coords, cities=cities, stations=stations)
        except FileNotFoundError as exc:
            raise FileNotFoundError(f"--met: {exc}") from None
    for w in caught:
        if issubclass(w.category, ReaderWarning):
            print(f"airwarn met extract: warning: {w.message}", file=sys.stderr)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if cities:
        absent = [c for c in cities if c not in set(met["city"])]
        if absent:
            print(f"airwarn met extract: warning: no weather for {absent} in {', '.join(map(str, args.met))}",
                  file=sys.stderr)
    out = met.copy()
    if "issued" in out.columns:
        out.insert(out.columns.get_loc("date") + 1, "lead_day", (out["date"] - out["issued"]).dt.days)
        out["issued"] = out["issued"].dt.strftime("%Y-%m-%d")
    out["date"] = out["date"].dt.strftime("%Y-%m-%d")
    if out.empty:
        raise InputError(f"--met {', '.join(map(str, args.met))}: no daily weather for "
                         f"{cities or 'any city'}; nothing written")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(args.out) as tmp:
        out.to_csv(tmp, index=False, encoding="utf-8", float_format="%.4g")
    runs = f", {out['issued'].nunique()} run(s)" if "issued" in out.columns else ""
    print(f"wrote {len(out)} rows to {args.out}: {out['city'].nunique()} cities, "
          f"days {out['date'].min()} → {out['date'].max()}{runs}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``airwarn met extract`` to the ``airwarn`` parser."""
    p = subparsers.add_parser("met", help="weather: the daily predictors the model sees")
    sub = p.add_subparsers(dest="met_command", metavar="ACTION", required=True)
    e = sub.add_parser("extract", help="daily weather predictors per city and valid day from GRIB2, netCDF, "
                                       "tidy CSV or UCI files",
                       description="Write the daily weather predictors (Beijing-time days) per city and "
                                   "valid day, with the run (issued) and lead for forecast runs.")
    e.add_argument("--met", action="extend", nargs="+", required=True, metavar="FILE", help=_MET_HELP)
    e.add_argument("--stations", metavar="FILE", help=_STATIONS_HELP)
    e.add_argument("--cities", help="cities to extract, comma-separated (default: every city of the source; "
                                    "for grids every city of --stations inside the grid)")
    e.add_argument("--out", required=True, metavar="OUT.csv", help="CSV to write (atomically)")
    e.set_defaults(func=extract)
