"""Read and write list workbooks (xlsx and CSV) in the template of :mod:`enterprise_list.template`.

Reading maps drifting headers onto the canonical columns, fills merged cells
(header groups and data cells merged down over several lines of an enterprise),
skips blank rows, converts numbers stored as text and full-width digits, and
records every cell it cannot read as a :class:`~enterprise_list.validate.Problem`
with the sheet, the row number as Excel shows it, the header as written in the
file, why, and the value. It never raises on bad cells: the caller validates the
whole :class:`ParsedList` and reports every problem at once.

CSV: a folder holding ``企业.csv``, ``生产线.csv`` and ``减排措施.csv`` (or
``enterprises.csv``, ``lines.csv``, ``measures.csv``), or the path of any one of
them (its siblings are read). UTF-8 (with or without BOM) or GB18030/GBK.
"""
from __future__ import annotations

import csv
import math
import os
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import pandas as pd

from airwarn.files import atomic_path
from airwarn.vocab import WarningLevel
from enterprise_list import credit_code as cc
from enterprise_list.models import GRADES, LEVELS, MEASURE_KIND_LABELS, MEASURE_KINDS
from enterprise_list.template import (
    README_SHEET,
    SHEETS,
    Column,
    Sheet,
    _strip_unit,
    match_header,
    match_sheet,
    normalise_header,
)
from enterprise_list.validate import Problem

#: Rows searched for the header row.
_HEADER_SCAN = 12
_POLLUTANTS = ("so2", "nox", "pm", "vocs")


@dataclass(frozen=True)
class ParsedList:
    """A list as read from a file: canonical records per sheet plus reading problems.

    Attributes
    ----------
    records : dict
        ``{"enterprises": [...], "lines": [...], "measures": [...]}``; each record is
        a dict of canonical column keys (see :data:`enterprise_list.template.SHEETS`)
        plus ``_row`` (the row number as Excel shows it, ``None`` for generated rows)
        and ``_bad`` (keys of cells that could not be read).
    source : str
        The file or folder read (or a description for generated lists).
    problems : list of Problem
        Problems found while reading (unreadable cells, missing columns or sheets).
    headers : dict
        ``{sheet_key: {column_key: header as written in the file}}`` for messages.
    """

    records: dict[str, list[dict[str, Any]]]
    source: str = ""
    problems: list[Problem] = field(default_factory=list)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    sheet_names: dict[str, str] = field(default_factory=dict)

    def frame(self, sheet: str) -> pd.DataFrame:
        """The records of ``sheet`` (``enterprises``, ``lines``, ``measures``) as a DataFrame."""
        if sheet not in self.records:
            raise KeyError(f"no sheet {sheet!r}; valid: {list(self.records)}")
        cols = [c.key for c in _SHEET_BY_KEY[sheet].columns]
        rows = [{k: r.get(k) for k in cols} for r in self.records[sheet]]
        return pd.DataFrame(rows, columns=cols)

    @property
    def enterprises(self) -> pd.DataFrame:
        """Enterprises (one row per enterprise)."""
        return self.frame("enterprises")

    @property
    def lines(self) -> pd.DataFrame:
        """Production lines with baseline emissions [t/day]."""
        return self.frame("lines")

    @property
    def measures(self) -> pd.DataFrame:
        """Measures per line and level with cuts [t/day]."""
        return self.frame("measures")

    def header(self, sheet: str, key: str) -> str:
        """The header of column ``key`` as written in the file (the template's if absent)."""
        return self.headers.get(sheet, {}).get(key) or _SHEET_BY_KEY[sheet].column(key).header


_SHEET_BY_KEY = {s.key: s for s in SHEETS}


# --------------------------------------------------------------------------- cell parsing
class _CellError(ValueError):
    pass


_KIND_WORDS: dict[str, str] = {k: k for k in MEASURE_KINDS}
_KIND_WORDS.update({v: k for k, v in MEASURE_KIND_LABELS.items()})
_KIND_WORDS.update({
    "停止生产": "stop", "全停": "stop", "停产停工": "stop", "停工": "stop", "限制生产": "limit", "减产": "limit",
    "限产减排": "limit", "错峰运输": "transport", "运输": "transport", "车辆管控": "transport",
    "工艺": "process", "工艺调整": "process", "工艺减排": "process", "自主": "voluntary",
    "自主减排措施": "voluntary", "自行减排": "voluntary",
})
_LEVEL_WORDS = {"黄": "yellow", "橙": "orange", "红": "red", "三级": "yellow", "二级": "orange", "一级": "red"}
_BOOL_WORDS = {"是": True, "否": False, "y": True, "n": False, "yes": True, "no": False, "true": True,
               "false": False, "1": True, "0": False, "达标": True, "不达标": False, "√": True, "×": False}
_GRADE_FIX = {"−": "-", "–": "-", "—": "-", "－": "-", "＋": "+"}
_GRADE_SYNONYMS = {"保障": "保障类", "保障类企业": "保障类", "未分级": "未评级", "无": "未评级", "未评": "未评级",
                   "B-": "B-", "B−": "B-"}


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip())


def _text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _number(v: Any) -> float:
    if isinstance(v, bool):
        raise _CellError(f"expected a number, got {v!r}")
    if isinstance(v, (int, float)):
        return float(v)
    s = unicodedata.normalize("NFKC", str(v)).strip().replace(",", "").replace(" ", "")
    try:
        x = float(s)
    except ValueError:
        raise _CellError(f"expected a number, got {v!r}") from None
    if not math.isfinite(x):
        raise _CellError(f"expected a finite number, got {v!r}")
    return x


def _fraction(v: Any) -> float:
    if isinstance(v, str):
        s = unicodedata.normalize("NFKC", v).strip()
        if s.endswith("%"):
            return _number(s[:-1]) / 100.0
    return _number(v)


def _grade(v: Any) -> str:
    s = unicodedata.normalize("NFKC", str(v)).strip()
    for a, b in _GRADE_FIX.items():
        s = s.replace(a, b)
    s = re.sub(r"\s+", "", s)
    s = s.removeprefix("绩效").removesuffix("企业") if s not in GRADES else s
    if s.endswith("级") and s != "未评级":
        s = s[:-1]
    s = s.upper() if s.isascii() else s
    s = _GRADE_SYNONYMS.get(s, s)
    if s not in GRADES:
        raise _CellError(f"unknown grade {v!r}; expected one of {list(GRADES)}")
    return s


def _level(v: Any) -> str:
    s = unicodedata.normalize("NFKC", str(v)).strip()
    s = re.sub(r"\s+", "", s)
    if s in _LEVEL_WORDS:
        return _LEVEL_WORDS[s]
    try:
        level = WarningLevel.parse(s)
    except KeyError:
        level = None
    if level is None or level is WarningLevel.NONE:
        s2 = s.removesuffix("预警").removesuffix("色")
        if s2 in _LEVEL_WORDS:
            return _LEVEL_WORDS[s2]
        raise _CellError(f"unknown warning level {v!r}; expected 黄色/橙色/红色 or {list(LEVELS)}")
    return level.key


def _kind(v: Any) -> str:
    s = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(v)).strip().lower())
    if s in _KIND_WORDS:
        return _KIND_WORDS[s]
    raise _CellError(f"unknown measure kind {v!r}; expected one of "
                     f"{[MEASURE_KIND_LABELS[k] for k in MEASURE_KINDS]} or {list(MEASURE_KINDS)}")


def _bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    s = unicodedata.normalize("NFKC", _text(v)).strip().lower()
    if s in _BOOL_WORDS:
        return _BOOL_WORDS[s]
    raise _CellError(f"expected 是 or 否, got {v!r}")


def parse_cell(col: Column, value: Any) -> Any:
    """Convert one cell to the column's type (``None`` if blank).

    Raises
    ------
    ValueError
        With a message saying what was expected and what came.
    """
    if _blank(value):
        return None
    if col.kind == "code":
        return cc.normalise(value)
    if col.kind == "number":
        return _number(value)
    if col.kind == "fraction":
        return _fraction(value)
    if col.kind == "bool":
        return _bool(value)
    if col.kind == "level":
        return _level(value)
    if col.kind == "kind":
        return _kind(value)
    if col.kind == "grade":
        return _grade(value)
    text = _text(value)
    if col.key in ("county", "industry", "line_code", "permit_no"):
        text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
    return text


# --------------------------------------------------------------------------- header detection
def _find_header(sheet: Sheet, rows: Sequence[Sequence[Any]]) -> tuple[int, dict[int, tuple[str, str]]]:
    """Locate the header (one row, or a group row over a sub-header row).

    Returns the index of the first data row and ``{column index: (key, header text)}``.
    """
    best: tuple[int, int, dict[int, tuple[str, str]]] = (0, 0, {})
    for r in range(min(_HEADER_SCAN, len(rows))):
        single = _map_row(sheet, rows[r], None)
        cand = [(len(single), r + 1, single)]
        if r + 1 < len(rows):
            double = _map_row(sheet, rows[r + 1], rows[r])
            cand.append((len(double), r + 2, double))
        for score, start, mapping in cand:
            if score > best[0]:
                best = (score, start, mapping)
    return best[1], best[2]


def _map_row(sheet: Sheet, row: Sequence[Any], parent: Sequence[Any] | None) -> dict[int, tuple[str, str]]:
    out: dict[int, tuple[str, str]] = {}
    used: set[str] = set()
    for j, cell in enumerate(row):
        if _blank(cell) or not isinstance(cell, str):
            continue
        up = parent[j] if parent is not None and j < len(parent) else None
        tries: list[tuple[str, str]] = []
        if isinstance(up, str) and not _blank(up) and normalise_header(up) != normalise_header(cell):
            tries.append((_strip_unit(up) + normalise_header(cell), f"{up.strip()} / {cell.strip()}"))
        tries.append((cell, cell.strip()))
        for text, shown in tries:
            key = match_header(sheet, text)
            if key is not None and key not in used:
                out[j] = (key, shown)
                used.add(key)
                break
    return out


# --------------------------------------------------------------------------- sheet reading
def _read_rows(sheet: Sheet, rows: list[list[Any]], source: str, sheet_label: str,
               problems: list[Problem], headers: dict[str, dict[str, str]]) -> list[dict[str, Any]]:
    start, mapping = _find_header(sheet, rows)
    headers[sheet.key] = {key: shown for key, shown in mapping.values()}
    found = {key for key, _ in mapping.values()}
    missing = [c for c in sheet.columns if c.required and c.key not in found]
    if missing or not mapping:
        seen = [str(c).strip() for r in rows[:max(start, 1)] for c in r if not _blank(c)]
        for col in missing:
            problems.append(Problem("error", sheet_label, None, col.header,
                                    f"required column not found (also accepted: {', '.join(col.aliases[:4])}); "
                                    f"headers found: {seen}", None))
        if missing:
            return []
    header_row = rows[start - 1] if start else []
    for j, cell in enumerate(header_row):
        if j not in mapping and not _blank(cell):
            problems.append(Problem("warning", sheet_label, start, str(cell).strip(),
                                    "column not in the template; ignored", None))
    cols = {j: sheet.column(key) for j, (key, _) in mapping.items()}
    out: list[dict[str, Any]] = []
    for i in range(start, len(rows)):
        row = rows[i]
        if all(_blank(v) for j, v in enumerate(row) if j in cols):
            continue
        rec: dict[str, Any] = {"_row": i + 1, "_bad": set()}
        for j, col in cols.items():
            value = row[j] if j < len(row) else None
            try:
                rec[col.key] = parse_cell(col, value)
            except ValueError as exc:
                rec[col.key] = None
                rec["_bad"].add(col.key)
                problems.append(Problem("error", sheet_label, i + 1, headers[sheet.key][col.key], str(exc), value))
        for col in sheet.columns:
            rec.setdefault(col.key, None)
        out.append(rec)
    return out


def _xlsx_sheets(path: Path) -> dict[str, list[list[Any]]]:
    """Every sheet's cell values, laid out as in Excel (row 1 first), merged ranges
    filled with their top-left value; empty cells are ``None``.

    python-calamine (a Rust reader) is about ten times faster than openpyxl's
    read-only mode on large lists; openpyxl is the fallback for anything it refuses.
    """
    import python_calamine

    try:
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    except python_calamine.CalamineError as exc:
        if not zipfile.is_zipfile(path):
            raise ValueError(f"{path}: not a readable xlsx workbook ({exc})") from exc
        return _openpyxl_sheets(path)
    out: dict[str, list[list[Any]]] = {}
    for name in workbook.sheet_names:
        sheet = workbook.get_sheet_by_name(name)
        rows = [[_calamine_value(v) for v in row] for row in sheet.to_python(skip_empty_area=False)]
        _fill_merges(rows, [(r0, c0, r1, c1) for (r0, c0), (r1, c1) in (sheet.merged_cell_ranges or [])])
        out[name] = rows
    return out


def _calamine_value(value: Any) -> Any:
    """calamine gives '' for an empty cell and floats for every number: map to None and ints."""
    if isinstance(value, str):
        return value if value != "" else None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _fill_merges(rows: list[list[Any]], merges: list[tuple[int, int, int, int]]) -> None:
    for r0, c0, r1, c1 in merges:
        if r0 >= len(rows):
            continue
        value = rows[r0][c0] if c0 < len(rows[r0]) else None
        for r in range(r0, min(r1, len(rows) - 1) + 1):
            if len(rows[r]) <= c1:
                rows[r].extend([None] * (c1 + 1 - len(rows[r])))
            for c in range(c0, c1 + 1):
                rows[r][c] = value


def _openpyxl_sheets(path: Path) -> dict[str, list[list[Any]]]:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, data_only=True)
    except Exception as exc:  # openpyxl raises several types for a corrupt file
        raise ValueError(f"{path}: not a readable xlsx workbook ({exc})") from exc
    out: dict[str, list[list[Any]]] = {}
    for ws in wb.worksheets:
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
        merges = [(m.min_row - 1, m.min_col - 1, m.max_row - 1, m.max_col - 1) for m in ws.merged_cells.ranges]
        _fill_merges(rows, merges)
        out[ws.title] = rows
    return out


def _csv_rows(path: Path) -> list[list[Any]]:
    for enc in ("utf-8-sig", "gb18030"):
        try:
            with open(path, newline="", encoding=enc) as fh:
                return [list(r) for r in csv.reader(fh)]
        except UnicodeDecodeError:
            continue
    raise ValueError(f"{path}: not UTF-8 nor GB18030 text")


def _csv_sheets(path: Path) -> dict[str, list[list[Any]]]:
    folder = path if path.is_dir() else path.parent
    out: dict[str, list[list[Any]]] = {}
    for f in sorted(folder.glob("*.csv")):
        if match_sheet(f.stem) is not None:
            out[f.stem] = _csv_rows(f)
    if not out:
        raise FileNotFoundError(f"{folder}: no list CSV files; expected "
                                f"{[s.name + '.csv' for s in SHEETS]} or {[s.key + '.csv' for s in SHEETS]}")
    return out


def read_list_workbook(path: str | os.PathLike) -> ParsedList:
    """Read a list from an xlsx workbook or CSV files (see the module docstring).

    Parameters
    ----------
    path : path-like
        ``.xlsx`` file, a folder of CSV files, or one of those CSV files.

    Returns
    -------
    ParsedList
        Records and every reading problem; cuts left blank are filled from the
        measure (stop = baseline, other kinds = fraction × baseline, voluntary = 0).

    Raises
    ------
    FileNotFoundError
        If the path does not exist.
    ValueError
        If the file is not a readable workbook.
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such file or folder")
    if p.is_dir() or p.suffix.lower() == ".csv":
        raw = _csv_sheets(p)
    elif p.suffix.lower() in (".xlsx", ".xlsm"):
        raw = _xlsx_sheets(p)
    else:
        raise ValueError(f"{p}: expected an .xlsx workbook, a .csv file or a folder of CSV files, "
                         f"got {p.suffix or 'no extension'!r}")
    problems: list[Problem] = []
    headers: dict[str, dict[str, str]] = {}
    records: dict[str, list[dict[str, Any]]] = {s.key: [] for s in SHEETS}
    by_sheet: dict[str, str] = {}
    for name in raw:
        sheet = match_sheet(name)
        if sheet is None:
            if normalise_header(name) != normalise_header(README_SHEET):
                problems.append(Problem("warning", name, None, None, "sheet not in the template; ignored", None))
            continue
        if sheet.key in by_sheet:
            problems.append(Problem("error", name, None, None,
                                    f"second sheet for {sheet.name} (first: {by_sheet[sheet.key]})", None))
            continue
        by_sheet[sheet.key] = name
        records[sheet.key] = _read_rows(sheet, raw[name], str(p), name, problems, headers)
    for sheet in SHEETS:
        if sheet.key not in by_sheet:
            problems.append(Problem("error", sheet.name, None, None,
                                    f"sheet not found; the file has {list(raw)} "
                                    f"(expected {sheet.name} or {sheet.key})", None))
    parsed = ParsedList(records=records, source=str(p), problems=problems, headers=headers,
                        sheet_names=by_sheet)
    fill_cuts(parsed)
    return parsed


def fill_cuts(parsed: ParsedList) -> None:
    """Fill blank cuts of each measure from its kind, fraction and the line's baseline (in place)."""
    base = {(r["credit_code"], r["line_code"]): r for r in parsed.records["lines"]}
    for m in parsed.records["measures"]:
        line = base.get((m.get("credit_code"), m.get("line_code")))
        for pol in _POLLUTANTS:
            key = f"cut_{pol}"
            if m.get(key) is not None or key in m.get("_bad", ()):
                continue
            b = (line or {}).get(pol) or 0.0
            if b < 0:
                continue  # a negative baseline is reported once; no cut is derived from it
            if m.get("kind") == "stop" and (m.get("fraction") is None or 0 <= m["fraction"] <= 1):
                m[key] = b if m.get("fraction") is None else round(b * m["fraction"], 6)
            elif m.get("kind") == "voluntary" and m.get("fraction") is None:
                m[key] = 0.0
            elif m.get("fraction") is not None and 0 <= m["fraction"] <= 1:
                m[key] = round(b * m["fraction"], 6)
            elif m.get("fraction") is not None or "fraction" in m.get("_bad", ()):
                continue  # a bad fraction is reported once; no cut is derived from it
            else:
                m[key] = 0.0
                if m.get("kind") == "limit":
                    m["_cut_filled"] = True


# --------------------------------------------------------------------------- writing
def _readme_rows() -> Iterable[list[Any]]:
    yield ["工作表", "列名", "英文名/别名", "必填", "类型", "说明"]
    for sheet in SHEETS:
        for col in sheet.columns:
            yield [sheet.name, col.header, ", ".join((col.key, *col.aliases)), "是" if col.required else "否",
                   col.kind, col.help]
    yield []
    yield ["说明：每个企业在“企业”表一行；每条生产线（工序）在“生产线”表一行；每条生产线每个预警级别在“减排措施”表一行。"]
    yield ["表头允许空格、全角字符、同义词（见上表别名）和合并单元格；模板外的列（如 填表说明）读取时忽略。"]
    yield ["减排量单位为吨/日；比例为0–1的小数或百分数。"]


def _cell_out(col: Column, value: Any) -> Any:
    if value is None:
        return None
    if col.kind == "bool":
        return "是" if value else "否"
    if col.kind == "level":
        return WarningLevel.parse(value).label[:2]
    if col.kind == "kind":
        return MEASURE_KIND_LABELS[value]
    return value


def write_list_workbook(parsed: ParsedList | None, path: str | os.PathLike) -> Path:
    """Write a list (or, with ``None``, the empty template) as xlsx in the template layout.

    The write is atomic (temporary file, then ``os.replace``). Text columns are
    written as text (a credit code never turns into a number).

    Returns
    -------
    Path
        The file written.
    """
    import openpyxl
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill

    out = Path(path)
    if out.suffix.lower() != ".xlsx":
        raise ValueError(f"{out}: output must be an .xlsx file")
    wb = openpyxl.Workbook(write_only=True)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for sheet in SHEETS:
        ws = wb.create_sheet(sheet.name)
        for j, col in enumerate(sheet.columns):
            ws.column_dimensions[openpyxl.utils.get_column_letter(j + 1)].width = max(10, 2 * len(col.header) + 2)
        header = []
        for h in sheet.headers:
            c = WriteOnlyCell(ws, value=h)
            c.font, c.fill = bold, fill
            header.append(c)
        ws.append(header)
        if parsed is not None:
            for rec in parsed.records[sheet.key]:
                ws.append([_cell_out(col, rec.get(col.key)) for col in sheet.columns])
    ws = wb.create_sheet(README_SHEET)
    for row in _readme_rows():
        ws.append(row)
    with atomic_path(out) as tmp:
        wb.save(tmp)
    return out


def write_template(path: str | os.PathLike) -> Path:
    """Write the empty template (three sheets with headers and the 说明 sheet)."""
    return write_list_workbook(None, path)
