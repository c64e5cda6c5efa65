"""Aware timestamps: every instant column is timezone-aware UTC (issue 15).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02

The models declare their instants as :class:`airwarn.core.db.UTCDateTime` (``DateTime(timezone=True)``,
aware UTC in Python). The baseline made them ``DateTime()`` holding naive UTC.

PostgreSQL
    Each column of :data:`INSTANTS` becomes ``timestamptz``:
    ``ALTER TABLE t ALTER COLUMN c TYPE timestamptz USING c AT TIME ZONE 'UTC'`` (the naive values
    are UTC, so the instants are unchanged whatever the session's ``TimeZone``), one statement per
    table (one rewrite). A column that is already ``timestamptz`` (a database adopted from a
    ``create_all`` of the new models) is left as it is. The append-only triggers of the audit-like
    tables are ``BEFORE UPDATE OR DELETE OR TRUNCATE`` triggers: ``ALTER TABLE … TYPE`` rewrites the
    table without firing them, and keeps them. The server defaults (``now()``) are converted with the
    column (``now()`` is a ``timestamptz`` already).
SQLite
    Nothing to change in storage: SQLite has no time type, and ``UTCDateTime`` stores the same UTC
    text (``2026-12-01 20:35:12.000000``) as the naive column did and gives it back aware, so the
    rows written before read unchanged. Only the revision number moves.

The hash chains (audit, notices, bulletin edits) hash a time as naive UTC ISO 8601 whatever its
zone (:func:`airwarn.core.chain.row_hash`), so rows hashed before this revision still verify.
"""
from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import context, op

# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: Union[str, Sequence[str], None] = "0001"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

#: Every instant column of the baseline, by table (frozen: a later instant column is made aware).
INSTANTS: dict[str, tuple[str, ...]] = {
    "dashboard_user": ("created_at",),
    "user_session": ("created_at", "last_seen", "ended_at"),
    "login_failure": ("at",),
    "list_version": ("created_at",),
    "list_frame": ("created_at",),
    "warning": ("created_at", "issued_at", "lifted_at"),
    "warning_active": ("since",),
    "warning_audit": ("at",),
    "warning_refusal": ("at",),
    "provincial_notice": ("received_at", "recorded_at"),
    "bulletin_edit": ("at",),
    "emission_inventory": ("imported_at",),
    "dashboard_consult_note": ("updated_at",),
    "dashboard_consult_note_revision": ("saved_at",),
}


def _columns(aware: bool) -> dict[str, list[str]]:
    """The instant columns whose zone-awareness is not ``aware`` yet (offline mode: all of them)."""
    if context.is_offline_mode():
        return {t: list(cols) for t, cols in INSTANTS.items()}
    inspector = sa.inspect(op.get_bind())
    todo = {}
    for table, cols in INSTANTS.items():
        types = {c["name"]: c["type"] for c in inspector.get_columns(table)}
        left = [c for c in cols if bool(getattr(types[c], "timezone", False)) != aware]
        if left:
            todo[table] = left
    return todo


def _alter(aware: bool) -> None:
    if op.get_context().dialect.name != "postgresql":
        return  # SQLite: the same text either way (see the module's docstring)
    preparer = op.get_context().dialect.identifier_preparer
    new_type = "timestamptz" if aware else "timestamp"
    for table, cols in _columns(aware).items():
        clauses = ", ".join(f"ALTER COLUMN {preparer.quote(c)} TYPE {new_type} USING {preparer.quote(c)} "
                            f"AT TIME ZONE 'UTC'" for c in cols)
        op.execute(f"ALTER TABLE {preparer.quote(table)} {clauses}")


def upgrade() -> None:
    """PostgreSQL: ``timestamp`` → ``timestamptz`` (values taken as UTC); SQLite: nothing."""
    _alter(aware=True)


def downgrade() -> None:
    """PostgreSQL: ``timestamptz`` → ``timestamp`` holding UTC; SQLite: nothing."""
    _alter(aware=False)
