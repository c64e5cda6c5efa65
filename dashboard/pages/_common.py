"""Small layout helpers shared by the pages (no data access)."""
from __future__ import annotations

from dash import html

from airwarn.vocab import WarningLevel

#: Every role: the internal pages are readable by any signed-in user.
ALL_ROLES = ("viewer", "forecaster", "commander", "list-admin")


def table_style(numeric: tuple[str, ...] = (), **cell) -> dict:
    """DataTable styling of the pages' tables: the page's font, text left and the ``numeric`` columns
    right (DataTable's own default right-aligns every cell), the header shaded; ``cell`` adds to the
    cell style (e.g. ``maxWidth``)."""
    return {"style_cell": {"fontFamily": "inherit", "fontSize": 13, "textAlign": "left", **cell},
            "style_cell_conditional": [{"if": {"column_id": c}, "textAlign": "right"} for c in numeric],
            "style_header": {"backgroundColor": "#f2f5f9", "fontWeight": "bold"},
            "style_table": {"overflowX": "auto"}}


def sign_in_needed(path: str, roles: tuple[str, ...] = ALL_ROLES, user=None) -> html.Div:
    """A notice in place of a page the visitor may not see."""
    from dashboard.auth import Role

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


#: dcc.Graph config: no plotly logo, mode bar only on hover, nothing sent anywhere.
GRAPH_CONFIG = {"displaylogo": False, "displayModeBar": False, "showTips": False, "responsive": True}
