"""Chinese wording of official outputs: punctuation and the labels of audit records.

Texts built by the library (reasons, rule descriptions, data warnings) are written with half-width
punctuation; :func:`zh_punct` gives them the full-width punctuation of Chinese official documents
(the bulletin, notices, pages). The label tables render the audit's English keys (actions, statuses,
roles, levels) in Chinese for pages and documents; the database and the CLI keep the keys.
"""
from __future__ import annotations

import re

_CJK = "\u3000-\u303f\u3400-\u9fff\uff00-\uffef"
_PAREN = re.compile(r"(?<![A-Za-z])\(([^()]*)\)")
_GLOSS = re.compile(r"\s*\((?:if|a uniform)\b[^()]*\)\s*$")

#: Audit actions.
ACTION_LABELS: dict[str, str] = {"draft": "草拟", "issue": "发布", "upgrade": "升级", "downgrade": "降级",
                                 "lift": "解除", "cancel": "撤销", "approve": "审批", "sign": "签批",
                                 "edit": "修改", "notice": "省级通知"}

#: Warning statuses.
STATUS_LABELS: dict[str, str] = {"draft": "草稿", "issued": "已发布", "lifted": "已解除", "cancelled": "已撤销"}

#: How a recommendation's probabilities were computed (``Recommendation.probability_method``).
PROBABILITY_METHODS: dict[str, str] = {
    "calibrated": "校准概率（情景成员按规则定级，验证期保序回归校准）", "scenarios": "情景成员占比",
    "comonotonic": "由分位数构造的同秩伪成员占比", "deterministic": "单一预报（0 或 1）"}


def zh_punct(text: str, signs: bool = False) -> str:
    """Text with Chinese punctuation for pages and official documents.

    Half-width commas, colons and semicolons become full-width (not inside numbers or times such as
    ``1,000`` or ``04:35``), parentheses around or after Chinese text full-width (not the ``P(…)`` of a
    probability), and the English gloss at the end of a sensitivity line is left out. With ``signs``
    (official documents), ``>=``/``<=``/``>``/``<`` become ``≥ ≤ ＞ ＜``.
    """
    text = _GLOSS.sub("", str(text))
    text = re.sub(r",(?!\d)|(?<!\d),", "，", text)
    text = re.sub(r":(?!\d)|(?<!\d):", "：", text).replace(";", "；")
    if signs:
        text = text.replace(">=", "≥").replace("<=", "≤").replace(">", "＞").replace("<", "＜")

    def full(m: re.Match) -> str:
        before = m.string[m.start() - 1] if m.start() else ""
        chinese = re.search(f"[{_CJK}]", m.group(1)) or (before and re.match(f"[{_CJK}]", before))
        return f"（{m.group(1)}）" if chinese else m.group(0)

    prev = None
    while prev != text:  # innermost first: 标准(2024) inside (…:…)
        prev, text = text, _PAREN.sub(full, text)
    return text


def action_label(action: str | None) -> str:
    """Chinese name of an audit action (``issue`` → 发布); unknown keys as given."""
    return ACTION_LABELS.get(str(action or ""), str(action or ""))


def status_label(status: str | None) -> str:
    """Chinese name of a warning status (``issued`` → 已发布); unknown keys as given."""
    return STATUS_LABELS.get(str(status or ""), str(status or ""))


def role_label(role: str | None) -> str:
    """Chinese name of a role (``commander`` → 应急指挥, from :class:`airwarn.core.vocab.Role`)."""
    from airwarn.core.vocab import Role

    try:
        return Role.parse(role).label
    except (KeyError, ValueError):
        return str(role or "")


def level_label(level: str | None, short: bool = True) -> str:
    """Chinese name of a warning level key: ``yellow`` → 黄色 (``short``) or 黄色预警; ``""`` for none."""
    from airwarn.core.vocab import WarningLevel

    if not level:
        return ""
    try:
        lv = WarningLevel.parse(level)
    except (KeyError, ValueError):
        return str(level)
    return (lv.label[:2] if short and lv != WarningLevel.NONE else lv.label)


def percent_text(value) -> str:
    """A share as a whole percentage for official texts and pages: ``0.549`` → ``55%``; a tiny negative
    share reads ``0%`` (never ``-0%``); missing or not a number → ``—``.

    >>> [percent_text(v) for v in (0.549, -0.004, -0.03, None, float("nan"), "x")]
    ['55%', '0%', '-3%', '—', '—', '—']
    """
    try:
        f = float(value)
    except (TypeError, ValueError):
        return "—"
    return f"{round(f * 100)}%" if f == f and abs(f) != float("inf") else "—"
