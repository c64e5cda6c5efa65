"""The bulletin of the warning in force as the 公告编辑 page edits it (before its sign-off, audited).

A commander may rewrite the issued warning's bulletin until the level step is signed off
(:func:`emergency.edits.edit_bulletin`: one append-only, hash-chained ``bulletin_edit`` row per
edit; the newest since the level step is what the products publish). :func:`bulletin_editor` gives
what the page shows: the warning, its sign-off state (the 2 h clock), the text in force (the newest
edit, else the published ``bulletin.txt`` of the newest product day), whether it may be edited now
and, if not, why (in Chinese), and the edit history. :func:`save_bulletin` saves an edit as the
signed-in commander, on the revision the page showed, and republishes the day's products; every
refusal is recorded by the library and answered here in Chinese.
"""
from __future__ import annotations

import pandas as pd

from airwarn.core.dates import format_beijing
from airwarn.core.errors import InputError, NotAuthorisedError, UnknownNameError
from airwarn.core.products import BULLETIN_TXT, product_path
from airwarn.core.settings import Settings
from dashboard.services.context import engine, settings
from dashboard.services.products import resolve_date
from emergency import lifecycle
from emergency.areas import areas_for
from emergency.audit import StaleRevisionError, WarningConflictError, audit_log
from emergency.daily import republish
from emergency.edits import EDIT_ROLES, bulletin_edits, edit_bulletin, latest_edit
from emergency.signoff import signoff_config, signoff_state

__all__ = ["EDIT_COLUMNS", "bulletin_editor", "save_bulletin"]

#: Columns of the edit history (Chinese, as the page shows them).
EDIT_COLUMNS = ("时间（北京时间）", "修改人", "预警版本", "修改原因", "文本摘要（SHA-256 前12位）")
_ROLE_NAMES = {"vice-mayor": "分管副市长", "mayor": "市长", "commander": "应急指挥"}


def _published_text(s: Settings) -> tuple[str, str | None]:
    """The published bulletin text of the newest product day, and that day (ISO), or ('', None)."""
    day = resolve_date(None, s)
    if day is None:
        return "", None
    path = product_path(s.output_dir, day, BULLETIN_TXT)
    try:
        return path.read_text(encoding="utf-8"), day.isoformat()
    except OSError:
        return "", day.isoformat()


def bulletin_editor(s: Settings | None = None) -> dict:
    """What the 公告编辑 page shows (module notes).

    Returns
    -------
    dict
        ``warning`` (None without an active warning, else ``id, level, level_label, start, end,
        revision``), ``signoff`` (a Chinese line, or ''), ``text`` (the text in force), ``source``
        (where it comes from), ``editable`` (bool), ``why`` (Chinese, when not editable), ``edits``
        (a frame of :data:`EDIT_COLUMNS`, newest first).
    """
    s = s or settings()
    eng = engine(s)
    empty = pd.DataFrame(columns=list(EDIT_COLUMNS))
    w = lifecycle.active_warning(eng, s.city, areas=areas_for(s))
    if w is None:
        return {"warning": None, "signoff": "", "text": "", "source": "", "editable": False, "edits": empty,
                "why": f"{s.city}当前没有生效的预警，无公告可编辑。"}
    info = {"id": w.id, "level": w.level.key, "level_label": w.level.label, "start": str(w.start or ""),
            "end": str(w.end or ""), "revision": w.revision}
    state = signoff_state(audit_log(eng, warning_id=w.id), signoff_config(s.rules))
    editable, why, line = True, "", ""
    if state is not None and state.approved:
        editable = False
        who = _ROLE_NAMES.get(state.approved_role, state.approved_role)
        line = f"已由 {state.approved_by}（{who}）于 {format_beijing(state.approved_at)} 批准。"
        why = "本次签发已批准，公告不可再修改；如需更改，请升级、降级或解除预警。"
    elif state is not None:
        roles = "、".join(_ROLE_NAMES.get(r, r) for r in state.required_roles)
        line = f"待{roles}批准，批准时限 {format_beijing(state.deadline)}。"
    edit = latest_edit(eng, w.id)
    if edit is not None:
        text, source = edit.text, f"第 {edit.id} 号修改稿（{edit.user}，{format_beijing(edit.at)}）"
    else:
        text, day = _published_text(s)
        source = f"{day} 已发布的公告" if day else "尚无已发布的公告"
    rows = [{EDIT_COLUMNS[0]: format_beijing(e.at, label=False), EDIT_COLUMNS[1]: e.user, EDIT_COLUMNS[2]: e.revision,
             EDIT_COLUMNS[3]: e.reason or "—", EDIT_COLUMNS[4]: e.after_hash[:12]}
            for e in sorted(bulletin_edits(eng, w.id), key=lambda e: e.id, reverse=True)]
    return {"warning": info, "signoff": line, "text": text, "source": source, "editable": editable, "why": why,
            "edits": pd.DataFrame(rows, columns=list(EDIT_COLUMNS)) if rows else empty}


def save_bulletin(text: str, reason: str, *, user: str, role: str, seen: dict | None,
                  s: Settings | None = None) -> str:
    """Save the edited text of the warning the page showed (``seen``: its id and revision), then republish.

    Returns
    -------
    str
        A Chinese line saying what was saved and republished.

    Raises
    ------
    InputError
        Refused (role, empty text, signed off, lifted, changed since the page was shown): the message is
        Chinese; the library recorded the refusal.
    """
    s = s or settings()
    eng = engine(s)
    if role not in EDIT_ROLES:
        lifecycle.record_refusal(eng, action="edit", user=user, role=role,
                                 reason=f"role {role!r} may not edit a bulletin", area=s.city)
        raise InputError("只有应急指挥可以修改公告。")
    try:
        wid, rev = int(seen["id"]), int(seen["revision"])
    except (TypeError, ValueError, KeyError):
        raise InputError("缺少页面显示时的预警状态（版本），请刷新页面后重新修改。") from None
    current, _ = _published_text(s)
    try:
        edit = edit_bulletin(eng, wid, text, user=user, role=role, expected_revision=rev, reason=reason,
                             config=signoff_config(s.rules), current_text=current or None)
    except StaleRevisionError as exc:
        last = exc.last
        who = f"{last.user} 于 {format_beijing(last.at)}" if last is not None else "他人"
        raise InputError(f"该预警已由 {who} 变更，请刷新页面后重新修改。") from None
    except WarningConflictError:
        raise InputError("本次签发已批准或预警已解除，公告不可再修改。") from None
    except NotAuthorisedError:
        raise InputError("只有应急指挥可以修改公告。") from None
    except UnknownNameError:
        raise InputError(f"预警 #{wid} 不存在，请刷新页面。") from None
    except InputError:
        raise InputError("公告内容为空，未保存。") from None
    w = lifecycle.get_warning(eng, wid)
    try:
        published = republish(s, w)
    except (FileNotFoundError, UnknownNameError):
        published = []
    tail = "，当日公告已按修改稿重新发布" if published else "（无当日产品，公告文件未更新）"
    return f"已保存第 {edit.id} 号修改稿（{format_beijing(edit.at)}，修改人 {user}）{tail}。"
