"""Calibration of the forecast model on held-out forecasts: probabilities, decision thresholds, folds.

* :func:`validation_folds`: the training and held-out rows of each fold feeding the calibration;
* :func:`residual_quantiles`: the standardised-residual quantiles per lead of the held-out rows;
* :func:`exceedance_probability`: P(AQI > t) from an AQI quantile function on :data:`GRID_LEVELS`;
* :func:`fit_isotonic` / :func:`apply_isotonic`: isotonic recalibration tables of probabilities;
* :func:`criterion_met`: whether an AQI series meets a warning criterion;
* :func:`best_threshold` / :func:`neighbourhood_thresholds`: TS-maximising probability thresholds of
  the yes/no forecasts (per city, over its neighbourhood);
* :class:`CalibrationWarning`: the held-out forecasts are too few or too one-sided;
* :func:`copula_correlation`, :func:`validation_events`, :func:`validation_scores`: the copula of the
  scenarios, the events and the scores of the held-out forecasts (:func:`to_wide`: a per-row value as
  an (issue × lead) array).
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.isotonic import IsotonicRegression

from airwarn.core.errors import InputError
from forecast import features as F
from forecast.estimator import GRID_LEVELS, GRID_WEIGHTS
from forecast.product import LEADS, THRESHOLDS, Criterion

def exceedance_probability(aqi_grid: np.ndarray, threshold: float,
                           levels: np.ndarray = GRID_LEVELS) -> np.ndarray:
    """P(AQI > threshold) from AQI quantiles at ``levels`` (rows × levels), linear between levels.

    Beyond the grid the tails get half the outer level's mass.
    """
    a = np.asarray(aqi_grid, dtype=float)
    thr = np.broadcast_to(np.asarray(threshold, dtype=float), (len(a),))
    n_le = (a <= thr[:, None]).sum(axis=1)
    cdf = np.empty(len(a))
    lo = n_le == 0
    hi = n_le == a.shape[1]
    mid = ~(lo | hi)
    cdf[lo] = levels[0] / 2
    cdf[hi] = 1 - (1 - levels[-1]) / 2
    k = n_le[mid]
    rows = np.nonzero(mid)[0]
    a0, a1 = a[rows, k - 1], a[rows, k]
    l0, l1 = levels[k - 1], levels[k]
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(a1 > a0, (thr[rows] - a0) / (a1 - a0), 0.0)
    cdf[mid] = l0 + np.clip(frac, 0, 1) * (l1 - l0)
    p = 1 - cdf
    p[~np.isfinite(a).all(axis=1)] = np.nan
    return p


def criterion_met(aqi: np.ndarray, criterion: Criterion) -> np.ndarray:
    """Whether ``aqi`` (..., lead) exceeds the threshold on ≥ ``days`` consecutive leads."""
    above = np.asarray(aqi) > criterion.threshold
    run = np.zeros(above.shape[:-1], dtype=int)
    best = np.zeros(above.shape[:-1], dtype=int)
    for k in range(above.shape[-1]):
        run = np.where(above[..., k], run + 1, 0)
        best = np.maximum(best, run)
    return best >= criterion.days


def fit_isotonic(p: np.ndarray, y: np.ndarray) -> dict:
    """Isotonic calibration table ``{"x", "y"}`` of the 0/1 outcomes ``y`` on the raw probabilities ``p``
    (NaN pairs dropped). With fewer than two pairs, the table is the outcomes' frequency (0 without any)."""
    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=float)
    ok = np.isfinite(p) & np.isfinite(y)
    if ok.sum() < 2:
        rate = float(np.mean(y[ok])) if ok.any() else 0.0
        return {"x": [0.0, 1.0], "y": [rate, rate]}
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(p[ok], y[ok])
    return {"x": [float(v) for v in iso.X_thresholds_], "y": [float(v) for v in iso.y_thresholds_]}


def apply_isotonic(table: Mapping, p: np.ndarray) -> np.ndarray:
    """Calibrated probabilities of ``p`` through a :func:`fit_isotonic` table (NaN stays NaN)."""
    x = np.asarray(table["x"], dtype=float)
    y = np.asarray(table["y"], dtype=float)
    p = np.asarray(p, dtype=float)
    out = np.interp(np.nan_to_num(p, nan=0.0), x, y)
    return np.where(np.isfinite(p), out, np.nan)


def best_threshold(p: np.ndarray, observed: np.ndarray) -> float:
    """Probability threshold maximising the threat score TS = hits / (hits + misses + false alarms)."""
    ok = np.isfinite(p) & np.isfinite(observed)
    p, o = p[ok], observed[ok].astype(bool)
    if o.sum() == 0:
        return 0.5
    best, best_ts = 0.5, -1.0
    for t in np.round(np.arange(0.05, 0.951, 0.025), 3):
        f = p >= t
        hits = (f & o).sum()
        denom = (f | o).sum()
        ts = hits / denom if denom else 0.0
        if ts > best_ts + 1e-12:
            best, best_ts = float(t), ts
    return best


#: Radius [km] of the neighbourhood whose validation rows set a city's decision thresholds
#: (the e-folding distance of the regional features).
THRESHOLD_POOL_KM: float = F.REGION_SCALE_KM


def neighbourhood_thresholds(p: np.ndarray, observed: np.ndarray, row_cities: np.ndarray,
                             distances: pd.DataFrame, fallback: float,
                             radius_km: float = THRESHOLD_POOL_KM) -> tuple[np.ndarray, np.ndarray]:
    """TS-maximising probability threshold of each city, from the rows of its neighbourhood.

    The threshold that maximises the threat score depends on how often the event happens and
    how well it can be forecast, which vary between regions; one city's own rows hold too few
    events to choose it. Here each city's threshold is :func:`best_threshold` on the
    (validation) rows of the cities within ``radius_km`` of it, itself included.

    Parameters
    ----------
    p, observed : ndarray
        Calibrated probabilities and observed events (0/1, NaN unknown) of the rows of one lead.
    row_cities : ndarray of str
        City of each row.
    distances : DataFrame
        Square distance matrix [km] (:func:`forecast.features.distance_matrix_km`); its index
        lists the cities to get a threshold for.
    fallback : float
        Threshold used when a neighbourhood saw no event or the city has no coordinates (the
        all-city threshold).
    radius_km : float

    Returns
    -------
    thresholds, events : ndarray
        Per city of ``distances.index``: the threshold and the number of events it was chosen on.
    """
    cities = list(distances.index)
    codes = pd.Index(cities).get_indexer(row_cities)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(cities) + 1))
    rows_of = [order[bounds[i]:bounds[i + 1]] for i in range(len(cities))]
    d = distances.to_numpy(float)
    observed = np.asarray(observed, float)
    ev = np.nan_to_num(observed, nan=0.0)
    out = np.full(len(cities), float(fallback))
    events = np.zeros(len(cities), dtype=int)
    for i in range(len(cities)):
        if not np.isfinite(d[i, i]):  # no coordinates: the all-city threshold
            continue
        near = np.nonzero(d[i] <= radius_km)[0]
        near = np.union1d(near, [i])
        rows = np.concatenate([rows_of[j] for j in near])
        events[i] = int(ev[rows].sum())
        if events[i]:
            out[i] = best_threshold(p[rows], observed[rows])
    return out, events


#: Training warns when the share of held-out city-days above AQI 200 is below this fraction of the
#: share over the whole training period (a June–September fold: 0.5 % against 4 %).
MIN_VALIDATION_SHARE_RATIO: float = 0.5


class CalibrationWarning(UserWarning):
    """The held-out forecasts are too few or too one-sided to calibrate the probabilities well."""


#: Schemes of :func:`validation_folds`.
VALIDATION_SCHEMES: tuple[str, ...] = ("last", "blocked")


def validation_folds(issued, valid, in_period, start, until, scheme: str = "last", *, valid_days: int = 122,
                     n_folds: int = 4) -> list[tuple[np.ndarray, np.ndarray]]:
    """Training and held-out rows of each fold that feeds the calibration.

    Parameters
    ----------
    issued, valid : ndarray of datetime64
        Issue day and valid day of every (city, issue day, lead) row.
    in_period : ndarray of bool
        Rows whose valid day lies inside the training period.
    start, until : Timestamp
        First and last day of the training period.
    scheme : {"last", "blocked"}
        ``"last"``: one fold; the held-out rows are issued in the last ``valid_days`` days, the
        training rows are valid before them. ``"blocked"``: the issue days are cut into
        ``n_folds`` consecutive blocks of equal length; block *k* is held out and the training rows
        are those valid before it or issued more than ``max(LEADS)`` days after it (so no training
        row's valid day falls within the held-out rows' valid days).

    Returns
    -------
    list of (fit_mask, held_mask)
    """
    issued = np.asarray(issued, dtype="datetime64[ns]")
    valid = np.asarray(valid, dtype="datetime64[ns]")
    day = np.timedelta64(1, "D")
    if scheme == "last":
        split = (until - pd.Timedelta(days=valid_days)).to_datetime64()
        return [(in_period & (valid <= split), in_period & (issued > split))]
    if scheme != "blocked":
        raise InputError(f"validation scheme must be one of {list(VALIDATION_SCHEMES)}, got {scheme!r}")
    first, last = start.to_datetime64(), until.to_datetime64()
    n_days = int((last - first) // day) + 1
    edges = first + np.round(np.linspace(0, n_days, n_folds + 1)).astype(int) * day
    folds = []
    for k in range(n_folds):
        lo, hi = edges[k], edges[k + 1]  # block k: issue days lo ≤ d < hi
        held = in_period & (issued >= lo) & (issued < hi)
        fit = in_period & ((valid < lo) | (issued >= hi + max(LEADS) * day))
        folds.append((fit, held))
    return folds


def residual_quantiles(z: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Quantiles at :data:`GRID_LEVELS` of standardised residuals per group (lead day).

    Returns the sorted group keys and the table (groups × levels), non-decreasing along levels.

    Raises
    ------
    ValueError
        If a group has fewer than 30 finite residuals.
    """
    z = np.asarray(z, dtype=float)
    groups = np.asarray(groups)
    keys = np.unique(groups)
    table = np.empty((len(keys), len(GRID_LEVELS)))
    for i, g in enumerate(keys):
        zg = z[(groups == g) & np.isfinite(z)]
        if len(zg) < 30:
            raise InputError(f"calibration group {g!r} has only {len(zg)} held-out rows (need ≥ 30)")
        table[i] = np.quantile(zg, GRID_LEVELS)
    return keys, np.maximum.accumulate(table, axis=1)


def to_wide(table: pd.DataFrame, values: np.ndarray, keys: pd.DataFrame) -> np.ndarray:
    """(keys × leads) array of a per-row value."""
    k = pd.MultiIndex.from_frame(keys)
    s = pd.Series(values, index=pd.MultiIndex.from_arrays([table["city"], table["issued"], table["lead_day"]]))
    w = s.unstack("lead_day").reindex(columns=list(LEADS))
    return w.reindex(k).to_numpy(float)


def copula_correlation(table: pd.DataFrame, aqi_grid: np.ndarray, obs_aqi: np.ndarray) -> np.ndarray:
    """Correlation across leads of the normal scores of the observed AQI's PIT (validation rows)."""
    pit = 1 - exceedance_probability(aqi_grid, np.nan_to_num(obs_aqi, nan=-1.0))
    pit[~np.isfinite(obs_aqi)] = np.nan
    z = stats.norm.ppf(np.clip(pit, 0.001, 0.999))
    keys = table[["city", "issued"]].drop_duplicates().reset_index(drop=True)
    w = pd.DataFrame(to_wide(table, z, keys), columns=list(LEADS))
    corr = w.corr(min_periods=30).to_numpy()
    if not np.isfinite(corr).all():
        # fall back to an AR(1) correlation with the lag-1 value (or 0.6)
        r = np.nanmean(np.diag(corr, 1)) if np.isfinite(np.diag(corr, 1)).any() else 0.6
        lag = np.abs(np.subtract.outer(np.arange(len(LEADS)), np.arange(len(LEADS))))
        corr = r ** lag
    # nearest positive-definite matrix by eigenvalue clipping
    vals, vecs = np.linalg.eigh((corr + corr.T) / 2)
    corr = vecs @ np.diag(np.maximum(vals, 1e-4)) @ vecs.T
    d = np.sqrt(np.diag(corr))
    return corr / np.outer(d, d)


def validation_events(table: pd.DataFrame, obs_aqi: np.ndarray) -> dict:
    """Distinct observed city-days of the held-out rows, and how many exceed each AQI threshold."""
    days = pd.DataFrame({"city": table["city"].to_numpy(), "date": table["valid_date"].to_numpy(),
                         "aqi": obs_aqi}).dropna().drop_duplicates(["city", "date"])
    return {"city_days": int(len(days)), **{str(t): int((days["aqi"] > t).sum()) for t in THRESHOLDS}}


def validation_scores(table, aqi_grid, obs_aqi, raw, model) -> dict:
    """A few scores on the validation fold for the card (per lead).

    ``model`` is read for ``calibration_`` and ``decision_thresholds(200, cities)``; ``raw`` holds the
    uncalibrated exceedance probabilities per threshold."""
    q50 = aqi_grid @ GRID_WEIGHTS  # the point forecast: the mean of the AQI distribution
    leads = table["lead_day"].to_numpy()
    cities = sorted(table["city"].unique())
    codes = pd.Index(cities).get_indexer(table["city"])
    thresholds = model.decision_thresholds(200, cities)
    out = {}
    for L in LEADS:
        m = (leads == L) & np.isfinite(obs_aqi)
        err = q50[m] - obs_aqi[m]
        p200 = apply_isotonic(model.calibration_["daily"]["200"][str(L)], raw[200][m])
        o200 = (obs_aqi[m] > 200).astype(float)
        thr = thresholds[codes[m], L - 1]
        f = p200 >= thr
        hits = (f & (o200 > 0)).sum()
        denom = (f | (o200 > 0)).sum()
        out[str(L)] = {"n": int(m.sum()), "rmse_aqi_mean": round(float(np.sqrt(np.mean(err ** 2))), 2),
                       "bias_aqi_mean": round(float(np.mean(err)), 2),
                       "brier_gt200": round(float(np.mean((p200 - o200) ** 2)), 5),
                       "base_rate_gt200": round(float(o200.mean()), 5),
                       "ts_gt200": round(float(hits / denom) if denom else float("nan"), 4)}
    return out
