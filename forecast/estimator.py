"""The per-booster estimator of the forecast model: :class:`LogLocationScaleRegressor`, and its grid.

A :class:`LogLocationScaleRegressor` is one pollutant's LightGBM location–scale model of the log
concentration for one group of lead days (:data:`LEAD_GROUPS`); its quantiles are read on the fine
grid of levels :data:`GRID_LEVELS`. The model (:mod:`forecast.model`) holds one per pollutant and
lead group; :mod:`forecast.calibration` sets their residual quantiles from held-out forecasts.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from airwarn.core.errors import InputError
from forecast.product import QUANTILES

#: Groups of lead days sharing one booster per pollutant (lead 1 and 2 get their own: there the
#: issue day's values matter most and a booster pooled over all leads under-used them).
LEAD_GROUPS: tuple[tuple[int, ...], ...] = ((1,), (2,), (3, 4), (5, 6, 7), (8, 9, 10))
#: Pollutants that rarely set the AQI: smaller boosters.
MINOR_POLLUTANTS: tuple[str, ...] = ("so2", "no2", "co")
#: Fine grid of quantile levels used for probabilities and scenarios (includes QUANTILES).
GRID_LEVELS: np.ndarray = np.unique(np.round(np.concatenate([
    [0.002, 0.005, 0.01, 0.02, 0.03, 0.04], np.arange(0.05, 0.951, 0.025), QUANTILES,
    [0.96, 0.97, 0.98, 0.99, 0.995, 0.998]]), 4))
#: Weights of the grid levels for the mean of a quantile function (cells between midpoints).
GRID_WEIGHTS: np.ndarray = np.diff(np.concatenate([[0.0], (GRID_LEVELS[1:] + GRID_LEVELS[:-1]) / 2, [1.0]]))

#: Default hyperparameters of the location booster (see :class:`LogLocationScaleRegressor`).
DEFAULT_PARAMS: dict = dict(n_estimators=200, learning_rate=0.07, num_leaves=31, min_child_samples=100,
                            colsample_bynode=0.6, subsample=0.7, reg_lambda=1.0, max_bin=63,
                            scale_n_estimators=120, scale_num_leaves=15)



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

