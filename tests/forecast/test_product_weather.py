"""The forecast product records the weather it used (``met_<v>``, ``weather_*`` attributes; forecast.product),
the ``met`` setting, and the daily chain's forecast step giving it to a model trained with weather
(emergency.daily.forecast_weather).

Real data: aqistudy city daily AQI/PM2.5/PM10 of 北京 and two neighbours, and the UCI station meteorology
of Beijing Dongsi (daily means) written as the tidy city CSV a meteorological bureau exports
(``city,date,t2m,d2m,psfc,precip,ws10``; the observed weather standing in for a perfect forecast).
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from airwarn.core.errors import InputError
from forecast import product as P

CITIES = ("北京", "天津", "廊坊")
DONGSI = "beijing_multisite_uci/PRSA_Data_Dongsi_20130301-20160229.csv.gz"
CITY_DAILY = "cn_city_daily_aqistudy/city_daily_aqi_20131202-20160131.csv.gz"
STATIONS = "stations/cnemc_station_list_NewSiteList.csv"
#: Small, fast boosters (two pollutants, few rows): the test is about the product, not the skill.
TINY = dict(n_estimators=10, scale_n_estimators=6, num_leaves=7, min_child_samples=40)
ISSUED = ("2015-02-09", "2015-02-10")


def _bureau_csv(shared_data, path):
    """Dongsi's daily station meteorology in the tidy bureau layout (one city, 北京)."""
    from forecast import features as F
    from forecast import io

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", io.ReaderWarning)
        hourly = io.read_prsa_multisite([shared_data / DONGSI])
    daily = F.met_daily(hourly[["station", "time", "temp", "pres", "dewp", "rain", "wd", "wspm"]]
                        .rename(columns={"station": "city"}))
    daily = daily[(daily["date"] >= "2014-02-01") & (daily["date"] <= "2015-03-31")]
    table = pd.DataFrame({"city": "北京", "date": daily["date"].dt.strftime("%Y-%m-%d"),
                          "t2m": daily["temp"].round(2), "d2m": daily["dewp"].round(2),
                          "psfc": daily["pres"].round(1), "precip": daily["rain"].round(1),
                          "ws10": daily["wspm"].round(2)})
    table.to_csv(path, index=False)
    return table


@pytest.fixture(scope="module")
def world(shared_data, tmp_path_factory):
    """Observations, the bureau CSV read as the model reads it, a model with and one without weather."""
    from forecast import io
    from forecast.model import ForecastModel
    from forecast.model_cli import load_met

    folder = tmp_path_factory.mktemp("weather-product")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", io.ReaderWarning)
        obs = io.read_city_daily(shared_data / CITY_DAILY)
        coords = io.city_coordinates(shared_data / STATIONS, list(CITIES))[["city", "lon", "lat"]]
    full = obs[obs["city"].isin(CITIES) & (obs["date"] >= "2014-03-01") & (obs["date"] <= "2015-03-31")]
    obs = full[["city", "date", "aqi", "pm25", "pm10"]].reset_index(drop=True)  # two pollutants: fast
    csv = folder / "bureau_met_beijing.csv"
    table = _bureau_csv(shared_data, csv)
    met = load_met([csv], None, coords)
    models = {}
    for name, weather in (("with-weather", met), ("without-weather", None)):
        m = ForecastModel(name=name, params=TINY, max_rows=2000, valid_days=90, n_jobs=1, residual="off")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m.fit(obs, met=weather, coords=coords, until="2015-01-31")
        models[name] = m
    return {"obs": obs, "full": full.reset_index(drop=True), "met": met, "csv": csv, "table": table, "coords": coords, "folder": folder, **models}


def _predict(model, world, met):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.predict(world["obs"], list(ISSUED), met=met, n_members=10)


def test_forecast_records_the_weather_it_used_and_reads_it_back(world, tmp_path):
    model = world["with-weather"]
    assert {"t2m", "rh", "ws10", "stagnation"} <= set(model.met_variables_)
    nc, _ = P.write_forecast(_predict(model, world, world["met"]), tmp_path / "forecast.nc")
    ds = P.open_forecast(nc)
    assert ds.attrs["weather_used"] == "yes"
    assert ds.attrs["weather_sources"] == "bureau_met_beijing.csv"  # the file's name, not its path
    assert ds.attrs["weather_cities"] == "北京"
    assert ds.attrs["weather_synthetic"] == 0  # the bureau file carries no synthetic column
    for v in model.met_variables_:
        assert ds[f"met_{v}"].dims == P.DAILY_DIMS and ds[f"met_{v}"].dtype == np.float32
    assert ds["met_t2m"].attrs["units"] == "degC" and ds["met_ws10"].attrs["units"] == "m s-1"
    assert ds["met_rh"].attrs["units"] == "%" and ds["met_stagnation"].attrs["units"] == "1"
    assert "met0_t2m" not in ds and "met_dt2m" not in ds  # the valid day's predictor only
    info = P.weather_info(ds)
    assert info == {"used": True, "sources": ["bureau_met_beijing.csv"], "cities": ["北京"],
                    "variables": list(model.met_variables_), "synthetic": False}
    # the valid days' values of the bureau file, per issue day
    bureau = world["table"].assign(date=lambda d: pd.to_datetime(d["date"])).set_index("date")
    for issued in ISSUED:
        frame = P.weather_frame(ds, "北京", issued)
        assert list(frame["lead_day"]) == list(range(1, 11))
        assert frame["valid_date"].iloc[0] == pd.Timestamp(issued) + pd.Timedelta(days=1)
        np.testing.assert_allclose(frame["t2m"], bureau.loc[frame["valid_date"], "t2m"], atol=1e-4)
        np.testing.assert_allclose(frame["ws10"], bureau.loc[frame["valid_date"], "ws10"], atol=1e-4)
        calm = (bureau.loc[frame["valid_date"], "ws10"] < 3.2) & (bureau.loc[frame["valid_date"], "precip"] < 1)
        np.testing.assert_array_equal(frame["stagnation"], calm.astype(float).to_numpy())
    assert P.weather_frame(ds, "北京")["valid_date"].iloc[0] == pd.Timestamp("2015-02-11")  # newest issue day
    # a city without weather: an empty frame with the columns
    tianjin = P.weather_frame(ds, "天津")
    assert tianjin.empty and list(tianjin.columns) == ["lead_day", "valid_date", *model.met_variables_]
    with pytest.raises(InputError, match="2015-03-01"):
        P.weather_frame(ds, "北京", "2015-03-01")


def test_without_weather_the_product_says_no(world, tmp_path):
    plain = P.open_forecast(P.write_forecast(_predict(world["without-weather"], world, world["met"]),
                                             tmp_path / "plain.nc")[0])
    assert plain.attrs["weather_used"] == "no" and plain.attrs["weather_sources"] == ""
    assert not [v for v in plain.data_vars if str(v).startswith("met_")]
    assert P.weather_info(plain) == {"used": False, "sources": [], "cities": [], "variables": [],
                                     "synthetic": False}
    assert P.weather_frame(plain, "北京").empty
    # a model trained with weather and given none: its predictors are missing, and the product says so
    blind = _predict(world["with-weather"], world, None)
    assert blind.attrs["weather_used"] == "no" and blind.attrs["weather_cities"] == ""
    assert not P.weather_info(blind)["used"] and P.weather_frame(blind, "北京").empty
    # a product written before the weather attributes existed
    old = plain.copy()
    old.attrs = {k: v for k, v in old.attrs.items() if not k.startswith("weather_")}
    assert P.weather_info(old)["used"] is False and P.weather_info(old)["synthetic"] is False


def test_forecast_from_synthetic_weather_says_so(world, tmp_path):
    """The met frame's ``attrs["synthetic"]`` reaches the product's ``weather_synthetic`` through predict,
    whatever the files are called."""
    met = world["met"].copy()
    met.attrs = {**world["met"].attrs, "synthetic": True}
    ds = P.open_forecast(P.write_forecast(_predict(world["with-weather"], world, met), tmp_path / "f.nc")[0])
    assert ds.attrs["weather_synthetic"] == 1 and ds.attrs["weather_sources"] == "bureau_met_beijing.csv"
    assert P.weather_info(ds)["synthetic"] is True
    # a model trained without weather used none of it: not synthetic
    plain = _predict(world["without-weather"], world, met)
    assert plain.attrs["weather_synthetic"] == 0 and P.weather_info(plain)["synthetic"] is False


def test_weather_units_are_those_of_the_readers():
    from airwarn.core import units
    from forecast.io.met_csv import MET_CSV_COLUMNS
    from forecast.met import DAILY_PREDICTORS

    assert set(DAILY_PREDICTORS) <= set(P.WEATHER_VARIABLES)
    for name, (text, _, _) in MET_CSV_COLUMNS.items():
        if name in P.WEATHER_VARIABLES and name != "tcc":  # tcc: a fraction 0–1 ("1" in CF)
            assert units.get(P.WEATHER_VARIABLES[name][1]) == units.get(text), name
    assert P.WEATHER_VARIABLES["tcc"][1] == "1"
    for uci in ("temp", "dewp", "pres", "rain", "wspm", "u", "v", "rh", "blh"):  # forecast.features.met_daily
        assert units.get(P.WEATHER_VARIABLES[uci][1]) == units.unit_of(uci), uci


def test_met_setting_parses_paths_globs_and_lists(tmp_path):
    from pathlib import Path

    from airwarn.core.settings import load_settings

    assert load_settings(env={}).met == ()
    env = {"AIRWARN_MET": "/data/nwp/*.grib2,/data/bureau.csv"}
    assert load_settings(env=env).met == (Path("/data/nwp/*.grib2"), Path("/data/bureau.csv"))
    cfg = tmp_path / "airwarn.toml"
    cfg.write_text('met = ["a.grib2", "b.grib2"]\n', encoding="utf-8")
    assert load_settings(cfg, env={}).met == (Path("a.grib2"), Path("b.grib2"))
    cfg.write_text("met = 3\n", encoding="utf-8")
    with pytest.raises(InputError, match="met must be a path or a list"):
        load_settings(cfg, env={})


def _chain_settings(settings, world, model_name, tmp_path, met=()):
    """Settings of a daily chain for 北京 on the world's observations and a saved model."""
    obs = tmp_path / "city_daily.csv"
    if not obs.exists():
        full = world["full"].rename(columns={"o3_8h": "o3"})  # the aqistudy layout
        full.assign(date=full["date"].dt.strftime("%Y-%m-%d")).to_csv(obs, index=False)
    folder = world["folder"] / model_name
    if not folder.exists():
        world[model_name].save(folder)
    return settings.with_(observations=(obs,), model_dir=folder, city="北京", met=tuple(met))


def test_daily_chain_forecasts_with_the_met_setting(settings, world, tmp_path, capsys):
    import datetime as dt
    from pathlib import Path

    from emergency.daily import _make_forecast

    day = dt.date(2015, 2, 10)
    # the bureau's weather forecast run of the day (its observed weather as the run's values, `issued` set)
    observed = pd.read_csv(world["csv"])
    valid = pd.to_datetime(observed["date"])
    run = observed[(valid > pd.Timestamp(day)) & (valid <= pd.Timestamp(day) + pd.Timedelta(days=10))]
    folder = tmp_path / "nwp"
    folder.mkdir()
    run.assign(issued=day.isoformat()).to_csv(folder / "bureau_run_20150210.csv", index=False)
    s = _chain_settings(settings, world, "with-weather", tmp_path, met=[folder / "bureau_run_*.csv"])
    _make_forecast(s, day, tmp_path / "a" / "forecast.nc")
    ds = P.open_forecast(tmp_path / "a" / "forecast.nc")
    info = P.weather_info(ds)
    assert info["used"] and info["sources"] == ["bureau_run_20150210.csv"] and info["cities"] == ["北京"]
    assert P.weather_frame(ds, "北京")["valid_date"].iloc[0] == pd.Timestamp("2015-02-11")
    # the station observations of later days are not a forecast: the chain of a past day leaves them out
    glob = Path(world["csv"]).parent / "bureau_met_*.csv"
    _make_forecast(s.with_(met=(glob,)), day, tmp_path / "a2" / "forecast.nc")
    assert P.open_forecast(tmp_path / "a2" / "forecast.nc").attrs["weather_used"] == "no"
    # a model with weather and no met setting: forecast without weather, said on stderr
    capsys.readouterr()
    _make_forecast(s.with_(met=()), day, tmp_path / "b" / "forecast.nc")
    assert P.open_forecast(tmp_path / "b" / "forecast.nc").attrs["weather_used"] == "no"
    err = capsys.readouterr().err
    assert "settings 'met' (AIRWARN_MET) is not set" in err and "北京 is forecast without weather" in err
    # a model without weather: the met setting is ignored, said on stderr
    plain = _chain_settings(settings, world, "without-weather", tmp_path, met=[world["csv"]])
    _make_forecast(plain, day, tmp_path / "c" / "forecast.nc")
    assert P.open_forecast(tmp_path / "c" / "forecast.nc").attrs["weather_used"] == "no"
    err = capsys.readouterr().err
    assert "trained without weather" in err and "ignored" in err and err.count("\n") == 1


def test_daily_chain_names_the_setting_and_the_file_of_bad_weather(settings, world, tmp_path):
    from emergency.daily import forecast_weather

    s = _chain_settings(settings, world, "with-weather", tmp_path)
    model = world["with-weather"]
    bad = tmp_path / "bureau_bad.csv"
    text = world["csv"].read_text(encoding="utf-8").splitlines()
    text[5] = text[5].rsplit(",", 1)[0] + ",calm"  # a word where ws10 is a number
    bad.write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        forecast_weather(s.with_(met=(bad,)), model)
    assert str(err.value).startswith("settings 'met' (AIRWARN_MET): ") and "bureau_bad.csv" in str(err.value)
    # a file lacking variables the model was trained with
    thin = tmp_path / "bureau_thin.csv"
    world["table"][["city", "date", "t2m"]].to_csv(thin, index=False)
    with pytest.raises(InputError) as err:
        forecast_weather(s.with_(met=(thin,)), model)
    assert "settings 'met'" in str(err.value) and "bureau_thin.csv" in str(err.value) and "ws10" in str(err.value)
    with pytest.raises(FileNotFoundError, match=r"settings 'met' \(AIRWARN_MET\): no weather file matches"):
        forecast_weather(s.with_(met=(tmp_path / "nwp" / "*.grib2",)), model)


def test_the_daily_chain_uses_no_weather_known_only_after_the_issue_day():
    from emergency.daily import weather_known_on

    day = pd.Timestamp("2026-12-03")
    met = pd.DataFrame({
        "city": "阳泉",
        "issued": [pd.NaT, pd.NaT, day, day, day + pd.Timedelta(days=1)],
        "date": [day - pd.Timedelta(days=1), day + pd.Timedelta(days=1),  # observed: before / after the day
                 day + pd.Timedelta(days=1), day + pd.Timedelta(days=2),  # the day's own run
                 day + pd.Timedelta(days=2)],                            # tomorrow's run
        "blh": [300.0, 900.0, 350.0, 400.0, 950.0]})
    met.attrs["sources"] = ["a.csv", "run.grib2"]
    kept = weather_known_on(met, day)
    assert kept["blh"].tolist() == [300.0, 350.0, 400.0] and kept.attrs["sources"] == met.attrs["sources"]
    station = met[met["issued"].isna()].drop(columns="issued")  # a station CSV brought up to date
    assert weather_known_on(station, day)["blh"].tolist() == [300.0]
    assert weather_known_on(None, day) is None


def test_a_forecast_of_several_chunks_says_the_weather_of_all_of_them():
    """A backtest concatenates chunks of issue days; xr.concat keeps the first chunk's attributes, so a
    backtest whose first chunk had no weather said it used none (a bug found in review)."""
    import xarray as xr

    from forecast.product import combined_attrs

    def part(days, used, sources="", cities="", synthetic=0):
        return xr.Dataset(coords={"issued": pd.to_datetime(days)},
                          attrs={"title": "t", "issued": "x", "weather_used": "yes" if used else "no",
                                 "weather_sources": sources, "weather_cities": cities,
                                 "weather_synthetic": synthetic})

    parts = [part(["2026-01-01", "2026-01-02", "2026-01-03"], False),
             part(["2026-01-04", "2026-01-05", "2026-01-06"], True, "run_a.grib2", "阳泉", 1),
             part(["2026-01-07"], True, "run_b.grib2; run_a.grib2", "太原,阳泉", 0)]
    attrs = combined_attrs(parts)
    assert attrs["title"] == "t" and attrs["weather_used"] == "yes"
    assert attrs["weather_sources"] == "run_a.grib2; run_b.grib2" and attrs["weather_cities"] == "太原,阳泉"
    assert attrs["weather_synthetic"] == 1
    assert attrs["issued"] == "2026-01-01, 2026-01-02, 2026-01-03, 2026-01-04, 2026-01-05 …"
    none = combined_attrs(parts[:1])
    assert none["weather_used"] == "no" and none["weather_sources"] == "" and none["weather_synthetic"] == 0
    assert xr.concat(parts, dim="issued").attrs["weather_used"] == "no"   # what xr.concat alone keeps
