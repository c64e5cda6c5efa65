"""What the forecast's observations must cover: enough history, and recent enough days.

A forecast issued on day ``D`` reads the city's observations up to ``D``: lags and rolling statistics
over the last :data:`HISTORY_DAYS` days. Missing days do not stop it (the boosters take gaps), but they
degrade it silently; the functions here say how old and how short the data were, so the CLI, the daily
chain and the warning engine can tell the forecaster.

- :func:`last_observed`: the last day with observations on or before each issue day, per city (the
  forecast Dataset carries it as ``last_observed``).
- :func:`input_warnings`: the sentences ``airwarn forecast`` and ``airwarn backtest`` print when a
  forecast's history is short or its issue day has no data (its lag-0 predictors are then empty).
- :func:`too_old`: observations ending more than :data:`MAX_OBSERVATION_GAP_DAYS` days before the
  issue day, or none at all: no forecast is made from them (the CLI leaves such cities out, the
  daily chain stops).
- :data:`STALE_OBSERVATION_DAYS`: the daily chain issues from the city's last observed day, so
  yesterday's data are routine there; from this age the warning recommendation carries a data warning.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from forecast.features import WINDOWS

#: Days of history the predictors look back over (the longest rolling window of the features).
HISTORY_DAYS = max(WINDOWS)
#: Observations ending this many days or more before the product day make the daily chain's warning
#: recommendation carry a data warning (it issues from the last observed day; 1 day old is routine).
STALE_OBSERVATION_DAYS = 2
#: No forecast is made from observations ending more than this many days before its issue day.
MAX_OBSERVATION_GAP_DAYS = 7


def _observed_days(obs: pd.DataFrame, variables: Sequence[str]) -> pd.DataFrame:
    """``city, date`` of the rows with a value of any of ``variables``."""
    cols = [v for v in variables if v in obs.columns]
    if not cols:
        return obs.iloc[:0][["city", "date"]]
    return obs.loc[obs[cols].notna().any(axis=1), ["city", "date"]]


def too_old(last, issued) -> np.ndarray:
    """True where the last observed day ``last`` (NaT: none) is more than
    :data:`MAX_OBSERVATION_GAP_DAYS` days before ``issued`` (broadcast): too old to forecast from."""
    days = (_datetime64(issued) - _datetime64(last)) / np.timedelta64(1, "D")
    return np.isnan(days) | (days > MAX_OBSERVATION_GAP_DAYS)


def _datetime64(x) -> np.ndarray:
    """``x`` (a date, Timestamp, NaT, string or an array of them) as datetime64[ns], same shape."""
    a = np.asarray(x, dtype=object)
    return pd.to_datetime(a.ravel()).values.reshape(a.shape)


def cities_text(names) -> str:
    """Up to five of ``names``, sorted, then how many more."""
    names = sorted(set(map(str, names)))
    return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def _days_text(values) -> str:
    lo, hi = int(np.min(values)), int(np.max(values))
    return f"{lo} day(s)" if lo == hi else f"{lo} to {hi} days"


def input_warnings(obs: pd.DataFrame, forecasts: pd.DataFrame, variables: Sequence[str],
                   trained: Sequence[str] | None = None) -> list[str]:
    """What a forecaster should know about the observations behind ``forecasts``.

    Two things degrade a forecast without failing it: observations starting less than
    :data:`HISTORY_DAYS` days before its issue day (the rolling predictors see a short window), and
    no observation on the issue day itself (the lag-0 predictors are empty; more days missing empty
    more of them).

    Parameters
    ----------
    obs : DataFrame
        The observations the forecasts were made from (``city, date`` + ``variables``).
    forecasts : DataFrame
        ``city, issued, last_observed`` (the flat table of :func:`forecast.product.forecast_frame`; one
        row per lead is fine).
    variables : sequence of str
        The model's input variables (a day counts as observed when any of them is).
    trained : sequence of str, optional
        The model's training cities: a forecast of another city runs without that city's statics
        and with no verified skill, which is said too.

    Returns
    -------
    list of str
        One English sentence per problem, naming up to five cities; empty when the inputs are sound.
    """
    notes = []
    rows = forecasts[["city", "issued", "last_observed"]].drop_duplicates(["city", "issued"])
    if trained is not None:
        new = sorted(set(map(str, rows["city"])) - set(map(str, trained)))
        if new:
            notes.append(f"the model was not trained on {cities_text(new)}: their forecasts run without the "
                         f"city's statics and have no verified skill (retrain with their observations)")
    issued = pd.to_datetime(rows["issued"])
    seen = _observed_days(obs, variables)
    first = pd.to_datetime(seen["date"]).groupby(seen["city"]).min()
    short = rows["city"].map(first) > issued - pd.Timedelta(days=HISTORY_DAYS - 1)
    if short.any():
        notes.append(f"{int(short.sum()):,} forecast(s) of {cities_text(rows.loc[short, 'city'])} were issued with "
                     f"fewer than {HISTORY_DAYS} days from the city's first observation to the issue day (the "
                     f"last on {issued[short].max().date()}): their predictors look back over a shorter history "
                     f"(add earlier observations)")
    age = (issued - pd.to_datetime(rows["last_observed"])).dt.days
    none = age.isna()
    if none.any():
        notes.append(f"{int(none.sum()):,} forecast(s) of {cities_text(rows.loc[none, 'city'])} were issued with no "
                     f"observation of the city on or before the issue day: they have none of the city's own "
                     f"recent values")
    gap = age >= 1
    if gap.any():
        notes.append(f"{int(gap.sum()):,} forecast(s) of {cities_text(rows.loc[gap, 'city'])} were issued "
                     f"{_days_text(age[gap])} after the city's last observation: the issue day has no data, so "
                     f"their most recent predictors are empty")
    return notes


def last_observed(obs: pd.DataFrame, cities, issued, variables: Sequence[str]) -> xr.DataArray:
    """Last day on or before each issue day with an observed value of ``variables``, per city.

    A forecast issued on a day whose observations are missing runs on gaps (its lag-0 predictors are
    empty); the daily chain and the warning engine read this to say how old the data were.

    Returns
    -------
    xarray.DataArray
        ``last_observed(city, issued)``, datetime64 (NaT: nothing observed before the issue day).
    """
    seen = _observed_days(obs, variables)
    by_city = {c: np.sort(pd.to_datetime(g["date"]).to_numpy("datetime64[ns]"))
               for c, g in seen.groupby("city", sort=False)}
    issued = np.asarray(issued, dtype="datetime64[ns]")
    out = np.full((len(cities), len(issued)), np.datetime64("NaT"), dtype="datetime64[ns]")
    for i, city in enumerate(cities):
        dates = by_city.get(str(city))
        if dates is None or not dates.size:
            continue
        k = np.searchsorted(dates, issued, side="right") - 1
        out[i] = np.where(k >= 0, dates[np.maximum(k, 0)], np.datetime64("NaT"))
    return xr.DataArray(out, dims=("city", "issued"), attrs={
        "long_name": "last day with observations of the city on or before the issue day"})
