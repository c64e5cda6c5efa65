"""The calendar the products use: Beijing time (UTC+8), whatever the server's time zone.

Daily products, the list version in force and the dashboard's "today" all follow the
Chinese natural day (HJ 633-2026 §4: the daily report covers the natural day, Beijing time).
"""
from __future__ import annotations

import datetime as dt

BEIJING = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")


def today_beijing() -> dt.date:
    """Today's date in Beijing time (UTC+8)."""
    return dt.datetime.now(BEIJING).date()
