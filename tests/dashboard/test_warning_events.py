"""The warning decision and its verification on the pages: the decision basis (指挥), the calibrated
level probabilities (会商), the recorded backtest's event scorecard and timeline, the CMA scores, and
the live event score of the archive of daily recommendations."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd

from dashboard.services import events as event_service, scores as score_service, warnings as warning_service
from tests.dashboard.dash_env import BACKTEST_PERIOD, EVENTS_DATA, ISSUED, KEEP_RATIO, THRESHOLDS
from tests.dashboard.test_callbacks import _find, _texts, signed_in


def _rows(component) -> list[list[str]]:
    """The text of each body row of an html.Table (cells in order)."""
    body = next(c for c in component.children if type(c).__name__ == "Tbody")
    return [[_texts(td) for td in tr.children] for tr in body.children]


# --------------------------------------------------------------------------- the decision (指挥, 会商)
def test_pages_recommend_as_the_daily_chain_did(app, env):
    """warning_service.recommendation() uses the model's calibration and the warning in force, as `airwarn daily`:
    the same decision, level, period, probabilities and thresholds as the day's recommendation.json."""
    with signed_in(app, "viewer"):
        reco = warning_service.recommendation()
    daily = json.loads((env.output_dir / ISSUED.isoformat() / "recommendation.json").read_text(encoding="utf-8"))
    mine = reco.to_dict()
    assert reco.decision == "probability" and daily["decision"]["rule"] == "probability"
    for key in ("level", "start", "end", "probability", "decision"):
        assert mine[key] == daily[key], key
    assert reco.thresholds == THRESHOLDS


def test_command_states_the_decision_basis(app):
    from dashboard.pages import command

    with signed_in(app, "viewer"):
        reco = warning_service.recommendation()
        view, *_ = command.show_status(0)
    det = next(d for d in reco.reason_details if d["code"] == "decision.probability")
    basis = _find(view, "cmd-reco-basis")
    text = _texts(basis)
    assert "未来1–3天各级预警条件的校准概率与决策阈值" in text
    for key, label in (("yellow", "黄色"), ("orange", "橙色"), ("red", "红色")):
        p, t = det["probability"][key], det["thresholds"][key]
        line = _texts(_find(basis, f"cmd-basis-{key}"))
        t_text = f"{t:.3f}".rstrip("0").rstrip(".")
        assert line.startswith(f"P({label}预警条件) = {p:.2f} {'≥' if p >= t else '<'} {t_text}")
        assert line.endswith("达到") and (("未达到" in line) == (p < t))
    assert "P(橙色预警条件) = 0.80 ≥ 0.35" in text and "P(红色预警条件) = 0.18 < 0.3" in text
    assert "结论：橙色预警" in text and "起报日 2015-10-02 – 2016-01-31" in text
    # the probabilities read as what they are, and the reasons in Chinese punctuation
    assert f"P(橙色预警条件，未来1–3天)  {100 * reco.probability['orange']:.0f}%" in _texts(view)
    reasons = _texts(_find(view, "cmd-reco-reasons"))
    assert "（重点区域重污染天气预警分级标准（2024）：日AQI>200" in reasons and "," not in reasons


def test_a_warning_in_force_is_kept_at_the_keep_thresholds(fresh_env):
    """Once a warning is issued the page's recommendation is made with it in force (the daily chain's
    hysteresis), and the basis says the keep thresholds apply."""
    from dashboard.app import create_app
    from dashboard.pages import command

    app = create_app(fresh_env)
    with signed_in(app, "commander"):
        assert warning_service.recommendation().thresholds == THRESHOLDS
        warning_service.warning_action("issue", "orange", user="commander", role="commander")
        reco = warning_service.recommendation()
        text = _texts(_find(command.show_status(1)[0], "cmd-reco-basis"))
    assert reco.thresholds == {k: round(KEEP_RATIO * v, 4) for k, v in THRESHOLDS.items()}
    assert "橙色预警生效中：阈值取保持阈值（启动阈值的75%）" in text
    assert "P(黄色预警条件) = 0.88 ≥ 0.26" in text


def test_consult_shows_the_calibrated_level_probabilities(app, env):
    from dashboard.pages import consult

    with signed_in(app, "forecaster"):
        fig, text = consult.update_level_outlook("阳泉", ISSUED.isoformat())
    daily = json.loads((env.output_dir / ISSUED.isoformat() / "recommendation.json").read_text(encoding="utf-8"))
    window, horizon, thr = fig.data
    assert [t.type for t in fig.data] == ["bar", "bar", "scatter"]
    assert list(window.x) == ["黄色预警", "橙色预警", "红色预警"]
    keys = ("yellow", "orange", "red")
    np.testing.assert_allclose(window.y, [100 * daily["probability"][k] for k in keys], atol=0.01)
    np.testing.assert_allclose(horizon.y, [100 * daily["decision"]["outlook_probability"][k] for k in keys], atol=0.01)
    np.testing.assert_allclose(thr.y, [100 * daily["decision"]["thresholds"][k] for k in keys])
    assert "未来1–3天" in window.name and "未来10天" in horizon.name and "p*" in thr.name
    words = _texts(text)
    assert "阳泉 2026-01-10 起报的预警建议： 橙色预警" in words and "P(橙色预警条件) = 0.80 ≥ 0.35" in words
    assert "未来10天展望：P(黄色预警条件) = 0.88" in words


def test_without_a_calibration_the_pages_say_the_median_decides(env, tmp_path):
    """A model folder without warning_decision.json nor recorded events: the median decision is named
    and both pages say that no event backtest is recorded."""
    from dashboard.app import create_app
    from dashboard.pages import command, consult

    app = create_app(env.with_(model_dir=tmp_path / "bare-model"))
    with signed_in(app, "viewer"):
        reco = warning_service.recommendation()
        basis = _texts(_find(command.show_status(0)[0], "cmd-reco-basis"))
        fig, text = command.show_events(0)
        source, own, region, _live = consult.update_events("阳泉", "events")
        outlook_fig, outlook_text = consult.update_level_outlook("阳泉", ISSUED.isoformat())
    assert reco.decision == "median"
    assert basis == "决策依据：按中位数预报序列定级（模型目录bare-model缺少预警决策校准，需重新训练模型）。"
    assert "尚未记录预警事件回测" in text and not fig.data
    assert "尚未记录预警事件回测" in source and own is None and region is None
    assert "按中位数预报序列定级" in _texts(outlook_text) and not outlook_fig.data


# --------------------------------------------------------------------------- recorded backtest
def _fixture(name: str) -> pd.DataFrame:
    return pd.read_csv(EVENTS_DATA / f"{name}.csv")


def test_event_scorecard_of_the_city_and_the_region(app):
    from dashboard.pages import consult

    with signed_in(app, "viewer"):
        source, own, region, _ = consult.update_events("阳泉", "events")
    assert f"起报日 {BACKTEST_PERIOD[0]} – {BACKTEST_PERIOD[1]}" in source
    assert "训练期 2013-12-02 至 2015-01-31 的模型" in source and "28 个城市" in source
    assert "重点区域重污染天气预警分级标准（2024）" in source and "national-2024" not in source
    thead = _find(region, "consult-events-region-table").children[0]
    header = [_texts(th) for th in thead.children.children]
    assert header == ["指标", "本系统概率决策", "持续性", "中位数规则"]
    models = ("airwarn", "persistence", "median")
    # the region: every cell from event_scores.csv, ratios with their 95 % interval
    scores = _fixture("event_scores").set_index(["model", "metric"])
    rows = {r[0]: r[1:] for r in _rows(_find(region, "consult-events-region-table"))}
    for label, metric in (("命中率 POD", "pod"), ("空报率 FAR", "far"), ("临界成功指数 CSI", "csi"),
                          ("等级正确率", "level_right_share")):
        want = [f"{scores.loc[(m, metric), 'value']:.2f}（{scores.loc[(m, metric), 'lo']:.2f}–"
                f"{scores.loc[(m, metric), 'hi']:.2f}）" for m in models]
        assert rows[label] == want
    assert rows["命中率 POD"][0] == "0.73（0.62–0.83）" and rows["临界成功指数 CSI"][1] == "0.16（0.10–0.22）"
    assert rows["实况过程（次）"] == ["461"] * 3 and rows["命中"] == ["337", "107", "123"]
    assert rows["提前天数（中位数）"] == ["3", "3", "3"]
    assert "较持续性：POD +0.50（+0.40 至 +0.59）" in _texts(region) and "CSI +0.43" in _texts(region)
    # the city alone, from the by-city file (no intervals)
    by_city = _fixture("event_scores_by_city")
    by_city = by_city[by_city["city"] == "阳泉"].set_index(["model", "metric"])["value"]
    rows = {r[0]: r[1:] for r in _rows(_find(own, "consult-events-city-table"))}
    assert "阳泉（单城市）" in _texts(own)
    assert rows["命中率 POD"] == [f"{by_city[(m, 'pod')]:.2f}" for m in models] == ["0.60", "0.20", "0.00"]
    assert rows["临界成功指数 CSI"] == ["0.43", "0.15", "0.00"]
    assert rows["提前天数（中位数）"] == ["3", "3", "—"]  # the median rule hit nothing
    assert rows["空报"] == ["4", "3", "2"]


def test_a_city_outside_the_backtest_gets_the_region_only(app):
    from dashboard.pages import consult

    with signed_in(app, "viewer"):
        _, own, region, live = consult.update_events("晋中", "events")
    assert "晋中不在该回测的城市中" in _texts(own)
    assert _find(region, "consult-events-region-table") is not None
    assert "每日建议档案中没有晋中的建议" in _texts(live)


def test_command_timeline_of_the_backtest_events(app):
    from dashboard.pages import command

    events = _fixture("warning_events")
    mine = events[(events["city"] == "阳泉") & (events["decision"] == "probability")]
    with signed_in(app, "viewer"):
        fig, text = command.show_events(0)
    assert {t.type for t in fig.data} == {"bar"}
    by_name = {t.name: t for t in fig.data}
    counts = mine["kind"].value_counts()
    assert len(by_name["命中"].x) == counts["hit"] == 6 and len(by_name["漏报"].x) == counts["miss"] == 4
    assert len(by_name["空报"].x) == counts["false_alarm"] == 4
    assert len(by_name["建议预警（与实况过程重叠）"].x) == counts["run"]
    # each bar spans its episode (or its recommended period) day by day
    hits = mine[mine["kind"] == "hit"]
    assert list(by_name["命中"].base) == list(hits["observed_start"])
    days = (pd.to_datetime(hits["observed_end"]) - pd.to_datetime(hits["observed_start"])).dt.days + 1
    assert list(by_name["命中"].x) == list(days * 86400000.0)
    assert set(by_name["空报"].y) == {"系统建议预警"} and set(by_name["漏报"].y) == {"实况重污染过程"}
    assert "提前 3 天" in by_name["命中"].customdata[0]
    assert "训练期 2013-12-02 至 2015-01-31 的模型样本外回测，起报日 2015-02-01 – 2016-01-31，28 个城市" in text
    assert "aqistudy" not in text and "national-2024" not in text
    assert "阳泉实况重污染过程 10 次，命中 6（等级正确 6），漏报 4；建议预警 10 次，其中空报 4。" in text


# --------------------------------------------------------------------------- CMA scores
def test_cma_scores_beside_the_scorecard(app, env):
    from dashboard.pages import consult

    with signed_in(app, "viewer"):
        own = consult.update_cma("阳泉", "verify")
        region = consult.update_cma("太原", "verify")
    scores = pd.read_csv(Path(env.model_dir) / "backtest_scores_by_city.csv")
    scores = scores[scores["city"] == "阳泉"].set_index(["metric", "model", "lead_day"])["value"]
    table = _find(own, "consult-cma-table")
    rows = [r for r in table.children[1].children if r.className == "model-airwarn"]
    by_metric = {getattr(r, "data-metric"): [_texts(td) for td in r.children] for r in rows}
    level = by_metric["cma_level_score"]
    assert level[0] == "等级评分（中位数）" and level[1] == "airwarn 模型"
    assert level[2:] == [f"{scores[('cma_level_score', 'airwarn', k)]:.1f}" for k in (1, 2, 3)] + \
        [f"{scores[('cma_level_score_composite', 'airwarn', 3)]:.1f}"]
    accuracy = by_metric["level_accuracy_mode"]
    assert accuracy[2] == f"{100 * scores[('level_accuracy_mode', 'airwarn', 1)]:.1f}%" and accuracy[-1] == "—"
    assert "阳泉单城市回测" in _texts(own) and "回测全部城市合计" in _texts(region)
    assert "AQI数值评分" in _texts(own) and "24/48/72 h 综合（0.5/0.3/0.2）" in _texts(own)


def test_cma_scores_with_the_primary_pollutant_and_without_any(env, tmp_path):
    """The table takes whatever CMA metrics the scores file has (the primary-pollutant hit rate among
    them), and says so when it has none."""
    folder = tmp_path / "model"
    folder.mkdir()
    rows = [(lead, "primary_hit_rate", model, 0.8 - 0.1 * lead - (0.2 if model == "persistence" else 0))
            for lead in (1, 2, 3) for model in ("airwarn", "persistence")]
    rows += [(1, "rmse", "airwarn", 30.0), (3, "cma_aqi_score_composite", "airwarn", 88.25)]
    pd.DataFrame(rows, columns=["lead_day", "metric", "model", "value"]).to_csv(folder / "backtest_scores.csv",
                                                                                 index=False)
    table, scope = score_service.cma_scores("阳泉", env.with_(model_dir=folder))
    assert scope == "all"
    got = table.set_index(["metric", "model"])
    np.testing.assert_allclose(got.loc[("primary_hit_rate", "airwarn"), ["d1", "d2", "d3"]].astype(float),
                               [0.7, 0.6, 0.5])
    assert np.isnan(got.loc[("primary_hit_rate", "airwarn"), "composite"])
    assert got.loc[("cma_aqi_score", "airwarn"), "composite"] == 88.25
    assert ("primary_hit_rate", "climatology") not in got.index
    pd.DataFrame([(1, "rmse", "airwarn", 30.0)], columns=["lead_day", "metric", "model", "value"]).to_csv(
        folder / "backtest_scores.csv", index=False)
    assert score_service.cma_scores("阳泉", env.with_(model_dir=folder)) is None


# --------------------------------------------------------------------------- live event score
def _archive(settings, recs: dict[dt.date, tuple[str, str | None, str | None]], first: dt.date, last: dt.date):
    """One recommendation.json per product day (the pinned first keys), level none unless in ``recs``."""
    day = first
    while day <= last:
        level, start, end = recs.get(day, ("none", None, None))
        folder = settings.output_dir / day.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "recommendation.json").write_text(json.dumps(
            {"city": "阳泉", "level": level, "start": start, "end": end, "probability": {}}), encoding="utf-8")
        day += dt.timedelta(days=1)


def test_live_event_score_of_the_archive(env, tmp_path):
    """A month of archived recommendations against observations with an orange and a yellow episode:
    the orange one warned two days ahead (hit, level right), the yellow one not (miss), one yellow run
    over clean days (false alarm) and one whose period is not observed yet (pending)."""
    from dashboard.pages import consult
    from emergency.events import observed_episodes
    from emergency.rules import load_rules

    days = pd.date_range("2025-12-01", "2026-01-09")
    aqi = pd.Series(80.0, index=days)
    aqi[["2025-12-10", "2025-12-11"]] = 220.0   # orange: AQI > 200 for 48 h
    aqi[["2025-12-20", "2025-12-21"]] = 160.0   # yellow: AQI > 150 for 48 h
    obs = tmp_path / "obs.csv"
    pd.DataFrame({"city": "阳泉", "date": days.strftime("%Y-%m-%d"), "aqi": aqi.to_numpy(), "pm25": 50.0,
                  "pm10": 90.0, "so2": 20.0, "no2": 30.0, "co": 0.8, "o3": 60.0}).to_csv(obs, index=False)
    s = env.with_(output_dir=tmp_path / "products", observations=(obs,))
    episodes = observed_episodes(pd.DataFrame({"city": "阳泉", "date": days, "aqi": aqi.to_numpy()}),
                                 load_rules("national-2024"))
    assert [(str(e.start)[:10], int(e.level)) for e in episodes.itertuples()] == [("2025-12-10", 2),
                                                                                 ("2025-12-20", 1)]
    d = dt.date.fromisoformat
    _archive(s, {d("2025-12-08"): ("orange", "2025-12-10", "2025-12-11"),
                 d("2025-12-09"): ("orange", "2025-12-10", "2025-12-12"),
                 d("2025-12-28"): ("yellow", "2025-12-29", "2025-12-30"),
                 d("2026-01-08"): ("yellow", "2026-01-10", "2026-01-11")}, d("2025-12-01"), d("2026-01-09"))
    live = event_service.live_events("阳泉", s)
    assert live["first"] == d("2025-12-01") and live["last"] == d("2026-01-09") and live["n_days"] == 40
    assert live["observed_through"] == d("2026-01-09")
    assert live["counts"] == {"episodes": 2, "hits": 1, "misses": 1, "level_right": 1, "runs": 3,
                              "false_alarms": 1, "pending": 1}
    ev = live["events"].set_index("kind")
    assert ev.loc["hit", "lead_days"] == 2 and str(ev.loc["hit", "first_issued"])[:10] == "2025-12-08"
    assert str(ev.loc["false_alarm", "run_start"])[:10] == "2025-12-29"
    assert str(ev.loc["pending", "run_end"])[:10] == "2026-01-11"
    assert event_service.live_events("阳泉", s) is live  # cached on the files
    view = consult._live_view("阳泉", live)
    summary = _texts(_find(view, "consult-live-summary"))
    assert "阳泉每日建议 2025-12-01 – 2026-01-09（40 天），实况截至 2026-01-09：实况过程 2 次" in summary
    for words in ("命中 1", "（等级正确 1）", "漏报 1", "建议预警  3 次", "空报 1", "待定 1（建议时段尚无实况）"):
        assert words in summary, words
    kinds = [r[0] for r in _rows(_find(view, "consult-live-table"))]
    assert kinds == ["待定（实况未到）", "空报", "漏报", "命中", "建议（与过程重叠）"]  # newest first
    assert event_service.live_events("太原", s) is None


def test_chinese_punctuation_of_library_text():
    from dashboard.pages._common import zh_punct

    assert zh_punct("达到橙色预警(标准(2024):日AQI>200),建议启动;P(红色预警条件)=0.18<0.30") == \
        "达到橙色预警（标准（2024）：日AQI>200），建议启动；P(红色预警条件)=0.18<0.30"
    assert zh_punct("若第2天(2026-01-12)AQI为150而非190,预警级别变为黄色预警 (if AQI on 2026-01-12 were 150 "
                    "instead of 190, the level becomes yellow)") == "若第2天（2026-01-12）AQI为150而非190，预警级别变为黄色预警"
    assert zh_punct("2026-01-12T12:00 AQI 1,234") == "2026-01-12T12:00 AQI 1,234"
