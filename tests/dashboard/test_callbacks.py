"""The page callbacks, called directly as plain functions inside a request context."""
from __future__ import annotations

import base64
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from airwarn.core.vocab import WarningLevel
from dashboard import auth, ids
from dashboard.services import context, lists, products, reductions, warnings as warning_service


@contextmanager
def signed_in(app, name: str | None):
    """A request context of ``app`` with ``name`` signed in (None: anonymous)."""
    with app.server.test_request_context("/"):
        if name is not None:
            with context.session() as s:
                auth.begin_session(s, s.scalars(select(auth.User).where(auth.User.name == name)).one())
        yield


def _find(component, wanted: str):
    """The component with id ``wanted`` inside a Dash component tree (None if absent)."""
    if isinstance(component, (list, tuple)):
        return next((f for c in component if (f := _find(c, wanted)) is not None), None)
    if getattr(component, "id", None) == wanted:
        return component
    children = getattr(component, "children", None)
    return _find(children, wanted) if children is not None and not isinstance(children, str) else None


def _texts(component) -> str:
    """All text inside a Dash component tree."""
    if component is None:
        return ""
    if isinstance(component, (str, int, float)):
        return str(component)
    if isinstance(component, (list, tuple)):
        return " ".join(_texts(c) for c in component)
    return _texts(getattr(component, "children", None))


def test_outlook_figures_use_the_official_level_colours(app):
    from dashboard.pages import consult
    from forecast.aqi import AQI_LEVELS

    with signed_in(app, "forecaster"):
        fan, prob, pollutants, summary = consult.update_outlook("阳泉", "2026-01-10")
        recent, recent_text = consult.update_recent("阳泉", "verify")
    band_colours = {shape.fillcolor for shape in fan.layout.shapes if shape.type == "rect"}
    assert band_colours == {lv.colour for lv in AQI_LEVELS.values() if lv.aqi_min < fan.layout.yaxis.range[1]}
    median = next(t for t in fan.data if t.name == "中位数")
    assert len(median.y) == 10 and max(median.y) > 200  # the synthetic episode
    assert [t.name for t in prob.data] == ["P(AQI>150)", "P(AQI>200)", "P(AQI>300)"]
    assert max(prob.data[1].y) > 50
    assert {"PM2.5", "PM10", "O3-8h"} <= {t.name for t in pollutants.data}
    assert any(t.name == "实况" and len(t.y) == 30 for t in recent.data)
    assert recent_text.startswith("近期 ") and "提前1天 RMSE" in recent_text and "持续性" in recent_text
    assert "阳泉" in summary


def test_outlook_refused_without_sign_in(app):
    from dashboard.pages import consult

    with signed_in(app, None), pytest.raises(PermissionError, match="请先登录"):
        consult.update_outlook("阳泉", "2026-01-10")


def test_map_is_offline_scatter_coloured_by_level(app):
    from dashboard.pages import consult

    with signed_in(app, "viewer"):
        fig = consult.update_map("2026-01-10", 3, "阳泉")
    assert {t.type for t in fig.data} == {"scatter"}  # no geo/mapbox traces: nothing fetched from the internet
    cities = list(fig.data[0].text)
    assert "阳泉" in cities and len(cities) == 8
    assert fig.data[0].marker.color[cities.index("阳泉")] == "#99004C"  # median AQI 220 on day 3: 重度污染


def test_hidden_tab_figures_wait_until_their_tab_is_shown(app):
    from dash.exceptions import PreventUpdate

    from dashboard.pages import consult

    with signed_in(app, "viewer"):
        for call in (lambda: consult.update_recent("阳泉", "outlook"),
                     lambda: consult.update_scorecard("rmse", "阳泉", "outlook"),
                     lambda: consult.update_map("2026-01-10", 3, "阳泉", "verify")):
            with pytest.raises(PreventUpdate):
                call()
        assert consult.update_scorecard("rmse", "阳泉", "verify").data  # shown: built
    with signed_in(app, None), pytest.raises(PermissionError):
        consult.update_recent("阳泉", "verify")


def test_scorecard_lines_per_model(app, env):
    from dashboard.pages import consult

    with signed_in(app, "viewer"):
        fig = consult.update_scorecard("rmse", "太原")  # no scorecard of its own: all cities
    assert [t.name for t in fig.data] == ["airwarn 模型", "持续性预报", "气候态"]
    assert list(fig.data[0].x) == list(range(1, 11))
    # the model's line carries its bootstrap interval and its advantage over both references
    ours = fig.data[0]
    iv = pd.read_csv(Path(env.model_dir) / "backtest_skill_intervals.csv")
    iv = iv[(iv["metric"] == "rmse") & (iv["reference"] == "persistence")].set_index("lead_day")
    np.testing.assert_allclose(np.asarray(ours.y) + np.asarray(ours.error_y.array), iv["airwarn_hi"], rtol=1e-6)
    np.testing.assert_allclose(np.asarray(ours.y) - np.asarray(ours.error_y.arrayminus), iv["airwarn_lo"],
                               rtol=1e-6)
    assert "较持续性预报优势" in ours.customdata[0] and "较气候态优势" in ours.customdata[0]
    assert "RMSE" in fig.layout.title.text
    with signed_in(app, "viewer"):
        bss = consult.update_scorecard("bss_200", "太原")
    assert bss.data[0].name == "airwarn 模型" and "BSS" in bss.data[0].customdata[0]
    assert "单城市" not in fig.layout.title.text


def test_scorecard_of_the_city_alone_when_the_backtest_scored_it(app, env):
    from dashboard.pages import consult

    with signed_in(app, "viewer"):
        fig = consult.update_scorecard("ts_200", "阳泉")
    assert "阳泉单城市回测" in fig.layout.title.text
    own = pd.read_csv(Path(env.model_dir) / "backtest_scores_by_city.csv")
    own = own[(own["city"] == "阳泉") & (own["metric"] == "ts_200")]
    for trace, model in zip(fig.data, ("airwarn", "persistence", "climatology")):
        want = own[own["model"] == model].sort_values("lead_day")["value"].to_numpy()
        np.testing.assert_allclose(np.asarray(trace.y, float), want)
    iv = pd.read_csv(Path(env.model_dir) / "backtest_skill_intervals_by_city.csv")
    iv = iv[(iv["metric"] == "ts_200") & (iv["reference"] == "persistence")].sort_values("lead_day")
    np.testing.assert_allclose(np.asarray(fig.data[0].y) + np.asarray(fig.data[0].error_y.array), iv["airwarn_hi"],
                               rtol=1e-6)


def test_scorecard_offers_the_scored_metrics_with_labels(app):
    """The metric list comes from the verification's own names (rmse, ts_200, …), RMSE first."""
    from dashboard.pages import consult

    with signed_in(app, "viewer"):
        page = consult.layout()
    dropdown = _find(page, ids.CONSULT_SCORE_METRIC)
    assert dropdown.value == "rmse"
    values = [o["value"] for o in dropdown.options]
    assert {"rmse", "ts_200", "bss_200", "crps"} <= set(values)
    assert all(o["label"] != o["value"] for o in dropdown.options)


def test_note_saved_by_forecaster_not_by_viewer(app):
    from dashboard.pages import consult

    with signed_in(app, "viewer"):
        refused = consult.save_note(1, "2026-01-10", "阳泉", "viewer text")
    assert "无权" in _texts(refused)
    with signed_in(app, "forecaster"):
        assert consult.load_note("2026-01-10", "阳泉") == ""
        assert "已保存" in _texts(consult.save_note(1, "2026-01-10", "阳泉", "静稳天气，建议橙色预警"))
        assert consult.load_note("2026-01-10", "阳泉") == "静稳天气，建议橙色预警"
        assert consult.load_note("2026-01-10", "太原") == ""


def test_recommendation_view(app):
    from dashboard.pages import command

    with signed_in(app, "viewer"):
        reco, active, history, _, audit, _, bulletin = command.show_status(0)
    text = _texts(reco)
    assert "橙色预警" in text and "II级响应" in text and "2026-01-12" in text
    with signed_in(app, "viewer"):
        p_orange = warning_service.recommendation().probability["orange"]
    assert f"P(橙色预警条件，未来1–3天)  {100 * p_orange:.0f}%" in text
    assert "当前无预警" in _texts(active)
    assert "预警信息" in bulletin


def test_viewer_cannot_issue_commander_can(fresh_env):
    from dashboard.app import create_app
    from dashboard.pages import command

    app = create_app(fresh_env)
    with signed_in(app, "viewer"):
        refused, refresh = command.perform_action(1, "issue", "orange", "test", 0)
        assert "操作被拒绝" in _texts(refused)
        assert warning_service.active_warning() is None
        assert warning_service.warning_history().empty
    with signed_in(app, "commander"):
        message = warning_service.describe_action("issue", "orange", "commander")
        assert "发布 阳泉 橙色预警（II级响应）" in message and "目标 20%" in message
        done, refresh = command.perform_action(1, "issue", "orange", "会商一致", 0)
        assert "已发布橙色预警" in _texts(done) and refresh == 1
        assert "公告与告知清单已按签发级别更新" in _texts(done)
        assert "建议稿" not in products.bulletin_html() and "签发：commander" in products.bulletin_html()
        active = warning_service.active_warning()
        assert active["level"] == WarningLevel.ORANGE and active["user"] == "commander"
        up, _ = command.perform_action(1, "upgrade", "red", "", 1, warning_service.warning_seen())
        assert "红色预警" in _texts(up)
        assert "发布红色预警" in products.bulletin_html()
        bad, _ = command.perform_action(1, "issue", "yellow", "", 2)
        assert "already has an active warning" in _texts(bad)
        lifted, _ = command.perform_action(1, "lift", "red", "好转", 2, warning_service.warning_seen())
        assert "已解除" in _texts(lifted)
        assert warning_service.active_warning() is None
        audit = warning_service.audit_log()
        assert list(audit["操作"]) == ["解除", "升级", "发布"]
        assert set(audit["用户"]) == {"commander"}


def test_reductions_against_targets(app):
    from dashboard.pages import command

    with signed_in(app, "viewer"):
        text, targets, groups = command.update_reductions("orange", "county", 0)
        summary, target, n, _ = reductions.reduction_summary("orange")
    assert targets.layout.shapes[0].y0 == pytest.approx(20.0)  # orange target 20 %
    bars = targets.data[0]
    assert list(bars.x) == ["SO2", "NOx", "颗粒物", "VOCs"]
    assert list(bars.y) == pytest.approx(list(100 * summary["ratio"]))
    # colours say met / not met
    assert [c == "#2e7d32" for c in bars.marker.color] == list(summary["met"])
    assert sorted(t.name for t in groups.data) == sorted(["SO2", "NOx", "颗粒物", "VOCs"])
    assert set(groups.data[0].x) <= {"城区", "矿区", "郊区", "平定县", "盂县", "高新区"}
    assert "未达标" in _texts(text) or "全部达标" in _texts(text)


def test_affected_table_holds_every_affected_enterprise_and_counts_the_filtered(app):
    """The table gets every affected enterprise of the level once and pages, filters and sorts them
    itself (filter_action native); the count follows the rows the table's filter leaves."""
    from dashboard.pages import command

    with signed_in(app, "viewer"):
        rows = command.table_rows("orange")
        count = command.table_count(None, "orange")
        n_all = int(count.split("共 ")[1].split(" ")[0])
        assert len(rows) == n_all > 15 and f"筛选后 {n_all} 家" in count
        assert {"credit_code", "county", "cut_so2"} <= set(rows[0])
        yu = [i for i, r in enumerate(rows) if r["county"] == "盂县"]
        assert yu and f"共 {n_all} 家企业，筛选后 {len(yu)} 家" in command.table_count(yu, "orange")


def test_affected_table_filters_and_sorts_natively(app):
    """Dash's DataTable evaluates its own filter grammar (盂县, >0.5 …): no parser of our own; the cut
    columns are numeric so that >0.5 compares numbers."""
    from dashboard.pages import command

    with signed_in(app, "commander"):
        page = command.layout()
    table = _find(page, command.ids.CMD_TABLE)
    assert (table.filter_action, table.sort_action, table.page_action) == ("native", "native", "native")
    types = {c["id"]: c["type"] for c in table.columns}
    assert types["cut_so2"] == "numeric" and types["county"] == "text"


def test_enterprise_lookup_by_credit_code_shows_measures(app):
    from dashboard.pages import enterprise
    from enterprise_list.lookup import find_enterprises, policy_sheet

    with signed_in(app, None):  # public page
        with context.session() as s:
            hit = find_enterprises(s, "焦化", limit=1)[0]
            sheet = policy_sheet(s, hit.credit_code, "orange")
        results, detail = enterprise.search(1, None, "orange", hit.credit_code)
    text = _texts(detail)
    assert results is None
    assert hit.name in text and "橙色预警" in text
    for line in sheet["lines"]:
        if line["measure"]:
            assert line["measure"]["text"] in text
    assert f"/sheet/{hit.credit_code}?level=orange" in str(detail)


def test_enterprise_search_by_name_lists_matches(app):
    from dashboard.pages import enterprise

    with signed_in(app, None):
        results, detail = enterprise.search(1, None, "today", "焦化")
        assert detail is None and "请选择" in _texts(results)
        results, detail = enterprise.search(1, None, "today", "不存在的企业名称XYZ")
        assert "未找到" in _texts(results)


def test_printable_sheet_route(app):
    client = app.server.test_client()
    with signed_in(app, None):
        code = lists.find_enterprises("焦化", limit=1)[0]["credit_code"]
    page = client.get(f"/sheet/{code}?level=red")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "一厂一策" in html and "红色预警" in html and code in html and "@media print" not in html
    assert client.get("/sheet/000000000000000000?level=red").status_code == 404
    assert client.get(f"/sheet/{code}?level=purple").status_code == 400


def _upload(path) -> str:
    return "data:application/octet-stream;base64," + base64.b64encode(path.read_bytes()).decode()


def test_list_upload_validate_import_and_reject(fresh_env, tmp_path):
    import openpyxl

    from dashboard.app import create_app
    from dashboard.pages import listadmin
    from enterprise_list.io import export_list

    app = create_app(fresh_env)
    good = tmp_path / "list.xlsx"
    export_list(context.engine(fresh_env), good)
    with signed_in(app, "commander"):
        stored, report = listadmin.receive_upload(_upload(good), "list.xlsx")
        assert stored is None and "无权" in _texts(report)
    with signed_in(app, "list-admin"):
        stored, report = listadmin.receive_upload(_upload(good), "list.xlsx")
        assert stored["ok"] and "校验通过" in _texts(report)
        result = listadmin.import_or_reject(1, None, stored, "2026年度第1次修订", "2026-01-05")
        assert "已导入" in _texts(result)
        assert "2026年度第1次修订" in set(lists.list_versions()["版本"])
        # a broken file: a credit code with a wrong check character
        wb = openpyxl.load_workbook(good)
        ws = wb.worksheets[0]
        for row in ws.iter_rows(min_row=1, max_row=10):
            for cell in row:
                if isinstance(cell.value, str) and len(cell.value) == 18 and cell.value.startswith("91"):
                    cell.value = cell.value[:-1] + ("0" if cell.value[-1] != "0" else "1")
                    break
            else:
                continue
            break
        bad = tmp_path / "bad.xlsx"
        wb.save(bad)
        stored, report = listadmin.receive_upload(_upload(bad), "bad.xlsx")
        assert stored["ok"] is False and "不能导入" in _texts(report)
        refused = listadmin.import_or_reject(2, None, stored, "坏版本", "2026-01-06")
        assert "未导入" in _texts(refused)
        assert "坏版本" not in set(lists.list_versions()["版本"])


def test_today_level_follows_the_active_warning(fresh_env):
    from dashboard.app import create_app
    from dashboard.pages import enterprise

    app = create_app(fresh_env)
    with signed_in(app, "commander"):
        assert warning_service.today_level() == WarningLevel.NONE
        warning_service.warning_action("issue", "yellow", user="commander", role="commander")
        code = lists.find_enterprises("焦化", limit=1)[0]["credit_code"]
        _, detail = enterprise.search(1, None, "today", code)
    assert "今日执行" in _texts(detail) and "黄色预警" in _texts(detail)


def test_model_line_names_training_and_calibration_periods(app):
    import json
    from pathlib import Path

    from dashboard.pages import consult

    card = json.loads((Path(__file__).resolve().parents[2] / "models" / "aqistudy-2016" / "card.json")
                      .read_text(encoding="utf-8"))
    text = consult._card_text(card)
    assert f"模型：训练期 {card['train_span'][0]} 至 {card['train_span'][1]} 的模型" in text
    assert "aqistudy" not in text  # the model's id is a folder name, not a word of the page
    assert f"概率校准期：{card['validation_span'][0]} – 2016-01-31" in text
    # the committed card now counts its held-out heavy days and says where the scorecard comes from
    assert f"AQI>200 的城市日 {card['validation_events']['200']:,} / " in text and "校准期偏清洁" not in text
    assert "训练期 2013-12-02 至 2015-01-31 的模型，样本外回测，28 个城市，起报日 2015-02-01 – 2016-01-31" in text
    assert "误差线为本系统预报评分的 95% 区间" in text and "显示其单城市评分" in text
    summer = dict(card, validation_events={"city_days": 22000, "150": 900, "200": 122, "300": 10,
                                           "clean_season": True})
    text = consult._card_text(summer)
    assert "AQI>200 的城市日 122 / 22,000" in text and "校准期偏清洁" in text
    assert consult._card_text({}) == ""


def test_stale_observations_are_shown_to_the_commander_and_the_forecaster(fresh_env):
    """A forecast whose city data stop three days before the issue day: the 指挥 page says so above
    the recommendation, the 会商 summary gives the last observed day."""
    import datetime as dt

    import xarray as xr

    from dashboard.app import create_app
    from tests.dashboard.dash_env import ISSUED

    app = create_app(fresh_env)
    from dashboard.pages import command, consult  # after the app: pages register with it

    nc = fresh_env.output_dir / ISSUED.isoformat() / "forecast.nc"
    with xr.open_dataset(nc) as ds:
        ds = ds.load()
    through = np.full((ds.sizes["city"], ds.sizes["issued"]), np.datetime64(ISSUED - dt.timedelta(days=3), "ns"))
    ds.assign(last_observed=(("city", "issued"), through)).to_netcdf(nc)
    with signed_in(app, "commander"):
        view = command._recommendation_view(warning_service.recommendation())
        text = _texts(view)
        assert f"实况数据仅截至{ISSUED - dt.timedelta(days=3)}" in text and "已3天" in text
        assert _find(view, "cmd-data-warnings") is not None
        summary = consult.update_outlook("阳泉", ISSUED.isoformat())[-1]
        assert f"实况截至 {ISSUED - dt.timedelta(days=3):%m-%d}" in summary
    with signed_in(app, "commander"):  # fresh data: no notice
        ds.assign(last_observed=(("city", "issued"), through + np.timedelta64(3, "D"))).to_netcdf(nc)
        assert _find(command._recommendation_view(warning_service.recommendation()), "cmd-data-warnings") is None


def test_every_app_registers_the_page_callbacks_itself(env):
    """Two apps in one process each get every page callback (create_app registers the pages' marked
    functions with app.callback, not through Dash's process-wide list), before any request."""
    from dashboard.app import create_app
    from dashboard.pages import command

    first, second = create_app(env), create_app(env)
    for app in (first, second):
        outputs = " ".join(app.callback_map)
        assert f"{ids.CMD_TABLE_COUNT}.children" in outputs and f"{ids.CONSULT_FAN}.figure" in outputs
        assert f"{ids.LIST_RESULT}.children" in outputs
    assert command.table_rows.__name__ == "table_rows"  # the page's function itself, callable by tests
