"""Database plumbing shared by every package: one declarative base, engines, sessions, migrations.

Each package declares its tables on :class:`Base` in its own module
(``enterprise_list/models.py``, ``emergency/models.py``, ``airwarn/core/users.py``,
``dashboard/models.py``). The schema itself is made and moved on by Alembic revisions
(``airwarn/core/migrations/versions/``): :func:`upgrade` brings a database to a revision,
:func:`create_tables` to the newest one and checks it holds the tables its caller uses, whatever
model modules are imported (no import registers a table). SQLite is the default; any SQLAlchemy
URL (PostgreSQL included) works. Every instant (``created_at``, ``issued_at``, ``at`` …) is a
:class:`UTCDateTime` column: timezone-aware UTC in Python on every database.

An SQLite file is opened only if it is a sound database of this application (:func:`get_engine`
checks it once per process and raises :class:`DatabaseRefusedError` otherwise); a new one is
created readable by its owner only (mode 0600: it holds the users' password hashes) and marked with
:data:`APPLICATION_ID`. Connections never create a file: one deleted while airwarn runs is an error,
not a new empty database.
"""
from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import sqlite3
import stat
import tempfile
import threading
import types
import urllib.parse
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

from sqlalchemy import DateTime, MetaData, Table, create_engine, event, inspect, make_url
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.schema import CreateColumn
from sqlalchemy.types import TypeDecorator

from airwarn.core.errors import DatabaseRefusedError, DriverMissingError, InputError, SchemaMismatchError  # noqa: F401

log = logging.getLogger("airwarn.core.db")


#: Names of the constraints and indexes SQLAlchemy names: PostgreSQL's own default names (so a database
#: made by ``create_all`` before migrations and one made by the baseline revision have the same names,
#: which a later revision drops or alters by name), and SQLAlchemy's default for indexes.
#: Check constraints are named where they are declared.
NAMING_CONVENTION = {
    "pk": "%(table_name)s_pkey",
    "uq": "%(table_name)s_%(column_0_N_name)s_key",
    "fk": "%(table_name)s_%(column_0_name)s_fkey",
    "ix": "ix_%(column_0_label)s",
}


class UTCDateTime(TypeDecorator):
    """An instant: an aware datetime in UTC in Python, whatever the database.

    The column is ``DateTime(timezone=True)``: ``timestamptz`` on PostgreSQL; on SQLite, which has no
    time type, the same text as a naive ``DateTime`` column stores (``2026-12-01 20:35:12.000000``,
    UTC), so rows written before the columns were aware read unchanged.

    Binding (an insert, an update, a comparison in a query): an aware datetime is converted to UTC; a
    naive one is refused with :class:`TypeError` (wrapped by SQLAlchemy in a ``StatementError`` that
    shows the statement, hence the column): every writer of airwarn produces aware UTC
    (:func:`airwarn.core.dates.utc_now`), and a naive value would be ambiguous (UTC, or Beijing time as
    people write it?). Reading: aware UTC; a naive value (SQLite's text, a row written before, or
    ``CURRENT_TIMESTAMP`` of a server default, which is UTC) is taken as UTC.

    >>> t = UTCDateTime().process_result_value(dt.datetime(2026, 12, 1, 20, 35), None)
    >>> t.isoformat()
    '2026-12-01T20:35:00+00:00'
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if not isinstance(value, dt.datetime):
            raise TypeError(f"UTCDateTime column: expected an aware datetime, got {type(value).__name__} {value!r}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise TypeError(f"UTCDateTime column: expected an aware datetime (UTC instant), got the naive "
                            f"{value.isoformat(' ')}; use airwarn.core.dates.utc_now() or "
                            f"datetime.now(datetime.timezone.utc)")
        value = value.astimezone(dt.timezone.utc)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


class Base(DeclarativeBase):
    """Declarative base of every airwarn table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


#: ``PRAGMA application_id`` of airwarn's SQLite files (the bytes ``AIRW``).
APPLICATION_ID = int.from_bytes(b"AIRW", "big")

#: Tables any airwarn version made: an unmarked file (``application_id`` 0) holding one of them was
#: made by an airwarn older than the mark and is accepted (and marked).
AIRWARN_TABLES = frozenset({
    "list_version", "enterprise", "list_frame", "production_line", "measure", "emission_inventory",
    "warning", "warning_active", "warning_audit", "dashboard_user", "dashboard_consult_note",
})

_SQLITE_HEADER = b"SQLite format 3\x00"
_BUSY_TIMEOUT = 30  # seconds a connection waits for another process's lock

_ENGINES: dict[str, Engine] = {}
#: Guards _ENGINES, so that threads asking for one URL at once share one engine (one pool).
_ENGINES_LOCK = threading.Lock()


def get_engine(url: str) -> Engine:
    """Return one engine per URL (SQLite gets foreign keys and a busy timeout).

    The first call for an SQLite file checks it (:func:`open_sqlite_file`): a missing file is created
    (mode 0600, marked as airwarn's); an existing one must be a sound airwarn database.

    Parameters
    ----------
    url : str
        SQLAlchemy URL, e.g. ``sqlite:///var/airwarn.sqlite`` or ``postgresql://user@host/db``
        (``postgresql://`` uses the psycopg 3 driver, extra ``postgresql``).

    Raises
    ------
    DatabaseRefusedError
        If the SQLite file exists but is not a sound airwarn database.
    ValueError
        If the URL cannot be parsed or names an unknown database kind.
    DriverMissingError
        If the URL's driver is not installed.
    """
    engine = _ENGINES.get(url)
    if engine is not None:
        return engine
    with _ENGINES_LOCK:
        return _ENGINES.get(url) or _new_engine(url)


def _new_engine(url: str) -> Engine:
    """Create, remember and return the engine of ``url`` (under :data:`_ENGINES_LOCK`)."""
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise InputError(f"database URL {url!r} cannot be parsed ({exc})") from None
    if parsed.drivername == "postgresql":  # the driver airwarn installs (SQLAlchemy 2.0 would pick psycopg2)
        parsed = parsed.set(drivername="postgresql+psycopg")
    shown = parsed.render_as_string(hide_password=True)
    try:
        if parsed.get_backend_name() == "sqlite":
            engine = _sqlite_engine(parsed)
        else:
            engine = create_engine(parsed, pool_pre_ping=True)
    except ModuleNotFoundError as exc:
        hint = "; pip install -e '.[postgresql]'" if exc.name == "psycopg" else ""
        raise DriverMissingError(f"database {shown}: its driver is not installed ({exc}){hint}",
                                 name=exc.name) from None
    except ArgumentError as exc:  # NoSuchModuleError: an unknown dialect
        raise InputError(f"database URL {shown}: {exc}") from None
    _ENGINES[url] = engine
    return engine


def _sqlite_engine(parsed) -> Engine:
    database = parsed.database
    if not database or database == ":memory:" or parsed.query.get("uri") or database.startswith("file:"):
        engine = create_engine(parsed, connect_args={"timeout": _BUSY_TIMEOUT, "check_same_thread": False})
    else:
        uri = open_sqlite_file(database)
        engine = create_engine(parsed, creator=lambda: sqlite3.connect(
            uri, uri=True, timeout=_BUSY_TIMEOUT, check_same_thread=False))
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def open_sqlite_file(path: str | os.PathLike) -> str:
    """Create an airwarn SQLite file, or check an existing one; return the URI its connections open.

    A missing file is created, atomically, as an empty SQLite database with mode 0600 marked with
    :data:`APPLICATION_ID` (SQLite gives its journal and WAL files the same mode). An existing file is
    accepted only if it has SQLite's header, ``PRAGMA quick_check`` finds it sound, and it is marked as
    airwarn's, or is unmarked but holds airwarn's tables (made by an older airwarn: it is marked now).
    A refused file is left unchanged. The URI (``mode=rw``) never creates a file.

    Parameters
    ----------
    path : path-like
        The database file.

    Returns
    -------
    str
        ``file:`` URI of the file for :func:`sqlite3.connect` with ``uri=True``.

    Raises
    ------
    DatabaseRefusedError
        Naming the file, what is wrong and what to do.
    """
    path = Path(path).absolute()
    uri = f"file:{urllib.parse.quote(str(path))}?mode=rw"
    if not os.path.lexists(path):
        _create_sqlite_file(path)
        return uri
    todo = "restore it from a backup, or point AIRWARN_DB (db_url) at another file"

    def refuse(what: str) -> DatabaseRefusedError:
        return DatabaseRefusedError(f"database {path} {what}; {todo}")

    if not path.is_file():
        raise refuse("is a broken symbolic link" if path.is_symlink() and not path.exists() else "is not a file")
    with open(path, "rb") as fh:
        header = fh.read(100)
    if not header:
        raise DatabaseRefusedError(
            f"database {path} is empty (0 bytes), not an airwarn database; restore it from a backup, "
            f"delete it to start a new empty database, or point AIRWARN_DB (db_url) at another file")
    if not header.startswith(_SQLITE_HEADER):
        raise refuse("is not an SQLite database (its first bytes are not SQLite's header)")
    if len(header) < 100:
        raise refuse(f"is damaged: {len(header)} bytes, shorter than SQLite's 100-byte header")
    try:
        con = sqlite3.connect(uri, uri=True, timeout=_BUSY_TIMEOUT)
        try:
            app_id = con.execute("PRAGMA application_id").fetchone()[0]
            if app_id not in (0, APPLICATION_ID):
                raise refuse(f"belongs to another program (its application_id is 0x{app_id & 0xFFFFFFFF:08x}, "
                             f"airwarn's is 0x{APPLICATION_ID:08x})")
            problems = [row[0] for row in con.execute("PRAGMA quick_check(3)")]
            if problems != ["ok"]:
                raise refuse(f"is damaged (SQLite's quick_check: {'; '.join(problems)[:300]})")
            if app_id == 0:
                tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
                if not tables & AIRWARN_TABLES:
                    shown = ", ".join(sorted(tables)[:5]) or "none"
                    raise refuse(f"is an SQLite database of another program (not marked as airwarn's and "
                                 f"no airwarn table; its tables: {shown})")
                try:  # made by an older airwarn: mark it (unless the file is read-only to us)
                    con.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                    con.commit()
                except sqlite3.OperationalError as exc:
                    if "readonly" not in str(exc):
                        raise
        finally:
            con.close()
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise DatabaseRefusedError(
                f"database {path} is locked by another process for over {_BUSY_TIMEOUT} s ({exc}); "
                f"try again when it has finished") from None
        raise refuse(f"cannot be read ({exc})") from None
    except sqlite3.DatabaseError as exc:
        raise refuse(f"is damaged ({exc})") from None
    _owner_only(path)
    return uri


def _owner_only(path: Path) -> None:
    """An accepted database readable by others (a copy, or a file made by an older airwarn) is made
    0600: it holds the password hashes. Logged; a file we may not chmod is left as it is, with a warning."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if not mode & 0o077:
        return
    try:
        os.chmod(path, mode & 0o700)
        log.warning("database %s was readable by others (mode %o); made %o (it holds password hashes)",
                    path, mode, mode & 0o700)
    except PermissionError:
        log.warning("database %s is readable by others (mode %o) and cannot be changed by this user; "
                    "chmod 600 it (it holds password hashes)", path, mode)


def _create_sqlite_file(path: Path) -> None:
    """Make ``path`` an empty SQLite database, mode 0600, marked as airwarn's, without a moment in which
    it exists unmarked (another process opening it then would refuse an empty file): the database is
    made under a temporary name in the same folder, then linked to its name (never replacing a file
    another process made meanwhile)."""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".new")  # mode 0600
    except FileNotFoundError:
        raise FileNotFoundError(f"database {path}: its folder {path.parent} does not exist") from None
    os.close(fd)
    try:
        con = sqlite3.connect(tmp)
        try:
            con.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            con.commit()
        finally:
            con.close()
        try:
            os.link(tmp, path)
        except FileExistsError:  # another process made it first: check that one as any existing file
            open_sqlite_file(path)
        except OSError:  # a file system without hard links
            if not path.exists():
                os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


# --------------------------------------------------------------------------- migrations
#: The Alembic script directory (a package of airwarn.core, installed with it).
MIGRATIONS_DIR = Path(__file__).with_name("migrations")
#: Options of every migration context (``migrations/env.py``): autogenerate writes ALTERs in batch mode,
#: which SQLite can run (the table is copied), and compares column types.
MIGRATION_OPTIONS = {"render_as_batch": True, "compare_type": True}
#: Key of the PostgreSQL advisory lock held while a database is migrated.
_PG_MIGRATION_LOCK = 20260302
_SCRIPT_LOCK = threading.Lock()


def alembic_config(connection: Connection | None = None):
    """An Alembic configuration of airwarn's script directory (no ``alembic.ini``).

    Parameters
    ----------
    connection : Connection, optional
        Passed to ``migrations/env.py`` in ``config.attributes["connection"]``: the revisions run on it
        (in its transaction). Without it, set ``sqlalchemy.url``.

    Returns
    -------
    alembic.config.Config
    """
    import argparse

    from alembic.config import Config

    config = Config(cmd_opts=argparse.Namespace(quiet=True, x=None))  # airwarn prints what it did itself
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")  # versions/0003_wider_phones.py
    config.set_main_option("truncate_slug_length", "40")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@functools.lru_cache(maxsize=1)
def _script():
    """The script directory, read once per process (its revisions do not change while airwarn runs)."""
    from alembic.script import ScriptDirectory

    with _SCRIPT_LOCK:
        return ScriptDirectory.from_config(alembic_config())


def head() -> str:
    """The newest revision of airwarn's schema (the one :func:`create_tables` brings a database to)."""
    return _script().get_current_head()


def history() -> list[tuple[str, str | None, str]]:
    """Every revision, newest first: ``(revision, the revision it follows or None, its one-line doc)``."""
    return [(s.revision, s.down_revision, s.doc) for s in _script().walk_revisions()]


def _shown(bind: Engine | Connection) -> str:
    engine = bind if isinstance(bind, Engine) else bind.engine
    return engine.url.render_as_string(hide_password=True)


def _revisions(connection: Connection) -> tuple[str, ...]:
    """The database's revisions (empty: no ``alembic_version`` table), each checked to be known here."""
    from alembic.runtime.migration import MigrationContext
    from alembic.util.exc import CommandError

    revisions = MigrationContext.configure(connection).get_current_heads()
    for rev in revisions:
        try:
            _script().get_revision(rev)
        except CommandError:
            raise SchemaMismatchError(
                f"database {_shown(connection)}: its schema is at revision {rev}, which this version of airwarn "
                f"does not know (its newest is {head()}): a newer airwarn upgraded it; run that version, or "
                f"restore a backup made before the upgrade") from None
    return tuple(revisions)


def current(engine: Engine) -> str | None:
    """The database's schema revision, or ``None`` (an empty database, or one made before migrations).

    Raises
    ------
    SchemaMismatchError
        If the revision is unknown to this version of airwarn (a newer one upgraded the database).
    """
    with engine.connect() as conn:
        revisions = _revisions(conn)
    return revisions[0] if revisions else None


@contextmanager
def migration_connection(engine: Engine) -> Iterator[Connection]:
    """A connection in one transaction holding the migration lock; committed on success.

    SQLite: foreign keys off (a revision that copies a table, Alembic's batch mode, must not cascade
    the drop of the old copy; SQLite ignores the setting inside a transaction, so it is set before),
    then ``BEGIN IMMEDIATE`` (the write lock: another process waits; the whole upgrade is one
    transaction, so it is all or nothing, and fast), and ``PRAGMA foreign_key_check`` before the
    commit. PostgreSQL: a transaction-scoped advisory lock (DDL is transactional there).

    Raises
    ------
    SchemaMismatchError
        If a revision left rows whose foreign keys point nowhere (SQLite; nothing is committed).
    """
    with engine.connect() as conn:
        sqlite_db = conn.dialect.name == "sqlite"
        try:
            if sqlite_db:
                conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            elif conn.dialect.name == "postgresql":
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})")
            yield conn
            if sqlite_db:
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    shown = "; ".join(f"{r[0]} row {r[1]} → {r[2]}" for r in broken[:5])
                    raise SchemaMismatchError(f"database {_shown(conn)}: the migration left rows whose foreign keys "
                                              f"point nowhere ({shown}); nothing was changed")
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        finally:
            if sqlite_db:  # a pooled connection must never keep foreign keys off
                try:
                    conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                    conn.commit()
                except Exception:  # noqa: BLE001 - the original error, if any, is the one to see
                    conn.invalidate()


def _command(engine: Engine, name: str, revision: str) -> None:
    from alembic import command
    from alembic.util.exc import CommandError

    with migration_connection(engine) as conn:
        _revisions(conn)
        try:
            getattr(command, name)(alembic_config(conn), revision)
        except CommandError as exc:  # an unknown or ambiguous revision given by the user
            raise InputError(f"database {_shown(engine)}: cannot {name} to revision {revision!r} ({exc}); "
                             f"the revisions are: {', '.join(r for r, _, _ in history())}") from None


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database up to ``revision`` (default: the newest), in one locked transaction.

    An empty database gets every table; a database made by an airwarn older than the migrations (its
    tables, no ``alembic_version``) is adopted by the baseline revision: the tables it lacks are
    created, and it is refused if a table it has lacks a column. Nothing is ever altered silently.

    Parameters
    ----------
    engine : Engine
    revision : str
        A revision id, ``"head"`` or a relative step such as ``"+1"``.

    Raises
    ------
    SchemaMismatchError
        If the database is at a revision this airwarn does not know, or its tables do not match.
    """
    _command(engine, "upgrade", revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the database down to ``revision`` (``"base"``: no table at all; the rows go with the tables)."""
    _command(engine, "downgrade", revision)


def stamp(engine: Engine, revision: str) -> None:
    """Record ``revision`` as the database's schema without running any revision (after a manual fix)."""
    _command(engine, "stamp", revision)


def new_revision(message: str, engine: Engine | None = None) -> Path:
    """Write the next revision file (``versions/<NNNN>_<message>.py``) and return its path.

    With ``engine``, Alembic's autogenerate fills it from the difference between :data:`Base`'s metadata
    (import every model module first) and that database, which must be at the newest revision; review
    the result by hand. Without, the file has empty ``upgrade`` / ``downgrade`` functions to write.
    """
    from alembic import command

    _script.cache_clear()
    rev_id = f"{int(head()) + 1:04d}"
    if engine is None:
        script = command.revision(alembic_config(), message, rev_id=rev_id)
    else:
        with migration_connection(engine) as conn:
            if set(_revisions(conn)) != set(_script().get_heads()):
                raise SchemaMismatchError(f"database {_shown(engine)}: not at the newest revision {head()}; "
                                          f"run airwarn db upgrade before autogenerating a revision")
            script = command.revision(alembic_config(conn), message, autogenerate=True, rev_id=rev_id)
    _script.cache_clear()
    return Path(script.path)


def tables_of(*models) -> list[Table]:
    """The tables of ``models``: model modules, classes declared on :class:`Base`, or tables.

    With none: every table declared on :class:`Base` so far (the model modules imported).

    Raises
    ------
    InputError
        If a module declares no table on :class:`Base`.
    """
    if not models:
        return list(Base.metadata.sorted_tables)
    found: dict[str, Table] = {}
    for model in models:
        if isinstance(model, Table):
            tables = [model]
        elif isinstance(model, types.ModuleType):
            tables = [m.local_table for m in Base.registry.mappers if m.class_.__module__ == model.__name__]
            if not tables:
                raise InputError(f"module {model.__name__} declares no table on airwarn.core.db.Base")
        elif isinstance(model, type) and issubclass(model, Base):
            tables = [model.__table__]
        else:
            raise TypeError(f"expected a model module, a class declared on Base or a Table, got {model!r}")
        found.update((t.name, t) for t in tables)
    return list(found.values())


def require_tables(connection: Connection, tables: Iterable[Table]) -> None:
    """Check that the database has ``tables`` with every one of their columns.

    Raises
    ------
    SchemaMismatchError
        Naming the tables, or each table and its missing columns (with the ``ALTER TABLE`` that would
        add them: airwarn never runs it itself).
    """
    inspector = inspect(connection)
    have = set(inspector.get_table_names())
    tables = list(tables)
    absent = [t.name for t in tables if t.name not in have]
    if absent:
        revisions = _revisions(connection)
        at = f"at revision {revisions[0]}" if revisions else "made before airwarn's migrations"
        raise SchemaMismatchError(
            f"database {_shown(connection)}: it lacks tables this version of airwarn uses ({', '.join(absent)}), "
            f"although its schema is {at}: they were dropped outside airwarn, or a model was changed without a "
            f"revision (airwarn db revision --autogenerate); restore a backup, or point airwarn at a new database")
    missing = {}
    for table in tables:
        columns = {c["name"] for c in inspector.get_columns(table.name)}
        lacking = [c for c in table.columns if c.name not in columns]
        if lacking:
            missing[table.name] = lacking
    if missing:
        listed = "; ".join(f"{t}: {', '.join(c.name for c in cols)}" for t, cols in missing.items())
        statements = "; ".join(f"ALTER TABLE {t} ADD COLUMN {CreateColumn(c).compile(dialect=connection.dialect)}"
                               for t, cols in missing.items() for c in cols)
        raise SchemaMismatchError(
            f"database {_shown(connection)}: its tables lack columns this version of airwarn uses ({listed}); "
            f"they were dropped outside airwarn, or it was made by an airwarn older than its migrations (or another "
            f"program uses these table names). Back the database up, then add them ({statements}; a NOT NULL "
            f"column of a table with rows needs a DEFAULT too), or point airwarn at a new database")


def create_tables(engine: Engine, *models) -> None:
    """Bring the database to the newest schema revision and check the tables ``models`` use.

    A database at the newest revision is not migrated (no migration lock); any other is upgraded
    (:func:`upgrade`). Then the tables of ``models`` (:func:`tables_of`; default: every table declared
    so far) must be there with all their columns, and the metadata's ``after_create`` DDL event runs,
    where a package keeps what is not a table (``emergency.models`` puts dropped append-only triggers
    back, and logs that they were gone). Idempotent.

    Parameters
    ----------
    engine : Engine
    *models : module, class or Table
        The model modules (or classes, tables) the caller uses, e.g.
        ``create_tables(engine, emergency.models, enterprise_list.models)``.

    Raises
    ------
    SchemaMismatchError
        If the database is at a revision this airwarn does not know, lacks a table of ``models``, or
        a table lacks a column.
    """
    tables = tables_of(*models)
    with engine.connect() as conn:
        at_head = set(_revisions(conn)) == set(_script().get_heads())
    if not at_head:
        upgrade(engine)
    with engine.begin() as conn:
        require_tables(conn, tables)
        Base.metadata.create_all(conn, tables=[])  # no table: runs the DDL events only

@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A transaction: commit on success, roll back everything on any error."""
    session = sessionmaker(bind=engine, expire_on_commit=False)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
