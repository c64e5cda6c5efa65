"""Weather add-on: per-city residual boosters on the weather over a model trained without weather.

A bureau has the national pooled model (trained on years of observations, no weather) and one or
two years of its own city's weather. :func:`add_city_weather` keeps the pooled model whole (its
boosters, predictors, calibration and decision thresholds) and adds, per city and pollutant, the
residual booster of :mod:`forecast.weather_model`: a small regularised LightGBM fitted to the
residual of the pooled log location on the city's forecasts of its history (the pooled boosters
forecast each issue day of the history; the valid day's observation is the target) from the weather
predictors, ``lead_day``, the valid day's annual cycle and the issue day's value of the pollutant.

* **Spread factors from a time split.** The residual boosters are first fitted on the forecasts of
  the first :data:`FIT_SHARE` of the city's issue days (their valid days before the split day); on
  the forecasts issued in the rest, the spread factor per pollutant and lead group is the ratio of the
  corrected to the pooled mean absolute residual (:func:`forecast.weather_model.scale_factors`), so
  the pooled residual quantiles still fit the corrected forecasts.
* **Final boosters** are then refitted on every forecast whose valid day is on or before ``until``.
* **Prediction.** :meth:`forecast.model.ForecastModel.predict` with ``met`` adds the correction to the
  city's rows that have the valid day's weather; other rows, and every other city, keep the pooled
  forecast.

The weather predictors are those of the frame (:func:`forecast.features.met_predictors`) less the
columns that repeat another one on every row (a daily file's ``t2m_min`` and ``t2m_max`` are its
daily mean ``t2m``: a forecast run's real minimum would not be the quantity learnt) and boolean flags.

The new model's card says what it is (``weather.kind`` = "city residuals added to <base>") and that
its backtest and event score files describe the base model (``weather.scores_of``): the residual
boosters were not scored on an independent period. :func:`copy_base_files` copies those files and the
warning decision's calibration from the base folder (``airwarn weather-add`` does).
"""
from __future__ import annotations

import copy
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

from airwarn.core.errors import InputError
from airwarn.core.files import atomic_write_bytes
from forecast import features as F
from forecast import weather_model as W

#: Share of the city's issue days whose forecasts fit the residual boosters of the spread factors.
FIT_SHARE = 2 / 3
#: Files of a base model folder that the add-on's folder keeps (its scorecards and the warning
#: decision's calibration, which stay those of the base model).
BASE_FILE_PATTERNS: tuple[str, ...] = ("warning_decision.json", "backtest_*.csv")


def addon_variables(met: pd.DataFrame) -> tuple[list[str], list[str]]:
    """The weather predictors of ``met`` (module doc) and the columns left out.

    Returns
    -------
    (list of str, list of str)
        The predictors, in the frame's order; the numeric columns left out (boolean flags, copies).
    """
    kept, dropped = [], []
    for v in F.met_predictors(met):
        values = met[v]
        if pd.api.types.is_bool_dtype(values):
            dropped.append(v)
            continue
        same = next((k for k in kept if np.array_equal(met[k].to_numpy(float), values.to_numpy(float),
                                                        equal_nan=True)), None)
        (dropped if same else kept).append(v)
    return kept, dropped


def _met_columns(variables) -> list[str]:
    """The predictor names :func:`forecast.features.met_features` makes of ``variables``."""
    return [f"{pre}{v}" for v in variables for pre in ("met_", "met0_", "met_d")]


def _check(model, obs: pd.DataFrame, met: pd.DataFrame, cities, variables, until) -> dict:
    """Refusals (module doc); returns the weather summary of ``cities``."""
    if not getattr(model, "regressors_", None):
        raise InputError("add_city_weather: the base model is not fitted (load it with load_model())")
    if model.with_met_:
        raise InputError(f"add_city_weather: model {model.name!r} already has weather "
                         f"({', '.join(model.met_variables_)}); the add-on goes on a model trained without it")
    if not cities:
        raise InputError("add_city_weather: no city given")
    known = set(obs["city"].astype(str))
    absent = [c for c in cities if c not in known]
    if absent:
        raise InputError(f"add_city_weather: no observations of {absent}; cities in the observations: "
                         f"{sorted(known)[:20]}")
    if not variables:
        raise InputError(f"add_city_weather: the meteorology has no numeric predictor column; got columns "
                         f"{list(met.columns)}")
    summary = W.met_summary(met[met["city"].astype(str).isin(cities)], variables, until)
    short = {c: summary["cities"].get(c, 0) for c in cities if summary["cities"].get(c, 0) < W.MIN_WEATHER_DAYS}
    if short:
        files = ", ".join(map(str, met.attrs.get("sources") or [])) or "the meteorology given"
        raise InputError(f"{files}: too little weather for a residual model up to {pd.Timestamp(until).date()}: "
                         f"expected ≥ {W.MIN_WEATHER_DAYS} days per city, got "
                         f"{', '.join(f'{c} {n}' for c, n in short.items())}")
    return summary


def _rows(model, obs: pd.DataFrame, met: pd.DataFrame, variables, cities, until: pd.Timestamp):
    """The (city, issue day, lead) rows of ``cities`` up to ``until``, with the base model's predictors."""
    from forecast.model import _TrainingRows

    obs = obs[pd.to_datetime(obs["date"]) <= until]
    clean = F.clean_observations(obs, [v for v in model.variables_ if v in obs.columns])
    for v in model.variables_:
        if v not in clean.columns:
            clean[v] = np.nan
    issue = F.issue_features(clean, model.coords_, model.statics_)
    issue = issue[issue["city"].astype(str).isin(cities)].reset_index(drop=True)
    return _TrainingRows.of(issue, clean, met, variables, until, np.random.default_rng(model.seed),
                            model.max_rows)


def _split(rows, cities) -> tuple[np.ndarray, np.ndarray, pd.Timestamp]:
    """Fit rows (valid day before the split day) and held-out rows (issued on or after it)."""
    city = rows.issue["city"].astype(str).to_numpy()[rows.idx]
    usable = rows.in_period & np.isin(city, list(cities))
    # the split is taken over the days with weather (three years of observations, one of weather: the
    # year of weather is split, not the three years)
    tab, _ = rows.table(np.nonzero(usable)[0])
    weather = tab.filter(regex="^met_").notna().any(axis=1).to_numpy()
    days = np.unique(rows.issued_at[np.nonzero(usable)[0][weather]])
    if len(days) < 3:
        raise InputError(f"no issue day of {sorted(cities)} with weather in the training period "
                         f"(got {len(days)}): nothing to fit the weather add-on on")
    cut = days[int(len(days) * FIT_SHARE)]
    return usable & (rows.valid < cut), usable & (rows.issued_at >= cut), pd.Timestamp(cut)


def _cached_location(location, rows, usable: np.ndarray, pollutants):
    """``location`` computed once on the rows of ``usable`` and looked up by (city, issued, lead) after:
    the fits and the held-out factors read the pooled location of the same rows."""
    def key(table):
        return pd.MultiIndex.from_arrays([table["city"].astype(str).to_numpy(),
                                          pd.to_datetime(table["issued"]).to_numpy(), table["lead_day"].to_numpy(int)])

    tab, _ = rows.table(np.nonzero(usable)[0])
    cache = {p: pd.Series(location(tab, p), index=key(tab)) for p in pollutants}
    return lambda table, p: cache[p].reindex(key(table)).to_numpy(float)


def _held_out_factors(res: W.CityResiduals, rows, held: np.ndarray, location, pollutants, cities) -> dict:
    """Spread factors of the held-out rows with the valid day's weather."""
    tab, y = rows.table(np.nonzero(held)[0])
    has = tab.filter(regex="^met_").notna().any(axis=1).to_numpy()
    tab, y = tab[has].reset_index(drop=True), y.iloc[has]
    loc = {p: location(tab, p) for p in pollutants}
    corr = {p: res.location(tab, p) for p in pollutants}
    return W.scale_factors(tab, y, loc, corr, cities)


def add_city_weather(model, obs: pd.DataFrame, met: pd.DataFrame, cities, *, until=None, name: str | None = None,
                     log=None):
    """The base model plus residual boosters of ``cities`` on their weather (module doc).

    Parameters
    ----------
    model : forecast.model.ForecastModel
        A fitted model trained without weather (not changed).
    obs : DataFrame
        City daily observations (:func:`forecast.io.read_city_daily` schema): the cities' history and
        their neighbours (the regional predictors).
    met : DataFrame
        Daily meteorology per city (:func:`forecast.model_cli.load_met`); ``attrs["sources"]`` names
        its files in the card.
    cities : sequence of str
        Cities to correct.
    until : date-like, optional
        Last valid day used (default: the last day of ``obs``).
    name : str, optional
        Name of the new model (default ``<base name>-weather``).
    log : callable, optional
        Receives progress messages.

    Returns
    -------
    forecast.model.ForecastModel
        A new model: the base model's boosters, predictors, calibration and thresholds, with
        ``with_met_``, ``met_variables_``, ``residuals_`` and the card's ``weather`` entry set.

    Raises
    ------
    InputError
        A base model with weather, a city absent from ``obs`` or with fewer than
        :data:`forecast.weather_model.MIN_WEATHER_DAYS` days of weather up to ``until``, a frame
        without predictors.
    """
    log = log or (lambda msg: None)
    t0 = time.perf_counter()
    cities = list(dict.fromkeys(str(c) for c in cities))
    until = (pd.Timestamp(until) if until is not None else pd.to_datetime(obs["date"]).max()).normalize()
    variables, dropped = addon_variables(met)
    summary = _check(model, obs, met, cities, variables, until)
    rows = _rows(model, obs, met, variables, cities, until)
    spec = SimpleNamespace(pollutants_=model.pollutants_, features_=[*model.features_, *_met_columns(variables)],
                           seed=model.seed)  # what fit_residuals reads of a model
    fit, held, cut = _split(rows, cities)
    location = _cached_location(model._location(model.regressors_), rows, rows.in_period,
                                model.pollutants_)
    first = W.fit_residuals(spec, rows, fit, location, cities, model.residual_params)
    factors = _held_out_factors(first, rows, held, location, model.pollutants_, cities)
    log(f"spread factors: residual boosters fitted on the forecasts valid before {cut.date()}, factors on those "
        f"issued from then on ({time.perf_counter() - t0:.1f} s)")
    res = W.fit_residuals(spec, rows, rows.in_period, location, cities, model.residual_params)
    res.factors = factors
    missing = [c for c in cities if c not in res.cities]
    if missing:
        raise InputError(f"add_city_weather: too few forecasts with weather to fit {missing} (≥ 100 rows per "
                         f"pollutant)")
    log(f"residual boosters of {', '.join(res.cities)}: {len(res.boosters)} on {len(variables)} weather "
        f"variables ({time.perf_counter() - t0:.1f} s)")
    return _new_model(model, name, variables, dropped, summary, res, cut, until)


def _new_model(base, name, variables, dropped, summary, res: W.CityResiduals, cut, until):
    """A shallow copy of ``base`` with the weather attributes and card entry set."""
    out = copy.copy(base)
    out.name = name or f"{base.name}-weather"
    out.with_met_ = True
    out.met_variables_ = list(variables)
    out.residuals_ = res
    out.residual_cities_ = res.cities
    weather = W.describe(summary, res)
    weather.update({
        "kind": f"city residuals added to {base.name}",
        "base_model": base.name,
        "scores_of": base.name,
        "scores_note": (f"the backtest and event score files of this folder score the base model {base.name} "
                        f"(without weather); the residual boosters are not scored on an independent period"),
        "residual_fit": {"until": str(until.date()), "weather_span": summary.get("span", []),
                         "spread_factors": f"boosters fitted on forecasts valid before {cut.date()}, factors "
                                           f"on forecasts issued from {cut.date()}"},
        "variables_left_out": list(dropped),
    })
    out.met_summary_ = weather
    card = dict(getattr(base, "card_", None) or {})
    card.update(name=out.name, with_met=True, met_variables=list(variables), weather=weather)
    out.card_ = card
    return out


def copy_base_files(base_dir, out_dir) -> list[Path]:
    """Copy the base folder's files of :data:`BASE_FILE_PATTERNS` into ``out_dir``; returns those copied."""
    base, out = Path(base_dir), Path(out_dir)
    copied = []
    for pattern in BASE_FILE_PATTERNS:
        for f in sorted(base.glob(pattern)):
            if f.is_file():
                atomic_write_bytes(out / f.name, f.read_bytes())  # never a half-copied calibration
                copied.append(out / f.name)
    return copied
