"""Helpers of the list tests: a small valid list, a writer of office-style workbooks, a database dump."""
from __future__ import annotations

import random
from pathlib import Path

import openpyxl

from enterprise_list.credit_code import make_code
from enterprise_list.template import SHEETS

CODES = [make_code(random.Random(k), div) for k, div in ((1, "140303"), (2, "140321"), (3, "140300"))]
HEADERS = {s.name: s.headers for s in SHEETS}


def good_rows() -> dict[str, list[list]]:
    """Three enterprises (coking B, cement C, coating A) in the template's column order."""
    c1, c2, c3 = CODES
    ents = [
        [c1, "阳泉测试焦化有限公司(合成)", "矿区", "焦化", "B", "是", f"{c1}001P", 113.56, 37.87, "王某", "0353-1234567", "合成示例数据"],
        [c2, "阳泉测试水泥有限公司(合成)", "平定县", "水泥", "C", "是", f"{c2}001P", 113.63, 37.80, "李某", "0353-2345678", None],
        [c3, "阳泉测试涂装有限公司(合成)", "高新区", "工业涂装", "A", "是", f"{c3}001P", 113.50, 37.83, None, None, None],
    ]
    lines = [
        [c1, "L01", "1#焦炉", "顶装焦炉", 100, "万吨/年", "环评", 0.5, 2.0, 0.4, 0.3],
        [c1, "L02", "化产回收", "煤气净化", 100, "万吨/年", None, 0.02, 0, 0, 0.4],
        [c2, "L01", "熟料生产线", "回转窑", 150, "万吨/年", None, 0.3, 2.0, 0.3, None],
        [c3, "L01", "涂装线", "喷涂", 10, "万件/年", None, None, None, None, 0.1],
    ]
    meas = []
    for lc in ("L01", "L02"):
        meas += [[c1, lc, "黄色", "限产", 0.1, "限产10%", "24小时内", None, None, None, None],
                 [c1, lc, "橙色", "工艺措施", 0.33, "延长结焦时间至36小时", "12小时内", None, None, None, None],
                 [c1, lc, "红色", "工艺措施", 0.33, "延长结焦时间至36小时", "6小时内", None, None, None, None]]
    meas += [[c2, "L01", "黄色", "停产", 0.5, "停产50%（以生产线计）", None, None, None, None, None],
             [c2, "L01", "橙色", "停产", None, "停产", None, None, None, None, None],
             [c2, "L01", "红色", "停产", None, "停产", None, None, None, None, None]]
    meas += [[c3, "L01", lvl, "自主减排", None, "自主减排", None, None, None, None, None]
             for lvl in ("黄色", "橙色", "红色")]
    return {"企业": ents, "生产线": lines, "减排措施": meas}


def write_book(path: Path, rows: dict[str, list[list]] | None = None, *, headers: dict[str, list] | None = None,
               above: dict[str, list[list]] | None = None, merges: dict[str, list[str]] | None = None) -> Path:
    """Write an xlsx: per sheet, optional rows above the header, the header, then the data rows."""
    rows = good_rows() if rows is None else rows
    headers = {**HEADERS, **(headers or {})}
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, data in rows.items():
        ws = wb.create_sheet(name)
        for r in (above or {}).get(name, []):
            ws.append(r)
        ws.append(headers[name])
        for r in data:
            ws.append(r)
        for rng in (merges or {}).get(name, []):
            ws.merge_cells(rng)
    wb.save(path)
    return path


def dump_db(engine) -> str:
    """A full text dump of a database, SQLite or PostgreSQL: every table's columns and rows in key order."""
    from sqlalchemy import MetaData, select

    meta = MetaData()
    meta.reflect(bind=engine)
    out = []
    with engine.connect() as con:
        for table in meta.sorted_tables:
            out.append(f"{table.name}: {[c.name for c in table.columns]}")
            order = list(table.primary_key.columns) or list(table.columns)
            out += [repr(tuple(row)) for row in con.execute(select(table).order_by(*order))]
    return "\n".join(out)
