"""``airwarn db``: the database's schema revision (Alembic migrations, :mod:`airwarn.core.db`).

``airwarn db upgrade [--revision R]``, ``airwarn db current``, ``airwarn db history``,
``airwarn db stamp R`` for the operator, ``airwarn db revision -m MESSAGE [--autogenerate]`` for the
developer who changes a model (see ``docs/database.md``). The database is the settings' ``db_url``
(``AIRWARN_DB``), as for every command. Part of the shell: it knows every package's model module
(:func:`model_modules`); at module level only the standard library, so ``airwarn --help`` stays fast.
"""
from __future__ import annotations

import argparse
import sys


def model_modules() -> tuple:
    """Every module that declares tables on :class:`airwarn.core.db.Base` (imported explicitly here)."""
    import dashboard.models
    import emergency.models
    import enterprise_list.models
    from airwarn.core import users

    return users, enterprise_list.models, emergency.models, dashboard.models


def _shown(settings) -> str:
    from sqlalchemy import make_url

    return make_url(settings.db_url).render_as_string(hide_password=True)


def _missing_file(settings) -> bool:
    """An SQLite file that does not exist (``current`` must not create one)."""
    from pathlib import Path

    from sqlalchemy import make_url

    url = make_url(settings.db_url)
    return (url.get_backend_name() == "sqlite" and bool(url.database) and url.database != ":memory:"
            and not url.database.startswith("file:") and not Path(url.database).exists())


def _engine(settings):
    from airwarn.core.db import get_engine

    settings.ensure_dirs()
    return get_engine(settings.db_url)


def _describe(revision: str | None) -> str:
    from airwarn.core.db import head

    if revision is None:
        return "no revision (an empty database, or one made before migrations: `airwarn db upgrade` adopts it)"
    if revision == head():
        return f"{revision} (head)"
    return f"{revision} (behind head {head()}: run `airwarn db upgrade`)"


def _upgrade(args, settings) -> int:
    from airwarn.core.db import create_tables, current, upgrade

    engine = _engine(settings)
    before = current(engine)
    if args.revision == "head":
        create_tables(engine, *model_modules())  # and check every table, put dropped triggers back
    else:
        upgrade(engine, args.revision)
    after = current(engine)
    if after == before:
        print(f"database {_shown(settings)}: already at {_describe(after)}")
    else:
        print(f"database {_shown(settings)}: upgraded from {before or 'no revision'} to {_describe(after)}")
    return 0


def _current(args, settings) -> int:
    from airwarn.core.db import current

    if _missing_file(settings):
        print(f"database {_shown(settings)}: no such file (the first command that uses it creates it)")
        return 0
    print(f"database {_shown(settings)}: {_describe(current(_engine(settings)))}")
    return 0


def _history(args, settings) -> int:
    from airwarn.core.db import head, history

    top = head()
    for revision, down, doc in history():
        print(f"{revision}  {doc}{'  (head)' if revision == top else ''}")
    return 0


def _stamp(args, settings) -> int:
    from airwarn.core.db import current, stamp

    engine = _engine(settings)
    stamp(engine, args.revision)
    print(f"database {_shown(settings)}: marked as {_describe(current(engine))} (no revision was run)")
    return 0


def _revision(args, settings) -> int:
    from airwarn.core.db import new_revision

    if args.autogenerate:
        model_modules()  # autogenerate compares every model with the database
    path = new_revision(args.message, engine=_engine(settings) if args.autogenerate else None)
    print(f"wrote {path}; review it by hand (renames, server defaults, data, SQLite batch mode) before committing")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``airwarn db``."""
    db = subparsers.add_parser("db", help="the database's schema: upgrade, current revision, history")
    sub = db.add_subparsers(dest="db_command", metavar="ACTION")
    up = sub.add_parser("upgrade", help="bring the database to the newest schema (or --revision); a database "
                                        "made before migrations is adopted, a mismatching one refused")
    up.add_argument("--revision", default="head", help="target revision (default: head)")
    up.set_defaults(func=_upgrade)
    sub.add_parser("current", help="the database's schema revision").set_defaults(func=_current)
    sub.add_parser("history", help="every schema revision, newest first").set_defaults(func=_history)
    st = sub.add_parser("stamp", help="record a revision without running it (after fixing a schema by hand)")
    st.add_argument("revision")
    st.set_defaults(func=_stamp)
    rev = sub.add_parser("revision", help="(developers) write a new revision file in airwarn/core/migrations/versions")
    rev.add_argument("-m", "--message", required=True, help="what the revision changes, e.g. 'aware timestamps'")
    rev.add_argument("--autogenerate", action="store_true",
                     help="fill it from the difference between the models and the database (at head)")
    rev.set_defaults(func=_revision)
    db.set_defaults(func=lambda args, settings: (db.print_help(sys.stdout), 2)[1])
