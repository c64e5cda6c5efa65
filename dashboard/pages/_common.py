"""Small layout helpers shared by the pages (no data access), and the mark of a page's callbacks."""
from __future__ import annotations

from dash import html

from airwarn.core.vocab import Role, WarningLevel
from airwarn.core.zh import zh_punct as _zh_punct

#: Attribute :func:`callback` sets on a function: ``(args, kwargs)`` of its ``app.callback``.
CALLBACK_ATTR = "dashboard_callback"


def callback(*args, **kwargs):
    """Mark a page function as a Dash callback with these outputs, inputs and options.

    The function is returned unchanged (tests call it directly); :func:`dashboard.app.create_app`
    registers every marked function of the pages on its app with ``app.callback(*args, **kwargs)``.
    """

    def mark(func):
        setattr(func, CALLBACK_ATTR, (args, kwargs))
        return func

    return mark

#: Every role: the internal pages are readable by any signed-in user.
ALL_ROLES = ("viewer", "forecaster", "commander", "list-admin", "vice-mayor", "mayor")


def table_style(numeric: tuple[str, ...] = (), **cell) -> dict:
    """DataTable styling of the pages' tables: the page's font, text left and the ``numeric`` columns
    right (DataTable's own default right-aligns every cell), the header shaded; ``cell`` adds to the
    cell style (e.g. ``maxWidth``); the filter row's placeholder is Chinese (:data:`TABLE_FILTER_OPTIONS`)."""
    return {"filter_options": TABLE_FILTER_OPTIONS,
            "style_cell": {"fontFamily": "inherit", "fontSize": 13, "textAlign": "left", **cell},
            "style_cell_conditional": [{"if": {"column_id": c}, "textAlign": "right"} for c in numeric],
            "style_header": {"backgroundColor": "#f2f5f9", "fontWeight": "bold"},
            "style_table": {"overflowX": "auto"}}


def sign_in_needed(path: str, roles: tuple[str, ...] = ALL_ROLES, user=None) -> html.Div:
    """A notice in place of a page the visitor may not see."""
    names = "、".join(Role.parse(r).label for r in roles)
    if user is None:
        text = ["本页面需要登录（角色：", names, "）。 ", html.A("登录", href=f"/login?next={path}", id="signin-link")]
    else:
        text = [f"当前用户 {user.name}（{user.role.label}）无权访问本页面；需要角色：{names}。"]
    return html.Div(html.P(text, className="notice"), className="card")


def level_badge(level: WarningLevel, text: str | None = None, id: str | None = None) -> html.Span:
    """A coloured badge of a warning level."""
    kwargs = {"id": id} if id else {}
    return html.Span(text or level.label, className=f"level-badge level-{level.key}", **kwargs)


def error_box(message: str) -> html.P:
    """A red one-line error."""
    return html.P(message, className="error")


def triggered_id(fallback):
    """The id of the input that fired the callback, or ``fallback`` when called directly (tests)."""
    import dash

    try:
        return dash.ctx.triggered_id if dash.ctx.triggered else fallback
    except dash.exceptions.MissingCallbackContextException:
        return fallback


#: dcc.Dropdown texts in Chinese (Dash's defaults are "Search", "Select All" …): ``labels=DROPDOWN_LABELS``.
DROPDOWN_LABELS = {"select_all": "全选", "deselect_all": "全部取消", "selected_count": "已选 {num_selected} 项",
                   "search": "搜索", "clear_search": "清除搜索", "clear_selection": "清除选择",
                   "no_options_found": "没有匹配的选项"}

#: Placeholder of a dcc.Dropdown without a value (Dash's default is "Select...").
DROPDOWN_PLACEHOLDER = "请选择"

#: DataTable filter row in Chinese (Dash's default placeholder is "filter data..."):
#: ``filter_options=TABLE_FILTER_OPTIONS``.
TABLE_FILTER_OPTIONS = {"placeholder_text": "筛选…"}


#: dcc.Graph config: no plotly logo, mode bar only on hover, nothing sent anywhere.
GRAPH_CONFIG = {"displaylogo": False, "displayModeBar": False, "showTips": False, "responsive": True}


def zh_punct(text: str) -> str:
    """Text of the library (reasons, sensitivity, data warnings) with Chinese punctuation for the page
    (:func:`airwarn.core.zh.zh_punct`)."""
    return _zh_punct(text)


def decision_basis(reco) -> dict:
    """What a recommendation was decided on, in Chinese, for the pages.

    Returns
    -------
    dict
        ``rule`` ("probability" or "median"), ``title`` (one line), ``levels`` (for the probability
        decision one entry per level: ``key``, ``text`` e.g. "P(橙色预警条件) = 0.53 ≥ 0.35", ``met``),
        ``notes`` (lines: the conclusion, the thresholds in force, where they were chosen).
    """
    det = next((d for d in getattr(reco, "reason_details", ()) if d.get("code") == "decision.probability"), None)
    if det is None:
        why = next((d.get("why") for d in getattr(reco, "reason_details", ()) if d.get("code") == "decision.median"),
                   None)
        return {"rule": "median", "title": "决策依据：按中位数预报序列定级" + (f"（{zh_punct(why)}）" if why else ""),
                "levels": [], "notes": []}
    lo, hi = det.get("window_lead_days", (1, 3))
    levels = []
    for k in ("yellow", "orange", "red"):
        p, t = float(det["probability"][k]), float(det["thresholds"][k])
        t_text = f"{t:.3f}".rstrip("0").rstrip(".")  # 0.125, 0.3: as the engine's reasons write it
        levels.append({"key": k, "met": p >= t,
                       "text": f"P({WarningLevel.parse(k).label}条件) = {p:.2f} {'≥' if p >= t else '<'} {t_text}"})
    level = WarningLevel.parse(det.get("level", "none"))
    notes = [f"结论：{level.label}" + ("（达到决策阈值的最高级别；是否预警由黄色阈值决定）" if level != WarningLevel.NONE
                                      else "（黄色预警条件的概率未达到阈值，暂不启动预警）")]
    held = WarningLevel.parse(det.get("in_force", "none"))
    keep = float(det.get("keep_ratio", 1.0))
    if held != WarningLevel.NONE and keep < 1:
        notes.append(f"{held.label}生效中：阈值取保持阈值（启动阈值的{100 * keep:.0f}%）")
    days = (det.get("fold") or {}).get("issue_days")
    if days:
        notes.append(f"概率校准与阈值 p* 来自模型验证期（起报日 {days[0]} – {days[-1]}）")
    return {"rule": "probability", "title": f"决策依据：未来{lo}–{hi}天各级预警条件的校准概率与决策阈值 p*",
            "levels": levels, "notes": notes}
