"""The model card and the recorded backtest's scorecards: skill per lead, the verification scores
(all cities or one city alone) and the Chinese operational (CMA) scores.

Everything is read from the model folder (``card.json``, ``backtest_scores*.csv``,
``backtest_skill_intervals*.csv``, written by ``airwarn backtest --record-in``), each file parsed
once per version (cached on its stamp).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from airwarn.core.settings import Settings
from dashboard.services.context import cached_by_stamp, settings

#: RMSE skill score of the median against climatology (1 − RMSE/RMSE_clim) from which a lead's skill
#: reads 明显优于 / 略优于 / 接近 the climatological mean.
SKILL_CLEAR, SKILL_SOME = 0.15, 0.05
#: CMA / operational metrics of the backtest scores (``forecast.verify.score_table``) shown beside the
#: scorecard: per lead day, and their 24/48/72 h composite (``<metric>_composite`` at lead day 3).
CMA_METRICS: tuple[str, ...] = ("level_accuracy_mode", "cma_level_score", "cma_level_score_mode", "cma_aqi_score",
                                "primary_hit_rate")
#: The models of a scorecard, in the order shown.
SCORE_MODELS: tuple[str, ...] = ("airwarn", "persistence", "climatology")


@cached_by_stamp(maxsize=32)
def read_csv(path: Path) -> pd.DataFrame:
    """A CSV of the model folder, parsed once per version of the file (the caller must not change it)."""
    return pd.read_csv(path)


@cached_by_stamp(maxsize=8)
def _read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def model_card(s: Settings | None = None) -> dict:
    """The model card (``card.json``, parsed once per version of the file) or an empty dict: shared by
    every request thread, read only."""
    s = s or settings()
    path = Path(s.model_dir) / "card.json"
    return _read_json(path) if path.exists() else {}


def model_label(train_span) -> str:
    """A model as the pages name it, in Chinese: by its training period (a model's id is a file name)."""
    span = list(train_span or [])
    return f"训练期 {span[0]} 至 {span[1]} 的模型" if len(span) == 2 else "训练期未记录的模型"


def scored_model_label(card: dict) -> str:
    """The label of the model the recorded backtest scored (the running one unless the card says another)."""
    bt = card.get("backtest") or {}
    return model_label(bt.get("scored_model_train_span") if bt.get("scored_model") else card.get("train_span"))


def backtest_scores(s: Settings | None = None) -> pd.DataFrame:
    """The model's verification scores ``lead_day, metric, model, value`` (empty if absent).

    The frame is the cached one that every request thread shares: read it, never change it in place."""
    s = s or settings()
    path = Path(s.model_dir) / "backtest_scores.csv"
    if not path.exists():
        return pd.DataFrame(columns=["lead_day", "metric", "model", "value"])
    return read_csv(path)


def backtest_intervals(s: Settings | None = None) -> pd.DataFrame:
    """Bootstrap intervals of those scores (``backtest_skill_intervals.csv``; empty if absent; shared like
    :func:`backtest_scores`: never change it in place)."""
    s = s or settings()
    path = Path(s.model_dir) / "backtest_skill_intervals.csv"
    return read_csv(path) if path.exists() else pd.DataFrame()


def city_scorecard(city: str, s: Settings | None = None) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """``(scores, intervals)`` of ``city`` alone from ``backtest_scores_by_city.csv`` and
    ``backtest_skill_intervals_by_city.csv`` (``airwarn backtest --by-city --record-in``), or None
    when the backtest did not score that city alone."""
    s = s or settings()
    folder = Path(s.model_dir)
    path = folder / "backtest_scores_by_city.csv"
    if not path.exists():
        return None
    scores = read_csv(path)
    scores = scores[scores["city"] == city].drop(columns="city")
    if scores.empty:
        return None
    ipath = folder / "backtest_skill_intervals_by_city.csv"
    intervals = read_csv(ipath) if ipath.exists() else pd.DataFrame(columns=["city"])
    return scores, intervals[intervals["city"] == city].drop(columns="city")


def _scores_for(city: str | None, s: Settings) -> tuple[pd.DataFrame, str]:
    """The city's own scores when the backtest scored it alone (scope ``city``), else all cities' (``all``)."""
    own = city_scorecard(city, s) if city else None
    return (own[0], "city") if own is not None else (backtest_scores(s), "all")


def skill_by_lead(city: str | None = None, s: Settings | None = None) -> tuple[pd.DataFrame, dict]:
    """The recorded backtest's RMSE skill against climatology per lead day, and where it comes from.

    Returns
    -------
    (DataFrame, dict)
        ``lead_day, skill, rmse, rmse_climatology, grade`` (grade ``clear``, ``some`` or ``none``; empty
        when the scorecard lacks the RMSE of the model or of climatology) and ``{"scored_model",
        "running_model", "same", "scope", "period", "scored_label", "running_label"}`` (scope ``city``
        when ``city`` was scored alone).
    """
    s = s or settings()
    scores, scope = _scores_for(city, s)
    card = model_card(s)
    bt = card.get("backtest") or {}
    running = card.get("name") or Path(s.model_dir).name
    scored = bt.get("scored_model") or running
    source = {"scored_model": scored, "running_model": running, "same": scored == running, "scope": scope,
              "period": list(bt.get("period") or []), "scored_label": scored_model_label(card),
              "running_label": model_label(card.get("train_span"))}
    part = scores[scores["metric"] == "rmse"] if not scores.empty else scores
    if part.empty or not {"airwarn", "climatology"} <= set(part["model"]):
        return pd.DataFrame(columns=["lead_day", "skill", "rmse", "rmse_climatology", "grade"]), source
    wide = part.pivot_table(index="lead_day", columns="model", values="value")
    out = pd.DataFrame({"lead_day": wide.index.astype(int), "rmse": wide["airwarn"].to_numpy(float),
                        "rmse_climatology": wide["climatology"].to_numpy(float)})
    out["skill"] = 1 - out["rmse"] / out["rmse_climatology"]
    out["grade"] = np.where(out["skill"] >= SKILL_CLEAR, "clear",
                            np.where(out["skill"] >= SKILL_SOME, "some", "none"))
    return out, source


def cma_scores(city: str | None = None, s: Settings | None = None) -> tuple[pd.DataFrame, str] | None:
    """The Chinese operational scores of the backtest, for the city alone when the backtest scored it
    (``backtest_scores_by_city.csv``), else for all its cities (``backtest_scores.csv``).

    Returns
    -------
    (table, scope) or None
        ``table``: one row per (metric, model) with columns ``metric, model, d1, d2, d3, composite``
        (NaN where absent), metrics in :data:`CMA_METRICS` order, models airwarn, persistence,
        climatology; ``scope``: ``"city"`` or ``"all"``. None when the scores file has none of them.
    """
    s = s or settings()
    scores, scope = _scores_for(city, s)
    if scores.empty:
        return None
    part = scores[scores["metric"].isin(CMA_METRICS + tuple(f"{m}_composite" for m in CMA_METRICS))]
    if part.empty:
        return None
    rows = []
    for metric in CMA_METRICS:
        for model in SCORE_MODELS:
            g = part[(part["metric"] == metric) & (part["model"] == model)]
            comp = part[(part["metric"] == f"{metric}_composite") & (part["model"] == model)]
            by_lead = dict(zip(g["lead_day"].astype(int), g["value"].astype(float)))
            row = {"metric": metric, "model": model, **{f"d{k}": by_lead.get(k, np.nan) for k in (1, 2, 3)},
                   "composite": float(comp["value"].iloc[0]) if len(comp) else np.nan}
            if np.isfinite([row["d1"], row["d2"], row["d3"], row["composite"]]).any():
                rows.append(row)
    if not rows:
        return None
    return pd.DataFrame(rows, columns=["metric", "model", "d1", "d2", "d3", "composite"]), scope
