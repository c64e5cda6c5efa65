"""Provincial notices (省级预警通知 / 调度令) as records, and the rules they impose on the city's warning.

A provincial warning is only a minimum: the province's notice sets the level **and start** of the
city's warning, and a warning started on it is lifted only after the province lifts
(``../shared/docs/standards-notes.md`` §9). Each notice is one append-only row of
``provincial_notice`` (kind ``issue``, ``change`` or ``lift``; level, start, end, issuing body,
document number, received at, recorded by), hash-chained like the warning audit
(:func:`airwarn.core.chain.row_hash` over the row's fields and the previous notice's hash) and
checked by :func:`emergency.verify.verify`. The province's current word for an area is its latest
notice (:func:`current`): ``issue``/``change`` in force, or ``lift``.

What follows for the lifecycle (:mod:`emergency.lifecycle`):

* ``issue`` while a notice is in force for the area links the warning to it (``warning_notice``),
  refuses a level below the notice's, takes the notice's start (a different start is refused) and
  its end when none is given;
* ``downgrade`` of a linked warning below the province's current level, and ``lift`` of a linked
  warning while the province's notice is still in force, are refused until the province's change or
  lift notice is recorded.

Only a commander records notices (:data:`RECORD_ROLES`).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import insert, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from airwarn.core.chain import chain_problems, row_hash
from airwarn.core.dates import BEIJING, format_beijing
from airwarn.core.errors import InputError, NotAuthorisedError
from airwarn.core.vocab import WarningLevel
from emergency.audit import REFUSALS, as_date, canonical_area, lookup_area, record_refusal, transaction
from emergency.models import NOTICE_KINDS, ProvincialNotice, WarningNotice, _utcnow

__all__ = ["RECORD_ROLES", "Notice", "record", "current", "notices", "notice_of_warning", "in_force",
           "verify_chain", "notice_hash"]

#: Roles that may record a provincial notice.
RECORD_ROLES = frozenset({"commander"})
KIND_LABELS = {"issue": "启动", "change": "调整", "lift": "解除"}
#: The fields a notice's hash covers, in this order.
_FIELDS = ("id", "area", "kind", "level", "start", "end", "issuing_body", "doc_number", "received_at",
           "recorded_by", "recorded_role", "recorded_at", "note")


@dataclass(frozen=True)
class Notice:
    """One provincial notice (times aware UTC)."""

    id: int
    area: str
    kind: str
    level: str | None
    start: dt.date | None
    end: dt.date | None
    issuing_body: str
    doc_number: str
    received_at: dt.datetime
    recorded_by: str
    recorded_role: str
    recorded_at: dt.datetime
    note: str = ""
    prev_hash: str | None = None
    row_hash: str | None = None

    @classmethod
    def of(cls, n: ProvincialNotice) -> "Notice":
        return cls(*(getattr(n, f) for f in _FIELDS), n.prev_hash, n.row_hash)

    @property
    def in_force(self) -> bool:
        """True for an issue or change notice (the province's warning stands)."""
        return self.kind != "lift"

    @property
    def level_enum(self) -> WarningLevel:
        return WarningLevel.parse(self.level) if self.level else WarningLevel.NONE

    def describe(self) -> str:
        """Chinese one-line account (Beijing times)."""
        what = (f"{KIND_LABELS[self.kind]}{self.level_enum.label}，自{self.start}起"
                + (f"至{self.end}" if self.end else "") if self.in_force else "解除预警")
        return (f"{self.issuing_body}{self.doc_number}：{what}（收到：{format_beijing(self.received_at)}；"
                f"登记：{self.recorded_by}）")


def notice_hash(row, prev_hash: str | None) -> str:
    """SHA-256 (hex) of a notice's fields (order of ``_FIELDS``) preceded by the previous notice's hash."""
    return row_hash(row, _FIELDS, prev_hash)


def _utc(t: "dt.datetime | str | None") -> dt.datetime:
    """A received-at time as aware UTC; a time without zone is Beijing time (as people write it)."""
    if t is None:
        return _utcnow()
    if isinstance(t, str):
        try:
            t = dt.datetime.fromisoformat(t.strip())
        except ValueError:
            raise InputError(f"received at: expected a time YYYY-MM-DDTHH:MM (Beijing time), got {t!r}") from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=BEIJING)
    return t.astimezone(dt.timezone.utc)


def _latest(s: Session, area: str) -> ProvincialNotice | None:
    return s.scalars(select(ProvincialNotice).where(ProvincialNotice.area == area)
                     .order_by(ProvincialNotice.id.desc()).limit(1)).first()


def in_force(s: Session, area: str) -> ProvincialNotice | None:
    """The provincial notice in force for the (canonical) area: its latest, unless that is a lift
    (a ``ProvincialNotice`` row of the caller's session, for the lifecycle's checks)."""
    n = _latest(s, area)
    return n if n is not None and n.kind != "lift" else None


def record(target: "Engine | Session", *, area: str, kind: str, user: str, role: str, issuing_body: str,
           doc_number: str, level: "WarningLevel | str | None" = None, start: "dt.date | str | None" = None,
           end: "dt.date | str | None" = None, received_at: "dt.datetime | str | None" = None, note: str = "",
           areas=None) -> Notice:
    """Record a provincial notice (commander only).

    Parameters
    ----------
    area : str
        City or county it concerns (an alias is stored as its canonical name).
    kind : {"issue", "change", "lift"}
        ``issue`` starts the province's warning (none may be in force), ``change`` sets a new level or
        period of the one in force, ``lift`` ends it.
    issuing_body, doc_number : str
        E.g. ``山西省生态环境厅`` and ``晋环应急调度〔2026〕12号``.
    level, start, end
        The minimum level and the start (required for issue and change), and the end if the notice
        gives one; a lift notice has none of them.
    received_at : datetime or str, optional
        When the city received it (a time without zone is Beijing time; default now).

    Raises
    ------
    NotAuthorisedError, InputError, UnknownAreaError
        Refused (and recorded in ``warning_refusal``).
    """
    try:
        if role not in RECORD_ROLES:
            raise NotAuthorisedError(f"user {user!r} with role {role!r} may not record a provincial notice; "
                                     f"allowed roles: {sorted(RECORD_ROLES)}")
        if kind not in NOTICE_KINDS:
            raise InputError(f"notice kind must be one of {list(NOTICE_KINDS)}, got {kind!r}")
        if not str(issuing_body or "").strip() or not str(doc_number or "").strip():
            raise InputError("a provincial notice needs its issuing body and document number")
        area = canonical_area(area, areas)
        lvl = WarningLevel.parse(level) if level else WarningLevel.NONE
        if kind == "lift":
            if level or start or end:
                raise InputError("a lift notice has no level, start or end")
        elif lvl == WarningLevel.NONE or start is None:
            raise InputError(f"a {kind} notice needs a level (yellow, orange or red) and a start date")
        start_d, end_d = as_date(start), as_date(end)
        if start_d and end_d and end_d < start_d:
            raise InputError(f"notice end {end_d} is before its start {start_d}")
        with transaction(target) as s:
            if s.get_bind().dialect.name == "postgresql":
                s.execute(text("SELECT pg_advisory_xact_lock(20260303)"))
            now = _latest(s, area)
            if kind == "issue" and now is not None and now.kind != "lift":
                raise InputError(f"{area}: the province's notice {now.doc_number} is in force; record a change "
                                 f"or lift notice instead of another issue")
            if kind != "issue" and (now is None or now.kind == "lift"):
                raise InputError(f"{area}: no provincial notice is in force to {kind}")
            last = s.execute(select(ProvincialNotice.id, ProvincialNotice.row_hash)
                             .order_by(ProvincialNotice.id.desc()).limit(1)).first()
            row = dict(id=(last.id + 1) if last else 1, area=area, kind=kind,
                       level=None if kind == "lift" else lvl.key, start=start_d, end=end_d,
                       issuing_body=str(issuing_body).strip()[:128], doc_number=str(doc_number).strip()[:128],
                       received_at=_utc(received_at), recorded_by=user, recorded_role=role,
                       recorded_at=_utcnow(), note=note or "")
            prev = last.row_hash if last else None
            s.execute(insert(ProvincialNotice).values(**row, prev_hash=prev, row_hash=notice_hash(row, prev)))
            return Notice(**row, prev_hash=prev, row_hash=notice_hash(row, prev))
    except REFUSALS as exc:
        record_refusal(target, action="notice", user=user, role=role, reason=exc, area=area)
        raise


def current(target: "Engine | Session", area: str, areas=None) -> Notice | None:
    """The area's latest provincial notice (in force unless its kind is ``lift``), or None."""
    with transaction(target) as s:
        n = _latest(s, lookup_area(area, areas))
        return Notice.of(n) if n is not None else None


def notices(target: "Engine | Session", area: str | None = None, areas=None) -> list[Notice]:
    """Provincial notices in the order they were recorded (optionally of one area)."""
    with transaction(target) as s:
        stmt = select(ProvincialNotice).order_by(ProvincialNotice.id)
        if area is not None:
            stmt = stmt.where(ProvincialNotice.area == lookup_area(area, areas))
        return [Notice.of(n) for n in s.scalars(stmt)]


def notice_of_warning(target: "Engine | Session", warning_id: int) -> Notice | None:
    """The provincial notice a warning was started on, or None."""
    with transaction(target) as s:
        n = s.execute(select(ProvincialNotice).join(WarningNotice, WarningNotice.notice_id == ProvincialNotice.id)
                      .where(WarningNotice.warning_id == warning_id)).scalar_one_or_none()
        return Notice.of(n) if n is not None else None


def verify_chain(s: Session) -> list[str]:
    """Problems of the notices' hash chain (one line each; empty when intact)."""
    rows = s.scalars(select(ProvincialNotice).order_by(ProvincialNotice.id))
    return chain_problems(rows, "provincial_notice", lambda n: notice_hash(n, n.prev_hash) == n.row_hash,
                          ("a notice", "the notice"))