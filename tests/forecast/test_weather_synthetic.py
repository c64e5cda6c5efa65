"""Whether weather is synthetic is carried in the data, not guessed from file names: the readers set
``attrs["synthetic"]`` (a GRIB2 run's test-product mark, a tidy CSV's ``synthetic`` column),
:func:`forecast.model_cli.load_met` keeps it, and the product records it as ``weather_synthetic``.

The GRIB2 files are written with ecCodes by :mod:`forecast.synthetic_nwp` (the demo's seeded weather);
every value here is SYNTHETIC.
"""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from forecast import product as P
from forecast.io.grib import open_grib, scan_grib
from forecast.met import read_met
from forecast.model_cli import load_met
from forecast.synthetic_nwp import GRID_LAT, GRID_LON, synthetic_run, write_grib2, write_synthetic_nwp

ISSUED = dt.date(2026, 12, 2)
#: The run of the other files: the day before the demo's (two runs side by side, each its own issue day).
RUN = dt.datetime(2026, 12, 1, 0)
CITIES = pd.DataFrame({"city": ["阳泉", "太原"], "lon": [113.567214, 112.5492],
                       "lat": [37.856943, 37.8707]})


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The demo's synthetic run (two files, named ``synthetic_nwp_*``), and two days of the same weather
    written as an operational product (status 0) and as a real centre's test product (ECMWF, status 1),
    under names that say nothing."""
    d = tmp_path_factory.mktemp("synthetic-nwp")
    demo = write_synthetic_nwp(d / "demo", ISSUED)
    steps, fields = synthetic_run(RUN, days=2)
    plain = write_grib2(d / "gfs_2026120100.grib2", fields, GRID_LON, GRID_LAT, RUN, steps, synthetic=False)
    ecmwf_test = write_grib2(d / "ifs_test_2026120100.grib2", fields, GRID_LON, GRID_LAT, RUN, steps,
                             synthetic=True, centre=98)
    return {"demo": demo, "plain": plain, "ecmwf_test": ecmwf_test, "dir": d}


@pytest.fixture(scope="module")
def demo_met(runs):
    """The demo's run read as the model reads ``--met`` (:func:`forecast.model_cli.load_met`)."""
    return load_met(runs["demo"], None, CITIES)


def test_grib_reader_records_the_test_product_mark(runs):
    scan = scan_grib(runs["demo"])
    assert set(scan["productionStatusOfProcessedData"]) == {1} and set(scan["centre"]) == {"255"}
    assert open_grib(runs["demo"]).attrs["synthetic"] == 1
    plain = open_grib(runs["plain"])
    assert plain.attrs["synthetic"] == 0 and plain.attrs["production_status"] == "0"
    # a real centre's test product is real weather, not the demo's
    ecmwf = open_grib(runs["ecmwf_test"])
    assert ecmwf.attrs["production_status"] == "1" and ecmwf.attrs["synthetic"] == 0


def test_read_met_and_load_met_keep_the_flag(runs, demo_met, tmp_path):
    assert demo_met.attrs["synthetic"] is True and set(demo_met["issued"]) == {pd.Timestamp(ISSUED)}
    assert read_met([runs["plain"]], coords=CITIES, cities=["阳泉"]).attrs["synthetic"] is False
    # load_met combines files: synthetic when any of them is
    assert load_met([runs["plain"]], None, CITIES).attrs["synthetic"] is False
    both = load_met([runs["plain"], *runs["demo"]], None, CITIES)
    assert both.attrs["synthetic"] is True and len(both.attrs["sources"]) == 3
    assert both["issued"].nunique() == 2  # two runs, one of them synthetic
    # a tidy CSV's synthetic column, under a name that says nothing, beside the operational run
    csv = tmp_path / "bureau_daily.csv"
    csv.write_text("city,date,t2m,ws10,synthetic\n"
                   "阳泉,2026-11-30,1.5,2.0,True\n阳泉,2026-12-01,0.5,1.0,True\n", encoding="utf-8")
    assert read_met([csv]).attrs["synthetic"] is True
    assert load_met([runs["plain"], csv], None, CITIES).attrs["synthetic"] is True
    real = tmp_path / "bureau_real.csv"
    real.write_text("city,date,t2m,ws10\n阳泉,2026-11-30,1.5,2.0\n", encoding="utf-8")
    assert load_met([real], None, CITIES).attrs["synthetic"] is False


def _model():
    """The little of a trained model :func:`forecast.product.forecast_dataset` reads, with weather."""
    return SimpleNamespace(name="tiny", train_span_=("2025-01-01", "2026-11-30"), threshold_pool_km=150.0,
                           coords_=CITIES, with_met_=True, met_variables_=["blh"],
                           decision_thresholds=lambda t, cities: np.full((len(cities), len(P.LEADS)), 0.5))


def _product(met):
    """A one-city, one-day product whose ``met_blh`` is ``met``'s, built as predict builds it."""
    issued = pd.Timestamp(ISSUED)
    table = pd.DataFrame({"city": "阳泉", "issued": issued, "lead_day": list(P.LEADS),
                          "valid_date": [issued + pd.Timedelta(days=k) for k in P.LEADS],
                          "met_blh": np.linspace(300.0, 900.0, len(P.LEADS))})
    keys = pd.DataFrame({"city": ["阳泉"], "issued": [issued]})
    n, q = len(table), len(P.QUANTILES)
    aqi = np.tile(np.linspace(60.0, 180.0, q), (n, 1))
    probs = {t: np.full(n, 0.2) for t in P.THRESHOLDS}
    members = np.full((1, 5, len(P.LEADS)), 100.0)
    crit = {c.key: np.array([0.1]) for c in P.CRITERIA}
    return P.forecast_dataset(_model(), table, keys, {"pm25": aqi * 0.7}, aqi, probs, members, crit,
                              weather_sources=P.met_sources(met), weather_synthetic=P.met_synthetic(met))


def test_product_records_synthetic_weather_through_the_netcdf(runs, demo_met, tmp_path):
    nc, _ = P.write_forecast(_product(demo_met), tmp_path / "forecast.nc")
    ds = P.open_forecast(nc)
    assert ds.attrs["weather_synthetic"] == 1 and ds.attrs["weather_used"] == "yes"
    assert P.weather_info(ds)["synthetic"] is True
    plain = P.open_forecast(P.write_forecast(_product(load_met([runs["plain"]], None, CITIES)),
                                             tmp_path / "plain.nc")[0])
    assert plain.attrs["weather_synthetic"] == 0 and P.weather_info(plain)["synthetic"] is False
    assert P.met_synthetic(None) is False
