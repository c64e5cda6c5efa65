"""Verification of AQI forecasts per lead day, against persistence and climatology.

Metrics (all on the daily AQI):

* continuous: RMSE, MAE, bias (forecast − observed), Pearson correlation, AQI-level accuracy
  (share of days whose forecast level 1–6 equals the observed level);
* events AQI > 150 / 200 / 300: POD, FAR, TS (threat score / critical success index), ETS
  (equitable threat score), from a 2×2 contingency table;
* probabilities: Brier score, Brier skill score against the climatological frequency, a
  reliability table;
* sampling uncertainty: block-bootstrap intervals of the model's scores and of its advantage over
  each reference (:func:`skill_intervals`);
* CRPS: from the forecast quantiles (twice the mean pinball loss over the quantile levels,
  a consistent approximation of the continuous ranked probability score); for a deterministic
  forecast the CRPS is the MAE.

The reference forecasts on the same days: *persistence* (the AQI observed on the issue day
for every lead) and *climatology* (the city's day-of-year mean AQI, ±15 days, from the
training period only; its event probability is the city's day-of-year frequency).

:func:`scorecard_figure` and :func:`reliability_figure` return Plotly figures for the
dashboard (no internet needed).
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import pandas as pd

#: AQI thresholds of the event scores.
EVENT_THRESHOLDS: tuple[int, ...] = (150, 200, 300)
#: Models in a score table.
MODELS: tuple[str, ...] = ("airwarn", "persistence", "climatology")
#: Half-width of the climatology's day-of-year window [days].
CLIMATOLOGY_HALF_WINDOW = 15


def _pair(forecast, observed) -> tuple[np.ndarray, np.ndarray]:
    f = np.asarray(forecast, dtype=float).ravel()
    o = np.asarray(observed, dtype=float).ravel()
    if f.shape != o.shape:
        raise ValueError(f"forecast has {f.size} values but observed has {o.size}")
    ok = np.isfinite(f) & np.isfinite(o)
    return f[ok], o[ok]


def rmse(forecast, observed) -> float:
    """Root-mean-square error over pairs where both are finite (NaN if none)."""
    f, o = _pair(forecast, observed)
    return float(np.sqrt(np.mean((f - o) ** 2))) if f.size else float("nan")


def mae(forecast, observed) -> float:
    """Mean absolute error."""
    f, o = _pair(forecast, observed)
    return float(np.mean(np.abs(f - o))) if f.size else float("nan")


def bias(forecast, observed) -> float:
    """Mean error, forecast − observed."""
    f, o = _pair(forecast, observed)
    return float(np.mean(f - o)) if f.size else float("nan")


def correlation(forecast, observed) -> float:
    """Pearson correlation (NaN with fewer than 3 pairs or a constant series)."""
    f, o = _pair(forecast, observed)
    if f.size < 3 or np.std(f) == 0 or np.std(o) == 0:
        return float("nan")
    return float(np.corrcoef(f, o)[0, 1])


def level_accuracy(forecast_aqi, observed_aqi) -> float:
    """Share of days whose forecast AQI level (1–6, HJ 633) equals the observed level."""
    from forecast.aqi import aqi_level

    f, o = _pair(forecast_aqi, observed_aqi)
    if not f.size:
        return float("nan")
    return float(np.mean(aqi_level(np.ceil(f)) == aqi_level(np.ceil(o))))


def contingency(forecast_event, observed_event) -> dict[str, int]:
    """2×2 table of yes/no forecasts: ``hits, misses, false_alarms, correct_negatives``.

    NaN in either input drops the pair.
    """
    f = np.asarray(forecast_event, dtype=float).ravel()
    o = np.asarray(observed_event, dtype=float).ravel()
    ok = np.isfinite(f) & np.isfinite(o)
    f, o = f[ok] > 0.5, o[ok] > 0.5
    return {"hits": int((f & o).sum()), "misses": int((~f & o).sum()),
            "false_alarms": int((f & ~o).sum()), "correct_negatives": int((~f & ~o).sum())}


def event_scores(forecast_event, observed_event) -> dict[str, float]:
    """POD, FAR, TS and ETS of yes/no forecasts (NaN where undefined).

    ``POD = a/(a+c)``, ``FAR = b/(a+b)``, ``TS = a/(a+b+c)``,
    ``ETS = (a − a_r)/(a+b+c − a_r)`` with ``a_r = (a+b)(a+c)/n``;
    a = hits, b = false alarms, c = misses.
    """
    t = contingency(forecast_event, observed_event)
    a, b, c, d = t["hits"], t["false_alarms"], t["misses"], t["correct_negatives"]
    n = a + b + c + d
    nan = float("nan")
    a_r = (a + b) * (a + c) / n if n else nan
    return {
        "pod": a / (a + c) if a + c else nan,
        "far": b / (a + b) if a + b else nan,
        "ts": a / (a + b + c) if a + b + c else nan,
        "ets": (a - a_r) / (a + b + c - a_r) if n and (a + b + c - a_r) else nan,
    }


def brier_score(probability, observed_event) -> float:
    """Mean squared difference of the probability and the 0/1 outcome."""
    p, o = _pair(probability, observed_event)
    return float(np.mean((p - o) ** 2)) if p.size else float("nan")


def brier_skill_score(probability, observed_event, reference_probability) -> float:
    """``1 − BS / BS_ref`` on the pairs where all three are finite."""
    p = np.asarray(probability, dtype=float).ravel()
    o = np.asarray(observed_event, dtype=float).ravel()
    r = np.broadcast_to(np.asarray(reference_probability, dtype=float), p.shape).ravel()
    ok = np.isfinite(p) & np.isfinite(o) & np.isfinite(r)
    if not ok.any():
        return float("nan")
    bs_ref = np.mean((r[ok] - o[ok]) ** 2)
    return float(1 - np.mean((p[ok] - o[ok]) ** 2) / bs_ref) if bs_ref > 0 else float("nan")


def reliability_table(probability, observed_event, bins: int = 10) -> pd.DataFrame:
    """Reliability (calibration) table: per probability bin the mean forecast and observed frequency.

    Returns
    -------
    DataFrame
        ``bin_lower, bin_upper, n, mean_probability, observed_frequency`` (empty bins kept, NaN).
    """
    p, o = _pair(probability, observed_event)
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    rows = []
    for b in range(bins):
        m = idx == b
        rows.append({"bin_lower": edges[b], "bin_upper": edges[b + 1], "n": int(m.sum()),
                     "mean_probability": float(p[m].mean()) if m.any() else float("nan"),
                     "observed_frequency": float(o[m].mean()) if m.any() else float("nan")})
    return pd.DataFrame(rows)


def crps_quantiles(quantile_values, levels: Sequence[float], observed) -> float:
    """Mean CRPS approximated from forecast quantiles: ``2 × mean_q pinball_q``.

    Parameters
    ----------
    quantile_values : array (n, len(levels))
        Forecast quantiles per case.
    levels : sequence of float
        Quantile levels in (0, 1).
    observed : array (n,)
    """
    q = np.asarray(quantile_values, dtype=float)
    o = np.asarray(observed, dtype=float).ravel()
    levels = np.asarray(levels, dtype=float)
    ok = np.isfinite(q).all(axis=1) & np.isfinite(o)
    if not ok.any():
        return float("nan")
    diff = o[ok, None] - q[ok]
    pinball = np.maximum(levels * diff, (levels - 1) * diff)
    return float(2 * pinball.mean())


# ---------------------------------------------------------------------- climatology
def climatology(train_obs: pd.DataFrame, thresholds: Iterable[int] = EVENT_THRESHOLDS,
                half_window: int = CLIMATOLOGY_HALF_WINDOW) -> pd.DataFrame:
    """Day-of-year climatology per city from the training period.

    Parameters
    ----------
    train_obs : DataFrame
        ``city, date, aqi`` of the training period only.
    thresholds : iterable of int
        Event thresholds for the frequencies.
    half_window : int
        Days either side of the day of year that are pooled (circular).

    Returns
    -------
    DataFrame
        ``city, doy (1..366), clim_aqi, clim_p_gt_<t>`` (NaN where the window has no data).
    """
    df = train_obs[["city", "date", "aqi"]].dropna()
    out = []
    kernel = np.ones(2 * half_window + 1)
    for city, g in df.groupby("city", sort=True):
        doy = pd.DatetimeIndex(g["date"]).day_of_year.to_numpy() - 1
        a = g["aqi"].to_numpy(float)

        def smooth(values):
            s = np.bincount(doy, weights=values, minlength=366)
            ext = np.concatenate([s[-half_window:], s, s[:half_window]])
            return np.convolve(ext, kernel, mode="valid")

        n = smooth(np.ones_like(a))
        row = {"city": city, "doy": np.arange(1, 367)}
        with np.errstate(invalid="ignore", divide="ignore"):
            row["clim_aqi"] = np.where(n > 0, smooth(a) / n, np.nan)
            for t in thresholds:
                row[f"clim_p_gt_{t}"] = np.where(n > 0, smooth((a > t).astype(float)) / n, np.nan)
        out.append(pd.DataFrame(row))
    if not out:
        return pd.DataFrame(columns=["city", "doy", "clim_aqi", *[f"clim_p_gt_{t}" for t in thresholds]])
    return pd.concat(out, ignore_index=True)


def attach_references(forecasts: pd.DataFrame, obs: pd.DataFrame, clim: pd.DataFrame) -> pd.DataFrame:
    """Add ``obs_aqi`` (valid day), ``persistence_aqi`` (issue day) and the climatology columns.

    Parameters
    ----------
    forecasts : DataFrame
        ``city, issued, lead_day, valid_date`` + forecast columns.
    obs : DataFrame
        ``city, date, aqi`` observations.
    clim : DataFrame
        Output of :func:`climatology`.
    """
    f = forecasts.copy()
    f["issued"] = pd.to_datetime(f["issued"])
    f["valid_date"] = pd.to_datetime(f["valid_date"])
    a = obs[["city", "date", "aqi"]].copy()
    a["date"] = pd.to_datetime(a["date"])
    a = a.groupby(["city", "date"])["aqi"].mean()
    f["obs_aqi"] = a.reindex(pd.MultiIndex.from_arrays([f["city"], f["valid_date"]])).to_numpy()
    f["persistence_aqi"] = a.reindex(pd.MultiIndex.from_arrays([f["city"], f["issued"]])).to_numpy()
    c = clim.set_index(["city", "doy"])
    key = pd.MultiIndex.from_arrays([f["city"], pd.DatetimeIndex(f["valid_date"]).day_of_year])
    for col in c.columns:
        f[col] = c[col].reindex(key).to_numpy()
    return f


def score_table(frame: pd.DataFrame, quantile_columns: dict[float, str] | None = None) -> pd.DataFrame:
    """Scores per lead day for the model, persistence and climatology on the same days.

    Parameters
    ----------
    frame : DataFrame
        Output of :func:`attach_references` with the model columns ``aqi_mean`` (the point
        forecast: the mean of the forecast distribution, which minimises the expected squared
        error; ``aqi_p50`` if absent) and ``p_aqi_gt_<t>`` (and the quantile columns for the CRPS). Only rows where the
        observation, persistence and climatology all exist are scored, so the three models
        share the days.
        The model's yes/no event forecast is ``p_aqi_gt_<t> ≥ decision_threshold_gt_<t>`` (a
        probability threshold per row, i.e. per city and lead, chosen on the validation fold);
        without that column it is ``aqi_p50 > t``.
    quantile_columns : dict, optional
        ``{level: column}`` for the CRPS (default: the ``aqi_pNN`` columns present).

    Returns
    -------
    DataFrame
        Long table ``lead_day, metric, model, value``; metrics ``n, rmse, mae, bias, corr,
        level_acc, crps``, ``pod|far|ts|ets_<t>``, ``brier_<t>``, ``bss_<t>`` (vs the
        climatological frequency), ``base_rate_<t>``.
    """
    if quantile_columns is None:
        quantile_columns = {int(c[5:]) / 100: c for c in frame.columns
                            if c.startswith("aqi_p") and c[5:].isdigit()}
    levels = sorted(quantile_columns)
    rows = []
    for lead, g in _scored_rows(frame).groupby("lead_day", sort=True):
        o = g["obs_aqi"].to_numpy(float)
        fc = _point_forecasts(g)

        def add(metric, model, value):
            rows.append({"lead_day": int(lead), "metric": metric, "model": model, "value": float(value)})

        for name, f in fc.items():
            add("n", name, len(o))
            add("rmse", name, rmse(f, o))
            add("mae", name, mae(f, o))
            add("bias", name, bias(f, o))
            add("corr", name, correlation(f, o))
            add("level_acc", name, level_accuracy(f, o))
        if levels:
            add("crps", "airwarn", crps_quantiles(g[[quantile_columns[q] for q in levels]].to_numpy(float),
                                                  levels, o))
        add("crps", "persistence", mae(fc["persistence"], o))
        add("crps", "climatology", mae(fc["climatology"], o))
        for t in EVENT_THRESHOLDS:
            event = (o > t).astype(float)
            p_model = g[f"p_aqi_gt_{t}"].to_numpy(float) if f"p_aqi_gt_{t}" in g else None
            p_clim = g[f"clim_p_gt_{t}"].to_numpy(float) if f"clim_p_gt_{t}" in g else None
            for name, y in _yes_no(g, t, fc).items():
                for k, v in event_scores(y.astype(float), event).items():
                    add(f"{k}_{t}", name, v)
            add(f"base_rate_{t}", "airwarn", event.mean())
            probs = {"persistence": (fc["persistence"] > t).astype(float)}
            if p_model is not None:
                probs["airwarn"] = p_model
            if p_clim is not None:
                probs["climatology"] = p_clim
            for name, p in probs.items():
                add(f"brier_{t}", name, brier_score(p, event))
                if p_clim is not None:
                    add(f"bss_{t}", name, brier_skill_score(p, event, p_clim))
    return pd.DataFrame(rows, columns=["lead_day", "metric", "model", "value"])


def _scored_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows :func:`score_table` scores: observation, persistence, climatology and the model's
    point forecast all finite (so the three models share the days)."""
    need = ["obs_aqi", "persistence_aqi", "clim_aqi", _point_column(frame)]
    return frame[np.isfinite(frame[need].to_numpy(float)).all(axis=1)]


def _point_column(frame: pd.DataFrame) -> str:
    return "aqi_mean" if "aqi_mean" in frame.columns else "aqi_p50"


def _point_forecasts(g: pd.DataFrame) -> dict[str, np.ndarray]:
    return {"airwarn": g[_point_column(g)].to_numpy(float), "persistence": g["persistence_aqi"].to_numpy(float),
            "climatology": g["clim_aqi"].to_numpy(float)}


def _yes_no(g: pd.DataFrame, t: int, fc: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each model's yes/no forecast of AQI > ``t`` (the model's: probability ≥ its decision threshold)."""
    p, thr = f"p_aqi_gt_{t}", f"decision_threshold_gt_{t}"
    model = (g[p].to_numpy(float) >= g[thr].to_numpy(float)) if (p in g and thr in g) else fc["airwarn"] > t
    return {"airwarn": model, "persistence": fc["persistence"] > t, "climatology": fc["climatology"] > t}


# ---------------------------------------------------------------------- sampling uncertainty
#: Days per block of the block bootstrap: longer than a pollution episode and than the longest lead,
#: so that the resampled issue days keep the serial dependence of the scores.
BOOTSTRAP_BLOCK_DAYS = 10


def block_bootstrap_counts(n_days: int, n_boot: int = 1000, block_days: int = BOOTSTRAP_BLOCK_DAYS,
                           seed: int = 0) -> np.ndarray:
    """How often each day is drawn in each replicate of a circular block bootstrap.

    Each replicate strings together blocks of ``block_days`` consecutive days (wrapping round the
    end) from random starts until it holds ``n_days`` days (Politis & Romano's circular block
    bootstrap), so that serially dependent daily scores are resampled with their dependence.

    Returns
    -------
    ndarray, shape (n_boot, n_days)
        Counts; each row sums to ``n_days``.
    """
    if n_days < 1:
        raise ValueError(f"need at least one day to resample, got {n_days}")
    if block_days < 1:
        raise ValueError(f"block_days must be ≥ 1, got {block_days}")
    rng = np.random.default_rng(seed)
    n_blocks = -(-n_days // block_days)
    starts = rng.integers(0, n_days, size=(n_boot, n_blocks))
    days = (starts[:, :, None] + np.arange(block_days)).reshape(n_boot, -1)[:, :n_days] % n_days
    counts = np.zeros((n_boot, n_days))
    np.add.at(counts, (np.repeat(np.arange(n_boot), n_days), days.ravel()), 1)
    return counts


def skill_intervals(frame: pd.DataFrame, thresholds: Iterable[int] = EVENT_THRESHOLDS, n_boot: int = 1000,
                    block_days: int = BOOTSTRAP_BLOCK_DAYS, level: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """Sampling uncertainty of the model's scores and of its advantage over each reference.

    The issue days are resampled by a circular block bootstrap (:func:`block_bootstrap_counts`),
    all cities of an issue day together and the same draws for every lead and metric, so the
    intervals keep the serial and spatial dependence of the scores. The comparison is paired:
    each replicate scores the model and the reference on the same resampled rows.

    Parameters
    ----------
    frame : DataFrame
        As for :func:`score_table` (the same rows are scored, with the same yes/no rule).
    thresholds : iterable of int
        Event thresholds for TS and BSS.
    n_boot, block_days, seed
        Bootstrap replicates, block length [days] and seed.
    level : float
        Central coverage of the intervals.

    Returns
    -------
    DataFrame
        ``lead_day, metric, reference, airwarn, airwarn_lo, airwarn_hi, reference_value, advantage,
        advantage_lo, advantage_hi, share_not_worse``. Metrics ``rmse`` and ``ts_<t>`` against
        persistence and climatology, ``bss_<t>`` against climatology (the reference of the skill
        score; there ``advantage`` is the BSS itself). ``advantage`` is oriented so that a positive
        value favours the model (reference RMSE − model RMSE; model TS − reference TS);
        ``share_not_worse`` is the share of replicates with ``advantage ≥ 0``.
    """
    thresholds = tuple(thresholds)
    rows = _scored_rows(frame)
    if rows.empty:
        return pd.DataFrame(columns=_INTERVAL_COLUMNS)
    issued = pd.to_datetime(rows["issued"])
    day_index = pd.date_range(issued.min(), issued.max(), freq="D")  # calendar days: blocks stay consecutive
    counts = block_bootstrap_counts(len(day_index), n_boot, block_days, seed)
    alpha = (1 - level) / 2
    out = []
    for lead, g in rows.groupby("lead_day", sort=True):
        day = day_index.get_indexer(pd.to_datetime(g["issued"]))
        o = g["obs_aqi"].to_numpy(float)
        fc = _point_forecasts(g)
        stats = {}  # (metric, model) → the score on the full sample, then on each replicate

        def per_day(values):
            return np.bincount(day, weights=np.asarray(values, float), minlength=len(day_index))

        def both(values):  # the full-sample value and the replicates'
            d = per_day(values)
            return np.concatenate([[d.sum()], counts @ d])

        n = both(np.ones_like(o))
        for name, f in fc.items():
            stats[("rmse", name)] = np.sqrt(both((f - o) ** 2) / n)
        for t in thresholds:
            event = o > t
            for name, yes in _yes_no(g, t, fc).items():
                hits, hits_misses_fa = both(yes & event), both(yes | event)
                with np.errstate(invalid="ignore", divide="ignore"):
                    stats[(f"ts_{t}", name)] = np.where(hits_misses_fa > 0, hits / hits_misses_fa, np.nan)
            p, pc = f"p_aqi_gt_{t}", f"clim_p_gt_{t}"
            if p in g and pc in g:
                pm, pr = g[p].to_numpy(float), g[pc].to_numpy(float)
                ok = np.isfinite(pm) & np.isfinite(pr)
                bs_m = both(np.where(ok, (pm - event) ** 2, 0.0))
                bs_c = both(np.where(ok, (pr - event) ** 2, 0.0))
                with np.errstate(invalid="ignore", divide="ignore"):
                    stats[(f"bss_{t}", "airwarn")] = np.where(bs_c > 0, 1 - bs_m / bs_c, np.nan)
        for (metric, name), model_values in stats.items():
            if name != "airwarn":
                continue
            refs = ("climatology",) if metric.startswith("bss") else ("persistence", "climatology")
            for ref in refs:
                if metric.startswith("bss"):
                    ref_values, adv = np.zeros_like(model_values), model_values
                else:
                    ref_values = stats[(metric, ref)]
                    adv = ref_values - model_values if metric == "rmse" else model_values - ref_values
                m_lo, m_hi = _central_interval(model_values[1:], alpha)
                a_lo, a_hi = _central_interval(adv[1:], alpha)
                finite = np.isfinite(adv[1:])
                out.append({"lead_day": int(lead), "metric": metric, "reference": ref,
                            "airwarn": model_values[0], "airwarn_lo": m_lo, "airwarn_hi": m_hi,
                            "reference_value": ref_values[0], "advantage": adv[0], "advantage_lo": a_lo,
                            "advantage_hi": a_hi,
                            "share_not_worse": float((adv[1:][finite] >= 0).mean()) if finite.any() else np.nan})
    return pd.DataFrame(out, columns=_INTERVAL_COLUMNS)


def _central_interval(values: np.ndarray, alpha: float) -> tuple[float, float]:
    """The ``alpha`` and ``1 − alpha`` quantiles of the finite replicates (NaN if none is finite: e.g.
    a threat score with neither events nor yes-forecasts in any replicate)."""
    v = values[np.isfinite(values)]
    if not v.size:
        return float("nan"), float("nan")
    lo, hi = np.quantile(v, [alpha, 1 - alpha])
    return float(lo), float(hi)


_INTERVAL_COLUMNS = ["lead_day", "metric", "reference", "airwarn", "airwarn_lo", "airwarn_hi", "reference_value",
                     "advantage", "advantage_lo", "advantage_hi", "share_not_worse"]


def wide_scores(scores: pd.DataFrame, metrics: Sequence[str]) -> pd.DataFrame:
    """Scores as a table: one row per lead, one column per ``metric/model``."""
    s = scores[scores["metric"].isin(list(metrics))]
    w = s.pivot_table(index="lead_day", columns=["metric", "model"], values="value")
    w.columns = [f"{m}/{mod}" for m, mod in w.columns]
    return w


# ---------------------------------------------------------------------- figures
_COLOURS = {"airwarn": "#1f77b4", "persistence": "#ff7f0e", "climatology": "#7f7f7f"}


def scorecard_figure(scores: pd.DataFrame, metrics: Sequence[str] = ("rmse", "ts_200", "bss_200", "crps")):
    """Plotly figure: one panel per metric, score against lead day for each model.

    Parameters
    ----------
    scores : DataFrame
        Long score table (``lead_day, metric, model, value``), e.g. ``backtest_scores.csv``.
    metrics : sequence of str
        Metrics to show (panels in a row).

    Returns
    -------
    plotly.graph_objects.Figure
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    titles = {"rmse": "RMSE of AQI (lower is better)", "ts_200": "Threat score AQI>200",
              "bss_200": "Brier skill score P(AQI>200)", "crps": "CRPS of AQI",
              "mae": "MAE of AQI", "ts_150": "Threat score AQI>150", "corr": "Correlation",
              "level_acc": "AQI level accuracy"}
    fig = make_subplots(rows=1, cols=len(metrics), subplot_titles=[titles.get(m, m) for m in metrics])
    for j, metric in enumerate(metrics, start=1):
        s = scores[scores["metric"] == metric]
        for model in MODELS:
            sm = s[s["model"] == model].sort_values("lead_day")
            if sm.empty:
                continue
            fig.add_trace(go.Scatter(x=sm["lead_day"], y=sm["value"], mode="lines+markers", name=model,
                                     legendgroup=model, showlegend=(j == 1),
                                     line={"color": _COLOURS[model]}), row=1, col=j)
        fig.update_xaxes(title_text="lead day", dtick=1, row=1, col=j)
    fig.update_layout(title="Forecast scorecard per lead day", template="plotly_white",
                      margin={"l": 40, "r": 20, "t": 70, "b": 40})
    return fig


def reliability_figure(table: pd.DataFrame | dict, title: str = "Reliability of P(AQI>200)"):
    """Plotly reliability diagram of one or several reliability tables.

    Parameters
    ----------
    table : DataFrame or dict name → DataFrame
        Output(s) of :func:`reliability_table` (or the same columns, e.g. filtered from
        ``reliability.csv`` with a ``lead_day`` column: one curve per lead).

    Returns
    -------
    plotly.graph_objects.Figure
    """
    import plotly.graph_objects as go

    tables = table if isinstance(table, dict) else {"forecast": table}
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfect",
                             line={"dash": "dash", "color": "#999999"}))
    for name, t in tables.items():
        t = t[t["n"] > 0]
        fig.add_trace(go.Scatter(x=t["mean_probability"], y=t["observed_frequency"], mode="lines+markers",
                                 name=str(name), text=[f"n={n}" for n in t["n"]]))
    fig.update_layout(title=title, xaxis_title="forecast probability", yaxis_title="observed frequency",
                      xaxis_range=[0, 1], yaxis_range=[0, 1], template="plotly_white")
    return fig
