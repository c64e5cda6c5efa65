"""``airwarn aqi`` end to end: CSV in, CSV out, clear errors, atomic writes."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from airwarn.cli import main
from forecast.aqi import daily_aqi

CITY_DAILY = "cn_city_daily_aqistudy/city_daily_aqi_20131202-20160131.csv.gz"


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AIRWARN_SETTINGS", raising=False)


def _write(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path


def test_cli_scores_a_small_csv(tmp_path, capsys):
    src = _write(tmp_path / "in.csv", "\ufeffcity,date,PM2.5,PM10,SO2,NO2,CO,O3-8h,O3_1h\n"
                 "阳泉,2026-02-28,75,90,30,40,1.2,60,100\n"
                 "阳泉,2026-03-01,75,90,30,40,1.2,60,100\n"
                 "阳泉,2026-03-02,NA,,30,40,1.2,60,\n")
    out = tmp_path / "sub" / "out.csv"
    assert main(["aqi", str(src), "--out", str(out)]) == 0
    assert "wrote 3 rows" in capsys.readouterr().out
    got = pd.read_csv(out, dtype={"primary_pollutant": str}, keep_default_na=False)
    assert got["aqi"].astype(str).tolist() == ["100", "114", "50"]
    assert got["standard"].tolist() == ["HJ633-2012", "HJ633-2026", "HJ633-2026"]
    assert got["category"].tolist()[:2] == ["良", "轻度污染"]
    assert got["primary_pollutant"].tolist()[:2] == ["pm25", "pm25"]
    assert got["iaqi_o3_1h"].astype(str).tolist()[:2] == ["32", ""]  # 100 * 50/160; only scored under 2012
    # row 3: PM missing, the rest gives AQI 50 -> not published under HJ 633-2026 §5.3
    assert got["aqi"].astype(str).iloc[2] == "50" and got["aqi_published"].astype(str).iloc[2] == ""
    assert got["date"].tolist() == ["2026-02-28", "2026-03-01", "2026-03-02"]
    assert not list(tmp_path.joinpath("sub").glob(".*tmp"))


def test_cli_explicit_standard_and_the_o3_column(tmp_path, capsys):
    src = _write(tmp_path / "in.csv", "date,pm25,pm10,so2,no2,co,o3\n2026-03-01,75,90,30,40,1.2,215\n")
    out = tmp_path / "out.csv"
    assert main(["aqi", str(src), "--out", str(out), "--standard", "HJ633-2012"]) == 0
    assert "column 'o3' read as o3_8h" in capsys.readouterr().err
    got = pd.read_csv(out)
    assert got["iaqi_o3_8h"].iloc[0] == 150 and got["aqi"].iloc[0] == 150 and got["standard"].iloc[0] == "HJ633-2012"
    # with an o3_8h column present, 'o3' is left alone
    src = _write(tmp_path / "in2.csv", "date,pm25,pm10,so2,no2,co,o3_8h,o3\n2026-03-01,75,90,30,40,1.2,100,215\n")
    assert main(["aqi", str(src), "--out", str(out)]) == 0
    got = pd.read_csv(out)
    assert got["iaqi_o3_8h"].iloc[0] == 50 and got["o3"].iloc[0] == 215


@pytest.mark.parametrize(
    "body, message",
    [
        ("2026-03-01,12,x,1,1,1,1", r"in.csv: line 3, column 'pm10': expected a number \[µg/m³\] or an empty cell, got 'x'"),
        ("2026-03-01,12,30,1,1,-0.5,1", r"line 3, column 'co': expected a concentration >= 0 \[mg/m³\].*got '-0.5'"),
        ("2026-13-01,12,30,1,1,1,1", r"line 3, column 'date': expected a date YYYY-MM-DD, got '2026-13-01'"),
    ],
)
def test_cli_bad_cells_name_file_line_and_column(tmp_path, capsys, body, message):
    src = _write(tmp_path / "in.csv", "date,pm25,pm10,so2,no2,co,o3_8h\n2026-03-01,1,1,1,1,1,1\n" + body + "\n")
    out = _write(tmp_path / "out.csv", "previous result\n")
    assert main(["aqi", str(src), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("airwarn aqi: error: ")
    assert re.search(message, err), err
    assert out.read_text(encoding="utf-8") == "previous result\n"  # nothing half-written


def test_cli_missing_columns_and_files(tmp_path, capsys):
    src = _write(tmp_path / "in.csv", "date,pm25,so2\n2026-03-01,1,1\n")
    assert main(["aqi", str(src), "--out", str(tmp_path / "o.csv")]) == 2
    assert "in.csv: daily_aqi: input lacks column(s) ['pm10', 'no2', 'co', 'o3_8h']" in capsys.readouterr().err
    assert main(["aqi", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o.csv")]) == 2
    assert "nope.csv: no such file" in capsys.readouterr().err
    src = _write(tmp_path / "dup.csv", "date,PM2.5,pm25,pm10\n2026-03-01,1,1,1\n")
    assert main(["aqi", str(src), "--out", str(tmp_path / "o.csv")]) == 2
    assert "column(s) ['pm25'] appear more than once" in capsys.readouterr().err


def test_cli_on_real_city_daily_rows(shared_data, tmp_path):
    """Real aqistudy rows for 阳泉 (written to tmp_path, not the repo) through the command."""
    raw = pd.read_csv(shared_data / CITY_DAILY, dtype=str, keep_default_na=False)
    rows = raw[(raw["city"] == "阳泉") & (raw["date"] < "2014-02-01")]
    src = tmp_path / "yangquan.csv"
    rows.to_csv(src, index=False)
    out = tmp_path / "out.csv"
    assert main(["aqi", str(src), "--out", str(out), "--above", "ignore"]) == 0
    got = pd.read_csv(out)
    assert len(got) == len(rows) == 61
    frame = rows.rename(columns={"o3": "o3_8h"}).astype({c: float for c in ("pm25", "pm10", "so2", "no2", "co",
                                                                              "o3_8h")})
    expected = daily_aqi(frame, above="ignore")
    np.testing.assert_array_equal(got["aqi"].to_numpy(dtype=float), expected["aqi"].to_numpy())
    assert (got["aqi_input"] == rows["aqi"].astype(int).to_numpy()).all()  # the published AQI is kept
