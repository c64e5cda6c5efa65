"""Two commanders on one warning through the real server (issue 14, break 16): the confirmation dialog
describes the state the commander decides on, the action carries that state's revision, and the
server refuses a stale one, saying in Chinese who changed the warning, when and to what."""
from __future__ import annotations

import json
import re

from tests.dashboard.test_server import Browser, demo_password

SECOND = ("zhao", "Second-chief-1")


def callback(browser: Browser, outputs: list[tuple[str, str]], inputs: list[tuple[str, str, object]],
             state: list[tuple[str, str, object]]) -> tuple[int, dict]:
    """POST one callback exactly as dash-renderer does; the status and the JSON body."""
    body = {
        "output": ".." + "...".join(f"{i}.{p}" for i, p in outputs) + "..",
        "outputs": [{"id": i, "property": p} for i, p in outputs],
        "inputs": [{"id": i, "property": p, "value": v} for i, p, v in inputs],
        "state": [{"id": i, "property": p, "value": v} for i, p, v in state],
        "changedPropIds": [f"{inputs[0][0]}.{inputs[0][1]}"],
    }
    status, text, _ = browser.request("/_dash-update-component", json.dumps(body).encode(),
                                      {"Content-Type": "application/json", "X-CSRFToken": browser.cookie("_csrf_token")})
    return status, json.loads(text) if text.strip().startswith("{") else {"text": text}


def confirm(browser: Browser, action: str, level: str) -> tuple[str, dict]:
    """Click 执行…: the dialog's text and the state kept for the action."""
    status, body = callback(browser, [("cmd-confirm", "message"), ("cmd-confirm", "displayed"), ("cmd-seen", "data")],
                            [("cmd-action-button", "n_clicks", 1)],
                            [("cmd-action", "value", action), ("cmd-action-level", "value", level)])
    assert status == 200, body
    return body["response"]["cmd-confirm"]["message"], body["response"]["cmd-seen"]["data"]


def perform(browser: Browser, action: str, level: str, seen) -> str:
    """Confirm the dialog: the text the page shows."""
    status, body = callback(browser, [("cmd-action-result", "children"), ("cmd-refresh", "data")],
                            [("cmd-confirm", "submit_n_clicks", 1)],
                            [("cmd-action", "value", action), ("cmd-action-level", "value", level),
                             ("cmd-action-reason", "value", "会商"), ("cmd-refresh", "data", 0),
                             ("cmd-seen", "data", seen)])
    assert status == 200, body
    return json.dumps(body["response"]["cmd-action-result"]["children"], ensure_ascii=False)


def _state(settings):
    from airwarn.core.db import get_engine
    from emergency import lifecycle as lc

    eng = get_engine(settings.db_url)
    return lc.active_warning(eng, settings.city), lc.audit_log(eng), lc.refusals(eng)


def test_break_16_a_lift_decided_on_the_old_revision_is_refused(live_server):
    """The first commander upgrades to red; the second lifts what they saw (orange) → refused, still red."""
    from airwarn.core import users
    from airwarn.core.db import get_engine, session_scope

    settings = live_server.settings
    with session_scope(get_engine(settings.db_url)) as s:
        users.add_user(s, SECOND[0], "commander", SECOND[1])
    first, second = Browser(live_server.url), Browser(live_server.url)
    assert first.sign_in("commander", demo_password(settings, "commander")) == 302
    assert second.sign_in(*SECOND) == 302

    message, seen = confirm(first, "issue", "orange")
    assert "发布 阳泉 橙色预警" in message and seen == {"id": None, "revision": None, "level": None}
    assert "已发布橙色预警" in perform(first, "issue", "orange", seen)

    # both see the orange warning at revision 2 and open the dialog
    message_2, seen_2 = confirm(second, "lift", "orange")
    assert seen_2["level"] == "orange" and seen_2["revision"] == 2
    assert "解除 阳泉 的橙色预警" in message_2 and "第 2 版" in message_2
    message_1, seen_1 = confirm(first, "upgrade", "red")
    assert "由橙色预警升级为红色预警" in message_1
    assert "已升级为红色预警" in perform(first, "upgrade", "red", seen_1)

    # the second confirms the lift the dialog described: refused, saying what changed
    shown = perform(second, "lift", "orange", seen_2)
    assert "操作被拒绝" in shown
    assert re.search(r"该预警已由 commander 于 \d\d:\d\d（北京时间）改为红色预警，请刷新后重新决定", shown), shown
    active, audit, refused = _state(settings)
    assert active is not None and active.level.key == "red" and active.revision == 3
    assert [a.action for a in audit] == ["issue", "upgrade"]
    assert [(r.user, r.role, r.action, r.warning_id) for r in refused] == [("zhao", "commander", "lift", active.id)]
    assert "changed since revision 2" in refused[0].reason

    # after a refresh the dialog describes red, and the lift decided on it goes through
    message_3, seen_3 = confirm(second, "lift", "red")
    assert "解除 阳泉 的红色预警" in message_3 and seen_3["revision"] == 3
    assert "已解除预警" in perform(second, "lift", "red", seen_3)
    assert _state(settings)[0] is None


def test_an_action_without_the_state_it_was_decided_on_is_refused(live_server):
    """A request that leaves out the kept state (an old page, a hand-made POST) changes nothing."""
    settings = live_server.settings
    commander = Browser(live_server.url)
    assert commander.sign_in("commander", demo_password(settings, "commander")) == 302
    _, seen = confirm(commander, "issue", "yellow")
    perform(commander, "issue", "yellow", seen)
    shown = perform(commander, "upgrade", "red", None)
    assert "缺少决定时的预警状态（版本），请刷新页面后重新操作。" in shown
    shown = perform(commander, "upgrade", "red", {"id": "x", "revision": None})
    assert "决定时的预警状态无效" in shown
    active, audit, refused = _state(settings)
    assert active.level.key == "yellow" and [a.action for a in audit] == ["issue"]
    assert [r.action for r in refused] == ["upgrade", "upgrade"]
