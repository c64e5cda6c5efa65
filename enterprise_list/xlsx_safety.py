"""The safety scan of an xlsx file, run before any reader parses it (issue 14, breaks 1, 3, 4, 10).

:func:`check_xlsx` checks the zip's directory first (its unpacked size, :data:`MAX_UNPACKED_BYTES`,
and each member's compression ratio, :data:`MAX_RATIO`: a zip bomb is refused before anything is
decompressed), then makes one streaming pass (expat) over every XML part: malformed XML, a DOCTYPE,
undecodable text and damaged members are one-line errors naming the file and the part. Each sheet to
be read gets a :class:`SheetScan`: the last row and column holding a value (the declared
``<dimension>`` is never trusted; a cell beyond :data:`MAX_ROWS` × :data:`MAX_COLUMNS`, a used range
over :data:`MAX_CELLS` or more than :data:`MAX_MERGES` merged ranges is refused) and the formulas
without a saved value, which the reader turns into errors, never blanks.

The limits bound the CSV reader too (:mod:`enterprise_list.workbook`).
"""
from __future__ import annotations

import os
import posixpath
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from xml.parsers import expat

from airwarn.core.errors import InputError

# Limits of the xlsx reader (issue 14, breaks 1 and 4): a workbook beyond any of them is refused with
# one line before anything allocates for it. For scale: the benchmark list of 10,000 enterprises
# (bench/bench_list.py; 44,709 measure rows) unpacks to 41 MB at about 10:1 (openpyxl's inline strings;
# Excel's shared strings make it smaller).

#: All members of the zip together, unpacked [bytes]: five times the benchmark list.
MAX_UNPACKED_BYTES = 200 * 2**20
#: Unpacked : packed size allowed for a member larger than :data:`RATIO_FROM_BYTES`. Real sheets pack
#: about 10:1, and 100,000 empty styled rows (numbered, as Excel writes them) 23:1; deflate's ceiling,
#: where zip bombs sit, is about 1030:1.
MAX_RATIO = 200
#: Members up to this size [bytes] are not held to :data:`MAX_RATIO` (small parts pack very well).
RATIO_FROM_BYTES = 2**20
#: Last row that may hold a value: more than twice the benchmark's longest sheet (about 20,000
#: enterprises with three levels per line).
MAX_ROWS = 100_000
#: Last column that may hold a value (the template has at most 12; room for notes).
MAX_COLUMNS = 200
#: Cells of a sheet's used range (A1 to its last row and column): calamine and Python build the range
#: densely, some 100 bytes a cell, so at most about 200 MB; the benchmark's longest sheet has 0.5 M.
MAX_CELLS = 2_000_000
#: Merged ranges in one sheet (an office merges a code cell over an enterprise's lines: one per enterprise).
MAX_MERGES = 100_000


class RefusedWorkbook(InputError):
    """A workbook refused by the checks (the message is one line naming the file)."""


@dataclass
class SheetScan:
    """What the streaming pass found in one sheet: the last row and column holding a value (1-based)
    and the cells ``(row, column)`` (0-based) with a formula and no saved value (formula text)."""

    rows: int = 0
    cols: int = 0
    formulas: dict[tuple[int, int], str] = field(default_factory=dict)


#: Column letters → column number (1-based), filled as cells are met.
_COLUMNS: dict[str, int] = {}


def _column_number(letters: str) -> int:
    if not (letters.isascii() and letters.isalpha()):
        return 0  # not a reference
    if len(letters) > 3:
        return MAX_COLUMNS + 1  # beyond XFD, beyond any limit
    n = 0
    for ch in letters.upper():
        n = 26 * n + ord(ch) - 64
    _COLUMNS[letters] = n
    return n


def _cell_ref(row: int, col: int) -> str:
    letters = ""
    while col > 0:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row}"


def _parse_part(path: Path, zf: zipfile.ZipFile, member: str, what: str,
                parser: Any = None, start: Callable | None = None, end: Callable | None = None) -> None:
    """Stream one XML part through expat; any flaw is one ValueError naming the file and the part."""
    parser = parser or expat.ParserCreate()
    parser.StartElementHandler, parser.EndElementHandler = start, end

    def no_doctype(*_: Any) -> None:
        raise RefusedWorkbook(f"{path}: {what} declares a DOCTYPE, which xlsx files never do; refused")

    parser.StartDoctypeDeclHandler = no_doctype
    try:
        with zf.open(member) as fh:
            parser.ParseFile(fh)
    except RefusedWorkbook:
        raise
    except (expat.ExpatError, ValueError) as exc:  # pyexpat raises ValueError for a GBK declaration
        raise RefusedWorkbook(f"{path}: {what} is not well-formed XML ({exc}); "
                         "save the workbook again in Excel or WPS") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError) as exc:
        raise RefusedWorkbook(f"{path}: {what} is damaged in the zip ({exc})") from None


def _relationships(path: Path, zf: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """``{Id: (Type, member)}`` of a part's relationships (targets resolved to member names)."""
    folder, name = posixpath.split(part)
    rels = posixpath.join(folder, "_rels", name + ".rels")
    out: dict[str, tuple[str, str]] = {}
    if rels not in zf.NameToInfo:
        return out

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag.rpartition(":")[2] == "Relationship" and attrs.get("TargetMode") != "External":
            target = attrs.get("Target", "")
            target = target[1:] if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
            out[attrs.get("Id", "")] = (attrs.get("Type", ""), target)

    _parse_part(path, zf, rels, rels, start=start)
    return out


def _sheet_parts(path: Path, zf: zipfile.ZipFile) -> dict[str, str]:
    """``{sheet name: zip member}`` in the workbook's order."""
    book = next((t for typ, t in _relationships(path, zf, "").values() if typ.endswith("/officeDocument")),
                "xl/workbook.xml")
    if book not in zf.NameToInfo:
        raise RefusedWorkbook(f"{path}: not an xlsx workbook (the zip has no {book}); "
                         "save the list as .xlsx (Excel workbook)")
    rels = _relationships(path, zf, book)
    sheets: list[tuple[str, str | None]] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag.rpartition(":")[2] == "sheet":
            rid = next((v for k, v in attrs.items() if k.rpartition(":")[2] == "id"), None)
            sheets.append((attrs.get("name", ""), rid))

    _parse_part(path, zf, book, book, start=start)
    out: dict[str, str] = {}
    for name, rid in sheets:
        member = rels.get(rid or "", ("", ""))[1]
        if member not in zf.NameToInfo:
            raise RefusedWorkbook(f"{path}: sheet {name} points to {member or rid!r}, which the file does not hold")
        out[name] = member
    return out


#: Elements of rich text inside an inline string: met within a cell, they do not end it.
_IN_CELL = frozenset({"t", "r", "rPr", "rPh", "phoneticPr", "b", "i", "u", "strike", "condense", "extend",
                      "outline", "shadow", "vertAlign", "sz", "color", "rFont", "family", "charset", "scheme"})


def _scan_sheet(path: Path, zf: zipfile.ZipFile, member: str, what: str) -> SheetScan:
    """One streaming pass over a sheet's XML: extent of the cells holding values, formulas without a
    saved value. Positions follow the cells' ``r`` (any case) or, without one, count on from the row's
    ``r`` and the previous cell, as calamine does; elements are matched by local name whatever their
    namespace. A cell counts if it has a value, an inline string or a formula (styled empty cells do
    not). Only formula cells get an end-element handler, which keeps the pass cheap."""
    scan = SheetScan()
    parser = expat.ParserCreate()
    row_no, row_text, merges = 0, None, 0
    r = c = 0  # the current cell (r == 0: none)
    counted = False
    cell_attrs: dict[str, str] = {}
    formula: tuple[int, int, str | None, list[str]] | None = None  # row, col, type, formula text parts
    value: list[str] | None = None

    def number(text: str, ref: str) -> int:
        if not (text.isascii() and text.isdigit()):
            raise RefusedWorkbook(f"{path}: {what} has a cell or row reference {ref!r} that is not valid")
        return int(text) if len(text) <= 9 else MAX_ROWS + 1

    def start(tag: str, attrs: dict[str, str]) -> None:
        nonlocal row_no, row_text, r, c, counted, cell_attrs, formula, value, merges
        if ":" in tag:
            tag = tag.rpartition(":")[2]
        if tag == "c":
            ref = attrs.get("r")
            if ref is None:
                c += 1
                r = row_no
            else:
                letters = ref.rstrip("0123456789")
                digits = ref[len(letters):]
                c = _COLUMNS.get(letters) or _column_number(letters)
                if not c:
                    number("", ref)  # raises: not a reference
                r = row_no if digits == row_text else number(digits, ref)
            counted, cell_attrs = False, attrs
        elif tag == "t":
            return
        elif tag == "v" or tag == "is" or tag == "f":
            if not r:
                return
            if not counted:
                counted = True
                if r > MAX_ROWS or c > MAX_COLUMNS:
                    raise RefusedWorkbook(f"{path}: {what} cell {_cell_ref(r, c)} lies beyond the reader's limit of "
                                   f"{MAX_ROWS} rows × {MAX_COLUMNS} columns; delete it (or clear everything "
                                   "outside the list) and save again")
                if r > scan.rows:
                    scan.rows = r
                if c > scan.cols:
                    scan.cols = c
            if tag == "f":
                formula, value = (r, c, cell_attrs.get("t"), []), None
                parser.CharacterDataHandler = formula[3].append
                parser.EndElementHandler = formula_end
            elif tag == "v" and formula is not None:
                value = []
                parser.CharacterDataHandler = value.append
        elif tag == "row":
            text = attrs.get("r")
            row_no = row_no + 1 if text is None else number(text, text)
            row_text, r, c = str(row_no) if text is None else text, 0, 0
        elif tag == "mergeCell":
            merges += 1
            if merges > MAX_MERGES:
                raise RefusedWorkbook(f"{path}: {what} has more than {MAX_MERGES:,} merged ranges, the reader's limit")
        elif tag not in _IN_CELL:
            r = 0  # past the cells (e.g. after sheetData): nothing here belongs to the last cell

    def formula_end(tag: str) -> None:
        nonlocal formula, value
        if formula is None or not (tag == "c" or tag.endswith(":c")):
            return
        fr, fc, t, parts = formula
        if value is None or (t != "str" and not "".join(value).strip()):
            text = "".join(parts).strip()
            scan.formulas[(fr - 1, fc - 1)] = f"={text}" if text else "(shared formula)"
        formula = value = None
        parser.CharacterDataHandler = parser.EndElementHandler = None

    _parse_part(path, zf, member, what, parser, start)
    if scan.rows * scan.cols > MAX_CELLS:
        raise RefusedWorkbook(f"{path}: {what} holds values as far as cell {_cell_ref(scan.rows, scan.cols)}, a range "
                       f"of {scan.rows * scan.cols:,} cells, more than the reader's limit of {MAX_CELLS:,}; "
                       "delete what lies outside the list and save again")
    return scan


def check_xlsx(path: str | os.PathLike, wanted: Callable[[str], bool] | None = None) -> dict[str, SheetScan | None]:
    """Check an xlsx file before any reader parses it (see the module docstring).

    Parameters
    ----------
    path : path-like
        The workbook.
    wanted : callable, optional
        ``wanted(sheet_name)``: whether a sheet will be read (default: all). Sheets not wanted are
        only checked to be well-formed XML.

    Returns
    -------
    dict
        ``{sheet name: scan}`` in the workbook's order, ``None`` for sheets not wanted.

    Raises
    ------
    ValueError
        One line naming the file (and the part or cell): not a zip, a zip bomb, beyond a limit, malformed.
    """
    p = Path(path)
    try:
        zf = zipfile.ZipFile(p)
    except (zipfile.BadZipFile, zlib.error, OSError, ValueError) as exc:
        raise InputError(f"{p}: not a readable xlsx workbook ({exc}; an old .xls or a password-protected "
                         "file? save it as .xlsx without a password)") from None
    with zf:
        infos = zf.infolist()
        total = sum(i.file_size for i in infos)
        if total > MAX_UNPACKED_BYTES:
            raise InputError(f"{p}: unpacks to {total / 2**20:,.1f} MB, more than the reader's limit of "
                             f"{MAX_UNPACKED_BYTES / 2**20:,.1f} MB (a zip bomb, or far more than a list)")
        for i in infos:
            if i.file_size > RATIO_FROM_BYTES and i.file_size > MAX_RATIO * max(i.compress_size, 1):
                raise InputError(f"{p}: member {i.filename} unpacks {i.file_size / max(i.compress_size, 1):,.0f}:1, "
                                 f"more than the reader's limit of {MAX_RATIO}:1 (a zip bomb?)")
        parts = _sheet_parts(p, zf)
        by_member = {m: n for n, m in parts.items()}
        out: dict[str, SheetScan | None] = {}
        for i in infos:
            if i.filename in by_member or not i.filename.endswith((".xml", ".rels")):
                continue
            _parse_part(p, zf, i.filename, f"part {i.filename}")  # every XML part a reader may open
        for name, member in parts.items():
            what = f"sheet {name} ({member})"
            if wanted is None or wanted(name):
                out[name] = _scan_sheet(p, zf, member, what)
            else:
                _parse_part(p, zf, member, what)
                out[name] = None
        return out
