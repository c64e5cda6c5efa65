"""``airwarn rank``: the composite-index ranking of the counties for a month or the year to date.

::

    airwarn rank --obs FILE ... --period YYYY-MM [--ytd] [--stations FILE] --out DIR

writes ``DIR/ranking.csv`` (``county,composite_index,rank,change_rate`` and each pollutant's term),
``DIR/ranking_tracking.json`` and the Chinese report ``DIR/ranking_report.html``
(:mod:`forecast.ranking_report`). The observations, files or folders, are recognised by name:

* CNEMC station hourly files (``station_<code>_….csv[.gz]``, :func:`forecast.io.read_cnemc_station_hourly`)
  and national archive files (``china_sites_YYYYMMDD.csv``, :func:`forecast.io.read_china_sites`): hourly →
  station days (GB 3095-2026 validity), mapped to counties by the station list's ``区县`` / ``county``
  column (``--stations``);
* UCI Beijing multi-site files (``PRSA_Data_*``): the stations mapped to their districts
  (:data:`forecast.io.county_daily.UCI_BEIJING_DISTRICTS`);
* anything else: station daily CSV ``county,station,date,pm25,pm10,so2,no2,co,o3_8h``
  (:func:`forecast.io.county_daily.read_county_daily`).

Heavy modules are imported inside the handler, so ``airwarn --help`` stays fast.
"""
from __future__ import annotations

import argparse
import re
from pathlib import Path

#: A CNEMC single-station hourly file by name (``station_1410A_haikou_….csv.gz``).
_STATION_FILE = re.compile(r"^station_\d{4}A", re.IGNORECASE)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``airwarn rank`` to the ``airwarn`` parser."""
    p = subparsers.add_parser(
        "rank", help="composite-index ranking of the counties for a month or the year to date, with targets",
        description="Rank the counties by the ambient air-quality composite index (sum of C_i/S_i over SO2, NO2, "
        "PM10, PM2.5 means, the O3 8 h 90th and the CO 95th percentile), with the change rate against the same "
        "period last year and the tracking of the annual targets; writes ranking.csv, ranking_tracking.json and "
        "the Chinese report ranking_report.html into DIR.")
    p.add_argument("--obs", nargs="+", required=True, metavar="FILE",
                   help="station daily CSV (county,station,date,pm25,pm10,so2,no2,co,o3_8h), CNEMC station hourly "
                   "or national archive files (with --stations), or UCI Beijing PRSA files; files or folders")
    p.add_argument("--period", required=True, metavar="YYYY-MM", help="the month ranked")
    p.add_argument("--ytd", action="store_true", help="rank January to the month (year to date) instead")
    p.add_argument("--stations", metavar="FILE",
                   help="CNEMC station list with a 区县/county column: maps the CNEMC stations to counties")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (files written atomically)")
    p.add_argument("--standard", default="GB3095-2012",
                   help="limit set of forecast/data/composite_index_limits.csv (default GB3095-2012)")
    p.add_argument("--allow-unverified", action="store_true",
                   help="allow a limit set whose use in the index is unverified (the GB3095-2026 sets)")
    p.add_argument("--weighted", action="store_true",
                   help="weight PM2.5 x3, NO2 x2, O3 x2 (unverified ranking weights; off by default)")
    p.add_argument("--city", help="the city whose targets are tracked (default: the settings' city; "
                   "北京 for UCI files)")
    p.add_argument("--targets", metavar="FILE", help="targets CSV area,indicator,target[,of_total,source] "
                   "(default: the bundled 阳泉 targets when the city is 阳泉)")
    p.add_argument("--dust-dates", metavar="DATES", default="",
                   help="comma-separated sand-dust dates YYYY-MM-DD (PM10 and PM2.5 of those days left out)")
    p.set_defaults(func=_handler)


def read_station_days(paths, stations: str | None = None):
    """Station daily values with their county from the files ``paths`` (module notes).

    Returns
    -------
    tuple
        ``(frame, kind)``: the frame of :func:`forecast.io.county_daily.read_county_daily`'s columns and the
        kind of input (``daily``, ``cnemc``, ``uci``).
    """
    import pandas as pd

    from airwarn.core.errors import InputError
    from forecast.io import (expand_paths, is_china_sites, is_prsa, read_china_sites, read_cnemc_station_hourly,
                             read_prsa_multisite, read_station_list)
    from forecast.io.county_daily import UCI_BEIJING_DISTRICTS, read_county_daily
    from forecast.ranking import station_daily_from_hourly

    files = expand_paths(paths)
    uci = [f for f in files if is_prsa(f)]
    sites = [f for f in files if is_china_sites(f)]
    hourly = [f for f in files if _STATION_FILE.match(f.name)]
    daily = [f for f in files if f not in uci and f not in sites and f not in hourly]
    frames, kinds = [], []
    if daily:
        frames.append(read_county_daily(daily))
        kinds.append("daily")
    if sites or hourly:
        if stations is None:
            raise InputError(f"CNEMC files ({(sites or hourly)[0].name} …) need the station list (--stations) with "
                             f"a 区县/county column to map stations to counties")
        table = read_station_list(stations)
        counties = table["county"] if "county" in table.columns else [None] * len(table)
        county_of = {c: k for c, k in zip(table["code"].astype(str), counties) if isinstance(k, str) and k}
        if not county_of:
            raise InputError(f"{stations}: the station list has no county (区县/county column empty or absent); "
                             f"the ranking needs each station's county")
        parts = []
        if sites:
            parts.append(read_china_sites(sites))
        for f in hourly:
            parts.append(read_cnemc_station_hourly(f))
        frames.append(station_daily_from_hourly(pd.concat(parts, ignore_index=True), county_of, hour_label="end"))
        kinds.append("cnemc")
    if uci:
        frames.append(station_daily_from_hourly(read_prsa_multisite(uci), UCI_BEIJING_DISTRICTS, hour_label="start"))
        kinds.append("uci")
    out = pd.concat(frames, ignore_index=True)
    if "synthetic" not in out.columns:
        out["synthetic"] = False
    out["synthetic"] = out["synthetic"].fillna(False).astype(bool)
    out["dust"] = out["dust"].fillna(False).astype(bool)
    return out, "+".join(kinds)


def _handler(args: argparse.Namespace, settings) -> int:
    from forecast.ranking_report import build_ranking_product, write_ranking_product

    days, kind = read_station_days(args.obs, args.stations)
    city = args.city or ("北京" if kind == "uci" else settings.city)
    dust = [d.strip() for d in args.dust_dates.split(",") if d.strip()] or None
    names = [Path(p).name for p in args.obs]
    product = build_ranking_product(days, args.period, ytd=args.ytd, standard=args.standard,
                                    allow_unverified=args.allow_unverified, weighted=args.weighted, city=city,
                                    targets=args.targets, dust_dates=dust,
                                    source=", ".join(names[:3]) + (" …" if len(names) > 3 else ""))
    paths = write_ranking_product(product, args.out)
    t = product.table
    print(f"ranking {product.period} ({product.kind}, {product.standard}{', SYNTHETIC' if product.synthetic else ''}): "
          f"{int((t['rank'] > 0).sum())} counties ranked")
    for _, r in t.iterrows():
        rate = "" if r["change_rate"] != r["change_rate"] else f"  change {r['change_rate']:+.1f}%"
        print(f"  {r['rank']:>3}  {r['county']}  {r['composite_index']:.2f}{rate}")
    for e in product.tracking.get("targets", []):
        if e.get("reference") or e["indicator"] == "rank_max":
            continue
        extra = f", rest of year must average {e['required_rest_mean']:.1f}" if e.get("required_rest_mean") is not None else ""
        prob = "" if e.get("probability") is None else f", P(meet) {e['probability']:.2f}"
        observed = e.get("observed")
        print(f"  target {e['area']} {e['indicator']} <= {e['target']:g}: observed "
              f"{float('nan') if observed is None else observed:.1f}"
              f"{extra}{prob}")
    print(f"→ {paths['csv']}, {paths['tracking'].name}, {paths['report'].name}")
    return 0
