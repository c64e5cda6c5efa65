"""Instants stored as timezone-aware UTC (issue 15, "Beijing time stored as timezone-aware UTC").

Every instant column is :class:`airwarn.core.db.UTCDateTime`: aware UTC in Python on SQLite and
PostgreSQL, SQLite's stored text unchanged, a naive value refused. Revision 0002 makes the columns
``timestamptz`` on PostgreSQL (the naive values taken as UTC, whatever the session's zone) and changes
nothing on SQLite. The hash chains written by the old code (naive UTC values, hashed as naive ISO
text) still verify after the upgrade, and new rows continue them.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re

import pytest
import sqlalchemy as sa
from sqlalchemy import text

from airwarn.core.chain import row_hash
from airwarn.core.dates import BEIJING, format_beijing
from airwarn.core.db import create_tables, current, get_engine, head, session_scope, upgrade

UTC = dt.timezone.utc
#: A warning drafted and issued at 04:35 Beijing time on 2026-12-02 (20:35 UTC the day before).
DRAFTED = dt.datetime(2026, 12, 1, 20, 30, 1, 250000)
ISSUED = dt.datetime(2026, 12, 1, 20, 35, 12, 345678)
RECEIVED = dt.datetime(2026, 12, 1, 20, 0, 0, 500000)
EDITED = dt.datetime(2026, 12, 1, 20, 40, 0, 125000)
#: SQLAlchemy's text of a naive DateTime on SQLite (what the old columns stored, what UTCDateTime stores).
SQLITE_TEXT = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$")


def _old_hash(values: list, prev_hash: str | None) -> str:
    """The row hash as the code before aware instants computed it (frozen copy): naive datetimes and
    dates as ``isoformat()``, JSON, SHA-256."""
    payload = json.dumps([prev_hash or "", *(v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else v
                                             for v in values)], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _stored(engine, t: dt.datetime):
    """A naive UTC value as the old code bound it: SQLAlchemy's text on SQLite, a timestamp on PostgreSQL."""
    return t.strftime("%Y-%m-%d %H:%M:%S.%f") if engine.dialect.name == "sqlite" else t


def _insert(conn, table: str, row: dict) -> None:
    cols = ", ".join(f'"{c}"' for c in row)
    conn.execute(text(f'INSERT INTO "{table}" ({cols}) VALUES ({", ".join(":" + c for c in row)})'), row)


def _old_database(engine) -> dict:
    """A database at revision 0001 holding what the old code wrote (raw SQL, naive UTC values, the old
    hashes): an orange warning drafted then issued, its active slot, a notice of the province (for
    another area) and a bulletin edit. Returns the chain heads."""
    from emergency.edits import text_hash

    upgrade(engine, "0001")
    audit_fields = ("id", "warning_id", "area", "at", "user", "role", "action", "level_from", "level_to",
                    "status_from", "status_to", "revision", "forecast_ref", "forecast_hash", "rules_version",
                    "reason", "warning_start", "warning_end")
    start, end = dt.date(2026, 12, 3), dt.date(2026, 12, 5)
    steps = [dict(id=1, warning_id=1, area="阳泉", at=DRAFTED, user="zhang", role="commander", action="draft",
                  level_from=None, level_to="orange", status_from=None, status_to="draft", revision=1,
                  forecast_ref=None, forecast_hash=None, rules_version="national-2024", reason="会商决定",
                  warning_start=start, warning_end=end),
             dict(id=2, warning_id=1, area="阳泉", at=ISSUED, user="zhang", role="commander", action="issue",
                  level_from=None, level_to="orange", status_from="draft", status_to="issued", revision=2,
                  forecast_ref=None, forecast_hash=None, rules_version="national-2024", reason="会商决定",
                  warning_start=start, warning_end=end)]
    notice_fields = ("id", "area", "kind", "level", "start", "end", "issuing_body", "doc_number", "received_at",
                     "recorded_by", "recorded_role", "recorded_at", "note")
    notice = dict(id=1, area="晋中", kind="issue", level="orange", start=start, end=end, issuing_body="山西省生态环境厅",
                  doc_number="晋环应急调度〔2026〕12号", received_at=RECEIVED, recorded_by="zhang",
                  recorded_role="commander", recorded_at=DRAFTED, note="")
    bulletin = "阳泉市重污染天气橙色预警发布通知（修改稿）"
    edit_fields = ("id", "warning_id", "revision", "at", "user", "role", "before_hash", "after_hash", "text", "reason")
    edit = dict(id=1, warning_id=1, revision=2, at=EDITED, user="zhang", role="commander", before_hash=None,
                after_hash=text_hash(bulletin), text=bulletin, reason="措辞")
    heads = {}
    with engine.begin() as conn:
        _insert(conn, "warning", dict(id=1, area="阳泉", level="orange", status="issued", revision=2, start=start,
                                      end=end, created_by="zhang", created_at=_stored(engine, DRAFTED),
                                      issued_at=_stored(engine, ISSUED), issued_by="zhang",
                                      rules_version="national-2024", reason="会商决定"))
        _insert(conn, "warning_active", dict(area="阳泉", warning_id=1, since=_stored(engine, ISSUED)))
        prev = None
        for row in steps:
            h = _old_hash([row[f] for f in audit_fields], prev)
            _insert(conn, "warning_audit", {**row, "at": _stored(engine, row["at"]), "prev_hash": prev, "row_hash": h})
            prev = h
        heads["audit"] = prev
        h = _old_hash([notice[f] for f in notice_fields], None)
        _insert(conn, "provincial_notice", {**notice, "received_at": _stored(engine, RECEIVED),
                                            "recorded_at": _stored(engine, DRAFTED), "prev_hash": None, "row_hash": h})
        heads["notice"] = h
        h = _old_hash([edit[f] for f in edit_fields], None)
        _insert(conn, "bulletin_edit", {**edit, "at": _stored(engine, EDITED), "prev_hash": None, "row_hash": h})
        heads["edit"] = h
        if engine.dialect.name == "postgresql":  # the serial sequences, as the ORM's inserts would have left them
            for table in ("warning", "warning_audit", "provincial_notice", "bulletin_edit"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 1, true)"))
    return heads


def _instant_columns() -> set[str]:
    """``table.column`` of every UTCDateTime column of every model module."""
    from airwarn.core.db import Base, UTCDateTime
    from airwarn.db_cli import model_modules

    model_modules()
    return {f"{t.name}.{c.name}" for t in Base.metadata.sorted_tables for c in t.columns
            if isinstance(c.type, UTCDateTime)}


def test_every_datetime_column_of_the_models_is_an_instant_and_revision_0002_converts_it():
    import importlib

    from airwarn.core.db import Base

    instants = _instant_columns()
    others = {f"{t.name}.{c.name}" for t in Base.metadata.sorted_tables for c in t.columns
              if isinstance(c.type, sa.DateTime) and f"{t.name}.{c.name}" not in instants}
    assert len(instants) == 19 and not others
    revision = importlib.import_module("airwarn.core.migrations.versions.0002_aware_timestamps")
    assert {f"{t}.{c}" for t, cols in revision.INSTANTS.items() for c in cols} == instants


@pytest.fixture
def beijing_session_url(db_url):
    """``db_url``; on PostgreSQL its sessions run in Beijing time (``TimeZone``), so that taking the old
    naive values as local time instead of UTC would shift them by 8 h."""
    if db_url.startswith("postgresql"):
        admin = sa.create_engine(db_url)
        with admin.connect() as conn:
            name = conn.exec_driver_sql("SELECT current_database()").scalar()
            conn.exec_driver_sql(f"ALTER DATABASE {name} SET timezone = 'Asia/Shanghai'")
            conn.commit()
        admin.dispose()
    return db_url


def test_a_0001_database_written_by_the_old_code_upgrades_and_its_chains_verify(beijing_session_url):
    from emergency import lifecycle as lc
    from emergency import models
    from emergency.edits import bulletin_edits
    from emergency.notices import notices
    from emergency.verify import verify

    engine = get_engine(beijing_session_url)
    heads = _old_database(engine)
    assert current(engine) == "0001"
    create_tables(engine, models)  # what every command does first: 0001 → 0002
    assert current(engine) == head() == "0002"
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW timezone").scalar() == "Asia/Shanghai"
            kinds = dict(conn.exec_driver_sql(
                "SELECT table_name || '.' || column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'public' AND data_type LIKE 'timestamp%%'").all())
        assert set(kinds) == _instant_columns() and set(kinds.values()) == {"timestamp with time zone"}

    result = verify(engine)
    assert result.ok, result.problems
    assert (result.rows, result.head) == (2, heads["audit"])
    entries = lc.audit_log(engine)
    assert [a.at for a in entries] == [DRAFTED.replace(tzinfo=UTC), ISSUED.replace(tzinfo=UTC)]
    assert all(a.at.utcoffset() == dt.timedelta(0) for a in entries)
    assert format_beijing(entries[1].at, seconds=True) == "2026-12-02 04:35:12（北京时间）"
    w = lc.get_warning(engine, 1)
    assert w.issued_at == ISSUED.replace(tzinfo=UTC)
    [n] = notices(engine)
    assert (n.received_at, n.row_hash) == (RECEIVED.replace(tzinfo=UTC), heads["notice"])
    [e] = bulletin_edits(engine, 1)
    assert (e.at, e.row_hash) == (EDITED.replace(tzinfo=UTC), heads["edit"])

    # the new code continues the old chain: a lift hashed from aware values, then everything verifies
    lc.lift(engine, 1, user="zhang", role="commander", reason="空气质量好转")
    result = verify(engine)
    assert result.ok, result.problems
    last = lc.audit_log(engine)[-1]
    assert (last.action, last.prev_hash, result.rows) == ("lift", heads["audit"], 3)
    assert last.at.tzinfo is not None and abs(dt.datetime.now(UTC) - last.at) < dt.timedelta(minutes=10)
    # the audit table is still append-only after the ALTER TABLE (its triggers kept)
    with engine.begin() as conn, pytest.raises(sa.exc.DatabaseError, match="append-only"):
        conn.execute(text("UPDATE warning_audit SET reason = 'rewritten'"))
    if engine.dialect.name == "sqlite":  # the stored text keeps its form, old rows and new
        with engine.connect() as conn:
            stored = [r[0] for r in conn.execute(text("SELECT at FROM warning_audit ORDER BY id"))]
        assert stored[:2] == [DRAFTED.strftime("%Y-%m-%d %H:%M:%S.%f"), ISSUED.strftime("%Y-%m-%d %H:%M:%S.%f")]
        assert SQLITE_TEXT.match(stored[2]), stored[2]


def test_a_chain_row_hashes_the_same_naive_or_aware_in_any_zone():
    fields = ["id", "at", "day"]
    naive = {"id": 1, "at": ISSUED, "day": dt.date(2026, 12, 2)}
    old = _old_hash([1, ISSUED, dt.date(2026, 12, 2)], "abc")
    assert row_hash(naive, fields, "abc") == old
    for zone in (UTC, BEIJING, dt.timezone(dt.timedelta(hours=-5))):
        aware = {**naive, "at": ISSUED.replace(tzinfo=UTC).astimezone(zone)}
        assert row_hash(aware, fields, "abc") == old, zone
    later = {**naive, "at": ISSUED.replace(tzinfo=BEIJING)}  # 8 h earlier an instant: another hash
    assert row_hash(later, fields, "abc") != old


def test_utc_datetime_binds_aware_as_utc_and_refuses_naive(db_url):
    from airwarn.core import users

    engine = get_engine(db_url)
    create_tables(engine, users)
    at_beijing = ISSUED.replace(tzinfo=UTC).astimezone(BEIJING)  # 04:35 on 12-02 in Beijing time
    with session_scope(engine) as s:
        s.add(users.LoginFailure(at=at_beijing, user_name="zhang", address="10.0.0.1"))
    with session_scope(engine) as s:
        got = s.scalars(sa.select(users.LoginFailure.at)).one()
        # a comparison binds through the column's type too (aware, any zone)
        assert s.scalars(sa.select(users.LoginFailure.id).where(users.LoginFailure.at >= at_beijing)).all() == [1]
    assert got == ISSUED.replace(tzinfo=UTC) and got.tzinfo is not None and got.utcoffset() == dt.timedelta(0)
    with engine.connect() as conn:
        raw = conn.execute(text("SELECT at FROM login_failure")).scalar()
    if engine.dialect.name == "sqlite":
        assert raw == "2026-12-01 20:35:12.345678"  # UTC text, as the naive column stored it
    else:
        assert raw == ISSUED.replace(tzinfo=UTC)
    with pytest.raises(sa.exc.StatementError, match=r"expected an aware datetime \(UTC instant\), got the naive "
                                                    r"2026-12-01 20:35:12\.345678"):
        with session_scope(engine) as s:
            s.add(users.LoginFailure(at=ISSUED, user_name="zhang", address="10.0.0.1"))
    with pytest.raises(sa.exc.StatementError, match="got the naive"):
        with session_scope(engine) as s:
            s.scalars(sa.select(users.LoginFailure.id).where(users.LoginFailure.at > ISSUED)).all()


def test_server_defaults_read_back_aware_utc(db_url):
    """``server_default=now()`` columns (SQLite's CURRENT_TIMESTAMP text, PostgreSQL's now()) read as aware UTC."""
    from enterprise_list import models
    from enterprise_list.models import ListVersion

    engine = get_engine(db_url)
    create_tables(engine, models)
    with session_scope(engine) as s:
        s.add(ListVersion(name="2026", year=2026, effective_date=dt.date(2026, 1, 1)))
    with session_scope(engine) as s:
        created = s.scalars(sa.select(ListVersion.created_at)).one()
    assert created.utcoffset() == dt.timedelta(0)
    assert abs(dt.datetime.now(UTC) - created) < dt.timedelta(minutes=10)
