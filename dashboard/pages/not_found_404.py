"""The page shown for an address no page has (Dash's own says "404 - Page not found")."""
from __future__ import annotations

import dash
from dash import dcc, html

dash.register_page(__name__, path="/404", name="页面不存在", title="页面不存在")


def layout(**_: str) -> html.Div:
    """A Chinese "page not found" notice with links to the pages."""
    return html.Div(html.Div([
        html.H2("页面不存在"),
        html.P("未找到所请求的页面，请检查网址。"),
        html.P([dcc.Link("返回首页", href="/"), " · ", dcc.Link("企业查询", href="/enterprise")]),
    ], className="card"), id="not-found")
