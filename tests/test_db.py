"""airwarn.core.db on SQLite and PostgreSQL: a database made by an older airwarn is named, not half-used."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from airwarn.core.db import SchemaMismatchError, create_tables, get_engine
from emergency import lifecycle as lc
from emergency import models

#: A warning's period and rule set: lifecycle.issue refuses a warning without them.
PERIOD = {"start": "2026-12-03", "end": "2026-12-05", "rules_version": "national-2024"}


def test_create_tables_is_idempotent_and_keeps_rows(db_url):
    engine = get_engine(db_url)
    create_tables(engine)
    lc.issue(engine, area="阳泉", level="yellow", user="c", role="commander", **PERIOD)
    create_tables(engine)
    assert [r.action for r in lc.audit_log(engine)] == ["issue"]


def test_a_table_lacking_a_column_is_named(db_url):
    engine = get_engine(db_url)
    create_tables(engine)
    with engine.begin() as conn:  # the warning table as an airwarn without its 'reason' column made it
        conn.execute(text("ALTER TABLE warning DROP COLUMN reason"))
    with pytest.raises(SchemaMismatchError, match=r"its tables lack columns this version of airwarn uses "
                                                  r"\(warning: reason\);.*ALTER TABLE warning ADD COLUMN reason TEXT"):
        create_tables(engine, models)


def _cli(argv, monkeypatch, capsys, **env):
    from airwarn.cli import main

    for k, v in env.items():
        monkeypatch.setenv(k, v)
    rc = main(argv)
    return rc, capsys.readouterr().err


def test_break_6_a_schema_mismatch_is_one_line_and_exit_3(db_url, tmp_path, monkeypatch, capsys):
    engine = get_engine(db_url)
    create_tables(engine)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE warning DROP COLUMN reason"))
    rc, err = _cli(["warning", "show"], monkeypatch, capsys, AIRWARN_DB=db_url,
                   AIRWARN_DATA_DIR=str(tmp_path / "var"))
    assert rc == 3 and len(err.strip().splitlines()) == 1
    assert err.startswith("airwarn warning: database error: database ") and "(warning: reason)" in err


def test_break_6_an_unreachable_server_is_one_line_and_exit_3(tmp_path, monkeypatch, capsys):
    pytest.importorskip("psycopg")
    rc, err = _cli(["list", "versions"], monkeypatch, capsys, AIRWARN_DB="postgresql://airwarn@127.0.0.1:1/airwarn",
                   AIRWARN_DATA_DIR=str(tmp_path / "var"))
    assert rc == 3 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert err.startswith("airwarn list: database error: database postgresql://airwarn@127.0.0.1:1/airwarn: ")


def test_an_unknown_kind_of_database_is_a_usage_error(tmp_path, monkeypatch, capsys):
    rc, err = _cli(["list", "versions"], monkeypatch, capsys, AIRWARN_DB="nosuchdb://host/x",
                   AIRWARN_DATA_DIR=str(tmp_path / "var"))
    assert rc == 2 and err == "airwarn list: error: database URL nosuchdb://host/x: Can't load plugin: " \
                              "sqlalchemy.dialects:nosuchdb\n"
