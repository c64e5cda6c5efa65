"""The tamper-evident audit trail (issue 14, break 15): every tampering the adversarial test made, with
raw SQL on a real database (the sqlite3 module, as an SQL console would; SQLAlchemy text on
PostgreSQL), is refused by a trigger or found by ``verify`` / ``airwarn warning verify``."""
from __future__ import annotations

import sqlite3
import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

import emergency.models  # noqa: F401  (registers the tables)
from airwarn.cli import main
from airwarn.core.db import create_tables
from emergency import lifecycle as lc
from emergency.verify import verify

#: A warning's period and rule set: lifecycle.issue refuses a warning without them.
PERIOD = {"start": "2026-12-03", "end": "2026-12-05", "rules_version": "national-2024"}


@pytest.fixture
def history(engine):
    """A warning issued, upgraded and lifted, then one issued: five audit rows, one active warning."""
    w = lc.issue(engine, area="阳泉", level="yellow", user="zhang", role="commander", reason="会商", **PERIOD)
    w = lc.upgrade(engine, w.id, "orange", user="zhang", role="commander", expected_revision=w.revision)
    lc.lift(engine, w.id, user="zhang", role="commander", expected_revision=w.revision)
    d = lc.draft(engine, area="盂县", level="yellow", user="li", role="forecaster", **PERIOD)
    lc.issue(engine, d.id, user="zhang", role="commander", expected_revision=d.revision)
    assert len(lc.audit_log(engine)) == 5
    return engine


def run_sql(engine, sql: str) -> None:
    """Run one statement as an outsider would: the sqlite3 module on the file (no foreign keys, none of
    airwarn's code), or a plain connection on PostgreSQL."""
    if engine.dialect.name == "sqlite":
        con = sqlite3.connect(engine.url.database)
        try:
            con.execute(sql)
            con.commit()
        finally:
            con.close()
    else:
        with engine.begin() as conn:
            conn.execute(text(sql))


def verify_cli(engine, monkeypatch, capsys) -> tuple[int, str]:
    monkeypatch.setenv("AIRWARN_DB", engine.url.render_as_string(hide_password=False))
    rc = main(["warning", "verify"])
    return rc, capsys.readouterr().out


def test_verify_passes_an_intact_trail(history, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("AIRWARN_DATA_DIR", str(tmp_path / "var"))
    res = verify(history)
    assert res.ok and res.rows == 5 and res.problems == () and len(res.head) == 64
    rc, out = verify_cli(history, monkeypatch, capsys)
    assert rc == 0 and out.startswith("audit chain intact: 5 rows (head ") and res.head in out
    rows = lc.audit_log(history)
    assert rows[0].prev_hash is None and all(b.prev_hash == a.row_hash for a, b in zip(rows, rows[1:]))
    assert all(r.row_hash == lc.audit_hash(r.__dict__, r.prev_hash) for r in rows)
    # the row holds the warning's state after the step
    assert (rows[-1].area, rows[-1].level_to, rows[-1].status_to, rows[-1].revision) == ("盂县", "yellow", "issued", 2)


def test_break_15_replace_into_the_audit_is_refused(history):
    """`REPLACE INTO warning_audit` rewrote row 1 (the DELETE trigger does not fire for REPLACE)."""
    before = lc.audit_log(history)
    if history.dialect.name == "sqlite":
        attacks = [
            "REPLACE INTO warning_audit (id, warning_id, area, at, user, role, action, level_to, status_to, revision, "
            "reason) VALUES (1, 1, '阳泉', '2026-01-10 08:00:00', 'forged', 'commander', 'issue', 'red', 'issued', 2, '')",
            "INSERT OR REPLACE INTO warning_audit (id, warning_id, area, at, user, role, action, revision, reason) "
            "VALUES (2, 1, '阳泉', '2026-01-10 08:00:00', 'forged', 'commander', 'upgrade', 3, '')"]
        error = sqlite3.DatabaseError
    else:  # PostgreSQL has no REPLACE; its upsert is an UPDATE, which the trigger refuses
        attacks = [
            "INSERT INTO warning_audit (id, warning_id, area, at, \"user\", role, action, revision, reason) "
            "VALUES (1, 1, '阳泉', now(), 'forged', 'commander', 'issue', 2, '') "
            "ON CONFLICT (id) DO UPDATE SET \"user\" = EXCLUDED.\"user\""]
        error = DatabaseError
    for sql in attacks:
        with pytest.raises(error, match="append-only"):
            run_sql(history, sql)
    assert lc.audit_log(history) == before and verify(history).ok


def test_break_15_a_forged_row_appended_is_named(history, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("AIRWARN_DATA_DIR", str(tmp_path / "var"))
    run_sql(history, "INSERT INTO warning_audit (id, warning_id, area, at, \"user\", role, action, level_from, level_to, "
                     "status_from, status_to, revision, reason) VALUES (6, 2, '盂县', '2026-01-10 09:00:00', 'forged', "
                     "'commander', 'upgrade', 'yellow', 'red', 'issued', 'issued', 3, '')")
    res = verify(history)
    assert not res.ok and res.problems[0].startswith("warning_audit row 6: no hash")
    rc, out = verify_cli(history, monkeypatch, capsys)
    assert rc == 1 and out.startswith("audit chain broken: warning_audit row 6: no hash")


def test_break_15_a_forged_row_with_a_made_up_hash_is_named(history):
    head = verify(history).head
    run_sql(history, "INSERT INTO warning_audit (id, warning_id, area, at, \"user\", role, action, level_from, level_to, "
                     "status_from, status_to, revision, reason, prev_hash, row_hash) VALUES (6, 2, '盂县', "
                     f"'2026-01-10 09:00:00', 'forged', 'commander', 'upgrade', 'yellow', 'red', 'issued', 'issued', 3, "
                     f"'', '{head}', '{'0' * 64}')")
    assert verify(history).problems[0] == ("warning_audit row 6: its content does not match its hash "
                                              "(the row was changed)")


def test_break_15_update_warning_is_found(history, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("AIRWARN_DATA_DIR", str(tmp_path / "var"))
    run_sql(history, "UPDATE warning SET level = 'red' WHERE id = 2")
    res = verify(history)
    assert not res.ok
    assert res.problems[0].startswith("warning #2: the warning table says area 盂县, red issued, revision 2")
    assert "its last audit row 5 says area 盂县, yellow issued, revision 2" in res.problems[0]
    rc, out = verify_cli(history, monkeypatch, capsys)
    assert rc == 1 and "warning #2" in out.splitlines()[0]


def test_break_15_delete_from_warning_active_is_found(history):
    run_sql(history, "DELETE FROM warning_active")
    assert lc.active_warning(history, "盂县") is None
    assert verify(history).problems == (
        "warning #2: issued, but 盂县 has no row in warning_active for it (deleted outside airwarn)",)


def test_break_15_drop_trigger_then_update_the_audit_is_found(history):
    drop = {"sqlite": ["DROP TRIGGER warning_audit_no_update"],
            "postgresql": ["DROP TRIGGER warning_audit_no_change ON warning_audit"]}[history.dialect.name]
    for sql in drop:
        run_sql(history, sql)
    run_sql(history, "UPDATE warning_audit SET \"user\" = 'forged' WHERE id = 2")
    res = verify(history)
    assert res.problems[0] == "warning_audit row 2: its content does not match its hash (the row was changed)"
    # a deleted row is found too (the next row's prev_hash no longer matches)
    drop = {"sqlite": ["DROP TRIGGER warning_audit_no_delete"], "postgresql": []}[history.dialect.name]
    for sql in drop:
        run_sql(history, sql)
    run_sql(history, "DELETE FROM warning_audit WHERE id = 3")
    assert any(p.startswith("warning_audit row 4: prev_hash is not the hash of row 2") for p in verify(history).problems)


def test_the_refusal_log_is_append_only_in_sql(history):
    with pytest.raises(PermissionError):
        lc.upgrade(history, 2, "red", user="li", role="forecaster")
    assert [r.user for r in lc.refusals(history)] == ["li"]
    attacks = ["UPDATE warning_refusal SET reason = 'nothing'", "DELETE FROM warning_refusal"]
    if history.dialect.name == "sqlite":
        attacks.append("REPLACE INTO warning_refusal (id, at, user, role, action, reason) "
                       "VALUES (1, '2026-01-10 08:00:00', 'x', 'commander', 'issue', 'nothing')")
    else:
        attacks.append("TRUNCATE warning_refusal")
    for sql in attacks:
        with pytest.raises((sqlite3.DatabaseError, DatabaseError), match="warning_refusal is append-only"):
            run_sql(history, sql)
    assert [r.user for r in lc.refusals(history)] == ["li"]


def test_concurrent_steps_in_two_areas_keep_one_chain(engine):
    """Two commanders acting at once on different areas append one after the other: no fork."""
    barrier = threading.Barrier(2)
    errors = []

    def run(area):
        barrier.wait()
        try:
            for _ in range(4):
                w = lc.issue(engine, area=area, level="yellow", user="c", role="commander", **PERIOD)
                lc.lift(engine, w.id, user="c", role="commander", expected_revision=w.revision)
        except Exception as exc:  # noqa: BLE001 - the test reports it
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(a,)) for a in ("城区", "矿区")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    res = verify(engine)
    assert res.ok and res.rows == 16, res.problems


def _drop_all_triggers(engine, table: str) -> None:
    drops = {"sqlite": [f"DROP TRIGGER {table}_no_{op}" for op in ("update", "delete", "replace")],
             "postgresql": [f"DROP TRIGGER {table}_no_change ON {table}"]}[engine.dialect.name]
    for sql in drops:
        run_sql(engine, sql)


def test_break_15_wiping_every_hash_is_found(history, monkeypatch, capsys, tmp_path):
    """A review found that nulling every hash made the chain pass as rows 'from before the chain'
    (`audit chain intact: 3 rows (head -); 3 earlier rows have no hash`, exit 0)."""
    _drop_all_triggers(history, "warning_audit")
    run_sql(history, "UPDATE warning_audit SET prev_hash = NULL, row_hash = NULL, warning_start = NULL, "
                     "warning_end = NULL")
    run_sql(history, "UPDATE warning_audit SET \"user\" = 'wang', reason = 'forged' WHERE id = 1")
    res = verify(history)
    assert res.problems[0] == "warning_audit row 1: no hash (written or wiped outside airwarn)"
    assert "warning_audit: append-only trigger" in res.problems[-1]
    monkeypatch.setenv("AIRWARN_DATA_DIR", str(tmp_path / "var"))
    rc, out = verify_cli(history, monkeypatch, capsys)
    assert rc == 1 and out.startswith("audit chain broken: warning_audit row 1: no hash")


def test_break_15_a_forged_signer_in_the_warning_table_is_found(history):
    """The warning's people and references were outside the hash: a plain UPDATE (no trigger guards the
    warning table) put a forged 签发 name into every republished bulletin and verify said intact."""
    assert verify(history).ok
    run_sql(history, "UPDATE warning SET issued_by = 'wang', lifted_by = 'wang' WHERE id = 1")
    problems = verify(history).problems
    assert "warning #1: its issued_by is 'wang', its audit rows say 'zhang' (changed outside airwarn)" in problems
    assert "warning #1: its lifted_by is 'wang', its audit rows say 'zhang' (changed outside airwarn)" in problems
    run_sql(history, "UPDATE warning SET issued_by = 'zhang', lifted_by = 'zhang', created_by = 'x', "
                     "forecast_ref = '/x' WHERE id = 1")
    problems = verify(history).problems
    assert any(p.startswith("warning #1: its created_by is 'x'") for p in problems)
    assert any(p.startswith("warning #1: its forecast_ref is '/x'") for p in problems)


def test_break_15_refusals_deleted_and_triggers_dropped_are_found(history, caplog):
    """Deleting refusals after dropping their triggers, or dropping the audit's triggers, verified intact."""
    for who in ("li", "wu", "zhao"):
        with pytest.raises(PermissionError):
            lc.upgrade(history, 2, "red", user=who, role="forecaster")
    _drop_all_triggers(history, "warning_refusal")
    run_sql(history, "DELETE FROM warning_refusal WHERE id = 2")
    problems = verify(history).problems
    assert "warning_refusal: rows missing before id 3 (deleted outside airwarn)" in problems
    assert any(p.startswith("warning_refusal: append-only trigger") for p in problems)
    # any later command puts the triggers back, and says that they were gone
    import logging

    with caplog.at_level(logging.WARNING, logger="airwarn.warning"):
        create_tables(history)
    assert any("were missing on warning_refusal (2 rows) and are recreated" in r.getMessage() for r in caplog.records)
    assert not any("append-only trigger" in p for p in verify(history).problems)
