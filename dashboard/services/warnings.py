"""The city's warning as the pages show and change it: the recommendation made as the daily chain
makes it, the active warning with its sign-off state, the commander's actions (through
:mod:`emergency.lifecycle`, then the day's bulletin republished), the history, the audit log and the
provincial notices.

The recommendation is cached on the forecast file's stamp, the decision calibration's stamp, the
rules and the warning in force (:func:`recommendation`).
"""
from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

import numpy as np
import pandas as pd

from airwarn.core.dates import format_beijing, to_beijing, today_beijing
from airwarn.core.errors import InputError, UnknownNameError
from airwarn.core.settings import Settings
from airwarn.core.units import EMISSION
from airwarn.core.vocab import EMISSION_LABELS, WarningLevel
from airwarn.core.zh import STATUS_LABELS, action_label, level_label, role_label, status_label
from dashboard.services.context import engine, rules, settings, stamp
from dashboard.services.products import forecast_path, resolve_date
from dashboard.services.reductions import reduction_summary
from emergency import lifecycle
from emergency.areas import areas_for
from emergency.bulletin import rules_title
from emergency.daily import republish, warning_in_force
from emergency.decision import DECISION_FILE
from emergency.engine import assess
from emergency.notices import notice_of_warning, notices
from emergency.signoff import signoff_config, signoff_state

__all__ = ["recommendation", "rules_title", "decision_table", "decision_details", "active_warning",
           "province_notices", "warning_seen", "today_level", "today_level_key", "default_reduction_level",
           "describe_action", "warning_action", "warning_history", "audit_log", "ACTION_LABELS"]

#: What each action does, in the confirmation and the account of it.
ACTION_LABELS = {"issue": "发布", "upgrade": "升级为", "downgrade": "降级为", "lift": "解除", "approve": "批准"}
#: Column names of the times in the history and audit tables: Beijing time, labelled in the header.
_AT, _ISSUED_AT, _LIFTED_AT = (f"{c}（北京时间）" for c in ("时间", "发布时间", "解除时间"))


# --------------------------------------------------------------------------- the recommendation
@functools.lru_cache(maxsize=16)
def _assess(path: str, _stamp: tuple, city: str, rule_set: str, as_of: dt.date | None, model_dir: str,
            _calibration_stamp: tuple | None, in_force: str):
    return assess(path, rules(rule_set), city=city, as_of=as_of, calibration=model_dir, in_force=in_force)


def _in_force(city: str, day: dt.date, s: Settings) -> str:
    """Level key of the warning in force for the probability decision, as the daily chain reads it
    (:func:`emergency.daily.warning_in_force`: the active warning, else the previous day's recommended
    level); for another city than the configured one, that city's active warning."""
    if city == s.city:
        return warning_in_force(s, engine(s), day).key
    w = lifecycle.active_warning(engine(s), city)
    return w.level.key if w is not None else "none"


def recommendation(day: "dt.date | str | None" = None, city: str | None = None, s: Settings | None = None):
    """The warning recommendation (:class:`emergency.engine.Recommendation`) for a forecast, made as the
    daily chain makes it: with the model's decision calibration (``<model_dir>/warning_decision.json``)
    and the warning in force (:func:`_in_force`).

    Parameters
    ----------
    day : date, optional
        Issue date of the forecast (newest if None).
    city : str, optional
        Default: ``settings.city``.

    Raises
    ------
    FileNotFoundError
        If there is no forecast product.
    """
    s = s or settings()
    resolved, path = forecast_path(day, s)
    city = city or s.city
    cal = Path(s.model_dir) / DECISION_FILE
    return _assess(str(path), stamp(path), city, s.rules, resolved, str(s.model_dir),
                   stamp(cal) if cal.exists() else None, _in_force(city, resolved, s))


def decision_details(reco) -> dict | None:
    """The ``decision.probability`` entry of a recommendation's ``reason_details`` (None for the
    median decision)."""
    return next((dict(d) for d in getattr(reco, "reason_details", ()) if d.get("code") == "decision.probability"),
                None)


def decision_table(reco) -> pd.DataFrame:
    """The probability decision of a recommendation per level: ``level, label, window, horizon,
    threshold`` (calibrated P of the level's criteria in the decision window D+1 … D+3 and over
    D+1 … D+10, and p*_L in force), from its ``decision.probability`` details; empty for the median
    decision."""
    cols = ["level", "label", "window", "horizon", "threshold"]
    det = decision_details(reco)
    if det is None:
        return pd.DataFrame(columns=cols)
    rows = [{"level": k, "label": WarningLevel.parse(k).label, "window": float(det["probability"][k]),
             "horizon": float((det.get("outlook_probability") or {}).get(k, np.nan)),
             "threshold": float(det["thresholds"].get(k, np.nan))} for k in ("yellow", "orange", "red")]
    return pd.DataFrame(rows, columns=cols)


# --------------------------------------------------------------------------- the warning in force
def active_warning(s: Settings | None = None) -> dict | None:
    """The city's active warning as a dict (``id, level, start, end, user, revision, issued_at,
    signoff, province_notice``) or None."""
    s = s or settings()
    eng = engine(s)
    w = lifecycle.active_warning(eng, s.city, areas=areas_for(s))
    if w is None:
        return None
    state = signoff_state(lifecycle.audit_log(eng, warning_id=w.id), signoff_config(s.rules))
    return {"id": w.id, "level": w.level, "start": w.start, "end": w.end, "user": w.issued_by or w.created_by,
            "revision": w.revision, "issued_at": w.issued_at, "signoff": state,
            "province_notice": notice_of_warning(eng, w.id)}


def province_notices(s: Settings | None = None) -> list:
    """The city's provincial notices, newest first (:class:`emergency.notices.Notice`)."""
    s = s or settings()
    return list(reversed(notices(engine(s), s.city, areas=areas_for(s))))


def warning_seen(s: Settings | None = None) -> dict:
    """The city's warning as a commander sees it now, for the page's store (JSON): ``id``, ``revision``
    and ``level`` of the active warning (all None without one). An action carries it back to
    :func:`warning_action`, which refuses it if the warning changed since."""
    active = active_warning(s)
    if active is None:
        return {"id": None, "revision": None, "level": None}
    return {"id": active["id"], "revision": active["revision"], "level": active["level"].key}


def today_level(s: Settings | None = None) -> WarningLevel:
    """Level of the city's active warning (``WarningLevel.NONE`` without one)."""
    active = active_warning(s)
    return active["level"] if active else WarningLevel.NONE


def today_level_key(s: Settings | None = None) -> str:
    """``today_level().key``."""
    return today_level(s).key


def default_reduction_level(s: Settings | None = None) -> str:
    """Level to preview reductions at: the active warning's, else the recommended, else yellow."""
    s = s or settings()
    active = active_warning(s)
    if active:
        return active["level"].key
    reco = recommendation(s=s)
    return reco.level.key if reco.level != WarningLevel.NONE else WarningLevel.YELLOW.key


# --------------------------------------------------------------------------- actions
def describe_action(action: str, level: str, who: str, s: Settings | None = None, seen: dict | None = None) -> str:
    """What a warning action will do, for the confirmation dialog (plain text).

    ``seen`` is the state the text describes (:func:`warning_seen`; default: now); the page keeps it and
    the action carries it to :func:`warning_action`, which refuses the action if the warning changed since.

    Raises
    ------
    UnknownNameError
        Unknown action (the message lists the actions).
    """
    s = s or settings()
    if action not in ACTION_LABELS:
        raise UnknownNameError(f"unknown action {action!r}; valid actions are {list(ACTION_LABELS)}")
    seen = seen if seen is not None else warning_seen(s)
    active = WarningLevel.parse(seen["level"]) if seen.get("id") is not None else None
    version = (f"（依据：预警 #{seen['id']} 第 {seen['revision']} 版；确认前如被他人修改，操作将被拒绝）"
               if active is not None else "")
    lines = []
    if action == "approve":
        if active is None:
            return f"{s.city}当前没有生效的预警，无需签批。"
        lines.append(f"将以 {who} 的名义批准 {s.city} 的{active.label}（{active.response}）{version}。")
    elif action == "lift":
        if active is None:
            return f"{s.city}当前没有生效的预警，无需解除。"
        lines.append(f"将以 {who} 的名义解除 {s.city} 的{active.label}（{active.response}）{version}。")
        lines.append("全部企业停止执行应急减排措施。")
    else:
        lv = WarningLevel.parse(level)
        if action == "issue":
            lines.append(f"将以 {who} 的名义发布 {s.city} {lv.label}（{lv.response}）。")
            if active is not None:
                lines.append(f"注意：当前已有{active.label}生效，发布将被拒绝；请改用升级/降级。")
        else:
            now = active.label if active else "（当前无生效预警，操作将被拒绝）"
            lines.append(f"将以 {who} 的名义把 {s.city} 的预警由{now}{ACTION_LABELS[action]}{lv.label}"
                         f"（{lv.response}）{version}。")
        try:
            reco = recommendation(s=s)
            if reco.start:
                lines.append(f"系统建议：{reco.level.label}，{reco.start} 至 {reco.end}。")
        except FileNotFoundError:
            pass
        summary, target, n_ent, _version = reduction_summary(lv.key, s)
        cuts = "，".join(f"{EMISSION_LABELS[p]} {c:.2f} {EMISSION.text}（{100 * r:.1f}%）"
                        for p, c, r in zip(summary["pollutant"], summary["cut"], summary["ratio"]))
        lines.append(f"{n_ent} 家企业将执行{lv.label}措施，预计减排：{cuts}；目标 {100 * (target or 0):.0f}%。")
    lines.append("该操作将写入预警历史与审计日志。确定执行吗？")
    return "\n".join(lines)


def warning_action(action: str, level: str, *, user: str, role: str, reason: str = "",
                   s: Settings | None = None, seen: dict | None = None) -> str:
    """Issue, upgrade, downgrade, lift or approve the city's warning through :mod:`emergency.lifecycle`.

    The lifecycle functions check the role again (PermissionError unless allowed), and refuse a
    warning that changed since the state the commander decided on.

    Parameters
    ----------
    seen : dict, optional
        The state the decision was made on (:func:`warning_seen`, kept by the page since the
        confirmation dialog): upgrade, downgrade, lift and approve need it and act on that warning at
        that revision; for issue, a warning issued by someone else since is named as such.

    Returns
    -------
    str
        A Chinese one-line account of what was done.

    Raises
    ------
    PermissionError, ValueError
        Refused by the lifecycle (role, state, level), or the warning changed since ``seen`` (the
        message says in Chinese who changed it, when and to what). Every refusal is recorded.
    """
    s = s or settings()
    eng = engine(s)
    try:
        reco = recommendation(s=s)
    except FileNotFoundError:
        reco = None
    if action == "issue":
        start, end, rules_version = _issue_period(reco, s)
        try:
            w = lifecycle.issue(eng, user=user, role=role, area=s.city, level=WarningLevel.parse(level),
                                reason=reason, recommendation=reco, areas=areas_for(s), start=start, end=end,
                                rules_version=rules_version)
        except lifecycle.WarningConflictError:
            now = active_warning(s)
            if seen is None or seen.get("id") is not None or now is None:
                raise
            raise InputError(_changed_text(lifecycle.audit_log(eng, warning_id=now["id"])[-1])) from None
        done = f"已发布{w.level.label}（{w.level.response}），预警编号 #{w.id}"
    elif action in ("upgrade", "downgrade", "lift", "approve"):
        w = _step(action, level, user, role, reason, s, seen, reco)
        done = (f"已解除预警 #{w.id}" if action == "lift" else f"已批准预警 #{w.id}（{w.level.label}）"
                if action == "approve" else f"预警 #{w.id} 已{ACTION_LABELS[action]}{w.level.label}（{w.level.response}）")
    else:
        raise UnknownNameError(f"unknown action {action!r}; valid actions are {list(ACTION_LABELS)}")
    if action != "approve":
        done += _publish(w, s)
    return f"{done}；操作人 {user}。"


def _step(action: str, level: str, user: str, role: str, reason: str, s: Settings, seen: dict | None, reco):
    """Upgrade, downgrade, lift or approve the warning the commander saw (``seen``), at that revision."""
    eng = engine(s)
    lifecycle.check_role(action, user, role)
    if seen is None or seen.get("id") is None:
        now = active_warning(s)
        if seen is None:
            why = "缺少决定时的预警状态（版本），请刷新页面后重新操作。"
        elif now is not None:
            why = _changed_text(lifecycle.audit_log(eng, warning_id=now["id"])[-1])
        else:
            why = f"{s.city}当前没有生效的预警，无法{ACTION_LABELS[action].rstrip('为')}。"
        lifecycle.record_refusal(eng, action=action, user=user, role=role, reason=why, area=s.city,
                                 warning_id=now["id"] if now else None)
        raise InputError(why)
    try:
        wid, rev = int(seen["id"]), int(seen["revision"])
    except (TypeError, ValueError, KeyError):
        why = "决定时的预警状态无效，请刷新页面后重新操作。"
        lifecycle.record_refusal(eng, action=action, user=user, role=role, reason=f"{why} ({seen!r:.200})",
                                 area=s.city)
        raise InputError(why) from None
    try:
        if action == "lift":
            return lifecycle.lift(eng, wid, user=user, role=role, reason=reason, expected_revision=rev)
        if action == "approve":
            return lifecycle.approve(eng, wid, user=user, role=role, reason=reason, expected_revision=rev,
                                     config=signoff_config(s.rules))
        func = lifecycle.upgrade if action == "upgrade" else lifecycle.downgrade
        return func(eng, wid, WarningLevel.parse(level), user=user, role=role, reason=reason,
                    recommendation=reco, expected_revision=rev)
    except lifecycle.StaleRevisionError as exc:
        raise InputError(_changed_text(exc.last) if exc.last is not None else str(exc)) from None


def _changed_text(last) -> str:
    """Who changed the warning, when (Beijing time) and to what, from its audit record."""
    when = to_beijing(last.at).strftime("%H:%M")
    label = WarningLevel.parse(last.level_to).label
    what = {"lift": "解除", "cancel": "取消", "issue": f"发布{label}"}.get(last.action, f"改为{label}")
    return f"该预警已由 {last.user} 于 {when}（北京时间）{what}，请刷新后重新决定。"


def _issue_period(reco, s: Settings):
    """Start, end and rules of a warning issued on the page: the recommendation's period, else the
    decision window D+1 … D+3 of today (Beijing time); the rules of the settings when the
    recommendation has none. (A provincial notice in force sets the start instead: lifecycle.issue.)"""
    if reco is not None and getattr(reco, "start", None) and getattr(reco, "end", None):
        return reco.start, reco.end, None
    today = today_beijing()
    return today + dt.timedelta(days=1), today + dt.timedelta(days=3), rules(s.rules).version


def _publish(warning, s: Settings) -> str:
    """Republish the newest day's bulletin and notification list after a step: for the issued level,
    or, after a lift, the lift notice (解除通知) and the list marked 解除 (:func:`emergency.daily.republish`)."""
    day = resolve_date(None, s)
    if day is None:
        return "（无当日产品，公告未更新）"
    try:
        republish(s, warning, day)
    except (FileNotFoundError, UnknownNameError) as exc:
        return f"（公告未更新：{exc}）"
    if warning.status == "lifted":
        return "，已发布解除通知，告知清单已标注解除"
    return "，公告与告知清单已按签发级别更新"


# --------------------------------------------------------------------------- history and audit
def warning_history(s: Settings | None = None) -> pd.DataFrame:
    """The city's warnings, newest first, with Chinese column names."""
    s = s or settings()
    cols = ["编号", "级别", "状态", "开始", "结束", "发布人", _ISSUED_AT, "解除人", _LIFTED_AT]
    rows = [dict(zip(cols, (w.id, w.level.label, STATUS_LABELS.get(w.status, w.status), str(w.start or ""),
                            str(w.end or ""), w.issued_by or "", _fmt_dt(w.issued_at), w.lifted_by or "",
                            _fmt_dt(w.lifted_at))))
            for w in lifecycle.history(engine(s), s.city, areas=areas_for(s))]
    return pd.DataFrame(rows, columns=cols)


def audit_log(s: Settings | None = None) -> pd.DataFrame:
    """The city's audit log, newest first, with Chinese column names."""
    s = s or settings()
    rows = [{_AT: _fmt_dt(a.at), "用户": a.user, "角色": role_label(a.role), "操作": action_label(a.action),
             "预警": a.warning_id, "级别": _change(level_label(a.level_from), level_label(a.level_to)),
             "状态": _change(status_label(a.status_from), status_label(a.status_to)),
             "依据": a.reason or ""} for a in reversed(lifecycle.audit_log(engine(s), s.city, areas=areas_for(s)))]
    return pd.DataFrame(rows, columns=[_AT, "用户", "角色", "操作", "预警", "级别", "状态", "依据"])


def _change(a: str, b: str) -> str:
    """``黄色→橙色``; one side when the other is empty or both are the same."""
    return b if not a or a == b else (a if not b else f"{a}→{b}")


def _fmt_dt(t) -> str:
    """A stored (UTC) time in Beijing time, the table header carrying the label."""
    return format_beijing(t, label=False)
