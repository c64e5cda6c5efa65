"""The per-enterprise notification list (应急减排告知清单) for a warning level, as xlsx and CSV.

One row per affected enterprise: name, credit code, county, industry, grade, contact, the lines and
measures at the level, and the expected cut per pollutant [t/day] (after the policy of
:mod:`emergency.reductions`). The measure texts come from one SQL query over the affected
enterprises' lines.
"""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from airwarn.core.dates import format_beijing
from airwarn.core.files import atomic_path, csv_escape
from airwarn.core.vocab import EMISSION_LABELS, EMISSION_POLLUTANTS
from emergency.reductions import Reductions
from enterprise_list.models import (
    GUARANTEE_GRADE,
    MEASURE_KIND_LABELS,
    VOLUNTARY_GRADES,
    Measure,
    ProductionLine,
)

#: Column names of the notification list, in order.
COLUMNS: tuple[str, ...] = (
    "企业名称", "统一社会信用代码", "区县", "行业", "绩效分级", "联系人", "联系电话", "预警级别", "涉及生产线",
    "应急减排措施", *(f"预计减排{EMISSION_LABELS[p]}（吨/天）" for p in EMISSION_POLLUTANTS),
)


def notification_frame(session: Session, reductions: Reductions) -> pd.DataFrame:
    """The notification list as a DataFrame with :data:`COLUMNS`."""
    ents = reductions.enterprises
    if ents.empty:
        return pd.DataFrame(columns=list(COLUMNS))
    l, m = ProductionLine.__table__.c, Measure.__table__.c
    ids = [int(x) for x in ents["enterprise_id"]]
    texts: dict[int, list[str]] = {}
    lines: dict[int, list[str]] = {}
    for chunk in range(0, len(ids), 5000):
        part = ids[chunk:chunk + 5000]
        rows = session.execute(
            select(l.enterprise_id, l.line_code, l.name, m.kind, m.text, m.timing)
            .select_from(ProductionLine.__table__.join(
                Measure.__table__, (m.line_id == l.id) & (m.level == reductions.level.key)))
            .where(l.enterprise_id.in_(part)).order_by(l.enterprise_id, l.line_code)).all()
        for eid, code, name, kind, text, timing in rows:
            lines.setdefault(eid, []).append(f"{code} {name}")
            label = MEASURE_KIND_LABELS.get(kind, kind)
            texts.setdefault(eid, []).append(f"{code}：{label}" + (f"，{text}" if text else "")
                                            + (f"（{timing}）" if timing else ""))
    out = pd.DataFrame({
        "企业名称": ents["name"], "统一社会信用代码": ents["credit_code"], "区县": ents["county"],
        "行业": ents["industry"], "绩效分级": ents["grade"], "联系人": ents["contact_person"],
        "联系电话": ents["contact_phone"], "预警级别": reductions.level.label,
    })
    out["涉及生产线"] = ["；".join(lines.get(int(i), [])) or "全部生产线" for i in ents["enterprise_id"]]
    meas = []
    for i, ok, grade in zip(ents["enterprise_id"], ents["compliant"], ents["grade"]):
        t = "；".join(texts.get(int(i), []))
        if not ok:
            t = "未稳定达标排放，全部生产线停产（执行最严格措施）" + (f"；清单措施：{t}" if t else "")
        elif grade in VOLUNTARY_GRADES:
            t = "自主减排" + (f"：{t}" if t else "")
        elif grade == GUARANTEE_GRADE:
            t = "按保障负荷生产" + (f"：{t}" if t else "")
        meas.append(t)
    out["应急减排措施"] = meas
    for p in EMISSION_POLLUTANTS:
        out[f"预计减排{EMISSION_LABELS[p]}（吨/天）"] = ents[f"cut_{p}"].astype(float).round(4)
    return out[list(COLUMNS)].sort_values(["区县", "企业名称"]).reset_index(drop=True)


def write_notifications(frame: pd.DataFrame, xlsx_path: "str | os.PathLike",
                        csv_path: "str | os.PathLike | None" = None, title: str | None = None) -> list[Path]:
    """Write the notification list to xlsx (one sheet, frozen header) and CSV (UTF-8 with BOM), atomically.

    No cell is ever a live formula (issue 14, break 10): text such as ``=HYPERLINK(…)`` from an
    enterprise name is a text cell in the xlsx, and in the CSV text starting with ``=``, ``+``,
    ``-``, ``@``, tab or CR gets a leading ``'`` (:func:`airwarn.core.files.csv_escape`).
    """
    xlsx_path = Path(xlsx_path)
    written = []

    def to_xlsx(tmp):
        with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
            frame.to_excel(xw, index=False, sheet_name="告知清单")
            ws = xw.sheets["告知清单"]
            for row in ws.iter_rows():
                for cell in row:
                    if cell.data_type == "f":  # openpyxl takes any text starting with '=' for a formula
                        cell.data_type = "s"
            ws.freeze_panes = "A2"
            for col, width in zip("ABCDEFGHIJKLMN", (28, 22, 8, 12, 8, 8, 14, 10, 30, 60, 12, 12, 12, 12)):
                ws.column_dimensions[col].width = width
            if title:
                ws.oddHeader.center.text = title
    with atomic_path(xlsx_path) as tmp:
        to_xlsx(tmp)
    written.append(xlsx_path)
    if csv_path is not None:
        csv_path = Path(csv_path)
        with atomic_path(csv_path) as tmp:
            frame.map(csv_escape).to_csv(tmp, index=False, encoding="utf-8-sig")
        written.append(csv_path)
    return written


#: The status column a lift adds in front of the notification list.
STATUS_COLUMN = "状态"


def lifted_frame(frame: pd.DataFrame, warning) -> pd.DataFrame:
    """The notification list after a lift: the enterprises that were told the measures of the lifted
    warning, each marked 解除 (a ``状态`` column in front), with the instruction to stop the measures.

    Parameters
    ----------
    frame : DataFrame
        The list at the lifted level (:func:`notification_frame`), possibly empty.
    warning : emergency.lifecycle.WarningState
        The lifted warning.
    """
    when = format_beijing(warning.lifted_at) if warning.lifted_at else "解除之时"
    out = frame.copy()
    out.insert(0, STATUS_COLUMN, "解除")
    out["预警级别"] = f"{warning.level.label}（已解除）"
    out["应急减排措施"] = f"预警已于{when}解除，自即时起停止执行{warning.level.label}应急减排措施，恢复正常生产"
    for col in [c for c in out.columns if c.startswith("预计减排")]:
        out[col] = 0.0
    if out.empty:  # no enterprise on the list: one row that still says so
        out = pd.DataFrame([{STATUS_COLUMN: "解除", "企业名称": "（无涉及企业）", "预警级别": f"{warning.level.label}（已解除）",
                             "应急减排措施": f"预警已于{when}解除"}], columns=list(out.columns))
    return out
