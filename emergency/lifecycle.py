"""Warning lifecycle in the database: draft → issued → upgraded / downgraded → lifted.

Every step names a user and a role, is checked here (server side, whatever the caller is), and
appends an audit record (who, role, when, action, level from/to, the warning's state after the step,
forecast file and hash, rule version, reason) in the same transaction as the change.

* Only ``commander`` may issue, upgrade, downgrade and lift; ``forecaster`` and ``commander`` may
  draft and cancel drafts; anyone else gets :class:`PermissionError`. The functions trust the
  ``user`` and ``role`` they are given: the entry points check them first (the dashboard signs users
  in; the command line acts only as an existing user with that role and its password,
  :func:`airwarn.core.users.check_actor`).
* Areas are the configured city and its counties (:mod:`emergency.areas`): ``draft`` and ``issue``
  store the canonical name (``阳泉市`` → ``阳泉``) and refuse any other name (:class:`UnknownAreaError`).
* At most one active warning per area: issuing inserts the area's row in ``warning_active``
  (primary key = area), so a second concurrent issue fails in the database; the loser gets
  :class:`WarningConflictError` and nothing of its attempt is stored.
* Optimistic concurrency: every change may carry the revision it was decided on
  (``expected_revision``; the command line and the dashboard always pass it). A stale one is refused
  with :class:`StaleRevisionError`, naming what changed, who changed it and when; and every change is
  a compare-and-set on ``warning.revision``, so two commanders changing a warning at once cannot both win.
* Every refused attempt (the checks above, and the entry points' own: unknown user, wrong password
  or role) is logged to the ``airwarn.warning`` logger and appended to ``warning_refusal``
  (:func:`record_refusal`, :func:`refusals`).
* The audit trail is tamper-evident: each row carries a SHA-256 hash over its content and the
  previous row's hash (:func:`audit_hash`); :func:`verify` walks the chain and checks the warning
  tables against it.

Each function takes a SQLAlchemy ``Engine`` (the step runs and commits in its own transaction) or
a ``Session`` (the step joins the caller's transaction; the caller commits; a refusal is then only
logged, not stored, since the caller's transaction is about to roll back). The tables must exist
(``airwarn.core.db.create_tables(engine)`` after importing :mod:`emergency.models`).
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import logging
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator, Mapping

from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from airwarn.core.chain import chain_problems, row_hash
from airwarn.core.dates import format_beijing
from airwarn.core.db import session_scope
from airwarn.core.errors import ConflictError, InputError, UnknownNameError
from airwarn.core.vocab import Role, WarningLevel
from emergency.areas import AreaList, UnknownAreaError, default_areas, normalise
from emergency.models import ActiveWarning, WarningAudit, WarningRecord, WarningRefusal, _utcnow

__all__ = ["ROLES", "PERMISSIONS", "WarningConflictError", "StaleRevisionError", "UnknownAreaError",
           "WarningState", "AuditEntry", "Refusal", "VerifyResult", "check_role", "draft", "issue", "upgrade",
           "downgrade", "lift", "cancel", "approve", "active_warning", "history", "audit_log", "refusals",
           "record_refusal", "audit_hash", "verify"]

log = logging.getLogger("airwarn.warning")
log.addHandler(logging.NullHandler())  # a library: the application configures where logs go

#: Roles of the system (the dashboard's User table uses the same names).
ROLES: tuple[str, ...] = tuple(r.value for r in Role)
#: Which roles may take each action.
PERMISSIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"forecaster", "commander"}),
    "cancel": frozenset({"forecaster", "commander"}),
    "issue": frozenset({"commander"}),
    "upgrade": frozenset({"commander"}),
    "downgrade": frozenset({"commander"}),
    "lift": frozenset({"commander"}),
    # which of them approves a given level: emergency.signoff (default vice-mayor yellow/orange, mayor red)
    "approve": frozenset({"vice-mayor", "mayor"}),
}


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
        return cls(*(getattr(a, name) for name in _AUDIT_FIELDS), a.prev_hash, a.row_hash)


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


#: The audit columns a row's hash covers, in this order (all of them but the two hashes).
_AUDIT_FIELDS: tuple[str, ...] = (
    "id", "warning_id", "area", "at", "user", "role", "action", "level_from", "level_to", "status_from",
    "status_to", "revision", "forecast_ref", "forecast_hash", "rules_version", "reason", "warning_start",
    "warning_end")


def check_role(action: str, user: str, role: str) -> None:
    """Raise unless ``role`` may take ``action``.

    Raises
    ------
    KeyError
        Unknown role or action (the message lists the valid ones).
    PermissionError
        The role may not take the action.
    """
    if role not in ROLES:
        raise UnknownNameError(f"unknown role {role!r}; valid roles are {list(ROLES)}")
    if action not in PERMISSIONS:
        raise InputError(f"unknown action {action!r}; valid actions are {list(PERMISSIONS)}")
    if not user or not str(user).strip():
        raise InputError("a lifecycle step needs a named user")
    if role not in PERMISSIONS[action]:
        raise PermissionError(f"user {user!r} with role {role!r} may not {action} a warning; "
                              f"allowed roles: {sorted(PERMISSIONS[action])}")


# --------------------------------------------------------------------------- refusals
def _message(exc: BaseException) -> str:
    return str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)


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
    why = reason if isinstance(reason, str) else _message(reason)
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


def _refusals_recorded(action: str):
    """Record every refusal of the decorated step (permission, state, revision, area, conflict)."""
    def wrap(fn):
        @functools.wraps(fn)
        def step(target, *args, **kw):
            try:
                return fn(target, *args, **kw)
            except (PermissionError, ValueError, KeyError) as exc:
                wid = args[0] if args else kw.get("warning_id")
                record_refusal(target, action=action, user=kw.get("user"), role=kw.get("role"), reason=exc,
                               area=kw.get("area"), warning_id=wid if isinstance(wid, int) else None)
                raise
        return step
    return wrap


# --------------------------------------------------------------------------- plumbing
@contextmanager
def _tx(target: "Engine | Session") -> Iterator[Session]:
    if isinstance(target, Session):
        yield target
        target.flush()
    else:
        with session_scope(target) as s:
            yield s


def _get(s: Session, warning_id: int) -> WarningRecord:
    w = s.get(WarningRecord, warning_id, populate_existing=True)
    if w is None:
        raise UnknownNameError(f"no warning with id {warning_id}")
    return w


def _canonical_area(area: str, areas: AreaList | None) -> str:
    return (areas or default_areas()).canonical(area)


def _lookup_area(area: str, areas: AreaList | None) -> str:
    """The canonical name for a read (an unknown name is looked up as given, normalised)."""
    try:
        return _canonical_area(area, areas)
    except UnknownAreaError:
        return normalise(area)


def audit_hash(row: Mapping, prev_hash: str | None) -> str:
    """SHA-256 (hex) of an audit row's content and the previous row's hash
    (:func:`airwarn.core.chain.row_hash` over ``_AUDIT_FIELDS``: every column but the two hashes)."""
    return row_hash(row, _AUDIT_FIELDS, prev_hash)


def _audit(s: Session, w: WarningRecord, *, user, role, action, level_from, status_from, reason,
           forecast_ref=None, forecast_hash=None, rules_version=None) -> None:
    if s.get_bind().dialect.name == "postgresql":  # appends one at a time, so the chain cannot fork
        s.execute(text("SELECT pg_advisory_xact_lock(20260302)"))
    # (on SQLite the step has written already, so it holds the database's write lock)
    last = s.execute(select(WarningAudit.id, WarningAudit.row_hash).order_by(WarningAudit.id.desc()).limit(1)).first()
    row = dict(id=(last.id + 1) if last else 1, warning_id=w.id, area=w.area, at=_utcnow(), user=user, role=role,
               action=action, level_from=level_from, level_to=w.level, status_from=status_from, status_to=w.status,
               revision=w.revision, forecast_ref=forecast_ref or w.forecast_ref,
               forecast_hash=forecast_hash or w.forecast_hash, rules_version=rules_version or w.rules_version,
               reason=reason or "", warning_start=w.start, warning_end=w.end)
    prev = last.row_hash if last else None
    s.execute(insert(WarningAudit).values(**row, prev_hash=prev, row_hash=audit_hash(row, prev)))


def _last_audit(s: Session, warning_id: int) -> "AuditEntry | None":
    a = s.scalars(select(WarningAudit).where(WarningAudit.warning_id == warning_id)
                  .order_by(WarningAudit.id.desc()).limit(1)).first()
    return AuditEntry.of(a) if a is not None else None


def _stale(s: Session, warning_id: int, expected: int) -> StaleRevisionError:
    now = WarningState.of(_get(s, warning_id))
    last = _last_audit(s, warning_id)
    by = (f", after {last.action} by {last.user} ({last.role}) at {format_beijing(last.at, label=False)} Beijing time"
          if last is not None else "")
    return StaleRevisionError(
        f"warning #{now.id} ({now.area}) changed since revision {expected} that the action was decided on: "
        f"it is now {now.level.key} and {now.status} at revision {now.revision}{by}; reload it "
        f"(airwarn warning show) and decide again", expected, now, last)


def _issued(s: Session, warning_id: int, expected_revision: int | None, done: str) -> tuple[WarningRecord, int]:
    """The warning and its checked revision, if it is issued (what upgrade, downgrade, lift and
    approve act on); else :class:`WarningConflictError` saying it cannot be ``done``."""
    w = _get(s, warning_id)
    rev = _check_revision(s, w, expected_revision)
    if w.status != "issued":
        raise WarningConflictError(f"warning #{w.id} ({w.area}) is {w.status!r}; only an issued warning "
                                   f"can be {done}")
    return w, rev


def _check_revision(s: Session, w: WarningRecord, expected_revision: int | None) -> int:
    if expected_revision is not None and int(expected_revision) != w.revision:
        raise _stale(s, w.id, int(expected_revision))
    return w.revision if expected_revision is None else int(expected_revision)


def _cas(s: Session, w: WarningRecord, expected_status: str, expected_revision: int, **values) -> None:
    res = s.execute(
        update(WarningRecord)
        .where(WarningRecord.id == w.id, WarningRecord.status == expected_status,
               WarningRecord.revision == expected_revision)
        .values(revision=expected_revision + 1, **values)
        .execution_options(synchronize_session=False))
    if res.rowcount != 1:
        raise _stale(s, w.id, expected_revision)
    s.refresh(w)


def _rec_fields(recommendation) -> dict:
    if recommendation is None:
        return {}
    return {"forecast_ref": recommendation.forecast_source or None,
            "forecast_hash": recommendation.forecast_sha256 or None,
            "rules_version": recommendation.rules_version or None,
            "rules_hash": recommendation.rules_sha256 or None,
            "recommendation_json": json.dumps(recommendation.to_dict(), ensure_ascii=False)}


def _as_date(d):
    if d is None:
        return None
    if isinstance(d, dt.datetime):
        return d.date()
    if isinstance(d, dt.date):
        return d
    return dt.date.fromisoformat(str(d)[:10])


# --------------------------------------------------------------------------- steps
@_refusals_recorded("draft")
def draft(target: "Engine | Session", *, area: str, level: "WarningLevel | str", user: str, role: str,
          start: dt.date | None = None, end: dt.date | None = None, reason: str = "",
          recommendation=None, forecast_ref: str | None = None, forecast_hash: str | None = None,
          rules_version: str | None = None, areas: AreaList | None = None) -> WarningState:
    """Create a draft warning (forecaster or commander).

    Parameters
    ----------
    target : Engine or Session
    area : str
        City or county name (an alias is stored as its canonical name).
    level : WarningLevel or str
        yellow / orange / red.
    user, role : str
        Who drafts it, and in which role.
    start, end : date, optional
        Planned period (default: the recommendation's).
    recommendation : Recommendation, optional
        The engine's recommendation; its forecast file, hash and rule version are recorded.
    areas : AreaList, optional
        The valid areas (default: those of the settings, :func:`emergency.areas.default_areas`).

    Raises
    ------
    PermissionError, UnknownAreaError, ValueError
        Refused (and recorded in ``warning_refusal``).
    """
    check_role("draft", user, role)
    area = _canonical_area(area, areas)
    lvl = WarningLevel.parse(level)
    if lvl == WarningLevel.NONE:
        raise InputError("a warning needs a level of yellow, orange or red, got 'none'")
    fields = _rec_fields(recommendation)
    fields.update({k: v for k, v in (("forecast_ref", forecast_ref), ("forecast_hash", forecast_hash),
                                     ("rules_version", rules_version)) if v})
    if recommendation is not None:
        start = start or (recommendation.start if isinstance(recommendation.start, dt.date) else None)
        end = end or recommendation.end
    with _tx(target) as s:
        w = WarningRecord(area=area, level=lvl.key, status="draft", revision=1, start=_as_date(start),
                          end=_as_date(end), created_by=user, created_at=_utcnow(), reason=reason, **fields)
        s.add(w)
        s.flush()
        _audit(s, w, user=user, role=role, action="draft", level_from=None, status_from=None, reason=reason)
        return WarningState.of(w)


@_refusals_recorded("issue")
def issue(target: "Engine | Session", warning_id: int | None = None, *, user: str, role: str,
          reason: str = "", area: str | None = None, level: "WarningLevel | str | None" = None,
          start: dt.date | None = None, end: dt.date | None = None, recommendation=None,
          expected_revision: int | None = None, areas: AreaList | None = None,
          rules_version: str | None = None) -> WarningState:
    """Issue a draft (by id), or draft and issue in one step (give ``area`` and ``level``).

    While a provincial notice is in force for the area (:func:`emergency.notices.current`), the warning
    is started on it: its level may not be below the notice's, its start is the notice's (a different
    one is refused), its end the notice's when none is given; the link is stored (``warning_notice``)
    and the notice named in the audit reason.

    Parameters
    ----------
    start, end : date, optional
        The warning's period (default: the provincial notice's, else the recommendation's). A warning
        without a start and an end is refused (``ValueError``), as is one whose end precedes its start.
    rules_version : str, optional
        Rule set the decision followed, when no recommendation (or draft) carries one; a warning with
        none is refused (``ValueError``): nothing is recorded as "unspecified".
    expected_revision : int, optional
        The draft's revision the decision was made on (a stale one is refused).
    areas : AreaList, optional
        The valid areas (default: those of the settings).

    Raises
    ------
    ValueError
        No period, an end before the start, or no rule set (:func:`_check_period`).
    PermissionError
        Unless ``role`` is commander.
    UnknownAreaError
        ``area`` is not one of the configured areas.
    WarningConflictError
        The area already has an active warning, or the draft changed meanwhile
        (:class:`StaleRevisionError`).
    """
    check_role("issue", user, role)
    with _tx(target) as s:
        if warning_id is None:
            if area is None or level is None:
                raise InputError("issue: give the id of a draft, or area= and level= to issue directly")
            area = _canonical_area(area, areas)
            lvl = WarningLevel.parse(level)
            if lvl == WarningLevel.NONE:
                raise InputError("a warning needs a level of yellow, orange or red, got 'none'")
            province = _province_notice(s, area)
            if province is not None:
                lvl, start, end = _apply_notice(province, lvl, start, end)
            if recommendation is not None:
                start = start or recommendation.start
                end = end or recommendation.end
            other = s.execute(select(ActiveWarning.warning_id).where(ActiveWarning.area == area)).scalar()
            if other is not None:
                raise WarningConflictError(
                    f"area {area!r} already has an active warning (#{other}); upgrade, downgrade or lift it "
                    f"instead of issuing another")
            fields = _rec_fields(recommendation)
            if rules_version and not fields.get("rules_version"):
                fields["rules_version"] = rules_version
            _check_period(area, start, end, fields.get("rules_version"))
            w = WarningRecord(area=area, level=lvl.key, status="draft", revision=1, start=_as_date(start),
                              end=_as_date(end), created_by=user, created_at=_utcnow(), reason=reason, **fields)
            s.add(w)
            s.flush()
            status_from = None
        else:
            w = _get(s, warning_id)
            _check_revision(s, w, expected_revision)
            if w.status != "draft":
                raise WarningConflictError(f"warning #{w.id} ({w.area}) is {w.status!r}; only a draft can be issued")
            status_from = "draft"
            province = _province_notice(s, w.area)
            if province is not None:
                _apply_notice(province, WarningLevel.parse(w.level), w.start, w.end)
            _check_period(w.area, w.start, w.end, w.rules_version or rules_version, f"draft #{w.id}")
            if not w.rules_version:
                w.rules_version = rules_version
        rev = w.revision if expected_revision is None else int(expected_revision)
        other = s.execute(select(ActiveWarning.warning_id).where(ActiveWarning.area == w.area)).scalar()
        if other is not None:
            raise WarningConflictError(
                f"area {w.area!r} already has an active warning (#{other}); upgrade, downgrade or lift it "
                f"instead of issuing another")
        try:
            s.execute(insert(ActiveWarning).values(area=w.area, warning_id=w.id, since=_utcnow()))
        except IntegrityError:
            raise WarningConflictError(
                f"area {w.area!r}: another user issued a warning at the same moment; nothing was stored, "
                f"reload the active warning") from None
        _cas(s, w, "draft", rev, status="issued", issued_at=_utcnow(), issued_by=user)
        if province is not None:
            from emergency.models import WarningNotice

            s.execute(insert(WarningNotice).values(warning_id=w.id, notice_id=province.id))
            reason = f"{reason}（依据省级通知：{province.issuing_body}{province.doc_number}）".lstrip()
        _audit(s, w, user=user, role=role, action="issue", level_from=None, status_from=status_from,
               reason=reason)
        return WarningState.of(w)


def _province_notice(s: Session, area: str):
    """The provincial notice in force for the area (a ``ProvincialNotice`` row), or None."""
    from emergency.notices import _latest

    n = _latest(s, area)
    return n if n is not None and n.kind != "lift" else None


def _check_period(area: str, start, end, rules_version, what: str = "") -> None:
    """Refuse to issue a warning without its period or its rule set (one-line ValueError).

    A warning always has a start, an end and the rule set it was decided on: from the recommendation,
    the provincial notice or given (``start=``, ``end=``, ``rules_version=``). Nothing is filled in
    silently (no "unspecified" rule set, no open end).
    """
    what = what or f"a warning for {area}"
    if start is None or end is None:
        raise InputError(f"issue: {what} needs its period: expected start and end (YYYY-MM-DD, from the "
                         f"recommendation or given), got start {start}, end {end}")
    if _as_date(end) < _as_date(start):
        raise InputError(f"issue: {what}: expected an end on or after the start {_as_date(start)}, got {_as_date(end)}")
    if not rules_version:
        raise InputError(f"issue: {what} needs the rule set it was decided on: expected a recommendation or "
                         f"rules_version=, got none")


def _apply_notice(n, lvl: WarningLevel, start, end):
    """Level, start and end of a warning started on provincial notice ``n`` (refuses a lower level or
    another start)."""
    floor = WarningLevel.parse(n.level)
    if lvl < floor:
        raise InputError(f"the province's notice {n.doc_number} ({n.issuing_body}) sets {floor.key} from {n.start}: "
                         f"the city's warning may not be below it, got {lvl.key}")
    if start is not None and _as_date(start) != n.start:
        raise InputError(f"the province's notice {n.doc_number} sets the start {n.start}; got {_as_date(start)}")
    return lvl, n.start, end if end is not None else n.end


def _province_hold(s: Session, w: WarningRecord):
    """The provincial notice still binding a warning started on one: the area's latest notice if the
    warning is linked to a notice and the province has not lifted since (else None)."""
    from emergency.models import WarningNotice

    if s.execute(select(WarningNotice.notice_id).where(WarningNotice.warning_id == w.id)).scalar() is None:
        return None
    return _province_notice(s, w.area)


def _change_level(action: str, target, warning_id: int, level, *, user, role, reason, recommendation,
                  expected_revision) -> WarningState:
    check_role(action, user, role)
    new = WarningLevel.parse(level)
    with _tx(target) as s:
        w, rev = _issued(s, warning_id, expected_revision, f"{action}d")
        old = WarningLevel.parse(w.level)
        if action == "upgrade" and not new > old:
            raise InputError(f"upgrade of warning #{w.id}: new level must be above {old.key}, got {new.key}")
        if action == "downgrade" and not (WarningLevel.NONE < new < old):
            raise InputError(f"downgrade of warning #{w.id}: new level must be below {old.key} and above none "
                             f"(lift it instead), got {new.key}")
        hold = _province_hold(s, w)
        if action == "downgrade" and hold is not None and new < WarningLevel.parse(hold.level):
            raise InputError(f"downgrade of warning #{w.id}: it was started on the province's notice and the "
                             f"province's notice {hold.doc_number} still sets {hold.level}; record the province's "
                             f"change or lift notice first (airwarn warning notice record)")
        fields = _rec_fields(recommendation)
        _cas(s, w, "issued", rev, level=new.key, **fields)
        _audit(s, w, user=user, role=role, action=action, level_from=old.key, status_from="issued",
               reason=reason)
        return WarningState.of(w)


@_refusals_recorded("upgrade")
def upgrade(target: "Engine | Session", warning_id: int, level: "WarningLevel | str", *, user: str, role: str,
            reason: str = "", recommendation=None, expected_revision: int | None = None) -> WarningState:
    """Raise an issued warning's level (commander only); ``expected_revision``: see :func:`issue`."""
    return _change_level("upgrade", target, warning_id, level, user=user, role=role, reason=reason,
                         recommendation=recommendation, expected_revision=expected_revision)


@_refusals_recorded("downgrade")
def downgrade(target: "Engine | Session", warning_id: int, level: "WarningLevel | str", *, user: str, role: str,
              reason: str = "", recommendation=None, expected_revision: int | None = None) -> WarningState:
    """Lower an issued warning's level (commander only); to end it use :func:`lift`."""
    return _change_level("downgrade", target, warning_id, level, user=user, role=role, reason=reason,
                         recommendation=recommendation, expected_revision=expected_revision)


@_refusals_recorded("lift")
def lift(target: "Engine | Session", warning_id: int, *, user: str, role: str, reason: str = "",
         expected_revision: int | None = None) -> WarningState:
    """Lift an issued warning (commander only) and free the area's active slot."""
    check_role("lift", user, role)
    with _tx(target) as s:
        w, rev = _issued(s, warning_id, expected_revision, "lifted")
        hold = _province_hold(s, w)
        if hold is not None:
            raise InputError(f"lift of warning #{w.id}: it was started on the province's notice and the province "
                             f"has not lifted ({hold.issuing_body}{hold.doc_number} in force); record the "
                             f"province's lift notice first (airwarn warning notice record --kind lift)")
        _cas(s, w, "issued", rev, status="lifted", lifted_at=_utcnow(), lifted_by=user)
        s.execute(delete(ActiveWarning).where(ActiveWarning.area == w.area, ActiveWarning.warning_id == w.id))
        _audit(s, w, user=user, role=role, action="lift", level_from=w.level, status_from="issued", reason=reason)
        return WarningState.of(w)


@_refusals_recorded("approve")
def approve(target: "Engine | Session", warning_id: int, *, user: str, role: str, reason: str = "",
            expected_revision: int | None = None, config=None) -> WarningState:
    """Approve (sign off) the latest level step of an issued warning.

    The role must be one that approves the warning's level (``config``: an
    :class:`emergency.signoff.SignoffConfig`, default vice-mayor for yellow and orange, mayor for red);
    the step is recorded as an ``approve`` audit row (its time is the approval time) and bumps the
    revision. A step already approved is refused.
    """
    from emergency.signoff import signoff_config, signoff_state

    check_role("approve", user, role)
    config = config or signoff_config()
    with _tx(target) as s:
        w, rev = _issued(s, warning_id, expected_revision, "approved")
        allowed = config.roles_for(w.level)
        if role not in allowed:
            raise PermissionError(f"user {user!r} with role {role!r} may not approve a {w.level} warning; "
                                  f"it is approved by {list(allowed)}")
        rows = [AuditEntry.of(a) for a in s.scalars(select(WarningAudit).where(WarningAudit.warning_id == w.id)
                                                     .order_by(WarningAudit.id))]
        state = signoff_state(rows, config)
        if state is not None and state.approved:
            raise WarningConflictError(f"warning #{w.id}: its {state.step} to {state.level} was approved already by "
                                       f"{state.approved_by} ({state.approved_role})")
        _cas(s, w, "issued", rev)
        _audit(s, w, user=user, role=role, action="approve", level_from=w.level, status_from="issued",
               reason=reason)
        return WarningState.of(w)


@_refusals_recorded("cancel")
def cancel(target: "Engine | Session", warning_id: int, *, user: str, role: str, reason: str = "",
           expected_revision: int | None = None) -> WarningState:
    """Cancel a draft (forecaster or commander)."""
    check_role("cancel", user, role)
    with _tx(target) as s:
        w = _get(s, warning_id)
        rev = _check_revision(s, w, expected_revision)
        if w.status != "draft":
            raise WarningConflictError(f"warning #{w.id} is {w.status!r}; only a draft can be cancelled")
        _cas(s, w, "draft", rev, status="cancelled")
        _audit(s, w, user=user, role=role, action="cancel", level_from=w.level, status_from="draft", reason=reason)
        return WarningState.of(w)


# --------------------------------------------------------------------------- reading
def active_warning(target: "Engine | Session", area: str, areas: AreaList | None = None) -> WarningState | None:
    """The area's active (issued) warning, or None (``area`` may be an alias)."""
    area = _lookup_area(area, areas)
    with _tx(target) as s:
        w = s.execute(select(WarningRecord).join(ActiveWarning, ActiveWarning.warning_id == WarningRecord.id)
                      .where(ActiveWarning.area == area)).scalar_one_or_none()
        return WarningState.of(w) if w is not None else None


def get_warning(target: "Engine | Session", warning_id: int) -> WarningState:
    """One warning by id (KeyError if there is none)."""
    with _tx(target) as s:
        return WarningState.of(_get(s, warning_id))


def history(target: "Engine | Session", area: str | None = None, limit: int = 200,
            areas: AreaList | None = None) -> list[WarningState]:
    """Warnings, newest first (optionally of one area)."""
    with _tx(target) as s:
        stmt = select(WarningRecord).order_by(WarningRecord.id.desc()).limit(limit)
        if area is not None:
            stmt = stmt.where(WarningRecord.area == _lookup_area(area, areas))
        return [WarningState.of(w) for w in s.scalars(stmt)]


def audit_log(target: "Engine | Session", area: str | None = None, warning_id: int | None = None,
              areas: AreaList | None = None) -> list[AuditEntry]:
    """Audit records in the order they were written."""
    with _tx(target) as s:
        stmt = select(WarningAudit).order_by(WarningAudit.id)
        if area is not None:
            stmt = stmt.where(WarningAudit.area == _lookup_area(area, areas))
        if warning_id is not None:
            stmt = stmt.where(WarningAudit.warning_id == warning_id)
        return [AuditEntry.of(a) for a in s.scalars(stmt)]


def refusals(target: "Engine | Session", area: str | None = None, areas: AreaList | None = None) -> list[Refusal]:
    """Refused attempts in the order they were made (optionally about one area)."""
    with _tx(target) as s:
        stmt = select(WarningRefusal).order_by(WarningRefusal.id)
        if area is not None:
            stmt = stmt.where(WarningRefusal.area == _lookup_area(area, areas))
        return [Refusal(r.id, r.at, r.user, r.role, r.action, r.area, r.warning_id, r.reason) for r in s.scalars(stmt)]


# --------------------------------------------------------------------------- verification
@dataclass(frozen=True)
class VerifyResult:
    """What :func:`verify` found.

    Attributes
    ----------
    rows : int
        Audit rows checked.
    head : str or None
        The last row's hash (record it elsewhere: a rewrite of the whole chain changes it).
    problems : tuple of str
        One line per problem, the first bad audit row first; empty when intact.
    unhashed : int
        Leading rows written before the chain existed (not verifiable, not counted as problems).
    """

    rows: int
    head: str | None
    problems: tuple[str, ...]
    unhashed: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def _state(area, level, status, revision, start, end) -> str:
    return f"area {area}, {level} {status}, revision {revision}, {start or '-'}..{end or '-'}"


def _people_and_references(w: WarningRecord, steps: list[AuditEntry]) -> list[str]:
    """The warning row's people and references against its hashed audit rows: who drafted or issued
    it (its first row), who issued and lifted it (its last ``issue`` / ``lift`` row) and the forecast
    and rule set of its last row. These columns are not in the warning's state, so an UPDATE of them
    alone (a forged signer reaches the bulletin's 签发 line) is found here."""
    if not steps:
        return []
    issued = [a for a in steps if a.action == "issue"]
    lifted = [a for a in steps if a.action == "lift"]
    expected = {
        "created_by": steps[0].user,
        "issued_by": issued[-1].user if issued else None,
        "lifted_by": lifted[-1].user if lifted else None,
        "forecast_ref": steps[-1].forecast_ref,
        "forecast_hash": steps[-1].forecast_hash,
        "rules_version": steps[-1].rules_version,
    }
    out = []
    for column, want in expected.items():
        have = getattr(w, column)
        if column in ("forecast_ref", "forecast_hash", "rules_version") and have is None and want is not None:
            continue  # the audit row records the step's own references where the warning has none
        if have != want:
            out.append(f"warning #{w.id}: its {column} is {have!r}, its audit rows say {want!r} "
                       f"(changed outside airwarn)")
    return out


def _refusal_gaps(s: Session) -> list[str]:
    """Refusal ids run 1, 2, 3 … (an autoincrement table that is only appended to): a gap is a removed
    row (the last rows cannot be told from never written; the head of the audit chain can)."""
    from emergency.models import WarningRefusal

    ids = list(s.scalars(select(WarningRefusal.id).order_by(WarningRefusal.id)))
    gaps = [i for i, (a, b) in enumerate(zip([0, *ids], ids)) if b != a + 1]
    return [f"warning_refusal: rows missing before id {ids[gaps[0]]} (deleted outside airwarn)"] if gaps else []


def _missing_triggers(s: Session) -> list[str]:
    """The append-only triggers must be there when ``verify`` runs (it adds none itself)."""
    from emergency.models import APPEND_ONLY, expected_triggers

    have = _trigger_names(s)
    if have is None:
        return []
    return [f"{table}: append-only trigger {name} is missing (dropped outside airwarn)"
            for table in APPEND_ONLY for name in expected_triggers(s.get_bind().dialect.name, table)
            if name not in have]


def _trigger_names(s: Session) -> set[str] | None:
    dialect = s.get_bind().dialect.name
    if dialect == "sqlite":
        return set(s.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars())
    if dialect == "postgresql":
        return set(s.execute(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")).scalars())
    return None


def verify(target: "Engine | Session") -> VerifyResult:
    """Check the audit chain and the warning tables against it.

    * Each audit row's ``prev_hash`` is the previous row's ``row_hash`` and its ``row_hash`` is
      :func:`audit_hash` of its content (a changed, removed, inserted or forged row breaks it).
    * Each warning's rows follow on: revision +1, status from = the previous status to.
    * Each warning has audit rows, and its area, level, status, revision and period are those of its
      last audit row.
    * Each ``warning_active`` row is an issued warning of that area whose last step issued, upgraded
      or downgraded it; each issued warning has its ``warning_active`` row.
    """
    problems: list[str] = []
    with _tx(target) as s:
        rows = [AuditEntry.of(a) for a in s.scalars(select(WarningAudit).order_by(WarningAudit.id))]
        warnings = {w.id: w for w in s.scalars(select(WarningRecord).order_by(WarningRecord.id))}
        active = list(s.scalars(select(ActiveWarning).order_by(ActiveWarning.area)))
        unhashed = 0  # kept in the result for callers; every row must carry its hash
        # every row has had a hash since the hash columns exist (a database from before them is refused
        # by create_tables), so a row without one was written or wiped outside airwarn
        problems += chain_problems(rows, "warning_audit", lambda a: audit_hash(a.__dict__, a.prev_hash) == a.row_hash)
        last_of: dict[int, AuditEntry] = {}
        steps_of: dict[int, list[AuditEntry]] = {}  # each warning's rows, in order (one pass)
        for a in rows:
            before = last_of.get(a.warning_id)
            if before is not None and (a.revision != before.revision + 1 or a.status_from != before.status_to):
                problems.append(f"warning_audit row {a.id}: warning #{a.warning_id} goes from revision "
                                f"{before.revision} {before.status_to} (row {before.id}) to revision {a.revision} "
                                f"from {a.status_from} (a step is missing or forged)")
            elif before is None and a.status_from is not None:
                problems.append(f"warning_audit row {a.id}: the first step of warning #{a.warning_id} starts "
                                f"from {a.status_from} (its earlier steps are missing)")
            last_of[a.warning_id] = a
            steps_of.setdefault(a.warning_id, []).append(a)
        for wid in sorted(set(last_of) - set(warnings)):
            problems.append(f"warning #{wid}: has audit rows but no row in warning (deleted outside airwarn)")
        for w in warnings.values():
            last = last_of.get(w.id)
            if last is None:
                problems.append(f"warning #{w.id}: no audit rows (inserted outside airwarn)")
                continue
            now = _state(w.area, w.level, w.status, w.revision, w.start, w.end)
            then = _state(last.area, last.level_to, last.status_to, last.revision, last.warning_start,
                          last.warning_end)
            if now != then:
                problems.append(f"warning #{w.id}: the warning table says {now}, its last audit row {last.id} "
                                f"says {then} (changed outside airwarn)")
            problems += _people_and_references(w, steps_of.get(w.id, []))
        slots = {}
        for a in active:
            slots[a.warning_id] = a
            w = warnings.get(a.warning_id)
            last = last_of.get(a.warning_id)
            if w is None or w.status != "issued" or w.area != a.area or (
                    last is not None and last.action not in ("issue", "upgrade", "downgrade", "approve")):
                problems.append(f"warning_active {a.area}: points to warning #{a.warning_id}, which is "
                                f"{'missing' if w is None else f'{w.status} in {w.area}'}"
                                f"{f' after {last.action}' if last is not None else ''} (changed outside airwarn)")
        for w in warnings.values():
            if w.status == "issued" and w.id not in slots:
                problems.append(f"warning #{w.id}: issued, but {w.area} has no row in warning_active for it "
                                f"(deleted outside airwarn)")
        problems += _refusal_gaps(s)
        from emergency.notices import verify_chain

        problems += verify_chain(s)
        from emergency.bulletin import verify_edits

        problems += verify_edits(s)
        problems += _missing_triggers(s)  # last: a changed row is the finding, a dropped trigger the means
        head = rows[-1].row_hash if rows else None
        return VerifyResult(len(rows), head, tuple(problems), unhashed)
