"""Gridded NWP / reanalysis fields: open lazily, normalise once, sample at points.

:func:`open_nwp` opens one or many netCDF files with :func:`xarray.open_mfdataset`
and dask chunks (a national grid streams instead of loading), then normalises
the dataset **once**, where it is read:

* coordinates renamed to ``lon`` [°E, −180..180, ascending], ``lat`` [°N,
  ascending], ``level`` [hPa] and ``time`` (:data:`COORD_MAP`);
* variable names mapped to ECMWF short names (:data:`NWP_VARIABLE_MAP`:
  NCEP ``air`` → ``t``, ``hgt`` → ``gh`` …);
* CF ``units`` checked and converted to the glossary units
  (:data:`UNIT_CONVERSIONS`: K → °C, Pa → hPa, precipitation m → mm,
  geopotential m² s⁻² → geopotential height m if asked). Each converted
  variable keeps its source unit in ``attrs["units_source"]``; a dataset that
  is already normalised is left as it is.

:func:`interp_to_points` gives bilinear values at stations or cities.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from airwarn.core.errors import InputError, ReaderError, UnknownNameError
from airwarn.core.units import UNITS, conversion, convert
from airwarn.core.units import parse as parse_unit
from forecast.io._csv import ReaderWarning, expand_pattern

__all__ = [
    "COORD_MAP",
    "G0",
    "NWP_VARIABLE_MAP",
    "UNIT_CONVERSIONS",
    "interp_to_points",
    "normalise_nwp",
    "open_nwp",
]

#: Standard gravity [m s⁻²] (WMO), geopotential → geopotential height.
G0 = 9.80665

#: Coordinate / dimension names → normalised names.
COORD_MAP: dict[str, str] = {
    "latitude": "lat",
    "lat": "lat",
    "nav_lat": "lat",
    "longitude": "lon",
    "lon": "lon",
    "nav_lon": "lon",
    "level": "level",
    "lev": "level",
    "plev": "level",
    "isobaricinhpa": "level",
    "pressure_level": "level",
    "pressure": "level",
    "time": "time",
    "valid_time": "time",
    "t": "time",
}

#: Variable aliases (NCEP/NCAR reanalysis, GRIB-style names) → ECMWF short names.
NWP_VARIABLE_MAP: dict[str, str] = {
    "air": "t",
    "hgt": "gh",
    "uwnd": "u",
    "vwnd": "v",
    "rhum": "r",
    "shum": "q",
    "omega": "w",
    "2t": "t2m",
    "2d": "d2m",
    "10u": "u10",
    "10v": "v10",
    "slp": "msl",
    "prmsl": "msl",
    "pres": "sp",
    "hpbl": "blh",
    "apcp": "tp",
}

#: Glossary unit (a code of :mod:`airwarn.core.units`) of each quantity a gridded source may hold in
#: another unit; units of other quantities (heights in m, humidity, fluxes …) are kept as they are.
_GLOSSARY_UNITS: dict[str, str] = {"temperature": "degC", "pressure": "hPa", "speed": "m/s"}

#: Source unit spellings recognised (every one a spelling :func:`airwarn.core.units.parse` knows).
_SOURCE_SPELLINGS: tuple[str, ...] = (
    "K", "kelvin", "degK", "degC", "C", "celsius", "degrees_Celsius",  # temperature
    "Pa", "hPa", "mbar", "millibars", "millibar", "mb",  # pressure
    "m s**-1", "m s-1", "m/s", "m s^-1",  # speed
    "m**2 s**-2", "m2 s-2", "m^2 s^-2", "m^2/s^2",  # geopotential
    "m", "gpm", "mm",  # lengths, heights
    "%", "percent", "kg kg**-1", "kg/kg", "kg kg-1", "1", "(0 - 1)",  # humidity, fractions
    "Pa s**-1", "Pa s-1", "W m**-2", "W m-2", "J m**-2", "J m-2", "kg m**-2", "kg m-2",
)


def _conversion_to_glossary(spelling: str) -> tuple[str, float, float]:
    unit = parse_unit(spelling)
    target = parse_unit(_GLOSSARY_UNITS.get(unit.quantity, unit.code))
    return (target.cf, *conversion(unit, target))


#: Source unit spellings → (glossary unit as its CF name, factor, offset): ``value * factor + offset``,
#: from the registry :mod:`airwarn.core.units`. Units not listed here are kept as they are and
#: reported in a :class:`ReaderWarning`.
UNIT_CONVERSIONS: dict[str, tuple[str, float, float]] = {
    spelling: _conversion_to_glossary(spelling) for spelling in _SOURCE_SPELLINGS
}

#: Precipitation totals given in metres (ERA5 ``tp``) are converted to mm.
_MM = UNITS["mm"].cf
_GEOPOTENTIAL = UNITS["m2/s2"].cf
_PRECIP_NAMES = {"tp", "cp", "lsp"}
_PRECIP_STANDARD_NAMES = {"precipitation_amount", "lwe_thickness_of_precipitation_amount"}

_LAT_UNITS = {"degrees_north", "degree_north", "degree_n", "degrees_n", "degreen", "degreesn"}
_LON_UNITS = {"degrees_east", "degree_east", "degree_e", "degrees_e", "degreee", "degreese"}


def _expand(paths: str | os.PathLike | Iterable[str | os.PathLike]) -> list[str]:
    items = expand_pattern(paths, "netCDF")
    for p in items:
        _check_signature(p)
    return items


#: File signatures of netCDF classic (CDF\x01, 64-bit offset \x02, CDF-5 \x05) and netCDF-4 (HDF5).
_SIGNATURES = (b"CDF\x01", b"CDF\x02", b"CDF\x05", b"\x89HDF\r\n\x1a\n")


def _check_signature(path: str) -> None:
    with open(path, "rb") as fh:
        head = fh.read(8)
    if not any(head.startswith(sig) for sig in _SIGNATURES):
        raise ReaderError(
            path,
            f"not a readable netCDF file: expected a netCDF-3 ('CDF') or netCDF-4 (HDF5) signature, "
            f"got the bytes {head!r}",
        )


def open_nwp(
    paths: str | os.PathLike | Iterable[str | os.PathLike],
    *,
    chunks: Mapping[str, int] | str | None = "auto",
    variables: Sequence[str] | None = None,
    geopotential_height: bool = False,
    concat_dim: str | None = None,
    parallel: bool = False,
) -> xr.Dataset:
    """Open gridded NWP or reanalysis netCDF file(s) lazily, normalised to the glossary.

    Parameters
    ----------
    paths : path-like, glob pattern or iterable of path-likes
        One file, several files of one time series (combined by their
        coordinates), or a pattern such as ``"era5_*.nc"``.
    chunks : mapping, "auto" or None
        Dask chunks, by source or normalised dimension names (``{"time": 24}``);
        ``"auto"`` lets dask choose. ``None`` still opens lazily through
        :func:`xarray.open_mfdataset`'s default of one chunk per file.
    variables : sequence of str, optional
        Variables to keep (source or normalised names). Unknown names raise
        :class:`KeyError` listing the available ones.
    geopotential_height : bool
        Convert geopotential ``z`` [m² s⁻²] to geopotential height ``gh`` [m]
        (divided by :data:`G0`).
    concat_dim : str, optional
        Dimension to concatenate files along when they lack a shared coordinate
        to combine by (``combine="nested"``); by default files are combined by
        their coordinates.
    parallel : bool
        Open the files in parallel with dask delayed (many files).

    Returns
    -------
    xarray.Dataset
        Dask-backed dataset with coordinates ``lon`` (−180..180, ascending),
        ``lat`` (ascending), ``level`` [hPa] and ``time`` where present;
        variables in glossary units (temperature °C, pressure hPa, wind m s-1,
        precipitation mm); ``attrs["airwarn_normalised"] = 1``.

    Raises
    ------
    FileNotFoundError
        A file or pattern matches nothing.
    ReaderError
        A file is not readable netCDF, the files cannot be combined, or the
        dataset has no recognisable longitude/latitude coordinates.
    KeyError
        ``variables`` names a variable the files lack.
    """
    files = _expand(paths)
    source = files[0] if len(files) == 1 else f"{len(files)} files ({Path(files[0]).name} …)"
    kwargs: dict[str, Any] = {
        "chunks": _source_chunks(files[0], chunks),
        "parallel": parallel,
        "data_vars": "minimal",
        "coords": "minimal",
        "compat": "override",
        "join": "outer",
    }
    if concat_dim is not None:
        kwargs.update(combine="nested", concat_dim=concat_dim)
    else:
        kwargs.update(combine="by_coords")
    with warnings.catch_warnings():
        # netCDF3 files (ERA-Interim) often declare _FillValue = NaN for float data
        warnings.filterwarnings("ignore", message=".*non-conforming '_FillValue'", category=Warning)
        try:
            ds = xr.open_mfdataset(files, **kwargs)
        except (OSError, RuntimeError) as exc:
            raise ReaderError(source, f"not a readable netCDF file: {exc}") from exc
        except ValueError as exc:
            raise ReaderError(source, f"the files cannot be combined into one dataset: {exc}") from exc
    if variables is not None:
        ds = _select(ds, variables, source)
    return normalise_nwp(ds, geopotential_height=geopotential_height, source=source)


def _source_chunks(path: str, chunks: Mapping[str, int] | str | None) -> Any:
    """Translate chunks given by normalised names (``lat``) to the file's dimension names."""
    if not isinstance(chunks, Mapping):
        return chunks
    try:
        with xr.open_dataset(path, decode_times=False) as probe:
            dims = list(probe.dims)
    except (OSError, ValueError, RuntimeError) as exc:
        raise ReaderError(path, f"not a readable netCDF file: {exc}") from exc
    out = {}
    for name, size in chunks.items():
        if name in dims:
            out[name] = size
            continue
        matches = [d for d in dims if COORD_MAP.get(d.lower()) == name]
        if not matches:
            raise InputError(f"chunks: no dimension {name!r}; the file has dimensions {dims}")
        out[matches[0]] = size
    return out


def _select(ds: xr.Dataset, variables: Sequence[str], source: str) -> xr.Dataset:
    available = list(ds.data_vars)
    reverse = {NWP_VARIABLE_MAP.get(v.lower(), v): v for v in available}
    keep = []
    for name in variables:
        if name in available:
            keep.append(name)
        elif name in reverse:
            keep.append(reverse[name])
        elif name == "gh" and "z" in available:
            keep.append("z")
        else:
            raise InputError(f"{source}: no variable {name!r}; available variables are {available}")
    return ds[keep]


def normalise_nwp(
    ds: xr.Dataset, *, geopotential_height: bool = False, source: str = "<dataset>"
) -> xr.Dataset:
    """Normalise coordinates, variable names and units of a gridded dataset (see module doc).

    Idempotent: converting relies on each variable's ``units`` attribute, which
    is rewritten to the glossary unit, so a second call changes nothing.
    """
    ds = _normalise_coords(ds, source)
    renames = {v: NWP_VARIABLE_MAP[v.lower()] for v in ds.data_vars if v.lower() in NWP_VARIABLE_MAP}
    renames = {k: v for k, v in renames.items() if v not in ds.data_vars}
    if renames:
        ds = ds.rename(renames)
    unchecked = []
    new_vars = {}
    for name, da in ds.data_vars.items():
        converted, ok = _convert_units(name, da)
        if not ok:
            unchecked.append(f"{name} [{da.attrs.get('units', 'no units')}]")
        new_vars[name] = converted
    ds = ds.assign(new_vars)
    if geopotential_height and "z" in ds.data_vars and ds["z"].attrs.get("units") == _GEOPOTENTIAL:
        gh = ds["z"] / G0
        gh.attrs = {
            **ds["z"].attrs,
            "units": UNITS["m"].cf,
            "standard_name": "geopotential_height",
            "long_name": "Geopotential height",
            "units_source": ds["z"].attrs.get("units_source", _GEOPOTENTIAL),
        }
        ds = ds.drop_vars("z").assign(gh=gh)
    if unchecked:
        warnings.warn(
            f"{source}: units not recognised, kept as they are: {', '.join(unchecked)}; "
            f"known units are {sorted(set(UNIT_CONVERSIONS))}",
            ReaderWarning,
            stacklevel=3,
        )
    ds.attrs["airwarn_normalised"] = 1
    return ds


def _normalise_coords(ds: xr.Dataset, source: str) -> xr.Dataset:
    renames = {}
    for name in list(ds.coords) + list(ds.dims):
        if name in renames:
            continue
        target = COORD_MAP.get(str(name).lower())
        units = str(ds[name].attrs.get("units", "")).lower().replace(" ", "") if name in ds.variables else ""
        if units in _LAT_UNITS:
            target = "lat"
        elif units in _LON_UNITS:
            target = "lon"
        if target and target != name and target not in ds.variables and target not in renames.values():
            renames[name] = target
    if renames:
        ds = ds.rename(renames)
    missing = [c for c in ("lon", "lat") if c not in ds.coords]
    if missing:
        raise ReaderError(
            source,
            f"no {' / '.join(missing)} coordinate; expected coordinates named like "
            f"{[k for k, v in COORD_MAP.items() if v in missing]} "
            "or with CF units degrees_east/degrees_north, "
            f"found {list(ds.coords)}",
        )
    for c in ("lon", "lat"):
        if ds[c].ndim != 1:
            raise ReaderError(
                source, f"coordinate {c!r} has {ds[c].ndim} dimensions; expected a regular 1-D grid"
            )
    lon = ds["lon"].values.astype("float64")
    if np.nanmax(lon) > 180:
        ds = ds.assign_coords(lon=("lon", ((lon + 180.0) % 360.0) - 180.0, ds["lon"].attrs))
    if not ds.indexes["lon"].is_monotonic_increasing:
        ds = ds.sortby("lon")
    if not ds.indexes["lat"].is_monotonic_increasing:
        ds = ds.sortby("lat")
    ds["lon"].attrs.update(units="degrees_east", standard_name="longitude")
    ds["lat"].attrs.update(units="degrees_north", standard_name="latitude")
    if "level" in ds.coords:
        hpa = UNITS["hPa"]
        units = str(ds["level"].attrs.get("units", hpa.cf))
        unit = _known_unit(units)
        if unit is None or unit.quantity != hpa.quantity:
            raise ReaderError(source, column="level", expected="pressure levels in Pa or hPa", got=units)
        if unit != hpa:
            ds = ds.assign_coords(level=("level", convert(ds["level"].values, unit, hpa), ds["level"].attrs))
            ds["level"].attrs["units_source"] = units
        ds["level"].attrs["units"] = hpa.cf
    return ds


def _known_unit(text: str):
    """The registry's unit spelled ``text``, None if unknown."""
    try:
        return parse_unit(text)
    except UnknownNameError:
        return None


def _convert_units(name: str, da: xr.DataArray) -> tuple[xr.DataArray, bool]:
    units = da.attrs.get("units")
    if units is None:
        return da, False
    units = str(units).strip()
    if units == "m" and (name in _PRECIP_NAMES or da.attrs.get("standard_name") in _PRECIP_STANDARD_NAMES):
        target, (factor, offset) = _MM, conversion("m", "mm")
    elif units in UNIT_CONVERSIONS:
        target, factor, offset = UNIT_CONVERSIONS[units]
    else:
        return da, False
    if factor == 1.0 and offset == 0.0:
        if target == units:
            return da, True
        out = da.copy()
    else:
        out = da * factor + offset if offset else da * factor
        out.attrs = dict(da.attrs)
        out.encoding = dict(da.encoding)
    out.attrs["units"] = target
    out.attrs.setdefault("units_source", units)
    return out, True


def interp_to_points(
    ds: xr.Dataset | xr.DataArray,
    lon: Sequence[float] | np.ndarray | float,
    lat: Sequence[float] | np.ndarray | float,
    names: Sequence[str] | None = None,
    *,
    compute: bool = False,
    file_cache: int = 8,
) -> xr.Dataset | xr.DataArray:
    """Bilinear values of gridded fields at points (stations, cities).

    Parameters
    ----------
    ds : Dataset or DataArray
        A normalised grid (:func:`open_nwp`): coordinates ``lon`` and ``lat``,
        ascending. Dask-backed inputs stay lazy; only the cells around the
        points are read.
    lon, lat : float or array-like
        Point longitudes [°E; 0..360 accepted] and latitudes [°N], same length.
    names : sequence of str, optional
        Point labels (station codes, city names) for the ``point`` coordinate;
        0..n-1 by default.
    compute : bool
        Compute the (small) result now instead of returning it lazily, keeping
        at most ``file_cache`` source files open while streaming through them.
    file_cache : int
        Open-file cache used when ``compute`` is true (see Notes).

    Returns
    -------
    Dataset or DataArray
        The fields with ``lon``/``lat`` replaced by a ``point`` dimension, and
        ``lon``/``lat`` coordinates along ``point``.

    Raises
    ------
    ValueError
        Lengths differ, a coordinate is NaN, or a point lies outside the grid
        (the message lists the points and the grid's extent).

    Notes
    -----
    On a regular lon/lat grid, linear interpolation along ``lon`` and ``lat``
    is bilinear interpolation: with the cell corners
    :math:`f_{00}, f_{10}, f_{01}, f_{11}` and fractional position
    :math:`(x, y)`, :math:`f = f_{00}(1-x)(1-y) + f_{10}x(1-y) + f_{01}(1-x)y + f_{11}xy`.
    A global grid wraps around the date line. The four corners of every point
    are gathered in one vectorised selection, so under dask each chunk is read
    once.

    Memory: each open netCDF-4 file keeps an HDF5 chunk cache, and xarray keeps
    up to 128 files open (``file_cache_maxsize``), so computing over a long
    many-file series holds roughly the whole series in those caches. With
    ``compute=True`` the computation runs under ``xarray.set_options(
    file_cache_maxsize=file_cache)`` (a context, nothing global changes):
    measured on 60 daily files, 1.3 GB of hourly 0.25° fields over China, 366
    cities: peak memory 276 MB instead of 1.5 GB.
    """
    lon_arr = np.atleast_1d(np.asarray(lon, dtype="float64"))
    lat_arr = np.atleast_1d(np.asarray(lat, dtype="float64"))
    if lon_arr.shape != lat_arr.shape or lon_arr.ndim != 1:
        raise InputError(
            f"lon and lat must be 1-D of the same length, got {lon_arr.shape} and {lat_arr.shape}"
        )
    labels = np.arange(lon_arr.size) if names is None else np.asarray(list(names))
    if labels.shape != lon_arr.shape:
        raise InputError(f"names has {labels.size} labels for {lon_arr.size} points")
    bad = np.isnan(lon_arr) | np.isnan(lat_arr)
    if bad.any():
        raise InputError(f"points {labels[bad].tolist()} have no coordinates (NaN lon/lat)")
    for c in ("lon", "lat"):
        if c not in ds.coords:
            raise UnknownNameError(
                f"the grid has no {c!r} coordinate; open it with open_nwp (found {list(ds.coords)})"
            )
    wrap = (lon_arr < -180.0) | (lon_arr >= 180.0)
    lon_arr = np.where(wrap, ((lon_arr + 180.0) % 360.0) - 180.0, lon_arr)
    grid_lon = ds["lon"].values.astype("float64")
    grid_lat = ds["lat"].values.astype("float64")
    if grid_lon.size < 2 or grid_lat.size < 2:
        raise InputError(
            f"the grid needs at least 2 longitudes and 2 latitudes, got {grid_lon.size} and {grid_lat.size}"
        )
    step = float(np.median(np.diff(grid_lon)))
    regular = np.allclose(np.diff(grid_lon), step, rtol=1e-6, atol=1e-9)
    is_global = regular and step > 0 and abs(grid_lon[-1] + step - grid_lon[0] - 360.0) < 1e-6 * 360
    if is_global:
        lon_lo, lon_hi = grid_lon[0] - 360.0, grid_lon[0] + 360.0
        outside_lon = np.zeros(lon_arr.shape, dtype=bool)
    else:
        lon_lo, lon_hi = grid_lon[0], grid_lon[-1]
        outside_lon = (lon_arr < lon_lo) | (lon_arr > lon_hi)
    outside = outside_lon | (lat_arr < grid_lat[0]) | (lat_arr > grid_lat[-1])
    if outside.any():
        raise InputError(
            f"points {labels[outside].tolist()} at lon {lon_arr[outside].tolist()}, "
            f"lat {lat_arr[outside].tolist()} "
            f"lie outside the grid (lon {grid_lon[0]:g}..{grid_lon[-1]:g}, "
            f"lat {grid_lat[0]:g}..{grid_lat[-1]:g})"
        )
    if is_global:
        pos = (lon_arr - grid_lon[0]) / step
        i0 = np.floor(pos).astype(int)
        x = pos - i0
        i0 %= grid_lon.size
        i1 = (i0 + 1) % grid_lon.size
    else:
        i0, x = _cell(grid_lon, lon_arr)
        i1 = i0 + 1
    j0, y = _cell(grid_lat, lat_arr)
    j1 = j0 + 1

    # one vectorised gather of the four corners of every point (each chunk is read once under dask),
    # then the bilinear weights
    n = lon_arr.size
    gathered = ds.isel(
        lon=xr.DataArray(np.concatenate([i0, i1, i0, i1]), dims="_corner_point"),
        lat=xr.DataArray(np.concatenate([j0, j0, j1, j1]), dims="_corner_point"),
    ).drop_vars(["lon", "lat"], errors="ignore")
    weights = ((1 - x) * (1 - y), x * (1 - y), (1 - x) * y, x * y)
    out = None
    for k, w in enumerate(weights):
        part = gathered.isel(_corner_point=slice(k * n, (k + 1) * n)).rename(_corner_point="point")
        term = part * xr.DataArray(w, dims="point")
        out = term if out is None else out + term
    if isinstance(ds, xr.Dataset):
        gridded = [v for v in ds.data_vars if {"lon", "lat"} <= set(ds[v].dims)]
        out = out[gridded]
        for v in gridded:
            out[v].attrs = dict(ds[v].attrs)
        out.attrs = dict(ds.attrs)
    else:
        out.attrs = dict(ds.attrs)
        out.name = ds.name
    out = out.assign_coords(point=("point", labels), lon=("point", lon_arr), lat=("point", lat_arr))
    if compute:
        with xr.set_options(file_cache_maxsize=max(1, int(file_cache))):
            out = out.compute()
    return out


def _cell(grid: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of the lower grid node of each value's cell and the fractional position in it."""
    i0 = np.clip(np.searchsorted(grid, values, side="right") - 1, 0, grid.size - 2)
    frac = (values - grid[i0]) / (grid[i0 + 1] - grid[i0])
    return i0, frac
