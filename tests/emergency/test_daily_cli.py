"""The daily chain, demo step, bulletin, notification list and CLI on a real SQLite database."""
from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from airwarn.cli import main
from airwarn.core.errors import AirwarnError
from airwarn.core.vocab import LEVEL_COLOURS, WarningLevel
from emergency.daily import PRODUCTS, run_daily
from tests.emergency.test_engine_inputs import make_dataset

DATE = dt.date(2026, 1, 10)


def write_forecast(settings, values, members=None):
    folder = settings.output_dir / DATE.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    make_dataset({settings.city: values}, {settings.city: members} if members is not None else None,
                 issued=DATE.isoformat()).to_netcdf(folder / "forecast.nc")
    return folder


@pytest.fixture
def demo_db(settings):
    from enterprise_list.demo import build_demo

    build_demo(settings, DATE)
    return settings


def test_demo_step_runs_the_chain_and_is_idempotent(demo_db):
    settings = demo_db
    m = np.array([[210, 215, 230, 190, 90, 80, 70, 60, 60, 60]] * 3 + [[120, 130, 150, 140, 90, 80, 70, 60, 60, 60]], float)
    folder = write_forecast(settings, [205, 212, 225, 180, 95, 80, 70, 60, 60, 60], m)
    from emergency.demo import DEMO_INVENTORY, build_demo

    first = build_demo(settings, DATE)
    second = build_demo(settings, DATE)
    assert "orange" in first and first == second
    for name in PRODUCTS:
        assert (folder / name).stat().st_size > 0, name
    rec = json.loads((folder / "recommendation.json").read_text(encoding="utf-8"))
    assert rec["level"] == "orange" and rec["start"] == "2026-01-11" and rec["end"] == "2026-01-14"
    # decided on the committed model's calibration: 3 of 4 members meet orange in D+1..D+3, calibrated
    from emergency.decision import LevelShares, load_calibration

    cal = load_calibration(settings.model_dir, "national-2024")
    raw = np.array([[0.75, 0.75, 0.0]])
    want, _ = cal.calibrated(LevelShares({"window": raw, "horizon": raw}, np.zeros((1, 11))))
    assert rec["decision"]["rule"] == "probability" and rec["decision"]["thresholds"] == cal.thresholds
    assert rec["probability"] == pytest.approx(dict(zip(("yellow", "orange", "red"), want[0].round(4))), abs=1e-4)
    red = json.loads((folder / "reductions.json").read_text(encoding="utf-8"))
    assert red["active"] and red["inventory"] == DEMO_INVENTORY
    mets = [t["met"] for t in red["targets"]]
    assert any(mets) and not all(mets)  # the demo shows targets met and missed
    notes = pd.read_excel(folder / "notifications.xlsx", engine="calamine")
    csv = pd.read_csv(folder / "notifications.csv", encoding="utf-8-sig")
    assert len(notes) == len(csv) == red["affected_enterprises"] > 0
    assert set(notes["预警级别"]) == {"橙色预警"}
    assert abs(csv["预计减排SO2（吨/天）"].sum() - red["cut_t_per_day"]["so2"]) < 0.01
    html = (folder / "bulletin.html").read_text(encoding="utf-8")
    assert LEVEL_COLOURS[WarningLevel.ORANGE] in html and "#99004C" in html  # heavy-pollution colour of AQI 205
    txt = (folder / "bulletin.txt").read_text(encoding="utf-8")
    assert "橙色预警" in txt and "2026-01-11" in txt and "儿童、老年人" in txt


def test_daily_without_warning_writes_standby(demo_db):
    folder = write_forecast(demo_db, [80, 90, 120, 140, 95, 80, 70, 60, 60, 60])
    res = run_daily(demo_db, DATE)
    assert res.recommendation.level == WarningLevel.NONE and res.reductions is None
    red = json.loads((folder / "reductions.json").read_text(encoding="utf-8"))
    assert red["active"] is False and red["standby"]["level"] == "yellow"
    assert pd.read_csv(folder / "notifications.csv", encoding="utf-8-sig").empty


def test_daily_without_forecast_or_observations_is_a_clear_error(settings, capsys):
    with pytest.raises(FileNotFoundError, match=r"no forecast .*forecast.nc to use, and settings 'observations' "
                                                r"\(AIRWARN_OBS\): no such file or folder .*synthetic_city_daily.csv"):
        run_daily(settings, DATE)


def test_daily_forecasts_from_the_configured_observations(settings, shared_data):
    """A deployment points 'observations' at its daily files (here the real CNEMC city daily data):
    the chain runs the committed model on them, issued on the day, for the configured city."""
    real = settings.with_(observations=(shared_data / "cn_city_daily_aqistudy/city_daily_aqi_20131202-20160131.csv.gz",))
    day = dt.date(2016, 1, 20)
    res = run_daily(real, day)
    assert res.forecast_made and res.forecast_path.exists()
    import xarray as xr

    with xr.open_dataset(res.forecast_path) as ds:
        assert ds["city"].values.tolist() == ["阳泉"]
        assert pd.Timestamp(ds["issued"].values[0]) == pd.Timestamp(day)
        assert np.isfinite(ds["aqi"].values).all()
    rec = json.loads((res.folder / "recommendation.json").read_text(encoding="utf-8"))
    assert rec["city"] == "阳泉" and rec["level"] in {"none", "yellow", "orange", "red"}
    assert rec["forecast"]["observations_through"] == "2016-01-20" and rec["data_warnings"] == []

    # the city's data stop three days before the product day: the forecast is issued from the last
    # observed day (not from empty predictors), and the recommendation warns
    full = pd.read_csv(real.observations[0])
    cut = full[~((full["city"] == "阳泉") & (full["date"] > "2016-01-17"))]
    stale_file = settings.data_dir / "stale.csv"
    cut.to_csv(stale_file, index=False)
    stale = real.with_(observations=(stale_file,), output_dir=settings.output_dir / "stale")
    res = run_daily(stale, day)
    with xr.open_dataset(res.forecast_path) as ds:
        assert pd.Timestamp(ds["issued"].values[0]) == pd.Timestamp("2016-01-17")
        assert pd.Timestamp(ds["last_observed"].values.ravel()[0]) == pd.Timestamp("2016-01-17")
    rec = json.loads((res.folder / "recommendation.json").read_text(encoding="utf-8"))
    assert rec["forecast"]["observations_through"] == "2016-01-17"
    assert len(rec["data_warnings"]) == 1 and "实况数据仅截至2016-01-17,距2016-01-20已3天" in rec["data_warnings"][0]
    assert "WARNING observations end 2016-01-17" in res.summary()
    # more than a week behind: refused, nothing written
    late = stale.with_(output_dir=settings.output_dir / "late")
    with pytest.raises(ValueError, match=r"of 阳泉 end 2016-01-17, more than 7 days before 2016-01-30"):
        run_daily(late, dt.date(2016, 1, 30))
    assert not (settings.output_dir / "late" / "2016-01-30" / "forecast.nc").exists()

    # observations without the configured city (UCI stations are named by site): which files, which city
    site = shared_data / "beijing_multisite_uci/PRSA_Data_Dongsi_20130301-20160229.csv.gz"
    with pytest.raises(ValueError, match=r"PRSA_Data_Dongsi.* hold no day of 北京 on or before 2016-01-21"):
        run_daily(real.with_(city="北京", output_dir=settings.output_dir / "bj", observations=(site,)),
                  dt.date(2016, 1, 21))
    # a file of another layout: the reader names the file and the missing columns
    hourly = shared_data / "cnemc_station_hourly"
    with pytest.raises(ValueError, match=r"station_1410A_haikou.*missing required column"):
        run_daily(real.with_(output_dir=settings.output_dir / "hk", observations=(hourly,)), dt.date(2016, 1, 21))
    assert not (settings.output_dir / "hk" / "2016-01-21" / "forecast.nc").exists()


def test_cli_warn_prints_pinned_json(tmp_path, capsys, monkeypatch, settings):
    monkeypatch.setenv("AIRWARN_DATA_DIR", str(settings.data_dir))
    f = tmp_path / "f.csv"
    pd.DataFrame({"city": "阳泉", "valid_date": ["2026-01-11", "2026-01-12", "2026-01-13"],
                  "aqi": [160, 170, 90], "p_aqi_gt_150": [0.7, 0.8, 0.1]}).to_csv(f, index=False)
    assert main(["warn", "--forecast", str(f), "--city", "阳泉", "--rules", "national-2024"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out)[:6] == ["city", "level", "start", "end", "probability", "reasons"]
    assert out["level"] == "yellow" and set(out["probability"]) == {"yellow", "orange", "red"}
    assert main(["warn", "--forecast", str(tmp_path / "missing.csv")]) == 2
    assert "forecast file not found" in capsys.readouterr().err
    assert main(["warn", "--forecast", str(f), "--rules", "nope"]) == 2
    assert "unknown warning rule set 'nope'" in capsys.readouterr().err


def test_cli_inventory_reductions_and_lifecycle(tmp_path, capsys, monkeypatch, demo_db):
    monkeypatch.setenv("AIRWARN_DATA_DIR", str(demo_db.data_dir))
    inv = tmp_path / "inv.csv"
    inv.write_text("sector,so2,nox,pm,vocs,unit\nindustry,50,120,60,40,t/day\nmobile,2,80,5,20,t/day\n", encoding="utf-8")
    assert main(["inventory", "import", str(inv), "--name", "测试"]) == 0
    assert main(["reductions", "--level", "red", "--json"]) == 0
    out = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert out["level"] == "red" and out["inventory"] == "测试" and out["total_t_per_day"]["nox"] == 200
    assert main(["reductions", "--level", "yellow"]) == 0
    assert "按区县" in capsys.readouterr().out
    from airwarn.core.db import get_engine, session_scope
    from airwarn.core.users import add_user

    with session_scope(get_engine(demo_db.db_url)) as s:  # the CLI acts only as existing users
        add_user(s, "li", "viewer", "Viewer-pass-1")
        add_user(s, "wang", "commander", "Commander-pass-1")
    monkeypatch.setenv("AIRWARN_PASSWORD", "Viewer-pass-1")
    assert main(["warning", "issue", "--level", "yellow", "--start", "2026-01-11", "--end", "2026-01-13",
                 "--user", "li", "--role", "viewer"]) == 2
    assert "may not issue" in capsys.readouterr().err
    monkeypatch.setenv("AIRWARN_PASSWORD", "Commander-pass-1")
    assert main(["warning", "issue", "--level", "yellow", "--start", "2026-01-11", "--end", "2026-01-13", "--user", "wang", "--role", "commander",
                 "--reason", "会商"]) == 0
    issued = json.loads(capsys.readouterr().out)
    assert issued["status"] == "issued"
    rev = ["--id", str(issued["id"]), "--revision", str(issued["revision"])]
    assert main(["warning", "upgrade", "--level", "orange", "--user", "wang", "--role", "commander", *rev]) == 0
    rev[-1] = str(issued["revision"] + 1)
    assert main(["warning", "lift", "--user", "wang", "--role", "commander", *rev]) == 0
    capsys.readouterr()
    assert main(["warning", "log"]) == 0
    log = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[4] for line in log] == ["issue", "upgrade", "lift"]


def test_issued_warning_rewrites_bulletin_and_notifications(demo_db):
    # the system recommends orange; the commander decides red: the products must follow the decision
    from emergency import lifecycle
    from emergency.daily import publish_issued

    settings = demo_db
    folder = write_forecast(settings, [205, 212, 225, 180, 95, 80, 70, 60, 60, 60])
    run_daily(settings, DATE)
    assert "（建议稿）" in (folder / "bulletin.txt").read_text(encoding="utf-8")
    from airwarn.core.db import get_engine

    w = lifecycle.issue(get_engine(settings.db_url), user="zhang", role="commander", area=settings.city,
                        level="red", start=dt.date(2026, 1, 11), end=dt.date(2026, 1, 14), reason="会商决定", rules_version="national-2024")
    publish_issued(settings, w, DATE)
    txt = (folder / "bulletin.txt").read_text(encoding="utf-8")
    assert "（建议稿）" not in txt
    assert "决定：自2026-01-11起发布红色预警，启动I级响应，预计持续至2026-01-14。" in txt
    assert f"签发：zhang（预警编号 #{w.id}" in txt and "系统建议为橙色预警" in txt
    html = (folder / "bulletin.html").read_text(encoding="utf-8")
    assert LEVEL_COLOURS[WarningLevel.RED] in html and "建议稿" not in html
    red = json.loads((folder / "reductions.json").read_text(encoding="utf-8"))
    assert red["level"] == "red" and red["issued_warning"] == w.id
    notes = pd.read_csv(folder / "notifications.csv", encoding="utf-8-sig")
    assert set(notes["预警级别"]) == {"红色预警"} and len(notes) == red["affected_enterprises"]


def test_publish_issued_needs_the_days_forecast(demo_db):
    from emergency.daily import publish_issued
    from emergency.lifecycle import issue
    from airwarn.core.db import get_engine

    w = issue(get_engine(demo_db.db_url), user="zhang", role="commander", area=demo_db.city, level="yellow",
              start="2026-01-11", end="2026-01-12", rules_version="national-2024")
    with pytest.raises(FileNotFoundError, match="no forecast for 2026-01-10.*airwarn daily --date 2026-01-10"):
        publish_issued(demo_db, w, DATE)


def test_the_warning_in_force_is_the_active_one_unless_it_began_long_after_the_day(demo_db):
    from airwarn.core.db import get_engine
    from emergency import lifecycle as lc
    from emergency.daily import warning_in_force

    settings = demo_db
    engine = get_engine(settings.db_url)
    assert warning_in_force(settings, engine, DATE) == WarningLevel.NONE
    lc.issue(engine, None, user="cmd", role="commander", reason="test", area=settings.city, level="orange",
             start=DATE + dt.timedelta(days=2), end=DATE + dt.timedelta(days=4), rules_version="national-2024")
    assert warning_in_force(settings, engine, DATE) == WarningLevel.ORANGE       # decided today for D+2
    assert warning_in_force(settings, engine, DATE - dt.timedelta(days=10)) == WarningLevel.NONE  # a backfill


def test_daily_names_the_setting_when_national_archive_files_come_without_a_station_list(settings, tmp_path):
    """The reader names no option or setting (issue 18); the daily chain says which setting to fix."""
    archive = tmp_path / "china_sites_20150101.csv"
    archive.write_text("date,hour,type,1001A\n", encoding="utf-8")
    with pytest.raises(AirwarnError, match=r"^settings 'observations' \(AIRWARN_OBS\): 1 CNEMC national archive "
                                           r"file\(s\) .* none was given: set 'stations' \(AIRWARN_STATIONS\)$"):
        run_daily(settings.with_(observations=(archive,), stations=None), DATE)


def test_daily_names_the_setting_when_an_observation_file_is_malformed(settings, tmp_path):
    bad = tmp_path / "obs.csv"
    bad.write_text("city,date,aqi,pm25,pm10,so2,no2,co,o3_8h\n阳泉,2026-13-45,80,50,70,10,30,0.8,60\n", encoding="utf-8")
    with pytest.raises(AirwarnError, match=r"^settings 'observations' \(AIRWARN_OBS\): .*obs\.csv, row 2, "
                                           r"column 'date'.*2026-13-45"):
        run_daily(settings.with_(observations=(bad,)), DATE)


def test_a_later_daily_run_keeps_the_issued_warnings_bulletin(demo_db):
    # the bug: after the commander issued a warning, the next `airwarn daily` rewrote bulletin.html and
    # the notification list as the recommendation's draft (建议稿) over the issued warning's
    from airwarn.core.db import get_engine
    from emergency import lifecycle

    settings = demo_db
    folder = write_forecast(settings, [205, 212, 225, 180, 95, 80, 70, 60, 60, 60])
    run_daily(settings, DATE)
    w = lifecycle.issue(get_engine(settings.db_url), user="zhang", role="commander", area=settings.city,
                        level="red", start=dt.date(2026, 1, 11), end=dt.date(2026, 1, 14), reason="会商决定",
                        rules_version="national-2024")
    result = run_daily(settings, DATE)  # the duty forecaster runs the chain again the same evening
    txt = (folder / "bulletin.txt").read_text(encoding="utf-8")
    assert "（建议稿）" not in txt and f"签发：zhang（预警编号 #{w.id}" in txt
    assert json.loads((folder / "reductions.json").read_text(encoding="utf-8"))["issued_warning"] == w.id
    assert set(pd.read_csv(folder / "notifications.csv", encoding="utf-8-sig")["预警级别"]) == {"红色预警"}
    assert len(result.files) == len(set(result.files))
    # the recommendation stays the engine's own
    assert json.loads((folder / "recommendation.json").read_text(encoding="utf-8"))["level"] == "orange"
    # after its end the day's products are the recommendation's again
    later = dt.date(2026, 1, 15)
    folder2 = settings.output_dir / later.isoformat()
    folder2.mkdir(parents=True, exist_ok=True)
    from tests.emergency.test_engine_inputs import make_dataset

    make_dataset({settings.city: [60] * 10}, issued=later.isoformat()).to_netcdf(folder2 / "forecast.nc")
    run_daily(settings, later)
    assert "issued_warning" not in json.loads((folder2 / "reductions.json").read_text(encoding="utf-8"))
