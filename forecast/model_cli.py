"""``airwarn train``, ``airwarn forecast`` and ``airwarn backtest`` (the pinned forecast CLI).

::

    airwarn train --obs FILE [--obs FILE ...] [--met FILE ...] [--until YYYY-MM-DD] --out models/NAME
    airwarn forecast --model models/NAME --obs FILE ... --issued YYYY-MM-DD [--cities 阳泉,太原] --out OUT.nc
    airwarn backtest --model models/NAME --obs FILE ... --start YYYY-MM-DD --end YYYY-MM-DD
                     [--cities ...] [--scheduler ADDRESS] --out DIR
    airwarn weather-study --data ../shared/data/beijing_multisite_uci --out DIR   (forecast.weather_study)
    airwarn weather-add --model BASE --obs FILE ... --met FILE ... --cities 阳泉[,太原] [--until D]
                        [--stations F] --out DIR   (forecast.weather_addon)

``--obs`` takes city daily files (aqistudy layout, :func:`forecast.io.read_city_daily`), CNEMC
national archive files (``china_sites_YYYYMMDD.csv``: station hours → city days, with the station
list of ``--stations``) or UCI Beijing multi-site files (``PRSA_Data_*.csv*``: hourly, aggregated
to daily per station, each station a "city"; the AQI from the AQI engine), through
:func:`forecast.io.read_observations`. ``--met`` takes UCI multi-site files (station
meteorology) or gridded NWP netCDF (read through :func:`forecast.nwp.open_nwp`, interpolated to
the cities' coordinates, daily means).
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
import warnings
from pathlib import Path
from airwarn.core.errors import InputError

_OBS_HELP = ("observations: city daily CSV (aqistudy layout), CNEMC china_sites_*.csv or UCI PRSA_Data_* "
             "files, or folders of them; several after one --obs or --obs repeated, concatenated in time")
_MET_HELP = ("meteorology: UCI PRSA_Data_* files, NWP netCDF, GRIB2 runs or a tidy city/station CSV "
             "(city,date[,issued],t2m,…); several after one --met or --met repeated")
_STATIONS_HELP = ("CNEMC station list: maps the stations of china_sites_*.csv files in --obs to cities "
                  "(default: ../shared/data/stations/… when present)")
#: Where the station list is looked for when ``--stations`` is not given (shared data beside the repo).
_DEFAULT_STATIONS = Path("stations") / "cnemc_station_list_NewSiteList.csv"


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def _cities(text: str) -> list[str]:
    return [c.strip() for c in text.replace("，", ",").split(",") if c.strip()]


def load_met(paths, cities=None, coords=None) -> "pd.DataFrame":  # noqa: F821
    """Daily meteorology per city from UCI multi-site files, NWP netCDF grids, or the formats of
    :func:`forecast.met.read_met` (GRIB2 runs, tidy station/city CSV).

    UCI station meteorology keeps one series per station (``city`` = station name) and adds the
    station mean as ``北京``; a netCDF grid is interpolated to ``coords`` (``city, lon, lat``); other
    files go to :func:`forecast.met.read_met` (a forecast run keeps its ``issued`` column; rows of
    observations beside runs have it empty, :func:`forecast.features.met_features`). The
    frame's ``attrs["sources"]`` names the files (the model card records them) and
    ``attrs["synthetic"]`` (bool) whether some file is synthetic weather (:func:`forecast.met.read_met`;
    UCI files and netCDF grids carry no such mark and count as not synthetic).
    """
    from forecast import features as F
    from forecast import io
    from forecast.product import concat_met

    try:
        paths = io.expand_paths(paths)
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"--met: {exc}") from None
    frames = []
    prsa = [p for p in paths if io.is_prsa(p)]
    grids = [p for p in paths if p not in prsa and str(p).endswith((".nc", ".nc4", ".netcdf"))]
    others = [p for p in paths if p not in prsa and p not in grids]
    if prsa:
        from forecast.weather_model import prsa_met

        frames.append(prsa_met(prsa))
    if grids:
        if coords is None or not len(coords):
            raise InputError("--met: a gridded NWP file needs city coordinates (--stations)")
        from forecast.nwp import interp_to_points, open_nwp

        ds = open_nwp([str(p) for p in grids])
        if "time" not in ds.dims:
            raise InputError(f"--met {grids[0]}: the grid has no time axis (dims {dict(ds.sizes)}); "
                             "a forecast predictor needs daily or hourly times")
        c = coords.dropna(subset=["lon", "lat"])
        pts = interp_to_points(ds, c["lon"].to_numpy(), c["lat"].to_numpy(), names=list(c["city"]),
                               compute=True)
        df = pts.to_dataframe().reset_index().rename(columns={"point": "city"})
        frames.append(F.met_daily(df))
    if others:
        try:
            from forecast.met import read_met
        except ImportError:  # pragma: no cover - the readers' module ships with airwarn
            raise InputError(f"--met {others[0]}: no reader for this meteorology format in this installation "
                             f"(UCI PRSA_Data_* files and netCDF grids are read here)") from None
        frames.append(read_met([str(p) for p in others], coords=coords, cities=cities))
    out = concat_met(frames)
    out.attrs["sources"] = [str(p) for p in paths]  # every file given, in order (a UCI frame names none)
    return out


def met_for_model(args, model) -> "pd.DataFrame | None":  # noqa: F821
    """The ``--met`` meteorology for a trained model, checked against its card.

    A model trained without weather ignores ``--met`` (said on stderr); one trained with weather and
    given no ``--met`` forecasts with its weather predictors missing, as for a city without weather (said
    too).

    Raises
    ------
    InputError
        If the files lack a weather variable the model was trained with (named, with the files).
    """
    if not model.with_met_:
        if args.met:
            _print_warnings([f"model {model.name} was trained without weather: --met "
                             f"{', '.join(map(str, args.met))} ignored"])
        return None
    if not args.met:
        _print_warnings([f"model {model.name} was trained with weather ({', '.join(model.met_variables_)}) and no "
                         f"--met was given: every city is forecast without weather"])
        return None
    return model.check_met(load_met(args.met, None, model.coords_))


def station_list_path(stations: str | os.PathLike | None = None) -> Path | None:
    """``stations`` (``--stations``), else the shared station list if it is there (None if not).

    Raises
    ------
    FileNotFoundError
        If ``stations`` names a missing file.
    """
    if stations:
        path = Path(stations)
        if not path.exists():
            raise FileNotFoundError(f"--stations: no such file {path}")
        return path
    shared = os.environ.get("AIRWARN_SHARED_DATA")
    repo = Path(__file__).resolve().parent.parent
    candidates = [Path(shared) / _DEFAULT_STATIONS] if shared else []
    candidates += [repo.parent / "shared" / "data" / _DEFAULT_STATIONS]
    return next((p for p in candidates if p.exists()), None)


def station_coordinates(stations: str | os.PathLike | None, cities):
    """City coordinates (``city, lon, lat``) from the station list of :func:`station_list_path`, or None."""
    from forecast import io

    path = station_list_path(stations)
    if path is None:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=io.ReaderWarning)
        c = io.city_coordinates(path, cities)
    return c[["city", "lon", "lat"]]


def _print_warnings(notes) -> None:
    for note in notes:
        print(f"warning: {note}", file=sys.stderr, flush=True)


def read_obs(args) -> "pd.DataFrame":  # noqa: F821
    """The observations of ``--obs`` (:func:`forecast.io.read_observations`), their data-quality
    warnings (values set to missing, rows replaced: file, row, column, value) printed on stderr,
    one ``warning:`` line per file; :func:`forecast.io.qc_notes` gives them again for the product."""
    from forecast.io import ReaderWarning, read_observations

    stations = station_list_path(args.stations)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ReaderWarning)
        try:
            obs = read_observations(args.obs, stations=stations)
        except FileNotFoundError as exc:
            raise FileNotFoundError(f"--obs: {exc}") from None
        except InputError as exc:  # national archive files without a station list
            raise InputError(f"--obs: {exc}{': pass --stations' if stations is None else ''}") from None
    _print_warnings([str(w.message) for w in caught if issubclass(w.category, ReaderWarning)])
    for w in caught:
        if not issubclass(w.category, ReaderWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return obs


def train_model(args):
    """The forecast part of ``airwarn train``: read, fit, save; returns ``(model, observations)``.

    The command itself (:mod:`emergency.skill_cli`) then calibrates the warning decision on the
    model's validation scenarios.
    """
    from forecast.model import ForecastModel

    t0 = time.perf_counter()
    obs = read_obs(args)
    cities = sorted(obs["city"].unique())
    coords = station_coordinates(args.stations, cities)
    met = load_met(args.met, cities, coords) if args.met else None
    out = Path(args.out)
    model = ForecastModel(name=out.name, max_rows=args.max_rows, validation=args.validation,
                          folds=args.folds, seed=args.seed)
    if args.n_estimators:
        model.params["n_estimators"] = args.n_estimators
    model.fit(obs, met=met, coords=coords, until=args.until, log=lambda m: print(f"  {m}", flush=True))
    if met is not None:
        w = model.met_summary_
        print(f"  weather: {len(w['variables'])} variables of {', '.join(w['sources'])} for "
              f"{len(w['cities'])} cities; residual models: {', '.join(model.residual_cities_) or 'none'}")
    model.save(out)
    size = sum(f.stat().st_size for f in out.iterdir() if f.is_file()) / 1e6
    print(f"trained {out.name}: {len(model.cities_)} cities, {model.train_span_[0]} → {model.train_span_[1]}, "
          f"{len(model.pollutants_)} pollutants, {size:.1f} MB, {time.perf_counter() - t0:.0f} s → {out}")
    return model, obs


def _forecast(args, settings) -> int:
    import numpy as np
    import pandas as pd

    from forecast.inputs import (MAX_OBSERVATION_GAP_DAYS, cities_text, input_warnings, last_observed,
                                 too_old)
    from forecast.io import qc_notes
    from forecast.model import load_model
    from forecast.product import forecast_frame, write_forecast

    model = load_model(args.model)
    obs = read_obs(args)
    met = met_for_model(args, model)
    issued = pd.Timestamp(args.issued)
    # cities whose data end too long before the issue day are named and left out, before predicting
    wanted = args.cities or sorted(obs.loc[obs["date"] <= issued, "city"].unique())
    old = too_old(last_observed(obs, wanted, [issued], model.variables_).values[:, 0], issued)
    if old.any():
        message = (f"observations ({', '.join(map(str, args.obs))}) hold no day of "
                   f"{cities_text(np.asarray(wanted)[old])} within {MAX_OBSERVATION_GAP_DAYS} days before "
                   f"{args.issued}")
        if old.all():
            raise InputError(f"{message}: a forecast from them would not reach the coming days; pass "
                             f"observations up to the issue day")
        _print_warnings([f"{message}: not forecast"])
    ds = model.predict(obs, issued=args.issued, cities=list(np.asarray(wanted)[~old]), met=met)
    notes = input_warnings(obs, forecast_frame(ds), model.variables_, model.cities_)
    _print_warnings(notes)
    # the product's data-quality section: the observations set aside (file, row, value) and the inputs' gaps
    quality = qc_notes(obs, ds["city"].values.tolist()) + notes
    ds.attrs["data_quality"] = "\n".join(quality) if quality else "none"
    nc, csv = write_forecast(ds, args.out)
    print(f"forecast issued {args.issued} for {ds.sizes['city']} cities × {ds.sizes['lead_day']} days → {nc} "
          f"(+ {csv.name})")
    return 0


def run_backtest(args) -> dict:
    """The forecast part of ``airwarn backtest``: forecasts, scores and their files.

    Returns a dict with ``model``, ``dataset`` (the backtest's forecast Dataset, scenario members
    included), ``observations`` and ``paths`` (the files written); the command itself
    (:mod:`emergency.skill_cli`) then replays and verifies the warning decision on the Dataset.
    """
    from forecast import verify
    from forecast.backtest import (backtest_dataset, backtest_frame, check_period, city_tables,
                                   reference_climatology, score_frame, scored_frame, write_backtest)
    from forecast.inputs import cities_text, input_warnings
    from forecast.model import N_MEMBERS, load_model

    t0 = time.perf_counter()
    model = load_model(args.model)
    check_period(model, args.start, args.end)
    obs = read_obs(args)
    # the scorecard's climatology reference, checked before the long run and kept for its scoring
    model.climatology_ = reference_climatology(model, obs, args.cities or sorted(obs["city"].unique()))
    met = met_for_model(args, model)
    # as many scenario members as the warning decision was calibrated on
    ds = backtest_dataset(model, obs, args.start, args.end, cities=args.cities, met=met, scheduler=args.scheduler,
                          n_members=N_MEMBERS)
    forecasts = backtest_frame(ds)
    _print_warnings(input_warnings(obs, forecasts, model.variables_, model.cities_))
    unscored = sorted(set(forecasts["city"]) - set(model.climatology_["city"]))
    if unscored:
        _print_warnings([f"{cities_text(unscored)}: not scored (no climatology of the model's training period "
                         f"for them)"])
    frame = scored_frame(model, forecasts, obs)  # once, for every table below
    scores, rel = score_frame(frame)
    intervals = verify.skill_intervals(frame)
    by_city = city_tables(frame) if args.by_city else None
    paths = write_backtest(args.out, forecasts, scores, rel, intervals, by_city)
    if args.record_in:
        from forecast.backtest import record_backtest

        record_backtest(args.record_in, model, paths, args)
        print(f"recorded the scores in {args.record_in} (backtest_scores.csv, card.json 'backtest')")
    s = scores[(scores["metric"] == "rmse")].pivot(index="lead_day", columns="model", values="value")
    print(f"backtest {args.start} → {args.end}: {forecasts['city'].nunique()} cities, {len(forecasts):,} "
          f"forecast rows ({time.perf_counter() - t0:.0f} s) → {paths['forecasts'].parent}")
    print("RMSE by lead:\n" + s.round(1).to_string())
    ts = intervals[(intervals["metric"] == "ts_200") & (intervals["reference"] == "persistence")]
    if len(ts):
        print("TS(AQI > 200) minus persistence's, with its 95 % block-bootstrap interval (skill_intervals.csv):")
        for r in ts.itertuples():
            print(f"  D+{r.lead_day}: {r.advantage:+.3f} [{r.advantage_lo:+.3f}, {r.advantage_hi:+.3f}]")
    return {"model": model, "dataset": ds, "observations": obs, "paths": paths}


def add_train_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``airwarn train`` (registered by :mod:`emergency.skill_cli`)."""
    p.add_argument("--obs", action="extend", nargs="+", required=True, metavar="FILE", help=_OBS_HELP)
    p.add_argument("--met", action="extend", nargs="+", default=[], metavar="FILE", help=_MET_HELP)
    p.add_argument("--until", type=_date, help="last day used for training (default: the last day of --obs)")
    p.add_argument("--stations", metavar="FILE",
                   help="CNEMC station list: city coordinates, and the cities of china_sites_*.csv stations "
                        "(default: ../shared/data/stations/… when present)")
    p.add_argument("--max-rows", type=int, default=150_000,
                   help="rows per booster, i.e. per pollutant and lead group (seeded sample)")
    p.add_argument("--n-estimators", type=int, default=None, help="trees of the location booster")
    p.add_argument("--validation", choices=("last", "blocked"), default="last",
                   help="held-out forecasts that fit the calibration: the last 122 days of the training "
                        "period, or blocks cross-fitted over all of it (default: %(default)s)")
    p.add_argument("--folds", type=int, default=4, help="blocks of --validation blocked (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, metavar="models/NAME", help="model folder to write")


def add_backtest_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``airwarn backtest`` (registered by :mod:`emergency.skill_cli`)."""
    p.add_argument("--model", required=True, metavar="models/NAME")
    p.add_argument("--obs", action="extend", nargs="+", required=True, metavar="FILE", help=_OBS_HELP)
    p.add_argument("--met", action="extend", nargs="+", default=[], metavar="FILE", help=_MET_HELP)
    p.add_argument("--start", type=_date, required=True, help="first issue day")
    p.add_argument("--end", type=_date, required=True, help="last issue day")
    p.add_argument("--cities", type=_cities, help="comma-separated cities (default: all)")
    p.add_argument("--scheduler", help="dask scheduler: threads (default), processes, synchronous, or the "
                                       "address of a running dask.distributed scheduler (tcp://host:8786, host:8786)")
    p.add_argument("--stations", metavar="FILE", help=_STATIONS_HELP)
    p.add_argument("--by-city", action="store_true",
                   help="also score each city alone (scores_by_city.csv, skill_intervals_by_city.csv, "
                        "event_scores_by_city.csv)")
    p.add_argument("--record-in", metavar="MODEL_DIR",
                   help="also copy scores.csv to MODEL_DIR/backtest_scores.csv and describe the backtest "
                        "(model, period, cities) in MODEL_DIR/card.json (out-of-sample scorecard of that model)")
    p.add_argument("--out", required=True, metavar="DIR")


def add_weather_study_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``airwarn weather-study`` (:mod:`forecast.weather_study`)."""
    p.add_argument("--data", required=True, metavar="DIR", help="the UCI Beijing multi-site folder (PRSA_Data_*)")
    p.add_argument("--out", required=True, metavar="DIR", help="models (reused when present), scenario files, tables")
    p.add_argument("--draws", type=int, default=2, help="draws of the degraded weather (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="seed of the first draw")
    p.add_argument("--n-estimators", type=int, default=None,
                   help="trees of the boosters, the learning rate scaled to match (default: the model's)")


def add_weather_add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``airwarn weather-add`` (:func:`forecast.weather_addon.add_city_weather`)."""
    p.add_argument("--model", required=True, metavar="BASE", help="model folder trained without weather")
    p.add_argument("--obs", action="extend", nargs="+", required=True, metavar="FILE",
                   help=_OBS_HELP + " (the cities' history and their neighbours)")
    p.add_argument("--met", action="extend", nargs="+", required=True, metavar="FILE",
                   help=_MET_HELP + " (about a year of each city's weather)")
    p.add_argument("--cities", type=_cities, required=True, help="comma-separated cities to correct (阳泉,太原)")
    p.add_argument("--until", type=_date, help="last valid day used (default: the last day of --obs)")
    p.add_argument("--stations", metavar="FILE", help=_STATIONS_HELP + "; also the cities' coordinates for "
                   "gridded --met (default: the base model's)")
    p.add_argument("--out", required=True, metavar="DIR", help="model folder to write (not the base's)")


def _weather_add(args, settings) -> int:
    """``airwarn weather-add``: the base model plus residual boosters of ``--cities`` on their weather."""
    from forecast.model import load_model
    from forecast.weather_addon import add_city_weather, copy_base_files

    t0 = time.perf_counter()
    out = Path(args.out)
    if out.resolve() == Path(args.model).resolve():
        raise InputError(f"--out {out}: is the base model's folder; write the add-on to a folder of its own")
    base = load_model(args.model)
    obs = read_obs(args)
    coords = station_coordinates(args.stations, sorted(obs["city"].unique())) if args.stations else base.coords_
    met = load_met(args.met, args.cities, coords)
    model = add_city_weather(base, obs, met, args.cities, until=args.until, name=out.name,
                             log=lambda m: print(f"  {m}", flush=True))
    model.save(out)
    copied = copy_base_files(args.model, out)
    w = model.met_summary_
    days = ", ".join(f"{c} {w['cities'][c]} days" for c in model.residuals_.cities)
    print(f"  weather: {len(w['variables'])} variables of {', '.join(w['sources'])} ({days}, up to "
          f"{w['residual_fit']['until']}); left out: {', '.join(w['variables_left_out']) or 'none'}")
    print(f"  copied from {args.model}: {', '.join(p.name for p in copied) or 'nothing'} (they describe the base "
          f"model {base.name})")
    print(f"weather add-on {out.name}: {w['kind']}, {len(model.residuals_.boosters)} residual boosters "
          f"({time.perf_counter() - t0:.0f} s) → {out}")
    return 0


def _weather_study(args, settings) -> int:
    from forecast.weather_study import command

    return command(args, settings)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``forecast``, ``weather-study`` and ``weather-add`` (``train`` and ``backtest`` are registered by
    :mod:`emergency.skill_cli`, which adds the warning decision's calibration and event verification to them)."""
    p = subparsers.add_parser("forecast", help="issue a 1-10 day probabilistic AQI forecast")
    p.add_argument("--model", required=True, metavar="models/NAME")
    p.add_argument("--obs", action="extend", nargs="+", required=True, metavar="FILE", help=_OBS_HELP)
    p.add_argument("--met", action="extend", nargs="+", default=[], metavar="FILE", help=_MET_HELP)
    p.add_argument("--issued", type=_date, required=True, help="issue day YYYY-MM-DD (lead 1 = the next day)")
    p.add_argument("--stations", metavar="FILE", help=_STATIONS_HELP)
    p.add_argument("--cities", type=_cities, help="comma-separated cities (default: all)")
    p.add_argument("--out", required=True, metavar="OUT.nc", help="netCDF to write (OUT.csv beside it)")
    p.set_defaults(func=_forecast)

    p = subparsers.add_parser("weather-add", help="add per-city residual boosters on the weather to a model trained "
                                                  "without weather (a city's own weather history)")
    add_weather_add_arguments(p)
    p.set_defaults(func=_weather_add)

    p = subparsers.add_parser("weather-study", help="three-curve evaluation of the weather-driven forecast on the "
                                                    "UCI Beijing data (persisted / degraded / perfect weather)")
    add_weather_study_arguments(p)
    p.set_defaults(func=_weather_study)
