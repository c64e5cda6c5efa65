"""LightGBM fit time with 1 and 2 threads, OpenMP's default wait policy (spin a while, then sleep), sleeping waiters (PASSIVE) or a short spin, alone on
the machine and beside a second training (another LightGBM fit with 2 threads and the same policy, as two
test workers, or a training beside the daily chain, run on a 2-core machine).

``forecast`` sets ``OMP_WAIT_POLICY=PASSIVE`` on import (``forecast/__init__.py``); this prints why::

    .venv/bin/python bench/bench_threads.py

Each case runs in a fresh interpreter (the OpenMP runtime reads the policy once, when LightGBM loads it).
"""
from __future__ import annotations

import os
import subprocess
import sys

FIT = r"""
import time, numpy as np, lightgbm as lgb
rng = np.random.default_rng(0)
X = rng.normal(size=({rows}, 120)); y = X[:, 0] + rng.normal(size={rows})
def fit():
    lgb.LGBMRegressor(n_estimators=30, num_leaves=31, min_child_samples=100, colsample_bynode=0.6,
                      subsample=0.7, subsample_freq=1, max_bin=63, n_jobs={threads}, deterministic=True,
                      force_col_wise=True, verbose=-1).fit(X, y)
if {forever}:
    while True:
        fit()
t = time.perf_counter(); fit(); print(time.perf_counter() - t)
"""


#: The wait policies compared: the runtime's default, sleeping waiters, and a short spin before sleeping.
POLICIES = ("default", "PASSIVE", "GOMP_SPINCOUNT=10000")


def _code(rows: int, threads: int, forever: bool = False) -> str:
    return FIT.format(rows=rows, threads=threads, forever=forever)


def fit_seconds(rows: int, threads: int, policy: str, beside: bool) -> float:
    """Seconds of one fit (the median of three), alone or beside a second training that runs throughout."""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    if policy != "default":  # "default": the OpenMP runtime's own (libgomp spins a while, then sleeps)
        key, _, value = policy.partition("=")
        env.update({key: value} if value else {"OMP_WAIT_POLICY": policy})
    other = (subprocess.Popen([sys.executable, "-c", _code(rows, 2, forever=True)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) if beside else None)
    try:
        times = sorted(float(subprocess.run([sys.executable, "-c", _code(rows, threads)], env=env, check=True,
                                            capture_output=True, text=True).stdout.strip()) for _ in range(3))
    finally:
        if other is not None:
            other.kill()
            other.wait()
    return times[1]


def main() -> None:
    print(f"{'rows':>8} {'beside':>8} {'policy':>21} {'1 thread':>9} {'2 threads':>10}")
    for rows in (8_000, 150_000):
        for beside in (False, True):
            for policy in POLICIES:
                one, two = (fit_seconds(rows, n, policy, beside) for n in (1, 2))
                print(f"{rows:>8,} {'training' if beside else 'alone':>8} {policy:>21} {one:>8.2f}s {two:>9.2f}s",
                      flush=True)


if __name__ == "__main__":
    main()
