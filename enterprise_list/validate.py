"""Validation of a list before import: every problem at once, with where and why.

Each :class:`Problem` names the sheet, the row as Excel shows it, the column
header as written in the file, why, and the offending value. Errors block an
import; warnings (a measure weaker than the guide default, an ignored column)
do not.

Rules (errors unless marked):

* credit code: 18 characters of the GB 32100-2015 alphabet with the right check character;
* duplicate enterprise (credit code), duplicate line (credit code + line code), duplicate
  measure (line + level); a line of an enterprise not on 企业, a measure of a line not on 生产线;
* required cells blank; unknown grade, county, warning level or measure kind; cells that are
  not numbers where numbers are expected (numbers stored as text and full-width digits are accepted);
* baseline: all four pollutants blank (missing), or any negative;
* an enterprise with no production line; an enterprise graded other than 未评级 with no
  measure for a level;
* fraction outside 0–1; a 限产 with neither fraction nor cuts; a negative cut; a cut larger
  than the line's baseline; a stricter level with a smaller cut than a milder level;
* grade A+/A/引领性 given a 停产 (they take voluntary measures only);
* warning: a measure weaker than the guide default for the industry × grade × level.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Literal

from airwarn.vocab import EMISSION_LABELS, YANGQUAN_COUNTIES, WarningLevel
from enterprise_list import credit_code as cc
from enterprise_list.models import LEVELS, MEASURE_KIND_LABELS, VOLUNTARY_GRADES

if TYPE_CHECKING:  # pragma: no cover
    from enterprise_list.guide import Guide
    from enterprise_list.workbook import ParsedList

Severity = Literal["error", "warning"]
_POLLUTANTS = ("so2", "nox", "pm", "vocs")
_TOL = 1e-9


@dataclass(frozen=True)
class Problem:
    """One problem of a list file.

    Attributes
    ----------
    severity : {'error', 'warning'}
    sheet : str
        Sheet name as in the file (企业, 生产线, 减排措施).
    row : int or None
        Row number as Excel shows it (``None`` for a whole sheet or column).
    column : str or None
        Column header as written in the file.
    message : str
        Why it is a problem: what was expected and what came.
    value : object
        The cell's value as read.
    """

    severity: Severity
    sheet: str
    row: int | None
    column: str | None
    message: str
    value: Any = None

    def __str__(self) -> str:
        where = self.sheet
        if self.row is not None:
            where += f" row {self.row}"
        if self.column:
            where += f", column {self.column}"
        tail = "" if self.value is None else f" [value: {self.value!r}]"
        return f"{self.severity}: {where}: {self.message}{tail}"


def errors(problems: Iterable[Problem]) -> list[Problem]:
    """The problems that are errors."""
    return [p for p in problems if p.severity == "error"]


def format_report(problems: Iterable[Problem]) -> str:
    """A plain-text report, errors first, one problem a line, with a count line at the end."""
    problems = list(problems)
    errs = errors(problems)
    warns = [p for p in problems if p.severity == "warning"]
    lines = [str(p) for p in errs + warns]
    lines.append(f"{len(errs)} error(s), {len(warns)} warning(s)")
    return "\n".join(lines)


def validate(parsed: "ParsedList", *, counties: Iterable[str] | None = YANGQUAN_COUNTIES,
             guide: "Guide | None | bool" = None) -> list[Problem]:
    """Check a parsed list and return every problem (reading problems included).

    Parameters
    ----------
    parsed : ParsedList
        From :func:`enterprise_list.workbook.read_list_workbook` or the sample generator.
    counties : iterable of str, optional
        Valid counties/districts (default Yangquan's); ``None`` skips the check.
    guide : Guide, optional
        Guide defaults for the weaker-than-guide warnings (default: the bundled 2020
        table); ``False`` skips them.

    Returns
    -------
    list of Problem
        In sheet order, then row order.
    """
    from enterprise_list.guide import effective_fraction, load_guide

    if guide is None:
        guide = load_guide()
    out: list[Problem] = list(parsed.problems)
    county_set = None if counties is None else set(counties)
    names = {s: parsed.headers.get(s, {}) for s in ("enterprises", "lines", "measures")}
    from enterprise_list.template import SHEETS

    sheet_names = {s.key: s.name for s in SHEETS}
    sheet_names.update(getattr(parsed, "sheet_names", {}) or {})

    # a sheet that is missing or lacks a required column makes cross-sheet checks meaningless
    broken = {k for k, name in sheet_names.items()
              if any(p.severity == "error" and p.row is None and p.sheet == name for p in parsed.problems)}

    def hdr(sheet: str, key: str) -> str:
        return names[sheet].get(key) or next(c for s in SHEETS if s.key == sheet for c in s.columns
                                             if c.key == key).header

    def add(sev: Severity, sheet: str, rec: dict, key: str | None, msg: str, value: Any = None) -> None:
        out.append(Problem(sev, sheet_names[sheet], rec.get("_row"), hdr(sheet, key) if key else None, msg, value))

    def required(sheet: str, rec: dict) -> None:
        for col in next(s for s in SHEETS if s.key == sheet).columns:
            if col.required and rec.get(col.key) is None and col.key not in rec.get("_bad", ()):
                add("error", sheet, rec, col.key, "missing value (required)")

    # ---- enterprises
    ents: dict[str, dict] = {}
    for e in parsed.records["enterprises"]:
        required("enterprises", e)
        code = e.get("credit_code")
        if code:
            why = cc.problem(code)
            if why:
                add("error", "enterprises", e, "credit_code", f"invalid credit code: {why}", code)
            if code in ents:
                add("error", "enterprises", e, "credit_code",
                    f"duplicate enterprise: credit code already on row {ents[code].get('_row')}", code)
            else:
                ents[code] = e
        county = e.get("county")
        if county_set is not None and county is not None and county not in county_set:
            add("error", "enterprises", e, "county", f"unknown county; expected one of {sorted(county_set)}", county)

    # ---- lines
    lines: dict[tuple[str, str], dict] = {}
    lines_of: dict[str, list[dict]] = {}
    for ln in parsed.records["lines"]:
        required("lines", ln)
        code, lc = ln.get("credit_code"), ln.get("line_code")
        if code and code not in ents and "enterprises" not in broken:
            add("error", "lines", ln, "credit_code", "enterprise not on the enterprises sheet", code)
        if code and lc:
            if (code, lc) in lines:
                add("error", "lines", ln, "line_code",
                    f"duplicate line: {code} {lc} already on row {lines[(code, lc)].get('_row')}", lc)
            else:
                lines[(code, lc)] = ln
                lines_of.setdefault(code, []).append(ln)
        bad = ln.get("_bad", set())
        if all(ln.get(p) is None for p in _POLLUTANTS) and not bad & set(_POLLUTANTS):
            add("error", "lines", ln, "so2", "missing baseline: SO2, NOx, 颗粒物 and VOCs are all blank")
        for p in _POLLUTANTS:
            v = ln.get(p)
            if v is not None and v < 0:
                add("error", "lines", ln, p, "negative baseline (t/day must be ≥ 0)", v)

    # ---- measures
    measures: dict[tuple[str, str, str], dict] = {}
    levels_of: dict[str, set[str]] = {}
    for m in parsed.records["measures"]:
        required("measures", m)
        code, lc, level, kind = m.get("credit_code"), m.get("line_code"), m.get("level"), m.get("kind")
        line = lines.get((code, lc))
        if code and lc and line is None and "lines" not in broken:
            add("error", "measures", m, "line_code", f"line not on the lines sheet for {code}", lc)
        if code and lc and level:
            key = (code, lc, level)
            if key in measures:
                add("error", "measures", m, "level",
                    f"duplicate measure: line {lc} already has a {level} measure on row {measures[key].get('_row')}",
                    level)
            else:
                measures[key] = m
                levels_of.setdefault(code, set()).add(level)
        frac = m.get("fraction")
        if frac is not None and not 0 <= frac <= 1:
            add("error", "measures", m, "fraction",
                "fraction outside 0–1 (write 0.2 or 20% for a 20% cut)", frac)
        if kind == "limit" and frac is None and m.get("_cut_filled") and "fraction" not in m.get("_bad", ()):
            add("error", "measures", m, "fraction", "限产 (limit) needs a fraction or cuts")
        ent = ents.get(code or "")
        if ent and kind == "stop" and ent.get("grade") in VOLUNTARY_GRADES:
            add("error", "measures", m, "kind",
                f"grade {ent['grade']} must not be told to stop (voluntary measures only)", "停产")
        for p in _POLLUTANTS:
            cut = m.get(f"cut_{p}")
            if cut is None:
                continue
            if cut < 0:
                add("error", "measures", m, f"cut_{p}", "negative cut (t/day must be ≥ 0)", cut)
            elif line is not None and cut > (line.get(p) or 0.0) + _TOL:
                add("error", "measures", m, f"cut_{p}",
                    f"cut {cut:g} t/day larger than the line's {EMISSION_LABELS[p]} baseline "
                    f"{line.get(p) or 0.0:g} t/day", cut)
        # weaker than the guide (warning)
        if guide and ent and level and kind:
            g = guide.lookup(ent.get("industry"), ent.get("grade"), level)
            if g is not None:
                eff = effective_fraction(kind, frac)
                if eff + _TOL < g.effective_fraction or (kind == "voluntary" and g.kind != "voluntary"):
                    got = MEASURE_KIND_LABELS[kind] + (f" {frac:.0%}" if frac is not None else "")
                    want = MEASURE_KIND_LABELS[g.kind] + (f" {g.fraction:.0%}" if g.fraction is not None else "")
                    add("warning", "measures", m, "kind",
                        f"weaker than the guide for {ent.get('industry')} grade {ent.get('grade')} at {level}: "
                        f"guide {want} ({g.text}) [{g.provenance}], got {got}", kind)

    # ---- stricter level, weaker cut (per line)
    for (code, lc), ln in lines.items():
        present = [(lvl, measures[(code, lc, lvl)]) for lvl in LEVELS if (code, lc, lvl) in measures]
        for (lo_lvl, lo), (hi_lvl, hi) in zip(present, present[1:]):
            for p in _POLLUTANTS:
                a, b = lo.get(f"cut_{p}"), hi.get(f"cut_{p}")
                if a is not None and b is not None and b + _TOL < a:
                    add("error", "measures", hi, f"cut_{p}",
                        f"weaker than the milder level: {hi_lvl} cut {b:g} t/day < {lo_lvl} cut {a:g} t/day", b)

    # ---- enterprise completeness
    for code, e in ents.items():
        if "lines" in broken:
            break
        if code not in lines_of:
            add("error", "enterprises", e, "credit_code", "no production line on the lines sheet", code)
            continue
        if e.get("grade") and e.get("grade") != "未评级" and "measures" not in broken:
            for lvl in LEVELS:
                if lvl not in levels_of.get(code, set()):
                    add("error", "enterprises", e, "grade",
                        f"graded enterprise has no measure for {WarningLevel.parse(lvl).label} ({lvl})",
                        e.get("grade"))
    order = {sheet_names[k]: i for i, k in enumerate(("enterprises", "lines", "measures"))}
    out.sort(key=lambda p: (order.get(p.sheet, -1), p.row or 0))
    return out
