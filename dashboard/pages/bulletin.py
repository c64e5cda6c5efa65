"""公告编辑 bulletin page: the commander edits the warning's bulletin before its sign-off (each edit audited).

Any signed-in user sees the bulletin in force, its sign-off state and the edit history; only a
commander can save, and the server checks that again (:data:`dashboard.ids.ROLE_REQUIRED` before the
callback runs, :func:`dashboard.services.bulletin_editor.save_bulletin` and the library inside it).
The page keeps the warning's id and revision it showed: a warning changed meanwhile (upgraded,
approved, lifted) refuses the save, in Chinese, instead of overwriting what someone else decided.
"""
from __future__ import annotations

import dash
from dash import Input, Output, State, dash_table, dcc, html

from airwarn.core.errors import InputError
from dashboard import auth, ids
from dashboard.pages._common import ALL_ROLES, callback, sign_in_needed, table_style
from dashboard.services import bulletin_editor as service

dash.register_page(__name__, path="/command/bulletin", name="公告编辑", title="预警公告编辑", order=5)


def _seen(view: dict) -> dict | None:
    w = view["warning"]
    return {"id": w["id"], "revision": w["revision"]} if w else None


def _header(view: dict) -> html.Div:
    w = view["warning"]
    if w is None:
        return html.Div(html.P(view["why"], className="muted", id="bul-none"))
    parts = [html.P(f"预警 #{w['id']}：{w['level_label']}，{w['start']} 至 {w['end']}（版本 {w['revision']}）。",
                    id="bul-warning")]
    if view["signoff"]:
        parts.append(html.P(view["signoff"], className="muted", id="bul-signoff"))
    parts.append(html.P(f"当前文本：{view['source']}。", className="muted", id="bul-source"))
    if not view["editable"]:
        parts.append(html.P(view["why"], className="notice", id="bul-locked"))
    return html.Div(parts)


def layout(**_: str) -> html.Div:
    """The bulletin in force, the editor (a commander, before sign-off) and the edit history."""
    user = auth.current_user()
    if user is None:
        return sign_in_needed("/command/bulletin", ALL_ROLES, user)
    view = service.bulletin_editor()
    can_edit = view["editable"] and user.role.value == "commander"
    return html.Div([
        html.H2("预警公告编辑", className="page-title"),
        dcc.Store(id=ids.BUL_SEEN, data=_seen(view)),
        html.Div([html.H3("当前预警与签发"), html.Div(_header(view), id="bul-header"),
                  html.P(dcc.Link("返回指挥页面", href="/command"))], className="card"),
        html.Div([
            html.H3("公告文本（签发批准前可修改，每次修改均记录）"),
            dcc.Textarea(id=ids.BUL_TEXT, value=view["text"], disabled=not can_edit,
                         style={"width": "100%", "height": 420, "fontFamily": "inherit"}),
            html.Div([html.Label("修改原因"),
                      dcc.Input(id=ids.BUL_REASON, placeholder="如：会商后补充管控措施说明", disabled=not can_edit,
                                style={"width": 420}),
                      html.Button("保存修改稿并重新发布", id=ids.BUL_SAVE, disabled=not can_edit)],
                     className="toolbar", style={"marginTop": 8}),
            html.P("只有应急指挥可以修改公告。" if user.role.value != "commander" else "", className="muted"),
            html.Div(id=ids.BUL_RESULT),
        ], className="card"),
        html.Div([html.H3("修改记录"), dash_table.DataTable(
            id=ids.BUL_EDITS, columns=[{"name": c, "id": c} for c in service.EDIT_COLUMNS],
            data=view["edits"].to_dict("records"), page_size=10, **table_style())], className="card"),
    ])


@callback(
    Output(ids.BUL_RESULT, "children"),
    Output(ids.BUL_EDITS, "data"),
    Output(ids.BUL_SEEN, "data"),
    Output("bul-header", "children"),
    Input(ids.BUL_SAVE, "n_clicks"),
    State(ids.BUL_TEXT, "value"),
    State(ids.BUL_REASON, "value"),
    State(ids.BUL_SEEN, "data"),
    prevent_initial_call=True,
)
def save(n_clicks, text: str | None, reason: str | None, seen: dict | None):
    """Save the edit as the signed-in commander (role checked again here) on the revision shown."""
    if not n_clicks:
        raise dash.exceptions.PreventUpdate
    try:
        user = auth.require_role("commander")
        message = service.save_bulletin(text or "", reason or "", user=user.name, role=user.role.value,
                                        seen=seen if isinstance(seen, dict) else None)
    except (PermissionError, InputError) as exc:
        return (html.Span(f"未保存：{exc}", className="error", id="bul-error"), dash.no_update, dash.no_update,
                dash.no_update)
    view = service.bulletin_editor()
    return (html.Span(message, className="ok", id="bul-ok"), view["edits"].to_dict("records"), _seen(view),
            _header(view))
