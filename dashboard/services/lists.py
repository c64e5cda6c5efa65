"""The emergency-reduction list as the pages read it: the versions, the version in force, the
enterprise lookup, the 一厂一策 sheet and the empty template (:mod:`enterprise_list`).

The version in force is :func:`enterprise_list.models.list_in_force` on today (Beijing time), the
definition the daily chain uses; every list read of the dashboard goes through :func:`in_force_day`.
"""
from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import pandas as pd

from airwarn.core.dates import today_beijing
from airwarn.core.errors import UnknownNameError
from airwarn.core.settings import Settings
from airwarn.core.vocab import EMISSION_POLLUTANTS
from dashboard.services.context import session
from enterprise_list.io import count_rows
from enterprise_list.lookup import find_enterprises as _find, policy_sheet
from enterprise_list.models import list_in_force, list_versions as _versions
from enterprise_list.validate import MAX_SHRINK
from enterprise_list.workbook import write_template

__all__ = ["MAX_SHRINK", "in_force_day", "version_in_force", "find_enterprises", "enterprise_sheet",
           "list_versions", "template_bytes"]


def in_force_day(day: dt.date | None = None) -> dt.date:
    """The day whose list version the dashboard uses: ``day``, default today (Beijing time)."""
    return day or today_beijing()


def version_in_force(s: Settings | None = None, day: dt.date | None = None) -> tuple[int, str] | None:
    """``(id, name)`` of the list version in force on ``day`` (default today), or None when none is
    (:func:`enterprise_list.models.list_in_force`)."""
    with session(s) as sess:
        try:
            v = list_in_force(sess, in_force_day(day))
        except UnknownNameError:
            return None
        return v.id, v.name


def find_enterprises(query: str, limit: int = 30, s: Settings | None = None) -> list[dict]:
    """Enterprises of the list in force matching a credit code or (part of) a name, best first
    (empty when no version is in force)."""
    with session(s) as sess:
        try:
            return [h.as_dict() for h in _find(sess, query, limit=limit, version=in_force_day())]
        except UnknownNameError:  # no list version in force
            return []


def enterprise_sheet(credit_code: str, level: str, s: Settings | None = None) -> dict:
    """The 一厂一策 sheet of an enterprise of the list in force at ``level``, flattened for the page and
    the print view.

    Returns
    -------
    dict
        ``enterprise`` (dict), ``version`` (name), ``synthetic`` (bool), ``rows`` (one per line:
        ``line, kind, text, timing, cut_so2 … cut_vocs``), ``total`` (``so2 … vocs`` [t/day]), ``level``.

    Raises
    ------
    UnknownNameError
        Unknown enterprise, or no version in force (the message says so).
    """
    with session(s) as sess:
        sheet = policy_sheet(sess, credit_code, level, version=in_force_day())
    rows = []
    for ln in sheet["lines"]:
        m = ln["measure"]
        label = f"{ln['name']}" + (f"（{ln['process']}）" if ln.get("process") else "")
        if m is None:
            rows.append({"line": label, "kind": "—", "text": "本级别无措施", "timing": "",
                         **{f"cut_{p}": 0.0 for p in EMISSION_POLLUTANTS}})
            continue
        frac = "" if m["fraction"] is None else f" {m['fraction']:.0%}"
        rows.append({"line": label, "kind": f"{m['kind_label']}{frac}", "text": m["text"] or "",
                     "timing": m["timing"] or "", **{f"cut_{p}": float(m["cut"][p]) for p in EMISSION_POLLUTANTS}})
    return {"enterprise": sheet["enterprise"], "version": sheet["version"]["name"],
            "synthetic": bool(sheet["version"]["synthetic"]), "rows": rows, "total": sheet["total_cut"],
            "level": sheet["level"]}


#: Columns of the versions table, in order.
VERSION_COLUMNS = ("版本", "生效日期", "企业", "生产线", "措施", "合成示例", "来源文件")


def list_versions(s: Settings | None = None) -> pd.DataFrame:
    """The list versions in the database, with Chinese column names (:data:`VERSION_COLUMNS`)."""
    with session(s) as sess:
        rows = []
        for v in _versions(sess):
            n_e, n_l, n_m = count_rows(sess, v)
            rows.append(dict(zip(VERSION_COLUMNS, (v.name, v.effective_date.isoformat(), n_e, n_l, n_m,
                                                   "是" if v.synthetic else "", v.source_file or ""))))
    return pd.DataFrame(rows, columns=list(VERSION_COLUMNS))


def template_bytes() -> bytes:
    """The empty list template (.xlsx: the three sheets with their headers and the 说明 sheet)."""
    with tempfile.TemporaryDirectory() as tmp:
        return write_template(Path(tmp) / "template.xlsx").read_bytes()
