"""Predictors of the probabilistic forecast, as pure functions (DataFrame in, DataFrame out).

A forecast issued on day ``D`` for lead ``L`` (valid on ``D + L``) sees

* the city's own history up to and including ``D``: log concentrations and AQI on
  ``D, D-1, D-2, D-3, D-6`` plus rolling means, maxima and spreads over 3, 7, 14 and 30 days
  (:func:`lag_features`);
* the same for its region: distance-weighted means of the neighbouring cities on ``D``
  and ``D-1`` (:func:`regional_features`), weights from the station list's coordinates;
* the calendar of the *valid* day: day of year (sin/cos), weekday, heating season
  (15 Nov – 15 Mar), days to/from the Spring Festival (:func:`calendar_features`);
* the city's statics: long-term means of the log pollutants, longitude and latitude
  (:func:`city_statics`);
* weather when given (:func:`met_features`): every numeric predictor column of the meteorology
  frame (:func:`met_predictors`: the UCI names of :func:`met_daily`, or any daily predictors such as
  those of :mod:`forecast.met`), on the *valid* day (``met_<v>``), on the issue day (``met0_<v>``)
  and their change (``met_d<v>``). A frame with an ``issued`` column is a forecast run: the valid
  day's weather comes from the run of the issue day (or the latest run before it), never from
  observations after the issue day. Without ``issued`` the frame is keyed by ``(city, date)``: in
  the backtest the UCI station meteorology then stands in for a perfect NWP forecast.

Nothing here reads files or trains anything; every function only looks backwards in time
from the issue day, which ``tests/forecast/test_features.py`` checks by perturbing the
future.
"""
from __future__ import annotations

import datetime as dt
from functools import lru_cache
from importlib import resources
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from airwarn.core.vocab import DAILY_POLLUTANTS
from airwarn.core.errors import InputError

#: Offsets of the log transform ``log(x + offset)`` per variable [unit of the variable].
#: 1 µg/m³ keeps clean-air days finite; CO is in mg/m³ so it gets 0.1 mg/m³.
LOG_OFFSETS: dict[str, float] = {
    "pm25": 1.0, "pm10": 1.0, "so2": 1.0, "no2": 1.0, "co": 0.1, "o3_8h": 1.0, "aqi": 1.0,
}

#: Plausible ranges; values outside are treated as missing, counted and warned
#: (:func:`clean_observations`). They are the readers' :data:`forecast.io.PLAUSIBLE_RANGES`, so that
#: nothing a reader accepted is set aside here unannounced; set aside besides: a value of exactly 0
#: (a daily mean of 0 does not happen: aqistudy fills missing values with 0) and O3 8 h above
#: 800 µg/m³, which has no HJ 633-2012 IAQI (the forecast's concentrations are capped there too). Upper bounds are generous:
#: real dust storms reach PM10 > 8,000 µg/m³. Units as in :func:`airwarn.core.units.unit_of`.
VALID_RANGES: dict[str, tuple[float, float]] = {
    "pm25": (0.0, 2000.0), "pm10": (0.0, 10000.0), "so2": (0.0, 5000.0), "no2": (0.0, 2000.0),
    "co": (0.0, 100.0), "o3_8h": (0.0, 800.0), "aqi": (0.0, 500.0),
}

#: Lags (days before the issue day) of the city's own log values.
LAGS: tuple[int, ...] = (0, 1, 2, 3, 6)
#: Rolling windows [days] ending on the issue day.
WINDOWS: tuple[int, ...] = (3, 7, 14, 30)
#: Variables that rarely set the AQI get fewer lags and windows (fewer, more useful predictors).
LIGHT_VARIABLES: tuple[str, ...] = ("so2", "no2", "co")
LIGHT_LAGS: tuple[int, ...] = (0, 1)
LIGHT_WINDOWS: tuple[int, ...] = (7, 30)
#: E-folding distance [km] of the regional weights and the largest distance used.
REGION_SCALE_KM = 250.0
REGION_MAX_KM = 600.0
#: Meteorological variables that :func:`met_daily` forms from station rows (the UCI names of
#: ``load_met``). A model takes any numeric predictor column of its frame (:func:`met_predictors`).
MET_VARIABLES: tuple[str, ...] = ("temp", "dewp", "rh", "pres", "rain", "wspm", "u", "v", "blh")
#: Columns of a meteorology frame that are keys or labels, never predictors.
MET_KEY_COLUMNS: tuple[str, ...] = ("city", "date", "issued", "valid_date", "time", "station", "lead_day",
                                    "step", "lon", "lat", "source", "member", "n_hours")
#: The same quantity under the UCI names of :func:`met_daily` and the daily predictor names of
#: :mod:`forecast.met` (t2m, d2m, psfc, precip, ws10, u10, v10): a model trained on one finds it under
#: the other (:func:`align_met`).
MET_SYNONYMS: dict[str, str] = {"temp": "t2m", "dewp": "d2m", "pres": "psfc", "rain": "precip",
                                "wspm": "ws10", "u": "u10", "v": "v10"}
#: The latest forecast run used for an issue day without its own run: at most this many days older.
MET_RUN_MAX_AGE_DAYS = 2

_COMPASS = {
    "N": 0.0, "NNE": 22.5, "NE": 45.0, "ENE": 67.5, "E": 90.0, "ESE": 112.5, "SE": 135.0,
    "SSE": 157.5, "S": 180.0, "SSW": 202.5, "SW": 225.0, "WSW": 247.5, "W": 270.0,
    "WNW": 292.5, "NW": 315.0, "NNW": 337.5,
}


def _require(df: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(f"{what}: missing column(s) {missing}; got columns {list(df.columns)}")


def clean_observations(obs: pd.DataFrame, variables: Sequence[str] | None = None) -> pd.DataFrame:
    """City daily observations on a complete daily grid, implausible values set to NaN.

    Parameters
    ----------
    obs : DataFrame
        Long table with ``city``, ``date`` and pollutant columns (the
        :func:`forecast.io.read_city_daily` schema); ``aqi`` is optional.
    variables : sequence of str, optional
        Columns to keep (default: the daily pollutants and ``aqi`` that are present).

    Returns
    -------
    DataFrame
        Columns ``city, date`` plus ``variables`` (float), one row per city and day from
        its first to its last observation (absent days filled with NaN), sorted by city
        and date, duplicate (city, date) rows averaged.
    """
    _require(obs, ["city", "date"], "observations")
    if variables is None:
        variables = [v for v in (*DAILY_POLLUTANTS, "aqi") if v in obs.columns]
    _require(obs, variables, "observations")
    df = obs[["city", "date", *variables]].copy()
    df["city"] = df["city"].astype(str)
    df["date"] = pd.to_datetime(df["date"]).dt.normalize().astype("datetime64[ns]")
    dropped: dict[str, int] = {}
    for v in variables:
        x = pd.to_numeric(df[v], errors="coerce").astype(float)
        lo, hi = VALID_RANGES.get(v, (-np.inf, np.inf))
        outside = x.notna() & ~((x > 0) & (x >= lo) & (x <= hi))
        if outside.any():
            dropped[v] = int(outside.sum())
        df[v] = x.where(~outside)
    if dropped:  # never silently: the count per variable, warned and kept in attrs["qc_dropped"]
        import warnings

        from forecast.io import ReaderWarning

        warnings.warn("observations: " + "; ".join(
            f"{n} value(s) of {v} not in (0, {VALID_RANGES[v][1]:g}] set to missing "
            f"(not used)" for v, n in dropped.items()), ReaderWarning, stacklevel=2)
    df = df.groupby(["city", "date"], sort=True, as_index=False)[list(variables)].mean()
    parts = []
    for city, g in df.groupby("city", sort=True):
        full = pd.date_range(g["date"].min(), g["date"].max(), freq="D")
        g = g.set_index("date").reindex(full)
        g.index.name = "date"
        g["city"] = city
        parts.append(g.reset_index())
    out = pd.concat(parts, ignore_index=True) if parts else df
    out = out[["city", "date", *variables]].reset_index(drop=True)
    out.attrs["qc_dropped"] = dropped
    return out


def to_log(values: pd.DataFrame | pd.Series, variable: str | None = None):
    """``log(x + offset)`` with the offset of :data:`LOG_OFFSETS` (per column for a DataFrame)."""
    if isinstance(values, pd.DataFrame):
        return pd.DataFrame({c: np.log(values[c] + LOG_OFFSETS[c]) for c in values.columns},
                            index=values.index)
    return np.log(values + LOG_OFFSETS[variable])


def from_log(values, variable: str):
    """Inverse of :func:`to_log` for one variable, clipped at zero."""
    return np.maximum(np.exp(values) - LOG_OFFSETS[variable], 0.0)


def lag_features(obs: pd.DataFrame, variables: Sequence[str] | None = None,
                 lags: Sequence[int] = LAGS, windows: Sequence[int] = WINDOWS) -> pd.DataFrame:
    """Lags and rolling statistics of each city's log values, ending on the issue day.

    Parameters
    ----------
    obs : DataFrame
        Output of :func:`clean_observations` (complete daily grid per city).
    variables : sequence of str, optional
        Variables to describe (default: every non-key column).
    lags, windows : sequences of int
        Lags in days (0 = the issue day itself) and rolling-window lengths in days.

    Returns
    -------
    DataFrame
        Indexed like ``obs`` with columns ``<var>_lag<k>``, ``<var>_mean<w>``,
        ``<var>_max<w>`` (w ≥ 7), ``<var>_std<w>`` (w = 7), ``<var>_trend`` (lag0 − mean of
        lags 1–3) and ``<var>_nvalid7``; ``city, date`` kept. Uses rows ≤ the row's date only.
        :data:`LIGHT_VARIABLES` get only :data:`LIGHT_LAGS`, the means over
        :data:`LIGHT_WINDOWS` and the trend.
    """
    _require(obs, ["city", "date"], "observations")
    if variables is None:
        variables = [c for c in obs.columns if c not in ("city", "date")]
    logs = to_log(obs[list(variables)])
    logs["city"] = obs["city"].to_numpy()
    grouped = logs.groupby("city", sort=False)
    cols: dict[str, np.ndarray | pd.Series] = {"city": obs["city"], "date": obs["date"]}
    for v in variables:
        g = grouped[v]
        light = v in LIGHT_VARIABLES
        for k in (LIGHT_LAGS if light else lags):
            cols[f"{v}_lag{k}"] = logs[v] if k == 0 else g.shift(k)
        for w in (LIGHT_WINDOWS if light else windows):
            roll = g.rolling(w, min_periods=max(1, w // 3))
            cols[f"{v}_mean{w}"] = roll.mean().reset_index(level=0, drop=True)
            if light:
                continue
            if w >= 7:
                cols[f"{v}_max{w}"] = roll.max().reset_index(level=0, drop=True)
            if w == 7:
                cols[f"{v}_std{w}"] = roll.std().reset_index(level=0, drop=True)
                cols[f"{v}_nvalid{w}"] = g.rolling(w, min_periods=1).count().reset_index(level=0, drop=True)
        recent = pd.concat([g.shift(k) for k in (1, 2, 3)], axis=1).mean(axis=1)
        cols[f"{v}_trend"] = logs[v] - recent
    return pd.DataFrame(cols, index=obs.index)


def _haversine_km(lon1, lat1, lon2, lat2) -> np.ndarray:
    lon1, lat1, lon2, lat2 = map(np.radians, (lon1, lat1, lon2, lat2))
    a = (np.sin((lat2 - lat1) / 2) ** 2
         + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2)
    return 2 * 6371.0 * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def distance_matrix_km(coords: pd.DataFrame, cities: Sequence[str]) -> pd.DataFrame:
    """Great-circle distances [km] between cities (NaN where a city has no coordinates).

    Parameters
    ----------
    coords : DataFrame
        ``city, lon, lat``.
    cities : sequence of str
        Cities (rows and columns of the result).
    """
    _require(coords, ["city", "lon", "lat"], "city coordinates")
    c = coords.drop_duplicates("city").set_index("city").reindex(list(cities))
    lon = c["lon"].to_numpy(float)
    lat = c["lat"].to_numpy(float)
    d = _haversine_km(lon[:, None], lat[:, None], lon[None, :], lat[None, :])
    return pd.DataFrame(d, index=list(cities), columns=list(cities))


def region_weights(coords: pd.DataFrame, cities: Sequence[str],
                   scale_km: float = REGION_SCALE_KM, max_km: float = REGION_MAX_KM) -> pd.DataFrame:
    """Row-normalisable weights ``exp(-d/scale)`` of the neighbours of each city (self excluded).

    Parameters
    ----------
    coords : DataFrame
        ``city, lon, lat`` (e.g. :func:`forecast.io.city_coordinates`).
    cities : sequence of str
        Cities (rows and columns of the result).
    scale_km, max_km : float
        E-folding distance and cut-off [km].

    Returns
    -------
    DataFrame
        Square matrix (cities × cities); rows of cities without coordinates are all zero,
        so their regional features come out NaN (LightGBM treats them as missing).
    """
    d = distance_matrix_km(coords, cities).to_numpy()
    w = np.exp(-d / scale_km)
    w[~np.isfinite(w) | (d > max_km)] = 0.0
    np.fill_diagonal(w, 0.0)
    return pd.DataFrame(w, index=list(cities), columns=list(cities))


def regional_features(obs: pd.DataFrame, coords: pd.DataFrame | None,
                      variables: Sequence[str] = ("pm25", "pm10", "aqi"),
                      lags: Sequence[int] = (0, 1)) -> pd.DataFrame:
    """Distance-weighted means of the neighbours' log values on the issue day and before.

    Parameters
    ----------
    obs : DataFrame
        Output of :func:`clean_observations`.
    coords : DataFrame or None
        ``city, lon, lat``; ``None`` (or cities missing from it) gives NaN features.
    variables : sequence of str
        Variables to average (those absent from ``obs`` are skipped).
    lags : sequence of int
        Days before the issue day.

    Returns
    -------
    DataFrame
        Indexed like ``obs``: ``reg_<var>_lag<k>`` and ``reg_<var>_anom`` (the city's
        lag-0 value minus the regional lag-0 value), ``reg_weight`` (sum of weights of the
        neighbours with data on the day).
    """
    variables = [v for v in variables if v in obs.columns]
    out = pd.DataFrame(index=obs.index)
    cities = sorted(obs["city"].unique())
    if coords is None or not len(coords):
        w = pd.DataFrame(0.0, index=cities, columns=cities)
    else:
        w = region_weights(coords, cities)
    wm = w.to_numpy()
    key = pd.MultiIndex.from_frame(obs[["date", "city"]])
    weight_sum = None
    all_days = pd.date_range(obs["date"].min(), obs["date"].max(), freq="D")
    for v in variables:
        wide = (to_log(obs[v], v).set_axis(key).unstack("city")
                .reindex(index=all_days, columns=cities))
        x = wide.to_numpy()
        valid = np.isfinite(x)
        num = np.where(valid, x, 0.0) @ wm.T
        den = valid.astype(float) @ wm.T
        with np.errstate(invalid="ignore", divide="ignore"):
            reg = np.where(den > 1e-6, num / den, np.nan)
        reg_df = pd.DataFrame(reg, index=all_days, columns=cities)
        reg_df.index.name = "date"
        reg_df.columns.name = "city"
        if weight_sum is None:
            weight_sum = pd.DataFrame(den, index=reg_df.index, columns=reg_df.columns)
        for k in lags:
            shifted = reg_df.shift(k) if k else reg_df  # rows are consecutive days
            out[f"reg_{v}_lag{k}"] = shifted.stack(future_stack=True).reindex(key).to_numpy()
        own = to_log(obs[v], v).to_numpy()
        out[f"reg_{v}_anom"] = own - out[f"reg_{v}_lag0"].to_numpy()
    if weight_sum is not None:
        out["reg_weight"] = weight_sum.stack(future_stack=True).reindex(key).to_numpy()
    return out


@lru_cache(maxsize=1)
def spring_festival_dates() -> pd.Series:
    """Spring Festival (春节, first day of the lunar year) dates 2010–2040, indexed by year.

    Read from the package data file ``forecast/data/spring_festival.csv``.
    """
    with resources.files("forecast").joinpath("data/spring_festival.csv").open(encoding="utf-8") as fh:
        table = pd.read_csv(fh)
    return pd.Series(pd.to_datetime(table["date"]).to_numpy(), index=table["year"].to_numpy())


def days_from_spring_festival(dates) -> np.ndarray:
    """Signed days from the nearest Spring Festival (negative before it), NaN outside 2010–2040."""
    d = pd.DatetimeIndex(pd.to_datetime(dates)).normalize()
    sf = spring_festival_dates()
    out = np.full(len(d), np.nan)
    years = d.year.to_numpy()
    best = np.full(len(d), np.inf)
    for offset in (-1, 0, 1):
        yrs = years + offset
        ok = np.isin(yrs, sf.index.to_numpy())
        ref = pd.DatetimeIndex(sf.reindex(yrs).to_numpy())
        delta = (d - ref).days.to_numpy(dtype=float)
        better = ok & (np.abs(delta) < np.abs(best))
        best = np.where(better, delta, best)
    out = np.where(np.isfinite(best), best, np.nan)
    return out


def calendar_features(dates, prefix: str = "") -> pd.DataFrame:
    """Calendar predictors of the given days.

    Parameters
    ----------
    dates : array-like of dates
    prefix : str
        Prefix of the column names (``"valid_"`` for the valid day).

    Returns
    -------
    DataFrame
        ``doy_sin, doy_cos`` (annual cycle), ``weekday`` (0 = Monday), ``heating`` (1 from
        15 Nov to 15 Mar inclusive, the northern-China heating season), ``sf_days`` (signed
        days from the Spring Festival, clipped to ±45) — each prefixed.
    """
    d = pd.DatetimeIndex(pd.to_datetime(dates))
    doy = d.day_of_year.to_numpy(dtype=float)
    md = d.month.to_numpy() * 100 + d.day.to_numpy()
    return pd.DataFrame({
        f"{prefix}doy_sin": np.sin(2 * np.pi * doy / 365.25),
        f"{prefix}doy_cos": np.cos(2 * np.pi * doy / 365.25),
        f"{prefix}weekday": d.day_of_week.to_numpy(dtype=float),
        f"{prefix}heating": ((md >= 1115) | (md <= 315)).astype(float),
        f"{prefix}sf_days": np.clip(days_from_spring_festival(d), -45, 45),
    })


def city_statics(obs: pd.DataFrame, coords: pd.DataFrame | None = None,
                 variables: Sequence[str] | None = None) -> pd.DataFrame:
    """Per-city constants: long-term mean of the log values, winter-minus-summer contrast, lon/lat.

    Parameters
    ----------
    obs : DataFrame
        Observations (training period only, to avoid leaking the test period).
    coords : DataFrame, optional
        ``city, lon, lat``; cities without coordinates get NaN.
    variables : sequence of str, optional
        Variables to summarise (default: every non-key column).

    Returns
    -------
    DataFrame
        Indexed by city: ``stat_<var>_mean``, ``stat_<var>_winter`` (mean over the heating
        season minus the overall mean), ``stat_lon``, ``stat_lat``.
    """
    if variables is None:
        variables = [c for c in obs.columns if c not in ("city", "date")]
    logs = to_log(obs[list(variables)])
    logs["city"] = obs["city"].to_numpy()
    heating = calendar_features(obs["date"])["heating"].to_numpy() > 0
    means = logs.groupby("city").mean()
    winter = logs[heating].groupby("city").mean().reindex(means.index)
    out = pd.DataFrame(index=means.index)
    for v in variables:
        out[f"stat_{v}_mean"] = means[v]
        out[f"stat_{v}_winter"] = winter[v] - means[v]
    if coords is not None and len(coords):
        c = coords.drop_duplicates("city").set_index("city")
        out["stat_lon"] = c["lon"].reindex(out.index).to_numpy(float)
        out["stat_lat"] = c["lat"].reindex(out.index).to_numpy(float)
    else:
        out["stat_lon"] = np.nan
        out["stat_lat"] = np.nan
    out.index.name = "city"
    return out


def wind_components(speed, direction) -> tuple[np.ndarray, np.ndarray]:
    """Eastward ``u`` and northward ``v`` wind [m/s] from speed and the direction it blows *from*.

    ``direction`` is in degrees (meteorological convention) or a 16-point compass string
    (``"N"``, ``"NNE"`` … as in the UCI files); unknown strings give NaN.
    """
    speed = np.asarray(speed, dtype=float)
    direction = pd.Series(np.asarray(direction, dtype=object).ravel())
    deg = pd.to_numeric(direction, errors="coerce").to_numpy(float)
    named = direction.map(lambda s: _COMPASS.get(str(s).strip().upper(), np.nan)).to_numpy(float)
    deg = np.where(np.isfinite(deg), deg, named).reshape(speed.shape)
    rad = np.radians(deg)
    return -speed * np.sin(rad), -speed * np.cos(rad)


def relative_humidity(temp, dewp) -> np.ndarray:
    """Relative humidity [%] from temperature and dew point [°C] (Magnus formula)."""
    temp = np.asarray(temp, dtype=float)
    dewp = np.asarray(dewp, dtype=float)
    a, b = 17.625, 243.04
    return 100.0 * np.exp(a * dewp / (b + dewp) - a * temp / (b + temp))


def met_daily(met: pd.DataFrame) -> pd.DataFrame:
    """Daily meteorology per city from hourly or daily rows.

    Parameters
    ----------
    met : DataFrame
        ``city`` and ``date`` (a day) or ``time`` (hourly; the day is its date) plus any of
        ``temp`` [°C], ``dewp`` [°C], ``pres`` [hPa], ``rain`` [mm], ``wspm`` [m/s], ``wd``
        (degrees or compass), ``u``, ``v`` [m/s], ``blh`` [m]; a ``station`` column, if
        present, is averaged over.

    Returns
    -------
    DataFrame
        ``city, date`` and the daily means of :data:`MET_VARIABLES` that can be formed
        (``rain`` is the daily sum; ``rh`` from temp/dewp; ``u, v`` from wspm/wd).
    """
    if "date" not in met.columns:
        _require(met, ["city", "time"], "meteorology")
        met = met.assign(date=pd.to_datetime(met["time"]).dt.normalize())
    _require(met, ["city", "date"], "meteorology")
    df = met.copy()
    df["date"] = pd.to_datetime(df["date"]).dt.normalize().astype("datetime64[ns]")
    if "wd" in df.columns and "wspm" in df.columns and "u" not in df.columns:
        df["u"], df["v"] = wind_components(df["wspm"].to_numpy(float), df["wd"].to_numpy(object))
    if "temp" in df.columns and "dewp" in df.columns and "rh" not in df.columns:
        df["rh"] = relative_humidity(df["temp"], df["dewp"])
    present = [v for v in MET_VARIABLES if v in df.columns]
    if not present:
        raise InputError(f"meteorology: none of {list(MET_VARIABLES)} (or wd/wspm) found; "
                         f"got columns {list(met.columns)}")
    for v in present:
        df[v] = pd.to_numeric(df[v], errors="coerce").astype(float)
    agg = {v: ("sum" if v == "rain" else "mean") for v in present}
    # per station first (a station's day: hourly means, the rain summed over its hours), then the mean of
    # the city's stations: summing rain over the rows of a city would add up its stations' rain
    keys = ["city", "station", "date"] if "station" in df.columns else ["city", "date"]
    by_day = df.groupby(keys, as_index=False).agg(agg)
    if "rain" in present:
        # a day whose hourly rain is all missing has unknown (not zero) rain
        counts = df.groupby(keys)["rain"].count().to_numpy()
        by_day.loc[counts == 0, "rain"] = np.nan
    if "station" in keys:
        by_day = by_day.groupby(["city", "date"], as_index=False)[present].mean()
    return by_day.sort_values(["city", "date"]).reset_index(drop=True)


def met_predictors(met: pd.DataFrame) -> list[str]:
    """The predictor columns of a meteorology frame: every numeric column but the keys.

    Parameters
    ----------
    met : DataFrame
        Daily meteorology: ``city, date`` (+ ``issued`` for a forecast run) and predictor columns.

    Returns
    -------
    list of str
        Numeric columns not in :data:`MET_KEY_COLUMNS` with at least one value, in the frame's order
        (a reader's column of a quantity its source lacks is all NaN: not a predictor).
    """
    return [c for c in met.columns if c not in MET_KEY_COLUMNS and pd.api.types.is_numeric_dtype(met[c])
            and not pd.api.types.is_datetime64_any_dtype(met[c]) and met[c].notna().any()]


def align_met(met: pd.DataFrame, variables: Sequence[str]) -> tuple[pd.DataFrame, list[str]]:
    """The frame with each of ``variables`` under its own name, taken from its synonym
    (:data:`MET_SYNONYMS`, either direction) where only that is present; and the variables still missing.

    Parameters
    ----------
    met : DataFrame
        Daily meteorology.
    variables : sequence of str
        The predictor names a model expects (its card's ``met_variables``).

    Returns
    -------
    (DataFrame, list of str)
        The aligned frame (a copy when a column was added) and the names neither present (with at
        least one value) nor available under a synonym.
    """
    reverse = {b: a for a, b in MET_SYNONYMS.items()}
    added, missing = {}, []
    has = lambda c: c in met.columns and met[c].notna().any()  # noqa: E731
    for v in variables:
        if has(v):
            continue
        other = MET_SYNONYMS.get(v) or reverse.get(v)
        if other is not None and has(other):
            added[v] = met[other]
        else:
            missing.append(v)
    return (met.assign(**added) if added else met), missing


def _met_table(met: pd.DataFrame, variables: Sequence[str]) -> pd.DataFrame:
    """The frame's ``variables`` as floats, keys normalised to days, duplicate keys averaged."""
    keys = ["city", "issued", "date"] if "issued" in met.columns else ["city", "date"]
    _require(met, keys, "meteorology")
    df = pd.DataFrame({"city": met["city"].astype(str).to_numpy()})
    for k in keys[1:]:
        df[k] = pd.to_datetime(met[k]).dt.normalize().astype("datetime64[ns]").to_numpy()
    for v in variables:
        df[v] = pd.to_numeric(met[v], errors="coerce").astype(float).to_numpy()
    return df.groupby(keys, sort=True)[list(variables)].mean()


def _latest_runs(runs: pd.DataFrame, city, issued) -> np.ndarray:
    """For each (city, issue day) the latest run issued on or before it, at most
    :data:`MET_RUN_MAX_AGE_DAYS` older (NaT where none)."""
    want = pd.DataFrame({"city": np.asarray(city, dtype=object).astype(str),
                         "issued": pd.to_datetime(np.asarray(issued)).astype("datetime64[ns]"),
                         "order": np.arange(len(city))})
    have = runs.assign(run=runs["issued"]).sort_values("issued")
    got = pd.merge_asof(want.sort_values("issued"), have, on="issued", by="city", direction="backward",
                        tolerance=pd.Timedelta(days=MET_RUN_MAX_AGE_DAYS))
    return got.sort_values("order")["run"].to_numpy("datetime64[ns]")


def met_features(keys: pd.DataFrame, met: pd.DataFrame, variables: Sequence[str]) -> pd.DataFrame:
    """Weather predictors of forecast rows: the valid day's, the issue day's and their change.

    Parameters
    ----------
    keys : DataFrame
        ``city, issued, valid_date`` of each forecast row.
    met : DataFrame
        Daily meteorology. Keyed by ``(city, date)``: the valid day's value is the frame's value on
        ``valid_date`` (observations stand in for a perfect forecast), the issue day's on ``issued``.
        With an ``issued`` column it is keyed by ``(city, issued, date)``, a forecast run per issue
        day: the valid day's value comes from the run of the forecast's issue day, or the latest run
        at most :data:`MET_RUN_MAX_AGE_DAYS` before it; the issue day's from the latest run issued on
        or before that day that covers it, or its observation (a row whose ``issued`` is empty).
        Nothing issued after the issue day is used.
    variables : sequence of str
        Predictor columns (:func:`met_predictors`); absent ones come out NaN.

    Returns
    -------
    DataFrame
        Row-aligned with ``keys`` (positional index): ``met_<v>`` (valid day), ``met0_<v>`` (issue day)
        and ``met_d<v>`` (valid minus issue day) for each of ``variables``, float32; NaN where a city
        or day has no weather.
    """
    variables = list(variables)
    present = [v for v in variables if v in met.columns]
    table = None if "issued" in met.columns else _met_table(met, present)
    city = keys["city"].astype(str).to_numpy()
    issued = pd.to_datetime(keys["issued"]).to_numpy("datetime64[ns]")
    valid = pd.to_datetime(keys["valid_date"]).to_numpy("datetime64[ns]")
    observed = None
    if "issued" in met.columns and pd.isna(met["issued"]).any():  # rows of observations beside the runs
        observed = _met_table(met[pd.isna(met["issued"])].drop(columns="issued"), present)
        met = met[pd.notna(met["issued"])]
        if not len(met):
            table, observed = observed, None
    if "issued" in met.columns and len(met):
        table = _met_table(met, present)
        flat = table.reset_index()
        run = _latest_runs(flat[["city", "issued"]].drop_duplicates(), city, issued)
        mv = table.reindex(pd.MultiIndex.from_arrays([city, run, valid])).to_numpy(float)
        known = flat[flat["issued"] <= flat["date"]].sort_values(["issued"], kind="stable")
        best = known.groupby(["city", "date"], sort=True)[present].last()  # the latest run of each day
        m0 = best.reindex(pd.MultiIndex.from_arrays([city, issued])).to_numpy(float)
        if observed is not None:  # the issue day observed, where it was
            seen = observed.reindex(pd.MultiIndex.from_arrays([city, issued])).to_numpy(float)
            m0 = np.where(np.isfinite(seen), seen, m0)
    else:
        mv = table.reindex(pd.MultiIndex.from_arrays([city, valid])).to_numpy(float)
        m0 = table.reindex(pd.MultiIndex.from_arrays([city, issued])).to_numpy(float)
    out = {}
    nan = np.full(len(keys), np.nan)
    for v in variables:
        i = present.index(v) if v in present else None
        a = mv[:, i] if i is not None else nan
        b = m0[:, i] if i is not None else nan
        out[f"met_{v}"], out[f"met0_{v}"], out[f"met_d{v}"] = a, b, a - b
    return pd.DataFrame(out, index=pd.RangeIndex(len(keys))).astype("float32")


def issue_features(obs: pd.DataFrame, coords: pd.DataFrame | None = None,
                   statics: pd.DataFrame | None = None) -> pd.DataFrame:
    """All predictors known on each issue day (city × day), before expansion over leads.

    Parameters
    ----------
    obs : DataFrame
        Output of :func:`clean_observations`.
    coords : DataFrame, optional
        City coordinates for the regional features and statics.
    statics : DataFrame, optional
        Output of :func:`city_statics` from the training period; computed from ``obs`` if
        not given (only correct when ``obs`` is the training period).

    Returns
    -------
    DataFrame
        ``city, date`` + lag, regional and static features, one row per row of ``obs``.
    """
    variables = [c for c in obs.columns if c not in ("city", "date")]
    lagged = lag_features(obs, variables)
    regional = regional_features(obs, coords)
    if statics is None:
        statics = city_statics(obs, coords, variables)
    stat = statics.reindex(obs["city"].to_numpy())
    stat.index = obs.index
    feats = pd.concat([lagged, regional, stat], axis=1)
    return feats


def expand_leads(issue: pd.DataFrame, leads: Sequence[int],
                 met: pd.DataFrame | None = None) -> pd.DataFrame:
    """Rows for every issue row × lead, with the valid day's calendar and meteorology.

    Parameters
    ----------
    issue : DataFrame
        Output of :func:`issue_features` (``city, date`` + features), possibly a subset of rows.
    leads : sequence of int
        Lead days (1 = the day after the issue day).
    met : DataFrame, optional
        Daily meteorology (:func:`met_daily`, or any frame of :func:`met_features`): its values on the
        *valid* day become ``met_<var>``, those on the issue day ``met0_<var>``, their change
        ``met_d<var>``.

    Returns
    -------
    DataFrame
        ``city, issued, lead_day, valid_date`` + features (issue features, ``lead_day``,
        ``valid_*`` calendar, ``met_*``), ordered by lead then the input row order.
    """
    parts = []
    base = issue.rename(columns={"date": "issued"})
    for lead in leads:
        part = base.copy()
        part.insert(2, "lead_day", np.int16(lead))
        part.insert(3, "valid_date", part["issued"] + pd.Timedelta(days=int(lead)))
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    cal = calendar_features(out["valid_date"], prefix="valid_")
    cal.index = out.index
    out = pd.concat([out, cal], axis=1)
    if met is not None:
        extra = met_features(out, met, met_predictors(met))
        out = pd.concat([out, extra.set_axis(out.index)], axis=1)
    return out


def feature_columns(table: pd.DataFrame) -> list[str]:
    """The predictor columns of an :func:`expand_leads` table (all but the keys)."""
    return [c for c in table.columns if c not in ("city", "issued", "valid_date", "date")]


def as_date(value) -> dt.date:
    """A ``datetime.date`` from a date, datetime, Timestamp or ISO string."""
    return pd.Timestamp(value).date()
