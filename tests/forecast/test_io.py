"""Readers of observation files: real shared files, hand-made fixtures and every error message."""
from __future__ import annotations

import gzip
import warnings

import numpy as np
import pandas as pd
import pytest

from forecast import io as fio
from forecast.io import ReaderError, ReaderWarning

CITY_DAILY = "cn_city_daily_aqistudy/city_daily_aqi_20131202-20160131.csv.gz"
HEADER = "city,date,aqi,aqi_range,quality_level,pm25,pm10,so2,co,no2,o3,rank\n"


def _write(path, text: str, encoding: str = "utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


# --------------------------------------------------------------------------- city daily, real file


@pytest.fixture(scope="module")
def city_daily(shared_data):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = fio.read_city_daily(shared_data / CITY_DAILY)
    df.attrs["caught"] = [w for w in caught if issubclass(w.category, ReaderWarning)]
    return df


def test_city_daily_real_counts_and_schema(city_daily):
    df = city_daily
    assert len(df) == 217_218
    assert df["city"].nunique() == 366
    assert list(df.columns[:10]) == [
        "city", "date", "aqi", "quality_level", "pm25", "pm10", "so2", "no2", "co", "o3_8h",
    ]
    assert df["date"].dtype == "datetime64[ns]"
    assert (df["date"] == df["date"].dt.normalize()).all()
    per_city = df.groupby("city").size()
    for city in ("阳泉", "太原", "北京"):
        assert per_city[city] == 791
        days = df.loc[df.city == city, "date"]
        assert days.min() == pd.Timestamp("2013-12-02") and days.max() == pd.Timestamp("2016-01-31")
        assert days.diff().dropna().eq(pd.Timedelta("1D")).all()  # no missing dates
    for city in ("晋中", "晋城", "朔州", "运城", "忻州", "吕梁"):
        assert per_city[city] == 397
        assert df.loc[df.city == city, "date"].min() == pd.Timestamp("2014-12-31")
    # sorted by city, date, no duplicates
    assert not df.duplicated(["city", "date"]).any()
    assert df.equals(df.sort_values(["city", "date"]).reset_index(drop=True))


def test_city_daily_real_values_and_units(city_daily):
    yq = city_daily[city_daily.city == "阳泉"].set_index("date")
    first = yq.loc["2013-12-02"]
    # the file's line: 阳泉,2013-12-02,89,78~119,良,47.6,99.3,186.5,1.41,53.5,37,27
    assert (first.aqi, first.pm25, first.pm10, first.so2, first.co, first.no2, first.o3_8h) == (
        89, 47.6, 99.3, 186.5, 1.41, 53.5, 37,
    )
    assert (first.aqi_min, first.aqi_max, first["rank"], first.quality_level) == (78, 119, 27, "良")
    # CO stays in mg/m³ (city means around 1-3), O3 is O3-8h: higher in June than in winter
    assert 0.5 < yq["co"].median() < 5
    june = yq.loc[yq.index.month == 6, "o3_8h"].median()
    january = yq.loc[yq.index.month == 1, "o3_8h"].median()
    assert june > 2 * january


def test_city_daily_real_cleaning_is_counted(city_daily):
    qc = city_daily.attrs["qc"]
    # isolated zeros of one pollutant become NaN and are counted per pollutant
    for name in ("pm25", "pm10", "so2", "no2", "co", "o3_8h"):
        assert (city_daily[name] == 0).sum() == 0
        assert city_daily[name].isna().sum() == qc.get(f"{name}=0", 0) + qc.get(f"{name}>1000", 0)
    assert qc["o3_8h=0"] > 100
    # the README's suspicious O3 spikes above 1,000 in southern cities
    assert qc["o3_8h>1000"] >= 3
    assert city_daily["o3_8h"].max() <= 1000
    spikes = [("吴江", "2014-01-07"), ("清远", "2014-03-18"), ("诸暨", "2014-09-13")]
    for city, day in spikes:
        row = city_daily[(city_daily.city == city) & (city_daily.date == day)]
        assert row["o3_8h"].isna().all() and row["aqi"].notna().all()
    [warning] = city_daily.attrs["caught"]
    assert "o3_8h>1000: " in str(warning.message) and "pm25=0: " in str(warning.message)


# --------------------------------------------------------------------------- city daily, hand-made files


def test_city_daily_zero_rows_drop_or_nan(tmp_path):
    path = _write(
        tmp_path / "zeros.csv",
        HEADER
        + "阳泉,2014-01-01,0,0~0,,0,0,0,0,0,0,0\n"
        + "阳泉,2014-01-02,80,70~90,良,50,70,30,1.2,40,60,12\n"
        + "阳泉,2014-01-03,75,60~80,良,0,70,30,1.2,40,60,0\n",
    )
    with pytest.warns(ReaderWarning, match=r"zero_rows: 1, pm25=0: 1"):
        dropped = fio.read_city_daily(path)
    assert dropped["date"].dt.day.tolist() == [2, 3]
    assert np.isnan(dropped.loc[1, "pm25"]) and np.isnan(dropped.loc[1, "rank"])
    with pytest.warns(ReaderWarning):
        kept = fio.read_city_daily(path, zero_rows="nan")
    assert len(kept) == 3
    assert kept.loc[0, ["aqi", "pm25", "o3_8h", "aqi_min", "aqi_max"]].isna().all()
    assert pd.isna(kept.loc[0, "quality_level"])
    with pytest.raises(ValueError, match="zero_rows must be 'drop' or 'nan', got 'keep'"):
        fio.read_city_daily(path, zero_rows="keep")


def test_city_daily_several_files_later_wins(tmp_path):
    old = _write(
        tmp_path / "old.csv.gz", "",
    )
    with gzip.open(old, "wt", encoding="utf-8") as fh:
        fh.write(
            HEADER
            + "太原,2014-01-01,90,70~99,良,60,100,40,1.5,45,30,50\n"
            + "太原,2014-01-02,91,70~99,良,61,100,40,1.5,45,30,51\n"
        )
    new = _write(
        tmp_path / "new.csv",
        # o3_8h header, other column order, no aqi_range/rank, a synthetic flag
        "date,city,aqi,quality_level,pm25,pm10,so2,no2,co,o3_8h,synthetic\n"
        "2014-01-02,太原,95,良,66,100,40,45,1.5,30,true\n"
        "2014-01-03,太原,70,良,40,80,30,40,1.1,35,false\n",
    )
    with pytest.warns(ReaderWarning, match="conflicts: 1"):
        df = fio.read_city_daily([old, new])
    assert df["date"].dt.day.tolist() == [1, 2, 3]
    assert df["aqi"].tolist() == [90, 95, 70]  # the later file wins on 2014-01-02
    assert df["synthetic"].tolist() == [False, True, False]
    assert df.attrs["qc"]["duplicates"] == 1


def test_city_daily_identical_overlap_is_silent(tmp_path):
    text = HEADER + "太原,2014-01-01,90,70~99,良,60,100,40,1.5,45,30,50\n"
    a, b = _write(tmp_path / "a.csv", text), _write(tmp_path / "b.csv", text)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        df = fio.read_city_daily([a, b])
    assert len(df) == 1


def test_city_daily_gbk_and_buffer(tmp_path):
    text = HEADER + "阳泉,2014-01-02,80,70~90,良,50,70,30,1.2,40,60,12\n"
    from_gbk = fio.read_city_daily(_write(tmp_path / "gbk.csv", text, "gb18030"))
    import io

    from_buf = fio.parse_city_daily(io.StringIO(text))
    assert from_gbk.loc[0, "city"] == "阳泉" == from_buf.loc[0, "city"]
    pd.testing.assert_frame_equal(from_gbk, from_buf, check_like=True)


@pytest.mark.parametrize(
    "line, match",
    [
        ("阳泉,2014-01-02,80,70~90,良,50,abc,30,1.2,40,60,12",
         r"bad\.csv, row 3, column 'pm10': expected a number, got 'abc'"),
        ("阳泉,2014/01/02,80,70~90,良,50,70,30,1.2,40,60,12",
         r"bad\.csv, row 3, column 'date': expected a date YYYY-MM-DD, got '2014/01/02'"),
        ("阳泉,,80,70~90,良,50,70,30,1.2,40,60,12",
         r"bad\.csv, row 3, column 'date': expected a date YYYY-MM-DD, got ''"),
        (",2014-01-02,80,70~90,良,50,70,30,1.2,40,60,12",
         r"bad\.csv, row 3, column 'city': expected a non-empty name, got ''"),
        ("阳泉,2014-01-02,80,70-90x,良,50,70,30,1.2,40,60,12",
         r"bad\.csv, row 3, column 'aqi_range': expected an AQI range 'min~max', got '70-90x'"),
    ],
)
def test_city_daily_bad_value_names_file_row_column(tmp_path, line, match):
    good = "阳泉,2014-01-01,80,70~90,良,50,70,30,1.2,40,60,12\n"
    path = _write(tmp_path / "bad.csv", HEADER + good + line + "\n")
    with pytest.raises(ReaderError, match=match):
        fio.read_city_daily(path)


def test_city_daily_line_numbers_count_blank_lines(tmp_path):
    path = _write(
        tmp_path / "blank.csv",
        HEADER + "阳泉,2014-01-01,80,70~90,良,50,70,30,1.2,40,60,12\n\n\n"
        "阳泉,2014-01-02,80,70~90,良,50,70,30,1.2,40,?,12\n",
    )
    with pytest.raises(ReaderError, match=r"row 5, column 'o3': expected a number, got '\?'"):
        fio.read_city_daily(path)


def test_city_daily_missing_columns_and_empty_file(tmp_path):
    path = _write(tmp_path / "cols.csv", "city,date,aqi,pm25,pm10\n阳泉,2014-01-01,80,50,70\n")
    with pytest.raises(ReaderError, match=r"cols\.csv: missing required column\(s\) \['so2', 'no2', 'co', "
                       r"'o3_8h'\]; expected columns .* found \['city', 'date', 'aqi', 'pm25', 'pm10'\]"):
        fio.read_city_daily(path)
    with pytest.raises(ReaderError, match=r"empty\.csv: the file is empty; expected a CSV header line"):
        fio.read_city_daily(_write(tmp_path / "empty.csv", ""))
    with pytest.raises(FileNotFoundError, match="no such file: .*nothere.csv"):
        fio.read_city_daily(tmp_path / "nothere.csv")
    with pytest.raises(ValueError, match="no file given"):
        fio.read_city_daily([])


def test_city_daily_range_checks(tmp_path):
    path = _write(
        tmp_path / "range.csv",
        HEADER
        + "阳泉,2014-01-01,80,70~90,良,-5,70,30,1.2,40,1500,12\n"
        + "阳泉,2014-01-02,80,70~90,良,50,70,30,250,40,60,12\n",
    )
    with pytest.warns(ReaderWarning, match=r"pm25<0: 1, co>100: 1, o3_8h>1000: 1"):
        df = fio.read_city_daily(path)
    assert df["pm25"].isna().tolist() == [True, False]
    assert df["o3_8h"].isna().tolist() == [True, False]
    assert df["co"].isna().tolist() == [False, True]
