"""Benchmark of the AQI engine: throughput, python-aqi comparison, deviation from the standard, memory.

Run: ``.venv/bin/python bench/bench_aqi.py`` (about 1–2 minutes; needs the ``dev`` extra for python-aqi).
Options: ``--rows N`` (default 10,000,000 station-days), ``--pyaqi N`` (20,000), ``--reference N``
(200,000), ``--repeat N`` (3).

It prints:

1. ``forecast.aqi.daily_aqi`` throughput on synthetic station-days (10,000 stations x 1,000 days from
   2024-06-05, so both standards occur; values as published: integers, CO to 0.1 mg/m³; 1 % missing),
   single-threaded, best of ``--repeat`` after a warm-up, in CPU and wall time; also on unrounded values
   (means with many decimals), which take the general path.
2. python-aqi's ``ALGO_MEP`` (HJ 633-2012 only) on a subsample of the same inputs: its rate, the ratio,
   the rows where the two disagree and why. The causes are attributed by replaying python-aqi's
   deviations one at a time on the exact engine: truncating concentrations to integers, then its gapped
   segments (51–100 for 36–75 …), then half-even rounding instead of rounding up; a row counts under
   every step that changed its AQI. Crashes (values above its tables, O3 8 h > 800) are counted apart.
   An edge set (breakpoints ± 0.1, values above the tables, O3 8 h > 800) is reported separately.
3. Deviation from the standard: the engine vs an independent Fraction/Decimal reference
   (``tests/forecast/test_aqi_reference.py``) on random inputs of every indicator and both versions,
   including decimals, GB/T 8170 halves and breakpoints. Must be 0.
4. Peak memory: extra memory allocated during one ``daily_aqi`` call (tracemalloc; the output columns
   included) and the process's peak resident size.
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import math  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
import warnings  # noqa: E402
from decimal import ROUND_HALF_EVEN, Decimal  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from forecast.aqi import daily_aqi, iaqi  # noqa: E402
from tests.forecast.test_aqi_reference import IAQI_STEPS, TABLES, reference_iaqi  # noqa: E402

POLLUTANTS = ("pm25", "pm10", "so2", "no2", "co", "o3_8h")
IND_2012 = {"pm25": "pm25_24h", "pm10": "pm10_24h", "so2": "so2_24h", "no2": "no2_24h", "co": "co_24h",
            "o3_8h": "o3_8h"}


def station_days(n: int, seed: int = 2026, rounded: bool = True) -> pd.DataFrame:
    """Synthetic station-days: seasonal, correlated, lognormal; as published (rounded) or unrounded."""
    rng = np.random.default_rng(seed)
    ndays = 1000
    nst = max(1, n // ndays)
    n = nst * ndays
    day = np.tile(np.arange(ndays), nst)
    dates = (np.datetime64("2024-06-05") + day).astype("datetime64[ns]")
    doy = (day + 156) % 365
    winter = np.cos(2 * np.pi * doy / 365)
    common = rng.standard_normal(n)
    pm25 = np.exp(3.6 + 0.5 * winter + 0.7 * common + 0.3 * rng.standard_normal(n))
    df = pd.DataFrame({
        "station": np.repeat(np.arange(nst), ndays).astype(np.int32),
        "date": dates,
        "pm25": pm25,
        "pm10": pm25 * np.exp(0.5 + 0.3 * rng.standard_normal(n)),
        "so2": np.exp(2.6 + 0.6 * winter + 0.6 * rng.standard_normal(n)),
        "no2": np.exp(3.4 + 0.2 * winter + 0.35 * common + 0.25 * rng.standard_normal(n)),
        "co": np.exp(0.0 + 0.3 * winter + 0.4 * common + 0.2 * rng.standard_normal(n)),
        "o3_8h": np.exp(4.3 - 0.5 * winter + 0.35 * rng.standard_normal(n)),
    })
    if rounded:
        for p in ("pm25", "pm10", "so2", "no2", "o3_8h"):
            df[p] = np.round(df[p])
        df["co"] = np.round(df["co"], 1)
    for p in POLLUTANTS:
        df.loc[rng.random(n) < 0.01, p] = np.nan
    return df


def timed(fn, repeat: int) -> tuple[float, float]:
    """Best CPU and wall seconds of ``repeat`` calls (after one warm-up)."""
    fn()
    cpu, wall = [], []
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        out = fn()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
        del out
    return min(cpu), min(wall)


# --------------------------------------------------------------------------- python-aqi and its deviations


def _trunc(x: float) -> int:
    return int(Decimal(repr(x)).to_integral_value(rounding="ROUND_DOWN"))


def _gapped(ind: str, c: int) -> Decimal | None:
    """python-aqi's MEP formula on an integer concentration: gapped segments, not rounded."""
    bps = TABLES["HJ633-2012"][ind]
    for j in range(1, len(bps)):
        lo_c = bps[j - 1] + (1 if j > 1 else 0)
        lo_i = IAQI_STEPS[j - 1] + (1 if j > 1 else 0)
        if lo_c <= c <= bps[j]:
            return Decimal(IAQI_STEPS[j] - lo_i) / Decimal(bps[j] - lo_c) * Decimal(c - lo_c) + lo_i
    return None  # in a gap or above the table: python-aqi crashes


def cascade(row: dict) -> dict[str, float]:
    """AQI of a 2012 row under the exact engine and after each of python-aqi's deviations."""
    steps = {"exact": [], "truncation": [], "gapped": [], "half-even": []}
    for p in POLLUTANTS:
        x = row[p]
        if math.isnan(x):
            continue
        ind = IND_2012[p]
        steps["exact"].append(reference_iaqi(ind, x, "HJ633-2012")[0])
        t = _trunc(x)
        steps["truncation"].append(reference_iaqi(ind, t, "HJ633-2012")[0])
        g = _gapped(ind, t)
        steps["gapped"].append(float(math.ceil(g)) if g is not None else math.nan)
        steps["half-even"].append(float(g.quantize(Decimal(1), rounding=ROUND_HALF_EVEN)) if g is not None
                                  else math.nan)
    return {k: (max((v for v in vals if not math.isnan(v)), default=math.nan)) for k, vals in steps.items()}


def compare_python_aqi(frame: pd.DataFrame, title: str) -> float:
    """Print disagreements between python-aqi and the engine on ``frame`` (HJ 633-2012); return seconds/row."""
    import aqi

    from aqi import constants as c

    consts = {"pm25": c.POLLUTANT_PM25, "pm10": c.POLLUTANT_PM10, "so2": c.POLLUTANT_SO2_24H,
              "no2": c.POLLUTANT_NO2_24H, "co": c.POLLUTANT_CO_24H, "o3_8h": c.POLLUTANT_O3_8H}
    records = frame[list(POLLUTANTS)].to_dict("records")
    theirs, crashed = [], 0
    t0 = time.process_time()
    for r in records:
        args = [(consts[p], repr(float(r[p]))) for p in POLLUTANTS if not math.isnan(r[p])]
        try:
            theirs.append(float(aqi.to_aqi(args, algo=aqi.ALGO_MEP)))
        except Exception:  # noqa: BLE001 - python-aqi raises IndexError/TypeError above its tables
            theirs.append(math.nan)
            crashed += 1
    per_row = (time.process_time() - t0) / len(records)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = daily_aqi(frame, "HJ633-2012", above="ignore")["aqi"].to_numpy()
    theirs_arr = np.array(theirs)
    compared = ~np.isnan(theirs_arr)
    differ = np.flatnonzero(compared & (theirs_arr != ours))
    causes: dict[str, int] = {}
    combos: dict[str, int] = {}
    for i in differ:
        c = cascade(records[i])
        assert c["exact"] == ours[i] or (math.isnan(c["exact"]) and math.isnan(ours[i]))
        changed = [step for prev, step in (("exact", "truncation"), ("truncation", "gapped"),
                                           ("gapped", "half-even")) if c[prev] != c[step]]
        if c["half-even"] != theirs_arr[i]:
            changed.append("unexplained")
        for step in changed:
            causes[step] = causes.get(step, 0) + 1
        combos[" + ".join(changed)] = combos.get(" + ".join(changed), 0) + 1
    crash_causes: dict[str, int] = {}
    for i in np.flatnonzero(np.isnan(theirs_arr)):
        over = [p for p in POLLUTANTS if not math.isnan(records[i][p])
                and _trunc(records[i][p]) > TABLES["HJ633-2012"][IND_2012[p]][-1]]
        key = ("O3 8 h > 800 (the >800 rule: HJ 633-2012 scores O3 1 h)" if over == ["o3_8h"]
               else f"above the table: {', '.join(over)}" if over else "other")
        crash_causes[key] = crash_causes.get(key, 0) + 1
    print(f"  {title}: {len(records):,} station-days; python-aqi crashed on {crashed:,} "
          f"(ours: IAQI 500 and a flag above a table, NaN for O3 8 h > 800)")
    for key, count in sorted(crash_causes.items(), key=lambda kv: -kv[1]):
        print(f"      crash, {key:<50} {count:>7,}")
    print(f"    AQI disagrees on {len(differ):,} of {int(compared.sum()):,} compared rows "
          f"({len(differ) / max(1, compared.sum()):.1%}); level differs on "
          f"{int(np.sum(_level(theirs_arr[differ]) != _level(ours[differ]))):,}")
    label = {"truncation": "truncation of concentrations to integers (CO too)",
             "gapped": "gapped segments (36-75 -> 51-100 ...)",
             "half-even": "half-even rounding instead of rounding up",
             "unexplained": "unexplained"}
    for step in ("truncation", "gapped", "half-even", "unexplained"):
        if step in causes or step != "unexplained":
            print(f"    - {label[step]:<48} {causes.get(step, 0):>7,} rows")
    for combo, count in sorted(combos.items(), key=lambda kv: -kv[1])[:5]:
        print(f"      {combo:<56} {count:>7,}")
    return per_row


def _level(a: np.ndarray) -> np.ndarray:
    return np.searchsorted([50, 100, 150, 200, 300], a, side="left")


def edge_set() -> pd.DataFrame:
    """Station-days at breakpoints ± 0.1, above the tables and with O3 8 h > 800 (HJ 633-2012)."""
    rng = np.random.default_rng(7)
    rows = []
    for p in POLLUTANTS:
        bps = TABLES["HJ633-2012"][IND_2012[p]]
        step = 0.01 if p == "co" else 0.1
        for bp in bps[1:]:
            for v in (bp - step, bp, bp + step):
                base = {"pm25": 10.0, "pm10": 20.0, "so2": 5.0, "no2": 10.0, "co": 0.3, "o3_8h": 30.0}
                base[p] = round(v, 2)
                rows.append(base)
        for _ in range(20):
            base = {"pm25": 10.0, "pm10": 20.0, "so2": 5.0, "no2": 10.0, "co": 0.3, "o3_8h": 30.0}
            base[p] = round(bps[-1] * rng.uniform(1.0, 1.5), 1)
            rows.append(base)
    return pd.DataFrame(rows).assign(date=pd.Timestamp("2015-01-01"))


# --------------------------------------------------------------------------- deviation from the standard


def deviation(n: int, seed: int = 1) -> tuple[int, int]:
    """Engine vs the Fraction reference on ``n`` random inputs over every indicator of both versions."""
    rng = np.random.default_rng(seed)
    pairs = [(std, ind) for std, table in TABLES.items() for ind in table]
    per = max(1, n // len(pairs))
    total = bad = 0
    for std, ind in pairs:
        top = TABLES[std][ind][-1]
        kinds = rng.integers(0, 5, per)
        x = rng.uniform(0, top * 1.05, per)
        places = rng.integers(0, 8, per)
        x = np.where(kinds == 0, np.round(x), x)
        x = np.where(kinds == 1, [round(v, int(p)) for v, p in zip(x, places)], x)
        x = np.where(kinds == 2, (2 * np.floor(x * 10) + 1) / 20, x)  # halves of tenths
        bp = np.array(TABLES[std][ind], dtype=float)
        x = np.where(kinds == 3, bp[rng.integers(0, len(bp), per)] + rng.choice([-0.1, 0, 0.1, 0.5, 1e-7], per), x)
        x[rng.random(per) < 0.01] = np.nan
        got, flags = iaqi(ind, x, std, return_flags=True, above="ignore")
        for i, v in enumerate(x):
            ref, over = reference_iaqi(ind, float(v), std)
            if not ((got[i] == ref or (math.isnan(got[i]) and math.isnan(ref))) and flags[i] == over):
                bad += 1
                if bad <= 5:
                    print(f"    DEVIATION {std} {ind} {v!r}: engine {got[i]} reference {ref}")
        total += per
    return total, bad


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--pyaqi", type=int, default=20_000)
    ap.add_argument("--reference", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    started = time.perf_counter()
    print(f"bench_aqi: numpy {np.__version__}, pandas {pd.__version__}, single thread")

    print(f"\n1. daily_aqi throughput on {args.rows:,} synthetic station-days")
    df = station_days(args.rows)
    share = float((df["date"] >= "2026-03-01").mean())
    print(f"   ({share:.0%} of rows on or after 2026-03-01; values as published, 1 % missing)")
    best: dict[str, float] = {}
    for std in ("auto", "HJ633-2012", "HJ633-2026"):
        cpu, wall = timed(lambda s=std: daily_aqi(df, s, above="ignore"), args.repeat)
        best[std] = cpu
        print(f"   {std:<11} {len(df) / cpu / 1e6:6.2f} M station-days/s (CPU {cpu:.2f} s, wall {wall:.2f} s)")
    raw = station_days(args.rows, rounded=False)
    cpu, wall = timed(lambda r=raw: daily_aqi(r, "auto", above="ignore"), max(1, args.repeat - 1))
    print(f"   unrounded  {len(raw) / cpu / 1e6:6.2f} M station-days/s (CPU {cpu:.2f} s, wall {wall:.2f} s; "
          f"general path, auto)")
    del raw

    print(f"\n2. python-aqi {__import__('aqi').__version__} ALGO_MEP vs forecast.aqi (HJ 633-2012)")
    sample = df.sample(args.pyaqi, random_state=3).reset_index(drop=True)
    per_row = compare_python_aqi(sample, "random sample of the same station-days")
    ours_per_row = best["HJ633-2012"] / len(df)
    print(f"    python-aqi: {1 / per_row:,.0f} station-days/s (CPU); forecast.aqi HJ633-2012: "
          f"{1 / ours_per_row / 1e6:.2f} M/s; ratio {per_row / ours_per_row:,.0f}x")
    compare_python_aqi(edge_set(), "edge set")

    print(f"\n3. deviation from the standard (engine vs Fraction reference), {args.reference:,} inputs")
    total, bad = deviation(args.reference)
    print(f"   {bad} deviations in {total:,} inputs (every indicator, both versions; decimals with 0-7 places, "
          f"halves, breakpoints)")

    print("\n4. memory")
    tracemalloc.start()
    out = daily_aqi(df, "auto", above="ignore")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    out_bytes = sum(out[c].memory_usage(index=False, deep=False) for c in out.columns if c not in df.columns)
    print(f"   daily_aqi on {len(df):,} rows: peak extra allocation {peak / 2**20:,.0f} MiB "
          f"(of which the new output columns {out_bytes / 2**20:,.0f} MiB; input {df.memory_usage().sum() / 2**20:,.0f} MiB)")
    print(f"   process peak resident size {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10:,.0f} MiB")
    del out
    print(f"\nbench_aqi done in {time.perf_counter() - started:.0f} s")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
