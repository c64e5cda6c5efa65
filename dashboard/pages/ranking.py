"""考核排名 ranking page: the counties' composite index and rank, its terms, and the city's targets.

Shows the newest ranking product (:func:`dashboard.services.ranking.ranking_view`): the ranking table
(rank, composite index, change rate, the six terms), a stacked bar chart of the index by its terms, and the
target tracking: the city's PM2.5 of the year month by month against the annual target with the mean the
rest of the year must keep, and the table of the targets with the bootstrap probabilities. Any signed-in role
(the ranking is published information, not compliance data); anonymous visitors are asked to sign in.
"""
from __future__ import annotations

import dash
import plotly.graph_objects as go
from dash import dash_table, dcc, html

from airwarn.core.dates import format_beijing, to_beijing
from airwarn.core.units import CONCENTRATION
from dashboard import auth
from dashboard.figures import FONT
from dashboard.pages._common import GRAPH_CONFIG, error_box, sign_in_needed, table_style
from dashboard.services import ranking as ranking_service
from forecast.ranking import INDEX_POLLUTANTS

dash.register_page(__name__, path="/ranking", name="考核排名", title="区县空气质量考核排名", order=5)

#: Component ids of the page.
RANK_TABLE = "rank-table"
RANK_BAR = "rank-bar"
RANK_TRACKING = "rank-tracking"
RANK_TARGETS = "rank-targets"
RANK_META = "rank-meta"
RANK_SYNTHETIC = "rank-synthetic"
#: Pollutant labels and colours of the terms.
TERM_LABELS = {"so2": "SO₂", "no2": "NO₂", "pm10": "PM₁₀", "pm25": "PM₂.₅", "co": "CO", "o3_8h": "O₃-8h"}
TERM_COLOURS = {"so2": "#8c564b", "no2": "#9467bd", "pm10": "#ff7f0e", "pm25": "#d62728", "co": "#7f7f7f",
                "o3_8h": "#1f77b4"}
_IND_ZH = {"pm25_mean": "PM₂.₅ 年均浓度", "o3_8h_p90": "O₃-8h 第90百分位数", "co_p95": "CO 第95百分位数",
           "rank_max": "全省排名"}
_UNIT = CONCENTRATION.text
_LAYOUT = dict(font=dict(family=FONT, size=13), margin=dict(l=50, r=20, t=50, b=40), plot_bgcolor="white",
               paper_bgcolor="white")


def ranking_bar_figure(table) -> go.Figure:
    """The composite index of each county as bars stacked by its terms, best first."""
    ranked = table[table["rank"] > 0]
    x = [str(c) for c in ranked["county"]]
    ranks = [f"第{k}名" for k in ranked["rank"]]
    traces = [go.Bar(x=x, y=ranked[f"term_{p}"].round(2).tolist(), name=TERM_LABELS[p], marker_color=TERM_COLOURS[p],
                     customdata=ranks,
                     hovertemplate=f"%{{x}}（%{{customdata}}）{TERM_LABELS[p]} 单项指数：%{{y:.2f}}<extra></extra>")
              for p in INDEX_POLLUTANTS]
    fig = go.Figure(traces, layout=dict(**_LAYOUT, barmode="stack", title="综合指数及其构成（越小越好）",
                                        yaxis=dict(title="综合指数", gridcolor="#eee"), legend=dict(orientation="h")))
    for xi, v in zip(x, ranked["composite_index"].tolist()):
        fig.add_annotation(x=xi, y=float(v), text=f"{v:.2f}", showarrow=False, yshift=10)
    return fig


def tracking_figure(tracking: dict) -> go.Figure:
    """The city's PM2.5 of the year: monthly means, the cumulative mean, the target and the mean the rest of
    the year must keep."""
    monthly = tracking.get("city_pm25_monthly") or []
    target = tracking.get("pm25_target")
    city = tracking.get("city", "")
    months = [f"{m['month']}月" for m in monthly]
    traces = [go.Bar(x=months, y=[m.get("mean") for m in monthly], name="月均浓度", marker_color="#9ecae1",
                     hovertemplate=f"%{{x}} 月均：%{{y:.0f}} {_UNIT}<extra></extra>"),
              go.Scatter(x=months, y=[m.get("cumulative_mean") for m in monthly], name="年初至今累计均值",
                         mode="lines+markers", line=dict(color="#08519c", width=2),
                         hovertemplate=f"%{{x}} 累计：%{{y:.1f}} {_UNIT}<extra></extra>")]
    shapes, notes, xaxis = [], [], {}
    city_row = next((e for e in tracking.get("targets", []) if e.get("area") == city
                     and e.get("indicator") == "pm25_mean" and not e.get("reference")), None)
    if target is not None:
        shapes.append(dict(type="line", xref="paper", x0=0, x1=1, y0=target, y1=target,
                           line=dict(color="#b00020", dash="dash", width=2)))
        notes.append(dict(xref="paper", x=1, y=target, text=f"目标 {target:g} {_UNIT}", showarrow=False,
                          xanchor="right", yshift=10, font=dict(color="#b00020")))
    if city_row and city_row.get("required_rest_mean") is not None and city_row.get("remaining_days"):
        need = city_row["required_rest_mean"]
        after = (monthly[-1]["month"] + 1) if monthly else 1
        rest = f"{after}月" if after >= 12 else f"{after}—12月"
        xaxis = dict(categoryorder="array", categoryarray=[*months, rest])  # the observed months, then the rest
        traces.append(go.Scatter(x=[rest], y=[need], name="其余天数须保持的均值",
                                 mode="markers", marker=dict(symbol="diamond", size=14, color="#e6550d"),
                                 hovertemplate=f"其余 %{{customdata}} 天须保持：%{{y:.1f}} {_UNIT}<extra></extra>",
                                 customdata=[city_row["remaining_days"]]))
        prob = city_row.get("probability")
        notes.append(dict(xref="paper", yref="paper", x=0, y=1.0, yanchor="bottom", showarrow=False, xanchor="left",
                          text=(f"其余 {city_row['remaining_days']} 天须保持 {need:.1f} {_UNIT}"
                                + ("" if prob is None else f"；达标概率 {100 * prob:.0f}%"))))
    layout = {**_LAYOUT, "margin": dict(l=50, r=20, t=80, b=40)}
    return go.Figure(traces, layout=dict(**layout, title=f"{city} {tracking.get('year', '')}年 PM₂.₅ 目标进度",
                                         yaxis=dict(title=f"PM₂.₅（{_UNIT}）", gridcolor="#eee", rangemode="tozero"),
                                         xaxis=xaxis, shapes=shapes, annotations=notes,
                                         legend=dict(orientation="h", y=-0.15)))


def _table_rows(table) -> list[dict]:
    rows = []
    for _, r in table.iterrows():
        row = {"rank": int(r["rank"]) if r["rank"] > 0 else "—", "county": r["county"],
               "composite_index": (f"{r['composite_index']:.2f}" if r["composite_index"] == r["composite_index"]
                                   else "—"),
               "change_rate": (f"{r['change_rate']:+.1f}%" if r["change_rate"] == r["change_rate"] else "—")}
        for p in INDEX_POLLUTANTS:
            row[p] = f"{r[f'term_{p}']:.2f}" if r[f"term_{p}"] == r[f"term_{p}"] else "—"
        rows.append(row)
    return rows


def _target_rows(tracking: dict) -> list[dict]:
    rows = []
    for e in tracking.get("targets", []):
        ind = e.get("indicator", "")
        area = str(e.get("area", "")) + ("（参照全市目标）" if e.get("reference") else "")
        if ind == "rank_max":
            now = f"第 {e['rank']} 名（本排名 {e['ranked']} 个）" if e.get("rank") else "—"
            status = {"met": "达到", "not_met": "未达到"}.get(e.get("status"), f"需全省 {e.get('of_total')} 个区县数据")
            rows.append({"area": area, "indicator": _IND_ZH[ind], "target": f"前 {e['target']:g} 名", "now": now,
                         "need": "—", "probability": status})
            continue
        dec = 1 if ind == "co_p95" else 0
        obs = e.get("observed")
        need = e.get("required_rest_mean")
        prob = e.get("probability")
        rows.append({"area": area, "indicator": _IND_ZH.get(ind, ind), "target": f"≤ {e['target']:g}",
                     "now": "—" if obs is None else f"{obs:.{dec}f}",
                     "need": "—" if need is None else (f"{need:.1f}"
                                                       + ("（已无法达到）" if e.get("feasible") is False else "")),
                     "probability": "—" if prob is None else f"{100 * prob:.0f}%"})
    return rows


def layout(**_: str) -> html.Div:
    """The ranking page (any signed-in user)."""
    user = auth.current_user()
    if user is None:
        return sign_in_needed("/ranking")
    view = ranking_service.ranking_view()
    title = html.H2("区县空气质量考核排名", className="page-title")
    if not view["available"]:
        return html.Div([title, error_box(view["message"])])
    meta, tracking, table = view["meta"], view["tracking"], view["table"]
    made = meta.get("generated_utc")
    made_text = format_beijing(to_beijing(made)) if made else "—"
    std = view["standard"].replace("GB3095", "GB 3095")
    blocks = [title]
    if view["synthetic"]:
        blocks.append(html.P("【合成数据】本页排名由合成（模拟）数据生成，仅供演示，不代表真实空气质量。",
                             id=RANK_SYNTHETIC, className="error"))
    blocks.append(html.P(f"评价时段：{view['period_zh']}；评价标准：{std}"
                         + ("" if meta.get("limits_verified", True) else "（该版本限值用于综合指数尚未核实）")
                         + f"；产品日：{view['day']}；生成时间：{made_text}。", id=RANK_META, className="muted"))
    columns = ([{"name": "排名", "id": "rank"}, {"name": "区县", "id": "county"},
                {"name": "综合指数", "id": "composite_index"}, {"name": "同比变化率", "id": "change_rate"}]
               + [{"name": f"{TERM_LABELS[p]}单项指数", "id": p} for p in INDEX_POLLUTANTS])
    blocks.append(html.Div([
        html.H3("综合指数排名"),
        dash_table.DataTable(id=RANK_TABLE, columns=columns, data=_table_rows(table), sort_action="native",
                             **table_style(numeric=("rank", "composite_index", "change_rate", *INDEX_POLLUTANTS))),
        html.P("综合指数相同的区县以并列计；同比变化率为负表示改善（两期采用同一套标准限值）。", className="muted"),
    ], className="card"))
    blocks.append(html.Div([
        html.Div(dcc.Graph(id=RANK_BAR, figure=ranking_bar_figure(table), config=GRAPH_CONFIG), className="card"),
        html.Div(dcc.Graph(id=RANK_TRACKING, figure=tracking_figure(tracking), config=GRAPH_CONFIG), className="card"),
    ], className="grid2"))
    blocks.append(html.Div([
        html.H3(f"目标进度（截至 {tracking.get('as_of', '—')}）"),
        dash_table.DataTable(id=RANK_TARGETS, columns=[{"name": "地区", "id": "area"}, {"name": "指标", "id": "indicator"},
                                                       {"name": "目标", "id": "target"}, {"name": "年初至今", "id": "now"},
                                                       {"name": "其余天数须保持的均值", "id": "need"},
                                                       {"name": "达标概率（情景模拟）", "id": "probability"}],
                             data=_target_rows(tracking), **table_style(numeric=("now", "need", "probability"))),
        html.P("达标概率：剩余各月的逐日值取自往年同月（整月抽取并按今年水平缩放），统计全年指标不超过目标的比例。",
               className="muted"),
    ], className="card"))
    return html.Div(blocks)
