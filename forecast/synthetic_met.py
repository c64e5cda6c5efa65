"""Seeded **synthetic** daily meteorology per city for the demo, consistent with the synthetic pollution.

Never real data: every row carries ``synthetic = True``. :func:`make_met_daily` gives one row per city
and day of synthetic observations (:func:`forecast.synthetic.make_city_daily`) in the tidy daily layout
of :mod:`forecast.io.met_csv` (``city, date, t2m, d2m, rh, u10, v10, ws10, psfc, precip, blh, t850, t925,
tcc``; °C, %, m/s, hPa, mm, m, 0–1), so that the demo's weather add-on
(:mod:`forecast.weather_addon`) learns a history in which the weather explains the pollution.

How the weather is made
-----------------------
The synthetic pollution is driven by a regional factor shared by all cities. Its estimate is the
day's **regional anomaly** of log PM2.5: the mean over cities of log PM2.5 minus each city's level and
season (the annual cycle and heating-season step of :mod:`forecast.synthetic`), standardised to
``z``. A city's **stagnation** of the day is ``q = sigmoid(1.6 (z + ε))`` with seeded AR(1) noise
``ε`` (part regional, part local): ``q → 1`` on a polluted day, ``q → 0`` on a clean one. The fields
go from the clean to the stagnant regime with ``q`` and follow the season ``s`` (0 in mid-January, 1
in mid-July), with seeded noise:

=========  ================================================  ============================================
field      stagnant (``q`` = 1), winter                      clean (``q`` = 0), winter
=========  ================================================  ============================================
blh        ≈ 300 m (daily mean)                              ≈ 1000 m (deeper in summer)
ws10       ≈ 1 m/s from the south-south-west                 ≈ 8.5 m/s from the north-west
t2m        the seasonal level + 4 °C (warm advection)        the seasonal level − 4 °C (cold air)
t850−t2m   ≈ +2 … +7 °C (inversion; more on the plateau)     ≈ −4 … +1 °C
d2m        2 m temperature − 3 °C (humid)                    2 m temperature − 12.5 °C (dry)
precip     almost never                                      now and then; a cold front's day more often
=========  ================================================  ============================================

These are the magnitudes of the regimes of :func:`forecast.synthetic_nwp.synthetic_run` (the stagnant
spell and the air after its cold front), and the city's position enters the same way (the Shanxi
plateau west of ~114 °E is colder and has a lower surface pressure; the south is warmer), so the
predictors of the demo's GRIB2 run fall inside the range of this history. The seasonal 2 m
temperature follows North China (≈ −3 °C in January, ≈ 27 °C in July on the plain).

The same observations and seed give the same table (every draw comes from generators seeded by the
seed, and by the city's name for its own noise).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from airwarn.core.errors import InputError

#: Seed of the demo's synthetic meteorology.
SYNTHETIC_MET_SEED = 2026
#: Columns of the table, in order (the tidy met CSV layout of :mod:`forecast.io.met_csv`, daily rows).
MET_COLUMNS: tuple[str, ...] = ("city", "date", "t2m", "d2m", "rh", "u10", "v10", "ws10", "psfc", "precip",
                                "blh", "t850", "t925", "tcc", "synthetic")
#: Gain of the stagnation on the standardised regional anomaly, and the noise's sd (z units).
STAGNATION_GAIN = 1.6
STAGNATION_NOISE_SD = 0.6
#: Share of the stagnation noise that is regional (all cities alike).
REGIONAL_NOISE_SHARE = 0.6
#: Annual mean [°C] and amplitude [°C] of the plain's 2 m temperature (warmest day of year 200).
T2M_MEAN, T2M_AMPLITUDE = 12.0, 15.0
#: Longitude of the edge of the Shanxi plateau and its width [°] (as in forecast.synthetic_nwp).
PLATEAU_LON, PLATEAU_WIDTH = 113.8, 0.4
#: Where a city without coordinates is placed (the middle of the region, on the plain).
DEFAULT_LON, DEFAULT_LAT = 116.0, 37.5


def _season_log(dates: pd.DatetimeIndex) -> np.ndarray:
    """The seasonal part of log PM2.5 of :func:`forecast.synthetic.make_city_daily`: S(t) + H(t)."""
    from forecast.synthetic import HEATING_STEP, SEASON_AMPLITUDE, _heating

    doy = dates.day_of_year.to_numpy(dtype=float)
    return SEASON_AMPLITUDE * np.cos(2 * np.pi * (doy - 15) / 365.25) + HEATING_STEP * (_heating(dates) - 0.4)


def regional_anomaly(obs: pd.DataFrame) -> pd.Series:
    """The standardised regional anomaly ``z`` of log PM2.5 per day (module doc).

    Parameters
    ----------
    obs : DataFrame
        ``city, date, pm25`` (synthetic observations).

    Returns
    -------
    Series
        ``z`` indexed by day (mean 0, sd 1 over the days; 0 on a day without PM2.5).
    """
    missing = [c for c in ("city", "date", "pm25") if c not in obs.columns]
    if missing:
        raise InputError(f"make_met_daily: observations lack the column(s) {missing}; got {list(obs.columns)}")
    df = pd.DataFrame({"city": obs["city"].astype(str), "date": pd.to_datetime(obs["date"]).dt.normalize(),
                       "pm25": pd.to_numeric(obs["pm25"], errors="coerce")})
    df = df[df["pm25"] > 0]
    if df.empty:
        raise InputError("make_met_daily: observations hold no positive pm25 value")
    dates = pd.DatetimeIndex(df["date"])
    df["x"] = np.log(df["pm25"].to_numpy()) - _season_log(dates)
    df["x"] -= df.groupby("city")["x"].transform("mean")  # each city's level
    regional = df.groupby("date")["x"].mean()
    sd = float(regional.std()) if len(regional) > 1 else 0.0
    return (regional - regional.mean()) / sd if sd > 0 else regional * 0.0


def _ar1(rng: np.random.Generator, n: int, phi: float = 0.5) -> np.ndarray:
    """Unit-variance AR(1) noise."""
    e = rng.standard_normal(n)
    x = np.empty(n)
    x[0] = e[0]
    for t in range(1, n):
        x[t] = phi * x[t - 1] + np.sqrt(1 - phi ** 2) * e[t]
    return x


def _position(coords: pd.DataFrame | None, city: str) -> tuple[float, float]:
    """The city's plateau share (0 plain … 1 plateau) and southness (0 north … 1 south) on the grid of
    :mod:`forecast.synthetic_nwp`."""
    from forecast.synthetic_nwp import GRID_LAT

    lon, lat = DEFAULT_LON, DEFAULT_LAT
    if coords is not None and len(coords):
        row = coords[coords["city"].astype(str) == city].dropna(subset=["lon", "lat"])
        if len(row):
            lon, lat = float(row["lon"].iloc[0]), float(row["lat"].iloc[0])
    plateau = 1.0 / (1.0 + np.exp((lon - PLATEAU_LON) / PLATEAU_WIDTH))
    south = float(np.clip((GRID_LAT[-1] - lat) / (GRID_LAT[-1] - GRID_LAT[0]), 0.0, 1.0))
    return float(plateau), south


def _city_weather(z: np.ndarray, shared: np.ndarray, dates: pd.DatetimeIndex, plateau: float, south: float,
                  rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The fields of one city (module doc) from the regional anomaly ``z`` and the regional noise."""
    n = len(z)
    doy = dates.day_of_year.to_numpy(dtype=float)
    cycle = np.cos(2 * np.pi * (doy - 200) / 365.25)
    summer = 0.5 * (1 + cycle)
    local = _ar1(rng, n)
    eps = STAGNATION_NOISE_SD * (np.sqrt(REGIONAL_NOISE_SHARE) * shared
                                 + np.sqrt(1 - REGIONAL_NOISE_SHARE) * local)
    q = 1.0 / (1.0 + np.exp(-STAGNATION_GAIN * (z + eps)))
    noise = {k: _ar1(rng, n, 0.6) for k in ("t", "b", "w", "d", "i", "p", "c")}
    t2m = (T2M_MEAN + T2M_AMPLITUDE * cycle + 6.0 * (south - 0.5) - 5.0 * plateau
           + 8.0 * (q - 0.5) * (1 - 0.6 * summer) + 1.5 * noise["t"])
    blh = np.clip(1000.0 - 720.0 * q + 350.0 * summer + 60.0 * noise["b"], 80.0, None)
    ws10 = np.clip((8.4 - 7.6 * q) * (1 - 0.25 * summer) + 0.6 * noise["w"], 0.3, None)
    blowing_from = np.radians(200.0 + 115.0 * (1 - q) + 20.0 * noise["w"][::-1])
    u10, v10 = -ws10 * np.sin(blowing_from), -ws10 * np.cos(blowing_from)
    inversion = (4.0 - 3.0 * south + 5.0 * plateau) - 6.0 * (1 - q) - 4.0 * summer + 1.0 * noise["i"]
    t850 = t2m + inversion
    t925 = 0.5 * (t2m + t850) + 1.0 * q
    depression = np.clip(3.0 + 9.5 * (1 - q) * (1 - 0.5 * summer) + 2.0 * summer + 0.8 * noise["d"], 0.2, None)
    d2m = t2m - depression
    psfc = (1019.0 - 110.0 * plateau + 8.0 * np.cos(2 * np.pi * (doy - 15) / 365.25) + 6.0 * (1 - q) - 4.0 * q
            + 1.5 * noise["p"])
    front = np.r_[False, np.diff(z) < -1.0]  # the day a cold front clears the region
    p_rain = np.clip((0.08 + 0.3 * summer) * (1 - 0.85 * q) + 0.35 * front, 0.0, 0.9)
    rainy = rng.random(n) < p_rain
    precip = np.where(rainy, rng.exponential(2.0 + 6.0 * summer), 0.0)
    tcc = np.clip(0.15 + 0.4 * q + 0.2 * summer + 0.3 * rainy + 0.1 * noise["c"], 0.0, 1.0)
    a, b = 17.625, 243.04  # Magnus, as forecast.met
    rh = np.clip(100.0 * np.exp(a * d2m / (b + d2m) - a * t2m / (b + t2m)), 0.0, 100.0)
    return {"t2m": t2m, "d2m": d2m, "rh": rh, "u10": u10, "v10": v10, "ws10": np.hypot(u10, v10), "psfc": psfc,
            "precip": precip, "blh": blh, "t850": t850, "t925": t925, "tcc": tcc}


_DECIMALS = {"t2m": 2, "d2m": 2, "rh": 1, "u10": 2, "v10": 2, "ws10": 2, "psfc": 1, "precip": 1, "blh": 0,
             "t850": 2, "t925": 2, "tcc": 3}


def make_met_daily(obs: pd.DataFrame, seed: int = SYNTHETIC_MET_SEED, *, coords: pd.DataFrame | None = None,
                   cities: Sequence[str] | None = None) -> pd.DataFrame:
    """Synthetic daily meteorology for the cities and days of synthetic observations (module doc).

    Parameters
    ----------
    obs : DataFrame
        Synthetic observations (``city, date, pm25``; :func:`forecast.synthetic.make_city_daily`).
    seed : int
        Seed; the same observations and seed give the same table.
    coords : DataFrame, optional
        ``city, lon, lat``: the cities' positions (plateau, south); a city without them sits in the
        middle of the region, on the plain.
    cities : sequence of str, optional
        Cities to give weather (default: every city of ``obs``); the regional anomaly is always that
        of all the cities of ``obs``.

    Returns
    -------
    DataFrame
        :data:`MET_COLUMNS`: one row per city and day of ``obs``, sorted by city and date, ``date`` as
        ``datetime64``; ``synthetic`` is True on every row.

    Raises
    ------
    InputError
        If ``obs`` lacks ``city``, ``date`` or ``pm25`` or holds no PM2.5, or a city of ``cities`` is
        not in it.
    """
    z = regional_anomaly(obs)
    all_cities = sorted(obs["city"].astype(str).unique())
    wanted = list(dict.fromkeys(str(c) for c in cities)) if cities is not None else all_cities
    unknown = [c for c in wanted if c not in all_cities]
    if unknown:
        raise InputError(f"make_met_daily: no observations of {unknown}; cities in them: {all_cities[:20]}")
    dates = pd.date_range(z.index.min(), z.index.max(), freq="D")
    zz = z.reindex(dates).fillna(0.0).to_numpy()
    shared = _ar1(np.random.default_rng([seed, 0]), len(dates))
    frames = []
    for city in sorted(wanted):
        plateau, south = _position(coords, city)
        rng = np.random.default_rng([seed, *city.encode("utf-8")])
        fields = _city_weather(zz, shared, dates, plateau, south, rng)
        frames.append(pd.DataFrame({"city": city, "date": dates,
                                    **{k: np.round(v, _DECIMALS[k]) for k, v in fields.items()}}))
    out = pd.concat(frames, ignore_index=True)
    days = obs.assign(city=obs["city"].astype(str), date=pd.to_datetime(obs["date"]).dt.normalize())
    out = out.merge(days[["city", "date"]].drop_duplicates(), on=["city", "date"], how="inner")
    out["synthetic"] = True
    return out[list(MET_COLUMNS)].sort_values(["city", "date"], kind="stable").reset_index(drop=True)


def met_csv_text(met: pd.DataFrame) -> str:
    """The table as tidy met CSV text (:mod:`forecast.io.met_csv`; dates ``YYYY-MM-DD``)."""
    return met.assign(date=pd.to_datetime(met["date"]).dt.strftime("%Y-%m-%d")).to_csv(index=False)
