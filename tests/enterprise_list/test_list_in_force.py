"""The one definition of the list version in force on a day (:func:`enterprise_list.models.list_in_force`).

Before it, three callers disagreed: the daily chain took the version in force on the day, ``resolve_version``
the one in force today else the latest by effective date, the dashboard the one in force today else the
latest by id. The cases where they disagreed: a version effective in the future (the only one, or beside
one in force), and a version imported later with an earlier effective date.
"""
from __future__ import annotations

import datetime as dt

import pytest

from airwarn.core.db import session_scope
from airwarn.core.errors import UnknownNameError
from enterprise_list import models
from enterprise_list.io import import_list, totals_in_force
from enterprise_list.models import list_in_force, resolve_version, version_on
from enterprise_list.sample import make_sample_list

TODAY = dt.date(2026, 12, 2)


@pytest.fixture
def today(monkeypatch):
    """Beijing's today fixed at :data:`TODAY` for ``resolve_version(None)``."""
    monkeypatch.setattr(models, "today_beijing", lambda: TODAY)
    return TODAY


def _import(engine, name: str, effective: dt.date, seed: int) -> None:
    import_list(engine, make_sample_list(6, seed=seed), name, effective, counties=None, bounds=False, allow_shrink=True)


def _all_ways(s, day: dt.date) -> set[str | None]:
    """The version in force on ``day`` as each caller reads it (None where a caller finds none)."""
    def name(f):
        try:
            return f().name
        except UnknownNameError:
            return None

    got = {name(lambda: list_in_force(s, day)), name(lambda: resolve_version(s, day)),
           getattr(version_on(s, day), "name", None), getattr(totals_in_force(s, day), "name", None)}
    if day == TODAY:
        got.add(name(lambda: resolve_version(s, None)))
    return got


def test_a_version_effective_in_the_future_is_not_in_force_yet(engine, today):
    _import(engine, "2026年度", dt.date(2026, 1, 1), 1)
    _import(engine, "2027年度", TODAY + dt.timedelta(days=30), 2)  # approved, effective next month
    with session_scope(engine) as s:
        assert _all_ways(s, TODAY) == {"2026年度"}
        assert _all_ways(s, TODAY + dt.timedelta(days=30)) == {"2027年度"}


def test_only_a_future_version_means_none_in_force_for_every_caller(engine, today):
    # resolve_version(None) gave the latest by effective date, the dashboard the latest by id, the daily chain none
    _import(engine, "2027年度", dt.date(2027, 1, 1), 2)
    with session_scope(engine) as s:
        assert _all_ways(s, TODAY) == {None}
        with pytest.raises(UnknownNameError, match=r"^no list version in force on 2026-12-02; versions: "
                                                   r"\['2027年度 \(id 1, effective 2027-01-01\)'\]$"):
            list_in_force(s, TODAY)
        with pytest.raises(UnknownNameError, match="no list version in force on 2026-12-02"):
            resolve_version(s, None)


def test_a_version_imported_later_with_an_earlier_effective_date(engine, today):
    _import(engine, "2026年度第1次修订", dt.date(2026, 7, 1), 1)
    _import(engine, "2026年度", dt.date(2026, 1, 1), 2)  # imported after, effective before: the latest id
    with session_scope(engine) as s:
        assert _all_ways(s, TODAY) == {"2026年度第1次修订"}  # the latest effective, not the latest imported
        assert _all_ways(s, dt.date(2026, 3, 1)) == {"2026年度"}
        assert _all_ways(s, dt.date(2025, 12, 31)) == {None}


def test_same_effective_date_the_latest_imported_wins(engine, today):
    _import(engine, "2026年度", dt.date(2026, 1, 1), 1)
    _import(engine, "2026年度(更正)", dt.date(2026, 1, 1), 2)
    with session_scope(engine) as s:
        assert _all_ways(s, TODAY) == {"2026年度(更正)"}
        assert list_in_force(s, dt.datetime(2026, 1, 1, 8, 0)).name == "2026年度(更正)"  # a datetime: its day
