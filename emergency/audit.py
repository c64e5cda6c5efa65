"""The warning tables' shared layer: snapshots, conflicts, the audit hash, refusals and reading.

What the lifecycle (:mod:`emergency.lifecycle`), the provincial notices (:mod:`emergency.notices`),
the bulletin edits (:mod:`emergency.edits`) and the check of the chains (:mod:`emergency.verify`)
all need, so that none of them imports another to get it:

* the snapshots :class:`WarningState` (a warning row), :class:`AuditEntry` (an audit row) and
  :class:`Refusal`, and :func:`audit_hash` (the hash over an audit row's content);
* the errors :class:`WarningConflictError` and :class:`StaleRevisionError`, and the revision check
  (:func:`check_revision`) that raises the latter naming what changed, who changed it and when;
* the plumbing: :func:`transaction` (an ``Engine`` runs and commits its own transaction, a
  ``Session`` joins the caller's), :func:`get_record`, the area names (:func:`canonical_area`,
  :func:`lookup_area`) and :func:`as_date`;
* refusals: :func:`record_refusal` logs a refused attempt to the ``airwarn.warning`` logger and
  appends it to ``warning_refusal``; :func:`refusals_recorded` does so for every refusal of a step;
* reading: :func:`audit_log`, :func:`refusals`.

Writing the audit rows is left to :mod:`emergency.lifecycle`: only its steps append to the trail.
"""
from __future__ import annotations

import datetime as dt
import functools
import logging
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator, Mapping

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from airwarn.core.chain import row_hash
from airwarn.core.dates import format_beijing
from airwarn.core.db import session_scope
from airwarn.core.errors import AirwarnError, ConflictError, InputError, UnknownNameError
from airwarn.core.vocab import WarningLevel
from emergency.areas import AreaList, UnknownAreaError, default_areas, normalise
from emergency.models import WarningAudit, WarningRecord, WarningRefusal, _utcnow

__all__ = ["AUDIT_FIELDS", "WarningConflictError", "StaleRevisionError", "WarningState", "AuditEntry", "Refusal",
           "audit_hash", "transaction", "get_record", "canonical_area", "lookup_area", "as_date", "last_audit",
           "stale", "check_revision", "REFUSALS", "record_refusal", "refusals_recorded", "audit_log", "refusals",
           "log"]

log = logging.getLogger("airwarn.warning")
log.addHandler(logging.NullHandler())  # a library: the application configures where logs go


class WarningConflictError(ConflictError):
    """A lifecycle step lost a race or does not fit the warning's current state."""


class StaleRevisionError(WarningConflictError):
    """The warning changed since the revision the step was decided on.

    Attributes
    ----------
    expected_revision : int
        The revision the caller decided on.
    current : WarningState
        The warning now.
    last : AuditEntry or None
        The audit record of the change that made it so (who, when, what).
    """

    def __init__(self, message: str, expected_revision: int, current: "WarningState", last: "AuditEntry | None"):
        super().__init__(message)
        self.expected_revision = expected_revision
        self.current = current
        self.last = last


@dataclass(frozen=True)
class WarningState:
    """A snapshot of a warning row."""

    id: int
    area: str
    level: WarningLevel
    status: str
    revision: int
    start: dt.date | None
    end: dt.date | None
    created_by: str
    issued_by: str | None
    issued_at: dt.datetime | None
    lifted_by: str | None
    lifted_at: dt.datetime | None
    forecast_ref: str | None
    forecast_hash: str | None
    rules_version: str | None
    reason: str | None

    @classmethod
    def of(cls, w: WarningRecord) -> "WarningState":
        return cls(w.id, w.area, WarningLevel.parse(w.level), w.status, w.revision, w.start, w.end,
                   w.created_by, w.issued_by, w.issued_at, w.lifted_by, w.lifted_at, w.forecast_ref,
                   w.forecast_hash, w.rules_version, w.reason)


#: The audit columns a row's hash covers, in this order (all of them but the two hashes).
AUDIT_FIELDS: tuple[str, ...] = (
    "id", "warning_id", "area", "at", "user", "role", "action", "level_from", "level_to", "status_from",
    "status_to", "revision", "forecast_ref", "forecast_hash", "rules_version", "reason", "warning_start",
    "warning_end")


@dataclass(frozen=True)
class AuditEntry:
    """One audit record (``warning_start``/``warning_end``: the warning's period after the step)."""

    id: int
    warning_id: int
    area: str
    at: dt.datetime
    user: str
    role: str
    action: str
    level_from: str | None
    level_to: str | None
    status_from: str | None
    status_to: str | None
    revision: int
    forecast_ref: str | None
    forecast_hash: str | None
    rules_version: str | None
    reason: str
    warning_start: dt.date | None = None
    warning_end: dt.date | None = None
    prev_hash: str | None = None
    row_hash: str | None = None

    @classmethod
    def of(cls, a: WarningAudit) -> "AuditEntry":
        return cls(*(getattr(a, name) for name in AUDIT_FIELDS), a.prev_hash, a.row_hash)


@dataclass(frozen=True)
class Refusal:
    """One refused attempt."""

    id: int
    at: dt.datetime
    user: str
    role: str
    action: str
    area: str | None
    warning_id: int | None
    reason: str


def audit_hash(row: Mapping, prev_hash: str | None) -> str:
    """SHA-256 (hex) of an audit row's content and the previous row's hash
    (:func:`airwarn.core.chain.row_hash` over :data:`AUDIT_FIELDS`: every column but the two hashes)."""
    return row_hash(row, AUDIT_FIELDS, prev_hash)


# --------------------------------------------------------------------------- plumbing
@contextmanager
def transaction(target: "Engine | Session") -> Iterator[Session]:
    """A session on ``target``: an ``Engine``'s own transaction (committed on leaving), or the
    caller's ``Session`` (flushed on leaving; the caller commits)."""
    if isinstance(target, Session):
        yield target
        target.flush()
    else:
        with session_scope(target) as s:
            yield s


def get_record(s: Session, warning_id: int) -> WarningRecord:
    """The warning row, fresh from the database (:class:`UnknownNameError` if there is none)."""
    w = s.get(WarningRecord, warning_id, populate_existing=True)
    if w is None:
        raise UnknownNameError(f"no warning with id {warning_id}")
    return w


def canonical_area(area: str, areas: AreaList | None) -> str:
    """The canonical name of a configured area (:class:`UnknownAreaError` for any other name)."""
    return (areas or default_areas()).canonical(area)


def lookup_area(area: str, areas: AreaList | None) -> str:
    """The canonical name for a read (an unknown name is looked up as given, normalised)."""
    try:
        return canonical_area(area, areas)
    except UnknownAreaError:
        return normalise(area)


def as_date(d) -> dt.date | None:
    """A date from a date, a datetime or ISO text (``YYYY-MM-DD…``); None stays None."""
    if d is None:
        return None
    if isinstance(d, dt.datetime):
        return d.date()
    if isinstance(d, dt.date):
        return d
    try:
        return dt.date.fromisoformat(str(d)[:10])
    except ValueError:
        raise InputError(f"expected a date YYYY-MM-DD, got {d!r}") from None


def last_audit(s: Session, warning_id: int) -> "AuditEntry | None":
    """The warning's latest audit record, or None."""
    a = s.scalars(select(WarningAudit).where(WarningAudit.warning_id == warning_id)
                  .order_by(WarningAudit.id.desc()).limit(1)).first()
    return AuditEntry.of(a) if a is not None else None


def stale(s: Session, warning_id: int, expected: int) -> StaleRevisionError:
    """The error for a step decided on revision ``expected`` of a warning that changed since."""
    now = WarningState.of(get_record(s, warning_id))
    last = last_audit(s, warning_id)
    by = (f", after {last.action} by {last.user} ({last.role}) at {format_beijing(last.at, label=False)} Beijing time"
          if last is not None else "")
    return StaleRevisionError(
        f"warning #{now.id} ({now.area}) changed since revision {expected} that the action was decided on: "
        f"it is now {now.level.key} and {now.status} at revision {now.revision}{by}; reload it "
        f"(airwarn warning show) and decide again", expected, now, last)


def check_revision(s: Session, w: WarningRecord, expected_revision: int | None) -> int:
    """The revision a step acts on: ``expected_revision`` if it is the warning's (else
    :class:`StaleRevisionError`), the warning's own when none is given."""
    if expected_revision is not None and int(expected_revision) != w.revision:
        raise stale(s, w.id, int(expected_revision))
    return w.revision if expected_revision is None else int(expected_revision)


# --------------------------------------------------------------------------- refusals
def record_refusal(target: "Engine | Session", *, action: str, user: str | None, role: str | None,
                   reason: "str | BaseException", area: str | None = None, warning_id: int | None = None) -> None:
    """Log a refused attempt and append it to ``warning_refusal``.

    With an ``Engine`` the row is written in its own transaction; with a ``Session`` it is only logged
    (the caller's transaction rolls back with the refused step). Never raises: a refusal that cannot be
    stored is logged as an error, and the caller reports the refusal itself.

    Parameters
    ----------
    action : str
        The action attempted (``issue``, ``upgrade`` …).
    user, role : str
        Who claimed to act, and in which role (as claimed, even if unknown).
    reason : str or exception
        Why it was refused.
    area, warning_id : optional
        What it was about (the warning's area is looked up when only the id is given).
    """
    why = reason if isinstance(reason, str) else (
        str(reason.args[0]) if isinstance(reason, KeyError) and reason.args else str(reason))
    log.warning("refused: %s by %r as %r (area %r, warning %s): %s", action, user, role, area, warning_id, why)
    if isinstance(target, Session):
        return
    try:
        with session_scope(target) as s:
            if area is None and warning_id is not None:
                area = s.execute(select(WarningRecord.area).where(WarningRecord.id == warning_id)).scalar()
            s.execute(insert(WarningRefusal).values(
                at=_utcnow(), user=str(user or "")[:64], role=str(role or "")[:32], action=str(action)[:12],
                area=None if area is None else str(area)[:64], warning_id=warning_id, reason=why))
    except Exception:  # noqa: BLE001 - the refusal itself is reported by the caller
        log.exception("could not store the refusal of %s by %r", action, user)


#: What a refused step raises: our own errors, and a role check's PermissionError. Anything else is
#: a bug, not a refusal, and is not recorded as one.
REFUSALS = (AirwarnError, PermissionError)


def refusals_recorded(action: str):
    """Decorator: record every refusal (:data:`REFUSALS`) of the decorated step, then re-raise it.

    The step's first positional argument after the target, or its ``warning_id`` keyword, is the
    warning it was about; ``user``, ``role`` and ``area`` are its keywords.
    """
    def wrap(fn):
        @functools.wraps(fn)
        def step(target, *args, **kw):
            try:
                return fn(target, *args, **kw)
            except REFUSALS as exc:
                wid = args[0] if args else kw.get("warning_id")
                record_refusal(target, action=action, user=kw.get("user"), role=kw.get("role"), reason=exc,
                               area=kw.get("area"), warning_id=wid if isinstance(wid, int) else None)
                raise
        return step
    return wrap


# --------------------------------------------------------------------------- reading
def audit_log(target: "Engine | Session", area: str | None = None, warning_id: int | None = None,
              areas: AreaList | None = None) -> list[AuditEntry]:
    """Audit records in the order they were written (optionally of one area, or one warning)."""
    with transaction(target) as s:
        stmt = select(WarningAudit).order_by(WarningAudit.id)
        if area is not None:
            stmt = stmt.where(WarningAudit.area == lookup_area(area, areas))
        if warning_id is not None:
            stmt = stmt.where(WarningAudit.warning_id == warning_id)
        return [AuditEntry.of(a) for a in s.scalars(stmt)]


def refusals(target: "Engine | Session", area: str | None = None, areas: AreaList | None = None) -> list[Refusal]:
    """Refused attempts in the order they were made (optionally about one area)."""
    with transaction(target) as s:
        stmt = select(WarningRefusal).order_by(WarningRefusal.id)
        if area is not None:
            stmt = stmt.where(WarningRefusal.area == lookup_area(area, areas))
        return [Refusal(r.id, r.at, r.user, r.role, r.action, r.area, r.warning_id, r.reason) for r in s.scalars(stmt)]
