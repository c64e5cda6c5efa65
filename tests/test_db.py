"""airwarn.db on SQLite and PostgreSQL: a database made by an older airwarn is named, not half-used."""
from __future__ import annotations

import pytest
from sqlalchemy import text

import emergency.models  # noqa: F401  (registers the tables)
import enterprise_list.models  # noqa: F401
from airwarn.db import SchemaMismatchError, create_tables, get_engine
from emergency import lifecycle as lc


def test_create_tables_is_idempotent_and_keeps_rows(db_url):
    engine = get_engine(db_url)
    create_tables(engine)
    lc.issue(engine, area="阳泉", level="yellow", user="c", role="commander")
    create_tables(engine)
    assert [r.action for r in lc.audit_log(engine)] == ["issue"]


def test_a_table_lacking_a_column_is_named(db_url):
    engine = get_engine(db_url)
    create_tables(engine)
    with engine.begin() as conn:  # the warning table as an airwarn without its 'reason' column made it
        conn.execute(text("ALTER TABLE warning DROP COLUMN reason"))
    with pytest.raises(SchemaMismatchError, match=r"its tables lack columns this version of airwarn uses "
                                                  r"\(warning: reason\);.*ALTER TABLE warning ADD COLUMN reason TEXT"):
        create_tables(engine)
