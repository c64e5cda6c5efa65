"""Sign-off chain (issue 15): the commander issues, the role the level needs approves afterwards
(default vice-mayor for yellow/orange, mayor for red), recorded in the hash-chained audit, with the
2 h clock shown by ``warning show``. Real SQLite files, the real CLI."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from airwarn.core.errors import AirwarnError
from airwarn.cli import main
from emergency.verify import verify

#: A warning's period and rule set: lifecycle.issue refuses a warning without them.
PERIOD = {"start": "2026-12-03", "end": "2026-12-05", "rules_version": "national-2024"}

PASSWORDS = {"wang": "Commander-pass-1", "zhao": "Vicemayor-pass-1", "qian": "Mayoralty-pass-1"}


@pytest.fixture
def engine(settings):
    import airwarn.core.users  # noqa: F401
    import emergency.models  # noqa: F401
    from airwarn.core import users
    from airwarn.core.db import create_tables, get_engine, session_scope

    eng = get_engine(settings.db_url)
    create_tables(eng)
    with session_scope(eng) as s:
        for name, role in (("wang", "commander"), ("zhao", "vice-mayor"), ("qian", "mayor")):
            users.add_user(s, name, role, PASSWORDS[name])
    return eng


def test_i15_approval_by_the_levels_role_recorded_with_its_clock(engine):
    from emergency import lifecycle as lc
    from emergency.signoff import signoff_state

    w = lc.issue(engine, area="阳泉", level="orange", user="wang", role="commander", **PERIOD)
    st = signoff_state(lc.audit_log(engine, warning_id=w.id))
    assert st.required_roles == ("vice-mayor",) and not st.approved
    assert st.deadline - st.step_at == dt.timedelta(hours=2)
    assert not st.overdue(st.step_at + dt.timedelta(minutes=119)) and st.overdue(st.step_at + dt.timedelta(hours=3))
    with pytest.raises(PermissionError, match="may not approve a orange warning"):
        lc.approve(engine, w.id, user="qian", role="mayor", expected_revision=w.revision)
    with pytest.raises(PermissionError):
        lc.approve(engine, w.id, user="wang", role="commander", expected_revision=w.revision)
    w = lc.approve(engine, w.id, user="zhao", role="vice-mayor", expected_revision=w.revision, reason="同意")
    st = signoff_state(lc.audit_log(engine, warning_id=w.id))
    assert st.approved and st.approved_by == "zhao" and not st.overdue()
    assert "副市长签批：已由 zhao（副市长）于" in st.describe() and "（北京时间）" in st.describe()
    with pytest.raises(lc.WarningConflictError, match="approved already"):
        lc.approve(engine, w.id, user="zhao", role="vice-mayor", expected_revision=w.revision)
    # an upgrade to red needs the mayor's approval anew
    w = lc.upgrade(engine, w.id, "red", user="wang", role="commander", expected_revision=w.revision)
    st = signoff_state(lc.audit_log(engine, warning_id=w.id))
    assert st.step == "upgrade" and st.required_roles == ("mayor",) and not st.approved
    w = lc.approve(engine, w.id, user="qian", role="mayor", expected_revision=w.revision)
    assert [a.action for a in lc.audit_log(engine, warning_id=w.id)] == ["issue", "approve", "upgrade", "approve"]
    assert verify(engine).ok  # approvals are links of the chain; the active slot stays valid


def test_i15_signoff_roles_come_from_the_rule_set(tmp_path, engine):
    from emergency import lifecycle as lc
    from emergency.rules import bundled_rules
    from emergency.signoff import signoff_config

    src = bundled_rules()["national-2024"].read_text(encoding="utf-8")
    path = tmp_path / "warning_rules_local.yaml"
    path.write_text(src + "\nsignoff:\n  approvers: {yellow: [mayor, vice-mayor]}\n  deadline_hours: 1\n",
                    encoding="utf-8")
    cfg = signoff_config(path)
    assert cfg.roles_for("yellow") == ("mayor", "vice-mayor") and cfg.roles_for("red") == ("mayor",)
    assert cfg.deadline_hours == 1
    w = lc.issue(engine, area="阳泉", level="yellow", user="wang", role="commander", **PERIOD)
    assert lc.approve(engine, w.id, user="qian", role="mayor", config=cfg).revision == w.revision + 1
    path.write_text(src + "\nsignoff:\n  approvers: {yellow: [governor]}\n", encoding="utf-8")
    with pytest.raises(AirwarnError, match="unknown role 'governor'"):
        signoff_config(path)


def test_i15_cli_approve_and_show_the_clock(settings, engine, monkeypatch, capsys):
    monkeypatch.setenv("AIRWARN_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("AIRWARN_PASSWORD", PASSWORDS["wang"])
    assert main(["warning", "issue", "--level", "yellow", "--start", "2026-12-03", "--end", "2026-12-05",
                 "--user", "wang", "--role", "commander"]) == 0
    w = json.loads(capsys.readouterr().out)
    assert main(["warning", "show"]) == 0
    shown = json.loads(capsys.readouterr().out)["signoff"]
    assert shown["required_roles"] == ["vice-mayor"] and shown["approved_by"] is None and shown["overdue"] is False
    assert shown["deadline"].endswith("（北京时间）")
    monkeypatch.setenv("AIRWARN_PASSWORD", PASSWORDS["zhao"])
    assert main(["warning", "approve", "--id", str(w["id"]), "--revision", str(w["revision"]),
                 "--user", "zhao", "--role", "vice-mayor"]) == 0
    capsys.readouterr()
    assert main(["warning", "show"]) == 0
    shown = json.loads(capsys.readouterr().out)["signoff"]
    assert shown["approved_by"] == "zhao" and shown["approved_at"].endswith("（北京时间）")
