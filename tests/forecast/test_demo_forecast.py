"""The forecast demo step with the committed model: files written, idempotent, an episode to act on."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import xarray as xr

from forecast.demo import build_demo, demo_paths


def test_build_demo_twice(settings):
    date = dt.date(2026, 11, 28)
    first = build_demo(settings, date)
    paths = demo_paths(settings, date)
    snapshot = {k: p.read_bytes() for k, p in paths.items()}
    second = build_demo(settings, date)
    assert first == second
    assert {k: p.read_bytes() for k, p in paths.items()} == snapshot     # idempotent, deterministic
    obs = pd.read_csv(paths["observations"])
    assert obs["synthetic"].all() and "synthetic" in paths["observations"].name
    assert obs["date"].max() == "2026-11-28"
    ds = xr.open_dataset(paths["forecast"])
    assert ds.attrs["standard"] == "HJ633-2026"
    # its weather (a synthetic GRIB2 run and synthetic history) is recorded as synthetic in the product
    assert ds.attrs["weather_used"] == "yes" and ds.attrs["weather_synthetic"] == 1
    p = ds["p_aqi_gt_150"].sel(city=settings.city).isel(issued=0).values
    assert p[0] > 0.3          # the synthetic episode is visible at D+1
    ds.close()
    recent = pd.read_csv(paths["recent"])
    assert recent["issued"].nunique() == 30 and recent["issued"].max() == "2026-11-27"
    assert list(recent.columns[:10]) == ["city", "issued", "lead_day", "valid_date", "aqi_p10", "aqi_p50",
                                         "aqi_p90", "p_aqi_gt_150", "p_aqi_gt_200", "p_aqi_gt_300"]
