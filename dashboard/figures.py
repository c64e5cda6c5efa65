"""Pure figure functions: DataFrame (and the AQI level table) in, ``go.Figure`` out.

Nothing here reads a file or the database; the level colours always come in as
an argument (from :func:`dashboard.services.products.aqi_levels`, i.e. :mod:`forecast.aqi`).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from airwarn.core.errors import UnknownNameError
from airwarn.core.units import CO_UNIT, CONCENTRATION, EMISSION
from airwarn.core.vocab import (AQI_HEAVY, AQI_MODERATE, AQI_SEVERE, AQI_THRESHOLDS, EMISSION_LABELS,
                                EMISSION_POLLUTANTS, POLLUTANT_LABELS)
from forecast.product import P_VARS

#: Font stack with CJK faces commonly installed on Linux and Windows offices.
FONT = "Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, WenQuanYi Micro Hei, SimHei, sans-serif"
_BASE_LAYOUT = dict(font=dict(family=FONT, size=13), margin=dict(l=50, r=20, t=50, b=40),
                    plot_bgcolor="white", paper_bgcolor="white", hovermode="x unified")
_PROB_COLOURS = {AQI_MODERATE: "#FF7E00", AQI_HEAVY: "#FF0000", AQI_SEVERE: "#99004C"}
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


def _level_bands(levels: Sequence[dict], ymax: float, opacity: float = 0.18) -> tuple[list[dict], list[dict]]:
    """Shapes (coloured AQI bands, below the traces) and their category labels up to ``ymax``."""
    shapes, notes = [], []
    for lv in levels:
        if lv["lo"] > ymax:
            break
        y0, y1 = max(lv["lo"] - (1 if lv["lo"] > 0 else 0), 0), min(lv["hi"], ymax)
        shapes.append(dict(type="rect", xref="paper", x0=0, x1=1, yref="y", y0=y0, y1=y1, fillcolor=lv["colour"],
                           opacity=opacity, line=dict(width=0), layer="below"))
        notes.append(dict(x=1.0, xref="paper", xanchor="left", y=(lv["lo"] + y1) / 2, yref="y",
                          text=lv["category"], showarrow=False, font=dict(size=11, color="#444")))
    return shapes, notes


def range_text(lo: float, hi: float, median: float, levels: Sequence[dict]) -> str:
    """Forecast range wording: "AQI 180–230，重度污染" (the interquartile range, the median's category)."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return ""
    cat = next((lv["category"] for lv in levels if lv["lo"] <= round(median) <= lv["hi"]), "")
    return f"AQI {lo:.0f}–{hi:.0f}" + (f"，{cat}" if cat else "")


def primary_text(value) -> str:
    """Primary pollutant(s) "pm25,o3_8h" as "PM2.5、O3-8h" ("—" for none)."""
    names = [POLLUTANT_LABELS.get(v.strip(), v.strip()) for v in str(value or "").split(",") if v.strip()]
    return "、".join(names) or "—"


def fan_figure(table: pd.DataFrame, levels: Sequence[dict], title: str = "", observed: pd.DataFrame | None = None,
               issued=None, compare: pd.DataFrame | None = None, compare_label: str = "") -> go.Figure:
    """10-day AQI forecast as a quantile fan over the official AQI colour bands, after the observed days.

    Parameters
    ----------
    table : DataFrame
        One row per lead day: ``valid_date, aqi_p05, aqi_p25, aqi_p50, aqi_p75, aqi_p95``
        (``aqi_p10``/``aqi_p90`` used when p05/p95 are absent), optionally ``primary_pollutant``.
    levels : sequence of dict
        AQI level table (``lo, hi, category, colour``), from :mod:`forecast.aqi`.
    observed : DataFrame, optional
        ``date, aqi``: the observed days before the forecast (drawn as a black line into the fan).
    issued : date, optional
        The product day, marked by a vertical line.
    compare : DataFrame, optional
        Another issue day's table: its median and 25–75 % range drawn dashed over this one.
    compare_label : str
        Its name in the legend (e.g. "01-08 起报").
    """
    if table.empty:
        return empty_figure("无预报数据")
    x = list(pd.to_datetime(table["valid_date"]).dt.strftime("%Y-%m-%d"))
    lo_outer = table["aqi_p05"] if "aqi_p05" in table else table["aqi_p10"]
    hi_outer = table["aqi_p95"] if "aqi_p95" in table else table["aqi_p90"]
    tops = [np.nanmax(hi_outer), 160.0]
    if observed is not None and len(observed):
        tops.append(np.nanmax(observed["aqi"].to_numpy(float)))
    ymax = float(np.nanmax(tops)) * 1.15
    traces = []
    if observed is not None and len(observed):
        traces.append(dict(type="scatter", x=list(pd.to_datetime(observed["date"]).dt.strftime("%Y-%m-%d")),
                           y=list(observed["aqi"].astype(float)), mode="lines+markers", name="实况 AQI",
                           line=dict(color="black", width=2), marker=dict(size=5),
                           hovertemplate="实况 AQI %{y:.0f}<extra></extra>"))
    traces += [
        dict(type="scatter", x=x, y=list(hi_outer), mode="lines", line=dict(width=0), showlegend=False,
             hoverinfo="skip"),
        dict(type="scatter", x=x, y=list(lo_outer), mode="lines", line=dict(width=0), fill="tonexty",
             fillcolor="rgba(30,60,120,0.16)", name="5–95% 区间", customdata=np.c_[lo_outer, hi_outer].tolist(),
             hovertemplate="5–95% 区间：%{customdata[0]:.0f}–%{customdata[1]:.0f}<extra></extra>"),
    ]
    p25 = table["aqi_p25"] if "aqi_p25" in table else lo_outer
    p75 = table["aqi_p75"] if "aqi_p75" in table else hi_outer
    if "aqi_p25" in table and "aqi_p75" in table:
        traces += [
            dict(type="scatter", x=x, y=list(table["aqi_p75"]), mode="lines", line=dict(width=0), showlegend=False,
                 hoverinfo="skip"),
            dict(type="scatter", x=x, y=list(table["aqi_p25"]), mode="lines", line=dict(width=0), fill="tonexty",
                 fillcolor="rgba(30,60,120,0.30)", name="25–75% 区间",
                 customdata=np.c_[table["aqi_p25"], table["aqi_p75"]].tolist(),
                 hovertemplate="25–75% 区间：%{customdata[0]:.0f}–%{customdata[1]:.0f}<extra></extra>"),
        ]
    primary = table["primary_pollutant"] if "primary_pollutant" in table else pd.Series([""] * len(table))
    words = [[range_text(a, b, m, levels), primary_text(pp)]
             for a, b, m, pp in zip(p25.astype(float), p75.astype(float), table["aqi_p50"].astype(float), primary)]
    traces.append(dict(type="scatter", x=x, y=list(table["aqi_p50"]), mode="lines+markers", name="中位数",
                       line=dict(color="#102a5c", width=3), customdata=words,
                       hovertemplate="中位数 AQI %{y:.0f}（%{customdata[0]}）<br>首要污染物：%{customdata[1]}"
                                     "<extra></extra>"))
    if compare is not None and not compare.empty:
        cx = list(pd.to_datetime(compare["valid_date"]).dt.strftime("%Y-%m-%d"))
        traces.append(dict(type="scatter", x=cx, y=list(compare["aqi_p50"]), mode="lines+markers",
                           name=f"中位数（{compare_label}）" if compare_label else "中位数（对比）",
                           line=dict(color="#c2185b", width=2, dash="dash"), marker=dict(symbol="diamond"),
                           hovertemplate=f"{compare_label or '对比'} 中位数 AQI " + "%{y:.0f}<extra></extra>"))
        if "aqi_p25" in compare and "aqi_p75" in compare:
            traces.append(dict(type="scatter", x=cx + cx[::-1],
                               y=list(compare["aqi_p75"]) + list(compare["aqi_p25"])[::-1], mode="lines",
                               line=dict(color="#c2185b", width=1, dash="dot"), fill="toself",
                               fillcolor="rgba(194,24,91,0.06)", hoverinfo="skip",
                               name=f"25–75% 区间（{compare_label or '对比'}）"))
    shapes, notes = _level_bands(levels, ymax, opacity=0.32)
    shapes += [_hline(thr) for thr in AQI_THRESHOLDS if thr < ymax]
    if issued is not None:
        day = pd.Timestamp(issued).strftime("%Y-%m-%d")
        shapes.append(dict(type="line", xref="x", x0=day, x1=day, yref="paper", y0=0, y1=1,
                           line=dict(color="#333", width=1.5, dash="dash")))
        notes.append(dict(x=day, xref="x", y=1.0, yref="paper", yanchor="bottom", showarrow=False,
                          text=f"起报日 {pd.Timestamp(issued):%m-%d}", font=dict(size=11, color="#333")))
    return _figure(traces, shapes, notes, title=title or "未来10天 AQI 概率预报",
                   yaxis=dict(title="AQI", range=[0, ymax], gridcolor="#eee"),
                   xaxis=dict(title="日期", tickformat="%m-%d", dtick=86400000.0 * (2 if observed is not None
                                                                                    and len(observed) > 10 else 1)),
                   legend=dict(orientation="h", y=-0.2), height=400, margin=dict(l=50, r=70, t=60, b=40))


def probability_figure(table: pd.DataFrame) -> go.Figure:
    """Daily probabilities of AQI > 150 / 200 / 300 as grouped bars [%]."""
    cols = [c for c in P_VARS if c in table]
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
                     name=label + (f" ({CO_UNIT.text})" if var == "co" else ""),
                     hovertemplate=label + " %{y:.1f}<extra></extra>")
        if var == "co":
            trace.update(yaxis="y2", line=dict(dash="dot"))
        traces.append(trace)
    return _figure(traces, title="分污染物浓度预报（中位数）",
                   yaxis=dict(title=f"浓度 ({CONCENTRATION.text})", gridcolor="#eee", rangemode="tozero"),
                   yaxis2=dict(title=f"CO ({CO_UNIT.text})", overlaying="y", side="right", rangemode="tozero", showgrid=False,
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


#: Colour of the cities of the region that the forecast does not cover, and of the outlines.
_NO_DATA_COLOUR = "#E6E6E6"
_PROVINCE_LINE = "#8c8c8c"


def _ring_xy(rings) -> tuple[list, list]:
    """Concatenated ``x, y`` lists of closed rings separated by None (one fill per ring), rounded to
    0.001° (~100 m) to keep the page payload small."""
    xs: list = []
    ys: list = []
    for ring in rings:
        xs += np.round(ring[:, 0], 3).tolist() + [None]
        ys += np.round(ring[:, 1], 3).tolist() + [None]
    return xs[:-1], ys[:-1]


def _map_label_points(points: pd.DataFrame, cities: dict) -> tuple[list, list]:
    """Label position of each city: the representative point of its boundary (inside the polygon),
    else its forecast coordinates."""
    from dashboard.boundaries import representative_point

    lons, lats = [], []
    for r in points.itertuples():
        at = representative_point(cities.get(r.city, ()))
        lon, lat = at if at else (getattr(r, "lon", np.nan), getattr(r, "lat", np.nan))
        lons.append(round(float(lon), 3))
        lats.append(round(float(lat), 3))
    return lons, lats


def map_figure(points: pd.DataFrame, highlight: str | None = None, title: str = "",
               boundaries: dict | None = None, levels: Sequence[dict] | None = None) -> go.Figure:
    """A filled map of the cities' forecast AQI levels on a lon/lat plane (no tiles, no internet).

    Each city with data is its boundary polygon filled with the HJ 633 colour of its level; the
    region's cities without data are grey, the provinces and the highlighted city's districts and
    counties are outlined, and each city with data has a label at a point inside its polygon.
    Without boundaries the cities are markers at their coordinates.

    Parameters
    ----------
    points : DataFrame
        ``city, aqi, category, colour`` and, for cities without a boundary, ``lon, lat``
        (from :func:`dashboard.services.products.city_levels`).
    highlight : str, optional
        City drawn with a black outline (its counties outlined inside).
    boundaries : dict, optional
        From :func:`dashboard.services.products.map_boundaries`: ``cities`` (name → rings; the cities with data),
        ``context`` (the region's cities without data), ``counties`` (of ``highlight``), ``provinces``.
    levels : sequence of dict, optional
        The AQI level table (:func:`dashboard.services.products.aqi_levels`): the legend lists every level in Chinese.
    """
    bounds = boundaries or {}
    cities = bounds.get("cities", {})
    has_place = [bool(cities.get(c)) for c in points["city"]]
    if "lon" in points.columns:
        has_place = [h or (np.isfinite(x) and np.isfinite(y))
                     for h, x, y in zip(has_place, points["lon"].astype(float), points["lat"].astype(float))]
    points = points[has_place]
    if points.empty:
        return empty_figure("无城市边界或坐标")
    lons, lats = _map_label_points(points, cities)
    is_hl = (points["city"] == highlight).to_numpy()
    hover = [f"{c}：AQI {a:.0f}（{k}）" if np.isfinite(a) else f"{c}：无预报"
             for c, a, k in zip(points["city"], points["aqi"].astype(float), points["category"])]
    traces: list[dict] = [dict(  # first: the labels (kept first for callers; drawn on top by zorder)
        type="scatter", x=lons, y=lats, mode="markers+text", text=list(points["city"]), textposition="top center",
        textfont=dict(size=14, color="#000",
                      shadow="1px 1px 1px #fff, -1px -1px 1px #fff, 1px -1px 1px #fff, -1px 1px 1px #fff"),
        marker=dict(color=list(points["colour"]), size=list(np.where(is_hl, 12, 8)),
                    line=dict(color="#222", width=1.2)),
        hovertext=hover, hoverinfo="text", showlegend=False, zorder=10, cliponaxis=False)]
    outline = dict(type="scatter", mode="lines", hoverinfo="skip", showlegend=False)
    provinces = [r for rings in bounds.get("provinces", {}).values() for r in rings]
    if provinces:
        xs, ys = _ring_xy(provinces)
        traces.append({**outline, "x": xs, "y": ys, "name": "省界", "line": dict(color=_PROVINCE_LINE, width=1.2),
                       "zorder": 1})
    for name, rings in bounds.get("context", {}).items():
        xs, ys = _ring_xy(rings)
        traces.append(dict(type="scatter", x=xs, y=ys, mode="lines", fill="toself", fillcolor=_NO_DATA_COLOUR,
                           line=dict(color="#ffffff", width=0.8), name=f"{name}：无预报", hoveron="fills",
                           hoverinfo="name", showlegend=False, zorder=2))
    for r, text in zip(points.itertuples(), hover):
        rings = cities.get(r.city)
        if not rings:
            continue
        xs, ys = _ring_xy(rings)
        traces.append(dict(type="scatter", x=xs, y=ys, mode="lines", fill="toself", fillcolor=r.colour,
                           line=dict(color="#ffffff", width=0.8), name=text, hoveron="fills", hoverinfo="name",
                           showlegend=False, zorder=3, meta=r.city))
    if highlight and cities.get(highlight):
        xs, ys = _ring_xy(cities[highlight])
        traces.append({**outline, "x": xs, "y": ys, "name": f"{highlight}市界", "line": dict(color="#000", width=2.4),
                       "zorder": 6})
    counties = bounds.get("counties", {})
    if counties:
        xs, ys = _ring_xy([r for rings in counties.values() for r in rings])
        traces.append({**outline, "x": xs, "y": ys, "name": f"{highlight}区县界",
                       "line": dict(color="#ffffff", width=1.3, dash="dash"), "zorder": 5})
    shown = levels or [dict(category=k, colour=c) for k, c in
                       points.sort_values("aqi")[["category", "colour"]].drop_duplicates().itertuples(index=False)]
    legend = [(lv["category"], lv["colour"]) for lv in shown]
    if bounds.get("context"):
        legend.append(("无预报", _NO_DATA_COLOUR))
    for category, colour in legend:
        traces.append(dict(type="scatter", x=[None], y=[None], mode="markers", name=category,
                           marker=dict(color=colour, size=13, symbol="square", line=dict(color="#999", width=0.5))))
    xs = [v for t in traces[1:] for v in t["x"] if v is not None] + lons
    ys = [v for t in traces[1:] for v in t["y"] if v is not None] + lats
    pad = 0.25
    x0, x1, y0, y1 = min(xs) - pad, max(xs) + pad, min(ys) - pad, max(ys) + pad
    if boundaries is not None and provinces:  # the provinces are context: fit the cities, not whole provinces
        drawn = [r for rings in (*cities.values(), *bounds.get("context", {}).values()) for r in rings]
        if drawn:
            x0, x1 = min(r[:, 0].min() for r in drawn) - pad, max(r[:, 0].max() for r in drawn) + pad
            y0, y1 = min(r[:, 1].min() for r in drawn) - pad, max(r[:, 1].max() for r in drawn) + pad
    ratio = 1 / float(np.cos(np.deg2rad((y0 + y1) / 2)))
    return _figure(traces, title=title or "城市预报等级", height=700, hovermode="closest",
                   plot_bgcolor="#f7fbff",
                   xaxis=dict(title="经度（°E）", gridcolor="#e6eef5", dtick=1, range=[x0, x1], constrain="domain",
                              zeroline=False),
                   yaxis=dict(title="纬度（°N）", gridcolor="#e6eef5", dtick=1, range=[y0, y1], scaleanchor="x",
                              scaleratio=ratio, zeroline=False),
                   legend=dict(x=1.02, y=1, yanchor="top", title=dict(text="空气质量等级")))


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
                   text=[f"{100 * r:.1f}%<br>{c:.2f} {EMISSION.text}" for r, c in zip(summary["ratio"], summary["cut"])],
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


def compliance_cut_figure(reductions: pd.DataFrame, title: str = "") -> go.Figure:
    """Planned against compliance-adjusted cut ratio per pollutant, with each pollutant's target (督查).

    Parameters
    ----------
    reductions : DataFrame
        ``pollutant, planned, adjusted, target, planned_ratio, adjusted_ratio`` (ratios and target as
        fractions; :func:`emergency.compliance.achieved_reductions` of one day).
    """
    if reductions.empty or not np.isfinite(reductions["planned_ratio"].to_numpy(dtype=float)).any():
        return empty_figure("无核查后减排数据")
    labels = [EMISSION_LABELS.get(p, p) for p in reductions["pollutant"]]
    traces = []
    for col, amount, name, colour in (("planned_ratio", "planned", "计划", "#90a4ae"),
                                      ("adjusted_ratio", "adjusted", "核查后", "#1565c0")):
        y = [100 * float(v) for v in reductions[col]]
        traces.append(dict(type="bar", x=labels, y=y, name=name, marker=dict(color=colour),
                           text=[f"{v:.1f}%" for v in y], textposition="outside",
                           customdata=[float(a) for a in reductions[amount]],
                           hovertemplate=f"%{{x}} {name}：%{{y:.1f}}%，%{{customdata:.2f}} {EMISSION.text}<extra></extra>"))
    target = pd.to_numeric(reductions["target"], errors="coerce").to_numpy(dtype=float)
    if np.isfinite(target).any():
        traces.append(dict(type="scatter", mode="markers", x=labels, y=list(100 * target), name="目标",
                           marker=dict(symbol="line-ew-open", size=34, color="black", line=dict(width=3)),
                           hovertemplate="%{x} 目标：%{y:.0f}%<extra></extra>"))
    values = np.concatenate([100 * reductions[c].to_numpy(dtype=float) for c in ("planned_ratio", "adjusted_ratio")]
                            + [100 * target])
    top = float(np.nanmax(values)) * 1.3 + 5 if np.isfinite(values).any() else 100
    return _figure(traces, barmode="group", title=title or "计划与核查后减排比例",
                   yaxis=dict(title="减排比例 (%)", range=[0, top], gridcolor="#eee"),
                   legend=dict(orientation="h", y=-0.2), height=320, hovermode="closest")


def groups_figure(groups: pd.DataFrame, by: str, title: str) -> go.Figure:
    """Cuts [t/day] per pollutant side by side per group (county, industry or grade)."""
    if groups.empty:
        return empty_figure("无分组减排数据")
    x = list(groups[by].astype(str))
    traces = [dict(type="bar", x=x, y=list(groups[f"cut_{pol}"]), name=EMISSION_LABELS[pol])
              for pol in EMISSION_POLLUTANTS if f"cut_{pol}" in groups]
    return _figure(traces, barmode="group", title=title, yaxis=dict(title=f"减排量 ({EMISSION.text})", gridcolor="#eee"),
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
    from airwarn.core.vocab import WarningLevel

    try:
        return WarningLevel.parse(str(key)).label
    except UnknownNameError:
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
