"""Tables of the emergency emission-reduction list (应急减排清单).

A list *version* (one year's approved list, or a mid-year revision) owns its
enterprises, their production lines and each line's measures per warning level.
A revision is a new version with its own rows: nothing is overwritten, and the
list in force on any past day is the version with the latest
``effective_date`` on or before that day (:func:`list_in_force`, the one
definition of "the list in force" every caller uses).

Units: baseline emissions and cuts in t/day; fractions in 0–1.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from airwarn.core.dates import today_beijing
from airwarn.core.db import Base, UTCDateTime
from airwarn.core.errors import UnknownNameError

#: Performance grades, an open set (环办大气〔2026〕2号 adds A+; B- and 引领性 may go).
GRADES: tuple[str, ...] = ("A+", "A", "B", "B-", "C", "D", "引领性", "非引领性", "保障类", "未评级")
#: Grades that take voluntary measures only (自主减排) and must never be told to stop.
VOLUNTARY_GRADES: frozenset[str] = frozenset({"A+", "A", "引领性"})
#: Livelihood / key-project enterprises (保障类): capped at the load their task needs, never stopped outright.
GUARANTEE_GRADE = "保障类"
#: Warning levels a list gives measures for, mildest first.
LEVELS: tuple[str, ...] = ("yellow", "orange", "red")
#: Kinds of measure.
MEASURE_KINDS: tuple[str, ...] = ("stop", "limit", "transport", "process", "voluntary")
MEASURE_KIND_LABELS: dict[str, str] = {
    "stop": "停产", "limit": "限产", "transport": "运输管控", "process": "工艺措施", "voluntary": "自主减排",
}


class ListVersion(Base):
    """One approved version of the list (e.g. the 2026 annual revision)."""

    __tablename__ = "list_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    year: Mapped[int] = mapped_column(Integer)
    effective_date: Mapped[dt.date] = mapped_column(Date, index=True)
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approval_doc: Mapped[str | None] = mapped_column(String(128))
    source_file: Mapped[str | None] = mapped_column(String(256))
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, server_default=func.now())

    enterprises: Mapped[list["Enterprise"]] = relationship(
        back_populates="version", cascade="all, delete-orphan")


class Enterprise(Base):
    """An air-emitting enterprise on one list version."""

    __tablename__ = "enterprise"
    __table_args__ = (
        UniqueConstraint("version_id", "credit_code"),
        Index("ix_enterprise_version_name", "version_id", "name"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("list_version.id", ondelete="CASCADE"), index=True)
    credit_code: Mapped[str] = mapped_column(String(18), index=True)
    name: Mapped[str] = mapped_column(String(128))
    county: Mapped[str] = mapped_column(String(32))
    industry: Mapped[str] = mapped_column(String(64))
    grade: Mapped[str] = mapped_column(String(8))
    compliant: Mapped[bool] = mapped_column(Boolean, default=True)
    permit_no: Mapped[str | None] = mapped_column(String(32))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    contact_person: Mapped[str | None] = mapped_column(String(32))
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)

    version: Mapped[ListVersion] = relationship(back_populates="enterprises")
    lines: Mapped[list["ProductionLine"]] = relationship(
        back_populates="enterprise", cascade="all, delete-orphan", order_by="ProductionLine.line_code")


class ProductionLine(Base):
    """A production line or process of an enterprise, with its baseline emissions [t/day]."""

    __tablename__ = "production_line"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "line_code"),
        CheckConstraint("so2 >= 0 AND nox >= 0 AND pm >= 0 AND vocs >= 0", name="ck_line_baseline_nonneg"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id", ondelete="CASCADE"), index=True)
    line_code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(128))
    process: Mapped[str | None] = mapped_column(String(64))
    capacity: Mapped[float | None] = mapped_column(Float)
    capacity_unit: Mapped[str | None] = mapped_column(String(32))
    capacity_basis: Mapped[str | None] = mapped_column(String(64))
    so2: Mapped[float] = mapped_column(Float, default=0.0)
    nox: Mapped[float] = mapped_column(Float, default=0.0)
    pm: Mapped[float] = mapped_column(Float, default=0.0)
    vocs: Mapped[float] = mapped_column(Float, default=0.0)

    enterprise: Mapped[Enterprise] = relationship(back_populates="lines")
    measures: Mapped[list["Measure"]] = relationship(
        back_populates="line", cascade="all, delete-orphan")


class Measure(Base):
    """What a line does at one warning level, and the resulting cut [t/day]."""

    __tablename__ = "measure"
    __table_args__ = (
        UniqueConstraint("line_id", "level"),
        CheckConstraint("level IN ('yellow', 'orange', 'red')", name="ck_measure_level"),
        CheckConstraint("fraction IS NULL OR (fraction >= 0 AND fraction <= 1)", name="ck_measure_fraction"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("production_line.id", ondelete="CASCADE"), index=True)
    level: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(16))
    fraction: Mapped[float | None] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text, default="")
    timing: Mapped[str | None] = mapped_column(String(64))
    cut_so2: Mapped[float] = mapped_column(Float, default=0.0)
    cut_nox: Mapped[float] = mapped_column(Float, default=0.0)
    cut_pm: Mapped[float] = mapped_column(Float, default=0.0)
    cut_vocs: Mapped[float] = mapped_column(Float, default=0.0)

    line: Mapped[ProductionLine] = relationship(back_populates="measures")


def list_in_force(session: Session, day: dt.date) -> ListVersion:
    """The list version in force on ``day``: the one definition every caller uses.

    The version with the latest ``effective_date`` on or before ``day``; of versions effective on the
    same date, the latest imported (the highest id). A version effective after ``day`` is not in force
    yet, however recently it was imported; a version imported later with an earlier effective date is
    in force from that date until the next version's effective date, and does not displace it.

    Parameters
    ----------
    session : Session
    day : datetime.date
        The day (a datetime is taken as its date).

    Returns
    -------
    ListVersion

    Raises
    ------
    UnknownNameError
        If no version is effective on or before ``day``; the message names the day and the versions.
    """
    if isinstance(day, dt.datetime):
        day = day.date()
    stmt = (select(ListVersion).where(ListVersion.effective_date <= day)
            .order_by(ListVersion.effective_date.desc(), ListVersion.id.desc()).limit(1))
    found = session.scalars(stmt).first()
    if found is None:
        raise UnknownNameError(f"no list version in force on {day}; versions: {_describe(session)}")
    return found


def version_on(session: Session, day: dt.date) -> ListVersion | None:
    """:func:`list_in_force`, or ``None`` where no version is in force on ``day``."""
    try:
        return list_in_force(session, day)
    except UnknownNameError:
        return None


def list_versions(session: Session) -> list[ListVersion]:
    """Every list version, oldest effective date first."""
    return list(session.scalars(select(ListVersion).order_by(ListVersion.effective_date, ListVersion.id)))


def resolve_version(session: Session, version: "ListVersion | int | str | dt.date | None" = None) -> ListVersion:
    """The list version meant by ``version``.

    Parameters
    ----------
    version : ListVersion, int, str, date or None
        A version, its id, its name, a day (the version in force on it,
        :func:`list_in_force`), or ``None``: the version in force today
        (Beijing time).

    Raises
    ------
    UnknownNameError
        If no version matches (or none is in force on the day); the message
        lists the versions there are.
    """
    if isinstance(version, ListVersion):
        return version
    if isinstance(version, dt.date):
        return list_in_force(session, version)
    if isinstance(version, int) and not isinstance(version, bool):
        found = session.get(ListVersion, version)
    elif isinstance(version, str):
        found = session.scalars(select(ListVersion).where(ListVersion.name == version)).first()
        if found is None and version.strip().isdigit():  # an id typed on the command line
            found = session.get(ListVersion, int(version))
    elif version is None:
        return list_in_force(session, today_beijing())
    else:
        raise TypeError(f"version must be a ListVersion, id, name, date or None, got {type(version).__name__}")
    if found is None:
        raise UnknownNameError(f"no list version {version!r}; versions: {_describe(session)}")
    return found


def _describe(session: Session) -> list[str]:
    return [f"{v.name} (id {v.id}, effective {v.effective_date})" for v in list_versions(session)] or ["none imported"]


class ListFrame(Base):
    """One stored frame of a list version, for fast whole-list reads (:mod:`enterprise_list.frames`).

    Derived data written in the import's transaction: the tables above stay the record.
    """

    __tablename__ = "list_frame"

    version_id: Mapped[int] = mapped_column(ForeignKey("list_version.id", ondelete="CASCADE"), primary_key=True)
    part: Mapped[str] = mapped_column(String(24), primary_key=True)  # enterprises / lines / measures:<level>
    fingerprint: Mapped[str] = mapped_column(String(128))
    format: Mapped[str] = mapped_column(String(16))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, server_default=func.now())
