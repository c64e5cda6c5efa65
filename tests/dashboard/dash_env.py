"""A demo-like environment for the dashboard tests and bench, built in a temporary folder.

The environment is built with the packages' own functions: the synthetic list
(``enterprise_list.demo.build_demo`` or ``enterprise_list.sample.make_sample_list``
for other sizes), the synthetic emission inventory of ``emergency.demo``, the demo
users (``dashboard.demo``), a forecast product in the pinned layout
(city × issued × lead_day × quantile × member) whose AQI is computed with
``forecast.aqi.aqi_from_concentrations`` from seeded, lead-correlated
concentration scenarios (a 3-day heavy-pollution episode for 阳泉), and the
daily products of ``emergency.daily.run_daily`` (bulletin, notification list).
The model folder holds a synthetic scorecard, a warning-decision calibration (identity tables, fixed
thresholds) and, as recorded event scores, copies of the real 28-city test-year backtest's event files
(``data/bt28_events``). Everything else is SYNTHETIC.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

ISSUED = dt.date(2026, 1, 10)
CITIES = ("阳泉", "太原", "晋中", "石家庄", "北京", "长治", "邢台", "郑州")
QUANTILES = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)
#: Approximate city centres [°E, °N]; the model output carries its cities' lon/lat the same way.
LONLAT = {"阳泉": (113.58, 37.86), "太原": (112.55, 37.87), "晋中": (112.75, 37.69), "石家庄": (114.51, 38.04),
          "北京": (116.40, 39.90), "长治": (113.12, 36.20), "邢台": (114.50, 37.07), "郑州": (113.63, 34.75)}
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
    ds = ds.assign_coords(valid_date=(("issued", "lead_day"), valid),
                          lon=("city", [LONLAT.get(c, (np.nan, np.nan))[0] for c in cities]),
                          lat=("city", [LONLAT.get(c, (np.nan, np.nan))[1] for c in cities]))
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


def _write_scores(model_dir: Path, seed: int = 5) -> None:
    """A backtest scorecard and its intervals, as ``airwarn backtest --record-in`` leaves them: scored by
    :mod:`forecast.verify` (real metric names) on a synthetic year of two cities."""
    from forecast import verify as V

    rng = np.random.default_rng(seed)
    days = pd.date_range("2025-01-01", "2025-12-31")
    season = 110 + 70 * np.cos(2 * np.pi * (days.day_of_year - 15) / 365)
    obs = pd.concat([pd.DataFrame({"city": c, "date": days,
                                   "aqi": np.clip(season * np.exp(rng.normal(0, 0.45, len(days))), 15, 500)})
                     for c in CITIES[:2]])
    clim = V.climatology(obs)
    rows = []
    for lead in range(1, 11):
        for c in CITIES[:2]:
            issued = days[:-lead]
            rows.append(pd.DataFrame({"city": c, "issued": issued, "lead_day": lead,
                                      "valid_date": issued + pd.Timedelta(days=lead)}))
    frame = V.attach_references(pd.concat(rows, ignore_index=True), obs, clim)
    blend = np.minimum(0.85, 0.35 + 0.08 * frame["lead_day"])  # skill fading with lead
    frame["aqi_mean"] = frame["aqi_p50"] = ((1 - blend) * frame["obs_aqi"] + blend * frame["clim_aqi"]
                                            + rng.normal(0, 15, len(frame)))
    for t in V.EVENT_THRESHOLDS:
        frame[f"p_aqi_gt_{t}"] = 1 / (1 + np.exp(-(frame["aqi_mean"] - t) / 25))
        frame[f"decision_threshold_gt_{t}"] = 0.3
    model_dir.mkdir(parents=True, exist_ok=True)
    V.score_table(frame).to_csv(model_dir / "backtest_scores.csv", index=False)
    V.skill_intervals(frame, n_boot=200).to_csv(model_dir / "backtest_skill_intervals.csv", index=False)
    # each city alone, as `airwarn backtest --by-city --record-in` leaves them (the first city only:
    # the others fall back to the all-city scorecard)
    one = frame[frame["city"] == CITIES[0]]
    V.score_table(one).assign(city=CITIES[0]).to_csv(model_dir / "backtest_scores_by_city.csv", index=False)
    V.skill_intervals(one, n_boot=200).assign(city=CITIES[0]).to_csv(
        model_dir / "backtest_skill_intervals_by_city.csv", index=False)


#: The 28 "2+26" cities of the recorded test-year backtest (2015-02-01 → 2016-01-31).
BACKTEST_CITIES = ("北京", "天津", "石家庄", "唐山", "廊坊", "保定", "沧州", "衡水", "邢台", "邯郸", "太原", "阳泉", "长治",
                   "晋城", "济南", "淄博", "济宁", "德州", "聊城", "滨州", "菏泽", "郑州", "开封", "安阳", "鹤壁", "新乡",
                   "焦作", "濮阳")
BACKTEST_PERIOD = ("2015-02-01", "2016-01-31")
#: Copies of the real backtest's event files (``airwarn backtest`` of aqistudy-2015 on the 28 cities;
#: the by-city scores and the events cut to a few cities, see ``data/bt28_events/README.md``).
EVENTS_DATA = Path(__file__).parent / "data" / "bt28_events"
#: Decision thresholds p*_L of the fixture's calibration (identity calibration tables).
THRESHOLDS = {"yellow": 0.35, "orange": 0.35, "red": 0.30}
KEEP_RATIO = 0.75


def _write_decision_and_events(model_dir: Path) -> None:
    """The model folder's card, warning-decision calibration and recorded backtest events, written with
    the library's own functions (:func:`emergency.decision.save_calibrations`,
    :func:`emergency.events.record_event_scores`) as training and ``airwarn backtest --record-in`` leave
    them. The calibration maps the share of scenario members to itself (identity isotonic tables) with
    the thresholds :data:`THRESHOLDS`; the event files are copies of the real 28-city backtest's."""
    import json

    from emergency.decision import LEVEL_KEYS, WINDOW, DecisionCalibration, rules_signature, save_calibrations
    from emergency.events import record_event_scores
    from emergency.rules import load_rules

    card = {"name": "test-synthetic",
            "backtest": {"scores_file": "backtest_scores.csv", "scored_model": "aqistudy-2015",
                         "scored_model_train_span": ["2013-12-02", "2015-01-31"],
                         "period": list(BACKTEST_PERIOD), "cities": list(BACKTEST_CITIES),
                         "intervals_file": "backtest_skill_intervals.csv",
                         "scores_by_city_file": "backtest_scores_by_city.csv"}}
    (model_dir / "card.json").write_text(json.dumps(card, ensure_ascii=False, indent=1), encoding="utf-8")
    rules = load_rules("national-2024")
    identity = {"x": [0.0, 1.0], "y": [0.0, 1.0]}
    cal = DecisionCalibration(rules.name, rules.version, rules_signature(rules), WINDOW,
                              {span: {k: identity for k in LEVEL_KEYS} for span in ("window", "horizon")},
                              dict(THRESHOLDS), keep_ratio=KEEP_RATIO,
                              fold={"issue_days": ["2015-10-02", "2016-01-31"], "cities": 28})
    save_calibrations(model_dir, [cal])
    record_event_scores(model_dir, {name: EVENTS_DATA / f"{name}.csv"
                                    for name in ("event_scores", "event_scores_by_city", "warning_events")}, rules)


def build_env(root: Path, n_enterprises: int | None = None):
    """Build a complete demo-like environment under ``root``; returns the settings.

    Parameters
    ----------
    root : Path
        Empty folder.
    n_enterprises : int, optional
        Size of the synthetic list (default: the demo list of ``enterprise_list.demo``).
    """
    from airwarn.core.db import get_engine
    from airwarn.core.settings import load_settings
    from dashboard import demo as dash_demo
    from emergency import demo as emergency_demo
    from enterprise_list import demo as list_demo

    settings = load_settings(env={"AIRWARN_DATA_DIR": str(root / "var"),
                                  "AIRWARN_MODEL": str(root / "model")}).ensure_dirs()
    engine = get_engine(settings.db_url)
    if n_enterprises is None:
        list_demo.build_demo(settings, ISSUED)
    else:
        from airwarn.core.db import create_tables
        from enterprise_list.io import import_list
        from enterprise_list.sample import make_sample_list

        create_tables(engine)
        import_list(engine, make_sample_list(n_enterprises, 2026), f"{n_enterprises}家(合成)", dt.date(2026, 1, 1),
                    synthetic=True)
    out = settings.output_dir / ISSUED.isoformat()
    out.mkdir(parents=True, exist_ok=True)
    make_forecast().to_netcdf(out / "forecast.nc")
    _write_recent(settings, ISSUED)
    _write_scores(Path(settings.model_dir))
    _write_decision_and_events(Path(settings.model_dir))
    emergency_demo.build_demo(settings, ISSUED)  # synthetic inventory + the daily chain on forecast.nc
    dash_demo.build_demo(settings, ISSUED)
    return settings
