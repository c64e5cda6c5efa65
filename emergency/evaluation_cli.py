"""``airwarn evaluate``: the weather-normalised post-episode evaluation of warnings (总结评估).

::

    airwarn evaluate --warning ID [--obs FILE ...] [--met FILE ...] [--compliance FILE ...] [--out DIR]
    airwarn evaluate --obs PRSA... --period 2015-12-07:2015-12-10 --period 2015-12-19:2015-12-22 \\
        --level red --city 北京 [--issued 2015-12-07 --issued 2015-12-18] --out DIR

With ``--warning`` the episode is a warning of the database (its area, level, period and issue day);
the BAU model leaves out every warning of that area in the database and any ``--exclude-period``;
observations default to the settings' ``observations``; compliance reductions default to the
``compliance_reductions.csv`` of the warning days' product folders. Without it (history with no
database record) the episodes are ``--period`` (repeated) at ``--level`` for ``--city``. UCI PRSA
files given to ``--obs`` are averaged over their stations and give the station weather too (no
``--met`` needed); other layouts need ``--met``. ``--exclude-file`` adds a table of known warning
and control periods (``beijing-2013-2015`` is bundled). ``--cut`` / ``--cut-fractions`` give the
measures' cut fractions for the benefit model's prediction beside the estimate. Writes per episode
``DIR/evaluation_<start>_<level>.html`` (the Chinese report), ``.json``, ``_days.csv``,
``_placebo.csv``, and prints one line per episode. Heavy imports inside the handler.
"""
from __future__ import annotations

import argparse
import datetime as dt
import time
from emergency.cli_common import open_engine

#: The β keys of the benefit model (``emergency.benefit.BETA_KEYS``), for ``--cut``.
_BETA_KEYS = ("ppm", "nox", "so2", "nh3", "voc")


def _period(text: str) -> tuple[dt.date, dt.date]:
    try:
        a, b = text.replace("..", ":").split(":")
        a, b = dt.date.fromisoformat(a.strip()), dt.date.fromisoformat(b.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a period START:END (YYYY-MM-DD:YYYY-MM-DD), got {text!r}") \
            from None
    if b < a:
        raise argparse.ArgumentTypeError(f"period {text!r} ends before it starts")
    return a, b


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def _fractions(text: str) -> dict[str, float]:
    out = {}
    for part in text.replace("，", ",").split(","):
        if not part.strip():
            continue
        try:
            key, value = part.split("=")
            out[key.strip()] = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected KEY=FRACTION,… with keys {list(_BETA_KEYS)}, got {text!r}") \
                from None
    return out


def _inputs(obs_paths, met_paths, city: str, stations=None):
    """(daily, met, synthetic) of ``city``: PRSA files read once for both, other layouts through the readers."""
    import pandas as pd

    from airwarn.core.errors import InputError
    from emergency.evaluation import prsa_city_inputs
    from forecast.io.observations import expand_paths, is_prsa

    obs_files = expand_paths(obs_paths)
    met_files = expand_paths(met_paths) if met_paths else []
    synthetic = any("synthetic" in p.name for p in obs_files)
    if all(is_prsa(p) for p in obs_files) and (not met_files or set(met_files) == set(obs_files)):
        daily, met = prsa_city_inputs(obs_files, city)
        return daily, met, synthetic
    from forecast.io import read_observations
    from forecast.model_cli import load_met

    obs = read_observations(obs_files, stations=stations)
    if "synthetic" in obs.columns and obs["synthetic"].astype(bool).any():
        synthetic = True
    daily = obs[obs["city"].astype(str) == city]
    if daily.empty:
        held = sorted(obs["city"].astype(str).unique())[:10]
        raise InputError(f"--obs: no rows of city {city!r}; the files hold {held}")
    if not met_files:
        raise InputError("--met: the BAU model needs the city's daily weather; give --met (UCI PRSA files or NWP "
                         "netCDF), or UCI PRSA files as --obs")
    met = load_met(met_files)
    met = met[met["city"].astype(str) == city]
    if met.empty:
        raise InputError(f"--met: no weather of city {city!r}")
    return daily.drop(columns=[c for c in ("synthetic",) if c in daily.columns]), pd.DataFrame(met), synthetic


def _excluded(args, city: str) -> list[tuple[dt.date, dt.date]]:
    from emergency.evaluation import load_control_periods

    periods = list(args.exclude_period or [])
    for f in args.exclude_file or []:
        t = load_control_periods(f, city=city)
        periods += list(zip(t["start"], t["end"]))
    return periods


def _compliance_files(paths):
    import pandas as pd

    frames = [pd.read_csv(p) for p in paths]
    return pd.concat(frames, ignore_index=True) if frames else None


def _from_warning(args, settings):
    """(episodes, exclusions, compliance, rules, city) of a database warning."""
    from airwarn.core.dates import to_beijing
    from airwarn.core.errors import InputError
    from airwarn.core.products import COMPLIANCE_REDUCTIONS_CSV, product_path
    from emergency import lifecycle as lc
    from emergency.evaluation import Episode

    eng = open_engine(settings)
    w = lc.get_warning(eng, args.warning)
    if w.start is None or w.end is None:
        raise InputError(f"warning {w.id}: it has no period (start {w.start}, end {w.end}); nothing to evaluate")
    if w.status not in ("issued", "lifted"):
        raise InputError(f"warning {w.id}: expected an issued or lifted warning, got status {w.status!r}")
    issued = to_beijing(w.issued_at).date() if w.issued_at else None
    city = args.city or w.area
    ep = Episode(w.start, w.end, w.level.key, city, warning_id=w.id, issued=issued)
    others = [(x.start, x.end) for x in lc.history(eng, area=w.area, limit=10_000)
              if x.id != w.id and x.status in ("issued", "lifted") and x.start and x.end]
    paths = list(args.compliance or [])
    if not paths:
        day = w.start
        while day <= w.end:
            p = product_path(settings.output_dir, day, COMPLIANCE_REDUCTIONS_CSV)
            if p.exists():
                paths.append(p)
            day += dt.timedelta(days=1)
    rules = w.rules_version.split("@")[0] if w.rules_version else settings.rules
    return [ep], others, paths, rules, city, _list_fractions(eng, w)


def _list_fractions(eng, w) -> "dict[str, float] | None":
    """The cut fractions of the warning's level on the list in force on its start day over the inventory
    totals (:func:`emergency.benefit.list_fractions`), for the benefit model's prediction; None when the
    list or the inventory is missing (the report then says the prediction is not available)."""
    from airwarn.core.db import session_scope
    from airwarn.core.errors import InputError, UnknownNameError
    from emergency.benefit import list_fractions, load_benefit_parameters
    from emergency.reductions import compute_reductions
    from enterprise_list.models import list_in_force

    try:
        with session_scope(eng) as s:
            version = list_in_force(s, w.start)
            return list_fractions(compute_reductions(s, w.level, version=version.id), load_benefit_parameters())
    except (InputError, UnknownNameError):
        return None


def _evaluate(args, settings) -> int:
    from airwarn.core.errors import InputError
    from emergency.evaluation import Episode, StagnationRule, evaluate_episodes
    from airwarn.core.products import evaluations_dir
    from emergency.evaluation_report import write_evaluation

    t0 = time.perf_counter()
    if args.warning is not None:
        if args.period:
            raise InputError("evaluate: give --warning or --period, not both")
        episodes, db_periods, comp_paths, rules, city, list_cuts = _from_warning(args, settings)
        obs_paths = args.obs or list(settings.observations)
    else:
        if not args.period:
            raise InputError("evaluate: give --warning ID, or --period START:END (with --obs) for history without a "
                             "warning record")
        if not args.obs:
            raise InputError("evaluate --period: give --obs (the observations, e.g. the UCI PRSA files)")
        city = args.city or settings.city
        issued = list(args.issued or [])
        if issued and len(issued) != len(args.period):
            raise InputError(f"evaluate: --issued given {len(issued)} times for {len(args.period)} --period; give one "
                             f"per period, in the same order, or none")
        episodes = [Episode(a, b, args.level, city, issued=issued[k] if issued else None)
                    for k, (a, b) in enumerate(args.period)]
        db_periods, comp_paths, obs_paths, list_cuts = [], list(args.compliance or []), args.obs, None
        rules = args.rules or settings.rules
    daily, met, synthetic = _inputs(obs_paths, args.met, city, stations=args.stations)
    cuts = list_cuts  # a database warning: its level's cuts on the list in force (given --cut overrides them)
    if args.cut is not None or args.cut_fractions:
        cuts = {k: float(args.cut) for k in _BETA_KEYS} if args.cut is not None else {}
        cuts.update(args.cut_fractions or {})
    rule = StagnationRule(max_wind=args.max_wind, min_rh=args.min_rh, max_rain=args.max_rain)
    evals = evaluate_episodes(daily, met, episodes, db_periods + _excluded(args, city), train_start=args.train_start,
                              train_end=args.train_end, rule=rule, months=args.placebo_months,
                              rules=args.rules or rules,
                              compliance=_compliance_files(comp_paths), cut_fractions=cuts,
                              synthetic=synthetic or args.synthetic, seed=args.seed)
    out = args.out or evaluations_dir(settings.output_dir)
    for ev in evals:
        files = write_evaluation(ev, out)
        pm = ev.pm25
        e = ev.episode
        print(f"{e.city} {e.level} {e.start}…{e.end}: PM2.5 {pm.relative:+.1f}% "
              f"(BAU band {pm.relative_low:+.1f}…{pm.relative_high:+.1f}%), placebo percentile {pm.percentile:.0f} "
              f"of {pm.placebo_n} windows → {pm.verdict}; bias-adjusted {pm.adjusted_relative:+.1f}% "
              f"({pm.adjusted_low:+.1f}…{pm.adjusted_high:+.1f}%)"
              + (f"; benefit model {ev.benefit['pm25_relative']:+.1f}%" if ev.benefit else ""))
        print("  wrote " + ", ".join(str(f) for f in files))
    print(f"evaluated {len(evals)} episode(s) in {time.perf_counter() - t0:.1f} s")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``evaluate`` to the ``airwarn`` parser."""
    p = subparsers.add_parser("evaluate", help="weather-normalised post-episode evaluation of warnings (总结评估): "
                              "effect against a BAU model with a placebo test, Chinese report per episode")
    p.add_argument("--warning", type=int, help="id of a warning in the database")
    p.add_argument("--obs", action="extend", nargs="+", metavar="FILE",
                   help="observations (any layout airwarn reads; UCI PRSA files are averaged over stations and "
                        "give the weather too); default with --warning: the settings' observations")
    p.add_argument("--met", action="extend", nargs="+", default=[], metavar="FILE",
                   help="meteorology: UCI PRSA files or NWP netCDF (not needed when --obs are UCI PRSA files)")
    p.add_argument("--stations", metavar="FILE", help="CNEMC station list, for national archive files in --obs")
    p.add_argument("--period", action="append", type=_period, metavar="START:END",
                   help="a warning period without a database record (repeat for several)")
    p.add_argument("--level", choices=["yellow", "orange", "red"], default="red", help="level of the --period "
                   "warnings (default red)")
    p.add_argument("--city", help="city name of the report (default: the warning's area, or the settings' city)")
    p.add_argument("--issued", action="append", type=_date, metavar="YYYY-MM-DD",
                   help="issue day of each --period warning, in order, for the timeliness (else not available)")
    p.add_argument("--exclude-period", action="append", type=_period, metavar="START:END",
                   help="another warning or control period to leave out of BAU training (repeat)")
    p.add_argument("--exclude-file", action="append", metavar="FILE|NAME",
                   help="a CSV of periods (start,end[,city,kind,level,source]) or a bundled table "
                        "(beijing-2013-2015) to leave out of BAU training")
    p.add_argument("--train-start", type=_date, help="first BAU training day (default: 3 years before the end)")
    p.add_argument("--train-end", type=_date, help="last BAU training day (default: the day before the first episode)")
    p.add_argument("--compliance", action="append", metavar="FILE",
                   help="compliance_reductions.csv of the warning days (default with --warning: the product folders')")
    p.add_argument("--cut", type=float, metavar="FRACTION",
                   help="one cut fraction of every pollutant, for the benefit model's prediction (e.g. 0.36)")
    p.add_argument("--cut-fractions", type=_fractions, metavar="KEY=F,…",
                   help=f"cut fractions per pollutant for the benefit model (keys {', '.join(_BETA_KEYS)})")
    p.add_argument("--rules", help="warning rule set for the observed episodes of the timeliness "
                                   "(default: the warning's, or the settings')")
    p.add_argument("--max-wind", type=float, default=1.5, help="stagnant day: daily mean wind at most this [m/s]")
    p.add_argument("--min-rh", type=float, default=50.0, help="stagnant day: relative humidity at least this [%%]")
    p.add_argument("--max-rain", type=float, default=1.0, help="stagnant day: rain below this [mm/day]")
    p.add_argument("--placebo-months", type=lambda t: tuple(int(m) for m in t.replace("，", ",").split(",")),
                   metavar="M,M,…", help="months of the placebo windows (default: the episode's half-year, Oct-Mar or "
                                          "Apr-Sep)")
    p.add_argument("--synthetic", action="store_true", help="mark the reports as made from synthetic data")
    p.add_argument("--seed", type=int, default=0, help="seed of the boosters and the benefit draws")
    p.add_argument("--out", metavar="DIR", help="folder of the reports (default: <output_dir>/evaluations, where "
                   "the 指挥 page finds them)")
    p.set_defaults(func=_evaluate)
