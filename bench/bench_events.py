"""Benchmark of the warning-event replay of a year of forecasts for every city; prints figures.

The replay is what ``airwarn backtest`` adds after the forecasts: the warning decision of every city
and issue day (the probability decision on 100 scenario members, the median rule and persistence,
:func:`emergency.decision.forecast_recommendations`), then the event verification of all three with
block-bootstrap intervals (:func:`emergency.events.score_decisions`). Target: < 60 s for 366 cities ×
one year on 2 cores.

The forecasts are built from the real observed AQI of the shared data (issue days 2015-02-01 →
2016-01-31, every city): each member is the observed next ten days times lognormal errors growing
with lead and shared within the member (a seeded stand-in for a backtest Dataset of the same shape;
the replay's cost does not depend on the forecast's skill). The calibration is the committed model's
``warning_decision.json`` (national-2024).

Run: ``.venv/bin/python bench/bench_events.py [--cities N] [--members 100]``.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
SHARED = Path(os.environ.get("AIRWARN_SHARED_DATA", REPO.parent / "shared" / "data"))
CITY_DAILY = SHARED / "cn_city_daily_aqistudy" / "city_daily_aqi_20131202-20160131.csv.gz"


def forecast_dataset(obs: pd.DataFrame, cities, issued: pd.DatetimeIndex, members: int, seed: int = 0) -> xr.Dataset:
    """A backtest-shaped Dataset: aqi (quantiles), aqi_scenario (members), aqi_issue_day, valid_date."""
    rng = np.random.default_rng(seed)
    grid = obs.pivot_table(index="date", columns="city", values="aqi").reindex(
        pd.date_range(issued[0], issued[-1] + pd.Timedelta(days=10)), columns=list(cities))
    a = grid.to_numpy(float).T                                   # (city, day)
    n_c, n_i, L = len(cities), len(issued), 10
    future = np.stack([a[:, k + 1:k + 1 + n_i] for k in range(L)], axis=-1)   # (city, issued, lead)
    future = np.where(np.isfinite(future), future, np.nanmedian(a))
    sigma = 0.2 + 0.04 * np.arange(1, L + 1)
    noise = rng.standard_normal((n_c, n_i, members, 1)).astype("float32") * 0.25
    noise = noise + rng.standard_normal((n_c, n_i, members, L)).astype("float32") * sigma.astype("float32")
    scen = np.clip(future[:, :, None, :] * np.exp(noise), 5, 500).astype("float32")   # (c, i, m, lead)
    qs = np.array([0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95])
    q = np.quantile(scen, qs, axis=2).transpose(1, 2, 3, 0)      # (c, i, lead, q)
    valid = issued.values[:, None] + np.arange(1, L + 1)[None] * np.timedelta64(1, "D")
    return xr.Dataset(
        {"aqi": (("city", "issued", "lead_day", "quantile"), q.astype("float32")),
         "aqi_scenario": (("city", "issued", "lead_day", "member"), scen.transpose(0, 1, 3, 2)),
         "aqi_issue_day": (("city", "issued"), a[:, :n_i].astype("float32"))},
        coords={"city": list(cities), "issued": issued, "lead_day": np.arange(1, L + 1), "quantile": qs,
                "member": np.arange(members), "valid_date": (("issued", "lead_day"), valid)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cities", type=int, default=0, help="number of cities (default: all)")
    parser.add_argument("--members", type=int, default=100)
    args = parser.parse_args()

    from emergency.decision import forecast_recommendations, load_calibration
    from emergency.events import score_decisions
    from emergency.rules import load_rules
    from forecast import io

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=io.ReaderWarning)
        obs = io.read_city_daily(CITY_DAILY)
    cities = sorted(obs["city"].unique())
    if args.cities:
        cities = cities[:args.cities]
    issued = pd.date_range("2015-02-01", "2016-01-21")  # the shared data end 2016-01-31: D+10 observed
    t0 = time.perf_counter()
    ds = forecast_dataset(obs[obs["city"].isin(cities)], cities, issued, args.members)
    t_build = time.perf_counter() - t0
    rules = load_rules("national-2024")
    cal = load_calibration(REPO / "models" / "aqistudy-2016", rules)
    if cal is None:
        sys.exit("models/aqistudy-2016 has no warning_decision.json for national-2024 (retrain it)")

    t0 = time.perf_counter()
    recs = forecast_recommendations(ds, rules, cal)
    t_replay = time.perf_counter() - t0
    t0 = time.perf_counter()
    _, scores, _ = score_decisions(recs, obs, rules, issued[0], issued[-1])
    t_score = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    n = len(cities) * len(issued)
    print(f"forecasts: {len(cities)} cities × {len(issued)} issue days = {n:,}, {args.members} members "
          f"(built in {t_build:.1f} s)")
    print(f"decisions (probability, median, persistence): {t_replay:.1f} s")
    print(f"event verification with 1,000 bootstrap replicates: {t_score:.1f} s")
    print(f"replay total: {t_replay + t_score:.1f} s (target < 60 s); peak memory {peak:.2f} GB")
    episodes = scores.loc[(scores["model"] == "airwarn") & (scores["metric"] == "episodes"), "value"].iloc[0]
    print(f"{len(recs):,} recommendations scored against {int(episodes):,} observed episodes (the stand-in "
          f"forecasts' scores say nothing of the model's skill: its median is the observation with noise)")


if __name__ == "__main__":
    main()
