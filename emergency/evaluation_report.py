"""The Chinese post-episode evaluation report (重污染天气应急响应总结评估报告), one HTML page per episode.

:func:`evaluation_report_html` renders an :class:`emergency.evaluation.EpisodeEvaluation` in the
five sections of the province's reporting style:

一、基本情况 (the episode, its weather, the observed concentrations and AQI);
二、预警发布及时性 (the event verification of the warning, or that it cannot be judged);
三、减排措施落实 (planned against compliance-adjusted cuts, or that no compliance data were given);
四、效果评估 (the weather-normalised effect with its band, the placebo test, the tracers, the benefit
model's prediction beside it, the day-by-day table);
五、存在问题和建议 (what follows from the above).

Texts carry full-width punctuation (written so, dynamic parts through :func:`airwarn.core.zh.zh_punct`);
days are Beijing natural days and the generation time is Beijing time, labelled. A synthetic
evaluation says so at the top. :func:`write_evaluation` writes the page, its JSON and CSV tables
atomically.
"""
from __future__ import annotations

import html
import json
import math
import os
from pathlib import Path

import numpy as np

from airwarn.core.dates import format_beijing, utc_now
from airwarn.core.files import atomic_write_text
from airwarn.core.vocab import EMISSION_LABELS
from airwarn.core.zh import level_label, zh_punct
from emergency.evaluation import CENTRAL, MIN_PLACEBO, EpisodeEvaluation

__all__ = ["POLLUTANT_ZH", "SECTIONS", "evaluation_report_html", "write_evaluation"]

#: The five section titles, in order.
SECTIONS: tuple[str, ...] = ("一、基本情况", "二、预警发布及时性", "三、减排措施落实", "四、效果评估", "五、存在问题和建议")
#: Pollutant names and units in the report.
POLLUTANT_ZH: dict[str, tuple[str, str]] = {"pm25": ("PM2.5", "微克/立方米"), "no2": ("二氧化氮", "微克/立方米"),
                                            "so2": ("二氧化硫", "微克/立方米"), "co": ("一氧化碳", "毫克/立方米"),
                                            "pm10": ("PM10", "微克/立方米")}
VERDICT_ZH = {"reduction": "可检出的下降", "increase": "可检出的上升", "not_detectable": "不可检出",
              "not_judged": "无法判定"}
_CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2em;color:#222;max-width:60em}
h1{font-size:1.5em;text-align:center}h2{font-size:1.15em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0;font-size:.92em}
th,td{border:1px solid #bbb;padding:.25em .6em;text-align:left}th{background:#f0f0f0}
td.n{text-align:right}.warn{color:#b00020;font-weight:bold}.note{color:#555;font-size:.9em}
"""


def _n(x, fmt: str = ".1f", sign: bool = False) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "—"
    return format(float(x), ("+" if sign else "") + fmt)


def _pct(x) -> str:
    return _n(x, ".1f", sign=True) + "%" if x is not None and np.isfinite(x) else "—"


def _p(text: str) -> str:
    return f"<p>{html.escape(zh_punct(text, signs=True))}</p>"


def _table(head, rows) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body or '<tr><td colspan=99>无</td></tr>'}</tbody></table>"


def _day(d) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _basic(ev: EpisodeEvaluation) -> list[str]:
    e, days = ev.episode, ev.days
    warn = days[days["in_warning"]]
    out = [_p(f"{e.city}于{_day(e.start)}至{_day(e.end)}启动重污染天气{level_label(e.level, short=False)}，"
              f"共{e.days}天" + (f"（预警编号{e.warning_id}）" if e.warning_id is not None else "") + "。"
              f"本报告评估时段为预警期{e.days}天及其后{ev.lag_days}天，"
              f"即{_day(days['date'].iloc[0])}至{_day(days['date'].iloc[-1])}，日期均为北京时间自然日。")]
    pm = warn["pm25"] if "pm25" in warn.columns else None
    txt = ""
    if pm is not None and pm.notna().any():
        txt += f"预警期间PM2.5日均浓度{_n(pm.mean(), '.0f')}微克/立方米，最高{_n(pm.max(), '.0f')}微克/立方米"
    if "aqi" in warn.columns and warn["aqi"].notna().any():
        txt += f"，日AQI最高{_n(warn['aqi'].max(), '.0f')}"
    if txt:
        out.append(_p(txt + "。"))
    out.append(_p(f"按静稳天气判据（{ev.rule.text_zh()}），预警期{e.days}天中有{int(warn['stagnant'].sum())}天"
                  f"为静稳天气。"))
    return out


def _timely(ev: EpisodeEvaluation) -> list[str]:
    t = ev.timeliness
    if t is None:
        return [_p("未提供该次预警的预报或建议记录（发布日期），无法评估预警发布的及时性。")]
    obs = "、".join(f"{o['start']}至{o['end']}（{level_label(o['level'])}级别）" for o in t["observed"]) or "无"
    out = [_p(f"预警于{t['issued']}发布。按{t['rules']}规则，实况AQI识别的重污染过程为：{obs}。")]
    if t["kind"] == "hit":
        right = "预警级别不低于实况级别" if t["level_right"] else "预警级别低于实况级别"
        out.append(_p(f"预警提前{t['lead_days']}天发布，属于及时命中，{right}。"))
    elif t["kind"] == "miss":
        lead = t["lead_days"]
        when = (f"预警发布时实况重污染过程已开始{-lead}天" if lead is not None and lead <= 0
                else f"预警仅提前{lead}天，或提前超过3天")
        out.append(_p(f"{when}，按事件检验口径（过程开始前1至3天发布）不计为及时命中。"))
    else:
        out.append(_p("预警期间实况未出现达到预警标准的重污染过程。"))
    return out


def _compliance(ev: EpisodeEvaluation) -> list[str]:
    c = ev.compliance
    if c is None:
        return [_p("未提供该次预警期间的督查（落实情况）数据，无法比较计划减排量与实际减排量。")]
    rows = []
    for r in c.itertuples():
        name = EMISSION_LABELS.get(r.pollutant, r.pollutant)
        rows.append((name, int(r.days), _n(r.planned, ".2f"), _n(r.adjusted, ".2f"),
                     _n(100 * r.target, ".0f") + "%" if np.isfinite(r.target) else "—",
                     _n(100 * r.planned_ratio, ".1f") + "%" if np.isfinite(r.planned_ratio) else "—",
                     _n(100 * r.adjusted_ratio, ".1f") + "%" if np.isfinite(r.adjusted_ratio) else "—"))
    return [_p("督查数据核定的减排量如下（各日平均）。"),
            _table(("污染物", "核查天数", "计划减排（吨/天）", "核定减排（吨/天）", "减排目标", "计划减排比例",
                    "核定减排比例"), rows)]


def _effect_rows(ev: EpisodeEvaluation):
    rows = []
    for p, x in ev.effects.items():
        name, unit = POLLUTANT_ZH.get(p, (p, ""))
        rows.append((name, unit, _n(x.observed, ".0f"), _n(x.bau, ".0f"),
                     f"{_n(x.effect, '.0f', True)}（{_n(x.effect_low, '.0f', True)}至{_n(x.effect_high, '.0f', True)}）",
                     f"{_pct(x.relative)}（{_pct(x.relative_low)}至{_pct(x.relative_high)}）",
                     f"{_pct(x.adjusted_relative)}（{_pct(x.adjusted_low)}至{_pct(x.adjusted_high)}）",
                     _n(x.percentile, ".0f"), VERDICT_ZH[x.verdict]))
    return rows


def _effect(ev: EpisodeEvaluation) -> list[str]:
    b = ev.bau
    pm = ev.pm25
    tail = round(100 * (1 - CENTRAL) / 2)
    out = [_p(f"采用“常规情景”（无应急减排）统计模型估算：以气象条件（气温、露点、相对湿度、气压、降水、风速风向及前两日气象）"
              f"和日历因子为预测因子，不含污染物滞后项，LightGBM位置—尺度模型（分位数取自按月交叉拟合的残差），训练期{b['train_start']}至{b['train_end']}，"
              f"剔除各次预警及管控期及其后{b['after_days']}天共{b['n_excluded']}天。减排效果为评估时段内"
              f"实况与常规情景中位数之差的累计值，区间由常规情景第5和第95百分位数给出。"),
           _p(f"安慰剂检验：在训练期{'、'.join(f'{m}月' for m in ev.placebo_months)}的非预警静稳时段中，选取与评估时段等长的窗口"
              f"（前{ev.episode.days}天中至少{max(1, ev.episode.days - 1)}天为静稳天气），用未参与训练的模型"
              f"（按月交叉拟合）计算同样的相对变化，共{pm.placebo_n if pm is not None else len(ev.placebo)}个窗口。"
              f"实况效果位于安慰剂分布第{tail}至第{100 - tail}百分位之间时判定为不可检出；窗口少于{MIN_PLACEBO}个时不作判定。"
              f"扣除安慰剂中位数（常规情景在静稳时段的典型偏差）后的变化列为偏差订正值，区间由安慰剂第5和第95百分位数给出。")]
    out.append(_table(("污染物", "单位", "实况累计", "常规情景累计", "变化量（区间）", "相对变化（区间）",
                       "偏差订正后相对变化（区间）", "安慰剂百分位", "判定"), _effect_rows(ev)))
    if pm is not None:
        out.append(_p(f"安慰剂分布（PM2.5相对变化）：第5百分位{_pct(pm.placebo_p05)}，中位数{_pct(pm.placebo_p50)}，"
                      f"第95百分位{_pct(pm.placebo_p95)}。本次PM2.5相对变化{_pct(pm.relative)}，位于第"
                      f"{_n(pm.percentile, '.0f')}百分位，判定为{VERDICT_ZH[pm.verdict]}。"
                      f"同类天气下，PM2.5需下降约{_n(-pm.minimum_detectable, '.0f')}%以上方可从观测中检出（最小可检出效果）。"))
    gases = [p for p in ev.effects if p != "pm25"]
    if gases:
        txt = "；".join(f"{POLLUTANT_ZH.get(p, (p,))[0]}{_pct(ev.effects[p].relative)}"
                       f"（{VERDICT_ZH[ev.effects[p].verdict]}）" for p in gases)
        out.append(_p(f"一次排放示踪气体（对减排响应快）：{txt}。"))
    if ev.benefit:
        bf = ev.benefit
        out.append(_p(f"减排效益模型预测：PM2.5相对变化{_pct(bf.get('pm25_relative'))}"
                      f"（{_pct(bf.get('low'))}至{_pct(bf.get('high'))}），来源：{bf.get('source', '效益模型')}。"))
    else:
        out.append(_p("减排效益模型的预测未提供，暂不并列比较。"))
    head = ["日期", "预警期内", "静稳"]
    cols = []
    for p in ev.effects:
        name = POLLUTANT_ZH.get(p, (p,))[0]
        head += [f"{name}实况", f"{name}常规情景（第5至第95百分位）"]
        cols.append(p)
    rows = []
    for r in ev.days.itertuples(index=False):
        d = r._asdict()
        row = [str(d["date"]), "是" if d["in_warning"] else "否", "是" if d["stagnant"] else "否"]
        for p in cols:
            fmt = ".1f" if p == "co" else ".0f"
            row += [_n(d[p], fmt), f"{_n(d[f'{p}_p50'], fmt)}（{_n(d[f'{p}_p05'], fmt)}至{_n(d[f'{p}_p95'], fmt)}）"]
        rows.append(row)
    out.append(_table(head, rows))
    return out


def _advice(ev: EpisodeEvaluation) -> list[str]:
    items = []
    pm = ev.pm25
    if pm is not None and pm.verdict == "not_detectable":
        items.append("PM2.5的变化处于同类静稳天气下常规情景误差的范围之内，观测数据不足以分辨应急减排的效果；"
                     "建议结合空气质量模型情景模拟和源解析观测开展评估。")
    elif pm is not None and pm.verdict == "reduction":
        items.append("PM2.5出现可检出的下降，应急减排措施取得效果，建议总结经验并在后续预警中保持。")
    elif pm is not None and pm.verdict == "increase":
        items.append("PM2.5高于同类天气下的常规情景，可能存在措施落实不到位、区域传输加强或二次生成增强，建议排查原因。")
    if pm is not None and np.isfinite(pm.placebo_p50) and pm.placebo_p50 > 5:
        items.append(f"常规情景模型在静稳时段平均低估约{_n(pm.placebo_p50, '.0f')}%，日均气象因子难以刻画逆温和边界层变化，"
                     f"建议引入边界层高度等预报气象要素。")
    if ev.timeliness is None:
        items.append("建议保存每次预警所依据的预报与建议记录，以便评估发布的及时性。")
    elif ev.timeliness["kind"] == "miss":
        items.append("预警发布晚于重污染过程开始，建议提高提前量，在过程开始前1至3天发布。")
    if ev.compliance is None:
        items.append("建议在预警期间开展用电监控和在线监测督查，核定实际减排量。")
    if ev.benefit is None:
        items.append("建议接入减排效益模型，将预测的减排效果与本评估并列比较。")
    if ev.synthetic:
        items.append("本报告所用数据为合成示例数据，结论不代表实际情况。")
    return [_p(f"{i + 1}．{t}") for i, t in enumerate(items)] or [_p("无。")]


def evaluation_report_html(ev: EpisodeEvaluation, now=None) -> str:
    """The report page of one episode (module notes).

    Parameters
    ----------
    ev : EpisodeEvaluation
    now : datetime, optional
        Generation time (UTC; default now), shown in Beijing time.
    """
    e = ev.episode
    title = f"{e.city}重污染天气{level_label(e.level, short=False)}应急响应总结评估报告"
    parts = [f"<h1>{html.escape(title)}</h1>"]
    if ev.synthetic:
        parts.append('<p class="warn">本报告由合成示例数据生成，仅用于演示，不代表任何城市的实际情况。</p>')
    parts.append(f'<p class="note">{html.escape("生成时间：" + format_beijing(now or utc_now()))}</p>')
    for title_, body in zip(SECTIONS, (_basic(ev), _timely(ev), _compliance(ev), _effect(ev), _advice(ev))):
        parts.append(f"<h2>{title_}</h2>" + "".join(body))
    return (f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{_CSS}</style></head><body>{''.join(parts)}</body></html>")


def write_evaluation(ev: EpisodeEvaluation, folder: "str | os.PathLike", now=None) -> list[Path]:
    """Write ``evaluation_<start>_<level>.html``, ``.json``, ``_days.csv`` and ``_placebo.csv`` atomically.

    Returns
    -------
    list of Path
        The four files.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"evaluation_{ev.episode.key()}"
    files = [folder / f"{stem}.html", folder / f"{stem}.json", folder / f"{stem}_days.csv",
             folder / f"{stem}_placebo.csv"]
    atomic_write_text(files[0], evaluation_report_html(ev, now))
    atomic_write_text(files[1], json.dumps(ev.to_dict(), ensure_ascii=False, indent=2, default=str))
    atomic_write_text(files[2], ev.days.to_csv(index=False))
    atomic_write_text(files[3], ev.placebo.to_csv(index=False))
    return files
