"""The observed days, and the recent forecasts verified against them (the 会商 page's 预报检验).

The observations are those of the ``observations`` setting, read with
:func:`forecast.io.read_observations` and cached on the files' stamps; the recent forecasts come from
the archive of daily products (``forecast.csv``, else ``forecast.nc``) and, for the demo,
``<data_dir>/demo/recent_forecasts.csv``.
"""
from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

import pandas as pd

from airwarn.core.errors import InputError, ReaderError
from airwarn.core.products import FORECAST_CSV, FORECAST_NC, product_path
from airwarn.core.settings import Settings
from dashboard.services.context import settings, stamp, stamps
from dashboard.services.products import forecast_cities, forecast_table, open_cached, product_dates
from forecast import verify
from forecast.aqi import daily_aqi
from forecast.io import expand_paths, read_observations

#: Days of issued forecasts the 会商 page compares with the observations.
RECENT_DAYS = 30
#: Longest lead of a product: a forecast issued this many days before the window still reaches it.
_PRODUCT_LEAD_DAYS = 10


def observation_key(s: Settings) -> tuple:
    """``(path, mtime, size)`` of the files of the ``observations`` setting (empty when they are absent):
    what a cached reading of them depends on."""
    try:
        return stamps(expand_paths(tuple(s.observations)))
    except FileNotFoundError:
        return ()


@functools.lru_cache(maxsize=4)
def read_all(key: tuple, stations: str | None) -> pd.DataFrame:
    """All observations of the files in ``key`` (:func:`observation_key`), with a daily ``aqi``;
    re-read when one of the files changes."""
    if not key:
        return pd.DataFrame(columns=["city", "date", "aqi"])
    try:
        obs = read_observations([Path(p) for p, _, _ in key], stations=stations)
    except (InputError, ReaderError) as exc:  # a malformed file, archive files without a station list
        hint = ": set 'stations' (AIRWARN_STATIONS)" if stations is None and not isinstance(exc, ReaderError) else ""
        raise InputError(f"settings 'observations': {exc}{hint}") from None
    obs["date"] = pd.to_datetime(obs["date"]).dt.normalize()
    if "aqi" not in obs.columns or obs["aqi"].isna().all():
        obs["aqi"] = daily_aqi(obs)["aqi"].to_numpy()
    return obs


def observations(city: str, s: Settings | None = None) -> pd.DataFrame:
    """Observed daily records of ``city`` (``date, aqi, …``) from the ``observations`` setting
    (empty if those files are absent)."""
    s = s or settings()
    key = observation_key(s)
    if not key:
        return pd.DataFrame(columns=["date", "aqi"])
    obs = read_all(key, str(s.stations) if s.stations else None)
    return obs[obs["city"] == city].reset_index(drop=True)


def observed_history(city: str, through: "dt.date | None", days: int = 30, s: Settings | None = None) -> pd.DataFrame:
    """The observed daily AQI (``date, aqi``) of ``city`` over the ``days`` days up to ``through``
    (the day the forecast's observations end; empty without observations)."""
    obs = observations(city, s)
    if obs.empty or through is None or "aqi" not in obs:
        return pd.DataFrame(columns=["date", "aqi"])
    end = pd.Timestamp(through)
    part = obs[(obs["date"] > end - pd.Timedelta(days=days)) & (obs["date"] <= end)]
    return part[["date", "aqi"]].dropna().sort_values("date").reset_index(drop=True)


def recent_verification(city: str, s: Settings | None = None, leads: tuple[int, ...] = (1, 2, 3),
                        days: int = RECENT_DAYS) -> pd.DataFrame:
    """Recent observations against what was forecast for them.

    The forecasts are those valid on the ``days`` days before the newest product's issue day and on
    that day, from the archive of daily products (``forecast.csv``, or ``forecast.nc`` when the CSV
    is absent) and, for the demo, ``<data_dir>/demo/recent_forecasts.csv`` (a product of the archive
    wins over the demo file for the same issue day). The observations are those of the
    ``observations`` setting (:func:`observations`).

    Returns
    -------
    DataFrame
        ``valid_date, lead_day, aqi_p10, aqi_p50, aqi_p90, observed, persistence`` (``persistence``:
        the AQI observed on the issue day; empty if there is no forecast).
    """
    s = s or settings()
    cols = ["valid_date", "lead_day", "aqi_p10", "aqi_p50", "aqi_p90", "observed", "persistence"]
    fc = _recent_forecasts(city, s, days)
    fc = fc[fc["lead_day"].isin(leads)].copy()
    if fc.empty:
        return pd.DataFrame(columns=cols)
    aqi = observations(city, s).drop_duplicates("date").set_index("date")["aqi"]
    fc["observed"] = aqi.reindex(fc["valid_date"]).to_numpy(float)
    fc["persistence"] = aqi.reindex(fc["issued"]).to_numpy(float)
    keep = [c for c in cols if c in fc.columns]
    return fc[keep].sort_values(["lead_day", "valid_date"]).reset_index(drop=True)


def recent_scores(recent: pd.DataFrame) -> pd.DataFrame:
    """How the median forecast did over the recent days, per lead, against persistence on the same days.

    Parameters
    ----------
    recent : DataFrame
        Output of :func:`recent_verification`.

    Returns
    -------
    DataFrame
        ``lead_day, n, rmse, rmse_persistence, bias`` (rows only where the observation and the
        issue day's observation both exist).
    """
    cols = ["lead_day", "n", "rmse", "rmse_persistence", "bias"]
    rows = []
    both = recent.dropna(subset=["observed", "persistence"]) if len(recent) else recent
    for lead, g in both.groupby("lead_day", sort=True):
        o = g["observed"].to_numpy(float)
        rows.append({"lead_day": int(lead), "n": len(g), "rmse": verify.rmse(g["aqi_p50"], o),
                     "rmse_persistence": verify.rmse(g["persistence"], o), "bias": verify.bias(g["aqi_p50"], o)})
    return pd.DataFrame(rows, columns=cols)


def _recent_forecasts(city: str, s: Settings, days: int) -> pd.DataFrame:
    """``city, issued, lead_day, valid_date, aqi_p10, aqi_p50, aqi_p90`` of the forecasts valid on the
    ``days`` days before the newest product's issue day and on that day (archive of products first,
    then the demo file).

    The assembled table is cached on the files' (path, mtime, size): the callback reads the month of
    products once, not on every call (one at a time they would cycle through the file cache).
    """
    dates = product_dates(s)
    sources = []
    for day in (d for d in dates if d > dates[0] - dt.timedelta(days=days + _PRODUCT_LEAD_DAYS)):
        path = product_path(s.output_dir, day, FORECAST_CSV)
        if not path.exists():
            path = product_path(s.output_dir, day, FORECAST_NC)
        sources.append((str(path), day.isoformat(), stamp(path)))
    demo = s.data_dir / "demo" / "recent_forecasts.csv"
    if demo.exists():
        sources.append((str(demo), "", stamp(demo)))
    return _assemble_recent(city, days, dates[0] if dates else None, tuple(sources))


@functools.lru_cache(maxsize=16)
def _assemble_recent(city: str, days: int, newest: dt.date | None, sources: tuple) -> pd.DataFrame:
    want = ["city", "issued", "lead_day", "valid_date", "aqi_p10", "aqi_p50", "aqi_p90"]
    parts = []
    for path, day, _ in sources:
        if path.endswith(".csv"):
            table = pd.read_csv(path)
            table = table[table["city"] == city]
        else:
            ds = open_cached(path)
            if city not in forecast_cities(ds):
                continue
            table = forecast_table(ds, city).assign(city=city, issued=pd.Timestamp(day))
        parts.append(table[[c for c in want if c in table.columns]])
    if not parts:
        return pd.DataFrame(columns=want)
    fc = pd.concat(parts, ignore_index=True)
    fc["issued"] = pd.to_datetime(fc["issued"]).dt.normalize()
    fc["valid_date"] = pd.to_datetime(fc["valid_date"]).dt.normalize()
    if newest is not None:  # the last `days` days and the newest issue day itself (observed when its data are in)
        end = pd.Timestamp(newest)
        fc = fc[(fc["valid_date"] >= end - pd.Timedelta(days=days)) & (fc["valid_date"] <= end)]
    return fc.drop_duplicates(["issued", "lead_day"], keep="first").reset_index(drop=True)
