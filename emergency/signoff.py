"""Sign-off chain: who must approve a warning the commander issued, and by when.

The commander issues, upgrades and downgrades (:mod:`emergency.lifecycle`, as before); each of these
steps then needs the approval of the role the level names, recorded afterwards by a user holding
that role (:func:`emergency.lifecycle.approve`, ``airwarn warning approve --id N --revision R``) as an
``approve`` row of the hash-chained audit (who, role, when). The clock: the approval is due within
``deadline_hours`` (2 h) of the step; :func:`signoff_state` says whether it is overdue.

Configuration, in the rule set YAML (optional; the default is the cities' practice, standards notes §9)::

    signoff:
      approvers: {yellow: [vice-mayor], orange: [vice-mayor], red: [mayor]}
      deadline_hours: 2
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Mapping

from airwarn.core.dates import as_utc, format_beijing
from airwarn.core.errors import InputError
from airwarn.core.vocab import Role, WarningLevel
from emergency.rules import load_rules

__all__ = ["DEFAULT_APPROVERS", "DEADLINE_HOURS", "SignoffConfig", "signoff_config", "SignoffState",
           "signoff_state"]

#: Who approves each level by default: the vice-mayor yellow and orange, the mayor red.
DEFAULT_APPROVERS: dict[str, tuple[str, ...]] = {"yellow": ("vice-mayor",), "orange": ("vice-mayor",),
                                                 "red": ("mayor",)}
#: Hours within which the approval is due.
DEADLINE_HOURS = 2.0
#: The steps that set a level and so need an approval.
LEVEL_STEPS = ("issue", "upgrade", "downgrade")


@dataclass(frozen=True)
class SignoffConfig:
    """Approving roles per level key, and the deadline in hours."""

    approvers: Mapping[str, tuple[str, ...]]
    deadline_hours: float = DEADLINE_HOURS

    def roles_for(self, level: "WarningLevel | str") -> tuple[str, ...]:
        return tuple(self.approvers.get(WarningLevel.parse(level).key, ()))


def signoff_config(rules=None) -> SignoffConfig:
    """The sign-off configuration of a rule set (its ``signoff`` key), else the default.

    Raises
    ------
    InputError, UnknownNameError
        A malformed ``signoff`` section (unknown level or role, deadline not a positive number).
    """
    raw = {}
    if rules is not None:
        raw = (load_rules(rules).raw or {}).get("signoff") or {}
    if not isinstance(raw, dict):
        raise InputError(f"rules: 'signoff' must be a mapping with keys approvers, deadline_hours, got {raw!r}")
    given = raw.get("approvers") or {}
    if not isinstance(given, dict):
        raise InputError(f"rules: signoff.approvers: expected a mapping level → roles, got {given!r}")
    approvers = dict(DEFAULT_APPROVERS)
    for level, roles in given.items():
        key = WarningLevel.parse(level).key
        roles = [roles] if isinstance(roles, str) else list(roles or ())
        approvers[key] = tuple(Role.parse(r).value for r in roles)
    try:
        hours = float(raw.get("deadline_hours", DEADLINE_HOURS))
    except (TypeError, ValueError):
        hours = float("nan")
    if not hours > 0:
        raise InputError(f"rules: signoff.deadline_hours: expected a number of hours > 0, "
                         f"got {raw.get('deadline_hours')!r}")
    return SignoffConfig(approvers, hours)


@dataclass(frozen=True)
class SignoffState:
    """The sign-off of a warning's latest level step (times aware UTC, as stored).

    Attributes
    ----------
    step : str
        ``issue``, ``upgrade`` or ``downgrade``; ``level`` the level it set.
    step_at, deadline : datetime
    required_roles : tuple of str
    approved_by, approved_role, approved_at : str / datetime or None
    """

    warning_id: int
    step: str
    level: str
    step_at: dt.datetime
    deadline: dt.datetime
    required_roles: tuple[str, ...]
    approved_by: str | None = None
    approved_role: str | None = None
    approved_at: dt.datetime | None = None

    @property
    def approved(self) -> bool:
        return self.approved_at is not None

    def overdue(self, now: dt.datetime | None = None) -> bool:
        """Not approved and past the deadline, or approved after it."""
        if self.approved_at is not None:
            return as_utc(self.approved_at) > as_utc(self.deadline)
        now = as_utc(now) if now is not None else dt.datetime.now(dt.timezone.utc)  # naive: UTC
        return now > as_utc(self.deadline)

    def describe(self, now: dt.datetime | None = None) -> str:
        """Chinese one-line account with Beijing times."""
        who = "或".join(Role.parse(r).label for r in self.required_roles) or "（未配置）"
        if self.approved:
            late = "（超时）" if self.overdue() else ""
            return (f"{who}签批：已由 {self.approved_by}（{Role.parse(self.approved_role).label}）于 "
                    f"{format_beijing(self.approved_at)}批准{late}")
        late = "，已超时" if self.overdue(now) else ""
        return f"待{who}签批，时限 {format_beijing(self.deadline)}{late}"

    def to_dict(self, now: dt.datetime | None = None) -> dict:
        return {"step": self.step, "level": self.level, "required_roles": list(self.required_roles),
                "step_at": format_beijing(self.step_at), "deadline": format_beijing(self.deadline),
                "approved_by": self.approved_by, "approved_role": self.approved_role,
                "approved_at": format_beijing(self.approved_at) if self.approved_at else None,
                "overdue": self.overdue(now)}


def signoff_state(entries, config: SignoffConfig | None = None) -> SignoffState | None:
    """The sign-off state from a warning's audit entries (:func:`emergency.lifecycle.audit_log` with
    ``warning_id``), or None if no level step was taken."""
    config = config or signoff_config()
    step = None
    approval = None
    for a in entries:
        if a.action in LEVEL_STEPS and a.status_to == "issued":
            step, approval = a, None
        elif a.action == "approve" and step is not None:
            approval = approval or a
    if step is None:
        return None
    deadline = step.at + dt.timedelta(hours=config.deadline_hours)
    return SignoffState(step.warning_id, step.action, step.level_to, step.at, deadline,
                        config.roles_for(step.level_to),
                        approval.user if approval else None, approval.role if approval else None,
                        approval.at if approval else None)
