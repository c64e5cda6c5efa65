"""What a warning level's measures buy: the PM2.5 and heavy-day benefit of the list's cuts, with bands.

Reduced-form response (issue 19, item 1)
----------------------------------------
For each forecast day ``t``::

    ΔC_t = C_t · f_local · Σ_k g_k · Σ_p β_p · r_p,t−k

``C_t`` is the forecast PM2.5 [µg/m³]; ``r_p,t`` the list's counted cut of pollutant ``p`` on day ``t``
over the city's total daily emission of ``p`` (:attr:`emergency.reductions.Reductions.ratio`: the cut
over the inventory total the 10/20/30 % targets are counted on); ``β_p`` the relative PM2.5 response
to a relative cut of ``p``; ``f_local`` the share of the city's PM2.5 its own emissions make; ``g_k``
the lag kernel (``Σ g_k = 1``). The parameters are data, ``emergency/data/benefit_parameters.yaml``
(:func:`load_benefit_parameters`; each with its default, triangular range and source, or marked
unverified). The list's pollutants map onto the β keys by the file's ``list_pollutants``: 颗粒物 ``pm``
(the list's PM / PM10 / PM2.5 emission, counted as primary PM) → ``ppm``, ``nox`` → ``nox``, ``so2`` →
``so2``, ``vocs`` → ``voc``; no list or inventory has NH3, so its ``r`` is 0 unless a caller gives one
(``fractions=``). The measures are taken as in force on every forecast day (``active=`` chooses days);
before the first forecast day there are none, so the lag kernel builds the effect up over the first
days (0.6, 0.9, then 1.0 of the steady state with the default kernel).

Uncertainty
-----------
:func:`estimate_benefit` draws ``n_draws`` (default 10,000) parameter sets from the triangular ranges
with a seeded :class:`numpy.random.Generator`, all at once (arrays of draws × days, no Python loop over
draws). Draw ``d`` is paired with the forecast's AQI member ``d mod M`` (scenario members, or the
comonotonic pseudo-members :func:`emergency.forecast_input.read_forecast` builds from quantiles), so the
probabilities carry both the weather's and the response's uncertainty. Each member's PM2.5 comes from
the product's ``pm25`` quantiles at the member's level of the day's AQI distribution (the model's AQI
members are comonotonic with its pollutant quantiles); the member's AQI with measures is its AQI lowered
by the fall of the PM2.5 IAQI (:func:`forecast.aqi.iaqi`, HJ 633-2012 or -2026 by valid date), never
below the AQI of the other pollutants at that level (when PM2.5 is not the primary pollutant the AQI
does not move). A forecast without ``pm25`` quantiles (a CSV of AQI) takes PM2.5 as the primary
pollutant (heavy-pollution warnings are for PM2.5-led episodes) and inverts its IAQI.

Per day: PM2.5 without measures (the median forecast) and with them (p05 / p50 / p95 of the response
draws on the median, and the default-parameter value), the median forecast AQI and P(AQI > 200) with
and without (shares of the joint draws). "Heavy days avoided" is the sum over days of the drop in
P(AQI > 200), and also the number of days whose median AQI falls from above 200 to 200 or below.
Per plant: its share of ΔC is its share of the β-weighted cut ``Σ_p β_p · cut_p / total_p``.

Checks against published episodes (``tests/emergency/test_benefit.py``)
-----------------------------------------------------------------------
All three pass with the default parameters, at steady state (measures in force ≥ 3 days, Σ g = 1):

* **Beijing red alert, December 2015**: primary emissions −36 % gave PM2.5 −11 to −21 %. Input: a
  uniform 36 % cut of all five pollutants (PPM, NOx, SO2, NH3, VOC). Model: 0.5 · 0.68 · 0.36 = −12.2 %.
* **"2+26" warnings, October–December 2019**: −2 to −9 % on typical episode days. Input: the list's
  four pollutants (SO2, NOx, 颗粒物, VOCs; no NH3) cut by the yellow / orange / red targets 10 / 20 /
  30 %. Model: 0.5 · 0.53 · (0.1, 0.2, 0.3) = −2.7 / −5.3 / −8.0 %.
* **Rule of thumb**: a 10 / 20 / 30 % cut on a 150 µg/m³ day gives about −5 / −10 / −15 µg/m³. Input:
  a uniform cut of all five pollutants. Model: 150 · 0.5 · 0.68 · (0.1, 0.2, 0.3) = −5.1 / −10.2 /
  −15.3 µg/m³ (within 10 %).

With the list's four pollutants only (no NH3 cut) the rule-of-thumb day gives −4.0 / −8.0 / −11.9 µg/m³:
the NH3 response is a quarter of the total.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import yaml

from airwarn.core.errors import InputError, UnknownNameError
from airwarn.core.units import CONCENTRATION
from airwarn.core.vocab import AQI_HEAVY, DAILY_POLLUTANTS, EMISSION_LABELS, EMISSION_POLLUTANTS, WarningLevel

DATA_DIR = Path(__file__).resolve().parent / "data"
#: The bundled parameter file.
DEFAULT_PARAMETERS = "benefit_parameters.yaml"
#: The β keys, in the order of every parameter array.
BETA_KEYS: tuple[str, ...] = ("ppm", "nox", "so2", "nh3", "voc")
#: Labels of the β keys in official outputs.
BETA_LABELS: dict[str, str] = {"ppm": "一次颗粒物", "nox": "NOx", "so2": "SO2", "nh3": "NH3", "voc": "VOCs"}
#: Default number of Monte Carlo draws.
N_DRAWS = 10_000
#: Quantile levels of the PM2.5-with band.
BAND = (0.05, 0.5, 0.95)
#: Columns of :attr:`BenefitResult.days`.
DAY_COLUMNS: tuple[str, ...] = (
    "date", "aqi_standard", "active", "pm25_without", "pm25_with_p05", "pm25_with_p50", "pm25_with_p95",
    "pm25_with_default", "delta_pm25_default", "aqi_median_without", "aqi_median_with",
    "p_aqi_gt_200_without", "p_aqi_gt_200_with")
#: Columns of :attr:`BenefitResult.plants`.
PLANT_COLUMNS: tuple[str, ...] = ("credit_code", "name", "county", "industry", "grade", "share",
                                  "delta_pm25_peak")


# ------------------------------------------------------------------------------------ parameters
@dataclass(frozen=True)
class Triangular:
    """One uncertain parameter: its default (the mode) and triangular range.

    Attributes
    ----------
    default, low, high : float
    source : str or None
        Key of the file's ``sources``; None when ``unverified``.
    unverified : bool
    """

    default: float
    low: float
    high: float
    source: str | None = None
    unverified: bool = False

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` draws (the default itself when the range is a point)."""
        if self.high <= self.low:
            return np.full(n, self.default)
        return rng.triangular(self.low, self.default, self.high, n)


@dataclass(frozen=True)
class BenefitParameters:
    """A validated parameter set of the reduced-form response.

    Attributes
    ----------
    name, version, title : str
    beta : mapping β key → Triangular
        One per :data:`BETA_KEYS`.
    f_local : Triangular
    lag : tuple of float
        ``g_0, g_1, …`` (sum 1).
    lag_unverified : bool
    list_pollutants : mapping str → str
        Each list / inventory pollutant (:data:`airwarn.core.vocab.EMISSION_POLLUTANTS`) → its β key.
    sources : mapping str → str
    sha256 : str
        Of the file's bytes ("" for an object made in code).
    """

    name: str
    version: str
    title: str
    beta: Mapping[str, Triangular]
    f_local: Triangular
    lag: tuple[float, ...]
    lag_unverified: bool
    list_pollutants: Mapping[str, str]
    sources: Mapping[str, str] = field(default_factory=dict)
    sha256: str = ""

    @property
    def label(self) -> str:
        """``name@version``, recorded with every result."""
        return f"{self.name}@{self.version}"

    @property
    def unverified(self) -> tuple[str, ...]:
        """Names of the parameters marked unverified (``beta.ppm``, ``f_local``, ``lag`` …)."""
        out = [f"beta.{k}" for k in BETA_KEYS if self.beta[k].unverified]
        if self.f_local.unverified:
            out.append("f_local")
        if self.lag_unverified:
            out.append("lag")
        return tuple(out)

    def beta_default(self) -> np.ndarray:
        """The default β in :data:`BETA_KEYS` order, shape (5,)."""
        return np.array([self.beta[k].default for k in BETA_KEYS])

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``n`` draws of β, shape (n, 5), and of f_local, shape (n,)."""
        beta = np.column_stack([self.beta[k].sample(rng, n) for k in BETA_KEYS])
        return beta, self.f_local.sample(rng, n)


def _number(where: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
        raise InputError(f"{where}, {key!r}: expected a number, got {value!r}")
    return float(value)


def _triangular(where: str, key: str, entry: Any, sources: Mapping[str, str], bounds: tuple[float, float]
                ) -> Triangular:
    if not isinstance(entry, dict):
        raise InputError(f"{where}, {key!r}: expected a mapping with default, low, high, got {entry!r}")
    missing = [k for k in ("default", "low", "high") if k not in entry]
    if missing:
        raise InputError(f"{where}, {key!r}: missing {missing}; expected default, low, high and a source or "
                         f"'unverified: true'")
    d, lo, hi = (_number(where, f"{key}.{k}", entry[k]) for k in ("default", "low", "high"))
    if not lo <= d <= hi:
        raise InputError(f"{where}, {key!r}: expected low <= default <= high, got {lo:g}, {d:g}, {hi:g}")
    if lo < bounds[0] or hi > bounds[1]:
        raise InputError(f"{where}, {key!r}: expected a range within {bounds[0]:g}…{bounds[1]:g}, "
                         f"got {lo:g}…{hi:g}")
    unverified = entry.get("unverified") is True
    source = entry.get("source")
    if not unverified and not source:
        raise InputError(f"{where}, {key!r}: expected a 'source' or 'unverified: true', got neither")
    if source and str(source) not in sources:
        raise InputError(f"{where}, {key!r}: source {source!r} is not a key of 'sources' {sorted(sources)}")
    return Triangular(d, lo, hi, None if not source else str(source), unverified)


def load_benefit_parameters(source: "str | os.PathLike | BenefitParameters | None" = None) -> BenefitParameters:
    """Load and validate a benefit parameter file (default: the bundled ``benefit_parameters.yaml``).

    Parameters
    ----------
    source : path, ``"default"``, BenefitParameters or None

    Returns
    -------
    BenefitParameters

    Raises
    ------
    UnknownNameError
        No such file.
    InputError
        Naming the file and the key: not YAML, a missing ``version`` or ``sources``, a β key missing or
        unknown, a default outside its range, a parameter with neither a source (a key of ``sources``)
        nor ``unverified: true``, f_local outside 0–1, a lag kernel with a negative weight or not summing
        to 1, a list pollutant not mapped or mapped to an unknown β key.
    """
    if isinstance(source, BenefitParameters):
        return source
    path = DATA_DIR / DEFAULT_PARAMETERS if source in (None, "default") else Path(source)
    if not path.exists():
        raise UnknownNameError(f"benefit parameters {str(source)!r}: no such file; the bundled set is 'default'")
    raw = path.read_bytes()
    where = f"benefit parameters {path}"
    try:
        doc = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise InputError(f"{where}: not a readable YAML file ({' '.join(str(exc).split())[:200]})") from None
    if not isinstance(doc, dict):
        raise InputError(f"{where}: expected a mapping at the top, got {type(doc).__name__}")
    for key in ("version", "sources", "beta", "f_local", "lag", "list_pollutants"):
        if key not in doc:
            raise InputError(f"{where}: missing key {key!r}; expected version, sources, beta, f_local, lag, "
                             f"list_pollutants")
    sources = doc["sources"]
    if not isinstance(sources, dict) or not sources:
        raise InputError(f"{where}, 'sources': expected a mapping key → reference, got {sources!r}")
    sources = {str(k): str(v) for k, v in sources.items()}
    beta_doc = doc["beta"]
    if not isinstance(beta_doc, dict):
        raise InputError(f"{where}, 'beta': expected a mapping of {list(BETA_KEYS)}, got {beta_doc!r}")
    unknown, missing = sorted(set(beta_doc) - set(BETA_KEYS)), [k for k in BETA_KEYS if k not in beta_doc]
    if unknown or missing:
        raise InputError(f"{where}, 'beta': unknown key(s) {unknown}, missing key(s) {missing}; expected "
                         f"{list(BETA_KEYS)}")
    beta = {k: _triangular(where, f"beta.{k}", beta_doc[k], sources, (-1.0, 1.0)) for k in BETA_KEYS}
    f_local = _triangular(where, "f_local", doc["f_local"], sources, (0.0, 1.0))
    lag_doc = doc["lag"]
    values = lag_doc.get("values") if isinstance(lag_doc, dict) else None
    if not isinstance(values, list) or not values:
        raise InputError(f"{where}, 'lag': expected a mapping with 'values' (a list of weights), got {lag_doc!r}")
    lag = tuple(_number(where, f"lag.values[{i}]", v) for i, v in enumerate(values))
    if min(lag) < 0 or abs(sum(lag) - 1.0) > 1e-6:
        raise InputError(f"{where}, 'lag.values': expected non-negative weights summing to 1, got {list(lag)}")
    lag_unverified = lag_doc.get("unverified") is True
    if not lag_unverified and not lag_doc.get("source"):
        raise InputError(f"{where}, 'lag': expected a 'source' or 'unverified: true', got neither")
    mapping = doc["list_pollutants"]
    if not isinstance(mapping, dict):
        raise InputError(f"{where}, 'list_pollutants': expected a mapping pollutant → β key, got {mapping!r}")
    mapping = {str(k): str(v) for k, v in mapping.items()}
    bad = {k: v for k, v in mapping.items() if k not in EMISSION_POLLUTANTS or v not in BETA_KEYS}
    unmapped = [p for p in EMISSION_POLLUTANTS if p not in mapping]
    if bad or unmapped:
        raise InputError(f"{where}, 'list_pollutants': expected each of {list(EMISSION_POLLUTANTS)} mapped to one "
                         f"of {list(BETA_KEYS)}; got bad entries {bad}, unmapped {unmapped}")
    return BenefitParameters(str(doc.get("name", path.stem)), str(doc["version"]), str(doc.get("title", "")),
                             beta, f_local, lag, lag_unverified, mapping, sources, hashlib.sha256(raw).hexdigest())


# ---------------------------------------------------------------------------------- the response
def relative_response(r: np.ndarray, beta: np.ndarray, f_local: np.ndarray, lag: Sequence[float]) -> np.ndarray:
    """The relative PM2.5 reduction ``ΔC_t / C_t = f_local · Σ_k g_k · Σ_p β_p · r_p,t−k``.

    Parameters
    ----------
    r : ndarray, shape (5, days)
        Cut fractions per β key (:data:`BETA_KEYS` order) and day; no cuts before day 0.
    beta : ndarray, shape (draws, 5)
    f_local : ndarray, shape (draws,)
    lag : sequence of float
        ``g_0, g_1, …``.

    Returns
    -------
    ndarray, shape (draws, days)

    Examples
    --------
    >>> r = np.zeros((5, 4)); r[0, 1] = 0.5        # half the primary PM cut on day 1 only
    >>> relative_response(r, np.array([[0.3, 0, 0, 0, 0]]), np.array([0.5]), (0.6, 0.3, 0.1)).round(4)
    array([[0.    , 0.045 , 0.0225, 0.0075]])
    """
    r = np.asarray(r, dtype=float)
    s = np.asarray(beta, dtype=float) @ r  # (draws, days): Σ_p β_p r_p,t
    out = np.zeros_like(s)
    n = s.shape[1]
    for k, g in enumerate(lag[:n]):  # the kernel's few days, never the draws
        out[:, k:] += g * s[:, :n - k]
    return np.asarray(f_local, dtype=float)[:, None] * out


def steady_state_reduction(fractions: Mapping[str, float], params: "BenefitParameters | str | None" = None
                           ) -> float:
    """ΔC/C with the default parameters once the measures have run ≥ the kernel's length (Σ g = 1).

    Parameters
    ----------
    fractions : mapping β key → cut fraction
        E.g. ``{"ppm": 0.36, "nox": 0.36, …}``; keys left out are 0.

    Examples
    --------
    >>> round(steady_state_reduction({k: 0.36 for k in BETA_KEYS}), 4)  # Beijing, December 2015
    0.1224
    """
    p = load_benefit_parameters(params)
    r = _fractions_vector(fractions)
    return float(p.f_local.default * sum(p.lag) * p.beta_default() @ r)


def _fractions_vector(fractions: Mapping[str, float]) -> np.ndarray:
    bad = sorted(set(fractions) - set(BETA_KEYS))
    if bad:
        raise UnknownNameError(f"cut fractions: unknown key(s) {bad}; expected some of {list(BETA_KEYS)}")
    out = np.array([float(fractions.get(k, 0.0)) for k in BETA_KEYS])
    if not np.isfinite(out).all() or (out < 0).any() or (out > 1).any():
        raise InputError(f"cut fractions: expected fractions 0–1, got {dict(fractions)}")
    return out


def list_fractions(reductions, params: BenefitParameters) -> dict[str, float]:
    """The cut fractions per β key of a :class:`~emergency.reductions.Reductions` (its ``ratio``).

    Raises
    ------
    InputError
        Without an emission inventory (no totals to divide by), or a pollutant the list cuts whose
        total is 0.
    """
    if reductions.total is None:
        raise InputError("benefit: the list's cuts need the city's total emissions; no emission inventory is "
                         "imported (airwarn inventory import FILE)")
    out = {k: 0.0 for k in BETA_KEYS}
    for p in EMISSION_POLLUTANTS:
        ratio = reductions.ratio.get(p)
        if ratio is None:
            if reductions.cut.get(p, 0.0) > 0:
                raise InputError(f"benefit: inventory {reductions.inventory!r} has no {EMISSION_LABELS[p]} total; "
                                 f"expected a positive total for a pollutant the list cuts")
            ratio = 0.0
        out[params.list_pollutants[p]] += float(ratio)
    return out


# ------------------------------------------------------------------------------------ the forecast
@dataclass(frozen=True)
class _Forecast:
    """One city's forecast as the benefit needs it (days T, members M)."""

    city: str
    issued: dt.date | None
    dates: pd.DatetimeIndex
    standards: np.ndarray          # (T,) of forecast.aqi.Standard
    pm25: np.ndarray               # (T,) median PM2.5 [µg/m³]
    aqi: np.ndarray                # (M, T) AQI members
    member_pm25: np.ndarray        # (M, T)
    member_other: np.ndarray       # (M, T) AQI of the other pollutants at the member's level (0: unknown)
    member_method: str
    pm25_method: str               # "quantile-mapping" | "inverse-iaqi"


def _inverse_pm25(aqi: np.ndarray, standards: np.ndarray) -> np.ndarray:
    """PM2.5 [µg/m³] whose 24-h IAQI is ``aqi`` (piecewise-linear inverse of the breakpoints), per day."""
    from forecast.aqi import BREAKPOINTS

    out = np.empty_like(aqi, dtype=float)
    for j, std in enumerate(standards):
        ind = BREAKPOINTS[std]["pm25_24h"]
        out[..., j] = np.interp(aqi[..., j], ind.iaqis, ind.concentrations)
    return out


def _pm25_iaqi(conc: np.ndarray, standards: np.ndarray) -> np.ndarray:
    """IAQI of 24-h PM2.5, each column (day) under its standard (:func:`forecast.aqi.iaqi`)."""
    from forecast.aqi import iaqi

    out = np.empty_like(conc, dtype=float)
    for std in set(standards):
        cols = np.flatnonzero(standards == std)
        out[:, cols] = iaqi("pm25_24h", np.maximum(conc[:, cols], 0.0), std, above="ignore")
    return out


def _extended(qs: np.ndarray, values: np.ndarray, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """Quantile points with the levels 0 and 1 added by linear extrapolation of the end segments."""
    v = np.maximum.accumulate(values)
    left = v[0] - qs[0] * (v[1] - v[0]) / max(qs[1] - qs[0], 1e-9)
    right = v[-1] + (1 - qs[-1]) * (v[-1] - v[-2]) / max(qs[-1] - qs[-2], 1e-9)
    ext = np.clip(np.concatenate([[left], v, [right]]), lo, hi)
    return np.concatenate([[0.0], qs, [1.0]]), ext


def _read(forecast: Any, city: str | None, issued) -> _Forecast:
    import xarray as xr

    from emergency.forecast_input import read_forecast
    from forecast.aqi import aqi_from_concentrations, standard_for_date
    from forecast.product import open_forecast

    ds = None
    if isinstance(forecast, xr.Dataset):
        ds = forecast
    elif isinstance(forecast, (str, os.PathLike)) and Path(forecast).suffix.lower() in (".nc", ".nc4", ".netcdf"):
        if not Path(forecast).exists():
            raise FileNotFoundError(f"forecast file not found: {forecast}")
        ds = open_forecast(forecast, require=())
    series = read_forecast(ds if ds is not None else forecast, city=city, issued=issued)
    if series.step_hours < 24:
        raise InputError(f"benefit: forecast {series.source}: expected a daily forecast, got an hourly series")
    dates = pd.DatetimeIndex(series.times).normalize()
    standards = np.asarray(standard_for_date(dates.values), dtype=object)
    aqi = series.members if series.members is not None else series.aqi[None, :]
    aqi = np.clip(np.asarray(aqi, dtype=float), 0.0, 500.0)
    sub = None
    if ds is not None and "pm25" in ds and "quantile" in ds["pm25"].dims and "quantile" in ds["aqi"].dims:
        sub = ds.sel(city=series.city) if "city" in ds.dims else ds
        if "issued" in sub.dims:
            days = pd.DatetimeIndex(sub["issued"].values).normalize()
            hit = np.flatnonzero(days == pd.Timestamp(series.issued)) if series.issued else [len(days) - 1]
            sub = sub.isel(issued=int(hit[-1]))
        if "lead_day" in sub.dims:
            sub = sub.sortby("lead_day")
        if not np.isfinite(sub["pm25"].values).all() or not np.isfinite(sub["aqi"].values).all():
            sub = None
    if sub is None:
        pm25 = _inverse_pm25(series.aqi[None, :].astype(float), standards)[0]
        return _Forecast(series.city, series.issued, dates, standards, pm25, aqi, _inverse_pm25(aqi, standards),
                         np.zeros_like(aqi), series.member_method, "inverse-iaqi")
    qs = np.asarray(sub["quantile"].values, dtype=float)
    pm_q = sub["pm25"].transpose("quantile", ...).values.astype(float)
    aqi_q = sub["aqi"].transpose("quantile", ...).values.astype(float)
    others = [p for p in DAILY_POLLUTANTS if p != "pm25" and p in sub and "quantile" in sub[p].dims
              and np.isfinite(sub[p].values).all()]
    member_pm25, member_other = np.empty_like(aqi), np.zeros_like(aqi)
    for j in range(len(dates)):  # ten days: the members of a day at once
        lv, a_ext = _extended(qs, aqi_q[:, j], 0.0, 500.0)
        a_ext = a_ext + np.arange(a_ext.size) * 1e-9  # strictly increasing for the inverse
        u = np.interp(aqi[:, j], a_ext, lv)
        member_pm25[:, j] = np.interp(u, *_extended(qs, pm_q[:, j], 0.0, np.inf))
        if others:
            other_q = aqi_from_concentrations(standards[j], **{p: sub[p].transpose("quantile", ...).values[:, j]
                                                               for p in others})
            member_other[:, j] = np.interp(u, qs, np.maximum.accumulate(np.nan_to_num(other_q)))
    pm25 = np.array([np.interp(0.5, qs, pm_q[:, j]) for j in range(len(dates))])
    return _Forecast(series.city, series.issued, dates, standards, pm25, aqi, member_pm25, member_other,
                     series.member_method, "quantile-mapping")


# ---------------------------------------------------------------------------------------- result
@dataclass(frozen=True)
class BenefitResult:
    """The benefit of one level's measures on one forecast.

    Attributes
    ----------
    city : str
    issued : datetime.date or None
    level : WarningLevel or None
        None for cuts given as fractions.
    list_version, inventory : str or None
    parameters : str
        ``name@version`` of the parameter set; ``unverified`` its parameters marked unverified.
    n_draws, seed, n_members : int
    member_method : str
        How the AQI members were made (``scenarios``, ``comonotonic``, ``deterministic``).
    pm25_method : str
        ``quantile-mapping`` (the product's pm25 quantiles) or ``inverse-iaqi`` (PM2.5 from the AQI).
    fractions : mapping β key → float
        The cut fraction ``r`` per β key on an active day.
    days : DataFrame
        One row per forecast day, :data:`DAY_COLUMNS` [µg/m³; probabilities 0–1].
    heavy_days_avoided : float
        Σ over days of ``p_aqi_gt_200_without − p_aqi_gt_200_with``.
    heavy_days_avoided_median : int
        Days whose median AQI falls from > 200 to ≤ 200.
    plants : DataFrame
        :data:`PLANT_COLUMNS`, largest share first (empty for cuts given as fractions).
    """

    city: str
    issued: dt.date | None
    level: WarningLevel | None
    list_version: str | None
    inventory: str | None
    parameters: str
    unverified: tuple[str, ...]
    n_draws: int
    seed: int
    n_members: int
    member_method: str
    pm25_method: str
    fractions: Mapping[str, float]
    days: pd.DataFrame = field(repr=False)
    heavy_days_avoided: float = 0.0
    heavy_days_avoided_median: int = 0
    plants: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(PLANT_COLUMNS)), repr=False)

    def to_dict(self, plants: int = 20) -> dict[str, Any]:
        """JSON-ready summary: ``days`` (a list of records, :data:`DAY_COLUMNS`), ``heavy_days_avoided`` …;
        the ``plants`` largest shares."""
        def num(v, nd):
            return None if v is None or not np.isfinite(v) else round(float(v), nd)

        days = []
        for row in self.days.itertuples(index=False):
            d = row._asdict()
            rec = {"date": d["date"].date().isoformat(), "aqi_standard": str(d["aqi_standard"]),
                   "active": bool(d["active"])}
            for c in DAY_COLUMNS[3:]:
                rec[c] = num(d[c], 4 if c.startswith("p_aqi") else 1)
            days.append(rec)
        return {
            "city": self.city, "issued": None if self.issued is None else self.issued.isoformat(),
            "level": None if self.level is None else self.level.key,
            "level_label": None if self.level is None else self.level.label,
            "list_version": self.list_version, "inventory": self.inventory,
            "parameters": self.parameters, "unverified_parameters": list(self.unverified),
            "n_draws": self.n_draws, "seed": self.seed, "n_members": self.n_members,
            "member_method": self.member_method, "pm25_method": self.pm25_method,
            "cut_fraction": {k: round(float(v), 4) for k, v in self.fractions.items()},
            "days": days,
            "heavy_days_avoided": round(float(self.heavy_days_avoided), 4),
            "heavy_days_avoided_median": int(self.heavy_days_avoided_median),
            "plants": [{k: (round(float(v), 4) if isinstance(v, (float, np.floating)) else v)
                        for k, v in rec.items()} for rec in self.plants.head(plants).to_dict(orient="records")],
        }

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text (Chinese kept as it is)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)


def _plant_shares(reductions, params: BenefitParameters, peak_delta: float) -> pd.DataFrame:
    """Each affected plant's share of the β-weighted cut, and of ΔC on the peak day (default parameters)."""
    ent = reductions.enterprises
    if ent is None or not len(ent) or reductions.total is None:
        return pd.DataFrame(columns=list(PLANT_COLUMNS))
    beta = dict(zip(BETA_KEYS, params.beta_default()))
    w = np.zeros(len(ent))
    for p in EMISSION_POLLUTANTS:
        total = reductions.total.get(p) or 0.0
        if total > 0 and f"cut_{p}" in ent:
            w += beta[params.list_pollutants[p]] * ent[f"cut_{p}"].to_numpy(dtype=float) / total
    share = w / w.sum() if w.sum() > 0 else np.zeros_like(w)
    out = ent[[c for c in PLANT_COLUMNS[:5] if c in ent.columns]].copy()
    out["share"] = share
    out["delta_pm25_peak"] = share * peak_delta
    return out.sort_values("share", ascending=False, kind="stable").reset_index(drop=True)


def estimate_benefit(forecast: Any, reductions=None, params: "BenefitParameters | str | None" = None, *,
                     fractions: Mapping[str, float] | None = None, n_draws: int = N_DRAWS, seed: int = 0,
                     active: Sequence[bool] | None = None, city: str | None = None,
                     issued: "dt.date | str | None" = None) -> BenefitResult:
    """The PM2.5 and heavy-day benefit of a level's measures on a forecast, with Monte Carlo bands.

    Parameters
    ----------
    forecast : xarray.Dataset, path (``.nc`` / ``.csv``), DataFrame or ForecastSeries
        The forecast product (read through :func:`emergency.forecast_input.read_forecast`).
    reductions : Reductions, optional
        The level's cuts (:func:`emergency.reductions.compute_reductions`, with an inventory).
    params : BenefitParameters, path or None
        Default: the bundled parameters.
    fractions : mapping β key → fraction, optional
        Cut fractions instead of (or overriding) the list's, e.g. ``{"ppm": 0.36, "nh3": 0.36, …}``.
    n_draws : int
        Monte Carlo draws (≥ 1; default 10,000).
    seed : int
        Seed of the :class:`numpy.random.Generator`.
    active : sequence of bool, optional
        Days the measures are in force (default: every forecast day).
    city, issued : optional
        Which city and issue day of the forecast (default: the only city, the latest issue).

    Returns
    -------
    BenefitResult

    Raises
    ------
    InputError
        Neither reductions nor fractions; reductions without an inventory; ``n_draws`` < 1; ``active``
        of the wrong length; a bad forecast (see :func:`~emergency.forecast_input.read_forecast`).
    """
    p = load_benefit_parameters(params)
    if reductions is None and fractions is None:
        raise InputError("estimate_benefit: give the level's reductions or the cut fractions")
    if int(n_draws) < 1:
        raise InputError(f"estimate_benefit: n_draws: expected a whole number >= 1, got {n_draws!r}")
    n_draws = int(n_draws)
    frac = list_fractions(reductions, p) if reductions is not None else {k: 0.0 for k in BETA_KEYS}
    if fractions is not None:
        frac.update({k: float(v) for k, v in fractions.items()})
    r = _fractions_vector(frac)
    fc = _read(forecast, city, issued)
    n_days = len(fc.dates)
    act = np.ones(n_days, dtype=bool) if active is None else np.asarray(active, dtype=bool)
    if act.shape != (n_days,):
        raise InputError(f"estimate_benefit: active: expected {n_days} values (one per forecast day), got "
                         f"{act.size}")
    r_days = r[:, None] * act[None, :]
    rng = np.random.default_rng(seed)
    beta, f_local = p.sample(n_draws, rng)
    phi = relative_response(r_days, beta, f_local, p.lag)                                    # (D, T)
    phi0 = relative_response(r_days, p.beta_default()[None], np.array([p.f_local.default]), p.lag)[0]
    pm_with = fc.pm25[None, :] * (1.0 - phi)
    band = np.quantile(pm_with, BAND, axis=0)                                                # (3, T)
    # the joint draws: draw d with AQI member d mod M
    pick = np.arange(n_draws) % fc.aqi.shape[0]
    a, c, other = fc.aqi[pick], fc.member_pm25[pick], fc.member_other[pick]
    i0 = _pm25_iaqi(c, fc.standards)
    i1 = _pm25_iaqi(c * (1.0 - phi), fc.standards)
    primary = i0 >= other
    # PM2.5 primary: the AQI falls with its IAQI, down to the other pollutants'; else it moves only if
    # the PM2.5 IAQI rises above it (a negative response)
    a_with = np.clip(np.where(primary, np.maximum(a + i1 - i0, np.minimum(other, a)),
                              np.where(i1 > i0, np.maximum(a, i1), a)), 0, 500)
    p_without = (a > AQI_HEAVY).mean(axis=0)
    p_with = (a_with > AQI_HEAVY).mean(axis=0)
    med_without, med_with = np.median(a, axis=0), np.median(a_with, axis=0)
    days = pd.DataFrame({
        "date": fc.dates, "aqi_standard": [str(s) for s in fc.standards], "active": act,
        "pm25_without": fc.pm25, "pm25_with_p05": band[0], "pm25_with_p50": band[1], "pm25_with_p95": band[2],
        "pm25_with_default": fc.pm25 * (1.0 - phi0), "delta_pm25_default": fc.pm25 * phi0,
        "aqi_median_without": med_without, "aqi_median_with": med_with,
        "p_aqi_gt_200_without": p_without, "p_aqi_gt_200_with": p_with,
    }, columns=list(DAY_COLUMNS))
    plants = (_plant_shares(reductions, p, float(np.max(fc.pm25 * phi0, initial=0.0)))
              if reductions is not None and fractions is None else pd.DataFrame(columns=list(PLANT_COLUMNS)))
    return BenefitResult(
        city=fc.city, issued=fc.issued, level=None if reductions is None else reductions.level,
        list_version=None if reductions is None else reductions.version,
        inventory=None if reductions is None else reductions.inventory,
        parameters=p.label, unverified=p.unverified, n_draws=n_draws, seed=int(seed), n_members=int(fc.aqi.shape[0]),
        member_method=fc.member_method, pm25_method=fc.pm25_method, fractions=dict(zip(BETA_KEYS, r.tolist())),
        days=days, heavy_days_avoided=float(np.sum(p_without - p_with)),
        heavy_days_avoided_median=int(np.sum((med_without > AQI_HEAVY) & (med_with <= AQI_HEAVY))),
        plants=plants)


def _pad(text: str, width: int) -> str:
    """``text`` padded to ``width`` columns (a Chinese character or full-width sign takes two)."""
    import unicodedata

    cols = sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)
    return text + " " * max(width - cols, 0)


def format_benefit(res: BenefitResult) -> str:
    """A short Chinese table of a :class:`BenefitResult` (for the CLI)."""
    head = (f"{res.city}{res.level.label if res.level else '给定减排比例'}措施效益（起报 {res.issued or '—'}，"
            f"清单版本 {res.list_version or '—'}，参数 {res.parameters}，{res.n_draws} 次抽样）")
    cut = "，".join(f"{BETA_LABELS[k]} {100 * v:.1f}%" for k, v in res.fractions.items() if v)
    widths = (12, 14, 24, 18, 18)
    rows = [("日期", "无措施 PM2.5", "有措施 PM2.5（5%–95%）", "AQI 中位数", "P(AQI>200)")]
    for r in res.days.itertuples(index=False):
        rows.append((f"{r.date:%Y-%m-%d}", f"{r.pm25_without:.0f}",
                     f"{r.pm25_with_p50:.0f}（{r.pm25_with_p05:.0f}–{r.pm25_with_p95:.0f}）",
                     f"{r.aqi_median_without:.0f}→{r.aqi_median_with:.0f}",
                     f"{100 * r.p_aqi_gt_200_without:.0f}%→{100 * r.p_aqi_gt_200_with:.0f}%"))
    lines = [head, f"减排比例：{cut or '无'}（PM2.5 单位 {CONCENTRATION.text}）"]
    lines += ["".join(_pad(c, w) for c, w in zip(row, widths)).rstrip() for row in rows]
    lines.append(f"避免重污染天数（各日 AQI>200 概率降幅之和）：{res.heavy_days_avoided:.2f} 天；"
                 f"AQI 中位数由重污染降至非重污染：{res.heavy_days_avoided_median} 天。")
    if res.unverified:
        lines.append("注意：参数未经本地验证（" + "、".join(res.unverified) + "）。")
    return "\n".join(lines)
