"""The daily chain's observations are quality-controlled as `airwarn forecast` does it: each value the
reader sets aside is printed on one `warning:` line naming the file, row, column and value, and the
product (forecast.nc, attribute data_quality) records it. Before, the daily chain read the
observations without a word and its forecast.nc said nothing of the value set aside."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import xarray as xr

from emergency.daily import run_daily

FILE = "cn_city_daily_aqistudy/city_daily_aqi_20131202-20160131.csv.gz"


def test_i15_daily_chain_warns_of_a_negative_value_and_records_it_in_the_product(settings, shared_data, capsys):
    full = pd.read_csv(shared_data / FILE)
    at = full.index[(full["city"] == "阳泉") & (full["date"] == "2016-01-15")][0]
    full.loc[at, "pm25"] = -5
    path = settings.data_dir / "obs_with_negative.csv"
    full.to_csv(path, index=False)
    line = int(full.index.get_loc(at)) + 2                  # the file's line (header is line 1)

    res = run_daily(settings.with_(observations=(path,)), dt.date(2016, 1, 20))
    assert res.forecast_made
    err = [x for x in capsys.readouterr().err.splitlines() if x.startswith("warning:")]
    named = [x for x in err if "obs_with_negative.csv" in x and "pm25" in x and "-5" in x]
    assert len(named) == 1, err                             # one line for the file
    assert str(line) in named[0]
    with xr.open_dataset(res.forecast_path) as ds:
        quality = ds.attrs["data_quality"]
    assert "obs_with_negative.csv" in quality and "pm25" in quality and "-5" in quality and str(line) in quality


def test_i15_daily_chain_product_says_none_when_the_observations_are_clean(settings, shared_data, capsys):
    res = run_daily(settings.with_(observations=(shared_data / FILE,)), dt.date(2016, 1, 20))
    with xr.open_dataset(res.forecast_path) as ds:
        quality = ds.attrs["data_quality"]
    # the real file's own notes about 阳泉, or none: never absent
    assert quality == "none" or "city_daily_aqi" in quality
