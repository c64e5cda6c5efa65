"""Hash chains of append-only tables: one way to hash a row and one way to walk a chain.

The warning audit (``emergency.lifecycle``), the provincial notices (``emergency.notices``) and the
bulletin edits (``emergency.bulletin``) each chain their rows: a row's ``row_hash`` is the SHA-256 of
the previous row's hash and the row's values (JSON, dates and times ISO 8601, a time as naive UTC
whatever its zone: see :func:`_value`), and its ``prev_hash`` is the previous row's ``row_hash``. A changed, removed, inserted or forged row breaks the chain.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any, Callable, Iterable, Sequence


def _value(v: Any) -> Any:
    """A value as the hash sees it: a date ISO 8601; a datetime as naive UTC ISO 8601, whether it is
    aware (any zone: converted to UTC) or naive (UTC, as the columns gave it before they were aware),
    so that rows hashed before and after the change hash the same.

    >>> _value(dt.datetime(2026, 12, 2, 4, 35, tzinfo=dt.timezone(dt.timedelta(hours=8))))
    '2026-12-01T20:35:00'
    >>> _value(dt.datetime(2026, 12, 1, 20, 35))
    '2026-12-01T20:35:00'
    """
    if isinstance(v, dt.datetime):
        if v.tzinfo is not None and v.utcoffset() is not None:
            v = v.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return v.isoformat()
    return v.isoformat() if isinstance(v, dt.date) else v


def row_hash(row: Any, fields: Sequence[str], prev_hash: str | None) -> str:
    """SHA-256 (hex) of ``row``'s ``fields`` (a mapping or an object's attributes), in that order,
    preceded by ``prev_hash`` ("" for the first row).

    >>> row_hash({"a": 1, "at": dt.date(2026, 12, 2)}, ["a", "at"], None)[:12]
    '62f90f916230'
    """
    get = row.get if isinstance(row, dict) else (lambda k: getattr(row, k))
    payload = json.dumps([prev_hash or "", *(_value(get(k)) for k in fields)], ensure_ascii=False,
                         separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def chain_problems(rows: Iterable[Any], table: str, content_ok: Callable[[Any], bool],
                   noun: tuple[str, str] = ("a row", "the row")) -> list[str]:
    """One line per break of a chain of ``rows`` (in id order; each has ``id``, ``prev_hash`` and
    ``row_hash``): a row without a hash, a ``prev_hash`` that is not the previous row's hash, or a
    content that ``content_ok`` refuses. ``noun`` names a row in the messages (``("a notice", "the
    notice")``)."""
    problems, prev = [], None
    for r in rows:
        if r.row_hash is None:
            problems.append(f"{table} row {r.id}: no hash (written or wiped outside airwarn)")
        elif r.prev_hash != (prev.row_hash if prev is not None else None):
            problems.append(f"{table} row {r.id}: prev_hash is not the hash of "
                            f"{f'row {prev.id}' if prev is not None else 'a previous row (there is none)'} "
                            f"({noun[0]} was removed, inserted or rewritten)")
        elif not content_ok(r):
            problems.append(f"{table} row {r.id}: its content does not match its hash ({noun[1]} was changed)")
        prev = r
    return problems
