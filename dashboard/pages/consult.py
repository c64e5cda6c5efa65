"""会商 consultation page: the 10-day probabilistic outlook, its verification and the note."""
from __future__ import annotations

import dash
from dash import Input, Output, State, callback, dcc, html

from dashboard import auth, data, figures, ids
from dashboard.pages._common import ALL_ROLES, GRAPH_CONFIG as _GRAPH_CONFIG, error_box, sign_in_needed

dash.register_page(__name__, path="/consult", name="会商", title="每日会商", order=1)

#: Roles that may write the consultation note.
NOTE_ROLES = ("forecaster", "commander")


def layout(city: str | None = None, date: str | None = None, **_: str) -> html.Div:
    """The consultation page (any signed-in user; writing the note needs forecaster or commander)."""
    user = auth.current_user()
    if user is None:
        return sign_in_needed("/consult")
    s = data.settings()
    dates = data.product_dates(s)
    if not dates:
        return html.Div([html.H2("每日会商", className="page-title"),
                         error_box(f"尚无预报产品（{s.output_dir}）：请先运行 airwarn daily 或 airwarn demo。")])
    ds = data.load_forecast(dates[0], s)
    cities = data.forecast_cities(ds)
    city = city if city in cities else (s.city if s.city in cities else cities[0])
    scores = data.backtest_scores(s)
    metrics = [m for m in figures.SCORE_LABELS if m in set(scores["metric"])] or ["rmse"]
    leads = [int(v) for v in ds["lead_day"].values]
    can_write = user.role.value in NOTE_ROLES
    return html.Div([
        html.H2("每日会商：未来10天空气质量概率预报", className="page-title"),
        html.Div([
            html.Label("城市"),
            dcc.Dropdown(cities, city, id=ids.CONSULT_CITY, clearable=False, style={"width": 160}),
            html.Label("起报日期"),
            dcc.Dropdown([d.isoformat() for d in dates], (date if date else dates[0].isoformat()),
                         id=ids.CONSULT_DATE, clearable=False, style={"width": 160}),
            html.Span(id=ids.CONSULT_SUMMARY),
        ], className="toolbar"),
        dcc.Tabs(id=ids.CONSULT_TABS, value="outlook", children=[
            dcc.Tab(label="概率预报", value="outlook", id="consult-tab-outlook", children=[
                html.Div([
                    html.Div(dcc.Graph(id=ids.CONSULT_FAN, config=_GRAPH_CONFIG), className="card"),
                    html.Div(dcc.Graph(id=ids.CONSULT_PROB, config=_GRAPH_CONFIG), className="card"),
                ], className="grid2"),
                html.Div(dcc.Graph(id=ids.CONSULT_POLLUTANTS, config=_GRAPH_CONFIG), className="card"),
            ]),
            dcc.Tab(label="预报检验", value="verify", id="consult-tab-verify", children=[
                html.Div([
                    html.Div([dcc.Graph(id=ids.CONSULT_RECENT, config=_GRAPH_CONFIG, style={"height": 380}),
                              html.P(id=ids.CONSULT_RECENT_SCORES, className="muted")], className="card"),
                    html.Div([
                        html.Div([html.Label("检验指标"),
                                  dcc.Dropdown([{"label": figures.SCORE_LABELS.get(m, m), "value": m}
                                                for m in metrics], metrics[0], id=ids.CONSULT_SCORE_METRIC,
                                               clearable=False, style={"width": 260})], className="toolbar"),
                        # a definite height: with a responsive graph at 100 % the card's text below
                        # overflowed the grid row and hid behind the plot
                        dcc.Graph(id=ids.CONSULT_SCORECARD, config=_GRAPH_CONFIG, style={"height": 340}),
                        html.P(_card_text(data.model_card(s)), className="muted"),
                    ], className="card"),
                ], className="grid2"),
            ]),
            dcc.Tab(label="区域形势图", value="map", id="consult-tab-map", children=[
                html.Div([
                    html.Div([html.Label("预报时效（天）"),
                              dcc.Slider(min(leads), max(leads), 1, value=min(leads), id=ids.CONSULT_MAP_LEAD,
                                         marks={d: str(d) for d in leads})], className="toolbar-slider"),
                    dcc.Graph(id=ids.CONSULT_MAP, config=_GRAPH_CONFIG),
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
        ], className="card"),
    ])


def _card_text(card: dict) -> str:
    """One line on the model behind the scores: name, training period, calibration period and its
    heavy days, with a caution when the calibration period was a clean season."""
    if not card:
        return ""
    parts = [f"模型：{card.get('name') or 'airwarn'}"]
    if card.get("train_span"):
        parts.append("训练数据：" + " – ".join(card["train_span"]))
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
        model = f"模型 {bt['scored_model']} " if bt.get("scored_model") else ""
        where = f"：{model}样本外回测，{n}，起报日 {' – '.join(bt['period'])}"
    parts.append(f"评分来自回测（backtest_scores.csv{where}）")
    if bt.get("scores_by_city_file"):
        parts.append("回测中的城市显示其单城市评分（backtest_scores_by_city.csv），其余城市显示合计评分")
    if bt.get("intervals_file"):
        parts.append("误差线为 airwarn 评分的 95% 区间（按起报日以 10 天为块的自助抽样，逐日所有城市一并抽取）；"
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
)
def update_outlook(city: str, day: str):
    """Fan chart, probabilities and pollutants of one city and issue date, and a one-line summary."""
    auth.require_role(*ALL_ROLES)
    levels = data.aqi_levels()
    ds = data.load_forecast(day)
    table = data.forecast_table(ds, city)
    top = table.loc[table["aqi_p50"].idxmax()]
    summary = (f"{city}：未来{len(table)}天中位数 AQI 最高 {top['aqi_p50']:.0f}"
               f"（{top['valid_date']:%m-%d}）")
    if "p_aqi_gt_200" in table:
        summary += f"；P(AQI>200) 最高 {100 * table['p_aqi_gt_200'].max():.0f}%"
    through = data.last_observed(ds, city)
    if through is not None:
        summary += f"；实况截至 {through:%m-%d}"
    return (figures.fan_figure(table, levels, title=f"{city} 未来10天 AQI 概率预报（{day} 起报）"),
            figures.probability_figure(table),
            figures.pollutant_figure(table),
            summary)


@callback(Output(ids.CONSULT_RECENT, "figure"), Output(ids.CONSULT_RECENT_SCORES, "children"),
          Input(ids.CONSULT_CITY, "value"), Input(ids.CONSULT_TABS, "value"))
def update_recent(city: str, tab: str = "verify"):
    """Recent observations against what was forecast for them, and the recent errors (verification tab)."""
    _only_on(tab, "verify")
    auth.require_role(*ALL_ROLES)
    recent = data.recent_verification(city)
    return (figures.recent_figure(recent, data.aqi_levels()),
            _recent_scores_text(data.recent_scores(recent)))


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
    """Cities coloured by the forecast AQI level of one lead day (map tab)."""
    _only_on(tab, "map")
    auth.require_role(*ALL_ROLES)
    ds = data.load_forecast(day)
    points = data.city_levels(ds, int(lead_day or 1))
    valid = data.forecast_table(ds, city)
    when = valid.loc[valid["lead_day"] == int(lead_day or 1), "valid_date"]
    title = f"各城市预报等级（中位数，{when.iloc[0]:%m-%d}）" if len(when) else "各城市预报等级"
    return figures.map_figure(points, highlight=city, title=title)


@callback(Output(ids.CONSULT_SCORECARD, "figure"), Input(ids.CONSULT_SCORE_METRIC, "value"),
          Input(ids.CONSULT_CITY, "value"), Input(ids.CONSULT_TABS, "value"))
def update_scorecard(metric: str, city: str | None = None, tab: str = "verify"):
    """Verification score per lead day: the model against persistence and climatology (verification tab);
    the city's own backtest scores when the model has them, else those of all the backtest's cities."""
    _only_on(tab, "verify")
    auth.require_role(*ALL_ROLES)
    own = data.city_scorecard(city) if city else None
    if own is not None:
        return figures.scorecard_figure(own[0], metric, own[1], scope=f"{city}单城市回测")
    card = data.model_card()
    cities = (card.get("backtest") or {}).get("cities")
    scope = f"{len(cities)}个城市合计回测" if isinstance(cities, list) else "回测"
    return figures.scorecard_figure(data.backtest_scores(), metric, data.backtest_intervals(), scope=scope)


@callback(Output(ids.CONSULT_NOTE, "value"), Input(ids.CONSULT_DATE, "value"), Input(ids.CONSULT_CITY, "value"))
def load_note(day: str, city: str):
    """The saved note of (date, city), or an empty text."""
    auth.require_role(*ALL_ROLES)
    note = data.get_note(day, city)
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
        data.save_note(day, city, text or "", author=user.name)
    except (PermissionError, ValueError) as exc:
        return html.Span(str(exc), className="error")
    return html.Span(f"已保存（{user.name}）", className="ok")
