"""Demo step of the ``forecast`` package: synthetic observations and today's forecast.

:func:`build_demo` (idempotent) writes

* ``<data_dir>/demo/synthetic_city_daily.csv``: synthetic observations
  (:func:`forecast.synthetic.make_city_daily`) for the "2+26" and Shanxi cities, 400 days up to
  the demo date, ending in a heavy-pollution process building over the region (阳泉's AQI
  reaches about 235 on the demo date), marked ``synthetic = True``;
* ``<output_dir>/<YYYY-MM-DD>/forecast.nc`` and ``forecast.csv``: the forecast issued on the demo
  date by the committed model (``settings.model_dir``);
* ``<data_dir>/demo/recent_forecasts.csv``: the forecasts issued on each of the 30 days before
  the demo date, in the backtest ``forecasts.csv`` layout, so the dashboard can set recent
  observations against what was forecast for them.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from airwarn.core.dates import today_beijing
from airwarn.core.products import FORECAST_NC, product_path
from airwarn.core.settings import Settings

#: Seed of the demo's synthetic observations.
DEMO_SEED = 2026
#: Days of synthetic history before the demo date.
DEMO_HISTORY_DAYS = 400
#: Issue days of the recent forecasts.
RECENT_DAYS = 30


def demo_paths(settings: Settings, date: dt.date) -> dict[str, Path]:
    """Where the demo step writes its files."""
    demo_dir = Path(settings.data_dir) / "demo"
    return {"observations": demo_dir / "synthetic_city_daily.csv",
            "recent": demo_dir / "recent_forecasts.csv",
            "forecast": product_path(settings.output_dir, pd.Timestamp(date).date(), FORECAST_NC)}


def build_demo(settings: Settings, date: dt.date | None = None) -> str:
    """Write the synthetic observations, today's forecast and the recent forecasts.

    Parameters
    ----------
    settings : Settings
        ``data_dir``, ``output_dir``, ``model_dir`` and ``city`` are used.
    date : date, optional
        Demo (issue) date; default today.

    Returns
    -------
    str
        One-line summary.
    """
    from airwarn.core.files import atomic_write_text
    from forecast.backtest import backtest_frame
    from forecast.model import load_model
    from forecast.product import write_forecast
    from forecast.synthetic import DEMO_CITIES, make_city_daily
    from forecast.synthetic_counties import build_ranking_demo

    date = date or today_beijing()
    paths = demo_paths(settings, date)
    paths["observations"].parent.mkdir(parents=True, exist_ok=True)
    cities = list(DEMO_CITIES)
    focus = settings.city if settings.city in cities else "阳泉"
    if settings.city not in cities:
        cities.append(settings.city)
    start = pd.Timestamp(date) - pd.Timedelta(days=DEMO_HISTORY_DAYS)
    obs = make_city_daily(cities, start, date, seed=DEMO_SEED, focus_city=focus)
    out = obs.assign(date=obs["date"].dt.strftime("%Y-%m-%d"))
    atomic_write_text(paths["observations"], out.to_csv(index=False))
    from forecast.synthetic_nwp import write_synthetic_nwp  # synthetic GRIB2 run → <data_dir>/demo/nwp/
    write_synthetic_nwp(paths["observations"].parent / "nwp", date)

    model = load_model(settings.model_dir)
    ds = model.predict(obs, issued=date)
    write_forecast(ds, paths["forecast"])

    recent_days = [pd.Timestamp(date) - pd.Timedelta(days=k) for k in range(RECENT_DAYS, 0, -1)]
    recent = model.predict(obs, issued=recent_days, n_members=50)
    atomic_write_text(paths["recent"], backtest_frame(recent).to_csv(index=False, float_format="%.4g"))
    build_ranking_demo(settings, date)  # 考核排名: synthetic county data and the ranking of the last month

    city = settings.city
    p200 = ds["p_aqi_gt_200"].sel(city=city).isel(issued=0).values if city in ds.city else np.array([np.nan])
    lead = int(np.nanargmax(p200)) + 1 if np.isfinite(p200).any() else 0
    p50 = ds["aqi"].sel(city=city, quantile=0.5).isel(issued=0).values if city in ds.city else [np.nan]
    return (f"synthetic observations for {len(cities)} cities → {paths['observations']}; forecast issued {date} "
            f"→ {paths['forecast']} ({city}: AQI p50 D+1 {p50[0]:.0f}, max P(AQI>200) {np.nanmax(p200):.2f} "
            f"at D+{lead}); {RECENT_DAYS} recent forecasts → {paths['recent'].name}")
