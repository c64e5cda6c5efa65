"""Coverage of the list against the discharge-permit register (应纳尽纳).

Every air-emitting (涉气) permit holder must be on the list, and every list
entry's permit number must be one the register holds for its credit code.

The register is a CSV or xlsx file (first sheet) with the columns
统一社会信用代码 (credit code), 单位名称 (name), 许可证编号 (permit number) and
是否涉气 (emits to air: 是/否); headers drift as in the list template (English
aliases, spaces, full-width characters). A holder may have several permits (one
row each).
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from enterprise_list.models import Enterprise, ListVersion, resolve_version
from enterprise_list.template import Column, Sheet
from enterprise_list.records import Problem
from airwarn.core.errors import InputError

#: Columns of the permit register.
PERMITS = Sheet("permits", "排污许可", ("permits", "permit register", "排污许可证", "许可证"), (
    Column("credit_code", "统一社会信用代码", ("credit code", "credit_code", "信用代码", "社会信用代码"), "code", True,
           "18位统一社会信用代码"),
    Column("name", "单位名称", ("name", "企业名称", "排污单位名称", "持证单位"), "text", False, "持证单位名称"),
    Column("permit_no", "许可证编号", ("permit no", "permit_no", "permit number", "排污许可证编号", "证书编号"),
           "text", True, "排污许可证编号"),
    Column("emits_air", "是否涉气", ("emits air", "emits_air", "air", "涉气", "是否涉及废气", "废气"), "bool", True,
           "是/否"),
))


@dataclass(frozen=True)
class CoverageReport:
    """Gaps between the list and the permit register.

    Attributes
    ----------
    version : str
        List version checked.
    missing : DataFrame
        Air-emitting permit holders not on the list: ``credit_code, name, permit_no``.
    mismatched : DataFrame
        List entries whose permit number the register does not hold for them:
        ``credit_code, name, list_permit_no, register_permit_no, reason``.
    n_register_air, n_list : int
        Air-emitting holders in the register; enterprises on the list.
    """

    version: str
    missing: pd.DataFrame
    mismatched: pd.DataFrame
    n_register_air: int
    n_list: int

    @property
    def complete(self) -> bool:
        """Whether the list covers the register with matching permit numbers."""
        return self.missing.empty and self.mismatched.empty

    def format(self) -> str:
        """Plain-text report in Chinese (full-width punctuation), one gap a line; a number the list or
        the register does not hold reads 未填写 / 未登记."""
        out = [f"清单版本 {self.version}：涉气持证单位 {self.n_register_air} 家，清单企业 {self.n_list} 家"]
        out.append(f"未纳入清单的涉气持证单位 {len(self.missing)} 家：")
        for r in self.missing.itertuples(index=False):
            out.append(f"  {r.credit_code}  {_text(r.name) or '（无名称）'}  许可证 {_text(r.permit_no)}")
        out.append(f"许可证编号不符的清单企业 {len(self.mismatched)} 家：")
        for r in self.mismatched.itertuples(index=False):
            out.append(f"  {r.credit_code}  {r.name}  清单 {_text(r.list_permit_no) or '未填写'}  登记 "
                       f"{_text(r.register_permit_no) or '未登记'}（{REASONS_ZH.get(r.reason, r.reason)}）")
        return "\n".join(out)


#: The reasons of :attr:`CoverageReport.mismatched`, as the report prints them.
REASONS_ZH = {"not in the permit register": "排污许可登记中无此单位",
              "no permit number on the list": "清单未填写许可证编号",
              "permit number differs from the register": "许可证编号与登记不符"}


def _text(value) -> str:
    """A cell as text: "" for a missing one (None, or NaN where pandas filled a column's gaps)."""
    return "" if value is None or (isinstance(value, float) and value != value) else str(value)


def read_permit_register(path: str | os.PathLike) -> pd.DataFrame:
    """Read a permit register (CSV or xlsx) into ``credit_code, name, permit_no, emits_air``.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If a required column is missing or a cell cannot be read; the message names the file,
        row, column, what was expected and what came (every bad cell, at once).
    """
    from enterprise_list.workbook import _csv_rows, _read_rows, _xlsx_sheets

    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such file")
    if p.suffix.lower() == ".csv":
        rows = _csv_rows(p)
    elif p.suffix.lower() in (".xlsx", ".xlsm"):
        sheets = _xlsx_sheets(p)
        rows = next(iter(sheets.values())) if sheets else []
    else:
        raise InputError(f"{p}: expected a .csv or .xlsx permit register, got {p.suffix or 'no extension'!r}")
    problems: list[Problem] = []
    records = _read_rows(PERMITS, rows, str(p), p.name, problems, {})
    for r in records:
        for col in PERMITS.columns:
            if col.required and r.get(col.key) is None and col.key not in r["_bad"]:
                problems.append(Problem("error", p.name, r["_row"], col.header, "missing value (required)"))
    errs = [x for x in problems if x.severity == "error"]
    if errs:
        raise InputError(f"{p}: {len(errs)} error(s) in the permit register:\n" + "\n".join(map(str, errs)))
    return pd.DataFrame([{k: r[k] for k in ("credit_code", "name", "permit_no", "emits_air")} for r in records],
                        columns=["credit_code", "name", "permit_no", "emits_air"])


def check_coverage(session: Session, register: pd.DataFrame | str | os.PathLike,
                   version: "ListVersion | int | str | dt.date | None" = None) -> CoverageReport:
    """Compare a list version with the permit register.

    Parameters
    ----------
    register : DataFrame or path-like
        From :func:`read_permit_register`, or a file to read.
    version : ListVersion, id, name, date or None
        See :func:`enterprise_list.models.resolve_version`.
    """
    reg = register if isinstance(register, pd.DataFrame) else read_permit_register(register)
    v = resolve_version(session, version)
    ents = session.execute(select(Enterprise.credit_code, Enterprise.name, Enterprise.permit_no)
                           .where(Enterprise.version_id == v.id).order_by(Enterprise.id)).all()
    on_list = {code for code, _, _ in ents}
    permits: dict[str, set[str]] = {}
    for r in reg.itertuples(index=False):
        permits.setdefault(r.credit_code, set()).add(r.permit_no)
    air = reg[reg["emits_air"].astype(bool)]
    missing = air[~air["credit_code"].isin(on_list)].drop_duplicates("credit_code")[
        ["credit_code", "name", "permit_no"]].reset_index(drop=True)
    bad: list[dict[str, Any]] = []
    for code, name, permit in ents:
        held = permits.get(code)
        if held is None:
            reason = "not in the permit register"
        elif permit is None:
            reason = "no permit number on the list"
        elif permit not in held:
            reason = "permit number differs from the register"
        else:
            continue
        bad.append({"credit_code": code, "name": name, "list_permit_no": permit,
                    "register_permit_no": ", ".join(sorted(held)) if held else None, "reason": reason})
    mismatched = pd.DataFrame(bad, columns=["credit_code", "name", "list_permit_no", "register_permit_no",
                                            "reason"])
    return CoverageReport(v.name, missing, mismatched, int(air["credit_code"].nunique()), len(ents))
