"""The Dash app: pages, navigation and the Flask server behind it.

:func:`create_app` builds a :class:`dash.Dash` with ``use_pages=True`` over
``dashboard/pages``; every asset (dash-renderer, React, plotly.js, CSS) is
served by the app itself (``serve_locally=True``), so the dashboard works on an
office network without internet.

The pages declare their callbacks with :func:`dashboard.pages._common.callback`, which only marks
the function; :func:`create_app` registers the marked functions of the pages Dash imported on this
app with the public ``app.callback``. Dash's own ``dash.callback`` keeps them in a process-wide list
that the first app serving a request takes, so several apps in one process (tests, the bench) would
not each get their own.
"""
from __future__ import annotations

import sys
from pathlib import Path

import dash
from dash import Dash, dcc, html

from airwarn.core.settings import Settings
from dashboard import auth, ids, routes
from dashboard.pages._common import CALLBACK_ATTR
from dashboard.services.context import SETTINGS_KEY, ensure_tables, settings as app_settings

_HERE = Path(__file__).parent
#: Pages in navigation order (module name suffix → shown when).
_NAV_ORDER = ("home", "consult", "command", "ranking", "enterprise", "listadmin")


def create_app(settings: Settings) -> Dash:
    """Create the dashboard for ``settings`` (database, products, model).

    Parameters
    ----------
    settings : airwarn.core.settings.Settings
        Where the database, the daily products and the model are.

    Returns
    -------
    dash.Dash
        The app; ``app.server`` is the Flask (WSGI) application.
    """
    settings.ensure_dirs()
    ensure_tables(settings)
    app = Dash(
        "dashboard",
        use_pages=True,
        pages_folder=str(_HERE / "pages"),
        assets_folder=str(_HERE / "assets"),
        serve_locally=True,
        title="阳泉重污染天气应急决策支持" if settings.city == "阳泉" else f"{settings.city}重污染天气应急决策支持",
        update_title=None,
        suppress_callback_exceptions=True,
        compress=False,
    )
    app.server.config[SETTINGS_KEY] = settings
    auth.install(app.server, settings, ids.ROLE_REQUIRED)
    routes.install(app.server)
    app.layout = _layout
    _register_callbacks(app)
    return app


def _register_callbacks(app: Dash) -> None:
    """Register the callbacks the pages marked (:func:`dashboard.pages._common.callback`) on ``app``.

    The pages are the modules Dash imported for this app (``dash.page_registry``); each marked
    function of a page is registered once, with its own outputs, inputs and options.
    """
    for page in dash.page_registry.values():
        module = sys.modules.get(page["module"])
        if module is None:
            continue
        for func in list(vars(module).values()):
            spec = getattr(func, CALLBACK_ATTR, None)
            if spec is not None and getattr(func, "__module__", None) == module.__name__:
                args, kwargs = spec
                app.callback(*args, **kwargs)(func)


def _layout() -> html.Div:
    """The page frame: header with navigation and the signed-in user, then the page."""
    s = app_settings()
    user = auth.current_user()
    pages = {p["module"].rsplit(".", 1)[-1]: p for p in dash.page_registry.values()}
    links = [dcc.Link(pages[name]["name"], href=pages[name]["relative_path"], className="nav-link",
                      id=f"nav-{name}")
             for name in _NAV_ORDER if name in pages]
    if user is None:
        who = html.A("登录", href="/login", className="nav-signin", id="nav-signin")
    else:
        who = html.Form([
            html.Span(f"{user.name}（{user.role.label}）", className="nav-username"),
            dcc.Input(type="hidden", name="csrf_token", value=auth.csrf_token()),
            html.Button("退出", type="submit", className="nav-signout", id="nav-signout"),
        ], method="POST", action="/logout", className="nav-user-form")
    return html.Div([
        html.Header([
            html.Div([html.Span("airwarn", className="brand-en"),
                      html.Span(f"{s.city}重污染天气应急决策支持", className="brand-zh")], className="brand"),
            html.Nav(links, className="nav"),
            html.Div(who, id=ids.NAV_USER, className="nav-user"),
        ], className="topbar no-print"),
        html.Main(dash.page_container, className="content"),
    ], className="app")
