"""Default measures of the 2020 technical guide (环办大气函〔2020〕340号), as data.

The table ``enterprise_list/data/guide_measures_2020.csv`` gives, per industry ×
grade × level, the measure kind, fraction and text where the standards notes
give them (the cement clinker table; the B-grade examples), with a
``provenance`` column (``S`` secondary source, ``U`` unverified / assumed) and a
``note``. Industry ``*`` applies to every industry (e.g. grade A: voluntary).
The guide's tables for coking, refractories, brick and lime kilns were not
obtainable; the city's own list is the source for those.

The table pre-fills a list (:func:`prefill_measures`) and flags plants whose
measure is weaker than the guide for their grade (a warning, not an error).
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

from enterprise_list.models import GRADES, LEVELS, MEASURE_KINDS
from enterprise_list.records import ParsedList, fill_cuts
from airwarn.core.errors import InputError, UnknownNameError

#: Name of the bundled guide table.
DEFAULT_GUIDE = "guide_measures_2020"


@dataclass(frozen=True)
class GuideMeasure:
    """One guide default: what an industry × grade does at a level."""

    industry: str
    grade: str
    level: str
    kind: str
    fraction: float | None
    text: str
    provenance: str
    note: str

    @property
    def effective_fraction(self) -> float:
        """Share of the line's emissions the measure removes (stop without fraction = 1)."""
        return effective_fraction(self.kind, self.fraction)


def effective_fraction(kind: str | None, fraction: float | None) -> float:
    """Share of emissions a measure removes: ``stop`` → fraction or 1, otherwise fraction or 0."""
    if kind == "stop":
        return 1.0 if fraction is None else fraction
    return 0.0 if fraction is None else fraction


@dataclass(frozen=True)
class Guide:
    """A guide table indexed by (industry, grade, level); industry ``*`` is the fallback."""

    name: str
    rows: tuple[GuideMeasure, ...]
    _index: dict = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {(g.industry, g.grade, g.level): g for g in self.rows})

    def lookup(self, industry: str | None, grade: str | None, level: str) -> GuideMeasure | None:
        """The guide measure for an industry, grade and level, or ``None`` if the guide gives none."""
        return (self._index.get((industry or "", grade or "", level))
                or self._index.get(("*", grade or "", level)))


def load_guide(name_or_path: str | os.PathLike = DEFAULT_GUIDE) -> Guide:
    """Load a bundled guide table by name, or a CSV file in the same layout.

    Raises
    ------
    KeyError
        If the name is neither a bundled table nor an existing file (lists the bundled names).
    ValueError
        If a row has an unknown grade, level or kind, or a fraction outside 0–1.
    """
    path = Path(name_or_path)
    if not path.exists():
        bundled = {p.name.removesuffix(".csv") for p in resources.files("enterprise_list").joinpath("data").iterdir()
                   if p.name.startswith("guide_") and p.name.endswith(".csv")}
        if str(name_or_path) not in bundled:
            raise UnknownNameError(f"unknown guide {str(name_or_path)!r}; bundled: {sorted(bundled)} (or give a CSV path)")
        path = Path(str(resources.files("enterprise_list").joinpath("data", f"{name_or_path}.csv")))
    return _load(str(path))


@lru_cache(maxsize=8)
def _load(path: str) -> Guide:
    rows = []
    with open(path, newline="", encoding="utf-8") as fh:
        for i, r in enumerate(csv.DictReader(fh), start=2):
            where = f"{path} row {i}"
            if r["grade"] not in GRADES:
                raise InputError(f"{where}, column grade: unknown grade {r['grade']!r}; expected {list(GRADES)}")
            if r["level"] not in LEVELS:
                raise InputError(f"{where}, column level: unknown level {r['level']!r}; expected {list(LEVELS)}")
            if r["kind"] not in MEASURE_KINDS:
                raise InputError(f"{where}, column kind: unknown kind {r['kind']!r}; expected {list(MEASURE_KINDS)}")
            frac = float(r["fraction"]) if r["fraction"].strip() else None
            if frac is not None and not 0 <= frac <= 1:
                raise InputError(f"{where}, column fraction: expected 0–1, got {frac}")
            rows.append(GuideMeasure(r["industry"], r["grade"], r["level"], r["kind"], frac, r["text"],
                                     r["provenance"], r["note"]))
    return Guide(Path(path).stem, tuple(rows))


def prefill_measures(parsed: ParsedList, guide: Guide | None = None) -> ParsedList:
    """Add the guide's measure for every line and level that has none.

    Parameters
    ----------
    parsed : ParsedList
        A list as read or generated.
    guide : Guide, optional
        Defaults to the bundled 2020 table.

    Returns
    -------
    ParsedList
        A new list; lines whose industry × grade × level the guide does not cover
        are left as they were (the validator then reports the missing level).
    """
    guide = guide or load_guide()
    ents = {e["credit_code"]: e for e in parsed.records["enterprises"]}
    have = {(m["credit_code"], m["line_code"], m["level"]) for m in parsed.records["measures"]}
    added = []
    for line in parsed.records["lines"]:
        ent = ents.get(line["credit_code"])
        if ent is None:
            continue
        for level in LEVELS:
            if (line["credit_code"], line["line_code"], level) in have:
                continue
            g = guide.lookup(ent.get("industry"), ent.get("grade"), level)
            if g is None:
                continue
            added.append({"_row": None, "_bad": set(), "credit_code": line["credit_code"],
                          "line_code": line["line_code"], "level": level, "kind": g.kind, "fraction": g.fraction,
                          "text": g.text, "timing": "预警期间",
                          "cut_so2": None, "cut_nox": None, "cut_pm": None, "cut_vocs": None})
    records = dict(parsed.records)
    records["measures"] = list(parsed.records["measures"]) + added
    out = ParsedList(records=records, source=parsed.source, problems=list(parsed.problems),
                     headers=parsed.headers, sheet_names=parsed.sheet_names)
    fill_cuts(out)
    return out
