"""Import a list file into the database as a new version, and export a version back.

An import is all or nothing: the file is read and validated first (every
problem reported at once), and only a file without errors is written, in one
transaction, as a new :class:`~enterprise_list.models.ListVersion`. The
validation compares the file with the version in force on its effective date
(:func:`totals_in_force`): a version that drops more than
:data:`~enterprise_list.validate.MAX_SHRINK` of the enterprises, lines or a
pollutant's baseline is refused unless the drop is confirmed (``allow_shrink``). A revision is
always a new version; history is never overwritten, and
:func:`~enterprise_list.models.version_on` reads back the list in force on any day.

The export writes a version in the template (:mod:`enterprise_list.template`), in
import order, so that export → import → export gives the same workbook.
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable, Literal

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from airwarn.core.dates import today_beijing
from airwarn.core.db import create_tables, session_scope
from airwarn.core.errors import InputError
from airwarn.core.vocab import EMISSION_POLLUTANTS
from enterprise_list.frames import store_frames
from enterprise_list.models import (
    Enterprise, ListVersion, Measure, ProductionLine, resolve_version, version_on,
)
from enterprise_list.records import ParsedList, Problem, errors, format_report
from enterprise_list.sample import NAME_SUFFIX, SYNTHETIC_NOTE
from enterprise_list.template import SHEETS
from enterprise_list.validate import (
    CONFIGURED, MAX_SHRINK, Change, ListTotals, compare_totals, format_changes, list_totals, validate,
)
from enterprise_list.workbook import read_list_workbook, write_list_workbook

__all__ = ["ImportResult", "ListValidationError", "import_list", "export_list", "load_list",
           "read_list_workbook", "totals_in_force", "validate", "write_list_workbook"]

_ENT_COLS = [c.key for c in SHEETS[0].columns]
_LINE_COLS = [c.key for c in SHEETS[1].columns if c.key != "credit_code"]
_MEAS_COLS = [c.key for c in SHEETS[2].columns if c.key not in ("credit_code", "line_code")]


class ListValidationError(InputError):
    """A list file has errors; nothing was imported. ``problems`` holds every problem."""

    def __init__(self, message: str, problems: list[Problem], changes: list[Change] | None = None,
                 previous: ListTotals | None = None):
        super().__init__(message)
        self.problems = problems
        self.changes = changes or []
        self.previous = previous

    @property
    def shrink_only(self) -> bool:
        """Whether every error is a drop against the version in force (importable once confirmed)."""
        errs = errors(self.problems)
        return bool(errs) and all(p.code == "shrink" for p in errs)


@dataclass(frozen=True)
class ImportResult:
    """What an import stored.

    Attributes
    ----------
    version_id, version_name : int, str
        The new list version.
    effective_date : date
    n_enterprises, n_lines, n_measures : int
    warnings : list of Problem
        Problems that did not block the import (weaker than the guide, ignored columns, a confirmed drop).
    changes : list of Change
        The new version against the one in force before it (empty if there was none).
    previous : ListTotals or None
        That version's size.
    """

    version_id: int
    version_name: str
    effective_date: dt.date
    n_enterprises: int
    n_lines: int
    n_measures: int
    warnings: list[Problem]
    changes: list[Change] = field(default_factory=list)
    previous: ListTotals | None = None

    def summary(self) -> str:
        """One line: version, counts, warnings (and what changed against the version in force)."""
        text = (f"imported list version {self.version_name!r} (id {self.version_id}, effective "
                f"{self.effective_date}): {self.n_enterprises} enterprises, {self.n_lines} lines, "
                f"{self.n_measures} measures, {len(self.warnings)} warning(s)")
        return text + (f"; {format_changes(self.changes, self.previous)}" if self.previous is not None else "")


def import_list(session_or_engine: Session | Engine, path: str | os.PathLike | ParsedList, version_name: str,
                effective_date: dt.date, *, year: int | None = None, approved_by: str | None = None,
                approval_doc: str | None = None, note: str | None = None, synthetic: bool = False,
                counties: Iterable[str] | None | Literal["configured"] = CONFIGURED, guide=None, bounds=None,
                allow_shrink: bool = False, max_shrink: float = MAX_SHRINK,
                source_name: str | None = None) -> ImportResult:
    """Validate a list file and store it as a new list version, in one transaction.

    Parameters
    ----------
    session_or_engine : Session or Engine
        With an engine, the tables are created if needed and the import commits on
        success. With a session, the rows are written inside a savepoint and the
        caller commits.
    path : path-like or ParsedList
        xlsx, CSV folder/file (see :func:`read_list_workbook`), or an already parsed list.
    version_name : str
        Unique name of the new version, e.g. ``"2026年度"`` or ``"2026年度第1次修订"``.
    effective_date : date
        First day the version is in force.
    year : int, optional
        The list's year (default: the effective date's).
    approved_by, approval_doc, note : str, optional
        Approval authority, approval document number, free note.
    synthetic : bool
        Mark the version as synthetic (demo data). A file whose every enterprise is marked synthetic
        (name ending in ``(合成)`` or note 合成示例数据, as :mod:`enterprise_list.sample` writes them)
        is marked so whatever this says (:func:`marked_synthetic`).
    counties : iterable of str, None or ``"configured"``
        Valid counties (default: the configured city's,
        :func:`enterprise_list.validate.default_counties`); ``None`` accepts any.
    guide : Guide, optional
        Guide defaults for warnings (default bundled; ``False`` for none).
    bounds : Bounds or str, optional
        The city's box for the coordinates (see :func:`enterprise_list.validate.validate`).
    allow_shrink : bool
        Confirm a drop of more than ``max_shrink`` against the version in force on
        ``effective_date`` (it is then a warning of the result, not an error).
    max_shrink : float
        See :data:`enterprise_list.validate.MAX_SHRINK`.
    source_name : str, optional
        The file name to record (default: the file's; e.g. the name an upload had).

    Returns
    -------
    ImportResult

    Raises
    ------
    ListValidationError
        If the file has any error (a ValueError; its message is the full report, with what changed
        against the version in force). Nothing is written.
    ValueError
        If the version name exists already.
    """
    parsed = path if isinstance(path, ParsedList) else read_list_workbook(path)
    if not version_name or not str(version_name).strip():
        raise InputError("version_name must be a non-empty string")
    if not isinstance(effective_date, dt.date):
        raise InputError(f"effective_date must be a date, got {effective_date!r}")
    if source_name is None and not isinstance(path, ParsedList):
        source_name = Path(path).name
    meta = dict(name=str(version_name).strip(), year=year or effective_date.year, effective_date=effective_date,
                approved_by=approved_by, approval_doc=approval_doc, note=note,
                synthetic=bool(synthetic) or marked_synthetic(parsed),
                source_file=None if source_name is None else str(source_name)[:256])
    checks = dict(counties=counties, guide=guide, bounds=bounds, allow_shrink=allow_shrink, max_shrink=max_shrink)
    if isinstance(session_or_engine, Session):
        with session_or_engine.begin_nested():
            return _check_and_store(session_or_engine, parsed, meta, checks)
    create_tables(session_or_engine)
    with session_scope(session_or_engine) as session:
        return _check_and_store(session, parsed, meta, checks)


def marked_synthetic(parsed: ParsedList) -> bool:
    """Whether every enterprise of a list is marked synthetic (its name ends in
    :data:`enterprise_list.sample.NAME_SUFFIX` or its note holds :data:`~enterprise_list.sample.SYNTHETIC_NOTE`)."""
    ents = parsed.records.get("enterprises") or []
    return bool(ents) and all(str(e.get("name") or "").endswith(NAME_SUFFIX)
                              or SYNTHETIC_NOTE in str(e.get("note") or "") for e in ents)


def totals_in_force(session: Session, day: dt.date | None = None) -> ListTotals | None:
    """The size of the version in force on ``day`` (default today, Beijing time), or ``None`` if none is.

    Enterprises, lines and the total baseline per pollutant [t/day], summed in the database.
    """
    v = version_on(session, day or today_beijing())
    if v is None:
        return None
    n_e, n_l, _ = count_rows(session, v)
    sums = session.execute(select(*(func.coalesce(func.sum(getattr(ProductionLine, p)), 0.0)
                                    for p in EMISSION_POLLUTANTS))
                           .join(Enterprise).where(Enterprise.version_id == v.id)).one()
    return ListTotals(v.name, n_e, n_l, dict(zip(EMISSION_POLLUTANTS, map(float, sums))))


def _check_and_store(session: Session, parsed: ParsedList, meta: dict, checks: dict) -> ImportResult:
    """Validate against the version in force on the effective date, then store (same transaction)."""
    existing = session.scalars(select(ListVersion).where(ListVersion.name == meta["name"])).first()
    if existing is not None:
        raise InputError(f"list version {meta['name']!r} already exists (id {existing.id}, effective "
                         f"{existing.effective_date}); a revision is imported under a new name")
    previous = totals_in_force(session, meta["effective_date"])
    problems = validate(parsed, previous=previous, **checks)
    changes = compare_totals(list_totals(parsed), previous) if previous is not None else []
    errs = errors(problems)
    if errs:
        raise ListValidationError(f"{parsed.source}: {len(errs)} error(s); nothing imported\n"
                                  + format_report(problems)
                                  + ("\n" + format_changes(changes, previous) if previous is not None else ""),
                                  problems, changes, previous)
    warnings = [p for p in problems if p.severity == "warning"]
    return replace(_store(session, parsed, meta, warnings), changes=changes, previous=previous)


def _store(session: Session, parsed: ParsedList, meta: dict, warnings: list[Problem]) -> ImportResult:
    version = ListVersion(**meta)
    session.add(version)
    session.flush()
    # Core bulk inserts (one statement per 1,000 rows): a key given as None bypasses a column's default,
    # so every defaulted column (compliant, baselines, text, cuts) is filled here
    ents = parsed.records["enterprises"]
    ent_rows = [{"version_id": version.id, **{k: e.get(k) for k in _ENT_COLS}} for e in ents]
    for r in ent_rows:
        r["compliant"] = True if r["compliant"] is None else r["compliant"]
    ent_ids: dict[str, int] = {}
    if ent_rows:
        res = session.execute(insert(Enterprise.__table__).returning(Enterprise.id, Enterprise.credit_code,
                                                           sort_by_parameter_order=True), ent_rows)
        ent_ids = {code: i for i, code in res}
    line_rows = [{"enterprise_id": ent_ids[ln["credit_code"]], **{k: ln.get(k) for k in _LINE_COLS}}
                 for ln in parsed.records["lines"]]
    for r in line_rows:
        for p in EMISSION_POLLUTANTS:
            r[p] = r[p] or 0.0
    line_ids: dict[tuple[int, str], int] = {}
    if line_rows:
        res = session.execute(insert(ProductionLine.__table__).returning(
            ProductionLine.id, ProductionLine.enterprise_id, ProductionLine.line_code,
            sort_by_parameter_order=True), line_rows)
        line_ids = {(eid, lc): i for i, eid, lc in res}
    meas_rows = []
    for m in parsed.records["measures"]:
        row = {"line_id": line_ids[(ent_ids[m["credit_code"]], m["line_code"])],
               **{k: m.get(k) for k in _MEAS_COLS}}
        row["text"] = row["text"] or ""
        for p in EMISSION_POLLUTANTS:
            row[f"cut_{p}"] = row[f"cut_{p}"] or 0.0
        meas_rows.append(row)
    if meas_rows:
        session.execute(insert(Measure.__table__), meas_rows)
    session.flush()
    store_frames(session, version.id)  # the columnar copy for whole-list reads, in the same transaction
    return ImportResult(version.id, version.name, version.effective_date, len(ent_rows), len(line_rows),
                        len(meas_rows), warnings)


def load_list(session: Session, version: "ListVersion | int | str | dt.date | None" = None) -> ParsedList:
    """Read a stored version back as a :class:`ParsedList` (records in import order).

    Parameters
    ----------
    version : ListVersion, id, name, date or None
        See :func:`enterprise_list.models.resolve_version`.
    """
    v = resolve_version(session, version)
    e_cols = [getattr(Enterprise, k) for k in _ENT_COLS]
    ents = [dict(zip(_ENT_COLS, r)) | {"_row": None, "_bad": set()} for r in session.execute(
        select(*e_cols).where(Enterprise.version_id == v.id).order_by(Enterprise.id))]
    l_cols = [getattr(ProductionLine, k) for k in _LINE_COLS]
    lines = [dict(zip(["credit_code", *_LINE_COLS], r)) | {"_row": None, "_bad": set()} for r in session.execute(
        select(Enterprise.credit_code, *l_cols).join(Enterprise).where(Enterprise.version_id == v.id)
        .order_by(ProductionLine.id))]
    m_cols = [getattr(Measure, k) for k in _MEAS_COLS]
    meas = [dict(zip(["credit_code", "line_code", *_MEAS_COLS], r)) | {"_row": None, "_bad": set()}
            for r in session.execute(
                select(Enterprise.credit_code, ProductionLine.line_code, *m_cols)
                .join(ProductionLine, Measure.line_id == ProductionLine.id)
                .join(Enterprise, ProductionLine.enterprise_id == Enterprise.id)
                .where(Enterprise.version_id == v.id).order_by(Measure.id))]
    return ParsedList(records={"enterprises": ents, "lines": lines, "measures": meas},
                      source=f"list version {v.name!r} (id {v.id})")


def export_list(session_or_engine: Session | Engine, out: str | os.PathLike,
                version: "ListVersion | int | str | dt.date | None" = None) -> Path:
    """Write a stored version to an xlsx workbook in the template (atomic write).

    Returns
    -------
    Path
        The file written.
    """
    if isinstance(session_or_engine, Session):
        return write_list_workbook(load_list(session_or_engine, version), out)
    with session_scope(session_or_engine) as session:
        return write_list_workbook(load_list(session, version), out)


def count_rows(session: Session, version: ListVersion) -> tuple[int, int, int]:
    """Numbers of enterprises, lines and measures of a version."""
    n_e = session.scalar(select(func.count()).select_from(Enterprise).where(Enterprise.version_id == version.id))
    n_l = session.scalar(select(func.count()).select_from(ProductionLine).join(Enterprise)
                         .where(Enterprise.version_id == version.id))
    n_m = session.scalar(select(func.count()).select_from(Measure).join(ProductionLine).join(Enterprise)
                         .where(Enterprise.version_id == version.id))
    return int(n_e or 0), int(n_l or 0), int(n_m or 0)
