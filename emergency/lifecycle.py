"""Warning lifecycle in the database: draft → issued → upgraded / downgraded → lifted.

Every step names a user and a role, is checked here (server side, whatever the caller is), and
appends an audit record (who, role, when, action, level from/to, the warning's state after the step,
forecast file and hash, rule version, reason) in the same transaction as the change.

* Only ``commander`` may issue, upgrade, downgrade and lift; ``forecaster`` and ``commander`` may
  draft and cancel drafts; anyone else gets :class:`~airwarn.core.errors.NotAuthorisedError` (a
  ``PermissionError``). The functions trust the
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
  previous row's hash (:func:`audit_hash`); :func:`emergency.verify.verify` walks the chain and checks
  the warning tables against it.

Where things are: this module holds the steps (they alone write the audit trail) and the reads of
warnings; :mod:`emergency.audit` below it the snapshots, errors, refusals and audit reads it shares
with :mod:`emergency.notices` and :mod:`emergency.edits` (re-exported here: ``WarningState``,
``WarningConflictError``, ``audit_log``, ``record_refusal`` …); a step asks :mod:`emergency.notices`
for the provincial notice in force and :mod:`emergency.signoff` who approves.

Each function takes a SQLAlchemy ``Engine`` (the step runs and commits in its own transaction) or
a ``Session`` (the step joins the caller's transaction; the caller commits; a refusal is then only
logged, not stored, since the caller's transaction is about to roll back). The tables must exist
(``airwarn.core.db.create_tables(engine)`` brings a database to the newest migration).
"""
from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from airwarn.core.errors import InputError, NotAuthorisedError, UnknownNameError
from airwarn.core.vocab import Role, WarningLevel
from emergency import notices
from emergency.areas import AreaList, UnknownAreaError
from emergency.audit import (AuditEntry, Refusal, StaleRevisionError, WarningConflictError, WarningState, as_date,
                             audit_hash, audit_log, canonical_area, check_revision, get_record, log, lookup_area,
                             record_refusal, refusals, refusals_recorded, stale, transaction)
from emergency.models import ActiveWarning, WarningAudit, WarningNotice, WarningRecord, _utcnow
from emergency.signoff import SignoffConfig, signoff_config, signoff_state

__all__ = ["ROLES", "PERMISSIONS", "WarningConflictError", "StaleRevisionError", "UnknownAreaError",
           "WarningState", "AuditEntry", "Refusal", "check_role", "draft", "issue", "upgrade",
           "downgrade", "lift", "cancel", "approve", "active_warning", "get_warning", "history", "audit_log",
           "refusals", "record_refusal", "audit_hash", "log"]

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


def check_role(action: str, user: str, role: str) -> None:
    """Raise unless ``role`` may take ``action``.

    Raises
    ------
    UnknownNameError, InputError
        Unknown role, unknown action or no user (the message lists the valid ones).
    NotAuthorisedError
        The role may not take the action.
    """
    if role not in ROLES:
        raise UnknownNameError(f"unknown role {role!r}; valid roles are {list(ROLES)}")
    if action not in PERMISSIONS:
        raise InputError(f"unknown action {action!r}; valid actions are {list(PERMISSIONS)}")
    if not user or not str(user).strip():
        raise InputError("a lifecycle step needs a named user")
    if role not in PERMISSIONS[action]:
        raise NotAuthorisedError(f"user {user!r} with role {role!r} may not {action} a warning; "
                                 f"allowed roles: {sorted(PERMISSIONS[action])}")


# --------------------------------------------------------------------------- writing
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


def _issued(s: Session, warning_id: int, expected_revision: int | None, done: str) -> tuple[WarningRecord, int]:
    """The warning and its checked revision, if it is issued (what upgrade, downgrade, lift and
    approve act on); else :class:`WarningConflictError` saying it cannot be ``done``."""
    w = get_record(s, warning_id)
    rev = check_revision(s, w, expected_revision)
    if w.status != "issued":
        raise WarningConflictError(f"warning #{w.id} ({w.area}) is {w.status!r}; only an issued warning "
                                   f"can be {done}")
    return w, rev


def _cas(s: Session, w: WarningRecord, expected_status: str, expected_revision: int, **values) -> None:
    res = s.execute(
        update(WarningRecord)
        .where(WarningRecord.id == w.id, WarningRecord.status == expected_status,
               WarningRecord.revision == expected_revision)
        .values(revision=expected_revision + 1, **values)
        .execution_options(synchronize_session=False))
    if res.rowcount != 1:
        raise stale(s, w.id, expected_revision)
    s.refresh(w)


def _rec_fields(recommendation) -> dict:
    if recommendation is None:
        return {}
    return {"forecast_ref": recommendation.forecast_source or None,
            "forecast_hash": recommendation.forecast_sha256 or None,
            "rules_version": recommendation.rules_version or None,
            "rules_hash": recommendation.rules_sha256 or None,
            "recommendation_json": json.dumps(recommendation.to_dict(), ensure_ascii=False)}


# --------------------------------------------------------------------------- steps
@refusals_recorded("draft")
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
    NotAuthorisedError, UnknownAreaError, InputError
        Refused (and recorded in ``warning_refusal``).
    """
    check_role("draft", user, role)
    area = canonical_area(area, areas)
    lvl = WarningLevel.parse(level)
    if lvl == WarningLevel.NONE:
        raise InputError("a warning needs a level of yellow, orange or red, got 'none'")
    fields = _rec_fields(recommendation)
    fields.update({k: v for k, v in (("forecast_ref", forecast_ref), ("forecast_hash", forecast_hash),
                                     ("rules_version", rules_version)) if v})
    if recommendation is not None:
        start = start or (recommendation.start if isinstance(recommendation.start, dt.date) else None)
        end = end or recommendation.end
    with transaction(target) as s:
        w = WarningRecord(area=area, level=lvl.key, status="draft", revision=1, start=as_date(start),
                          end=as_date(end), created_by=user, created_at=_utcnow(), reason=reason, **fields)
        s.add(w)
        s.flush()
        _audit(s, w, user=user, role=role, action="draft", level_from=None, status_from=None, reason=reason)
        return WarningState.of(w)


@refusals_recorded("issue")
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
        without a start and an end is refused (:class:`InputError`), as is one whose end precedes its start.
    rules_version : str, optional
        Rule set the decision followed, when no recommendation (or draft) carries one; a warning with
        none is refused (:class:`InputError`): nothing is recorded as "unspecified".
    expected_revision : int, optional
        The draft's revision the decision was made on (a stale one is refused).
    areas : AreaList, optional
        The valid areas (default: those of the settings).

    Raises
    ------
    InputError
        No period, an end before the start, or no rule set (:func:`_check_period`).
    NotAuthorisedError
        Unless ``role`` is commander.
    UnknownAreaError
        ``area`` is not one of the configured areas.
    WarningConflictError
        The area already has an active warning, or the draft changed meanwhile
        (:class:`StaleRevisionError`).
    """
    check_role("issue", user, role)
    with transaction(target) as s:
        if warning_id is None:
            if area is None or level is None:
                raise InputError("issue: give the id of a draft, or area= and level= to issue directly")
            area = canonical_area(area, areas)
            lvl = WarningLevel.parse(level)
            if lvl == WarningLevel.NONE:
                raise InputError("a warning needs a level of yellow, orange or red, got 'none'")
            province = notices.in_force(s, area)
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
            w = WarningRecord(area=area, level=lvl.key, status="draft", revision=1, start=as_date(start),
                              end=as_date(end), created_by=user, created_at=_utcnow(), reason=reason, **fields)
            s.add(w)
            s.flush()
            status_from = None
        else:
            w = get_record(s, warning_id)
            check_revision(s, w, expected_revision)
            if w.status != "draft":
                raise WarningConflictError(f"warning #{w.id} ({w.area}) is {w.status!r}; only a draft can be issued")
            status_from = "draft"
            province = notices.in_force(s, w.area)
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
            s.execute(insert(WarningNotice).values(warning_id=w.id, notice_id=province.id))
            reason = f"{reason}（依据省级通知：{province.issuing_body}{province.doc_number}）".lstrip()
        _audit(s, w, user=user, role=role, action="issue", level_from=None, status_from=status_from,
               reason=reason)
        return WarningState.of(w)


def _check_period(area: str, start, end, rules_version, what: str = "") -> None:
    """Refuse to issue a warning without its period or its rule set (one-line :class:`InputError`).

    A warning always has a start, an end and the rule set it was decided on: from the recommendation,
    the provincial notice or given (``start=``, ``end=``, ``rules_version=``). Nothing is filled in
    silently (no "unspecified" rule set, no open end).
    """
    what = what or f"a warning for {area}"
    if start is None or end is None:
        raise InputError(f"issue: {what} needs its period: expected start and end (YYYY-MM-DD, from the "
                         f"recommendation or given), got start {start}, end {end}")
    if as_date(end) < as_date(start):
        raise InputError(f"issue: {what}: expected an end on or after the start {as_date(start)}, got {as_date(end)}")
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
    if start is not None and as_date(start) != n.start:
        raise InputError(f"the province's notice {n.doc_number} sets the start {n.start}; got {as_date(start)}")
    return lvl, n.start, end if end is not None else n.end


def _province_hold(s: Session, w: WarningRecord):
    """The provincial notice still binding a warning started on one: the area's latest notice if the
    warning is linked to a notice and the province has not lifted since (else None)."""
    if s.execute(select(WarningNotice.notice_id).where(WarningNotice.warning_id == w.id)).scalar() is None:
        return None
    return notices.in_force(s, w.area)


def _change_level(action: str, target, warning_id: int, level, *, user, role, reason, recommendation,
                  expected_revision) -> WarningState:
    check_role(action, user, role)
    new = WarningLevel.parse(level)
    with transaction(target) as s:
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


@refusals_recorded("upgrade")
def upgrade(target: "Engine | Session", warning_id: int, level: "WarningLevel | str", *, user: str, role: str,
            reason: str = "", recommendation=None, expected_revision: int | None = None) -> WarningState:
    """Raise an issued warning's level (commander only); ``expected_revision``: see :func:`issue`."""
    return _change_level("upgrade", target, warning_id, level, user=user, role=role, reason=reason,
                         recommendation=recommendation, expected_revision=expected_revision)


@refusals_recorded("downgrade")
def downgrade(target: "Engine | Session", warning_id: int, level: "WarningLevel | str", *, user: str, role: str,
              reason: str = "", recommendation=None, expected_revision: int | None = None) -> WarningState:
    """Lower an issued warning's level (commander only); to end it use :func:`lift`."""
    return _change_level("downgrade", target, warning_id, level, user=user, role=role, reason=reason,
                         recommendation=recommendation, expected_revision=expected_revision)


@refusals_recorded("lift")
def lift(target: "Engine | Session", warning_id: int, *, user: str, role: str, reason: str = "",
         expected_revision: int | None = None) -> WarningState:
    """Lift an issued warning (commander only) and free the area's active slot."""
    check_role("lift", user, role)
    with transaction(target) as s:
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


@refusals_recorded("approve")
def approve(target: "Engine | Session", warning_id: int, *, user: str, role: str, reason: str = "",
            expected_revision: int | None = None, config: SignoffConfig | None = None) -> WarningState:
    """Approve (sign off) the latest level step of an issued warning.

    The role must be one that approves the warning's level (``config``: an
    :class:`emergency.signoff.SignoffConfig`, default vice-mayor for yellow and orange, mayor for red);
    the step is recorded as an ``approve`` audit row (its time is the approval time) and bumps the
    revision. A step already approved is refused.
    """
    check_role("approve", user, role)
    config = config or signoff_config()
    with transaction(target) as s:
        w, rev = _issued(s, warning_id, expected_revision, "approved")
        allowed = config.roles_for(w.level)
        if role not in allowed:
            raise NotAuthorisedError(f"user {user!r} with role {role!r} may not approve a {w.level} warning; "
                                     f"it is approved by {list(allowed)}")
        state = signoff_state(audit_log(s, warning_id=w.id), config)
        if state is not None and state.approved:
            raise WarningConflictError(f"warning #{w.id}: its {state.step} to {state.level} was approved already by "
                                       f"{state.approved_by} ({state.approved_role})")
        _cas(s, w, "issued", rev)
        _audit(s, w, user=user, role=role, action="approve", level_from=w.level, status_from="issued",
               reason=reason)
        return WarningState.of(w)


@refusals_recorded("cancel")
def cancel(target: "Engine | Session", warning_id: int, *, user: str, role: str, reason: str = "",
           expected_revision: int | None = None) -> WarningState:
    """Cancel a draft (forecaster or commander)."""
    check_role("cancel", user, role)
    with transaction(target) as s:
        w = get_record(s, warning_id)
        rev = check_revision(s, w, expected_revision)
        if w.status != "draft":
            raise WarningConflictError(f"warning #{w.id} is {w.status!r}; only a draft can be cancelled")
        _cas(s, w, "draft", rev, status="cancelled")
        _audit(s, w, user=user, role=role, action="cancel", level_from=w.level, status_from="draft", reason=reason)
        return WarningState.of(w)


# --------------------------------------------------------------------------- reading
def active_warning(target: "Engine | Session", area: str, areas: AreaList | None = None) -> WarningState | None:
    """The area's active (issued) warning, or None (``area`` may be an alias)."""
    area = lookup_area(area, areas)
    with transaction(target) as s:
        w = s.execute(select(WarningRecord).join(ActiveWarning, ActiveWarning.warning_id == WarningRecord.id)
                      .where(ActiveWarning.area == area)).scalar_one_or_none()
        return WarningState.of(w) if w is not None else None


def get_warning(target: "Engine | Session", warning_id: int) -> WarningState:
    """One warning by id (:class:`UnknownNameError` if there is none)."""
    with transaction(target) as s:
        return WarningState.of(get_record(s, warning_id))


def history(target: "Engine | Session", area: str | None = None, limit: int = 200,
            areas: AreaList | None = None) -> list[WarningState]:
    """Warnings, newest first (optionally of one area)."""
    with transaction(target) as s:
        stmt = select(WarningRecord).order_by(WarningRecord.id.desc()).limit(limit)
        if area is not None:
            stmt = stmt.where(WarningRecord.area == lookup_area(area, areas))
        return [WarningState.of(w) for w in s.scalars(stmt)]
