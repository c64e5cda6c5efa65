"""Seeded **synthetic** station daily values of a city's counties, for the ranking demo (never real data).

:func:`make_county_station_daily` writes the layout of :func:`forecast.io.county_daily.read_county_daily`
(``county,station,date,pm25,pm10,so2,no2,co,o3_8h,dust,synthetic``) for the counties of the city profile
(阳泉: 城区, 矿区, 郊区, 平定县, 盂县, 高新区; :attr:`airwarn.core.settings.Settings.counties`), one or two
stations a county. The model is small and made up, only shaped like North-China data:

* ``log pm25 = μ + level_c + S(t) + R(t) + E_s(t) − trend_c · years``: an annual cycle peaking in January
  (heating season), a regional AR(1) weather factor shared by every station (lag-1 correlation 0.6), local
  AR(1) noise, a per-county level and a per-county yearly improvement, so the counties rank differently
  and their change rates differ;
* PM10 ≈ 1.7 × PM2.5; SO2, NO2 and CO rise in winter and with the regional factor; O3 8 h has the opposite
  cycle (≈ 150 µg/m³ in June, with afternoons above 160 on some days);
* a few spring sand-dust days (``dust = True``, PM10 ×4) each year, which the ranking removes.

Values are rounded as published (µg/m³ to integers, CO to 0.1 mg/m³) and every row has ``synthetic = True``.

:func:`build_ranking_demo` writes the file and runs the ranking of the last complete month into the demo's
product day (``airwarn demo``).
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from airwarn.core.errors import InputError
from airwarn.core.vocab import YANGQUAN_COUNTIES

#: Seed of the demo's county data.
COUNTY_SEED = 2026
#: Years of history before the demo year (for the change rate and the target bootstrap).
HISTORY_YEARS = 3
#: Stations per county (synthetic codes ``Y01A`` …); 城区 has two.
STATIONS_PER_COUNTY: Mapping[str, int] = {"城区": 2}
#: Relative PM2.5 level per county (log units, made up).
COUNTY_LEVEL: Mapping[str, float] = {"城区": 0.03, "矿区": 0.08, "郊区": -0.02, "平定县": 0.12, "盂县": -0.10,
                                     "高新区": 0.10}
#: Yearly improvement per county (log units per year, made up).
COUNTY_TREND: Mapping[str, float] = {"城区": 0.06, "矿区": 0.03, "郊区": 0.05, "平定县": 0.02, "盂县": 0.07,
                                     "高新区": 0.01}
_MU = np.log(36.0)


def make_county_station_daily(counties: Sequence[str] = YANGQUAN_COUNTIES, start: "dt.date | str" = "2023-01-01",
                              end: "dt.date | str" = "2026-11-30", *, seed: int = COUNTY_SEED) -> pd.DataFrame:
    """Synthetic station daily values of ``counties`` from ``start`` to ``end`` (module notes).

    Returns
    -------
    DataFrame
        ``county, station, date`` (datetime64), ``pm25 pm10 so2 no2 co o3_8h`` [µg/m³; co mg/m³],
        ``dust``, ``synthetic`` (True), sorted by county, station, date.

    Raises
    ------
    InputError
        No county, or ``end`` before ``start``.
    """
    counties = list(counties)
    if not counties:
        raise InputError("make_county_station_daily: expected at least one county, got none")
    days = pd.date_range(pd.Timestamp(start), pd.Timestamp(end), freq="D")
    if len(days) == 0:
        raise InputError(f"make_county_station_daily: end {end} is before start {start}")
    rng = np.random.default_rng(seed)
    n = len(days)
    doy = days.day_of_year.to_numpy()
    season = 0.45 * np.cos(2 * np.pi * (doy - 15) / 365.25)  # winter high
    o3_season = np.cos(2 * np.pi * (doy - 170) / 365.25)  # June high
    regional = _ar1(rng, n, 0.6, 0.42)
    years = (days - days[0]).days.to_numpy() / 365.25
    dust = np.zeros(n, dtype=bool)
    for y in sorted(set(days.year)):
        spring = np.flatnonzero((days.year == y) & (days.month >= 3) & (days.month <= 5))
        if len(spring):
            dust[rng.choice(spring, size=min(3, len(spring)), replace=False)] = True
    frames = []
    k = 0
    for c in counties:
        for j in range(STATIONS_PER_COUNTY.get(c, 1)):
            k += 1
            local = _ar1(rng, n, 0.45, 0.25)
            level = COUNTY_LEVEL.get(c, float(rng.normal(0, 0.06)))
            trend = COUNTY_TREND.get(c, 0.04)
            pm25 = np.exp(_MU + level + season + regional + local - trend * years)
            pm10 = pm25 * np.exp(np.log(1.7) + rng.normal(0, 0.12, n))
            pm10 = np.where(dust, pm10 * 4.0, pm10)
            so2 = np.exp(np.log(18) + 0.6 * season + 0.4 * regional + rng.normal(0, 0.2, n) - trend * years)
            no2 = np.exp(np.log(30) + 0.35 * season + 0.4 * regional + rng.normal(0, 0.15, n))
            co = np.exp(np.log(0.9) + 0.5 * season + 0.4 * regional + rng.normal(0, 0.15, n))
            o3 = np.clip(100 + 55 * o3_season - 12 * regional + rng.normal(0, 18, n), 10, None)
            frames.append(pd.DataFrame({
                "county": c, "station": f"Y{k:02d}A", "date": days,
                "pm25": np.round(pm25), "pm10": np.round(pm10), "so2": np.round(so2), "no2": np.round(no2),
                "co": np.round(co, 1), "o3_8h": np.round(o3), "dust": dust, "synthetic": True}))
    return pd.concat(frames, ignore_index=True)


def _ar1(rng: np.random.Generator, n: int, phi: float, sd: float) -> np.ndarray:
    """An AR(1) series of ``n`` values with lag-1 correlation ``phi`` and standard deviation ``sd``."""
    e = rng.normal(0, sd * np.sqrt(1 - phi ** 2), n)
    out = np.empty(n)
    out[0] = rng.normal(0, sd)
    for i in range(1, n):
        out[i] = phi * out[i - 1] + e[i]
    return out


def demo_period(date: dt.date) -> str:
    """The last complete month before ``date`` (``YYYY-MM``), the demo's ranking period."""
    first = pd.Timestamp(date).replace(day=1) - pd.Timedelta(days=1)
    return f"{first.year}-{first.month:02d}"


def build_ranking_demo(settings, date: dt.date) -> str:
    """Write the synthetic county data and the ranking of the last complete month into the demo's output.

    Writes ``<data_dir>/demo/synthetic_county_daily.csv`` and, in the product day ``date``'s folder,
    ``ranking.csv``, ``ranking_tracking.json`` and ``ranking_report.html``
    (:func:`forecast.ranking_report.write_ranking_product`).

    Returns
    -------
    str
        One-line summary.
    """
    from airwarn.core.files import atomic_write_text
    from airwarn.core.products import RANKING_CSV, product_path
    from forecast.ranking_report import build_ranking_product, write_ranking_product

    counties = settings.counties or YANGQUAN_COUNTIES
    period = demo_period(date)
    end = pd.Period(period, freq="M").end_time.date()
    start = dt.date(end.year - HISTORY_YEARS, 1, 1)
    data = make_county_station_daily(counties, start, end)
    path = Path(settings.data_dir) / "demo" / "synthetic_county_daily.csv"
    atomic_write_text(path, data.assign(date=data["date"].dt.strftime("%Y-%m-%d")).to_csv(index=False))
    out = product_path(settings.output_dir, date, RANKING_CSV).parent
    product = build_ranking_product(data, period, city=settings.city, synthetic=True, source=path.name)
    write_ranking_product(product, out)
    top = product.table.iloc[0]
    return (f"synthetic county data ({len(counties)} counties) → {path}; ranking {period} → {out / RANKING_CSV} "
            f"(best {top['county']} {top['composite_index']:.2f})")
