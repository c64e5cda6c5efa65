"""Warning lifecycle in the database: draft → issued → upgraded / downgraded → lifted.

Every step names a user and a role, is checked here (server side, whatever the caller is), and
appends an audit record (who, role, when, action, level from/to, forecast file and hash, rule
version, reason) in the same transaction as the change.

* Only ``commander`` may issue, upgrade, downgrade and lift; ``forecaster`` and ``commander`` may
  draft and cancel drafts; anyone else gets :class:`PermissionError`.
* At most one active warning per area: issuing inserts the area's row in ``warning_active``
  (primary key = area), so a second concurrent issue fails in the database; the loser gets
  :class:`WarningConflictError` and nothing of its attempt is stored.
* Changes are compare-and-set on ``warning.revision``: two commanders changing the same warning at
  once cannot both win; the second gets :class:`WarningConflictError` naming the new state.

Each function takes a SQLAlchemy ``Engine`` (the step runs and commits in its own transaction) or
a ``Session`` (the step joins the caller's transaction; the caller commits). The tables must exist
(``airwarn.db.create_tables(engine)`` after importing :mod:`emergency.models`).
"""
from __future__ import annotations

import datetime as dt
import json
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from airwarn.db import session_scope
from airwarn.vocab import Role, WarningLevel
from emergency.models import ActiveWarning, WarningAudit, WarningRecord, _utcnow

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
}


class WarningConflictError(ValueError):
    """A lifecycle step lost a race or does not fit the warning's current state."""


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
    """One audit record."""

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
        raise KeyError(f"unknown role {role!r}; valid roles are {list(ROLES)}")
    if action not in PERMISSIONS:
        raise KeyError(f"unknown action {action!r}; valid actions are {list(PERMISSIONS)}")
    if not user or not str(user).strip():
        raise ValueError("a lifecycle step needs a named user")
    if role not in PERMISSIONS[action]:
        raise PermissionError(f"user {user!r} with role {role!r} may not {action} a warning; "
                              f"allowed roles: {sorted(PERMISSIONS[action])}")


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
        raise KeyError(f"no warning with id {warning_id}")
    return w


def _audit(s: Session, w: WarningRecord, *, user, role, action, level_from, status_from, reason,
           forecast_ref=None, forecast_hash=None, rules_version=None) -> None:
    s.execute(insert(WarningAudit).values(
        warning_id=w.id, area=w.area, at=_utcnow(), user=user, role=role, action=action,
        level_from=level_from, level_to=w.level, status_from=status_from, status_to=w.status,
        revision=w.revision, forecast_ref=forecast_ref or w.forecast_ref,
        forecast_hash=forecast_hash or w.forecast_hash, rules_version=rules_version or w.rules_version,
        reason=reason or ""))


def _cas(s: Session, w: WarningRecord, expected_status: str, expected_revision: int, **values) -> None:
    res = s.execute(
        update(WarningRecord)
        .where(WarningRecord.id == w.id, WarningRecord.status == expected_status,
               WarningRecord.revision == expected_revision)
        .values(revision=expected_revision + 1, **values)
        .execution_options(synchronize_session=False))
    if res.rowcount != 1:
        now = s.execute(select(WarningRecord.status, WarningRecord.level, WarningRecord.revision)
                        .where(WarningRecord.id == w.id)).one()
        raise WarningConflictError(
            f"warning #{w.id} ({w.area}) was changed by someone else: expected status {expected_status!r} "
            f"at revision {expected_revision}, found status {now.status!r} level {now.level!r} at revision "
            f"{now.revision}; reload and try again")
    s.refresh(w)


def _rec_fields(recommendation) -> dict:
    if recommendation is None:
        return {}
    return {"forecast_ref": recommendation.forecast_source or None,
            "forecast_hash": recommendation.forecast_sha256 or None,
            "rules_version": recommendation.rules_version or None,
            "rules_hash": recommendation.rules_sha256 or None,
            "recommendation_json": json.dumps(recommendation.to_dict(), ensure_ascii=False)}


def draft(target: "Engine | Session", *, area: str, level: "WarningLevel | str", user: str, role: str,
          start: dt.date | None = None, end: dt.date | None = None, reason: str = "",
          recommendation=None, forecast_ref: str | None = None, forecast_hash: str | None = None,
          rules_version: str | None = None) -> WarningState:
    """Create a draft warning (forecaster or commander).

    Parameters
    ----------
    target : Engine or Session
    area : str
        City or county name.
    level : WarningLevel or str
        yellow / orange / red.
    user, role : str
        Who drafts it, and in which role.
    start, end : date, optional
        Planned period (default: the recommendation's).
    recommendation : Recommendation, optional
        The engine's recommendation; its forecast file, hash and rule version are recorded.
    """
    check_role("draft", user, role)
    lvl = WarningLevel.parse(level)
    if lvl == WarningLevel.NONE:
        raise ValueError("a warning needs a level of yellow, orange or red, got 'none'")
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


def _as_date(d):
    if d is None:
        return None
    if isinstance(d, dt.datetime):
        return d.date()
    if isinstance(d, dt.date):
        return d
    return dt.date.fromisoformat(str(d)[:10])


def issue(target: "Engine | Session", warning_id: int | None = None, *, user: str, role: str,
          reason: str = "", area: str | None = None, level: "WarningLevel | str | None" = None,
          start: dt.date | None = None, end: dt.date | None = None, recommendation=None,
          expected_revision: int | None = None) -> WarningState:
    """Issue a draft (by id), or draft and issue in one step (give ``area`` and ``level``).

    Raises
    ------
    PermissionError
        Unless ``role`` is commander.
    WarningConflictError
        The area already has an active warning, or the draft changed meanwhile.
    """
    check_role("issue", user, role)
    with _tx(target) as s:
        if warning_id is None:
            if area is None or level is None:
                raise ValueError("issue: give the id of a draft, or area= and level= to issue directly")
            lvl = WarningLevel.parse(level)
            if lvl == WarningLevel.NONE:
                raise ValueError("a warning needs a level of yellow, orange or red, got 'none'")
            if recommendation is not None:
                start = start or recommendation.start
                end = end or recommendation.end
            w = WarningRecord(area=area, level=lvl.key, status="draft", revision=1, start=_as_date(start),
                              end=_as_date(end), created_by=user, created_at=_utcnow(), reason=reason,
                              **_rec_fields(recommendation))
            s.add(w)
            s.flush()
            status_from = None
        else:
            w = _get(s, warning_id)
            if w.status != "draft":
                raise WarningConflictError(f"warning #{w.id} ({w.area}) is {w.status!r}; only a draft can be issued")
            status_from = "draft"
        rev = expected_revision if expected_revision is not None else w.revision
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
        _audit(s, w, user=user, role=role, action="issue", level_from=None, status_from=status_from,
               reason=reason)
        return WarningState.of(w)


def _change_level(action: str, target, warning_id: int, level, *, user, role, reason, recommendation,
                  expected_revision) -> WarningState:
    check_role(action, user, role)
    new = WarningLevel.parse(level)
    with _tx(target) as s:
        w = _get(s, warning_id)
        if w.status != "issued":
            raise WarningConflictError(f"warning #{w.id} ({w.area}) is {w.status!r}; only an issued warning "
                                       f"can be {action}d")
        old = WarningLevel.parse(w.level)
        if action == "upgrade" and not new > old:
            raise ValueError(f"upgrade of warning #{w.id}: new level must be above {old.key}, got {new.key}")
        if action == "downgrade" and not (WarningLevel.NONE < new < old):
            raise ValueError(f"downgrade of warning #{w.id}: new level must be below {old.key} and above none "
                             f"(lift it instead), got {new.key}")
        rev = expected_revision if expected_revision is not None else w.revision
        fields = _rec_fields(recommendation)
        _cas(s, w, "issued", rev, level=new.key, **fields)
        _audit(s, w, user=user, role=role, action=action, level_from=old.key, status_from="issued",
               reason=reason)
        return WarningState.of(w)


def upgrade(target: "Engine | Session", warning_id: int, level: "WarningLevel | str", *, user: str, role: str,
            reason: str = "", recommendation=None, expected_revision: int | None = None) -> WarningState:
    """Raise an issued warning's level (commander only)."""
    return _change_level("upgrade", target, warning_id, level, user=user, role=role, reason=reason,
                         recommendation=recommendation, expected_revision=expected_revision)


def downgrade(target: "Engine | Session", warning_id: int, level: "WarningLevel | str", *, user: str, role: str,
              reason: str = "", recommendation=None, expected_revision: int | None = None) -> WarningState:
    """Lower an issued warning's level (commander only); to end it use :func:`lift`."""
    return _change_level("downgrade", target, warning_id, level, user=user, role=role, reason=reason,
                         recommendation=recommendation, expected_revision=expected_revision)


def lift(target: "Engine | Session", warning_id: int, *, user: str, role: str, reason: str = "",
         expected_revision: int | None = None) -> WarningState:
    """Lift an issued warning (commander only) and free the area's active slot."""
    check_role("lift", user, role)
    with _tx(target) as s:
        w = _get(s, warning_id)
        if w.status != "issued":
            raise WarningConflictError(f"warning #{w.id} ({w.area}) is {w.status!r}; only an issued warning can be lifted")
        rev = expected_revision if expected_revision is not None else w.revision
        _cas(s, w, "issued", rev, status="lifted", lifted_at=_utcnow(), lifted_by=user)
        s.execute(delete(ActiveWarning).where(ActiveWarning.area == w.area, ActiveWarning.warning_id == w.id))
        _audit(s, w, user=user, role=role, action="lift", level_from=w.level, status_from="issued", reason=reason)
        return WarningState.of(w)


def cancel(target: "Engine | Session", warning_id: int, *, user: str, role: str, reason: str = "") -> WarningState:
    """Cancel a draft (forecaster or commander)."""
    check_role("cancel", user, role)
    with _tx(target) as s:
        w = _get(s, warning_id)
        if w.status != "draft":
            raise WarningConflictError(f"warning #{w.id} is {w.status!r}; only a draft can be cancelled")
        _cas(s, w, "draft", w.revision, status="cancelled")
        _audit(s, w, user=user, role=role, action="cancel", level_from=w.level, status_from="draft", reason=reason)
        return WarningState.of(w)


def active_warning(target: "Engine | Session", area: str) -> WarningState | None:
    """The area's active (issued) warning, or None."""
    with _tx(target) as s:
        w = s.execute(select(WarningRecord).join(ActiveWarning, ActiveWarning.warning_id == WarningRecord.id)
                      .where(ActiveWarning.area == area)).scalar_one_or_none()
        return WarningState.of(w) if w is not None else None


def history(target: "Engine | Session", area: str | None = None, limit: int = 200) -> list[WarningState]:
    """Warnings, newest first (optionally of one area)."""
    with _tx(target) as s:
        stmt = select(WarningRecord).order_by(WarningRecord.id.desc()).limit(limit)
        if area is not None:
            stmt = stmt.where(WarningRecord.area == area)
        return [WarningState.of(w) for w in s.scalars(stmt)]


def audit_log(target: "Engine | Session", area: str | None = None, warning_id: int | None = None
              ) -> list[AuditEntry]:
    """Audit records in the order they were written."""
    with _tx(target) as s:
        stmt = select(WarningAudit).order_by(WarningAudit.id)
        if area is not None:
            stmt = stmt.where(WarningAudit.area == area)
        if warning_id is not None:
            stmt = stmt.where(WarningAudit.warning_id == warning_id)
        return [AuditEntry(a.id, a.warning_id, a.area, a.at, a.user, a.role, a.action, a.level_from, a.level_to,
                           a.status_from, a.status_to, a.revision, a.forecast_ref, a.forecast_hash,
                           a.rules_version, a.reason) for a in s.scalars(stmt)]
