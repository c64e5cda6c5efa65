"""首页 home: today's status at a glance and the way to each page."""
from __future__ import annotations

import dash
from dash import dcc, html

from airwarn.core.vocab import WarningLevel
from dashboard import auth
from dashboard.pages._common import level_badge, zh_punct
from dashboard.services import context, warnings as warning_service

dash.register_page(__name__, path="/", name="首页", title="重污染天气应急决策支持", order=0)


def layout(**_: str) -> html.Div:
    """Today's warning level for everyone; the recommendation and links for signed-in users."""
    s = context.settings()
    user = auth.current_user()
    today = warning_service.today_level()
    blocks = [html.Div([html.H3(f"{s.city} 今日预警状态"), level_badge(today, id="home-level"),
                        html.Span(f"  {today.response}" if today != WarningLevel.NONE else "", className="muted")],
                       className="card")]
    if user is None:
        blocks.append(html.Div([
            html.P(["企业可直接 ", dcc.Link("查询本企业的应急减排措施", href="/enterprise"), "。"]),
            html.P(["预报员、应急指挥与清单管理员请 ", html.A("登录", href="/login?next=/", id="home-signin"), "。"]),
        ], className="card"))
    else:
        try:
            reco = warning_service.recommendation()
            blocks.append(html.Div([
                html.H3("预警建议"), level_badge(reco.level),
                html.Ul([html.Li(zh_punct(r)) for r in reco.reasons], className="reasons"),
            ], className="card"))
        except FileNotFoundError as exc:
            blocks.append(html.Div(html.P(str(exc), className="error"), className="card"))
        blocks.append(html.Div(html.Ul([
            html.Li(dcc.Link("会商：未来10天概率预报、检验与会商意见", href="/consult")),
            html.Li(dcc.Link("指挥：预警建议、发布/升级/降级/解除、减排核算、公告", href="/command")),
            html.Li(dcc.Link("考核排名：区县综合指数排名与目标进度", href="/ranking")),
            html.Li(dcc.Link("企业查询：一厂一策", href="/enterprise")),
            html.Li(dcc.Link("清单管理：上传、校验、导入", href="/list")),
        ]), className="card"))
    return html.Div([html.H2("重污染天气应急决策支持", className="page-title")] + blocks)
