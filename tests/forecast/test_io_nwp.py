"""Gridded NWP / reanalysis reading: the real ERA-Interim file and a multi-file series made with netCDF4."""

from __future__ import annotations

from airwarn.core.errors import AirwarnError
import warnings

import dask.array as da
import netCDF4
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from forecast.io import ReaderError, ReaderWarning
from forecast.nwp import G0, interp_to_points, normalise_nwp, open_nwp

ERAINT = "gridded/eraint_uvz.nc"
#: mean station position of 阳泉 (city_coordinates on the CNEMC list)
YQ_LON, YQ_LAT = 113.567214, 37.856943


@pytest.fixture(scope="module")
def eraint(shared_data):
    return open_nwp(shared_data / ERAINT)


@pytest.fixture(scope="module")
def eraint_raw(shared_data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with xr.open_dataset(shared_data / ERAINT) as ds:
            yield ds.load()


def test_eraint_coordinates_and_units(eraint):
    ds = eraint
    assert set(ds.dims) == {"month", "level", "lat", "lon"}
    assert ds.sizes["lat"] == 241 and ds.sizes["lon"] == 480
    assert ds["lat"].values[0] == -90 and ds["lat"].values[-1] == 90  # ascending now
    assert ds["lon"].values[0] == -180 and ds["lon"].values[-1] == pytest.approx(179.25)
    assert ds["level"].values.tolist() == [200, 500, 850] and ds["level"].attrs["units"] == "hPa"
    assert ds["z"].attrs["units"] == "m2 s-2" and ds["z"].attrs["units_source"] == "m**2 s**-2"
    assert ds["u"].attrs["units"] == "m s-1"
    assert ds.attrs["airwarn_normalised"] == 1
    assert isinstance(ds["z"].data, da.Array)  # lazy, dask-backed


def test_eraint_geopotential_height(shared_data, eraint_raw):
    ds = open_nwp(shared_data / ERAINT, variables=["z"], geopotential_height=True)
    assert list(ds.data_vars) == ["gh"]
    assert ds["gh"].attrs["units"] == "m" and ds["gh"].attrs["standard_name"] == "geopotential_height"
    raw = eraint_raw["z"].sel(month=1, level=500, latitude=37.5, longitude=113.25).item()
    ours = float(ds["gh"].sel(month=1, level=500, lat=37.5, lon=113.25))
    assert ours == pytest.approx(raw / G0)
    # January 500 hPa over North China: a trough near 5,600-5,700 m
    assert 5_500 < ours < 5_800


def test_bilinear_at_yangquan_matches_hand_computation(eraint, eraint_raw):
    """Bilinear value at 阳泉 from the 4 surrounding nodes of the raw (descending-latitude) grid."""
    z = eraint_raw["z"].sel(month=1, level=500)
    lats, lons = z["latitude"].values, z["longitude"].values
    lat0, lat1 = 37.5, 38.25
    lon0, lon1 = 113.25, 114.0
    assert lat0 in lats and lat1 in lats and lon0 in lons and lon1 in lons
    f00 = z.sel(latitude=lat0, longitude=lon0).item()
    f10 = z.sel(latitude=lat0, longitude=lon1).item()
    f01 = z.sel(latitude=lat1, longitude=lon0).item()
    f11 = z.sel(latitude=lat1, longitude=lon1).item()
    x = (YQ_LON - lon0) / (lon1 - lon0)
    y = (YQ_LAT - lat0) / (lat1 - lat0)
    expected = f00 * (1 - x) * (1 - y) + f10 * x * (1 - y) + f01 * (1 - x) * y + f11 * x * y
    got = interp_to_points(eraint, [YQ_LON], [YQ_LAT], names=["阳泉"])
    assert got["z"].dims == ("month", "level", "point")
    assert got["point"].values.tolist() == ["阳泉"]
    assert got["lon"].values.tolist() == [YQ_LON]
    assert float(got["z"].sel(month=1, level=500, point="阳泉")) == pytest.approx(expected, rel=1e-12)
    # a grid node gives the node's value exactly; 0..360 longitudes are accepted
    node = interp_to_points(eraint["u"], [113.25 + 360], [37.5])
    assert float(node.sel(month=7, level=200).isel(point=0)) == pytest.approx(
        eraint_raw["u"].sel(month=7, level=200, latitude=37.5, longitude=113.25).item(), rel=1e-12
    )


def test_interp_several_points_and_errors(eraint):
    names = ["阳泉", "太原", "北京"]
    out = interp_to_points(eraint, [113.567, 112.523, 116.397], [37.857, 37.857, 40.069], names=names)
    assert out.sizes["point"] == 3 and out["point"].values.tolist() == names
    assert np.isfinite(out["u"].values).all()
    with pytest.raises(
        ValueError, match=r"lon and lat must be 1-D of the same length, got \(2,\) and \(1,\)"
    ):
        interp_to_points(eraint, [1, 2], [3])
    with pytest.raises(ValueError, match=r"points \['b'\] have no coordinates \(NaN lon/lat\)"):
        interp_to_points(eraint, [1, np.nan], [3, 4], names=["a", "b"])
    with pytest.raises(ValueError, match=r"names has 1 labels for 2 points"):
        interp_to_points(eraint, [1, 2], [3, 4], names=["a"])
    regional = eraint.sel(lat=slice(33, 45), lon=slice(108, 122))
    with pytest.raises(
        ValueError,
        match=r"points \[1\] at lon \[125.0\], lat \[30.0\] lie outside the grid "
        r"\(lon 108\.\.121\.5, lat 33\.\.45\)",
    ):
        interp_to_points(regional, [113.5, 125.0], [37.8, 30.0])
    with pytest.raises(AirwarnError, match=r"the grid has no 'lon' coordinate"):
        interp_to_points(xr.Dataset({"a": ("x", [1.0])}), [1], [2])


# ---------------------------------------------------------------- multi-file series written with netCDF4

LON = np.arange(0.0, 360.0, 2.5)  # 0..357.5, a global grid in 0..360
LAT = np.arange(60.0, -0.1, -2.5)  # descending
LEVEL_PA = np.array([85000.0, 50000.0])


def _field(t_hours: np.ndarray) -> np.ndarray:
    """Analytic 2 m temperature [K]: linear in lon and lat plus a time trend, so bilinear is exact."""
    tt, la, lo = np.meshgrid(t_hours, LAT, LON, indexing="ij")
    return 273.15 + 10.0 + 0.1 * lo - 0.2 * la + 0.01 * tt


def _write_day(path, start: str, n_steps: int = 4) -> None:
    base = pd.Timestamp("2025-01-01")
    times = pd.date_range(start, periods=n_steps, freq="6h")
    hours = ((times - base) / pd.Timedelta("1h")).to_numpy(dtype=float)
    with netCDF4.Dataset(path, "w") as nc:
        nc.createDimension("time", None)
        nc.createDimension("level", LEVEL_PA.size)
        nc.createDimension("latitude", LAT.size)
        nc.createDimension("longitude", LON.size)
        v = nc.createVariable("time", "f8", ("time",))
        v.units, v.calendar = "hours since 2025-01-01 00:00:00", "standard"
        v[:] = hours
        v = nc.createVariable("level", "f8", ("level",))
        v.units = "Pa"
        v[:] = LEVEL_PA
        v = nc.createVariable("latitude", "f4", ("latitude",))
        v.units = "degrees_north"
        v[:] = LAT
        v = nc.createVariable("longitude", "f4", ("longitude",))
        v.units = "degrees_east"
        v[:] = LON
        v = nc.createVariable("t2m", "f8", ("time", "latitude", "longitude"))
        v.units, v.long_name = "K", "2 metre temperature"
        v[:] = _field(hours)
        v = nc.createVariable("sp", "f8", ("time", "latitude", "longitude"))
        v.units = "Pa"
        v[:] = np.full((n_steps, LAT.size, LON.size), 95_000.0)
        v = nc.createVariable("tp", "f8", ("time", "latitude", "longitude"))
        v.units = "m"
        v[:] = np.full((n_steps, LAT.size, LON.size), 0.0015)
        v = nc.createVariable("air", "f8", ("time", "level", "latitude", "longitude"))  # NCEP name for t
        v.units = "K"
        v[:] = np.full((n_steps, LEVEL_PA.size, LAT.size, LON.size), 250.0)
        v = nc.createVariable("blh", "f8", ("time", "latitude", "longitude"))
        v.units = "m"
        v[:] = np.full((n_steps, LAT.size, LON.size), 420.0)


@pytest.fixture
def series(tmp_path):
    paths = []
    for day in ("2025-01-03", "2025-01-01", "2025-01-02"):  # out of order on purpose
        path = tmp_path / f"nwp_{day}.nc"
        _write_day(path, day)
        paths.append(path)
    return tmp_path, paths


def test_multifile_series_streams_and_converts_once(series):
    folder, _paths = series
    ds = open_nwp(str(folder / "nwp_*.nc"), chunks={"time": 2, "lat": 25})
    assert ds.sizes["time"] == 12
    assert ds["time"].to_index().is_monotonic_increasing
    assert ds["time"].values[0] == np.datetime64("2025-01-01T00:00")
    # dask chunks by the normalised names, translated to the file's names
    assert ds["t2m"].chunks[0] == (2,) * 6
    assert ds["t2m"].chunks[1] == (25,)
    # coordinates normalised
    assert ds["lon"].values.min() == -180 and ds["lon"].values.max() == 177.5
    assert ds["lat"].to_index().is_monotonic_increasing
    assert ds["level"].values.tolist() == [850.0, 500.0] and ds["level"].attrs["units"] == "hPa"
    # units converted once: K -> °C, Pa -> hPa, m -> mm for precipitation, height stays m
    assert ds["t2m"].attrs["units"] == "degC" and ds["t2m"].attrs["units_source"] == "K"
    assert ds["sp"].attrs["units"] == "hPa" and float(ds["sp"].max()) == pytest.approx(950.0)
    assert ds["tp"].attrs["units"] == "mm" and float(ds["tp"].max()) == pytest.approx(1.5)
    assert ds["blh"].attrs["units"] == "m" and float(ds["blh"].max()) == 420.0
    assert "t" in ds and "air" not in ds and float(ds["t"].max()) == pytest.approx(-23.15)
    value = float(ds["t2m"].sel(time="2025-01-02T06:00", lat=40.0, lon=112.5))
    hours = (pd.Timestamp("2025-01-02T06:00") - pd.Timestamp("2025-01-01")) / pd.Timedelta("1h")
    assert value == pytest.approx(10.0 + 0.1 * 112.5 - 0.2 * 40.0 + 0.01 * hours)
    again = normalise_nwp(ds)  # idempotent: nothing converted twice
    xr.testing.assert_identical(again, ds)


def test_multifile_bilinear_exact_on_linear_field_and_wraps(series):
    _folder, paths = series
    ds = open_nwp(paths, variables=["t2m"])
    points = interp_to_points(
        ds, [YQ_LON, 358.75, -1.25], [YQ_LAT, 10.0, 10.0], names=["阳泉", "wrap", "wrap2"]
    )
    assert isinstance(points["t2m"].data, da.Array)  # still lazy
    got = points["t2m"].compute()
    hours = (pd.to_datetime(ds["time"].values) - pd.Timestamp("2025-01-01")) / pd.Timedelta("1h")
    hours = np.asarray(hours, dtype=float)
    # the field is linear in lon/lat, so bilinear interpolation is exact
    expected_yq = 10.0 + 0.1 * YQ_LON - 0.2 * YQ_LAT + 0.01 * hours
    np.testing.assert_allclose(got.sel(point="阳泉").values, expected_yq, rtol=1e-12)
    # across the date line: halfway between lon 357.5 (-2.5) and 0 → mean of the two columns
    west = ds["t2m"].sel(lon=-2.5, lat=10.0).values
    east = ds["t2m"].sel(lon=0.0, lat=10.0).values
    np.testing.assert_allclose(got.sel(point="wrap").values, (west + east) / 2, rtol=1e-12)
    np.testing.assert_allclose(got.sel(point="wrap2").values, (west + east) / 2, rtol=1e-12)


def test_open_nwp_errors(series, tmp_path):
    _folder, paths = series
    with pytest.raises(
        AirwarnError,
        match=r"no variable 'pm25'; available variables are \['t2m', 'sp', 'tp', 'air', "
        r"'blh'\]",
    ):
        open_nwp(paths[0], variables=["pm25"])
    with pytest.raises(AirwarnError, match=r"chunks: no dimension 'member'; the file has dimensions"):
        open_nwp(paths[0], chunks={"member": 1})
    with pytest.raises(FileNotFoundError, match=r"no netCDF file matches .*missing_\*\.nc"):
        open_nwp(str(tmp_path / "missing_*.nc"))
    with pytest.raises(FileNotFoundError, match=r"no such file: .*absent\.nc"):
        open_nwp(tmp_path / "absent.nc")
    junk = tmp_path / "junk.nc"
    junk.write_text("this is not netCDF\n")
    with pytest.raises(
        ReaderError,
        match=r"junk\.nc: not a readable netCDF file: expected a netCDF-3 \('CDF'\) or netCDF-4 \(HDF5\) "
        r"signature, got the bytes b'this is '",
    ):
        open_nwp(junk)
    nolatlon = tmp_path / "nolatlon.nc"
    xr.Dataset({"a": (("i", "j"), np.zeros((2, 2)))}).to_netcdf(nolatlon)
    with pytest.raises(
        ReaderError, match=r"nolatlon\.nc: no lon / lat coordinate; expected coordinates named like"
    ):
        open_nwp(nolatlon)
    odd = tmp_path / "odd_units.nc"
    xr.Dataset(
        {
            "pm": (("lat", "lon"), np.ones((2, 2)), {"units": "furlongs"}),
            "q": (("lat", "lon"), np.ones((2, 2))),
        },
        coords={"lat": [30.0, 31.0], "lon": [110.0, 111.0]},
    ).to_netcdf(odd)
    with pytest.warns(
        ReaderWarning,
        match=r"odd_units\.nc: units not recognised, kept as they are: "
        r"pm \[furlongs\], q \[no units\]",
    ):
        ds = open_nwp(odd)
    assert ds["pm"].attrs["units"] == "furlongs"
    badlev = tmp_path / "bad_level.nc"
    xr.Dataset(
        {"u": (("level", "lat", "lon"), np.ones((1, 2, 2)), {"units": "m s-1"})},
        coords={"level": ("level", [5.0], {"units": "km"}), "lat": [30.0, 31.0], "lon": [110.0, 111.0]},
    ).to_netcdf(badlev)
    with pytest.raises(
        ReaderError,
        match=r"bad_level\.nc, column 'level': expected pressure levels in Pa or hPa, "
        r"got 'km'",
    ):
        open_nwp(badlev)


def test_interp_compute_now_equals_lazy(series):
    _folder, paths = series
    ds = open_nwp(paths, chunks={"time": 4})
    lazy = interp_to_points(ds, [100.0, 120.0], [30.0, 45.0], names=["a", "b"])
    now = interp_to_points(ds, [100.0, 120.0], [30.0, 45.0], names=["a", "b"], compute=True, file_cache=1)
    assert isinstance(lazy["t2m"].data, da.Array) and isinstance(now["t2m"].data, np.ndarray)
    xr.testing.assert_allclose(lazy.compute(), now)
    assert now["t2m"].attrs["units"] == "degC" and now.attrs["airwarn_normalised"] == 1
    assert set(now.data_vars) == {"t2m", "sp", "tp", "t", "blh"} and now["t"].dims == (
        "time",
        "level",
        "point",
    )
