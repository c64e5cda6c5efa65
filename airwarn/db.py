"""Database plumbing shared by every package: one declarative base, engines, sessions.

Each package declares its tables on :class:`Base` in its own module
(``enterprise_list/models.py``, ``emergency/models.py``, ``dashboard/auth.py``)
and calls :func:`create_tables` for them. SQLite is the default; any SQLAlchemy
URL (PostgreSQL included) works.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import create_engine, event, inspect, make_url
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.schema import CreateColumn


class Base(DeclarativeBase):
    """Declarative base of every airwarn table."""


_ENGINES: dict[str, Engine] = {}


def get_engine(url: str) -> Engine:
    """Return one engine per URL (SQLite gets foreign keys and a busy timeout).

    Parameters
    ----------
    url : str
        SQLAlchemy URL, e.g. ``sqlite:///var/airwarn.sqlite`` or ``postgresql://user@host/db``
        (``postgresql://`` uses the psycopg 3 driver, extra ``postgresql``).
    """
    engine = _ENGINES.get(url)
    if engine is None:
        parsed = make_url(url)
        if parsed.drivername == "postgresql":  # the driver airwarn installs (SQLAlchemy 2.0 would pick psycopg2)
            parsed = parsed.set(drivername="postgresql+psycopg")
        if parsed.get_backend_name() == "sqlite":
            engine = create_engine(parsed, connect_args={"timeout": 30, "check_same_thread": False})
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            try:
                engine = create_engine(parsed, pool_pre_ping=True)
            except ModuleNotFoundError as exc:
                hint = "; pip install -e '.[postgresql]'" if exc.name == "psycopg" else ""
                raise ModuleNotFoundError(
                    f"database {parsed.render_as_string(hide_password=True)}: its driver is not installed "
                    f"({exc}){hint}") from None
        _ENGINES[url] = engine
    return engine


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


class SchemaMismatchError(RuntimeError):
    """The database's tables lack columns this version of airwarn uses (made by an older version)."""


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
