"""The consultation notes (会商意见) of the 会商 page: one per (date, city), every saved version kept
(the dashboard's own tables, :mod:`dashboard.models`)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from airwarn.core.dates import utc_now
from airwarn.core.errors import InputError
from airwarn.core.settings import Settings
from dashboard.models import ConsultationNote, ConsultationNoteRevision
from dashboard.services.context import session

#: Longest note accepted [characters].
MAX_NOTE_CHARS = 20000


def _day(day: "dt.date | str") -> dt.date:
    try:
        return dt.date.fromisoformat(str(day)[:10])
    except ValueError:
        raise InputError(f"consultation note: expected a date YYYY-MM-DD, got {day!r}") from None


def get_note(day: "dt.date | str", city: str, s: Settings | None = None) -> dict | None:
    """The consultation note of (day, city): ``{"text", "author", "updated_at"}`` or None."""
    day = _day(day)
    with session(s) as sess:
        note = sess.scalars(select(ConsultationNote).where(
            ConsultationNote.date == day, ConsultationNote.city == city)).first()
        if note is None:
            return None
        return {"text": note.text, "author": note.author, "updated_at": note.updated_at}


def save_note(day: "dt.date | str", city: str, text: str, author: str, s: Settings | None = None) -> None:
    """Save (insert or replace) the consultation note of (day, city), and keep the version.

    Raises
    ------
    InputError
        If the text is longer than :data:`MAX_NOTE_CHARS` or the day is not a date.
    """
    day = _day(day)
    if len(text) > MAX_NOTE_CHARS:
        raise InputError(f"consultation note too long: {len(text)} characters, at most {MAX_NOTE_CHARS}")
    with session(s) as sess:
        note = sess.scalars(select(ConsultationNote).where(
            ConsultationNote.date == day, ConsultationNote.city == city)).first()
        if note is None:
            note = ConsultationNote(date=day, city=city)
            sess.add(note)
        note.text = text
        note.author = author
        note.updated_at = now = utc_now()  # stored as UTC, shown in Beijing time
        sess.add(ConsultationNoteRevision(date=day, city=city, text=text, author=author, saved_at=now))


def note_history(day: "dt.date | str", city: str, s: Settings | None = None, limit: int = 50) -> list[dict]:
    """The saved versions of the note of (day, city), newest first: ``{"text", "author", "saved_at"}``
    (``saved_at`` aware UTC, as stored)."""
    day = _day(day)
    with session(s) as sess:
        rows = sess.scalars(select(ConsultationNoteRevision).where(
            ConsultationNoteRevision.date == day, ConsultationNoteRevision.city == city)
            .order_by(ConsultationNoteRevision.id.desc()).limit(limit)).all()
        return [{"text": r.text, "author": r.author, "saved_at": r.saved_at} for r in rows]
