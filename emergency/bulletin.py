"""The warning bulletin (预警信息): Chinese plain text and printable HTML.

The HTML comes from ``emergency/templates/bulletin.html`` (a :class:`string.Template`); AQI category
names and colours come from :data:`forecast.aqi.AQI_LEVELS`, warning colours from
:data:`airwarn.vocab.LEVEL_COLOURS`; health advice per AQI level from
``emergency/data/health_advice_hj633.csv``. The daily bulletin is the system's draft (建议稿): only a
commander issues a warning (:mod:`emergency.lifecycle`), and the bulletin then rewritten for it
(:func:`emergency.daily.publish_issued`) states the decided level, period and signer.
"""
from __future__ import annotations

import csv
import html
from dataclasses import dataclass
from pathlib import Path
from string import Template

import numpy as np

from airwarn.vocab import EMISSION_LABELS, LEVEL_COLOURS, WarningLevel
from emergency.engine import Recommendation
from emergency.reductions import Reductions

_HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class HealthAdvice:
    """Health effect and advice for one AQI level (1-6)."""

    level: int
    health_effect: str
    advice: str


def health_advice() -> dict[int, HealthAdvice]:
    """Health advice per AQI level, from the package data file."""
    path = _HERE / "data" / "health_advice_hj633.csv"
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(line for line in fh if not line.startswith("#")))
    out = {}
    for i, r in enumerate(rows, start=1):
        if int(r["level"]) != i:
            raise ValueError(f"{path}: data row {i}: expected level {i}, got {r['level']!r}")
        out[i] = HealthAdvice(i, r["health_effect"], r["advice"])
    return out


def _aqi_level(aqi: float):
    """The HJ 633 level record (category, colour) of one AQI value."""
    from forecast.aqi import AQI_LEVELS, aqi_level

    return AQI_LEVELS[int(aqi_level(aqi))]


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _measures_lines(red: Reductions | None) -> list[str]:
    if red is None:
        return ["未达预警条件,不启动应急减排措施。"]
    lines = [f"依据应急减排清单({red.version}),{red.level.label}期间涉及企业 {len(red.enterprises)} 家,"
             f"A级、A+级及引领性企业自主减排,保障类企业按保障负荷生产,未稳定达标企业全部停产。"]
    cuts = ",".join(f"{EMISSION_LABELS[t.pollutant]} {t.cut:.2f} 吨/天" for t in red.targets)
    lines.append(f"预计工业源日减排量:{cuts}。")
    if red.total is not None:
        parts = []
        for t in red.targets:
            verdict = "达到" if t.met else f"未达到(差 {t.shortfall:.2f} 吨/天)"
            parts.append(f"{EMISSION_LABELS[t.pollutant]} {_pct(t.ratio)}{verdict}{_pct(t.target)}目标")
        lines.append("占全社会排放量比例:" + ";".join(parts) + "。")
    else:
        lines.append("未导入排放清单,无法核算减排比例。")
    return lines


def _title_and_closing(rec: Recommendation, issued) -> tuple[str, str]:
    """Title and closing sentence: the system's draft (建议稿), or the warning the command issued."""
    if issued is not None:
        return f"{rec.city}市重污染天气预警信息", "本预警经指挥部会商、指挥长签发发布。"
    return (f"{rec.city}市重污染天气预警信息(建议稿)",
            "本建议稿由系统生成,须经指挥部会商、指挥长签发后方可发布。")


def _issued_text(issued) -> tuple[str, str]:
    """Conclusion and sign-off lines of an issued warning (a ``lifecycle.WarningState``)."""
    period = f"自{issued.start}起" if issued.start else "即日起"
    until = f",预计持续至{issued.end}" if issued.end else ""
    when = f"{issued.issued_at:%Y-%m-%d %H:%M}" if issued.issued_at else "-"
    return (f"决定:{period}发布{issued.level.label},启动{issued.level.response}{until}。",
            f"签发:{issued.issued_by or '-'}(预警编号 #{issued.id},{when})。")


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
    out = [title, f"{issuer}  发布日期:{rec.issued or '-'}", ""]
    if issued is not None:
        out += list(_issued_text(issued))
        if issued.level != rec.level:
            out.append(f"(系统建议为{rec.level.label},指挥部会商决定为{issued.level.label}。)")
    elif rec.level == WarningLevel.NONE:
        out.append("研判结论:预报期内未达到重污染天气预警启动条件,不发布预警。")
    else:
        lift = "预计届时可解除" if rec.lift_confirmed else "解除时间视后续会商确定"
        out.append(f"研判结论:建议自{rec.start}起发布{rec.level.label},启动{rec.level.response},"
                   f"预计持续至{rec.end}(约{rec.duration_days}天),{lift}。")
    out += ["", "一、预报与研判"]
    for d, v in zip(rec.dates, rec.aqi):
        if np.isfinite(v):
            out.append(f"  {d}  AQI {v:.0f}  {_aqi_level(v).category}")
    out.append(f"  达到预警条件的概率:黄色 {_pct(rec.probability['yellow'])},橙色 {_pct(rec.probability['orange'])},"
               f"红色 {_pct(rec.probability['red'])}。")
    out += [f"  {r}" for r in rec.reasons]
    out += ["", "二、应急减排措施"] + [f"  {x}" for x in _measures_lines(reductions)]
    top = _aqi_level(float(np.nanmax(rec.aqi))) if np.isfinite(rec.aqi).any() else _aqi_level(0)
    adv = health_advice()[top.level]
    out += ["", "三、健康防护提示", f"  {top.category}:{adv.health_effect}", f"  {adv.advice}"]
    if rec.sensitivity:
        out += ["", "四、敏感性"] + [f"  {s.text}" for s in rec.sensitivity[:4]]
    out += ["", f"规则:{rec.rules_version};预报文件:{rec.forecast_source or '-'}。{closing}"]
    return "\n".join(out) + "\n"


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
        period = "预报期内未达到预警启动条件,不发布预警。"
    else:
        lift = "预计届时可解除" if rec.lift_confirmed else "解除时间视后续会商确定"
        period = f"建议自 {rec.start} 起,预计持续至 {rec.end}(约 {rec.duration_days} 天),{lift}。"
    m_lines = _measures_lines(reductions)
    measures = "".join(f"<p>{e(x)}</p>" for x in m_lines)
    if reductions is not None:
        head = "".join(f"<th>{e(EMISSION_LABELS[t.pollutant])}</th>" for t in reductions.targets)
        cut = "".join(f"<td>{t.cut:.2f}</td>" for t in reductions.targets)
        ratio = "".join(f"<td>{'—' if t.ratio is None else _pct(t.ratio)}</td>" for t in reductions.targets)
        target = "".join(f"<td>{_pct(t.target)}{'' if t.met is None else (' ✓' if t.met else ' ✗')}</td>"
                         for t in reductions.targets)
        measures += (f"<table><tr><th></th>{head}</tr><tr><th>减排量(吨/天)</th>{cut}</tr>"
                     f"<tr><th>占排放总量</th>{ratio}</tr><tr><th>目标</th>{target}</tr></table>")
    top = _aqi_level(float(np.nanmax(rec.aqi))) if np.isfinite(rec.aqi).any() else _aqi_level(0)
    adv = health_advice()[top.level]
    tpl = Template((_HERE / "templates" / "bulletin.html").read_text(encoding="utf-8"))
    return tpl.substitute(
        title=e(title), issuer=e(issuer),
        issued=e(str(rec.issued or "-")),
        rules_version=e(rec.rules_version), level_colour=LEVEL_COLOURS[level], level_label=e(level.label),
        response=e(level.response), period_text=e(period), forecast_rows="\n".join(rows),
        p_yellow=_pct(rec.probability["yellow"]), p_orange=_pct(rec.probability["orange"]),
        p_red=_pct(rec.probability["red"]), probability_method=e(rec.probability_method),
        reason_items="\n".join(f"<li>{e(r)}</li>" for r in rec.reasons), measures_html=measures,
        health_category=e(top.category), health_effect=e(adv.health_effect), health_advice=e(adv.advice),
        sensitivity_items="\n".join(f"<li>{e(s.text)}</li>" for s in rec.sensitivity[:4]) or "<li>—</li>",
        footer=e(f"规则 {rec.rules_version};预报文件 {rec.forecast_source or '-'}(sha256 {rec.forecast_sha256[:12] or '-'})。"
                 + closing),
    )
