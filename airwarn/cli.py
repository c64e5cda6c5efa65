"""The ``airwarn`` command line.

Each application package contributes its subcommands through a
``register(subparsers)`` function in its own ``cli`` module; the handlers
receive ``(args, settings)`` and return an exit code. This module is the shell,
the top layer: it imports the packages' ``cli`` modules (which import their
package's heavy modules only inside the handlers, so ``airwarn --help`` stays
fast), and nothing imports it.

Errors: an :class:`~airwarn.core.errors.AirwarnError` (a bad input, file, setting
or database) is reported as one line with exit code 2, or 3 for the database;
so are the operating system's file errors (missing file, no permission). Any
other exception is a bug and shows its traceback.
"""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

import dashboard.cli
import emergency.cli
import emergency.compliance_cli
import enterprise_list.cli
import forecast.cli
from airwarn import __version__, db_cli, demo
from airwarn.core.errors import AirwarnError, DatabaseError
from airwarn.core.settings import load_settings

#: Modules that contribute subcommands, in the order of ``airwarn --help``.
_COMMAND_MODULES = (forecast.cli, enterprise_list.cli, emergency.cli, emergency.compliance_cli, dashboard.cli,
                    db_cli, demo)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every package's subcommands."""
    parser = argparse.ArgumentParser(
        prog="airwarn",
        description="Heavy-pollution-weather emergency decision support (AQI, forecast, warnings, "
        "emergency-reduction list, dashboard).",
    )
    parser.add_argument("--version", action="version", version=f"airwarn {__version__}")
    parser.add_argument("--settings", help="settings file (TOML); default $AIRWARN_SETTINGS or ./airwarn.toml")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``airwarn`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    import sqlite3

    from sqlalchemy.exc import DBAPIError

    settings = None
    try:
        settings = load_settings(args.settings)
        return int(args.func(args, settings) or 0)
    except (DatabaseError, DBAPIError, sqlite3.DatabaseError) as exc:
        print(f"airwarn {args.command}: database error: {_database_message(exc, settings)}", file=sys.stderr)
        return 3
    except (AirwarnError, FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError) as exc:
        print(f"airwarn {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2


#: Driver messages of a damaged or vanished database file (SQLite), where a backup is the remedy.
_DAMAGE = ("malformed", "not a database", "disk i/o", "corrupt", "unable to open database file")


def _database_message(exc: BaseException, settings) -> str:
    """One line for a database error: ours as they are; a driver's (wrapped by SQLAlchemy, whose message
    holds the statement and its parameters) as the driver's own message, naming the database."""
    import sqlite3

    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, DBAPIError):
        orig = exc.orig
    elif isinstance(exc, sqlite3.Error):
        orig = exc
    else:
        return _one_line(exc)
    where = "the database"
    if settings is not None:
        from sqlalchemy import make_url

        where = f"database {make_url(settings.db_url).render_as_string(hide_password=True)}"
    message = f"{where}: {orig}"
    if any(d in str(orig).lower() for d in _DAMAGE):
        message += "; restore it from a backup, or point AIRWARN_DB (db_url) at another file"
    return _one_line(message)


def _one_line(message) -> str:
    """The message with its lines (a driver's hint, a report) joined by '; ' (one-line messages as they are)."""
    lines = [line.strip() for line in str(message).splitlines() if line.strip()]
    return "; ".join(lines) if len(lines) > 1 else str(message).strip()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
