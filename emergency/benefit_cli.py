"""``airwarn benefit``: what a warning level's measures buy in PM2.5 and heavy days, with bands.

::

    airwarn benefit --level yellow|orange|red [--forecast F] [--list-version V] [--date D] [--city C]
                    [--inventory NAME] [--parameters FILE] [--draws N] [--seed S] [--json]

Defaults, as ``airwarn reductions`` takes them: the forecast product of the day (``--date``, else today,
Beijing time: ``<output_dir>/<day>/forecast.nc``) for the settings' city, the list version in force on
that day, the latest emission inventory and the rule set of the settings (the level's cuts,
:func:`emergency.reductions.compute_reductions`), the bundled parameters
(``emergency/data/benefit_parameters.yaml``). ``--json`` prints :meth:`emergency.benefit.BenefitResult.to_json`:
an object with ``days`` (per day ``date, pm25_without, pm25_with_p05, pm25_with_p50, pm25_with_p95,
p_aqi_gt_200_without, p_aqi_gt_200_with`` and more) and ``heavy_days_avoided``; without it a short
Chinese table. The work is imported inside the handler, so ``airwarn --help`` stays fast.
"""
from __future__ import annotations

import argparse
import datetime as dt
from emergency.cli_common import open_engine, parse_day


def _benefit(args, settings) -> int:
    from airwarn.core.dates import today_beijing
    from airwarn.core.errors import InputError
    from airwarn.core.products import FORECAST_NC, product_path
    from emergency.benefit import estimate_benefit, format_benefit
    from emergency.reductions import compute_reductions

    day = parse_day(args.date)
    if args.draws < 1:
        raise InputError(f"--draws: expected a whole number >= 1, got {args.draws}")
    forecast = args.forecast
    if forecast is None:
        path = product_path(settings.output_dir, day or today_beijing(), FORECAST_NC)
        if not path.exists():
            raise FileNotFoundError(f"no forecast product {path} (run `airwarn daily` or give --forecast)")
        forecast = str(path)
    version = args.list_version if args.list_version is not None else day  # None: in force today
    red = compute_reductions(open_engine(settings), args.level, version=version, inventory=args.inventory,
                             rules=args.rules or settings.rules)
    res = estimate_benefit(forecast, red, args.parameters, n_draws=args.draws, seed=args.seed,
                           city=args.city or settings.city, issued=day)
    print(res.to_json() if args.json else format_benefit(res))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``airwarn benefit`` to the ``airwarn`` parser."""
    p = subparsers.add_parser("benefit", help="PM2.5 and P(AQI>200) with and without a level's measures, with bands")
    p.add_argument("--level", required=True, choices=["yellow", "orange", "red"])
    p.add_argument("--forecast", help="forecast netCDF or CSV (default: the day's forecast product)")
    p.add_argument("--list-version", help="list version name or id (default: the one in force on the day)")
    p.add_argument("--date", help="day YYYY-MM-DD of the forecast product and the list in force (default: today)")
    p.add_argument("--city", help="city in the forecast (default from settings)")
    p.add_argument("--inventory", help="emission inventory name (default: the latest imported)")
    p.add_argument("--rules", help="rule set the targets come from (default from settings)")
    p.add_argument("--parameters", help="benefit parameter YAML (default: the bundled benefit_parameters.yaml)")
    p.add_argument("--draws", type=int, default=10_000, help="Monte Carlo draws (default 10000)")
    p.add_argument("--seed", type=int, default=0, help="seed of the draws (default 0)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_benefit)
