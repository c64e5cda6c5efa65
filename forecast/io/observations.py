"""Daily observations from files of any layout airwarn knows: the dispatcher behind ``--obs``.

:func:`read_observations` takes files or folders (:func:`expand_paths`), recognises each file's
layout by its name (:func:`is_prsa`, :func:`is_china_sites`; anything else is a city daily file)
and hands it to that layout's reader. Hourly layouts then go through two explicit steps that are
not reading: hours → days by :mod:`forecast.aggregate` and the AQI by :mod:`forecast.aqi`
(:func:`forecast.aggregate.city_daily_from_stations` for the national archive,
:func:`prsa_daily_with_aqi` for the UCI stations). The result is in the city daily schema of
:func:`forecast.io.read_city_daily`, with the QC rows of every reader in ``attrs["qc_rows"]``.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from airwarn.core.errors import InputError
from airwarn.core.vocab import DAILY_POLLUTANTS
from forecast.aggregate import city_daily_from_stations, hourly_to_daily
from forecast.aqi import daily_aqi
from forecast.io._csv import (
    HOURLY_POLLUTANTS,
    MAX_QC_ROWS,
    PathLike,
    ReaderWarning,
    _add_record,
    _key_text,
    _records_text,
)
from forecast.io.aqistudy import read_city_daily
from forecast.io.china_sites import read_china_sites
from forecast.io.prsa import read_prsa_multisite
from forecast.io.stations import read_station_list

__all__ = ["expand_paths", "is_china_sites", "is_prsa", "prsa_daily_with_aqi", "read_observations"]


def is_prsa(path: PathLike) -> bool:
    """Whether ``path`` is a UCI Beijing multi-site file (``PRSA_Data_*``)."""
    return Path(path).name.startswith("PRSA_Data_")


def is_china_sites(path: PathLike) -> bool:
    """Whether ``path`` is a CNEMC national archive file (``china_sites_YYYYMMDD.csv``)."""
    return Path(path).name.startswith("china_sites_")


def expand_paths(paths: PathLike | Iterable[PathLike]) -> list[Path]:
    """Paths with folders replaced by the data files inside them (``*.csv``, ``*.csv.gz``, ``*.nc``).

    Parameters
    ----------
    paths : path-like or iterable of path-likes
        Files and folders.

    Raises
    ------
    FileNotFoundError
        Naming the path that does not exist, or the folder that holds no data file.
    """
    out = []
    for p in [Path(paths)] if isinstance(paths, (str, os.PathLike)) else [Path(q) for q in paths]:
        if not p.exists():
            raise FileNotFoundError(f"no such file or folder {p}")
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.name.endswith((".csv", ".csv.gz", ".nc")))
            if not found:
                raise FileNotFoundError(f"folder {p} holds no .csv, .csv.gz or .nc file")
            out += found
        else:
            out.append(p)
    return out


def prsa_daily_with_aqi(hourly: pd.DataFrame) -> pd.DataFrame:
    """UCI multi-site hourly rows → daily rows per station (``city`` = station name) with the AQI.

    Not a reader: the daily values are :func:`forecast.aggregate.hourly_to_daily`'s (GB 3095
    validity rules) and the AQI :func:`forecast.aqi.daily_aqi`'s (``standard="auto"``; its
    warnings are silenced here, as the daily values are the product).

    Parameters
    ----------
    hourly : DataFrame
        The result of :func:`forecast.io.read_prsa_multisite` (``station, time`` + pollutants).

    Returns
    -------
    DataFrame
        ``city, date, aqi`` and the daily pollutants present (:data:`airwarn.core.vocab.DAILY_POLLUTANTS`).
    """
    pollutants = [c for c in HOURLY_POLLUTANTS if c in hourly.columns]
    daily = hourly_to_daily(hourly[["station", "time", *pollutants]], by="station")
    daily = daily.rename(columns={"station": "city"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = daily_aqi(daily.drop(columns=[c for c in ("o3_1h",) if c in daily.columns]), standard="auto")
    daily["aqi"] = rep["aqi"].to_numpy()
    keep = ["city", "date", "aqi", *DAILY_POLLUTANTS]
    return daily[[c for c in keep if c in daily.columns]]


def read_observations(paths: PathLike | Iterable[PathLike], *,
                      stations: PathLike | pd.DataFrame | None = None) -> pd.DataFrame:
    """Daily observations from files of the layouts airwarn knows, in the city daily schema.

    What ``airwarn train/forecast/backtest --obs`` and the daily chain (setting ``observations``)
    read, files or folders of them, any mix:

    * city daily files (:func:`forecast.io.read_city_daily`, several concatenated in time);
    * CNEMC national archive files ``china_sites_YYYYMMDD.csv`` (:func:`forecast.io.read_china_sites`):
      station hours → station days → city days (mean of the city's non-control stations) with the
      AQI, by :func:`forecast.aggregate.city_daily_from_stations`; they need the station list
      ``stations``;
    * UCI Beijing multi-site files (:func:`forecast.io.read_prsa_multisite`, hourly, then daily per
      station with the AQI by :func:`prsa_daily_with_aqi`).

    Implausible values are set to NaN with one :class:`~forecast.io.ReaderWarning` per reader naming
    the file, rows, columns and values; the rows are in ``attrs["qc_rows"]`` (with the ``city`` of
    each, a station mapped through the station list), for :func:`forecast.io.qc_notes`. A city and
    day given by two layouts (a city daily file and the national archive, say) takes the later
    layout's values (city daily, then national archive, then UCI), with a warning naming both.

    Parameters
    ----------
    paths : path-like or iterable of path-likes
        Files and folders of them (:func:`expand_paths`).
    stations : path-like or DataFrame, optional
        The station list (:func:`forecast.io.read_station_list`), needed by national archive files.

    Raises
    ------
    FileNotFoundError
        If a path does not exist (the message names it).
    InputError
        If national archive files come without a station list.
    ReaderError
        If a file is malformed (file, line, column, expected, got).
    """
    files = expand_paths(paths)
    prsa = [p for p in files if is_prsa(p)]
    sites = [p for p in files if is_china_sites(p)]
    daily = [p for p in files if p not in prsa and p not in sites]
    if sites and stations is None:
        raise InputError(f"{len(sites)} CNEMC national archive file(s) ({sites[0].name} …) "
                         f"need the station list to map stations to cities; none was given")
    frames, records, names = [], [], []
    if daily:
        frames.append(read_city_daily(daily))
        records += frames[-1].attrs.get("qc_rows", [])
        names.append(str(daily[0]) if len(daily) == 1
                     else f"{len(daily)} city daily files ({daily[0].name} …)")
    if sites:
        table = stations if isinstance(stations, pd.DataFrame) else read_station_list(stations)
        hourly = read_china_sites(sites)
        city_of = dict(zip(table["code"].astype(str), table["city"].astype(str)))
        for rec in hourly.attrs.get("qc_rows", []):
            if rec.get("station") is not None:
                rec.setdefault("city", city_of.get(str(rec["station"])))
        records += hourly.attrs.get("qc_rows", [])
        frames.append(city_daily_from_stations(hourly, table))
        names.append(f"the national archive files ({sites[0].name} …)")
    if prsa:
        hourly = read_prsa_multisite(prsa)
        for rec in hourly.attrs.get("qc_rows", []):
            if rec.get("station") is not None:
                rec.setdefault("city", rec["station"])
        records += hourly.attrs.get("qc_rows", [])
        frames.append(prsa_daily_with_aqi(hourly))
        names.append(f"the UCI files ({prsa[0].name} …)")
    obs = pd.concat([f.assign(_layout=k) for k, f in enumerate(frames)], ignore_index=True)
    if len(frames) > 1:
        obs = obs.sort_values(["city", "date", "_layout"], kind="stable")
        twice = obs.duplicated(["city", "date"], keep="last")
        if twice.any():
            kept = obs.drop_duplicates(["city", "date"], keep="last").set_index(["city", "date"])["_layout"]
            shown = []
            for idx in obs.index[twice.to_numpy()][:MAX_QC_ROWS]:
                city, day = obs.loc[idx, "city"], obs.loc[idx, "date"]
                shown.append({"file": names[int(obs.loc[idx, "_layout"])], "row": None, "column": None,
                              "value": None, "city": city, "date": _key_text(day, "date"),
                              "problem": f"also in {names[int(kept.loc[(city, day)])]}, "
                                         f"whose values are used"})
            if twice.sum() > len(shown):
                shown.append({"file": shown[-1]["file"], "row": None, "more": int(twice.sum()) - len(shown)})
            for rec in shown:
                _add_record(records, rec)
            warnings.warn(f"{int(twice.sum())} city day(s) in more than one layout; the later layout's values "
                          f"are used: {_records_text(shown)}", ReaderWarning, stacklevel=2)
            obs = obs.loc[~twice]
    obs = obs.drop(columns="_layout").sort_values(["city", "date"], kind="stable").reset_index(drop=True)
    obs.attrs = {"qc_rows": records}
    return obs
