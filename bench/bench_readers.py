"""Reader throughput on the shared files, and NWP streaming on a generated national grid.

Prints figures; asserts nothing (tests live in tests/forecast/test_io*.py).

    .venv/bin/python bench/bench_readers.py [--days 30] [--keep DIR]

The NWP part writes ``--days`` daily netCDF-4 files of hourly 0.25° fields over China
(5 variables, ~22 MB a day) to a temporary folder, opens them with
:func:`forecast.nwp.open_nwp` and samples 366 city points with
:func:`forecast.nwp.interp_to_points`, lazily and with ``compute=True``, each in a
fresh process so the peak memory (ru_maxrss) of each way is its own.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("AIRWARN_SHARED_DATA", REPO.parent / "shared" / "data"))
sys.path.insert(0, str(REPO))


def _time(label: str, func, *args, **kwargs):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = func(*args, **kwargs)
    seconds = time.perf_counter() - start
    print(f"{label:<44} {len(out):>9,} rows  {seconds:6.2f} s  {len(out) / seconds:>12,.0f} rows/s")
    return out


def bench_tables() -> None:
    from forecast import io as fio

    print("== table readers on ../shared/data")
    _time(
        "read_city_daily (aqistudy, 366 cities)",
        fio.read_city_daily,
        SHARED / "cn_city_daily_aqistudy/city_daily_aqi_20131202-20160131.csv.gz",
    )
    _time("read_prsa_multisite (12 stations)", fio.read_prsa_multisite, SHARED / "beijing_multisite_uci")
    _time(
        "read_prsa_single",
        fio.read_prsa_single,
        SHARED / "beijing_pm25_uci/PRSA_data_2010.1.1-2013.12.31.csv.gz",
    )
    _time(
        "read_cnemc_station_hourly (1410A)",
        fio.read_cnemc_station_hourly,
        SHARED / "cnemc_station_hourly/station_1410A_haikou_20140513-20220330.csv.gz",
    )
    _time("read_station_list", fio.read_station_list, SHARED / "stations/cnemc_station_list_NewSiteList.csv")


def write_grid(folder: Path, days: int) -> None:
    import netCDF4
    import numpy as np
    import pandas as pd

    lat = np.arange(55.0, 14.99, -0.25)  # descending, as ERA5
    lon = np.arange(70.0, 140.01, 0.25)
    rng = np.random.default_rng(0)
    for d in range(days):
        day = pd.Timestamp("2025-01-01") + pd.Timedelta(days=d)
        with netCDF4.Dataset(folder / f"era5_{day:%Y%m%d}.nc", "w") as nc:
            nc.createDimension("time", None)
            nc.createDimension("latitude", lat.size)
            nc.createDimension("longitude", lon.size)
            t = nc.createVariable("time", "f8", ("time",))
            t.units = "hours since 2025-01-01"
            t[:] = d * 24 + np.arange(24)
            v = nc.createVariable("latitude", "f4", ("latitude",))
            v.units = "degrees_north"
            v[:] = lat
            v = nc.createVariable("longitude", "f4", ("longitude",))
            v.units = "degrees_east"
            v[:] = lon
            for name, units, base in (
                ("t2m", "K", 270.0),
                ("blh", "m", 500.0),
                ("u10", "m s**-1", 0.0),
                ("v10", "m s**-1", 0.0),
                ("sp", "Pa", 95000.0),
            ):
                x = nc.createVariable(name, "f4", ("time", "latitude", "longitude"))
                x.units = units
                x[:] = (base + rng.normal(0, 5, (24, lat.size, lon.size))).astype("f4")


def sample(folder: str, mode: str) -> None:
    """Child process: open the series, sample the city points, print time and peak memory."""
    import resource

    import dask

    from forecast import io as fio
    from forecast.nwp import interp_to_points, open_nwp

    warnings.simplefilter("ignore")
    cities = fio.read_city_daily(SHARED / "cn_city_daily_aqistudy/city_daily_aqi_20131202-20160131.csv.gz")[
        "city"
    ].unique()
    coords = fio.city_coordinates(
        fio.read_station_list(SHARED / "stations/cnemc_station_list_NewSiteList.csv"), cities
    )
    coords = coords[coords.lon.between(70, 140) & coords.lat.between(15, 55)]
    start = time.perf_counter()
    ds = open_nwp(os.path.join(folder, "era5_*.nc"), chunks={"time": 24})
    opened = time.perf_counter()
    with dask.config.set(scheduler="threads", num_workers=2):
        if mode == "lazy":
            out = interp_to_points(
                ds, coords.lon.values, coords.lat.values, names=coords.city.values
            ).compute()
        else:
            out = interp_to_points(
                ds, coords.lon.values, coords.lat.values, names=coords.city.values, compute=True
            )
    done = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size = sum(v.size * v.dtype.itemsize for v in ds.data_vars.values()) / 1e9
    print(
        f"{mode:<10} grid {dict(ds.sizes)} ({size:.2f} GB), {out.sizes['point']} points: "
        f"open {opened - start:.2f} s, sample {done - opened:.2f} s, peak RSS {peak:,.0f} MB"
    )


def bench_nwp(days: int, keep: str | None) -> None:
    print(f"== NWP streaming: {days} daily files of hourly 0.25° fields over China")
    folder = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="airwarn_nwp_bench_"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        if not list(folder.glob("era5_*.nc")):
            write_grid(folder, days)
        for mode in ("compute", "lazy"):
            subprocess.run([sys.executable, __file__, "--child", str(folder), mode], check=True)
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--keep", help="folder to write (and keep) the generated netCDF files in")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        sample(*args.child)
        return
    if not (SHARED / "README.md").exists():
        print(f"shared data not found at {SHARED}; set AIRWARN_SHARED_DATA")
        return
    bench_tables()
    bench_nwp(args.days, args.keep)


if __name__ == "__main__":
    main()
