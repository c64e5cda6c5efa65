"""Read and write list workbooks (xlsx and CSV) in the template of :mod:`enterprise_list.template`.

Reading maps drifting headers onto the canonical columns, fills merged cells
(header groups and data cells merged down over several lines of an enterprise),
skips blank rows, converts numbers stored as text and full-width digits, and
records every cell it cannot read as a :class:`~enterprise_list.records.Problem`
with the sheet, the row number as Excel shows it, the header as written in the
file, why, and the value. It never raises on bad cells: the caller validates the
whole :class:`ParsedList` and reports every problem at once.

CSV: a folder holding ``企业.csv``, ``生产线.csv`` and ``减排措施.csv`` (or
``enterprises.csv``, ``lines.csv``, ``measures.csv``), or the path of any one of
them (its siblings are read). UTF-8 (with or without BOM) or GB18030/GBK.

Hostile files (issue 14, breaks 1, 3, 4, 10): an xlsx is checked before any reader parses it
(:func:`enterprise_list.xlsx_safety.check_xlsx`: zip bombs, the reader's bounds, malformed XML, and
the formulas without a saved value, which are errors, never blanks); CSV files are held to the same
bounds. Writers never emit live formulas: text is written as text in xlsx
and escaped with a leading ``'`` in CSV (:func:`airwarn.core.files.csv_escape`), which the CSV reader
undoes, so an exported list reads back to the same values.
"""
from __future__ import annotations

import csv
import math
import os
import re
import unicodedata
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from airwarn.core.files import FORMULA_TRIGGERS, atomic_path, csv_escape, csv_unescape
from airwarn.core.units import EMISSION
from airwarn.core.vocab import WarningLevel
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
from enterprise_list.xlsx_safety import (
    MAX_CELLS,
    MAX_COLUMNS,
    MAX_ROWS,
    MAX_UNPACKED_BYTES,
    RefusedWorkbook,
    SheetScan,
    check_xlsx,
)
from enterprise_list.records import ParsedList, Problem, fill_cuts
from airwarn.core.errors import InputError, UnknownNameError

#: Rows searched for the header row.
_HEADER_SCAN = 12


# --------------------------------------------------------------------------- cell parsing
class _CellError(InputError):
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
    except UnknownNameError:
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


#: A credit code that Excel made a number and a CSV kept as text: ``9.11403E+17``.
_CODE_AS_NUMBER = re.compile(r"\d+(\.\d*)?E\+?\d+")


def _code(v: Any) -> str:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        shown = f"{float(v):.15g}"
    else:
        code = cc.normalise(v)
        if not _CODE_AS_NUMBER.fullmatch(code):
            return code
        shown = str(v).strip()
    raise _CellError(f"the credit code was stored as a number by Excel ({shown}); "
                     "format the column as text and re-enter it")


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
        return _code(value)
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
#: Why a formula cell without a cached value is an error (it would otherwise read as blank, or 0).
FORMULA_MESSAGE = "formula without a saved value (open and save the file in Excel, or paste values)"


def _read_rows(sheet: Sheet, rows: list[list[Any]], source: str, sheet_label: str,
               problems: list[Problem], headers: dict[str, dict[str, str]],
               formulas: dict[tuple[int, int], str] | None = None) -> list[dict[str, Any]]:
    """The sheet's records; ``formulas`` holds the cells ``(row, column)`` (0-based) with a
    formula and no saved value, each an error of its column."""
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
    by_row: dict[int, dict[int, str]] = {}
    for (i, j), text in (formulas or {}).items():
        if i >= start and j in cols:
            by_row.setdefault(i, {})[j] = text
    out: list[dict[str, Any]] = []
    for i in range(start, max(len(rows), max(by_row, default=-1) + 1)):
        row = rows[i] if i < len(rows) else []
        unsaved = by_row.get(i)
        if unsaved is None and all(_blank(v) for j, v in enumerate(row) if j in cols):
            continue
        rec: dict[str, Any] = {"_row": i + 1, "_bad": set()}
        for j, col in cols.items():
            if unsaved and j in unsaved:
                rec[col.key] = None
                rec["_bad"].add(col.key)
                problems.append(Problem("error", sheet_label, i + 1, headers[sheet.key][col.key], FORMULA_MESSAGE,
                                        unsaved[j]))
                continue
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


# --------------------------------------------------------------------------- xlsx reading
def _xlsx_book(path: Path, wanted: Callable[[str], bool] | None = None
               ) -> tuple[dict[str, list[list[Any]]], dict[str, dict[tuple[int, int], str]]]:
    """Every sheet's cell values laid out as in Excel (row 1 first; ``[]`` for sheets not wanted),
    merged ranges filled with their top-left value, empty cells ``None``; and per sheet the formulas
    without a saved value. :func:`check_xlsx` runs first, so no reader sees a hostile file.

    python-calamine (a Rust reader) is about ten times faster than openpyxl's read-only mode on
    large lists; openpyxl is the fallback for anything it refuses.
    """
    import python_calamine

    scans = check_xlsx(path, wanted)
    try:
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
        out: dict[str, list[list[Any]]] = {}
        for name, scan in scans.items():
            if scan is None:
                out[name] = []
                continue
            sheet = workbook.get_sheet_by_name(name)
            rows = [[_calamine_value(v) for v in row] for row in sheet.to_python(skip_empty_area=False)]
            merges = [(r0, c0, r1, c1) for (r0, c0), (r1, c1) in (sheet.merged_cell_ranges or [])]
            _fill_merges(rows, merges, f"{path}: sheet {name}")
            out[name] = rows
    except python_calamine.CalamineError as exc:
        out = _openpyxl_sheets(path, scans, exc)
    except BaseException as exc:  # a Rust panic arrives as pyo3's PanicException, a BaseException
        if type(exc).__name__ != "PanicException":
            raise
        out = _openpyxl_sheets(path, scans, exc)
    return out, {name: scan.formulas for name, scan in scans.items() if scan is not None}


def _xlsx_sheets(path: Path) -> dict[str, list[list[Any]]]:
    """Every sheet's cell values (see :func:`_xlsx_book`)."""
    return _xlsx_book(path)[0]


def _calamine_value(value: Any) -> Any:
    """calamine gives '' for an empty cell and floats for every number: map to None and ints."""
    if isinstance(value, str):
        return value if value != "" else None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _fill_merges(rows: list[list[Any]], merges: list[tuple[int, int, int, int]], where: str = "") -> None:
    """Fill merged ranges (0-based, inclusive) with their top-left value, clipped to the used range.

    Raises
    ------
    ValueError
        If the ranges cover more cells than the used range holds (they overlap; Excel forbids it).
    """
    width = max((len(r) for r in rows), default=0)
    covered = 0
    for r0, c0, r1, c1 in merges:
        r1, c1 = min(r1, len(rows) - 1), min(c1, width - 1)
        if r0 > r1 or c0 > c1:
            continue
        covered += (r1 - r0 + 1) * (c1 - c0 + 1)
        if covered > max(len(rows) * width, 1):
            raise RefusedWorkbook(f"{where}: merged ranges cover more cells than the sheet holds (they overlap); "
                             "unmerge and merge them again in Excel")
        value = rows[r0][c0] if c0 < len(rows[r0]) else None
        for r in range(r0, r1 + 1):
            if len(rows[r]) <= c1:
                rows[r].extend([None] * (c1 + 1 - len(rows[r])))
            for c in range(c0, c1 + 1):
                rows[r][c] = value


def _openpyxl_sheets(path: Path, scans: dict[str, SheetScan | None], why: BaseException) -> dict[str, list[list[Any]]]:
    """The fallback reader, bounded by the scans (openpyxl counts styled empty cells in its extent)."""
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, data_only=True)
        out: dict[str, list[list[Any]]] = {}
        for name, scan in scans.items():
            if scan is None or not scan.rows or not scan.cols:
                out[name] = []
                continue
            ws = wb[name]
            rows = [list(r) for r in ws.iter_rows(min_row=1, max_row=scan.rows, min_col=1, max_col=scan.cols,
                                                  values_only=True)]
            merges = [(m.min_row - 1, m.min_col - 1, m.max_row - 1, m.max_col - 1) for m in ws.merged_cells.ranges]
            _fill_merges(rows, merges, f"{path}: sheet {name}")
            out[name] = rows
    except RefusedWorkbook:
        raise
    except Exception as exc:  # openpyxl raises several types for a corrupt file
        raise InputError(f"{path}: not a readable xlsx workbook ({why}; {exc})") from None
    return out


def _csv_rows(path: Path) -> list[list[Any]]:
    """The rows of one CSV file (UTF-8 with or without BOM, else GB18030), the CSV escape of
    :func:`airwarn.core.files.csv_escape` undone; bounded like the xlsx reader."""
    size = path.stat().st_size
    if size > MAX_UNPACKED_BYTES:
        raise InputError(f"{path}: {size / 2**20:,.0f} MB, more than the reader's limit of "
                         f"{MAX_UNPACKED_BYTES // 2**20} MB")
    for enc in ("utf-8-sig", "gb18030"):
        try:
            with open(path, newline="", encoding=enc) as fh:
                reader = csv.reader(fh)
                rows: list[list[Any]] = []
                cells = 0
                try:
                    for row in reader:
                        cells += len(row)
                        if len(rows) >= MAX_ROWS or len(row) > MAX_COLUMNS or cells > MAX_CELLS:
                            raise InputError(f"{path}: line {reader.line_num} lies beyond the reader's limit of "
                                             f"{MAX_ROWS} rows × {MAX_COLUMNS} columns ({MAX_CELLS:,} cells)")
                        rows.append([csv_unescape(v) if v[:1] == "'" else v for v in row])
                except csv.Error as exc:
                    raise InputError(f"{path}: line {reader.line_num}: not readable as CSV ({exc})") from None
                return rows
        except UnicodeDecodeError:
            continue
    raise InputError(f"{path}: not UTF-8 nor GB18030 text; save it as CSV UTF-8")


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
        One line naming the file: not a readable workbook, malformed or undecodable, or beyond
        the reader's limits (:func:`check_xlsx`). Bad cells are problems, not exceptions.
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such file or folder")
    formulas: dict[str, dict[tuple[int, int], str]] = {}
    if p.is_dir() or p.suffix.lower() == ".csv":
        raw = _csv_sheets(p)
    elif p.suffix.lower() in (".xlsx", ".xlsm"):
        raw, formulas = _xlsx_book(p, wanted=lambda name: match_sheet(name) is not None)
    else:
        raise InputError(f"{p}: expected an .xlsx workbook, a .csv file or a folder of CSV files, "
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
        records[sheet.key] = _read_rows(sheet, raw[name], str(p), name, problems, headers, formulas.get(name))
    for sheet in SHEETS:
        if sheet.key not in by_sheet:
            problems.append(Problem("error", sheet.name, None, None,
                                    f"sheet not found; the file has {list(raw)} "
                                    f"(expected {sheet.name} or {sheet.key})", None))
    parsed = ParsedList(records=records, source=str(p), problems=problems, headers=headers,
                        sheet_names=by_sheet)
    fill_cuts(parsed)
    return parsed


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
    yield [f"减排量单位为{EMISSION.zh}；比例为0–1的小数或百分数。"]


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


def _xlsx_text(ws: Any, value: Any) -> Any:
    """A text that a spreadsheet could take for a formula as an explicit text cell (openpyxl makes
    every text starting with ``=`` a formula); other values as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(ws, value=value)
        cell.data_type = "s"
        return cell
    return value


def write_list_csv(parsed: ParsedList | None, folder: str | os.PathLike) -> list[Path]:
    """Write a list as CSV files ``企业.csv``, ``生产线.csv``, ``减排措施.csv`` (UTF-8 with BOM) into ``folder``.

    Text that a spreadsheet would run as a formula is escaped with a leading ``'``
    (:func:`airwarn.core.files.csv_escape`); :func:`read_list_workbook` undoes it, so the files read
    back to the same values. Each file is written atomically.

    Returns
    -------
    list of Path
        The files written.
    """
    folder = Path(folder)
    written = []
    for sheet in SHEETS:
        out = folder / f"{sheet.name}.csv"
        with atomic_path(out) as tmp:
            with open(tmp, "w", newline="", encoding="utf-8-sig") as fh:
                w = csv.writer(fh)
                w.writerow(sheet.headers)
                for rec in (parsed.records[sheet.key] if parsed is not None else []):
                    w.writerow(["" if v is None else csv_escape(v)
                                for v in (_cell_out(col, rec.get(col.key)) for col in sheet.columns)])
        written.append(out)
    return written


def write_list_workbook(parsed: ParsedList | None, path: str | os.PathLike) -> Path:
    """Write a list (or, with ``None``, the empty template) as xlsx in the template layout, or,
    for a path without a suffix, as a folder of CSV files (:func:`write_list_csv`).

    The write is atomic (temporary file, then ``os.replace``). Text columns are
    written as text (a credit code never turns into a number) and no cell is ever a
    formula: text such as ``=HYPERLINK(…)`` stays text.

    Returns
    -------
    Path
        The file (or folder) written.
    """
    import openpyxl
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill

    out = Path(path)
    if out.suffix == "" and not out.is_file():
        write_list_csv(parsed, out)
        return out
    if out.suffix.lower() != ".xlsx":
        raise InputError(f"{out}: output must be an .xlsx file, or a folder (no suffix) for CSV files")
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
                ws.append([_xlsx_text(ws, _cell_out(col, rec.get(col.key))) for col in sheet.columns])
    ws = wb.create_sheet(README_SHEET)
    for row in _readme_rows():
        ws.append(row)
    with atomic_path(out) as tmp:
        wb.save(tmp)
    return out


def write_template(path: str | os.PathLike) -> Path:
    """Write the empty template (three sheets with headers and the 说明 sheet)."""
    return write_list_workbook(None, path)
