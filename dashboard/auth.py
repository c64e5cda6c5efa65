"""Users, roles, sign-in and protection of state-changing requests.

Users live in the ``dashboard_user`` table on :class:`airwarn.db.Base` with a
werkzeug password hash (scrypt); there is no built-in user and no default
password (the demo creates its own users with random passwords).

Sessions are Flask's signed session cookie. The signing key is generated once
and stored in ``<data_dir>/dashboard_secret.key`` with 0600 permissions. The
cookie is ``HttpOnly`` and ``SameSite=Lax``; every POST (the sign-in form, the
sign-out form and Dash's ``/_dash-update-component``) must carry the session's
CSRF token, either as the form field ``csrf_token`` or as the ``X-CSRFToken``
header, which Dash's renderer copies from the readable ``_csrf_token`` cookie
(``SameSite=Strict``). A callback that changes state re-checks the signed-in
user's role itself (:func:`require_role`), and :func:`install` also refuses,
before any callback runs, a Dash request whose outputs need a role the user
lacks (:data:`dashboard.ids.ROLE_REQUIRED`).

Roles
-----
``viewer``       reads the internal pages, changes nothing
``forecaster``   the consultation page: writes the consultation note
``commander``    issues, upgrades, downgrades and lifts warnings
``list-admin``   imports a new emergency-reduction list
"""
from __future__ import annotations

import datetime as dt
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from airwarn.users import (  # noqa: F401  (re-exported for the dashboard's callers)
    MIN_PASSWORD_LENGTH, User, add_user, authenticate, list_users)
from airwarn.vocab import Role

#: File name of the session-signing key under ``settings.data_dir``.
SECRET_KEY_FILE = "dashboard_secret.key"
#: Name of the readable cookie holding the CSRF token (Dash's renderer reads it).
CSRF_COOKIE = "_csrf_token"
#: Header Dash's renderer sends the token in.
CSRF_HEADER = "X-CSRFToken"


@dataclass(frozen=True)
class SignedInUser:
    """The user a request belongs to.

    Attributes
    ----------
    name : str
        User name (written into the warning history and audit log).
    role : Role
        The user's role, read from the database on each request.
    """

    name: str
    role: Role


def secret_key(data_dir: "str | os.PathLike") -> bytes:
    """The session-signing key, generated on first use and kept with 0600 permissions.

    Parameters
    ----------
    data_dir : path-like
        ``settings.data_dir``; the key is ``<data_dir>/dashboard_secret.key``.
    """
    path = Path(data_dir) / SECRET_KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_bytes().strip()
        if len(key) < 32:
            raise ValueError(f"{path}: session key is too short ({len(key)} bytes); delete it to regenerate")
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
        return key
    with os.fdopen(fd, "wb") as fh:
        fh.write(secrets.token_hex(32).encode())
    return path.read_bytes().strip()


# --------------------------------------------------------------------------- requests
def current_user() -> SignedInUser | None:
    """The signed-in user of the current Flask request, or None.

    The role is read from the database on every call, so a changed role or a
    deactivated user takes effect at once.
    """
    import flask

    if not flask.has_request_context():
        return None
    uid = flask.session.get("uid")
    if uid is None:
        return None
    from dashboard import data

    with data.session() as session:
        user = session.get(User, uid)
        if user is None or not user.active:
            return None
        return SignedInUser(name=user.name, role=Role(user.role))


def require_role(*roles: "Role | str") -> SignedInUser:
    """The signed-in user if it has one of ``roles``.

    Raises
    ------
    PermissionError
        If nobody is signed in or the user's role is not allowed; the message
        names the roles allowed.
    """
    allowed = {Role.parse(r) for r in roles}
    user = current_user()
    if user is None:
        raise PermissionError(f"请先登录（需要角色：{'/'.join(sorted(r.label for r in allowed))}）")
    if user.role not in allowed:
        raise PermissionError(
            f"用户 {user.name}（{user.role.label}）无权执行此操作；需要角色："
            f"{'/'.join(sorted(r.label for r in allowed))}")
    return user


def csrf_token() -> str:
    """The current session's CSRF token (created on first use)."""
    import flask

    token = flask.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        flask.session["csrf"] = token
    return token


def _protected_roles(body: bytes, role_required: dict[str, Iterable[str]]) -> set[Role]:
    """Roles needed by the outputs named in a Dash update request body."""
    try:
        output = json.loads(body or b"{}").get("output", "")
    except (ValueError, AttributeError):
        return set()
    needed: set[Role] = set()
    for component_id, roles in role_required.items():
        if f"{component_id}." in str(output):
            needed |= {Role.parse(r) for r in roles}
    return needed


def install(server, settings, role_required: dict[str, Iterable[str]]) -> None:
    """Set up sessions, CSRF checks, role checks and the sign-in routes on a Flask server.

    Parameters
    ----------
    server : flask.Flask
        The Dash app's server.
    settings : airwarn.settings.Settings
        Gives the data folder holding the session key.
    role_required : dict
        Component id → roles allowed to trigger a callback writing to it.
    """
    import flask

    server.secret_key = secret_key(settings.data_dir)
    server.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="airwarn_session",
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=12),
    )

    @server.before_request
    def _check_request():
        if flask.request.method in ("GET", "HEAD", "OPTIONS"):
            return None
        origin = flask.request.headers.get("Origin")
        if origin and origin not in (flask.request.host_url.rstrip("/"),) and \
                origin.split("://", 1)[-1] != flask.request.host:
            return _refuse(403, "跨站请求被拒绝 (origin)")
        expected = flask.session.get("csrf")
        sent = flask.request.headers.get(CSRF_HEADER) or flask.request.form.get("csrf_token")
        if not expected or not sent or not hmac.compare_digest(str(expected), str(sent)):
            return _refuse(403, "请求缺少有效的 CSRF 令牌，请刷新页面后重试")
        if flask.request.path.endswith("/_dash-update-component"):
            needed = _protected_roles(flask.request.get_data(cache=True), role_required)
            if needed:
                try:
                    require_role(*needed)
                except PermissionError as exc:
                    return _refuse(403, str(exc))
        return None

    @server.after_request
    def _set_csrf_cookie(response):
        token = csrf_token()
        if flask.request.cookies.get(CSRF_COOKIE) != token:
            response.set_cookie(CSRF_COOKIE, token, samesite="Strict", httponly=False,
                                secure=flask.request.is_secure)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    @server.route("/login", methods=["GET", "POST"])
    def login():
        error = ""
        next_url = _safe_next(flask.request.values.get("next", "/"))
        if flask.request.method == "POST":
            from dashboard import data

            name = flask.request.form.get("username", "")
            with data.session() as session:
                user = authenticate(session, name, flask.request.form.get("password", ""))
                if user is not None:
                    flask.session.clear()
                    flask.session["uid"] = user.id
                    flask.session.permanent = True
                    csrf_token()
                    return flask.redirect(next_url)
            error = "用户名或密码错误"
        return _render("login.html", error=error, next=next_url, csrf_token=csrf_token()), \
            (401 if error else 200)

    @server.route("/logout", methods=["POST"])
    def logout():
        flask.session.clear()
        return flask.redirect("/enterprise")


def _safe_next(url: str) -> str:
    """Only same-site paths after sign-in: ``/`` otherwise.

    Refused: anything not starting with one ``/``; control characters (browsers drop a tab or a newline,
    so ``/<TAB>/evil.example`` becomes the protocol-relative ``//evil.example``); backslashes (``/\\evil``
    is ``//evil`` to some browsers); and anything with a scheme or a host.
    """
    from urllib.parse import urlsplit

    if not isinstance(url, str) or not url.startswith("/") or url.startswith("//"):
        return "/"
    if any(ord(c) < 0x20 or ord(c) == 0x7F or c == "\\" for c in url):
        return "/"
    parts = urlsplit(url)
    return "/" if parts.scheme or parts.netloc else url


def _refuse(status: int, message: str):
    import flask

    if flask.request.path.endswith("/_dash-update-component"):
        return flask.jsonify({"error": message}), status
    return flask.Response(message, status=status, mimetype="text/plain")


def _render(template: str, **context) -> str:
    import flask

    text = (Path(__file__).parent / "templates" / template).read_text(encoding="utf-8")
    return flask.render_template_string(text, **context)
