"""Edits of an issued warning's bulletin before its sign-off, as append-only, hash-chained records.

A commander may rewrite the bulletin of an issued warning until the step is signed off
(:mod:`emergency.signoff`). Each edit is one row of ``bulletin_edit``
(:class:`emergency.models.BulletinEdit`): who, when, the warning's revision, SHA-256 of the text
before and after, the text and why, chained like the warning audit (:func:`edit_hash`, checked by
:func:`verify_edits` from :func:`emergency.verify.verify`). The newest edit since the warning's
latest level step is the one in force (:func:`latest_edit`); an upgrade or downgrade voids earlier
edits. The bulletin documents (:mod:`emergency.bulletin`) render it (``edited_html``, ``apply_edit``).
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import func, insert, select
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session

from airwarn.core.chain import chain_problems, row_hash
from airwarn.core.errors import InputError, NotAuthorisedError
from emergency.audit import (REFUSALS, WarningConflictError, audit_log, check_revision, get_record,
                             record_refusal, transaction)
from emergency.models import BulletinEdit, WarningAudit, _utcnow
from emergency.signoff import LEVEL_STEPS, signoff_config, signoff_state

__all__ = ["EDIT_ROLES", "BulletinEditRecord", "text_hash", "normal_text", "edit_hash", "edit_bulletin",
           "latest_edit", "bulletin_edits", "verify_edits"]

#: Roles that may edit an issued warning's bulletin (before its sign-off).
EDIT_ROLES = frozenset({"commander"})
#: The fields an edit's hash covers, in this order.
_EDIT_FIELDS = ("id", "warning_id", "revision", "at", "user", "role", "before_hash", "after_hash", "text", "reason")


@dataclass(frozen=True)
class BulletinEditRecord:
    """One stored edit of a warning's bulletin (``at`` aware UTC, as stored)."""

    id: int
    warning_id: int
    revision: int
    at: dt.datetime
    user: str
    role: str
    before_hash: str | None
    after_hash: str
    text: str
    reason: str = ""
    prev_hash: str | None = None
    row_hash: str | None = None

    @classmethod
    def of(cls, row) -> "BulletinEditRecord":
        return cls(*(getattr(row, f) for f in _EDIT_FIELDS), row.prev_hash, row.row_hash)


def normal_text(text: str) -> str:
    """A bulletin text with its line ends normalised to ``\\n`` and one final line end."""
    return str(text).replace("\r\n", "\n").replace("\r", "\n").rstrip("\n") + "\n"


def text_hash(text: str) -> str:
    """SHA-256 (hex) of a bulletin text (UTF-8, line ends normalised to ``\\n``)."""
    return hashlib.sha256(normal_text(text).encode("utf-8")).hexdigest()


def edit_hash(row, prev_hash: str | None) -> str:
    """SHA-256 (hex) of an edit's fields (order of ``_EDIT_FIELDS``) preceded by the previous edit's hash."""
    return row_hash(row, _EDIT_FIELDS, prev_hash)


def _step_revision(s: Session, warning_id: int) -> int | None:
    """The revision of the warning's latest level step (issue, upgrade, downgrade), or None."""
    return s.execute(select(func.max(WarningAudit.revision)).where(
        WarningAudit.warning_id == warning_id, WarningAudit.action.in_(LEVEL_STEPS),
        WarningAudit.status_to == "issued")).scalar()


def _latest_edit(s: Session, warning_id: int):
    """The newest edit made since the warning's latest level step (an edit of an earlier level is void)."""
    step = _step_revision(s, warning_id)
    if step is None:
        return None
    return s.scalars(select(BulletinEdit).where(BulletinEdit.warning_id == warning_id,
                                                BulletinEdit.revision >= step)
                     .order_by(BulletinEdit.id.desc()).limit(1)).first()


def edit_bulletin(target, warning_id: int, text: str, *, user: str, role: str, expected_revision: int,
                  reason: str = "", current_text: str | None = None, config=None) -> BulletinEditRecord:
    """Save an edited bulletin text for an issued warning, before its sign-off (commander only).

    The edit is a new row of the append-only, hash-chained ``bulletin_edit`` table (who, when, the
    warning's revision, SHA-256 of the text before and after, the text); the newest edit since the
    warning's latest level step is what republishing writes out (:func:`emergency.bulletin.apply_edit`).
    An upgrade or downgrade voids earlier edits (the bulletin is regenerated for the new level).

    Parameters
    ----------
    target : Engine or Session
    warning_id : int
    text : str
        The whole edited bulletin (plain text; its first line is the title).
    user, role : str
        The authenticated user and role (:func:`airwarn.core.users.check_actor`).
    expected_revision : int
        The warning's revision the edit was made on (a stale one is refused).
    reason : str
        Why (kept with the edit).
    current_text : str, optional
        The published bulletin the edit replaces (its hash is recorded when there is no earlier edit).
    config : emergency.signoff.SignoffConfig, optional

    Raises
    ------
    NotAuthorisedError
        The role may not edit.
    emergency.audit.WarningConflictError
        The warning is not issued (lifted, cancelled, draft) or its sign-off is recorded.
    emergency.audit.StaleRevisionError, InputError, UnknownNameError
        Stale revision, empty text, unknown warning. Every refusal is recorded in ``warning_refusal``.
    """
    try:
        if role not in EDIT_ROLES:
            raise NotAuthorisedError(f"user {user!r} with role {role!r} may not edit a bulletin; "
                                     f"allowed roles: {sorted(EDIT_ROLES)}")
        if not str(text or "").strip():
            raise InputError("edited bulletin: the text is empty")
        if expected_revision is None:
            raise InputError("edited bulletin: give the warning's revision the edit was made on")
        body = normal_text(text)
        with transaction(target) as s:
            if s.get_bind().dialect.name == "postgresql":
                s.execute(sql_text("SELECT pg_advisory_xact_lock(20260304)"))
            w = get_record(s, warning_id)
            rev = check_revision(s, w, expected_revision)
            if w.status != "issued":
                raise WarningConflictError(f"warning #{w.id} ({w.area}) is {w.status!r}; only an issued "
                                           f"warning's bulletin can be edited, before its sign-off")
            state = signoff_state(audit_log(s, warning_id=w.id), config or signoff_config())
            if state is not None and state.approved:
                raise WarningConflictError(
                    f"warning #{w.id}: its {state.step} to {state.level} was signed off by {state.approved_by} "
                    f"({state.approved_role}); the bulletin can no longer be edited")
            before = _latest_edit(s, w.id)
            before_hash = before.after_hash if before is not None else (
                text_hash(current_text) if current_text else None)
            last = s.execute(select(BulletinEdit.id, BulletinEdit.row_hash)
                             .order_by(BulletinEdit.id.desc()).limit(1)).first()
            row = dict(id=(last.id + 1) if last else 1, warning_id=w.id, revision=rev, at=_utcnow(), user=user,
                       role=role, before_hash=before_hash, after_hash=text_hash(body), text=body,
                       reason=reason or "")
            prev = last.row_hash if last else None
            digest = edit_hash(row, prev)
            s.execute(insert(BulletinEdit).values(**row, prev_hash=prev, row_hash=digest))
            return BulletinEditRecord(**row, prev_hash=prev, row_hash=digest)
    except REFUSALS as exc:
        record_refusal(target, action="edit", user=user, role=role, reason=exc, warning_id=warning_id)
        raise


def latest_edit(target, warning_id: int) -> BulletinEditRecord | None:
    """The edit in force for the warning: the newest since its latest level step, or None."""
    with transaction(target) as s:
        e = _latest_edit(s, warning_id)
        return BulletinEditRecord.of(e) if e is not None else None


def bulletin_edits(target, warning_id: int | None = None) -> list[BulletinEditRecord]:
    """Stored edits in the order they were made (optionally of one warning)."""
    with transaction(target) as s:
        stmt = select(BulletinEdit).order_by(BulletinEdit.id)
        if warning_id is not None:
            stmt = stmt.where(BulletinEdit.warning_id == warning_id)
        return [BulletinEditRecord.of(e) for e in s.scalars(stmt)]


def verify_edits(s: Session) -> list[str]:
    """Problems of the ``bulletin_edit`` hash chain (one line each; empty when intact)."""
    return chain_problems(s.scalars(select(BulletinEdit).order_by(BulletinEdit.id)), "bulletin_edit",
                          lambda e: edit_hash(e, e.prev_hash) == e.row_hash and text_hash(e.text) == e.after_hash,
                          ("an edit", "the edit"))
