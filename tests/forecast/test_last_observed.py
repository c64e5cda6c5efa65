"""How old the observations behind a forecast are (``last_observed``), on real data."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from forecast.model import last_observed, load_model
from tests.forecast._model_fixtures import read_subset


def test_last_observed_per_city_and_issue_day():
    obs = pd.DataFrame({"city": ["a", "a", "a", "b"],
                        "date": pd.to_datetime(["2016-01-01", "2016-01-02", "2016-01-05", "2016-01-03"]),
                        "pm25": [10.0, np.nan, 30.0, 5.0], "aqi": [20.0, np.nan, 40.0, 9.0]})
    got = last_observed(obs, ["a", "b", "c"], pd.to_datetime(["2016-01-02", "2016-01-04", "2016-01-06"]),
                        ["pm25", "aqi"])
    want = [["2016-01-01", "2016-01-01", "2016-01-05"],   # a: the 2nd is all NaN, the 5th counts from then
            ["NaT", "2016-01-03", "2016-01-03"],           # b: nothing before the 3rd
            ["NaT", "NaT", "NaT"]]                         # c: no rows at all
    np.testing.assert_array_equal(got.values, np.array(want, dtype="datetime64[ns]"))
    assert got.dims == ("city", "issued")


def test_forecast_says_how_old_its_data_are(shared_data):
    obs = read_subset(shared_data, ("阳泉", "太原", "晋中", "石家庄"), end="2016-01-31")
    stale = obs[~((obs["city"] == "阳泉") & (obs["date"] > "2016-01-17"))]
    model = load_model(Path(__file__).resolve().parents[2] / "models" / "aqistudy-2016")
    ds = model.predict(stale, issued="2016-01-20", cities=["阳泉", "太原"])
    through = pd.DatetimeIndex(ds["last_observed"].sel(issued="2016-01-20").values)
    assert dict(zip(ds["city"].values, through.date.astype(str))) == {"阳泉": "2016-01-17", "太原": "2016-01-20"}

