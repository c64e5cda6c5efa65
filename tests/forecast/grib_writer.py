"""A small GRIB2 encoder for the tests (ecCodes samples; independent of :mod:`forecast.synthetic_nwp`).

Fields are linear in longitude and latitude, so bilinear interpolation at any point gives the
formula's value exactly (up to the 24-bit packing, ~1e-5 of a field's range).
"""
from __future__ import annotations

import datetime as dt

import numpy as np

#: ECMWF-table keys of each field: shortName, typeOfLevel (None: the sample's), level.
KEYS = {
    "2t": (None, 2), "2d": (None, 2), "10u": (None, 10), "10v": (None, 10), "sp": (None, 0),
    "blh": (None, 0), "tcc": (None, 0), "t850": ("isobaricInhPa", 850), "t925": ("isobaricInhPa", 925),
}
LON = np.arange(112.0, 115.0 + 1e-9, 0.5)
LAT = np.arange(36.0, 39.0 + 1e-9, 0.5)


def linear(a: float, b_lon: float, b_lat: float, lon=LON, lat=LAT) -> np.ndarray:
    """``a + b_lon (lon − 112) + b_lat (lat − 36)`` on the grid, ``(lat, lon)``."""
    lon2, lat2 = np.meshgrid(lon, lat)
    return a + b_lon * (lon2 - 112.0) + b_lat * (lat2 - 36.0)


def message(fh, short: str, values: np.ndarray, run: dt.datetime, step: int, *, start: int | None = None,
            centre: str = "ecmf", lon=LON, lat=LAT) -> None:
    """Write one GRIB2 message of ``values`` ``(lat, lon)``; ``start`` makes it an accumulation."""
    import eccodes

    h = eccodes.codes_grib_new_from_samples("regular_ll_sfc_grib2")
    try:
        for key, value in (("centre", centre), ("dataDate", int(run.strftime("%Y%m%d"))),
                           ("dataTime", int(run.strftime("%H%M"))), ("Ni", lon.size), ("Nj", lat.size),
                           ("latitudeOfFirstGridPointInDegrees", float(lat[-1])),
                           ("latitudeOfLastGridPointInDegrees", float(lat[0])),
                           ("longitudeOfFirstGridPointInDegrees", float(lon[0])),
                           ("longitudeOfLastGridPointInDegrees", float(lon[-1])),
                           ("iDirectionIncrementInDegrees", float(lon[1] - lon[0])),
                           ("jDirectionIncrementInDegrees", float(lat[1] - lat[0]))):
            eccodes.codes_set(h, key, value)
        if start is not None:
            eccodes.codes_set(h, "productDefinitionTemplateNumber", 8)
            eccodes.codes_set(h, "shortName", short)
            eccodes.codes_set(h, "stepRange", f"{start}-{step}")
        else:
            level_type, level = KEYS.get(short, (None, 0))
            if level_type:
                eccodes.codes_set(h, "typeOfLevel", level_type)
                eccodes.codes_set(h, "level", level)
            eccodes.codes_set(h, "shortName", "t" if short in ("t850", "t925") else short)
            eccodes.codes_set(h, "step", step)
        eccodes.codes_set(h, "bitsPerValue", 24)
        eccodes.codes_set_values(h, np.asarray(values, dtype=float)[::-1].ravel())  # north to south
        eccodes.codes_write(h, fh)
    finally:
        eccodes.codes_release(h)


#: The weather of the test run at step ``s`` [h], in °C, m/s, hPa, m, 0–1 (linear in lon, lat).
def fields_at(step: int) -> dict[str, np.ndarray]:
    s = step / 6.0
    return {
        "t2m": linear(-2.0 + 0.5 * s, 0.8, -1.2),
        "d2m": linear(-8.0 + 0.2 * s, 0.5, -0.6),
        "u10": linear(1.0, 0.3, 0.2) + 0.1 * s,
        "v10": linear(-1.5, -0.2, 0.4),
        "psfc": linear(950.0, 10.0, -4.0),
        "blh": linear(400.0 + 20 * s, 50.0, -30.0),
        "tcc": linear(0.3, 0.05, 0.05),
        "t850": linear(-4.0, 0.2, -0.8),
        "t925": linear(-3.0, 0.4, -1.0),
    }


def precip_amount(step: int) -> np.ndarray:
    """Precipitation of the 6 h ending at ``step`` [mm] (0 at step 0)."""
    return linear(0.0, 0.0, 0.0) if step == 0 else linear(0.2 * (step // 6 % 4), 0.1, 0.05)


_TO_GRIB = {"t2m": ("2t", 273.15, 1.0), "d2m": ("2d", 273.15, 1.0), "u10": ("10u", 0.0, 1.0),
            "v10": ("10v", 0.0, 1.0), "psfc": ("sp", 0.0, 100.0), "blh": ("blh", 0.0, 1.0),
            "tcc": ("tcc", 0.0, 1.0), "t850": ("t850", 273.15, 1.0), "t925": ("t925", 273.15, 1.0)}


def write_run(path, run: dt.datetime, steps) -> None:
    """One file of the run: every field of :func:`fields_at` and ``tp`` (m, accumulated from 0) per step."""
    with open(path, "wb") as fh:
        for step in steps:
            for name, values in fields_at(step).items():
                short, offset, factor = _TO_GRIB[name]
                message(fh, short, (values + offset) * factor, run, step)
            total = sum(precip_amount(s) for s in range(0, step + 1, 6))
            message(fh, "tp", total / 1000.0, run, step, start=0)
