"""The people who use airwarn: accounts, roles, passwords, sign-in sessions and sign-in throttling,
for every entry point.

Users live in the ``dashboard_user`` table (the name it has had since the dashboard was the only
entry point) with a werkzeug password hash (scrypt); there is no built-in user and no default
password. The dashboard signs users in with :func:`sign_in` and keeps a server-side session record
(:class:`UserSession`) per sign-in; the command line acts only as an existing user with the role it
claims (:func:`check_actor`).

Rules
-----
User names
    1–64 characters after NFKC normalisation: letters (Chinese included), digits and ``. _ -``; no
    spaces, control characters or terminal escapes.
Passwords
    Viewers: at least :data:`MIN_PASSWORD_LENGTH` (8) characters. The roles that act (forecaster,
    commander, list-admin): at least :data:`MIN_ACTING_PASSWORD_LENGTH` (12) characters, at least
    two kinds of character (lower case, upper case, digits, others), not containing the user name,
    and not one of the 1,000 most common passwords (``airwarn/core/data/common_passwords.csv``, from
    SecLists, MIT), nor one of them with digits or symbols added before or after.
Sessions
    A sign-in creates a :class:`UserSession` whose random id (only its SHA-256 is stored) is all the
    browser's cookie carries. A session ends at sign-out, :data:`SESSION_IDLE_TIMEOUT` after the last
    request, :data:`SESSION_LIFETIME` after sign-in, and for every session of a user whose password
    or role is reset (:func:`add_user`) or who is disabled (:func:`deactivate_user`).
Throttling
    Failed sign-ins (dashboard and command line) are counted in the ``login_failure`` table, so all
    server threads, processes and restarts see them. A name with :data:`MAX_FAILURES_PER_NAME`
    failures, or an address with :data:`MAX_FAILURES_PER_ADDRESS`, within
    :data:`FAILURE_WINDOW` is refused (:class:`SignInThrottled`, even with the right password) until
    enough of those failures are older than the window. Refusals and failures are logged (logger
    ``airwarn.core.users``) with name and address; unknown names are counted like known ones.
"""
from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import logging
import secrets
import threading
import unicodedata
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Boolean, ForeignKey, Integer, String, delete, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from airwarn.core.db import Base, UTCDateTime
from airwarn.core.vocab import Role
from airwarn.core.errors import NotAuthorisedError, InputError, UnknownNameError

log = logging.getLogger("airwarn.core.users")

#: Minimum password length of a viewer.
MIN_PASSWORD_LENGTH = 8
#: Minimum password length of the roles that act (:data:`ACTING_ROLES`).
MIN_ACTING_PASSWORD_LENGTH = 12
#: Roles that change something (notes, warnings, lists, sign-offs): the stricter password rules apply.
ACTING_ROLES = frozenset({Role.FORECASTER, Role.COMMANDER, Role.LIST_ADMIN, Role.VICE_MAYOR, Role.MAYOR})
#: Longest user name (characters, after NFKC normalisation).
MAX_NAME_LENGTH = 64
#: A session ends this long after sign-in, whatever happens.
SESSION_LIFETIME = dt.timedelta(hours=12)
#: A session ends when no request came for this long.
SESSION_IDLE_TIMEOUT = dt.timedelta(hours=2)
#: ``last_seen`` is written at most this often (one write per minute, not one per request).
_TOUCH_EVERY = dt.timedelta(minutes=1)
#: Failures counted over this window (and the longest a name or address stays refused).
FAILURE_WINDOW = dt.timedelta(minutes=15)
#: Failed sign-ins for one user name within :data:`FAILURE_WINDOW` before it is refused.
MAX_FAILURES_PER_NAME = 5
#: Failed sign-ins from one client address within :data:`FAILURE_WINDOW` before it is refused.
MAX_FAILURES_PER_ADDRESS = 20
#: Failure rows older than this are deleted.
_KEEP_FAILURES = dt.timedelta(days=1)
_COMMON_PASSWORDS_FILE = Path(__file__).parent / "data" / "common_passwords.csv"


class User(Base):
    """A user of airwarn (password stored as a werkzeug hash only)."""

    __tablename__ = "dashboard_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, server_default=func.now())


class UserSession(Base):
    """One sign-in: the browser's cookie holds the random id, the table only its SHA-256."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("dashboard_user.id"), index=True)
    address: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)


class LoginFailure(Base):
    """One failed sign-in (wrong password or unknown name), for throttling."""

    __tablename__ = "login_failure"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    user_name: Mapped[str] = mapped_column(String(64), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)


class SignInThrottled(NotAuthorisedError):
    """Too many failed sign-ins for a user name or a client address.

    Attributes
    ----------
    retry_after : int
        Seconds until the next attempt can be accepted.
    """

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


def _now() -> dt.datetime:
    """The current time, aware UTC (what the :class:`~airwarn.core.db.UTCDateTime` columns hold)."""
    return dt.datetime.now(dt.timezone.utc)


# --------------------------------------------------------------------------- names and passwords
def normalise_name(name: str | None) -> str:
    """A user name as stored: NFKC-normalised, surrounding spaces removed."""
    return unicodedata.normalize("NFKC", name or "").strip()


def name_problem(name: str) -> str | None:
    """What is wrong with a (normalised) user name, or None if it is acceptable."""
    if not name or len(name) > MAX_NAME_LENGTH:
        return f"user name must have 1-{MAX_NAME_LENGTH} characters, got {len(name)}"
    bad = next((c for c in name
                if not (unicodedata.category(c)[0] == "L" or unicodedata.category(c) == "Nd" or c in "._-")), None)
    if bad is not None:
        kind = ("a space" if bad.isspace() else "a control character or terminal escape"
                if unicodedata.category(bad)[0] == "C" else f"the character {bad!r}")
        return (f"user name must be letters, digits and . _ - only, without spaces, control characters or "
                f"escapes; it has {kind}")
    return None


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The bundled common passwords, case-folded."""
    lines = _COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    rows = [line for line in lines if line and not line.startswith("#")]
    return frozenset(p.casefold() for p in rows[1:])  # rows[0] is the header


def _classes(password: str) -> int:
    kinds = {("lower" if c.islower() else "upper" if c.isupper() else "digit" if c.isdigit() else "other")
             for c in password}
    return len(kinds)


def password_problem(name: str, role: "str | Role", password: str | None) -> str | None:
    """Which password rule (see the module notes) ``password`` breaks for ``name`` in ``role``, or None."""
    role = Role.parse(role)
    password = password or ""
    if role not in ACTING_ROLES:
        if len(password) < MIN_PASSWORD_LENGTH:
            return f"password must have at least {MIN_PASSWORD_LENGTH} characters"
        return None
    if len(password) < MIN_ACTING_PASSWORD_LENGTH:
        return (f"password of a {role.value} must have at least {MIN_ACTING_PASSWORD_LENGTH} characters, "
                f"got {len(password)}")
    folded = password.casefold()
    if name and len(name) >= 3 and name.casefold() in folded:
        return "password must not contain the user name"
    common = common_passwords()
    core = folded.strip("0123456789!@#$%^&*()-_=+.,;:?/\\|~`'\"<>[]{} ")
    if folded in common or (len(core) >= 4 and core in common):
        return "password is one of the most common passwords (or one with digits or symbols added)"
    if _classes(password) < 2:
        return ("password must mix at least two kinds of character (lower case, upper case, digits, "
                "others)")
    return None


# --------------------------------------------------------------------------- users
def add_user(session: Session, name: str, role: "str | Role", password: str) -> User:
    """Create a user, or reset an existing user's role and password (which ends all its sessions).

    Parameters
    ----------
    session : Session
        Open database session (the caller commits).
    name : str
        User name (see the module notes; NFKC-normalised before it is checked and stored).
    role : str or Role
        ``viewer``, ``forecaster``, ``commander`` or ``list-admin``.
    password : str
        A password keeping the rules of the role (module notes, :func:`password_problem`).

    Raises
    ------
    KeyError
        If the role is unknown.
    ValueError
        If the name or password is unacceptable; the message names the rule broken.
    """
    role = Role.parse(role)
    name = normalise_name(name)
    problem = name_problem(name)
    if problem:
        raise InputError(problem)
    problem = password_problem(name, role, password)
    if problem:
        raise InputError(problem)
    user = session.scalars(select(User).where(User.name == name)).first()
    if user is None:
        user = User(name=name)
        session.add(user)
    else:
        reason = "role changed" if user.role != role.value else "password reset"
        end_user_sessions(session, user.id, reason)
    user.role = role.value
    user.password_hash = generate_password_hash(password)
    user.active = True
    session.flush()
    return user


def deactivate_user(session: Session, name: str) -> int:
    """Disable a user (it can no longer sign in or act) and end its sessions.

    Returns
    -------
    int
        The number of sessions ended.

    Raises
    ------
    KeyError
        If there is no such user.
    """
    user = session.scalars(select(User).where(User.name == normalise_name(name))).first()
    if user is None:
        raise UnknownNameError(f"no user named {normalise_name(name)!r}")
    user.active = False
    return end_user_sessions(session, user.id, "user disabled")


def authenticate(session: Session, name: str, password: str) -> User | None:
    """The active user with this name and password, else None (timing-safe check, not throttled:
    sign-ins go through :func:`sign_in`)."""
    user = session.scalars(select(User).where(User.name == normalise_name(name))).first()
    if user is None or not user.active:
        check_password_hash(_DUMMY_HASH, password or "")  # same work for unknown names
        return None
    return user if check_password_hash(user.password_hash, password or "") else None


_DUMMY_HASH = generate_password_hash(secrets.token_hex(8))


def list_users(session: Session) -> list[User]:
    """All users, by name."""
    return list(session.scalars(select(User).order_by(User.name)))


def find_user(session: Session, name: str) -> User | None:
    """The user of that name (after :func:`normalise_name`), or None."""
    return session.scalars(select(User).where(User.name == normalise_name(name))).first()


# --------------------------------------------------------------------------- throttled sign-in
def _key(text: str) -> str:
    return (text or "")[:64]


def throttle_check(session: Session, name: str, address: str) -> None:
    """Refuse a sign-in attempt if the name or the address has too many recent failures.

    Raises
    ------
    SignInThrottled
        Naming the limit reached and when to try again; the refusal is logged.
    """
    now = _now()
    since = now - FAILURE_WINDOW
    name, address = _key(normalise_name(name)), _key(address)
    for column, value, limit, what in ((LoginFailure.user_name, name, MAX_FAILURES_PER_NAME, "user name"),
                                       (LoginFailure.address, address, MAX_FAILURES_PER_ADDRESS, "address")):
        times = list(session.scalars(select(LoginFailure.at).where(column == value, LoginFailure.at > since)
                                     .order_by(LoginFailure.at.desc()).limit(limit)))
        if len(times) >= limit:
            retry = max(1, int((times[-1] + FAILURE_WINDOW - now).total_seconds()) + 1)
            log.warning("sign-in refused (throttled by %s): name=%r address=%s failures=%d+ in %d min",
                        what, name, address, limit, FAILURE_WINDOW.seconds // 60)
            raise SignInThrottled(
                f"too many failed sign-ins for this {what} ({limit} in {FAILURE_WINDOW.seconds // 60} min); "
                f"try again in {(retry + 59) // 60} min", retry)


def _record_failure(session: Session, name: str, address: str) -> None:
    """Store a failed sign-in in its own transaction (it must survive the caller's rollback)."""
    now = _now()
    with Session(bind=session.get_bind()) as own:
        own.add(LoginFailure(at=now, user_name=_key(normalise_name(name)), address=_key(address)))
        own.execute(delete(LoginFailure).where(LoginFailure.at < now - _KEEP_FAILURES))
        own.commit()
    log.warning("sign-in failed: name=%r address=%s", _key(normalise_name(name)), address)


def sign_in(session: Session, name: str, password: str, address: str) -> User | None:
    """:func:`authenticate` with throttling: the user, or None (a failure, counted).

    Parameters
    ----------
    session : Session
        Open database session. Call before writing in it: a failure is recorded in a separate
        transaction, which waits for the caller's write lock on SQLite.
    name, password : str
        As typed.
    address : str
        The client: its IP address for the dashboard, ``cli:<OS user>`` for the command line.

    Raises
    ------
    SignInThrottled
        If the name or the address has too many recent failures (the password is not checked).
    """
    with _name_lock(name):  # check, password and count as one step per name (concurrent guesses)
        throttle_check(session, name, address)
        user = authenticate(session, name, password)
        if user is None:
            _record_failure(session, name, address)
            return None
    session.execute(delete(LoginFailure).where(LoginFailure.user_name == _key(user.name)))
    return user


_NAME_LOCKS: dict[str, threading.Lock] = {}
_NAME_LOCKS_GUARD = threading.Lock()


def _name_lock(name: str) -> threading.Lock:
    """One lock per user name in this process: without it, eight sign-ins at once (waitress's threads)
    all passed the check before any failure was counted, so 8 passwords were tried where 5 are allowed.
    Several server processes each have their own locks (the limit is then per process)."""
    key = _key(name)
    with _NAME_LOCKS_GUARD:
        if len(_NAME_LOCKS) > 10_000:  # names tried by an attacker: bounded memory
            _NAME_LOCKS.clear()
        return _NAME_LOCKS.setdefault(key, threading.Lock())


def check_actor(session: Session, name: str, role: "str | Role", password: str | None) -> User:
    """The user a command-line action runs as: an existing, active user holding ``role`` whose
    password is ``password`` (throttled and counted like a dashboard sign-in, from the address
    ``cli:<OS user>``; call it before writing in ``session``).

    Raises
    ------
    PermissionError
        Naming what failed: no password given, unknown or disabled user or wrong password (one
        message for the three, as at sign-in), too many failed attempts
        (:class:`SignInThrottled`), or a role the user does not hold.
    """
    role = Role.parse(role)
    if not password:
        raise PermissionError(f"user {name!r}: a password is needed to act as {role.value} "
                              f"(type it at the prompt, or set AIRWARN_PASSWORD)")
    try:
        address = f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name for this uid
        address = "cli"
    user = sign_in(session, name, password, address)
    if user is None:
        raise PermissionError(f"user {name!r}: unknown user, disabled user or wrong password")
    if user.role != role.value:
        log.warning("action refused: user %r holds %s, not %s", user.name, user.role, role.value)
        raise PermissionError(f"user {name!r} holds the role {user.role}, not {role.value}")
    return user


# --------------------------------------------------------------------------- sessions
def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(session: Session, user: User, address: str = "") -> str:
    """Record a new sign-in of ``user``; returns the random session id for the cookie."""
    token = secrets.token_urlsafe(32)
    now = _now()
    session.add(UserSession(token_hash=_hash(token), user_id=user.id, address=_key(address),
                            created_at=now, last_seen=now))
    session.flush()
    return token


def session_user(session: Session, token: str | None) -> User | None:
    """The active user of an open session, or None (unknown, ended, expired or disabled).

    An expired session is marked ended; ``last_seen`` is updated at most once a minute.
    """
    if not token or not isinstance(token, str):
        return None
    record = session.scalars(select(UserSession).where(UserSession.token_hash == _hash(token))).first()
    if record is None or record.ended_at is not None:
        return None
    now = _now()
    if now - record.created_at > SESSION_LIFETIME or now - record.last_seen > SESSION_IDLE_TIMEOUT:
        record.ended_at, record.end_reason = now, "expired"
        return None
    user = session.get(User, record.user_id)
    if user is None or not user.active:
        return None
    if now - record.last_seen > _TOUCH_EVERY:
        record.last_seen = now
    return user


def end_session(session: Session, token: str | None, reason: str = "signed out") -> bool:
    """End one session (sign-out); True if an open session was ended."""
    if not token or not isinstance(token, str):
        return False
    result = session.execute(update(UserSession)
                             .where(UserSession.token_hash == _hash(token), UserSession.ended_at.is_(None))
                             .values(ended_at=_now(), end_reason=reason))
    return bool(result.rowcount)


def end_user_sessions(session: Session, user_id: int, reason: str) -> int:
    """End every open session of a user; returns how many were ended."""
    result = session.execute(update(UserSession)
                             .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
                             .values(ended_at=_now(), end_reason=reason))
    if result.rowcount:
        log.info("ended %d session(s) of user id %d: %s", result.rowcount, user_id, reason)
    return int(result.rowcount or 0)
