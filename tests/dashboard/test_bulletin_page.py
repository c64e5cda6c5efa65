"""The 公告编辑 page (issue 15: the bulletin is editable before sign-off, each edit audited), on the real app."""
from __future__ import annotations

from tests.dashboard.test_callbacks import _find, _texts, signed_in


def test_bulletin_page_edit_before_signoff_then_locked(fresh_env):
    from dashboard import ids
    from dashboard.app import create_app
    from emergency.edits import latest_edit

    app = create_app(fresh_env)  # before the pages are imported: Dash registers them
    from dashboard.pages import bulletin
    from dashboard.services import products, warnings as warning_service
    with signed_in(app, "commander"):
        page = bulletin.layout()
        assert "当前没有生效的预警" in _texts(page) and _find(page, ids.BUL_SAVE).disabled
        warning_service.warning_action("issue", "orange", user="commander", role="commander", reason="会商一致",
                                       seen=warning_service.warning_seen())
        page = bulletin.layout()
        text = _find(page, ids.BUL_TEXT).value
        assert "发布橙色预警" in text and "建议稿" not in text
        assert not _find(page, ids.BUL_SAVE).disabled and "待分管副市长批准" in _texts(page)
        assert "（北京时间）" in _texts(_find(page, "bul-signoff"))
        seen = _find(page, ids.BUL_SEEN).data
        edited = text.replace("发布橙色预警", "发布橙色预警（经市应急指挥部会商）", 1)
        ok, edits, seen2, header = bulletin.save(1, edited, "补充会商依据", seen)
        assert "已保存第 1 号修改稿" in _texts(ok) and "重新发布" in _texts(ok)
        assert len(edits) == 1 and edits[0]["修改人"] == "commander" and edits[0]["修改原因"] == "补充会商依据"
        assert "经市应急指挥部会商" in products.bulletin_html()  # the day's bulletin is the edit
        assert "第 1 号修改稿" in _texts(header)
    with signed_in(app, "viewer"):
        page = bulletin.layout()
        assert _find(page, ids.BUL_SAVE).disabled and "只有应急指挥可以修改公告" in _texts(page)
        refused, *_ = bulletin.save(1, "另一段文字", "", seen2)
        assert "未保存" in _texts(refused)
    with signed_in(app, "commander"):
        # a page shown before the upgrade (an older revision) is refused, not saved over the new level
        warning_service.warning_action("upgrade", "red", user="commander", role="commander",
                                       seen=warning_service.warning_seen())
        stale, *_ = bulletin.save(1, edited, "", seen2)
        assert "请刷新页面后重新修改" in _texts(stale)
        # the upgrade voids the earlier edit: the page shows the regenerated red bulletin
        page = bulletin.layout()
        assert "发布红色预警" in _find(page, ids.BUL_TEXT).value
    with signed_in(app, "mayor"):
        warning_service.warning_action("approve", "red", user="mayor", role="mayor",
                                       seen=warning_service.warning_seen())
    with signed_in(app, "commander"):
        page = bulletin.layout()
        assert _find(page, ids.BUL_SAVE).disabled and "本次签发已批准" in _texts(page)
        assert "已由 mayor（市长）" in _texts(page)
        locked, *_ = bulletin.save(1, "改动", "", _find(page, ids.BUL_SEEN).data)
        assert "本次签发已批准或预警已解除" in _texts(locked)
    from dashboard.services.context import engine

    eng = engine(fresh_env)
    active = warning_service.active_warning(fresh_env)
    assert latest_edit(eng, active["id"]) is None  # the only edit was of the orange step
    from emergency.verify import verify

    # the edit, the steps and the refusals made on the page are all in intact hash chains
    result = verify(eng)
    assert result.problems == () and result.rows == 3  # issue, upgrade, approve (the edit has its own chain)
