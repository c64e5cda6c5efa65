"""The county ranking product: the ranking table, target tracking, and the monthly Chinese report (HTML).

:func:`build_ranking_product` turns station daily values with their county into a :class:`RankingProduct`:
the ranking of the counties over the period (:func:`forecast.ranking.ranking`, with the change rate against
the same period last year), and the tracking of the targets (:func:`load_targets`; 阳泉's bundled
``forecast/data/ranking_targets_yangquan.csv``): for the city's annual PM2.5 target, the mean the rest of the
year must keep and the bootstrap probability of meeting it; for the percentile targets (O3 90th percentile,
CO 95th percentile) the probability alone; for rank targets (平定县, 高新区 leaving the province's bottom 10)
the rank, when the ranking holds as many areas as the target counts. Each county's PM2.5 is tracked against
the city's target, labelled as a reference (the counties' own targets are not in the bundled file).

:func:`write_ranking_product` writes, atomically, into one folder:

* ``ranking.csv``: ``county,composite_index,rank,change_rate``, then each pollutant's term ``term_<p>``,
  the index of last year, the statistics ``c_<p>``, days, completeness, the standard, the period, ``synthetic``;
* ``ranking_tracking.json``: the period, the standard, the targets and their tracking, the city's monthly
  PM2.5 of the year (the tracking figure), the generation time (UTC ISO), ``synthetic``;
* ``ranking_report.html``: the Chinese monthly report (:func:`ranking_report_html`): ranking table, best and
  worst three, the improvers, the targets, the standard and the method, Beijing time of generation, the
  synthetic marking when the input is synthetic.

The city's daily values are the mean of all its (non-control) stations, as HJ 663 assesses a city.
"""
from __future__ import annotations

import datetime as dt
import html
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from airwarn.core.dates import format_beijing, to_beijing, utc_now
from airwarn.core.errors import InputError
from airwarn.core.files import atomic_write_text, csv_escape
from airwarn.core.products import RANKING_CSV, RANKING_REPORT_HTML, RANKING_TRACKING_JSON
from airwarn.core.units import CO_UNIT, CONCENTRATION
from airwarn.core.zh import zh_punct
from forecast.ranking import (DEFAULT_STANDARD, INDEX_POLLUTANTS, LimitSet, county_daily, load_limits,
                              parse_period, ranking, remove_dust, required_rest_mean, round_gbt8170,
                              target_probability)

__all__ = ["CSV_COLUMNS", "TARGETS_FILE", "RankingProduct", "build_ranking_product", "load_targets",
           "ranking_report_html", "write_ranking_product"]

#: 阳泉's bundled targets.
TARGETS_FILE = Path(__file__).resolve().parent / "data" / "ranking_targets_yangquan.csv"
#: Indicators a targets file may name, and the statistic each tracks.
INDICATORS = {"pm25_mean": ("pm25", "mean"), "o3_8h_p90": ("o3_8h", "p90"), "co_p95": ("co", "p95"),
              "rank_max": (None, None)}
#: The first columns of ``ranking.csv`` (then the other columns of the ranking).
CSV_COLUMNS: tuple[str, ...] = ("county", "composite_index", "rank", "change_rate",
                                *[f"term_{p}" for p in INDEX_POLLUTANTS])
#: Chinese labels of the pollutants.
POLLUTANT_ZH = {"so2": "SO₂", "no2": "NO₂", "pm10": "PM₁₀", "pm25": "PM₂.₅", "co": "CO", "o3_8h": "O₃-8h"}
#: Simulations of the target bootstrap.
N_SIMS = 2000


@dataclass
class RankingProduct:
    """A ranking run: the table, the tracking, and what was ranked (see the module notes)."""

    table: pd.DataFrame
    tracking: dict
    period: str
    period_zh: str
    kind: str
    standard: str
    limits_verified: bool
    city: str
    synthetic: bool
    source: str
    dust_station_days: int
    generated_utc: str = field(default_factory=lambda: utc_now().isoformat(timespec="seconds"))


def load_targets(path: str | Path | None = None) -> pd.DataFrame:
    """Targets (``area,indicator,target,of_total,source``; lines starting ``#`` are comments).

    Raises
    ------
    InputError
        A missing column, an unknown indicator or a target that is not a number (file, row, column named).
    """
    src = Path(path) if path is not None else TARGETS_FILE
    df = pd.read_csv(src, comment="#", dtype=str, keep_default_na=False)
    missing = [c for c in ("area", "indicator", "target") if c not in df.columns]
    if missing:
        raise InputError(f"{src}: missing column(s) {missing}; expected area,indicator,target[,of_total,source]")
    for c in ("of_total", "source"):
        if c not in df.columns:
            df[c] = ""
    for i, r in df.iterrows():
        if r["indicator"].strip() not in INDICATORS:
            raise InputError(f"{src}, data row {i + 1}, column 'indicator': expected one of {list(INDICATORS)}, "
                             f"got {r['indicator']!r}")
        for c in ("target", "of_total"):
            text = r[c].strip()
            if text or c == "target":
                try:
                    float(text)
                except ValueError:
                    raise InputError(f"{src}, data row {i + 1}, column {c!r}: expected a number, "
                                     f"got {r[c]!r}") from None
    df["area"] = df["area"].str.strip()
    df["indicator"] = df["indicator"].str.strip()
    df["target"] = df["target"].astype(float)
    df["of_total"] = pd.to_numeric(df["of_total"].str.strip().replace("", np.nan))
    return df


def _finite(v) -> float | None:
    return None if v is None or not np.isfinite(v) else float(v)


def build_ranking_product(station_daily: pd.DataFrame, period: str, *, ytd: bool = False,
                          standard: str | LimitSet = DEFAULT_STANDARD, allow_unverified: bool = False,
                          weighted: bool = False, city: str = "阳泉", targets: pd.DataFrame | str | Path | None = None,
                          dust_dates=None, synthetic: bool | None = None, source: str = "",
                          seed: int = 0) -> RankingProduct:
    """Rank the counties over ``period`` and track the targets.

    Parameters
    ----------
    station_daily : DataFrame
        ``county, station, date`` + the six pollutants (:func:`forecast.io.county_daily.read_county_daily`,
        :func:`forecast.ranking.station_daily_from_hourly`), optionally ``dust``, ``synthetic``.
    period : str
        ``YYYY-MM``; with ``ytd`` January to that month.
    standard, allow_unverified, weighted
        The limit set (:func:`forecast.ranking.load_limits`) and the [U] weights.
    city : str
        The city whose targets are tracked (its daily values: the mean of all stations).
    targets : DataFrame or path, optional
        :func:`load_targets`' table; default the bundled file when ``city`` is 阳泉, else none.
    dust_dates : iterable, optional
        Sand-dust days of every station (besides a ``dust`` column).
    synthetic : bool, optional
        Whether the input is synthetic (default: its ``synthetic`` column, if any row is).
    source : str
        The input named in the report.
    seed : int
        Seed of the target bootstrap.
    """
    per = parse_period(period, ytd=ytd)
    limits = standard if isinstance(standard, LimitSet) else load_limits(standard, allow_unverified=allow_unverified)
    if synthetic is None:
        synthetic = bool("synthetic" in station_daily.columns and station_daily["synthetic"].fillna(False).any())
    cd = county_daily(station_daily, dust_dates=dust_dates)
    table = ranking(cd, per, standard=limits, weighted=weighted)
    table["synthetic"] = bool(synthetic)
    if city.removesuffix("市") == "阳泉" and targets is None:
        targets = load_targets()
    elif targets is not None and not isinstance(targets, pd.DataFrame):
        targets = load_targets(targets)
    city_daily = county_daily(station_daily.assign(_city=city), dust_dates=dust_dates, by="_city")
    city_series = city_daily.set_index("date")
    last_day = pd.to_datetime(station_daily["date"]).max().date()
    as_of = min(per.end, last_day)
    tracking = _tracking(city, city_series, cd, table, targets, as_of, seed)
    dates = pd.to_datetime(station_daily["date"])
    in_period = (dates >= pd.Timestamp(per.start)) & (dates <= pd.Timestamp(per.end))
    dust_days = int(remove_dust(station_daily[in_period], dust_dates).attrs["dust_station_days"])
    return RankingProduct(table=table, tracking=tracking, period=per.label, period_zh=per.zh, kind=per.kind,
                          standard=limits.standard, limits_verified=limits.verified, city=city,
                          synthetic=bool(synthetic), source=source, dust_station_days=dust_days)


def _tracking(city: str, city_series: pd.DataFrame, cd: pd.DataFrame, table: pd.DataFrame,
              targets: pd.DataFrame | None, as_of: dt.date, seed: int) -> dict:
    year = as_of.year
    rows = []
    pm25_target = None
    for _, t in (targets.iterrows() if targets is not None else []):
        pollutant, statistic = INDICATORS[t["indicator"]]
        entry = {"area": t["area"], "indicator": t["indicator"], "target": float(t["target"]),
                 "source": t.get("source", ""), "reference": False}
        if pollutant is None:  # a rank target
            hit = table[table["county"] == t["area"]]
            n = int((table["rank"] > 0).sum())
            total = t["of_total"] if np.isfinite(t["of_total"]) else n
            entry.update(of_total=int(total), ranked=n, rank=int(hit["rank"].iloc[0]) if len(hit) else None)
            entry["status"] = ("unknown" if n < total or not len(hit)
                               else ("met" if hit["rank"].iloc[0] <= t["target"] else "not_met"))
            rows.append(entry)
            continue
        if t["area"] == city:
            series = city_series[pollutant]
        else:
            series = cd[cd["county"] == t["area"]].set_index("date")[pollutant]
        if pollutant == "pm25" and t["area"] == city:
            pm25_target = float(t["target"])
        entry.update(_track_one(series, float(t["target"]), as_of, statistic, seed))
        rows.append(entry)
    if pm25_target is not None:  # each county against the city's PM2.5 target, as a reference
        for county, g in cd.groupby("county", sort=True):
            entry = {"area": county, "indicator": "pm25_mean", "target": pm25_target, "reference": True,
                     "source": f"参照{city}全市目标"}
            entry.update(_track_one(g.set_index("date")["pm25"], pm25_target, as_of, "mean", seed))
            rows.append(entry)
    monthly = []
    if "pm25" in city_series.columns:
        s = city_series["pm25"]
        s = s[(s.index.year == year) & (s.index <= pd.Timestamp(as_of))]
        for m, g in s.groupby(s.index.month):
            monthly.append({"month": int(m), "mean": _finite(g.mean())})
        cum = s.expanding().mean().groupby(s.index.month).last()
        for item in monthly:
            item["cumulative_mean"] = _finite(cum.get(item["month"], np.nan))
    return {"year": year, "as_of": as_of.isoformat(), "city": city, "targets": rows, "city_pm25_monthly": monthly,
            "pm25_target": pm25_target}


def _track_one(series: pd.Series, target: float, as_of: dt.date, statistic: str, seed: int) -> dict:
    out: dict = {"statistic": statistic}
    if statistic == "mean":
        t = required_rest_mean(series, target, as_of)
        out.update(observed_days=t.observed_days, observed=_finite(t.observed_mean), remaining_days=t.remaining_days,
                   required_rest_mean=_finite(t.required_mean), on_track=t.on_track, feasible=t.feasible)
    try:
        p = target_probability(series, target, as_of, statistic, n_sims=N_SIMS, seed=seed)
    except InputError as exc:  # no past year to draw from
        out.update(probability=None, note=str(exc))
        if statistic != "mean":
            out.setdefault("observed", None)
        return out
    out.update(probability=p["probability"], simulated_median=_finite(p["median"]), simulated_p05=_finite(p["p05"]),
               simulated_p95=_finite(p["p95"]), pool_years=p["pool_years"], remaining_days=p["remaining_days"])
    out.setdefault("observed", _finite(p["observed"]))
    return out


def write_ranking_product(product: RankingProduct, out_dir: str | Path) -> dict[str, Path]:
    """Write ``ranking.csv``, ``ranking_tracking.json`` and ``ranking_report.html`` into ``out_dir``
    (atomically; the folder is created). Returns the paths by kind."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t = product.table
    cols = [*CSV_COLUMNS, *[c for c in t.columns if c not in CSV_COLUMNS]]
    csv = t[cols].copy()
    csv["county"] = csv["county"].map(csv_escape)
    paths = {"csv": out / RANKING_CSV, "tracking": out / RANKING_TRACKING_JSON, "report": out / RANKING_REPORT_HTML}
    atomic_write_text(paths["csv"], csv.to_csv(index=False, float_format="%.6g"))
    meta = {"period": product.period, "period_zh": product.period_zh, "kind": product.kind,
            "standard": product.standard, "limits_verified": product.limits_verified, "city": product.city,
            "synthetic": product.synthetic, "source": product.source, "generated_utc": product.generated_utc,
            "dust_station_days": product.dust_station_days, "tracking": product.tracking}
    atomic_write_text(paths["tracking"], json.dumps(meta, ensure_ascii=False, indent=1, default=_json_default))
    atomic_write_text(paths["report"], ranking_report_html(product))
    return paths


def _json_default(v):
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return None if not np.isfinite(v) else float(v)
    if isinstance(v, (np.bool_,)):
        return bool(v)
    raise TypeError(f"not JSON: {type(v).__name__}")


# --------------------------------------------------------------------------- the report
_CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2em;color:#222;max-width:1100px}
h1{font-size:1.45em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0;font-size:.92em}
th,td{border:1px solid #bbb;padding:.25em .6em;text-align:left}th{background:#f0f0f0}
td.n{text-align:right}.synthetic{color:#b00020;font-weight:bold;border:2px solid #b00020;padding:.3em .6em}
.bad{color:#b00020}.good{color:#1b7a2f}.note{color:#555;font-size:.9em}
"""


def _e(v) -> str:
    return html.escape(zh_punct(str(v)))


def _num(v, decimals: int = 2) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "—"
    return f"{round_gbt8170(float(v), decimals):.{decimals}f}"


def _rate(v) -> str:
    if v is None or not np.isfinite(v):
        return "—"
    return f"{v:+.1f}%"


def _table(head: list[str], rows: list[list[str]], numeric: set[int] = frozenset()) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    num = ' class="n"'
    body = "".join("<tr>" + "".join(f"<td{num if i in numeric else ''}>{c}</td>" for i, c in enumerate(r))
                   + "</tr>" for r in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body or '<tr><td colspan=99>无</td></tr>'}</tbody></table>"


def _names(df: pd.DataFrame) -> str:
    return "、".join(f"{html.escape(str(r['county']))}（{_num(r['composite_index'])}）" for _, r in df.iterrows()) or "无"


def ranking_report_html(product: RankingProduct) -> str:
    """The Chinese monthly ranking report of ``product`` as one self-contained HTML page."""
    t = product.table
    ranked = t[t["rank"] > 0]
    title = f"{product.city}各区县环境空气质量综合指数排名（{product.period_zh}）"
    made = format_beijing(to_beijing(dt.datetime.fromisoformat(product.generated_utc)))
    parts = [f"<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
             f"<style>{_CSS}</style></head><body>"]
    if product.synthetic:
        parts.append('<p class="synthetic">【合成数据】本报告由合成（模拟）数据生成，仅供演示和测试，不代表真实空气质量。</p>')
    parts.append(f"<h1>{html.escape(title)}</h1>")
    std = product.standard.replace("GB3095", "GB 3095")
    parts.append(f"<p>评价时段：{html.escape(product.period_zh)}；评价标准：{html.escape(std)}"
                 + ("" if product.limits_verified else "（该版本限值用于综合指数尚未核实）")
                 + f"；生成时间：{html.escape(made)}；数据来源：{_e(product.source or '站点日均值')}。</p>")
    pol = INDEX_POLLUTANTS
    head = ["排名", "区县", "综合指数", "上年同期", "同比变化率"] + [f"{POLLUTANT_ZH[p]}单项指数" for p in pol]
    rows = []
    for _, r in t.iterrows():
        rows.append([str(r["rank"]) if r["rank"] > 0 else "—", html.escape(str(r["county"])),
                     _num(r["composite_index"]), _num(r.get("index_last_year")), _rate(r["change_rate"])]
                    + [_num(r[f"term_{p}"]) for p in pol])
    parts.append("<h2>一、综合指数排名</h2>")
    parts.append(_table(head, rows, numeric={0, 2, 3, 4, *range(5, 5 + len(pol))}))
    if ranked.empty:
        parts.append("<p>本时段无可排名的区县。</p>")
    else:
        parts.append("<h2>二、排名前三与后三</h2>")
        best, worst = ranked.head(3), ranked.sort_values(["rank", "county"], ascending=[False, True]).head(3)
        parts.append(f"<p>综合指数最低（空气质量相对较好）的三个区县：{_names(best)}。</p>")
        parts.append(f"<p>综合指数最高（空气质量相对较差）的三个区县：{_names(worst)}。</p>")
        parts.append("<h2>三、同比变化（改善幅度）</h2>")
        rated = ranked[np.isfinite(ranked["change_rate"].astype(float))].sort_values(["change_rate", "county"])
        if rated.empty:
            parts.append("<p>无上年同期数据，未计算同比变化率。</p>")
        else:
            better = rated[rated["change_rate"] < 0].head(3)
            worse = rated[rated["change_rate"] > 0].sort_values("change_rate", ascending=False).head(3)
            parts.append("<p>改善幅度最大：" + ("、".join(f"{html.escape(str(r['county']))}（{_rate(r['change_rate'])}）"
                                                    for _, r in better.iterrows()) or "无") + "。</p>")
            parts.append("<p>同比变差：" + ("、".join(f"{html.escape(str(r['county']))}（{_rate(r['change_rate'])}）"
                                                for _, r in worse.iterrows()) or "无") + "。</p>")
    parts.append(_targets_html(product))
    parts.append(_method_html(product))
    parts.append("</body></html>")
    return "\n".join(parts)


_IND_ZH = {"pm25_mean": "PM₂.₅年均浓度", "o3_8h_p90": "O₃日最大8小时第90百分位数", "co_p95": "CO日均值第95百分位数",
           "rank_max": "全省排名"}


def _targets_html(product: RankingProduct) -> str:
    tr = product.tracking
    rows = []
    for e in tr.get("targets", []):
        unit = CO_UNIT.text if e["indicator"] == "co_p95" else ("名" if e["indicator"] == "rank_max"
                                                                 else CONCENTRATION.text)
        target = (f"≤ {e['target']:g} {unit}" if e["indicator"] != "rank_max"
                  else f"前 {e['target']:g} 名（共 {e.get('of_total', '')} 个）")
        if e["indicator"] == "rank_max":
            now = f"第 {e['rank']} 名（本排名共 {e['ranked']} 个）" if e.get("rank") else "—"
            need = "—"
            prob = {"met": "达到", "not_met": "未达到"}.get(e["status"], f"需全省 {e.get('of_total')} 个区县的排名数据才能判断")
        else:
            dec = 1 if e["indicator"] == "co_p95" else 0
            now = _num(e.get("observed"), dec)
            need = _num(e.get("required_rest_mean"), 1) if e.get("required_rest_mean") is not None else "—"
            if e.get("required_rest_mean") is not None and e.get("feasible") is False:
                need += "（已无法达到）"
            prob = "—" if e.get("probability") is None else f"{100 * e['probability']:.0f}%"
        area = html.escape(str(e["area"])) + ("（参照全市目标）" if e.get("reference") else "")
        rows.append([area, html.escape(_IND_ZH[e["indicator"]]), html.escape(target), now, need, prob])
    head = ["地区", "指标", "目标", f"{tr.get('year')}年截至{tr.get('as_of')}", "其余天数须保持的均值", "达标概率（情景模拟）"]
    return ("<h2>四、目标进度</h2>" + _table(head, rows, numeric={3, 4, 5})
            + "<p class=\"note\">其余天数须保持的均值 =（目标 × 全年有效天数 − 已观测天数浓度之和）÷ 剩余天数；"
              "达标概率：剩余各月的逐日值取自往年同月（整月抽取，2000 次模拟），统计全年指标不超过目标的比例。"
              "往年数据越少，概率越粗略。</p>")


def _method_html(product: RankingProduct) -> str:
    std = product.standard.replace("GB3095", "GB 3095")
    return ("<h2>五、计算方法</h2><ul class=\"note\">"
            f"<li>综合指数为六项污染物单项指数之和，单项指数 = 浓度统计值 ÷ 标准限值（{html.escape(std)}；"
            "SO₂、NO₂、PM₁₀、PM₂.₅ 为年均二级浓度限值，O₃ 为日最大8小时二级浓度限值，CO 为日均二级浓度限值）。</li>"
            "<li>SO₂、NO₂、PM₁₀、PM₂.₅ 取时段平均浓度；O₃ 取日最大8小时平均第90百分位数；CO 取日均值第95百分位数；"
            "百分位数按 HJ 663-2013 计算。</li>"
            "<li>浓度统计值按 GB/T 8170 修约（CO 保留1位小数，其余取整）；单项指数不修约，综合指数保留2位小数；"
            "综合指数相同的区县以并列计。</li>"
            f"<li>沙尘天气影响日的 PM₁₀、PM₂.₅ 数据不参与统计（本时段共扣除 {product.dust_station_days} 个站日）。</li>"
            "<li>同比变化率 =（本期综合指数 − 上年同期综合指数）÷ 上年同期综合指数 × 100%，两期采用同一套标准限值；"
            "负值表示改善。</li>"
            "<li>区县日均值为该区县各站点日均值的算术平均；全市日均值为全部站点的算术平均。</li></ul>")
