"""Schema migrations (Alembic, airwarn/core/migrations) on SQLite and PostgreSQL.

The head of the revisions must be exactly the schema of every model module (a model changed without a
revision fails here), a database can go down to nothing and up again, a database made before
migrations is adopted or refused (never altered), and ``airwarn db`` reports and upgrades.
"""
from __future__ import annotations

import subprocess
import sys
import threading

import pytest
import sqlalchemy as sa
from sqlalchemy import inspect, text

from airwarn.core import db
from airwarn.core.db import Base, SchemaMismatchError, create_tables, current, get_engine, head, upgrade
from airwarn.core.errors import InputError
from airwarn.db_cli import model_modules

#: A warning's period and rule set: lifecycle.issue refuses a warning without them.
PERIOD = {"start": "2026-12-03", "end": "2026-12-05", "rules_version": "national-2024"}

#: Every table of the baseline (as airwarn had them when migrations began).
BASELINE_TABLES = {
    "dashboard_user", "user_session", "login_failure", "list_version", "enterprise", "production_line", "measure",
    "list_frame", "warning", "warning_active", "warning_audit", "warning_refusal", "provincial_notice",
    "warning_notice", "bulletin_edit", "emission_inventory", "dashboard_consult_note",
    "dashboard_consult_note_revision",
}


def _metadata() -> sa.MetaData:
    """Base's metadata with every model module imported (explicitly, as the shell does)."""
    model_modules()
    return Base.metadata


def _before_migrations(*names: str) -> list[sa.Table]:
    """The tables (all, or ``names``) as ``create_all`` made them before migrations: no naming convention,
    so the database names the constraints itself (PostgreSQL) or leaves them unnamed (SQLite)."""
    old = sa.MetaData()
    for table in _metadata().sorted_tables:
        copy = table.to_metadata(old)
        for constraint in copy.constraints:
            if not isinstance(constraint, sa.CheckConstraint):  # those were always named
                constraint.name = None
    return [t for t in old.sorted_tables if not names or t.name in names]


def _create_before_migrations(engine, *names: str) -> None:
    tables = _before_migrations(*names)
    tables[0].metadata.create_all(engine, tables=tables)


def _differences(engine, metadata=None) -> list:
    """What Alembic's autogenerate would write to bring the database to the models (empty: identical)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts=dict(db.MIGRATION_OPTIONS))
        return compare_metadata(context, metadata if metadata is not None else _metadata())


def _tables(engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def test_head_is_the_schema_of_every_model(db_url):
    engine = get_engine(db_url)
    assert current(engine) is None
    upgrade(engine)
    assert current(engine) == head()
    assert _tables(engine) == BASELINE_TABLES == {t.name for t in _metadata().sorted_tables}
    assert _differences(engine) == []


def test_a_model_changed_without_a_revision_is_a_difference(db_url):
    """The check above is not vacuous: one more column in the models is seen."""
    engine = get_engine(db_url)
    upgrade(engine)
    changed = sa.MetaData()
    for table in _metadata().sorted_tables:
        table.to_metadata(changed)
    changed.tables["warning"].append_column(sa.Column("issued_tz", sa.String(32)))
    diff = _differences(engine, changed)
    assert [(d[0], d[3].name) for d in diff] == [("add_column", "issued_tz")]


def test_down_to_base_and_up_again(db_url):
    engine = get_engine(db_url)
    create_tables(engine)
    db.downgrade(engine, "base")
    assert current(engine) is None and _tables(engine) == set()
    if engine.dialect.name == "postgresql":  # the trigger function goes with the baseline
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT to_regproc('warning_audit_append_only')").scalar() is None
    upgrade(engine)
    assert current(engine) == head() and _differences(engine) == []


def test_the_baseline_makes_the_append_only_triggers(db_url):
    """``upgrade`` alone (no emergency.models event) leaves the audit append-only in SQL."""
    from emergency import lifecycle as lc

    engine = get_engine(db_url)
    upgrade(engine)
    lc.issue(engine, area="阳泉", level="yellow", user="c", role="commander", **PERIOD)
    with engine.begin() as conn, pytest.raises(sa.exc.DatabaseError, match="append-only"):
        conn.execute(text("UPDATE warning_audit SET reason = 'rewritten'"))


def test_a_database_made_before_migrations_is_adopted(db_url):
    """``create_all`` (what create_tables did before migrations) then rows: stamped at the baseline, kept."""
    from emergency import lifecycle as lc

    engine = get_engine(db_url)
    _create_before_migrations(engine, *(BASELINE_TABLES - {"dashboard_consult_note_revision", "login_failure"}))
    lc.issue(engine, area="阳泉", level="yellow", user="c", role="commander", **PERIOD)
    create_tables(engine)
    assert current(engine) == head()
    assert _tables(engine) == BASELINE_TABLES  # the tables it lacked were created, as create_all did
    assert [r.action for r in lc.audit_log(engine)] == ["issue"]
    diff = _differences(engine)
    if engine.dialect.name == "sqlite":  # SQLite kept its unique constraints unnamed: the same constraints,
        # which a later revision names through batch_alter_table(..., naming_convention=NAMING_CONVENTION)
        unnamed = {(t, tuple(u["column_names"])) for t in _tables(engine)
                   for u in inspect(engine).get_unique_constraints(t) if u["name"] is None}
        diff = [d for d in diff if not (d[0] == "add_constraint" and isinstance(d[1], sa.UniqueConstraint)
                                        and (d[1].table.name, tuple(c.name for c in d[1].columns)) in unnamed)]
    assert diff == []


def test_a_database_made_before_migrations_lacking_a_column_is_refused_unchanged(db_url):
    engine = get_engine(db_url)
    _create_before_migrations(engine, "list_version", "enterprise")
    with engine.begin() as conn:  # an enterprise table as an airwarn without contact columns made it
        conn.execute(text("ALTER TABLE enterprise DROP COLUMN contact_phone"))
    with pytest.raises(SchemaMismatchError, match=r"its tables lack columns this version of airwarn uses "
                                                  r"\(enterprise: contact_phone\);.*ALTER TABLE enterprise ADD "
                                                  r"COLUMN contact_phone VARCHAR\(32\)"):
        create_tables(engine)
    assert current(engine) is None
    assert _tables(engine) == {"list_version", "enterprise"}  # nothing created, nothing altered


def test_a_database_lacking_a_table_at_head_is_refused(db_url):
    engine = get_engine(db_url)
    create_tables(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE dashboard_consult_note_revision"))
    import dashboard.models

    create_tables(engine, dashboard.models.ConsultationNote)  # a caller that does not use it is not stopped
    with pytest.raises(SchemaMismatchError, match=r"it lacks tables this version of airwarn uses "
                                                  r"\(dashboard_consult_note_revision\), although its schema is "
                                                  r"at revision 0002"):
        create_tables(engine, dashboard.models)


def test_a_revision_of_a_newer_airwarn_is_refused(db_url):
    engine = get_engine(db_url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    with pytest.raises(SchemaMismatchError, match=r"its schema is at revision 0099, which this version of airwarn "
                                                  r"does not know \(its newest is 0002\): a newer airwarn"):
        create_tables(engine)


def test_two_processes_upgrade_one_empty_database_at_once(db_url):
    """The migration lock: both callers succeed, the revisions run once."""
    engine = get_engine(db_url)  # each thread's create_tables takes its own connection of the pool
    results = []

    def run():
        try:
            create_tables(engine)
            results.append("ok")
        except Exception as exc:  # noqa: BLE001 - reported below
            results.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert results == ["ok"] * 3
    assert current(engine) == head()


def test_tables_of_names_what_a_module_declares():
    import dashboard.models

    assert {t.name for t in db.tables_of(dashboard.models)} == {"dashboard_consult_note",
                                                                  "dashboard_consult_note_revision"}
    with pytest.raises(InputError, match="module airwarn.core.vocab declares no table"):
        import airwarn.core.vocab

        db.tables_of(airwarn.core.vocab)
    with pytest.raises(TypeError, match="expected a model module"):
        db.tables_of("dashboard.models")


def test_no_model_module_needs_importing_for_the_tables(tmp_path):
    """In a fresh interpreter importing only the floor's db, create_tables makes every table."""
    path = tmp_path / "fresh.sqlite"
    code = ("import sys; from airwarn.core.db import create_tables, get_engine; import sqlalchemy as sa; "
            f"e = get_engine('sqlite:///{path}'); create_tables(e); "
            "assert not [m for m in sys.modules if m.split('.')[0] in ('emergency', 'enterprise_list', 'dashboard')]; "
            "print(len(sa.inspect(e).get_table_names()))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(len(BASELINE_TABLES) + 1)  # and alembic_version


def test_upgrading_an_empty_sqlite_database_is_fast(tmp_path):
    """The suite makes many temporary databases: the baseline runs in one transaction."""
    import time

    _metadata()
    times = []
    for i in range(3):
        engine = get_engine(f"sqlite:///{tmp_path / f'{i}.sqlite'}")
        t0 = time.perf_counter()
        create_tables(engine)
        times.append(time.perf_counter() - t0)
    assert min(times) < 1.0, times


# --------------------------------------------------------------------------- airwarn db
def _cli(argv, monkeypatch, capsys, url, tmp_path):
    from airwarn.cli import main

    monkeypatch.setenv("AIRWARN_DB", url)
    monkeypatch.setenv("AIRWARN_DATA_DIR", str(tmp_path / "var"))
    rc = main(argv)
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_airwarn_db_current_upgrade_history_stamp(db_url, tmp_path, monkeypatch, capsys):
    shown = sa.make_url(db_url).render_as_string(hide_password=True)
    rc, out, _ = _cli(["db", "history"], monkeypatch, capsys, db_url, tmp_path)
    assert rc == 0 and out.startswith("0002  Aware timestamps: every instant column is timezone-aware UTC")
    assert out.splitlines()[0].endswith("(head)")
    assert out.splitlines()[1] == "0001  Baseline: the schema airwarn had when it began to use migrations."
    rc, out, _ = _cli(["db", "current"], monkeypatch, capsys, db_url, tmp_path)
    if db_url.startswith("sqlite"):
        assert (rc, out) == (0, f"database {shown}: no such file (the first command that uses it creates it)\n")
    else:
        assert rc == 0 and out.startswith(f"database {shown}: no revision (an empty database")
    rc, out, _ = _cli(["db", "upgrade"], monkeypatch, capsys, db_url, tmp_path)
    assert (rc, out) == (0, f"database {shown}: upgraded from no revision to 0002 (head)\n")
    rc, out, _ = _cli(["db", "upgrade"], monkeypatch, capsys, db_url, tmp_path)
    assert (rc, out) == (0, f"database {shown}: already at 0002 (head)\n")
    rc, out, _ = _cli(["db", "current"], monkeypatch, capsys, db_url, tmp_path)
    assert (rc, out) == (0, f"database {shown}: 0002 (head)\n")
    rc, _, err = _cli(["db", "stamp", "nosuch"], monkeypatch, capsys, db_url, tmp_path)
    assert rc == 2 and err.startswith(f"airwarn db: error: database {shown}: cannot stamp to revision 'nosuch'")
    assert err.rstrip().endswith("the revisions are: 0002, 0001")
    rc, out, _ = _cli(["db", "stamp", "0002"], monkeypatch, capsys, db_url, tmp_path)
    assert (rc, out) == (0, f"database {shown}: marked as 0002 (head) (no revision was run)\n")


def test_airwarn_db_upgrade_refuses_a_mismatching_database(db_url, tmp_path, monkeypatch, capsys):
    engine = get_engine(db_url)
    _create_before_migrations(engine, "warning")
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE warning DROP COLUMN reason"))
    rc, _, err = _cli(["db", "upgrade"], monkeypatch, capsys, db_url, tmp_path)
    assert rc == 3 and len(err.strip().splitlines()) == 1 and "(warning: reason)" in err
    assert current(engine) is None


# --------------------------------------------------------------------------- a later revision (issue 15)
_LATER = '''"""Test revision: a wider forecast reference on warning, a wider phone column on enterprise.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("warning") as batch:
        batch.alter_column("forecast_ref", type_=sa.String(300), existing_nullable=True)
    with op.batch_alter_table("enterprise") as batch:
        batch.alter_column("contact_phone", type_=sa.String(40), existing_nullable=True)


def downgrade():
    with op.batch_alter_table("enterprise") as batch:
        batch.alter_column("contact_phone", type_=sa.String(32), existing_nullable=True)
    with op.batch_alter_table("warning") as batch:
        batch.alter_column("forecast_ref", type_=sa.String(256), existing_nullable=True)
'''


@pytest.fixture
def script_copy(tmp_path, monkeypatch):
    """A copy of airwarn's script directory, used instead of the package's."""
    import shutil

    folder = tmp_path / "migrations"
    shutil.copytree(db.MIGRATIONS_DIR, folder, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(db, "MIGRATIONS_DIR", folder)
    db._script.cache_clear()
    yield folder
    db._script.cache_clear()


@pytest.fixture
def later_revision(script_copy):
    """airwarn's script directory plus a revision 0003 that copies two tables on SQLite (batch mode)."""
    (script_copy / "versions" / "0003_later.py").write_text(_LATER, encoding="utf-8")


def test_airwarn_db_revision_writes_the_next_numbered_file(script_copy, tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'dev.sqlite'}"
    rc, out, _ = _cli(["db", "revision", "-m", "wider phones"], monkeypatch, capsys, url, tmp_path)
    path = script_copy / "versions" / "0003_wider_phones.py"
    assert rc == 0 and out.startswith(f"wrote {path}; review it by hand") and path.exists()
    assert 'down_revision: Union[str, Sequence[str], None] = \'0002\'' in path.read_text(encoding="utf-8")
    assert head() == "0003"
    path.unlink()
    db._script.cache_clear()
    # autogenerate on a database at head, the models unchanged: nothing to do
    with pytest.raises(SchemaMismatchError, match="not at the newest revision 0002"):
        db.new_revision("too early", engine=get_engine(url))
    upgrade(get_engine(url))
    rc, out, _ = _cli(["db", "revision", "-m", "nothing", "--autogenerate"], monkeypatch, capsys, url, tmp_path)
    text_ = (script_copy / "versions" / "0003_nothing.py").read_text(encoding="utf-8")
    assert rc == 0 and "revision: str = '0003'" in text_
    body = text_.split("def upgrade")[1]
    assert "op." not in body  # no operation: the models are the head's schema


def test_a_later_revision_that_copies_tables_keeps_their_rows_and_children(db_url, later_revision):
    """Batch mode on SQLite drops the old copy of a table: with foreign keys on, that would cascade to
    the enterprise's production lines (or fail on the warning's audit rows). The upgrade runs with them
    off and checks them after; the rows and their children are all there, on both databases."""
    import datetime as dt

    from emergency import lifecycle as lc
    from enterprise_list.models import Enterprise, ListVersion, ProductionLine

    engine = get_engine(db_url)
    upgrade(engine, "0002")
    lc.issue(engine, area="阳泉", level="yellow", user="c", role="commander", **PERIOD)
    with db.session_scope(engine) as s:
        version = ListVersion(name="2026", year=2026, effective_date=dt.date(2026, 1, 1))
        version.enterprises.append(Enterprise(credit_code="91140300MA0000000X", name="某焦化", county="城区",
                                              industry="焦化", grade="B", lines=[ProductionLine(line_code="L1",
                                                                                                name="焦炉")]))
        s.add(version)
    upgrade(engine)
    assert current(engine) == "0003"
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM production_line")).scalar() == 1
        assert conn.execute(text("SELECT COUNT(*) FROM warning_audit")).scalar() == 1
        if engine.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1  # back on for the pool
    columns = {c["name"]: c for c in inspect(engine).get_columns("enterprise")}
    assert columns["contact_phone"]["type"].length == 40
    db.downgrade(engine, "0002")
    assert current(engine) == "0002" and _differences(engine) == []


def test_a_revision_that_breaks_a_foreign_key_is_rolled_back_on_sqlite(tmp_path, script_copy):
    (script_copy / "versions" / "0003_orphan.py").write_text(
        'from alembic import op\nrevision = "0003"\ndown_revision = "0002"\nbranch_labels = depends_on = None\n\n\n'
        'def upgrade():\n    op.execute("INSERT INTO warning_active (area, warning_id, since) '
        'VALUES (\'阳泉\', 99, \'2026-12-02 00:00:00\')")\n\n\ndef downgrade():\n    pass\n', encoding="utf-8")
    engine = get_engine(f"sqlite:///{tmp_path / 'fk.sqlite'}")
    upgrade(engine, "0001")
    with pytest.raises(SchemaMismatchError, match=r"the migration left rows whose foreign keys point nowhere "
                                                  r"\(warning_active row 1 → warning\); nothing was changed"):
        upgrade(engine)
    assert current(engine) == "0001"
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM warning_active")).scalar() == 0
