"""Warning lifecycle on a real SQLite file and a real PostgreSQL server: roles, states, audit trail,
two users acting at once."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

import emergency.models  # noqa: F401  (registers the tables)
from airwarn.core.errors import AirwarnError
from airwarn.core.db import create_tables
from airwarn.core.vocab import WarningLevel
from emergency import lifecycle as lc

#: A warning's period and rule set: lifecycle.issue refuses a warning without them.
PERIOD = {"start": "2026-12-03", "end": "2026-12-05", "rules_version": "national-2024"}


def race(fn_a, fn_b):
    """Run two callables at the same moment in two threads; return their results or exceptions."""
    barrier = threading.Barrier(2)
    out = [None, None]

    def run(i, fn):
        barrier.wait()
        try:
            out[i] = fn()
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            out[i] = exc

    threads = [threading.Thread(target=run, args=(i, f)) for i, f in enumerate((fn_a, fn_b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def test_full_lifecycle_and_audit(engine):
    d = lc.draft(engine, area="阳泉", level="yellow", user="li", role="forecaster", reason="会商建议", **PERIOD)
    assert d.status == "draft" and d.revision == 1
    w = lc.issue(engine, d.id, user="wang", role="commander", reason="批准发布")
    assert w.status == "issued" and lc.active_warning(engine, "阳泉").id == w.id
    w = lc.upgrade(engine, w.id, "orange", user="wang", role="commander", reason="预报升级")
    w = lc.downgrade(engine, w.id, "yellow", user="wang", role="commander", reason="预报好转")
    w = lc.lift(engine, w.id, user="wang", role="commander", reason="连续36小时低于启动条件")
    assert w.status == "lifted" and w.revision == 5
    assert lc.active_warning(engine, "阳泉") is None
    log = lc.audit_log(engine, area="阳泉")
    assert [(a.action, a.user, a.role, a.level_from, a.level_to, a.status_to, a.revision) for a in log] == [
        ("draft", "li", "forecaster", None, "yellow", "draft", 1),
        ("issue", "wang", "commander", None, "yellow", "issued", 2),
        ("upgrade", "wang", "commander", "yellow", "orange", "issued", 3),
        ("downgrade", "wang", "commander", "orange", "yellow", "issued", 4),
        ("lift", "wang", "commander", "yellow", "yellow", "lifted", 5),
    ]
    assert log[-1].reason == "连续36小时低于启动条件"
    # a new warning may be issued once the previous one is lifted
    assert lc.issue(engine, area="阳泉", level="red", user="wang", role="commander", **PERIOD).status == "issued"


@pytest.mark.parametrize("action", ["issue", "upgrade", "downgrade", "lift"])
@pytest.mark.parametrize("role", ["viewer", "forecaster", "list-admin"])
def test_only_commander_may_change_a_warning(engine, action, role):
    w = lc.issue(engine, area="盂县", level="orange", user="boss", role="commander", **PERIOD)
    d = lc.draft(engine, area="平定县", level="yellow", user="f", role="forecaster", **PERIOD)
    calls = {
        "issue": lambda: lc.issue(engine, d.id, user="x", role=role),
        "upgrade": lambda: lc.upgrade(engine, w.id, "red", user="x", role=role),
        "downgrade": lambda: lc.downgrade(engine, w.id, "yellow", user="x", role=role),
        "lift": lambda: lc.lift(engine, w.id, user="x", role=role),
    }
    with pytest.raises(PermissionError, match=f"role '{role}' may not {action}"):
        calls[action]()
    # nothing changed, nothing audited for the refused step
    assert lc.active_warning(engine, "盂县").revision == w.revision
    assert [a.action for a in lc.audit_log(engine)] == ["issue", "draft"]


def test_bad_role_and_bad_transitions(engine):
    with pytest.raises(AirwarnError, match=r"unknown role 'governor'; valid roles are \[.*'mayor'\]"):
        lc.draft(engine, area="阳泉", level="yellow", user="x", role="governor")
    with pytest.raises(PermissionError):
        lc.draft(engine, area="阳泉", level="yellow", user="x", role="viewer")
    w = lc.issue(engine, area="阳泉", level="orange", user="c", role="commander", **PERIOD)
    with pytest.raises(ValueError, match="new level must be above orange"):
        lc.upgrade(engine, w.id, "yellow", user="c", role="commander")
    with pytest.raises(ValueError, match="lift it instead"):
        lc.downgrade(engine, w.id, "none", user="c", role="commander")
    with pytest.raises(lc.WarningConflictError, match="already has an active warning"):
        lc.issue(engine, area="阳泉", level="red", user="c", role="commander", **PERIOD)
    with pytest.raises(lc.WarningConflictError, match="only a draft can be issued"):
        lc.issue(engine, w.id, user="c", role="commander")
    with pytest.raises(AirwarnError, match="no warning with id 999"):
        lc.lift(engine, 999, user="c", role="commander")


def test_audit_is_append_only_in_sql(engine):
    lc.issue(engine, area="阳泉", level="yellow", user="c", role="commander", **PERIOD)
    with engine.begin() as conn, pytest.raises(DatabaseError, match="append-only"):
        conn.execute(text("UPDATE warning_audit SET \"user\" = 'someone else'"))
    with engine.begin() as conn, pytest.raises(DatabaseError, match="append-only"):
        conn.execute(text("DELETE FROM warning_audit"))
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn, pytest.raises(DatabaseError, match="append-only"):
            conn.execute(text("TRUNCATE warning_audit"))
    assert lc.audit_log(engine)[0].user == "c"


def test_a_database_made_before_the_audit_triggers_gets_them(engine):
    """The triggers are added on every create_tables, not only when the table is created."""
    lc.issue(engine, area="阳泉", level="yellow", user="c", role="commander", **PERIOD)
    drop = {"sqlite": ["DROP TRIGGER warning_audit_no_update", "DROP TRIGGER warning_audit_no_delete"],
            "postgresql": ["DROP TRIGGER warning_audit_no_change ON warning_audit"]}[engine.dialect.name]
    with engine.begin() as conn:  # as an older airwarn left it
        for ddl in drop:
            conn.exec_driver_sql(ddl)
    with engine.begin() as conn:
        conn.execute(text("UPDATE warning_audit SET reason = 'rewritten'"))
        conn.rollback()
    create_tables(engine)
    create_tables(engine)  # idempotent
    with engine.begin() as conn, pytest.raises(DatabaseError, match="append-only"):
        conn.execute(text("UPDATE warning_audit SET reason = 'rewritten'"))


def test_two_commanders_issue_at_once(engine):
    a = lc.draft(engine, area="阳泉", level="yellow", user="f1", role="forecaster", **PERIOD)
    b = lc.draft(engine, area="阳泉", level="orange", user="f2", role="forecaster", **PERIOD)
    for _ in range(5):
        res = race(lambda: lc.issue(engine, a.id, user="zhang", role="commander"),
                   lambda: lc.issue(engine, b.id, user="zhao", role="commander"))
        wins = [r for r in res if isinstance(r, lc.WarningState)]
        errors = [r for r in res if isinstance(r, Exception)]
        assert len(wins) == 1 and len(errors) == 1, res
        assert isinstance(errors[0], lc.WarningConflictError)
        assert "阳泉" in str(errors[0])
        active = lc.active_warning(engine, "阳泉")
        assert active.id == wins[0].id
        issues = [x for x in lc.audit_log(engine) if x.action == "issue"]
        assert [x.warning_id for x in issues][-1] == wins[0].id
        # the loser's draft is untouched and can be used after the winner is lifted
        lc.lift(engine, active.id, user="zhang", role="commander")
        loser = b if active.id == a.id else a
        assert next(h for h in lc.history(engine) if h.id == loser.id).status == "draft"
        a, b = (lc.draft(engine, area="阳泉", level="yellow", user="f1", role="forecaster", **PERIOD),
                lc.draft(engine, area="阳泉", level="orange", user="f2", role="forecaster", **PERIOD))
    # audit: exactly one issue and one lift per round
    actions = [x.action for x in lc.audit_log(engine)]
    assert actions.count("issue") == 5 and actions.count("lift") == 5


def test_two_commanders_change_the_same_warning_at_once(engine):
    w = lc.issue(engine, area="阳泉", level="yellow", user="c0", role="commander", **PERIOD)
    res = race(lambda: lc.upgrade(engine, w.id, "red", user="zhang", role="commander", expected_revision=w.revision),
               lambda: lc.lift(engine, w.id, user="zhao", role="commander", expected_revision=w.revision))
    wins = [r for r in res if isinstance(r, lc.WarningState)]
    errors = [r for r in res if isinstance(r, Exception)]
    assert len(wins) == 1 and len(errors) == 1, res
    assert isinstance(errors[0], lc.WarningConflictError)
    final = lc.history(engine)[0]
    assert final.revision == 3 and final.status == wins[0].status and final.level == wins[0].level
    log = lc.audit_log(engine, warning_id=w.id)
    assert [x.revision for x in log] == [2, 3]
    assert (lc.active_warning(engine, "阳泉") is None) == (final.status == "lifted")
    assert final.level in (WarningLevel.RED, WarningLevel.YELLOW)
