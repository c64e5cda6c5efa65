"""Benchmark of the benefit bands (issue 19): 10,000 draws × 10 days × the city's list in < 1 s.

Run: ``.venv/bin/python bench/bench_benefit.py`` (options ``--n N`` enterprises (320, the size of the
demo list of 阳泉), ``--draws N`` (10,000), ``--members N`` (100, the model's scenario members),
``--repeat N`` (5)).

Synthetic, seeded data: a list made by :func:`enterprise_list.sample.make_sample_list` and imported
with :func:`enterprise_list.io.import_list` into an SQLite file, the synthetic inventory of
:func:`emergency.demo.make_demo_inventory` on its baseline, and a forecast product in the pinned layout
(``tests/dashboard/dash_env.make_forecast``: a 3-day episode for 阳泉, lead-correlated scenario
members). It prints, per level, the time of :func:`emergency.benefit.estimate_benefit` on the
in-memory forecast (best and median of ``--repeat``; the Monte Carlo, the member shift, the IAQIs and
the per-plant shares), the time of one ``airwarn benefit`` handler's work from the netCDF file
(reading included), and the result's heavy days avoided.
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

ISSUED = dt.date(2026, 1, 10)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=320, help="enterprises on the list (320: the demo list)")
    ap.add_argument("--draws", type=int, default=10_000)
    ap.add_argument("--members", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    import emergency.models  # noqa: F401
    from airwarn.core.db import create_tables, get_engine
    from emergency.benefit import estimate_benefit
    from emergency.demo import make_demo_inventory
    from emergency.reductions import compute_reductions, import_inventory
    from enterprise_list.io import import_list
    from enterprise_list.sample import make_sample_list
    from tests.dashboard.dash_env import make_forecast

    tmp = Path(tempfile.mkdtemp(prefix="bench_benefit_"))
    engine = get_engine(f"sqlite:///{tmp / 'bench.db'}")
    create_tables(engine)
    import_list(engine, make_sample_list(args.n, seed=1), "bench", dt.date(2026, 1, 1), synthetic=True)
    inv = tmp / "inventory.csv"
    make_demo_inventory(compute_reductions(engine, "yellow", version="bench").list_baseline).to_csv(inv, index=False)
    import_inventory(engine, inv, name="bench(合成)", synthetic=True)
    ds = make_forecast(ISSUED, members=args.members)
    nc = tmp / "forecast.nc"
    ds.to_netcdf(nc)
    print(f"list of {args.n:,} enterprises (synthetic), {args.draws:,} draws × {ds.sizes['lead_day']} days, "
          f"{args.members} scenario members, {ds.sizes['city']} cities in the product")
    for level in ("yellow", "orange", "red"):
        red = compute_reductions(engine, level, version="bench")
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            res = estimate_benefit(ds, red, n_draws=args.draws, city="阳泉")
            times.append(time.perf_counter() - t)
        t = time.perf_counter()
        red2 = compute_reductions(engine, level, version="bench")
        estimate_benefit(nc, red2, n_draws=args.draws, city="阳泉")
        whole = time.perf_counter() - t
        print(f"  {level:<6} benefit bands: best {min(times):.3f} s, median {statistics.median(times):.3f} s "
              f"(target < 1 s); with the reductions and the netCDF read {whole:.3f} s; "
              f"{len(red.enterprises):,} plants, heavy days avoided {res.heavy_days_avoided:.2f} "
              f"(median days {res.heavy_days_avoided_median})")


if __name__ == "__main__":
    main()
