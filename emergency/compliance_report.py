"""The Chinese daily compliance report (督查日报) of a warning, as one self-contained HTML page.

:func:`compliance_report_html` takes a :class:`emergency.compliance.ComplianceResult` (and optionally
the achieved reductions of :func:`emergency.compliance.achieved_reductions`) and renders, for one day
(default: the last judged day):

1. the summary: lines judged, compliant / violation / unverifiable, the rules version;
2. by county and by industry: lines and statuses;
3. the violators first (plant, line, measure, required and achieved cut, the reason);
4. the unverifiable plants, listed for site inspection (现场核查), with the reason;
5. planned against compliance-adjusted reductions per pollutant.

Texts pass :func:`airwarn.core.zh.zh_punct` (full-width punctuation); times are Beijing time and
labelled （北京时间）. Every value from the inputs is HTML-escaped.
"""
from __future__ import annotations

import datetime as dt
import html

import numpy as np
import pandas as pd

from airwarn.core.dates import LABEL, format_beijing, utc_now
from airwarn.core.vocab import EMISSION_LABELS
from airwarn.core.zh import level_label, percent_text, zh_punct

STATUS_ZH = {"compliant": "落实", "violation": "未落实", "unverifiable": "无法核查"}
_CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2em;color:#222}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0;font-size:.92em}
th,td{border:1px solid #bbb;padding:.25em .6em;text-align:left}th{background:#f0f0f0}
td.n{text-align:right}.violation{color:#b00020;font-weight:bold}.unverifiable{color:#8a6d00}
.note{color:#555;font-size:.9em}
"""


def _e(v) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "—"
    return html.escape(zh_punct(str(v)))




def _time(v) -> str:
    return "—" if v is None or pd.isna(v) else pd.Timestamp(v).strftime("%m-%d %H:%M")


def _table(head, rows, numeric=()) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = []
    for r in rows:
        tds = []
        for i, (cell, cls) in enumerate(r):
            c = ' class="n"' if i in numeric else (f' class="{cls}"' if cls else "")
            tds.append(f"<td{c}>{cell}</td>")
        body.append("<tr>" + "".join(tds) + "</tr>")
    return f"<table><thead><tr>{th}</tr></thead><tbody>{''.join(body) or '<tr><td colspan=99>无</td></tr>'}</tbody></table>"


def _by(df: pd.DataFrame, key: str, label: str) -> str:
    if not len(df):
        return _table([label, "生产线", "落实", "未落实", "无法核查"], [])
    g = df.groupby(key)["status"].value_counts().unstack(fill_value=0).reindex(columns=list(STATUS_ZH), fill_value=0)
    g = g.assign(n=g.sum(axis=1)).sort_values(["violation", "n"], ascending=False)
    rows = [[(_e(k), None), (str(int(r.n)), None), (str(int(r.compliant)), None),
             (str(int(r.violation)), "violation" if r.violation else None),
             (str(int(r.unverifiable)), None)] for k, r in g.iterrows()]
    return _table([label, "生产线", "落实", "未落实", "无法核查"], rows, numeric=(1, 2, 3, 4))


def compliance_report_html(result, day: dt.date | None = None, reductions: pd.DataFrame | None = None,
                           title: str = "重污染天气应急减排措施落实情况督查日报", synthetic: bool = False) -> str:
    """The report page of one judged day (module notes).

    Parameters
    ----------
    result : ComplianceResult
    day : date, optional
        Default: the last judged day.
    reductions : DataFrame, optional
        :func:`emergency.compliance.achieved_reductions` output.
    synthetic : bool
        Mark the page as made from synthetic data (demo).

    Returns
    -------
    str
        A whole HTML document.
    """
    lines = result.lines
    days = sorted(set(lines["date"])) if len(lines) else []
    if day is None and days:
        day = days[-1]
    df = lines[lines["date"] == day] if day is not None else lines.iloc[0:0]
    counts = {s: int((df["status"] == s).sum()) for s in STATUS_ZH}
    lvl = level_label(result.level, short=False) if result.level else ""
    parts = [f"<h1>{html.escape(title)}</h1>"]
    if synthetic:
        parts.append('<p class="violation">本报告由合成示例数据生成，仅用于演示，不代表任何企业的实际情况。</p>')
    wid = f"第 {result.warning_id} 号" if result.warning_id is not None else ""
    parts.append(
        f"<p>预警{html.escape(wid)}{html.escape(lvl)}，措施起算时间 {result.start:%Y-%m-%d %H:%M}{LABEL}；"
        f"核查日期 {day if day is not None else '—'}；核查规则 {html.escape(result.rules.label)}。"
        f"报告生成时间 {format_beijing(utc_now())}。</p>")
    parts.append("<h2>一、总体情况</h2>")
    parts.append(f"<p>共核查生产线 {len(df)} 条：落实 {counts['compliant']} 条，"
                 f"<span class=\"violation\">未落实 {counts['violation']} 条</span>，"
                 f"<span class=\"unverifiable\">无法核查 {counts['unverifiable']} 条</span>。"
                 f"未对应到清单生产线的电表或排口 {len(result.unmapped)} 个。</p>")
    parts.append("<h2>二、分区县情况</h2>" + _by(df, "county", "区县"))
    parts.append("<h2>三、分行业情况</h2>" + _by(df, "industry", "行业"))
    v = df[df["status"] == "violation"].sort_values(["county", "credit_code", "line_id"])
    parts.append("<h2>四、未落实措施的生产线（优先处置）</h2>")
    parts.append(_table(
        ["企业", "统一社会信用代码", "区县", "生产线", "措施", "要求削减", "实际削减", "关停时间", "原因"],
        [[(_e(r.enterprise), None), (_e(r.credit_code), None), (_e(r.county), None), (_e(r.line_id), None),
          (_e(r.measure), None), (percent_text(r.required_cut), None), (percent_text(r.achieved_cut), None),
          (_time(r.switch_off), None), (_e(r.reason), "violation")] for r in v.itertuples()], numeric=(5, 6)))
    u = df[df["status"] == "unverifiable"]
    parts.append("<h2>五、无法核查的企业（建议现场核查）</h2>")
    ug = (u.groupby(["credit_code", "enterprise", "county"], sort=True)
          .agg(lines=("line_id", lambda s: "、".join(map(str, s))), reason=("reason", lambda s: "；".join(dict.fromkeys(s))))
          .reset_index()) if len(u) else u
    parts.append(_table(["企业", "统一社会信用代码", "区县", "生产线", "原因"],
                        [[(_e(r.enterprise), None), (_e(r.credit_code), None), (_e(r.county), None),
                          (html.escape(str(r.lines)), None), (_e(r.reason), "unverifiable")]
                         for r in (ug.itertuples() if len(ug) else [])]))
    if reductions is not None and len(reductions):
        rd = reductions[reductions["date"] == day]
        parts.append("<h2>六、计划减排量与核查后减排量（吨/日）</h2>")
        parts.append(_table(
            ["污染物", "计划减排量", "核查后减排量", "其中无法核查（未计入）", "目标比例", "核查后比例", "是否达标"],
            [[(html.escape(EMISSION_LABELS.get(r.pollutant, r.pollutant)), None), (f"{r.planned:.2f}", None),
              (f"{r.adjusted:.2f}", None), (f"{r.unverifiable_planned:.2f}", None),
              ("—" if r.target is None or pd.isna(r.target) else f"{r.target:.0%}", None),
              (percent_text(r.adjusted_ratio), None),
              ("—" if r.met is None or pd.isna(r.met) else ("是" if r.met else "否"), None)]
             for r in rd.itertuples()], numeric=(1, 2, 3, 4, 5)))
    parts.append('<p class="note">说明：基准为预警前 14 天内正常生产日同一时段用电量中位数；停产要求用电量下降不少于 75%，'
                 "限产按要求比例（允许偏差见规则）；治污设施电表在生产期间停运计为未落实；数据缺失比例超过上限、"
                 "无数据或基准无法计算的计为无法核查。时间均为北京时间。</p>")
    body = "\n".join(parts)
    return (f'<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{_CSS}</style></head><body>\n{body}\n</body></html>\n")
