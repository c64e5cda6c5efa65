"""Seeded synthetic NWP forecast runs in GRIB2 for the demo, written with ecCodes (a real encoder).

:func:`write_synthetic_nwp` writes one forecast run (00 UTC of the issue day, 6-hourly steps to
10 days) on a 0.5° grid over the "2+26" cities and Shanxi (:data:`GRID_LON`, :data:`GRID_LAT`), split
into two files of five days each, the way forecast centres split a run. The files are named
``synthetic_nwp_<YYYYMMDDHH>_<part>.grib2`` and marked in the GRIB2 headers as test products
(``productionStatusOfProcessedData`` = 1, ``generatingProcessIdentifier`` = 255) of the originating
centre 255 ("missing"), never as an operational centre's output.

The weather (:func:`synthetic_run`) is a plausible winter scenario, not a forecast of anything: a
stagnant spell (light southerly wind, a shallow boundary layer, warm air aloft over a cold surface,
humid) ending in a cold front that crosses the region from the north-west around day 5 (strong
north-westerly wind, a deep boundary layer, cold dry air, a little precipitation at its passage),
with a diurnal cycle and seeded smooth noise. Fields: 2 m temperature and dew point, 10 m wind,
surface pressure, total precipitation (accumulated from the run start), boundary-layer height,
total cloud cover, temperature at 850 and 925 hPa, in the GRIB units (K, Pa, m, 0–1).
"""
from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "GRID_LAT",
    "GRID_LON",
    "SYNTHETIC_NWP_SEED",
    "synthetic_run",
    "write_grib2",
    "write_synthetic_nwp",
]

#: Seed of the synthetic weather.
SYNTHETIC_NWP_SEED = 2026
#: The grid [°]: 0.5° over 110–121 °E, 33–42 °N (the "2+26" cities and Shanxi).
GRID_LON = np.arange(110.0, 121.0 + 1e-9, 0.5)
GRID_LAT = np.arange(33.0, 42.0 + 1e-9, 0.5)
#: Forecast length [days] and step [h].
RUN_DAYS = 10
STEP_HOURS = 6

#: Field → (GRIB shortName, typeOfLevel, level, accumulated).
_GRIB_KEYS: dict[str, tuple[str, str, int, bool]] = {
    "t2m": ("2t", "heightAboveGround", 2, False),
    "d2m": ("2d", "heightAboveGround", 2, False),
    "u10": ("10u", "heightAboveGround", 10, False),
    "v10": ("10v", "heightAboveGround", 10, False),
    "sp": ("sp", "surface", 0, False),
    "tp": ("tp", "surface", 0, True),
    "blh": ("blh", "surface", 0, False),
    "tcc": ("tcc", "surface", 0, False),
    "t850": ("t", "isobaricInhPa", 850, False),
    "t925": ("t", "isobaricInhPa", 925, False),
}


def write_grib2(path: str | os.PathLike, fields: Mapping[str, np.ndarray], lon: np.ndarray, lat: np.ndarray,
                run: dt.datetime, steps: np.ndarray, *, synthetic: bool = True, centre: int = 255) -> Path:
    """Write fields of one run as GRIB2 messages (one per field and step) on a regular lat/lon grid.

    Parameters
    ----------
    path : path-like
        The file (written whole, then moved into place).
    fields : mapping
        Keys of :data:`_GRIB_KEYS` (``t2m``, ``tp`` …) → arrays ``(step, lat, lon)`` in GRIB units
        (K, Pa, m s⁻¹, m, 0–1; ``tp`` in m accumulated from the run start), converted to the units
        of the parameter the GRIB tables give (cloud cover in %, precipitation in kg m⁻² = mm).
    lon, lat : ndarray
        Ascending grid coordinates [°], regular.
    run : datetime
        Reference time (UTC).
    steps : ndarray of int
        Forecast steps [h].
    synthetic : bool
        Mark the messages as test products (``productionStatusOfProcessedData`` = 1).
    centre : int
        Originating centre code (255: missing).
    """
    import eccodes

    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    d_lon, d_lat = float(lon[1] - lon[0]), float(lat[1] - lat[0])
    with open(tmp, "wb") as fh:
        for name, values in fields.items():
            short, level_type, level, accum = _GRIB_KEYS[name]
            for k, step in enumerate(steps):
                h = eccodes.codes_grib_new_from_samples("regular_ll_sfc_grib2")
                try:
                    for key, value in (
                        ("centre", centre), ("generatingProcessIdentifier", 255),
                        ("productionStatusOfProcessedData", 1 if synthetic else 0),
                        ("typeOfProcessedData", 1),  # forecast products
                        ("dataDate", int(run.strftime("%Y%m%d"))), ("dataTime", int(run.strftime("%H%M"))),
                        ("Ni", lon.size), ("Nj", lat.size),
                        ("latitudeOfFirstGridPointInDegrees", float(lat[-1])),
                        ("latitudeOfLastGridPointInDegrees", float(lat[0])),
                        ("longitudeOfFirstGridPointInDegrees", float(lon[0])),
                        ("longitudeOfLastGridPointInDegrees", float(lon[-1])),
                        ("iDirectionIncrementInDegrees", d_lon), ("jDirectionIncrementInDegrees", d_lat),
                    ):
                        eccodes.codes_set(h, key, value)
                    if accum:
                        eccodes.codes_set(h, "productDefinitionTemplateNumber", 8)
                        eccodes.codes_set(h, "shortName", short)
                        eccodes.codes_set(h, "stepRange", f"0-{int(step)}")
                    else:
                        if level_type == "isobaricInhPa":
                            eccodes.codes_set(h, "typeOfLevel", level_type)
                            eccodes.codes_set(h, "level", level)
                        eccodes.codes_set(h, "shortName", short)
                        eccodes.codes_set(h, "step", int(step))
                    eccodes.codes_set(h, "bitsPerValue", 16)
                    data = np.asarray(values[k], dtype=float) * _factor(name, eccodes.codes_get(h, "units"))
                    # GRIB scans north to south by default: the first row is the northernmost latitude
                    eccodes.codes_set_values(h, data[::-1].ravel())
                    eccodes.codes_write(h, fh)
                finally:
                    eccodes.codes_release(h)
    os.replace(tmp, path)
    return path


def _factor(name: str, units: str) -> float:
    """Factor from the units of :func:`synthetic_run` to the parameter's units in the GRIB tables
    the centre code selects (WMO tables: cloud cover in %, precipitation in kg m⁻²)."""
    if name == "tcc" and units == "%":
        return 100.0
    if name == "tp" and units in ("kg m**-2", "kg m-2"):
        return 1000.0
    return 1.0


def _smooth_noise(rng: np.random.Generator, n_steps: int, shape: tuple[int, int], rho: float = 0.9,
                  modes: int = 3) -> np.ndarray:
    """Unit-variance noise, AR(1) in time, smooth in space (a few low-order sine modes)."""
    ny, nx = shape
    y = np.linspace(0, np.pi, ny)[:, None]
    x = np.linspace(0, np.pi, nx)[None, :]
    basis = [np.sin((i + 1) * y / 2 + rng.uniform(0, np.pi)) * np.sin((j + 1) * x / 2 + rng.uniform(0, np.pi))
             for i in range(modes) for j in range(modes)]
    coef = np.zeros((n_steps, len(basis)))
    coef[0] = rng.standard_normal(len(basis))
    for t in range(1, n_steps):
        coef[t] = rho * coef[t - 1] + np.sqrt(1 - rho ** 2) * rng.standard_normal(len(basis))
    field = np.tensordot(coef, np.stack(basis), axes=1)
    return field / max(field.std(), 1e-9)


def synthetic_run(run: dt.datetime, *, seed: int = SYNTHETIC_NWP_SEED, days: int = RUN_DAYS,
                  step_hours: int = STEP_HOURS) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The steps [h] and fields ``(step, lat, lon)`` of a synthetic run, in GRIB units (module doc)."""
    rng = np.random.default_rng(seed)
    steps = np.arange(0, days * 24 + 1, step_hours)
    n = steps.size
    lon2, lat2 = np.meshgrid(GRID_LON, GRID_LAT)
    # the front reaches the north-west corner at ~day 4.5 and moves south-east at ~60 km/h
    distance = np.hypot(lon2 - GRID_LON[0], GRID_LAT[-1] - lat2) * 100.0  # km, roughly
    arrival = 108.0 + rng.normal(0.0, 6.0) + distance / 60.0  # h after the run
    hours = steps[:, None, None]
    after = 0.5 * (1 + np.tanh((hours - arrival) / 6.0))  # 0 before the front, 1 after
    passage = np.exp(-0.5 * ((hours - arrival) / 5.0) ** 2)  # near the front
    local_hour = (run.hour + hours + 8) % 24  # Beijing time
    diurnal = np.cos(2 * np.pi * (local_hour - 14) / 24.0)  # +1 at 14:00, −1 at 02:00
    plateau = 1.0 / (1.0 + np.exp((lon2 - 113.8) / 0.4))  # Shanxi plateau west of ~114 °E
    south = (GRID_LAT[-1] - lat2) / (GRID_LAT[-1] - GRID_LAT[0])  # 0 north … 1 south
    noise = {k: _smooth_noise(rng, n, lon2.shape) for k in ("t", "w", "b", "q")}

    t2m = ((1.0 + 6.0 * south - 5.0 * plateau) - 8.0 * after + 4.0 * diurnal * (1 + 0.5 * after)
           + 1.2 * noise["t"])
    d2m = t2m - (3.0 + 9.0 * after) - 2.0 * np.clip(diurnal, 0, None) + 0.8 * noise["q"]
    u10 = 0.5 * (1 - after) + 6.0 * after + 2.5 * passage + 0.6 * noise["w"]
    v10 = 1.5 * (1 - after) - 6.0 * after - 2.0 * passage + 0.6 * noise["w"][:, ::-1, :]
    blh = np.clip((250.0 + 350.0 * np.clip(diurnal, 0, None)) * (1 - after)
                  + (650.0 + 900.0 * np.clip(diurnal, 0, None)) * after + 80.0 * noise["b"], 60.0, None)
    t850 = (5.0 + 3.0 * south) - 14.0 * after + 0.8 * noise["t"][:, :, ::-1]
    t925 = 0.5 * (t2m + t850) + 1.0 * (1 - after)
    sp = 1025.0 - 110.0 * plateau - 4.0 * (1 - after) + 6.0 * after + 1.5 * noise["b"]  # hPa
    tcc = np.clip(0.55 * (1 - after) + 0.15 * after + 0.35 * passage + 0.1 * noise["q"], 0.0, 1.0)
    rate = np.clip(2.0 * passage + 0.05 * noise["q"], 0.0, None) / 6.0  # mm/h
    amounts = np.concatenate([np.zeros((1, *lon2.shape)), rate[1:] * np.diff(steps)[:, None, None]])
    tp = np.cumsum(amounts, axis=0) / 1000.0  # m, accumulated from the run start
    k = 273.15
    fields = {"t2m": t2m + k, "d2m": d2m + k, "u10": u10, "v10": v10, "sp": sp * 100.0, "tp": tp,
              "blh": blh, "tcc": tcc, "t850": t850 + k, "t925": t925 + k}
    return steps, fields


def write_synthetic_nwp(out_dir: str | os.PathLike, issued: dt.date, *, seed: int = SYNTHETIC_NWP_SEED,
                        parts: int = 2) -> list[Path]:
    """Write the synthetic run of 00 UTC on ``issued`` (idempotent: the same arguments, the same files).

    Parameters
    ----------
    out_dir : path-like
        Folder (made if absent).
    issued : date
        Issue day; the run is 00 UTC (08:00 Beijing time) of that day.
    seed : int
        Seed of the weather (:func:`synthetic_run`); the day is mixed in so each day's run differs.
    parts : int
        Files the run is split into, by step.

    Returns
    -------
    list of Path
        ``synthetic_nwp_<YYYYMMDDHH>_<k>of<parts>.grib2``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    run = dt.datetime.combine(pd.Timestamp(issued).date(), dt.time(0))
    steps, fields = synthetic_run(run, seed=seed + pd.Timestamp(issued).toordinal() % 10_000)
    paths = []
    for k, idx in enumerate(np.array_split(np.arange(steps.size), parts), start=1):
        path = out / f"synthetic_nwp_{run:%Y%m%d%H}_{k}of{parts}.grib2"
        paths.append(write_grib2(path, {n: v[idx] for n, v in fields.items()}, GRID_LON, GRID_LAT, run,
                                 steps[idx]))
    return paths
