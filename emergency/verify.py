"""The check of the warning tables' hash chains, in one place (``airwarn warning verify``).

:func:`verify` walks the warning audit chain (:mod:`emergency.audit`) and checks the warning tables
against it, then adds the problems of the provincial notices' chain (:func:`emergency.notices.verify_chain`),
of the bulletin edits' chain (:func:`emergency.edits.verify_edits`), gaps in the refusals and missing
append-only triggers. Each of those modules checks its own rows; this one gathers them, so none of
them has to import the others.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from airwarn.core.chain import chain_problems
from emergency.audit import AuditEntry, audit_hash, transaction
from emergency.edits import verify_edits
from emergency.models import (APPEND_ONLY, ActiveWarning, WarningAudit, WarningRecord, WarningRefusal,
                              expected_triggers)
from emergency.notices import verify_chain

__all__ = ["VerifyResult", "verify"]


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
    ids = list(s.scalars(select(WarningRefusal.id).order_by(WarningRefusal.id)))
    gaps = [i for i, (a, b) in enumerate(zip([0, *ids], ids)) if b != a + 1]
    return [f"warning_refusal: rows missing before id {ids[gaps[0]]} (deleted outside airwarn)"] if gaps else []


def _missing_triggers(s: Session) -> list[str]:
    """The append-only triggers must be there when ``verify`` runs (it adds none itself)."""
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


def _audit_problems(rows: list[AuditEntry], warnings: dict[int, WarningRecord],
                    active: list[ActiveWarning]) -> list[str]:
    """The audit chain's own problems, and the warning tables' against it."""
    # every row has had a hash since the hash columns exist (a database from before them is refused
    # by create_tables), so a row without one was written or wiped outside airwarn
    problems = list(chain_problems(rows, "warning_audit", lambda a: audit_hash(a.__dict__, a.prev_hash) == a.row_hash))
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
    return problems


def verify(target: "Engine | Session") -> VerifyResult:
    """Check the audit chain and the warning tables against it, and the other chains.

    * Each audit row's ``prev_hash`` is the previous row's ``row_hash`` and its ``row_hash`` is
      :func:`emergency.audit.audit_hash` of its content (a changed, removed, inserted or forged row
      breaks it).
    * Each warning's rows follow on: revision +1, status from = the previous status to.
    * Each warning has audit rows, and its area, level, status, revision and period are those of its
      last audit row; its people and references are those of its audit rows.
    * Each ``warning_active`` row is an issued warning of that area whose last step issued, upgraded
      or downgraded it; each issued warning has its ``warning_active`` row.
    * The refusals have no gaps; the provincial notices' and the bulletin edits' chains are intact;
      the append-only triggers are there.
    """
    with transaction(target) as s:
        rows = [AuditEntry.of(a) for a in s.scalars(select(WarningAudit).order_by(WarningAudit.id))]
        warnings = {w.id: w for w in s.scalars(select(WarningRecord).order_by(WarningRecord.id))}
        active = list(s.scalars(select(ActiveWarning).order_by(ActiveWarning.area)))
        problems = _audit_problems(rows, warnings, active)
        problems += _refusal_gaps(s)
        problems += verify_chain(s)
        problems += verify_edits(s)
        problems += _missing_triggers(s)  # last: a changed row is the finding, a dropped trigger the means
        head = rows[-1].row_hash if rows else None
        # unhashed: kept in the result for callers; every row must carry its hash
        return VerifyResult(len(rows), head, tuple(problems), 0)
