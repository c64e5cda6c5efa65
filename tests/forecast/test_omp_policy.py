"""Importing ``forecast`` makes OpenMP's waiting threads sleep (``forecast/__init__.py``): with spinning
waiters a 2-thread LightGBM fit on a busy 2-core machine is many times slower than a 1-thread one."""
from __future__ import annotations

import os
import subprocess
import sys

PROBE = "import os, forecast.estimator, lightgbm; print(os.environ.get('OMP_WAIT_POLICY'))"


def _policy(env: dict) -> str:
    return subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_forecast_sets_a_passive_wait_policy_before_lightgbm_loads():
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    assert _policy(env) == "PASSIVE"


def test_an_explicit_policy_wins():
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    assert _policy(dict(env, OMP_WAIT_POLICY="ACTIVE")) == "ACTIVE"
