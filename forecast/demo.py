"""Demo step of the ``forecast`` package: synthetic observations and today's forecast.

:func:`build_demo` (idempotent) writes

* ``<data_dir>/demo/synthetic_city_daily.csv``: synthetic observations
  (:func:`forecast.synthetic.make_city_daily`) for the "2+26" and Shanxi cities, 400 days up to
  the demo date, ending in a heavy-pollution process building over the region (阳泉's AQI
  reaches about 235 on the demo date), marked ``synthetic = True``;
* ``<data_dir>/demo/synthetic_met_daily.csv``: synthetic daily weather of the same cities and days
  (:func:`forecast.synthetic_met.make_met_daily`, the tidy met CSV layout), derived from the synthetic
  pollution's regional anomaly, marked ``synthetic = True``;
* ``<data_dir>/demo/nwp/synthetic_nwp_<YYYYMMDD>00_<k>of2.grib2``: a synthetic GRIB2 forecast run of the
  demo date (:func:`forecast.synthetic_nwp.write_synthetic_nwp`: a stagnant spell, then a cold front);
* ``<data_dir>/demo/model-weather/``: the committed model (``settings.model_dir``) plus the weather
  add-on of ``settings.city`` (:func:`forecast.weather_addon.add_city_weather`: residual boosters on
  the synthetic weather history; only that city, to keep the demo fast);
* ``<output_dir>/<YYYY-MM-DD>/forecast.nc`` and ``forecast.csv``: the forecast issued on the demo
  date by that model, with the GRIB2 run as the weather forecast and the weather history as the
  observations of the issue day;
* ``<data_dir>/demo/recent_forecasts.csv``: the forecasts issued on each of the 30 days before
  the demo date by the same model without weather (no run of those days exists; the history would be a
  perfect forecast), in the backtest ``forecasts.csv`` layout, so the dashboard can set recent
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
#: Folder (under ``<data_dir>/demo``) of the committed model plus the demo city's weather add-on.
WEATHER_MODEL = "model-weather"


def demo_paths(settings: Settings, date: dt.date) -> dict[str, Path]:
    """Where the demo step writes its files."""
    demo_dir = Path(settings.data_dir) / "demo"
    return {"observations": demo_dir / "synthetic_city_daily.csv",
            "met": demo_dir / "synthetic_met_daily.csv",
            "weather_card": demo_dir / WEATHER_MODEL / "card.json",
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
    from forecast.product import concat_met, write_forecast
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
    model, history, run = _weather_model(settings, date, obs, paths)
    # today: the GRIB2 run forecasts the weather of the coming days, the history observes the issue day
    met = concat_met([run, history.assign(issued=pd.NaT)])
    ds = model.predict(obs, issued=date, met=met)
    write_forecast(ds, paths["forecast"])

    recent_days = [pd.Timestamp(date) - pd.Timedelta(days=k) for k in range(RECENT_DAYS, 0, -1)]
    # the recent forecasts without weather (the base model's): the demo has no weather forecast run of
    # those days, and the history's weather of a valid day would be a perfect forecast of it (and the
    # add-on was fitted on those days), which would flatter the 预报检验 tab
    recent = model.predict(obs, issued=recent_days, n_members=50)
    atomic_write_text(paths["recent"], backtest_frame(recent).to_csv(index=False, float_format="%.4g"))
    build_ranking_demo(settings, date)  # 考核排名: synthetic county data and the ranking of the last month

    city = settings.city
    p200 = ds["p_aqi_gt_200"].sel(city=city).isel(issued=0).values if city in ds.city else np.array([np.nan])
    lead = int(np.nanargmax(p200)) + 1 if np.isfinite(p200).any() else 0
    p50 = ds["aqi"].sel(city=city, quantile=0.5).isel(issued=0).values if city in ds.city else [np.nan]
    return (f"synthetic observations for {len(cities)} cities → {paths['observations']}; forecast issued {date} "
            f"→ {paths['forecast']} ({city}: AQI p50 D+1 {p50[0]:.0f}, max P(AQI>200) {np.nanmax(p200):.2f} "
            f"at D+{lead}); {RECENT_DAYS} recent forecasts → {paths['recent'].name}; weather: {city} "
            f"({'synthetic GRIB2' if len(run) else 'synthetic GRIB2 run without this city: history only'})")


def _weather_model(settings: Settings, date: dt.date, obs: pd.DataFrame, paths: dict):
    """The weather path: the synthetic weather history (written as tidy met CSV), the synthetic GRIB2 run
    of ``date``, and the committed model plus ``settings.city``'s weather add-on (saved, and timed).

    Returns
    -------
    (ForecastModel, DataFrame, DataFrame)
        The model with weather, the history read back (:func:`forecast.model_cli.load_met`) and the run
        of the city (empty when the city has no coordinates inside the run's grid).
    """
    import time
    from airwarn.core.files import atomic_write_text
    from forecast.model import load_model
    from forecast.model_cli import load_met
    from forecast.synthetic_met import make_met_daily, met_csv_text
    from forecast.synthetic_nwp import GRID_LAT, GRID_LON, write_synthetic_nwp
    from forecast.weather_addon import add_city_weather, copy_base_files

    base = load_model(settings.model_dir)
    atomic_write_text(paths["met"], met_csv_text(make_met_daily(obs, seed=DEMO_SEED, coords=base.coords_)))
    nwp = write_synthetic_nwp(paths["met"].parent / "nwp", date)  # synthetic GRIB2 run → <data_dir>/demo/nwp/
    history = load_met([paths["met"]])
    city = settings.city
    start = time.perf_counter()
    model = add_city_weather(base, obs, history, [city], until=pd.Timestamp(date), name=WEATHER_MODEL)
    folder = paths["weather_card"].parent
    model.save(folder)
    copy_base_files(settings.model_dir, folder)  # the warning decision's calibration and the scorecards
    print(f"  weather add-on of {city} on the committed model: {time.perf_counter() - start:.1f} s → {folder}",
          flush=True)
    c = base.coords_[base.coords_["city"] == city]
    inside = (len(c) > 0 and GRID_LON[0] <= float(c["lon"].iloc[0]) <= GRID_LON[-1]
              and GRID_LAT[0] <= float(c["lat"].iloc[0]) <= GRID_LAT[-1])
    run = load_met(nwp, [city], base.coords_) if inside else history.iloc[:0].assign(issued=pd.NaT)
    return model, history, run
