"""The people who use airwarn: accounts, roles and passwords, for every entry point.

Users live in the ``dashboard_user`` table (the name it has had since the dashboard was the only
entry point) with a werkzeug password hash (scrypt); there is no built-in user and no default
password. The dashboard signs users in with :func:`authenticate`; the command line acts only as an
existing user with the role it claims (:func:`check_actor`).
"""
from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import Boolean, DateTime, Integer, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from airwarn.db import Base
from airwarn.vocab import Role

#: Minimum password length accepted by :func:`add_user`.
MIN_PASSWORD_LENGTH = 8


class User(Base):
    """A user of airwarn (password stored as a werkzeug hash only)."""

    __tablename__ = "dashboard_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())


def add_user(session: Session, name: str, role: "str | Role", password: str) -> User:
    """Create a user, or reset an existing user's role and password.

    Parameters
    ----------
    session : Session
        Open database session (the caller commits).
    name : str
        User name, 1–64 characters, no spaces.
    role : str or Role
        ``viewer``, ``forecaster``, ``commander`` or ``list-admin``.
    password : str
        At least :data:`MIN_PASSWORD_LENGTH` characters.

    Raises
    ------
    KeyError
        If the role is unknown.
    ValueError
        If the name or password is unacceptable.
    """
    role = Role.parse(role)
    name = (name or "").strip()
    if not name or len(name) > 64 or any(c.isspace() for c in name):
        raise ValueError(f"user name must be 1-64 characters without spaces, got {name!r}")
    if password is None or len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    user = session.scalars(select(User).where(User.name == name)).first()
    if user is None:
        user = User(name=name)
        session.add(user)
    user.role = role.value
    user.password_hash = generate_password_hash(password)
    user.active = True
    session.flush()
    return user


def authenticate(session: Session, name: str, password: str) -> User | None:
    """The active user with this name and password, else None (timing-safe check)."""
    user = session.scalars(select(User).where(User.name == (name or "").strip())).first()
    if user is None or not user.active:
        check_password_hash(_DUMMY_HASH, password or "")  # same work for unknown names
        return None
    return user if check_password_hash(user.password_hash, password or "") else None


_DUMMY_HASH = generate_password_hash(secrets.token_hex(8))


def list_users(session: Session) -> list[User]:
    """All users, by name."""
    return list(session.scalars(select(User).order_by(User.name)))


def check_actor(session: Session, name: str, role: "str | Role", password: str | None) -> User:
    """The user a command-line action runs as: an existing, active user holding ``role`` whose
    password is ``password``.

    Raises
    ------
    PermissionError
        Naming what failed: no password given, unknown or disabled user or wrong password (one
        message for the three, as at sign-in), or a role the user does not hold.
    """
    role = Role.parse(role)
    if not password:
        raise PermissionError(f"user {name!r}: a password is needed to act as {role.value} "
                              f"(type it at the prompt, or set AIRWARN_PASSWORD)")
    user = authenticate(session, name, password)
    if user is None:
        raise PermissionError(f"user {name!r}: unknown user, disabled user or wrong password")
    if user.role != role.value:
        raise PermissionError(f"user {name!r} holds the role {user.role}, not {role.value}")
    return user
