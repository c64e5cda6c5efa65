"""Seeded, realistic **synthetic** city daily observations for the demo (never real data).

The generator is a log-normal AR(1) model of daily PM2.5 per city,

``log pm25_c(t) = μ_c + S(t) + H(t) + R(t) + E_c(t)``

* ``μ_c``: the city's level (:data:`CITY_PM25_MEAN`, typed in from our own statistics of the
  2013-12 → 2016-01 city daily data, rounded; no data are shipped);
* ``S(t)``: an annual cycle peaking in mid-January, ``H(t)``: a step up in the heating season
  (15 Nov – 15 Mar); together they give the observed heating/non-heating median ratio of ≈ 1.6
  (96 vs 60 µg/m³ in the "2+26" and Shanxi cities);
* ``R(t)``: a **regional weather factor shared by all cities** (AR(1), lag-1 correlation 0.55),
  carrying ≈ 58 % of the daily variance, as the observed mean cross-city correlation of log
  PM2.5 anomalies (0.58) says, so neighbours co-vary; it also carries **winter episodes**
  (slow build-up over several days, abrupt clean-out by a cold front);
* ``E_c(t)``: local AR(1) noise (lag-1 correlation 0.45); the total anomaly has the observed
  standard deviation (≈ 0.56 in log units) and lag-1 autocorrelation (≈ 0.5).

The other pollutants follow PM2.5 and the season: PM10 = PM2.5 × a ratio of ≈ 1.7 (1.6 in the
heating season); SO2, NO2 and CO rise in the heating season (observed medians 30 → 76 µg/m³,
36 → 54 µg/m³, 1.3 → 2.1 mg/m³) and with the PM2.5 anomaly; O3-8h has the opposite cycle
(≈ 115 µg/m³ in the warm half-year, 50 in winter, peak in June). The AQI and category come from
the AQI engine (:func:`forecast.aqi.daily_aqi`, standard chosen by date).

**Demo scenario.** With ``episode_at_end=True`` (the default) the last five days before ``end``
show a heavy-pollution process building over the whole region, scaled so that 阳泉's AQI
reaches about 235 (heavy pollution) on ``end``; the demo's forecast then shows a process the warning engine can
act on.

Every value is synthetic and the table carries ``synthetic = True``.
"""
from __future__ import annotations

import datetime as dt
from typing import Sequence

import numpy as np
import pandas as pd

from airwarn.core.vocab import CITIES_2_26
from airwarn.core.errors import InputError, UnknownNameError

#: The 11 prefecture cities of Shanxi.
SHANXI_CITIES: tuple[str, ...] = ("太原", "大同", "阳泉", "长治", "晋城", "朔州", "晋中", "运城", "忻州",
                                  "临汾", "吕梁")
#: Cities of the demo: the "2+26" cities plus all of Shanxi (Yangquan's neighbours).
DEMO_CITIES: tuple[str, ...] = tuple(dict.fromkeys((*CITIES_2_26, *SHANXI_CITIES)))

#: Mean PM2.5 per city [µg/m³], rounded from the 2013-12-02 → 2016-01-31 city daily data (our
#: statistics); other cities get :data:`DEFAULT_PM25_MEAN`.
CITY_PM25_MEAN: dict[str, float] = {
    "北京": 81, "天津": 80, "石家庄": 111, "唐山": 93, "廊坊": 93, "保定": 121, "沧州": 81, "衡水": 108,
    "邢台": 122, "邯郸": 107, "太原": 65, "阳泉": 65, "长治": 71, "晋城": 60, "济南": 94, "淄博": 94,
    "济宁": 91, "德州": 107, "聊城": 105, "滨州": 84, "菏泽": 103, "郑州": 96, "开封": 81, "安阳": 93,
    "鹤壁": 73, "新乡": 99, "焦作": 84, "濮阳": 84, "大同": 42, "朔州": 53, "晋中": 59, "运城": 71,
    "忻州": 58, "临汾": 64, "吕梁": 48,
}
DEFAULT_PM25_MEAN = 70.0

#: Standard deviation of the daily log-PM2.5 anomaly and the share carried by the region.
ANOMALY_SD = 0.56
REGIONAL_SHARE = 0.58
#: Lag-1 autocorrelations of the regional and local AR(1) parts.
REGIONAL_PHI = 0.55
LOCAL_PHI = 0.45
#: Annual cycle amplitude (log units, peak mid-January) and heating-season step (log units).
SEASON_AMPLITUDE = 0.18
HEATING_STEP = 0.15
#: Winter episodes: daily start probability in the heating season, length range [days] and peak (log).
EPISODE_START_P = 0.05
EPISODE_DAYS = (3, 7)
EPISODE_PEAK = (0.5, 1.0)
#: Demo scenario: days of the final build-up and Yangquan's target AQI on the last day.
FINAL_EPISODE_DAYS = 5
FINAL_TARGET_PM25 = 185.0  # µg/m³ → IAQI 235, 重度污染 (PM2.5 150 → 200 and 250 → 300 in both HJ 633 versions)
FINAL_START_PM25 = 62.0  # µg/m³ on the day before the build-up (AQI ≈ 85-90, 良)


def _heating(dates: pd.DatetimeIndex) -> np.ndarray:
    md = dates.month.to_numpy() * 100 + dates.day.to_numpy()
    return ((md >= 1115) | (md <= 315)).astype(float)


def _ar1(rng: np.random.Generator, n: int, phi: float, sd: float) -> np.ndarray:
    innov = rng.standard_normal(n) * sd * np.sqrt(1 - phi ** 2)
    x = np.empty(n)
    x[0] = rng.standard_normal() * sd
    for t in range(1, n):
        x[t] = phi * x[t - 1] + innov[t]
    return x


def _episodes(rng: np.random.Generator, heating: np.ndarray) -> np.ndarray:
    """Additive log-PM2.5 of winter episodes: linear build-up, one-day clean-out."""
    n = len(heating)
    out = np.zeros(n)
    t = 0
    while t < n:
        if heating[t] and rng.random() < EPISODE_START_P:
            length = int(rng.integers(EPISODE_DAYS[0], EPISODE_DAYS[1] + 1))
            peak = rng.uniform(*EPISODE_PEAK)
            ramp = peak * np.arange(1, length + 1) / length
            end = min(n, t + length)
            out[t:end] = np.maximum(out[t:end], ramp[: end - t])
            t = end + 2
        else:
            t += 1
    return out


def make_city_daily(cities: Sequence[str] = DEMO_CITIES, start="2025-10-24", end="2026-11-28",
                    seed: int = 2026, *, episode_at_end: bool = True,
                    focus_city: str = "阳泉") -> pd.DataFrame:
    """Synthetic city daily observations in the :func:`forecast.io.read_city_daily` schema.

    Parameters
    ----------
    cities : sequence of str
        City names (Chinese); levels from :data:`CITY_PM25_MEAN`.
    start, end : date-like
        First and last day (inclusive).
    seed : int
        Seed; the same arguments give the same table.
    episode_at_end : bool
        Add the demo scenario: a regional episode building over the last
        :data:`FINAL_EPISODE_DAYS` days so that ``focus_city``'s AQI reaches about 235 on ``end``.
    focus_city : str
        City whose AQI the final episode is scaled to (must be in ``cities``).

    Returns
    -------
    DataFrame
        ``city, date, aqi, quality_level, pm25, pm10, so2, no2, co, o3_8h, synthetic`` (µg/m³,
        CO mg/m³), sorted by city and date; ``synthetic`` is True on every row.

    Raises
    ------
    ValueError
        If ``end`` is before ``start`` or ``cities`` is empty.
    KeyError
        If ``episode_at_end`` and ``focus_city`` is not among ``cities``.
    """
    from forecast.aqi import daily_aqi

    cities = list(dict.fromkeys(cities))
    if not cities:
        raise InputError("make_city_daily: cities is empty")
    start, end = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    if end < start:
        raise InputError(f"make_city_daily: end {end.date()} is before start {start.date()}")
    if episode_at_end and focus_city not in cities:
        raise UnknownNameError(f"make_city_daily: focus city {focus_city!r} is not among the cities {cities}")
    dates = pd.date_range(start, end, freq="D")
    n = len(dates)
    rng = np.random.default_rng(seed)
    doy = dates.day_of_year.to_numpy(dtype=float)
    heating = _heating(dates)
    season = SEASON_AMPLITUDE * np.cos(2 * np.pi * (doy - 15) / 365.25) + HEATING_STEP * (heating - 0.4)
    o3_season = 0.55 * np.cos(2 * np.pi * (doy - 172) / 365.25)
    regional = _ar1(rng, n, REGIONAL_PHI, ANOMALY_SD * np.sqrt(REGIONAL_SHARE)) + _episodes(rng, heating)
    local_sd = ANOMALY_SD * np.sqrt(1 - REGIONAL_SHARE)
    logs = {}
    for city in cities:
        crng = np.random.default_rng([seed, *city.encode("utf-8")])
        mu = np.log(CITY_PM25_MEAN.get(city, DEFAULT_PM25_MEAN)) - ANOMALY_SD ** 2 / 2
        sensitivity = crng.uniform(0.85, 1.15)
        logs[city] = (mu + season + sensitivity * regional + _ar1(crng, n, LOCAL_PHI, local_sd), crng)
    if episode_at_end and n > FINAL_EPISODE_DAYS + 1:
        # the last days: a steady regional build-up from the day before it starts (t0) to the
        # focus city's target, with little local noise, so the process is plain to see
        k = FINAL_EPISODE_DAYS
        t0 = n - k - 1
        ramp = np.arange(0, k + 1) / k
        focus_start = np.log(FINAL_START_PM25)
        rise = np.log(FINAL_TARGET_PM25) - focus_start
        focus_mean = CITY_PM25_MEAN.get(focus_city, DEFAULT_PM25_MEAN)
        for city in cities:
            x, crng = logs[city]
            x = x.copy()
            rel = np.log(CITY_PM25_MEAN.get(city, DEFAULT_PM25_MEAN) / focus_mean)
            gain = 1.0 if city == focus_city else crng.uniform(0.8, 1.2)
            noise = 0.06 * crng.standard_normal(k + 1)
            if city == focus_city:
                noise[:] = 0.0
            x[t0:] = focus_start + rel + gain * rise * ramp + noise
            logs[city] = (x, crng)
    frames = []
    for city in cities:
        x, crng = logs[city]
        pm25 = np.exp(x)
        anomaly = x - (np.log(CITY_PM25_MEAN.get(city, DEFAULT_PM25_MEAN)) + season)
        level = np.sqrt(CITY_PM25_MEAN.get(city, DEFAULT_PM25_MEAN) / 85.0)
        ratio = 1.7 * np.exp(-0.07 * heating + 0.15 * crng.standard_normal(n))
        frames.append(pd.DataFrame({
            "city": city,
            "date": dates,
            "pm25": np.round(np.clip(pm25, 3, 900), 1),
            "pm10": np.round(np.clip(pm25 * ratio, 5, 1500), 1),
            "so2": np.round(np.clip(30 * level * np.exp(0.92 * heating + 0.4 * anomaly
                                                        + 0.25 * crng.standard_normal(n)), 2, 800), 1),
            "no2": np.round(np.clip(36 * level * np.exp(0.4 * heating + 0.45 * anomaly
                                                        + 0.2 * crng.standard_normal(n)), 5, 300), 1),
            "co": np.round(np.clip(1.27 * level * np.exp(0.5 * heating + 0.5 * anomaly
                                                         + 0.2 * crng.standard_normal(n)), 0.2, 12), 3),
            "o3_8h": np.round(np.clip(80 * np.exp(o3_season - 0.2 * anomaly
                                                  + 0.2 * crng.standard_normal(n)), 5, 350), 0),
        }))
    df = pd.concat(frames, ignore_index=True)
    rep = daily_aqi(df, standard="auto", above="ignore")
    df.insert(2, "aqi", rep["aqi"].to_numpy())
    df.insert(3, "quality_level", rep["category"].to_numpy())
    df["synthetic"] = True
    return df.sort_values(["city", "date"], kind="stable").reset_index(drop=True)


def demo_span(date: dt.date, days: int = 400) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last day of the demo observations: ``days`` days up to ``date``."""
    end = pd.Timestamp(date).normalize()
    return end - pd.Timedelta(days=days), end
