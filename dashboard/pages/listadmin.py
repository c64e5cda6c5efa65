"""清单管理 list management page (list-admin): upload, validation report, import or reject."""
from __future__ import annotations

import datetime as dt

import dash
from dash import Input, Output, State, callback, dash_table, dcc, html

from airwarn.dates import today_beijing
from dashboard import auth, data, ids
from dashboard.pages._common import error_box, sign_in_needed, table_style, triggered_id

dash.register_page(__name__, path="/list", name="清单管理", title="应急减排清单管理", order=4)

#: Role that may upload and import a list.
LIST_ROLES = ("list-admin",)
MAX_UPLOAD_BYTES = 30 * 1024 * 1024


def layout(**_: str) -> html.Div:
    """Upload box, version fields, validation report and the versions in the database."""
    user = auth.current_user()
    if user is None or user.role.value not in LIST_ROLES:
        return sign_in_needed("/list", LIST_ROLES, user)
    versions = data.list_versions()
    return html.Div([
        html.H2("应急减排清单管理", className="page-title"),
        dcc.Store(id=ids.LIST_STORE),
        html.Div([
            html.H3("1. 上传清单文件（.xlsx 或 .csv，按清单模板）"),
            dcc.Upload(html.Div(["拖放文件到此处，或 ", html.A("选择文件")]), id=ids.LIST_UPLOAD,
                       className="upload-box", max_size=MAX_UPLOAD_BYTES, multiple=False),
            html.Div([
                html.Label("版本名称"),
                dcc.Input(id=ids.LIST_VERSION_NAME, placeholder="如 2026年度修订", style={"width": 220}),
                html.Label("生效日期"),
                dcc.Input(id=ids.LIST_EFFECTIVE, type="date", value=today_beijing().isoformat(),
                          style={"width": 170}),
            ], className="toolbar", style={"marginTop": 10}),
        ], className="card"),
        html.Div([html.H3("2. 校验报告"), html.Div(id=ids.LIST_REPORT, children=html.P("尚未上传文件。",
                                                                                   className="muted"))],
                 className="card"),
        html.Div([
            html.H3("3. 导入或退回"),
            html.Button("导入为新版本", id=ids.LIST_IMPORT, className="primary"),
            html.Button("退回（不导入）", id=ids.LIST_REJECT, className="secondary", style={"marginLeft": 8}),
            html.Div(id=ids.LIST_RESULT, style={"marginTop": 8}),
        ], className="card"),
        html.Div([html.H3("数据库中的清单版本"),
                  dash_table.DataTable(versions.to_dict("records"), [{"name": c, "id": c} for c in versions.columns],
                                       id=ids.LIST_VERSIONS, page_size=10,
                                       **table_style(numeric=("企业", "生产线", "措施")))],
                 className="card"),
    ])


@callback(
    Output(ids.LIST_STORE, "data"),
    Output(ids.LIST_REPORT, "children"),
    Input(ids.LIST_UPLOAD, "contents"),
    State(ids.LIST_UPLOAD, "filename"),
    prevent_initial_call=True,
)
def receive_upload(contents: str | None, filename: str | None):
    """Store the uploaded file (under the data folder) and show its validation report."""
    if not contents:
        raise dash.exceptions.PreventUpdate
    try:
        auth.require_role(*LIST_ROLES)
        upload = data.save_upload(contents, filename or "upload.xlsx")
        report = data.validate_upload(upload["token"])
    except PermissionError as exc:
        return None, error_box(str(exc))
    except (ValueError, KeyError) as exc:
        return None, error_box(f"{filename}: 无法读取：{exc}")
    return {"token": upload["token"], "filename": filename, "ok": report["ok"]}, _report_view(filename, report)


def _report_view(filename: str | None, report: dict) -> html.Div:
    head = (f"{filename}：{report['n_enterprises']} 家企业、{report['n_lines']} 条生产线、"
            f"{report['n_measures']} 条措施；{report['n_errors']} 个错误、{report['n_warnings']} 个警告。")
    verdict = html.P("校验通过，可以导入。" if report["ok"] else "存在错误，不能导入；请修改后重新上传。",
                     className="ok" if report["ok"] else "error", id="list-verdict")
    problems = report["problems"]
    table = dash_table.DataTable(problems.to_dict("records"), [{"name": c, "id": c} for c in problems.columns],
                                 page_size=15, **table_style(numeric=("行",), whiteSpace="normal"),
                                 style_data_conditional=[{"if": {"filter_query": "{严重性} = error"},
                                                          "color": "#b00020"}]) if len(problems) else None
    return html.Div([html.P(head), verdict, table])


@callback(
    Output(ids.LIST_RESULT, "children"),
    Input(ids.LIST_IMPORT, "n_clicks"),
    Input(ids.LIST_REJECT, "n_clicks"),
    State(ids.LIST_STORE, "data"),
    State(ids.LIST_VERSION_NAME, "value"),
    State(ids.LIST_EFFECTIVE, "value"),
    prevent_initial_call=True,
)
def import_or_reject(n_import, n_reject, stored: dict | None, version_name: str | None, effective: str | None):
    """Import the uploaded list as a new version, or discard it (list-admin only)."""
    trigger = triggered_id(ids.LIST_IMPORT if n_import else ids.LIST_REJECT)
    try:
        user = auth.require_role(*LIST_ROLES)
        if not stored:
            raise ValueError("请先上传清单文件")
        if trigger == ids.LIST_REJECT:
            data.discard_upload(stored["token"])
            return html.Span(f"已退回 {stored.get('filename')}，未导入。", className="muted")
        if not (version_name or "").strip():
            raise ValueError("请填写版本名称")
        summary = data.import_upload(stored["token"], version_name.strip(), dt.date.fromisoformat(effective),
                                     user=user.name)
    except (PermissionError, ValueError, KeyError) as exc:
        text = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        return html.Span(f"未导入：{text}", className="error")
    return html.Span(summary, className="ok", id="list-imported")
