"""The forecast product schema: the Dataset of a 1–10 day probabilistic AQI forecast, its files, and its names.

One module says what a forecast product holds; the model writes it (:func:`forecast_dataset`,
:func:`write_forecast`), the warning engine and the dashboard read it (:func:`open_forecast`,
:func:`forecast_frame`). Use the names here (:func:`p_var`, :func:`quantile_column`, :data:`DIMS` …)
rather than spelling ``"p_aqi_gt_200"`` or ``"aqi_p50"`` again.

netCDF layout (``forecast.nc``)
-------------------------------
Dims ``city, issued, lead_day (1..10), quantile, member, criterion``; coordinates ``city``
(Chinese name), ``lon, lat (city)``, ``issued`` (issue day), ``lead_day``, ``quantile`` (levels
:data:`QUANTILES`), ``member``, ``criterion`` (keys of :data:`CRITERIA`), ``valid_date(issued,
lead_day)``. Variables:

* ``<pollutant>`` and ``aqi`` (city, issued, lead_day, quantile): quantiles of the daily
  concentrations and of the daily AQI;
* ``aqi_mean`` (city, issued, lead_day): the mean of the AQI distribution (the point forecast);
* ``p_aqi_gt_150/200/300`` (:func:`p_var`; city, issued, lead_day): calibrated exceedance probabilities;
* ``decision_threshold_gt_<t>`` (:func:`decision_var`; city, lead_day): probability thresholds of the
  yes/no forecasts;
* ``aqi_scenario`` (city, issued, lead_day, member): AQI scenario members;
* ``p_criterion`` (city, issued, criterion): probability that a warning criterion is met;
* ``primary_pollutant`` (city, issued, lead_day; strings), ``aqi_standard`` (issued, lead_day; strings);
* ``last_observed`` (city, issued) and ``aqi_issue_day`` (city, issued), added by
  :meth:`forecast.model.ForecastModel.predict`;
* ``met_<v>`` (city, issued, lead_day; float32): the weather the forecast used, the valid day's
  predictor ``v`` (:func:`forecast.features.met_features`) for each weather variable of a model trained
  with weather (:data:`WEATHER_VARIABLES` gives the CF ``long_name`` and ``units``); NaN where a city
  or day had none. A model without weather writes none.

Weather attributes (:func:`weather_info` reads them): ``weather_used`` (``yes``/``no``: any finite
``met_<v>`` value), ``weather_sources`` (the weather files' names, basename only, ``"; "``-joined;
empty when none), ``weather_cities`` (the cities with weather, comma-joined) and ``weather_synthetic``
(``1`` when the weather used is synthetic, the demo's seeded weather: the met frame's
``attrs["synthetic"]``; else ``0``). A file without them (written before they existed) reads as no
weather, not synthetic.

CF attributes throughout; no wall-clock time anywhere (identical inputs give identical files).

CSV layout (``forecast.csv``, beside the netCDF)
------------------------------------------------
One row per city, issue day and lead with a forecast (rows whose median AQI is missing are left out)::

    city,issued,lead_day,valid_date,aqi_p05,aqi_p10,aqi_p25,aqi_p50,aqi_p75,aqi_p90,aqi_p95,
    p_aqi_gt_150,p_aqi_gt_200,p_aqi_gt_300,aqi_mean,<pollutant>_p50…,aqi_standard,
    primary_pollutant,last_observed

Dates as ``YYYY-MM-DD``; numbers with 4 significant digits; ``<pollutant>_p50`` for the pollutants
of :data:`airwarn.core.vocab.DAILY_POLLUTANTS` in the Dataset, in that order; ``aqi_mean``,
``primary_pollutant`` and ``last_observed`` only when the Dataset has them.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from airwarn.core.errors import InputError
from airwarn.core.files import atomic_path, atomic_write_text
from airwarn.core.units import AQI, UNITS, unit_of
from airwarn.core.vocab import (AQI_HEAVY, AQI_MODERATE, AQI_SEVERE, AQI_THRESHOLDS, DAILY_POLLUTANTS,
                                HJ633_2026_FROM)
from forecast.aqi import primary_pollutants

#: Quantile levels of the forecast output.
QUANTILES: tuple[float, ...] = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)
#: Lead days (1 = the day after the issue day).
LEADS: tuple[int, ...] = tuple(range(1, 11))
#: AQI thresholds with a daily exceedance probability (the glossary's
#: :data:`airwarn.core.vocab.AQI_THRESHOLDS`: 150, 200, 300).
THRESHOLDS: tuple[int, ...] = AQI_THRESHOLDS
#: Dims of the product's variables.
DIMS: tuple[str, ...] = ("city", "issued", "lead_day", "quantile", "member", "criterion")
#: Dims of a daily value (probabilities, the AQI mean, the primary pollutant).
DAILY_DIMS: tuple[str, ...] = ("city", "issued", "lead_day")
#: Dims of a quantile variable (``aqi`` and the pollutants).
QUANTILE_DIMS: tuple[str, ...] = ("city", "issued", "lead_day", "quantile")
#: Dims of the scenario members (``aqi_scenario``).
MEMBER_DIMS: tuple[str, ...] = ("city", "issued", "lead_day", "member")
#: First valid date of the HJ 633-2026 AQI (the glossary's :data:`airwarn.core.vocab.HJ633_2026_FROM`,
#: the AQI engine's :data:`forecast.aqi.SWITCH_DATE`).
STANDARD_2026_FROM = pd.Timestamp(HJ633_2026_FROM)
#: CF units of probabilities (a fraction 0–1); the AQI's are :data:`airwarn.core.units.AQI`'s.
_FRACTION = UNITS["1"].cf


def p_var(threshold: int) -> str:
    """Name of the exceedance-probability variable / column: ``p_var(200) == "p_aqi_gt_200"``."""
    return f"p_aqi_gt_{threshold}"


def decision_var(threshold: int) -> str:
    """Name of the decision-threshold variable: ``decision_var(200) == "decision_threshold_gt_200"``."""
    return f"decision_threshold_gt_{threshold}"


def quantile_column(q: float) -> str:
    """CSV column of an AQI quantile: ``quantile_column(0.05) == "aqi_p05"``."""
    return f"aqi_p{int(round(q * 100)):02d}"


#: AQI quantile column of each level of :data:`QUANTILES` (``{0.05: "aqi_p05", …}``).
QUANTILE_COLUMNS: dict[float, str] = {q: quantile_column(q) for q in QUANTILES}
#: The exceedance-probability variables, in :data:`THRESHOLDS` order.
P_VARS: tuple[str, ...] = tuple(p_var(t) for t in THRESHOLDS)
#: What :func:`open_forecast` requires of a forecast file by default.
REQUIRED_VARIABLES: tuple[str, ...] = ("aqi", "valid_date")

#: Prefix of the weather variables of the product (``met_blh``): the valid day's predictor the forecast used.
WEATHER_PREFIX = "met_"
#: CF ``long_name`` and ``units`` of the weather predictors a product may carry (``met_<v>``): the daily
#: predictors of :data:`forecast.met.DAILY_PREDICTORS` (units of :mod:`forecast.io.met_csv`) and the UCI
#: names of :func:`forecast.features.met_daily`. Another predictor gets ``long_name`` only.
WEATHER_VARIABLES: dict[str, tuple[str, str]] = {
    "t2m": ("2 m air temperature, daily mean", "degC"),
    "t2m_min": ("2 m air temperature, daily minimum", "degC"),
    "t2m_max": ("2 m air temperature, daily maximum", "degC"),
    "d2m": ("2 m dew point temperature, daily mean", "degC"),
    "rh": ("2 m relative humidity, daily mean", "%"),
    "u10": ("10 m eastward wind, daily mean", "m s-1"),
    "v10": ("10 m northward wind, daily mean", "m s-1"),
    "ws10": ("10 m wind speed, daily mean", "m s-1"),
    "psfc": ("surface pressure, daily mean", "hPa"),
    "precip": ("precipitation, daily sum", "mm"),
    "blh": ("boundary-layer height, daily mean", "m"),
    "t850": ("air temperature at 850 hPa, daily mean", "degC"),
    "t925": ("air temperature at 925 hPa, daily mean", "degC"),
    "tcc": ("total cloud cover, daily mean (fraction 0-1)", "1"),
    "inversion_850": ("thermal-inversion proxy T850 - T2m, daily mean", "degC"),
    "inversion_925": ("thermal-inversion proxy T925 - T2m, daily mean", "degC"),
    "ventilation": ("ventilation coefficient BLH x 10 m wind speed, daily mean", "m2 s-1"),
    "stagnation": ("air stagnation index, surface criteria (1: stagnant day; Horton et al. 2012)", "1"),
    # the UCI names of forecast.features.met_daily
    "temp": ("2 m air temperature, daily mean", "degC"),
    "dewp": ("2 m dew point temperature, daily mean", "degC"),
    "pres": ("surface pressure, daily mean", "hPa"),
    "rain": ("precipitation, daily sum", "mm"),
    "wspm": ("10 m wind speed, daily mean", "m s-1"),
    "u": ("10 m eastward wind, daily mean", "m s-1"),
    "v": ("10 m northward wind, daily mean", "m s-1"),
}


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
CRITERIA: tuple[Criterion, ...] = tuple(
    Criterion(f"gt{t}_{d}d", t, d)
    for t, d in ((AQI_MODERATE, 2), (AQI_MODERATE, 3), (AQI_HEAVY, 1), (AQI_HEAVY, 2), (AQI_HEAVY, 3),
                 (AQI_SEVERE, 1))
)


def standard_for(valid_dates) -> np.ndarray:
    """AQI standard per valid date: ``"HJ633-2012"`` before :data:`STANDARD_2026_FROM`, ``"HJ633-2026"`` from then on."""
    d = pd.DatetimeIndex(pd.to_datetime(np.asarray(valid_dates).ravel()))
    return np.where(d >= STANDARD_2026_FROM, "HJ633-2026", "HJ633-2012")


def forecast_dataset(model, table: pd.DataFrame, keys: pd.DataFrame,
                     conc_q: dict[str, np.ndarray], aqi_q: np.ndarray, probs: dict[int, np.ndarray],
                     members: np.ndarray, crit: dict[str, np.ndarray],
                     aqi_mean: np.ndarray | None = None, weather_sources: Sequence[str] | None = None,
                     weather_rows: np.ndarray | None = None, weather_synthetic: bool = False) -> xr.Dataset:
    """Assemble the forecast Dataset (the layout in the module docstring).

    Parameters
    ----------
    model : ForecastModel
        Read for ``name``, ``train_span_``, ``coords_`` (city, lon, lat), ``card_`` (optional),
        ``threshold_pool_km``, ``decision_thresholds(t, cities)`` and, if it has them, ``with_met_`` and
        ``met_variables_`` (the weather variables written as ``met_<v>``).
    table : DataFrame
        The (city, issued, lead_day, valid_date) rows the per-row arrays belong to, with the weather
        predictors ``met_<v>`` of a model trained with weather.
    keys : DataFrame
        The (city, issued) rows of ``members`` and ``crit``.
    conc_q : dict pollutant → ndarray (rows, quantiles)
    aqi_q : ndarray (rows, quantiles)
    probs : dict threshold → ndarray (rows,)
    members : ndarray (keys, members, leads)
    crit : dict criterion key → ndarray (keys,)
    aqi_mean : ndarray (rows,), optional
    weather_sources : sequence of str, optional
        The weather files the forecast was given (:func:`met_sources`); recorded by basename.
    weather_rows : ndarray of bool (rows,), optional
        The rows forecast with weather (:meth:`forecast.model.ForecastModel.weather_rows`); the others'
        ``met_<v>`` are written NaN. Default: every row.
    weather_synthetic : bool
        The weather files are synthetic (:func:`met_synthetic`); recorded as ``weather_synthetic`` 0/1.
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
                     {"long_name": "lead time", "units": UNITS["day"].cf}),
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
        data[p] = (QUANTILE_DIMS, cube4(q),
                   {"long_name": f"forecast daily {p} quantiles", "units": unit_of(p).cf})
    data["aqi"] = (QUANTILE_DIMS, cube4(aqi_q),
                   {"long_name": "forecast daily AQI quantiles (AQI engine applied to the pollutant "
                    "quantiles, comonotonic assumption)", "units": AQI.cf})
    # the primary pollutant(s) of each day: the AQI engine on the median pollutant quantiles (the
    # pollutant the median AQI comes from); "" when that AQI is <= 50 (HJ 633: no primary pollutant)
    median = QUANTILES.index(0.5)
    primary = np.full(shape4[:3], "", dtype=object)
    primary[ci, ii, li] = primary_pollutants({p: q[:, median] for p, q in conc_q.items()},
                                             dates=table["valid_date"].to_numpy())
    data["primary_pollutant"] = (DAILY_DIMS, primary,
                                 {"long_name": "forecast primary pollutant(s) of the day, comma-joined "
                                  "(AQI engine on the median pollutant quantiles; empty: AQI <= 50)"})
    if aqi_mean is not None:
        data["aqi_mean"] = (DAILY_DIMS, cube3(aqi_mean),
                            {"long_name": "mean of the forecast daily AQI distribution (the point forecast "
                             "scored by RMSE)", "units": AQI.cf})
    for t, p in probs.items():
        data[p_var(t)] = (DAILY_DIMS, cube3(p),
                          {"long_name": f"probability that the daily AQI exceeds {t} "
                           "(isotonic-calibrated)", "units": _FRACTION, "valid_min": 0.0, "valid_max": 1.0})
        data[decision_var(t)] = (
            ("city", "lead_day"), model.decision_thresholds(t, cities).astype("float32"),
            {"long_name": f"probability threshold for a yes/no forecast of AQI>{t} (maximises the threat "
             f"score on the validation fold, over the cities within {model.threshold_pool_km:.0f} km)",
             "units": _FRACTION})
    data["aqi_scenario"] = (MEMBER_DIMS, scen,
                            {"long_name": "AQI scenarios: Gaussian copula across lead days, marginals = "
                             "the AQI quantile function", "units": AQI.cf})
    data["p_criterion"] = (("city", "issued", "criterion"), crit_arr,
                           {"long_name": "probability that the warning criterion is met within the "
                            "horizon (share of members, isotonic-calibrated)", "units": _FRACTION,
                            "criteria": "; ".join(f"{c.key}: {c.label}" for c in CRITERIA)})
    data["aqi_standard"] = (("issued", "lead_day"), std.astype(object),
                            {"long_name": "AQI standard of the valid day"})
    weather = _weather_variables(model, table, cube3, weather_rows)
    data.update(weather)
    stds = sorted(set(std.ravel().tolist()))
    attrs = {
        "title": "airwarn 1-10 day probabilistic AQI forecast",
        "Conventions": "CF-1.8",
        "institution": "airwarn",
        "source": f"model {model.name} ({model.card_.get('model', 'LightGBM') if hasattr(model, 'card_') else 'LightGBM'})",
        "model": model.name,
        "model_train_span": " to ".join(model.train_span_),
        "standard": stds[0] if len(stds) == 1 else ", ".join(stds),
        "issued": _issued_text(issued),
        # no wall-clock time: identical inputs give identical files
        "history": "created by airwarn forecast.model",
        **_weather_attrs(weather, cities, weather_sources, weather_synthetic),
    }
    return xr.Dataset(data, coords=coords, attrs=attrs)


def _issued_text(issued) -> str:
    """The ``issued`` attribute: the first five issue days, ``…`` when there are more."""
    return ", ".join(str(pd.Timestamp(d).date()) for d in issued[:5]) + (" …" if len(issued) > 5 else "")


def combined_attrs(parts: Sequence[xr.Dataset]) -> dict:
    """The attributes of a forecast made of several (a backtest's chunks of issue days, concatenated
    along ``issued``): the first part's, with ``issued`` and the weather attributes (:func:`weather_info`)
    taken over all parts (``xr.concat`` keeps the first part's only: a backtest whose first chunk had no
    weather would say it used none)."""
    if not parts:
        return {}
    attrs = dict(parts[0].attrs)
    issued = sorted({pd.Timestamp(d) for p in parts for d in np.atleast_1d(p["issued"].values)})
    attrs["issued"] = _issued_text(issued)
    if any("weather_used" in p.attrs for p in parts):
        used = [p for p in parts if p.attrs.get("weather_used") == "yes"]
        sources = [s.strip() for p in used for s in str(p.attrs.get("weather_sources", "")).split(";")]
        cities = {c for p in used for c in str(p.attrs.get("weather_cities", "")).split(",") if c}
        attrs.update(weather_used="yes" if used else "no",
                     weather_sources="; ".join(dict.fromkeys(s for s in sources if s)),
                     weather_cities=",".join(sorted(cities)),
                     weather_synthetic=int(any(int(p.attrs.get("weather_synthetic", 0) or 0) for p in used)))
    return attrs


def met_sources(met: pd.DataFrame | None) -> list[str]:
    """The files a meteorology frame was read from: ``attrs["sources"]`` (set by
    :func:`forecast.model_cli.load_met` and :func:`forecast.met.read_met`); empty for None."""
    return [] if met is None else [str(s) for s in met.attrs.get("sources") or []]


def concat_met(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Meteorology frames one after the other, with the attributes ``pd.concat`` drops when the frames'
    differ: ``sources`` (every frame's files, in order, :func:`met_sources`) and ``synthetic`` (some frame
    is, :func:`met_synthetic`)."""
    out = pd.concat(list(frames), ignore_index=True)
    out.attrs.update(sources=list(dict.fromkeys(s for f in frames for s in met_sources(f))),
                     synthetic=any(met_synthetic(f) for f in frames))
    return out


def met_synthetic(met: pd.DataFrame | None) -> bool:
    """Whether a meteorology frame is synthetic weather: ``attrs["synthetic"]`` (set by
    :func:`forecast.model_cli.load_met` and :func:`forecast.met.read_met`); False for None."""
    return False if met is None else bool(met.attrs.get("synthetic", False))


def _weather_variables(model, table: pd.DataFrame, cube3, used: np.ndarray | None) -> dict:
    """The ``met_<v>`` variables (dims, float32 cube, CF attributes) of the model's weather variables
    present in ``table``, NaN on the rows not forecast with weather (``used``); none for a model trained
    without weather."""
    if not getattr(model, "with_met_", False):
        return {}
    unused = np.zeros(len(table), dtype=bool) if used is None else ~np.asarray(used, dtype=bool)
    out = {}
    for v in getattr(model, "met_variables_", None) or []:
        column = f"{WEATHER_PREFIX}{v}"
        if column not in table.columns:
            continue
        long_name, units = WEATHER_VARIABLES.get(v, (f"weather predictor {v}", None))
        attrs = {"long_name": f"weather forecast of the valid day used by the forecast: {long_name}",
                 "predictor": v}
        if units is not None:
            attrs["units"] = units
        values = np.where(unused, np.nan, table[column].to_numpy(dtype="float32")).astype("float32")
        out[column] = (DAILY_DIMS, cube3(values), attrs)
    return out


def _weather_attrs(weather: dict, cities: Sequence[str], sources: Sequence[str] | None,
                   synthetic: bool = False) -> dict:
    """``weather_used``, ``weather_sources``, ``weather_cities`` and ``weather_synthetic`` (int 0/1: netCDF
    has no boolean attribute; 0 when no weather was used) of the ``met_<v>`` variables."""
    with_weather = [c for i, c in enumerate(cities)
                    if any(np.isfinite(cube[i]).any() for _, cube, _ in weather.values())]
    names = [Path(str(s)).name for s in (sources or [])]
    return {"weather_used": "yes" if with_weather else "no",
            "weather_sources": "; ".join(dict.fromkeys(names)) if with_weather else "",
            "weather_cities": ",".join(map(str, with_weather)),
            "weather_synthetic": int(bool(synthetic) and bool(with_weather))}


def weather_info(ds: xr.Dataset) -> dict:
    """Whether a forecast used weather, from which files, for which cities and variables.

    Parameters
    ----------
    ds : xarray.Dataset
        A forecast product (:func:`open_forecast`); one written before the weather attributes existed
        reads as no weather.

    Returns
    -------
    dict
        ``used`` (bool: some ``met_<v>`` value is finite), ``sources`` (list of file names),
        ``cities`` (list of the cities with weather), ``variables`` (list of the predictor names ``v`` of
        the ``met_<v>`` variables, in the file's order), ``synthetic`` (bool: the product's
        ``weather_synthetic``; False when the weather was not used or the attribute is absent).
    """
    variables = [str(n)[len(WEATHER_PREFIX):] for n in ds.data_vars if str(n).startswith(WEATHER_PREFIX)]
    cities = []
    if variables:
        finite = np.zeros(ds.sizes["city"], dtype=bool)
        for v in variables:
            values = ds[f"{WEATHER_PREFIX}{v}"].transpose("city", ...).values.reshape(ds.sizes["city"], -1)
            finite |= np.isfinite(values).any(axis=1)
        cities = [str(c) for c, f in zip(ds["city"].values, finite) if f]
    sources = [s.strip() for s in str(ds.attrs.get("weather_sources", "")).split(";") if s.strip()]
    synthetic = bool(cities) and bool(int(ds.attrs.get("weather_synthetic", 0) or 0))
    return {"used": bool(cities), "sources": sources if cities else [], "cities": cities,
            "variables": variables, "synthetic": synthetic}


def weather_frame(ds: xr.Dataset, city: str, issued=None) -> pd.DataFrame:
    """The weather a city's forecast used, one row per lead day.

    Parameters
    ----------
    ds : xarray.Dataset
        A forecast product.
    city : str
    issued : date-like, optional
        The issue day (default: the newest in ``ds``).

    Returns
    -------
    DataFrame
        ``lead_day, valid_date`` and one column per weather variable (``blh``, ``ws10`` …, the names of
        :func:`weather_info`); empty (those columns, no rows) when the product holds no weather for the
        city on that issue day.

    Raises
    ------
    InputError
        If ``city`` or ``issued`` is not in the product (the message lists what is).
    """
    info = weather_info(ds)
    columns = ["lead_day", "valid_date", *info["variables"]]
    cities = [str(c) for c in ds["city"].values]
    if city not in cities:
        raise InputError(f"forecast: no city {city!r}; cities in the product: {cities}")
    sub = ds.sel(city=city)
    if "issued" in sub.dims:
        days = pd.DatetimeIndex(sub["issued"].values)
        at = len(days) - 1 if issued is None else days.get_indexer([pd.Timestamp(issued).normalize()])[0]
        if at < 0:
            raise InputError(f"forecast: no issue day {pd.Timestamp(issued).date()}; issue days in the product: "
                             f"{[str(d.date()) for d in days]}")
        sub = sub.isel(issued=at)
    out = pd.DataFrame({"lead_day": sub["lead_day"].values.astype(int),
                        "valid_date": pd.to_datetime(sub["valid_date"].values).normalize()})
    for v in info["variables"]:
        out[v] = sub[f"{WEATHER_PREFIX}{v}"].values.astype(float)
    if not info["variables"] or not np.isfinite(out[info["variables"]].to_numpy(float)).any():
        return out[columns].iloc[:0]
    return out[columns]


def write_forecast(ds: xr.Dataset, out_nc: str | os.PathLike) -> tuple[Path, Path]:
    """Write the forecast as netCDF and the flat CSV beside it (atomically; layouts in the module docstring).

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


def _flat(ds: xr.Dataset, name: str, **sel) -> np.ndarray:
    """A (city, issued, lead_day) variable of ``ds`` as a flat array in the CSV's row order."""
    v = ds[name].sel(**sel) if sel else ds[name]
    return v.transpose(*DAILY_DIMS).values.ravel()


def forecast_frame(ds: xr.Dataset, quantile_columns: Sequence[float] = QUANTILES) -> pd.DataFrame:
    """The flat table of a forecast Dataset (the CSV layout of the module docstring)."""
    frame = ds[list(P_VARS)].to_dataframe().reset_index()
    frame = frame[[*DAILY_DIMS, *P_VARS]]
    cols = {}
    for q in quantile_columns:
        cols[quantile_column(q)] = _flat(ds, "aqi", quantile=q)
    for p in [v for v in DAILY_POLLUTANTS if v in ds.data_vars]:
        cols[f"{p}_p50"] = _flat(ds, p, quantile=0.5)
    valid = np.broadcast_to(ds["valid_date"].values[None], (ds.sizes["city"], *ds["valid_date"].shape)).ravel()
    std = np.broadcast_to(ds["aqi_standard"].values[None], (ds.sizes["city"], *ds["aqi_standard"].shape)).ravel()
    out = pd.DataFrame({"city": frame["city"].to_numpy(), "issued": frame["issued"].dt.date.astype(str),
                        "lead_day": frame["lead_day"].to_numpy(),
                        "valid_date": pd.DatetimeIndex(valid).date.astype(str)})
    for name, v in cols.items():
        if name.startswith("aqi_"):
            out[name] = v
    for t in THRESHOLDS:
        out[p_var(t)] = frame[p_var(t)].to_numpy()
    if "aqi_mean" in ds.data_vars:
        out["aqi_mean"] = _flat(ds, "aqi_mean")
    for name, v in cols.items():
        if not name.startswith("aqi_"):
            out[name] = v
    out["aqi_standard"] = std
    if "primary_pollutant" in ds.data_vars:
        out["primary_pollutant"] = _flat(ds, "primary_pollutant")
    if "last_observed" in ds:  # the day the city's observations ended (forecast.inputs)
        last = pd.DatetimeIndex(ds["last_observed"].transpose("city", "issued").values.ravel())
        out["last_observed"] = np.repeat(np.asarray(last.strftime("%Y-%m-%d"), dtype=object), ds.sizes["lead_day"])
    out = out[np.isfinite(out[quantile_column(0.5)].to_numpy(float))].reset_index(drop=True)
    return out


def open_forecast(path: str | os.PathLike, require: Sequence[str] = REQUIRED_VARIABLES) -> xr.Dataset:
    """Read a forecast netCDF written by :func:`write_forecast` into memory (the file is closed again).

    Parameters
    ----------
    path : path-like
        The ``forecast.nc``.
    require : sequence of str
        Variables or coordinates the caller needs (default :data:`REQUIRED_VARIABLES`: ``aqi`` and
        ``valid_date``); ``aqi`` must also have the dims ``city, issued, lead_day, quantile``.

    Returns
    -------
    xarray.Dataset

    Raises
    ------
    InputError
        The file is missing or not readable netCDF, or lacks a required variable or dim (the message
        names the file and what is missing).
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"forecast file {path}: no such file")
    try:
        with xr.open_dataset(path) as opened:
            ds = opened.load()
    except (OSError, ValueError, RuntimeError) as exc:  # damaged, cut or not netCDF at all
        reason = " ".join(str(exc).split()).split(". ")[0]
        raise InputError(f"forecast file {path}: not a readable netCDF file ({reason[:200]})") from None
    missing = [v for v in require if v not in ds.variables]
    if missing:
        raise InputError(f"forecast file {path}: expected the variable(s) {missing} of the forecast product, "
                         f"got {sorted(map(str, ds.variables))}")
    if "aqi" in ds.data_vars and set(ds["aqi"].dims) != set(QUANTILE_DIMS):
        raise InputError(f"forecast file {path}: variable 'aqi': expected the dims {list(QUANTILE_DIMS)}, "
                         f"got {list(ds['aqi'].dims)}")
    return ds
