"""Database plumbing shared by every package: one declarative base, engines, sessions.

Each package declares its tables on :class:`Base` in its own module
(``enterprise_list/models.py``, ``emergency/models.py``, ``airwarn/core/users.py``, ``dashboard/``)
and calls :func:`create_tables` for them. SQLite is the default; any SQLAlchemy
URL (PostgreSQL included) works.

An SQLite file is opened only if it is a sound database of this application (:func:`get_engine`
checks it once per process and raises :class:`DatabaseRefusedError` otherwise); a new one is
created readable by its owner only (mode 0600: it holds the users' password hashes) and marked with
:data:`APPLICATION_ID`. Connections never create a file: one deleted while airwarn runs is an error,
not a new empty database.
"""
from __future__ import annotations

import logging
import os
import sqlite3
import stat
import tempfile
import urllib.parse
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, event, inspect, make_url
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.schema import CreateColumn

from airwarn.core.errors import DatabaseRefusedError, DriverMissingError, InputError, SchemaMismatchError  # noqa: F401

log = logging.getLogger("airwarn.core.db")


class Base(DeclarativeBase):
    """Declarative base of every airwarn table."""


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
    if engine is None:
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


def create_tables(engine: Engine) -> None:
    """Create every table declared on :class:`Base` so far (idempotent), then check that the tables
    that already existed have every column the code uses.

    ``create_all`` adds missing tables but never a missing column; without the check, a database made
    by an older airwarn would fail later, at some query, with the driver's "no such column".

    Raises
    ------
    SchemaMismatchError
        Naming each table and its missing columns.
    """
    Base.metadata.create_all(engine)
    inspector = inspect(engine)
    missing = {}
    for table in Base.metadata.sorted_tables:
        have = {c["name"] for c in inspector.get_columns(table.name)}
        lacking = [c for c in table.columns if c.name not in have]
        if lacking:
            missing[table.name] = lacking
    if missing:
        listed = "; ".join(f"{t}: {', '.join(c.name for c in cols)}" for t, cols in missing.items())
        statements = "; ".join(f"ALTER TABLE {t} ADD COLUMN {CreateColumn(c).compile(dialect=engine.dialect)}"
                               for t, cols in missing.items() for c in cols)
        raise SchemaMismatchError(
            f"database {engine.url.render_as_string(hide_password=True)}: its tables lack columns this version "
            f"of airwarn uses ({listed}); it was made by an older airwarn (or another program uses these table "
            f"names). Back the database up, then add them ({statements}; a NOT NULL column of a table with "
            f"rows needs a DEFAULT too), or point airwarn at a new database")


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
