"""What the package's command modules share: the database they act on, and the ``--date`` option.

The command modules (``emergency/cli.py``, ``compliance_cli.py``, ``benefit_cli.py``,
``evaluation_cli.py``) import only this one of each other, so that ``emergency/cli.py`` can register
them all without a cycle. Heavy modules are imported inside the functions (``airwarn --help`` stays fast).
"""
from __future__ import annotations

import datetime as dt

__all__ = ["open_engine", "parse_day"]


def open_engine(settings):
    """The settings' database, brought to the newest schema, with the tables the warning commands use:
    the users they act as, the warning tables and the lists (:func:`airwarn.core.db.create_tables`)."""
    from airwarn.core import users
    from airwarn.core.db import create_tables, get_engine
    from emergency import models
    from enterprise_list import models as list_models

    settings.ensure_dirs()
    engine = get_engine(settings.db_url)
    create_tables(engine, users, models, list_models)
    return engine


def parse_day(text: str | None, option: str = "--date") -> dt.date | None:
    """A day given on the command line (``YYYY-MM-DD``), or None; else an InputError naming the option."""
    from airwarn.core.errors import InputError

    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{option}: expected a date YYYY-MM-DD, got {text!r}") from None
