"""Tables of the warning engine: warnings, their append-only audit trail, the active-warning slot,
and the emission inventory (the baseline of the reduction targets).

* ``warning`` — one row per warning (draft → issued → upgraded/downgraded → lifted); ``revision`` is
  bumped on every change (optimistic locking: a change names the revision it read).
* ``warning_active`` — one row per area with an active (issued) warning; ``area`` is the primary key,
  so the database itself refuses a second active warning for an area, whoever tries.
* ``warning_audit`` — append-only: the ORM refuses updates and deletes, and a trigger refuses them
  in SQL too (SQLite and PostgreSQL; on PostgreSQL also TRUNCATE).
* ``emission_inventory`` — total emissions by source sector and pollutant [t/day], one row per
  (inventory name, sector, pollutant).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean, CheckConstraint, Date, DateTime, Float, ForeignKey, Integer, String, Text,
    UniqueConstraint, event, inspect,
)
from sqlalchemy.orm import Mapped, mapped_column

from airwarn.db import Base

#: Statuses of a warning.
STATUSES: tuple[str, ...] = ("draft", "issued", "lifted", "cancelled")
#: Actions recorded in the audit trail.
ACTIONS: tuple[str, ...] = ("draft", "issue", "upgrade", "downgrade", "lift", "cancel")
#: Source sectors of the emission inventory.
SECTORS: tuple[str, ...] = ("industry", "mobile", "dust", "residential", "other")
SECTOR_LABELS: dict[str, str] = {"industry": "工业源", "mobile": "移动源", "dust": "扬尘源",
                                 "residential": "民用源", "other": "其他"}


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


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
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_utcnow)
    issued_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    issued_by: Mapped[str | None] = mapped_column(String(64))
    lifted_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
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
    since: Mapped[dt.datetime] = mapped_column(DateTime, default=_utcnow)


class WarningAudit(Base):
    """One step of a warning's life, append-only."""

    __tablename__ = "warning_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    warning_id: Mapped[int] = mapped_column(ForeignKey("warning.id"), index=True)
    area: Mapped[str] = mapped_column(String(32), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=_utcnow)
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


@event.listens_for(WarningAudit, "before_update")
def _audit_no_update(mapper, connection, target) -> None:  # pragma: no cover - guard
    raise PermissionError("warning_audit is append-only: audit records cannot be changed")


@event.listens_for(WarningAudit, "before_delete")
def _audit_no_delete(mapper, connection, target) -> None:  # pragma: no cover - guard
    raise PermissionError("warning_audit is append-only: audit records cannot be deleted")


#: Triggers by which the database itself refuses changes to the audit trail, whoever connects (an SQL
#: console, another program): SQLite's per statement kind; PostgreSQL's one function and one trigger
#: (UPDATE, DELETE and TRUNCATE).
_AUDIT_TRIGGERS = {
    "sqlite": [f"CREATE TRIGGER IF NOT EXISTS warning_audit_no_{op.lower()} BEFORE {op} ON warning_audit "
               f"BEGIN SELECT RAISE(ABORT, 'warning_audit is append-only'); END" for op in ("UPDATE", "DELETE")],
    "postgresql": [
        ("CREATE OR REPLACE FUNCTION warning_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
         "$body$ BEGIN RAISE EXCEPTION 'warning_audit is append-only'; END $body$"),
        ("CREATE TRIGGER warning_audit_no_change BEFORE UPDATE OR DELETE OR TRUNCATE ON warning_audit "
         "FOR EACH STATEMENT EXECUTE FUNCTION warning_audit_append_only()")],
}


@event.listens_for(Base.metadata, "after_create")
def _audit_append_only(metadata, connection, **kw) -> None:
    """Add the audit trail's triggers where they are missing, on every ``create_tables``: a database
    made before a trigger existed gets it too."""
    statements = _AUDIT_TRIGGERS.get(connection.dialect.name)
    if not statements or not inspect(connection).has_table("warning_audit"):
        return
    if connection.dialect.name == "postgresql":
        # one process at a time (several dashboard workers may start together), and this table's trigger
        connection.exec_driver_sql("SELECT pg_advisory_xact_lock(20260301)")
        if connection.exec_driver_sql("SELECT 1 FROM pg_trigger WHERE tgname = 'warning_audit_no_change' "
                                      "AND tgrelid = to_regclass('warning_audit')").first():
            return
    for ddl in statements:
        connection.exec_driver_sql(ddl)


class EmissionInventory(Base):
    """Total emissions of one source sector and pollutant, from an imported inventory [t/day]."""

    __tablename__ = "emission_inventory"
    __table_args__ = (
        UniqueConstraint("name", "sector", "pollutant"),
        CheckConstraint("value_t_per_day >= 0", name="ck_inventory_nonneg"),
        CheckConstraint("pollutant IN ('so2', 'nox', 'pm', 'vocs')", name="ck_inventory_pollutant"),
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
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_utcnow)
