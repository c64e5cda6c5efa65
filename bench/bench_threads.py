"""LightGBM fit time with 1 and 2 threads, OpenMP waiters spinning (ACTIVE) or sleeping (PASSIVE), on an
idle machine and with a competing busy process (one busy core, as the dashboard or a second job makes it).

``forecast`` sets ``OMP_WAIT_POLICY=PASSIVE`` on import (``forecast/__init__.py``); this prints why::

    .venv/bin/python bench/bench_threads.py

Each case runs in a fresh interpreter (the OpenMP runtime reads the policy once, when LightGBM loads it).
"""
from __future__ import annotations

import multiprocessing as mp
import os
import subprocess
import sys
import time

FIT = r"""
import time, numpy as np, lightgbm as lgb
rng = np.random.default_rng(0)
X = rng.normal(size=({rows}, 120)); y = X[:, 0] + rng.normal(size={rows})
t = time.perf_counter()
lgb.LGBMRegressor(n_estimators=30, num_leaves=31, min_child_samples=100, colsample_bynode=0.6, subsample=0.7,
                  subsample_freq=1, max_bin=63, n_jobs={threads}, deterministic=True, force_col_wise=True,
                  verbose=-1).fit(X, y)
print(time.perf_counter() - t)
"""


def _burn(stop_at: float) -> None:
    while time.time() < stop_at:
        pass


def fit_seconds(rows: int, threads: int, policy: str) -> float:
    env = dict(os.environ, OMP_WAIT_POLICY=policy)
    out = subprocess.run([sys.executable, "-c", FIT.format(rows=rows, threads=threads)], env=env,
                         capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def main() -> None:
    print(f"{'rows':>8} {'load':>6} {'policy':>8} {'1 thread':>9} {'2 threads':>10}")
    for rows in (8_000, 150_000):
        for busy in (False, True):
            burner = None
            if busy:
                burner = mp.Process(target=_burn, args=(time.time() + 600,), daemon=True)
                burner.start()
            try:
                for policy in ("ACTIVE", "PASSIVE"):
                    one, two = fit_seconds(rows, 1, policy), fit_seconds(rows, 2, policy)
                    print(f"{rows:>8,} {'busy' if busy else 'idle':>6} {policy:>8} {one:>8.2f}s {two:>9.2f}s",
                          flush=True)
            finally:
                if burner is not None:
                    burner.terminate()


if __name__ == "__main__":
    main()
