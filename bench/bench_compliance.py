"""Benchmark of the compliance check (issue 17): 2,000 lines × 17 days of 15-min power data in < 10 s.

Run: ``.venv/bin/python bench/bench_compliance.py`` (options ``--lines N`` (2,000), ``--days N`` (17:
14 baseline days and 3 warning days), ``--treatment SHARE`` (0.2 of the lines with a treatment meter),
``--repeat N`` (3)).

Synthetic, seeded data: every line has a daily cycle with 1 % noise; 80 % stop or limit as told (a
switch-off at a random time in the first 24 h), 10 % ignore the order, 5 % ignore it and have a day of gaps, 5 % no
data. It prints the rows of power data, the time of :func:`emergency.compliance.assess_compliance`
(best of ``--repeat``, single-threaded, switch-off detection with ``ruptures`` included) and the
statuses found.
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from emergency.compliance import assess_compliance  # noqa: E402


def make_data(n_lines: int, n_days: int, treatment: float, seed: int = 17):
    """Power frame and obligations: ``n_days`` of 15-min data, the warning starting on day 15 08:00."""
    rng = np.random.default_rng(seed)
    day0 = pd.Timestamp("2026-01-01")
    n_base = 14
    start = day0 + pd.Timedelta(days=n_base, hours=8)
    t = pd.date_range(day0, periods=n_days * 96, freq="15min")
    T = len(t)
    hour = (t.hour.to_numpy() + t.minute.to_numpy() / 60)
    level = rng.uniform(200, 5000, n_lines)
    kw = level[:, None] * (1 + 0.1 * np.sin(hour / 24 * 2 * np.pi))[None, :]
    kw *= 1 + rng.normal(0, 0.01, (n_lines, T))
    kind = np.where(rng.random(n_lines) < 0.5, "stop", "limit")
    req = np.where(kind == "stop", 1.0, rng.choice([0.2, 0.3, 0.5], n_lines))
    fate = rng.random(n_lines)
    switch = start + pd.to_timedelta(rng.uniform(0, 24, n_lines), unit="h")
    after = t.to_numpy()[None, :] >= switch.to_numpy()[:, None]
    obey = fate < 0.8
    factor = np.where(kind == "stop", 0.03, 1 - req - 0.05)
    kw = np.where(after & obey[:, None], kw * factor[:, None], kw)
    keep = np.ones((n_lines, T), dtype=bool)
    gaps = (fate >= 0.9) & (fate < 0.95)
    keep[gaps, (n_base + 2) * 96:(n_base + 3) * 96] = False
    keep[fate >= 0.95] = False
    li, ti = np.nonzero(keep)
    codes = np.array([f"91140300MA{i:08d}" for i in range(n_lines)])
    lines = np.array([f"L{i:04d}" for i in range(n_lines)])
    power = pd.DataFrame({"credit_code": codes[li], "line_id": lines[li], "meter_kind": "production",
                          "time": t.to_numpy()[ti], "kw": kw[li, ti]})
    tr = np.flatnonzero((rng.random(n_lines) < treatment) & (fate < 0.95))
    if len(tr):
        tl = np.repeat(tr, T)
        tt = np.tile(np.arange(T), len(tr))
        power = pd.concat([power, pd.DataFrame({"credit_code": codes[tl], "line_id": lines[tl],
                                                "meter_kind": "treatment", "time": t.to_numpy()[tt],
                                                "kw": 0.2 * kw[tl, tt]})], ignore_index=True)
    power["meter_kind"] = pd.Categorical(power["meter_kind"], categories=["production", "treatment", "total"])
    obl = pd.DataFrame({"credit_code": codes, "line_id": lines, "enterprise": "企业", "county": "城区",
                        "industry": "焦化", "level": "orange", "kind": kind, "required_cut": req,
                        "execution_hours": np.nan, "measure": np.where(kind == "stop", "停产", "限产")})
    end = (day0 + pd.Timedelta(days=n_days)).to_pydatetime()
    return power, obl, start.to_pydatetime(), end


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=2000)
    ap.add_argument("--days", type=int, default=17)
    ap.add_argument("--treatment", type=float, default=0.2)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    power, obl, start, end = make_data(a.lines, a.days, a.treatment)
    print(f"data: {len(power):,} power rows, {a.lines} lines, {a.days} days of 15-min samples "
          f"(made in {time.perf_counter() - t0:.1f} s)")
    best = np.inf
    for _ in range(a.repeat):
        t1 = time.perf_counter()
        res = assess_compliance(power, obl, start, end)
        best = min(best, time.perf_counter() - t1)
    print(f"assess_compliance: {best:.2f} s (best of {a.repeat}; target < 10 s) for {len(res.lines):,} line-days")
    print("statuses:", res.counts())
    return 0 if best < 10 else 1


if __name__ == "__main__":
    raise SystemExit(main())
