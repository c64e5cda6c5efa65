"""The three-curve evaluation of the weather-driven forecast (``../shared/docs/verification.md`` §4).

On the UCI Beijing multi-site data (12 stations, each a "city"), one model is trained with the observed
station weather up to :data:`TRAIN_UNTIL` (perfect-prog training: NWP-driven systems train on analyses)
and one without weather. On the test issue days :data:`TEST_START` → :data:`TEST_END` the model with
weather is scored with three weather inputs, the model without weather beside them:

* **persisted** (lower bound): the issue day's observed weather for every valid day of the run;
* **degraded** (best estimate): the valid day's observed weather plus errors that grow with lead, are
  autocorrelated in time and shared by all the stations (:func:`degraded_weather`, sizes in
  :data:`ERROR_SD` and :func:`error_growth`);
* **perfect** (upper bound): the valid day's observed weather.

Persisted and degraded are forecast runs (``issued`` column): the model's valid-day weather then comes
from the run of the issue day only (:func:`forecast.features.met_features`), and the issue day's own
weather (lead 0) is observed. Scores per lead (:func:`forecast.verify.score_table`): RMSE, CRPS, TS and
BSS of AQI > 200, level accuracy. The warning-event scores live in the warning layer
(:mod:`emergency.events`), which this module may not import: ``airwarn backtest --met`` on the
scenario files this study writes (``met_<scenario>.csv``) gives them.

Run (the command is registered by :mod:`forecast.model_cli`)::

    airwarn weather-study --data ../shared/data/beijing_multisite_uci --out /tmp/weather-study
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from airwarn.core.errors import InputError
from airwarn.core.files import atomic_write_text

#: Last training day and the test issue days (issue 16).
TRAIN_UNTIL = "2015-01-31"
TEST_START = "2015-02-01"
TEST_END = "2016-01-31"
#: Leads of a forecast run (0 = the issue day, observed).
RUN_LEADS = tuple(range(0, 11))

#: Error standard deviation at D+1 per weather variable of ``load_met`` (UCI names), shared by the
#: region. Temperature 2.6 °C: short-range 2 m temperature RMSE 2.6–3.5 °C at ~2,100 Chinese stations
#: (GFS/ECMWF/T639, 2016–17; Niu et al., 气象与环境学报 2020 36(4):18), the lower end. Dew point 3.5 °C
#: and wind speed 2.5 m/s: typical GFS station errors (verification.md §4). ``u``, ``v``: 2.5/√2 m/s each
#: (a vector error of 2.5 m/s). Pressure 1.5 hPa and rain (1 on log1p(mm)): our assumptions (not in §4).
#: These are errors of hourly station values, applied here to daily means: pessimistic.
ERROR_SD: dict[str, float] = {"temp": 2.6, "dewp": 3.5, "wspm": 2.5, "u": 2.5 / np.sqrt(2), "v": 2.5 / np.sqrt(2),
                              "pres": 1.5, "rain": 1.0}
#: Growth of the error SD with lead: 1.0 at D+1, 1.08 at D+2, 1.15 at D+3 (near the analysis-time
#: floor, verification.md §4), then linear to :data:`GROWTH_AT_10` at D+10 (our choice: t2m 2.6 → 4.7 °C).
GROWTH_AT_10 = 1.8
#: Pressure errors grow faster (synoptic): to this factor at D+10 (our assumption: 1.5 → 6 hPa).
PRESSURE_GROWTH_AT_10 = 4.0
#: Lag-1-day autocorrelation of the errors along the valid days of one run (AR(1)).
AR1_PHI = 0.6
#: Correlation of consecutive runs' errors for the same valid day (run-to-run consistency).
RUN_TO_RUN_RHO = 0.5


def error_growth(lead, at_10: float = GROWTH_AT_10) -> np.ndarray:
    """Factor of the D+1 error SD at each lead (0 at lead 0: the issue day's weather is observed)."""
    lead = np.asarray(lead, dtype=float)
    early = np.interp(lead, [0, 1, 2, 3], [0.0, 1.0, 1.08, 1.15])
    late = 1.15 + (at_10 - 1.15) * (lead - 3) / 7
    return np.where(lead <= 3, early, late)


def error_sd(variable: str, lead) -> np.ndarray:
    """The error SD of ``variable`` at ``lead`` (:data:`ERROR_SD` × :func:`error_growth`)."""
    at_10 = PRESSURE_GROWTH_AT_10 if variable == "pres" else GROWTH_AT_10
    return ERROR_SD[variable] * error_growth(lead, at_10)


def standard_errors(n_runs: int, n_leads: int, rng: np.random.Generator, phi: float = AR1_PHI,
                    rho: float = RUN_TO_RUN_RHO) -> np.ndarray:
    """Unit-variance error series ``x[run, lead]`` (leads 1…n_leads): AR(1) with ``phi`` along the valid
    days of a run, and correlated ``rho`` with the previous run's error of the same valid day.

    ``x[d, L] = rho·x[d-1, L+1] + √(1-rho²)·w[d, L]``, ``w[d, ·]`` an AR(1) series of unit variance; at the
    run's last lead (no previous-run value) ``x = w``.
    """
    w = np.empty((n_runs, n_leads))
    w[:, 0] = rng.standard_normal(n_runs)
    for j in range(1, n_leads):
        w[:, j] = phi * w[:, j - 1] + np.sqrt(1 - phi ** 2) * rng.standard_normal(n_runs)
    x = w.copy()
    for d in range(1, n_runs):
        x[d, :-1] = rho * x[d - 1, 1:] + np.sqrt(1 - rho ** 2) * w[d, :-1]
    return x


def _runs(observed: pd.DataFrame, issued: pd.DatetimeIndex, value_day) -> pd.DataFrame:
    """Rows (city, issued, date, lead) of runs on ``issued`` with the observed weather of ``value_day(issued,
    date)`` (the valid day, or the issue day for persistence)."""
    cities = observed["city"].astype(str).unique()
    grid = pd.MultiIndex.from_product([cities, issued, RUN_LEADS], names=["city", "issued", "lead"]).to_frame(index=False)
    grid["date"] = grid["issued"] + pd.to_timedelta(grid["lead"], unit="D")
    table = observed.assign(city=observed["city"].astype(str),
                            date=pd.to_datetime(observed["date"]).dt.normalize()).set_index(["city", "date"])
    variables = [c for c in observed.columns if c not in ("city", "date") and pd.api.types.is_numeric_dtype(observed[c])]
    key = pd.MultiIndex.from_arrays([grid["city"], value_day(grid["issued"], grid["date"])])
    values = table[variables].reindex(key).to_numpy(float)
    return pd.concat([grid, pd.DataFrame(values, columns=variables)], axis=1)


def persisted_weather(observed: pd.DataFrame, issued) -> pd.DataFrame:
    """Runs (``city, issued, date`` + variables) carrying the issue day's observed weather to every
    valid day: curve (a)."""
    issued = pd.DatetimeIndex(pd.to_datetime(issued)).normalize()
    return _runs(observed, issued, lambda d0, d: d0).drop(columns="lead")


def degraded_weather(observed: pd.DataFrame, issued, seed: int = 0) -> pd.DataFrame:
    """Runs (``city, issued, date`` + variables) of the valid day's observed weather plus errors: curve (b).

    One error series per variable for all cities (regionally shared), :func:`standard_errors` ×
    :func:`error_sd` by lead; lead 0 (the issue day) is the observation. Wind speed and rain stay
    ≥ 0 (rain perturbed on ``log1p`` and capped at the wettest observed day), the dew point ≤ the
    temperature, ``rh`` recomputed from them.

    Parameters
    ----------
    observed : DataFrame
        Daily observed weather (``city, date`` + :data:`ERROR_SD` variables; others pass unchanged).
    issued : sequence of dates
        Issue days, consecutive (the errors are autocorrelated from run to run).
    seed : int
        Seed of the errors.
    """
    from forecast.features import relative_humidity

    issued = pd.DatetimeIndex(pd.to_datetime(issued)).normalize()
    runs = _runs(observed, issued, lambda d0, d: d)
    rng = np.random.default_rng(seed)
    run_index = issued.get_indexer(pd.DatetimeIndex(runs["issued"]))
    lead = runs["lead"].to_numpy()
    n_leads = max(RUN_LEADS)
    for v in ERROR_SD:  # every variable draws its series, present or not: the same seed, the same errors
        x = standard_errors(len(issued), n_leads, rng)
        if v not in runs.columns:
            continue
        e = np.where(lead > 0, x[run_index, np.maximum(lead, 1) - 1], 0.0) * error_sd(v, lead)
        if v == "rain":  # never wetter than the wettest observed day of the record (a log error's tail
            # on a rainy day would otherwise reach thousands of mm, which the readers then set aside)
            wettest = float(np.nanmax(observed[v].to_numpy(float))) if observed[v].notna().any() else 0.0
            runs[v] = np.clip(np.expm1(np.log1p(runs[v].clip(lower=0)) + e), 0.0, wettest)
        elif v == "wspm":
            runs[v] = np.maximum(runs[v] + e, 0.1)
        else:
            runs[v] = runs[v] + e
    if "temp" in runs and "dewp" in runs:
        runs["dewp"] = np.minimum(runs["dewp"], runs["temp"])
        if "rh" in runs:
            runs["rh"] = relative_humidity(runs["temp"], runs["dewp"])
    return runs.drop(columns="lead")


def scenario_csv(frame: pd.DataFrame) -> str:
    """A scenario's runs as a tidy meteorology CSV (``city,issued,date`` + the names of
    :mod:`forecast.io.met_csv`: t2m, d2m, psfc, precip, ws10, u10, v10, rh), which ``airwarn backtest
    --met`` reads back (the model finds its UCI names under these, :data:`forecast.features.MET_SYNONYMS`)."""
    from forecast.features import MET_SYNONYMS

    out = frame.rename(columns=MET_SYNONYMS).assign(issued=frame["issued"].dt.strftime("%Y-%m-%d"),
                                                     date=frame["date"].dt.strftime("%Y-%m-%d"))
    return out.to_csv(index=False, float_format="%.6g")


def _train(obs, met, coords, out: Path, with_met: bool, n_estimators, log) -> "ForecastModel":  # noqa: F821
    from forecast.model import ForecastModel, load_model

    if (out / "card.json").exists():
        model = load_model(out)
        if model.train_span_[1] == TRAIN_UNTIL and model.with_met_ == with_met:
            log(f"reusing {out}")
            return model
    model = ForecastModel(name=out.name)
    if n_estimators:
        model.params.update(reduced_params(n_estimators))
    t0 = time.perf_counter()
    model.fit(obs, met=met if with_met else None, coords=coords, until=TRAIN_UNTIL)
    model.save(out)
    log(f"trained {out.name} in {time.perf_counter() - t0:.0f} s")
    return model


def reduced_params(n_estimators: int) -> dict:
    """Smaller boosters for a quicker study: ``n_estimators`` trees of the location booster, as many (at
    most the default) of the scale booster, the learning rate raised to keep trees × rate of the defaults
    (at most 0.3)."""
    from forecast.estimator import DEFAULT_PARAMS

    rate = DEFAULT_PARAMS["learning_rate"] * DEFAULT_PARAMS["n_estimators"] / n_estimators
    return dict(n_estimators=n_estimators, learning_rate=min(round(rate, 4), 0.3),
                scale_n_estimators=min(n_estimators, DEFAULT_PARAMS["scale_n_estimators"]))


#: Scores of the table: (metric of :func:`forecast.verify.score_table`, column heading).
SCORES = (("rmse", "RMSE"), ("crps", "CRPS"), ("ts_200", "TS200"), ("bss_200", "BSS200"), ("level_acc", "level acc"))


def run_study(data, out, *, draws: int = 2, seed: int = 0, n_estimators: int | None = None, log=print) -> pd.DataFrame:
    """Train (or reuse) the two models in ``out``, score the four curves, write ``scores.csv`` (long:
    ``curve, draw, lead_day, metric, value``), ``table.md`` and the scenario files; returns the long table.

    Parameters
    ----------
    data : path
        The UCI multi-site folder (``PRSA_Data_*.csv.gz``).
    out : path
        Folder of the models, scenarios and tables.
    draws : int
        Seeded draws of the degraded weather (the table shows their mean).
    seed : int
        Seed of the first draw (draw k: ``seed + k``).
    n_estimators : int, optional
        Trees of the boosters (default: the model's; :func:`reduced_params`).
    """
    from forecast.backtest import backtest_dataset, backtest_frame, score_frame, scored_frame
    from forecast.io import expand_paths, read_observations
    from forecast.weather_model import prsa_met

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    t_all = time.perf_counter()
    obs = read_observations([str(data)])
    files = [p for p in expand_paths([str(data)]) if "PRSA_Data_" in Path(p).name]
    if not files:
        raise InputError(f"{data}: no UCI PRSA_Data_* files (the study needs their observed station weather)")
    met = prsa_met(files)
    models = {w: _train(obs, met, None, out / f"model-{'met' if w else 'nomet'}", w, n_estimators, log)
              for w in (False, True)}
    issued = pd.date_range(TEST_START, TEST_END, freq="D")
    curves = {"perfect": [met], "persisted": [persisted_weather(met, issued)],
              "degraded": [degraded_weather(met, issued, seed=seed + k) for k in range(draws)]}
    rows = []

    def score(curve, k, model, frame):
        t0 = time.perf_counter()
        ds = backtest_dataset(model, obs, TEST_START, TEST_END, met=frame)
        scores, _ = score_frame(scored_frame(model, backtest_frame(ds), obs))
        s = scores[scores["model"] == "airwarn"]
        s = s[s["metric"].isin([m for m, _ in SCORES])]
        rows.append(s.assign(curve=curve, draw=k)[["curve", "draw", "lead_day", "metric", "value"]])
        log(f"{curve} (draw {k}): scored in {time.perf_counter() - t0:.0f} s")

    score("no weather", 0, models[False], None)
    for curve, frames in curves.items():
        for k, frame in enumerate(frames):
            if curve != "perfect":
                name = f"met_{curve}.csv" if curve == "persisted" else f"met_{curve}_{k}.csv"
                atomic_write_text(out / name, scenario_csv(frame))
            score(curve, k, models[True], frame)
    long = pd.concat(rows, ignore_index=True)
    atomic_write_text(out / "scores.csv", long.to_csv(index=False, float_format="%.6g"))
    table = study_table(long)
    atomic_write_text(out / "table.md", table)
    log(table)
    log(f"whole study: {time.perf_counter() - t_all:.0f} s → {out}")
    return long


CURVES = ("no weather", "persisted", "degraded", "perfect")


def study_table(long: pd.DataFrame) -> str:
    """The Markdown table (per lead, each score for the four curves; degraded: mean over draws) and the
    check that degraded beats no weather in RMSE and TS200 at every lead."""
    mean = long.groupby(["curve", "lead_day", "metric"])["value"].mean().unstack(["metric", "curve"])
    head = ["lead"]
    for m, name in SCORES:
        head += [f"{name} {c}" for c in CURVES]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for lead, r in mean.iterrows():
        cells = [str(int(lead))]
        for m, _ in SCORES:
            fmt = "{:.1f}" if m in ("rmse", "crps") else "{:.3f}"
            cells += [fmt.format(r.get((m, c), np.nan)) for c in CURVES]
        lines.append("| " + " | ".join(cells) + " |")
    rmse_ok = (mean[("rmse", "degraded")] < mean[("rmse", "no weather")])
    ts_ok = (mean[("ts_200", "degraded")] > mean[("ts_200", "no weather")])
    lines.append("")
    lines.append(f"degraded better than no weather: RMSE at {int(rmse_ok.sum())}/{len(rmse_ok)} leads "
                 f"(not at {[int(x) for x in rmse_ok.index[~rmse_ok]]}), TS200 at {int(ts_ok.sum())}/{len(ts_ok)} "
                 f"leads (not at {[int(x) for x in ts_ok.index[~ts_ok]]})")
    return "\n".join(lines) + "\n"


def command(args, settings=None) -> int:
    """``airwarn weather-study``."""
    run_study(args.data, args.out, draws=args.draws, seed=args.seed, n_estimators=args.n_estimators,
              log=lambda m: print(m, flush=True))
    return 0
