"""Forecasting: observations and NWP readers, the AQI engine, the probabilistic model, verification.

Importing the package sets ``OMP_WAIT_POLICY=PASSIVE`` unless the environment already sets it, before any
of its modules loads LightGBM (and with it the OpenMP runtime, which reads the variable once). By default
OpenMP's idle threads spin while they wait for work; on a busy machine (the dashboard, a browser and a
training sharing two cores) a 2-thread LightGBM fit then runs 6–35 times slower than a 1-thread one, and
sleeping waiters cost little on an idle machine (``bench/bench_threads.py`` prints both).
"""
import os as _os

_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
