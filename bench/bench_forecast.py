"""Benchmark of the forecast model on the shared city daily data (prints figures; not a test).

Prints: training time on all 366 cities (data up to 2015-01-31), forecast time for 366 cities ×
10 days (target < 2 s), one year of daily backtest over all cities (2015-02-01 → 2016-01-31,
target < 5 min on 2 cores) and the peak memory (RSS) of the process.

Run:  .venv/bin/python bench/bench_forecast.py [--max-rows N] [--skip-train MODEL_DIR]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", default=os.environ.get("AIRWARN_SHARED_DATA", REPO.parent / "shared" / "data"))
    parser.add_argument("--max-rows", type=int, default=None,
                        help="rows per booster (default: the model's, as `airwarn train` uses)")
    parser.add_argument("--skip-train", metavar="MODEL_DIR", help="use this trained model instead of training")
    parser.add_argument("--scheduler", default=None, help="dask scheduler for the backtest")
    args = parser.parse_args()
    shared = Path(args.shared)

    from forecast import io
    from forecast import verify
    from forecast.backtest import run_backtest, scored_frame
    from forecast.model import ForecastModel, load_model

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=io.ReaderWarning)
        t = time.perf_counter()
        obs = io.read_city_daily(shared / "cn_city_daily_aqistudy" / "city_daily_aqi_20131202-20160131.csv.gz")
        cities = sorted(obs["city"].unique())
        coords = io.city_coordinates(shared / "stations" / "cnemc_station_list_NewSiteList.csv", cities)
    print(f"read {len(obs):,} city-days of {len(cities)} cities in {time.perf_counter() - t:.1f} s", flush=True)

    if args.skip_train:
        model = load_model(args.skip_train)
        print(f"training: skipped, using {args.skip_train} (card: {model.card_.get('train_seconds')} s)")
    else:
        t = time.perf_counter()
        model = ForecastModel(name="bench", **({"max_rows": args.max_rows} if args.max_rows else {})).fit(
            obs, coords=coords[["city", "lon", "lat"]], until="2015-01-31")
        train_s = time.perf_counter() - t
        with tempfile.TemporaryDirectory() as tmp:
            model.save(Path(tmp) / "bench")
            size = sum(f.stat().st_size for f in (Path(tmp) / "bench").iterdir()) / 1e6
        print(f"training on all {len(cities)} cities (2013-12-02 → 2015-01-31, {model.max_rows:,} rows per "
              f"booster, 6 pollutants): {train_s:.0f} s; model {size:.1f} MB", flush=True)

    model.predict(obs, issued="2015-12-01", cities=cities[:5])  # warm-up
    times = []
    for _ in range(3):
        t = time.perf_counter()
        ds = model.predict(obs, issued="2016-01-20")
        times.append(time.perf_counter() - t)
    print(f"forecast {ds.sizes['city']} cities × {ds.sizes['lead_day']} days "
          f"(7 quantiles, 100 members): best {min(times):.2f} s of 3 (target < 2 s)", flush=True)

    t = time.perf_counter()
    forecasts, scores, _ = run_backtest(model, obs, "2015-02-01", "2016-01-31", scheduler=args.scheduler)
    bt_s = time.perf_counter() - t
    print(f"backtest 2015-02-01 → 2016-01-31, {forecasts['city'].nunique()} cities, {len(forecasts):,} forecast "
          f"rows, scored: {bt_s:.0f} s (target < 300 s)", flush=True)
    t = time.perf_counter()
    intervals = verify.skill_intervals(scored_frame(model, forecasts, obs))
    print(f"skill intervals of that backtest (block bootstrap, 1,000 replicates, {len(intervals)} rows): "
          f"{time.perf_counter() - t:.1f} s", flush=True)
    print(f"peak memory (RSS): {_peak_rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
