"""Rolling-origin backtest of a trained model, in parallel through dask and xarray.

A forecast issued on day ``D`` sees observations up to and including ``D`` only (the
observations are cut at ``D`` before the features are computed, per chunk of issue days
the cut is at the chunk's last day and the features only look backwards); lead 1 is
``D + 1``. The issue days are split into chunks; each chunk is one dask task returning an
:class:`xarray.Dataset`, and the chunks are concatenated along ``issued``. By default the
tasks run on dask's threaded scheduler (LightGBM releases the GIL); ``scheduler`` may name
``"synchronous"``, ``"threads"``, ``"processes"`` or the address of a running
``dask.distributed`` scheduler (``tcp://host:8786``).

Outputs (:func:`write_backtest`): ``forecasts.csv`` (``city,issued,lead_day,valid_date,
aqi_p10,aqi_p50,aqi_p90,p_aqi_gt_150,p_aqi_gt_200,p_aqi_gt_300`` then the pollutant medians,
the other AQI quantiles and the criterion probabilities), ``scores.csv``
(``lead_day,metric,model,value``; model ∈ airwarn / persistence / climatology),
``reliability.csv`` (``lead_day,threshold,bin_lower,bin_upper,n,mean_probability,
observed_frequency``) and ``skill_intervals.csv`` (block-bootstrap intervals of the scores and of
the model's advantage over each reference, :func:`forecast.verify.skill_intervals`); with
``--by-city`` also each city's own ``scores_by_city.csv`` and ``skill_intervals_by_city.csv``.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from forecast import verify
from airwarn.core.files import atomic_write_text
from forecast.model import ForecastModel, training_climatology
from forecast.product import CRITERIA, QUANTILES, THRESHOLDS, combined_attrs, forecast_frame
from airwarn.core.errors import InputError

#: Leading columns of ``forecasts.csv`` (pinned).
FORECAST_COLUMNS: tuple[str, ...] = ("city", "issued", "lead_day", "valid_date", "aqi_p10", "aqi_p50",
                                     "aqi_p90", "p_aqi_gt_150", "p_aqi_gt_200", "p_aqi_gt_300")


def check_period(model: ForecastModel, start, end) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Validate a backtest period against the model's training span (from its card).

    Raises
    ------
    ValueError
        If ``end`` is before ``start`` or the period overlaps the training span.
    """
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    if end < start:
        raise InputError(f"backtest period: end {end.date()} is before start {start.date()}")
    t0, t1 = (pd.Timestamp(d) for d in model.train_span_)
    if start <= t1 and end >= t0:
        raise InputError(
            f"backtest period {start.date()} → {end.date()} overlaps the training span of model "
            f"{model.name!r} ({t0.date()} → {t1.date()}, from its card.json); a backtest must be out of "
            f"sample: start after {t1.date()} or use a model trained on an earlier period")
    return start, end


def _predict_chunk(model: ForecastModel, obs: pd.DataFrame, issued: list, cities, met, n_members: int):
    last = max(issued)
    seen = obs[obs["date"] <= last]  # nothing after the chunk's last issue day
    return model.predict(seen, issued, cities=cities, met=met, n_members=n_members)


def backtest_dataset(model: ForecastModel, obs: pd.DataFrame, start, end, *,
                     cities: Sequence[str] | None = None, met: pd.DataFrame | None = None,
                     scheduler: str | None = None, chunk_days: int = 15, n_members: int = 50) -> xr.Dataset:
    """Forecasts issued on every day from ``start`` to ``end`` as one Dataset (dim ``issued``).

    Parameters
    ----------
    model : ForecastModel
    obs : DataFrame
        Observations (``read_city_daily`` schema), covering at least 30 days before ``start``.
    start, end : date-like
        First and last issue day (inclusive); must not overlap the training span.
    cities : sequence of str, optional
        Cities (default: all in ``obs``).
    met : DataFrame, optional
        Daily meteorology (for models trained with it).
    scheduler : str, optional
        Dask scheduler: one of dask's own (``"threads"``, the default; ``"synchronous"``,
        ``"processes"``, …) or the address of a running ``dask.distributed`` scheduler
        (``tcp://host:8786`` or ``host:8786``).
    chunk_days : int
        Issue days per task.
    n_members : int
        Scenario members per forecast (used for the criterion probabilities).
    """
    import dask
    from dask.base import named_schedulers

    start, end = check_period(model, start, end)
    obs = obs.copy()
    obs["date"] = pd.to_datetime(obs["date"])
    days = list(pd.date_range(start, end, freq="D"))
    chunks = [days[i:i + chunk_days] for i in range(0, len(days), chunk_days)]
    tasks = [dask.delayed(_predict_chunk)(model, obs[obs["date"] >= chunk[0] - pd.Timedelta(days=60)],
                                          chunk, cities, met, n_members) for chunk in chunks]
    if scheduler and scheduler not in named_schedulers:
        if ":" not in scheduler:
            raise InputError(f"scheduler {scheduler!r}: neither one of dask's ({', '.join(named_schedulers)}) "
                             f"nor a dask.distributed address (tcp://host:8786 or host:8786)")
        from distributed import Client

        with Client(scheduler) as client:
            parts = client.compute(tasks, sync=True)
    else:
        parts = dask.compute(*tasks, scheduler=scheduler or "threads")
    ds = xr.concat(parts, dim="issued", data_vars="minimal", coords="minimal", compat="override",
                   join="outer")
    ds.attrs = combined_attrs(parts)  # concat keeps the first chunk's: the weather of all chunks
    return ds.sortby("issued")


def backtest_frame(ds: xr.Dataset) -> pd.DataFrame:
    """The ``forecasts.csv`` table of a backtest Dataset (pinned leading columns first)."""
    flat = forecast_frame(ds)
    crit = ds["p_criterion"].to_dataframe().reset_index().pivot_table(
        index=["city", "issued"], columns="criterion", values="p_criterion")
    crit.columns = [f"p_{c}" for c in crit.columns]
    crit = crit.reset_index()
    crit["issued"] = crit["issued"].dt.date.astype(str)
    flat = flat.merge(crit, on=["city", "issued"], how="left")
    first = list(FORECAST_COLUMNS)
    rest = [c for c in flat.columns if c not in first]
    return flat[first + rest]


def run_backtest(model: ForecastModel, obs: pd.DataFrame, start, end, *,
                 cities: Sequence[str] | None = None, met: pd.DataFrame | None = None,
                 scheduler: str | None = None, chunk_days: int = 15, n_members: int = 50
                 ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Backtest and score: returns ``(forecasts, scores, reliability)`` tables.

    The climatology reference is that of the model's training span (:func:`reference_climatology`).
    See :func:`backtest_dataset` for the parameters.
    """
    ds = backtest_dataset(model, obs, start, end, cities=cities, met=met, scheduler=scheduler,
                          chunk_days=chunk_days, n_members=n_members)
    forecasts = backtest_frame(ds)
    scores, reliability = score_frame(scored_frame(model, forecasts, obs))
    return forecasts, scores, reliability


def scored_frame(model: ForecastModel, forecasts: pd.DataFrame, obs: pd.DataFrame) -> pd.DataFrame:
    """Backtest forecasts with the observation, the references (persistence; the climatology of the
    model's training span, :func:`reference_climatology`) and the model's decision thresholds of each row.

    When ``obs`` hold the concentrations (``pm25 pm10 so2 no2 co o3_8h``, as every reader gives them), the
    frame also has the valid day's observed concentrations ``obs_<pollutant>`` and the observed primary
    pollutants ``obs_primary`` (valid day) and ``persistence_primary`` (issue day), which the primary
    pollutant hit rate of the scorecard needs (:func:`forecast.verify.attach_references`)."""
    clim = reference_climatology(model, obs, forecasts["city"].unique())
    frame = verify.attach_references(forecasts, obs, clim)
    cities = sorted(frame["city"].unique())
    ci = pd.Index(cities).get_indexer(frame["city"])
    li = frame["lead_day"].to_numpy(int) - 1
    for t in THRESHOLDS:  # the yes/no forecast's threshold of each row's city and lead
        frame[f"decision_threshold_gt_{t}"] = model.decision_thresholds(t, cities)[ci, li]
    return frame


def reference_climatology(model: ForecastModel, obs: pd.DataFrame, cities: Sequence[str]) -> pd.DataFrame:
    """The climatology reference of ``model``'s scorecard: the day-of-year AQI climatology of its
    training period, as stored with the model (:data:`forecast.model_store.CLIMATOLOGY_FILE`); for a model
    saved without one, recomputed from the observations inside its training span.

    Raises
    ------
    ValueError
        If the model stores none and ``obs`` hold no day of its training span for any of ``cities``
        (the scores would be empty).
    """
    stored = getattr(model, "climatology_", None)
    if stored is not None:
        return stored
    t0, t1 = model.train_span_
    if "aqi" not in obs.columns:
        raise InputError("climatology reference: the observations have no AQI column to score against")
    clim = training_climatology(obs, t0, t1)
    if not clim["city"].isin(list(cities)).any():
        raise InputError(f"climatology reference: model {model.name!r} stores no climatology (saved before "
                         f"airwarn kept one) and the observations hold no AQI of {', '.join(list(cities)[:5])} in its "
                         f"training span {t0} → {t1}; pass the training-period observations too (another "
                         f"--obs) or retrain the model")
    return clim


def _quantile_columns(frame: pd.DataFrame) -> dict[float, str]:
    """The model's AQI quantile columns present in ``frame`` (for the CRPS)."""
    levels = {q: f"aqi_p{int(round(q * 100)):02d}" for q in QUANTILES}
    return {q: c for q, c in levels.items() if c in frame.columns}


def score_frame(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Scores (long table) and reliability tables of a :func:`scored_frame`.

    The frame is built once per backtest and serves these, :func:`forecast.verify.skill_intervals` and
    :func:`city_tables` alike.
    """
    scores = verify.score_table(frame, _quantile_columns(frame))
    rel = []
    ok = np.isfinite(frame[["obs_aqi", "persistence_aqi", "clim_aqi"]].to_numpy(float)).all(axis=1)
    for lead, g in frame[ok].groupby("lead_day"):
        for t in THRESHOLDS:
            r = verify.reliability_table(g[f"p_aqi_gt_{t}"], (g["obs_aqi"] > t).astype(float))
            r.insert(0, "threshold", t)
            r.insert(0, "lead_day", int(lead))
            rel.append(r)
    reliability = pd.concat(rel, ignore_index=True) if rel else pd.DataFrame()
    return scores, reliability


def city_tables(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The scores and the skill intervals of each city of a :func:`scored_frame` alone: ``(scores,
    intervals)``, the tables of :func:`score_frame` and :func:`forecast.verify.skill_intervals` with a
    leading ``city`` column.

    A city's own scorecard rests on few heavy days; its intervals say how few.
    """
    return scores_by_city(frame), _by_city(frame, verify.skill_intervals)


def scores_by_city(frame: pd.DataFrame) -> pd.DataFrame:
    """:func:`forecast.verify.score_table` of each city of a :func:`scored_frame` alone, with a
    leading ``city`` column."""
    columns = _quantile_columns(frame)
    return _by_city(frame, lambda g: verify.score_table(g, columns))


def _by_city(frame: pd.DataFrame, table) -> pd.DataFrame:
    parts = [table(g).assign(city=city) for city, g in frame.groupby("city", sort=True)]
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["city"])
    return out[["city", *[c for c in out.columns if c != "city"]]]


def write_backtest(out_dir: str | os.PathLike, forecasts: pd.DataFrame, scores: pd.DataFrame,
                   reliability: pd.DataFrame | None = None, intervals: pd.DataFrame | None = None,
                   by_city: tuple[pd.DataFrame, pd.DataFrame] | None = None) -> dict[str, Path]:
    """Write ``forecasts.csv``, ``scores.csv`` (and ``reliability.csv``, ``skill_intervals.csv``,
    ``scores_by_city.csv`` and ``skill_intervals_by_city.csv`` from :func:`city_tables`) atomically
    to ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"forecasts": out / "forecasts.csv", "scores": out / "scores.csv"}
    atomic_write_text(paths["forecasts"], forecasts.to_csv(index=False, float_format="%.4g"))
    atomic_write_text(paths["scores"], scores.to_csv(index=False, float_format="%.6g"))
    if reliability is not None and len(reliability):
        paths["reliability"] = out / "reliability.csv"
        atomic_write_text(paths["reliability"], reliability.to_csv(index=False, float_format="%.6g"))
    if intervals is not None and len(intervals):
        paths["intervals"] = out / "skill_intervals.csv"
        atomic_write_text(paths["intervals"], intervals.to_csv(index=False, float_format="%.6g"))
    if by_city is not None:
        for key, name, table in (("scores_by_city", "scores_by_city.csv", by_city[0]),
                                 ("intervals_by_city", "skill_intervals_by_city.csv", by_city[1])):
            paths[key] = out / name
            atomic_write_text(paths[key], table.to_csv(index=False, float_format="%.6g"))
    return paths


def record_backtest(model_dir, model: ForecastModel, paths: dict, args=None) -> None:
    """Copy a backtest's ``scores.csv`` (and ``reliability.csv``) into ``model_dir/backtest_scores.csv``
    (``backtest_reliability.csv``) and describe the backtest in the model's card.

    The recorded scorecard is usually that of *another* model (the same recipe trained on an
    earlier period, so the test year is out of sample); the card says which.
    """
    import json

    folder = Path(model_dir)
    card_path = folder / "card.json"
    if not card_path.exists():
        raise FileNotFoundError(f"--record-in {folder}: no card.json")
    card = json.loads(card_path.read_text(encoding="utf-8"))
    atomic_write_text(folder / "backtest_scores.csv", Path(paths["scores"]).read_text(encoding="utf-8"))
    entry = {
        "scores_file": "backtest_scores.csv",
        "scored_model": model.name,
        "scored_model_train_span": list(model.train_span_),
        "note": (f"out-of-sample scorecard of a separate model ({model.name}) trained with the same recipe "
                 f"on {model.train_span_[0]} → {model.train_span_[1]}; this model's own span overlaps the "
                 "test period, so it cannot be scored on it"),
        "climatology_reference": ("stored with the scored model" if model.card_.get("climatology") else
                                  "recomputed from the training-period observations given with --obs"),
    }
    if "reliability" in paths:
        atomic_write_text(folder / "backtest_reliability.csv", Path(paths["reliability"]).read_text(encoding="utf-8"))
        entry["reliability_file"] = "backtest_reliability.csv"
    for key, name in (("intervals", "backtest_skill_intervals.csv"), ("scores_by_city", "backtest_scores_by_city.csv"),
                      ("intervals_by_city", "backtest_skill_intervals_by_city.csv")):
        if key in paths:
            atomic_write_text(folder / name, Path(paths[key]).read_text(encoding="utf-8"))
            entry[f"{key}_file"] = name
    if args is not None:
        entry.update(period=[str(args.start), str(args.end)], cities=args.cities or "all")
    card["backtest"] = entry
    atomic_write_text(card_path, json.dumps(card, ensure_ascii=False, indent=1))


__all__ = ["record_backtest", "FORECAST_COLUMNS", "CRITERIA", "check_period", "backtest_dataset", "backtest_frame",
           "city_tables", "run_backtest", "scored_frame", "score_frame", "scores_by_city", "write_backtest"]
