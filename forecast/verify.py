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
  forecast the CRPS is the MAE;
* Chinese operational scores (CMA National Meteorological Centre, ``meteva``'s environment rules):
  the level score, the AQI value score, the primary-pollutant hit rate, the 24/48/72 h composite, and
  the accuracy of the *most probable* AQI level of the forecast distribution
  (:func:`most_probable_level`).

RMSE, MAE, bias, correlation, the contingency-table scores, the Brier score and the pinball loss of
the CRPS are computed by the ``scores`` package (NCI / Bureau of Meteorology, ``nci/scores``); the
level scores, the CMA rules and the reliability table are written here (``scores`` has none of them;
``meteva``, which has the CMA rules, pulls in matplotlib, PyTables, shapely and protobuf).

The reference forecasts on the same days: *persistence* (the AQI observed on the issue day
for every lead) and *climatology* (the city's day-of-year mean AQI, ±15 days, from the
training period only; its event probability is the city's day-of-year frequency).

:func:`scorecard_figure` and :func:`reliability_figure` return Plotly figures for the
dashboard (no internet needed).

Size: about 980 lines, over the ~800 guide: the score table and the bootstrap intervals read the same
rows through the same private helpers (``_scored_rows``, ``_point_forecasts``, ``_yes_no``, and the
``scores``-package wrappers ``_pair`` / ``_case`` / ``_mean_over_cases``), so one module keeps one
definition of a scored row; the split to make when it grows is the Chinese operational scores
(``cma_*``, levels, primary pollutants) into a module of their own.
"""
from __future__ import annotations

import warnings
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from airwarn.core.errors import AirwarnWarning, InputError
from airwarn.core.vocab import DAILY_POLLUTANTS
from forecast.product import THRESHOLDS

#: AQI thresholds of the event scores (the product's exceedance thresholds).
EVENT_THRESHOLDS: tuple[int, ...] = THRESHOLDS
#: Models in a score table.
MODELS: tuple[str, ...] = ("airwarn", "persistence", "climatology")
#: Half-width of the climatology's day-of-year window [days].
CLIMATOLOGY_HALF_WINDOW = 15


def _pair(forecast, observed) -> tuple[np.ndarray, np.ndarray]:
    f = np.asarray(forecast, dtype=float).ravel()
    o = np.asarray(observed, dtype=float).ravel()
    if f.shape != o.shape:
        raise InputError(f"forecast has {f.size} values but observed has {o.size}")
    ok = np.isfinite(f) & np.isfinite(o)
    return f[ok], o[ok]


def _case(values: np.ndarray) -> xr.DataArray:
    return xr.DataArray(values, dims="case")


def rmse(forecast, observed) -> float:
    """Root-mean-square error over pairs where both are finite (NaN if none); ``scores.continuous.rmse``."""
    from scores.continuous import rmse as _rmse

    f, o = _pair(forecast, observed)
    return float(_rmse(_case(f), _case(o))) if f.size else float("nan")


def mae(forecast, observed) -> float:
    """Mean absolute error; ``scores.continuous.mae``."""
    from scores.continuous import mae as _mae

    f, o = _pair(forecast, observed)
    return float(_mae(_case(f), _case(o))) if f.size else float("nan")


def bias(forecast, observed) -> float:
    """Mean error, forecast − observed; ``scores.continuous.additive_bias``."""
    from scores.continuous import additive_bias

    f, o = _pair(forecast, observed)
    return float(additive_bias(_case(f), _case(o))) if f.size else float("nan")


def correlation(forecast, observed) -> float:
    """Pearson correlation (NaN with fewer than 3 pairs or a constant series);
    ``scores.continuous.correlation.pearsonr``."""
    from scores.continuous.correlation import pearsonr

    f, o = _pair(forecast, observed)
    if f.size < 3 or np.std(f) == 0 or np.std(o) == 0:
        return float("nan")
    return float(pearsonr(_case(f), _case(o)))


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
    counts = _contingency_manager(forecast_event, observed_event).get_counts()
    return {"hits": int(counts["tp_count"]), "misses": int(counts["fn_count"]),
            "false_alarms": int(counts["fp_count"]), "correct_negatives": int(counts["tn_count"])}


def event_scores(forecast_event, observed_event) -> dict[str, float]:
    """POD, FAR, TS and ETS of yes/no forecasts (NaN where undefined).

    ``POD = a/(a+c)``, ``FAR = b/(a+b)``, ``TS = a/(a+b+c)``,
    ``ETS = (a − a_r)/(a+b+c − a_r)`` with ``a_r = (a+b)(a+c)/n``;
    a = hits, b = false alarms, c = misses (``scores.categorical.BinaryContingencyManager``).
    """
    return {k: float(v) for k, v in _event_scores(_contingency_manager(forecast_event, observed_event)).items()}


def _contingency_manager(forecast_event, observed_event, dims: Sequence[str] = ("case",), preserve=()):
    """``scores``' contingency table of yes/no arrays (> 0.5 is yes; NaN in either drops the pair); the
    trailing dimension is the cases, ``preserve`` the leading dimensions kept (e.g. model, threshold)."""
    from scores.categorical import BinaryContingencyManager

    f = np.asarray(forecast_event, dtype=float)
    o = np.asarray(observed_event, dtype=float)
    if len(dims) == 1:
        f, o = f.ravel(), o.ravel()
        if f.shape != o.shape:
            raise InputError(f"forecast has {f.size} values but observed has {o.size}")
    with np.errstate(invalid="ignore"):
        fy = np.where(np.isnan(f), np.nan, (f > 0.5).astype(float))
        oy = np.where(np.isnan(o), np.nan, (o > 0.5).astype(float))
    manager = BinaryContingencyManager(xr.DataArray(fy, dims=dims), xr.DataArray(oy, dims=dims[len(dims) - o.ndim:]))
    return manager.transform(preserve_dims=list(preserve)) if preserve else manager


def _event_scores(manager) -> dict[str, np.ndarray]:
    """POD, FAR, TS, ETS of a contingency manager, NaN where a denominator is 0."""
    with np.errstate(invalid="ignore", divide="ignore"):
        out = {"pod": manager.probability_of_detection(), "far": manager.false_alarm_ratio(),
               "ts": manager.threat_score(), "ets": manager.equitable_threat_score()}
    return {k: np.where(np.isfinite(v.values), v.values, np.nan) for k, v in out.items()}


def brier_score(probability, observed_event) -> float:
    """Mean squared difference of the probability and the 0/1 outcome; ``scores.probability.brier_score``."""
    from scores.probability import brier_score as _brier

    p, o = _pair(probability, observed_event)
    return float(_brier(_case(p), _case(o))) if p.size else float("nan")


def brier_skill_score(probability, observed_event, reference_probability) -> float:
    """``1 − BS / BS_ref`` on the pairs where all three are finite."""
    p = np.asarray(probability, dtype=float).ravel()
    o = np.asarray(observed_event, dtype=float).ravel()
    r = np.broadcast_to(np.asarray(reference_probability, dtype=float), p.shape).ravel()
    ok = np.isfinite(p) & np.isfinite(o) & np.isfinite(r)
    if not ok.any():
        return float("nan")
    bs_ref = brier_score(r[ok], o[ok])
    return float(1 - brier_score(p[ok], o[ok]) / bs_ref) if bs_ref > 0 else float("nan")


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

    The pinball (quantile) loss of each level is ``scores.continuous.quantile_score``.

    Parameters
    ----------
    quantile_values : array (n, len(levels))
        Forecast quantiles per case.
    levels : sequence of float
        Quantile levels in (0, 1).
    observed : array (n,)
    """
    from scores.continuous import quantile_score

    q = np.asarray(quantile_values, dtype=float)
    o = np.asarray(observed, dtype=float).ravel()
    levels = np.asarray(levels, dtype=float)
    ok = np.isfinite(q).all(axis=1) & np.isfinite(o)
    if not ok.any():
        return float("nan")
    obs = _case(o[ok])
    pinball = [float(quantile_score(_case(q[ok, j]), obs, float(a))) for j, a in enumerate(levels)]
    return float(2 * np.mean(pinball))


# ---------------------------------------------------------------------- Chinese operational scores
# The CMA National Meteorological Centre's scoring of AQI forecasts, as coded in its public verification
# library meteva (nmcdev/meteva, ``meteva/product/regulation/environment.py``: ``grade_score``,
# ``AQI_value_score``, ``AQI_primary_type_correct_rate``, ``mean_of_AQI_comprehensive_in_short_range``).
# meteva is not a dependency: it pulls in matplotlib, PyTables, shapely, protobuf, httplib2 and more, and in
# version 1.9.6.2 its ``AQI_value_score`` fails on float arrays (``error>25&error<=50`` parses as
# ``error > (25 & error) <= 50``) and ``AQI_primary_type_correct_rate`` works on one station only. The rules
# are written here; tests/forecast/test_operational_scores.py compares them with meteva's own functions
# where those run (``grade_score`` on arrays, the others case by case) when meteva is importable.

#: CMA level score by absolute level error 0, 1, 2; an error of 3 or more scores 0 (meteva ``grade_score``).
CMA_LEVEL_POINTS: tuple[float, ...] = (100.0, 50.0, 25.0)
#: CMA AQI value score: ``(largest |forecast − observed|, points)``; above the last bound 0 (meteva
#: ``AQI_value_score``).
CMA_AQI_BANDS: tuple[tuple[float, float], ...] = ((25, 100.0), (50, 80.0), (100, 60.0), (150, 30.0))
#: Weights of the short-range composite 0.5·(24 h) + 0.3·(48 h) + 0.2·(72 h), by lead day (meteva
#: ``mean_of_AQI_comprehensive_in_short_range``).
COMPOSITE_WEIGHTS: dict[int, float] = {1: 0.5, 2: 0.3, 3: 0.2}
#: The ``lead_day`` of the composite rows in a score table: 3, the longest lead it combines (the metric
#: names end in ``_composite``). Not 0: the table's leads stay the forecast's leads 1…10.
COMPOSITE_LEAD_DAY = 3
#: Upper AQI bounds of the levels 1–5 (HJ 633 level table; level 6 is > 300).
LEVEL_BOUNDS: tuple[int, ...] = (50, 100, 150, 200, 300)
#: Pollutants that can be primary (HJ 633 daily report), in the order of their bits in a primary code.
PRIMARY_POLLUTANTS: tuple[str, ...] = DAILY_POLLUTANTS
#: AQI at or below which a day has no primary pollutant (HJ 633-2012 §5.3, HJ 633-2026).
NO_PRIMARY_AQI = 50


def forecast_level(aqi) -> np.ndarray:
    """The level 1–6 of an AQI forecast as it would be published: the AQI rounded up to a whole number
    (as HJ 633 rounds every AQI), then its level; NaN where the AQI is missing."""
    from forecast.aqi import aqi_level

    return aqi_level(np.ceil(np.asarray(aqi, dtype=float)))


def cma_level_points(forecast_level, observed_level) -> np.ndarray:
    """Per case the CMA level score: 100 / 50 / 25 / 0 for a level error of 0 / 1 / 2 / ≥ 3 (NaN where
    either level is missing)."""
    f = np.asarray(forecast_level, dtype=float)
    o = np.asarray(observed_level, dtype=float)
    err = np.abs(f - o)
    points = np.zeros(np.broadcast(f, o).shape)
    for e, p in enumerate(CMA_LEVEL_POINTS):
        points[err == e] = p
    return np.where(np.isnan(err), np.nan, points)


def cma_level_score(forecast_level, observed_level) -> float:
    """Mean CMA level score (0–100) over the cases where both levels are known (NaN if none)."""
    f, o = _pair(forecast_level, observed_level)
    return float(np.mean(cma_level_points(f, o))) if f.size else float("nan")


def cma_aqi_points(forecast_aqi, observed_aqi) -> np.ndarray:
    """Per case the CMA AQI value score: 100 / 80 / 60 / 30 / 0 for ``|forecast − observed|`` ≤ 25 / ≤ 50 /
    ≤ 100 / ≤ 150 / > 150 (NaN where either is missing)."""
    err = np.abs(np.asarray(forecast_aqi, dtype=float) - np.asarray(observed_aqi, dtype=float))
    points = np.zeros(err.shape)
    for bound, p in reversed(CMA_AQI_BANDS):
        points[err <= bound] = p
    return np.where(np.isnan(err), np.nan, points)


def cma_aqi_score(forecast_aqi, observed_aqi) -> float:
    """Mean CMA AQI value score (0–100) over the pairs where both are finite (NaN if none)."""
    f, o = _pair(forecast_aqi, observed_aqi)
    return float(np.mean(cma_aqi_points(f, o))) if f.size else float("nan")


def short_range_composite(score_by_lead) -> float:
    """``0.5·score(D+1) + 0.3·score(D+2) + 0.2·score(D+3)`` (:data:`COMPOSITE_WEIGHTS`); NaN if one of the
    three is missing.

    Parameters
    ----------
    score_by_lead : mapping lead day → score
    """
    values = [score_by_lead.get(lead, np.nan) for lead in COMPOSITE_WEIGHTS]
    if not np.isfinite(values).all():
        return float("nan")
    return float(sum(w * v for w, v in zip(COMPOSITE_WEIGHTS.values(), values)))


def level_cdf(quantile_values, levels: Sequence[float], exceedance: dict[int, np.ndarray] | None = None
              ) -> np.ndarray:
    """The forecast CDF ``P(AQI ≤ b)`` at the level bounds b = 50, 100, 150, 200, 300 of each case.

    Built from the forecast quantiles by linear interpolation between the points ``(q_k, level_k)``,
    anchored at ``(0, 0)`` and ``(500, 1)`` (the AQI lies in 0…500), and from the calibrated exceedance
    probabilities where given: ``P(AQI ≤ t) = 1 − p_aqi_gt_t`` for t = 150 / 200 / 300 replaces the
    interpolated value wherever finite. The two sources can disagree (the quantiles and the isotonic
    probabilities are calibrated separately), so the CDF is then made monotone from the top:
    ``P(AQI > b)`` becomes the largest exceedance probability of b and of every higher bound, i.e. an
    exceedance probability is kept or raised, never lowered.

    Parameters
    ----------
    quantile_values : array (n, len(levels))
        Forecast AQI quantiles per case (NaN rows give NaN).
    levels : sequence of float
        Their quantile levels in (0, 1).
    exceedance : dict threshold → array (n,), optional
        Calibrated ``P(AQI > threshold)`` for thresholds among :data:`LEVEL_BOUNDS`.

    Returns
    -------
    ndarray (n, 5)
    """
    q = np.atleast_2d(np.asarray(quantile_values, dtype=float))
    order = np.argsort(np.asarray(levels, dtype=float))
    lv = np.asarray(levels, dtype=float)[order]
    q = q[:, order]
    n = q.shape[0]
    xp = np.concatenate([np.zeros((n, 1)), np.clip(q, 0, 500), np.full((n, 1), 500.0)], axis=1)
    xp = np.maximum.accumulate(np.where(np.isnan(xp), -np.inf, xp), axis=1)  # quantiles never decrease
    fp = np.concatenate([[0.0], lv, [1.0]])
    bounds = np.asarray(LEVEL_BOUNDS, dtype=float)
    cdf = np.empty((n, len(bounds)))
    rows = np.arange(n)
    for j, b in enumerate(bounds):
        k = np.clip((xp <= b).sum(axis=1) - 1, 0, xp.shape[1] - 2)  # last point at or below b
        x0, x1 = xp[rows, k], xp[rows, k + 1]
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.clip((b - x0) / (x1 - x0), 0, 1)
        cdf[:, j] = fp[k] + t * (fp[k + 1] - fp[k])
    cdf[~np.isfinite(q).all(axis=1)] = np.nan
    for t_, p in (exceedance or {}).items():
        j = LEVEL_BOUNDS.index(int(t_))
        p = np.asarray(p, dtype=float).ravel()
        cdf[:, j] = np.where(np.isfinite(p) & np.isfinite(cdf[:, j]), 1 - p, cdf[:, j])
    return np.minimum.accumulate(cdf[:, ::-1], axis=1)[:, ::-1]


def level_probabilities(cdf) -> np.ndarray:
    """Probabilities of the levels 1–6 from :func:`level_cdf` (n, 6); rows sum to 1."""
    cdf = np.atleast_2d(np.asarray(cdf, dtype=float))
    n = cdf.shape[0]
    return np.diff(np.concatenate([np.zeros((n, 1)), cdf, np.ones((n, 1))], axis=1), axis=1)


def most_probable_level(frame: pd.DataFrame, quantile_columns: dict[float, str] | None = None) -> np.ndarray:
    """The most probable AQI level (1–6) of each row's forecast distribution (NaN without quantiles).

    The level probabilities are :func:`level_probabilities` of :func:`level_cdf` of the row's AQI
    quantile columns and its calibrated ``p_aqi_gt_150/200/300``; a tie goes to the lower level.
    """
    quantile_columns = quantile_columns or _aqi_quantile_columns(frame)
    if not quantile_columns:
        return np.full(len(frame), np.nan)
    levels = sorted(quantile_columns)
    exceed = {t: frame[f"p_aqi_gt_{t}"].to_numpy(float) for t in LEVEL_BOUNDS if f"p_aqi_gt_{t}" in frame}
    cdf = level_cdf(frame[[quantile_columns[q] for q in levels]].to_numpy(float), levels, exceed)
    probs = level_probabilities(cdf)
    known = np.isfinite(probs).all(axis=1)
    return np.where(known, np.argmax(np.where(known[:, None], probs, 0), axis=1) + 1.0, np.nan)


def primary_pollutant_codes(concentrations: pd.DataFrame, dates) -> np.ndarray:
    """The pollutant(s) with the largest IAQI of each row, as a bit code (bit i: ``PRIMARY_POLLUTANTS[i]``).

    The IAQIs are those of the project's AQI engine (:func:`forecast.aqi.daily_aqi`, HJ 633-2012 before
    2026-03-01 and HJ 633-2026 from then, by ``dates``); ties give several bits. The AQI ≤ 50 rule (no
    primary pollutant) is left to the scorer. -1 where a concentration is missing or unscorable (also an
    O3 8 h value above 800 µg/m³ under HJ 633-2012, which scores O3 by its 1 h value, not given here).

    Parameters
    ----------
    concentrations : DataFrame
        Columns ``pm25 pm10 so2 no2 co o3_8h`` [µg/m³; CO mg/m³].
    dates : array-like of dates
        The day of each row (picks the standard).
    """
    from forecast.aqi import daily_aqi

    df = pd.DataFrame({p: np.asarray(concentrations[p], dtype=float) for p in PRIMARY_POLLUTANTS})
    df["date"] = pd.to_datetime(np.asarray(dates))
    if df.empty:
        return np.zeros(0, dtype=np.int16)
    with warnings.catch_warnings():  # such rows are unknown (-1), which is all the scorer needs to know
        warnings.filterwarnings("ignore", message=r".*O3 8 h > 800", category=AirwarnWarning)
        report = daily_aqi(df, "auto", above="ignore")
    iaqis = report[[f"iaqi_{p}" for p in PRIMARY_POLLUTANTS]].to_numpy(float)
    known = np.isfinite(iaqis).all(axis=1)
    top = np.max(np.where(known[:, None], iaqis, 0), axis=1)
    codes = ((iaqis == top[:, None]) * (1 << np.arange(len(PRIMARY_POLLUTANTS)))).sum(axis=1).astype(np.int16)
    return np.where(known, codes, -1).astype(np.int16)


def primary_pollutant_names(codes) -> np.ndarray:
    """Comma-joined pollutant names of bit codes (:func:`primary_pollutant_codes`); None for -1."""
    names = {c: ",".join(p for i, p in enumerate(PRIMARY_POLLUTANTS) if c >> i & 1)
             for c in range(1, 1 << len(PRIMARY_POLLUTANTS))}
    return np.array([names.get(int(c)) for c in np.asarray(codes)], dtype=object)


def _codes_of_names(names) -> np.ndarray:
    """Bit codes of comma-joined pollutant names (-1 for a missing entry)."""
    bit = {p: 1 << i for i, p in enumerate(PRIMARY_POLLUTANTS)}
    s = pd.Series(np.asarray(names, dtype=object))
    lookup = {v: sum(bit[p] for p in v.split(",")) for v in s.dropna().unique() if v}
    return s.map(lookup).fillna(-1).to_numpy(np.int16)


def primary_hit_rate(forecast_codes, observed_codes, observed_aqi) -> float:
    """Share of the days with observed AQI > 50 whose forecast primary pollutant(s) include an observed one.

    Codes as :func:`primary_pollutant_codes` (or comma-joined names); days with a code -1 on either side
    or a missing AQI are left out (NaN if none is left). A day with several primary pollutants (a tie) is
    a hit when any forecast one is among the observed ones (meteva's ``AQI_primary_type_correct_rate``).
    """
    f = _as_codes(forecast_codes)
    o = _as_codes(observed_codes)
    a = np.asarray(observed_aqi, dtype=float).ravel()
    ok = (f > 0) & (o > 0) & np.isfinite(a) & (a > NO_PRIMARY_AQI)
    return float(np.mean((f[ok] & o[ok]) != 0)) if ok.any() else float("nan")


def _as_codes(values) -> np.ndarray:
    v = np.asarray(values).ravel()
    if v.dtype.kind in "OUS":
        return _codes_of_names(v).astype(np.int64)
    v = v.astype(float)
    return np.where(np.isfinite(v), v, -1).astype(np.int64)


def _aqi_quantile_columns(frame: pd.DataFrame) -> dict[float, str]:
    return {int(c[5:]) / 100: c for c in frame.columns if c.startswith("aqi_p") and c[5:].isdigit()}


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
    """Add ``obs_aqi`` (valid day), ``persistence_aqi`` (issue day) and the climatology columns; and where
    the observations have the concentrations, ``obs_<pollutant>`` (valid day) and the primary pollutants
    ``obs_primary`` (valid day) and ``persistence_primary`` (issue day).

    Parameters
    ----------
    forecasts : DataFrame
        ``city, issued, lead_day, valid_date`` + forecast columns.
    obs : DataFrame
        ``city, date, aqi`` observations, optionally with ``pm25 pm10 so2 no2 co o3_8h``.
    clim : DataFrame
        Output of :func:`climatology`.

    Notes
    -----
    ``obs_primary`` and ``persistence_primary`` are the pollutant(s) with the largest IAQI of the day's
    observed concentrations (:func:`primary_pollutant_codes`, comma-joined names, ties all named; None
    when a concentration is missing), whatever that day's AQI: the scorer drops the valid days with
    AQI ≤ 50, and persistence forecasts the issue day's largest-IAQI pollutant as the model forecasts the
    largest IAQI of its medians. Only when all six pollutant columns are present.
    """
    f = forecasts.copy()
    f["issued"] = pd.to_datetime(f["issued"])
    f["valid_date"] = pd.to_datetime(f["valid_date"])
    pollutants = [p for p in PRIMARY_POLLUTANTS if p in obs.columns]
    a = obs[["city", "date", "aqi", *pollutants]].copy()
    a["date"] = pd.to_datetime(a["date"])
    a = a.groupby(["city", "date"])[["aqi", *pollutants]].mean()
    valid = pd.MultiIndex.from_arrays([f["city"], f["valid_date"]])
    issued = pd.MultiIndex.from_arrays([f["city"], f["issued"]])
    f["obs_aqi"] = a["aqi"].reindex(valid).to_numpy()
    f["persistence_aqi"] = a["aqi"].reindex(issued).to_numpy()
    c = clim.set_index(["city", "doy"])
    key = pd.MultiIndex.from_arrays([f["city"], pd.DatetimeIndex(f["valid_date"]).day_of_year])
    for col in c.columns:
        f[col] = c[col].reindex(key).to_numpy()
    for p in pollutants:
        f[f"obs_{p}"] = a[p].reindex(valid).to_numpy()
    if len(pollutants) == len(PRIMARY_POLLUTANTS):
        names = pd.Series(primary_pollutant_names(primary_pollutant_codes(a, a.index.get_level_values("date"))),
                          index=a.index, dtype=object)
        f["obs_primary"] = names.reindex(valid).to_numpy()
        f["persistence_primary"] = names.reindex(issued).to_numpy()
    return f


def score_table(frame: pd.DataFrame, quantile_columns: dict[float, str] | None = None) -> pd.DataFrame:
    """Scores per lead day for the model, persistence and climatology on the same days.

    Parameters
    ----------
    frame : DataFrame
        Output of :func:`attach_references` with the model columns ``aqi_mean`` (the point
        forecast: the mean of the forecast distribution, which minimises the expected squared
        error; ``aqi_p50`` if absent) and ``p_aqi_gt_<t>`` (and the quantile columns for the CRPS and
        the most probable level, the pollutant medians ``<pollutant>_p50`` for the primary pollutant).
        Only rows where the observation, persistence and climatology all exist are scored, so the three
        models share the days.
        The model's yes/no event forecast is ``p_aqi_gt_<t> ≥ decision_threshold_gt_<t>`` (a
        probability threshold per row, i.e. per city and lead, chosen on the validation fold);
        without that column it is the point forecast ``> t``.
    quantile_columns : dict, optional
        ``{level: column}`` for the CRPS and the most probable level (default: the ``aqi_pNN`` columns
        present).

    Returns
    -------
    DataFrame
        Long table ``lead_day, metric, model, value``; metrics ``n, rmse, mae, bias, corr,
        level_acc, crps``, ``pod|far|ts|ets_<t>``, ``brier_<t>``, ``bss_<t>`` (vs the
        climatological frequency), ``base_rate_<t>``; the Chinese operational scores
        ``cma_level_score`` and ``cma_aqi_score`` (of the point forecast), ``level_accuracy_mode`` and
        ``cma_level_score_mode`` (of the model's most probable level, :func:`most_probable_level`; for the
        deterministic references their point forecast's level), ``primary_hit_rate`` and
        ``n_primary`` (the days it is scored on: observed AQI > 50 and every primary pollutant known;
        climatology NaN), and at ``lead_day`` :data:`COMPOSITE_LEAD_DAY` the short-range composites
        ``cma_level_score_composite``, ``cma_level_score_mode_composite`` and ``cma_aqi_score_composite``
        (:func:`short_range_composite` of leads 1–3, when all three are scored).
    """
    if quantile_columns is None:
        quantile_columns = _aqi_quantile_columns(frame)
    levels = sorted(quantile_columns)
    scored = _scored_rows(frame)
    if scored.empty:
        return pd.DataFrame(columns=["lead_day", "metric", "model", "value"])
    # Every lead at once: each column becomes a (lead, case) grid padded with NaN, and each ``scores``
    # function is called once for all leads, models and thresholds (it skips the NaN padding).
    leads, li = np.unique(scored["lead_day"].to_numpy(int), return_inverse=True)
    pos = scored.groupby("lead_day", sort=True).cumcount().to_numpy()
    width = int(pos.max()) + 1

    def grid(values) -> np.ndarray:
        out = np.full((len(leads), width), np.nan)
        out[li, pos] = np.asarray(values, dtype=float)
        return out

    o = grid(scored["obs_aqi"])
    case = np.isfinite(o)
    count = case.sum(axis=1)
    fc = _point_forecasts(scored)
    names = list(fc)
    point = np.stack([grid(fc[m]) for m in names])  # (model, lead, case)
    values: dict[tuple[str, str], np.ndarray] = {}  # (metric, model) → value per lead

    def put(metric, model, v):
        values[(metric, model)] = np.broadcast_to(np.asarray(v, dtype=float), (len(leads),))

    cont = _continuous_scores(point, o)
    observed_level = forecast_level(o)
    point_level = forecast_level(point)
    for i, name in enumerate(names):
        put("n", name, count)
        for metric in ("rmse", "mae", "bias", "corr"):
            put(metric, name, cont[metric][i])
        put("level_acc", name, _mean_over_cases(point_level[i] == observed_level, case))
    if levels:
        q = np.stack([grid(scored[quantile_columns[lv]]) for lv in levels], axis=-1)  # (lead, case, level)
        put("crps", "airwarn", _crps_grid(q, levels, o))
    put("crps", "persistence", cont["mae"][names.index("persistence")])
    put("crps", "climatology", cont["mae"][names.index("climatology")])
    events = np.stack([np.where(case, o > t, np.nan) for t in EVENT_THRESHOLDS])  # (threshold, lead, case)
    yes = np.stack([np.stack([grid(_yes_no(scored, t, fc)[m]) for t in EVENT_THRESHOLDS]) for m in names])
    table = _event_scores(_contingency_manager(yes, events, dims=("model", "threshold", "lead", "case"),
                                               preserve=("model", "threshold", "lead")))
    probs = {"persistence": np.stack([np.where(case, point[names.index("persistence")] > t, np.nan)
                                      for t in EVENT_THRESHOLDS])}
    if all(f"p_aqi_gt_{t}" in scored for t in EVENT_THRESHOLDS):
        probs["airwarn"] = np.stack([grid(scored[f"p_aqi_gt_{t}"]) for t in EVENT_THRESHOLDS])
    clim_p = (np.stack([grid(scored[f"clim_p_gt_{t}"]) for t in EVENT_THRESHOLDS])
              if all(f"clim_p_gt_{t}" in scored for t in EVENT_THRESHOLDS) else None)
    if clim_p is not None:
        probs["climatology"] = clim_p
    brier = _brier_grid(probs, events, clim_p)
    for j, t in enumerate(EVENT_THRESHOLDS):
        for i, name in enumerate(names):
            for k in ("pod", "far", "ts", "ets"):
                put(f"{k}_{t}", name, table[k][i, j])
        put(f"base_rate_{t}", "airwarn", _mean_over_cases(events[j] == 1, case))
        for name in probs:
            put(f"brier_{t}", name, brier["brier"][name][j])
            if clim_p is not None:
                put(f"bss_{t}", name, brier["bss"][name][j])
    # Chinese operational scores (CMA rules, see the section above)
    mode = grid(most_probable_level(scored, quantile_columns)) if levels else None
    for i, name in enumerate(names):
        put("cma_level_score", name, _mean_over_cases(cma_level_points(point_level[i], observed_level), case))
        put("cma_aqi_score", name, _mean_over_cases(cma_aqi_points(np.ceil(point[i]), o), case))
        if mode is not None:
            m = mode if name == "airwarn" else point_level[i]
            known = case & np.isfinite(m)
            put("level_accuracy_mode", name, _mean_over_cases(m == observed_level, known))
            put("cma_level_score_mode", name, _mean_over_cases(cma_level_points(m, observed_level), known))
    medians = [f"{p}_p50" for p in PRIMARY_POLLUTANTS]
    if "obs_primary" in scored and "persistence_primary" in scored and all(c in scored for c in medians):
        fc_code = grid(primary_pollutant_codes(scored[medians].set_axis(list(PRIMARY_POLLUTANTS), axis=1),
                                               scored["valid_date"]))
        obs_code, pers_code = grid(_as_codes(scored["obs_primary"])), grid(_as_codes(scored["persistence_primary"]))
        with np.errstate(invalid="ignore"):
            days = case & (obs_code > 0) & (pers_code > 0) & (fc_code > 0) & (o > NO_PRIMARY_AQI)
        obs_bits = np.where(days, obs_code, 0).astype(np.int64)
        for name, code in (("airwarn", fc_code), ("persistence", pers_code), ("climatology", None)):
            put("n_primary", name, days.sum(axis=1))
            hit = None if code is None else (np.where(days, code, 0).astype(np.int64) & obs_bits) != 0
            put("primary_hit_rate", name, np.nan if hit is None else _mean_over_cases(hit, days))
    rows = [{"lead_day": int(lead), "metric": metric, "model": model, "value": float(v[k])}
            for k, lead in enumerate(leads) for (metric, model), v in values.items()]
    out = pd.DataFrame(rows, columns=["lead_day", "metric", "model", "value"])
    return pd.concat([out, _composites(out)], ignore_index=True)


def _mean_over_cases(values, mask) -> np.ndarray:
    """Per lead (first axis) the mean of ``values`` over the cases (last axis) where ``mask``; NaN if none."""
    mask = np.broadcast_to(mask, np.shape(values))
    n = mask.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        total = np.where(mask, np.asarray(values, dtype=float), 0.0).sum(axis=-1)
        return np.where(n > 0, total / np.maximum(n, 1), np.nan)


def _continuous_scores(point: np.ndarray, o: np.ndarray) -> dict[str, np.ndarray]:
    """RMSE, MAE, bias and correlation (model, lead) of the grids ``point`` (model, lead, case) against ``o``
    (lead, case), one call of each ``scores`` function (NaN cells, the padding, are skipped)."""
    from scores.continuous import additive_bias, mae as _mae, rmse as _rmse
    from scores.continuous.correlation import pearsonr

    f = xr.DataArray(point, dims=("model", "lead", "case"))
    obs = xr.DataArray(o, dims=("lead", "case"))
    keep = ["model", "lead"]
    out = {"rmse": _rmse(f, obs, preserve_dims=keep).values, "mae": _mae(f, obs, preserve_dims=keep).values,
           "bias": additive_bias(f, obs, preserve_dims=keep).values}
    n = np.isfinite(o).sum(axis=-1)
    constant = (np.nanstd(point, axis=-1) == 0) | (np.nanstd(o, axis=-1) == 0) | (n < 3)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["corr"] = np.where(constant, np.nan, pearsonr(f, obs, preserve_dims=keep).values)
    return out


def _crps_grid(q: np.ndarray, levels: Sequence[float], o: np.ndarray) -> np.ndarray:
    """:func:`crps_quantiles` per lead of a (lead, case, level) grid of quantiles."""
    from scores.continuous import quantile_score

    ok = np.isfinite(q).all(axis=-1) & np.isfinite(o)
    obs = xr.DataArray(np.where(ok, o, np.nan), dims=("lead", "case"))
    pinball = [quantile_score(xr.DataArray(np.where(ok, q[..., j], np.nan), dims=("lead", "case")), obs,
                              float(a), preserve_dims=["lead"]).values for j, a in enumerate(levels)]
    return np.where(ok.any(axis=-1), 2 * np.mean(pinball, axis=0), np.nan)


def _brier_grid(probs: dict[str, np.ndarray], events: np.ndarray, clim_p: np.ndarray | None) -> dict:
    """Brier score and Brier skill score against ``clim_p`` (threshold, lead) of each model's (threshold,
    lead, case) probabilities, as :func:`brier_score` and :func:`brier_skill_score` (``scores``' Brier
    score, one call per model and pairing)."""
    from scores.probability import brier_score as _brier

    def bs(p: np.ndarray, mask: np.ndarray) -> np.ndarray:
        dims = ("threshold", "lead", "case")
        value = _brier(xr.DataArray(np.where(mask, p, np.nan), dims=dims),
                       xr.DataArray(np.where(mask, events, np.nan), dims=dims),
                       preserve_dims=["threshold", "lead"]).values
        return np.where(mask.any(axis=-1), value, np.nan)

    out: dict = {"brier": {}, "bss": {}}
    for name, p in probs.items():
        ok = np.isfinite(p) & np.isfinite(events)
        out["brier"][name] = bs(p, ok)
        if clim_p is not None:
            both = ok & np.isfinite(clim_p)
            ref = bs(clim_p, both)
            with np.errstate(invalid="ignore", divide="ignore"):
                out["bss"][name] = np.where(ref > 0, 1 - bs(p, both) / ref, np.nan)
    return out


def _composites(scores: pd.DataFrame) -> pd.DataFrame:
    """The short-range composite rows (:func:`short_range_composite`) of a score table."""
    rows = []
    s = scores[scores["lead_day"].isin(list(COMPOSITE_WEIGHTS))]
    for metric in ("cma_level_score", "cma_level_score_mode", "cma_aqi_score"):
        for model, g in s[s["metric"] == metric].groupby("model", sort=False):
            value = short_range_composite(dict(zip(g["lead_day"], g["value"])))
            if np.isfinite(value):
                rows.append({"lead_day": COMPOSITE_LEAD_DAY, "metric": f"{metric}_composite", "model": model,
                             "value": value})
    return pd.DataFrame(rows, columns=scores.columns)


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
        raise InputError(f"need at least one day to resample, got {n_days}")
    if block_days < 1:
        raise InputError(f"block_days must be ≥ 1, got {block_days}")
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
              "level_acc": "AQI level accuracy", "level_accuracy_mode": "AQI level accuracy (most probable level)",
              "cma_level_score": "CMA level score", "cma_level_score_mode": "CMA level score (most probable level)",
              "cma_aqi_score": "CMA AQI value score", "primary_hit_rate": "Primary pollutant hit rate"}
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
