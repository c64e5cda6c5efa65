"""Tables of the warning engine: warnings, their append-only audit trail, the active-warning slot,
and the emission inventory (the baseline of the reduction targets).

* ``warning`` — one row per warning (draft → issued → upgraded/downgraded → lifted); ``revision`` is
  bumped on every change (optimistic locking: a change names the revision it read).
* ``warning_active`` — one row per area with an active (issued) warning; ``area`` is the primary key,
  so the database itself refuses a second active warning for an area, whoever tries.
* ``warning_audit`` — append-only: the ORM refuses updates and deletes, and triggers refuse them in
  SQL too (SQLite and PostgreSQL; on PostgreSQL also TRUNCATE; on SQLite also ``REPLACE`` / ``INSERT
  OR REPLACE`` of an existing id, which would delete and re-insert the row). Tamper-evident too: each
  row holds the warning's state after the step (level, status, revision, area, start, end) and a
  SHA-256 hash over its content and the previous row's hash (``prev_hash``, ``row_hash``; see
  :func:`emergency.verify.verify`). The two hash columns are nullable for rows of a database made
  before them (such a database gets :class:`airwarn.core.db.SchemaMismatchError` from ``create_tables``).
* ``warning_refusal`` — append-only like the audit: every refused lifecycle attempt (unknown user,
  wrong password or role, permission, stale revision, unknown area, conflicting active warning).
* ``provincial_notice`` — append-only like the audit, and hash-chained in its own chain: each notice
  of the province (issue / change / lift: level, start, end, issuing body, document number, received
  at, recorded by) is a new row; the province's current word for an area is its latest row.
* ``warning_notice`` — which provincial notice a warning was started on (one row per such warning).
* ``bulletin_edit`` — append-only like the audit, hash-chained in its own chain: each edit of a
  warning's bulletin text before sign-off (who, when, revision, hashes before/after, the text).
* ``emission_inventory`` — total emissions by source sector and pollutant [t/day], one row per
  (inventory name, sector, pollutant).
"""
from __future__ import annotations

import logging

import datetime as dt

from sqlalchemy import (
    Boolean, CheckConstraint, Date, Float, ForeignKey, Integer, String, Text,
    UniqueConstraint, event, inspect,
)
from sqlalchemy.orm import Mapped, mapped_column

from airwarn.core.db import Base, UTCDateTime
from airwarn.core.vocab import EMISSION_POLLUTANTS

#: Statuses of a warning.
STATUSES: tuple[str, ...] = ("draft", "issued", "lifted", "cancelled")
#: Actions recorded in the audit trail.
ACTIONS: tuple[str, ...] = ("draft", "issue", "upgrade", "downgrade", "lift", "cancel", "approve")
#: Kinds of a provincial notice.
NOTICE_KINDS: tuple[str, ...] = ("issue", "change", "lift")
#: Source sectors of the emission inventory.
SECTORS: tuple[str, ...] = ("industry", "mobile", "dust", "residential", "other")
SECTOR_LABELS: dict[str, str] = {"industry": "工业源", "mobile": "移动源", "dust": "扬尘源",
                                 "residential": "民用源", "other": "其他"}


def _utcnow() -> dt.datetime:
    """Now, aware UTC (what the :class:`~airwarn.core.db.UTCDateTime` columns hold)."""
    return dt.datetime.now(dt.timezone.utc)


#: Logger of the warning tables.
log = logging.getLogger("airwarn.warning")

class WarningRecord(Base):
    """A heavy-pollution warning for one area (city or county)."""

    __tablename__ = "warning"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'issued', 'lifted', 'cancelled')", name="ck_warning_status"),
        CheckConstraint("level IN ('yellow', 'orange', 'red')", name="ck_warning_level"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    area: Mapped[str] = mapped_column(String(32), index=True)
    level: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(12), default="draft", index=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    start: Mapped[dt.date | None] = mapped_column(Date)
    end: Mapped[dt.date | None] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_utcnow)
    issued_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    issued_by: Mapped[str | None] = mapped_column(String(64))
    lifted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    lifted_by: Mapped[str | None] = mapped_column(String(64))
    forecast_ref: Mapped[str | None] = mapped_column(String(256))
    forecast_hash: Mapped[str | None] = mapped_column(String(64))
    rules_version: Mapped[str | None] = mapped_column(String(64))
    rules_hash: Mapped[str | None] = mapped_column(String(64))
    recommendation_json: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)


class ActiveWarning(Base):
    """The active-warning slot of an area: at most one row per area (primary key)."""

    __tablename__ = "warning_active"

    area: Mapped[str] = mapped_column(String(32), primary_key=True)
    warning_id: Mapped[int] = mapped_column(ForeignKey("warning.id"), unique=True)
    since: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_utcnow)


class WarningAudit(Base):
    """One step of a warning's life, append-only."""

    __tablename__ = "warning_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    warning_id: Mapped[int] = mapped_column(ForeignKey("warning.id"), index=True)
    area: Mapped[str] = mapped_column(String(32), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_utcnow)
    user: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(12))
    level_from: Mapped[str | None] = mapped_column(String(8))
    level_to: Mapped[str | None] = mapped_column(String(8))
    status_from: Mapped[str | None] = mapped_column(String(12))
    status_to: Mapped[str | None] = mapped_column(String(12))
    revision: Mapped[int] = mapped_column(Integer)
    forecast_ref: Mapped[str | None] = mapped_column(String(256))
    forecast_hash: Mapped[str | None] = mapped_column(String(64))
    rules_version: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text, default="")
    #: the warning's planned period after the step (its level, status and revision are above)
    warning_start: Mapped[dt.date | None] = mapped_column(Date)
    warning_end: Mapped[dt.date | None] = mapped_column(Date)
    #: the previous row's ``row_hash`` (None for the first row) and this row's chained SHA-256
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    row_hash: Mapped[str | None] = mapped_column(String(64))


class WarningRefusal(Base):
    """A refused lifecycle attempt, append-only (who claimed what, and why it was refused)."""

    __tablename__ = "warning_refusal"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_utcnow)
    user: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(12))
    area: Mapped[str | None] = mapped_column(String(64))
    warning_id: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)


class ProvincialNotice(Base):
    """A notice of the province (e.g. Shanxi's 调度令) about one area, append-only and hash-chained."""

    __tablename__ = "provincial_notice"
    __table_args__ = (
        CheckConstraint("kind IN ('issue', 'change', 'lift')", name="ck_notice_kind"),
        CheckConstraint("level IS NULL OR level IN ('yellow', 'orange', 'red')", name="ck_notice_level"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    area: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    level: Mapped[str | None] = mapped_column(String(8))
    start: Mapped[dt.date | None] = mapped_column(Date)
    end: Mapped[dt.date | None] = mapped_column(Date)
    issuing_body: Mapped[str] = mapped_column(String(128))
    doc_number: Mapped[str] = mapped_column(String(128))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_role: Mapped[str] = mapped_column(String(16))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_utcnow)
    note: Mapped[str] = mapped_column(Text, default="")
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    row_hash: Mapped[str | None] = mapped_column(String(64))


class WarningNotice(Base):
    """The provincial notice a warning was started on."""

    __tablename__ = "warning_notice"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    warning_id: Mapped[int] = mapped_column(ForeignKey("warning.id"), unique=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("provincial_notice.id"), index=True)


class BulletinEdit(Base):
    """An edit of a warning's bulletin text before sign-off, append-only and hash-chained in its own
    chain (:func:`emergency.edits.edit_bulletin`): who, when, the warning's revision, the hashes of
    the text before and after, the text itself."""

    __tablename__ = "bulletin_edit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    warning_id: Mapped[int] = mapped_column(ForeignKey("warning.id"), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_utcnow)
    user: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    before_hash: Mapped[str | None] = mapped_column(String(64))
    after_hash: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text, default="")
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    row_hash: Mapped[str | None] = mapped_column(String(64))


def _no_update(mapper, connection, target) -> None:  # pragma: no cover - guard
    raise PermissionError(f"{mapper.local_table.name} is append-only: its records cannot be changed")


def _no_delete(mapper, connection, target) -> None:  # pragma: no cover - guard
    raise PermissionError(f"{mapper.local_table.name} is append-only: its records cannot be deleted")


for _model in (WarningAudit, WarningRefusal, ProvincialNotice, WarningNotice, BulletinEdit):
    event.listen(_model, "before_update", _no_update)
    event.listen(_model, "before_delete", _no_delete)


#: Tables the database itself keeps append-only, whoever connects (an SQL console, another program).
APPEND_ONLY: tuple[str, ...] = ("warning_audit", "warning_refusal", "provincial_notice", "warning_notice",
                               "bulletin_edit")


def _sqlite_triggers(table: str) -> list[str]:
    """SQLite: refuse UPDATE and DELETE, and an INSERT of an id that exists (``REPLACE`` / ``INSERT OR
    REPLACE`` delete the old row first, and with ``recursive_triggers`` off the DELETE trigger does not
    fire, so the INSERT trigger stops them)."""
    ddl = [f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
           f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END" for op in ("UPDATE", "DELETE")]
    ddl.append(f"CREATE TRIGGER IF NOT EXISTS {table}_no_replace BEFORE INSERT ON {table} "
               f"WHEN EXISTS (SELECT 1 FROM {table} WHERE id = NEW.id) "
               f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: that id exists'); END")
    return ddl


#: PostgreSQL: one function, and per table one statement trigger on UPDATE, DELETE and TRUNCATE
#: (``INSERT ... ON CONFLICT DO UPDATE`` fires the UPDATE trigger too; there is no REPLACE).
_PG_FUNCTION = ("CREATE OR REPLACE FUNCTION warning_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
                "$body$ BEGIN RAISE EXCEPTION USING MESSAGE = TG_TABLE_NAME || ' is append-only'; END $body$")


def _pg_trigger(table: str) -> tuple[str, str]:
    """The trigger's name and DDL."""
    name = f"{table}_no_change"
    return name, (f"CREATE TRIGGER {name} BEFORE UPDATE OR DELETE OR TRUNCATE ON {table} "
                  f"FOR EACH STATEMENT EXECUTE FUNCTION warning_audit_append_only()")


def expected_triggers(dialect: str, table: str) -> list[str]:
    """Names of the append-only triggers of ``table`` on ``dialect`` (``airwarn warning verify`` checks them)."""
    if dialect == "sqlite":
        return [f"{table}_no_update", f"{table}_no_delete", f"{table}_no_replace"]
    if dialect == "postgresql":
        return [_pg_trigger(table)[0]]
    return []


def _warn_if_dropped(connection, table: str, missing: list[str]) -> None:
    """A trigger missing on a table that holds rows was dropped (every table gets its triggers when it
    is created): say so before putting it back, since the table may have been changed meanwhile."""
    if not missing:
        return
    n = connection.exec_driver_sql(f"SELECT COUNT(*) FROM {table}").scalar()
    if n:
        log.warning("append-only trigger(s) %s were missing on %s (%d rows) and are recreated: the table may "
                    "have been changed outside airwarn; run airwarn warning verify", ", ".join(missing), table, n)


@event.listens_for(Base.metadata, "after_create")
def _audit_append_only(metadata, connection, **kw) -> None:
    """Add the append-only triggers where they are missing, on every ``create_tables``: a database
    made before a trigger existed gets it too."""
    insp = inspect(connection)
    tables = [t for t in APPEND_ONLY if insp.has_table(t)]
    if not tables:
        return
    if connection.dialect.name == "sqlite":
        have = {r[0] for r in connection.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        for table in tables:
            _warn_if_dropped(connection, table, [n for n in expected_triggers("sqlite", table) if n not in have])
            for ddl in _sqlite_triggers(table):
                connection.exec_driver_sql(ddl)
    elif connection.dialect.name == "postgresql":
        # one process at a time (several dashboard workers may start together)
        connection.exec_driver_sql("SELECT pg_advisory_xact_lock(20260301)")
        missing = [ddl for table in tables for name, ddl in [_pg_trigger(table)] if not connection.exec_driver_sql(
            f"SELECT 1 FROM pg_trigger WHERE tgname = '{name}' AND tgrelid = to_regclass('{table}')").first()]
        for table in tables:
            name = _pg_trigger(table)[0]
            if any(name in ddl for ddl in missing):
                _warn_if_dropped(connection, table, [name])
        if missing:  # (re)define the function only then: a running database need not be its owner's
            connection.exec_driver_sql(_PG_FUNCTION)
        for ddl in missing:
            connection.exec_driver_sql(ddl)


class EmissionInventory(Base):
    """Total emissions of one source sector and pollutant, from an imported inventory [t/day]."""

    __tablename__ = "emission_inventory"
    __table_args__ = (
        UniqueConstraint("name", "sector", "pollutant"),
        CheckConstraint("value_t_per_day >= 0", name="ck_inventory_nonneg"),
        CheckConstraint(f"pollutant IN ({', '.join(repr(p) for p in EMISSION_POLLUTANTS)})",
                        name="ck_inventory_pollutant"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    area: Mapped[str | None] = mapped_column(String(32))
    year: Mapped[int | None] = mapped_column(Integer)
    sector: Mapped[str] = mapped_column(String(16))
    pollutant: Mapped[str] = mapped_column(String(8))
    value_t_per_day: Mapped[float] = mapped_column(Float)
    unit_in_source: Mapped[str] = mapped_column(String(8))
    source_file: Mapped[str | None] = mapped_column(String(256))
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    imported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_utcnow)
