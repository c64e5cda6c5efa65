"""``airwarn compliance check`` and ``airwarn compliance sample``: were a warning's measures carried out?

::

    airwarn compliance check --warning ID --power FILE [FILE ...] [--cems FILE ...] [--date D] --out DIR
    airwarn compliance sample --warning ID --out DIR [--seed N]

``check`` judges every obligated line of the warning (:func:`emergency.compliance_run.write_compliance`,
the step the daily chain runs too) and writes ``DIR/compliance.csv`` (``date,credit_code,enterprise,
line_id,level,measure,required_cut,baseline_kw,observed_kw,achieved_cut,status,evidence``, violators first) and the Chinese daily report
``DIR/compliance_report.html`` (:mod:`emergency.compliance_report`), and prints the counts.
``sample`` writes seeded synthetic power-use and CEMS files for the warning's lines
(``DIR/power_synthetic.csv``, ``DIR/cems_synthetic.csv``, every row marked ``synthetic=true``): most
lines comply, some ignore their order, one limited line's treatment meter stops, some have gaps or no
data. The work is imported inside the handlers, so ``airwarn --help`` stays fast.
"""
from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from emergency.cli_common import open_engine, parse_day


def _check(args, settings) -> int:
    from emergency.compliance_io import read_cems, read_power
    from emergency.compliance_run import write_compliance

    engine = open_engine(settings)
    day = parse_day(args.date)
    power = read_power(args.power)
    cems = read_cems(args.cems) if args.cems else None
    run = write_compliance(engine, args.warning, power, cems, day, args.out, rules=args.rules,
                           settings_rules=settings.rules)
    print(run.summary())
    print("wrote " + ", ".join(map(str, run.files)))
    return 0


def _sample(args, settings) -> int:
    from airwarn.core.db import session_scope
    from emergency.compliance import warning_obligations, warning_start_instant
    from emergency.lifecycle import get_warning

    engine = open_engine(settings)
    w = get_warning(engine, args.warning)
    with session_scope(engine) as s:
        obl = warning_obligations(s, w.level, w.start)
    start = warning_start_instant(w)
    end_day = w.end or (start.date() + dt.timedelta(days=2))
    power, cems = sample_data(obl, start, end_day, seed=args.seed if args.seed is not None else args.warning)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    power.to_csv(out / "power_synthetic.csv", index=False)
    cems.to_csv(out / "cems_synthetic.csv", index=False)
    print(f"wrote {out / 'power_synthetic.csv'} ({len(power)} rows, {len(obl)} lines) and "
          f"{out / 'cems_synthetic.csv'} ({len(cems)} rows): SYNTHETIC data for the demo")
    return 0


def sample_data(obligations, start: dt.datetime, end_day: dt.date, seed: int = 0):
    """Seeded synthetic power (15-min) and CEMS (hourly) frames for the obligated lines.

    From 14 days before the start day to the end of ``end_day``. Of the lines: 70 % carry out their
    measure at a random time in the first 12 h, 10 % ignore it, 5 % have a day of gaps, 5 % no data;
    10 % comply on production but their treatment meter stops. Every line also has a CEMS outlet
    (hourly) following its power. Rows carry ``synthetic=true``.
    """
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    day0 = pd.Timestamp(start.date()) - pd.Timedelta(days=14)
    t = pd.date_range(day0, pd.Timestamp(end_day) + pd.Timedelta(days=1), freq="15min", inclusive="left")
    hour = t.hour.to_numpy() + t.minute.to_numpy() / 60
    cycle = 1 + 0.1 * np.sin(hour / 24 * 2 * np.pi)
    power, cems = [], []
    for i, r in enumerate(obligations.itertuples()):
        fate = rng.random()
        if fate >= 0.95:
            continue
        level = rng.uniform(300, 3000)
        kw = level * cycle * (1 + rng.normal(0, 0.02, len(t)))
        switch = pd.Timestamp(start) + pd.Timedelta(hours=float(rng.uniform(0, 12)))
        after = np.asarray(t >= switch)
        factor = 0.03 if r.kind == "stop" else max(1 - r.required_cut - 0.05, 0.0)
        if fate < 0.8 or fate >= 0.9:
            kw = np.where(after, kw * factor, kw)
        keep = np.ones(len(t), dtype=bool)
        if 0.9 <= fate < 0.95:
            gap_day = pd.Timestamp(start.date()) + pd.Timedelta(days=1)
            keep &= ~np.asarray((t >= gap_day) & (t < gap_day + pd.Timedelta(days=1)))
        power.append(pd.DataFrame({"credit_code": r.credit_code, "line_id": r.line_id, "time": t[keep],
                                   "kw": kw[keep].round(2), "meter_kind": "production"}))
        if 0.7 <= fate < 0.8 and r.kind == "limit":
            tr = 0.2 * level * cycle * (1 + rng.normal(0, 0.02, len(t)))
            tr = np.where(after, tr * 0.02, tr)
            power.append(pd.DataFrame({"credit_code": r.credit_code, "line_id": r.line_id, "time": t,
                                       "kw": tr.round(2), "meter_kind": "treatment"}))
        hourly = pd.Series(kw, index=t).resample("h").mean()
        flow = (hourly.to_numpy() / level) * 1e5
        cems.append(pd.DataFrame({"credit_code": r.credit_code, "outlet_id": f"DA{i + 1:03d}",
                                  "time": hourly.index, "so2_mg_m3": rng.uniform(20, 35, len(hourly)).round(1),
                                  "nox_mg_m3": rng.uniform(50, 100, len(hourly)).round(1),
                                  "pm_mg_m3": rng.uniform(3, 8, len(hourly)).round(1),
                                  "flow_m3_h": flow.round(0), "line_id": r.line_id}))
    cols_p = ["credit_code", "line_id", "time", "kw", "meter_kind"]
    cols_c = ["credit_code", "outlet_id", "time", "so2_mg_m3", "nox_mg_m3", "pm_mg_m3", "flow_m3_h", "line_id"]
    p = pd.concat(power, ignore_index=True) if power else pd.DataFrame(columns=cols_p)
    c = pd.concat(cems, ignore_index=True) if cems else pd.DataFrame(columns=cols_c)
    for df in (p, c):
        df["time"] = pd.to_datetime(df["time"]).dt.strftime("%Y-%m-%d %H:%M")
        df["synthetic"] = "true"
    return p, c


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``compliance check`` and ``compliance sample``."""
    p = subparsers.add_parser("compliance", help="were a warning's measures carried out (power use, CEMS)")
    sub = p.add_subparsers(dest="compliance_command", metavar="ACTION", required=True)
    c = sub.add_parser("check", help="judge every obligated line of a warning; write compliance.csv and the "
                                     "Chinese daily report")
    c.add_argument("--warning", type=int, required=True, help="warning id")
    c.add_argument("--power", nargs="+", required=True, metavar="FILE",
                   help="power-use CSV/xlsx: credit_code,line_id,time,kw[,meter_kind]")
    c.add_argument("--cems", nargs="+", metavar="FILE",
                   help="CEMS CSV/xlsx: credit_code,outlet_id,time,so2_mg_m3,nox_mg_m3,pm_mg_m3,flow_m3_h[,line_id]")
    c.add_argument("--date", help="only this day (YYYY-MM-DD, Beijing time); default every judged day")
    c.add_argument("--rules", help="compliance rules YAML (default: the bundled compliance_rules.yaml)")
    c.add_argument("--out", required=True, help="output folder")
    c.set_defaults(func=_check)
    s = sub.add_parser("sample", help="write seeded SYNTHETIC power-use and CEMS files for a warning's lines")
    s.add_argument("--warning", type=int, required=True, help="warning id")
    s.add_argument("--seed", type=int, help="random seed (default: the warning id)")
    s.add_argument("--out", required=True, help="output folder")
    s.set_defaults(func=_sample)
