"""Weather from any supported source to one frame of daily predictors per city (Beijing-time days).

:func:`read_met` reads the files of ``--met`` by what they are (:func:`source_kind`):

================================  ==========================================  ===========================
source                            read by                                     rows before the daily step
================================  ==========================================  ===========================
GRIB2 runs (ECMWF, GFS, GRAPES)   :func:`forecast.io.grib.open_grib`, by run  bilinear at cities, steps
netCDF grids (reanalysis, NWP)    :func:`forecast.nwp.open_nwp`               bilinear at cities, times
tidy station/city CSV             :func:`forecast.io.met_csv.read_met_csv`    the file's hours or days
UCI ``PRSA_Data_*`` files         :func:`forecast.io.read_prsa_multisite`     station hours, and 北京
================================  ==========================================  ===========================

and turns the rows into daily predictors with **one** function, :func:`daily_predictors`, so that
the same values from a GRIB2 file and from a tidy CSV give the same predictors.

Row level (each time of each city): missing ``ws10`` from ``u10, v10``; missing ``u10, v10`` from
``ws10, wd10`` (the direction the wind blows from); ``rh`` from ``t2m, d2m`` (Magnus formula,
Alduchov & Eskridge 1996 constants, as :func:`forecast.features.relative_humidity`); the
ventilation ``blh × ws10`` [m² s⁻¹]; the inversion proxies
``t850 − t2m`` and ``t925 − t2m`` [°C]. Station rows are averaged to the city per time.

Day level (:data:`DAILY_PREDICTORS`; a Beijing-time day, times converted from UTC for gridded
sources): daily means; ``t2m_min``/``t2m_max``; ``precip`` the daily sum (an amount stamped at the
end of its interval, as precipitation "of the hour ending at ``time``" and a GRIB step's amount are,
counts on the day the interval ends in, 00:00 counting for the day before); and the stagnation index
(:func:`stagnation_index`). A day whose times cover less than :data:`MIN_DAY_COVERAGE` of it (the
last day of a run, a station's gap) is left out. A quantity whose inputs are absent is NaN, never an
error: the model forecasts such cities without it.

The result is keyed ``(city, date)``, or ``(city, issued, date)`` for forecast runs (``issued`` is
the Beijing date of the run), with the numeric columns of :data:`DAILY_PREDICTORS` only.
"""
from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from airwarn.core.dates import BEIJING
from airwarn.core.errors import InputError

__all__ = [
    "ASI_PRECIP_MM",
    "ASI_WIND_10M",
    "ASI_WIND_500",
    "DAILY_PREDICTORS",
    "MET_FIELDS",
    "MIN_DAY_COVERAGE",
    "daily_predictors",
    "grid_rows",
    "read_met",
    "source_kind",
    "stagnation_index",
]

#: Row-level fields every source is mapped to (names and units of :mod:`forecast.io.met_csv`).
MET_FIELDS: tuple[str, ...] = ("t2m", "d2m", "rh", "u10", "v10", "ws10", "wd10", "psfc", "precip", "blh",
                               "t850", "t925", "tcc")

#: The daily predictors, in the order of the frame: daily means of the fields, ``t2m`` min and max,
#: the precipitation sum, the inversion proxies, the ventilation and the stagnation index.
DAILY_PREDICTORS: tuple[str, ...] = (
    "t2m", "t2m_min", "t2m_max", "d2m", "rh", "u10", "v10", "ws10", "psfc", "precip", "blh", "t850",
    "t925", "tcc", "inversion_850", "inversion_925", "ventilation", "stagnation",
)
_MEANS = ("t2m", "d2m", "rh", "u10", "v10", "ws10", "psfc", "blh", "t850", "t925", "tcc",
          "inversion_850", "inversion_925", "ventilation")

#: A day is kept when its times cover at least this share of it (times × their spacing / 24 h).
MIN_DAY_COVERAGE = 0.75

#: Air Stagnation Index thresholds (Horton et al. 2012, after Wang & Angell 1999): daily-mean 10 m
#: wind [m/s], daily-mean 500 hPa wind [m/s] (not applied, see :func:`stagnation_index`), daily
#: precipitation [mm].
ASI_WIND_10M = 3.2
ASI_WIND_500 = 13.0
ASI_PRECIP_MM = 1.0

#: netCDF grid names (after :func:`forecast.nwp.open_nwp`) → row fields; pressure-level fields by level.
_NETCDF_NAMES = {"t2m": "t2m", "d2m": "d2m", "u10": "u10", "v10": "v10", "sp": "psfc", "tp": "precip",
                 "blh": "blh", "tcc": "tcc", "rh": "rh", "r2": "rh", "si10": "ws10"}
_NETCDF_LEVELS = {("t", 850): "t850", ("t", 925): "t925"}


# ---------------------------------------------------------------------------------------------------
# the daily step


def _wind_from(speed, direction) -> tuple[np.ndarray, np.ndarray]:
    """``u, v`` [m/s] from speed and the direction the wind blows from (degrees or 16-point compass)."""
    from forecast.io.prsa import COMPASS_16

    compass = {name: 22.5 * k for k, name in enumerate(COMPASS_16)}
    direction = pd.Series(np.asarray(direction, dtype=object))
    deg = pd.to_numeric(direction, errors="coerce").to_numpy(float)
    named = direction.map(lambda s: compass.get(str(s).strip().upper(), np.nan)).to_numpy(float)
    rad = np.radians(np.where(np.isfinite(deg), deg, named))
    speed = np.asarray(speed, dtype=float)
    return -speed * np.sin(rad), -speed * np.cos(rad)


def _rh(t2m, d2m) -> np.ndarray:
    """Relative humidity [%] from temperature and dew point [°C] (Magnus, 17.625 / 243.04 °C)."""
    a, b = 17.625, 243.04
    t2m, d2m = np.asarray(t2m, dtype=float), np.asarray(d2m, dtype=float)
    return 100.0 * np.exp(a * d2m / (b + d2m) - a * t2m / (b + t2m))


def _fill(df: pd.DataFrame, name: str, values) -> None:
    """Set ``df[name]`` where it is missing (or absent) from ``values``."""
    values = pd.Series(np.asarray(values, dtype=float), index=df.index)
    df[name] = df[name].astype(float).fillna(values) if name in df.columns else values


def _row_quantities(rows: pd.DataFrame) -> pd.DataFrame:
    """The derived row-level quantities (see the module doc); inputs that are absent give nothing."""
    df = rows.copy()
    has = set(df.columns)
    if {"ws10", "wd10"} <= has:
        u, v = _wind_from(df["ws10"], df["wd10"])
        _fill(df, "u10", u)
        _fill(df, "v10", v)
    if {"u10", "v10"} <= set(df.columns):
        _fill(df, "ws10", np.hypot(df["u10"].astype(float), df["v10"].astype(float)))
    if {"t2m", "d2m"} <= has:
        _fill(df, "rh", _rh(df["t2m"], df["d2m"]))
    if {"blh", "ws10"} <= set(df.columns):
        df["ventilation"] = df["blh"].astype(float) * df["ws10"].astype(float)
    for level in (850, 925):
        if {f"t{level}", "t2m"} <= has:
            df[f"inversion_{level}"] = df[f"t{level}"].astype(float) - df["t2m"].astype(float)
    return df.drop(columns=[c for c in ("wd10",) if c in df.columns])


def stagnation_index(ws10, precip) -> np.ndarray:
    """Air Stagnation Index of a day, surface criteria: 1 when stagnant, 0 when not, NaN when unknown.

    Horton, D. E., Harshvardhan & Diffenbaugh, N. S. (2012): *Response of air stagnation frequency to
    anthropogenically enhanced radiative forcing*, Environ. Res. Lett. 7, 044034 (after Wang, J. X. L.
    & Angell, J. K., 1999, *Air stagnation climatology for the United States*, NOAA/ARL Atlas 1): a day
    is stagnant when its mean 10 m wind is below :data:`ASI_WIND_10M` (3.2 m/s), its mean 500 hPa
    wind below :data:`ASI_WIND_500` (13 m/s) and its precipitation below :data:`ASI_PRECIP_MM` (1 mm).

    Adaptation: the 500 hPa criterion is left out. Over China the upper air is decoupled from the
    boundary layer and the 500 hPa wind is only weakly linked to near-surface pollution (Huang, Q.,
    Cai, X., Wang, J., Song, Y. & Zhu, T., 2018, *Climatological study of the Boundary-layer air
    Stagnation Index for China and its relationship with air pollution*, Atmos. Chem. Phys. 18,
    7573–7593, who find the original index unsuited to China for this reason); the winter westerlies
    at 500 hPa over North China are usually stronger than 13 m/s, so the full index would seldom flag
    a stagnant haze day. Station CSVs carry no 500 hPa wind either, so the index
    is the same from every source. The boundary layer enters through :func:`daily_predictors`'
    ``ventilation`` instead. Daily-mean 10 m wind is the mean of the hourly (or step) speeds.

    Parameters
    ----------
    ws10, precip : array-like
        Daily-mean 10 m wind speed [m/s] and daily precipitation [mm].
    """
    ws10 = np.asarray(ws10, dtype=float)
    precip = np.asarray(precip, dtype=float)
    stagnant = (ws10 < ASI_WIND_10M) & (precip < ASI_PRECIP_MM)
    return np.where(np.isfinite(ws10) & np.isfinite(precip), stagnant.astype(float), np.nan)


def daily_predictors(rows: pd.DataFrame, *, min_coverage: float = MIN_DAY_COVERAGE) -> pd.DataFrame:
    """Daily predictors per city (and run) from hourly, step or daily rows: the one daily step.

    Parameters
    ----------
    rows : DataFrame
        ``city`` and ``time`` (naive Beijing time) or ``date`` (a Beijing day), optionally
        ``issued`` (the run's Beijing date) and ``station`` (averaged over per time), plus any of
        :data:`MET_FIELDS` (units of :mod:`forecast.io.met_csv`).
    min_coverage : float
        Share of a day its times must cover (rows with ``time`` only).

    Returns
    -------
    DataFrame
        ``city``, ``issued`` (if given), ``date`` (``datetime64[ns]``) and every column of
        :data:`DAILY_PREDICTORS` (NaN where its inputs are absent), sorted by the keys.
    """
    if "city" not in rows.columns or not ({"time", "date"} & set(rows.columns)):
        raise InputError(f"meteorology rows need 'city' and 'time' or 'date'; "
                         f"got columns {list(rows.columns)}")
    runs = ["issued"] if "issued" in rows.columns else []
    df = _row_quantities(rows)
    df = df.drop(columns=[c for c in df.columns if c not in {"city", "station", "time", "date", *runs}
                          and not pd.api.types.is_numeric_dtype(df[c])])
    stamp = "time" if "time" in df.columns else "date"
    if "station" in df.columns:  # stations → their city, time by time
        df = df.drop(columns="station").groupby(["city", *runs, stamp], as_index=False, dropna=False).mean()
    keys = ["city", *runs, "date"]
    if stamp == "time":
        t = pd.to_datetime(df["time"])
        df["date"] = t.dt.normalize()
        if "precip" in df.columns:  # an amount ending at 00:00 belongs to the day before
            df["_precip_date"] = (t - pd.Timedelta(seconds=1)).dt.normalize()
    else:
        df["date"] = pd.to_datetime(df["date"]).dt.normalize()
    df["date"] = df["date"].astype("datetime64[ns]")
    means = [c for c in _MEANS if c in df.columns]
    groups = df.groupby(keys, dropna=False)
    out = groups[means].mean() if means else groups.size().to_frame("_rows")
    if "t2m" in df.columns:
        out["t2m_min"] = df.groupby(keys, dropna=False)["t2m"].min()
        out["t2m_max"] = df.groupby(keys, dropna=False)["t2m"].max()
    if "precip" in df.columns:
        pkeys = ["city", *runs, "_precip_date" if stamp == "time" else "date"]
        total = df.groupby(pkeys, dropna=False)["precip"].sum(min_count=1)
        total.index = total.index.set_names(keys)
        out["precip"] = total.reindex(out.index)
    if stamp == "time":
        out = out[_coverage(df, keys).reindex(out.index).fillna(0.0) >= min_coverage]
    out = out.reset_index()
    out["stagnation"] = stagnation_index(out.get("ws10", np.nan), out.get("precip", np.nan))
    for name in DAILY_PREDICTORS:
        if name not in out.columns:
            out[name] = np.nan
    out = out[[*keys, *DAILY_PREDICTORS]].sort_values(keys, kind="stable").reset_index(drop=True)
    for name in DAILY_PREDICTORS:
        out[name] = out[name].astype(float)
    return out


def _coverage(df: pd.DataFrame, keys: list[str]) -> pd.Series:
    """Share of each day covered by its times: number of times × their spacing / 24 h.

    The spacing is the median step between the day's times, or, for a day with one time, the median
    step of its series (city and run).
    """
    series = [k for k in keys if k != "date"]
    times = df[[*keys, "time"]].drop_duplicates().sort_values([*series, "time"])
    hours = np.timedelta64(1, "h")
    times["_in_day"] = times.groupby(keys, dropna=False)["time"].diff() / hours
    times["_in_series"] = times.groupby(series, dropna=False)["time"].diff() / hours
    times["_in_series"] = times.groupby(series, dropna=False)["_in_series"].transform("median")
    by_day = times.groupby(keys, dropna=False)
    spacing = by_day["_in_day"].median().fillna(by_day["_in_series"].first()).fillna(24.0)
    return (by_day.size() * spacing / 24.0).clip(upper=1.0)


# ---------------------------------------------------------------------------------------------------
# sources → rows


def source_kind(path: str | os.PathLike) -> str:
    """``grib``, ``netcdf``, ``prsa`` or ``csv``, from the file's first bytes and its name."""
    from forecast.io.observations import is_prsa

    p = Path(path)
    with open(p, "rb") as fh:
        head = fh.read(8)
    if head.startswith(b"GRIB"):
        return "grib"
    if head.startswith((b"CDF\x01", b"CDF\x02", b"CDF\x05", b"\x89HDF\r\n\x1a\n")):
        return "netcdf"
    if is_prsa(p):
        return "prsa"
    if p.name.lower().endswith((".csv", ".csv.gz", ".txt")):
        return "csv"
    if p.suffix.lower() in (".grib", ".grib2", ".grb", ".grb2", ".nc", ".nc4"):
        kind = "GRIB" if "gr" in p.suffix.lower() else "netCDF"
        expected = "the bytes b'GRIB'" if kind == "GRIB" else "a netCDF signature (CDF or HDF5)"
        raise InputError(f"{p}: named like a {kind} file but its first bytes are {head[:4]!r}; expected "
                         f"{expected} (damaged, or not {kind}?)")
    raise InputError(f"{p}: not a meteorology file airwarn reads; expected GRIB2, netCDF, a tidy CSV "
                     f"(city,date or station,time + t2m, …) or UCI PRSA_Data_* files")


def _to_beijing(times) -> pd.DatetimeIndex:
    """Naive UTC times → naive Beijing times."""
    t = pd.DatetimeIndex(pd.to_datetime(np.asarray(times)))
    return t.tz_localize("UTC").tz_convert(BEIJING).tz_localize(None).astype("datetime64[ns]")


def grid_rows(ds, coords: pd.DataFrame, *, strict: bool = True) -> pd.DataFrame:
    """Rows of a normalised grid (GRIB or netCDF) at the cities: ``city, time`` (Beijing) + fields.

    Parameters
    ----------
    ds : xarray.Dataset
        :func:`forecast.io.grib.open_grib` or :func:`forecast.nwp.open_nwp` output with a ``time``
        axis in UTC.
    coords : DataFrame
        ``city, lon, lat``.
    strict : bool
        A city outside the grid raises :class:`InputError`; otherwise it is left out with a
        :class:`~forecast.io.ReaderWarning`.
    """
    from forecast.io import ReaderWarning
    from forecast.nwp import interp_to_points

    ds = _grid_fields(ds)
    if "time" not in ds.dims:
        raise InputError(f"the grid has no time axis (dims {dict(ds.sizes)}); a daily predictor needs "
                         f"hourly, step or daily times")
    c = coords.dropna(subset=["lon", "lat"]).drop_duplicates("city")
    if not strict:
        lon, lat = ds["lon"].values, ds["lat"].values
        inside = c["lon"].between(lon.min(), lon.max()) & c["lat"].between(lat.min(), lat.max())
        if (~inside).any():
            warnings.warn(f"{ds.attrs.get('source', 'grid')}: {int((~inside).sum())} cities lie outside the "
                          f"grid (lon {lon.min():g}..{lon.max():g}, lat {lat.min():g}..{lat.max():g}) "
                          f"and are "
                          f"left out: {c.loc[~inside, 'city'].tolist()[:10]}", ReaderWarning, stacklevel=3)
        c = c[inside]
    if c.empty:
        return pd.DataFrame(columns=["city", "time"])
    pts = interp_to_points(ds, c["lon"].to_numpy(float), c["lat"].to_numpy(float), names=list(c["city"]),
                           compute=True)
    df = pts.drop_vars([v for v in ("lon", "lat", "step", "run") if v in pts.coords]).to_dataframe()
    df = df.reset_index().rename(columns={"point": "city"})
    df["time"] = _to_beijing(df["time"])
    return df[["city", "time", *[f for f in MET_FIELDS if f in df.columns]]]


def _grid_fields(ds):
    """A netCDF grid's variables under the row names (a GRIB dataset has them already)."""
    if ds.attrs.get("kind") in ("forecast", "analysis"):
        return ds
    out = {}
    for name, field in _NETCDF_NAMES.items():
        if name in ds.data_vars and "level" not in ds[name].dims:
            out[field] = ds[name]
    for (name, level), field in _NETCDF_LEVELS.items():
        if name in ds.data_vars and "level" in ds[name].dims and level in ds["level"].values:
            out[field] = ds[name].sel(level=level, drop=True)
    if "tcc" in out and out["tcc"].attrs.get("units") == "%":
        out["tcc"] = out["tcc"] / 100.0
    if not out:
        raise InputError(f"the grid holds none of the fields read ({sorted(_NETCDF_NAMES)}, t on 850 and "
                         f"925 hPa); it has {list(ds.data_vars)}")
    import xarray as xr

    return xr.Dataset(out, attrs=dict(ds.attrs))


def _prsa_rows(paths: Sequence[str]) -> pd.DataFrame:
    """UCI multi-site hours: one series per station (``city`` = station) and their mean as ``北京``."""
    from forecast.io import ReaderWarning, read_prsa_multisite

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=ReaderWarning)
        hourly = read_prsa_multisite(list(paths))
    rows = hourly[["station", "time", "temp", "dewp", "pres", "rain", "wspm", "wd"]].rename(columns={
        "station": "city", "temp": "t2m", "dewp": "d2m", "pres": "psfc", "rain": "precip", "wspm": "ws10",
        "wd": "wd10"})
    rows = _row_quantities(rows)
    city = rows.drop(columns="city").groupby("time", as_index=False).mean()
    city.insert(0, "city", "北京")
    return pd.concat([rows, city], ignore_index=True)


def read_met(paths, *, coords: pd.DataFrame | None = None, cities: Iterable[str] | None = None,
             stations=None) -> pd.DataFrame:
    """Daily weather predictors per city from any supported source (see the module doc).

    Parameters
    ----------
    paths : path-like or iterable of path-likes
        Files (GRIB2, netCDF, tidy CSV, UCI ``PRSA_Data_*``) or folders of them, in any mix.
        GRIB2 files are grouped by run; each run gives its own ``issued``.
    coords : DataFrame, optional
        ``city, lon, lat``: the points where gridded sources are interpolated. Required for grids.
    cities : iterable of str, optional
        Keep only these cities; gridded sources are interpolated at these. A city without
        coordinates or outside the grid is left out with a :class:`~forecast.io.ReaderWarning`
        (the model forecasts it without weather). Without it, every city of ``coords`` inside the
        grid.
    stations : DataFrame or path-like, optional
        Station list mapping the stations of a tidy hourly CSV to cities.

    Returns
    -------
    DataFrame
        ``city``, ``issued`` (when a source is a forecast run; NaT for the rows of others),
        ``date`` and :data:`DAILY_PREDICTORS`. ``attrs["sources"]`` names the files;
        ``attrs["synthetic"]`` (bool) says whether some file is synthetic weather (a tidy CSV's
        ``synthetic`` column, a GRIB2 run's test-product mark: :func:`forecast.io.grib.is_synthetic`).

    Raises
    ------
    InputError
        A grid without ``coords``, a file of no supported kind; the readers' errors otherwise.
    """
    from forecast.io import expand_paths
    from forecast.io.grib import grib_runs, open_grib
    from forecast.io.met_csv import read_met_csv

    files = _expand(paths, expand_paths)
    wanted = None if cities is None else [str(c) for c in cities]
    kinds: dict[str, list[str]] = {}
    for f in files:
        kinds.setdefault(source_kind(f), []).append(str(f))
    frames = []
    synthetic = False  # some source is marked synthetic (the demo's seeded weather)
    if ("grib" in kinds or "netcdf" in kinds):
        points = _points(coords, wanted, kinds)
    for path in kinds.get("csv", []):
        rows = read_met_csv(path, stations=stations)
        synthetic |= bool(rows.attrs.get("synthetic", False))
        if "issued" in rows.columns:
            rows["issued"] = pd.to_datetime(rows["issued"]).dt.normalize()
        frames.append(daily_predictors(rows))
    if "prsa" in kinds:
        frames.append(daily_predictors(_prsa_rows(kinds["prsa"])))
    if "grib" in kinds:
        for run, run_files in grib_runs(kinds["grib"]).items():
            ds = open_grib(run_files, run=None if pd.isna(run) else run)
            synthetic |= bool(ds.attrs.get("synthetic", 0))
            rows = grid_rows(ds, points, strict=False)
            if not pd.isna(run):
                rows.insert(1, "issued", _to_beijing([run])[0].normalize())
            frames.append(daily_predictors(rows))
    if "netcdf" in kinds:
        from forecast.nwp import open_nwp

        ds = open_nwp(kinds["netcdf"])
        frames.append(daily_predictors(grid_rows(ds, points, strict=False)))
    out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if "issued" in out.columns:
        out["issued"] = pd.to_datetime(out["issued"]).astype("datetime64[ns]")
        out = out[["city", "issued", "date", *DAILY_PREDICTORS]]
    if wanted is not None:
        out = out[out["city"].isin(wanted)]
    keys = ["city", "issued", "date"] if "issued" in out.columns else ["city", "date"]
    out = out.sort_values(keys, kind="stable").reset_index(drop=True)
    out.attrs["sources"] = [str(f) for f in files]
    out.attrs["synthetic"] = synthetic
    return out


def _expand(paths, expand_paths) -> list[Path]:
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    out = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.is_file() and not f.name.startswith("."))
            if not found:
                raise FileNotFoundError(f"folder {p} holds no file")
            out += found
        else:
            out += expand_paths(p)
    if not out:
        raise InputError("no meteorology file given")
    return out


def _points(coords: pd.DataFrame | None, wanted: list[str] | None, kinds: dict) -> pd.DataFrame:
    grid = (kinds.get("grib") or kinds.get("netcdf"))[0]
    if coords is None or not len(coords):
        raise InputError(f"{grid}: a gridded source needs the cities' coordinates "
                         f"(city, lon, lat: --stations)")
    missing = [c for c in ("city", "lon", "lat") if c not in coords.columns]
    if missing:
        raise InputError(f"coordinates lack the column(s) {missing}; expected city, lon, lat")
    c = coords[["city", "lon", "lat"]].copy()
    c["city"] = c["city"].astype(str)
    if wanted is not None:
        from forecast.io import ReaderWarning

        absent = [w for w in wanted if w not in set(c.dropna(subset=["lon", "lat"])["city"])]
        if absent:
            warnings.warn(f"{grid}: no coordinates for {len(absent)} cities, left out (no weather): "
                          f"{absent[:10]}{' …' if len(absent) > 10 else ''}; expected them in the station "
                          f"list or city,lon,lat file", ReaderWarning, stacklevel=3)
        c = c[c["city"].isin(wanted)]
    return c
