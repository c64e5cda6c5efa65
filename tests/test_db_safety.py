"""Issue 14, break 6: a damaged, empty or foreign database file is refused in one line, never half-used.

A real airwarn database is built once (every package's tables, a synthetic list imported through
``airwarn list import``, a user, an issued warning); copies of it are damaged in several ways and a
representative set of commands runs on each copy through the real command line. Every run must end
with exit code 2 or 3 and one line on stderr, no traceback, and leave the damaged file byte for byte
as it was.
"""
from __future__ import annotations

import csv
import hashlib
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from airwarn.cli import main
from airwarn.core.db import APPLICATION_ID, DatabaseRefusedError, get_engine, session_scope

#: A warning's period and rule set: lifecycle.issue refuses a warning without them.
PERIOD = {"start": "2026-12-03", "end": "2026-12-05", "rules_version": "national-2024"}

VENV_AIRWARN = Path(sys.executable).with_name("airwarn")
PASSWORD = "Yq-db-safety-2026-long"


# --------------------------------------------------------------------------- the real database
@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A demo-like database made through the command line, a list file and a permit register."""
    from airwarn.core import users
    from airwarn.core.db import create_tables
    from airwarn.db_cli import model_modules
    from emergency import lifecycle as lc

    folder = tmp_path_factory.mktemp("built")
    book, db = folder / "sample.xlsx", folder / "airwarn.sqlite"
    env = _env(db, folder)
    assert _run(["list", "sample", "--size", "40", str(book)], env) == (0, "")
    rc, err = _run(["list", "import", str(book)], env)
    assert (rc, err) == (0, ""), err
    engine = get_engine(f"sqlite:///{db}")
    create_tables(engine, *model_modules())  # every package's tables
    with session_scope(engine) as session:
        users.add_user(session, "zhang", "commander", PASSWORD)
    lc.issue(engine, area="阳泉", level="yellow", user="zhang", role="commander", reason="test", **PERIOD)
    engine.dispose()
    con = sqlite3.connect(db)
    code = con.execute("SELECT credit_code FROM enterprise LIMIT 1").fetchone()[0]
    con.close()
    permits = folder / "permits.csv"
    with open(permits, "w", newline="", encoding="utf-8-sig") as fh:
        csv.writer(fh).writerows([["统一社会信用代码", "单位名称", "许可证编号", "是否涉气"],
                                  [code, "某企业(合成)", f"{code}001P", "是"]])
    return {"db": db, "book": book, "code": code, "permits": permits, "folder": folder}


def _env(db: Path, folder: Path) -> dict:
    return {"AIRWARN_DB": f"sqlite:///{db}", "AIRWARN_DATA_DIR": str(folder / "var")}


def _run(argv: list[str], env: dict) -> tuple[int, str]:
    """``airwarn ARGV`` in this process with ``env``; (exit code, stderr)."""
    import contextlib
    import io

    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    err, out = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            rc = main(argv)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return rc, err.getvalue()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------- damages
def _zero_bytes(db: Path) -> None:
    db.write_bytes(b"")


def _truncated_half(db: Path) -> None:
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 2])


def _garbage_pages(db: Path) -> None:
    """Four pages in the middle of the file overwritten with random bytes."""
    data = bytearray(db.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    middle = (len(data) // page // 2) * page
    data[middle: middle + 4 * page] = os.urandom(4 * page)
    db.write_bytes(bytes(data))


def _header_overwritten(db: Path) -> None:
    data = bytearray(db.read_bytes())
    data[:100] = os.urandom(100)
    db.write_bytes(bytes(data))


def _header_fields_zeroed(db: Path) -> None:
    """SQLite's magic string kept, the header's fields (page size, counters…) zeroed."""
    data = bytearray(db.read_bytes())
    data[16:100] = bytes(84)
    db.write_bytes(bytes(data))


def _text_file(db: Path) -> None:
    db.write_text("这不是数据库。 not a database\n", encoding="utf-8")


def _other_program(db: Path) -> None:
    db.unlink()
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)")
    con.execute("INSERT INTO moz_places (url) VALUES ('https://example.org/')")
    con.commit()
    con.close()


def _other_application_id(db: Path) -> None:
    """airwarn's own tables, but marked by another program (application_id of a GeoPackage)."""
    con = sqlite3.connect(db)
    con.execute(f"PRAGMA application_id = {int.from_bytes(b'GPKG', 'big')}")
    con.commit()
    con.close()


DAMAGES = {
    "zero_bytes": (_zero_bytes, "is empty (0 bytes)"),
    "truncated_half": (_truncated_half, "is damaged"),
    "garbage_pages": (_garbage_pages, "is damaged"),
    "header_overwritten": (_header_overwritten, "is not an SQLite database"),
    "header_fields_zeroed": (_header_fields_zeroed, "is damaged"),
    "text_file": (_text_file, "is not an SQLite database"),
    "other_program": (_other_program, "is an SQLite database of another program"),
    "other_application_id": (_other_application_id, "belongs to another program"),
}


def _commands(b: dict, out: Path) -> list[list[str]]:
    return [
        ["list", "versions"],
        ["list", "show", b["code"]],
        ["list", "find", "合成"],
        ["list", "import", str(b["book"])],
        ["list", "export", str(out / "export.xlsx")],
        ["list", "coverage", str(b["permits"])],
        ["warning", "show"],
        ["warning", "log", "--all"],
        ["user", "list"],
        ["reductions", "--level", "yellow"],
    ]


@pytest.fixture(params=sorted(DAMAGES))
def damaged(request, built, tmp_path):
    """A damaged copy of the built database: (path, expected words of the refusal)."""
    damage, words = DAMAGES[request.param]
    db = tmp_path / "airwarn.sqlite"
    shutil.copyfile(built["db"], db)
    damage(db)
    return db, words


def test_break_6_every_command_refuses_a_damaged_file_in_one_line(damaged, built, tmp_path):
    db, words = damaged
    before = _sha(db)
    env = _env(db, tmp_path)
    for argv in _commands(built, tmp_path):
        rc, err = _run(argv, env)
        lines = err.strip().splitlines()
        assert rc == 3, (argv, rc, err)
        assert len(lines) == 1 and "Traceback" not in err, (argv, err)
        assert lines[0].startswith(f"airwarn {argv[0]}: database error: database {db} "), (argv, err)
        assert words in lines[0] and ("restore it from a backup" in lines[0]
                                      or "point AIRWARN_DB" in lines[0]), (argv, err)
        assert _sha(db) == before, f"{argv} changed the damaged file"
    assert not (tmp_path / "export.xlsx").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["airwarn.sqlite", "var"]  # no journal left


@pytest.mark.parametrize("damage", ["zero_bytes", "garbage_pages", "text_file"])
def test_break_6_the_console_script_prints_one_line_and_exits_3(damage, built, tmp_path):
    """The installed ``airwarn`` script, as an operator runs it (and the write commands)."""
    db = tmp_path / "airwarn.sqlite"
    shutil.copyfile(built["db"], db)
    DAMAGES[damage][0](db)
    before = _sha(db)
    env = {**os.environ, **_env(db, tmp_path)}
    for argv in (["list", "import", str(built["book"])], ["warning", "show"],
                 ["warning", "issue", "--user", "zhang", "--role", "commander", "--level", "red"]):
        proc = subprocess.run([str(VENV_AIRWARN), *argv], env=env, capture_output=True, text=True,
                              timeout=120, input=PASSWORD + "\n")
        assert proc.returncode == 3, (argv, proc.returncode, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert proc.stdout == ""
        assert _sha(db) == before


def test_break_6_a_zero_byte_file_is_not_taken_for_a_new_database(built, tmp_path):
    """Today's break: the empty file became a new empty database, the list was gone and a warning was
    issued into it. Now it is refused and stays empty."""
    db = tmp_path / "airwarn.sqlite"
    db.touch()
    with pytest.raises(DatabaseRefusedError, match=r"^database .*airwarn\.sqlite is empty \(0 bytes\), not an "
                                                   r"airwarn database; restore it from a backup, delete it"):
        get_engine(f"sqlite:///{db}")
    rc, err = _run(["list", "versions"], _env(db, tmp_path))
    assert rc == 3 and db.stat().st_size == 0


def test_break_6_corruption_found_after_opening_is_one_line_exit_3(built, tmp_path):
    """A file damaged while a process already holds its engine (the open-time check has passed): the
    driver's error reaches the user as one line and exit code 3, not a traceback."""
    db = tmp_path / "airwarn.sqlite"
    shutil.copyfile(built["db"], db)
    env = _env(db, tmp_path)
    assert _run(["list", "versions"], env) == (0, "")  # engine made and cached, file checked
    get_engine(f"sqlite:///{db}").dispose()  # no open connection keeps the old pages
    _garbage_pages(db)
    _header_fields_zeroed(db)
    rc, err = _run(["list", "find", "合成"], env)
    assert rc == 3 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert err.startswith(f"airwarn list: database error: database sqlite:///{db}: ")
    assert "restore it from a backup" in err


def test_break_6_a_deleted_file_is_not_recreated_behind_a_running_process(built, tmp_path):
    db = tmp_path / "airwarn.sqlite"
    shutil.copyfile(built["db"], db)
    env = _env(db, tmp_path)
    assert _run(["warning", "show"], env)[0] == 0
    get_engine(f"sqlite:///{db}").dispose()
    db.unlink()
    rc, err = _run(["warning", "show"], env)
    assert rc == 3 and "unable to open database file" in err and len(err.strip().splitlines()) == 1
    assert not db.exists()


# --------------------------------------------------------------------------- sound files
def test_break_6_a_new_database_file_is_mode_0600_and_marked(tmp_path):
    """It holds the password hashes: readable by its owner only, whatever the umask; so are the journal
    files SQLite makes beside it."""
    db = tmp_path / "new.sqlite"
    old = os.umask(0o022)
    try:
        env = _env(db, tmp_path)
        rc, err = _run(["user", "list"], env)
    finally:
        os.umask(old)
    assert (rc, err) == (0, "")
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    con.execute("BEGIN IMMEDIATE")
    con.execute("INSERT INTO dashboard_consult_note (date, city, text, author, updated_at) "
                "VALUES ('2026-01-01', '阳泉', 'x', 'a', '2026-01-01')")
    journal = tmp_path / "new.sqlite-journal"
    assert stat.S_IMODE(journal.stat().st_mode) == 0o600
    con.rollback()
    con.close()
    assert [p.name for p in tmp_path.iterdir() if p.name != "var"] == ["new.sqlite"]  # no temporary file left


def test_break_6_a_database_of_an_older_airwarn_is_accepted_and_marked(built, tmp_path):
    db = tmp_path / "airwarn.sqlite"
    shutil.copyfile(built["db"], db)
    con = sqlite3.connect(db)
    con.execute("PRAGMA application_id = 0")  # as airwarn made them before the mark
    con.commit()
    con.close()
    rc, err = _run(["list", "versions"], _env(db, tmp_path))
    assert (rc, err) == (0, "")
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    con.close()


def test_an_intact_copy_works_and_an_interrupted_transaction_is_rolled_back(built, tmp_path):
    """The checks refuse nothing sound: a copy of the database works, and one left with a hot journal
    (a process killed in a write) is rolled back on open as SQLite does, not refused."""
    db = tmp_path / "airwarn.sqlite"
    shutil.copyfile(built["db"], db)
    code = f"""
import os, sqlite3
con = sqlite3.connect({str(db)!r}, isolation_level=None)
con.execute("BEGIN IMMEDIATE")
con.execute("DELETE FROM measure")
con.execute("PRAGMA cache_size = 1")
con.execute("UPDATE enterprise SET name = name || 'x'")
os._exit(9)
"""
    subprocess.run([sys.executable, "-c", code], check=False, timeout=60)
    assert (tmp_path / "airwarn.sqlite-journal").exists()
    rc, err = _run(["list", "versions"], _env(db, tmp_path))
    assert (rc, err) == (0, "")
    con = sqlite3.connect(db)
    assert con.execute("SELECT count(*) FROM measure").fetchone()[0] > 0
    con.close()


def test_processes_creating_one_new_database_at_once_all_succeed(tmp_path):
    """The file is made under a temporary name and linked into place: a process that finds it never
    sees an empty, unmarked file (which it would refuse)."""
    from concurrent.futures import ThreadPoolExecutor

    from airwarn.core.db import open_sqlite_file

    db = tmp_path / "airwarn.sqlite"
    with ThreadPoolExecutor(8) as pool:
        uris = list(pool.map(lambda _: open_sqlite_file(db), range(16)))
    assert len(set(uris)) == 1
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    con.close()
    assert [p.name for p in tmp_path.iterdir()] == ["airwarn.sqlite"]


def test_break_6_an_existing_database_readable_by_others_is_made_0600(built, tmp_path, caplog):
    """A review found a copied or older 0644 database used as it was: the password hashes stayed
    readable by every user of the machine."""
    import logging

    db = tmp_path / "airwarn.sqlite"
    shutil.copyfile(built["db"], db)
    os.chmod(db, 0o644)
    with caplog.at_level(logging.WARNING, logger="airwarn.core.db"):
        rc, _ = _run(["list", "versions"], _env(db, tmp_path))
    assert rc == 0 and stat.S_IMODE(os.stat(db).st_mode) == 0o600
    assert any("was readable by others (mode 644); made 600" in r.getMessage() for r in caplog.records)
