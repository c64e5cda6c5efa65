"""``airwarn warn FILE`` makes no decision on a damaged series (issue 14, break 7).

A text cell (``高``) or a negative AQI, an empty median, a last line cut mid-row, dates ten years
after the issue date, a day missing from the series: each is one error line naming the file, the row
as the file numbers it (header = row 1), the column and the value, exit code 2 (a refused input
file). The forecast is a real one: ``airwarn forecast`` on the shared observations.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from airwarn.cli import main
from emergency.engine import assess
from tests.forecast._model_fixtures import read_subset, write_subset_csv

MODEL = Path(__file__).resolve().parents[2] / "models" / "aqistudy-2016"


@pytest.fixture(scope="module")
def forecast_csv(shared_data, tmp_path_factory):
    """The real forecast of 阳泉 issued 2016-01-20 (a heavy-pollution day), CSV layout, and its netCDF."""
    folder = tmp_path_factory.mktemp("fc")
    obs = folder / "obs.csv"
    write_subset_csv(read_subset(shared_data, ("阳泉", "太原"), end="2016-01-20"), obs)
    nc = folder / "forecast.nc"
    assert main(["forecast", "--model", str(MODEL), "--obs", str(obs), "--issued", "2016-01-20",
                 "--cities", "阳泉", "--out", str(nc)]) == 0
    return nc.with_suffix(".csv")


def _warn(path, capsys) -> tuple[int, str, str]:
    capsys.readouterr()
    rc = main(["warn", "--forecast", str(path), "--decision", "median"])
    out = capsys.readouterr()
    return rc, out.out, out.err.strip()


def _variant(forecast_csv: Path, tmp_path: Path, name: str, row: int, column: str, value) -> Path:
    """The forecast CSV with one cell changed; ``row`` as the file numbers it (header = 1)."""
    df = pd.read_csv(forecast_csv, dtype=str, keep_default_na=False)
    df.loc[row - 2, column] = value
    path = tmp_path / name
    df.to_csv(path, index=False)
    return path


def test_warn_sound_forecast_decides(forecast_csv, capsys):
    rc, out, err = _warn(forecast_csv, capsys)
    assert rc == 0 and err == ""
    assert json.loads(out)["city"] == "阳泉"


@pytest.mark.parametrize("value, got", [("高", "'高'"), ("-50", "-50"), ("", "an empty cell"), ("501", "501"),
                                        ("inf", "inf")])
def test_break_7_warn_refuses_a_bad_aqi_cell(forecast_csv, tmp_path, capsys, value, got):
    path = _variant(forecast_csv, tmp_path, "bad.csv", 4, "aqi_p50", value)
    rc, out, err = _warn(path, capsys)
    assert rc == 2 and out == ""
    assert err == (f"airwarn warn: error: forecast {path}: row 4, column 'aqi_p50': expected an AQI 0-500, got "
                   f"{got}; no warning decision is made on a series with a bad value")


def test_break_7_warn_refuses_bad_quantiles_and_probabilities(forecast_csv, tmp_path, capsys):
    path = _variant(forecast_csv, tmp_path, "q.csv", 6, "aqi_p90", "很高")
    rc, _, err = _warn(path, capsys)
    assert rc == 2 and f"{path}: row 6, column 'aqi_p90': expected an AQI 0-500, got '很高'" in err
    path = _variant(forecast_csv, tmp_path, "p.csv", 3, "p_aqi_gt_200", "1.5")
    rc, _, err = _warn(path, capsys)
    assert rc == 2 and f"{path}: row 3, column 'p_aqi_gt_200': expected probabilities in 0-1, got 1.5" in err


def test_break_7_warn_refuses_a_truncated_file(forecast_csv, tmp_path, capsys):
    text = forecast_csv.read_text(encoding="utf-8")
    lines = text.splitlines()
    path = tmp_path / "cut.csv"
    path.write_text(text.rstrip("\n")[:-60], encoding="utf-8")  # the last row cut mid-line, no newline
    rc, out, err = _warn(path, capsys)
    assert rc == 2 and out == ""
    assert err.startswith(f"airwarn warn: error: {path}, row {len(lines)}: the last line is cut short: it ends "
                          f"without a newline and has ")


def test_break_7_warn_refuses_dates_far_out_or_with_gaps(forecast_csv, tmp_path, capsys):
    path = _variant(forecast_csv, tmp_path, "future.csv", 11, "valid_date", "2026-01-30")
    rc, _, err = _warn(path, capsys)
    assert rc == 2
    assert err == (f"airwarn warn: error: forecast {path}: row 11, column 'valid_date': expected 2016-01-30 (one day "
                   f"after row 10), got 2026-01-30; the series must be consecutive")
    df = pd.read_csv(forecast_csv)
    shifted = df.assign(valid_date=(pd.to_datetime(df["valid_date"]) + pd.Timedelta(days=3650)).dt.strftime("%Y-%m-%d"))
    path = tmp_path / "ten_years.csv"
    shifted.to_csv(path, index=False)
    rc, _, err = _warn(path, capsys)
    assert rc == 2
    assert err == (f"airwarn warn: error: forecast {path}: row 2, column 'valid_date': expected a date at most 15 "
                   f"days after the issue date 2016-01-20, got 2026-01-18")
    path = tmp_path / "gap.csv"
    df.drop(index=4).to_csv(path, index=False)
    rc, _, err = _warn(path, capsys)
    assert rc == 2 and "row 6, column 'valid_date': expected 2016-01-25 (one day after row 5), got 2016-01-26" in err
    # no issue date in the file: at most 15 days after today
    path = tmp_path / "no_issue.csv"
    far = pd.date_range(pd.Timestamp.today().normalize() + pd.Timedelta(days=3650), periods=3)
    pd.DataFrame({"city": "阳泉", "valid_date": far.strftime("%Y-%m-%d"), "aqi": [210, 220, 90]}).to_csv(path, index=False)
    rc, _, err = _warn(path, capsys)
    assert rc == 2 and "row 2, column 'valid_date': expected a date at most 15 days after today" in err


def test_break_7_warn_refuses_a_dataset_with_a_missing_day(forecast_csv):
    with xr.open_dataset(forecast_csv.with_suffix(".nc")) as ds:
        ds = ds.load()
    assert assess(ds, decision="median").city == "阳泉"
    ds["aqi"][dict(lead_day=2)] = np.nan
    with pytest.raises(ValueError, match=r"city '阳泉', issued 2016-01-20, valid date 2016-01-23: expected a "
                                         r"median AQI 0-500, got nan"):
        assess(ds, decision="median")


def test_break_7_warn_damaged_netcdf_is_one_line(forecast_csv, tmp_path, capsys):
    nc = forecast_csv.with_suffix(".nc")
    cut = tmp_path / "cut.nc"
    cut.write_bytes(nc.read_bytes()[:3000])
    rc, out, err = _warn(cut, capsys)
    assert rc == 2 and out == ""
    assert err.startswith(f"airwarn warn: error: forecast file {cut}: not a readable netCDF file (")
    assert len(err.splitlines()) == 1
