"""Fixtures of the dashboard tests: a demo-like environment in a temporary folder.

The environment is built with the packages' own functions: the synthetic list
(``enterprise_list.demo.build_demo``), the demo users (``dashboard.demo``), an
emission inventory imported with ``emergency.reductions.import_inventory`` from a
small hand-made CSV, and a forecast product in the pinned layout
(city × issued × lead_day × quantile × member) whose AQI is computed with
``forecast.aqi.aqi_from_concentrations`` from seeded, lead-correlated
concentration scenarios (a 3-day heavy-pollution episode for 阳泉).
"""
from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ISSUED = dt.date(2026, 1, 10)
CITIES = ("阳泉", "太原", "晋中", "石家庄", "北京", "长治", "邢台", "郑州")
QUANTILES = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)
#: Median PM2.5 [µg/m³] by lead day for 阳泉: a 3-day episode on days 2–4.
EPISODE_PM25 = np.array([70, 165, 190, 175, 110, 70, 55, 60, 75, 80], dtype=float)


def make_forecast(issued: dt.date = ISSUED, cities=CITIES, members: int = 60, seed: int = 7):
    """A forecast Dataset in the pinned layout of ``forecast.model`` (synthetic, seeded)."""
    import xarray as xr

    from forecast.aqi import aqi_from_concentrations

    rng = np.random.default_rng(seed)
    leads = np.arange(1, 11)
    n_c, n_l = len(cities), len(leads)
    scale = np.linspace(0.6, 1.4, n_c)
    median_pm25 = np.stack([EPISODE_PM25 if c == "阳泉" else EPISODE_PM25 * s for c, s in zip(cities, scale)])
    sigma = 0.18 + 0.035 * leads  # spread grows with lead time
    # AR(1) noise across lead days per member: realistic correlation between consecutive days
    eps = np.empty((n_c, n_l, members))
    eps[:, 0] = rng.standard_normal((n_c, members))
    for j in range(1, n_l):
        eps[:, j] = 0.8 * eps[:, j - 1] + 0.6 * rng.standard_normal((n_c, members))
    pm25 = median_pm25[:, :, None] * np.exp(sigma[None, :, None] * eps)
    pm10 = pm25 * 1.45
    so2 = 25 + 0.1 * pm25
    no2 = 30 + 0.2 * pm25
    co = 0.6 + 0.01 * pm25
    o3_8h = np.clip(90 - 0.2 * pm25, 15, None)
    aqi = aqi_from_concentrations("HJ633-2026", pm25=pm25, pm10=pm10, so2=so2, no2=no2, co=co, o3_8h=o3_8h)
    q = np.array(QUANTILES)
    coords = {"city": list(cities), "issued": [np.datetime64(issued, "ns")], "lead_day": leads, "quantile": q,
              "member": np.arange(members)}
    valid = np.array([[np.datetime64(issued + dt.timedelta(days=int(d)), "ns") for d in leads]])
    data_vars = {}
    for name, arr in (("aqi", aqi), ("pm25", pm25), ("pm10", pm10), ("so2", so2), ("no2", no2), ("co", co),
                      ("o3_8h", o3_8h)):
        qs = np.moveaxis(np.quantile(arr, q, axis=-1), 0, -1)[:, None]
        data_vars[name] = (("city", "issued", "lead_day", "quantile"), qs)
    for thr in (150, 200, 300):
        data_vars[f"p_aqi_gt_{thr}"] = (("city", "issued", "lead_day"), (aqi > thr).mean(axis=-1)[:, None])
    data_vars["aqi_scenario"] = (("city", "issued", "lead_day", "member"), aqi[:, None])
    ds = xr.Dataset(data_vars, coords=coords)
    ds = ds.assign_coords(valid_date=(("issued", "lead_day"), valid))
    ds.attrs.update(model="test-synthetic", standard="HJ633-2026", issued=issued.isoformat(), synthetic="true")
    return ds


def _write_recent(settings, issued: dt.date, seed: int = 3) -> None:
    """Recent observations and the forecasts made for them, in the demo files' layouts."""
    from forecast.aqi import daily_aqi

    rng = np.random.default_rng(seed)
    days = pd.date_range(issued - dt.timedelta(days=30), issued - dt.timedelta(days=1), freq="D")
    rows, fc = [], []
    for city in CITIES[:3]:
        pm25 = np.clip(80 + 60 * np.sin(np.arange(len(days)) / 4) + rng.normal(0, 15, len(days)), 5, None)
        obs = pd.DataFrame({"city": city, "date": days, "pm25": pm25.round(0), "pm10": (pm25 * 1.5).round(0),
                            "so2": 20.0, "no2": 35.0, "co": 1.0, "o3_8h": 60.0})
        obs["aqi"] = daily_aqi(obs)["aqi"].to_numpy()
        obs["synthetic"] = True
        rows.append(obs)
        for lead in (1, 2, 3):
            err = rng.normal(0, 12 * lead, len(days))
            p50 = np.clip(obs["aqi"].to_numpy() + err, 10, None)
            fc.append(pd.DataFrame({"city": city, "issued": days - pd.Timedelta(days=lead), "lead_day": lead,
                                    "valid_date": days, "aqi_p10": p50 * 0.75, "aqi_p50": p50,
                                    "aqi_p90": p50 * 1.3, "p_aqi_gt_150": (p50 > 150) * 0.7,
                                    "p_aqi_gt_200": (p50 > 200) * 0.6, "p_aqi_gt_300": 0.0}))
    demo = Path(settings.data_dir) / "demo"
    demo.mkdir(parents=True, exist_ok=True)
    pd.concat(rows).to_csv(demo / "synthetic_city_daily.csv", index=False)
    pd.concat(fc).to_csv(demo / "recent_forecasts.csv", index=False)


def _write_scores(model_dir: Path) -> None:
    """A backtest score table in the documented layout (lead_day, metric, model, value)."""
    rows = []
    for lead in range(1, 11):
        for model, base in (("airwarn", 28), ("persistence", 40), ("climatology", 52)):
            rows.append((lead, "RMSE", model, base + (3.5 if model != "climatology" else 0.3) * lead))
            rows.append((lead, "MAE", model, 0.75 * (base + 3 * lead)))
    model_dir.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, columns=["lead_day", "metric", "model", "value"]).to_csv(
        model_dir / "backtest_scores.csv", index=False)


def build_env(root: Path):
    """Build a complete demo-like environment under ``root``; returns the settings."""
    from airwarn.db import get_engine
    from airwarn.settings import load_settings
    from dashboard import demo as dash_demo
    from emergency.reductions import import_inventory
    from enterprise_list import demo as list_demo

    settings = load_settings(env={"AIRWARN_DATA_DIR": str(root / "var"),
                                  "AIRWARN_MODEL": str(root / "model")}).ensure_dirs()
    list_demo.build_demo(settings, ISSUED)
    # hand-made inventory (t/day): industry slightly above the list's baseline, plus other sectors
    inv = root / "inventory.csv"
    inv.write_text("sector,so2,nox,pm,vocs,unit\nindustry,60,95,40,30,t/day\nmobile,1,30,3,12,t/day\n"
                   "dust,0,0,25,0,t/day\nresidential,8,4,6,5,t/day\n", encoding="utf-8")
    import_inventory(get_engine(settings.db_url), inv, name="测试清单(合成)", synthetic=True)
    out = settings.output_dir / ISSUED.isoformat()
    out.mkdir(parents=True, exist_ok=True)
    make_forecast().to_netcdf(out / "forecast.nc")
    (out / "bulletin.html").write_text("<html><body><h1>阳泉市重污染天气预警信息（测试）</h1></body></html>",
                                       encoding="utf-8")
    (out / "bulletin.txt").write_text("阳泉市重污染天气预警信息（测试）", encoding="utf-8")
    _write_recent(settings, ISSUED)
    _write_scores(Path(settings.model_dir))
    dash_demo.build_demo(settings, ISSUED)
    return settings


@pytest.fixture(scope="session")
def env(tmp_path_factory):
    """Shared read-mostly environment (tests that change state use ``fresh_env``)."""
    return build_env(tmp_path_factory.mktemp("dash-env"))


@pytest.fixture
def fresh_env(tmp_path):
    """An environment of one's own, for tests that issue warnings or import lists."""
    return build_env(tmp_path)


@pytest.fixture(scope="session")
def app(env):
    """The Dash app on the shared environment."""
    from dashboard.app import create_app

    return create_app(env)


def demo_password(settings, name: str) -> str:
    """Password of a demo user from the demo users file."""
    from dashboard.demo import read_demo_users

    return read_demo_users(settings)[name][1]


class LiveServer:
    """The real dashboard served by waitress in a thread on 127.0.0.1 and a free port."""

    def __init__(self, settings):
        from dashboard.server import make_server

        self.settings = settings
        self.server = make_server(settings, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.server.effective_port}"
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.server.effective_port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.05)

    def close(self):
        self.server.close()
        self.thread.join(timeout=5)


@pytest.fixture
def live_server(fresh_env):
    """A running server on a fresh environment."""
    srv = LiveServer(fresh_env)
    yield srv
    srv.close()

