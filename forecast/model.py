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
  pollutant. The standard follows the valid date: HJ 633-2012 before the AQI engine's switch date
  (:data:`forecast.aqi.SWITCH_DATE`), HJ 633-2026 from then on.
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

Modules
-------
This module holds :class:`ForecastModel` (training in named steps, prediction) and :func:`load_model`;
the estimator of one booster is :mod:`forecast.estimator`, the calibration pieces (folds, isotonic
tables, decision thresholds, residual quantiles) are in :mod:`forecast.calibration`, the model
folder's files in :mod:`forecast.model_store`, and the forecast product (the Dataset, its netCDF and
CSV) in :mod:`forecast.product`.

Size: about 880 lines, over the ~800 guide, about 250 of them docstrings (the design notes
above). The code is one idea, :class:`ForecastModel`: its named training steps (rows, held-out
forecasts, calibration, refit) pass the private tables ``_TrainingRows`` and ``_HeldOut`` to each
other, and prediction reuses the same predictor tables. The pieces that stand alone already live in
the modules listed above.
"""
from __future__ import annotations

import os
import time
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

from airwarn.core.errors import InputError, UnknownNameError
from airwarn.core.vocab import DAILY_POLLUTANTS
from forecast import features as F
from forecast import verify
from forecast import weather_model as W
from forecast.aqi import aqi_from_concentrations, primary_pollutants
from forecast.calibration import (MIN_VALIDATION_SHARE_RATIO, THRESHOLD_POOL_KM, VALIDATION_SCHEMES,
                                  CalibrationWarning, apply_isotonic, best_threshold, copula_correlation,
                                  criterion_met, exceedance_probability, fit_isotonic, neighbourhood_thresholds,
                                  residual_quantiles, to_wide, validation_events, validation_folds,
                                  validation_scores)
from forecast.estimator import (DEFAULT_PARAMS, GRID_LEVELS, GRID_WEIGHTS, LEAD_GROUPS, MINOR_POLLUTANTS,
                                LogLocationScaleRegressor)
from forecast.inputs import last_observed
from forecast.model_store import model_arguments, model_card, read_card, restore, save_model
from forecast.product import CRITERIA, LEADS, QUANTILES, THRESHOLDS, forecast_dataset, p_var, standard_for
from forecast.product import met_sources, met_synthetic

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
    primary : ndarray of str, shape (keys, leads), optional
        Primary pollutant(s) of each lead's median forecast, as the product's ``primary_pollutant``
        (comma-joined; ``""`` none or unknown): a rule set that starts colour warnings by primary
        pollutant grades these scenarios as it grades a forecast (:func:`emergency.decision.calibrate`).
    """

    keys: pd.DataFrame
    members: np.ndarray
    observed: np.ndarray
    issue_aqi: np.ndarray
    primary: np.ndarray | None = None


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
    std = standard_for(valid_dates)
    shape = next(iter(conc.values())).shape
    out = np.full(shape, np.nan)
    for name in np.unique(std):
        rows = std == name
        part = {p: np.asarray(v)[rows] for p, v in conc.items()}
        out[rows] = aqi_from_concentrations(str(name), **part)
    return out


@dataclass
class _TrainingRows:
    """The (city, issue day, lead) rows of a training period, and the predictor tables made of them.

    :meth:`sample` draws from one seeded generator: the folds and the refit call it in that order.
    """

    issue: pd.DataFrame
    target: pd.DataFrame
    met: pd.DataFrame | None
    met_variables: list
    idx: np.ndarray
    lead: np.ndarray
    issued_at: np.ndarray
    valid: np.ndarray
    in_period: np.ndarray
    rng: np.random.Generator
    max_rows: int

    @classmethod
    def of(cls, issue: pd.DataFrame, clean: pd.DataFrame, met, met_variables, until: pd.Timestamp, rng,
           max_rows: int):
        """Step 2: every issue row with every lead; ``in_period``: its valid day is on or before ``until``."""
        n_issue = len(issue)
        idx = np.repeat(np.arange(n_issue), len(LEADS))
        lead = np.tile(np.array(LEADS), n_issue)
        issued_at = issue["date"].to_numpy()[idx]
        valid = issued_at + lead.astype("timedelta64[D]")
        return cls(issue=issue, target=clean.set_index(["city", "date"]), met=met,
                   met_variables=list(met_variables), idx=idx, lead=lead,
                   issued_at=issued_at, valid=valid, in_period=valid <= until.to_datetime64(), rng=rng,
                   max_rows=max_rows)

    def sample(self, mask: np.ndarray) -> np.ndarray:
        """Rows of ``mask``, at most ``max_rows`` per lead group (a seeded sample), sorted."""
        chosen = []
        for group in LEAD_GROUPS:
            cand = np.nonzero(mask & np.isin(self.lead, group))[0]
            if len(cand) > self.max_rows:
                cand = np.sort(self.rng.choice(cand, self.max_rows, replace=False))
            chosen.append(cand)
        return np.sort(np.concatenate(chosen))

    def table(self, pairs: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The predictor table of rows ``pairs`` and the observations of their valid days."""
        t = _expand_pairs(self.issue, self.idx[pairs], self.lead[pairs], self.met, self.met_variables)
        key = pd.MultiIndex.from_arrays([t["city"], t["valid_date"]])
        return t, self.target.reindex(key)


@dataclass
class _HeldOut:
    """The pooled held-out forecasts: rows (city, issued, lead_day, valid_date), their observations, and
    the location and scale of each pollutant's log concentration (None once the AQI grid is made)."""

    table: pd.DataFrame
    y: pd.DataFrame
    loc: dict | None
    scale: dict | None
    factors: dict = field(default_factory=dict)
    #: primary pollutant(s) of each row's median forecast (set with the AQI grid)
    primary: np.ndarray | None = None


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
    residual : {"auto", "off"}
        Per-city residual boosters on the weather (:mod:`forecast.weather_model`): ``"auto"`` fits them
        for the cities with about a year of weather when weather covers few of the training city-days.
    residual_params : dict, optional
        Hyperparameters of the residual boosters (over :data:`forecast.weather_model.RESIDUAL_PARAMS`).

    Attributes (after fit or load)
    ------------------------------
    pollutants_ : list of str
    regressors_ : dict ``"<pollutant>|g<k>"`` → LogLocationScaleRegressor (k indexes LEAD_GROUPS)
    features_ : list of str
    statics_ : DataFrame (per-city constants from the training period)
    coords_ : DataFrame (city, lon, lat)
    card_ : dict (the model card)
    city_thresholds_ : DataFrame (city, lead_day, threshold, value, events): per-city decision thresholds
    met_variables_ : list of str (the weather predictors expected; empty without weather)
    met_summary_ : dict (the card's ``weather`` entry: sources, variables, cities with weather)
    residuals_ : forecast.weather_model.CityResiduals or None (per-city residual boosters on the weather)
    validation_frame_ : DataFrame (after fit only, not saved): the calibrated validation forecasts
        (city, issued, lead_day, obs_aqi, p_aqi_gt_<t>), for studies of the decision rule
    """

    #: Radius [km] of the neighbourhood of the per-city decision thresholds (read by the product).
    threshold_pool_km: float = THRESHOLD_POOL_KM

    def __init__(self, name: str = "model", params: dict | None = None, max_rows: int = 150_000,
                 validation: str = "last", valid_days: int = 122, folds: int = 4, refit: bool = True,
                 seed: int = 0, n_jobs: int = 2, residual: str = "auto", residual_params: dict | None = None):
        self.name = name
        self.params = dict(DEFAULT_PARAMS, **(params or {}))
        self.max_rows = max_rows
        self.validation = validation
        self.valid_days = valid_days
        self.folds = folds
        self.refit = refit
        self.seed = seed
        self.n_jobs = n_jobs
        self.residual = residual
        self.residual_params = dict(residual_params or {})

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
        """The training steps, in order: features → folds → held-out forecasts → calibration → refit."""
        t0 = time.perf_counter()
        clean, start, until = self._prepare(obs, met, coords, until)
        issue = F.issue_features(clean, self.coords_, self.statics_)
        log(f"features: {len(issue):,} city-days, {issue['city'].nunique()} cities, "
            f"{start.date()} → {until.date()} ({time.perf_counter() - t0:.1f} s)")
        rows = _TrainingRows.of(issue, clean, met, self.met_variables_, until, np.random.default_rng(self.seed),
                                self.max_rows)
        folds = validation_folds(rows.issued_at, rows.valid, rows.in_period, start, until, self.validation,
                                 valid_days=self.valid_days, n_folds=self.folds)
        held = self._held_out_forecasts(rows, folds, log, t0)
        log(f"held-out rows: {len(held.table):,} ({time.perf_counter() - t0:.1f} s)")
        z_tables, aqi_grid = self._held_out_aqi(held)
        held.loc = held.scale = None  # not needed again: free them before the calibration
        self._calibrate(held, aqi_grid, clean, log)
        log(f"calibrated on the held-out rows ({time.perf_counter() - t0:.1f} s)")
        if self.refit or len(folds) > 1:
            self.regressors_ = self._fit_boosters(*rows.table(rows.sample(rows.in_period)), self.pollutants_)
            log(f"fitted on the whole training period ({time.perf_counter() - t0:.1f} s)")
        if self.residual_cities_:
            self.residuals_ = W.fit_residuals(self, rows, rows.in_period, self._location(self.regressors_),
                                              self.residual_cities_, self.residual_params)
            self.residuals_.factors = held.factors
            log(f"residual models on the weather: {', '.join(self.residuals_.cities) or 'none'} "
                f"({time.perf_counter() - t0:.1f} s)")
        for key, reg in self.regressors_.items():
            reg.z_groups_, reg.z_quantiles_ = z_tables[key]
        self.train_span_ = (str(start.date()), str(until.date()))
        first_held = min(rows.issued_at[h].min() for _, h in folds)
        self.validation_span_ = (str(pd.Timestamp(first_held).date()), str(until.date()))
        self.cities_ = sorted(clean["city"].unique())
        self.train_seconds_ = time.perf_counter() - t0
        self.card_ = model_card(self)
        return self

    def _prepare(self, obs, met, coords, until) -> tuple[pd.DataFrame, pd.Timestamp, pd.Timestamp]:
        """Step 1: the cleaned observations of the training period, its first and last day; sets the
        pollutants, variables, coordinates, per-city statics and the climatology.

        Raises
        ------
        InputError
            No pollutant column, no data up to ``until``, an unknown validation scheme or a period too
            short for it.
        """
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
        self._check_period(start, until)
        self.coords_ = (coords[["city", "lon", "lat"]].drop_duplicates("city").reset_index(drop=True)
                        if coords is not None else pd.DataFrame(columns=["city", "lon", "lat"]))
        self.pollutants_ = pollutants
        self.variables_ = variables
        self.with_met_ = met is not None
        self.statics_ = F.city_statics(clean, self.coords_, variables)
        self.climatology_ = training_climatology(obs, start, until)
        self.met_variables_ = F.met_predictors(met) if met is not None else []
        if met is not None and not self.met_variables_:
            raise InputError(f"meteorology: no numeric predictor column; got columns {list(met.columns)}")
        self.met_summary_ = W.met_summary(met, self.met_variables_, until) if met is not None else {}
        if self.residual not in ("auto", "off"):
            raise InputError(f"residual must be 'auto' or 'off', got {self.residual!r}")
        self.residual_cities_ = (W.residual_cities(self.met_summary_, len(clean)) if self.residual == "auto"
                                 else [])
        self.residuals_ = None
        return clean, start, until

    def _check_period(self, start: pd.Timestamp, until: pd.Timestamp) -> None:
        """The validation scheme is known and the training period long enough for it."""
        if self.validation not in VALIDATION_SCHEMES:
            raise InputError(f"validation scheme must be one of {list(VALIDATION_SCHEMES)}, got {self.validation!r}")
        days = (until - start).days + 1
        if self.validation == "last" and days - self.valid_days < 60:
            raise InputError(f"training period {start.date()} → {until.date()} is too short: need "
                             f"≥ 60 days before a validation fold of {self.valid_days} days")
        if self.validation == "blocked" and days < self.folds * 30:
            raise InputError(f"training period {start.date()} → {until.date()} ({days} days) is too short "
                             f"for {self.folds} validation blocks: need ≥ {self.folds * 30} days")

    def _held_out_forecasts(self, rows: "_TrainingRows", folds, log, t0: float) -> "_HeldOut":
        """Step 3: per fold, boosters fitted on its training rows forecast its held-out rows (location and
        scale of each pollutant); the folds' held-out rows pooled. Sets ``features_`` (from the first fold)."""
        pollutants = self.pollutants_
        held = []
        for k, (fit_mask, held_mask) in enumerate(folds):
            tab_fit, y_fit = rows.table(rows.sample(fit_mask))
            tab_held, y_held = rows.table(np.nonzero(held_mask)[0])
            if k == 0:
                self.features_ = F.feature_columns(tab_fit)
            log(f"fold {k + 1}/{len(folds)}: fit {len(tab_fit):,} rows, held out {len(tab_held):,} "
                f"({time.perf_counter() - t0:.1f} s)")
            regs = self._fit_boosters(tab_fit, y_fit, pollutants)
            loc = {p: _by_lead_group(regs, p, tab_held, self.features_, lambda r, X, _: r.predict(X))
                   for p in pollutants}
            scale = {p: _by_lead_group(regs, p, tab_held, self.features_, lambda r, X, _: r.predict_scale(X))
                     for p in pollutants}
            corr = {}
            if self.residual_cities_:  # fitted on this fold's training rows only
                res = W.fit_residuals(self, rows, fit_mask, self._location(regs), self.residual_cities_,
                                      self.residual_params)
                corr = {p: res.location(tab_held, p) for p in pollutants}
            held.append((tab_held[["city", "issued", "lead_day", "valid_date"]], y_held, loc, scale, corr))
            del tab_fit, y_fit, tab_held
            if len(folds) == 1 and not self.refit:
                self.regressors_ = regs
        out = _HeldOut(table=pd.concat([h[0] for h in held], ignore_index=True),
                       y=pd.concat([h[1] for h in held]),
                       loc={p: np.concatenate([h[2][p] for h in held]) for p in pollutants},
                       scale={p: np.concatenate([h[3][p] for h in held]) for p in pollutants})
        if self.residual_cities_:  # the corrected cities' held-out forecasts, as they will be made
            corr = {p: np.concatenate([h[4][p] for h in held]) for p in pollutants}
            out.factors = W.scale_factors(out.table, out.y, out.loc, corr, self.residual_cities_)
            probe = W.CityResiduals(factors=out.factors)
            for p in pollutants:
                out.loc[p] = out.loc[p] + corr[p]
                out.scale[p] = out.scale[p] * probe.scale(out.table, p)
        return out

    def _held_out_aqi(self, held: "_HeldOut") -> tuple[dict, np.ndarray]:
        """Step 4: residual quantiles per lead (:func:`residual_quantiles`) of each booster's held-out rows,
        then the AQI quantile function of every held-out row (in chunks).

        Returns the residual tables ``"<p>|g<k>"`` → (groups, table) and the AQI grid (rows × GRID_LEVELS).
        """
        lead_val = held.table["lead_day"].to_numpy()
        z_tables, z_by_lead = {}, {}
        for p in self.pollutants_:
            z = (F.to_log(held.y[p].to_numpy(), p) - held.loc[p]) / held.scale[p]
            z_by_lead[p] = np.full((max(LEADS) + 1, len(GRID_LEVELS)), np.nan)
            for g, group in enumerate(LEAD_GROUPS):
                rows = np.isin(lead_val, group)
                keys, table_z = z_tables[f"{p}|g{g}"] = residual_quantiles(z[rows], lead_val[rows])
                z_by_lead[p][keys] = table_z
        aqi_grid = np.empty((len(held.table), len(GRID_LEVELS)))
        # the primary pollutant of each row's median forecast, as the product has it (forecast.product)
        held.primary = np.full(len(held.table), "", dtype=object)
        median = int(np.argmin(np.abs(GRID_LEVELS - 0.5)))
        valid = held.table["valid_date"].to_numpy()
        for lo in range(0, len(held.table), 200_000):
            rows = slice(lo, lo + 200_000)
            conc = _concentrations({p: held.loc[p][rows, None] + held.scale[p][rows, None] * z_by_lead[p][lead_val[rows]]
                                    for p in self.pollutants_})
            aqi_grid[rows] = self._aqi_grid(held.table.iloc[rows], conc)
            held.primary[rows] = primary_pollutants({p: c[:, median] for p, c in conc.items()}, dates=valid[rows])
        return z_tables, aqi_grid

    def _calibrate(self, held: "_HeldOut", aqi_grid: np.ndarray, clean: pd.DataFrame, log) -> None:
        """Step 5: on the held-out forecasts, the daily probability calibration and decision thresholds,
        the copula, the criteria's calibration and the validation scores."""
        tab_val = held.table
        obs_aqi = _observed_aqi(held.y, self.pollutants_)
        self._check_validation_events(tab_val, obs_aqi, clean, log)
        raw = {t: exceedance_probability(aqi_grid, t) for t in THRESHOLDS}
        calibrated = self._fit_daily_calibration(tab_val, raw, obs_aqi, sorted(clean["city"].unique()))
        # the validation forecasts themselves (in memory only: for studies of the decision rule)
        self.validation_frame_ = pd.DataFrame({
            "city": tab_val["city"].to_numpy(), "issued": tab_val["issued"].to_numpy(),
            "lead_day": tab_val["lead_day"].to_numpy(), "obs_aqi": obs_aqi,
            **{p_var(t): calibrated[t] for t in THRESHOLDS}})
        self.copula_corr_ = copula_correlation(tab_val, aqi_grid, obs_aqi)
        issue_aqi = (clean.set_index(["city", "date"])["aqi"] if "aqi" in clean.columns
                     else pd.Series(dtype=float, index=pd.MultiIndex.from_arrays([[], []])))
        self._fit_criteria_calibration(tab_val, aqi_grid, obs_aqi, issue_aqi, held.primary)
        self.validation_ = validation_scores(tab_val, aqi_grid, obs_aqi, raw, self)

    def _check_validation_events(self, tab_val: pd.DataFrame, obs_aqi: np.ndarray, clean: pd.DataFrame,
                                 log) -> None:
        """Sets ``validation_events_``; a :class:`CalibrationWarning` when the held-out days are a clean season."""
        self.validation_events_ = ev = validation_events(tab_val, obs_aqi)
        share = ev["200"] / max(ev["city_days"], 1)
        overall = float((clean["aqi"] > 200).mean()) if "aqi" in clean.columns else float("nan")
        ev["share_200"], ev["share_200_training_period"] = round(share, 5), round(overall, 5)
        ev["clean_season"] = bool(share < MIN_VALIDATION_SHARE_RATIO * overall)
        if ev["clean_season"]:
            msg = (f"the held-out days ({self.validation!r} scheme) have only {ev['200']} city-days above AQI 200 "
                   f"({share:.1%} of {ev['city_days']:,}, against {overall:.1%} over the training period): the "
                   f"probabilities of heavy pollution are calibrated on a clean season; train up to the end "
                   f"of a heating season or use validation='blocked'")
            # stacklevel: this method, _calibrate, _fit, fit → the caller of fit
            warnings.warn(msg, CalibrationWarning, stacklevel=5)
            log(f"WARNING: {msg}")

    def _fit_daily_calibration(self, tab_val: pd.DataFrame, raw: dict, obs_aqi: np.ndarray,
                               trained_cities: list[str]) -> dict[int, np.ndarray]:
        """Per threshold and lead: the isotonic table, the all-city and per-city (neighbourhood) decision
        thresholds. Sets ``calibration_``, ``decision_thresholds_``, ``city_thresholds_``; returns the
        calibrated probabilities of the held-out rows per threshold."""
        lead_val = tab_val["lead_day"].to_numpy()
        self.decision_thresholds_ = {}
        self.calibration_ = {"daily": {}, "criteria": {}}
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
        return calibrated

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

    def _location(self, regs: dict):
        """``location(table, pollutant)``: the log location of the boosters ``regs`` on a predictor table."""
        return lambda table, p: _by_lead_group(regs, p, table, self.features_, lambda r, X, _: r.predict(X))

    def _regressor(self, pollutant: str) -> LogLocationScaleRegressor:
        params = dict(self.params)
        if pollutant in MINOR_POLLUTANTS:
            params["n_estimators"] = min(params["n_estimators"], 100)
            params["num_leaves"] = min(params["num_leaves"], 15)
        return LogLocationScaleRegressor(**params, random_state=self.seed, n_jobs=self.n_jobs)

    def _fit_criteria_calibration(self, tab_val, aqi_grid, obs_aqi, issue_aqi: pd.Series,
                                  primary: np.ndarray | None = None) -> None:
        members, keys = self._members(tab_val, aqi_grid, n_members=N_MEMBERS)
        obs_w = to_wide(tab_val, obs_aqi, keys)
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
            issue_aqi=issue_aqi.reindex(pd.MultiIndex.from_frame(keys)).to_numpy(float),
            primary=_wide_text(tab_val, primary, keys) if primary is not None else None)

    # ------------------------------------------------------------------ prediction pieces
    def _log_quantiles(self, table: pd.DataFrame) -> dict[str, np.ndarray]:
        out = {p: _by_lead_group(self.regressors_, p, table, self.features_,
                                 lambda r, X, leads: r.predict_log_quantiles(X, leads))
               for p in self.pollutants_}
        res = getattr(self, "residuals_", None)
        # the residual boosters correct their cities' rows that have the valid day's weather
        rows = (self.weather_rows(table) & table["city"].astype(str).isin(res.cities).to_numpy()
                if res is not None else np.zeros(len(table), dtype=bool))
        if rows.any():  # the corrected cities: location + correction, spread × factor
            part = table.loc[rows]
            for p in self.pollutants_:
                loc = self._location(self.regressors_)(part, p)
                q = out[p][rows]
                out[p][rows] = (loc + res.location(part, p))[:, None] + res.scale(part, p)[:, None] * (q - loc[:, None])
        return out

    def weather_rows(self, table: pd.DataFrame) -> np.ndarray:
        """Which rows of a predictor table are forecast with weather: those with the valid day's weather
        (a ``met_`` value), of any city when the pooled boosters learnt the weather, else (a weather
        add-on, :mod:`forecast.weather_addon`) of the cities with a residual booster only."""
        if not getattr(self, "with_met_", False):
            return np.zeros(len(table), dtype=bool)
        rows = table.filter(regex="^met_").notna().any(axis=1).to_numpy()
        if not any(str(f).startswith("met_") for f in self.features_):
            res = getattr(self, "residuals_", None)
            rows = rows & table["city"].astype(str).isin(res.cities if res is not None else []).to_numpy()
        return rows

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
            are allowed). The product records the weather it used (``met_<v>``) and the frame's
            files (``attrs["sources"]``) in ``weather_sources``, whether they are synthetic
            (``attrs["synthetic"]``) in ``weather_synthetic`` (:func:`forecast.product.weather_info`).
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
            ds = self._dataset(table, n_members,
                               weather_sources=met_sources(met) if self.with_met_ else None,
                               weather_synthetic=self.with_met_ and met_synthetic(met))
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
        if met is not None and self.with_met_:
            met = self.check_met(met)
        table = _expand_pairs(sel, lead_idx, lead, met if self.with_met_ else None, self.met_variables_)
        for c in self.features_:
            if c not in table.columns:
                table[c] = np.nan
        return table

    def check_met(self, met: pd.DataFrame) -> pd.DataFrame:
        """``met`` aligned to the weather variables of the model (:func:`forecast.weather_model.check_met`).

        Raises
        ------
        InputError
            If it lacks one of them (the message names them and the frame's files).
        """
        return W.check_met(met, self.met_variables_, self.name)

    def _dataset(self, table: pd.DataFrame, n_members: int, weather_sources=None,
                 weather_synthetic: bool = False) -> xr.Dataset:
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
        return forecast_dataset(self, table, keys, conc_q, aqi_q, probs, members, crit, aqi_mean,
                                weather_sources=weather_sources, weather_rows=self.weather_rows(table),
                                weather_synthetic=weather_synthetic)

    # ------------------------------------------------------------------ persistence
    def save(self, out_dir: str | os.PathLike) -> Path:
        """Write the model folder (:func:`forecast.model_store.save_model`)."""
        return save_model(self, out_dir)


def load_model(model_dir: str | os.PathLike) -> ForecastModel:
    """Load a model saved by :meth:`ForecastModel.save` (``card.json`` + booster files,
    :mod:`forecast.model_store`).

    Raises
    ------
    FileNotFoundError
        If the folder or its ``card.json`` does not exist.
    InputError
        If the card or a booster file cannot be read.
    """
    card = read_card(model_dir)
    return restore(ForecastModel(**model_arguments(card)), model_dir, card)


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
                  met: pd.DataFrame | None, variables=()) -> pd.DataFrame:
    """Predictor table for (issue row, lead) pairs: issue features + lead + valid calendar (+ the weather
    predictors ``variables`` of ``met``, :func:`forecast.features.met_features`)."""
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
        parts.append(F.met_features(out, met, variables).set_axis(out.index))
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




def _key_lead_index(table: pd.DataFrame, keys: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each row's position in ``keys`` (``city, issued``) and its lead column (lead day − 1)."""
    key_pos = pd.Series(np.arange(len(keys)), index=pd.MultiIndex.from_frame(keys))
    ki = key_pos.reindex(pd.MultiIndex.from_arrays([table["city"], table["issued"]])).to_numpy()
    return ki, table["lead_day"].to_numpy().astype(int) - 1


def _to_wide_grid(table: pd.DataFrame, grid: np.ndarray, keys: pd.DataFrame) -> np.ndarray:
    """(keys × leads × levels) array of per-row grids."""
    out = np.full((len(keys), len(LEADS), grid.shape[1]), np.nan)
    out[_key_lead_index(table, keys)] = grid
    return out


def _wide_text(table: pd.DataFrame, values: np.ndarray, keys: pd.DataFrame) -> np.ndarray:
    """(keys × leads) array of a per-row text (``""`` where a key has no row for a lead)."""
    out = np.full((len(keys), len(LEADS)), "", dtype=object)
    out[_key_lead_index(table, keys)] = values
    return out


def _quantile_function(u: np.ndarray, levels: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Read a quantile function tabulated at ``levels`` at probabilities ``u`` (flat tails)."""
    return np.interp(u, levels, values)








def _rep(values: np.ndarray, k: int) -> np.ndarray:
    return np.repeat(np.asarray(values)[:, None], k, axis=1)


def _stable_seed(*parts) -> int:
    return zlib.crc32("|".join(map(str, parts)).encode("utf-8"))

