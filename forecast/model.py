"""The 1–10 day probabilistic AQI forecast: LightGBM on log concentrations, AQI from the AQI engine.

Design
------
* **Direct multi-horizon, pooled over cities, one booster per pollutant and lead group.** For
  each pollutant and each group of :data:`LEAD_GROUPS` (D+1, D+2, D+3–4, D+5–7, D+8–10) a
  :class:`LogLocationScaleRegressor` is trained on rows (city, issue day ``D``, lead ``L``)
  pooled over all cities, with ``lead_day`` as a predictor inside a group. Leads 1 and 2 get
  their own booster because there the issue day's values dominate: one booster pooled over all
  ten leads (tried first) under-used them and lost to persistence at D+1 (log-RMSE of PM2.5
  0.55 vs 0.48 for a D+1 booster on the 2015 test year). Longer leads, where the forecast
  relaxes towards the seasonal level, share boosters (more rows per booster, smoother in lead,
  a smaller model: 30 boosters instead of 60).
* **Location–scale on the log scale.** The location booster (L2 loss on
  ``log(c + offset)``) gives the conditional mean of the log concentration; a second, smaller
  booster predicts the mean absolute residual (the spread grows with lead, in winter, in
  polluted cities). The quantiles are ``location + scale × z_q`` where ``z_q`` are the
  empirical quantiles of the standardised residuals *per lead on the validation fold*, so the
  spread is calibrated out of sample and quantiles never cross.
* **AQI from the AQI engine.** AQI quantiles are the AQI engine
  (:func:`forecast.aqi.aqi_from_concentrations`) applied to the pollutant quantiles at the
  same level. This is exact under the *comonotonic* assumption (all pollutants sit at the same
  quantile of their forecast distribution on a day), which is reasonable because their errors
  share the same cause (the meteorology) and because the AQI is almost always set by one
  pollutant. The standard follows the valid date: HJ 633-2012 before 2026-03-01,
  HJ 633-2026 from then on.
* **Held-out forecasts.** Everything calibrated below is fitted on forecasts of days the boosters
  did not see, inside the training period (:func:`validation_folds`): the last
  :attr:`ForecastModel.valid_days` days (``validation="last"``), or ``folds`` blocks cross-fitted
  over the whole period (``validation="blocked"``: every season, more events). The final boosters
  are then fitted on the whole period.
* **Probabilities.** P(AQI > 150/200/300) comes from the AQI quantile function on a fine grid
  of levels and is then recalibrated per lead with isotonic regression fitted on the held-out
  forecasts (the validation fold). The
  probability threshold of the yes/no forecast (``decision_threshold_gt_<t>``) maximises the
  threat score on the validation fold, per lead and per city over the validation rows of the
  cities within :data:`THRESHOLD_POOL_KM` (:func:`neighbourhood_thresholds`). That rule beat one
  all-city threshold, the city alone and similar-base-rate pools in a cross-validation inside the
  validation fold (:mod:`forecast.threshold_study`; results in docs/forecast.md).
* **Scenarios.** ``aqi_scenario`` members draw a Gaussian vector across the ten leads with the
  correlation of the normal scores of the validation residuals (a Gaussian copula) and read
  each lead's AQI quantile function at ``Φ(z)``: every member's marginal is the forecast
  distribution, and consecutive days co-vary as they did in the data. The probability of a
  warning criterion (e.g. AQI > 200 on ≥ 2 consecutive days) is the share of members meeting
  it, recalibrated on the validation fold like the daily probabilities.

Everything is seeded: the same inputs give the same files.
"""
from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import platform
import time
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.isotonic import IsotonicRegression
from sklearn.utils.validation import check_is_fitted

from airwarn.core.files import atomic_path, atomic_write_bytes, atomic_write_text
from airwarn.core.vocab import DAILY_POLLUTANTS, POLLUTANT_UNITS
from forecast import features as F
from forecast import verify
from forecast.inputs import last_observed
from airwarn.core.errors import InputError, UnknownNameError

#: The model folder's day-of-year AQI climatology of the training period (the scorecard's reference).
CLIMATOLOGY_FILE = "climatology.csv.gz"
#: Quantile levels of the forecast output.
QUANTILES: tuple[float, ...] = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)
#: Lead days (1 = the day after the issue day).
LEADS: tuple[int, ...] = tuple(range(1, 11))
#: Groups of lead days sharing one booster per pollutant (lead 1 and 2 get their own: there the
#: issue day's values matter most and a booster pooled over all leads under-used them).
LEAD_GROUPS: tuple[tuple[int, ...], ...] = ((1,), (2,), (3, 4), (5, 6, 7), (8, 9, 10))
#: Pollutants that rarely set the AQI: smaller boosters.
MINOR_POLLUTANTS: tuple[str, ...] = ("so2", "no2", "co")
#: AQI thresholds with a daily exceedance probability.
THRESHOLDS: tuple[int, ...] = (150, 200, 300)
#: Fine grid of quantile levels used for probabilities and scenarios (includes QUANTILES).
GRID_LEVELS: np.ndarray = np.unique(np.round(np.concatenate([
    [0.002, 0.005, 0.01, 0.02, 0.03, 0.04], np.arange(0.05, 0.951, 0.025), QUANTILES,
    [0.96, 0.97, 0.98, 0.99, 0.995, 0.998]]), 4))
#: Weights of the grid levels for the mean of a quantile function (cells between midpoints).
GRID_WEIGHTS: np.ndarray = np.diff(np.concatenate([[0.0], (GRID_LEVELS[1:] + GRID_LEVELS[:-1]) / 2, [1.0]]))
#: First valid date of the HJ 633-2026 AQI.
STANDARD_2026_FROM = pd.Timestamp("2026-03-01")
#: Default number of AQI scenario members.
N_MEMBERS = 100


@dataclass(frozen=True)
class ValidationScenarios:
    """The held-out forecasts of the validation fold as AQI scenarios, for calibrating decisions.

    Attributes
    ----------
    keys : DataFrame
        ``city, issued`` of each held-out forecast (row order of the arrays).
    members : ndarray, shape (keys, members, leads), float32
        AQI scenario members (:meth:`ForecastModel._members`).
    observed : ndarray, shape (keys, leads), float32
        Observed daily AQI of each lead's valid day (NaN: not observed).
    issue_aqi : ndarray, shape (keys,)
        Observed daily AQI of the issue day (NaN: not observed).
    """

    keys: pd.DataFrame
    members: np.ndarray
    observed: np.ndarray
    issue_aqi: np.ndarray


@dataclass(frozen=True)
class Criterion:
    """A warning criterion on the forecast daily AQI within the 10-day horizon.

    Attributes
    ----------
    key : str
        Name used in files (``gt200_2d``).
    threshold : int
        AQI threshold (exceeded strictly).
    days : int
        Minimum number of consecutive days above the threshold.
    """

    key: str
    threshold: int
    days: int

    @property
    def label(self) -> str:
        """Human-readable text (``AQI>200 for ≥2 consecutive days``)."""
        return f"AQI>{self.threshold} for ≥{self.days} consecutive day{'s' if self.days > 1 else ''}"


#: Warning criteria whose probability is forecast (the 2024 national grading uses
#: >200 for 1/2/3 days, >150 for 2/3 days and >300 for 1 day).
CRITERIA: tuple[Criterion, ...] = (
    Criterion("gt150_2d", 150, 2), Criterion("gt150_3d", 150, 3), Criterion("gt200_1d", 200, 1),
    Criterion("gt200_2d", 200, 2), Criterion("gt200_3d", 200, 3), Criterion("gt300_1d", 300, 1),
)

#: Default hyperparameters of the location booster (see :class:`LogLocationScaleRegressor`).
DEFAULT_PARAMS: dict = dict(n_estimators=200, learning_rate=0.07, num_leaves=31, min_child_samples=100,
                            colsample_bynode=0.6, subsample=0.7, reg_lambda=1.0, max_bin=63,
                            scale_n_estimators=120, scale_num_leaves=15)


def _aqi_engine():
    from forecast import aqi

    return aqi


def standard_for(valid_dates) -> np.ndarray:
    """AQI standard per valid date: ``"HJ633-2012"`` before 2026-03-01, ``"HJ633-2026"`` from then on."""
    d = pd.DatetimeIndex(pd.to_datetime(np.asarray(valid_dates).ravel()))
    return np.where(d >= STANDARD_2026_FROM, "HJ633-2026", "HJ633-2012")


def aqi_of(conc: Mapping[str, np.ndarray], valid_dates) -> np.ndarray:
    """AQI of concentrations through the AQI engine, the standard chosen by valid date.

    Parameters
    ----------
    conc : mapping pollutant → array
        Concentrations (µg/m³; CO mg/m³), all the same shape ``(n, ...)``.
    valid_dates : array-like of length n
        Valid date of each row.

    Returns
    -------
    ndarray
        AQI, same shape as the concentrations.
    """
    engine = _aqi_engine()
    std = standard_for(valid_dates)
    shape = next(iter(conc.values())).shape
    out = np.full(shape, np.nan)
    for name in np.unique(std):
        rows = std == name
        part = {p: np.asarray(v)[rows] for p, v in conc.items()}
        out[rows] = engine.aqi_from_concentrations(str(name), **part)
    return out


class LogLocationScaleRegressor(RegressorMixin, BaseEstimator):
    """LightGBM location–scale model of a log concentration, with per-group residual quantiles.

    Follows the scikit-learn estimator contract: ``__init__`` stores the hyperparameters,
    :meth:`fit` validates and trains, fitted attributes end in ``_``.

    Parameters
    ----------
    n_estimators, learning_rate, num_leaves, min_child_samples, subsample, reg_lambda, max_bin
        Passed to :class:`lightgbm.LGBMRegressor` for the location (L2 loss).
    colsample_bynode : float
        Share of the predictors tried at each split (LightGBM ``feature_fraction_bynode``).
        Sampled per node, not per tree, so that ``lead_day`` is never missing from a whole
        tree: a pooled multi-horizon model needs it everywhere.
    scale_n_estimators, scale_num_leaves : int
        Size of the scale booster (L2 loss on the absolute residual).
    random_state : int
        Seed of both boosters.
    n_jobs : int
        Threads.

    Attributes
    ----------
    location_, scale_ : lightgbm.Booster
        The fitted boosters.
    n_features_in_, feature_names_in_ :
        As in scikit-learn.
    z_groups_ : ndarray
        Group keys (lead days) with residual quantiles (set by :class:`ForecastModel` from the
        held-out forecasts, :func:`residual_quantiles`; normal ones with a mean absolute value of 1
        after :meth:`fit`).
    z_quantiles_ : ndarray, shape (n_groups, len(GRID_LEVELS))
        Quantiles of the standardised residuals per group.
    """

    def __init__(self, n_estimators: int = 300, learning_rate: float = 0.05, num_leaves: int = 31,
                 min_child_samples: int = 200, colsample_bynode: float = 0.6, subsample: float = 0.7,
                 reg_lambda: float = 1.0, max_bin: int = 63, scale_n_estimators: int = 120,
                 scale_num_leaves: int = 15, random_state: int = 0, n_jobs: int = 2):
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.colsample_bynode = colsample_bynode
        self.subsample = subsample
        self.reg_lambda = reg_lambda
        self.max_bin = max_bin
        self.scale_n_estimators = scale_n_estimators
        self.scale_num_leaves = scale_num_leaves
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _lgbm(self, **over):
        from lightgbm import LGBMRegressor

        params = dict(n_estimators=self.n_estimators, learning_rate=self.learning_rate,
                      num_leaves=self.num_leaves, min_child_samples=self.min_child_samples,
                      feature_fraction_bynode=self.colsample_bynode, subsample=self.subsample, subsample_freq=1,
                      reg_lambda=self.reg_lambda, max_bin=self.max_bin, random_state=self.random_state,
                      n_jobs=self.n_jobs, deterministic=True, force_col_wise=True, verbose=-1)
        params.update(over)
        return LGBMRegressor(**params)

    def fit(self, X: pd.DataFrame, y) -> "LogLocationScaleRegressor":
        """Fit the location and scale boosters.

        Parameters
        ----------
        X : DataFrame
            Predictors (numeric; NaN allowed).
        y : array-like
            Log concentration; must be finite.

        Raises
        ------
        ValueError
            If X and y differ in length, y has non-finite values, or there are fewer than 50 rows.
        """
        if not isinstance(X, pd.DataFrame):
            raise InputError(f"X must be a pandas DataFrame of predictors, got {type(X).__name__}")
        y = np.asarray(y, dtype=float)
        if len(X) != len(y):
            raise InputError(f"X has {len(X)} rows but y has {len(y)}")
        if not np.isfinite(y).all():
            raise InputError(f"y has {int((~np.isfinite(y)).sum())} non-finite values; drop them first")
        if len(y) < 50:
            raise InputError(f"need at least 50 training rows, got {len(y)}")
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = X.shape[1]
        loc = self._lgbm().fit(X, y)
        resid = np.abs(y - loc.predict(X))
        scale = self._lgbm(n_estimators=self.scale_n_estimators, num_leaves=self.scale_num_leaves,
                           random_state=self.random_state + 1).fit(X, resid)
        self.location_ = loc.booster_
        self.scale_ = scale.booster_
        self.z_groups_ = np.array([0])
        self.z_quantiles_ = stats.norm.ppf(GRID_LEVELS)[None, :] * np.sqrt(np.pi / 2)
        return self

    def _X(self, X: pd.DataFrame) -> pd.DataFrame:
        check_is_fitted(self, "location_")
        missing = [c for c in self.feature_names_in_ if c not in X.columns]
        if missing:
            raise InputError(f"predictors missing: {missing[:10]}{' …' if len(missing) > 10 else ''}")
        return X[list(self.feature_names_in_)]

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Location: the conditional mean of the log concentration."""
        return self.location_.predict(self._X(X), num_threads=self.n_jobs)

    def predict_scale(self, X: pd.DataFrame) -> np.ndarray:
        """Scale: the conditional mean absolute residual of the log concentration (≥ 0.03)."""
        return np.maximum(self.scale_.predict(self._X(X), num_threads=self.n_jobs), 0.03)

    def z_table(self, groups) -> np.ndarray:
        """Standardised-residual quantiles (rows × GRID_LEVELS) for each row's group."""
        idx = np.searchsorted(self.z_groups_, np.asarray(groups))
        idx = np.clip(idx, 0, len(self.z_groups_) - 1)
        return self.z_quantiles_[idx]

    def predict_log_quantiles(self, X: pd.DataFrame, groups) -> np.ndarray:
        """Log-concentration quantiles at :data:`GRID_LEVELS`, shape (rows, levels)."""
        loc = self.predict(X)
        scale = self.predict_scale(X)
        return loc[:, None] + scale[:, None] * self.z_table(groups)


def _rep(values: np.ndarray, k: int) -> np.ndarray:
    return np.repeat(np.asarray(values)[:, None], k, axis=1)


def _stable_seed(*parts) -> int:
    return zlib.crc32("|".join(map(str, parts)).encode("utf-8"))


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


class ForecastModel:
    """The trained probabilistic forecast: one :class:`LogLocationScaleRegressor` per pollutant.

    Parameters
    ----------
    name : str
        Model name (the folder name under ``models/``).
    params : dict, optional
        Hyperparameters (defaults :data:`DEFAULT_PARAMS`).
    max_rows : int
        Largest number of (city, issue day, lead) rows a booster (one lead group) is trained on
        (a seeded random sample when there are more).
    validation : {"last", "blocked"}
        Where the calibration's held-out forecasts come from (:func:`validation_folds`): the last
        ``valid_days`` of the training period, or ``folds`` blocks cross-fitted over all of it.
    valid_days : int
        Length of the validation fold at the end of the training period [days] (``"last"``).
    folds : int
        Number of blocks (``"blocked"``).
    refit : bool
        Refit the boosters on the whole training period after calibrating on the
        validation fold (the calibration tables are kept). Always done with ``"blocked"``.
    seed : int
        Seed of sampling, boosters and scenarios.
    n_jobs : int
        Threads of LightGBM.

    Attributes (after fit or load)
    ------------------------------
    pollutants_ : list of str
    regressors_ : dict ``"<pollutant>|g<k>"`` → LogLocationScaleRegressor (k indexes LEAD_GROUPS)
    features_ : list of str
    statics_ : DataFrame (per-city constants from the training period)
    coords_ : DataFrame (city, lon, lat)
    card_ : dict (the model card)
    city_thresholds_ : DataFrame (city, lead_day, threshold, value, events): per-city decision thresholds
    validation_frame_ : DataFrame (after fit only, not saved): the calibrated validation forecasts
        (city, issued, lead_day, obs_aqi, p_aqi_gt_<t>), for studies of the decision rule
    """

    def __init__(self, name: str = "model", params: dict | None = None, max_rows: int = 150_000,
                 validation: str = "last", valid_days: int = 122, folds: int = 4, refit: bool = True,
                 seed: int = 0, n_jobs: int = 2):
        self.name = name
        self.params = dict(DEFAULT_PARAMS, **(params or {}))
        self.max_rows = max_rows
        self.validation = validation
        self.valid_days = valid_days
        self.folds = folds
        self.refit = refit
        self.seed = seed
        self.n_jobs = n_jobs

    # ------------------------------------------------------------------ training
    def fit(self, obs: pd.DataFrame, *, met: pd.DataFrame | None = None,
            coords: pd.DataFrame | None = None, until=None, log=None) -> "ForecastModel":
        """Train on city daily observations up to ``until`` (inclusive).

        Parameters
        ----------
        obs : DataFrame
            :func:`forecast.io.read_city_daily` schema (``city, date, aqi`` + pollutants).
        met : DataFrame, optional
            Daily meteorology per city (:func:`forecast.features.met_daily`).
        coords : DataFrame, optional
            City coordinates (``city, lon, lat``) for the regional features.
        until : date-like, optional
            Last day used (default: the last day of ``obs``).
        log : callable, optional
            Receives progress messages (the CLI prints them).

        Raises
        ------
        ValueError
            If no pollutant columns are present or the period is too short for the
            validation fold.
        """
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):
            return self._fit(obs, met=met, coords=coords, until=until, log=log or (lambda msg: None))

    def _fit(self, obs, *, met, coords, until, log) -> "ForecastModel":
        t0 = time.perf_counter()
        pollutants = [p for p in DAILY_POLLUTANTS if p in obs.columns and obs[p].notna().any()]
        if not pollutants:
            raise InputError(f"observations: no pollutant column among {list(DAILY_POLLUTANTS)}; "
                             f"got {list(obs.columns)}")
        variables = pollutants + (["aqi"] if "aqi" in obs.columns else [])
        clean = F.clean_observations(obs, variables)
        until = pd.Timestamp(until) if until is not None else clean["date"].max()
        clean = clean[clean["date"] <= until].reset_index(drop=True)
        if clean.empty:
            raise InputError(f"observations: no data on or before {until.date()}")
        start = clean["date"].min()
        if self.validation not in VALIDATION_SCHEMES:
            raise InputError(f"validation scheme must be one of {list(VALIDATION_SCHEMES)}, got {self.validation!r}")
        days = (until - start).days + 1
        if self.validation == "last" and days - self.valid_days < 60:
            raise InputError(f"training period {start.date()} → {until.date()} is too short: need "
                             f"≥ 60 days before a validation fold of {self.valid_days} days")
        if self.validation == "blocked" and days < self.folds * 30:
            raise InputError(f"training period {start.date()} → {until.date()} ({days} days) is too short "
                             f"for {self.folds} validation blocks: need ≥ {self.folds * 30} days")
        self.coords_ = (coords[["city", "lon", "lat"]].drop_duplicates("city").reset_index(drop=True)
                        if coords is not None else pd.DataFrame(columns=["city", "lon", "lat"]))
        self.pollutants_ = pollutants
        self.variables_ = variables
        self.with_met_ = met is not None
        self.statics_ = F.city_statics(clean, self.coords_, variables)
        self.climatology_ = training_climatology(obs, start, until)
        self.met_variables_ = [v for v in F.MET_VARIABLES if met is not None and v in met.columns]
        issue = F.issue_features(clean, self.coords_, self.statics_)
        log(f"features: {len(issue):,} city-days, {issue['city'].nunique()} cities, "
            f"{start.date()} → {until.date()} ({time.perf_counter() - t0:.1f} s)")

        rng = np.random.default_rng(self.seed)
        n_issue = len(issue)
        idx = np.repeat(np.arange(n_issue), len(LEADS))
        lead = np.tile(np.array(LEADS), n_issue)
        issued_at = issue["date"].to_numpy()[idx]
        valid = issued_at + lead.astype("timedelta64[D]")
        in_period = valid <= until.to_datetime64()
        folds = validation_folds(issued_at, valid, in_period, start, until, self.validation,
                                 valid_days=self.valid_days, n_folds=self.folds)

        def sample(mask):
            chosen = []
            for group in LEAD_GROUPS:
                cand = np.nonzero(mask & np.isin(lead, group))[0]
                if len(cand) > self.max_rows:
                    cand = np.sort(rng.choice(cand, self.max_rows, replace=False))
                chosen.append(cand)
            return np.sort(np.concatenate(chosen))

        target = clean.set_index(["city", "date"])

        def table(pairs):
            t = _expand_pairs(issue, idx[pairs], lead[pairs], met)
            key = pd.MultiIndex.from_arrays([t["city"], t["valid_date"]])
            ys = target.reindex(key)
            return t, ys

        # held-out forecasts: location and scale of each pollutant on the validation rows
        held = []
        for k, (fit_mask, held_mask) in enumerate(folds):
            tab_fit, y_fit = table(sample(fit_mask))
            tab_held, y_held = table(np.nonzero(held_mask)[0])
            if k == 0:
                self.features_ = F.feature_columns(tab_fit)
            log(f"fold {k + 1}/{len(folds)}: fit {len(tab_fit):,} rows, held out {len(tab_held):,} "
                f"({time.perf_counter() - t0:.1f} s)")
            regs = self._fit_boosters(tab_fit, y_fit, pollutants)
            loc = {p: _by_lead_group(regs, p, tab_held, self.features_, lambda r, X, _: r.predict(X))
                   for p in pollutants}
            scale = {p: _by_lead_group(regs, p, tab_held, self.features_, lambda r, X, _: r.predict_scale(X))
                     for p in pollutants}
            held.append((tab_held[["city", "issued", "lead_day", "valid_date"]], y_held, loc, scale))
            del tab_fit, y_fit, tab_held
            if len(folds) == 1 and not self.refit:
                self.regressors_ = regs
        tab_val = pd.concat([h[0] for h in held], ignore_index=True)
        y_val = pd.concat([h[1] for h in held])
        loc_val = {p: np.concatenate([h[2][p] for h in held]) for p in pollutants}
        scale_val = {p: np.concatenate([h[3][p] for h in held]) for p in pollutants}
        del held
        log(f"held-out rows: {len(tab_val):,} ({time.perf_counter() - t0:.1f} s)")

        # residual quantiles per lead from the pooled held-out rows, then the AQI quantiles (in chunks)
        lead_val = tab_val["lead_day"].to_numpy()
        z_tables, z_by_lead = {}, {}
        for p in pollutants:
            z = (F.to_log(y_val[p].to_numpy(), p) - loc_val[p]) / scale_val[p]
            z_by_lead[p] = np.full((max(LEADS) + 1, len(GRID_LEVELS)), np.nan)
            for g, group in enumerate(LEAD_GROUPS):
                rows = np.isin(lead_val, group)
                keys, table_z = z_tables[f"{p}|g{g}"] = residual_quantiles(z[rows], lead_val[rows])
                z_by_lead[p][keys] = table_z
        aqi_grid = np.empty((len(tab_val), len(GRID_LEVELS)))
        for lo in range(0, len(tab_val), 200_000):
            rows = slice(lo, lo + 200_000)
            conc = _concentrations({p: loc_val[p][rows, None] + scale_val[p][rows, None] * z_by_lead[p][lead_val[rows]]
                                    for p in pollutants})
            aqi_grid[rows] = self._aqi_grid(tab_val.iloc[rows], conc)
        del loc_val, scale_val

        # validation forecasts → AQI probability calibration, decision thresholds, copula
        obs_aqi = _observed_aqi(y_val, pollutants)
        self.validation_events_ = ev = _validation_events(tab_val, obs_aqi)
        share = ev["200"] / max(ev["city_days"], 1)
        overall = float((clean["aqi"] > 200).mean()) if "aqi" in clean.columns else float("nan")
        ev["share_200"], ev["share_200_training_period"] = round(share, 5), round(overall, 5)
        ev["clean_season"] = bool(share < MIN_VALIDATION_SHARE_RATIO * overall)
        if ev["clean_season"]:
            msg = (f"the held-out days ({self.validation!r} scheme) have only {ev['200']} city-days above AQI 200 "
                   f"({share:.1%} of {ev['city_days']:,}, against {overall:.1%} over the training period): the "
                   f"probabilities of heavy pollution are calibrated on a clean season; train up to the end "
                   f"of a heating season or use validation='blocked'")
            warnings.warn(msg, CalibrationWarning, stacklevel=3)
            log(f"WARNING: {msg}")
        self.decision_thresholds_ = {}
        self.calibration_ = {"daily": {}, "criteria": {}}
        raw = {t: exceedance_probability(aqi_grid, t) for t in THRESHOLDS}
        trained_cities = sorted(clean["city"].unique())
        distances = F.distance_matrix_km(self.coords_, trained_cities)
        city_thr = []
        calibrated = {t: np.full(len(tab_val), np.nan) for t in THRESHOLDS}
        for t in THRESHOLDS:
            self.calibration_["daily"][str(t)] = {}
            self.decision_thresholds_[str(t)] = {}
            for L in LEADS:
                m = lead_val == L
                event = np.where(np.isfinite(obs_aqi[m]), obs_aqi[m] > t, np.nan)
                tab = fit_isotonic(raw[t][m], event)
                self.calibration_["daily"][str(t)][str(L)] = tab
                pc = apply_isotonic(tab, raw[t][m])
                calibrated[t][m] = pc
                self.decision_thresholds_[str(t)][str(L)] = best_threshold(pc, event)
                thr, n_ev = neighbourhood_thresholds(pc, event, tab_val["city"].to_numpy()[m], distances,
                                                     self.decision_thresholds_[str(t)][str(L)])
                city_thr.append(pd.DataFrame({"city": distances.index, "lead_day": L, "threshold": t,
                                              "value": thr, "events": n_ev}))
        self.city_thresholds_ = pd.concat(city_thr, ignore_index=True)
        # the validation forecasts themselves (in memory only: for studies of the decision rule)
        self.validation_frame_ = pd.DataFrame({
            "city": tab_val["city"].to_numpy(), "issued": tab_val["issued"].to_numpy(), "lead_day": lead_val,
            "obs_aqi": obs_aqi, **{f"p_aqi_gt_{t}": calibrated[t] for t in THRESHOLDS}})
        self.copula_corr_ = _copula_correlation(tab_val, aqi_grid, obs_aqi)
        issue_aqi = (clean.set_index(["city", "date"])["aqi"] if "aqi" in clean.columns
                     else pd.Series(dtype=float, index=pd.MultiIndex.from_arrays([[], []])))
        self._fit_criteria_calibration(tab_val, aqi_grid, obs_aqi, issue_aqi)
        self.validation_ = _validation_scores(tab_val, aqi_grid, obs_aqi, raw, self)
        log(f"calibrated on the held-out rows ({time.perf_counter() - t0:.1f} s)")

        if self.refit or len(folds) > 1:
            tab_all, y_all = table(sample(in_period))
            self.regressors_ = self._fit_boosters(tab_all, y_all, pollutants)
            log(f"fitted on the whole training period ({time.perf_counter() - t0:.1f} s)")
        for key, reg in self.regressors_.items():
            reg.z_groups_, reg.z_quantiles_ = z_tables[key]
        self.train_span_ = (str(start.date()), str(until.date()))
        first_held = min(issued_at[h].min() for _, h in folds)
        self.validation_span_ = (str(pd.Timestamp(first_held).date()), str(until.date()))
        self.cities_ = sorted(clean["city"].unique())
        self.train_seconds_ = time.perf_counter() - t0
        self.card_ = self._make_card()
        return self

    def decision_thresholds(self, threshold: int, cities: Sequence[str]) -> np.ndarray:
        """Probability thresholds of the yes/no forecast of AQI > ``threshold``, shape (city, lead).

        The city's own (neighbourhood) threshold where the model has one, else the all-city one.
        """
        glob = np.array([float(self.decision_thresholds_[str(threshold)][str(L)]) for L in LEADS])
        out = np.tile(glob, (len(cities), 1))
        t = self.city_thresholds_
        t = t[t["threshold"].astype(int) == int(threshold)]
        if len(t):
            wide = t.pivot_table(index="city", columns="lead_day", values="value").reindex(
                index=list(cities), columns=list(LEADS)).to_numpy(float)
            out = np.where(np.isfinite(wide), wide, out)
        return out

    def _fit_boosters(self, tab: pd.DataFrame, y: pd.DataFrame, pollutants) -> dict:
        """One fitted :class:`LogLocationScaleRegressor` per pollutant and lead group (``"<p>|g<k>"``)."""
        regs = {}
        lead_fit = tab["lead_day"].to_numpy()
        for p in pollutants:
            yl = F.to_log(y[p].to_numpy(), p)
            for k, group in enumerate(LEAD_GROUPS):
                reg = self._regressor(p)
                ok = np.isfinite(yl) & np.isin(lead_fit, group)
                reg.fit(tab.loc[ok, self.features_], yl[ok])
                regs[f"{p}|g{k}"] = reg
        return regs

    def _regressor(self, pollutant: str) -> LogLocationScaleRegressor:
        params = dict(self.params)
        if pollutant in MINOR_POLLUTANTS:
            params["n_estimators"] = min(params["n_estimators"], 100)
            params["num_leaves"] = min(params["num_leaves"], 15)
        return LogLocationScaleRegressor(**params, random_state=self.seed, n_jobs=self.n_jobs)

    def _fit_criteria_calibration(self, tab_val, aqi_grid, obs_aqi, issue_aqi: pd.Series) -> None:
        members, keys = self._members(tab_val, aqi_grid, n_members=N_MEMBERS)
        obs_w = _to_wide(tab_val, obs_aqi, keys)
        complete = np.isfinite(obs_w).all(axis=1)
        for c in CRITERIA:
            share = criterion_met(members, c).mean(axis=-1)
            event = criterion_met(obs_w, c).astype(float)
            event[~complete] = np.nan
            self.calibration_["criteria"][c.key] = fit_isotonic(share, event)
        # kept in memory (not saved): the warning decision is calibrated on these held-out scenarios
        # by the warning layer (emergency.decision), which knows the rule sets
        self.validation_scenarios_ = ValidationScenarios(
            keys=keys, members=members.astype("float32"), observed=obs_w.astype("float32"),
            issue_aqi=issue_aqi.reindex(pd.MultiIndex.from_frame(keys)).to_numpy(float))

    # ------------------------------------------------------------------ prediction pieces
    def _log_quantiles(self, table: pd.DataFrame) -> dict[str, np.ndarray]:
        return {p: _by_lead_group(self.regressors_, p, table, self.features_,
                                  lambda r, X, leads: r.predict_log_quantiles(X, leads))
                for p in self.pollutants_}

    def _conc_grid(self, table: pd.DataFrame) -> dict[str, np.ndarray]:
        return _concentrations(self._log_quantiles(table))

    def _aqi_grid(self, table: pd.DataFrame, conc: dict | None = None) -> np.ndarray:
        conc = conc if conc is not None else self._conc_grid(table)
        valid = np.repeat(table["valid_date"].to_numpy()[:, None], len(GRID_LEVELS), axis=1)
        grid = aqi_of({p: c.ravel() for p, c in conc.items()}, valid.ravel())
        return np.maximum.accumulate(grid.reshape(len(table), len(GRID_LEVELS)), axis=1)

    def _members(self, table: pd.DataFrame, aqi_grid: np.ndarray, n_members: int):
        """AQI scenarios (issue rows × members × leads) and the (city, issued) keys."""
        keys = table[["city", "issued"]].drop_duplicates().reset_index(drop=True)
        wide = _to_wide_grid(table, aqi_grid, keys)  # (n_keys, n_leads, n_levels)
        chol = np.linalg.cholesky(np.asarray(self.copula_corr_) + 1e-9 * np.eye(len(LEADS)))
        out = np.full((len(keys), len(LEADS), n_members), np.nan)
        levels = GRID_LEVELS
        for i, (city, issued) in enumerate(keys.itertuples(index=False)):
            rng = np.random.default_rng(_stable_seed(self.seed, city, pd.Timestamp(issued).date()))
            z = rng.standard_normal((n_members, len(LEADS))) @ chol.T
            u = stats.norm.cdf(z)
            for j in range(len(LEADS)):
                row = wide[i, j]
                if np.isfinite(row).all():
                    out[i, j] = _quantile_function(u[:, j], levels, row)
        return np.transpose(out, (0, 2, 1)), keys  # (keys, members, leads)

    # ------------------------------------------------------------------ public prediction
    def predict(self, obs: pd.DataFrame, issued, cities: Sequence[str] | None = None,
                met: pd.DataFrame | None = None, n_members: int = N_MEMBERS) -> xr.Dataset:
        """Forecast issued on one or several days from observations up to each issue day.

        Parameters
        ----------
        obs : DataFrame
            City daily observations (:func:`forecast.io.read_city_daily` schema). Rows after
            an issue day are never used for that issue day (features look backwards only).
        issued : date-like or sequence of date-likes
            Issue day(s) ``D``; lead 1 is ``D + 1``.
        cities : sequence of str, optional
            Cities to forecast (default: every city in ``obs``).
        met : DataFrame, optional
            Daily meteorology (required if the model was trained with it; missing values
            are allowed).
        n_members : int
            Number of AQI scenario members.

        Returns
        -------
        xarray.Dataset
            See :func:`forecast_dataset` for the layout.

        Raises
        ------
        KeyError
            If a requested city has no observations (the message lists some valid cities).
        """
        check = getattr(self, "regressors_", None)
        if not check:
            raise InputError("model is not fitted; call fit() or load_model() first")
        issued_list = [pd.Timestamp(d).normalize() for d in np.atleast_1d(np.asarray(issued, dtype=object))]
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):
            table = self.forecast_table(obs, issued_list, cities, met)
            ds = self._dataset(table, n_members)
        return ds.assign(last_observed=last_observed(obs, ds["city"].values, ds["issued"].values,
                                                     self.variables_),
                         aqi_issue_day=issue_day_aqi(obs, ds["city"].values, ds["issued"].values))

    def forecast_table(self, obs, issued_list, cities=None, met=None) -> pd.DataFrame:
        """The predictor table (city, issued, lead rows) for the given issue days."""
        variables = [v for v in self.variables_ if v in obs.columns]
        missing = [p for p in self.pollutants_ if p not in obs.columns]
        if missing:
            raise InputError(f"observations lack the model's pollutant column(s) {missing}; "
                             f"got {list(obs.columns)}")
        last = max(issued_list)
        obs = obs[pd.to_datetime(obs["date"]) <= last]
        all_cities = sorted(obs["city"].astype(str).unique())
        if cities is not None:
            unknown = [c for c in cities if c not in all_cities]
            if unknown:
                raise UnknownNameError(f"no observations for city {unknown}; cities in the observations: "
                               f"{all_cities[:20]}{' …' if len(all_cities) > 20 else ''}")
        cities = list(cities) if cities is not None else all_cities
        # every city's observations stay: the neighbours make the regional features
        # only the history that the features need (30-day windows)
        first = min(issued_list) - pd.Timedelta(days=45)
        clean = F.clean_observations(obs[pd.to_datetime(obs["date"]) >= first], variables)
        for v in self.variables_:
            if v not in clean.columns:
                clean[v] = np.nan
        clean = _extend_to(clean, last)
        issue = F.issue_features(clean, self.coords_, self.statics_)
        sel = issue[issue["date"].isin(issued_list) & issue["city"].isin(cities)].reset_index(drop=True)
        lead_idx = np.repeat(np.arange(len(sel)), len(LEADS))
        lead = np.tile(np.array(LEADS), len(sel))
        table = _expand_pairs(sel, lead_idx, lead, met if self.with_met_ else None)
        for c in self.features_:
            if c not in table.columns:
                table[c] = np.nan
        return table

    def _dataset(self, table: pd.DataFrame, n_members: int) -> xr.Dataset:
        conc = self._conc_grid(table)
        aqi_grid = self._aqi_grid(table, conc)
        q_idx = [int(np.argmin(np.abs(GRID_LEVELS - q))) for q in QUANTILES]
        valid_rows = table["valid_date"].to_numpy()
        conc_q = {p: c[:, q_idx] for p, c in conc.items()}
        aqi_q = aqi_of({p: c.ravel() for p, c in conc_q.items()},
                       _rep(valid_rows, len(q_idx)).ravel()).reshape(len(table), len(q_idx))
        leads = table["lead_day"].to_numpy()
        probs = {}
        for t in THRESHOLDS:
            raw = exceedance_probability(aqi_grid, t)
            pc = np.full(len(raw), np.nan)
            for L in LEADS:
                m = leads == L
                if m.any():
                    pc[m] = apply_isotonic(self.calibration_["daily"][str(t)][str(L)], raw[m])
            probs[t] = pc
        members, keys = self._members(table, aqi_grid, n_members)
        crit = {}
        for c in CRITERIA:
            share = criterion_met(members, c).mean(axis=-1)
            share = np.where(np.isfinite(members).all(axis=(1, 2)), share, np.nan)
            crit[c.key] = apply_isotonic(self.calibration_["criteria"][c.key], share)
        aqi_mean = aqi_grid @ GRID_WEIGHTS
        return forecast_dataset(self, table, keys, conc_q, aqi_q, probs, members, crit, aqi_mean)

    # ------------------------------------------------------------------ persistence
    def _make_card(self) -> dict:
        import lightgbm
        import sklearn

        return {
            "name": self.name,
            "model": "airwarn LightGBM location-scale on log concentrations, pooled over cities and leads",
            "created_with": {"python": platform.python_version(), "lightgbm": lightgbm.__version__,
                             "scikit-learn": sklearn.__version__, "numpy": np.__version__,
                             "pandas": pd.__version__, "xarray": xr.__version__},
            "train_span": list(self.train_span_),
            "validation_span": list(self.validation_span_),
            "cities": self.cities_,
            "pollutants": self.pollutants_,
            "variables": self.variables_,
            "with_met": self.with_met_,
            "met_variables": self.met_variables_,
            "features": self.features_,
            "hyperparameters": dict(self.params, max_rows=self.max_rows, validation=self.validation,
                                    valid_days=self.valid_days, folds=self.folds, refit=self.refit,
                                    seed=self.seed),
            "quantiles": list(QUANTILES),
            "grid_levels": [float(v) for v in GRID_LEVELS],
            "leads": list(LEADS),
            "lead_groups": [list(g) for g in LEAD_GROUPS],
            "thresholds": list(THRESHOLDS),
            "criteria": [{"key": c.key, "threshold": c.threshold, "days": c.days} for c in CRITERIA],
            "aqi_standard": "HJ633-2012 for valid dates before 2026-03-01, HJ633-2026 from then on",
            "comonotonic_assumption": "AQI quantile q = AQI engine applied to every pollutant's quantile q",
            "decision_thresholds": self.decision_thresholds_,
            "decision_thresholds_per_city": {
                "file": "decision_thresholds.csv",
                "method": (f"per city and lead: the probability threshold maximising the threat score on the "
                           f"validation rows of the cities within {THRESHOLD_POOL_KM:.0f} km (itself included); "
                           "the all-city threshold ('decision_thresholds') where that neighbourhood saw no event"),
                "radius_km": THRESHOLD_POOL_KM},
            "calibration": self.calibration_,
            "copula_correlation": np.round(np.asarray(self.copula_corr_), 6).tolist(),
            "residual_quantiles": {key: {"groups": [int(g) for g in r.z_groups_],
                                         "z": np.round(r.z_quantiles_, 6).tolist()}
                                   for key, r in self.regressors_.items()},
            "validation_scores": self.validation_,
            "validation_events": self.validation_events_,
            "train_seconds": round(self.train_seconds_, 1),
        }

    def save(self, out_dir: str | os.PathLike) -> Path:
        """Write the booster text files, ``statics.csv`` and ``card.json`` to ``out_dir`` (atomically per file)."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        files = []
        for key, r in self.regressors_.items():
            p, g = key.split("|")
            for part, booster in (("location", r.location_), ("scale", r.scale_)):
                fname = f"booster_{p}_{g}_{part}.txt"
                atomic_write_text(out / fname, booster.model_to_string(num_iteration=-1))
                files.append(fname)
        statics = self.statics_.reset_index()
        coords = self.coords_.set_index("city").reindex(statics["city"]).reset_index(drop=True)
        atomic_write_text(out / "statics.csv", statics.to_csv(index=False))
        atomic_write_text(out / "coords.csv", self.coords_.to_csv(index=False))
        atomic_write_text(out / "decision_thresholds.csv", self.city_thresholds_.to_csv(index=False))
        del coords
        files += ["statics.csv", "coords.csv", "decision_thresholds.csv"]
        if self.climatology_ is not None:
            # full precision (a reference recomputed from the same observations scores identically);
            # gzip without a time stamp, so the same model gives the same bytes
            text = self.climatology_.to_csv(index=False)
            atomic_write_bytes(out / CLIMATOLOGY_FILE, gzip.compress(text.encode("utf-8"), mtime=0))
            files.append(CLIMATOLOGY_FILE)
        else:  # not a previous model's, left in the same folder
            (out / CLIMATOLOGY_FILE).unlink(missing_ok=True)
        card = dict(self.card_, files=files, climatology=None if self.climatology_ is None else {
            "file": CLIMATOLOGY_FILE, "span": list(self.train_span_), "half_window_days": verify.CLIMATOLOGY_HALF_WINDOW,
            "use": "reference forecast of the scorecard (airwarn backtest)"})
        atomic_write_text(out / "card.json", json.dumps(card, ensure_ascii=False, indent=1, default=_json_default))
        self.card_ = card
        return out


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (pd.Timestamp, dt.date)):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def load_model(model_dir: str | os.PathLike) -> ForecastModel:
    """Load a model saved by :meth:`ForecastModel.save` (``card.json`` + booster files).

    Raises
    ------
    FileNotFoundError
        If the folder or its ``card.json`` does not exist.
    ValueError
        If the card or a booster file cannot be read.
    """
    import lightgbm

    folder = Path(model_dir)
    card_path = folder / "card.json"
    if not card_path.exists():
        raise FileNotFoundError(f"model folder {folder}: no card.json (train one with `airwarn train`)")
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{card_path}: not valid JSON: {exc}") from exc
    hp = dict(card["hyperparameters"])
    m = ForecastModel(name=card["name"], params={k: hp[k] for k in DEFAULT_PARAMS if k in hp},
                      max_rows=hp.get("max_rows", 150_000), validation=hp.get("validation", "last"),
                      valid_days=hp.get("valid_days", 122), folds=hp.get("folds", 4),
                      refit=hp.get("refit", True), seed=hp.get("seed", 0))
    m.pollutants_ = card["pollutants"]
    m.variables_ = card["variables"]
    m.with_met_ = card["with_met"]
    m.met_variables_ = card.get("met_variables", [])
    m.features_ = card["features"]
    m.cities_ = card["cities"]
    m.train_span_ = tuple(card["train_span"])
    m.validation_span_ = tuple(card["validation_span"])
    m.decision_thresholds_ = card["decision_thresholds"]
    m.calibration_ = card["calibration"]
    m.copula_corr_ = np.asarray(card["copula_correlation"])
    m.validation_ = card.get("validation_scores", {})
    m.validation_events_ = card.get("validation_events", {})
    m.train_seconds_ = card.get("train_seconds", float("nan"))
    statics = pd.read_csv(folder / "statics.csv")
    statics["city"] = statics["city"].astype(str)
    m.statics_ = statics.set_index("city")
    coords = pd.read_csv(folder / "coords.csv")
    coords["city"] = coords["city"].astype(str)
    m.coords_ = coords
    # None for a model saved before airwarn stored its climatology (the backtest recomputes it from
    # observations) or trained without AQI
    clim = card.get("climatology")
    m.climatology_ = None
    if clim and (folder / clim["file"]).exists():
        m.climatology_ = pd.read_csv(folder / clim["file"], dtype={"city": str})
    elif clim:  # only the backtest needs it, and it can recompute it
        warnings.warn(f"model folder {folder}: {clim['file']} named in card.json is missing; a backtest recomputes "
                      f"the climatology from the training period's observations", stacklevel=2)
    thr_path = folder / "decision_thresholds.csv"
    if thr_path.exists():
        m.city_thresholds_ = pd.read_csv(thr_path, dtype={"city": str})
    else:  # a model trained before per-city thresholds: the all-city ones everywhere
        m.city_thresholds_ = pd.DataFrame(columns=["city", "lead_day", "threshold", "value", "events"])
    m.regressors_ = {}
    groups = [tuple(g) for g in card.get("lead_groups", [])]
    if groups != list(LEAD_GROUPS):
        raise InputError(f"model folder {folder}: lead groups {groups} in card.json do not match this "
                         f"version of airwarn ({list(LEAD_GROUPS)}); retrain the model")
    for key, rq in card["residual_quantiles"].items():
        p, g = key.split("|")
        reg = m._regressor(p)
        try:
            reg.location_ = lightgbm.Booster(model_file=str(folder / f"booster_{p}_{g}_location.txt"))
            reg.scale_ = lightgbm.Booster(model_file=str(folder / f"booster_{p}_{g}_scale.txt"))
        except lightgbm.basic.LightGBMError as exc:
            raise InputError(f"model folder {folder}: cannot read the {p} boosters ({g}): {exc}") from exc
        reg.feature_names_in_ = np.asarray(m.features_, dtype=object)
        reg.n_features_in_ = len(m.features_)
        reg.z_groups_ = np.asarray(rq["groups"])
        reg.z_quantiles_ = np.asarray(rq["z"])
        m.regressors_[key] = reg
    m.card_ = card
    return m


# ---------------------------------------------------------------------- helpers
def issue_day_aqi(obs: pd.DataFrame, cities, issued) -> xr.DataArray:
    """Observed daily AQI of each city on each issue day, ``aqi_issue_day(city, issued)`` (NaN where
    not observed or the observations carry no AQI): the day before lead 1, which the warning criteria
    of runs of days read together with the forecast."""
    cities = np.asarray(cities, dtype=object)
    issued = pd.DatetimeIndex(np.atleast_1d(issued)).normalize()
    values = np.full((len(cities), len(issued)), np.nan)
    if "aqi" in obs.columns:
        o = obs[["city", "date", "aqi"]].assign(city=obs["city"].astype(str),
                                                date=pd.to_datetime(obs["date"]).dt.normalize(),
                                                aqi=pd.to_numeric(obs["aqi"], errors="coerce"))
        o = o[o["date"].isin(issued) & o["city"].isin(cities)]
        s = o.groupby(["city", "date"])["aqi"].mean()
        lo, hi = F.VALID_RANGES.get("aqi", (0, 500))
        s = s.where((s >= lo) & (s <= hi))
        values = s.reindex(pd.MultiIndex.from_product([cities, issued])).to_numpy(float).reshape(values.shape)
    return xr.DataArray(values.astype("float32"), dims=("city", "issued"),
                        coords={"city": cities, "issued": issued.values},
                        attrs={"long_name": "observed daily AQI of the issue day", "units": "1"})


def training_climatology(obs: pd.DataFrame, start, until) -> pd.DataFrame | None:
    """The day-of-year AQI climatology per city (:func:`forecast.verify.climatology`) of the
    observations from ``start`` to ``until``: the climatology reference of the model's scorecard.

    None when ``obs`` has no ``aqi`` column.
    """
    if "aqi" not in obs.columns:
        return None
    o = obs[["city", "date", "aqi"]].assign(date=pd.to_datetime(obs["date"]))
    return verify.climatology(o[(o["date"] >= pd.Timestamp(start)) & (o["date"] <= pd.Timestamp(until))])


def _by_lead_group(regs: dict, pollutant: str, table: pd.DataFrame, features: Sequence[str], predict) -> np.ndarray:
    """``predict(booster, X, lead_days)`` of each lead group's booster of ``pollutant`` on its rows of
    ``table``, assembled in row order (NaN where no group applies)."""
    leads = table["lead_day"].to_numpy()
    out = None
    for k, group in enumerate(LEAD_GROUPS):
        rows = np.isin(leads, group)
        if rows.any():
            values = np.asarray(predict(regs[f"{pollutant}|g{k}"], table.loc[rows, features], leads[rows]))
            if out is None:
                out = np.full((len(table), *values.shape[1:]), np.nan)
            out[rows] = values
    return out if out is not None else np.full(len(table), np.nan)


def _concentrations(log_values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Concentrations from log values per pollutant, clipped to the plausible range (O3-8h above
    800 µg/m³ has no HJ 633-2012 IAQI)."""
    return {p: np.minimum(F.from_log(v, p), F.VALID_RANGES[p][1]) for p, v in log_values.items()}


def _extend_to(clean: pd.DataFrame, last: pd.Timestamp) -> pd.DataFrame:
    """Extend each city's daily grid to ``last`` with empty rows (a forecast needs the issue row)."""
    ends = clean.groupby("city")["date"].max()
    extra = []
    for city, end in ends.items():
        if end < last:
            days = pd.date_range(end + pd.Timedelta(days=1), last, freq="D")
            extra.append(pd.DataFrame({"city": city, "date": days}))
    if not extra:
        return clean
    out = pd.concat([clean, *extra], ignore_index=True)
    return out.sort_values(["city", "date"], kind="stable").reset_index(drop=True)


def _expand_pairs(issue: pd.DataFrame, rows: np.ndarray, leads: np.ndarray,
                  met: pd.DataFrame | None) -> pd.DataFrame:
    """Predictor table for (issue row, lead) pairs: issue features + lead + valid calendar (+ met)."""
    base = issue.iloc[rows].reset_index(drop=True)
    base = base.rename(columns={"date": "issued"})
    num = base.drop(columns=["city", "issued"]).astype("float32")
    out = pd.concat([base[["city", "issued"]], num], axis=1)
    out.insert(2, "lead_day", leads.astype(np.int16))
    out.insert(3, "valid_date", out["issued"] + pd.to_timedelta(leads, unit="D"))
    cal = F.calendar_features(out["valid_date"], prefix="valid_").astype("float32")
    cal.index = out.index
    parts = [out, cal]
    if met is not None:
        variables = [v for v in F.MET_VARIABLES if v in met.columns]
        m = met.set_index(["city", "date"])[variables]
        mv = m.reindex(pd.MultiIndex.from_arrays([out["city"], out["valid_date"]])).to_numpy()
        m0 = m.reindex(pd.MultiIndex.from_arrays([out["city"], out["issued"]])).to_numpy()
        extra = {}
        for i, v in enumerate(variables):
            extra[f"met_{v}"] = mv[:, i]
            extra[f"met0_{v}"] = m0[:, i]
            if v in ("pres", "temp"):
                extra[f"met_d{v}"] = mv[:, i] - m0[:, i]
        parts.append(pd.DataFrame(extra, index=out.index).astype("float32"))
    return pd.concat(parts, axis=1)


def _observed_aqi(y: pd.DataFrame, pollutants) -> np.ndarray:
    """Observed AQI of validation rows: the published AQI where present, else computed."""
    published = y["aqi"].to_numpy(float) if "aqi" in y.columns else np.full(len(y), np.nan)
    if np.isfinite(published).all():
        return published
    conc = {p: y[p].to_numpy(float) for p in pollutants}
    valid = y.index.get_level_values(1)
    computed = aqi_of(conc, valid)
    return np.where(np.isfinite(published), published, computed)


def _to_wide(table: pd.DataFrame, values: np.ndarray, keys: pd.DataFrame) -> np.ndarray:
    """(keys × leads) array of a per-row value."""
    k = pd.MultiIndex.from_frame(keys)
    s = pd.Series(values, index=pd.MultiIndex.from_arrays([table["city"], table["issued"], table["lead_day"]]))
    w = s.unstack("lead_day").reindex(columns=list(LEADS))
    return w.reindex(k).to_numpy(float)


def _to_wide_grid(table: pd.DataFrame, grid: np.ndarray, keys: pd.DataFrame) -> np.ndarray:
    """(keys × leads × levels) array of per-row grids."""
    k = pd.MultiIndex.from_frame(keys)
    pos = pd.Series(np.arange(len(table)),
                    index=pd.MultiIndex.from_arrays([table["city"], table["issued"]]))
    out = np.full((len(keys), len(LEADS), grid.shape[1]), np.nan)
    key_pos = pd.Series(np.arange(len(keys)), index=k)
    ki = key_pos.reindex(pd.MultiIndex.from_arrays([table["city"], table["issued"]])).to_numpy()
    li = table["lead_day"].to_numpy().astype(int) - 1
    out[ki, li] = grid
    del pos
    return out


def _quantile_function(u: np.ndarray, levels: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Read a quantile function tabulated at ``levels`` at probabilities ``u`` (flat tails)."""
    return np.interp(u, levels, values)


def _copula_correlation(table: pd.DataFrame, aqi_grid: np.ndarray, obs_aqi: np.ndarray) -> np.ndarray:
    """Correlation across leads of the normal scores of the observed AQI's PIT (validation rows)."""
    pit = 1 - exceedance_probability(aqi_grid, np.nan_to_num(obs_aqi, nan=-1.0))
    pit[~np.isfinite(obs_aqi)] = np.nan
    z = stats.norm.ppf(np.clip(pit, 0.001, 0.999))
    keys = table[["city", "issued"]].drop_duplicates().reset_index(drop=True)
    w = pd.DataFrame(_to_wide(table, z, keys), columns=list(LEADS))
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


def _validation_events(table: pd.DataFrame, obs_aqi: np.ndarray) -> dict:
    """Distinct observed city-days of the held-out rows, and how many exceed each AQI threshold."""
    days = pd.DataFrame({"city": table["city"].to_numpy(), "date": table["valid_date"].to_numpy(),
                         "aqi": obs_aqi}).dropna().drop_duplicates(["city", "date"])
    return {"city_days": int(len(days)), **{str(t): int((days["aqi"] > t).sum()) for t in THRESHOLDS}}


def _validation_scores(table, aqi_grid, obs_aqi, raw, model) -> dict:
    """A few scores on the validation fold for the card (per lead)."""
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


def forecast_dataset(model: ForecastModel, table: pd.DataFrame, keys: pd.DataFrame,
                     conc_q: dict[str, np.ndarray], aqi_q: np.ndarray, probs: dict[int, np.ndarray],
                     members: np.ndarray, crit: dict[str, np.ndarray],
                     aqi_mean: np.ndarray | None = None) -> xr.Dataset:
    """Assemble the pinned forecast Dataset.

    Layout: dims ``city, issued, lead_day (1..10), quantile, member, criterion``; coordinate
    ``valid_date(issued, lead_day)``; ``<pollutant>`` and ``aqi`` (city, issued, lead_day,
    quantile); ``p_aqi_gt_150/200/300`` (city, issued, lead_day); ``aqi_scenario`` (city,
    issued, lead_day, member); ``p_criterion`` (city, issued, criterion);
    ``decision_threshold_gt_<t>`` (city, lead_day); ``primary_pollutant`` (city, issued, lead_day; strings).
    CF attributes throughout.
    """
    cities = sorted(keys["city"].unique())
    issued = sorted(pd.DatetimeIndex(keys["issued"].unique()))
    ci = pd.Index(cities).get_indexer(table["city"])
    ii = pd.DatetimeIndex(issued).get_indexer(table["issued"])
    li = table["lead_day"].to_numpy().astype(int) - 1
    shape4 = (len(cities), len(issued), len(LEADS), len(QUANTILES))

    def cube4(values):
        out = np.full(shape4, np.nan, dtype="float32")
        out[ci, ii, li] = values
        return out

    def cube3(values):
        out = np.full(shape4[:3], np.nan, dtype="float32")
        out[ci, ii, li] = values
        return out

    kci = pd.Index(cities).get_indexer(keys["city"])
    kii = pd.DatetimeIndex(issued).get_indexer(keys["issued"])
    n_members = members.shape[1]
    scen = np.full((len(cities), len(issued), len(LEADS), n_members), np.nan, dtype="float32")
    scen[kci, kii] = np.transpose(members, (0, 2, 1))
    crit_arr = np.full((len(cities), len(issued), len(CRITERIA)), np.nan, dtype="float32")
    for j, c in enumerate(CRITERIA):
        crit_arr[kci, kii, j] = crit[c.key]
    valid = (np.asarray(issued, dtype="datetime64[ns]")[:, None]
             + np.asarray(LEADS)[None, :].astype("timedelta64[D]")).astype("datetime64[ns]")
    std = standard_for(valid.ravel()).reshape(valid.shape)
    coords = {
        "city": ("city", np.asarray(cities, dtype=object), {"long_name": "city (Chinese name)"}),
        "issued": ("issued", np.asarray(issued, dtype="datetime64[ns]"),
                   {"long_name": "issue day (observations up to and including this day)"}),
        "lead_day": ("lead_day", np.asarray(LEADS, dtype="int16"),
                     {"long_name": "lead time", "units": "days"}),
        "quantile": ("quantile", np.asarray(QUANTILES), {"long_name": "quantile level"}),
        "member": ("member", np.arange(n_members, dtype="int16"), {"long_name": "AQI scenario member"}),
        "criterion": ("criterion", np.asarray([c.key for c in CRITERIA], dtype=object),
                      {"long_name": "warning criterion within the 10-day horizon"}),
        "valid_date": (("issued", "lead_day"), valid, {"long_name": "valid day (Beijing natural day)"}),
    }
    where = model.coords_.set_index("city").reindex(list(cities))
    coords["lon"] = ("city", where["lon"].to_numpy(dtype=float),
                     {"standard_name": "longitude", "units": "degrees_east",
                      "comment": "mean of the city's CNEMC stations"})
    coords["lat"] = ("city", where["lat"].to_numpy(dtype=float),
                     {"standard_name": "latitude", "units": "degrees_north",
                      "comment": "mean of the city's CNEMC stations"})
    data = {}
    for p, q in conc_q.items():
        data[p] = (("city", "issued", "lead_day", "quantile"), cube4(q),
                   {"long_name": f"forecast daily {p} quantiles", "units": POLLUTANT_UNITS.get(p, "1")})
    data["aqi"] = (("city", "issued", "lead_day", "quantile"), cube4(aqi_q),
                   {"long_name": "forecast daily AQI quantiles (AQI engine applied to the pollutant "
                    "quantiles, comonotonic assumption)", "units": "1"})
    # the primary pollutant(s) of each day: the AQI engine on the median pollutant quantiles (the
    # pollutant the median AQI comes from); "" when that AQI is <= 50 (HJ 633: no primary pollutant)
    from forecast.aqi import primary_pollutants

    median = QUANTILES.index(0.5)
    primary = np.full(shape4[:3], "", dtype=object)
    primary[ci, ii, li] = primary_pollutants({p: q[:, median] for p, q in conc_q.items()},
                                             dates=table["valid_date"].to_numpy())
    data["primary_pollutant"] = (("city", "issued", "lead_day"), primary,
                                 {"long_name": "forecast primary pollutant(s) of the day, comma-joined "
                                  "(AQI engine on the median pollutant quantiles; empty: AQI <= 50)"})
    if aqi_mean is not None:
        data["aqi_mean"] = (("city", "issued", "lead_day"), cube3(aqi_mean),
                            {"long_name": "mean of the forecast daily AQI distribution (the point forecast "
                             "scored by RMSE)", "units": "1"})
    for t, p in probs.items():
        data[f"p_aqi_gt_{t}"] = (("city", "issued", "lead_day"), cube3(p),
                                 {"long_name": f"probability that the daily AQI exceeds {t} "
                                  "(isotonic-calibrated)", "units": "1", "valid_min": 0.0, "valid_max": 1.0})
        data[f"decision_threshold_gt_{t}"] = (
            ("city", "lead_day"), model.decision_thresholds(t, cities).astype("float32"),
            {"long_name": f"probability threshold for a yes/no forecast of AQI>{t} (maximises the threat "
             f"score on the validation fold, over the cities within {THRESHOLD_POOL_KM:.0f} km)", "units": "1"})
    data["aqi_scenario"] = (("city", "issued", "lead_day", "member"), scen,
                            {"long_name": "AQI scenarios: Gaussian copula across lead days, marginals = "
                             "the AQI quantile function", "units": "1"})
    data["p_criterion"] = (("city", "issued", "criterion"), crit_arr,
                           {"long_name": "probability that the warning criterion is met within the "
                            "horizon (share of members, isotonic-calibrated)", "units": "1",
                            "criteria": "; ".join(f"{c.key}: {c.label}" for c in CRITERIA)})
    data["aqi_standard"] = (("issued", "lead_day"), std.astype(object),
                            {"long_name": "AQI standard of the valid day"})
    stds = sorted(set(std.ravel().tolist()))
    attrs = {
        "title": "airwarn 1-10 day probabilistic AQI forecast",
        "Conventions": "CF-1.8",
        "institution": "airwarn",
        "source": f"model {model.name} ({model.card_.get('model', 'LightGBM') if hasattr(model, 'card_') else 'LightGBM'})",
        "model": model.name,
        "model_train_span": " to ".join(model.train_span_),
        "standard": stds[0] if len(stds) == 1 else ", ".join(stds),
        "issued": ", ".join(str(pd.Timestamp(d).date()) for d in issued[:5]) + (" …" if len(issued) > 5 else ""),
        # no wall-clock time: identical inputs give identical files
        "history": "created by airwarn forecast.model",
    }
    return xr.Dataset(data, coords=coords, attrs=attrs)


def write_forecast(ds: xr.Dataset, out_nc: str | os.PathLike) -> tuple[Path, Path]:
    """Write the forecast as netCDF and a flat CSV beside it (atomically).

    The CSV has one row per city, issue day and lead: ``city,issued,lead_day,valid_date,
    aqi_p05,aqi_p10,aqi_p25,aqi_p50,aqi_p75,aqi_p90,aqi_p95,p_aqi_gt_150,p_aqi_gt_200,
    p_aqi_gt_300,aqi_mean,<pollutant>_p50…,aqi_standard,primary_pollutant,last_observed``.

    Returns
    -------
    (Path, Path)
        The .nc and .csv paths.
    """
    out_nc = Path(out_nc)
    out_nc.parent.mkdir(parents=True, exist_ok=True)
    out_csv = out_nc.with_suffix(".csv")
    encoding = {v: {"zlib": True, "complevel": 4} for v in ds.data_vars if ds[v].dtype.kind == "f"}
    with atomic_path(out_nc) as tmp:
        ds.to_netcdf(tmp, engine="netcdf4", encoding=encoding)
    atomic_write_text(out_csv, forecast_frame(ds).to_csv(index=False, float_format="%.4g"))
    return out_nc, out_csv


def forecast_frame(ds: xr.Dataset, quantile_columns: Sequence[float] = QUANTILES) -> pd.DataFrame:
    """The flat table of a forecast Dataset (the CSV layout of :func:`write_forecast`)."""
    frame = ds[["p_aqi_gt_150", "p_aqi_gt_200", "p_aqi_gt_300"]].to_dataframe().reset_index()
    frame = frame[["city", "issued", "lead_day", "p_aqi_gt_150", "p_aqi_gt_200", "p_aqi_gt_300"]]
    cols = {}
    for q in quantile_columns:
        name = f"aqi_p{int(round(q * 100)):02d}"
        cols[name] = ds["aqi"].sel(quantile=q).transpose("city", "issued", "lead_day").values.ravel()
    for p in [v for v in DAILY_POLLUTANTS if v in ds.data_vars]:
        cols[f"{p}_p50"] = ds[p].sel(quantile=0.5).transpose("city", "issued", "lead_day").values.ravel()
    valid = np.broadcast_to(ds["valid_date"].values[None], (ds.sizes["city"], *ds["valid_date"].shape)).ravel()
    std = np.broadcast_to(ds["aqi_standard"].values[None], (ds.sizes["city"], *ds["aqi_standard"].shape)).ravel()
    out = pd.DataFrame({"city": frame["city"].to_numpy(), "issued": frame["issued"].dt.date.astype(str),
                        "lead_day": frame["lead_day"].to_numpy(),
                        "valid_date": pd.DatetimeIndex(valid).date.astype(str)})
    for name, v in cols.items():
        if name.startswith("aqi_"):
            out[name] = v
    for t in THRESHOLDS:
        out[f"p_aqi_gt_{t}"] = frame[f"p_aqi_gt_{t}"].to_numpy()
    if "aqi_mean" in ds.data_vars:
        out["aqi_mean"] = ds["aqi_mean"].transpose("city", "issued", "lead_day").values.ravel()
    for name, v in cols.items():
        if not name.startswith("aqi_"):
            out[name] = v
    out["aqi_standard"] = std
    if "primary_pollutant" in ds.data_vars:
        out["primary_pollutant"] = ds["primary_pollutant"].transpose("city", "issued", "lead_day").values.ravel()
    if "last_observed" in ds:  # the day the city's observations ended (forecast.inputs)
        last = pd.DatetimeIndex(ds["last_observed"].transpose("city", "issued").values.ravel())
        out["last_observed"] = np.repeat(np.asarray(last.strftime("%Y-%m-%d"), dtype=object), ds.sizes["lead_day"])
    out = out[np.isfinite(out["aqi_p50"].to_numpy(float))].reset_index(drop=True)
    return out
