"""The tidy station/city meteorology CSV: layouts, unit checks, row errors, warnings."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from forecast.io import ReaderError, ReaderWarning
from forecast.io.met_csv import read_met_csv

STATIONS = ("监测点编码,监测点名称,城市,经度,纬度,对照点\n"
            "1738A,市监测站,阳泉,113.56,37.85,N\n1739A,平坦垴,阳泉,113.59,37.86,N\n"
            "1081A,尖草坪,太原,112.51,37.94,N\n")


def _csv(tmp_path, text: str, name: str = "met.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_daily_city_rows(tmp_path):
    path = _csv(tmp_path, "city,date,t2m,d2m,rh,ws10,wd10,psfc,precip,blh,t850,tcc\n"
                          "阳泉,2016-12-14,-2.5,-9.0,61,1.8,225,932.5,0,420,1.5,0.4\n"
                          "太原,2016-12-14,-3.1,-10.2,58,1.2,180,915.0,0.2,380,0.8,0.5\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        df = read_met_csv(path)
    assert list(df.columns) == ["city", "date", "t2m", "d2m", "rh", "ws10", "wd10", "psfc", "precip", "blh",
                                "t850", "tcc"]
    assert df["city"].tolist() == ["太原", "阳泉"]  # sorted by city, date
    assert df["date"].dtype == "datetime64[ns]" and df["date"].iloc[0] == pd.Timestamp("2016-12-14")
    assert df.loc[df.city == "阳泉", "psfc"].item() == 932.5
    assert df.attrs["qc"] == {} and df.attrs["unknown_columns"] == []


def test_hourly_station_rows_mapped_to_cities_times_in_beijing(tmp_path):
    stations = _csv(tmp_path, STATIONS, "stations.csv")
    path = _csv(tmp_path, "station,time,t2m,u10,v10\n"
                          "1738A,2016-12-14 08:00,-4.0,1.0,-1.0\n"
                          "平坦垴,2016-12-14 08:00,-5.0,1.5,-0.5\n"
                          "1081A,2016-12-14T00:00+00:00,-6.0,0.5,0.5\n")
    df = read_met_csv(path, stations=stations)
    assert df[["city", "station"]].values.tolist() == [["太原", "1081A"], ["阳泉", "1738A"], ["阳泉", "平坦垴"]]
    # 00:00 UTC is 08:00 Beijing time; times without an offset are Beijing time already
    assert (df["time"] == pd.Timestamp("2016-12-14 08:00")).all()
    with pytest.raises(ReaderError, match=r"no city; expected a 'city' column or a station list"):
        read_met_csv(path)
    other = _csv(tmp_path, "station,time,t2m\n9999A,2016-12-14 08:00,1\n", "other.csv")
    with pytest.raises(ReaderError, match=r"other\.csv, row 2, column 'station': station '9999A' is not in "
                                          r"the station list"):
        read_met_csv(other, stations=stations)


@pytest.mark.parametrize("column, values, message", [
    ("t2m", [271.2, 268.9, 275.0, 280.4],
     r"column 't2m': expected °C, got values 268\.9–280\.4 that look like K"),
    ("psfc", [93250, 93010, 92870], r"column 'psfc': expected hPa, got values 92870–93250 that look like Pa"),
    ("tcc", [40, 85, 100], r"column 'tcc': expected 0–1, got values 40–100 that look like %"),
    ("rh", [0.61, 0.55, 0.8],
     r"column 'rh': expected %, got values 0\.55–0\.8 that look like a fraction 0–1"),
    ("blh", [0.42, 0.5, 1.1], r"column 'blh': expected m, got values 0\.42–1\.1 that look like km"),
])
def test_a_column_in_the_wrong_unit_is_refused(tmp_path, column, values, message):
    rows = "".join(f"阳泉,2016-12-{14 + k},{v}\n" for k, v in enumerate(values))
    path = _csv(tmp_path, f"city,date,{column}\n{rows}")
    with pytest.raises(ReaderError, match=r"met\.csv, " + message):
        read_met_csv(path)


def test_right_units_near_the_edges_are_accepted(tmp_path):
    path = _csv(tmp_path, "city,date,t2m,rh,tcc,blh\n阳泉,2016-12-14,-25,100,1,50\n阳泉,2016-12-15,-30,98,0,20\n"
                          "阳泉,2016-12-16,-28,99,0.5,30\n")
    df = read_met_csv(path)
    assert df["t2m"].tolist() == [-25, -30, -28] and df["tcc"].tolist() == [1, 0, 0.5]


def test_row_errors_name_file_row_column_expected_got(tmp_path):
    path = _csv(tmp_path, "city,date,t2m,precip\n阳泉,2016-12-14,-2.5,0\n阳泉,2016-12-15,minus 3,0\n")
    with pytest.raises(ReaderError, match=r"met\.csv, row 3, column 't2m': expected a number, got 'minus 3'"):
        read_met_csv(path)
    path = _csv(tmp_path, "city,date,t2m\n阳泉,2016-13-14,-2.5\n", "bad_date.csv")
    with pytest.raises(ReaderError, match=r"bad_date\.csv, row 2, column 'date': expected a date YYYY-MM-DD, "
                                          r"got '2016-13-14'"):
        read_met_csv(path)
    path = _csv(tmp_path, "city,date,time,t2m\n阳泉,2016-12-14,2016-12-14 08:00,1\n", "both.csv")
    with pytest.raises(ReaderError, match=r"both 'date' and 'time' columns"):
        read_met_csv(path)
    path = _csv(tmp_path, "city,date,t2m\n阳泉,2016-12-14,-2.5\n阳泉,2016-12-14,-3.0\n", "dup.csv")
    with pytest.raises(ReaderError, match=r"dup\.csv, row 3: duplicate record"):
        read_met_csv(path)


def test_implausible_value_set_to_missing_and_unknown_columns_named_once(tmp_path):
    path = _csv(tmp_path, "city,date,t2m,ws10,visibility,pm25\n"
                          "阳泉,2016-12-14,-2.5,1.5,3.0,180\n阳泉,2016-12-15,-3.0,180,2.5,210\n"
                          "阳泉,2016-12-16,-1.0,2.0,8.0,95\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = read_met_csv(path)
    texts = [str(w.message) for w in caught if issubclass(w.category, ReaderWarning)]
    assert len(texts) == 2
    assert "columns not known, left out: ['visibility', 'pm25']" in texts[0]
    assert "row 3, column 'ws10' (阳泉): '180' (outside the plausible range 0..75 m/s)" in texts[1]
    assert np.isnan(df["ws10"].iloc[1]) and df["ws10"].iloc[0] == 1.5
    assert "visibility" not in df.columns and df.attrs["unknown_columns"] == ["visibility", "pm25"]
    assert df.attrs["qc_rows"][0]["row"] == 3


def test_no_meteorological_column(tmp_path):
    path = _csv(tmp_path, "city,date,aqi\n阳泉,2016-12-14,150\n")
    with pytest.raises(ReaderError, match=r"no meteorological column; expected any of \['t2m', 'd2m'"):
        read_met_csv(path)


def test_synthetic_marker_column_is_recorded_not_warned_about(tmp_path):
    path = _csv(tmp_path, "city,date,t2m,ws10,synthetic\n阳泉,2026-12-01,-2.5,1.5,True\n阳泉,2026-12-02,-3.0,2.0,True\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = read_met_csv(path)
    assert not [w for w in caught if issubclass(w.category, ReaderWarning)]
    assert df.attrs["synthetic"] is True and df.attrs["unknown_columns"] == [] and "synthetic" not in df.columns
    real = read_met_csv(_csv(tmp_path, "city,date,t2m\n阳泉,2026-12-01,-2.5\n阳泉,2026-12-02,-3.0\n"))
    assert real.attrs["synthetic"] is False
