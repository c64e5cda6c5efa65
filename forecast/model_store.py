"""Persistence of a forecast model: its folder, card and files.

A model folder (``models/<name>``) holds

* ``card.json``: the model card (:func:`model_card`: versions, spans, features, hyperparameters,
  calibration tables, copula, residual quantiles, validation scores; plus ``files`` and
  ``climatology``, added by :func:`save_model`);
* ``booster_<pollutant>_g<k>_location.txt`` / ``…_scale.txt``: the LightGBM boosters of each pollutant
  and lead group (:data:`forecast.estimator.LEAD_GROUPS`);
* ``statics.csv``, ``coords.csv``, ``decision_thresholds.csv``: per-city constants, coordinates and
  decision thresholds;
* ``residual_<k>_<pollutant>.txt``: the per-city residual boosters on the weather
  (:mod:`forecast.weather_model`), described in the card's ``weather`` entry (the sources, variables
  and cities of the training weather, and the residual models);
* :data:`CLIMATOLOGY_FILE`: the day-of-year AQI climatology of the training period (the scorecard's
  reference), gzip without a time stamp.

Everything written is deterministic: the same model gives the same bytes. The functions take the
model as an argument and read or set its attributes; :func:`forecast.model.load_model` builds a
:class:`forecast.model.ForecastModel` from :func:`read_card`, :func:`model_arguments` and :func:`restore`.
"""
from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import platform
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from airwarn.core.errors import InputError
from airwarn.core.files import atomic_write_bytes, atomic_write_text
from forecast import verify
from forecast import weather_model as W
from forecast.aqi import SWITCH_DATE
from forecast.calibration import THRESHOLD_POOL_KM
from forecast.estimator import DEFAULT_PARAMS, GRID_LEVELS, LEAD_GROUPS
from forecast.product import CRITERIA, LEADS, QUANTILES, THRESHOLDS

#: The model folder's day-of-year AQI climatology of the training period (the scorecard's reference).
CLIMATOLOGY_FILE = "climatology.csv.gz"
#: The model card's file name.
CARD_FILE = "card.json"


def model_card(model) -> dict:
    """The card of a fitted :class:`forecast.model.ForecastModel` (``card.json`` without ``files``)."""
    import lightgbm
    import sklearn

    return {
        "name": model.name,
        "model": "airwarn LightGBM location-scale on log concentrations, pooled over cities and leads",
        "created_with": {"python": platform.python_version(), "lightgbm": lightgbm.__version__,
                         "scikit-learn": sklearn.__version__, "numpy": np.__version__,
                         "pandas": pd.__version__, "xarray": xr.__version__},
        "train_span": list(model.train_span_),
        "validation_span": list(model.validation_span_),
        "cities": model.cities_,
        "pollutants": model.pollutants_,
        "variables": model.variables_,
        "with_met": model.with_met_,
        "met_variables": model.met_variables_,
        "weather": (W.describe(getattr(model, "met_summary_", {}), getattr(model, "residuals_", None))
                    if model.with_met_ else None),
        "features": model.features_,
        "hyperparameters": dict(model.params, max_rows=model.max_rows, validation=model.validation,
                                valid_days=model.valid_days, folds=model.folds, refit=model.refit,
                                seed=model.seed, residual=model.residual, residual_params=model.residual_params),
        "quantiles": list(QUANTILES),
        "grid_levels": [float(v) for v in GRID_LEVELS],
        "leads": list(LEADS),
        "lead_groups": [list(g) for g in LEAD_GROUPS],
        "thresholds": list(THRESHOLDS),
        "criteria": [{"key": c.key, "threshold": c.threshold, "days": c.days} for c in CRITERIA],
        "aqi_standard": f"HJ633-2012 for valid dates before {SWITCH_DATE.isoformat()}, HJ633-2026 from then on",
        "comonotonic_assumption": "AQI quantile q = AQI engine applied to every pollutant's quantile q",
        "decision_thresholds": model.decision_thresholds_,
        "decision_thresholds_per_city": {
            "file": "decision_thresholds.csv",
            "method": (f"per city and lead: the probability threshold maximising the threat score on the "
                       f"validation rows of the cities within {THRESHOLD_POOL_KM:.0f} km (itself included); "
                       "the all-city threshold ('decision_thresholds') where that neighbourhood saw no event"),
            "radius_km": THRESHOLD_POOL_KM},
        "calibration": model.calibration_,
        "copula_correlation": np.round(np.asarray(model.copula_corr_), 6).tolist(),
        "residual_quantiles": {key: {"groups": [int(g) for g in r.z_groups_],
                                     "z": np.round(r.z_quantiles_, 6).tolist()}
                               for key, r in model.regressors_.items()},
        "validation_scores": model.validation_,
        "validation_events": model.validation_events_,
        "train_seconds": round(model.train_seconds_, 1),
    }


def save_model(model, out_dir: str | os.PathLike) -> Path:
    """Write a fitted model's booster text files, ``statics.csv``, ``coords.csv``,
    ``decision_thresholds.csv``, the climatology and ``card.json`` to ``out_dir`` (atomically per file).

    Sets ``model.card_`` to the card written (with ``files`` and ``climatology``).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for key, r in model.regressors_.items():
        p, g = key.split("|")
        for part, booster in (("location", r.location_), ("scale", r.scale_)):
            fname = f"booster_{p}_{g}_{part}.txt"
            atomic_write_text(out / fname, booster.model_to_string(num_iteration=-1))
            files.append(fname)
    atomic_write_text(out / "statics.csv", model.statics_.reset_index().to_csv(index=False))
    atomic_write_text(out / "coords.csv", model.coords_.to_csv(index=False))
    atomic_write_text(out / "decision_thresholds.csv", model.city_thresholds_.to_csv(index=False))
    files += ["statics.csv", "coords.csv", "decision_thresholds.csv"]
    for old in out.glob("residual_*.txt"):  # not a previous model's, left in the same folder
        old.unlink()
    residual_files, residual_entries = W.save_residuals(getattr(model, "residuals_", None), out, model.cities_)
    files += residual_files
    if model.climatology_ is not None:
        # full precision (a reference recomputed from the same observations scores identically);
        # gzip without a time stamp, so the same model gives the same bytes
        text = model.climatology_.to_csv(index=False)
        atomic_write_bytes(out / CLIMATOLOGY_FILE, gzip.compress(text.encode("utf-8"), mtime=0))
        files.append(CLIMATOLOGY_FILE)
    else:  # not a previous model's, left in the same folder
        (out / CLIMATOLOGY_FILE).unlink(missing_ok=True)
    card = dict(model.card_)
    if card.get("weather") is not None:
        card["weather"] = dict(card["weather"], residual_models=residual_entries)
    card = dict(card, files=files, climatology=None if model.climatology_ is None else {
        "file": CLIMATOLOGY_FILE, "span": list(model.train_span_), "half_window_days": verify.CLIMATOLOGY_HALF_WINDOW,
        "use": "reference forecast of the scorecard (airwarn backtest)"})
    atomic_write_text(out / CARD_FILE, json.dumps(card, ensure_ascii=False, indent=1, default=json_default))
    model.card_ = card
    return out


def json_default(o):
    """``json.dumps`` default of the card: numpy scalars and arrays, timestamps and dates."""
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (pd.Timestamp, dt.date)):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def read_card(model_dir: str | os.PathLike) -> dict:
    """The ``card.json`` of a model folder.

    Raises
    ------
    FileNotFoundError
        If the folder or its ``card.json`` does not exist.
    InputError
        If the card is not valid JSON.
    """
    folder = Path(model_dir)
    card_path = folder / CARD_FILE
    if not card_path.exists():
        raise FileNotFoundError(f"model folder {folder}: no card.json (train one with `airwarn train`)")
    try:
        return json.loads(card_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{card_path}: not valid JSON: {exc}") from exc


def model_arguments(card: dict) -> dict:
    """The :class:`forecast.model.ForecastModel` constructor arguments recorded in a card."""
    hp = dict(card["hyperparameters"])
    return dict(name=card["name"], params={k: hp[k] for k in DEFAULT_PARAMS if k in hp},
                max_rows=hp.get("max_rows", 150_000), validation=hp.get("validation", "last"),
                valid_days=hp.get("valid_days", 122), folds=hp.get("folds", 4),
                refit=hp.get("refit", True), seed=hp.get("seed", 0), residual=hp.get("residual", "auto"),
                residual_params=hp.get("residual_params"))


def restore(model, model_dir: str | os.PathLike, card: dict):
    """Set the fitted state of ``model`` (built from :func:`model_arguments`) from its folder; returns it.

    Raises
    ------
    InputError
        If the card's lead groups differ from :data:`LEAD_GROUPS` or a booster file cannot be read.
    """
    folder = Path(model_dir)
    m = model
    _restore_card_state(m, card)
    statics = pd.read_csv(folder / "statics.csv")
    statics["city"] = statics["city"].astype(str)
    m.statics_ = statics.set_index("city")
    coords = pd.read_csv(folder / "coords.csv")
    coords["city"] = coords["city"].astype(str)
    m.coords_ = coords
    m.climatology_ = _read_climatology(folder, card)
    thr_path = folder / "decision_thresholds.csv"
    if thr_path.exists():
        m.city_thresholds_ = pd.read_csv(thr_path, dtype={"city": str})
    else:  # a model trained before per-city thresholds: the all-city ones everywhere
        m.city_thresholds_ = pd.DataFrame(columns=["city", "lead_day", "threshold", "value", "events"])
    m.regressors_ = _read_boosters(m, folder, card)
    m.residuals_ = W.read_residuals(folder, (card.get("weather") or {}).get("residual_models"))
    m.card_ = card
    return m


def _restore_card_state(m, card: dict) -> None:
    """The fitted attributes that the card itself holds."""
    m.pollutants_ = card["pollutants"]
    m.variables_ = card["variables"]
    m.with_met_ = card["with_met"]
    m.met_variables_ = card.get("met_variables", [])
    m.met_summary_ = {k: v for k, v in (card.get("weather") or {}).items() if k != "residual_models"}
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


def _read_climatology(folder: Path, card: dict) -> pd.DataFrame | None:
    """The stored climatology; None for a model saved before airwarn stored it (the backtest recomputes
    it from observations) or trained without AQI."""
    clim = card.get("climatology")
    if clim and (folder / clim["file"]).exists():
        return pd.read_csv(folder / clim["file"], dtype={"city": str})
    if clim:  # only the backtest needs it, and it can recompute it
        warnings.warn(f"model folder {folder}: {clim['file']} named in card.json is missing; a backtest recomputes "
                      f"the climatology from the training period's observations", stacklevel=4)
    return None


def _read_boosters(m, folder: Path, card: dict) -> dict:
    """The regressors ``"<pollutant>|g<k>"`` of the card's residual quantiles, boosters read from their files."""
    import lightgbm

    groups = [tuple(g) for g in card.get("lead_groups", [])]
    if groups != list(LEAD_GROUPS):
        raise InputError(f"model folder {folder}: lead groups {groups} in card.json do not match this "
                         f"version of airwarn ({list(LEAD_GROUPS)}); retrain the model")
    regressors = {}
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
        regressors[key] = reg
    return regressors
