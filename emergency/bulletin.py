"""The warning bulletin (预警信息): Chinese plain text and printable HTML.

The HTML comes from ``emergency/templates/bulletin.html`` (a :class:`string.Template`); AQI category
names and colours come from :data:`forecast.aqi.AQI_LEVELS`, warning colours from
:data:`airwarn.core.vocab.LEVEL_COLOURS`; health advice per AQI level from
``emergency/data/health_advice_hj633.csv``. The daily bulletin is the system's draft (建议稿): only a
commander issues a warning (:mod:`emergency.lifecycle`), and the bulletin then rewritten for it
(:func:`emergency.daily.publish_issued`) states the decided level, period and signer; the lift
notice (解除通知) is written when it is lifted. A commander's edit before sign-off
(:mod:`emergency.edits`) replaces the generated bulletin when republishing (:func:`apply_edit`).
"""
from __future__ import annotations

import csv
import html
from dataclasses import dataclass
from pathlib import Path, PurePath
from string import Template

import numpy as np

from airwarn.core.dates import beijing, format_beijing, to_beijing
from airwarn.core.errors import AirwarnError, InputError
from airwarn.core.vocab import EMISSION_LABELS, LEVEL_COLOURS, WarningLevel
from airwarn.core.zh import PROBABILITY_METHODS, zh_punct
from emergency.edits import BulletinEditRecord, latest_edit, normal_text
from emergency.engine import Recommendation
from emergency.reductions import Reductions
from emergency.rules import load_rules
from forecast.aqi import AQI_LEVELS, aqi_level

_HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class HealthAdvice:
    """Health effect and advice for one AQI level (1-6)."""

    level: int
    health_effect: str
    advice: str


def health_advice(file: str = "health_advice_hj633.csv") -> dict[int, HealthAdvice]:
    """Health advice per AQI level (1–6), from a package data file (``emergency/data/``): the bulletin's
    ``health_advice_hj633.csv`` by default; the public forecast reads ``health_advice_hj633-2026.csv``."""
    path = _HERE / "data" / file
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(line for line in fh if not line.startswith("#")))
    out = {}
    for i, r in enumerate(rows, start=1):
        if int(r["level"]) != i:
            raise InputError(f"{path}: data row {i}: expected level {i}, got {r['level']!r}")
        out[i] = HealthAdvice(i, r["health_effect"], r["advice"])
    return out


def _aqi_level(aqi: float):
    """The HJ 633 level record (category, colour) of one AQI value."""
    return AQI_LEVELS[int(aqi_level(aqi))]


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _zh(text: str) -> str:
    """Library text (reasons, rule descriptions) with the punctuation of an official document."""
    return zh_punct(text, signs=True)


def rules_title(rec: Recommendation) -> str:
    """The Chinese title of the recommendation's rule set (its ``title``), else its name."""
    try:
        return _zh(load_rules(rec.rules_name).title) if rec.rules_name else "—"
    except (AirwarnError, OSError):  # a rule file gone or changed since: the name is still the right reference
        return rec.rules_name


def sensitivity_text(s) -> str:
    """One sensitivity line in Chinese, from the fields of an :class:`emergency.engine.Sensitivity`.

    ``若第2天（2026-01-12）AQI为150而非190，预警级别变为黄色预警`` or
    ``若整个预报序列AQI上调15，预警级别变为橙色预警``.
    """
    if getattr(s, "shift", None) is not None:
        d = float(s.shift)
        return f"若整个预报序列AQI{'上调' if d > 0 else '下调'}{abs(d):g}，预警级别变为{s.level_to.label}"
    if getattr(s, "date", None) is None:
        return _zh(s.text)
    where = f"第{s.day + 1}天（{s.date}）" if s.day is not None and "T" not in str(s.date) else str(s.date)
    return f"若{where}AQI为{s.aqi_to:g}而非{s.aqi_from:g}，预警级别变为{s.level_to.label}"


def _measures_lines(red: Reductions | None) -> list[str]:
    if red is None:
        return ["未达预警条件，不启动应急减排措施。"]
    lines = [f"依据应急减排清单（{_zh(red.version)}），{red.level.label}期间涉及企业 {len(red.enterprises)} 家，"
             f"A级、A+级及引领性企业自主减排，保障类企业按保障负荷生产，未稳定达标企业全部停产。"]
    cuts = "，".join(f"{EMISSION_LABELS[t.pollutant]} {t.cut:.2f} 吨/天" for t in red.targets)
    lines.append(f"预计工业源日减排量：{cuts}。")
    if red.total is not None:
        parts = []
        for t in red.targets:
            verdict = "达到" if t.met else f"未达到（差 {t.shortfall:.2f} 吨/天）"
            parts.append(f"{EMISSION_LABELS[t.pollutant]} {_pct(t.ratio)}，{verdict}{_pct(t.target)}目标")
        lines.append("占全社会排放量比例：" + "；".join(parts) + "。")
    else:
        lines.append("未导入排放清单,无法核算减排比例。")
    return lines


def _title_and_closing(rec: Recommendation, issued) -> tuple[str, str]:
    """Title and closing sentence: the system's draft (建议稿), or the warning the command issued."""
    if issued is not None:
        return f"{rec.city}市重污染天气预警信息", "本预警经指挥部会商、指挥长签发发布。"
    return (f"{rec.city}市重污染天气预警信息（建议稿）",
            "本建议稿由系统生成，须经指挥部会商、指挥长签发后方可发布。")


def _day(rec: Recommendation, issued):
    """The bulletin's date: the Beijing-time day the warning was issued, else the product's issue day
    (so that the date and the signing time never contradict)."""
    when = to_beijing(getattr(issued, "issued_at", None)) if issued is not None else None
    return when.date() if when is not None else rec.issued


def _issued_text(issued) -> tuple[str, str]:
    """Conclusion and sign-off lines of an issued warning (a ``lifecycle.WarningState``)."""
    period = f"自{issued.start}起" if issued.start else "即日起"
    until = f"，预计持续至{issued.end}" if issued.end else ""
    when = f"，发布时间{beijing(issued.issued_at)}" if issued.issued_at else ""
    return (f"决定：{period}发布{issued.level.label}，启动{issued.level.response}{until}。",
            f"签发：{issued.issued_by or '—'}（预警编号 #{issued.id}{when}）。")


def bulletin_text(rec: Recommendation, reductions: Reductions | None = None, issuer: str | None = None,
                  issued=None) -> str:
    """The bulletin as Chinese plain text.

    Parameters
    ----------
    rec : Recommendation
    reductions : Reductions, optional
        Measures and cuts at the bulletin's level.
    issuer : str, optional
        Issuing body (default ``<city>市重污染天气应急指挥部``).
    issued : emergency.lifecycle.WarningState, optional
        The warning the command issued: the bulletin then states its level, period and signer
        instead of being the system's draft recommendation (建议稿).
    """
    issuer = issuer or f"{rec.city}市重污染天气应急指挥部"
    title, closing = _title_and_closing(rec, issued)
    out = [title, f"{issuer}  发布日期：{_day(rec, issued) or '—'}", ""]
    if issued is not None:
        out += list(_issued_text(issued))
        if issued.level != rec.level:
            out.append(f"（系统建议为{rec.level.label}，指挥部会商决定为{issued.level.label}。）")
    elif rec.level == WarningLevel.NONE:
        out.append("研判结论：预报期内未达到重污染天气预警启动条件，不发布预警。")
    else:
        lift = "预计届时可解除" if rec.lift_confirmed else "解除时间视后续会商确定"
        out.append(f"研判结论：建议自{rec.start}起发布{rec.level.label}，启动{rec.level.response}，"
                   f"预计持续至{rec.end}（约{rec.duration_days}天），{lift}。")
    out += ["", "一、预报与研判"]
    for d, v in zip(rec.dates, rec.aqi):
        if np.isfinite(v):
            out.append(f"  {d}  AQI {v:.0f}  {_aqi_level(v).category}")
    out.append(f"  达到预警条件的概率：黄色 {_pct(rec.probability['yellow'])}，橙色 {_pct(rec.probability['orange'])}，"
               f"红色 {_pct(rec.probability['red'])}（{_method(rec)}）。")
    out += [f"  {_zh(r)}" for r in _public_reasons(rec)]
    out += ["", "二、应急减排措施"] + [f"  {x}" for x in _measures_lines(reductions)]
    top = _aqi_level(float(np.nanmax(rec.aqi))) if np.isfinite(rec.aqi).any() else _aqi_level(0)
    adv = health_advice()[top.level]
    out += ["", "三、健康防护提示", f"  {top.category}：{_zh(adv.health_effect)}", f"  {_zh(adv.advice)}"]
    if rec.sensitivity:
        out += ["", "四、敏感性"] + [f"  {sensitivity_text(s)}" for s in rec.sensitivity[:4]]
    out += ["", f"预警分级依据：{rules_title(rec)}。{closing}"]
    return "\n".join(out) + "\n"


def _public_reasons(rec: Recommendation) -> list[str]:
    """The reasons for the public text: the decision method's line (决策依据…, technical, may name
    file variables) goes to the technical appendix instead."""
    return [r for r in rec.reasons if not r.startswith("决策依据")]


def _method(rec: Recommendation) -> str:
    """How the probabilities were computed, in Chinese."""
    return PROBABILITY_METHODS.get(rec.probability_method, "概率方法未注明")


def technical_appendix(rec: Recommendation) -> list[tuple[str, str]]:
    """What the bulletin was computed from, for the technical appendix (技术附录) of the HTML and the
    audit: rule set version and file fingerprint, forecast file name and fingerprint (sha256, first 12
    hex digits). The public text bulletin leaves these out."""
    name = PurePath(str(rec.forecast_source)).name if rec.forecast_source else "—"
    return [("预警分级规则版本", rec.rules_version or "—"),
            ("规则文件指纹（SHA-256 前12位）", (rec.rules_sha256 or "")[:12] or "—"),
            ("预报产品文件", name),
            ("预报文件指纹（SHA-256 前12位）", (rec.forecast_sha256 or "")[:12] or "—"),
            ("概率计算方法", _method(rec))] + [
            ("决策依据", _zh(r.removeprefix("决策依据").lstrip(":：").strip())) for r in rec.reasons
            if r.startswith("决策依据")]


def bulletin_html(rec: Recommendation, reductions: Reductions | None = None, issuer: str | None = None,
                  issued=None) -> str:
    """The bulletin as a printable HTML page (A4); ``issued`` as in :func:`bulletin_text`."""
    e = html.escape
    issuer = issuer or f"{rec.city}市重污染天气应急指挥部"
    rows = []
    for d, v in zip(rec.dates, rec.aqi):
        if not np.isfinite(v):
            rows.append(f"<tr><td>{e(d)}</td><td>—</td><td>—</td><td></td></tr>")
            continue
        lv = _aqi_level(v)
        rows.append(f"<tr><td>{e(d)}</td><td>{v:.0f}</td><td>{e(lv.category)}</td>"
                    f"<td><span class=\"swatch\" style=\"background:{lv.colour}\"></span></td></tr>")
    level = issued.level if issued is not None else rec.level
    title, closing = _title_and_closing(rec, issued)
    if issued is not None:
        decided, signed = _issued_text(issued)
        period = decided + signed
    elif rec.level == WarningLevel.NONE:
        period = "预报期内未达到预警启动条件，不发布预警。"
    else:
        lift = "预计届时可解除" if rec.lift_confirmed else "解除时间视后续会商确定"
        period = f"建议自 {rec.start} 起，预计持续至 {rec.end}（约 {rec.duration_days} 天），{lift}。"
    m_lines = _measures_lines(reductions)
    measures = "".join(f"<p>{e(x)}</p>" for x in m_lines)
    if reductions is not None:
        head = "".join(f"<th>{e(EMISSION_LABELS[t.pollutant])}</th>" for t in reductions.targets)
        cut = "".join(f"<td>{t.cut:.2f}</td>" for t in reductions.targets)
        ratio = "".join(f"<td>{'—' if t.ratio is None else _pct(t.ratio)}</td>" for t in reductions.targets)
        target = "".join(f"<td>{_pct(t.target)}{'' if t.met is None else (' ✓' if t.met else ' ✗')}</td>"
                         for t in reductions.targets)
        measures += (f"<table><tr><th></th>{head}</tr><tr><th>减排量（吨/天）</th>{cut}</tr>"
                     f"<tr><th>占排放总量</th>{ratio}</tr><tr><th>目标</th>{target}</tr></table>")
    top = _aqi_level(float(np.nanmax(rec.aqi))) if np.isfinite(rec.aqi).any() else _aqi_level(0)
    adv = health_advice()[top.level]
    tpl = Template((_HERE / "templates" / "bulletin.html").read_text(encoding="utf-8"))
    return tpl.substitute(
        title=e(title), issuer=e(issuer),
        issued=e(str(_day(rec, issued) or "—")),
        rules_title=e(rules_title(rec)), level_colour=LEVEL_COLOURS[level], level_label=e(level.label),
        response=e(level.response), period_text=e(period), forecast_rows="\n".join(rows),
        p_yellow=_pct(rec.probability["yellow"]), p_orange=_pct(rec.probability["orange"]),
        p_red=_pct(rec.probability["red"]), probability_method=e(_method(rec)),
        reason_items="\n".join(f"<li>{e(_zh(r))}</li>" for r in _public_reasons(rec)), measures_html=measures,
        health_category=e(top.category), health_effect=e(_zh(adv.health_effect)), health_advice=e(_zh(adv.advice)),
        sensitivity_items="\n".join(f"<li>{e(sensitivity_text(s))}</li>" for s in rec.sensitivity[:4]) or "<li>—</li>",
        footer=e(closing),
        appendix_rows="\n".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in technical_appendix(rec)),
    )


# --------------------------------------------------------------------------- lift notice (解除通知)
def _lift_lines(city: str, warning, issuer: str, province=None) -> tuple[str, list[str]]:
    """Title and paragraphs of the lift notice of a lifted warning (a ``lifecycle.WarningState``)."""
    lv = warning.level
    when = format_beijing(warning.lifted_at) if warning.lifted_at else "—"
    since = f"自{warning.start}起发布的" if warning.start else "发布的"
    lines = [f"经{issuer}会商研判，当前空气质量已好转，决定自{when}起解除{city}{since}{lv.label}"
             f"（预警编号 #{warning.id}），终止{lv.response}。",
             f"各有关单位和企业自解除之时起停止执行{lv.label}应急减排措施，恢复正常生产，"
             f"并继续做好日常污染防治工作。"]
    if province is not None:
        lines.append(f"省级解除通知：{province.issuing_body}{province.doc_number}。")
    lines.append(f"签发：{warning.lifted_by or '—'}（预警编号 #{warning.id}，{when}）。")
    return f"{city}市重污染天气预警解除通知", lines


def lift_notice_text(city: str, warning, issuer: str | None = None, province=None) -> str:
    """The lift notice (解除通知) of a lifted warning as Chinese plain text.

    Parameters
    ----------
    city : str
    warning : emergency.lifecycle.WarningState
        The lifted warning (its level, start, id, lifted_by, lifted_at).
    issuer : str, optional
        Issuing body (default ``<city>市重污染天气应急指挥部``).
    province : emergency.notices.Notice, optional
        The province's lift notice the warning waited for.
    """
    issuer = issuer or f"{city}市重污染天气应急指挥部"
    title, lines = _lift_lines(city, warning, issuer, province)
    when = format_beijing(warning.lifted_at) if warning.lifted_at else "—"
    return "\n".join([title, f"{issuer}　发布时间：{when}", "", *lines]) + "\n"


def lift_notice_html(city: str, warning, issuer: str | None = None, province=None) -> str:
    """The lift notice as a printable HTML page; arguments as in :func:`lift_notice_text`."""
    e = html.escape
    issuer = issuer or f"{city}市重污染天气应急指挥部"
    title, lines = _lift_lines(city, warning, issuer, province)
    when = format_beijing(warning.lifted_at) if warning.lifted_at else "—"
    body = "".join(f"<p>{e(x)}</p>" for x in lines)
    return ("<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            f"<title>{e(title)}</title><style>@page {{ size: A4; margin: 18mm; }} body {{ font-family: "
            "\"Noto Sans CJK SC\", \"Microsoft YaHei\", \"SimSun\", sans-serif; max-width: 190mm; margin: auto; }"
            " h1 { text-align: center; font-size: 20pt; } .sub { text-align: center; color: #555; }"
            " .banner { border-left: 10px solid #3a3; padding: 3mm 5mm; margin: 6mm 0; background: #fafafa; }"
            f"</style></head><body><h1 id=\"lift-title\">{e(title)}</h1>"
            f"<div class=\"sub\">{e(issuer)}　发布时间：{e(when)}</div>"
            f"<div class=\"banner\"><b>解除{e(warning.level.label)}（{e(warning.level.response)}）</b></div>"
            f"{body}</body></html>\n")


# --------------------------------------------------------------------------- an edited bulletin
def edited_html(text: str, warning, edit: BulletinEditRecord) -> str:
    """An edited bulletin text as a printable HTML page: the first line the title, each further line a
    paragraph; the edit's record (who, when, fingerprints) in the technical appendix."""
    e = html.escape
    lines = normal_text(text).rstrip("\n").split("\n")
    title = lines[0].strip()
    body = "".join(f"<p>{e(x.strip())}</p>" if x.strip() else "" for x in lines[1:])
    appendix = [("修改人", f"{edit.user}（{edit.role}）"), ("修改时间", format_beijing(edit.at)),
                ("修改前文本指纹（SHA-256 前12位）", (edit.before_hash or "—")[:12]),
                ("修改后文本指纹（SHA-256 前12位）", edit.after_hash[:12]), ("修改说明", edit.reason or "—")]
    rows = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in appendix)
    colour = LEVEL_COLOURS[warning.level]
    return ("<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            f"<title>{e(title)}</title><style>@page {{ size: A4; margin: 18mm; }} body {{ font-family: "
            "\"Noto Sans CJK SC\", \"Microsoft YaHei\", \"SimSun\", sans-serif; max-width: 190mm; margin: auto; }"
            " h1 { text-align: center; font-size: 20pt; } .appendix { font-size: 9pt; color: #555; margin-top: 10mm; }"
            f" .banner {{ border-left: 10px solid {colour}; padding: 3mm 5mm; margin: 6mm 0; background: #fafafa; }}"
            f"</style></head><body><h1 id=\"bulletin-title\">{e(title)}</h1>"
            f"<div class=\"banner\"><b>{e(warning.level.label)}（{e(warning.level.response)}）</b></div>{body}"
            f"<section class=\"appendix\"><h2>技术附录（修改记录）</h2><table>{rows}</table></section>"
            "</body></html>\n")


def apply_edit(target, warning, html_doc: str, text_doc: str) -> tuple[str, str]:
    """The bulletin republishing writes for an issued warning: its edit in force (:func:`latest_edit`)
    if there is one, else the generated ``html_doc`` and ``text_doc``."""
    edit = latest_edit(target, warning.id)
    if edit is None:
        return html_doc, text_doc
    return edited_html(edit.text, warning, edit), edit.text
