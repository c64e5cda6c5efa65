"""Hostile and broken workbooks (issue 14, breaks 1, 3, 4, 10): each is refused with one line, or its
bad cells are named, and no file can crash the process; exports never hold live formulas.

The workbooks are real xlsx files: a list written by the product (or by openpyxl as an office would),
with its sheet XML edited inside the zip the way the adversarial test did. A file that crashed the old
reader is only ever read in a subprocess, so a crash shows as a negative return code, not a dead run.
"""
from __future__ import annotations

import csv
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from enterprise_list import xlsx_safety
from enterprise_list.sample import make_sample_list
from enterprise_list.records import errors
from enterprise_list.validate import validate
from enterprise_list.workbook import (
    FORMULA_MESSAGE,
    read_list_workbook,
    write_list_csv,
    write_list_workbook,
)
from tests.enterprise_list.books import CODES, good_rows, write_book

AIRWARN = Path(sys.executable).with_name("airwarn")
SHEET1 = "xl/worksheets/sheet1.xml"
EVIL = '=HYPERLINK("http://evil.example/x","点击查看")'


def rewrite(src: Path, dst: Path, edit, member: str = SHEET1) -> Path:
    """Copy an xlsx, passing one member's bytes through ``edit``."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            zout.writestr(item, edit(data) if item.filename == member else data)
    return dst


def add_rows(xml: bytes) -> callable:
    return lambda data: data.replace(b"</sheetData>", xml + b"</sheetData>")


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    return write_list_workbook(make_sample_list(30, seed=7), tmp_path_factory.mktemp("sample") / "sample.xlsx")


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The real console script in a subprocess (timeout only against a hang)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRWARN_")}
    env["AIRWARN_DATA_DIR"] = str(cwd / "var")
    return subprocess.run([str(AIRWARN), *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=env)


def records(parsed) -> dict:
    return {k: [{c: v for c, v in r.items() if c != "_row"} for r in rows] for k, rows in parsed.records.items()}


# --------------------------------------------------------------------------- break 1: the far cell
FAR_CELLS = {
    "value": b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>',
    "lower-case ref": b'<row r="1048576"><c r="xfd1048576"><v>1</v></c></row>',
    "foreign prefix": b'<row r="1048576"><x:c xmlns:x="urn:x" r="XFD1048576"><x:v>1</x:v></x:c></row>',
    "no refs": b'<row r="1048576">' + b'<c t="inlineStr"><is><t>x</t></is></c>' * 300 + b"</row>",
    "empty string": b'<row r="1048576"><c r="XFD1048576" t="str"><v></v></c></row>',
}


@pytest.mark.parametrize("kind", list(FAR_CELLS))
def test_break_1_cell_at_xfd1048576_is_one_message_not_an_abort(sample, tmp_path, kind):
    # Every variant made calamine allocate rows × columns of the whole sheet grid and abort the
    # process ("memory allocation of 549755813888 bytes failed"): SIGABRT, return code -6.
    bad = rewrite(sample, tmp_path / "far.xlsx", add_rows(FAR_CELLS[kind]))
    res = cli("list", "validate", str(bad), cwd=tmp_path)
    assert res.returncode == 2, (res.returncode, res.stderr[-500:])
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.stderr
    ref = "A1048576" if kind == "no refs" else "XFD1048576"
    assert lines[0] == (f"airwarn list: error: {bad}: sheet 企业 ({SHEET1}) cell {ref} lies beyond the reader's "
                        "limit of 100000 rows × 200 columns; delete it (or clear everything outside the list) "
                        "and save again")


def test_declared_dimension_and_styled_empty_cells_far_out_are_ignored(sample, tmp_path):
    def edit(data: bytes) -> bytes:
        data = data.replace(b"<sheetViews>", b'<dimension ref="A1:XFD1048576"/><sheetViews>', 1)
        return add_rows(b'<row r="1048576" s="1" customFormat="1"><c r="XFD1048576" s="1"/>'
                        b'<c r="XFC1048576" t="s"/></row>')(data)

    assert b"<sheetViews>" in zipfile.ZipFile(sample).read(SHEET1)
    odd = rewrite(sample, tmp_path / "styled.xlsx", edit)
    assert records(read_list_workbook(odd)) == records(read_list_workbook(sample))


def test_break_1_used_range_beyond_the_cell_limit_is_refused(sample, tmp_path):
    # inside the row and column limits, but the dense range A1:GR20000 would be 4 M cells
    bad = rewrite(sample, tmp_path / "wide.xlsx", add_rows(b'<row r="20000"><c r="GR20000"><v>1</v></c></row>'))
    with pytest.raises(ValueError) as info:
        read_list_workbook(bad)
    assert str(info.value) == (f"{bad}: sheet 企业 ({SHEET1}) holds values as far as cell GR20000, a range of "
                               "4,000,000 cells, more than the reader's limit of 2,000,000; delete what lies "
                               "outside the list and save again")


def test_break_1_overlapping_merged_ranges_are_refused(sample, tmp_path):
    merges = b"".join(b'<mergeCell ref="A1:L31"/>' for _ in range(50))
    bad = rewrite(sample, tmp_path / "merges.xlsx",
                  lambda d: d.replace(b"</sheetData>", b"</sheetData><mergeCells>" + merges + b"</mergeCells>"))
    with pytest.raises(ValueError, match=r"sheet 企业: merged ranges cover more cells than the sheet holds"):
        read_list_workbook(bad)


# --------------------------------------------------------------------------- break 4: bombs and bad XML
def test_break_4_zip_bomb_is_refused_before_any_sheet_is_read(sample, tmp_path, monkeypatch):
    row = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>'
    bomb_xml = (b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
                + row * (40 * 2**20 // len(row)) + b"</sheetData></worksheet>")
    bomb = rewrite(sample, tmp_path / "bomb.xlsx", lambda _: bomb_xml)
    opened = []
    real_open = zipfile.ZipFile.open
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda self, name, *a, **k: opened.append(
        getattr(name, "filename", name)) or real_open(self, name, *a, **k))
    with pytest.raises(ValueError) as info:
        read_list_workbook(bomb)
    assert str(info.value).startswith(f"{bomb}: member {SHEET1} unpacks ")
    assert str(info.value).endswith(":1, more than the reader's limit of 200:1 (a zip bomb?)")
    assert opened == []  # refused from the zip's directory alone: nothing was decompressed


def test_break_4_total_unpacked_size_limit(sample, monkeypatch):
    monkeypatch.setattr(xlsx_safety, "MAX_UNPACKED_BYTES", 100_000)
    with pytest.raises(ValueError, match=r"unpacks to 0\.\d MB, more than the reader's limit of 0\.1 MB \(a zip"):
        read_list_workbook(sample)


def test_break_4_gbk_sheet_xml_is_one_line_naming_file_and_part(sample, tmp_path):
    def to_gbk(data: bytes) -> bytes:
        text = data.decode("utf-8")
        text = text[text.index("?>") + 2:] if text.startswith("<?xml") else text
        return ('<?xml version="1.0" encoding="GBK"?>' + text).encode("gbk")

    bad = rewrite(sample, tmp_path / "gbk.xlsx", to_gbk)
    res = cli("list", "validate", str(bad), cwd=tmp_path)
    assert res.returncode == 2 and "Traceback" not in res.stderr  # was a traceback and exit 1
    assert res.stderr.strip() == (f"airwarn list: error: {bad}: sheet 企业 ({SHEET1}) is not well-formed XML "
                                  "(multi-byte encodings are not supported); save the workbook again in Excel or WPS")


@pytest.mark.parametrize("name, edit, member, message", [
    ("truncated", lambda d: d[: len(d) // 2], SHEET1,
     f"sheet 企业 ({SHEET1}) is not well-formed XML (unclosed token: line 1, column "),
    ("undecodable", lambda d: d.replace("企业名称".encode(), "企业名称".encode("gbk")), SHEET1,
     f"sheet 企业 ({SHEET1}) is not well-formed XML (not well-formed (invalid token): line 1, column "),
    ("entity bomb", lambda d: b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa">'
                              b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>' + d, SHEET1,
     f"sheet 企业 ({SHEET1}) declares a DOCTYPE, which xlsx files never do; refused"),
    ("styles", lambda d: d[:-20], "xl/styles.xml",
     "part xl/styles.xml is not well-formed XML (unclosed token: line 1, column "),
    ("no workbook part", None, "xl/workbook.xml",
     "not an xlsx workbook (the zip has no xl/workbook.xml); save the list as .xlsx (Excel workbook)"),
])
def test_break_4_malformed_parts_are_one_line_errors(sample, tmp_path, name, edit, member, message):
    bad = tmp_path / f"{name.replace(' ', '_')}.xlsx"
    if edit is None:  # the member removed
        with zipfile.ZipFile(sample) as zin, zipfile.ZipFile(bad, "w") as zout:
            for item in zin.infolist():
                if item.filename != member:
                    zout.writestr(item, zin.read(item.filename))
    else:
        rewrite(sample, bad, edit, member)
    with pytest.raises(ValueError) as info:
        read_list_workbook(bad)
    text = str(info.value)
    assert text.startswith(f"{bad}: {message}") and "\n" not in text


def test_damaged_zip_and_old_xls_stay_one_line(sample, tmp_path):
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(sample.read_bytes()[:-200])  # the central directory gone
    xls = tmp_path / "old.xlsx"
    xls.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 4000)  # an OLE file (.xls, or encrypted)
    for bad in (cut, xls):
        with pytest.raises(ValueError) as info:
            read_list_workbook(bad)
        assert str(info.value).startswith(f"{bad}: not a readable xlsx workbook (")
        assert "\n" not in str(info.value)


def test_break_4_csv_errors_name_the_file(tmp_path):
    folder = tmp_path / "csv"
    folder.mkdir()
    (folder / "企业.csv").write_bytes(b"\xff\xfe\x00\xd8 not text")
    with pytest.raises(ValueError, match=rf"^{folder / '企业.csv'}: not UTF-8 nor GB18030 text"):
        read_list_workbook(folder)
    (folder / "企业.csv").write_text("统一社会信用代码,企业名称\n" + "x," + "y" * 200_000 + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=rf"^{folder / '企业.csv'}: line 2: not readable as CSV \(field larger"):
        read_list_workbook(folder)  # csv.Error was a traceback


# --------------------------------------------------------------------------- break 3: formulas, codes
def test_break_3_formula_without_saved_value_is_an_error_not_zero(tmp_path):
    rows = good_rows()
    rows["生产线"][0][7] = "=0.25*2"  # openpyxl writes <f>0.25*2</f><v/>: no saved value, as the attack did
    rows["生产线"][2][8] = "=SUM(1,1)"
    book = write_book(tmp_path / "f.xlsx", rows)
    parsed = read_list_workbook(book)
    got = [(p.sheet, p.row, p.column, p.message, p.value) for p in errors(validate(parsed))]
    assert got == [("生产线", 2, "SO2基准排放量(吨/日)", FORMULA_MESSAGE, "=0.25*2"),
                   ("生产线", 4, "NOx基准排放量(吨/日)", FORMULA_MESSAGE, "=SUM(1,1)")]
    line = parsed.records["lines"][0]
    assert line["so2"] is None and "so2" in line["_bad"]
    # no cut derived from the unreadable baseline (it was read as 0: "cut larger than baseline 0")
    cuts = [m["cut_so2"] for m in parsed.records["measures"] if m["line_code"] == "L01"
            and m["credit_code"] == CODES[0]]
    assert cuts == [None, None, None]


def test_formula_with_saved_value_reads_as_its_value(tmp_path):
    book = write_book(tmp_path / "f.xlsx")
    cached = rewrite(book, tmp_path / "cached.xlsx",
                     lambda d: d.replace(b'<c r="H2" t="n"><v>0.5</v></c>',
                                         b'<c r="H2"><f>0.25*2</f><v>0.5</v></c>'),
                     "xl/worksheets/sheet2.xml")
    assert b"<f>0.25*2</f>" in zipfile.ZipFile(cached).read("xl/worksheets/sheet2.xml")
    parsed = read_list_workbook(cached)
    assert validate(parsed) == [] and parsed.records["lines"][0]["so2"] == 0.5


def test_break_3_credit_code_stored_as_a_number_is_named(tmp_path):
    rows = good_rows()
    rows["企业"][1][0] = 9.11403001234568e17  # Excel made the code a number
    parsed = read_list_workbook(write_book(tmp_path / "n.xlsx", rows))
    msgs = [str(p) for p in validate(parsed) if p.sheet == "企业"]
    assert msgs == ["error: 企业 row 3, column 统一社会信用代码: the credit code was stored as a number by Excel "
                    "(9.11403001234568e+17); format the column as text and re-enter it "
                    "[value: 911403001234567936]"]
    folder = tmp_path / "csv"
    write_list_csv(read_list_workbook(write_book(tmp_path / "g.xlsx")), folder)
    text = (folder / "企业.csv").read_text(encoding="utf-8-sig").replace(CODES[1], "9.11403E+17")
    (folder / "企业.csv").write_text(text, encoding="utf-8-sig")  # as Excel saves such a column to CSV
    msgs = [str(p) for p in validate(read_list_workbook(folder)) if p.sheet == "企业"]
    assert msgs == ["error: 企业 row 3, column 统一社会信用代码: the credit code was stored as a number by Excel "
                    "(9.11403E+17); format the column as text and re-enter it [value: '9.11403E+17']"]


# --------------------------------------------------------------------------- break 10: exports
def _evil_book(tmp_path: Path) -> Path:
    """The attack's list: the name is a text cell (an inline string, as text typed into a text column)."""
    from xml.sax.saxutils import escape

    rows = good_rows()
    rows["企业"][0][1] = "EVIL_NAME"
    rows["企业"][0][9] = "-3"
    rows["企业"][0][10] = "+86 353 1234567"
    rows["企业"][1][11] = "@备注"
    rows["企业"][2][11] = "'=已转义"
    for line in rows["生产线"]:  # the database keeps a blank baseline as 0.0: no blanks, for an exact round trip
        line[7:11] = [0.0 if v is None else v for v in line[7:11]]
    book = write_book(tmp_path / "plain.xlsx", rows)
    return rewrite(book, tmp_path / "evil.xlsx", lambda d: d.replace(b"EVIL_NAME", escape(EVIL).encode()),
                   SHEET1)


def _formula_elements(xlsx: Path) -> list[str]:
    import xml.etree.ElementTree as ET

    with zipfile.ZipFile(xlsx) as z:
        return [f"{m}: {el.text}" for m in z.namelist() if m.startswith("xl/worksheets/")
                for el in ET.fromstring(z.read(m)).iter() if el.tag.rpartition("}")[2] == "f"]


def test_break_10_export_holds_no_formula_and_reads_back_identical(tmp_path, monkeypatch, capsys):
    from airwarn.cli import main

    book = _evil_book(tmp_path)
    original = read_list_workbook(book)
    assert validate(original) == [] and original.records["enterprises"][0]["name"] == EVIL

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AIRWARN_DB", raising=False)
    monkeypatch.delenv("AIRWARN_SETTINGS", raising=False)
    monkeypatch.setenv("AIRWARN_DATA_DIR", str(tmp_path / "var"))
    assert main(["list", "import", str(book), "--name", "2026年度", "--effective", "2026-01-01"]) == 0
    assert main(["list", "export", str(tmp_path / "e.xlsx")]) == 0
    assert main(["list", "export", str(tmp_path / "e_csv")]) == 0  # a folder: the three CSV files
    capsys.readouterr()

    assert _formula_elements(tmp_path / "e.xlsx") == []  # was: <f>HYPERLINK("http://evil.example/x",…)</f>
    with (tmp_path / "e_csv" / "企业.csv").open(encoding="utf-8-sig", newline="") as fh:
        cells = {c for row in csv.reader(fh) for c in row}
    assert {"'" + EVIL, "'-3", "'+86 353 1234567", "'@备注", "''=已转义"} <= cells and EVIL not in cells
    for exported in (tmp_path / "e.xlsx", tmp_path / "e_csv"):
        assert records(read_list_workbook(exported)) == records(original), exported


def test_break_10_list_writers_directly(tmp_path):
    original = read_list_workbook(_evil_book(tmp_path))
    out = write_list_workbook(original, tmp_path / "w.xlsx")
    assert _formula_elements(out) == []
    write_list_csv(original, tmp_path / "w")
    for again in (read_list_workbook(out), read_list_workbook(tmp_path / "w" / "生产线.csv")):
        assert records(again) == records(original)
