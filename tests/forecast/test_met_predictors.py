"""Daily weather predictors: one daily step for every source; ``airwarn met extract`` on GRIB2 and CSV."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from airwarn.cli import main
from forecast.met import DAILY_PREDICTORS, daily_predictors, read_met, stagnation_index
from tests.forecast import grib_writer as gw

RUN = dt.datetime(2016, 12, 14, 0)  # 08:00 Beijing time
STEPS = tuple(range(0, 73, 6))
CITIES = pd.DataFrame({"city": ["阳泉", "太原"], "lon": [113.567214, 112.5492], "lat": [37.856943, 37.8707]})
PRSA_ONE = "beijing_multisite_uci/PRSA_Data_Dongsi_20130301-20160229.csv.gz"


def _bilinear(grid: np.ndarray, lon: float, lat: float) -> float:
    i, j = (lon - 112.0) / 0.5, (lat - 36.0) / 0.5
    i0, j0 = int(np.floor(i)), int(np.floor(j))
    x, y = i - i0, j - j0
    return float(grid[j0, i0] * (1 - x) * (1 - y) + grid[j0, i0 + 1] * x * (1 - y)
                 + grid[j0 + 1, i0] * (1 - x) * y + grid[j0 + 1, i0 + 1] * x * y)


@pytest.fixture(scope="module")
def same_weather(tmp_path_factory):
    """A GRIB2 run in two files, the same values as a tidy CSV (Beijing times), and a city,lon,lat file."""
    d = tmp_path_factory.mktemp("met")
    gw.write_run(d / "run_a.grib2", RUN, STEPS[:7])
    gw.write_run(d / "run_b.grib2", RUN, STEPS[7:])
    rows = []
    for step in STEPS:
        fields = gw.fields_at(step)
        for _, c in CITIES.iterrows():
            row = {"city": c.city, "issued": "2016-12-14",
                   "time": (pd.Timestamp(RUN) + pd.Timedelta(hours=step + 8)).strftime("%Y-%m-%d %H:%M")}
            row.update({k: round(_bilinear(v, c.lon, c.lat), 6) for k, v in fields.items()})
            row["precip"] = round(_bilinear(gw.precip_amount(step), c.lon, c.lat), 6)
            rows.append(row)
    pd.DataFrame(rows).to_csv(d / "met_hourly.csv", index=False)
    CITIES.to_csv(d / "cities.csv", index=False)
    return d


def test_met_extract_same_predictors_from_grib2_and_tidy_csv(same_weather):
    d = same_weather
    args = ["--stations", str(d / "cities.csv"), "--cities", "阳泉,太原"]
    assert main(["met", "extract", "--met", str(d / "run_a.grib2"), str(d / "run_b.grib2"), *args,
                 "--out", str(d / "from_grib.csv")]) == 0
    assert main(["met", "extract", "--met", str(d / "met_hourly.csv"), *args,
                 "--out", str(d / "from_csv.csv")]) == 0
    grib = pd.read_csv(d / "from_grib.csv")
    csv = pd.read_csv(d / "from_csv.csv")
    assert list(grib.columns) == ["city", "issued", "date", "lead_day", *DAILY_PREDICTORS]
    assert list(csv.columns) == list(grib.columns)
    # 00 UTC + 0..72 h = 08:00 on the 14th … 08:00 on the 17th Beijing time: the 17th has one time, left out
    assert sorted(grib["date"].unique()) == ["2016-12-14", "2016-12-15", "2016-12-16"]
    assert grib["lead_day"].tolist() == [0, 1, 2, 0, 1, 2]
    pd.testing.assert_frame_equal(grib[["city", "issued", "date", "lead_day"]],
                                  csv[["city", "issued", "date", "lead_day"]])
    for name in DAILY_PREDICTORS:
        np.testing.assert_allclose(grib[name], csv[name], rtol=1e-3, atol=2e-3, err_msg=name)
    assert grib[list(DAILY_PREDICTORS)].notna().all().all()  # every predictor formed from these fields
    yq = grib[grib["city"] == "阳泉"].iloc[1]  # 2016-12-15: steps 18, 24, 30, 36 (02, 08, 14, 20 h)
    t2m = [_bilinear(gw.fields_at(s)["t2m"], CITIES.lon[0], CITIES.lat[0]) for s in (18, 24, 30, 36)]
    assert yq["t2m"] == pytest.approx(np.mean(t2m), abs=2e-3)
    assert yq["t2m_max"] == pytest.approx(max(t2m), abs=2e-3)
    # precipitation of the day: the amounts ending 02:00 … 20:00 (the one ending 08:00 on the 16th is not)
    rain = [_bilinear(gw.precip_amount(s), CITIES.lon[0], CITIES.lat[0]) for s in (18, 24, 30, 36)]
    assert yq["precip"] == pytest.approx(sum(rain), abs=4e-3)
    assert yq["inversion_850"] == pytest.approx(yq["t850"] - yq["t2m"], abs=1e-3)


def test_cities_without_coordinates_or_outside_the_grid_are_left_out(same_weather):
    from forecast.io import ReaderWarning

    d = same_weather
    coords = pd.concat([CITIES, pd.DataFrame({"city": ["广州"], "lon": [113.26], "lat": [23.13]})])
    with pytest.warns(ReaderWarning) as caught:
        df = read_met([d / "run_a.grib2", d / "run_b.grib2"], coords=coords, cities=["阳泉", "广州", "拉萨"])
    texts = " | ".join(str(w.message) for w in caught)
    assert "no coordinates for 1 cities, left out (no weather): ['拉萨']" in texts
    assert "1 cities lie outside the grid (lon 112..115, lat 36..39)" in texts and "['广州']" in texts
    assert df["city"].unique().tolist() == ["阳泉"] and len(df) == 3


def _rows(times, **values):
    return pd.DataFrame({"city": "阳泉", "time": pd.to_datetime(times), **values})


def test_day_coverage_and_precipitation_day():
    six = pd.date_range("2016-12-14 02:00", periods=9, freq="6h")  # 02 … 02 (+2 days): last day one time
    df = daily_predictors(_rows(six, t2m=np.arange(9.0), precip=np.ones(9)))
    assert df["date"].dt.strftime("%Y-%m-%d").tolist() == ["2016-12-14", "2016-12-15"]
    # amounts stamped at 02:00, 08:00, 14:00, 20:00 → 4 mm; the one stamped 00:00 would be the day before
    assert df["precip"].tolist() == [4.0, 4.0]
    midnight = daily_predictors(_rows(pd.date_range("2016-12-14 00:00", periods=48, freq="h"),
                                      precip=np.ones(48)))
    # the 14th: the hours ending 01:00 … 24:00 (00:00 of the 15th); its own 00:00 is the 13th's last hour
    assert midnight["precip"].tolist() == [24.0, 23.0]
    hourly = daily_predictors(_rows(pd.date_range("2016-12-14 08:00", periods=40, freq="h"),
                                    t2m=np.zeros(40)))
    assert hourly["date"].dt.day.tolist() == [15]  # the 14th: 08-23 h, 16 h < 18 h; the 15th: 24 hours
    hourly = daily_predictors(_rows(pd.date_range("2016-12-14 04:00", periods=44, freq="h"),
                                    t2m=np.zeros(44)))
    assert hourly["date"].dt.day.tolist() == [14, 15]  # 04-23 h: 20 h ≥ 18 h


def test_missing_inputs_give_nan_never_an_error():
    df = daily_predictors(pd.DataFrame({"city": ["阳泉"], "date": ["2016-12-14"], "t2m": [-3.0]}))
    assert list(df.columns) == ["city", "date", *DAILY_PREDICTORS]
    assert df["t2m"].item() == -3.0 and df["t2m_min"].item() == -3.0
    assert df.drop(columns=["city", "date", "t2m", "t2m_min", "t2m_max"]).isna().all().all()


def test_wind_direction_rh_ventilation_and_stagnation():
    df = daily_predictors(pd.DataFrame({
        "city": ["阳泉", "太原"], "date": ["2016-12-14"] * 2, "ws10": [2.0, 6.0], "wd10": [0.0, 270.0],
        "t2m": [10.0, 0.0], "d2m": [10.0, -10.0], "blh": [300.0, 1200.0], "precip": [0.2, 0.0]}))
    yq, ty = df.set_index("city").loc["阳泉"], df.set_index("city").loc["太原"]
    assert yq["u10"] == pytest.approx(0.0, abs=1e-12) and yq["v10"] == pytest.approx(-2.0)  # from the north
    assert ty["u10"] == pytest.approx(6.0) and ty["v10"] == pytest.approx(0.0, abs=1e-12)  # from the west
    assert yq["rh"] == pytest.approx(100.0) and 45 < ty["rh"] < 48  # Magnus: 0 °C / −10 °C dew point ≈ 46 %
    assert yq["ventilation"] == pytest.approx(600.0) and ty["ventilation"] == pytest.approx(7200.0)
    assert yq["stagnation"] == 1.0 and ty["stagnation"] == 0.0
    assert stagnation_index([2.0, 2.0, np.nan], [0.0, 1.5, 0.0]).tolist()[:2] == [1.0, 0.0]
    assert np.isnan(stagnation_index([np.nan], [0.0])[0])


def test_uci_station_predictors_plausible(shared_data):
    df = read_met(shared_data / PRSA_ONE)
    assert set(df["city"]) == {"Dongsi", "北京"}
    one = df[df["city"] == "Dongsi"].set_index("date")
    assert one.index.min() == pd.Timestamp("2013-03-01") and len(one) > 1000
    assert one["t2m"].between(-20, 35).all() and (one["t2m_min"] <= one["t2m_max"]).all()
    assert one["rh"].between(3, 100.5).all() and one["psfc"].between(985, 1045).all()
    assert one["ws10"].between(0, 12).all() and one["precip"].min() == 0.0
    year = one.loc["2014-01-01":"2014-12-31"]
    assert 300 < year["precip"].sum() < 900  # Beijing: about 500–600 mm a year
    winter = one[one.index.month.isin([12, 1, 2])]["stagnation"]
    summer = one[one.index.month.isin([6, 7, 8])]["stagnation"]
    assert set(one["stagnation"].dropna().unique()) <= {0.0, 1.0}
    assert 0.3 < winter.mean() < 0.95 and summer.mean() < winter.mean()
    assert one[["blh", "t850", "tcc", "inversion_850", "ventilation"]].isna().all().all()  # not in the file


def test_synthetic_nwp_run_marked_and_read(tmp_path):
    from forecast.io.grib import scan_grib
    from forecast.synthetic_nwp import write_synthetic_nwp

    paths = write_synthetic_nwp(tmp_path, dt.date(2026, 12, 2))
    assert [p.name for p in paths] == ["synthetic_nwp_2026120200_1of2.grib2",
                                       "synthetic_nwp_2026120200_2of2.grib2"]
    scan = scan_grib(paths)
    assert set(scan["productionStatusOfProcessedData"]) == {1} and scan["run"].nunique() == 1
    assert scan["endStep"].max() == 240 and scan["field"].notna().all()
    df = read_met(paths, coords=CITIES, cities=["阳泉"])
    assert df["issued"].unique().tolist() == [pd.Timestamp("2026-12-02")] and len(df) == 10
    before, after = df.iloc[:4], df.iloc[-3:]
    # the stagnant spell, then the cold front: wind up, boundary layer up, cooler, drier, no inversion
    assert after["ws10"].mean() > 2 * before["ws10"].mean() and after["blh"].mean() > before["blh"].mean()
    assert after["t2m"].mean() < before["t2m"].mean() - 3 and after["rh"].mean() < before["rh"].mean()
    assert (before["stagnation"] == 1).all() and (after["stagnation"] == 0).all()
    assert before["inversion_850"].mean() > after["inversion_850"].mean()
    assert df["tcc"].between(0, 1).all() and df["psfc"].between(900, 1000).all()
