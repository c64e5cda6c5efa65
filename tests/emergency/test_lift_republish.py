"""Republishing after each step and the lift notice (issue 15): after a lift the bulletin is the
解除通知 and the notification list says 解除; a warning always has a start, an end and rules."""
from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from airwarn.cli import main
from tests.emergency.test_daily_cli import DATE, demo_db, write_forecast  # noqa: F401  (fixture)
from emergency.daily import run_daily

PASSWORD = "Commander-pass-1"


@pytest.fixture
def commander(demo_db, monkeypatch):  # noqa: F811
    import airwarn.core.users  # noqa: F401
    from airwarn.core import users
    from airwarn.core.db import create_tables, get_engine, session_scope

    eng = get_engine(demo_db.db_url)
    create_tables(eng)
    with session_scope(eng) as s:
        users.add_user(s, "wang", "commander", PASSWORD)
    monkeypatch.setenv("AIRWARN_DATA_DIR", str(demo_db.data_dir))
    monkeypatch.setenv("AIRWARN_PASSWORD", PASSWORD)
    return demo_db


AUTH = ["--user", "wang", "--role", "commander"]


def test_i15_issue_upgrade_lift_republish_and_lift_gives_a_lift_notice(commander, capsys):
    settings = commander
    folder = write_forecast(settings, [205, 212, 225, 180, 95, 80, 70, 60, 60, 60])
    run_daily(settings, DATE)
    assert main(["warning", "issue", "--level", "yellow", "--start", "2026-01-11", "--end", "2026-01-14",
                 *AUTH]) == 0
    w = json.loads(capsys.readouterr().out)
    assert str(folder / "bulletin.txt") in w["republished"] and w["rules_version"].startswith("national-2024@")
    assert "发布黄色预警" in (folder / "bulletin.txt").read_text(encoding="utf-8")
    assert main(["warning", "upgrade", "--id", str(w["id"]), "--revision", str(w["revision"]), "--level", "orange",
                 *AUTH]) == 0
    w = json.loads(capsys.readouterr().out)
    assert set(pd.read_csv(folder / "notifications.csv", encoding="utf-8-sig")["预警级别"]) == {"橙色预警"}
    n_orange = len(pd.read_csv(folder / "notifications.csv", encoding="utf-8-sig"))
    assert main(["warning", "lift", "--id", str(w["id"]), "--revision", str(w["revision"]), *AUTH]) == 0
    w = json.loads(capsys.readouterr().out)
    txt = (folder / "bulletin.txt").read_text(encoding="utf-8")
    assert txt.startswith("阳泉市重污染天气预警解除通知") and "发布橙色预警" not in txt
    assert "解除阳泉自2026-01-11起发布的橙色预警" in txt and "（北京时间）" in txt
    assert "解除通知" in (folder / "bulletin.html").read_text(encoding="utf-8")
    assert (folder / "lift_notice.txt").read_text(encoding="utf-8") == txt
    notes = pd.read_csv(folder / "notifications.csv", encoding="utf-8-sig")
    assert set(notes["状态"]) == {"解除"} and len(notes) == n_orange
    assert set(notes["预警级别"]) == {"橙色预警（已解除）"}
    xlsx = pd.read_excel(folder / "notifications.xlsx")
    assert set(xlsx["状态"]) == {"解除"}
    assert json.loads((folder / "reductions.json").read_text(encoding="utf-8"))["active"] is False


def test_i15_issue_without_forecast_needs_its_period(commander, capsys):
    from airwarn.core.db import get_engine
    from emergency import lifecycle as lc

    assert main(["warning", "issue", "--level", "orange", *AUTH]) == 2
    err = capsys.readouterr().err.strip()
    assert "give --start and --end" in err and len(err.splitlines()) == 1
    assert main(["warning", "issue", "--level", "orange", "--start", "2026-01-11", *AUTH]) == 2
    assert lc.history(get_engine(commander.db_url)) == []
    assert main(["warning", "issue", "--level", "orange", "--start", "2026-01-11", "--end", "2026-01-13", *AUTH]) == 0
    w = json.loads(capsys.readouterr().out)
    assert (w["start"], w["end"]) == ("2026-01-11", "2026-01-13") and w["rules_version"]
