"""Provincial notices (issue 15): records that set the city's minimum level and start, and hold a
province-started warning until the province lifts. Real SQLite files, the real CLI."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from airwarn.cli import main
from emergency.verify import verify

#: A warning's period and rule set: lifecycle.issue refuses a warning without them.
PERIOD = {"start": "2026-12-03", "end": "2026-12-05", "rules_version": "national-2024"}

COMMANDER = "Commander-pass-1"
D = dt.date(2026, 12, 3)
BODY, DOC = "山西省重污染天气应急指挥部", "晋环应急调度〔2026〕12号"


@pytest.fixture
def engine(settings):
    import airwarn.core.users  # noqa: F401
    import emergency.models  # noqa: F401
    from airwarn.core.db import create_tables, get_engine

    eng = get_engine(settings.db_url)
    create_tables(eng)
    return eng


def _record(engine, kind, level=None, start=None, end=None, doc=DOC, user="wang", role="commander"):
    from emergency import notices

    return notices.record(engine, area="阳泉市", kind=kind, level=level, start=start, end=end, issuing_body=BODY,
                          doc_number=doc, received_at="2026-12-02T08:30", user=user, role=role)


def test_i15_notice_sets_minimum_level_and_start_and_holds_lift_until_province_lifts(engine):
    from emergency import lifecycle as lc
    from emergency.notices import current, notice_of_warning, notices

    n = _record(engine, "issue", "orange", D, D + dt.timedelta(days=3))
    assert n.area == "阳泉" and n.received_at == dt.datetime(2026, 12, 2, 0, 30, tzinfo=dt.timezone.utc)  # Beijing 08:30 as UTC
    assert "2026-12-02 08:30（北京时间）" in n.describe()
    with pytest.raises(ValueError, match="may not be below it, got yellow"):
        lc.issue(engine, area="阳泉", level="yellow", user="c", role="commander")
    with pytest.raises(ValueError, match="sets the start 2026-12-03"):
        lc.issue(engine, area="阳泉", level="orange", start=D + dt.timedelta(days=1), user="c", role="commander")
    w = lc.issue(engine, area="阳泉", level="orange", user="c", role="commander", reason="省级调度", rules_version="national-2024")
    assert (w.start, w.end) == (D, D + dt.timedelta(days=3))     # start and end from the notice
    assert notice_of_warning(engine, w.id).doc_number == DOC
    assert DOC in lc.audit_log(engine, warning_id=w.id)[-1].reason  # named in the hash-chained audit
    with pytest.raises(ValueError, match="province has not lifted"):
        lc.lift(engine, w.id, user="c", role="commander", expected_revision=w.revision)
    with pytest.raises(ValueError, match="still sets orange"):
        lc.downgrade(engine, w.id, "yellow", user="c", role="commander", expected_revision=w.revision)
    assert [r.action for r in lc.refusals(engine)][-2:] == ["lift", "downgrade"]
    _record(engine, "change", "yellow", D, D + dt.timedelta(days=2), doc="晋环应急调度〔2026〕13号")
    w = lc.downgrade(engine, w.id, "yellow", user="c", role="commander", expected_revision=w.revision)
    with pytest.raises(ValueError, match="province has not lifted"):
        lc.lift(engine, w.id, user="c", role="commander", expected_revision=w.revision)
    _record(engine, "lift", doc="晋环应急调度〔2026〕14号")
    assert not current(engine, "阳泉").in_force
    assert lc.lift(engine, w.id, user="c", role="commander", expected_revision=w.revision).status == "lifted"
    assert [x.kind for x in notices(engine, "阳泉")] == ["issue", "change", "lift"]
    assert verify(engine).ok
    # a later local warning without a notice in force is the city's own
    w2 = lc.issue(engine, area="阳泉", level="yellow", user="c", role="commander", **PERIOD)
    assert notice_of_warning(engine, w2.id) is None
    assert lc.lift(engine, w2.id, user="c", role="commander").status == "lifted"


def test_i15_notice_records_are_checked_and_refusals_logged(engine):
    from emergency import lifecycle as lc

    with pytest.raises(PermissionError, match="may not record a provincial notice"):
        _record(engine, "issue", "orange", D, role="forecaster")
    with pytest.raises(ValueError, match="no provincial notice is in force to lift"):
        _record(engine, "lift")
    with pytest.raises(ValueError, match="needs a level"):
        _record(engine, "issue")
    _record(engine, "issue", "red", D)
    with pytest.raises(ValueError, match="is in force; record a change or lift"):
        _record(engine, "issue", "red", D)
    assert [r.action for r in lc.refusals(engine)] == ["notice"] * 4


def test_i15_notice_chain_detects_a_changed_notice(engine):
    from sqlalchemy import text

    _record(engine, "issue", "orange", D)
    _record(engine, "lift", doc="晋环应急调度〔2026〕14号")
    assert verify(engine).ok
    with engine.begin() as c:
        c.exec_driver_sql("DROP TRIGGER provincial_notice_no_update")
        c.execute(text("UPDATE provincial_notice SET level = 'yellow' WHERE id = 1"))
    res = verify(engine)
    assert not res.ok and "provincial_notice row 1: its content does not match its hash" in res.problems[0]


def test_i15_cli_notice_record_list_and_province_held_lift(settings, engine, monkeypatch, capsys):
    from airwarn.core import users
    from airwarn.core.db import session_scope

    with session_scope(engine) as s:
        users.add_user(s, "wang", "commander", COMMANDER)
    monkeypatch.setenv("AIRWARN_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("AIRWARN_PASSWORD", COMMANDER)
    auth = ["--user", "wang", "--role", "commander"]
    assert main(["warning", "notice", "record", "--kind", "issue", "--level", "orange", "--start", str(D),
                 "--end", str(D + dt.timedelta(days=2)), "--body", BODY, "--doc", DOC,
                 "--received-at", "2026-12-02T08:30", *auth]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["doc_number"] == DOC and rec["received_at"] == "2026-12-02 08:30（北京时间）"
    assert main(["warning", "notice", "list"]) == 0
    assert DOC in capsys.readouterr().out
    # the city's warning takes the notice's period: no --start/--end needed
    assert main(["warning", "issue", "--level", "orange", *auth]) == 0
    w = json.loads(capsys.readouterr().out)
    assert (w["start"], w["end"]) == (str(D), str(D + dt.timedelta(days=2)))
    assert main(["warning", "lift", "--id", str(w["id"]), "--revision", str(w["revision"]), *auth]) == 2
    err = capsys.readouterr().err
    assert "province has not lifted" in err and len(err.strip().splitlines()) == 1
    assert main(["warning", "show", "--id", str(w["id"])]) == 0
    assert json.loads(capsys.readouterr().out)["province_notice"]["doc_number"] == DOC
