"""The calendar and clock the products use: Beijing time (UTC+8), whatever the server's time zone.

Daily products, the list version in force and the dashboard's "today" all follow the
Chinese natural day (HJ 633-2026 §4: the daily report covers the natural day, Beijing time).

Instants (when a warning was issued, an audit row written, a notice received …) are timezone-aware
UTC datetimes everywhere in Python: the database columns are :class:`airwarn.core.db.UTCDateTime`
(``timestamptz`` on PostgreSQL; on SQLite the same UTC text as before, given back aware), every
writer takes the time from :func:`utc_now`, and a naive datetime bound to such a column is refused.
The functions here still accept a naive datetime and take it as UTC (rows and values from before
the columns were aware: the only meaning a naive instant ever had in airwarn); :func:`as_utc` is
that rule for a caller's ``now``. Every time shown to a person goes through :func:`format_beijing`
(or :func:`beijing`), which converts to Beijing time and labels it, so that a warning issued at
04:35 Beijing time on product day 2026-12-02 reads "2026-12-02 04:35（北京时间）" and never
"2026-12-01 20:35".
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

#: Beijing time (China Standard Time, UTC+8, no daylight saving since 1991); a fixed UTC+8 where the
#: system has no time-zone database (the same offset for every date the products deal with).
try:
    BEIJING: dt.tzinfo = ZoneInfo("Asia/Shanghai")
except ZoneInfoNotFoundError:  # pragma: no cover  (Windows without the tzdata package)
    BEIJING = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")

#: The label of a shown time, for pages and official documents.
LABEL = "（北京时间）"


def to_beijing(ts) -> dt.datetime | None:
    """The instant ``ts`` as an aware datetime in Beijing time.

    Parameters
    ----------
    ts : datetime.datetime, pandas.Timestamp, str or None
        An aware datetime (what the database returns) is converted; a naive one is UTC; a string
        is parsed as ISO 8601 (naive again meaning UTC). ``None``, NaT and ``""`` give None.

    Raises
    ------
    TypeError
        For a date without a time (a day has no instant to convert) or another type.
    ValueError
        For a string that is not an ISO 8601 time.
    """
    if ts is None or (isinstance(ts, str) and not ts.strip()):
        return None
    if isinstance(ts, str):
        ts = dt.datetime.fromisoformat(ts.strip())
    if hasattr(ts, "to_pydatetime"):  # pandas.Timestamp (NaT compares unequal to itself)
        if ts != ts:
            return None
        ts = ts.to_pydatetime()
    if not isinstance(ts, dt.datetime):
        raise TypeError(f"to_beijing: expected a datetime, got {type(ts).__name__} {ts!r}")
    if ts.tzinfo is None or ts.tzinfo.utcoffset(ts) is None:
        ts = ts.replace(tzinfo=dt.timezone.utc)
    return ts.astimezone(BEIJING)


def format_beijing(ts, seconds: bool = False, label: str | bool = True) -> str:
    """``ts`` shown in Beijing time: ``2026-12-02 04:35（北京时间）``.

    Parameters
    ----------
    ts : see :func:`to_beijing`
    seconds : bool
        Show seconds (``04:35:12``).
    label : bool or str
        True appends :data:`LABEL`, False nothing (a table whose header carries the label), a string
        appends that string (the CLI: ``" 北京时间"``).

    Returns
    -------
    str
        ``""`` for a missing time.
    """
    t = to_beijing(ts)
    if t is None:
        return ""
    text = t.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    suffix = LABEL if label is True else (label or "")
    return text + suffix


def beijing(ts) -> str:
    """``format_beijing(ts)``: ``"2026-12-02 04:35（北京时间）"`` (official texts, pages, notices)."""
    return format_beijing(ts)


def beijing_today() -> dt.date:
    """Today's date in Beijing time."""
    return dt.datetime.now(BEIJING).date()


def today_beijing() -> dt.date:
    """Today's date in Beijing time (same as :func:`beijing_today`)."""
    return beijing_today()


def utc_now() -> dt.datetime:
    """Now as an aware UTC datetime, the form the instant columns take (:class:`~airwarn.core.db.UTCDateTime`)."""
    return dt.datetime.now(dt.timezone.utc)


def as_utc(ts) -> dt.datetime | None:
    """The instant ``ts`` as an aware UTC datetime (a naive one is UTC; ``None`` and NaT give None).

    Parameters
    ----------
    ts : see :func:`to_beijing`

    >>> as_utc(dt.datetime(2026, 12, 1, 20, 35)).isoformat()
    '2026-12-01T20:35:00+00:00'
    >>> as_utc(dt.datetime(2026, 12, 2, 4, 35, tzinfo=BEIJING)).isoformat()
    '2026-12-01T20:35:00+00:00'
    """
    t = to_beijing(ts)
    return None if t is None else t.astimezone(dt.timezone.utc)
