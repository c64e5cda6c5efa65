"""The running app's settings, its database, and the caches the services build on.

:func:`settings` reads the :class:`~airwarn.core.settings.Settings` of the current request's app
(the Flask config, :data:`SETTINGS_KEY`); :func:`engine`, :func:`session` and :func:`ensure_tables`
give its database. :func:`stamp` and :func:`cached_by_stamp` key a file's cached reading on what it
depends on: its path, modification time and size (so a product rewritten by the daily chain is read
again); the caches are :func:`functools.lru_cache`, which is thread-safe (waitress serves with
threads). :func:`rules` loads a rule set once per name.
"""
from __future__ import annotations

import functools
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import dashboard.models
import emergency.models
import enterprise_list.models
from airwarn.core import users
from airwarn.core.db import create_tables, get_engine, session_scope
from airwarn.core.settings import Settings
from emergency.rules import load_rules

#: Key of the settings object in the Flask config.
SETTINGS_KEY = "AIRWARN_SETTINGS"


def settings() -> Settings:
    """Settings of the running app (from the Flask config of the current request).

    Raises
    ------
    RuntimeError
        Outside a request or app context of a dashboard app (a programming error, not user input).
    """
    import flask

    try:
        return flask.current_app.config[SETTINGS_KEY]
    except (RuntimeError, KeyError) as exc:
        raise RuntimeError("dashboard.services used outside a dashboard app context "
                           "(create_app(settings) sets it)") from exc


def ensure_tables(s: Settings | None = None) -> None:
    """Bring the database to the newest schema and check every table the dashboard reads or writes
    (:func:`airwarn.core.db.create_tables`; idempotent)."""
    create_tables(get_engine((s or settings()).db_url), users, dashboard.models, emergency.models,
                  enterprise_list.models)


def engine(s: Settings | None = None):
    """The SQLAlchemy engine of the app's database."""
    return get_engine((s or settings()).db_url)


@contextmanager
def session(s: Settings | None = None) -> Iterator[Any]:
    """A database transaction on the app's database (committed on success, rolled back on error)."""
    with session_scope(engine(s)) as sess:
        yield sess


def stamp(path: "str | Path") -> tuple[int, int]:
    """What a file's cached reading depends on: ``(mtime in ns, size)``.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    """
    st = Path(path).stat()
    return st.st_mtime_ns, st.st_size


def stamps(paths) -> tuple:
    """``(path, mtime, size)`` of each file of ``paths``, as a cache key."""
    return tuple((str(p), *stamp(p)) for p in paths)


def cached_by_stamp(maxsize: int = 32):
    """Decorator: cache ``func(path, *args)`` on ``(path, mtime, size, *args)`` (thread-safe).

    The wrapped function gets ``cache_clear()`` like an :func:`functools.lru_cache` function.
    """

    def decorate(func):
        @functools.lru_cache(maxsize=maxsize)
        def cached(path: str, _stamp: tuple, *args):
            return func(Path(path), *args)

        @functools.wraps(func)
        def wrapper(path, *args):
            return cached(str(Path(path)), stamp(path), *args)

        wrapper.cache_clear = cached.cache_clear
        return wrapper

    return decorate


@functools.lru_cache(maxsize=8)
def rules(name: str):
    """The rule set ``name`` (:func:`emergency.rules.load_rules`), loaded once."""
    return load_rules(name)
