"""Reader of GRIB2 NWP fields (ECMWF open data IFS/AIFS, GFS 0.25°, CMA GRAPES) through cfgrib + ecCodes.

A forecast run arrives as several GRIB2 files (ECMWF open data: one file per step; GFS: one per
forecast hour; GRAPES: one per step or per day), each holding messages of several level types.
:func:`open_grib` reads the files of one run into **one** dataset:

* every file is first scanned message by message with ecCodes (:func:`scan_grib`: headers only, no
  values decoded), which refuses a file that is not GRIB or is cut short, names the run (reference
  time) and the accumulation window of every message, and picks the messages airwarn reads
  (:data:`GRIB_FIELDS`);
* the chosen messages are opened with cfgrib (:func:`cfgrib.open_datasets`, lazily, one dask chunk
  per hypercube), which splits them by ``typeOfLevel`` (surface, 2 m, 10 m, isobaric …) the way
  ``filter_by_keys`` would; no ``.idx`` file is written beside the data;
* variables and levels are mapped **once** to the names of the tidy meteorology
  (:data:`GRIB_FIELDS`: ``2t`` → ``t2m``, ``10u`` → ``u10``, ``t`` on 850 hPa → ``t850`` …) with
  their CF ``standard_name``, and their units to the glossary units of
  :mod:`airwarn.core.units` (K → °C, Pa → hPa, precipitation m or kg m⁻² → mm, cloud cover % → 0–1);
* the time axis is the **valid time** (``time``, UTC), the forecast step is kept as the coordinate
  ``step`` along it and the run as the scalar coordinate ``run`` and ``attrs["run"]``;
* accumulated fields (``tp``, accumulated from the run start by ECMWF and GRAPES, in 3/6-hour
  buckets by GFS) are de-accumulated to the amount of each step, over the interval since the
  previous step (:func:`_deaccumulate`, from each message's ``startStep``/``endStep``).

A series of analyses (every message at step 0, many reference times: a reanalysis in GRIB) is read
as it is, without ``run``.

The units and names are converted here with the registry :mod:`airwarn.core.units`, which is also
where :mod:`forecast.nwp` (netCDF grids) takes its conversions from; this module does not import
:mod:`forecast.nwp` itself, which imports :mod:`forecast.io` (the two would form an import cycle).
"""

from __future__ import annotations

import os
import tempfile
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from airwarn.core.errors import InputError, ReaderError
from airwarn.core.units import UNITS, convert
from airwarn.core.units import parse as parse_unit
from forecast.io._csv import expand_pattern

__all__ = [
    "GRIB_FIELDS",
    "grib_runs",
    "is_grib",
    "is_synthetic",
    "open_grib",
    "scan_grib",
]

#: The fields airwarn reads: name → (GRIB shortNames, typeOfLevel(s) (None: any), level (None: any)).
#: ShortNames are ecCodes' for ECMWF, NCEP (GFS) and WMO-table (CMA GRAPES) encodings.
GRIB_FIELDS: dict[str, tuple[frozenset[str], str | frozenset[str] | None, float | None]] = {
    "t2m": (frozenset({"2t"}), "heightAboveGround", 2),
    "d2m": (frozenset({"2d"}), "heightAboveGround", 2),
    "rh": (frozenset({"2r", "r2"}), "heightAboveGround", 2),
    "u10": (frozenset({"10u"}), "heightAboveGround", 10),
    "v10": (frozenset({"10v"}), "heightAboveGround", 10),
    "ws10": (frozenset({"10si"}), "heightAboveGround", 10),
    "psfc": (frozenset({"sp"}), "surface", None),
    "msl": (frozenset({"msl", "prmsl"}), "meanSea", None),
    "precip": (frozenset({"tp"}), "surface", None),
    "blh": (frozenset({"blh", "hpbl"}), None, None),
    "tcc": (frozenset({"tcc"}), frozenset({"surface", "entireAtmosphere", "atmosphere"}), None),
    "t850": (frozenset({"t"}), "isobaricInhPa", 850),
    "t925": (frozenset({"t"}), "isobaricInhPa", 925),
}

#: Glossary unit (a code of :mod:`airwarn.core.units`), CF standard name and long name of each field.
FIELD_ATTRS: dict[str, tuple[str, str, str]] = {
    "t2m": ("degC", "air_temperature", "2 m temperature"),
    "d2m": ("degC", "dew_point_temperature", "2 m dew point temperature"),
    "rh": ("%", "relative_humidity", "2 m relative humidity"),
    "u10": ("m/s", "eastward_wind", "10 m eastward wind"),
    "v10": ("m/s", "northward_wind", "10 m northward wind"),
    "ws10": ("m/s", "wind_speed", "10 m wind speed"),
    "psfc": ("hPa", "surface_air_pressure", "surface pressure"),
    "msl": ("hPa", "air_pressure_at_mean_sea_level", "mean sea-level pressure"),
    "precip": ("mm", "precipitation_amount", "precipitation since the previous step"),
    "blh": ("m", "atmosphere_boundary_layer_thickness", "boundary-layer height"),
    "tcc": ("1", "cloud_area_fraction", "total cloud cover"),
    "t850": ("degC", "air_temperature", "temperature at 850 hPa"),
    "t925": ("degC", "air_temperature", "temperature at 925 hPa"),
}

#: GRIB unit spellings the registry does not know, with the registry unit they mean for a field.
#: 1 kg m⁻² of water is 1 mm of precipitation.
_UNIT_SPELLINGS: dict[str, str] = {"kg m**-2": "mm", "kg m-2": "mm", "(0 - 1)": "1", "0 - 1": "1"}

_SCAN_KEYS = ("shortName", "paramId", "typeOfLevel", "level", "stepType", "dataDate", "dataTime",
              "centre", "productionStatusOfProcessedData")


def is_grib(path: str | os.PathLike) -> bool:
    """Whether ``path`` starts with the GRIB indicator (``GRIB``)."""
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == b"GRIB"
    except OSError:
        return False


def _expand(paths: str | os.PathLike | Iterable[str | os.PathLike]) -> list[str]:
    items = expand_pattern(paths, "GRIB")
    for p in items:
        if not Path(p).is_file():
            raise FileNotFoundError(f"not a file: {p}")
    return items


def _field_of(short: str, type_of_level: str, level: float) -> str | None:
    for name, (shorts, tol, lev) in GRIB_FIELDS.items():
        if tol is not None and type_of_level not in ({tol} if isinstance(tol, str) else tol):
            continue
        if short in shorts and (lev is None or lev == level):
            return name
    return None


def scan_grib(paths: str | os.PathLike | Iterable[str | os.PathLike]) -> pd.DataFrame:
    """The message headers of GRIB files (no values decoded).

    Parameters
    ----------
    paths : path-like, glob pattern or iterable of path-likes

    Returns
    -------
    DataFrame
        One row per message: ``file``, ``message`` (1-based), ``shortName``, ``paramId``,
        ``typeOfLevel``, ``level``, ``stepType``, ``startStep``, ``endStep`` [h], ``run`` (reference
        time, UTC), ``centre``, ``productionStatusOfProcessedData``, ``edition`` and ``field`` (the
        name of :data:`GRIB_FIELDS` the message gives, None if airwarn does not read it).

    Raises
    ------
    FileNotFoundError
        A file does not exist.
    ReaderError
        A file is not GRIB, is cut short (a truncated download) or holds a damaged message.
    """
    frames = [_scan_file(path) for path in _expand(paths)]
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0].copy()


#: Scans of files (path, size, modification time) → headers, so that grouping files by run and
#: reading them decode each header once (a few recent files).
_SCANS: dict[tuple[str, int, int], pd.DataFrame] = {}
_MAX_SCANS = 256


def _scan_file(path: str) -> pd.DataFrame:
    stat = os.stat(path)
    key = (os.path.abspath(path), stat.st_size, stat.st_mtime_ns)
    if key not in _SCANS:
        if len(_SCANS) >= _MAX_SCANS:
            _SCANS.pop(next(iter(_SCANS)))
        _SCANS[key] = _read_headers(path)
    return _SCANS[key].assign(file=path)


def _read_headers(path: str) -> pd.DataFrame:
    import eccodes

    rows = []
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head != b"GRIB":
        raise ReaderError(path, f"not a GRIB file: expected the bytes b'GRIB' at the start, got {head!r}")
    with open(path, "rb") as fh:  # a fresh handle: ecCodes reads the file descriptor itself
        n = 0
        while True:
            try:
                h = eccodes.codes_grib_new_from_file(fh)
            except eccodes.PrematureEndOfFileError as exc:
                raise ReaderError(path, f"message {n + 1} is cut short (the file ends inside it; "
                                        f"a truncated download?); expected complete GRIB messages "
                                        f"ending in '7777'") from exc
            except eccodes.CodesInternalError as exc:
                raise ReaderError(path, f"message {n + 1} cannot be decoded: {exc}") from exc
            if h is None:
                break
            n += 1
            try:
                rec: dict[str, Any] = {"file": path, "message": n}
                for key in _SCAN_KEYS:
                    try:
                        rec[key] = eccodes.codes_get(h, key)
                    except eccodes.KeyValueNotFoundError:
                        rec[key] = None
                rec["edition"] = eccodes.codes_get(h, "edition")
                eccodes.codes_set(h, "stepUnits", 1)  # hours
                rec["startStep"] = int(eccodes.codes_get(h, "startStep"))
                rec["endStep"] = int(eccodes.codes_get(h, "endStep"))
            finally:
                eccodes.codes_release(h)
            date, time = int(rec["dataDate"]), int(rec["dataTime"])
            rec["run"] = pd.Timestamp(year=date // 10000, month=date // 100 % 100, day=date % 100,
                                      hour=time // 100, minute=time % 100)
            rec["field"] = _field_of(str(rec["shortName"]), str(rec["typeOfLevel"]), float(rec["level"]))
            rows.append(rec)
        if n == 0:
            raise ReaderError(path, "no GRIB message could be read; expected GRIB1 or GRIB2 messages")
    columns = ["file", "message", *_SCAN_KEYS, "edition", "startStep", "endStep", "run", "field"]
    return pd.DataFrame(rows, columns=columns)


def _is_analysis_series(scan: pd.DataFrame) -> bool:
    return bool((scan["endStep"] == 0).all() and scan["run"].nunique() > 1)


def grib_runs(paths: str | os.PathLike | Iterable[str | os.PathLike]) -> dict[pd.Timestamp, list[str]]:
    """The forecast runs (reference times, UTC) in GRIB files and the files holding each.

    A series of analyses (all messages at step 0) is one entry keyed ``NaT``.
    """
    scan = scan_grib(paths)
    if _is_analysis_series(scan):
        return {pd.NaT: list(dict.fromkeys(scan["file"]))}
    return {run: list(dict.fromkeys(g["file"])) for run, g in scan.groupby("run", sort=True)}


def open_grib(
    paths: str | os.PathLike | Iterable[str | os.PathLike],
    *,
    run: Any = None,
    variables: Sequence[str] | None = None,
) -> "xr.Dataset":  # noqa: F821
    """Open the GRIB2 files of one forecast run as one dataset in glossary names and units.

    Parameters
    ----------
    paths : path-like, glob pattern or iterable of path-likes
        The files of the run (any split by step or by variable), in any order.
    run : datetime-like, optional
        The run (reference time, UTC) to read when the files hold several; required then.
    variables : sequence of str, optional
        Names of :data:`GRIB_FIELDS` that must be there (:class:`InputError` naming the missing
        ones and those present); all fields present are returned either way.

    Returns
    -------
    xarray.Dataset
        Dims ``time`` (valid time, UTC, ascending), ``lat`` (ascending), ``lon`` (−180..180,
        ascending); variables named as :data:`GRIB_FIELDS` in the units of :data:`FIELD_ATTRS`
        (``units``, ``standard_name``, ``long_name``, the source unit in ``units_source``);
        ``precip`` is the amount since the previous step. Coordinates ``step`` (along ``time``)
        and ``run`` (scalar) for a forecast; attributes ``run`` (ISO, UTC), ``kind``
        (``forecast`` / ``analysis``), ``source``, ``centre``, ``production_status``
        (GRIB2 ``productionStatusOfProcessedData``), ``synthetic`` (1 when a message is a test
        product of no real centre, :func:`is_synthetic`, as the demo's weather is; else 0),
        ``airwarn_normalised = 1``.

    Raises
    ------
    FileNotFoundError
        A file does not exist.
    ReaderError
        A file is not GRIB or is cut short; the files' grids differ; cfgrib cannot read them.
    InputError
        No field airwarn reads is there; several runs and no ``run``; a ``variables`` name is
        missing; one step of a field is in two files.
    """
    import xarray as xr

    files = _expand(paths)
    source = files[0] if len(files) == 1 else f"{len(files)} files ({Path(files[0]).name} …)"
    scan = scan_grib(files)
    analysis = _is_analysis_series(scan)
    if not analysis:
        runs = sorted(scan["run"].unique())
        if run is not None:
            wanted = pd.Timestamp(run)
            if wanted.tzinfo is not None:
                wanted = wanted.tz_convert("UTC").tz_localize(None)
            if wanted not in runs:
                raise InputError(f"{source}: no run {wanted:%Y-%m-%d %H:%M} UTC; the files hold the runs "
                                 f"{[f'{r:%Y-%m-%d %H:%M}' for r in runs]}")
            scan = scan[scan["run"] == wanted]
        elif len(runs) > 1:
            raise InputError(f"{source}: the files hold {len(runs)} forecast runs "
                             f"{[f'{pd.Timestamp(r):%Y-%m-%d %H:%M}' for r in runs]} (UTC); "
                             f"expected the files "
                             f"of one run (pass run=, or read them with forecast.met.read_met)")
    chosen = scan[scan["field"].notna()]
    if chosen.empty:
        found = sorted(set(zip(scan["shortName"], scan["typeOfLevel"])))
        raise InputError(f"{source}: none of the fields airwarn reads ({', '.join(GRIB_FIELDS)}) is there; "
                         f"found shortName/typeOfLevel {found[:20]}")
    if variables is not None:
        missing = [v for v in variables if v not in set(chosen["field"])]
        if missing:
            raise InputError(f"{source}: no variable {missing}; "
                             f"the files hold {sorted(set(chosen['field']))}")
    _check_duplicates(chosen, source)

    pieces: dict[str, list[xr.DataArray]] = {}
    with tempfile.TemporaryDirectory(prefix="airwarn-grib-") as index_dir:
        for path, msgs in chosen.groupby("file", sort=False):
            several_runs = not analysis and scan.loc[scan["file"] == path, "run"].nunique() > 1
            for name, da in _open_file(path, msgs, analysis, several_runs, index_dir):
                pieces.setdefault(name, []).append(da.load())
    fields = {}
    for name, das in pieces.items():
        da = das[0] if len(das) == 1 else xr.concat(das, dim="time", coords="minimal", compat="override",
                                                    join="exact" if _same_grid(das) else "outer")
        if not _same_grid(das):
            raise ReaderError(source, f"the files' grids differ for {name!r}; expected one lat/lon grid")
        da = da.sortby("time")
        if name == "precip" and not analysis:
            da = _deaccumulate(da, chosen[chosen["field"] == "precip"], source)
        fields[name] = _finish(da, name)
    try:
        ds = xr.merge(list(fields.values()), join="outer", compat="override", combine_attrs="drop_conflicts")
    except ValueError as exc:
        raise ReaderError(source, f"the fields cannot be combined into one grid: {exc}") from exc
    ds = _normalise_grid(ds, source)
    if not analysis:
        r = pd.Timestamp(chosen["run"].iloc[0])
        steps = ds["time"].values
        ds = ds.assign_coords(time=("time", r.to_datetime64() + steps), step=("time", steps))
        ds = ds.assign_coords(run=r.to_datetime64().astype("datetime64[ns]"))
        ds["run"].attrs.update(long_name="forecast reference time", time_zone="UTC")
    ds["time"].attrs.update(standard_name="time", long_name="valid time", time_zone="UTC")
    status = sorted({int(s) for s in scan["productionStatusOfProcessedData"].dropna()})
    ds.attrs = {
        "kind": "analysis" if analysis else "forecast",
        "source": ", ".join(Path(f).name for f in files),
        "centre": ", ".join(sorted({str(c) for c in scan["centre"].dropna()})),
        "production_status": ", ".join(map(str, status)),
        "synthetic": int(is_synthetic(scan)),  # 0/1: a netCDF attribute cannot be a bool
        "airwarn_normalised": 1,
    }
    if not analysis:
        ds.attrs["run"] = pd.Timestamp(chosen["run"].iloc[0]).isoformat()
    return ds


#: GRIB2 ``productionStatusOfProcessedData`` of a test product (code table 1.3) and the originating
#: centre code "missing" (255): the marks of :mod:`forecast.synthetic_nwp`'s seeded demo weather.
TEST_PRODUCT_STATUS = 1
MISSING_CENTRE = "255"


def is_synthetic(scan: pd.DataFrame) -> bool:
    """Whether scanned messages (:func:`scan_grib`) hold synthetic weather: some message is a test
    product (``productionStatusOfProcessedData`` = 1) of no real centre (``centre`` 255), as
    :func:`forecast.synthetic_nwp.write_grib2` marks them. A real centre's test product is not
    synthetic, nor is a GRIB1 message (which has no production status)."""
    status = pd.to_numeric(scan["productionStatusOfProcessedData"], errors="coerce")
    centre = scan["centre"].astype(str).str.strip()
    return bool(((status == TEST_PRODUCT_STATUS) & (centre == MISSING_CENTRE)).any())


def _check_duplicates(chosen: pd.DataFrame, source: str) -> None:
    key = ["field", "run", "endStep"] if chosen["endStep"].any() else ["field", "run"]
    dup = chosen.duplicated(key, keep=False)
    if dup.any():
        first = chosen[dup].iloc[0]
        files = sorted(set(chosen.loc[dup & (chosen["field"] == first["field"]), "file"]))
        raise InputError(f"{source}: {first['field']} at step {first['endStep']} h of the run "
                         f"{first['run']:%Y-%m-%d %H:%M} UTC is given more than once (in {files}); "
                         f"expected each step once (a file passed twice?)")


def _open_file(path: str, msgs: pd.DataFrame, analysis: bool, several_runs: bool, index_dir: str):
    """The fields of one file: ``(name, DataArray(time, latitude, longitude))`` pairs.

    The chosen messages are opened in groups of one level type, level (but isobaric levels
    together) and step type, which is how cfgrib splits hypercubes (``filter_by_keys``); the file is
    indexed once (a cfgrib index in ``index_dir``, the same keys for every group), not once per group.
    """
    import xarray as xr

    index = os.path.join(index_dir, f"{len(os.listdir(index_dir))}-{{short_hash}}.idx")
    msgs = msgs.assign(_level=np.where(msgs["typeOfLevel"] == "isobaricInhPa", -1, msgs["level"]))
    for (tol, _, step_type), group in msgs.groupby(["typeOfLevel", "_level", "stepType"], sort=False):
        fbk: dict[str, Any] = {"typeOfLevel": str(tol), "stepType": str(step_type),
                               "paramId": sorted({int(p) for p in group["paramId"]}),
                               "level": sorted({int(v) for v in group["level"]})}
        if several_runs:
            r = group["run"].iloc[0]
            fbk.update(dataDate=int(r.strftime("%Y%m%d")), dataTime=int(r.strftime("%H%M")))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)
                ds = xr.open_dataset(path, engine="cfgrib", chunks={}, backend_kwargs={
                    "indexpath": index, "filter_by_keys": fbk, "errors": "raise", "squeeze": True})
        except Exception as exc:  # cfgrib raises plain exceptions of many kinds on a bad file
            raise ReaderError(path, f"cfgrib cannot read the {tol} {step_type} fields "
                                    f"{sorted(set(group['shortName']))}: {exc}") from exc
        for var, da in ds.data_vars.items():
            short = str(da.attrs.get("GRIB_shortName", var))
            level_dim = str(tol) if tol in da.dims else None
            levels = da[tol].values.ravel() if tol in da.coords else np.array([0.0])
            for level in np.atleast_1d(levels):
                name = _field_of(short, str(tol), float(level))
                if name is None:
                    continue
                part = da.sel({level_dim: level}) if level_dim else da
                yield name, _valid_time_axis(part, analysis)


def _valid_time_axis(da: "xr.DataArray", analysis: bool) -> "xr.DataArray":  # noqa: F821
    """``(time, latitude, longitude)``: ``time`` is the valid time of an analysis, the step of a forecast."""
    for dim in ("time", "step"):
        if dim not in da.dims:
            da = da.expand_dims(dim)
    # an analysis keeps its reference time (step 0); a forecast's axis is the step for now
    # (de-accumulation works on it), the valid time is set once the fields are merged
    da = da.isel(step=0, drop=True) if analysis else da.isel(time=0, drop=True).rename(step="time")
    keep = {"time", "latitude", "longitude"}
    return da.drop_vars([c for c in da.coords if c not in keep])


def _same_grid(das: Sequence["xr.DataArray"]) -> bool:  # noqa: F821
    first = das[0]
    return all(np.array_equal(d["latitude"].values, first["latitude"].values)
               and np.array_equal(d["longitude"].values, first["longitude"].values) for d in das[1:])


def _deaccumulate(da: "xr.DataArray", msgs: pd.DataFrame, source: str) -> "xr.DataArray":  # noqa: F821
    """Amounts per step from accumulations: over ``(previous step, step]`` from each message's window.

    A message accumulates over ``(startStep, endStep]``. Accumulation from the run start (ECMWF,
    GRAPES: ``0-6``, ``0-12`` …): the difference of consecutive totals. Buckets that start at the
    previous step (GFS ``6-9`` after ``0-6``): the value itself. GFS's ``6-12`` after ``6-9``: the
    difference. A window that cannot be split (starting inside the previous window, not at its
    start) gives NaN. Negative differences of packing noise are set to 0.
    """
    import xarray as xr

    windows = dict(zip(msgs["endStep"].astype(int), msgs["startStep"].astype(int)))
    ends = (da["time"].values / np.timedelta64(1, "h")).astype(int)
    starts = np.array([windows.get(int(e), -1) for e in ends])
    subtract = np.zeros(ends.size, dtype=bool)
    ok = np.ones(ends.size, dtype=bool)
    for k in range(ends.size):
        if starts[k] < 0:
            ok[k] = False
        elif k == 0 or starts[k] == ends[k - 1] or starts[k] == ends[k]:
            continue
        elif starts[k] == starts[k - 1] and starts[k] < ends[k - 1]:
            subtract[k] = True
        else:
            ok[k] = False
    previous = da.shift(time=1).fillna(0.0)
    out = da - previous * xr.DataArray(subtract.astype(float), dims="time")
    out = out.clip(min=0.0).where(xr.DataArray(ok, dims="time"))
    out.attrs = dict(da.attrs)
    out.attrs["deaccumulated"] = 1
    out.attrs["cell_methods"] = "time: sum (interval: since the previous step)"
    return out


def _finish(da: "xr.DataArray", name: str) -> "xr.DataArray":  # noqa: F821
    """Glossary units and CF attributes; ``time`` becomes the valid time (run + step) for a forecast."""
    code, standard_name, long_name = FIELD_ATTRS[name]
    units = str(da.attrs.get("units", da.attrs.get("GRIB_units", ""))).strip()
    spelled = _UNIT_SPELLINGS.get(units, units)
    target = UNITS[code]
    try:
        unit = parse_unit(spelled)
    except ValueError:
        unit = None
    if name == "precip" and spelled == "m":
        unit = UNITS["m"]
    if unit is None:
        raise ReaderError(str(da.attrs.get("GRIB_shortName", name)), column=name,
                          expected=f"a unit of {target.quantity} ({target.text or target.code})", got=units)
    if unit.quantity != target.quantity:
        raise ReaderError(name, column=name, expected=f"a unit convertible to {target.code}", got=units)
    out = convert(da.astype("float64"), unit, target) if unit != target else da.astype("float64")
    out.name = name
    out.attrs = {"units": target.cf, "standard_name": standard_name, "long_name": long_name,
                 "units_source": units}
    for key in ("deaccumulated", "cell_methods"):
        if key in da.attrs:
            out.attrs[key] = da.attrs[key]
    return out


def _normalise_grid(ds: "xr.Dataset", source: str) -> "xr.Dataset":  # noqa: F821
    """``lat``/``lon`` ascending, longitudes −180..180, ``time`` = valid time."""
    ds = ds.rename(latitude="lat", longitude="lon")
    lon = ds["lon"].values.astype("float64")
    if lon.size and np.nanmax(lon) > 180:
        ds = ds.assign_coords(lon=("lon", ((lon + 180.0) % 360.0) - 180.0))
    ds = ds.sortby("lon").sortby("lat")
    ds["lon"].attrs.update(units="degrees_east", standard_name="longitude")
    ds["lat"].attrs.update(units="degrees_north", standard_name="latitude")
    return ds
