"""The 总结评估 card of the 指挥 page: the evaluations ``airwarn evaluate`` wrote, one row per episode."""
from __future__ import annotations

from airwarn.core.products import evaluations_dir
from tests.dashboard.test_callbacks import _find, _texts
from tests.emergency.test_evaluation import synthetic  # noqa: F401  (the module's fixture: two evaluated episodes)


def test_card_lists_the_citys_evaluations_newest_first(settings, synthetic, tmp_path):  # noqa: F811
    from dashboard.app import create_app
    from emergency.evaluation_report import write_evaluation

    app = create_app(settings)
    from dashboard.pages import command
    from dashboard.services.evaluations import evaluation_rows

    with app.server.test_request_context("/"):
        assert "尚无评估结果" in _texts(command._evaluation_card())
    folder = evaluations_dir(settings.output_dir)
    for ev in synthetic["with"]:
        write_evaluation(ev, folder)
    (folder / "evaluation_broken.json").write_text("{not json", encoding="utf-8")
    rows = evaluation_rows(settings, city="示例市")
    assert [r["时段"] for r in rows if r["级别"]] == [f"{e.episode.start} 至 {e.episode.end}"
                                                    for e in sorted(synthetic["with"],
                                                                    key=lambda e: e.episode.start, reverse=True)]
    assert all(r["判定"] == "可检出的下降" and r["备注"] == "合成示例数据" for r in rows if r["级别"])
    assert any(r["备注"] == "文件无法读取" for r in rows)
    first = rows[0] if rows[0]["级别"] else rows[1]
    assert first["PM2.5 相对业务照常情景"].startswith("-") and first["级别"] == "红色预警"
    assert evaluation_rows(settings) == [r for r in rows if not r["级别"]]  # another city: only the unreadable file
    with app.server.test_request_context("/"):
        table = _find(command._evaluation_card(), "cmd-eval-table")
        # the settings' city (阳泉) has no evaluation of its own: only the unreadable file is named
        assert [r["备注"] for r in table.data] == ["文件无法读取"]
