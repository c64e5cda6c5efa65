"""The benefit panel of the 指挥 page (issue 19 item 1), beside the tonnes: PM2.5 with and without the
level's measures (band), P(AQI>200) with and without, heavy days avoided, the three levels side by
side, and the parameters not verified locally; for signed-in roles only.

Built on the shared demo-like environment (``tests/dashboard/dash_env.py``: the demo list, the
synthetic inventory of ``emergency.demo``, a forecast product with a 3-day episode for 阳泉).
"""
from __future__ import annotations

import pytest

from airwarn.core.errors import InputError
from tests.dashboard.dash_env import ISSUED
from tests.dashboard.test_callbacks import _find, _texts, signed_in


@pytest.fixture(scope="module")
def panel(app):
    from dashboard.pages import command

    with signed_in(app, "viewer"):
        return {lv: command.update_benefit(lv, 0) for lv in ("yellow", "orange", "red")}


def test_panel_sits_in_the_reductions_card(app):
    from dashboard import ids
    from dashboard.pages import command

    with signed_in(app, "commander"):
        page = command.layout()
    card = next(c for c in page.children if _find(c, ids.CMD_RED_SUMMARY) is not None)
    block = _find(card, "cmd-ben-card")
    assert block is not None and "重污染概率" in _texts(block)
    assert _find(block, command.BEN_TABLE) is not None and _find(block, command.BEN_LEVELS) is not None


def test_panel_shows_the_library_result(app, env, panel):
    from emergency.benefit import estimate_benefit
    from emergency.reductions import compute_reductions
    from airwarn.core.db import get_engine

    summary, rows, levels = panel["red"]
    red = compute_reductions(get_engine(env.db_url), "red", rules=env.rules)  # the list in force today
    want = estimate_benefit(env.output_dir / ISSUED.isoformat() / "forecast.nc", red, city=env.city)
    assert [r["date"] for r in rows] == [f"{d:%Y-%m-%d}" for d in want.days["date"]]
    for r, (_, w) in zip(rows, want.days.iterrows()):
        assert r["pm25_without"] == f"{w.pm25_without:.0f}" and r["pm25_with"] == f"{w.pm25_with_p50:.0f}"
        assert r["pm25_band"] == f"{w.pm25_with_p05:.0f}–{w.pm25_with_p95:.0f}"
        assert r["p_without"] == f"{round(100 * w.p_aqi_gt_200_without)}%"
        assert r["p_with"] == f"{round(100 * w.p_aqi_gt_200_with)}%"
    text = _texts(summary)
    assert f"{want.heavy_days_avoided:.2f} 天" in text and "红色预警措施" in text
    assert "参数未经本地验证：" in text and "本地排放贡献比例" in text and "滞后权重" in text
    assert "，" in text and "。" in text and "," not in text.replace("5%–95%", "")  # full-width punctuation
    # the episode day: heavy without the measures in about half the members, less with them
    episode = [r for r in rows if r["p_without"] not in ("0%",)]
    assert any(int(r["p_with"][:-1]) < int(r["p_without"][:-1]) for r in episode)


def test_panel_text_is_chinese(panel):
    from dashboard.pages import command
    from tests.test_chinese_outputs import english_words

    summary, rows, levels = panel["red"]
    texts = [_texts(summary), *(v for r in rows + levels for v in r.values()),
             *(n for _, n in command.BENEFIT_COLUMNS + command.BENEFIT_LEVEL_COLUMNS)]
    assert not [w for t in texts for w in english_words(t)]


def test_levels_side_by_side_and_stronger_measures_buy_more(panel):
    _, _, levels = panel["orange"]
    assert [r["label"] for r in levels] == ["黄色预警", "橙色预警", "红色预警"]
    avoided = [float(r["avoided"]) for r in levels]
    assert avoided == sorted(avoided) and avoided[-1] > 0
    with_p50 = [float(r["pm25_with"].split("（")[0]) for r in levels]
    assert with_p50 == sorted(with_p50, reverse=True)  # red leaves the least PM2.5
    assert levels == panel["red"][2]  # the same table whichever level is picked


def test_signed_in_only_and_errors_shown_in_chinese(app, monkeypatch):
    from dashboard.pages import command

    with signed_in(app, None):
        with pytest.raises(PermissionError):
            command.update_benefit("red", 0)

    def no_inventory(level, s=None):
        raise InputError("benefit: the list's cuts need the city's total emissions; no emission inventory is imported")

    monkeypatch.setattr(command.benefit_service, "benefit", no_inventory)
    with signed_in(app, "viewer"):
        summary, rows, levels = command.update_benefit("red", 0)
    assert rows == [] and levels == [] and _texts(summary).startswith("无法估算措施效益：")
