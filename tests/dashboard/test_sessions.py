"""The real server's sessions, sign-in throttling, cookies, debug mode and request-size limit (issue 14,
breaks 8, 9 and 12): waitress on a free port (``live_server``), or the debug server as ``airwarn
dashboard --debug`` sets it up."""
from __future__ import annotations

import io
import json
import logging
import re
import select
import socket
import threading
import urllib.parse

import pytest

from tests.dashboard.conftest import LiveServer
from tests.dashboard.test_server import Browser, _warning_rows, demo_password


def _replay(url: str, saved) -> Browser:
    """A new client holding cookies saved from another one."""
    b = Browser(url)
    for cookie in saved:
        b.jar.set_cookie(cookie)
    return b


def save_note(b: Browser, text: str):
    """POST the consultation page's 'save note' callback as dash-renderer does; (status, body)."""
    body = {"output": "consult-note-status.children",
            "outputs": {"id": "consult-note-status", "property": "children"},
            "inputs": [{"id": "consult-note-save", "property": "n_clicks", "value": 1}],
            "state": [{"id": "consult-date", "property": "value", "value": "2026-01-10"},
                      {"id": "consult-city", "property": "value", "value": "阳泉"},
                      {"id": "consult-note", "property": "value", "value": text}],
            "changedPropIds": ["consult-note-save.n_clicks"]}
    status, text, _ = b.request("/_dash-update-component", json.dumps(body).encode(),
                                {"Content-Type": "application/json", "X-CSRFToken": b.cookie("_csrf_token") or ""})
    return status, text


def notes(settings) -> list[str]:
    from sqlalchemy import select

    from airwarn.core.db import get_engine, session_scope
    from dashboard.models import ConsultationNote

    with session_scope(get_engine(settings.db_url)) as s:
        return list(s.scalars(select(ConsultationNote.text).order_by(ConsultationNote.id)))


def _logout(b: Browser) -> int:
    form = urllib.parse.urlencode({"csrf_token": b.cookie("_csrf_token")}).encode()
    return b.request("/logout", form, {"Content-Type": "application/x-www-form-urlencoded"})[0]


def test_break_8_saved_cookie_refused_after_logout(live_server):
    """A saved airwarn_session cookie still issued a warning after /logout."""
    settings, url = live_server.settings, live_server.url
    b = Browser(url)
    assert b.sign_in("commander", demo_password(settings, "commander")) == 302
    saved, csrf = list(b.jar), b.cookie("_csrf_token")
    assert _logout(b) == 302
    status, body, _ = _replay(url, saved).issue_callback(csrf)
    assert status == 403 and "请先登录" in json.loads(body)["error"]
    status, body = save_note(_replay(url, saved), "replayed")
    assert status == 403 and "请先登录" in json.loads(body)["error"]
    assert _warning_rows(settings) == (0, 0) and notes(settings) == []  # nothing stored
    # the cookie worked before the sign-out, and a new sign-in works
    b2 = Browser(url)
    assert b2.sign_in("forecaster", demo_password(settings, "forecaster")) == 302
    saved = list(b2.jar)
    assert save_note(b2, "静稳天气")[0] == 200 and notes(settings) == ["静稳天气"]
    assert save_note(_replay(url, saved), "还是我")[0] == 200 and notes(settings) == ["还是我"]
    assert _logout(b2) == 302
    assert save_note(_replay(url, saved), "replayed")[0] == 403 and notes(settings) == ["还是我"]


def test_break_8_password_reset_and_disable_end_every_session(live_server, monkeypatch, capsys):
    """Resetting a password kept the old sessions valid."""
    from airwarn.cli import main

    settings, url = live_server.settings, live_server.url
    monkeypatch.setenv("AIRWARN_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("AIRWARN_MODEL", str(settings.model_dir))
    old = demo_password(settings, "forecaster")
    browsers = [Browser(url) for _ in range(2)]  # two browsers, one user
    assert [b.sign_in("forecaster", old) for b in browsers] == [302, 302]
    assert save_note(browsers[0], "重置前")[0] == 200
    monkeypatch.setattr("sys.stdin", io.StringIO("Taihang-Mountain-37\n"))
    assert main(["user", "add", "forecaster", "--role", "forecaster", "--password-stdin"]) == 0
    said = capsys.readouterr().out
    for b in browsers:
        status, body = save_note(b, "重置后")
        assert status == 403 and "请先登录" in json.loads(body)["error"]
    assert notes(settings) == ["重置前"]
    assert "open sessions were ended" in said
    # the new password signs in; `user disable` ends that session too
    b = Browser(url)
    assert b.sign_in("forecaster", old) == 401
    assert b.sign_in("forecaster", "Taihang-Mountain-37") == 302
    assert save_note(b, "新密码")[0] == 200
    assert main(["user", "disable", "forecaster"]) == 0
    assert "1 open session(s) ended" in capsys.readouterr().out
    assert save_note(b, "停用后")[0] == 403
    assert Browser(url).sign_in("forecaster", "Taihang-Mountain-37") == 401
    assert notes(settings) == ["新密码"]


def test_break_9_sixty_wrong_passwords_then_the_right_one_refused(live_server, caplog):
    """60 wrong passwords in 9.8 s, then the right one was accepted."""
    settings, url = live_server.settings, live_server.url
    caplog.set_level(logging.WARNING, logger="airwarn.core.users")
    b = Browser(url)
    statuses = [b.sign_in("commander", f"wrong-{i}") for i in range(60)]
    assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}
    status, page = _sign_in_page(b, "commander", demo_password(settings, "commander"))
    assert status == 429 and "登录失败次数过多" in page and "分钟后再试。" in page
    assert any("refused" in r.message and "'commander'" in r.message and "127.0.0.1" in r.message
               for r in caplog.records)
    # the failures are in the database: a restarted server refuses too, other names still sign in
    live_server.close()
    again = LiveServer(settings)
    try:
        assert Browser(again.url).sign_in("commander", demo_password(settings, "commander")) == 429
        assert Browser(again.url).sign_in("viewer", demo_password(settings, "viewer")) == 302
    finally:
        again.close()


def test_break_9_per_address_limit(live_server):
    settings, url = live_server.settings, live_server.url
    b = Browser(url)
    assert [b.sign_in(f"nobody{i}", "x") for i in range(20)] == [401] * 20  # unknown names count too
    assert Browser(url).sign_in("viewer", demo_password(settings, "viewer")) == 429


def _sign_in_page(b: Browser, name: str, password: str) -> tuple[int, str]:
    _, page, _ = b.request("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"username": name, "password": password, "csrf_token": token})
    status, page, _ = b.request("/login", form.encode(), {"Content-Type": "application/x-www-form-urlencoded"})
    return status, page


def _stream_post(url: str, path: str, total: int, headers: dict, chunked: bool) -> tuple[int, int]:
    """POST ``total`` bytes in 1 MiB pieces (one buffer reused), stopping as soon as the server answers;
    returns (status, bytes sent)."""
    host, port = urllib.parse.urlsplit(url).hostname, urllib.parse.urlsplit(url).port
    sock = socket.create_connection((host, port), timeout=30)
    head = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}"] + [f"{k}: {v}" for k, v in headers.items()]
    head.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}")
    piece = b"A" * 2**20
    frame = b"%x\r\n" % len(piece) + piece + b"\r\n" if chunked else piece
    sent = 0
    try:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        while sent < total and not select.select([sock], [], [], 0)[0]:
            sock.sendall(frame)
            sent += len(piece)
        if sent >= total and chunked:
            sock.sendall(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass
    answer = b""
    while b"\r\n" not in answer:
        data = sock.recv(4096)
        if not data:
            break
        answer += data
    sock.close()
    return int(answer.split(b" ", 2)[1]), sent


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_break_12_request_over_the_upload_limit_refused_with_413(live_server, chunked):
    """A 68 MB request was accepted although the page allows 30 MB files."""
    from dashboard import auth

    settings, url = live_server.settings, live_server.url
    admin = Browser(url)
    assert admin.sign_in("list-admin", demo_password(settings, "list-admin")) == 302
    cookies = "; ".join(f"{c.name}={c.value}" for c in admin.jar)
    total = 68 * 2**20
    status, sent = _stream_post(url, "/_dash-update-component", total,
                                {"Cookie": cookies, "X-CSRFToken": admin.cookie("_csrf_token"),
                                 "Content-Type": "application/json"}, chunked)
    assert status == 413
    assert sent <= auth.MAX_REQUEST_BYTES + 8 * 2**20 < total  # refused before the body was read
    # normal requests still work
    forecaster = Browser(url)
    assert forecaster.sign_in("forecaster", demo_password(settings, "forecaster")) == 302
    assert save_note(forecaster, "正常请求")[0] == 200 and notes(settings) == ["正常请求"]


def test_break_12_secure_cookies_setting(fresh_env, tmp_path):
    """No Secure-cookie setting: behind HTTPS the session cookie could still go out over http."""
    from airwarn.core.settings import load_settings

    assert load_settings(env={}).secure_cookies is False
    assert load_settings(env={"AIRWARN_SECURE_COOKIES": "true"}).secure_cookies is True
    assert load_settings(env={"AIRWARN_SECURE_COOKIES": "0"}).secure_cookies is False
    cfg = tmp_path / "airwarn.toml"
    cfg.write_text("secure_cookies = true\n", encoding="utf-8")
    assert load_settings(cfg, env={}).secure_cookies is True
    with pytest.raises(ValueError, match="secure_cookies must be true or false"):
        load_settings(env={"AIRWARN_SECURE_COOKIES": "maybe"})
    for secure in (True, False):
        srv = LiveServer(fresh_env.with_(secure_cookies=secure))
        try:
            _, _, headers = Browser(srv.url).request("/login")
            cookies = {c.split("=", 1)[0]: c for c in headers.get_all("Set-Cookie")}
            for name in ("airwarn_session", "_csrf_token"):
                assert ("; Secure" in cookies[name]) is secure, cookies[name]
        finally:
            srv.close()


def test_break_12_debug_refused_off_loopback(settings, monkeypatch, capsys):
    """--debug served the Werkzeug debugger to the office network."""
    import flask

    from airwarn.cli import main

    monkeypatch.setenv("AIRWARN_DATA_DIR", str(settings.data_dir))
    monkeypatch.setattr(flask.Flask, "run", lambda self, *a, **k: None)  # never really serve here
    assert main(["dashboard", "--debug", "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err
    assert "--debug serves only this machine" in err and len(err.strip().splitlines()) == 1


def test_break_12_debug_server_shows_no_traceback_or_debugger_to_anonymous_users(env, monkeypatch):
    """`airwarn dashboard --debug` gave anonymous users tracebacks and the Werkzeug debugger."""
    import flask
    from werkzeug.debug import DebuggedApplication
    from werkzeug.serving import make_server

    from airwarn.cli import main

    started = {}

    def fake_run(self, host=None, port=None, debug=None, load_dotenv=True, **options):
        """What Flask.run does before it serves: set debug, default use_debugger to it."""
        self.debug = bool(debug)
        options.setdefault("use_debugger", self.debug)
        started.update(app=self, host=host, options=options)

    monkeypatch.setenv("AIRWARN_DATA_DIR", str(env.data_dir))
    monkeypatch.setenv("AIRWARN_MODEL", str(env.model_dir))
    monkeypatch.setattr(flask.Flask, "run", fake_run)
    assert main(["dashboard", "--debug", "--port", "8999"]) == 0
    assert started["host"] == "127.0.0.1" and started["options"]["use_debugger"] is False
    app = started["app"]
    wsgi = DebuggedApplication(app, evalex=True) if started["options"]["use_debugger"] else app
    server = make_server("127.0.0.1", 0, wsgi, threaded=True)  # as werkzeug's run_simple serves it
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    bogus = json.dumps({"output": "nope.children", "outputs": {"id": "nope", "property": "children"},
                        "inputs": [], "changedPropIds": []}).encode()
    try:
        anon = Browser(url)
        anon.request("/login")
        status, body, _ = anon.request("/_dash-update-component", bogus,
                                       {"Content-Type": "application/json", "X-CSRFToken": anon.cookie("_csrf_token")})
        assert status == 500
        assert "Traceback" not in body and "Debugger" not in body and "KeyError" not in body
        assert "服务器内部错误" in json.loads(body)["error"]
        # a signed-in developer on this machine sees the traceback (plain text, no console)
        dev = Browser(url)
        assert dev.sign_in("viewer", demo_password(env, "viewer")) == 302
        status, body, _ = dev.request("/_dash-update-component", bogus,
                                      {"Content-Type": "application/json", "X-CSRFToken": dev.cookie("_csrf_token")})
        assert status == 500 and "Traceback" in body and "Callback function not found" in body
        assert "__debugger__" not in body
        # the request-size limit holds on the debug server too (Flask's MAX_CONTENT_LENGTH)
        status, sent = _stream_post(url, "/_dash-update-component", 68 * 2**20,
                                    {"X-CSRFToken": anon.cookie("_csrf_token")}, chunked=False)
        assert status == 413 and sent < 68 * 2**20
    finally:
        server.shutdown()
        thread.join(timeout=5)


def test_break_14_every_refusal_of_the_dashboard_is_logged(live_server, caplog):
    """A viewer's attempt at a commander's callback, and an anonymous one, were refused without a trace."""
    settings, url = live_server.settings, live_server.url
    b = Browser(url)
    assert b.sign_in("viewer", demo_password(settings, "viewer")) == 302
    with caplog.at_level(logging.WARNING, logger="airwarn.dashboard"):
        status, _, _ = b.issue_callback(b.cookie("_csrf_token"))
        anonymous = Browser(url)
        anonymous.request("/login")
        status_anon, _, _ = anonymous.issue_callback(anonymous.cookie("_csrf_token") or "")
    assert status == 403 and status_anon == 403 and _warning_rows(settings) == (0, 0)
    lines = [r.getMessage() for r in caplog.records if r.name == "airwarn.dashboard"]
    assert any(m.startswith("refused 403 POST /_dash-update-component for viewer from 127.0.0.1") for m in lines), lines
    assert any("for anonymous from 127.0.0.1" in m for m in lines), lines
