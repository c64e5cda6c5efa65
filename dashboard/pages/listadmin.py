"""清单管理 list management page (list-admin): upload, validation report, import or reject.

An upload is read and validated in a separate process (:func:`dashboard.services.isolated.run_isolated`), so a
file that crashes the reader or exhausts its memory or time costs only that process. The report says
what changed against the version in force; a version that drops more than
:data:`dashboard.services.lists.MAX_SHRINK` (:mod:`enterprise_list.validate`) of it is imported only with the confirmation box ticked,
which the import callback checks itself (server side).
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import dash
from dash import Input, Output, State, dash_table, dcc, html

from airwarn.core.dates import today_beijing
from airwarn.core.errors import InputError
from dashboard import auth, ids
from dashboard.pages._common import callback, error_box, sign_in_needed, table_style, triggered_id
from dashboard.services import lists, uploads

dash.register_page(__name__, path="/list", name="清单管理", title="应急减排清单管理", order=4)

#: Role that may upload and import a list.
LIST_ROLES = ("list-admin",)
MAX_UPLOAD_BYTES = uploads.MAX_UPLOAD_BYTES
#: The box confirming a version that drops a large share of the version in force.
LIST_CONFIRM_SHRINK = "list-confirm-shrink"
#: The report's summary of what changed against the version in force.
LIST_CHANGES = "list-changes"
#: The template download: button and its ``dcc.Download``.
LIST_TEMPLATE = "list-template"
LIST_TEMPLATE_DOWNLOAD = "list-template-download"
#: The coverage check against a permit register: upload box and report.
LIST_COVERAGE_UPLOAD = "list-coverage-upload"
LIST_COVERAGE_REPORT = "list-coverage-report"
#: File name of the downloaded template.
TEMPLATE_NAME = "应急减排清单模板.xlsx"


def layout(**_: str) -> html.Div:
    """Upload box, version fields, validation report and the versions in the database."""
    user = auth.current_user()
    if user is None or user.role.value not in LIST_ROLES:
        return sign_in_needed("/list", LIST_ROLES, user)
    versions = lists.list_versions()
    return html.Div([
        html.H2("应急减排清单管理", className="page-title"),
        dcc.Store(id=ids.LIST_STORE),
        html.Div([
            html.H3("1. 上传清单文件（按清单模板）"),
            html.P(["一个 .xlsx 文件（企业、生产线、减排措施三张表），或三个 CSV 文件（企业.csv、生产线.csv、减排措施.csv，"
                    "可一起选择或打包为一个 .zip）。",
                    html.Button("下载清单模板（.xlsx）", id=LIST_TEMPLATE, className="secondary",
                                style={"marginLeft": 8}),
                    dcc.Download(id=LIST_TEMPLATE_DOWNLOAD)], className="muted"),
            dcc.Upload(html.Div(["拖放文件到此处，或 ", html.A("选择文件")]), id=ids.LIST_UPLOAD,
                       className="upload-box", max_size=MAX_UPLOAD_BYTES, multiple=True,
                       accept=".xlsx,.csv,.zip"),
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
            dcc.Checklist(id=LIST_CONFIRM_SHRINK, value=[],
                          options=[{"label": " 确认删减：本版本比现行版本减少的企业、生产线或基准排放量超过"
                                             f"{_max_shrink():.0%}，确属调整", "value": "confirm"}],
                          style={"marginBottom": 8}),
            html.Button("导入为新版本", id=ids.LIST_IMPORT, className="primary"),
            html.Button("退回（不导入）", id=ids.LIST_REJECT, className="secondary", style={"marginLeft": 8}),
            html.Div(id=ids.LIST_RESULT, style={"marginTop": 8}),
        ], className="card"),
        html.Div([html.H3("数据库中的清单版本"),
                  dash_table.DataTable(versions.to_dict("records"), [{"name": c, "id": c} for c in versions.columns],
                                       id=ids.LIST_VERSIONS, page_size=10,
                                       **table_style(numeric=("企业", "生产线", "措施")))],
                 className="card"),
        html.Div([
            html.H3("应纳尽纳：对照排污许可登记检查现行清单"),
            html.P("上传排污许可登记（.csv 或 .xlsx，列：统一社会信用代码、单位名称、许可证编号、是否涉气），"
                   "列出未纳入清单的涉气持证单位和许可证编号不符的清单企业。", className="muted"),
            dcc.Upload(html.Div(["拖放排污许可登记文件到此处，或 ", html.A("选择文件")]), id=LIST_COVERAGE_UPLOAD,
                       className="upload-box", max_size=MAX_UPLOAD_BYTES, multiple=False, accept=".xlsx,.csv"),
            html.Div(id=LIST_COVERAGE_REPORT, style={"marginTop": 8}),
        ], className="card"),
    ])


@callback(Output(LIST_TEMPLATE_DOWNLOAD, "data"), Input(LIST_TEMPLATE, "n_clicks"), prevent_initial_call=True)
def download_template(n_clicks):
    """The empty list template as an .xlsx download (list-admin only)."""
    if not n_clicks:
        raise dash.exceptions.PreventUpdate
    auth.require_role(*LIST_ROLES)
    return dcc.send_bytes(lists.template_bytes(), TEMPLATE_NAME)


@callback(Output(ids.LIST_VERSIONS, "data"), Input(ids.LIST_RESULT, "children"), prevent_initial_call=True)
def refresh_versions(_result):
    """The versions table again after an import (or a refusal: it shows what the database holds)."""
    auth.require_role(*LIST_ROLES)
    return lists.list_versions().to_dict("records")


@callback(Output(LIST_COVERAGE_REPORT, "children"), Input(LIST_COVERAGE_UPLOAD, "contents"),
          State(LIST_COVERAGE_UPLOAD, "filename"), State(ids.LIST_EFFECTIVE, "value"), prevent_initial_call=True)
def check_coverage(contents: str | None, filename: str | None, effective: str | None = None):
    """Check the version in force against the uploaded permit register and show the gaps."""
    if not contents:
        raise dash.exceptions.PreventUpdate
    try:
        auth.require_role(*LIST_ROLES)
        rep = uploads.coverage_upload(contents, filename or "", effective=_date(effective))
    except (PermissionError, ValueError) as exc:
        return error_box(str(exc))
    head = (f"现行清单版本“{rep['version']}”：登记中涉气持证单位 {rep['n_register_air']} 家，清单企业 {rep['n_list']} 家；"
            f"未纳入清单 {len(rep['missing'])} 家，许可证编号不符 {len(rep['mismatched'])} 家。")
    parts = [html.P(head, id="list-coverage-summary",
                    className="ok" if rep["complete"] else "error")]
    for title, frame, table_id in (("未纳入清单的涉气持证单位", rep["missing"], "list-coverage-missing"),
                                   ("许可证编号不符的清单企业", rep["mismatched"], "list-coverage-mismatched")):
        if len(frame):
            parts += [html.H4(title), dash_table.DataTable(
                frame.to_dict("records"), [{"name": c, "id": c} for c in frame.columns], id=table_id,
                page_size=10, **table_style(whiteSpace="normal"))]
    return html.Div(parts)


def _max_shrink() -> float:
    """The share of the version in force a new version may drop unconfirmed."""
    return lists.MAX_SHRINK


@callback(
    Output(ids.LIST_STORE, "data"),
    Output(ids.LIST_REPORT, "children"),
    Input(ids.LIST_UPLOAD, "contents"),
    State(ids.LIST_UPLOAD, "filename"),
    State(ids.LIST_EFFECTIVE, "value"),
    prevent_initial_call=True,
)
def receive_upload(contents: "str | list[str] | None", filename: "str | list[str] | None",
                   effective: str | None = None):
    """Store the uploaded file(s) (under the data folder: an .xlsx, or the CSV files chosen together or
    in a .zip) and show the validation report."""
    if not contents:
        raise dash.exceptions.PreventUpdate
    names = [filename] if isinstance(filename, str) or filename is None else list(filename)
    shown = "、".join(Path(str(n or "")).name for n in names if n) or "upload.xlsx"
    try:
        auth.require_role(*LIST_ROLES)
        day = _date(effective)
        upload = uploads.save_uploads(contents, names)
        shown = upload["filename"]
        report = uploads.validate_upload(upload["token"], filename=shown, effective=day)
    except PermissionError as exc:
        return None, error_box(str(exc))
    except (ValueError, KeyError) as exc:
        text = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        return None, error_box(text if text.startswith(shown) or "：" in text[:80] else f"{shown}：无法读取：{text}")
    stored = {"token": upload["token"], "filename": shown, "ok": report["ok"], "shrink": report["shrink"],
              "n_errors": report["n_errors"]}
    return stored, _report_view(shown, report)


@callback(Output(LIST_CONFIRM_SHRINK, "value"), Input(ids.LIST_STORE, "data"), prevent_initial_call=True)
def clear_confirmation(_stored):
    """A new upload clears the confirmation box: a confirmation holds for the file it was given for."""
    return []


def _date(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        raise InputError(f"生效日期应为 YYYY-MM-DD，收到 {text!r}") from None


def _changes_view(report: dict):
    if not report.get("previous"):
        return html.P("数据库中尚无现行清单版本，无需对比。", className="muted", id=LIST_CHANGES)
    items = [html.Li(c["text"] + (f"（减少 {c['drop']:.0%}）" if c["drop"] > 0 else ""),
                     className="error" if c["over"] else None) for c in report["changes"]]
    return html.Div([html.P(f"与现行版本“{report['previous']}”相比：")] + [html.Ul(items)], id=LIST_CHANGES)


def _report_view(filename: str | None, report: dict) -> html.Div:
    head = (f"{filename}：{report['n_enterprises']} 家企业、{report['n_lines']} 条生产线、"
            f"{report['n_measures']} 条措施；{report['n_errors']} 个错误、{report['n_warnings']} 个警告。")
    if report["n_enterprises"] == 0:
        text, cls = "清单中没有任何企业（空模板？），不能导入；文件已删除。", "error"
    elif report["ok"]:
        text, cls = "校验通过，可以导入。", "ok"
    elif report.get("shrink"):
        text, cls = (f"与现行版本相比删减超过 {report['max_shrink']:.0%}（见下）；如确属调整，请在第3步勾选“确认删减”后导入。",
                     "error")
    else:
        text, cls = "存在错误，不能导入；文件已删除，请修改后重新上传。", "error"
    verdict = html.P(text, className=cls, id="list-verdict")
    problems = report["problems"]
    table = dash_table.DataTable(problems.to_dict("records"), [{"name": c, "id": c} for c in problems.columns],
                                 page_size=15, **table_style(numeric=("行",), whiteSpace="normal"),
                                 style_data_conditional=[{"if": {"filter_query": "{严重性} = 错误"},
                                                          "color": "#b00020"}]) if len(problems) else None
    return html.Div([html.P(head), verdict, _changes_view(report), table])


@callback(
    Output(ids.LIST_RESULT, "children"),
    Input(ids.LIST_IMPORT, "n_clicks"),
    Input(ids.LIST_REJECT, "n_clicks"),
    State(ids.LIST_STORE, "data"),
    State(ids.LIST_VERSION_NAME, "value"),
    State(ids.LIST_EFFECTIVE, "value"),
    State(LIST_CONFIRM_SHRINK, "value"),
    prevent_initial_call=True,
)
def import_or_reject(n_import, n_reject, stored: dict | None, version_name: str | None, effective: str | None,
                     confirm: list | None = None):
    """Import the uploaded list as a new version, or discard it (list-admin only); a large drop against
    the version in force is imported only if ``confirm`` (the box) came with this request."""
    trigger = triggered_id(ids.LIST_IMPORT if n_import else ids.LIST_REJECT)
    try:
        user = auth.require_role(*LIST_ROLES)
        if not stored:
            raise InputError("请先上传清单文件")
        if trigger == ids.LIST_REJECT:
            uploads.discard_upload(stored["token"])
            return html.Span(f"已退回 {stored.get('filename')}，未导入。", className="muted")
        if not stored.get("ok") and not stored.get("shrink"):  # the file's errors come before the form's
            raise InputError(f"{stored.get('filename')} 有 {stored.get('n_errors', '')} 个错误（见第2步校验报告），"
                             "不能导入；请修改后重新上传")
        if not (version_name or "").strip():
            raise InputError("请填写版本名称")
        day = _date(effective)
        if day is None:
            raise InputError("请填写生效日期")
        summary = uploads.import_upload(stored["token"], version_name.strip(), day, user=user.name,
                                     allow_shrink="confirm" in (confirm or []), filename=stored.get("filename"))
    except (PermissionError, ValueError, KeyError) as exc:
        text = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        return html.Span(f"未导入：{text}", className="error")
    return html.Span(summary, className="ok", id="list-imported")
