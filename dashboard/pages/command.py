"""指挥 command page: recommendation, warning actions, reductions against targets, the compliance check
(督查), bulletin."""
from __future__ import annotations

import dash
from dash import Input, Output, State, dash_table, dcc, html

from airwarn.core.products import BULLETIN_HTML, BULLETIN_TXT, NOTIFICATIONS_XLSX
from airwarn.core.units import EMISSION
from airwarn.core.vocab import EMISSION_LABELS, EMISSION_POLLUTANTS, WarningLevel
from airwarn.core.zh import percent_text
from dashboard import auth, figures, ids
from dashboard.pages._common import (ALL_ROLES, DROPDOWN_LABELS, DROPDOWN_PLACEHOLDER, GRAPH_CONFIG as _GRAPH_CONFIG,
                                     callback, decision_basis, error_box, level_badge, sign_in_needed, table_style,
                                     triggered_id, zh_punct)
from airwarn.core.errors import InputError
from dashboard.services import (compliance as compliance_service, context, events as event_service, products,
                                reductions, scores, warnings as warning_service)
from dashboard.services import benefit as benefit_service
from dashboard.services import evaluations as evaluation_service
from airwarn.core.errors import UnknownNameError
from airwarn.core.units import CONCENTRATION

dash.register_page(__name__, path="/command", name="指挥", title="应急指挥", order=2)

#: Role that may issue, upgrade, downgrade and lift warnings.
COMMAND_ROLES = ("commander",)
#: Roles that approve (sign off) a warning's level (emergency.signoff; which one per level is configured).
APPROVER_ROLES = ("vice-mayor", "mayor")
#: Warning actions, in the order shown.
ACTIONS = {"issue": "发布预警", "upgrade": "升级预警", "downgrade": "降级预警", "lift": "解除预警",
           "approve": "批准签发"}
_BY_LABELS = {"county": "按区县", "industry": "按行业", "grade": "按绩效分级"}
PAGE_SIZE = 15
#: The store of the warning state a commander decides on (id, revision, level): set when the
#: confirmation dialog is built from it, carried by the action, refused by the server if stale.
SEEN = "cmd-seen"
TABLE_COLUMNS = [("credit_code", "统一社会信用代码"), ("name", "企业名称"), ("county", "区县"),
                 ("industry", "行业"), ("grade", "绩效分级"), ("lines", "生产线数"), ("measures", "措施条数"),
                 *((f"cut_{p}", f"{EMISSION_LABELS[p]} {EMISSION.text}") for p in EMISSION_POLLUTANTS)]
#: Columns the table's native filter compares as numbers (``>0.5``) and shows right-aligned.
NUMERIC_COLUMNS = tuple(c for c, _ in TABLE_COLUMNS[5:])
#: Columns of the 督查 panel's tables: the violators, the unverifiable lines, the reductions.
VIOLATOR_COLUMNS = [("enterprise", "企业名称"), ("credit_code", "统一社会信用代码"), ("county", "区县"),
                    ("line_id", "生产线"), ("measure", "措施"), ("required_cut", "要求削减"),
                    ("achieved_cut", "实际削减"), ("rule", "判定依据"), ("reason", "原因"),
                    ("switch_off", "关停时间（北京时间）")]
UNVERIFIABLE_COLUMNS = [("enterprise", "企业名称"), ("credit_code", "统一社会信用代码"), ("county", "区县"),
                        ("line_id", "生产线"), ("reason", "原因")]
COMPLIANCE_RED_COLUMNS = [("pollutant", "污染物"), ("planned", f"计划减排量 {EMISSION.text}"),
                          ("adjusted", f"核查后减排量 {EMISSION.text}"),
                          ("unverifiable_planned", f"其中无法核实（未计入） {EMISSION.text}"),
                          ("target", "目标比例"), ("planned_ratio", "计划比例"), ("adjusted_ratio", "核查后比例"),
                          ("met", "核查后是否达标")]
#: The compliance rules (emergency/data/compliance_rules.yaml) as the panel names them.
RULE_LABELS = {"stop_min_fall": "停产用电降幅", "limit_tolerance": "限产用电降幅", "treatment": "治污设施用电",
               "late_tolerance_hours": "执行时限", "cems": "在线监测", "data": "无数据",
               "gap_share_max": "数据缺失", "baseline_days_min": "基准无法计算", "concentration_cap": "排放浓度限值"}


def layout(**_: str) -> html.Div:
    """The command page (any signed-in user sees it; only a commander can act)."""
    user = auth.current_user()
    if user is None:
        return sign_in_needed("/command")
    s = context.settings()
    try:
        preview = warning_service.default_reduction_level(s)
    except FileNotFoundError as exc:
        return html.Div([html.H2("应急指挥", className="page-title"), error_box(str(exc))])
    can_act = user.role.value in COMMAND_ROLES + APPROVER_ROLES
    level_options = [{"label": lv.label, "value": lv.key} for lv in WarningLevel if lv != WarningLevel.NONE]
    return html.Div([
        html.H2(f"应急指挥：{s.city}", className="page-title"),
        dcc.Store(id=ids.CMD_REFRESH, data=0),
        html.Div([
            html.Div([html.H3("预警建议（预报 + 规则）"), html.Div(id=ids.CMD_RECO)], className="card"),
            html.Div([
                html.H3("当前预警状态"), html.Div(id=ids.CMD_ACTIVE),
                html.Hr(),
                html.H3("预警操作"),
                html.Div([
                    dcc.Dropdown(*_action_choices(warning_service.warning_seen(s)["level"], user.role.value),
                                 id=ids.CMD_ACTION, clearable=False, style={"width": 150},
                                 labels=DROPDOWN_LABELS, placeholder=DROPDOWN_PLACEHOLDER),
                    dcc.Dropdown(level_options, preview, id=ids.CMD_ACTION_LEVEL, clearable=False,
                                 style={"width": 150}, labels=DROPDOWN_LABELS, placeholder=DROPDOWN_PLACEHOLDER),
                ], className="toolbar"),
                dcc.Input(id=ids.CMD_ACTION_REASON, placeholder="依据 / 会商结论（写入审计日志）",
                          style={"width": "100%"}),
                html.Div([
                    html.Button("执行…", id=ids.CMD_ACTION_BUTTON, className="danger", disabled=not can_act),
                    html.Span("" if can_act else "  仅“应急指挥”角色可发布、升级、降级或解除预警，副市长、市长可签批。",
                              className="muted"),
                ], style={"marginTop": 8}),
                dcc.ConfirmDialog(id=ids.CMD_CONFIRM),
                dcc.Store(id=SEEN, data=None),
                html.Div(id=ids.CMD_ACTION_RESULT, style={"marginTop": 8}),
                html.Hr(),
                html.H3("省级预警通知"),
                html.Div(id="cmd-notices"),
            ], className="card"),
        ], className="grid2"),
        html.Div([
            html.H3(f"过去一年的预警事件：{s.city}（回测，概率决策）"),
            html.P(id=ids.CMD_EVENTS_TEXT, className="muted"),
            dcc.Graph(id=ids.CMD_EVENTS_TIMELINE, config=_GRAPH_CONFIG, style={"height": 300}),
        ], className="card", id="cmd-events-card"),
        html.Div([
            html.Div([
                html.H3("减排核算"),
                html.Div([
                    html.Label("预警级别"),
                    dcc.Dropdown(level_options, preview, id=ids.CMD_RED_LEVEL, clearable=False, style={"width": 150},
                                 labels=DROPDOWN_LABELS, placeholder=DROPDOWN_PLACEHOLDER),
                    html.Label("分组"),
                    dcc.RadioItems([{"label": v, "value": k} for k, v in _BY_LABELS.items()], "county",
                                   id=ids.CMD_RED_BY, inline=True),
                ], className="toolbar"),
                html.Div(id=ids.CMD_RED_SUMMARY),
                html.Div([dcc.Graph(id=ids.CMD_RED_TARGETS, config=_GRAPH_CONFIG),
                          dcc.Graph(id=ids.CMD_RED_GROUPS, config=_GRAPH_CONFIG)], className="grid2"),
                _benefit_block(),
            ], className="card"),
        ]),
        _compliance_card(),
        _evaluation_card(),
        html.Div([
            html.H3("受影响企业"),
            html.Div(id=ids.CMD_TABLE_COUNT, className="muted"),
            dash_table.DataTable(
                id=ids.CMD_TABLE, columns=[{"name": n, "id": c, "type": "numeric" if c in NUMERIC_COLUMNS else "text"}
                                           for c, n in TABLE_COLUMNS],
                page_current=0, page_size=PAGE_SIZE, page_action="native",
                filter_action="native", filter_query="", sort_action="native", sort_mode="single", sort_by=[],
                **table_style(numeric=NUMERIC_COLUMNS, maxWidth=320, whiteSpace="normal"),
            ),
        ], className="card"),
        html.Div([
            html.Div([
                html.H3("预警信息（公告）预览"),
                html.Iframe(id=ids.CMD_BULLETIN, className="bulletin-frame"),
                html.Div([
                    html.Button("下载公告 HTML", id=ids.CMD_DL_BULLETIN, className="secondary"),
                    html.Button("下载公告 TXT", id=ids.CMD_DL_BULLETIN_TXT, className="secondary",
                                style={"marginLeft": 8}),
                    html.Button("下载企业通知清单", id=ids.CMD_DL_NOTIFY, className="secondary",
                                style={"marginLeft": 8}),
                    dcc.Link("编辑公告（签发批准前）", href="/command/bulletin", id="cmd-edit-bulletin",
                             style={"marginLeft": 12}),
                ], style={"marginTop": 8}),
                dcc.Download(id=ids.CMD_DOWNLOAD),
            ], className="card"),
            html.Div([
                html.H3("预警历史"),
                dash_table.DataTable(id=ids.CMD_HISTORY, page_size=8, **table_style(numeric=("编号",))),
                html.H3("审计日志", style={"marginTop": 12}),
                dash_table.DataTable(id=ids.CMD_AUDIT, page_size=8, **table_style(numeric=("预警",))),
            ], className="card", style={"minWidth": 0, "overflowX": "auto"}),
        ], className="grid2", style={"gridTemplateColumns": "minmax(0, 1fr) minmax(0, 1fr)"}),
    ])


# --------------------------------------------------------------------------- recommendation and status
@callback(
    Output(ids.CMD_RECO, "children"),
    Output(ids.CMD_ACTIVE, "children"),
    Output(ids.CMD_HISTORY, "data"),
    Output(ids.CMD_HISTORY, "columns"),
    Output(ids.CMD_AUDIT, "data"),
    Output(ids.CMD_AUDIT, "columns"),
    Output(ids.CMD_BULLETIN, "srcDoc"),
    Input(ids.CMD_REFRESH, "data"),
)
def show_status(_refresh):
    """The recommendation, the active warning, history, audit log and the bulletin preview."""
    auth.require_role(*ALL_ROLES)
    try:
        reco_view = _recommendation_view(warning_service.recommendation())
    except FileNotFoundError as exc:
        reco_view = error_box(str(exc))
    history = warning_service.warning_history()
    audit = warning_service.audit_log()
    return (reco_view, _active_view(warning_service.active_warning()),
            history.to_dict("records"), [{"name": c, "id": c} for c in history.columns],
            audit.to_dict("records"), [{"name": c, "id": c} for c in audit.columns],
            products.bulletin_html())


@callback(Output("cmd-notices", "children"), Input(ids.CMD_REFRESH, "data"))
def show_notices(_refresh):
    """The city's provincial notices."""
    auth.require_role(*ALL_ROLES)
    return _notices_view(warning_service.province_notices())


def _notices_view(notices) -> html.Div:
    """The city's provincial notices, newest first (the province's current word first)."""
    if not notices:
        return html.P("未收到省级预警通知。", className="muted", id="cmd-notice-list")
    return html.Ul([html.Li(n.describe()) for n in notices[:6]], id="cmd-notice-list")


def _action_choices(active_level: str | None, role: str) -> tuple[list[dict], str]:
    """The actions that fit the warning's state and the user's role, and the one preselected: an
    approver only approves (with an active warning); a commander issues without an active warning,
    else upgrades (below red), downgrades (above yellow) or lifts."""
    if role in APPROVER_ROLES:
        keys = ["approve"] if active_level else []
    elif active_level is None:
        keys = ["issue"]
    else:
        lv = WarningLevel.parse(active_level)
        keys = [k for k, ok in (("upgrade", lv < WarningLevel.RED), ("downgrade", lv > WarningLevel.YELLOW),
                                ("lift", True)) if ok]
    options = [{"label": ACTIONS[k], "value": k} for k in keys] or [{"label": "（无可执行操作）", "value": "",
                                                                      "disabled": True}]
    return options, keys[0] if keys else ""


@callback(
    Output(ids.CMD_ACTION, "options"),
    Output(ids.CMD_ACTION, "value"),
    Output(ids.CMD_ACTION_LEVEL, "value"),
    Output(ids.CMD_RED_LEVEL, "value"),
    Output(ids.CMD_ACTION_REASON, "value"),
    Input(ids.CMD_REFRESH, "data"),
    prevent_initial_call=True,
)
def follow_warning(_refresh):
    """After an action: the action choices fit the new state, and the level pickers and the
    reductions (and so the affected-enterprise table) follow the active warning's level."""
    user = auth.require_role(*ALL_ROLES)
    seen = warning_service.warning_seen()
    options, value = _action_choices(seen["level"], user.role.value)
    level = warning_service.default_reduction_level()
    nxt = level
    if seen["level"] is not None and value in ("upgrade", "downgrade"):  # the level the action would go to
        step = 1 if value == "upgrade" else -1
        nxt = WarningLevel(min(max(WarningLevel.parse(level) + step, WarningLevel.YELLOW), WarningLevel.RED)).key
    return options, value, nxt, level, ""  # the reason box is cleared after a done action


_PROBABILITY_METHODS = {"calibrated": "校准概率（情景成员按规则定级，验证期保序回归校准）", "scenarios": "情景成员占比",
                        "comonotonic": "由分位数构造的同秩伪成员占比", "deterministic": "单一预报（0 或 1）"}


def _recommendation_view(reco) -> html.Div:
    level = reco.level
    period = f"{reco.start} 至 {reco.end}" if reco.start else "—"
    basis = decision_basis(reco)
    window = "，未来1–3天" if basis["rule"] == "probability" else "，预报期内"
    probs = [html.Span([f"P({WarningLevel.parse(k).label}条件{window}) ", html.B(f"{100 * float(v):.0f}%")],
                       className="prob") for k, v in reco.probability.items()]
    warnings = tuple(getattr(reco, "data_warnings", ()))
    parts = [html.Div([html.P(zh_punct(w)) for w in warnings], className="notice", id="cmd-data-warnings")] \
        if warnings else []
    parts += [
        html.Div([level_badge(level, id="cmd-reco-level"),
                  html.Span(f"  {level.response}  建议时段：{period}", className="muted")]),
        _basis_view(basis),
        html.Div(probs, className="prob-row"),
        # the engine's "决策依据…" sentence is the basis box above
        html.Ul([html.Li(zh_punct(r)) for r in reco.reasons
                 if not (basis["rule"] == "probability" and r.startswith("决策依据"))],
                className="reasons", id="cmd-reco-reasons"),
    ]
    sens = [zh_punct(getattr(s, "text", str(s))) for s in getattr(reco, "sensitivity", ())]
    if sens:
        parts.append(html.Details([html.Summary("敏感性（预报变化多少会改变建议）"), html.Ul([html.Li(t) for t in sens])]))
    through = getattr(reco, "observations_through", None)
    method = _PROBABILITY_METHODS.get(reco.probability_method, reco.probability_method)
    parts.append(html.P(f"规则：{warning_service.rules_title(reco)}；起报：{reco.issued}"
                        f"{f'（实况截至 {through}）' if through else ''}；概率方法：{method}",
                        className="muted"))
    return html.Div(parts)


def _basis_view(basis: dict) -> html.Div:
    """The decision basis: each level's calibrated probability against its threshold, and the conclusion."""
    if basis["rule"] != "probability":
        return html.Div(html.P(basis["title"] + "。"), className="basis", id="cmd-reco-basis")
    return html.Div([
        html.P(html.B(basis["title"])),
        html.Ul([html.Li(lv["text"] + ("　达到" if lv["met"] else "　未达到"), className="met" if lv["met"] else "unmet",
                         id=f"cmd-basis-{lv['key']}") for lv in basis["levels"]], className="basis-list"),
        html.P("；".join(basis["notes"]) + "。", className="muted"),
    ], className="basis", id="cmd-reco-basis")


@callback(Output(ids.CMD_EVENTS_TIMELINE, "figure"), Output(ids.CMD_EVENTS_TEXT, "children"),
          Input(ids.CMD_REFRESH, "data"))
def show_events(_refresh):
    """The past year's warning events of the city in the recorded backtest (the probability decision):
    hits, misses and false alarms on a timeline."""
    auth.require_role(*ALL_ROLES)
    s = context.settings()
    events = event_service.backtest_warning_events(s.city)
    src = event_service.backtest_source()
    if events is None or src is None:
        label = scores.model_label(scores.model_card().get("train_span"))
        return (figures.empty_figure("未记录预警事件回测"),
                f"当前模型（{label}）尚未记录预警事件回测，无法显示过去一年的预警事件。")
    where = (f"{src['model_label']}样本外回测，起报日 {' – '.join(src['period'])}"
             + (f"，{len(src['cities'])} 个城市" if src["cities"] else "")
             + (f"，规则：{src['rules_label']}" if src["rules"] else ""))
    if events.empty:
        return figures.empty_figure(f"回测中没有{s.city}"), f"{s.city}不在已记录的回测城市中（{where}）。"
    n = events["kind"].value_counts()
    hits, misses, fa = int(n.get("hit", 0)), int(n.get("miss", 0)), int(n.get("false_alarm", 0))
    runs = int(n.get("run", 0)) + fa
    hit_rows = events[events["kind"] == "hit"]
    right = int(sum(WarningLevel.parse(w) >= WarningLevel.parse(o)
                    for w, o in zip(hit_rows["warned_level"], hit_rows["observed_level"])))
    text = (f"{where}：{s.city}实况重污染过程 {hits + misses} 次，命中 {hits}（等级正确 {right}），漏报 {misses}；"
            f"建议预警 {runs} 次，其中空报 {fa}。")
    title = f"{s.city}预警事件（{' – '.join(src['period'])}）" if src["period"] else f"{s.city}预警事件"
    return figures.events_timeline_figure(events, title=title, period=src["period"] or None), text


def _active_view(active) -> html.Div:
    if active is None:
        return html.Div([level_badge(WarningLevel.NONE, "当前无预警", id="cmd-active-level")])
    parts = [
        level_badge(active["level"], id="cmd-active-level"),
        html.Span(f"  {active['level'].response}  {active.get('start', '')} 至 {active.get('end', '')}，"
                  f"由 {active.get('user', '')} 发布", className="muted"),
    ]
    state = active.get("signoff")
    if state is not None:
        parts.append(html.P(state.describe(), id="cmd-signoff",
                            className="error" if state.overdue() else "ok" if state.approved else "muted"))
    notice = active.get("province_notice")
    if notice is not None:
        parts.append(html.P(f"依据省级通知：{notice.issuing_body}{notice.doc_number}（须待省级解除后方可解除）",
                            className="muted", id="cmd-active-notice"))
    return html.Div(parts)


# --------------------------------------------------------------------------- actions
@callback(
    Output(ids.CMD_CONFIRM, "message"),
    Output(ids.CMD_CONFIRM, "displayed"),
    Output(SEEN, "data"),
    Input(ids.CMD_ACTION_BUTTON, "n_clicks"),
    State(ids.CMD_ACTION, "value"),
    State(ids.CMD_ACTION_LEVEL, "value"),
    prevent_initial_call=True,
)
def confirm_action(n_clicks, action: str, level: str):
    """Ask for confirmation, saying what the action will do to the warning as it is now; keep that
    state (id, revision, level) for the action, so that the server refuses it if the warning changes
    before the commander confirms."""
    if not n_clicks:
        raise dash.exceptions.PreventUpdate
    auth.require_role(*ALL_ROLES)
    user = auth.current_user()
    who = f"{user.name}（{user.role.label}）" if user else "未登录用户"
    seen = warning_service.warning_seen()
    return warning_service.describe_action(action, level, who, seen=seen), True, seen


@callback(
    Output(ids.CMD_ACTION_RESULT, "children"),
    Output(ids.CMD_REFRESH, "data"),
    Input(ids.CMD_CONFIRM, "submit_n_clicks"),
    State(ids.CMD_ACTION, "value"),
    State(ids.CMD_ACTION_LEVEL, "value"),
    State(ids.CMD_ACTION_REASON, "value"),
    State(ids.CMD_REFRESH, "data"),
    State(SEEN, "data"),
    prevent_initial_call=True,
)
def perform_action(submit_n_clicks, action: str, level: str, reason: str | None, refresh: int | None,
                   seen: dict | None = None):
    """Issue / upgrade / downgrade / lift, as the signed-in commander (role re-checked here), on the
    warning state the confirmation described (``seen``; refused if it changed since)."""
    if not submit_n_clicks:
        raise dash.exceptions.PreventUpdate
    try:
        user = auth.require_role(*COMMAND_ROLES, *APPROVER_ROLES)
        message = warning_service.warning_action(action, level, user=user.name, role=user.role.value, reason=reason or "",
                                      seen=seen if isinstance(seen, dict) else None)
    except (PermissionError, ValueError, KeyError) as exc:
        text = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        return html.Span(f"操作被拒绝：{text}", className="error", id="cmd-action-error"), dash.no_update
    return html.Span(message, className="ok", id="cmd-action-ok"), (refresh or 0) + 1


# --------------------------------------------------------------------------- reductions
@callback(
    Output(ids.CMD_RED_SUMMARY, "children"),
    Output(ids.CMD_RED_TARGETS, "figure"),
    Output(ids.CMD_RED_GROUPS, "figure"),
    Input(ids.CMD_RED_LEVEL, "value"),
    Input(ids.CMD_RED_BY, "value"),
    Input(ids.CMD_REFRESH, "data"),
)
def update_reductions(level: str, by: str, _refresh):
    """Cuts per pollutant against the level's target, and by county, industry or grade."""
    auth.require_role(*ALL_ROLES)
    lv = WarningLevel.parse(level)
    summary, target, n_enterprises, version = reductions.reduction_summary(lv.key)
    groups = reductions.reduction_groups(lv.key, by)
    met = bool(summary["met"].all()) if len(summary) else False
    short = [f"{EMISSION_LABELS.get(p, p)} 差 {100 * max(t - r, 0):.1f} 个百分点" for p, r, t in
             zip(summary["pollutant"], summary["ratio"], summary["target"]) if r < t]
    text = html.P([
        f"清单版本 {version}；{lv.label}下 {n_enterprises} 家企业执行措施；目标减排比例 "
        f"{100 * (target or 0):.0f}%：",
        html.B("全部达标" if met else "未达标（" + "，".join(short) + "）", className="ok" if met else "error",
               id="cmd-red-met"),
    ])
    return (text, figures.targets_figure(summary, lv.label, target),
            figures.groups_figure(groups, by, f"{lv.label}减排量{_BY_LABELS.get(by, '')}"))


@callback(Output(ids.CMD_TABLE, "data"), Input(ids.CMD_RED_LEVEL, "value"))
def table_rows(level: str) -> list[dict]:
    """Every affected enterprise of the level: the table pages, filters and sorts them itself
    (``filter_action="native"``; see :mod:`dashboard.services.reductions`)."""
    auth.require_role(*ALL_ROLES)
    return reductions.affected_enterprises(WarningLevel.parse(level).key).to_dict("records")


@callback(Output(ids.CMD_TABLE_COUNT, "children"), Input(ids.CMD_TABLE, "derived_virtual_indices"),
          State(ids.CMD_RED_LEVEL, "value"))
def table_count(shown: list | None, level: str) -> str:
    """How many enterprises the level affects, and how many the table's filter leaves."""
    auth.require_role(*ALL_ROLES)
    n_all = len(reductions.affected_enterprises(WarningLevel.parse(level).key))
    n = n_all if shown is None else len(shown)
    return f"共 {n_all} 家企业，筛选后 {n} 家（在表头下方输入筛选条件，如 盂县 或 >0.5）"


# --------------------------------------------------------------------------- benefit of the measures (issue 19)
BEN_SUMMARY = "cmd-ben-summary"
BEN_TABLE = "cmd-ben-table"
BEN_LEVELS = "cmd-ben-levels"
_UG = CONCENTRATION.text
BENEFIT_COLUMNS = [("date", "日期"), ("pm25_without", f"无措施 PM2.5 {_UG}"),
                   ("pm25_with", f"有措施 PM2.5 {_UG}（中位数）"), ("pm25_band", "有措施 PM2.5 区间（5%–95%）"),
                   ("aqi", "AQI 中位数（无措施→有措施）"), ("p_without", "重污染概率（无措施）"),
                   ("p_with", "重污染概率（有措施）")]
BENEFIT_LEVEL_COLUMNS = [("label", "预警级别"), ("peak_date", "降幅最大日"), ("pm25_without", f"无措施 PM2.5 {_UG}"),
                         ("pm25_with", f"有措施 PM2.5 {_UG}（5%–95%）"), ("avoided", "避免重污染天数（概率之和）"),
                         ("avoided_median", "中位数降至非重污染天数")]


def _benefit_block() -> html.Div:
    """What the level's measures buy (beside the tonnes): PM2.5 and P(AQI>200) with and without them."""
    return html.Div([
        html.H4("措施效益：PM2.5 浓度与重污染概率（有措施 / 无措施）"),
        html.Div(id=BEN_SUMMARY),
        dash_table.DataTable(id=BEN_TABLE, columns=[{"name": n, "id": c} for c, n in BENEFIT_COLUMNS], data=[],
                             **table_style(numeric=tuple(c for c, _ in BENEFIT_COLUMNS[1:]), whiteSpace="normal")),
        html.H4("各级别措施效益对比"),
        dash_table.DataTable(id=BEN_LEVELS, columns=[{"name": n, "id": c} for c, n in BENEFIT_LEVEL_COLUMNS], data=[],
                             **table_style(numeric=tuple(c for c, _ in BENEFIT_LEVEL_COLUMNS[2:]),
                                           whiteSpace="normal")),
    ], id="cmd-ben-card")


def benefit_rows(res) -> list[dict]:
    """The daily table of a :class:`emergency.benefit.BenefitResult`, formatted for the page."""
    return [{"date": f"{r.date:%Y-%m-%d}", "pm25_without": f"{r.pm25_without:.0f}",
             "pm25_with": f"{r.pm25_with_p50:.0f}",
             "pm25_band": f"{r.pm25_with_p05:.0f}–{r.pm25_with_p95:.0f}",
             "aqi": f"{r.aqi_median_without:.0f}→{r.aqi_median_with:.0f}",
             "p_without": percent_text(r.p_aqi_gt_200_without), "p_with": percent_text(r.p_aqi_gt_200_with)}
            for r in res.days.itertuples(index=False)]


def benefit_level_rows(comparison) -> list[dict]:
    """The three levels side by side (:func:`dashboard.services.benefit.level_comparison`), formatted."""
    return [{"label": r.label, "peak_date": r.peak_date.isoformat(), "pm25_without": f"{r.pm25_without:.0f}",
             "pm25_with": f"{r.pm25_with_p50:.0f}（{r.pm25_with_p05:.0f}–{r.pm25_with_p95:.0f}）",
             "avoided": f"{r.heavy_days_avoided:.2f}", "avoided_median": str(int(r.heavy_days_avoided_median))}
            for r in comparison.itertuples(index=False)]


def benefit_summary(res) -> html.Div:
    """The level's heavy days avoided, how the figures are made, and the parameters not verified locally."""
    level = res.level.label if res.level is not None else "给定减排"
    parts = [
        html.P([f"{level}措施（起报 {res.issued or '—'}，清单版本 {res.list_version or '—'}）：预报期内避免重污染天数 ",
                html.B(f"{res.heavy_days_avoided:.2f} 天", id="cmd-ben-avoided"),
                f"（各日 AQI>200 概率降幅之和）；AQI 中位数由重污染降至非重污染 {res.heavy_days_avoided_median} 天。"]),
        html.P(f"简化响应模型（参数第 {res.parameters.rsplit('@', 1)[-1]} 版），{res.n_draws} 次蒙特卡洛抽样；假定措施自预报首日起执行，"
               "逐日效益按滞后权重累积。", className="muted"),
    ]
    unverified = benefit_service.unverified_labels(res)
    if unverified:
        parts.append(html.P("参数未经本地验证：" + "、".join(unverified) + "。结果仅供会商参考。",
                            className="notice", id="cmd-ben-unverified"))
    return html.Div(parts)


@callback(Output(BEN_SUMMARY, "children"), Output(BEN_TABLE, "data"), Output(BEN_LEVELS, "data"),
          Input(ids.CMD_RED_LEVEL, "value"), Input(ids.CMD_REFRESH, "data"))
def update_benefit(level: str, _refresh):
    """PM2.5 with and without the level's measures (band), P(AQI>200) with and without, heavy days
    avoided; and the three levels side by side."""
    auth.require_role(*ALL_ROLES)
    try:
        res = benefit_service.benefit(WarningLevel.parse(level).key)
        comparison = benefit_service.level_comparison()
    except (FileNotFoundError, InputError, UnknownNameError) as exc:
        return error_box(f"无法估算措施效益：{exc}"), [], []
    return benefit_summary(res), benefit_rows(res), benefit_level_rows(comparison)


# --------------------------------------------------------------------------- downloads
@callback(Output(ids.CMD_DOWNLOAD, "data"), Input(ids.CMD_DL_BULLETIN, "n_clicks"),
          Input(ids.CMD_DL_BULLETIN_TXT, "n_clicks"), Input(ids.CMD_DL_NOTIFY, "n_clicks"),
          prevent_initial_call=True)
def download(n_html, n_txt, n_notify):
    """Send the bulletin (HTML or text) or the notification list of today's products."""
    auth.require_role(*ALL_ROLES)
    trigger = triggered_id(ids.CMD_DL_NOTIFY if n_notify else ids.CMD_DL_BULLETIN_TXT if n_txt else ids.CMD_DL_BULLETIN)
    name = {ids.CMD_DL_BULLETIN: BULLETIN_HTML, ids.CMD_DL_BULLETIN_TXT: BULLETIN_TXT,
            ids.CMD_DL_NOTIFY: NOTIFICATIONS_XLSX}.get(trigger)
    if name is None:
        raise dash.exceptions.PreventUpdate
    return dcc.send_file(str(products.product_file(name)))


# --------------------------------------------------------------------------- evaluation (总结评估)
def _evaluation_card() -> html.Div:
    """The post-episode evaluations of the city's warnings (``airwarn evaluate``; issue 19, item 2)."""
    try:
        rows = evaluation_service.evaluation_rows()
    except InputError as exc:
        return html.Div([html.H3("预警效果评估（总结评估）"), error_box(str(exc))], className="card")
    head = html.H3("预警效果评估（总结评估，扣除气象影响）")
    if not rows:
        return html.Div([head, html.P("尚无评估结果：预警结束后，由值班人员运行预警效果评估（总结评估）。", className="muted",
                                      id="cmd-eval-none")], className="card", id="cmd-eval-card")
    note = ("PM2.5 相对业务照常情景（仅由气象和日历预测、不含减排措施的浓度）的变化，含滞后 2 天；"
            "落在同季静稳天气对照窗口的 5%–95% 范围内时判为不可检出。")
    return html.Div([head, html.P(note, className="muted"),
                     dash_table.DataTable(id="cmd-eval-table",
                                          columns=[{"name": c, "id": c} for c in evaluation_service.EVALUATION_COLUMNS],
                                          data=rows, page_size=5, **table_style(whiteSpace="normal"))],
                    className="card", id="cmd-eval-card")


# --------------------------------------------------------------------------- compliance (督查)
def _compliance_card() -> html.Div:
    """The 督查 panel: were the warning's measures carried out (power use, CEMS; issue 17)."""
    small = table_style(maxWidth=280, whiteSpace="normal")
    return html.Div([
        html.H3("督查：减排措施落实情况（用电量、在线监测）"),
        html.Div(id=ids.CMD_COMP_SUMMARY),
        html.Div([  # shown once a check exists
            html.H4("未落实措施的生产线（优先处置）"),
            dash_table.DataTable(id=ids.CMD_COMP_VIOLATORS, columns=[{"name": n, "id": c} for c, n in VIOLATOR_COLUMNS],
                                 data=[], page_size=10, sort_action="native", **small),
            html.H4("无法核实的生产线（建议现场核查）"),
            dash_table.DataTable(id=ids.CMD_COMP_UNVERIFIABLE,
                                 columns=[{"name": n, "id": c} for c, n in UNVERIFIABLE_COLUMNS],
                                 data=[], page_size=10, sort_action="native", **small),
            html.H4("计划减排量与核查后减排量"),
            html.Div([dcc.Graph(id=ids.CMD_COMP_FIGURE, config=_GRAPH_CONFIG),
                      dash_table.DataTable(id=ids.CMD_COMP_REDUCTIONS,
                                           columns=[{"name": n, "id": c} for c, n in COMPLIANCE_RED_COLUMNS],
                                           data=[], **table_style(maxWidth=200, whiteSpace="normal"))],
                     className="grid2"),
        ], id=ids.CMD_COMP_DETAILS, hidden=True),
        html.Div([html.Button("下载督查日报 HTML", id=ids.CMD_COMP_DL_REPORT, className="secondary", disabled=True)],
                 style={"marginTop": 8}),
        dcc.Download(id=ids.CMD_COMP_DOWNLOAD),
    ], className="card", id="cmd-comp-card")


def _amount(v) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return "—"
    return f"{f:.2f}" if f == f else "—"


def _text(v) -> str:
    return "—" if v is None or (isinstance(v, float) and v != v) or v == "" else zh_punct(str(v))


def _switch(v) -> str:
    return "—" if v is None or v != v or str(v) == "NaT" else f"{v:%m-%d %H:%M}"


def compliance_rows(view: dict) -> tuple[list[dict], list[dict], list[dict]]:
    """The 督查 tables' rows (violators, unverifiable lines, reductions) of a
    :func:`dashboard.services.compliance.compliance_view`, formatted for the page."""
    viol = [{"enterprise": _text(r.enterprise), "credit_code": str(r.credit_code), "county": _text(r.county),
             "line_id": _text(r.line_id), "measure": _text(r.measure), "required_cut": percent_text(r.required_cut),
             "achieved_cut": percent_text(r.achieved_cut), "rule": RULE_LABELS.get(r.rule, _text(r.rule)),
             "reason": _text(r.reason), "switch_off": _switch(r.switch_off)} for r in view["violators"].itertuples()]
    unver = [{"enterprise": _text(r.enterprise), "credit_code": str(r.credit_code), "county": _text(r.county),
              "line_id": _text(r.line_id), "reason": _text(r.reason)} for r in view["unverifiable"].itertuples()]
    red = [{"pollutant": EMISSION_LABELS.get(r.pollutant, str(r.pollutant)), "planned": _amount(r.planned),
            "adjusted": _amount(r.adjusted), "unverifiable_planned": _amount(r.unverifiable_planned),
            "target": percent_text(r.target), "planned_ratio": percent_text(r.planned_ratio), "adjusted_ratio": percent_text(r.adjusted_ratio),
            "met": "—" if r.met is None or r.met != r.met else ("是" if r.met else "否")}
           for r in view["reductions"].itertuples()]
    return viol, unver, red


def _compliance_summary(view: dict) -> html.Div:
    c = view["counts"]
    n = sum(c.values())
    days = view["judged_days"]
    more = f"（共核查 {len(days)} 天，显示最后一天）" if len(days) > 1 else ""
    parts = [
        html.P([f"核查日期 {view['judged_day']}{more}，共核查生产线 {n} 条：",
                html.B(f"合规 {c['compliant']}、违规 {c['violation']}、无法核实 {c['unverifiable']}",
                       className="error" if c["violation"] else "ok", id="cmd-comp-counts"), "。"]),
    ]
    red = view["reductions"]
    short = [EMISSION_LABELS.get(p, p) for p, m in zip(red["pollutant"], red["met"]) if m is False]
    if len(red) and (short or all(m is True for m in red["met"])):  # no targets or totals: no verdict
        parts.append(html.P("核查后减排比例" + ("未达到目标：" + "、".join(short) if short else "达到各污染物目标") + "。",
                            className="error" if short else "ok", id="cmd-comp-met"))
    if not view["report"]:
        parts.append(html.P("督查日报尚未生成。", className="muted"))
    return html.Div(parts)


@callback(
    Output(ids.CMD_COMP_SUMMARY, "children"),
    Output(ids.CMD_COMP_VIOLATORS, "data"),
    Output(ids.CMD_COMP_UNVERIFIABLE, "data"),
    Output(ids.CMD_COMP_REDUCTIONS, "data"),
    Output(ids.CMD_COMP_FIGURE, "figure"),
    Output(ids.CMD_COMP_DL_REPORT, "disabled"),
    Output(ids.CMD_COMP_DETAILS, "hidden"),
    Input(ids.CMD_REFRESH, "data"),
)
def show_compliance(_refresh):
    """The compliance check of the newest product day (signed-in roles only): the counts, the violators
    first, the lines to inspect on site, planned against compliance-adjusted cuts, the report download."""
    auth.require_role(*ALL_ROLES)
    try:
        view = compliance_service.compliance_view()
    except InputError as exc:
        return error_box(str(exc)), [], [], [], figures.empty_figure("督查文件无法读取"), True, True
    if not view["checked"]:  # only the line saying so: no empty tables and figure
        return (html.P(view["message"], className="muted", id="cmd-comp-none"), [], [], [],
                figures.empty_figure("尚未开展督查"), not view["report"], True)
    viol, unver, red = compliance_rows(view)
    fig = figures.compliance_cut_figure(view["reductions"], title=f"{view['judged_day']} 计划与核查后减排比例")
    return _compliance_summary(view), viol, unver, red, fig, not view["report"], False


@callback(Output(ids.CMD_COMP_DOWNLOAD, "data"), Input(ids.CMD_COMP_DL_REPORT, "n_clicks"), prevent_initial_call=True)
def download_compliance_report(n_clicks):
    """Send the product day's 督查日报 (``compliance_report.html``; signed-in roles only)."""
    if not n_clicks:
        raise dash.exceptions.PreventUpdate
    auth.require_role(*ALL_ROLES)
    return dcc.send_file(str(compliance_service.report_file()))
