"""The 督查 panel of the 指挥 page (issue 17 item 6): the compliance check of the product day, for
signed-in roles only; the public enterprise page and an anonymous download show none of it.

The compliance files are written here for the demo environment's product day with the library's own
functions (:func:`emergency.compliance.assess_compliance`, ``achieved_reductions``, ``write_csv``,
:func:`emergency.compliance_report.compliance_report_html`) on synthetic power data made in the test
(as ``tests/emergency/test_compliance.py`` builds its cases).
"""
from __future__ import annotations

import datetime as dt
import re
from contextlib import contextmanager

import numpy as np
import pandas as pd
import pytest

from airwarn.core.errors import InputError
from airwarn.core.products import (COMPLIANCE_CSV, COMPLIANCE_REDUCTIONS_CSV, COMPLIANCE_REPORT_HTML,
                                   DOWNLOADABLE, product_path)
from tests.compliance_data import profile, series
from tests.dashboard.dash_env import ISSUED, build_env
from tests.dashboard.test_callbacks import _find, _texts, signed_in

START = dt.datetime(2026, 1, 15, 8, 0)  # the warning's start (Beijing); deadline 24 h later
END = dt.datetime(2026, 1, 17, 0, 0)    # one judged day: 2026-01-16
STEP = pd.Timedelta(minutes=15)
LATE = pd.Timestamp("2026-01-16 14:00")  # line F stops 6 h after its deadline




#: The synthetic lines' plants (credit-code shaped, not on the demo list) and line ids (生产线编号).
CODES = {x: f"91140300000000{i:04d}" for i, x in enumerate("ACDEF", 1)}
LINES = {x: f"{i}号线" for i, x in enumerate("ABCDEF", 1)}


def write_check(folder, code_b: str, county_b: str = ""):
    """Judge six synthetic lines and write the three compliance files into ``folder``.

    A stops (−95 %), B ignores its stop order (credit code ``code_b``, a plant of the demo list),
    C is limited by 50 % and falls 55 %, D's treatment meter stops while production runs, E has no
    data, F stops 6 h late: on 2026-01-16 A, C comply; B, D, F violate; E is unverifiable.
    """
    from emergency import compliance as cp
    from emergency.compliance_report import compliance_report_html

    t = pd.date_range(pd.Timestamp("2026-01-01"), pd.Timestamp(END) - STEP, freq=STEP)
    after = lambda when: np.asarray(t >= pd.Timestamp(when))  # noqa: E731
    frames = []
    kw = profile(t, seed=1)
    kw[after("2026-01-15 14:15")] *= 0.05
    frames.append(series(CODES["A"], LINES["A"], kw, t))
    frames.append(series(code_b, LINES["B"], profile(t, seed=2), t))
    kw = profile(t, seed=3)
    kw[after("2026-01-15 20:00")] *= 0.45
    frames.append(series(CODES["C"], LINES["C"], kw, t))
    kw = profile(t, seed=4)
    kw[after("2026-01-15 20:00")] *= 0.65
    frames.append(series(CODES["D"], LINES["D"], kw, t))
    tr = profile(t, level=200, seed=5)
    tr[after("2026-01-16 00:00")] *= 0.02
    frames.append(series(CODES["D"], LINES["D"], tr, t, "treatment"))
    kw = profile(t, seed=7)
    kw[after(LATE)] *= 0.02
    frames.append(series(CODES["F"], LINES["F"], kw, t))
    power = pd.concat(frames, ignore_index=True)
    obl = pd.DataFrame({
        "credit_code": [CODES["A"], code_b, CODES["C"], CODES["D"], CODES["E"], CODES["F"]],
        "line_id": [LINES[x] for x in "ABCDEF"],
        "enterprise": ["甲厂", "乙厂", "丙厂", "丁厂", "戊厂", "己厂"], "county": ["", county_b, "", "", "", ""],
        "industry": "焦化",
        "level": "orange", "kind": ["stop", "stop", "limit", "limit", "stop", "stop"],
        "required_cut": [1.0, 1.0, 0.5, 0.3, 1.0, 1.0], "execution_hours": np.nan,
        "measure": ["停产", "停产", "限产50%", "限产30%", "停产", "停产"],
        "planned_pm": [1.0, 2.0, 0.5, 0.3, 1.0, 1.0], "baseline_pm": [1.0, 2.0, 1.0, 1.0, 1.0, 1.0],
        "planned_so2": [0.5, 1.0, 0.2, 0.1, 0.4, 0.3], "baseline_so2": [0.5, 1.0, 0.4, 0.3, 0.4, 0.3]})
    res = cp.assess_compliance(power, obl, START, END)
    red = cp.achieved_reductions(res, targets={"pm": 0.2, "so2": 0.2}, totals={"pm": 20.0, "so2": 10.0})
    folder.mkdir(parents=True, exist_ok=True)
    res.write_csv(folder / COMPLIANCE_CSV)
    red.to_csv(folder / COMPLIANCE_REDUCTIONS_CSV, index=False)
    (folder / COMPLIANCE_REPORT_HTML).write_text(compliance_report_html(res, reductions=red), encoding="utf-8")
    return res, red


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    """A demo environment whose product day holds a compliance check; its app; B's credit code."""
    from dashboard.app import create_app
    from dashboard.services import lists

    settings = build_env(tmp_path_factory.mktemp("comp-env"))
    app = create_app(settings)
    with signed_in(app, None):
        hit = lists.find_enterprises("焦化", limit=1)[0]
    # B's county as the obligations carry it from the list in force (emergency.compliance.warning_obligations)
    res, red = write_check(settings.output_dir / ISSUED.isoformat(), hit["credit_code"], hit["county"])
    return settings, app, hit, res, red


@contextmanager
def _moved_away(settings):
    """The product day's compliance files moved aside for the block (restored afterwards)."""
    folder = settings.output_dir / ISSUED.isoformat()
    names = (COMPLIANCE_CSV, COMPLIANCE_REDUCTIONS_CSV, COMPLIANCE_REPORT_HTML)
    for n in names:
        (folder / n).rename(folder / f"{n}.away")
    try:
        yield
    finally:
        for n in names:
            (folder / f"{n}.away").rename(folder / n)


def test_library_case_is_as_designed(checked):
    *_, res, _ = checked
    got = dict(zip(res.lines["line_id"], res.lines["status"]))
    assert set(res.lines["date"]) == {dt.date(2026, 1, 16)}
    assert got == {LINES["A"]: "compliant", LINES["B"]: "violation", LINES["C"]: "compliant",
                   LINES["D"]: "violation", LINES["E"]: "unverifiable", LINES["F"]: "violation"}


def test_panel_shows_counts_violators_unverifiable_and_reductions(checked):
    from dashboard.pages import command

    settings, app, hit, res, red = checked
    with signed_in(app, "viewer"):
        summary, viol, unver, reds, fig, no_report, details = command.show_compliance(0)
    assert details is False
    text = _texts(summary)
    assert "核查日期 2026-01-16" in text and "合规 2、违规 3、无法核实 1" in text
    assert "未达到目标" in text or "达到各污染物目标" in text
    # the violators' table: B, D and F, with the line, measure, cuts, rule and the late switch-off time
    assert sorted(r["line_id"] for r in viol) == [LINES[x] for x in "BDF"]
    by_line = {x: r for r in viol for x in LINES if LINES[x] == r["line_id"]}
    b = by_line["B"]
    assert b["enterprise"] == "乙厂" and b["credit_code"] == hit["credit_code"]
    assert hit["county"] and b["county"] == hit["county"]  # from the list in force, through compliance.csv
    assert b["required_cut"] == "100%" and b["rule"] == "停产用电降幅" and "未达到要求" in b["reason"]
    assert by_line["D"]["rule"] == "治污设施用电" and by_line["D"]["measure"] == "限产30%"
    assert by_line["F"]["rule"] == "执行时限" and by_line["F"]["switch_off"] == LATE.strftime("%m-%d %H:%M")
    assert by_line["D"]["county"] == "—"  # not on the list: no county
    # the unverifiable line for site inspection
    assert [(r["enterprise"], r["line_id"], r["reason"]) for r in unver] == [("戊厂", LINES["E"], "无电量数据")]
    # planned against compliance-adjusted cuts per pollutant and the target
    rows = {r["pollutant"]: r for r in reds}
    assert set(rows) == {command.EMISSION_LABELS["pm"], command.EMISSION_LABELS["so2"]}
    pm = rows[command.EMISSION_LABELS["pm"]]
    day = red[(red["pollutant"] == "pm")].iloc[0]
    assert pm["planned"] == f"{day.planned:.2f}" and pm["adjusted"] == f"{day.adjusted:.2f}"
    assert pm["target"] == "20%" and pm["unverifiable_planned"] == "1.00" and pm["met"] in ("是", "否")
    assert float(pm["adjusted"]) < float(pm["planned"])  # violators count at their achieved cut
    names = [tr.name for tr in fig.data]
    assert names == ["计划", "核查后", "目标"]
    assert no_report is False


def _ids_in_order(component) -> list:
    """The ids of a component and everything inside it, in document order."""
    out = [getattr(component, "id", None)]
    children = getattr(component, "children", None)
    for c in children if isinstance(children, (list, tuple)) else [children] if children is not None else []:
        out += _ids_in_order(c) if hasattr(c, "children") or hasattr(c, "id") else []
    return out


def test_panel_layout_violators_before_unverifiable_and_signed_in_only(checked):
    from dashboard.pages import command
    from dashboard import ids

    settings, app, *_ = checked
    with signed_in(app, "commander"):
        page = command.layout()
    card = _find(page, "cmd-comp-card")
    assert card is not None and "督查" in _texts(card)
    order = _ids_in_order(card)
    assert order.index(ids.CMD_COMP_VIOLATORS) < order.index(ids.CMD_COMP_UNVERIFIABLE)
    assert _find(card, ids.CMD_COMP_DL_REPORT) is not None
    # below the reductions
    top = [getattr(c, "id", None) for c in page.children]
    assert top.index("cmd-comp-card") > [i for i, c in enumerate(page.children)
                                         if _find(c, ids.CMD_RED_SUMMARY) is not None][0]
    with signed_in(app, None):
        assert _find(command.layout(), "cmd-comp-card") is None
        with pytest.raises(PermissionError):
            command.show_compliance(0)


def test_report_download_for_signed_in_users_only(checked):
    from dashboard.pages import command

    settings, app, *_ = checked
    with signed_in(app, "viewer"):
        sent = command.download_compliance_report(1)
    assert sent["filename"] == COMPLIANCE_REPORT_HTML
    import base64
    body = base64.b64decode(sent["content"]).decode("utf-8") if sent.get("base64") else sent["content"]
    assert "督查日报" in body and "乙厂" in body
    with signed_in(app, None):
        with pytest.raises(PermissionError):
            command.download_compliance_report(1)
    assert {COMPLIANCE_CSV, COMPLIANCE_REDUCTIONS_CSV, COMPLIANCE_REPORT_HTML} <= set(DOWNLOADABLE)


def test_anonymous_download_request_is_refused_by_the_server(checked):
    """The download callback as the browser posts it, anonymous with a valid CSRF token: 403, no file."""
    import json

    settings, app, *_ = checked
    client = app.server.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    body = {"output": "cmd-comp-download.data", "outputs": {"id": "cmd-comp-download", "property": "data"},
            "inputs": [{"id": "cmd-comp-dl-report", "property": "n_clicks", "value": 1}],
            "changedPropIds": ["cmd-comp-dl-report.n_clicks"], "state": []}
    resp = client.post("/_dash-update-component", data=json.dumps(body),
                       headers={"Content-Type": "application/json", "X-CSRFToken": token})
    text = resp.get_data(as_text=True)
    assert resp.status_code == 403 and "请先登录" in json.loads(text)["error"]
    assert "督查日报" not in text and "乙厂" not in text


def test_public_enterprise_page_shows_no_compliance_data(checked):
    from dashboard.pages import enterprise

    settings, app, hit, *_ = checked
    with signed_in(app, None):
        results, detail = enterprise.search(1, None, "today", hit["credit_code"])
        text = _texts(enterprise.layout()) + _texts(results) + _texts(detail)
    assert hit["name"] in text  # the plant's public sheet is shown ...
    for word in ("督查", "违规", "合规", "无法核实", "落实情况", "用电量降幅", "compliance"):
        assert word not in text  # ... but nothing of its compliance check


def test_no_check_yet(checked):
    from dashboard.pages import command
    from dashboard.services import compliance

    settings, app, *_ = checked
    with _moved_away(settings), signed_in(app, "commander"):
        view = compliance.compliance_view()
        assert view["checked"] is False and view["day"] == ISSUED
        summary, viol, unver, reds, fig, no_report, details = command.show_compliance(0)
        with pytest.raises(FileNotFoundError):
            compliance.report_file()
    assert "尚未开展督查" in _texts(summary) and viol == unver == reds == [] and no_report is True
    assert "尚未开展督查" in str(fig.layout.annotations[0].text)
    assert details is True  # hidden: no empty tables under the line that says so


def test_malformed_file_is_a_chinese_input_error_naming_the_file(checked, tmp_path):
    from dashboard.pages import command
    from dashboard.services import compliance

    settings, app, *_ = checked
    folder = settings.output_dir / ISSUED.isoformat()
    good = product_path(settings.output_dir, ISSUED, COMPLIANCE_CSV)
    text = good.read_text(encoding="utf-8-sig")
    bad = tmp_path / COMPLIANCE_CSV
    bad.write_text(text.replace("violation", "violated", 1), encoding="utf-8")
    with pytest.raises(InputError, match=r"督查文件 .*compliance\.csv 第 2 行 “status”列：应为"):
        compliance.read_compliance(bad)
    bad.write_text(text.replace("achieved_cut", "cut", 1), encoding="utf-8")
    with pytest.raises(InputError, match=r"compliance\.csv 第 1 行：应为表头包含.*缺少 achieved_cut"):
        compliance.read_compliance(bad)
    # on the page: the message, not a crash
    with _moved_away(settings):
        (folder / COMPLIANCE_CSV).write_text("date,credit_code\n2026-01-16,x\n", encoding="utf-8")
        try:
            with signed_in(app, "commander"):
                summary, viol, *_ = command.show_compliance(0)
        finally:
            (folder / COMPLIANCE_CSV).unlink()
    assert "督查文件" in _texts(summary) and "缺少" in _texts(summary) and viol == []
    assert str(settings.output_dir) not in _texts(summary)  # the day and file name, not the server's path
