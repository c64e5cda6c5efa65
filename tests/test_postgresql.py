"""The whole demo on a real PostgreSQL server: build, rebuild, serve, sign in and issue a warning.

The list, lifecycle and reductions tests already run on both databases (fixture ``db_url``); this one
checks that every package's tables, the stored list frames, the audit trigger and the dashboard's
users and sessions work together on PostgreSQL as they do on the default SQLite.
"""
from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from airwarn.core.db import current, get_engine, head, session_scope
from airwarn.demo import run_demo
from airwarn.core.settings import load_settings
from tests.dashboard.conftest import LiveServer
from tests.dashboard.test_server import Browser, demo_password

DATE = dt.date(2026, 1, 10)


def _counts(engine) -> dict[str, int]:
    from emergency.models import EmissionInventory, WarningAudit, WarningRecord
    from enterprise_list.models import Enterprise, ListVersion

    with session_scope(engine) as s:
        return {name: s.execute(select(func.count()).select_from(model)).scalar()
                for name, model in (("versions", ListVersion), ("enterprises", Enterprise),
                                    ("inventory", EmissionInventory), ("warnings", WarningRecord),
                                    ("audit", WarningAudit))}


def test_demo_builds_serves_and_issues_on_postgresql(postgres_server, tmp_path):
    url = postgres_server.new_database()
    settings = load_settings(env={"AIRWARN_DATA_DIR": str(tmp_path / "var"), "AIRWARN_OUTPUT_DIR": str(tmp_path / "out"),
                                  "AIRWARN_DB": url}).ensure_dirs()
    run_demo(settings, date=DATE, serve=False)
    engine = get_engine(settings.db_url)
    assert engine.dialect.name == "postgresql"
    assert current(engine) == head()  # the schema came from the migrations
    built = _counts(engine)
    assert built["versions"] == 1 and built["enterprises"] == 320 and built["inventory"] > 0
    assert (tmp_path / "out" / DATE.isoformat() / "reductions.json").exists()

    run_demo(settings, date=DATE, serve=False)  # a second build keeps one copy of everything
    assert _counts(engine) == built
    # the demo's warning in force (issued and signed off); lifted here so that the page can issue one
    from emergency import lifecycle as lc

    demo_warning = lc.active_warning(engine, settings.city)
    assert demo_warning is not None and built["warnings"] == 1 and built["audit"] == 2
    lc.lift(engine, demo_warning.id, user="commander", role="commander", reason="测试：解除演示预警")

    server = LiveServer(settings)
    try:
        commander = Browser(server.url)
        assert commander.sign_in("commander", demo_password(settings, "commander")) == 302
        status, body, _ = commander.issue_callback(commander.cookie("_csrf_token"))
        assert status == 200
        assert "已发布橙色预警" in json.dumps(json.loads(body), ensure_ascii=False)
    finally:
        server.close()
    after = _counts(engine)
    assert (after["warnings"], after["audit"]) == (built["warnings"] + 1, built["audit"] + 2)

    # the dashboard's data layer reads and writes the same on PostgreSQL
    from dashboard.services import lists, notes, warnings as warning_service

    notes.save_note(DATE, "阳泉", "静稳天气，建议橙色预警", "forecaster", settings)
    notes.save_note(DATE, "阳泉", "修改：建议橙色预警", "forecaster", settings)  # replaces, no second row
    assert notes.get_note(DATE, "阳泉", settings)["text"] == "修改：建议橙色预警"
    from dashboard.models import ConsultationNote

    with session_scope(engine) as s:
        assert s.execute(select(func.count()).select_from(ConsultationNote)).scalar() == 1
    assert list(warning_service.warning_history(settings)["级别"]) == ["橙色预警", "黄色预警"]
    assert list(warning_service.audit_log(settings)["用户"]) == ["commander", "commander", "vice-mayor", "commander"]
    assert lists.list_versions(settings).iloc[0]["企业"] == 320
    hit = lists.find_enterprises("焦化", s=settings)[0]
    sheet = lists.enterprise_sheet(hit["credit_code"], "orange", settings)
    assert sheet and hit["credit_code"] in json.dumps(sheet, ensure_ascii=False, default=str)
    # the audit trail refuses changes in SQL on PostgreSQL too
    with engine.begin() as conn, pytest.raises(DatabaseError, match="append-only"):
        conn.execute(text("DELETE FROM warning_audit"))
    assert _counts(engine)["audit"] == after["audit"]
