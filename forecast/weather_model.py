"""The weather part of the forecast model: what it expects, and per-city residual boosters on the weather.

A model trained with meteorology (:meth:`forecast.model.ForecastModel.fit` with ``met``) learns every
numeric predictor column of the frame (:func:`forecast.features.met_predictors`) on the valid day, the
issue day and their change (:func:`forecast.features.met_features`), pooled with the cities that have
no weather (their predictors are NaN, which LightGBM sends down its learned missing-value branch).

**Per-city residual models.** When weather covers only a few cities (under
:data:`RESIDUAL_MAX_WEATHER_SHARE` of the training city-days), the pooled trees seldom split on it:
its predictors are missing on almost every row. Each city with at least :data:`MIN_WEATHER_DAYS` days of
weather in the training period then gets, per pollutant, a small regularised LightGBM
(:data:`RESIDUAL_PARAMS`) fitted to the residual of the pooled location (log concentration) on the
city's own training rows, from its weather predictors, ``lead_day``, the valid day's annual cycle and the
issue day's value of the pollutant. Its prediction is added to the pooled location.

* The residual target is the in-sample residual of the pooled boosters on the city's rows: a city is a
  small share of the pooled rows and the boosters' leaves hold ≥ ``min_child_samples`` rows, so the
  pooled fit leaves the city's weather-driven error in the residual.
* The calibration stays out of sample: for the held-out forecasts (:func:`forecast.calibration.validation_folds`)
  the residual model is fitted on each fold's training rows only (with that fold's boosters), and the
  held-out rows are corrected with it. The spread of the city's corrected forecasts is then rescaled
  per pollutant and lead group by the ratio of its corrected to its uncorrected mean absolute residual on
  the held-out rows (:data:`SCALE_FACTOR_RANGE`), so the pooled residual quantiles still apply.
* The final residual models are fitted on all the city's training rows with the final boosters.

They are stored in the model folder as ``residual_<k>_<pollutant>.txt`` and described in the card
(``weather.residual_models``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from airwarn.core.errors import InputError
from forecast import features as F
from forecast.estimator import LEAD_GROUPS

#: Fewest days with weather in the training period for a city's residual model (about a year).
MIN_WEATHER_DAYS = 330
#: Residual models are fitted only when the city-days with weather are less than this share of all
#: training city-days (with more, the pooled trees learn the weather themselves).
RESIDUAL_MAX_WEATHER_SHARE = 0.5
#: Hyperparameters of a residual booster: small and strongly regularised (about a year of one city).
RESIDUAL_PARAMS: dict = dict(n_estimators=150, learning_rate=0.03, num_leaves=7, min_child_samples=40,
                             reg_lambda=10.0, subsample=0.8, subsample_freq=1, colsample_bytree=0.8,
                             max_bin=63)
#: Bounds of the spread factor of a corrected city (corrected / uncorrected mean absolute residual).
SCALE_FACTOR_RANGE = (0.5, 1.0)


def prsa_met(paths) -> pd.DataFrame:
    """Daily station meteorology of UCI ``PRSA_Data_*`` files: one series per station (``city`` = the
    station name, :func:`forecast.features.met_daily`, the UCI names ``temp, dewp, rh, pres, rain, wspm,
    u, v``) and their mean as ``北京``."""
    import warnings

    from forecast import io

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=io.ReaderWarning)
        hourly = io.read_prsa_multisite(paths)
    met = hourly[["station", "time", "temp", "pres", "dewp", "rain", "wd", "wspm"]].rename(columns={"station": "city"})
    per_station = F.met_daily(met)
    city_mean = per_station.drop(columns="city").groupby("date", as_index=False).mean()
    city_mean.insert(0, "city", "北京")
    return pd.concat([per_station, city_mean], ignore_index=True)


def met_summary(met: pd.DataFrame, variables, until) -> dict:
    """What a meteorology frame gave the model: the card's ``weather`` entry (before the residual models).

    Parameters
    ----------
    met : DataFrame
        The training meteorology (``city, date`` [+ ``issued``] + predictors); ``attrs["sources"]``, if
        set (by :func:`forecast.model_cli.load_met`), names its files.
    variables : sequence of str
        Its predictor columns (:func:`forecast.features.met_predictors`).
    until : date-like
        Last training day.

    Returns
    -------
    dict
        ``sources`` (files), ``variables``, ``keyed_by_run`` (the frame has ``issued``: forecast runs),
        ``cities`` (city → days with weather up to ``until``), ``span`` (first and last day).
    """
    dates = pd.to_datetime(met["date"]).dt.normalize()
    has = met[list(variables)].notna().any(axis=1).to_numpy() & (dates <= pd.Timestamp(until)).to_numpy()
    days = (pd.DataFrame({"city": met["city"].astype(str).to_numpy()[has], "date": dates.to_numpy()[has]})
            .drop_duplicates().groupby("city").size())
    sources = met.attrs.get("sources") or (sorted(met["source"].astype(str).unique()) if "source" in met else [])
    return {"sources": [str(s) for s in sources], "variables": list(variables),
            "keyed_by_run": "issued" in met.columns,
            "cities": {str(c): int(n) for c, n in days.items()},
            "span": [str(dates.min().date()), str(dates.max().date())] if len(dates) else []}


def check_met(met: pd.DataFrame, variables, model_name: str = "model") -> pd.DataFrame:
    """The frame aligned to the model's weather variables (synonyms, :func:`forecast.features.align_met`).

    Raises
    ------
    InputError
        If a variable the model was trained with is absent (under its name and its synonym); the message
        names the missing variables, the frame's files (``attrs["sources"]``) and its columns.
    """
    aligned, missing = F.align_met(met, variables)
    if missing:
        files = ", ".join(map(str, met.attrs.get("sources") or [])) or "the meteorology given"
        raise InputError(f"{files}: lacks the weather variable(s) {missing} that model {model_name!r} was trained "
                         f"with (expects {list(variables)}); got columns {list(met.columns)}")
    aligned.attrs = dict(met.attrs)
    return aligned


def residual_cities(summary: dict, n_city_days: int) -> list[str]:
    """Cities that get a residual model: ≥ :data:`MIN_WEATHER_DAYS` of weather, and weather on less than
    :data:`RESIDUAL_MAX_WEATHER_SHARE` of the ``n_city_days`` training city-days."""
    cities = summary.get("cities", {})
    if not cities or sum(cities.values()) >= RESIDUAL_MAX_WEATHER_SHARE * max(n_city_days, 1):
        return []
    return sorted(c for c, n in cities.items() if n >= MIN_WEATHER_DAYS)


def residual_features(features, pollutant: str) -> list[str]:
    """Predictors of a residual booster of ``pollutant``: the weather, ``lead_day``, the valid day's annual
    cycle and the issue day's value of the pollutant (those among the model's ``features``)."""
    keep = [c for c in features if c.startswith(("met_", "met0_"))]
    keep += [c for c in ("lead_day", "valid_doy_sin", "valid_doy_cos", f"{pollutant}_lag0") if c in features]
    return keep


@dataclass
class CityResiduals:
    """Residual boosters ``(city, pollutant) → lightgbm.Booster`` and spread factors
    ``(city, pollutant, lead group) → factor``; :meth:`correct` applies them to a predictor table."""

    boosters: dict = field(default_factory=dict)
    factors: dict = field(default_factory=dict)
    features: dict = field(default_factory=dict)  # pollutant → predictor names
    rows: dict = field(default_factory=dict)  # (city, pollutant) → training rows

    @property
    def cities(self) -> list[str]:
        return sorted({c for c, _ in self.boosters})

    def location(self, table: pd.DataFrame, pollutant: str) -> np.ndarray:
        """The correction of each row's pooled log location (0 where the row's city has no booster)."""
        out = np.zeros(len(table))
        city = table["city"].astype(str).to_numpy()
        for (c, p), booster in self.boosters.items():
            rows = (city == c)
            if p == pollutant and rows.any():
                out[rows] = booster.predict(table.loc[rows, self.features[p]].to_numpy(float), num_threads=1)
        return out

    def scale(self, table: pd.DataFrame, pollutant: str) -> np.ndarray:
        """The factor of each row's pooled scale (1 where the row's city has none)."""
        out = np.ones(len(table))
        city = table["city"].astype(str).to_numpy()
        leads = table["lead_day"].to_numpy()
        for (c, p, g), f in self.factors.items():
            if p == pollutant:
                out[(city == c) & np.isin(leads, LEAD_GROUPS[g])] = f
        return out

    def card(self, files: dict) -> list[dict]:
        """The card's ``weather.residual_models`` entries."""
        out = []
        for (c, p) in sorted(self.boosters):
            out.append({"city": c, "pollutant": p, "file": files[(c, p)], "rows": int(self.rows.get((c, p), 0)),
                        "features": self.features[p],
                        "scale_factors": {str(g): float(f) for (cc, pp, g), f in sorted(self.factors.items())
                                          if cc == c and pp == p}})
        return out


def _fit_one(X: pd.DataFrame, resid: np.ndarray, params: dict, seed: int):
    from lightgbm import LGBMRegressor

    reg = LGBMRegressor(**params, random_state=seed, n_jobs=1, deterministic=True, force_col_wise=True, verbose=-1)
    reg.fit(X.to_numpy(float), resid)
    return reg.booster_


def fit_residuals(model, rows, mask: np.ndarray, location, cities, params: dict | None = None) -> CityResiduals:
    """Residual boosters of ``cities`` on the training rows of ``mask`` (``rows``: the model's training
    rows), the residuals of the pooled location there.

    Parameters
    ----------
    model : forecast.model.ForecastModel
        The model being fitted (its pollutants, features and seed).
    rows : forecast.model._TrainingRows
    mask : ndarray of bool
        Training rows usable (a fold's training rows, or the whole period).
    location : callable
        ``location(table, pollutant)``: the pooled boosters' log location of the rows of a predictor
        table (the boosters fitted on the rows of ``mask``).
    cities : sequence of str
        Cities with a residual model (:func:`residual_cities`).
    params : dict, optional
        Booster hyperparameters (default :data:`RESIDUAL_PARAMS`).
    """
    params = dict(RESIDUAL_PARAMS, **(params or {}))
    out = CityResiduals()
    city_of_row = rows.issue["city"].astype(str).to_numpy()[rows.idx]
    for c in cities:
        pairs = np.nonzero(mask & (city_of_row == c))[0]
        if not len(pairs):
            continue
        tab, y = rows.table(pairs)
        has_weather = tab[[f for f in tab.columns if f.startswith("met_")]].notna().any(axis=1).to_numpy()
        for p in model.pollutants_:
            feats = out.features.setdefault(p, residual_features(model.features_, p))
            yl = F.to_log(y[p].to_numpy(float), p)
            ok = np.isfinite(yl) & has_weather
            if ok.sum() < 100:
                continue
            loc = location(tab[ok], p)
            out.boosters[(c, p)] = _fit_one(tab.loc[ok, feats], yl[ok] - loc, params, model.seed)
            out.rows[(c, p)] = int(ok.sum())
    return out


def scale_factors(table: pd.DataFrame, y: pd.DataFrame, loc: dict, corr: dict, cities) -> dict:
    """Spread factors ``(city, pollutant, lead group) → factor`` of corrected cities on held-out rows: the
    mean absolute residual of the corrected location over that of the pooled one, in
    :data:`SCALE_FACTOR_RANGE` (1 where a group has fewer than 20 rows).

    Parameters
    ----------
    table, y : DataFrame
        The held-out rows (``city, lead_day`` …) and their observations.
    loc, corr : dict pollutant → array
        Pooled log locations of the rows and the residual models' corrections (fitted without the rows).
    cities : sequence of str
        The corrected cities.
    """
    city = table["city"].astype(str).to_numpy()
    leads = table["lead_day"].to_numpy()
    out = {}
    for p in loc:
        yl = F.to_log(y[p].to_numpy(float), p)
        for c in cities:
            for g, group in enumerate(LEAD_GROUPS):
                rows = (city == c) & np.isin(leads, group) & np.isfinite(yl)
                if rows.sum() < 20:
                    continue
                before = np.mean(np.abs(yl[rows] - loc[p][rows]))
                after = np.mean(np.abs(yl[rows] - loc[p][rows] - corr[p][rows]))
                out[(c, p, g)] = float(np.clip(after / before, *SCALE_FACTOR_RANGE)) if before > 0 else 1.0
    return out


def save_residuals(res: CityResiduals | None, out: Path, cities_order) -> tuple[list[str], list[dict]]:
    """Write the residual boosters; returns the file names and the card's entries."""
    from airwarn.core.files import atomic_write_text

    if res is None or not res.boosters:
        return [], []
    # a corrected city outside the model's training cities (a weather add-on) gets its own number after them
    order = [*cities_order, *sorted(set(res.cities) - set(cities_order))]
    index = {c: k for k, c in enumerate(order)}
    files = {}
    for (c, p), booster in sorted(res.boosters.items()):
        name = f"residual_{index[c]:03d}_{p}.txt"
        atomic_write_text(out / name, booster.model_to_string(num_iteration=-1))
        files[(c, p)] = name
    return sorted(files.values()), res.card(files)


def read_residuals(folder: Path, entries) -> CityResiduals | None:
    """The residual boosters described by the card's ``weather.residual_models`` (None without any)."""
    import lightgbm

    if not entries:
        return None
    res = CityResiduals()
    for e in entries:
        try:
            res.boosters[(e["city"], e["pollutant"])] = lightgbm.Booster(model_file=str(folder / e["file"]))
        except lightgbm.basic.LightGBMError as exc:
            raise InputError(f"model folder {folder}: cannot read the residual booster {e['file']} of "
                             f"{e['city']} ({e['pollutant']}): {exc}") from exc
        res.features[e["pollutant"]] = list(e["features"])
        res.rows[(e["city"], e["pollutant"])] = e.get("rows", 0)
        for g, f in e.get("scale_factors", {}).items():
            res.factors[(e["city"], e["pollutant"], int(g))] = float(f)
    return res


def describe(summary: dict, res: CityResiduals | None) -> dict:
    """The card's ``weather`` entry: :func:`met_summary` plus the residual models' method and cities."""
    out = dict(summary)
    out["residual_method"] = (
        f"per city with >= {MIN_WEATHER_DAYS} weather days when weather covers < "
        f"{RESIDUAL_MAX_WEATHER_SHARE:.0%} of the training city-days: LightGBM on the residual of the pooled "
        f"log location")
    out["residual_cities"] = res.cities if res is not None else []
    return out
