"""Every time shown to a person is Beijing time with its label (issue 15, "Time").

The fixed instant: a warning issued at 2026-12-01 20:35 UTC, i.e. 2026-12-02 04:35 Beijing time, on
product day 2026-12-02. Before the change the bulletin, the command page's tables and ``warning log``
showed the stored UTC time unlabelled ("2026-12-01 20:35"), a day before the product day.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from airwarn.core.dates import BEIJING, beijing, beijing_today, format_beijing, to_beijing

UTC_INSTANT = dt.datetime(2026, 12, 1, 20, 35, 12)  # naive = UTC, as rows from before the aware columns
UTC_AWARE = UTC_INSTANT.replace(tzinfo=dt.timezone.utc)  # what the columns hold and give back now
SHOWN = "2026-12-02 04:35"
WRONG = "2026-12-01 20:35"


def test_i15_format_beijing_converts_naive_utc_aware_pandas_and_text():
    aware = UTC_INSTANT.replace(tzinfo=dt.timezone.utc)
    for ts in (UTC_INSTANT, aware, aware.astimezone(dt.timezone(dt.timedelta(hours=-5))),
               pd.Timestamp(UTC_INSTANT), pd.Timestamp(aware), "2026-12-01T20:35:12", "2026-12-02T04:35:12+08:00"):
        assert format_beijing(ts) == f"{SHOWN}（北京时间）", ts
        assert to_beijing(ts).utcoffset() == dt.timedelta(hours=8)
    assert beijing(UTC_INSTANT) == "2026-12-02 04:35（北京时间）"
    assert format_beijing(UTC_INSTANT, seconds=True, label=" 北京时间") == "2026-12-02 04:35:12 北京时间"
    assert format_beijing(UTC_INSTANT, label=False) == SHOWN
    assert format_beijing(None) == format_beijing(pd.NaT) == format_beijing("") == ""
    with pytest.raises(TypeError):
        to_beijing(dt.date(2026, 12, 2))
    assert beijing_today() == dt.datetime.now(BEIJING).date()


@pytest.fixture
def issued_at_0435(settings, monkeypatch):
    """A database with an orange warning issued (and its audit row written) at 04:35 Beijing time."""
    from airwarn.core.db import create_tables, get_engine
    from emergency import lifecycle

    monkeypatch.setattr(lifecycle, "_utcnow", lambda: UTC_AWARE)
    eng = get_engine(settings.db_url)
    create_tables(eng)
    w = lifecycle.issue(eng, user="zhang", role="commander", area=settings.city, level="orange",
                        start=dt.date(2026, 12, 3), end=dt.date(2026, 12, 5), reason="会商决定", rules_version="national-2024")
    return settings, w


def test_i15_bulletin_signs_in_beijing_time(issued_at_0435):
    from emergency.bulletin import bulletin_html, bulletin_text
    from emergency.engine import assess

    _, w = issued_at_0435
    assert w.issued_at == UTC_AWARE and w.issued_at.utcoffset() == dt.timedelta(0)  # stored as aware UTC
    fc = pd.DataFrame({"city": "阳泉", "valid_date": pd.date_range("2026-12-03", periods=10),
                       "aqi": [205, 212, 225, 180, 95, 80, 70, 60, 60, 60]})
    rec = assess(fc, "national-2024", city="阳泉", issued="2026-12-02")
    txt, page = bulletin_text(rec, issued=w), bulletin_html(rec, issued=w)
    for doc in (txt, page):
        assert f"发布时间{SHOWN}（北京时间）" in doc
        assert WRONG not in doc
    assert "发布日期：2026-12-02" in txt


def test_i15_command_tables_show_beijing_time_with_label_in_header(issued_at_0435, monkeypatch):
    from dashboard.services import notes, warnings as warning_service

    settings, _ = issued_at_0435
    history, audit = warning_service.warning_history(settings), warning_service.audit_log(settings)
    assert list(history["发布时间（北京时间）"]) == [SHOWN]
    assert list(audit["时间（北京时间）"]) == [SHOWN]
    assert WRONG not in history.to_string() + audit.to_string()
    # and in Chinese: 发布 by 应急指挥, 无→橙色, 草稿/无→已发布
    row = audit.iloc[0]
    assert (row["操作"], row["角色"], row["级别"], row["状态"]) == ("发布", "应急指挥", "橙色", "已发布")


def test_i15_cli_warning_log_prints_beijing_time(issued_at_0435, capsys, monkeypatch):
    from airwarn.cli import main

    settings, _ = issued_at_0435
    monkeypatch.setenv("AIRWARN_DATA_DIR", str(settings.data_dir))
    assert main(["warning", "log"]) == 0
    out = capsys.readouterr().out
    assert f"{SHOWN}:12（北京时间）" in out and WRONG not in out


def test_i15_note_time_stored_in_utc(settings, monkeypatch):
    import time

    from airwarn.core.dates import utc_now

    # a server whose local zone is Beijing: a local-clock time would be stored 8 h off
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    from airwarn.core.db import create_tables, get_engine
    import dashboard.models  # noqa: F401  (the notes table)
    from dashboard.services import notes, warnings as warning_service

    create_tables(get_engine(settings.db_url))
    before = utc_now()
    try:
        notes.save_note("2026-12-02", settings.city, "静稳", "fc", s=settings)
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    saved = notes.get_note("2026-12-02", settings.city, s=settings)["updated_at"]
    # aware UTC (the server's local clock would be off by its zone's offset)
    assert abs((saved - before).total_seconds()) < 600
