"""Tables of the dashboard other than users: the consultation note."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from airwarn.core.db import Base, UTCDateTime


class ConsultationNote(Base):
    """The forecaster's note of the daily consultation (会商意见), one per date and city."""

    __tablename__ = "dashboard_consult_note"
    __table_args__ = (UniqueConstraint("date", "city"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    city: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, server_default=func.now(), onupdate=func.now())


class ConsultationNoteRevision(Base):
    """Every saved version of a consultation note (the note's history: who saved what, when: an aware UTC instant)."""

    __tablename__ = "dashboard_consult_note_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    city: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(64))
    saved_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)  # aware UTC, as airwarn.core.dates.utc_now gives
