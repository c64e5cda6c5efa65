"""企业查询 enterprise page (public, read-only): what an enterprise must do today, line by line."""
from __future__ import annotations

import dash
from dash import Input, Output, State, dcc, html

from airwarn.core.units import EMISSION
from airwarn.core.vocab import EMISSION_LABELS, EMISSION_POLLUTANTS, WarningLevel
from dashboard import ids
from dashboard.pages._common import DROPDOWN_LABELS, DROPDOWN_PLACEHOLDER, callback, error_box, level_badge
from dashboard.services import lists, warnings as warning_service

dash.register_page(__name__, path="/enterprise", name="企业查询", title="企业应急减排措施查询", order=3)

_TODAY = "today"


def layout(code: str | None = None, level: str | None = None, **_: str) -> html.Div:
    """Search box, level choice and the result (prefilled from ``?code=…&level=…``)."""
    options = [{"label": "今日执行级别", "value": _TODAY}] + [
        {"label": lv.label, "value": lv.key} for lv in WarningLevel if lv != WarningLevel.NONE]
    today = warning_service.today_level()
    return html.Div([
        html.H2("企业应急减排措施查询", className="page-title"),
        html.Div([
            html.Span("今日预警："), level_badge(today, id="ent-today-level"),
            html.Span(f"  {today.response}" if today != WarningLevel.NONE else "  今日无预警，无需执行应急减排措施",
                      className="muted"),
        ], className="card"),
        html.Div([
            dcc.Input(id=ids.ENT_QUERY, value=code or "", placeholder="统一社会信用代码或企业名称",
                      debounce=False, style={"width": 340}, type="search"),
            dcc.Dropdown(options, level if level in {o["value"] for o in options} else _TODAY,
                         id=ids.ENT_LEVEL, clearable=False, style={"width": 170}, labels=DROPDOWN_LABELS,
                         placeholder=DROPDOWN_PLACEHOLDER),
            html.Button("查询", id=ids.ENT_SEARCH, className="primary"),
        ], className="toolbar"),
        html.Div(id=ids.ENT_RESULTS),
        html.Div(id=ids.ENT_DETAIL),
        html.P("数据来源：本市重污染天气应急减排清单（公开信息）。", className="muted"),
    ])


@callback(
    Output(ids.ENT_RESULTS, "children"),
    Output(ids.ENT_DETAIL, "children"),
    Input(ids.ENT_SEARCH, "n_clicks"),
    Input(ids.ENT_QUERY, "n_submit"),
    Input(ids.ENT_LEVEL, "value"),
    State(ids.ENT_QUERY, "value"),
)
def search(n_clicks, n_submit, level: str, query: str | None):
    """Find enterprises by credit code or name; one match shows its measures at the level."""
    query = (query or "").strip()
    if not query:
        return html.P("请输入统一社会信用代码或企业名称（支持部分名称）。", className="muted"), None
    matches = lists.find_enterprises(query, limit=30)
    if not matches:
        return error_box(f"未找到与“{query}”匹配的企业。"), None
    exact = [m for m in matches if m["credit_code"] == query.upper() or m["name"] == query]
    if len(matches) > 1 and not exact:
        items = [html.Li([html.A(m["name"], href=f"/enterprise?code={m['credit_code']}"),
                          html.Span(f"  {m['credit_code']} · {m['county']} · {m['industry']} · {m['grade']}",
                                    className="muted")]) for m in matches]
        return html.Div([html.P(f"找到 {len(matches)} 家企业，请选择："), html.Ul(items)], className="card"), None
    chosen = (exact or matches)[0]
    lv = warning_service.today_level() if level in (None, _TODAY) else WarningLevel.parse(level)
    return None, _detail(chosen["credit_code"], lv, level in (None, _TODAY))


def _detail(credit_code: str, level: WarningLevel, is_today: bool) -> html.Div:
    shown = level if level != WarningLevel.NONE else WarningLevel.YELLOW
    sheet = lists.enterprise_sheet(credit_code, shown.key)
    ent = sheet["enterprise"]
    header = html.Table([
        html.Tr([html.Th("企业名称"), html.Td(ent["name"], id="ent-name"),
                 html.Th("统一社会信用代码"), html.Td(ent["credit_code"])]),
        html.Tr([html.Th("区县"), html.Td(ent["county"]), html.Th("行业"), html.Td(ent["industry"])]),
        html.Tr([html.Th("绩效分级"), html.Td(ent["grade"]), html.Th("清单版本"),
                 html.Td([sheet["version"], html.Span("合成示例", className="synthetic") if sheet["synthetic"] else ""])]),
    ], className="kv")
    if is_today and level == WarningLevel.NONE:
        status = html.P(["今日无预警，无需执行应急减排措施。以下为", html.B("黄色预警"), "时应执行的措施，供参考。"],
                        className="notice")
    else:
        status = html.P(["今日执行：" if is_today else "查看级别：", level_badge(shown, id="ent-level-badge"),
                         f"  {shown.response}"])
    rows = [html.Tr([html.Td(r["line"]), html.Td(r["kind"]), html.Td(r["text"]), html.Td(r["timing"]),
                     html.Td(f"{r['cut_so2']:.3f}"), html.Td(f"{r['cut_nox']:.3f}"), html.Td(f"{r['cut_pm']:.3f}"),
                     html.Td(f"{r['cut_vocs']:.3f}")]) for r in sheet["rows"]]
    total = sheet["total"]
    table = html.Table([
        html.Thead(html.Tr([html.Th(h) for h in ("生产线/工序", "措施类型", "具体措施", "执行时间",
                                                 *(f"{EMISSION_LABELS[p]} {EMISSION.text}"
                                                   for p in EMISSION_POLLUTANTS))])),
        html.Tbody(rows or [html.Tr(html.Td("该级别无措施", colSpan=8))]),
        html.Tfoot(html.Tr([html.Th("合计预期减排量", colSpan=4)] +
                           [html.Td(f"{total[p]:.3f}") for p in EMISSION_POLLUTANTS])),
    ], className="plain", id="ent-measures")
    return html.Div([
        header, status, table,
        html.P(html.A("打印“一厂一策”公示牌", href=f"/sheet/{ent['credit_code']}?level={shown.key}",
                      target="_blank", className="btn", id="ent-print")),
    ], className="card")
