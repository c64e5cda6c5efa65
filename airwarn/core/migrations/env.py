"""Alembic's environment for airwarn's database (run by every ``alembic.command`` call).

:mod:`airwarn.core.db` drives Alembic programmatically (:func:`~airwarn.core.db.upgrade`,
``airwarn db ...``): it opens the connection, takes the migration lock (SQLite: ``BEGIN IMMEDIATE``
with foreign keys off; PostgreSQL: an advisory lock) and passes the connection in
``config.attributes["connection"]``; the revisions then run inside that one transaction. Without a
connection, ``sqlalchemy.url`` of the configuration names the database (the same lock is taken).

``target_metadata`` is :data:`airwarn.core.db.Base`'s metadata: it holds the tables of the model
modules imported so far, which is what autogenerate compares with the database (``airwarn db
revision --autogenerate`` imports every model module first). Like the rest of the floor this module
imports nothing of the project outside :mod:`airwarn.core`.
"""
from __future__ import annotations

from alembic import context

from airwarn.core.db import MIGRATION_OPTIONS, Base, get_engine, migration_connection

config = context.config
target_metadata = Base.metadata


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, **MIGRATION_OPTIONS)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    """``--sql`` mode: write the SQL for ``sqlalchemy.url``'s dialect instead of running it."""
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, dialect_opts={"paramstyle": "named"}, **MIGRATION_OPTIONS)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    with migration_connection(get_engine(config.get_main_option("sqlalchemy.url"))) as connection:
        _run(connection)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
