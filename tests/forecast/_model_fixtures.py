"""Shared helpers of the forecast-model tests: a small real subset and a small trained model."""
from __future__ import annotations

import warnings

import pandas as pd

CITY_DAILY = "cn_city_daily_aqistudy/city_daily_aqi_20131202-20160131.csv.gz"
STATIONS = "stations/cnemc_station_list_NewSiteList.csv"
#: Yangquan and neighbours: a small, real, regionally coherent subset.
SMALL_CITIES = ("阳泉", "太原", "晋中", "石家庄", "邢台", "长治", "北京", "保定")
#: Small, fast hyperparameters for tests.
SMALL_PARAMS = dict(n_estimators=25, scale_n_estimators=10, num_leaves=15, min_child_samples=40)


def read_subset(shared_data, cities=SMALL_CITIES, end="2015-03-31") -> pd.DataFrame:
    from forecast import io

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=io.ReaderWarning)
        df = io.read_city_daily(shared_data / CITY_DAILY)
    df = df[df["city"].isin(cities) & (df["date"] <= pd.Timestamp(end))]
    return df.reset_index(drop=True)


def coordinates(shared_data, cities=SMALL_CITIES) -> pd.DataFrame:
    from forecast import io

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=io.ReaderWarning)
        return io.city_coordinates(shared_data / STATIONS, list(cities))[["city", "lon", "lat"]]


def write_subset_csv(df: pd.DataFrame, path) -> None:
    """Write a subset in the aqistudy layout (o3 column, dates as text) for the CLI tests."""
    out = df[["city", "date", "aqi", "pm25", "pm10", "so2", "co", "no2", "o3_8h"]].rename(columns={"o3_8h": "o3"})
    out = out.assign(date=out["date"].dt.strftime("%Y-%m-%d"))
    out.to_csv(path, index=False)
