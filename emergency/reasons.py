"""The Chinese text of a warning recommendation, rendered from its structured details.

The engine (:mod:`emergency.engine`) decides and records what it decided on as English-keyed
records: ``Recommendation.reason_details`` (dicts with a ``code`` naming the kind of record and the
numbers, dates and level keys it is about), the data warnings' records and the sensitivity fields.
This module is the one place that writes them as Chinese sentences; the engine holds no Chinese text.

Codes of ``reason_details`` and what each renders (none renders nothing):

=========================  =================================================================
``level.<level>``          the level and period of the first episode, with the rule set's condition
``<level>.<condition>``    a condition of the rules that the median forecast meets (a trigger)
``episode.upgrade``        the level steps inside the episode
``episode.merged``         episodes merged across a short gap
``episode.later``          a later episode of the series
``lifting.confirmed``      the day after which the warning can be lifted
``lifting.open``           the forecast does not show the lifting condition
``by_pollutant.<key>``     the days left out of the colour warnings and their advice
``by_pollutant.unknown``   (none: the forecast does not say which pollutant leads)
``temporary_measures``     below yellow, the temporary-measures condition is met
``no_warning``             no condition met
``regional_minimum``       the level raised to a provincial regional warning
``regional_minimum.met``   (none: the level already reaches the regional warning)
``decision.median``        why the level comes from the median series
``decision.probability``   the calibrated probability decision: conclusion, basis, missing issue-day AQI
``outlook``                a higher level likely later in the horizon
``probability.advisory``   a higher level than the median's, likely in the horizon
=========================  =================================================================

The punctuation is the engine's (ASCII ``:``, ``,``, ``(`` in most sentences, full-width in the
by-pollutant advice); official documents convert it (:func:`airwarn.core.zh.zh_punct` in
:mod:`emergency.bulletin`).
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping

from airwarn.core.vocab import POLLUTANT_LABELS, WarningLevel

__all__ = ["render_reasons", "reason_sentences", "why_not_text", "data_warning_text", "sensitivity_text",
           "shift_text", "threshold_text", "colour_label"]


def _label(key: str) -> str:
    """Chinese label of a level key (``"orange"`` → ``橙色预警``)."""
    return WarningLevel.parse(key).label


def threshold_text(p: float) -> str:
    """A decision threshold as written in the reasons: up to three decimals, no trailing zeros (0.125, 0.3)."""
    return f"{p:.3f}".rstrip("0").rstrip(".")


def colour_label(rules) -> str:
    """The pollutants that start a colour warning under ``rules`` (``PM2.5``), joined by ``、``."""
    return "、".join(POLLUTANT_LABELS.get(p, p) for p in (rules.colour_pollutants or ()))


def _values(dates: Iterable[str], values: Iterable[float]) -> str:
    return "、".join(f"{d} AQI {v:g}" for d, v in zip(dates, values))


# ------------------------------------------------------------------------------------ one per code
def _level(d, ctx):
    yield (f"预测{ctx['city']}{d['start']}至{d['end']}达到{_label(d['level'])}启动条件"
           f"({ctx['rules'].title}:{d['condition']})")


def _trigger(d, ctx):
    yield f"满足{d['condition']}:{_values(d['dates'], d['values'])}"


def _upgrade(d, ctx):
    chain = "→".join(f"{day}起{_label(key)}" for day, key in d["steps"])
    yield f"过程中级别升级({chain}),整个过程按较高级别{_label(d['level'])}执行"


def _merged(d, ctx):
    yield f"两次过程间隔不足{d['gap_shorter_than_hours']:g}小时({'、'.join(d['gap'])}),合并为一次过程"


def _later(d, ctx):
    yield f"另预测{d['start']}至{d['end']}出现{_label(d['level'])}过程"


def _lifting_confirmed(d, ctx):
    yield f"预计{d['after']}后AQI低于黄色预警启动条件且持续≥{d['hours']:g}小时,届时可解除预警"


def _lifting_open(d, ctx):
    yield f"预报时段内未见AQI低于启动条件持续≥{d['hours']:g}小时,解除时间待后续会商"


def _by_pollutant(d, ctx):
    if "advice" not in d:  # by_pollutant.unknown: the forecast does not say which pollutant leads
        return
    rules = ctx["rules"]
    days = "、".join(f"{day} AQI {v:g}（首要污染物{'、'.join(POLLUTANT_LABELS.get(p, p) for p in pp.split(','))}）"
                    for day, v, pp in zip(d["dates"], d["values"], d["primary"]))
    yield (f"{days}：{d['advice']}（{rules.source}，颜色预警仅适用于以{colour_label(rules)}为首要"
           f"污染物的重污染过程）")


def _temporary(d, ctx):
    yield (f"未达黄色预警条件,但满足临时管控条件({d['condition']}):{_values(d['dates'], d['values'])};"
           f"可在上级部署下采取临时管控措施")


def _no_warning(d, ctx):
    if d.get("by_pollutant"):
        yield f"预报期内以{colour_label(ctx['rules'])}为首要污染物的日子未达到颜色预警启动条件，不启动颜色预警"
    elif d.get("max_aqi") is not None:
        yield f"预报期内未达到任何预警启动条件(最高AQI {d['max_aqi']:g})"
    else:
        yield "预报无有效AQI"


def _regional(d, ctx):
    to = _label(d["to"])
    yield f"省级区域预警要求不低于{to},按区域预警级别{to}执行(由{_label(d['from'])}上调)"


def _decision_median(d, ctx):
    yield f"决策依据:按中位数预报序列定级({d['why']})"


def _decision_probability(d, ctx):
    lo, hi = d["window_lead_days"]
    prob, thresholds = d["probability"], d["thresholds"]
    level = WarningLevel.parse(d["level"])
    if level > WarningLevel.NONE:
        yield (f"预测{ctx['city']}未来{lo}–{hi}天达到{level.label}启动条件的概率为{prob[level.key]:.2f},"
               f"不低于决策阈值{threshold_text(thresholds[level.key])},建议{d['start']}至{d['end']}启动{level.label}"
               f"({ctx['rules'].title}:{d['condition']})")
    else:
        yield f"预测{ctx['city']}未来{lo}–{hi}天各级预警启动条件的概率均低于决策阈值,暂不启动预警"
    basis = "、".join(f"P({_label(k)}条件)={prob[k]:.2f}{'≥' if prob[k] >= thresholds[k] else '<'}"
                     f"{threshold_text(thresholds[k])}" for k in prob)
    held = WarningLevel.parse(d.get("in_force", "none"))
    keep = held > WarningLevel.NONE and d["keep_ratio"] < 1
    yield (f"决策依据(未来{lo}–{hi}天,经验证期校准):{basis}"
           + (f";{held.label}持续中,按保持阈值(启动阈值的{d['keep_ratio']:.0%})判断" if keep else ""))
    if d.get("issue_aqi", 0.0) is None:
        yield "提示:预报文件未给出起报日实况AQI,跨起报日的持续过程可能被低估"


def _outlook(d, ctx):
    yield (f"展望:未来{d['horizon_days']}天内达到{_label(d['level'])}启动条件的概率为{d['probability']:.0%},"
           f"请后续会商关注")


def _advisory(d, ctx):
    yield (f"概率预报:预报期内达到{_label(d['level'])}启动条件的概率为{d['probability']:.0%},高于中位数预报给出的"
           f"{ctx['level'].label};建议会商重点研判,必要时提前预警")


def _nothing(d, ctx):
    return iter(())


_RENDER: dict[str, Callable[[Mapping[str, Any], dict], Iterable[str]]] = {
    "episode.upgrade": _upgrade, "episode.merged": _merged, "episode.later": _later,
    "lifting.confirmed": _lifting_confirmed, "lifting.open": _lifting_open,
    "temporary_measures": _temporary, "no_warning": _no_warning,
    "regional_minimum": _regional, "regional_minimum.met": _nothing,
    "decision.median": _decision_median, "decision.probability": _decision_probability,
    "outlook": _outlook, "probability.advisory": _advisory,
}
#: Codes with a variable second part: ``level.<level>``, ``by_pollutant.<key>``, ``<level>.<condition>``.
_RENDER_PREFIX = {"level": _level, "by_pollutant": _by_pollutant,
                  **{lvl.key: _trigger for lvl in WarningLevel if lvl > WarningLevel.NONE}}


def reason_sentences(detail: Mapping[str, Any], *, city: str, rules, level: WarningLevel) -> tuple[str, ...]:
    """The Chinese sentences of one reason record (none for a record only kept for the record).

    Parameters
    ----------
    detail : mapping
        One entry of ``Recommendation.reason_details`` (its ``code`` says which kind).
    city : str
        The recommendation's city.
    rules : RuleSet
        The rule set it was decided on (its ``title``, ``source`` and colour-warning pollutants).
    level : WarningLevel
        The recommended level (after a regional minimum).

    Raises
    ------
    UnknownNameError
        An unknown ``code``.
    """
    code = str(detail["code"])
    render = _RENDER.get(code) or _RENDER_PREFIX.get(code.split(".", 1)[0])
    if render is None:
        from airwarn.core.errors import UnknownNameError

        raise UnknownNameError(f"reason detail: expected a code of {sorted(_RENDER)} or "
                               f"{sorted(f'{p}.*' for p in _RENDER_PREFIX)}, got {code!r}")
    return tuple(render(detail, {"city": city, "rules": rules, "level": level}))


def render_reasons(details: Iterable[Mapping[str, Any]], *, city: str, rules, level: WarningLevel) -> tuple[str, ...]:
    """``Recommendation.reasons``: the sentences of every reason record, in order.

    Parameters are those of :func:`reason_sentences`, with all the records of a recommendation.

    Examples
    --------
    >>> from emergency.rules import load_rules
    >>> from airwarn.core.vocab import WarningLevel
    >>> render_reasons([{"code": "lifting.open", "hours": 36.0}], city="阳泉",
    ...                rules=load_rules("national-2024"), level=WarningLevel.YELLOW)
    ('预报时段内未见AQI低于启动条件持续≥36小时,解除时间待后续会商',)
    """
    out: list[str] = []
    for d in details:
        out += reason_sentences(d, city=city, rules=rules, level=level)
    return tuple(out)


# ------------------------------------------------------------------------------------ other texts
def why_not_text(why: Mapping[str, Any]) -> str:
    """Why the probability decision could not be used, from the engine's record (``code`` and names).

    Codes: ``hourly``, ``no_scenarios``, ``no_calibration``, ``calibration_missing`` and
    ``calibration_unreadable`` (with ``model``: the model folder's name), ``not_calibrated`` (with
    ``rules``: the rule set's name).
    """
    code = why["code"]
    if code == "hourly":
        return "逐小时序列不适用概率决策"
    if code == "no_scenarios":
        return "预报文件不含情景成员(aqi_scenario)"
    if code == "no_calibration":
        return "未提供模型的预警决策校准(warning_decision.json)"
    if code == "calibration_missing":
        return f"模型目录{why['model']}缺少预警决策校准,需重新训练模型"
    if code == "calibration_unreadable":
        return f"模型目录{why['model']}的预警决策校准文件无法读取,需重新训练模型"
    if code == "not_calibrated":
        return f"模型未对规则{why['rules']}校准预警决策"
    from airwarn.core.errors import UnknownNameError

    raise UnknownNameError(f"decision fallback: expected a code of hourly, no_scenarios, no_calibration, "
                           f"calibration_missing, calibration_unreadable, not_calibrated; got {code!r}")


def data_warning_text(d: Mapping[str, Any]) -> str:
    """One of ``Recommendation.data_warnings`` from its record.

    Codes: ``data.stale_observations`` (``city``, ``last_observed``, ``as_of`` ISO dates, ``age_days``)
    and ``data.decision_fallback`` (``why``: the record of :func:`why_not_text`).
    """
    code = d["code"]
    if code == "data.stale_observations":
        age = d["age_days"]
        return (f"数据提示:{d['city']}实况数据仅截至{d['last_observed']},距{d['as_of']}已{age}天,"
                f"预报缺少最近{age}天的实况,可信度下降;请核实监测数据接入后重新运行")
    if code == "data.decision_fallback":
        return f"数据提示:本次预警建议未能采用概率决策,改按中位数预报序列定级({why_not_text(d['why'])})"
    from airwarn.core.errors import UnknownNameError

    raise UnknownNameError(f"data warning: expected the code data.stale_observations or data.decision_fallback, "
                           f"got {code!r}")


def sensitivity_text(*, day: int, date: str, daily: bool, aqi_from: float, aqi_to: float,
                     level_to: WarningLevel) -> str:
    """A one-day change that changes the level (``Sensitivity.text``), Chinese then English.

    >>> sensitivity_text(day=0, date="2026-01-11", daily=True, aqi_from=120, aqi_to=151,
    ...                  level_to=WarningLevel.YELLOW).split(" (")[0]
    '若第1天(2026-01-11)AQI为151而非120,预警级别变为黄色预警'
    """
    label = f"第{day + 1}天({date})" if daily else date
    return (f"若{label}AQI为{aqi_to:g}而非{aqi_from:g},预警级别变为{level_to.label}"
            f" (if AQI on {date} were {aqi_to:g} instead of {aqi_from:g}, the level becomes {level_to.key})")


def shift_text(shift: float, level_to: WarningLevel) -> str:
    """A uniform shift of the series that changes the level (``Sensitivity.text``), Chinese then English."""
    return (f"若整个预报序列AQI{'上调' if shift > 0 else '下调'}{abs(shift):g},预警级别变为{level_to.label}"
            f" (a uniform shift of {shift:+g} AQI makes the level {level_to.key})")
