"""Business-as-usual (BAU) concentrations from weather and calendar: the counterfactual of a warning.

What would a city's daily PM2.5 (and the fast tracers NO2, SO2, CO) have been on a warning day had no
measures been taken? :func:`fit_bau` fits, per pollutant, the forecast model's LightGBM estimator
(:class:`forecast.estimator.LogLocationScaleRegressor`: location and scale of ``log(x + offset)``) on
**weather and calendar only** (:func:`bau_features`): no lagged pollutant, so the BAU of a warning day
owes nothing to the measures taken on the days before it. Its quantiles (:data:`BAU_QUANTILES`,
p05/p50/p95 by default) are ``location + scale · z_q`` with ``z_q`` the quantiles of the standardised
residuals of the training days predicted out of fold (whole calendar months held out in turn), so the
band is as wide as the error on days the model has not seen. The training days leave out every warning
period and the :data:`AFTER_DAYS` days after each (:func:`excluded_days`; the periods are an input), so
the model never learns from a day the measures (or their after-effect) touched. :func:`predict_bau`
gives the quantiles of any day; the out-of-fold medians of the training days (:attr:`BauModel.oof`,
:func:`cross_fit_bau`) are what the placebo test of :mod:`emergency.evaluation` needs: residuals of
days a model was trained on are too small.

The method is the meteorological normalisation of Grange et al. (2018) with gradient boosting in
place of a random forest; like it, a time trend (``trend``, years) is a predictor, so that the slow
change of emissions between years is not read as an effect. Quantiles commute with the monotone
log transform, so the back-transformed quantiles are the concentration's quantiles.

References
----------
Grange, S. K., Carslaw, D. C., Lewis, A. C., Boleti, E. and Hueglin, C. (2018): Random forest
meteorological normalisation models for Swiss PM10 trend analysis. Atmos. Chem. Phys. 18,
6223–6239.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from airwarn.core.errors import InputError
from forecast.features import calendar_features, from_log, to_log

__all__ = [
    "AFTER_DAYS", "BAU_PARAMS", "BAU_POLLUTANTS", "BAU_QUANTILES", "BauModel", "bau_features",
    "cross_fit_bau", "excluded_days", "fit_bau", "predict_bau", "quantile_label",
]

#: Pollutants modelled: PM2.5 and the gases that respond within a day (fast tracers of the measures).
BAU_POLLUTANTS: tuple[str, ...] = ("pm25", "no2", "so2", "co")
#: Quantile levels of the BAU distribution.
BAU_QUANTILES: tuple[float, ...] = (0.05, 0.5, 0.95)
#: Days after each warning period also left out of training (after-effects of the measures).
AFTER_DAYS = 5
#: Weather variables of the day used (names of :func:`forecast.features.met_daily`).
BAU_MET: tuple[str, ...] = ("temp", "dewp", "rh", "pres", "rain", "wspm", "u", "v")
#: Weather variables also taken on the two days before (dispersion builds up over days).
BAU_MET_LAGGED: tuple[str, ...] = ("wspm", "rh", "u", "v", "pres", "temp")
#: Small, seeded boosters (:class:`forecast.estimator.LogLocationScaleRegressor` parameters, one estimator per
#: pollutant and one location booster per fold); ``n_jobs`` and ``random_state`` are set by the call.
BAU_PARAMS: dict = dict(n_estimators=250, learning_rate=0.05, num_leaves=15, min_child_samples=15,
                        colsample_bynode=0.8, subsample=0.8, reg_lambda=1.0, max_bin=63,
                        scale_n_estimators=100, scale_num_leaves=7)
#: Daily mean wind [m/s] of a northerly day that flushes the city's air (``met_days_since_flush``).
FLUSH_WIND = 2.5
#: Cap of ``met_days_since_flush`` [days].
FLUSH_CAP = 10
#: Origin of the ``trend`` predictor.
TREND_ORIGIN = pd.Timestamp("2000-01-01")


def quantile_label(q: float) -> str:
    """Column suffix of a quantile level: 0.05 → ``p05``, 0.5 → ``p50``, 0.95 → ``p95``."""
    return f"p{int(round(q * 100)):02d}"


def excluded_days(periods: Iterable[tuple], after_days: int = AFTER_DAYS) -> pd.DatetimeIndex:
    """The days left out of BAU training: each period's days and the ``after_days`` days after it.

    Parameters
    ----------
    periods : iterable of (start, end)
        Warning (or other control) periods, inclusive, date-likes.
    after_days : int
        Days after each period's end also left out.

    Raises
    ------
    InputError
        A period that ends before it starts.

    Examples
    --------
    >>> [d.day for d in excluded_days([("2015-12-07", "2015-12-08")], after_days=2)]
    [7, 8, 9, 10]
    """
    days: list[pd.DatetimeIndex] = []
    for k, (a, b) in enumerate(periods):
        a, b = pd.Timestamp(a).normalize(), pd.Timestamp(b).normalize()
        if b < a:
            raise InputError(f"exclude period {k + 1}: expected start ≤ end, got {a.date()} … {b.date()}")
        days.append(pd.date_range(a, b + pd.Timedelta(days=int(after_days)), freq="D"))
    if not days:
        return pd.DatetimeIndex([], dtype="datetime64[ns]")
    return pd.DatetimeIndex(np.unique(np.concatenate([d.to_numpy() for d in days]))).astype("datetime64[ns]")


def _one_series(frame: pd.DataFrame, what: str) -> pd.DataFrame:
    """``frame`` indexed by day (one city), its ``city`` column checked and dropped."""
    if "date" not in frame.columns:
        raise InputError(f"{what}: expected a column 'date'; got columns {list(frame.columns)}")
    if "city" in frame.columns and frame["city"].astype(str).nunique() > 1:
        cities = sorted(frame["city"].astype(str).unique())
        raise InputError(f"{what}: expected one city's series, got {len(cities)} cities ({cities[:5]} …); "
                         f"select one first")
    out = frame.drop(columns=[c for c in ("city",) if c in frame.columns]).copy()
    out["date"] = pd.to_datetime(out["date"]).dt.normalize().astype("datetime64[ns]")
    out = out.groupby("date").mean(numeric_only=True)
    return out


def bau_features(met: pd.DataFrame) -> pd.DataFrame:
    """Predictors of the BAU model: the day's weather, the two days before, calendar and trend.

    Parameters
    ----------
    met : DataFrame
        Daily meteorology of one city (:func:`forecast.features.met_daily`): ``date`` and any of
        :data:`BAU_MET` (``temp, dewp`` [°C], ``rh`` [%], ``pres`` [hPa], ``rain`` [mm], ``wspm, u, v``
        [m/s]); an optional ``city`` column must hold one value.

    Returns
    -------
    DataFrame
        Indexed by every day from the first to the last of ``met``: ``met_<var>``, ``met_<var>_lag1``,
        ``met_<var>_lag2`` (:data:`BAU_MET_LAGGED`), ``met_wspm_mean3`` and ``met_rh_mean3`` (3-day means
        ending on the day), ``met_dpres`` (change from the day before), ``doy_sin, doy_cos, weekday,
        heating, sf_days`` (:func:`forecast.features.calendar_features`) and ``trend`` (years since
        2000-01-01). No pollutant is a predictor.

    Raises
    ------
    InputError
        No weather variable of :data:`BAU_MET` in ``met``, or several cities.
    """
    m = _one_series(met, "meteorology")
    present = [v for v in BAU_MET if v in m.columns]
    if not present:
        raise InputError(f"meteorology: none of {list(BAU_MET)} found; got columns {list(met.columns)}")
    grid = pd.date_range(m.index.min(), m.index.max(), freq="D")
    m = m.reindex(grid)[present].astype(float)
    cols: dict[str, pd.Series] = {f"met_{v}": m[v] for v in present}
    for v in (v for v in BAU_MET_LAGGED if v in present):
        cols[f"met_{v}_lag1"] = m[v].shift(1)
        cols[f"met_{v}_lag2"] = m[v].shift(2)
    for v in ("wspm", "rh"):
        if v in present:
            cols[f"met_{v}_mean3"] = m[v].rolling(3, min_periods=2).mean()
    if "pres" in present:
        cols["met_dpres"] = m["pres"] - m["pres"].shift(1)
    if "dewp" in present:
        cols["met_ddewp"] = m["dewp"] - m["dewp"].shift(1)
    if {"wspm", "v"} <= set(present):
        cols["met_days_since_flush"] = _days_since(((m["wspm"] >= FLUSH_WIND) & (m["v"] < 0)).to_numpy())
    out = pd.DataFrame(cols, index=grid)
    cal = calendar_features(grid)
    cal.index = grid
    out = pd.concat([out, cal], axis=1)
    out["trend"] = (grid - TREND_ORIGIN).days.to_numpy(dtype=float) / 365.25
    out.index.name = "date"
    return out


def _days_since(flag: np.ndarray) -> np.ndarray:
    """Days since the last True (0 on a True day), capped at :data:`FLUSH_CAP`; NaN before the first."""
    out = np.full(len(flag), np.nan)
    last = None
    for i, f in enumerate(flag):
        if f:
            last = i
        if last is not None:
            out[i] = min(i - last, FLUSH_CAP)
    return out


@dataclass(frozen=True)
class BauModel:
    """A fitted BAU model (:func:`fit_bau`).

    Attributes
    ----------
    pollutants : tuple of str
        Modelled pollutants (those with enough training days).
    quantiles : tuple of float
        Quantile levels, ascending.
    features : tuple of str
        Predictor columns (:func:`bau_features`), in the estimators' order.
    estimators : mapping pollutant → forecast.estimator.LogLocationScaleRegressor
        The location–scale model of ``log(x + offset)`` of each pollutant.
    z : mapping pollutant → ndarray
        Quantiles of the out-of-fold standardised residuals ``(y − location) / scale`` at ``quantiles``.
    oof : DataFrame
        ``date, fold`` and ``<pollutant>_p50`` [µg/m³; CO mg/m³]: every training day predicted by the
        fold model that did not see its month (:func:`cross_fit_bau`).
    train_start, train_end : date
        First and last day of the training span.
    n_train : mapping pollutant → int
        Training days used per pollutant (observed, with weather, not excluded).
    n_excluded : int
        Days of the span left out as warning days or the days after them.
    exclude_periods : tuple of (date, date)
        The periods given.
    after_days, folds, seed : int
    """

    pollutants: tuple[str, ...]
    quantiles: tuple[float, ...]
    features: tuple[str, ...]
    estimators: Mapping[str, object] = field(repr=False)
    z: Mapping[str, np.ndarray] = field(repr=False)
    oof: pd.DataFrame = field(repr=False)
    train_start: dt.date
    train_end: dt.date
    n_train: Mapping[str, int]
    n_excluded: int
    exclude_periods: tuple[tuple[dt.date, dt.date], ...]
    after_days: int
    folds: int
    seed: int

    def card(self) -> dict:
        """The model's description for a report (JSON-ready)."""
        return {"pollutants": list(self.pollutants), "quantiles": list(self.quantiles),
                "features": list(self.features), "train_start": self.train_start.isoformat(),
                "train_end": self.train_end.isoformat(), "n_train": dict(self.n_train),
                "n_excluded": self.n_excluded, "after_days": self.after_days, "folds": self.folds,
                "seed": self.seed, "z": {p: [float(v) for v in z] for p, z in self.z.items()},
                "exclude_periods": [[a.isoformat(), b.isoformat()] for a, b in self.exclude_periods]}


def _training_rows(daily: pd.DataFrame, met: pd.DataFrame, exclude_periods, start, end, after_days):
    obs = _one_series(daily, "observations")
    X = bau_features(met)
    lo = max(obs.index.min(), X.index.min()) if start is None else pd.Timestamp(start)
    hi = min(obs.index.max(), X.index.max()) if end is None else pd.Timestamp(end)
    if hi < lo:
        raise InputError(f"BAU training: the observations ({obs.index.min().date()} … {obs.index.max().date()}) "
                         f"and the meteorology ({X.index.min().date()} … {X.index.max().date()}) share no day "
                         f"in the span asked for")
    span = pd.date_range(lo, hi, freq="D")
    periods = tuple((pd.Timestamp(a).date(), pd.Timestamp(b).date()) for a, b in exclude_periods)
    out = excluded_days(periods, after_days)
    keep = span[~span.isin(out)]
    return obs.reindex(keep), X.reindex(keep), span, periods, int(span.isin(out).sum())


def _estimator(params: Mapping | None, seed: int, n_jobs: int):
    from forecast.estimator import LogLocationScaleRegressor

    p = dict(BAU_PARAMS)
    p.update(params or {})
    return LogLocationScaleRegressor(random_state=seed, n_jobs=n_jobs, **p)


def _check_quantiles(quantiles: Sequence[float]) -> tuple[float, ...]:
    qs = tuple(sorted(float(q) for q in quantiles))
    if not qs or any(not 0 < q < 1 for q in qs) or 0.5 not in qs:
        raise InputError(f"BAU quantiles: expected levels in (0, 1) including 0.5, got {list(quantiles)}")
    return qs


def _folds(index: pd.DatetimeIndex, folds: int) -> np.ndarray:
    months = (index.year - index[0].year) * 12 + index.month - index[0].month
    return np.asarray(months) % int(folds)


def fit_bau(daily: pd.DataFrame, met: pd.DataFrame, exclude_periods: Iterable[tuple] = (), *,
            pollutants: Sequence[str] = BAU_POLLUTANTS, quantiles: Sequence[float] = BAU_QUANTILES,
            start=None, end=None, after_days: int = AFTER_DAYS, folds: int = 5, params: Mapping | None = None,
            seed: int = 0, n_jobs: int = 1, min_days: int = 200) -> BauModel:
    """Fit the BAU model of one city: a location–scale booster per pollutant, quantiles from held-out months.

    Per pollutant, a :class:`forecast.estimator.LogLocationScaleRegressor` (the forecast model's
    estimator: LightGBM location with L2 loss on ``log(x + offset)``, and a scale booster on the
    absolute residual) is fitted on the training days. Its quantiles are ``location + scale · z_q``
    with ``z_q`` the ``q``-quantile of the standardised residuals of the training days predicted
    **out of fold** (``folds`` location boosters, each trained without one set of whole calendar months,
    :func:`cross_fit_bau`), so the band has the width of an error on unseen days. An L2 location is
    used rather than LightGBM's own quantile loss: with a few hundred days the quantile loss (sign
    gradients) under-fits the weather's effect, by about 10 % on stagnant winter days in sample.

    Parameters
    ----------
    daily : DataFrame
        Daily concentrations of one city: ``date`` and the ``pollutants`` present [µg/m³; CO mg/m³]
        (e.g. the station mean of :func:`forecast.io.read_observations`).
    met : DataFrame
        Its daily meteorology (:func:`bau_features`).
    exclude_periods : iterable of (start, end)
        Warning periods (and other control periods) to leave out, each with ``after_days`` days after it.
    pollutants : sequence of str
        Pollutants to model; those absent from ``daily`` are skipped.
    quantiles : sequence of float
        Levels, 0.5 among them.
    start, end : date-like, optional
        Training span (default: every day both inputs have).
    after_days : int
    folds : int
        Held-out month sets of the out-of-fold predictions (≥ 2).
    params : mapping, optional
        Estimator parameters over :data:`BAU_PARAMS`.
    seed, n_jobs : int
    min_days : int
        Fewest training days a pollutant needs.

    Returns
    -------
    BauModel

    Raises
    ------
    InputError
        No pollutant with ``min_days`` training days, quantiles without 0.5, a bad period, ``folds`` < 2.
    """
    qs = _check_quantiles(quantiles)
    if int(folds) < 2:
        raise InputError(f"BAU folds: expected at least 2, got {folds}")
    obs, X, span, periods, n_out = _training_rows(daily, met, exclude_periods, start, end, after_days)
    fold = _folds(X.index, folds)
    has_met = X.notna().any(axis=1).to_numpy()
    estimators, z, n_train, short = {}, {}, {}, {}
    oof = pd.DataFrame({"date": X.index.astype("datetime64[ns]"), "fold": fold})
    for p in pollutants:
        if p not in obs.columns:
            continue
        y = to_log(obs[p].where(obs[p] > 0), p).to_numpy(float)
        ok = np.isfinite(y) & has_met
        if ok.sum() < min_days:
            short[p] = int(ok.sum())
            continue
        est = _estimator(params, seed, n_jobs).fit(X[ok], y[ok])
        loc = np.full(len(X), np.nan)
        for k in range(int(folds)):
            train, test = ok & (fold != k), has_met & (fold == k)
            if train.sum() < 50 or not test.any():
                continue
            loc[test] = _estimator(params, seed, n_jobs).fit(X[train], y[train]).predict(X[test])
        scale = np.full(len(X), np.nan)
        scale[has_met] = est.predict_scale(X[has_met])
        zres = ((y - loc) / scale)[ok & np.isfinite(loc)]
        estimators[p], n_train[p] = est, int(ok.sum())
        z[p] = np.quantile(zres, qs) if len(zres) >= 20 else _normal_z(qs)
        oof[f"{p}_p50"] = from_log(loc + scale * z[p][qs.index(0.5)], p)
    if not n_train:
        raise InputError(f"BAU training {span[0].date()} … {span[-1].date()}: no pollutant of {list(pollutants)} "
                         f"has {min_days} training days (got {short or 'none of them in the observations'})")
    return BauModel(tuple(n_train), qs, tuple(X.columns), estimators, z, oof, span[0].date(), span[-1].date(),
                    n_train, n_out, periods, int(after_days), int(folds), int(seed))


def _normal_z(qs: Sequence[float]) -> np.ndarray:
    from scipy import stats

    return stats.norm.ppf(np.asarray(qs)) * np.sqrt(np.pi / 2)  # scale is a mean absolute residual


def predict_bau(model: BauModel, met: pd.DataFrame, dates=None) -> pd.DataFrame:
    """BAU quantiles of the given days.

    Parameters
    ----------
    model : BauModel
    met : DataFrame
        Daily meteorology of the city (as for :func:`fit_bau`), covering ``dates`` and the two days before.
    dates : array-like of dates, optional
        Days to predict (default: every day of ``met``).

    Returns
    -------
    DataFrame
        ``date`` and ``<pollutant>_<pNN>`` per modelled pollutant and quantile (:func:`quantile_label`)
        [µg/m³; CO mg/m³], ascending in the level. A day without weather gives NaN.
    """
    X = bau_features(met)
    days = X.index if dates is None else pd.DatetimeIndex(pd.to_datetime(dates)).normalize()
    X = X.reindex(days)[list(model.features)]
    has = X.notna().any(axis=1).to_numpy()
    out = pd.DataFrame({"date": days.astype("datetime64[ns]")})
    for p in model.pollutants:
        block = np.full((len(days), len(model.quantiles)), np.nan)
        if has.any():
            est = model.estimators[p]
            block[has] = est.predict(X[has])[:, None] + est.predict_scale(X[has])[:, None] * model.z[p][None, :]
        for j, q in enumerate(model.quantiles):
            out[f"{p}_{quantile_label(q)}"] = from_log(block[:, j], p)
    return out


def cross_fit_bau(daily: pd.DataFrame, met: pd.DataFrame, exclude_periods: Iterable[tuple] = (), *,
                  folds: int = 5, pollutants: Sequence[str] = BAU_POLLUTANTS, start=None, end=None,
                  after_days: int = AFTER_DAYS, params: Mapping | None = None, seed: int = 0,
                  n_jobs: int = 1) -> pd.DataFrame:
    """Out-of-fold BAU medians of the training days (for the placebo test): :attr:`BauModel.oof`.

    Calendar months are dealt to ``folds`` folds in turn (month 0 → fold 0, month 1 → fold 1, …), so
    that each held-out block is a whole month and a day is never predicted by a model that saw the
    days around it. Each fold's location model is trained on the other folds' training days (with
    the same exclusions) and predicts its own; the scale is the full model's.

    Returns
    -------
    DataFrame
        ``date, fold`` and ``<pollutant>_p50`` for every training day (excluded days are absent).
    """
    return fit_bau(daily, met, exclude_periods, folds=folds, pollutants=pollutants, start=start, end=end,
                   after_days=after_days, params=params, seed=seed, n_jobs=n_jobs).oof
