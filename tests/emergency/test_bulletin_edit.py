"""The bulletin is editable before sign-off, and every edit is audited (append-only, hash-chained
``bulletin_edit``); republishing writes the edit in force. Real SQLite database and the real CLI."""
from __future__ import annotations

import json
import sqlite3

import pytest

from airwarn.cli import main
from tests.emergency.test_daily_cli import DATE, demo_db, write_forecast  # noqa: F401  (fixture)
from emergency.daily import run_daily
from emergency.verify import verify

PASSWORD = "Commander-pass-1"
MAYOR_PASSWORD = "Vice-mayor-pass-7"
AUTH = ["--user", "wang", "--role", "commander"]


@pytest.fixture
def issued(demo_db, monkeypatch, capsys):  # noqa: F811
    """An orange warning issued by the commander on the day's products."""
    from airwarn.core import users
    from airwarn.core.db import create_tables, get_engine, session_scope

    eng = get_engine(demo_db.db_url)
    create_tables(eng)
    with session_scope(eng) as s:
        users.add_user(s, "wang", "commander", PASSWORD)
        users.add_user(s, "li", "vice-mayor", MAYOR_PASSWORD)
        users.add_user(s, "zhao", "forecaster", "Forecaster-pass-3")
    monkeypatch.setenv("AIRWARN_DATA_DIR", str(demo_db.data_dir))
    monkeypatch.setenv("AIRWARN_PASSWORD", PASSWORD)
    folder = write_forecast(demo_db, [205, 212, 225, 180, 95, 80, 70, 60, 60, 60])
    run_daily(demo_db, DATE)
    assert main(["warning", "issue", "--level", "orange", "--start", "2026-01-11", "--end", "2026-01-14", *AUTH]) == 0
    w = json.loads(capsys.readouterr().out)
    return demo_db, folder, w


def _edit(tmp_path, w, text, *auth, name="edited.txt"):
    f = tmp_path / name
    f.write_text(text, encoding="utf-8")
    return main(["warning", "edit-bulletin", "--id", str(w["id"]), "--revision", str(w["revision"]), "--file", str(f),
                 "--reason", "措辞调整", *(auth or AUTH)])


EDITED = "阳泉市重污染天气预警信息\n阳泉市重污染天气应急指挥部\n\n决定：自2026-01-11起发布橙色预警，启动Ⅱ级应急响应。（会商修改稿）\n"


def test_i15_edit_before_signoff_is_published_audited_and_chained(issued, tmp_path, capsys):
    from airwarn.core.db import get_engine
    from emergency import lifecycle as lc
    from emergency.edits import bulletin_edits, text_hash

    settings, folder, w = issued
    generated = (folder / "bulletin.txt").read_text(encoding="utf-8")
    assert _edit(tmp_path, w, EDITED) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["before_sha256"] == text_hash(generated) and out["after_sha256"] == text_hash(EDITED)
    assert "（北京时间）" in out["at"] and str(folder / "bulletin.txt") in out["republished"]
    # republishing wrote the edit out, text and html
    assert (folder / "bulletin.txt").read_text(encoding="utf-8") == EDITED
    page = (folder / "bulletin.html").read_text(encoding="utf-8")
    assert "（会商修改稿）" in page and "技术附录（修改记录）" in page
    # a later republish (e.g. of the same step) still writes the edit
    from emergency.daily import republish

    republish(settings, lc.get_warning(get_engine(settings.db_url), w["id"]))
    assert (folder / "bulletin.txt").read_text(encoding="utf-8") == EDITED
    # a second edit chains on the first
    assert _edit(tmp_path, w, EDITED.replace("会商修改稿", "第二稿"), name="second.txt") == 0
    capsys.readouterr()
    eng = get_engine(settings.db_url)
    e1, e2 = bulletin_edits(eng, w["id"])
    assert e2.before_hash == e1.after_hash and e2.prev_hash == e1.row_hash and e1.user == "wang"
    assert verify(eng).ok
    # the table is append-only, and a rewritten edit breaks the chain
    con = sqlite3.connect(settings.db_url.removeprefix("sqlite:///"))
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("UPDATE bulletin_edit SET text = 'x' WHERE id = 1")
    con.execute("DROP TRIGGER bulletin_edit_no_update")
    con.execute("UPDATE bulletin_edit SET text = '伪造' WHERE id = 1")
    con.commit()
    con.close()
    res = verify(eng)
    assert not res.ok and any("bulletin_edit row 1" in p for p in res.problems)


def test_i15_edit_refused_after_signoff_after_lift_and_for_other_roles(issued, tmp_path, capsys, monkeypatch):
    from airwarn.core.db import get_engine
    from emergency import lifecycle as lc
    from emergency.edits import bulletin_edits

    settings, folder, w = issued
    eng = get_engine(settings.db_url)
    # a forecaster may not edit; a stale revision is refused
    monkeypatch.setenv("AIRWARN_PASSWORD", "Forecaster-pass-3")
    assert _edit(tmp_path, w, EDITED, "--user", "zhao", "--role", "forecaster") == 2
    assert "may not edit a bulletin" in capsys.readouterr().err
    monkeypatch.setenv("AIRWARN_PASSWORD", PASSWORD)
    assert _edit(tmp_path, {**w, "revision": w["revision"] - 1}, EDITED) == 2
    capsys.readouterr()
    # signed off by the vice-mayor: no more edits
    monkeypatch.setenv("AIRWARN_PASSWORD", MAYOR_PASSWORD)
    assert main(["warning", "approve", "--id", str(w["id"]), "--revision", str(w["revision"]),
                 "--user", "li", "--role", "vice-mayor"]) == 0
    w = json.loads(capsys.readouterr().out)
    monkeypatch.setenv("AIRWARN_PASSWORD", PASSWORD)
    assert _edit(tmp_path, w, EDITED) == 2
    err = capsys.readouterr().err.strip()
    assert "signed off by li" in err and len(err.splitlines()) == 1
    # after an upgrade (a new step awaiting sign-off) it is editable again; after the lift it is not
    assert main(["warning", "upgrade", "--id", str(w["id"]), "--revision", str(w["revision"]), "--level", "red",
                 *AUTH]) == 0
    w = json.loads(capsys.readouterr().out)
    assert _edit(tmp_path, w, EDITED.replace("橙色", "红色")) == 0
    capsys.readouterr()
    assert main(["warning", "lift", "--id", str(w["id"]), "--revision", str(w["revision"]), *AUTH]) == 0
    w = json.loads(capsys.readouterr().out)
    assert (folder / "bulletin.txt").read_text(encoding="utf-8").startswith("阳泉市重污染天气预警解除通知")
    assert _edit(tmp_path, w, EDITED) == 2
    assert "is 'lifted'" in capsys.readouterr().err
    assert len(bulletin_edits(eng, w["id"])) == 1
    assert {r.action for r in lc.refusals(eng)} >= {"edit"} and len([r for r in lc.refusals(eng)
                                                                       if r.action == "edit"]) == 4


def test_i15_upgrade_voids_an_earlier_edit(issued, tmp_path, capsys):
    settings, folder, w = issued
    assert _edit(tmp_path, w, EDITED) == 0
    capsys.readouterr()
    assert main(["warning", "upgrade", "--id", str(w["id"]), "--revision", str(w["revision"]), "--level", "red",
                 *AUTH]) == 0
    txt = (folder / "bulletin.txt").read_text(encoding="utf-8")
    assert "会商修改稿" not in txt and "红色预警" in txt
