"""GRIB2 reader: files written here with ecCodes (a real encoder), read through cfgrib."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from airwarn.core.errors import InputError, ReaderError
from forecast.io.grib import grib_runs, open_grib, scan_grib
from forecast.nwp import interp_to_points
from tests.forecast import grib_writer as gw

RUN = dt.datetime(2016, 12, 14, 0)
STEPS_A = (0, 6, 12, 18, 24)
STEPS_B = (30, 36, 42, 48)
#: 阳泉 (mean station position) and a point on a grid node
POINTS = {"阳泉": (113.567214, 37.856943), "node": (113.0, 38.0)}


@pytest.fixture(scope="module")
def run_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("grib")
    a, b = d / "ifs_20161214_00_a.grib2", d / "ifs_20161214_00_b.grib2"
    gw.write_run(a, RUN, STEPS_A)
    gw.write_run(b, RUN, STEPS_B)
    return a, b


@pytest.fixture(scope="module")
def run_ds(run_files):
    return open_grib(list(reversed(run_files))).load()  # any order of the files


def test_one_dataset_from_two_files_of_one_run(run_ds):
    ds = run_ds
    assert set(ds.data_vars) == {"t2m", "d2m", "u10", "v10", "psfc", "precip", "blh", "tcc", "t850", "t925"}
    steps = np.array(STEPS_A + STEPS_B)
    assert list(pd.DatetimeIndex(ds["time"].values)) == list(pd.Timestamp(RUN) + pd.to_timedelta(steps, "h"))
    assert (ds["step"].values / np.timedelta64(1, "h")).tolist() == steps.tolist()
    assert pd.Timestamp(ds["run"].values) == pd.Timestamp(RUN) and ds.attrs["run"] == "2016-12-14T00:00:00"
    assert ds.attrs["kind"] == "forecast" and ds.attrs["centre"] == "ecmf"
    assert ds["lat"].values[0] == 36.0 and ds["lat"].values[-1] == 39.0  # ascending
    assert {v: ds[v].attrs["units"] for v in ("t2m", "t850", "psfc", "precip", "tcc", "u10", "blh")} == {
        "t2m": "degC", "t850": "degC", "psfc": "hPa", "precip": "mm", "tcc": "1", "u10": "m s-1", "blh": "m"}
    assert ds["t2m"].attrs["units_source"] == "K" and ds["psfc"].attrs["units_source"] == "Pa"
    assert ds["t2m"].attrs["standard_name"] == "air_temperature"
    assert ds["precip"].attrs["standard_name"] == "precipitation_amount"


def test_values_at_points_after_bilinear_interpolation(run_ds):
    lon, lat = np.array(list(POINTS.values())).T
    pts = interp_to_points(run_ds, lon, lat, names=list(POINTS), compute=True)
    for k, step in enumerate(STEPS_A + STEPS_B):
        expected = gw.fields_at(step)
        for name, grid in expected.items():
            for p, (x, y) in POINTS.items():
                # the formula at the point: grid fields are linear, so bilinear is exact
                i, j = (x - 112.0) / 0.5, (y - 36.0) / 0.5
                lo_i, lo_j = int(np.floor(i)), int(np.floor(j))
                fx, fy = i - lo_i, j - lo_j
                value = (grid[lo_j, lo_i] * (1 - fx) * (1 - fy) + grid[lo_j, lo_i + 1] * fx * (1 - fy)
                         + grid[lo_j + 1, lo_i] * (1 - fx) * fy + grid[lo_j + 1, lo_i + 1] * fx * fy)
                got = float(pts[name].isel(time=k).sel(point=p))
                assert got == pytest.approx(value, abs=2e-3), (name, step, p)
    # a grid node is its value: 2 m temperature at 113 °E 38 °N, step 0 = −2 + 0.8·1 − 1.2·2 °C
    assert float(pts["t2m"].isel(time=0).sel(point="node")) == pytest.approx(-3.6, abs=1e-3)


def test_precipitation_deaccumulated_to_each_step(run_ds):
    for k, step in enumerate(STEPS_A + STEPS_B):
        np.testing.assert_allclose(run_ds["precip"].isel(time=k).values, gw.precip_amount(step), atol=2e-3)
    assert run_ds["precip"].attrs["deaccumulated"] == 1
    assert float(run_ds["precip"].isel(time=0).max()) == 0.0


def test_gfs_buckets_deaccumulated(tmp_path):
    """GFS style: 0-3, 0-6, then 6-9, 6-12 (the bucket restarts every 6 h), NCEP tables (kg m-2)."""
    path = tmp_path / "gfs.t00z.pgrb2.0p25.f003-f012"
    amounts = {3: 1.0, 6: 2.0, 9: 0.5, 12: 4.0}
    windows = {3: 0, 6: 0, 9: 6, 12: 6}
    with open(path, "wb") as fh:
        for step, start in windows.items():
            total = sum(a for s, a in amounts.items() if start < s <= step)
            gw.message(fh, "tp", gw.linear(total, 0.0, 0.0), RUN, step, start=start, centre="kwbc")
            gw.message(fh, "2t", gw.linear(270.0, 1.0, 0.0), RUN, step, centre="kwbc")
    scan = scan_grib(path)
    assert scan.loc[scan["shortName"] == "tp", ["startStep", "endStep"]].values.tolist() == [
        [0, 3], [0, 6], [6, 9], [6, 12]]
    ds = open_grib(path)
    assert ds["precip"].attrs["units_source"] == "kg m**-2"
    got = ds["precip"].isel(lat=0, lon=0).values
    np.testing.assert_allclose(got, list(amounts.values()), atol=1e-3)
    assert float(ds["t2m"].isel(time=0, lat=0, lon=0)) == pytest.approx(270.0 - 273.15, abs=1e-3)


def test_runs_grouped_and_one_run_required(run_files, tmp_path):
    later = tmp_path / "ifs_20161214_12.grib2"
    gw.write_run(later, RUN + dt.timedelta(hours=12), (0, 6))
    runs = grib_runs([*run_files, later])
    assert list(runs) == [pd.Timestamp(RUN), pd.Timestamp(RUN) + pd.Timedelta(hours=12)]
    assert runs[pd.Timestamp(RUN)] == [str(f) for f in run_files]
    with pytest.raises(InputError, match=r"2 forecast runs .*2016-12-14 00:00.*2016-12-14 12:00"):
        open_grib([*run_files, later])
    ds = open_grib([*run_files, later], run="2016-12-14T12:00")
    assert ds.sizes["time"] == 2 and ds.attrs["run"] == "2016-12-14T12:00:00"


def test_not_grib_truncated_missing_variable_and_repeated_file(run_files, tmp_path):
    csv = tmp_path / "not.grib2"
    csv.write_text("city,date,t2m\n阳泉,2016-12-14,-3\n", encoding="utf-8")
    with pytest.raises(ReaderError, match=r"not\.grib2: not a GRIB file: expected the bytes b'GRIB'"):
        open_grib(csv)
    data = run_files[1].read_bytes()
    cut = tmp_path / "cut.grib2"
    cut.write_bytes(data[: len(data) // 2 + 7])
    with pytest.raises(ReaderError, match=r"cut\.grib2: message \d+ is cut short"):
        open_grib(cut)
    with pytest.raises(InputError, match=r"no variable \['msl'\]; the files hold \['blh', 'd2m'"):
        open_grib(run_files[0], variables=["msl", "t2m"])
    with pytest.raises(InputError, match=r"given more than once"):
        open_grib([run_files[0], run_files[0]])
    with pytest.raises(FileNotFoundError, match="no such file"):
        open_grib(tmp_path / "absent.grib2")
