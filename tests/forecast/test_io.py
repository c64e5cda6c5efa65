"""Readers of observation files: real shared files, hand-made fixtures and every error message."""

from __future__ import annotations

from airwarn.core.errors import AirwarnError
import argparse
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
        "city",
        "date",
        "aqi",
        "quality_level",
        "pm25",
        "pm10",
        "so2",
        "no2",
        "co",
        "o3_8h",
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
        89,
        47.6,
        99.3,
        186.5,
        1.41,
        53.5,
        37,
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
        tmp_path / "old.csv.gz",
        "",
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
        (
            "阳泉,2014-01-02,80,70~90,良,50,abc,30,1.2,40,60,12",
            r"bad\.csv, row 3, column 'pm10': expected a number, got 'abc'",
        ),
        (
            "阳泉,2014/01/02,80,70~90,良,50,70,30,1.2,40,60,12",
            r"bad\.csv, row 3, column 'date': expected a date YYYY-MM-DD, got '2014/01/02'",
        ),
        (
            "阳泉,,80,70~90,良,50,70,30,1.2,40,60,12",
            r"bad\.csv, row 3, column 'date': expected a date YYYY-MM-DD, got ''",
        ),
        (
            ",2014-01-02,80,70~90,良,50,70,30,1.2,40,60,12",
            r"bad\.csv, row 3, column 'city': expected a non-empty name, got ''",
        ),
        (
            "阳泉,2014-01-02,80,70-90x,良,50,70,30,1.2,40,60,12",
            r"bad\.csv, row 3, column 'aqi_range': expected an AQI range 'min~max', got '70-90x'",
        ),
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
    with pytest.raises(
        ReaderError,
        match=r"cols\.csv: missing required column\(s\) \['so2', 'no2', 'co', "
        r"'o3_8h'\]; expected columns .* found \['city', 'date', 'aqi', 'pm25', 'pm10'\]",
    ):
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


# --------------------------------------------------------------------------- CNEMC single-station hourly

CNEMC_1410A = "cnemc_station_hourly/station_1410A_haikou_20140513-20220330.csv.gz"


def test_cnemc_station_hourly_real(shared_data):
    df = fio.read_cnemc_station_hourly(shared_data / CNEMC_1410A)
    assert list(df.columns) == ["time", "station", "pm25", "so2", "no2", "co", "o3"]  # no PM10 in this file
    assert (df["station"] == "1410A").all()
    # 66,997 rows in the file + 2,099 absent hours = a complete hourly grid
    assert df.attrs["qc"]["absent_hours"] == 2_099
    assert len(df) == 66_997 + 2_099
    assert df["time"].iloc[0] == pd.Timestamp("2014-05-13 00:00")
    assert df["time"].iloc[-1] == pd.Timestamp("2022-03-30 23:00")
    assert df["time"].diff().dropna().eq(pd.Timedelta("1h")).all()
    assert df.attrs["hour_label"] == "end"  # the value of aggregate.hourly_to_daily(hour_label=...)
    # first line 2014-05-13 00:00:00,20.0,2.0,13.0,0.571,7.0 (PM2.5,O3,NO2,CO,SO2); third has an empty SO2
    assert df.loc[0, ["pm25", "o3", "no2", "co", "so2"]].tolist() == [20.0, 2.0, 13.0, 0.571, 7.0]
    assert np.isnan(df.loc[2, "so2"])
    # CO stays mg/m³ (Haikou: about 0.5)
    assert 0.3 < df["co"].median() < 1.0
    # the added hours are all-NaN rows
    added = df[["pm25", "so2", "no2", "co", "o3"]].isna().all(axis=1)
    assert added.sum() >= 2_099


def test_cnemc_station_hourly_station_argument_and_errors(tmp_path):
    path = _write(
        tmp_path / "haikou.csv",
        "datetime,PM2.5,PM10,O3,NO2,CO,SO2\n"
        "2020-01-01 00:00:00,20,40,30,10,0.5,5\n"
        "2020-01-01 03:00:00,22,41,31,11,0.6,\n",
    )
    with pytest.raises(ReaderError, match=r"haikou\.csv: no station code: .* pass station=\.\.\."):
        fio.read_cnemc_station_hourly(path)
    df = fio.read_cnemc_station_hourly(path, station="9999A")
    assert len(df) == 4 and df["pm10"].tolist()[:1] == [40.0] and df["pm25"].isna().sum() == 2
    bad = _write(tmp_path / "s_1410A.csv", "datetime,PM2.5\n2020-01-01 00:00:00,20\n2020-01-01 00:30:00,21\n")
    with pytest.raises(
        ReaderError,
        match=r"row 3, column 'datetime': expected a timestamp on the hour, "
        r"got '2020-01-01 00:30:00'",
    ):
        fio.read_cnemc_station_hourly(bad)
    dup = _write(tmp_path / "d_1410A.csv", "datetime,PM2.5\n2020-01-01 00:00:00,20\n2020-01-01 00:00:00,21\n")
    with pytest.raises(
        ReaderError, match=r"row 3: duplicate record \(station=1410A, time=2020-01-01 00:00:00\)"
    ):
        fio.read_cnemc_station_hourly(dup)
    nopol = _write(tmp_path / "n_1410A.csv", "datetime,AQI\n2020-01-01 00:00:00,20\n")
    with pytest.raises(
        ReaderError,
        match=r"no pollutant column; expected some of \['PM2.5', .*found "
        r"\['datetime', 'AQI'\]",
    ):
        fio.read_cnemc_station_hourly(nopol)
    text = _write(
        tmp_path / "t_1410A.csv", "datetime,PM2.5\n2020-01-01 00:00:00,20\n2020-01-01 01:00:00,n/a!\n"
    )
    with pytest.raises(ReaderError, match=r"row 3, column 'PM2.5': expected a number, got 'n/a!'"):
        fio.read_cnemc_station_hourly(text)


# --------------------------------------------------------------------------- national archive (china_sites)

YANGQUAN = ["1738A", "1739A", "1740A", "1741A", "1742A", "1743A"]


@pytest.fixture
def china_sites_files(request):
    from pathlib import Path

    here = Path(request.fspath).resolve().parent.parent / "data"
    return [here / "china_sites_20250115.csv", here / "china_sites_20250116.csv"]


def test_china_sites_fixture_wide_tidy(china_sites_files):
    df = fio.read_china_sites(china_sites_files)
    assert list(df.columns[:4]) == ["time", "station", "aqi", "pm25"]
    assert set(fio.CHINA_SITES_TYPE_MAP.values()) == set(df.columns[2:])
    stations = sorted(df["station"].unique())
    assert stations == sorted([*YANGQUAN, "3619A", "1081A", "2171A"])
    # complete hourly grid over the two days for every station (48 h each)
    assert df.groupby("station").size().eq(48).all()
    assert df["time"].min() == pd.Timestamp("2025-01-15 00:00") and df["time"].max() == pd.Timestamp(
        "2025-01-16 23:00"
    )
    # 3619A is only in the second file; hour 5 of day 2 is absent from the archive
    s3619 = df[df.station == "3619A"].set_index("time")
    assert (
        s3619.loc["2025-01-15", "pm25"].isna().all() and s3619.loc["2025-01-16", "pm25"].notna().sum() == 23
    )
    assert df[df.time == "2025-01-16 05:00"].drop(columns=["time", "station"]).isna().all().all()
    assert df.attrs["qc"]["absent_hours"] == 24 + 9
    # values land in the right (station, hour, type) cell: compare with the raw file
    raw = pd.read_csv(china_sites_files[0], dtype={"date": str})
    cell = raw[(raw.hour == 7) & (raw.type == "PM2.5_24h")]["1740A"].item()
    got = df[(df.station == "1740A") & (df.time == "2025-01-15 07:00")]["pm25_24h"].item()
    assert got == cell
    co = raw[(raw.hour == 7) & (raw.type == "CO")]["1738A"].item()
    assert df[(df.station == "1738A") & (df.time == "2025-01-15 07:00")]["co"].item() == co
    # the analyser fault in the fixture: 1741A has no PM2.5 at 09:00 on the 15th
    assert np.isnan(df[(df.station == "1741A") & (df.time == "2025-01-15 09:00")]["pm25"].item())


def test_china_sites_station_filter(china_sites_files):
    df = fio.read_china_sites(china_sites_files, stations=YANGQUAN)
    assert sorted(df["station"].unique()) == YANGQUAN
    assert len(df) == 6 * 48
    with pytest.raises(
        AirwarnError,
        match=r"station\(s\) \['3619A'\] in none of the 1 file\(s\); stations found: "
        r"\['1081A', '1738A'",
    ):
        fio.read_china_sites(china_sites_files[:1], stations=["3619A"])


def test_china_sites_later_file_wins(china_sites_files, tmp_path):
    text = china_sites_files[0].read_text(encoding="utf-8")
    fixed = text.replace("20250115,7,PM2.5,", "20250115,7,PM2.5,999,", 1)
    _header, *_ = text.splitlines()
    # a correction file holding one re-issued row for 1738A only
    row = next(line for line in fixed.splitlines() if line.startswith("20250115,7,PM2.5,"))
    correction = _write(
        tmp_path / "china_sites_20250115_fix.csv",
        "date,hour,type,1738A\n" + ",".join(row.split(",")[:4]) + "\n",
    )
    df = fio.read_china_sites([china_sites_files[0], correction])
    assert df[(df.station == "1738A") & (df.time == "2025-01-15 07:00")]["pm25"].item() == 999
    assert df[(df.station == "1738A") & (df.time == "2025-01-15 08:00")]["pm25"].notna().item()


@pytest.mark.parametrize(
    "body, match",
    [
        (
            "20250115,0,PM25,10\n",
            r"row 2, column 'type': expected a pollutant type, one of \['AQI', 'PM2.5', .*got 'PM25'",
        ),
        ("20250115,24,PM2.5,10\n", r"row 2, column 'hour': expected an hour 0-23, got '24'"),
        ("2025-01-15,0,PM2.5,10\n", r"row 2, column 'date': expected a date YYYYMMDD, got '2025-01-15'"),
        ("20250115,0,PM2.5,ten\n", r"row 2, column '1738A': expected a number, got 'ten'"),
        (
            "20250115,0,PM2.5,10\n20250115,0,PM2.5,11\n",
            r"row 3: duplicate record \(time=2025-01-15 00:00:00, type=pm25\)",
        ),
    ],
)
def test_china_sites_errors(tmp_path, body, match):
    path = _write(tmp_path / "china_sites_20250115.csv", "date,hour,type,1738A\n" + body)
    with pytest.raises(ReaderError, match=r"china_sites_20250115\.csv, " + match):
        fio.read_china_sites(path)


def test_china_sites_missing_columns(tmp_path):
    path = _write(tmp_path / "china_sites_x.csv", "date,type,1738A\n20250115,PM2.5,10\n")
    with pytest.raises(
        ReaderError,
        match=r"missing required column\(s\) \['hour'\]; .*found \['date', 'type', "
        r"'1738A'\]",
    ):
        fio.read_china_sites(path)
    path = _write(tmp_path / "china_sites_y.csv", "date,hour,type\n20250115,0,PM2.5\n")
    with pytest.raises(ReaderError, match=r"no station columns after date,hour,type"):
        fio.read_china_sites(path)


# --------------------------------------------------------------------------- UCI PRSA

PRSA_DIR = "beijing_multisite_uci"
PRSA_SINGLE = "beijing_pm25_uci/PRSA_data_2010.1.1-2013.12.31.csv.gz"


@pytest.fixture(scope="module")
def prsa(shared_data):
    return fio.read_prsa_multisite(shared_data / PRSA_DIR)


def test_prsa_multisite_real(prsa, shared_data):
    df = prsa
    sizes = df.groupby("station").size()
    assert len(sizes) == 12 and sizes.eq(26_304).all()
    assert list(df.columns) == [
        "time",
        "station",
        "station_code",
        "pm25",
        "pm10",
        "so2",
        "no2",
        "co",
        "o3",
        "temp",
        "pres",
        "dewp",
        "rain",
        "wspm",
        "wd",
    ]
    assert df["station_code"].notna().all()
    assert dict(df.drop_duplicates("station")[["station", "station_code"]].values)["Dongsi"] == "1003A"
    t = df.loc[df.station == "Aotizhongxin", "time"]
    assert t.iloc[0] == pd.Timestamp("2013-03-01 00:00") and t.iloc[-1] == pd.Timestamp("2016-02-29 23:00")
    # first data line: 1,2013,3,1,0,4,4,4,7,300,77,-0.7,1023,-18.8,0,"NNW",4.4,"Aotizhongxin"
    first = df.iloc[0]
    assert (
        first.pm25,
        first.so2,
        first.no2,
        first.o3,
        first.temp,
        first.pres,
        first.dewp,
        first.wd,
        first.wspm,
    ) == (
        4,
        4,
        7,
        77,
        -0.7,
        1023,
        -18.8,
        "NNW",
        4.4,
    )
    # CO converted from µg/m³ (300) to mg/m³
    assert first.co == pytest.approx(0.3)
    raw_co = pd.read_csv(shared_data / PRSA_DIR / "PRSA_Data_Dongsi_20130301-20160229.csv.gz")["CO"]
    ours = df.loc[df.station == "Dongsi", "co"].to_numpy()
    np.testing.assert_allclose(ours, raw_co.to_numpy() / 1000.0)
    # missing values (NA) kept as NaN; README: CO 5.7 %, PM2.5 2.0 %, met under 0.3 %
    assert df["co"].isna().mean() == pytest.approx(0.057, abs=0.002)
    assert df["pm25"].isna().mean() == pytest.approx(0.020, abs=0.002)
    assert df[["temp", "pres", "dewp", "rain", "wspm"]].isna().mean().max() < 0.003
    assert set(df["wd"].dropna().unique()) == set(fio.COMPASS_16)


def test_prsa_multisite_list_of_files_and_errors(shared_data, tmp_path):
    files = sorted((shared_data / PRSA_DIR).glob("PRSA_Data_*"))[:2]
    df = fio.read_prsa_multisite(files)
    assert df["station"].nunique() == 2 and len(df) == 2 * 26_304
    with pytest.raises(ReaderError, match=r"appears in more than one file"):
        fio.read_prsa_multisite([files[0], files[0]])
    header = (
        '"No","year","month","day","hour","PM2.5","PM10","SO2","NO2","CO","O3","TEMP","PRES","DEWP",'
        '"RAIN","wd","WSPM","station"\r\n'
    )
    good = '1,2013,3,1,0,4,4,4,7,300,77,-0.7,1023,-18.8,0,"NNW",4.4,"X"\r\n'
    bad_wd = _write(
        tmp_path / "wd.csv",
        header + good + '2,2013,3,1,1,4,4,4,7,300,77,-0.7,1023,-18.8,0,"NORTH",4.4,"X"\r\n',
    )
    with pytest.raises(
        ReaderError,
        match=r"wd\.csv, row 3, column 'wd': expected a 16-point compass direction .*"
        r"got 'NORTH'",
    ):
        fio.read_prsa_multisite(bad_wd)
    bad_day = _write(
        tmp_path / "day.csv", header + good + '2,2013,2,30,1,4,4,4,7,300,77,-0.7,1023,-18.8,0,"N",4.4,"X"\r\n'
    )
    with pytest.raises(
        ReaderError, match=r"day\.csv, row 3, column 'day': expected a valid calendar date, got '2013-2-30'"
    ):
        fio.read_prsa_multisite(bad_day)
    bad_hour = _write(
        tmp_path / "hour.csv",
        header + good + '2,2013,3,1,1.5,4,4,4,7,300,77,-0.7,1023,-18.8,0,"N",4.4,"X"\r\n',
    )
    with pytest.raises(ReaderError, match=r"row 3, column 'hour': expected a whole number 0-23, got '1.5'"):
        fio.read_prsa_multisite(bad_hour)
    no_station = _write(
        tmp_path / "nost.csv", header.replace(',"station"', "") + good.rsplit(",", 1)[0] + "\r\n"
    )
    with pytest.raises(ReaderError, match=r"missing required column\(s\) \['station'\]"):
        fio.read_prsa_multisite(no_station)
    with pytest.raises(FileNotFoundError, match="no file matching 'PRSA_Data_"):
        fio.read_prsa_multisite(tmp_path)


def test_prsa_single_real(shared_data):
    df = fio.read_prsa_single(shared_data / PRSA_SINGLE)
    assert len(df) == 35_064
    assert list(df.columns) == ["time", "pm25", "dewp", "temp", "pres", "cbwd", "iws", "is", "ir"]
    assert df["time"].iloc[0] == pd.Timestamp("2010-01-01 00:00")
    assert df["time"].iloc[-1] == pd.Timestamp("2013-12-31 23:00")
    assert df["pm25"].isna().sum() == 1_968
    assert df.iloc[0][["dewp", "temp", "pres", "cbwd", "iws", "is", "ir"]].tolist() == [
        -21,
        -11,
        1021,
        "NW",
        1.79,
        0,
        0,
    ]
    assert set(df["cbwd"].unique()) == {"NW", "NE", "SE", "cv"}


def test_prsa_single_errors(tmp_path):
    header = "No,year,month,day,hour,pm2.5,DEWP,TEMP,PRES,cbwd,Iws,Is,Ir\n"
    path = _write(
        tmp_path / "s.csv",
        header + "1,2010,1,1,0,NA,-21,-11,1021,NW,1.79,0,0\n2,2010,1,1,1,NA,-21,-12,1020,WNW,4.92,0,0\n",
    )
    with pytest.raises(
        ReaderError,
        match=r"s\.csv, row 3, column 'cbwd': expected a combined wind direction "
        r"\['NW', 'NE', 'SE', 'SW', 'cv'\], got 'WNW'",
    ):
        fio.read_prsa_single(path)
    path = _write(tmp_path / "n.csv", header + "1,2010,1,1,0,NA,-21,-11,1021,NW,-1.79,0,0\n")
    with pytest.raises(
        ReaderError, match=r"row 2, column 'Iws': expected a cumulated value >= 0, got '?-1.79'?"
    ):
        fio.read_prsa_single(path)
    gap = _write(
        tmp_path / "g.csv",
        header + "1,2010,1,1,0,10,-21,-11,1021,NW,1.79,0,0\n2,2010,1,1,3,12,-21,-12,1020,NW,4.92,0,0\n",
    )
    df = fio.read_prsa_single(gap)
    assert len(df) == 4 and df.attrs["qc"]["absent_hours"] == 2


# ---------------------------------------------------------------- station list and city coordinates

STATIONS = "stations/cnemc_station_list_NewSiteList.csv"


@pytest.fixture(scope="module")
def stations(shared_data):
    return fio.read_station_list(shared_data / STATIONS)


def test_station_list_real(stations):
    st = stations
    assert len(st) == 2_026
    assert list(st.columns) == ["code", "name", "city", "lon", "lat", "control", "province", "prefecture"]
    assert st["code"].is_unique
    yq = st[st.city == "阳泉"]
    assert yq["code"].tolist() == ["1738A", "1739A", "1740A", "1741A", "1742A", "1743A", "3619A"]
    assert yq["name"].tolist() == ["市中心", "赛鱼", "南庄", "白羊墅", "平坦", "大阳泉", "龙柱"]
    assert (yq["prefecture"] == "阳泉市").all() and (yq["province"] == "山西省").all()
    assert st.loc[st.code == "1738A", ["lon", "lat"]].iloc[0].tolist() == [113.5758, 37.8572]
    assert sorted(st.loc[st.city == "晋中", "code"]) == ["2171A", "2172A", "2173A", "2174A", "2865A"]
    assert len(st[st.city == "太原"]) == 12
    # 10 stations with blank coordinates, among them 2172A 榆次液压件厂
    assert st["lon"].isna().sum() == 10 and st["lat"].isna().sum() == 10
    assert np.isnan(st.loc[st.code == "2172A", "lon"].item())
    assert st["control"].dtype == bool and st["control"].sum() == 250
    assert st.loc[st.code == "1083A", "control"].item()  # 上兰(对照点)
    assert st["lon"].dropna().between(73, 136).all() and st["lat"].dropna().between(3, 54).all()


def test_station_list_errors(tmp_path):
    header = "监测点编码,监测点名称,城市,经度,纬度,对照点,省级行政区,地级行政区\n"
    good = "1738A,市中心,阳泉,113.5758,37.8572,N,山西省,阳泉市\n"
    dup = _write(tmp_path / "dup.csv", header + good + good)
    with pytest.raises(
        ReaderError,
        match=r"dup\.csv, row 3, column '监测点编码': expected a station code not used "
        r"before, got '1738A'",
    ):
        fio.read_station_list(dup)
    lat = _write(tmp_path / "lat.csv", header + good + "1739A,赛鱼,阳泉,113.4894,378.731,N,山西省,阳泉市\n")
    with pytest.raises(
        ReaderError, match=r"row 3, column '纬度': expected a latitude in degrees -90\.\.90, got '378.731'"
    ):
        fio.read_station_list(lat)
    flag = _write(tmp_path / "flag.csv", header + good.replace(",N,", ",maybe,"))
    with pytest.raises(ReaderError, match=r"row 2, column '对照点': expected a yes/no flag .*got 'maybe'"):
        fio.read_station_list(flag)
    cols = _write(tmp_path / "cols.csv", "监测点编码,监测点名称,城市\n1738A,市中心,阳泉\n")
    with pytest.raises(
        ReaderError,
        match=r"missing required column\(s\) \['lon', 'lat'\]; .*\(source names such as "
        r"\['经度 / lon / longitude', '纬度 / lat / latitude'\]\)",
    ):
        fio.read_station_list(cols)
    # English headers and GBK encoding work too
    english = _write(
        tmp_path / "en.csv",
        "code,name,city,longitude,latitude\n1738A,市中心,阳泉,113.5758,37.8572\n",
        "gb18030",
    )
    st = fio.read_station_list(english)
    assert st.loc[0, "city"] == "阳泉" and not st.loc[0, "control"] and pd.isna(st.loc[0, "province"])


def test_city_coordinates_all_aqistudy_cities(stations, city_daily):
    cities = sorted(city_daily["city"].unique())
    with warnings.catch_warnings():
        warnings.simplefilter("error", ReaderWarning)  # every city is matched: no warning
        cc = fio.city_coordinates(stations, cities)
    assert len(cc) == 366 and (cc["match"] != "none").sum() == 366
    assert cc["lon"].notna().all() and cc["lat"].notna().all()
    counts = cc["match"].value_counts().to_dict()
    assert counts["exact"] >= 340
    yq = cc.set_index("city").loc["阳泉"]
    stations_yq = stations[stations.city == "阳泉"]
    assert yq["n_stations"] == 7 and yq["match"] == "exact"
    assert yq["lon"] == pytest.approx(stations_yq["lon"].mean()) and yq["lat"] == pytest.approx(
        stations_yq["lat"].mean()
    )
    by = cc.set_index("city")
    assert by.loc["临夏州", "matched"] == "临夏回族自治州" and by.loc["临夏州", "match"] == "suffix"
    assert by.loc["山南地区", "matched"] == "山南"
    assert by.loc["库尔勒", "matched"] == "巴音郭楞州" and by.loc["库尔勒", "match"] == "alias"
    assert by.loc["莱芜", "n_stations"] == 1
    # 晋中 has 5 stations, one without coordinates
    assert by.loc["晋中", "n_stations"] == 4
    # 黔东南州's only station under that name has no coordinates: the longer name is used
    assert by.loc["黔东南州", "matched"] == "黔东南苗族侗族自治州"


def test_city_coordinates_unmatched_warns(stations):
    with pytest.warns(ReaderWarning, match=r"1 of 2 cities have no station in the list: \['亚特兰蒂斯'\]"):
        cc = fio.city_coordinates(stations, ["阳泉", "亚特兰蒂斯"])
    assert cc.loc[1, "match"] == "none" and np.isnan(cc.loc[1, "lon"])
    every = fio.city_coordinates(stations)
    assert every["city"].is_unique and "阳泉" in set(every["city"])
    with pytest.raises(AirwarnError, match=r"stations lacks column\(s\) \['lon', 'lat'\]"):
        fio.city_coordinates(stations[["code", "city"]])


# --------------------------------------------------------------------------- parse_* on open buffers


def test_parse_buffers_match_read(shared_data, china_sites_files, stations):
    with open(shared_data / STATIONS, encoding="utf-8") as fh:
        pd.testing.assert_frame_equal(fio.parse_station_list(fh), stations)
    with gzip.open(shared_data / PRSA_SINGLE, "rt", encoding="utf-8") as fh:
        single = fio.parse_prsa_single(fh)
    pd.testing.assert_frame_equal(single, fio.read_prsa_single(shared_data / PRSA_SINGLE))
    dongsi = shared_data / PRSA_DIR / "PRSA_Data_Dongsi_20130301-20160229.csv.gz"
    with gzip.open(dongsi, "rt", encoding="utf-8") as fh:
        pd.testing.assert_frame_equal(fio.parse_prsa_multisite(fh), fio.read_prsa_multisite(dongsi))
    with open(china_sites_files[1], encoding="utf-8") as fh:
        parsed = fio.parse_china_sites(fh, stations=["3619A"])
    pd.testing.assert_frame_equal(parsed, fio.read_china_sites(china_sites_files[1], stations=["3619A"]))
    text = "datetime,PM2.5,CO\n2020-01-01 00:00:00,3,0.4\n2020-01-01 02:00:00,4,0.5\n"
    import io

    hourly = fio.parse_cnemc_station_hourly(io.StringIO(text), station="1738A")
    assert hourly["pm25"].tolist()[::2] == [3.0, 4.0] and np.isnan(hourly.loc[1, "pm25"])
    with pytest.raises(ReaderError, match=r"<buffer>: no station code"):
        fio.parse_cnemc_station_hourly(io.StringIO(text))


def test_nwp_functions_live_in_forecast_nwp_only():
    """forecast.io reads observations; the gridded fields are forecast.nwp's (no import cycle between them)."""
    from forecast import nwp

    assert callable(nwp.open_nwp) and callable(nwp.interp_to_points)
    for name in ("open_nwp", "interp_to_points", "normalise_nwp", "read_everything"):
        with pytest.raises(AttributeError, match=f"has no attribute '{name}'"):
            getattr(fio, name)


def test_city_daily_reads_a_frame_written_by_pandas(tmp_path):
    """The demo's synthetic file: the read_city_daily schema written with to_csv, plus ``synthetic``."""
    frame = pd.DataFrame(
        {
            "city": ["阳泉", "阳泉"],
            "date": pd.to_datetime(["2026-01-01", "2026-01-02"]),
            "aqi": [85.0, np.nan],
            "pm25": [60.2, 70.0],
            "pm10": [90.0, 100.0],
            "so2": [20.0, 22.0],
            "no2": [35.0, 40.0],
            "co": [1.1, 1.3],
            "o3_8h": [50.0, 55.0],
            "synthetic": [True, True],
        }
    )
    frame.to_csv(tmp_path / "synthetic_city_daily.csv", index=False)
    df = fio.read_city_daily(tmp_path / "synthetic_city_daily.csv")
    assert df["synthetic"].tolist() == [True, True] and df["synthetic"].dtype == bool
    pd.testing.assert_series_equal(df["date"], frame["date"].astype("datetime64[ns]"))
    assert df["pm25"].tolist() == [60.2, 70.0] and np.isnan(df.loc[1, "aqi"])
    # timestamps at midnight are accepted, other times are not
    frame.assign(date=frame["date"].dt.strftime("%Y-%m-%d %H:%M:%S")).to_csv(tmp_path / "t.csv", index=False)
    assert fio.read_city_daily(tmp_path / "t.csv")["date"].dt.day.tolist() == [1, 2]
    frame.assign(date=["2026-01-01 00:00:00", "2026-01-02 12:00:00"]).to_csv(
        tmp_path / "noon.csv", index=False
    )
    with pytest.raises(
        ReaderError,
        match=r"noon\.csv, row 3, column 'date': expected a date YYYY-MM-DD "
        r"\(a whole day\), got '2026-01-02 12:00:00'",
    ):
        fio.read_city_daily(tmp_path / "noon.csv")


def test_read_observations_turns_national_archive_files_into_city_days(china_sites_files, shared_data):
    stations = fio.read_station_list(shared_data / "stations/cnemc_station_list_NewSiteList.csv")
    obs = fio.read_observations(china_sites_files, stations=stations)
    assert sorted(obs["city"].unique()) == ["太原", "晋中", "阳泉"]
    # hour-ending files: 01-15 01:00 … 01-16 00:00 make 01-15; the lone 01-15 00:00 hour makes no day
    assert sorted(obs["date"].dt.strftime("%m-%d").unique()) == ["01-15", "01-16"]
    # independently: each 阳泉 station's mean of the day's 24 hour-ending values, then their mean
    hourly = fio.read_china_sites(china_sites_files)
    day = hourly[(hourly["time"] > "2025-01-15 00:00") & (hourly["time"] <= "2025-01-16 00:00")]
    yq_codes = stations.loc[(stations["city"] == "阳泉") & ~stations["control"].astype(bool), "code"]
    per_station = day[day["station"].isin(yq_codes)].groupby("station")["pm25"].agg(["mean", "count"])
    expected = per_station.loc[per_station["count"] >= 20, "mean"].mean()
    got = obs[(obs["city"] == "阳泉") & (obs["date"] == "2025-01-15")].iloc[0]
    assert got["pm25"] == pytest.approx(expected) and got["n_stations"] == (per_station["count"] >= 20).sum() == 6
    assert 0 < got["aqi"] <= 500
    # several layouts at once: a city daily file beside the archive files
    daily = shared_data / "cn_city_daily_aqistudy/city_daily_aqi_20131202-20160131.csv.gz"
    both = fio.read_observations([daily, *china_sites_files], stations=stations)
    assert both["date"].min() == pd.Timestamp("2013-12-02") and both["date"].max() == pd.Timestamp("2025-01-16")
    # the library names the files; the CLI (forecast.model_cli.read_obs) puts its option before the message
    with pytest.raises(ValueError, match=r"^2 CNEMC national archive file\(s\) \(china_sites_20250115.csv …\) "
                                         r"need the station list"):
        fio.read_observations(china_sites_files)
    with pytest.raises(FileNotFoundError, match=r"^no such file or folder .*nope.csv"):
        fio.read_observations([daily, daily.parent / "nope.csv"])
    from forecast.model_cli import read_obs

    with pytest.raises(FileNotFoundError, match=r"^--obs: no such file or folder .*nope.csv"):
        read_obs(argparse.Namespace(obs=[str(daily), str(daily.parent / "nope.csv")], stations=None))


def test_obs_option_named_by_the_cli_not_the_reader(china_sites_files, monkeypatch):
    """``airwarn … --obs`` puts its option (and the missing --stations) before the reader's message."""
    from forecast import model_cli

    monkeypatch.setattr(model_cli, "station_list_path", lambda stations=None: None)
    with pytest.raises(AirwarnError, match=r"^--obs: 2 CNEMC national archive file\(s\) .* need the station list "
                                           r"to map stations to cities; none was given: pass --stations$"):
        model_cli.read_obs(argparse.Namespace(obs=[str(p) for p in china_sites_files], stations=None))
    with pytest.raises(FileNotFoundError, match=r"^--met: no such file or folder .*nope.nc"):
        model_cli.load_met([str(china_sites_files[0].parent / "nope.nc")])


def test_read_observations_warns_when_two_layouts_give_one_city_day(china_sites_files, shared_data, tmp_path):
    """A city day in a city daily file and in the national archive: the archive's values, one ReaderWarning
    naming both (this raised NameError after the reader stopped naming its caller's option)."""
    stations = fio.read_station_list(shared_data / "stations/cnemc_station_list_NewSiteList.csv")
    pd.DataFrame({"city": ["阳泉"], "date": ["2025-01-15"], "aqi": [999.0 / 3], "pm25": [1.0], "pm10": [2.0],
                  "so2": [3.0], "no2": [4.0], "co": [0.5], "o3_8h": [6.0]}).to_csv(tmp_path / "daily.csv", index=False)
    with pytest.warns(fio.ReaderWarning, match=r"^1 city day\(s\) in more than one layout; the later layout's "
                                               r"values are used: .*daily\.csv.*阳泉.*2025-01-15"):
        obs = fio.read_observations([tmp_path / "daily.csv", *china_sites_files], stations=stations)
    day = obs[(obs["city"] == "阳泉") & (obs["date"] == "2025-01-15")]
    assert len(day) == 1 and day["pm25"].iloc[0] > 1.0  # the archive's mean, not the city file's 1.0
