"""Users, roles, sign-in and protection of state-changing requests.

Users, passwords, sessions and throttling live in :mod:`airwarn.core.users` (tables ``dashboard_user``,
``user_session``, ``login_failure``); there is no built-in user and no default password (the demo
creates its own users with random passwords).

Sessions are server-side records (:class:`airwarn.core.users.UserSession`); Flask's signed cookie
``airwarn_session`` carries only the record's random id (and the CSRF token), so signing out,
resetting a password or role and disabling a user end the session everywhere, and every request
looks the record up. The signing key is generated once and stored in
``<data_dir>/dashboard_secret.key`` with 0600 permissions. The cookie is ``HttpOnly`` and
``SameSite=Lax`` (and ``Secure`` with the ``secure_cookies`` setting); every POST (the sign-in
form, the sign-out form and Dash's ``/_dash-update-component``) must carry the session's CSRF
token, either as the form field ``csrf_token`` or as the ``X-CSRFToken`` header, which Dash's
renderer copies from the readable ``_csrf_token`` cookie (``SameSite=Strict``). A callback that
changes state re-checks the signed-in user's role itself (:func:`require_role`), and
:func:`install` also refuses, before any callback runs, a Dash request whose outputs need a role
the user lacks (:data:`dashboard.ids.ROLE_REQUIRED`). Sign-in is throttled per user name and per
client address (:func:`airwarn.core.users.sign_in`: HTTP 429). A request body over
:data:`MAX_REQUEST_BYTES` is refused with HTTP 413 before it is read. An unexpected error gives
anonymous users a plain 500 page; only a signed-in user of the debug server sees the traceback.

Roles
-----
``viewer``       reads the internal pages, changes nothing
``forecaster``   the consultation page: writes the consultation note
``commander``    issues, upgrades, downgrades and lifts warnings
``list-admin``   imports a new emergency-reduction list
"""
from __future__ import annotations

import hmac
import json
import logging
import os
import secrets
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from airwarn.core import users
from airwarn.core.users import (  # noqa: F401  (re-exported for the dashboard's callers)
    MIN_PASSWORD_LENGTH, User, add_user, authenticate, list_users)
from airwarn.core.errors import InputError
from airwarn.core.vocab import Role
from dashboard.services.context import session as db_session
from dashboard.services.uploads import MAX_UPLOAD_BYTES

log = logging.getLogger("airwarn.dashboard")

#: File name of the session-signing key under ``settings.data_dir``.
SECRET_KEY_FILE = "dashboard_secret.key"
#: Name of the readable cookie holding the CSRF token (Dash's renderer reads it).
CSRF_COOKIE = "_csrf_token"
#: Header Dash's renderer sends the token in.
CSRF_HEADER = "X-CSRFToken"
#: Largest request body accepted (HTTP 413 above it, before it is read): Dash sends an upload as a base64
#: data URL inside the callback's JSON, 4/3 of the file, plus 2 MiB for the rest of the request.
MAX_REQUEST_BYTES = MAX_UPLOAD_BYTES * 4 // 3 + 2 * 1024 * 1024
#: Shown on the sign-in page when sign-in is throttled.
THROTTLED_MESSAGE = "登录失败次数过多，已暂停登录，请 {minutes} 分钟后再试。"


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
            raise InputError(f"{path}: session key is too short ({len(key)} bytes); delete it to regenerate")
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
        return key
    with os.fdopen(fd, "wb") as fh:
        fh.write(secrets.token_hex(32).encode())
    return path.read_bytes().strip()


# --------------------------------------------------------------------------- requests
def current_user() -> SignedInUser | None:
    """The signed-in user of the current Flask request, or None.

    The cookie's session id is looked up in ``user_session`` (once per request): an ended, expired
    or unknown session, or a disabled user, is nobody; the role is read from the database, so a
    changed role takes effect at once.
    """
    import flask

    if not flask.has_request_context():
        return None
    sid = flask.session.get("sid")
    if not sid:
        return None
    cached = flask.g.get("_airwarn_user")
    if cached is not None and cached[0] == sid:
        return cached[1]
    with db_session() as session:
        user = users.session_user(session, sid)
        signed_in = None if user is None else SignedInUser(name=user.name, role=Role(user.role))
    flask.g._airwarn_user = (sid, signed_in)
    return signed_in


def begin_session(session, user: User, address: str = "") -> None:
    """Sign ``user`` in for the current request's browser: a new server-side session whose id goes
    into the (cleared) cookie, with a new CSRF token.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        Open database session (the caller commits).
    user : User
        The user who signed in.
    address : str
        Client address, kept with the session record.
    """
    import flask

    token = users.start_session(session, user, address)
    flask.session.clear()
    flask.g.pop("_airwarn_user", None)
    flask.session["sid"] = token
    flask.session.permanent = True
    csrf_token()


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
    settings : airwarn.core.settings.Settings
        Gives the data folder holding the session key and ``secure_cookies``.
    role_required : dict
        Component id → roles allowed to trigger a callback writing to it.
    """
    import flask

    from werkzeug.exceptions import HTTPException

    secure = bool(getattr(settings, "secure_cookies", False))
    server.secret_key = secret_key(settings.data_dir)
    server.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="airwarn_session",
        SESSION_COOKIE_SECURE=secure,
        PERMANENT_SESSION_LIFETIME=users.SESSION_LIFETIME,
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
    )

    @server.before_request
    def _check_request():
        length = flask.request.content_length
        if length is not None and length > MAX_REQUEST_BYTES:
            return _refuse(413, f"请求过大（{length / 2**20:.0f} MB），上限为 {MAX_REQUEST_BYTES / 2**20:.0f} MB"
                                f"（文件不超过 {MAX_UPLOAD_BYTES // 2**20} MB）。")
        if flask.request.method in ("GET", "HEAD", "OPTIONS"):
            return None
        origin = flask.request.headers.get("Origin")
        if origin and origin not in (flask.request.host_url.rstrip("/"),) and \
                origin.split("://", 1)[-1] != flask.request.host:
            return _refuse(403, "跨站请求被拒绝（请求来源与本站不符）")
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
                                secure=secure or flask.request.is_secure)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    @server.route("/login", methods=["GET", "POST"])
    def login():
        error = ""
        next_url = _safe_next(flask.request.values.get("next", "/"))
        if flask.request.method == "POST":
            name = flask.request.form.get("username", "")
            address = flask.request.remote_addr or "unknown"
            try:
                with db_session() as session:
                    user = users.sign_in(session, name, flask.request.form.get("password", ""), address)
                    if user is not None:
                        begin_session(session, user, address)
                        return flask.redirect(next_url)
            except users.SignInThrottled as exc:
                minutes = (exc.retry_after + 59) // 60
                page = render("login.html", error=THROTTLED_MESSAGE.format(minutes=minutes), next=next_url,
                               csrf_token=csrf_token())
                return page, 429, {"Retry-After": str(exc.retry_after)}
            error = "用户名或密码错误"
        return render("login.html", error=error, next=next_url, csrf_token=csrf_token()), \
            (401 if error else 200)

    @server.route("/logout", methods=["POST"])
    def logout():
        sid = flask.session.get("sid")
        if sid:
            with db_session() as session:
                users.end_session(session, sid)
        flask.session.clear()
        flask.g.pop("_airwarn_user", None)
        return flask.redirect("/login")

    @server.errorhandler(Exception)
    def _unexpected(error):
        """No traceback for anyone but a signed-in user of the debug server; the log has it. HTTP errors
        (404, 405 …) get a Chinese page (:func:`error_page`) instead of Werkzeug's English one."""
        if isinstance(error, HTTPException):
            if error.code is None or error.code < 400 or error.response is not None:
                return error  # redirects and errors that carry their own response
            return error_page(error.code)
        server.log_exception((type(error), error, error.__traceback__))
        try:
            signed_in = current_user() is not None
        except Exception:  # noqa: BLE001  (the database may be what failed)
            signed_in = False
        if server.debug and signed_in:
            text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
            return flask.Response(text, status=500, mimetype="text/plain")
        return _refuse(500, "服务器内部错误，已记录；请稍后重试或联系管理员。")


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


#: Chinese titles and explanations of the HTTP errors a visitor may meet.
HTTP_ERRORS: dict[int, tuple[str, str]] = {
    400: ("请求无效", "请求的内容无法处理，请检查后重试。"),
    401: ("需要登录", "请先登录后再访问。"),
    403: ("无权访问", "当前用户无权执行该操作。"),
    404: ("页面不存在", "未找到所请求的页面或文件，请检查网址。"),
    405: ("请求方式不允许", "该地址不支持此请求方式。"),
    413: ("上传文件过大", "上传的文件超过允许的大小。"),
    429: ("请求过于频繁", "请求过于频繁，请稍后再试。"),
    500: ("服务器内部错误", "服务器内部错误，已记录；请稍后重试或联系管理员。"),
}


def error_page(status: int, message: str | None = None):
    """A Chinese error page (``templates/error.html``) with ``status``; Dash callbacks get JSON.

    Parameters
    ----------
    status : int
        HTTP status code.
    message : str, optional
        The explanation (default: the one of :data:`HTTP_ERRORS`).
    """
    import flask

    title, default = HTTP_ERRORS.get(status, ("请求未能完成", "请求未能完成，请稍后重试。"))
    message = message or default
    if flask.request.path.endswith("/_dash-update-component"):
        return flask.jsonify({"error": message}), status
    return render("error.html", title=title, message=message, status=status), status


def _refuse(status: int, message: str):
    """A refused request: the Chinese error page with ``message`` (JSON for a Dash callback), logged
    with the path, the signed-in user (if any) and the client address: every refusal leaves a trace."""
    import flask

    user = current_user() if status != 413 else None  # 413: nothing of the request is read
    log.warning("refused %s %s %s for %s from %s: %s", status, flask.request.method, flask.request.path,
                user.name if user else "anonymous", flask.request.remote_addr, message)
    return error_page(status, message)


def render(template: str, **context) -> str:
    """A page of ``dashboard/templates`` rendered with ``context`` (Jinja, autoescaped)."""
    import flask

    text = (Path(__file__).parent / "templates" / template).read_text(encoding="utf-8")
    return flask.render_template_string(text, **context)
