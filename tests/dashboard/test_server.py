"""The real server (waitress on a free port): sign-in, CSRF, and the server-side role check."""
from __future__ import annotations

import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from dashboard.demo import read_demo_users


def demo_password(settings, name: str) -> str:
    return read_demo_users(settings)[name][1]


class Browser:
    """A cookie-keeping HTTP client without redirects."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect())

    def request(self, path: str, data: bytes | None = None, headers: dict | None = None):
        req = urllib.request.Request(self.base + path, data=data, headers=headers or {})
        try:
            with self.opener.open(req, timeout=20) as resp:
                return resp.status, resp.read().decode("utf-8"), resp.headers
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode("utf-8"), err.headers

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.jar if c.name == name), None)

    def sign_in(self, name: str, password: str) -> int:
        _, page, _ = self.request("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode({"username": name, "password": password, "csrf_token": token, "next": "/"})
        status, _, _ = self.request("/login", form.encode(), {"Content-Type": "application/x-www-form-urlencoded"})
        return status

    def issue_callback(self, csrf: str | None):
        """POST the 'confirm → issue orange warning' callback exactly as dash-renderer does."""
        body = {
            "output": "..cmd-action-result.children...cmd-refresh.data..",
            "outputs": [{"id": "cmd-action-result", "property": "children"},
                        {"id": "cmd-refresh", "property": "data"}],
            "inputs": [{"id": "cmd-confirm", "property": "submit_n_clicks", "value": 1}],
            "state": [{"id": "cmd-action", "property": "value", "value": "issue"},
                      {"id": "cmd-action-level", "property": "value", "value": "orange"},
                      {"id": "cmd-action-reason", "property": "value", "value": "test"},
                      {"id": "cmd-refresh", "property": "data", "value": 0},
                      # the state the confirmation dialog described (none active: issuing needs no revision)
                      {"id": "cmd-seen", "property": "data", "value": {"id": None, "revision": None, "level": None}}],
            "changedPropIds": ["cmd-confirm.submit_n_clicks"],
        }
        headers = {"Content-Type": "application/json"}
        if csrf:
            headers["X-CSRFToken"] = csrf
        return self.request("/_dash-update-component", json.dumps(body).encode(), headers)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _warning_rows(settings) -> tuple[int, int]:
    from sqlalchemy import func, select

    from airwarn.core.db import get_engine, session_scope
    from emergency.models import WarningAudit, WarningRecord

    with session_scope(get_engine(settings.db_url)) as s:
        return (s.execute(select(func.count(WarningRecord.id))).scalar(),
                s.execute(select(func.count(WarningAudit.id))).scalar())


def test_viewer_cannot_issue_a_warning_through_the_real_server(live_server):
    settings = live_server.settings
    viewer = Browser(live_server.url)
    assert viewer.sign_in("viewer", "wrong-password") == 401
    assert viewer.sign_in("viewer", demo_password(settings, "viewer")) == 302
    csrf = viewer.cookie("_csrf_token")
    assert csrf
    status, body, _ = viewer.issue_callback(csrf)
    assert status == 403
    assert "无权" in json.loads(body)["error"]
    assert _warning_rows(settings) == (0, 0)  # nothing stored, not even a draft or an audit row

    commander = Browser(live_server.url)
    assert commander.sign_in("commander", demo_password(settings, "commander")) == 302
    status, body, _ = commander.issue_callback(None)  # no CSRF token: refused
    assert status == 403 and "CSRF" in body
    status, body, _ = commander.issue_callback("forged-token")
    assert status == 403
    assert _warning_rows(settings) == (0, 0)
    status, body, _ = commander.issue_callback(commander.cookie("_csrf_token"))
    assert status == 200
    result = json.loads(body)["response"]["cmd-action-result"]["children"]["props"]["children"]
    assert "已发布橙色预警" in result
    assert _warning_rows(settings) == (1, 1)


def test_anonymous_sees_public_pages_only(shared_server):
    anon = Browser(shared_server.url)
    status, page, headers = anon.request("/enterprise")
    assert status == 200
    session_cookie = next(c for c in headers.get_all("Set-Cookie") if c.startswith("airwarn_session="))
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie
    status, body, _ = anon.issue_callback(anon.cookie("_csrf_token"))
    assert status == 403 and "请先登录" in json.loads(body)["error"]
    # logout needs the token too
    assert anon.request("/logout", b"", {"Content-Type": "application/x-www-form-urlencoded"})[0] == 403


def test_assets_served_locally(shared_server):
    anon = Browser(shared_server.url)
    _, page, _ = anon.request("/")
    urls = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert urls and all(u.startswith("/") for u in urls), urls  # nothing from a CDN
    assert any("plotly" in u or "dash_core_components" in u for u in urls) or "_dash-component-suites" in page
    plotly_js = next((u for u in urls if "dash_core_components.v" in u), None)
    assert plotly_js and anon.request(plotly_js)[0] == 200
    assert anon.request("/assets/style.css")[0] == 200
    # the charts' plotly.js is the local basic bundle (dcc.Graph then never fetches the 4.8 MB full one)
    basic = next(u for u in urls if "plotly-basic.min.js" in u)
    status, js, _ = anon.request(basic)
    assert status == 200 and "window.Plotly = Plotly" in js


def test_plotly_basic_bundle_fits_plotly_py_and_the_figures():
    """The vendored bundle is the plotly.js release plotly.py was built for, and holds every trace type
    the dashboard draws (basic = scatter, bar, pie); update the file when plotly is upgraded."""
    from plotly.offline import get_plotlyjs_version

    from dashboard import figures

    head = (Path(figures.__file__).parent / "assets" / "vendor" / "plotly-basic.min.js").read_text()[:200]
    version = re.search(r"plotly\.js \(basic - minified\) v(\S+)", head).group(1)
    assert version.split(".")[:2] == get_plotlyjs_version().split(".")[:2], (version, get_plotlyjs_version())
    source = "".join(Path(m.__file__).read_text() for m in (figures, __import__("forecast.verify").verify))
    assert set(re.findall(r'type="(\w+)", x=', source)) == {"scatter", "bar"}
    assert "go.Scattergeo" not in source and "go.Heatmap" not in source


def test_break_11_sign_in_redirects_only_to_same_site_paths(live_server):
    """Issue 14, break 11: /login?next=/%09/evil.example/phish sent the browser to //evil.example/phish."""
    settings, url = live_server.settings, live_server.url
    password = demo_password(settings, "viewer")
    for target, expected in [("/%09/evil.example/phish", "/"), ("//evil.example", "/"), ("/%5Cevil.example", "/"),
                             ("https://evil.example/x", "/"), ("/consult?city=%E9%98%B3%E6%B3%89", "/consult?city=阳泉")]:
        b = Browser(url)
        _, page, _ = b.request("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode({"username": "viewer", "password": password, "csrf_token": token})
        status, _, headers = b.request(f"/login?next={target}", form.encode(),
                                       {"Content-Type": "application/x-www-form-urlencoded"})
        assert status in (302, 303), (target, status)
        location = urllib.parse.unquote(headers["Location"])
        assert urllib.parse.urlsplit(location).netloc in ("", urllib.parse.urlsplit(url).netloc), (target, location)
        assert location.endswith(expected), (target, location)
