"""Where the daily products live: ``<output_dir>/<YYYY-MM-DD>/<file>``, one folder per product day.

The forecast writes ``forecast.nc`` and ``forecast.csv`` there; the daily warning chain adds the
recommendation, the reductions, the bulletin, the enterprise notification list and the 20:00
public forecast. Every package finds a product through :func:`product_path`, so the layout is
spelled once.

>>> from pathlib import Path
>>> product_path(Path("var/out"), "2026-12-02", FORECAST_NC).as_posix()
'var/out/2026-12-02/forecast.nc'
"""
from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from airwarn.core.errors import InputError

#: The forecast product (netCDF, the full probabilistic forecast) and its flat CSV beside it.
FORECAST_NC = "forecast.nc"
FORECAST_CSV = "forecast.csv"
#: The daily warning chain's files.
RECOMMENDATION_JSON = "recommendation.json"
REDUCTIONS_JSON = "reductions.json"
BULLETIN_HTML = "bulletin.html"
BULLETIN_TXT = "bulletin.txt"
NOTIFICATIONS_XLSX = "notifications.xlsx"
NOTIFICATIONS_CSV = "notifications.csv"
#: The compliance check of the warning in force (``airwarn compliance check``, the daily chain when the
#: ``power`` / ``cems`` settings are given): per line and day, the achieved reductions, the Chinese report.
COMPLIANCE_CSV = "compliance.csv"
COMPLIANCE_REDUCTIONS_CSV = "compliance_reductions.csv"
COMPLIANCE_REPORT_HTML = "compliance_report.html"
#: Folder (under the output dir, beside the day folders) of the post-episode evaluations (``airwarn evaluate``).
EVALUATIONS_DIR = "evaluations"
#: The county ranking (``airwarn rank``, the demo): the table, the target tracking, the Chinese monthly report.
RANKING_CSV = "ranking.csv"
RANKING_TRACKING_JSON = "ranking_tracking.json"
RANKING_REPORT_HTML = "ranking_report.html"

#: The files of a product day that the dashboard offers for download (nothing else is served). Its only
#: download is the 指挥 page's, for signed-in roles: the compliance files are never public.
DOWNLOADABLE: tuple[str, ...] = (BULLETIN_HTML, BULLETIN_TXT, NOTIFICATIONS_XLSX, NOTIFICATIONS_CSV,
                                 RECOMMENDATION_JSON, REDUCTIONS_JSON, FORECAST_CSV, FORECAST_NC,
                                 COMPLIANCE_CSV, COMPLIANCE_REDUCTIONS_CSV, COMPLIANCE_REPORT_HTML)

_DAY_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def day_dir(output_dir: str | os.PathLike, day: dt.date | str) -> Path:
    """The folder of one product day (``day`` a date or ISO text; checked, so no path can be smuggled in)."""
    if isinstance(day, str):
        day = dt.date.fromisoformat(day.strip())
    elif isinstance(day, dt.datetime):
        day = day.date()
    return Path(output_dir) / day.isoformat()


def product_path(output_dir: str | os.PathLike, day: dt.date | str, name: str) -> Path:
    """The path of product ``name`` (a plain file name) of one product day."""
    if Path(name).name != name or name in ("", ".", ".."):
        raise InputError(f"a product is a file name inside the day's folder, got {name!r}")
    return day_dir(output_dir, day) / name


def product_days(output_dir: str | os.PathLike, name: str = FORECAST_NC) -> list[dt.date]:
    """The product days (sorted) whose folder holds ``name``."""
    root = Path(output_dir)
    if not root.is_dir():
        return []
    days = []
    for p in root.iterdir():
        if p.is_dir() and _DAY_DIR.match(p.name) and (p / name).exists():
            try:
                days.append(dt.date.fromisoformat(p.name))
            except ValueError:  # a folder such as 2026-13-45: not a product day
                continue
    return sorted(days)


def evaluations_dir(output_dir: str | os.PathLike) -> Path:
    """``<output_dir>/evaluations``: the post-episode evaluations of the warnings (not a product day)."""
    return Path(output_dir) / EVALUATIONS_DIR
