"""Pure figure functions: DataFrame (and the AQI level table) in, ``go.Figure`` out.

Nothing here reads a file or the database; the level colours always come in as
an argument (from :func:`dashboard.data.aqi_levels`, i.e. :mod:`forecast.aqi`).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from airwarn.vocab import EMISSION_LABELS, POLLUTANT_LABELS

#: Font stack with CJK faces commonly installed on Linux and Windows offices.
FONT = "Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, WenQuanYi Micro Hei, SimHei, sans-serif"
_BASE_LAYOUT = dict(font=dict(family=FONT, size=13), margin=dict(l=50, r=20, t=50, b=40),
                    plot_bgcolor="white", paper_bgcolor="white", hovermode="x unified")
_PROB_COLOURS = {150: "#FF7E00", 200: "#FF0000", 300: "#99004C"}
_MODEL_COLOURS = {"airwarn": "#1f77b4", "persistence": "#7f7f7f", "climatology": "#2ca02c"}
_MODEL_LABELS = {"airwarn": "airwarn 模型", "persistence": "持续性预报", "climatology": "气候态"}


def _figure(traces: list[dict], shapes: list[dict] | None = None, annotations: list[dict] | None = None,
            **layout) -> go.Figure:
    """Build the figure in one go (plain dicts validated once: much faster than add_* calls)."""
    lay = {**_BASE_LAYOUT, **layout}
    if shapes:
        lay["shapes"] = shapes
    if annotations:
        lay["annotations"] = annotations
    return go.Figure(data=traces, layout=lay)


def _hline(y: float, colour: str = "#555", width: float = 1, dash: str = "dot") -> dict:
    return dict(type="line", xref="paper", x0=0, x1=1, yref="y", y0=y, y1=y,
                line=dict(color=colour, width=width, dash=dash))


def empty_figure(message: str) -> go.Figure:
    """A blank figure that shows a message (no data, no permission …)."""
    return _figure([], annotations=[dict(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                                         font=dict(size=15, color="#666"))],
                   xaxis=dict(visible=False), yaxis=dict(visible=False), height=300)


def _level_bands(levels: Sequence[dict], ymax: float) -> tuple[list[dict], list[dict]]:
    """Shapes (coloured AQI bands) and their category labels up to ``ymax``."""
    shapes, notes = [], []
    for lv in levels:
        if lv["lo"] > ymax:
            break
        y0, y1 = max(lv["lo"] - (1 if lv["lo"] > 0 else 0), 0), min(lv["hi"], ymax)
        shapes.append(dict(type="rect", xref="paper", x0=0, x1=1, yref="y", y0=y0, y1=y1, fillcolor=lv["colour"],
                           opacity=0.18, line=dict(width=0), layer="below"))
        notes.append(dict(x=1.0, xref="paper", xanchor="left", y=(lv["lo"] + y1) / 2, yref="y",
                          text=lv["category"], showarrow=False, font=dict(size=11, color="#444")))
    return shapes, notes


def fan_figure(table: pd.DataFrame, levels: Sequence[dict], title: str = "") -> go.Figure:
    """10-day AQI forecast as a quantile fan over the official AQI colour bands.

    Parameters
    ----------
    table : DataFrame
        One row per lead day: ``valid_date, aqi_p05, aqi_p25, aqi_p50, aqi_p75, aqi_p95``
        (``aqi_p10``/``aqi_p90`` used when p05/p95 are absent).
    levels : sequence of dict
        AQI level table (``lo, hi, category, colour``), from :mod:`forecast.aqi`.
    """
    if table.empty:
        return empty_figure("无预报数据")
    x = list(pd.to_datetime(table["valid_date"]).dt.strftime("%Y-%m-%d"))
    lo_outer = table["aqi_p05"] if "aqi_p05" in table else table["aqi_p10"]
    hi_outer = table["aqi_p95"] if "aqi_p95" in table else table["aqi_p90"]
    ymax = float(np.nanmax([np.nanmax(hi_outer), 160.0])) * 1.15
    traces = [
        dict(type="scatter", x=x, y=list(hi_outer), mode="lines", line=dict(width=0), showlegend=False,
             hoverinfo="skip"),
        dict(type="scatter", x=x, y=list(lo_outer), mode="lines", line=dict(width=0), fill="tonexty",
             fillcolor="rgba(30,60,120,0.18)", name="5–95% 区间", customdata=np.c_[lo_outer, hi_outer].tolist(),
             hovertemplate="5–95%%: %{customdata[0]:.0f}–%{customdata[1]:.0f}<extra></extra>"),
    ]
    if "aqi_p25" in table and "aqi_p75" in table:
        traces += [
            dict(type="scatter", x=x, y=list(table["aqi_p75"]), mode="lines", line=dict(width=0), showlegend=False,
                 hoverinfo="skip"),
            dict(type="scatter", x=x, y=list(table["aqi_p25"]), mode="lines", line=dict(width=0), fill="tonexty",
                 fillcolor="rgba(30,60,120,0.35)", name="25–75% 区间",
                 customdata=np.c_[table["aqi_p25"], table["aqi_p75"]].tolist(),
                 hovertemplate="25–75%%: %{customdata[0]:.0f}–%{customdata[1]:.0f}<extra></extra>"),
        ]
    traces.append(dict(type="scatter", x=x, y=list(table["aqi_p50"]), mode="lines+markers", name="中位数",
                       line=dict(color="#102a5c", width=3), hovertemplate="中位数 AQI %{y:.0f}<extra></extra>"))
    shapes, notes = _level_bands(levels, ymax)
    shapes += [_hline(thr) for thr in (150, 200, 300) if thr < ymax]
    return _figure(traces, shapes, notes, title=title or "未来10天 AQI 概率预报",
                   yaxis=dict(title="AQI", range=[0, ymax], gridcolor="#eee"),
                   xaxis=dict(title="日期", tickformat="%m-%d", dtick=86400000.0),
                   legend=dict(orientation="h", y=-0.18), height=380, margin=dict(l=50, r=70, t=50, b=40))


def probability_figure(table: pd.DataFrame) -> go.Figure:
    """Daily probabilities of AQI > 150 / 200 / 300 as grouped bars [%]."""
    cols = [c for c in ("p_aqi_gt_150", "p_aqi_gt_200", "p_aqi_gt_300") if c in table]
    if table.empty or not cols:
        return empty_figure("无超标概率数据")
    x = list(pd.to_datetime(table["valid_date"]).dt.strftime("%Y-%m-%d"))
    traces = []
    for col in cols:
        thr = int(col.rsplit("_", 1)[-1])
        traces.append(dict(type="bar", x=x, y=list(100 * table[col]), name=f"P(AQI>{thr})",
                           marker=dict(color=_PROB_COLOURS[thr]),
                           hovertemplate=f"P(AQI>{thr}) " + "%{y:.0f}%<extra></extra>"))
    return _figure(traces, barmode="group", title="逐日超标概率",
                   yaxis=dict(title="概率 (%)", range=[0, 100], gridcolor="#eee"),
                   xaxis=dict(tickformat="%m-%d", dtick=86400000.0), legend=dict(orientation="h", y=-0.18),
                   height=320)


def pollutant_figure(table: pd.DataFrame) -> go.Figure:
    """Median forecast of each pollutant by day (µg/m³; CO in mg/m³ on a second axis)."""
    cols = [c for c in table.columns if c.endswith("_p50") and not c.startswith("aqi")]
    if table.empty or not cols:
        return empty_figure("无分污染物预报")
    x = list(pd.to_datetime(table["valid_date"]).dt.strftime("%Y-%m-%d"))
    traces = []
    for col in cols:
        var = col[:-4]
        label = POLLUTANT_LABELS.get(var, var)
        trace = dict(type="scatter", x=x, y=list(table[col]), mode="lines+markers",
                     name=label + (" (mg/m³)" if var == "co" else ""),
                     hovertemplate=label + " %{y:.1f}<extra></extra>")
        if var == "co":
            trace.update(yaxis="y2", line=dict(dash="dot"))
        traces.append(trace)
    return _figure(traces, title="分污染物浓度预报（中位数）",
                   yaxis=dict(title="浓度 (µg/m³)", gridcolor="#eee", rangemode="tozero"),
                   yaxis2=dict(title="CO (mg/m³)", overlaying="y", side="right", rangemode="tozero", showgrid=False,
                               tickmode="auto", nticks=6),  # round CO ticks, not the left axis's synced ones
                   xaxis=dict(tickformat="%m-%d", dtick=86400000.0), legend=dict(orientation="h", y=-0.18),
                   height=340)


def recent_figure(df: pd.DataFrame, levels: Sequence[dict]) -> go.Figure:
    """Recent observed AQI against the forecasts made for those days (lead days 1–3)."""
    if df.empty:
        return empty_figure("无近期预报检验数据")
    ymax = float(np.nanmax([df[["aqi_p50", "observed"]].max().max(), 160.0])) * 1.15
    first = df[df["lead_day"] == df["lead_day"].min()]
    fx = list(pd.to_datetime(first["valid_date"]).dt.strftime("%Y-%m-%d"))
    traces = []
    if {"aqi_p10", "aqi_p90"} <= set(df.columns):
        traces += [
            dict(type="scatter", x=fx, y=list(first["aqi_p90"]), mode="lines", line=dict(width=0), showlegend=False,
                 hoverinfo="skip"),
            dict(type="scatter", x=fx, y=list(first["aqi_p10"]), mode="lines", line=dict(width=0), fill="tonexty",
                 fillcolor="rgba(30,60,120,0.2)", name=f"提前{int(first['lead_day'].iloc[0])}天 10–90%"),
        ]
    dashes = {1: "solid", 2: "dash", 3: "dot"}
    for lead, part in df.groupby("lead_day"):
        traces.append(dict(type="scatter", x=list(pd.to_datetime(part["valid_date"]).dt.strftime("%Y-%m-%d")),
                           y=list(part["aqi_p50"]), mode="lines", name=f"提前{int(lead)}天预报",
                           line=dict(color="#1f4e99", dash=dashes.get(int(lead)))))
    obs = first.dropna(subset=["observed"])
    traces.append(dict(type="scatter", x=list(pd.to_datetime(obs["valid_date"]).dt.strftime("%Y-%m-%d")),
                       y=list(obs["observed"]), mode="markers+lines", name="实况", line=dict(color="black", width=2),
                       marker=dict(size=7)))
    shapes, notes = _level_bands(levels, ymax)
    return _figure(traces, shapes, notes, title="近期实况与预报对比",
                   yaxis=dict(title="AQI", range=[0, ymax], gridcolor="#eee"), xaxis=dict(tickformat="%m-%d"),
                   legend=dict(orientation="h", y=-0.18), height=360, margin=dict(l=50, r=70, t=50, b=40))


#: Verification metrics offered on the 会商 page (names of :func:`forecast.verify.score_table`) → label.
SCORE_LABELS: dict[str, str] = {
    "rmse": "均方根误差 RMSE", "mae": "平均绝对误差 MAE", "bias": "平均偏差", "corr": "相关系数",
    "level_acc": "AQI 级别准确率", "crps": "连续分级概率评分 CRPS",
    "ts_150": "TS 评分 (AQI>150)", "ts_200": "TS 评分 (AQI>200)", "ts_300": "TS 评分 (AQI>300)",
    "ets_200": "ETS 评分 (AQI>200)", "pod_200": "命中率 POD (AQI>200)", "far_200": "空报率 FAR (AQI>200)",
    "bss_150": "Brier 技巧评分 P(AQI>150)", "bss_200": "Brier 技巧评分 P(AQI>200)",
    "brier_200": "Brier 评分 P(AQI>200)",
    "level_accuracy_mode": "等级准确率（最可能等级）", "cma_level_score": "等级评分（中国气象局）",
    "cma_level_score_mode": "等级评分（最可能等级）", "cma_aqi_score": "AQI数值评分（中国气象局）",
    "primary_hit_rate": "首要污染物命中率",
}


def scorecard_figure(scores: pd.DataFrame, metric: str, intervals: pd.DataFrame | None = None,
                     scope: str = "") -> go.Figure:
    """A verification score per lead day, one line per model (airwarn, persistence, climatology).

    Parameters
    ----------
    scores : DataFrame
        ``lead_day, metric, model, value`` (``backtest_scores.csv``).
    metric : str
        Metric to draw.
    intervals : DataFrame, optional
        ``backtest_skill_intervals.csv`` (:func:`forecast.verify.skill_intervals`): the model's line
        gets error bars of its 95 % interval, and the hover text its advantage over the references.
    scope : str
        What was scored (e.g. "阳泉单城市回测"), shown in the title.
    """
    part = scores[scores["metric"] == metric] if not scores.empty else scores
    label = SCORE_LABELS.get(metric, metric)
    if part.empty:
        return empty_figure(f"无检验评分（{label}）")
    iv = (intervals[intervals["metric"] == metric] if intervals is not None and not intervals.empty
          else pd.DataFrame())
    traces = []
    order = {m: i for i, m in enumerate(_MODEL_LABELS)}  # the model first, then the references
    for model, rows in sorted(part.sort_values("lead_day").groupby("model", sort=False),
                              key=lambda item: order.get(str(item[0]), len(order))):
        trace = dict(type="scatter", x=list(rows["lead_day"]), y=list(rows["value"]), mode="lines+markers",
                     name=_MODEL_LABELS.get(str(model), str(model)),
                     line=dict(color=_MODEL_COLOURS.get(str(model)), width=3 if model == "airwarn" else 2))
        if model == "airwarn" and not iv.empty:
            own = iv.drop_duplicates("lead_day").set_index("lead_day").reindex(rows["lead_day"])
            y = rows["value"].to_numpy(float)
            trace["error_y"] = dict(type="data", symmetric=False, thickness=1.5, width=4,
                                    array=list(np.nan_to_num(own["airwarn_hi"].to_numpy(float) - y)),
                                    arrayminus=list(np.nan_to_num(y - own["airwarn_lo"].to_numpy(float))))
            trace["customdata"] = [_advantage_text(iv[iv["lead_day"] == lead]) for lead in rows["lead_day"]]
            trace["hovertemplate"] = "%{y:.3~g}（95%区间见误差线）<br>%{customdata}<extra>airwarn 模型</extra>"
        traces.append(trace)
    return _figure(traces, title=f"预报检验：{label}（{scope + '，' if scope else ''}按预报时效）",
                   xaxis=dict(title="预报时效（天）", dtick=1), yaxis=dict(title=label, gridcolor="#eee"),
                   legend=dict(orientation="h", y=-0.2), height=320, hovermode="x")


def _advantage_text(rows: pd.DataFrame) -> str:
    """Hover lines of one lead, e.g. "较持续性预报优势 +5.68 [+1.87, +9.4]" (a positive advantage favours
    the model; for a BSS the score itself), from its rows of the intervals table."""
    parts = []
    for r in rows.itertuples():
        ref = _MODEL_LABELS.get(r.reference, r.reference)
        what = "BSS" if str(r.metric).startswith("bss") else f"较{ref}优势"
        parts.append(f"{what} {r.advantage:+.3g} [{r.advantage_lo:+.3g}, {r.advantage_hi:+.3g}]")
    return "<br>".join(parts)


def map_figure(points: pd.DataFrame, highlight: str | None = None, title: str = "") -> go.Figure:
    """Cities on a lon/lat plane coloured by forecast AQI level (no tiles, no internet).

    Parameters
    ----------
    points : DataFrame
        ``city, lon, lat, aqi, category, colour`` (from :func:`dashboard.data.city_levels`).
    highlight : str, optional
        City drawn larger with a black ring.
    """
    if points.empty:
        return empty_figure("无城市坐标")
    is_hl = (points["city"] == highlight).to_numpy()
    traces = [dict(
        type="scatter", x=list(points["lon"]), y=list(points["lat"]), mode="markers+text", text=list(points["city"]),
        textposition="top center",
        marker=dict(color=list(points["colour"]), size=list(np.where(is_hl, 22, 14)),
                    line=dict(color=list(np.where(is_hl, "black", "#555")), width=1.5)),
        customdata=np.c_[points["aqi"].round(0), points["category"]].tolist(),
        hovertemplate="%{text}: AQI %{customdata[0]} %{customdata[1]}<extra></extra>", showlegend=False)]
    legend = points.sort_values("aqi")[["category", "colour"]].drop_duplicates()  # 优 → 严重污染
    for category, colour in legend.itertuples(index=False):
        traces.append(dict(type="scatter", x=[None], y=[None], mode="markers", marker=dict(color=colour, size=12),
                           name=category))
    return _figure(traces, title=title or "城市预报等级", height=460, hovermode="closest",
                   xaxis=dict(title="经度 (°E)", gridcolor="#eee", dtick=1, constrain="domain"),
                   yaxis=dict(title="纬度 (°N)", gridcolor="#eee", dtick=1, scaleanchor="x",
                              scaleratio=1 / float(np.cos(np.deg2rad(float(points["lat"].mean()))))),
                   legend=dict(orientation="h", y=-0.15))


def targets_figure(summary: pd.DataFrame, level_label: str, target: float | None) -> go.Figure:
    """Cut ratio per pollutant against the level's target (10 / 20 / 30 %).

    Parameters
    ----------
    summary : DataFrame
        ``pollutant, baseline, cut, ratio, target, met`` (ratio and target as fractions).
    """
    if summary.empty:
        return empty_figure("无减排数据")
    labels = [EMISSION_LABELS.get(p, p) for p in summary["pollutant"]]
    colours = ["#2e7d32" if m else "#c62828" for m in summary["met"]]
    traces = [dict(type="bar", x=labels, y=list(100 * summary["ratio"]), marker=dict(color=colours), name="减排比例",
                   text=[f"{100 * r:.1f}%<br>{c:.2f} t/d" for r, c in zip(summary["ratio"], summary["cut"])],
                   textposition="outside", hovertemplate="%{x}: %{y:.1f}%<extra></extra>")]
    shapes, notes = [], []
    if target is not None:
        shapes.append(_hline(100 * target, colour="black", width=2, dash="dash"))
        notes.append(dict(x=1, xref="paper", xanchor="right", y=100 * target, yref="y", yanchor="bottom",
                          text=f"目标 {100 * target:.0f}%", showarrow=False, font=dict(size=12)))
    top = max(float(np.nanmax(100 * summary["ratio"])) if len(summary) else 0, 100 * (target or 0)) * 1.3 + 5
    return _figure(traces, shapes, notes, title=f"{level_label}：各污染物减排比例与目标",
                   yaxis=dict(title="减排比例 (%)", range=[0, top], gridcolor="#eee"), height=340, showlegend=False,
                   hovermode="closest")


def groups_figure(groups: pd.DataFrame, by: str, title: str) -> go.Figure:
    """Cuts [t/day] per pollutant side by side per group (county, industry or grade)."""
    if groups.empty:
        return empty_figure("无分组减排数据")
    x = list(groups[by].astype(str))
    traces = [dict(type="bar", x=x, y=list(groups[f"cut_{pol}"]), name=EMISSION_LABELS[pol])
              for pol in ("so2", "nox", "pm", "vocs") if f"cut_{pol}" in groups]
    return _figure(traces, barmode="group", title=title, yaxis=dict(title="减排量 (t/d)", gridcolor="#eee"),
                   legend=dict(orientation="h", y=-0.25), height=340, hovermode="closest")


#: Colours of the warning levels (the ``.level-*`` badges of ``assets/style.css``).
WARNING_COLOURS: dict[str, str] = {"none": "#9E9E9E", "yellow": "#F2C200", "orange": "#FF7E00", "red": "#E00000"}


def level_outlook_figure(table: pd.DataFrame, title: str = "") -> go.Figure:
    """Calibrated probability of each warning level's criteria in the decision window and over the
    horizon, with the decision thresholds p*_L.

    Parameters
    ----------
    table : DataFrame
        One row per level: ``level`` (yellow/orange/red), ``label`` (黄色预警 …), ``window``,
        ``horizon`` and ``threshold`` (probabilities 0–1; ``horizon`` or ``threshold`` may be NaN).
    """
    if table.empty:
        return empty_figure("无分级概率")
    x = list(table["label"])
    colours = [WARNING_COLOURS.get(k, "#888") for k in table["level"]]
    traces = [
        dict(type="bar", x=x, y=list(100 * table["window"]), name="未来1–3天（决策窗口）",
             marker=dict(color=colours, line=dict(color="#333", width=1)),
             text=[f"{100 * v:.0f}%" for v in table["window"]], textposition="outside",
             hovertemplate="%{x}条件，未来1–3天：%{y:.0f}%<extra></extra>"),
        dict(type="bar", x=x, y=list(100 * table["horizon"].fillna(0)), name="未来10天（展望）",
             marker=dict(color=colours, opacity=0.4, line=dict(color="#333", width=1)),
             text=[f"{100 * v:.0f}%" if np.isfinite(v) else "" for v in table["horizon"]], textposition="outside",
             hovertemplate="%{x}条件，未来10天：%{y:.0f}%<extra></extra>"),
    ]
    thr = table["threshold"].to_numpy(float)
    if np.isfinite(thr).any():
        traces.append(dict(type="scatter", x=x, y=list(100 * thr), mode="markers", name="决策阈值 p*",
                           marker=dict(symbol="line-ew-open", size=70, color="black", line=dict(width=3)),
                           hovertemplate="%{x}决策阈值 p* = %{y:.0f}%<extra></extra>"))
    return _figure(traces, barmode="group", title=title or "各级预警条件的校准概率",
                   yaxis=dict(title="概率 (%)", range=[0, 112], gridcolor="#eee"),
                   legend=dict(orientation="h", y=-0.18), height=340, hovermode="closest")


_EVENT_KINDS = {"hit": ("命中", "#2e7d32"), "miss": ("漏报", "#c62828"), "false_alarm": ("空报", "#ef6c00"),
                "run": ("建议预警（与实况过程重叠）", "#1f4e99"), "pending": ("建议预警（待定：实况未到）", "#9e9e9e")}
_EVENT_ROWS = ("实况重污染过程", "系统建议预警")


def _level_label(key) -> str:
    from airwarn.vocab import WarningLevel

    try:
        return WarningLevel.parse(str(key)).label
    except KeyError:
        return ""


def _day(t) -> str:
    return "" if pd.isna(t) else pd.Timestamp(t).strftime("%Y-%m-%d")


def _event_hover(r) -> str:
    if r.kind in ("hit", "miss"):
        text = (f"{_EVENT_KINDS[r.kind][0]}：实况过程 {_day(r.observed_start)} 至 {_day(r.observed_end)}"
                f"（{_level_label(r.observed_level)}）")
        if r.kind == "hit":
            text += (f"<br>首次建议 {_day(r.first_issued)}（{_level_label(r.warned_level)}），"
                     f"提前 {int(r.lead_days)} 天")
        return text
    return (f"{_EVENT_KINDS[r.kind][0]}：建议时段 {_day(r.run_start)} 至 {_day(r.run_end)}"
            f"（最高{_level_label(r.warned_level)}），首次建议 {_day(r.first_issued)}")


def events_timeline_figure(events: pd.DataFrame, title: str = "", period: Sequence[str] | None = None) -> go.Figure:
    """Warning events on a timeline: observed episodes (hit or missed) on one row, the recommended
    runs (false alarms, runs overlapping an episode, undecided ones) on another.

    Parameters
    ----------
    events : DataFrame
        :data:`emergency.events.EVENT_COLUMNS` of one city and one decision (dates as Timestamps;
        ``kind`` one of hit, miss, false_alarm, run, pending).
    title : str
    period : (first, last) issue day, optional
        The x axis spans it (and the events reaching beyond it).
    """
    if events.empty:
        return empty_figure("无预警事件")
    day_ms = 86400000.0
    traces = []
    for kind, (label, colour) in _EVENT_KINDS.items():
        part = events[events["kind"] == kind]
        if part.empty:
            continue
        observed = kind in ("hit", "miss")
        start = pd.to_datetime(part["observed_start" if observed else "run_start"])
        end = pd.to_datetime(part["observed_end" if observed else "run_end"])
        traces.append(dict(type="bar", x=list(((end - start).dt.days + 1) * day_ms),
                           base=list(start.dt.strftime("%Y-%m-%d")), orientation="h",
                           y=[_EVENT_ROWS[0] if observed else _EVENT_ROWS[1]] * len(part), name=label,
                           marker=dict(color=colour, line=dict(color=colour, width=1)),
                           customdata=[_event_hover(r) for r in part.itertuples()],
                           hovertemplate="%{customdata}<extra></extra>"))
    xaxis = dict(type="date", tickformat="%Y-%m", gridcolor="#eee")
    if period is not None and len(period) == 2:
        ends = pd.to_datetime(pd.concat([events[c] for c in ("observed_end", "run_end")])).dropna()
        last = max(pd.Timestamp(period[1]), ends.max()) if len(ends) else pd.Timestamp(period[1])
        xaxis["range"] = [pd.Timestamp(period[0]).strftime("%Y-%m-%d"),
                          (last + pd.Timedelta(days=2)).strftime("%Y-%m-%d")]
    return _figure(traces, barmode="overlay", title=title or "预警事件时间线", height=300, hovermode="closest",
                   xaxis=xaxis,
                   yaxis=dict(categoryorder="array", categoryarray=list(reversed(_EVENT_ROWS)), automargin=True),
                   legend=dict(orientation="h", y=-0.2), margin=dict(l=110, r=20, t=50, b=40))
