"""The compliance check of the warning in force (督查, issue 17) as the 指挥 page shows it.

The check (``airwarn compliance check`` or the daily chain when the ``power`` / ``cems`` settings are
given) leaves three files in the product day's folder (:mod:`airwarn.core.products`):
``compliance.csv`` (one row per line and judged day, :data:`emergency.compliance.CSV_COLUMNS`),
``compliance_reductions.csv`` (:func:`emergency.compliance.achieved_reductions`) and the Chinese
daily report ``compliance_report.html``. :func:`compliance_view` reads the newest product day's
files (each cached on its stamp, :func:`dashboard.services.context.cached_by_stamp`) and returns what
the panel needs for the last judged day: counts by status, the violators, the unverifiable lines (for
site inspection), planned against compliance-adjusted cuts per pollutant and the target, and whether
the report exists. Without a ``compliance.csv`` the view says no check was made yet (not an error);
a file that cannot be read raises :class:`~airwarn.core.errors.InputError` with a Chinese message
naming the file, row and column.

The files are for signed-in users only: the pages that read this service check the role; the public
enterprise pages never call it.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd

from airwarn.core.errors import InputError
from airwarn.core.files import csv_unescape
from airwarn.core.products import (COMPLIANCE_CSV, COMPLIANCE_REDUCTIONS_CSV, COMPLIANCE_REPORT_HTML,
                                   product_path)
from airwarn.core.settings import Settings
from airwarn.core.vocab import EMISSION_POLLUTANTS
from dashboard.services.context import cached_by_stamp, settings
from dashboard.services.product_csv import file_error, parse_numbers, read_text_csv
from dashboard.services.products import product_file, resolve_date
from emergency.compliance import CSV_COLUMNS, STATUSES, TEXT_COLUMNS

#: Columns of :func:`compliance_view`'s ``violators`` frame.
VIOLATOR_COLUMNS = ("enterprise", "credit_code", "county", "line_id", "measure", "required_cut", "achieved_cut",
                    "rule", "reason", "switch_off")
#: Columns of its ``unverifiable`` frame.
UNVERIFIABLE_COLUMNS = ("enterprise", "credit_code", "county", "line_id", "rule", "reason")
#: Columns of its ``reductions`` frame (one row per pollutant of the judged day).
REDUCTION_COLUMNS = ("pollutant", "planned", "adjusted", "unverifiable_planned", "violation_planned", "target",
                     "total", "planned_ratio", "adjusted_ratio", "met")
#: How the messages name these files.
_WHAT = "督查文件"
_NUMBERS = ("required_cut", "baseline_kw", "observed_kw", "achieved_cut")
_RED_NUMBERS = ("planned", "adjusted", "unverifiable_planned", "violation_planned", "target", "total",
                "planned_ratio", "adjusted_ratio")


def _bad(path: Path, row: int | None, column: str | None, expected: str, got) -> InputError:
    return file_error(_WHAT, path, row, column, expected, got)


def _dates(df: pd.DataFrame, path: Path) -> None:
    val = pd.to_datetime(df["date"].str.strip(), format="%Y-%m-%d", errors="coerce")
    if val.isna().any():
        i = int(np.flatnonzero(val.isna().to_numpy())[0])
        raise _bad(path, i + 2, "date", "日期 YYYY-MM-DD", df["date"].iloc[i])
    df["date"] = val.dt.date


@cached_by_stamp(maxsize=8)
def read_compliance(path: Path) -> pd.DataFrame:
    """The rows of a ``compliance.csv``, with the evidence unpacked.

    Returns
    -------
    DataFrame
        :data:`emergency.compliance.CSV_COLUMNS` (numbers as floats, ``date`` a date, texts as written
        before the CSV escaping) plus ``rule``, ``reason``, ``switch_off`` (naive Beijing
        :class:`pandas.Timestamp` or NaT).

    Raises
    ------
    InputError
        A missing column, a bad number, date, status or evidence (the message names file, row, column).
    """
    df = read_text_csv(_WHAT, path, CSV_COLUMNS)
    _dates(df, path)
    parse_numbers(_WHAT, df, path, _NUMBERS)
    bad = ~df["status"].isin(STATUSES)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise _bad(path, i + 2, "status", "、".join(STATUSES) + " 之一", df["status"].iloc[i])
    for c in TEXT_COLUMNS:
        df[c] = df[c].map(csv_unescape)
    rule, reason, switch = [], [], []
    for i, text in enumerate(df["evidence"]):
        try:
            ev = json.loads(text) if text.strip() else {}
        except json.JSONDecodeError:
            raise _bad(path, i + 2, "evidence", "JSON 对象", text[:60]) from None
        if not isinstance(ev, dict):
            raise _bad(path, i + 2, "evidence", "JSON 对象", text[:60])
        rule.append(ev.get("rule") or "")
        reason.append(ev.get("reason") or "")
        switch.append(ev.get("switch_off"))
    df["rule"], df["reason"] = rule, reason
    df["switch_off"] = pd.to_datetime(pd.Series(switch, index=df.index, dtype=object), errors="coerce")
    return df


@cached_by_stamp(maxsize=8)
def read_compliance_reductions(path: Path) -> pd.DataFrame:
    """The rows of a ``compliance_reductions.csv`` (``date``, :data:`REDUCTION_COLUMNS`).

    Raises
    ------
    InputError
        A missing column, a bad number or date (the message names file, row, column).
    """
    df = read_text_csv(_WHAT, path, ("date", *REDUCTION_COLUMNS))
    _dates(df, path)
    parse_numbers(_WHAT, df, path, _RED_NUMBERS)
    met = df["met"].str.strip().str.lower()
    bad = ~met.isin(["true", "false", ""])
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise _bad(path, i + 2, "met", "True、False 或空值", df["met"].iloc[i])
    df["met"] = met.map({"true": True, "false": False, "": None})
    return df


def compliance_day(day: "dt.date | str | None" = None, s: Settings | None = None) -> dt.date | None:
    """The product day whose compliance files the panel shows: the product day meant by ``day``
    (:func:`dashboard.services.products.resolve_date`, default the newest); None without products."""
    return resolve_date(day, s or settings())


def compliance_view(day: "dt.date | str | None" = None, s: Settings | None = None) -> dict:
    """What the 督查 panel shows of the product day's compliance check (module notes).

    Returns
    -------
    dict
        ``checked`` (False: no ``compliance.csv`` yet; then only ``day`` and ``message`` matter),
        ``day`` (the product day), ``judged_day`` (the last judged day, whose rows are shown),
        ``judged_days`` (all), ``counts`` (status → lines), ``violators`` (:data:`VIOLATOR_COLUMNS`),
        ``unverifiable`` (:data:`UNVERIFIABLE_COLUMNS`), ``reductions`` (:data:`REDUCTION_COLUMNS`, empty
        without the file), ``report`` (the report file exists), ``message``.

    Raises
    ------
    InputError
        A compliance file that cannot be read (Chinese message naming the file).
    """
    s = s or settings()
    pday = compliance_day(day, s)
    empty = {"checked": False, "day": pday, "judged_day": None, "judged_days": [],
             "counts": {k: 0 for k in STATUSES}, "violators": pd.DataFrame(columns=list(VIOLATOR_COLUMNS)),
             "unverifiable": pd.DataFrame(columns=list(UNVERIFIABLE_COLUMNS)),
             "reductions": pd.DataFrame(columns=list(REDUCTION_COLUMNS)), "report": False}
    if pday is None:
        return {**empty, "message": "尚无预报产品，尚未开展督查。"}
    path = product_path(s.output_dir, pday, COMPLIANCE_CSV)
    report = product_path(s.output_dir, pday, COMPLIANCE_REPORT_HTML).exists()
    if not path.exists():
        return {**empty, "report": report,
                "message": f"{pday} 尚未开展督查（未收到用电量或在线监测数据的核查结果）。"}
    rows = read_compliance(path)
    days = sorted(set(rows["date"]))
    jday = days[-1] if days else None
    df = rows[rows["date"] == jday].copy() if jday is not None else rows.iloc[0:0].copy()
    counts = {k: int((df["status"] == k).sum()) for k in STATUSES}
    viol = df[df["status"] == "violation"].sort_values(["county", "credit_code", "line_id"], kind="stable")
    unver = df[df["status"] == "unverifiable"].sort_values(["county", "credit_code", "line_id"], kind="stable")
    red = pd.DataFrame(columns=list(REDUCTION_COLUMNS))
    rpath = product_path(s.output_dir, pday, COMPLIANCE_REDUCTIONS_CSV)
    if rpath.exists() and jday is not None:
        r = read_compliance_reductions(rpath)
        r = r[r["date"] == jday]
        rank = {p: i for i, p in enumerate(EMISSION_POLLUTANTS)}
        red = r.assign(_o=r["pollutant"].map(rank)).sort_values("_o", kind="stable")[list(REDUCTION_COLUMNS)]
    return {"checked": True, "day": pday, "judged_day": jday, "judged_days": days, "counts": counts,
            "violators": viol[list(VIOLATOR_COLUMNS)].reset_index(drop=True),
            "unverifiable": unver[list(UNVERIFIABLE_COLUMNS)].reset_index(drop=True),
            "reductions": red.reset_index(drop=True), "report": report, "message": ""}


def report_file(day: "dt.date | str | None" = None, s: Settings | None = None) -> Path:
    """The product day's ``compliance_report.html``, through the product download
    (:func:`dashboard.services.products.product_file`; signed-in users only, the callers check).

    Raises
    ------
    FileNotFoundError
        If the day has no report.
    """
    return product_file(COMPLIANCE_REPORT_HTML, day, s)
