"""Quality control of observation inputs (issue 14, break 7): nothing implausible is used silently.

Negative, non-finite and implausible values are set aside with a warning naming the file, the row as
the file numbers it (header = row 1), the column and the value, and recorded in the forecast's
data-quality section; two different rows for one city and day are refused naming both rows; a last
line cut short is refused naming its row; every read error names the file. Real data where it matters
(``../shared/data``, read in place), the real command line.
"""
from __future__ import annotations

import gzip
import warnings
from pathlib import Path

import pandas as pd
import pytest
import xarray as xr

from airwarn.core.errors import AirwarnError
from airwarn.cli import main
from forecast import io as fio
from forecast.io import ReaderError, ReaderWarning
from tests.forecast._model_fixtures import read_subset, write_subset_csv

MODEL = Path(__file__).resolve().parents[2] / "models" / "aqistudy-2016"
HEADER = "city,date,aqi,aqi_range,quality_level,pm25,pm10,so2,co,no2,o3,rank\n"


def _write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path


def _line_of(path: Path, prefix: str) -> int:
    """The file's line number (header = 1) of the first line starting with ``prefix``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(k for k, line in enumerate(lines, 1) if line.startswith(prefix))


@pytest.fixture(scope="module")
def real_obs(shared_data):
    """阳泉 and 太原, 2013-12 → 2016-01, real values (aqistudy), as a frame to write variants of."""
    return read_subset(shared_data, ("阳泉", "太原"), end="2016-01-31")


# ------------------------------------------------------------------------------ airwarn forecast


def test_break_7_forecast_negative_values_named_and_recorded(real_obs, tmp_path, capsys):
    bad = real_obs.copy()
    last_days = (bad["city"] == "阳泉") & (bad["date"] >= "2016-01-25")
    bad.loc[last_days, "pm25"] = -bad.loc[last_days, "pm25"]
    bad.loc[(bad["city"] == "阳泉") & (bad["date"] == "2016-01-30"), "aqi"] = float("inf")
    obs = tmp_path / "obs.csv"
    write_subset_csv(bad, obs)
    out = tmp_path / "fc.nc"
    rc = main(["forecast", "--model", str(MODEL), "--obs", str(obs), "--issued", "2016-01-31",
               "--cities", "阳泉", "--out", str(out)])
    assert rc == 0
    row = _line_of(obs, "阳泉,2016-01-25,")
    value = bad.loc[last_days, "pm25"].iloc[0]
    err = capsys.readouterr().err
    warning = next(line for line in err.splitlines() if line.startswith(f"warning: {obs}: "))
    assert "pm25<0: 7" in warning and "aqi not finite: 1" in warning
    assert f"row {row}, column 'pm25' (阳泉 2016-01-25): '{value:g}' (below 0)" in warning
    # the product records it: the data-quality section of the forecast netCDF
    with xr.open_dataset(out) as ds:
        quality = ds.attrs["data_quality"]
    assert quality.startswith(f"{obs}: 8 value(s) set to missing (not used): ")
    assert f"row {row}, column 'pm25' (阳泉 2016-01-25): '{value:g}' (below 0)" in quality
    assert "column 'aqi' (阳泉 2016-01-30): 'inf' (not a finite number)" in quality


def test_break_7_forecast_clean_inputs_say_so(real_obs, tmp_path, capsys):
    obs = tmp_path / "obs.csv"
    write_subset_csv(real_obs, obs)
    out = tmp_path / "fc.nc"
    assert main(["forecast", "--model", str(MODEL), "--obs", str(obs), "--issued", "2016-01-31",
                 "--out", str(out)]) == 0
    assert "warning:" not in capsys.readouterr().err
    with xr.open_dataset(out) as ds:
        assert ds.attrs["data_quality"] == "none"


def test_break_7_forecast_refuses_conflicting_duplicate_rows(real_obs, tmp_path, capsys):
    obs = tmp_path / "obs.csv"
    write_subset_csv(real_obs, obs)
    lines = obs.read_text(encoding="utf-8").splitlines(keepends=True)
    first = _line_of(obs, "阳泉,2016-01-20,")
    original = lines[first - 1]
    changed = original.replace("阳泉,2016-01-20,163.0,", "阳泉,2016-01-20,63.0,")
    assert changed != original
    # an exact repeat is dropped (and noted), a second row with other values is refused
    _write(obs, "".join(lines + [original]))
    assert main(["forecast", "--model", str(MODEL), "--obs", str(obs), "--issued", "2016-01-31",
                 "--cities", "阳泉", "--out", str(tmp_path / "a.nc")]) == 0
    assert "repeated_rows: 1" in capsys.readouterr().err
    _write(obs, "".join(lines + [changed]))
    rc = main(["forecast", "--model", str(MODEL), "--obs", str(obs), "--issued", "2016-01-31",
               "--cities", "阳泉", "--out", str(tmp_path / "b.nc")])
    assert rc == 2 and not (tmp_path / "b.nc").exists()
    err = capsys.readouterr().err.strip()
    assert err == (f"airwarn forecast: error: {obs}, row {len(lines) + 1}: duplicate record (city=阳泉, "
                   f"date=2016-01-20) with values different from row {first} (aqi '163' vs '63'); expected one "
                   f"row per city/date")


def test_break_7_backtest_reads_its_observations_the_same_way(real_obs, tmp_path, capsys):
    obs = tmp_path / "obs.csv"
    write_subset_csv(real_obs, obs)
    text = obs.read_text(encoding="utf-8")
    row = _line_of(obs, "太原,2016-01-02,")
    line = text.splitlines()[row - 1]
    fields = line.split(",")
    fields[3] = str(float(fields[3]) + 40)  # pm25
    _write(obs, text + ",".join(fields) + "\n")
    rc = main(["backtest", "--model", str(MODEL), "--obs", str(obs), "--start", "2016-02-01", "--end",
               "2016-02-03", "--out", str(tmp_path / "bt")])
    assert rc == 2
    err = capsys.readouterr().err
    assert f"{obs}, row {len(text.splitlines()) + 1}: duplicate record (city=太原, date=2016-01-02) with " \
           f"values different from row {row} (pm25 " in err


# ------------------------------------------------------------------------------ the readers


def test_break_7_reader_names_rows_of_implausible_values(tmp_path):
    path = _write(tmp_path / "city.csv", HEADER
                  + "阳泉,2016-01-01,80,70~90,良,50,70,30,1.2,40,60,12\n"
                  + "阳泉,2016-01-02,1e12,70~90,良,50,70,30,1.2,40,60,12\n"
                  + "太原,2016-01-02,80,70~90,良,-3.5,inf,30,1.2,40,60,12\n")
    with pytest.warns(ReaderWarning) as caught:
        df = fio.read_city_daily(path)
    [w] = caught
    assert str(w.message) == (
        f"{path}: cleaned while reading (aqi>500: 1, pm25<0: 1, pm10 not finite: 1); set to missing: "
        "row 3, column 'aqi' (阳泉 2016-01-02): '1000000000000' (above the plausible maximum 500); "
        "row 4, column 'pm25' (太原 2016-01-02): '-3.5' (below 0); "
        "row 4, column 'pm10' (太原 2016-01-02): 'inf' (not a finite number)")
    assert df[["aqi", "pm25", "pm10"]].isna().sum().tolist() == [1, 1, 1]
    assert [(r["row"], r["column"], r["value"]) for r in df.attrs["qc_rows"]] == [
        (3, "aqi", "1000000000000"), (4, "pm25", "-3.5"), (4, "pm10", "inf")]
    # the data-quality sentences, for one city
    assert fio.qc_notes(df, ["阳泉"]) == [
        f"{path}: 1 value(s) set to missing (not used): row 3, column 'aqi' (阳泉 2016-01-02): "
        "'1000000000000' (above the plausible maximum 500)"]
    assert fio.qc_notes(df, ["北京"]) == []


def test_break_7_reader_conflicts_between_files_name_both_rows(tmp_path):
    old = _write(tmp_path / "old.csv", HEADER + "太原,2014-01-01,90,70~99,良,60,100,40,1.5,45,30,50\n"
                 + "太原,2014-01-02,91,70~99,良,61,100,40,1.5,45,30,51\n")
    new = _write(tmp_path / "new.csv", HEADER + "太原,2014-01-02,95,70~99,良,66,100,40,1.5,45,30,51\n")
    with pytest.warns(ReaderWarning) as caught:
        df = fio.read_city_daily([old, new])
    assert df["aqi"].tolist() == [90, 95]
    assert f"{new} row 2 (太原 2014-01-02) (differs from {old} row 3; the later file's values are used)" \
        in str(caught[0].message)


def test_break_7_hourly_readers_duplicates(tmp_path):
    header = "datetime,PM2.5,PM10\n"
    same = _write(tmp_path / "a_1410A.csv", header + "2020-01-01 00:00:00,20,40\n2020-01-01 00:00:00,20,40\n")
    with pytest.warns(ReaderWarning, match="repeated_rows: 1"):
        assert len(fio.read_cnemc_station_hourly(same)) == 1
    other = _write(tmp_path / "b_1410A.csv", header + "2020-01-01 00:00:00,20,40\n2020-01-01 00:00:00,21,40\n")
    with pytest.raises(ReaderError) as err:
        fio.read_cnemc_station_hourly(other)
    assert str(err.value) == (f"{other}, row 3: duplicate record (station=1410A, time=2020-01-01 00:00:00) with "
                              "values different from row 2 (PM2.5 '20' vs '21'); expected one row per station/time")


def test_break_7_national_archive_values_named_with_station_and_city(shared_data, tmp_path):
    path = _write(tmp_path / "china_sites_20250115.csv",
                  "date,hour,type,1738A,1739A\n20250115,0,PM2.5,45,-1\n20250115,0,PM10,90,99999\n")
    stations = shared_data / "stations" / "cnemc_station_list_NewSiteList.csv"
    with pytest.warns(ReaderWarning) as caught:
        obs = fio.read_observations(path, stations=stations)
    message = " ".join(str(w.message) for w in caught)
    assert "row 2, column '1739A' (1739A 2025-01-15 00:00:00): '-1' (pm25 below 0)" in message
    assert "row 3, column '1739A' (1739A 2025-01-15 00:00:00): '99999' (pm10 above the plausible maximum 10000)" \
        in message
    assert {r["city"] for r in obs.attrs["qc_rows"]} == {"阳泉"}  # 1739A is a Yangquan station
    assert len(fio.qc_notes(obs, ["阳泉"])) == 1 and fio.qc_notes(obs, ["太原"]) == []


def test_break_7_truncated_last_row_refused(tmp_path):
    good = "阳泉,2016-01-01,80,70~90,良,50,70,30,1.2,40,60,12\n"
    cut = _write(tmp_path / "cut.csv", HEADER + good + "阳泉,2016-01-02,80,70~90,良,5")
    with pytest.raises(ReaderError) as err:
        fio.read_city_daily(cut)
    assert str(err.value) == (f"{cut}, row 3: the last line is cut short: it ends without a newline and has 6 "
                              "of the header's 12 fields; expected a complete row (was the file truncated while "
                              "it was written?)")
    number = _write(tmp_path / "number.csv", HEADER + good + "阳泉,2016-01-02,80,70~90,良,50,70,30,1.2,40,60,1.")
    with pytest.raises(ReaderError, match=r"number\.csv, row 3, column 'rank': the last line is cut short: it ends "
                                          r"without a newline in the middle of a number \('1\.'\)"):
        fio.read_city_daily(number)
    # a complete last line without its newline is fine
    whole = _write(tmp_path / "whole.csv", HEADER + good + good.replace("01-01", "01-02").rstrip("\n"))
    assert len(fio.read_city_daily(whole)) == 2


def test_break_7_read_errors_name_the_file(tmp_path, capsys):
    text = HEADER + "阳泉,2016-01-01,80,70~90,良,50,70,30,1.2,40,60,12\n" * 200
    damaged = tmp_path / "obs.csv.gz"
    damaged.write_bytes(gzip.compress(text.encode("utf-8"))[:-30])
    with pytest.raises(ReaderError, match=rf"^{damaged}: damaged compressed file \(.*\); expected a complete gzip"):
        fio.read_city_daily(damaged)
    rc = main(["forecast", "--model", str(MODEL), "--obs", str(damaged), "--issued", "2016-01-31",
               "--out", str(tmp_path / "fc.nc")])
    assert rc == 2
    err = capsys.readouterr().err
    assert err.startswith(f"airwarn forecast: error: {damaged}: damaged compressed file") and len(err.splitlines()) == 1
    notgz = _write(tmp_path / "plain.csv.gz", text)
    with pytest.raises(ReaderError, match=rf"^{notgz}: damaged compressed file"):
        fio.read_city_daily(notgz)
    archive = _write(tmp_path / "china_sites_20250115.csv", "date,hour,type,1738A\n20250115,0,PM2.5,45\n")
    with pytest.raises(AirwarnError, match=rf"{archive}: station\(s\) \['9999A'\] in none of the 1 file\(s\)"):
        fio.read_china_sites(archive, stations=["9999A"])


# ------------------------------------------------------------------------------ airwarn aqi


def test_break_7_aqi_truncated_last_row(tmp_path, capsys):
    header = "date,pm25,pm10,so2,no2,co,o3_8h\n"
    full = "2016-01-01,50,70,30,40,1.2,60\n"
    for name, last, expect in [
        ("short.csv", "2016-01-02,50,70,3", "has 4 of the header's 7 fields"),
        ("number.csv", "2016-01-02,50,70,30,40,1.2,6.", "in the middle of a number ('6.')"),
    ]:
        path = _write(tmp_path / name, header + full + last)
        rc = main(["aqi", str(path), "--out", str(tmp_path / "out.csv")])
        assert rc == 2 and not (tmp_path / "out.csv").exists()
        err = capsys.readouterr().err
        assert err.startswith(f"airwarn aqi: error: {path}, row 3") and expect in err
    whole = _write(tmp_path / "whole.csv", header + full + "2016-01-02,50,70,30,40,1.2,60")
    assert main(["aqi", str(whole), "--out", str(tmp_path / "out.csv")]) == 0
    assert len(pd.read_csv(tmp_path / "out.csv")) == 2


def test_break_7_aqi_implausible_value_refused(tmp_path, capsys):
    path = _write(tmp_path / "day.csv", "date,pm25,pm10,so2,no2,co,o3_8h\n2016-01-01,50,70,30,40,1.2,60\n\n"
                  "2016-01-02,1e12,70,30,40,1.2,60\n")
    rc = main(["aqi", str(path), "--out", str(tmp_path / "out.csv")])
    assert rc == 2
    assert capsys.readouterr().err.strip() == (
        f"airwarn aqi: error: {path}: line 4, column 'pm25': expected a plausible daily concentration 0-2000 "
        "[µg/m³], got '1e12'")


def test_qc_rows_are_bounded(tmp_path):
    rows = "".join(f"阳泉,{d:%Y-%m-%d},80,70~90,良,-1,70,30,1.2,40,60,12\n"
                   for d in pd.date_range("2015-01-01", periods=fio.MAX_QC_ROWS + 50))
    path = _write(tmp_path / "many.csv", HEADER + rows)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = fio.read_city_daily(path)
    assert len(df.attrs["qc_rows"]) == fio.MAX_QC_ROWS + 1
    assert df.attrs["qc_rows"][-1] == {"file": str(path), "row": None, "more": 50}
    assert str(caught[0].message).endswith(f"; and {fio.MAX_QC_ROWS + 50 - 5} more")
