"""The public air-quality forecast (空气质量预报) published at 20:00 Beijing time.

HJ 633-2026 §5.2.3 (standards notes §1.7, §9): the public forecast covers at least the next 3 days
(today excluded), is published by 20:00 each day, and gives the primary pollutant. For each day this
product states the AQI range (the forecast's 25–75 % quantiles, widened to at least
:data:`MIN_WIDTH` around the median and rounded outwards to 5: ``AQI 180–230``), the level in words
(``重度污染``, or ``中度污染至重度污染`` when the range spans two levels), the primary pollutant(s)
(the forecast's ``primary_pollutant``, e.g. ``细颗粒物（PM2.5）``) and the health advice of the
range's upper level (``emergency/data/health_advice_hj633-2026.csv``; see its header: until the 2026
wording is transcribed it keeps HJ 633-2012's).

Chinese only, full-width punctuation, the time in Beijing time with its label. The daily chain
(:func:`emergency.daily.run_daily`) writes ``public_forecast.txt``, ``.html`` and ``.json`` into the
day's product folder (:func:`write_public_forecast`); ``airwarn public-forecast`` does it for one day.
"""
from __future__ import annotations

import datetime as dt
import html
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from airwarn.core.dates import BEIJING, format_beijing
from airwarn.core.errors import InputError, UnknownNameError
from airwarn.core.products import FORECAST_NC

__all__ = ["PUBLISH_TIME", "MIN_DAYS", "MIN_WIDTH", "POLLUTANT_NAMES", "PublicDay", "PublicForecast",
           "public_forecast", "public_forecast_text", "public_forecast_html", "public_forecast_json",
           "write_public_forecast", "FILES"]

_HERE = Path(__file__).resolve().parent
#: Publication time of the day's public forecast (Beijing time).
PUBLISH_TIME = dt.time(20, 0)
#: Days ahead the public forecast covers at least (today excluded).
MIN_DAYS = 3
#: Narrowest AQI range published.
MIN_WIDTH = 20
#: Quantiles of the forecast AQI distribution that bound the published range.
RANGE_QUANTILES = (0.25, 0.75)
#: Chinese names of the primary pollutants (vocabulary name → public wording).
POLLUTANT_NAMES: dict[str, str] = {
    "pm25": "细颗粒物（PM2.5）", "pm10": "可吸入颗粒物（PM10）", "o3_8h": "臭氧（O3）", "o3_1h": "臭氧（O3）",
    "o3": "臭氧（O3）", "so2": "二氧化硫（SO2）", "no2": "二氧化氮（NO2）", "co": "一氧化碳（CO）"}
_WEEKDAYS = "一二三四五六日"
#: File names written by :func:`write_public_forecast`.
FILES = ("public_forecast.txt", "public_forecast.html", "public_forecast.json")


@dataclass(frozen=True)
class PublicDay:
    """One day of the public forecast."""

    date: dt.date
    aqi_low: int
    aqi_high: int
    aqi_median: int
    level_text: str
    colour: str
    primary: tuple[str, ...]
    primary_text: str
    health_effect: str
    advice: str

    @property
    def range_text(self) -> str:
        return f"AQI {self.aqi_low}–{self.aqi_high}"

    @property
    def date_text(self) -> str:
        return f"{self.date.month}月{self.date.day}日（星期{_WEEKDAYS[self.date.weekday()]}）"


@dataclass(frozen=True)
class PublicForecast:
    """The public forecast of one city issued on one product day."""

    city: str
    product_day: dt.date
    published_at: dt.datetime
    days: tuple[PublicDay, ...]
    issuer: str

    @property
    def published_text(self) -> str:
        return format_beijing(self.published_at)


def health_advice_2026() -> dict:
    """Health effect and advice per AQI level (1–6) from ``data/health_advice_hj633-2026.csv``."""
    from emergency.bulletin import health_advice

    return health_advice("health_advice_hj633-2026.csv")


def _level(aqi: float):
    from forecast.aqi import AQI_LEVELS, aqi_level

    return AQI_LEVELS[int(aqi_level(aqi))]


def _range(median: float, low: float, high: float) -> tuple[int, int]:
    """The published range: ``low``–``high`` widened to :data:`MIN_WIDTH` around the median, rounded
    outwards to 5, within 0–500."""
    if not np.isfinite(low) or not np.isfinite(high):
        low = high = median
    low, high = min(low, median), max(high, median)
    if high - low < MIN_WIDTH:
        pad = (MIN_WIDTH - (high - low)) / 2
        low, high = low - pad, high + pad
    lo, hi = int(math.floor(low / 5) * 5), int(math.ceil(high / 5) * 5)
    lo, hi = max(lo, 0), min(hi, 500)
    if hi - lo < MIN_WIDTH:  # clipped at an end: keep the width inside 0–500
        lo, hi = (0, MIN_WIDTH) if lo == 0 else (500 - MIN_WIDTH, 500)
    return lo, hi


def _primary_text(keys: tuple[str, ...], high: int) -> str:
    if not keys:
        return "无" if high <= 50 else "未定"
    return "、".join(dict.fromkeys(POLLUTANT_NAMES.get(k, k) for k in keys))


def _select(ds, city: str | None, date: dt.date, source: str):
    """The city's series issued on or before ``date`` (the latest such issue)."""
    if "aqi" not in ds:
        raise InputError(f"forecast {source}: no variable 'aqi'")
    if "city" in ds.dims:
        cities = [str(c) for c in ds["city"].values]
        if city is None and len(cities) == 1:
            city = cities[0]
        if city not in cities:
            raise UnknownNameError(f"forecast {source}: no city {city!r}; cities in the forecast are {cities}")
        ds = ds.sel(city=city)
    if "issued" in ds.dims:
        issued = pd.DatetimeIndex(ds["issued"].values).normalize()
        ok = np.flatnonzero(issued <= pd.Timestamp(date))
        if not ok.size:
            raise InputError(f"forecast {source}: no issue on or before {date}; issue days are "
                             f"{[d.date().isoformat() for d in issued]}")
        ds = ds.isel(issued=int(ok[np.argmax(issued[ok].values)]))
    if "lead_day" in ds.dims:
        ds = ds.sortby("lead_day")
    return ds, city


def public_forecast(forecast, city: str | None = None, date: "dt.date | str | None" = None, *,
                    days: int = MIN_DAYS, issuer: str | None = None) -> PublicForecast:
    """The public forecast for the ``days`` days after ``date`` from a forecast product.

    Parameters
    ----------
    forecast : path or xarray.Dataset
        The model's ``forecast.nc`` (dims ``city, issued, lead_day, quantile``; ``valid_date``,
        ``aqi`` and ``primary_pollutant``).
    city : str, optional
        Needed when the forecast holds several cities.
    date : date or str, optional
        Product day (default: the forecast's issue day); the forecast days are the ones after it.
    days : int
        How many days (at least :data:`MIN_DAYS`).
    issuer : str, optional
        Default ``<city>市生态环境局``.

    Raises
    ------
    ValueError
        ``days`` below 3, or the forecast does not reach that far, or a day has no AQI.
    KeyError
        Unknown city, no ``aqi`` variable.
    """
    import xarray as xr

    from emergency.forecast_input import dataset_primary

    if days < MIN_DAYS:
        raise InputError(f"public forecast: expected at least {MIN_DAYS} days ahead (HJ 633-2026 §5.2.3), got {days}")
    source = str(forecast) if not isinstance(forecast, xr.Dataset) else "<Dataset>"
    if isinstance(forecast, xr.Dataset):
        ds_all = forecast
    else:
        with xr.open_dataset(forecast) as opened:
            ds_all = opened.load()
    if date is None:
        date = pd.Timestamp(np.max(np.atleast_1d(ds_all["issued"].values))).date()
    date = dt.date.fromisoformat(str(date))
    ds, city = _select(ds_all, city, date, source)
    times = pd.DatetimeIndex(np.atleast_1d(ds["valid_date"].values)).normalize()
    aqi = ds["aqi"]
    if "quantile" in aqi.dims:
        qs = np.asarray(ds["quantile"].values, dtype=float)

        def q(level):
            return np.atleast_1d(aqi.isel(quantile=int(np.argmin(np.abs(qs - level)))).values.astype(float))

        median, low, high = q(0.5), q(RANGE_QUANTILES[0]), q(RANGE_QUANTILES[1])
    else:
        median = low = high = np.atleast_1d(aqi.values.astype(float))
    primary = dataset_primary(ds, times) or ("",) * len(times)
    advice = health_advice_2026()
    out = []
    for j, t in enumerate(times):
        if t.date() <= date:
            continue
        if len(out) == days:
            break
        if not np.isfinite(median[j]):
            raise InputError(f"forecast {source}: city {city}, valid date {t.date()}: no AQI")
        lo, hi = _range(float(median[j]), float(low[j]), float(high[j]))
        a, b = _level(lo), _level(hi)
        keys = tuple(k for k in str(primary[j] or "").split(",") if k)
        effect, adv = advice[b.level].health_effect, advice[b.level].advice
        out.append(PublicDay(t.date(), lo, hi, int(round(float(median[j]))),
                             a.category if a.level == b.level else f"{a.category}至{b.category}", b.colour, keys,
                             _primary_text(keys, hi), effect, adv))
    if len(out) < days:
        raise InputError(f"forecast {source}: city {city} reaches only {len(out)} days after {date}; the public "
                         f"forecast needs {days}")
    published = dt.datetime.combine(date, PUBLISH_TIME, tzinfo=BEIJING)
    return PublicForecast(str(city), date, published, tuple(out), issuer or f"{city}市生态环境局")


def _title(pf: PublicForecast) -> str:
    return f"{pf.city}市空气质量预报"


def _period(pf: PublicForecast) -> str:
    return f"未来{len(pf.days)}天（{pf.days[0].date}至{pf.days[-1].date}）空气质量预报如下。"


_NOTE = ("说明：空气质量指数（AQI）范围为预报的可能区间；首要污染物为空气质量指数大于50时空气质量分指数最大的"
         "污染物；健康提示按预报范围上限对应的空气质量级别给出。")


def public_forecast_text(pf: PublicForecast) -> str:
    """The public forecast as Chinese plain text."""
    out = [_title(pf), f"{pf.issuer}　发布时间：{pf.published_text}", "", _period(pf)]
    for d in pf.days:
        out += ["", f"{d.date_text}：{d.range_text}，{d.level_text}，首要污染物：{d.primary_text}。",
                f"  健康影响：{d.health_effect}", f"  健康提示：{d.advice}"]
    out += ["", _NOTE]
    return "\n".join(out) + "\n"


def public_forecast_html(pf: PublicForecast) -> str:
    """The public forecast as a printable HTML page."""
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(d.date_text)}</td><td>{e(d.range_text)}</td>"
        f"<td><span class=\"swatch\" style=\"background:{d.colour}\"></span>{e(d.level_text)}</td>"
        f"<td>{e(d.primary_text)}</td><td>{e(d.health_effect)}{e(d.advice)}</td></tr>" for d in pf.days)
    return ("<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            f"<title>{e(_title(pf))}</title><style>@page {{ size: A4; margin: 18mm; }} body {{ font-family: "
            "\"Noto Sans CJK SC\", \"Microsoft YaHei\", \"SimSun\", sans-serif; max-width: 190mm; margin: auto; }"
            " h1 { text-align: center; font-size: 20pt; } .sub { text-align: center; color: #555; }"
            " table { border-collapse: collapse; width: 100%; } td, th { border: 1px solid #999; padding: 2mm; }"
            " .swatch { display: inline-block; width: 10px; height: 10px; margin-right: 4px; }"
            f"</style></head><body><h1 id=\"public-forecast-title\">{e(_title(pf))}</h1>"
            f"<div class=\"sub\">{e(pf.issuer)}　发布时间：{e(pf.published_text)}</div>"
            f"<p>{e(_period(pf))}</p><table><tr><th>日期</th><th>空气质量指数范围</th><th>空气质量级别</th>"
            f"<th>首要污染物</th><th>健康影响与提示</th></tr>{rows}</table><p>{e(_NOTE)}</p></body></html>\n")


def public_forecast_json(pf: PublicForecast) -> dict:
    """The public forecast for machines (dates ISO 8601; the publication time with its +08:00 offset)."""
    return {"city": pf.city, "product_day": pf.product_day.isoformat(), "issuer": pf.issuer,
            "published_at": pf.published_at.isoformat(), "published_at_text": pf.published_text,
            "days": [{**{k: v for k, v in asdict(d).items() if k != "primary"}, "date": d.date.isoformat(),
                      "primary_pollutants": list(d.primary), "range_text": d.range_text} for d in pf.days]}


def write_public_forecast(folder: "str | Path", city: str, date: "dt.date | str",
                          forecast: "str | Path | None" = None, days: int = MIN_DAYS) -> list[Path]:
    """Write ``public_forecast.txt``, ``.html`` and ``.json`` (atomically) into ``folder``.

    Parameters
    ----------
    folder : path
        The day's product folder (``<output_dir>/<YYYY-MM-DD>``).
    city : str
    date : date or str
        Product day.
    forecast : path, optional
        Default ``<folder>/forecast.nc``.
    """
    from airwarn.core.files import atomic_write_text

    folder = Path(folder)
    pf = public_forecast(forecast or folder / FORECAST_NC, city, date, days=days)
    docs = (public_forecast_text(pf), public_forecast_html(pf),
            json.dumps(public_forecast_json(pf), ensure_ascii=False, indent=2) + "\n")
    paths = []
    for name, doc in zip(FILES, docs):
        atomic_write_text(folder / name, doc)
        paths.append(folder / name)
    return paths
