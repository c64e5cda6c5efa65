"""The notification list never carries a live formula (issue 14, break 10).

An enterprise named ``=HYPERLINK(…)`` was imported and then written as a formula into
notifications.xlsx and raw into notifications.csv. Here the list is imported into a real SQLite
database, the red level's reductions and notification list are computed and written, and the files are
read back as a spreadsheet would see them.
"""
from __future__ import annotations

import csv
import datetime as dt
import xml.etree.ElementTree as ET
import zipfile
from xml.sax.saxutils import escape

import openpyxl

import emergency.models  # noqa: F401
from airwarn.core.db import get_engine, session_scope
from emergency.notify import notification_frame, write_notifications
from emergency.reductions import compute_reductions
from enterprise_list.io import import_list
from tests.enterprise_list.books import good_rows, write_book

EVIL = '=HYPERLINK("http://evil.example/x","点击查看")'


def _book(tmp_path):
    rows = good_rows()
    rows["企业"][0][1] = "EVIL_NAME"
    rows["企业"][0][9] = "-3"
    rows["企业"][0][10] = "+86 353 1234567"
    rows["企业"][1][9] = "@张三"
    book = write_book(tmp_path / "plain.xlsx", rows)
    out = tmp_path / "evil.xlsx"
    with zipfile.ZipFile(book) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():  # the name as a text cell, as the attack's workbook held it
            zout.writestr(item, zin.read(item.filename).replace(b"EVIL_NAME", escape(EVIL).encode()))
    return out


def test_break_10_notifications_hold_text_not_formulas(tmp_path):
    engine = get_engine(f"sqlite:///{tmp_path / 'n.sqlite'}")
    import_list(engine, _book(tmp_path), "2026年度", dt.date(2026, 1, 1))
    with session_scope(engine) as s:
        frame = notification_frame(s, compute_reductions(s, "red"))
    assert EVIL in set(frame["企业名称"])
    xlsx, csv_path = write_notifications(frame, tmp_path / "notifications.xlsx", tmp_path / "notifications.csv")

    with zipfile.ZipFile(xlsx) as z:
        sheets = [m for m in z.namelist() if m.startswith("xl/worksheets/")]
        formulas = [el.text for m in sheets for el in ET.fromstring(z.read(m)).iter()
                    if el.tag.rpartition("}")[2] == "f"]
    assert formulas == []  # was: ['HYPERLINK("http://evil.example/x","点击查看")']
    ws = openpyxl.load_workbook(xlsx)["告知清单"]
    cells = {c.value: c.data_type for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
    assert cells[EVIL] == "s" and cells["-3"] == "s" and cells["+86 353 1234567"] == "s"

    with csv_path.open(encoding="utf-8-sig", newline="") as fh:
        table = list(csv.DictReader(fh))
    evil = next(r for r in table if r["企业名称"].endswith(EVIL))
    assert evil["企业名称"] == "'" + EVIL  # was the raw formula
    assert (evil["联系人"], evil["联系电话"]) == ("'-3", "'+86 353 1234567")
    assert "'@张三" in {r["联系人"] for r in table}
    assert float(evil["预计减排SO2（吨/天）"]) >= 0  # numbers are numbers, never escaped
    plain = [r for r in table if r is not evil]
    assert all(not r["企业名称"].startswith("'") for r in plain)
