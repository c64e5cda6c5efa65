"""Which rule sets the yes/no decision threshold? A comparison inside the validation fold only.

The threshold that turns P(AQI > t) into a yes/no forecast is chosen on the validation fold (the
last days of the training period). This study compares four ways of choosing it, by 2-fold
cross-validation *inside* that fold (issue days in alternate 7-day blocks: choose on one half,
score on the other, and the reverse), so the test year is never looked at:

* ``global``: one threshold per lead for all cities;
* ``nbhd250``: per city, from the rows of the cities within 250 km (the model's rule,
  :func:`forecast.model.neighbourhood_thresholds`);
* ``own``: per city, from its own rows only;
* ``rate25``: per city, from the 25 cities whose frequency of AQI > t before the fold is closest.

It prints, per rule, the mean over the chosen cities and leads of TS(model) − TS(persistence) (the
selection criterion, fixed before running it), the share of (city, lead) at or above persistence,
the pooled TS per lead, and one city's TS per lead.

Usage (trains the recipe without the final refit, about 4 min on 2 cores)::

    python -m forecast.threshold_study --obs FILE --until 2015-01-31 [--threshold 200] [--city 阳泉]
"""
from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from airwarn.core.vocab import CITIES_2_26
from forecast import features as F
from forecast.calibration import THRESHOLD_POOL_KM, best_threshold, neighbourhood_thresholds
from forecast.model import ForecastModel

RULES = ("global", "nbhd250", "own", "rate25")


def rule_thresholds(rule: str, p, event, cities_of_rows, distances: pd.DataFrame, rate_rank: pd.DataFrame):
    """Thresholds per city (Series over ``distances.index``) of one rule, chosen on the given rows."""
    glob = best_threshold(p, event)
    if rule == "global":
        return pd.Series(glob, index=distances.index)
    if rule in ("nbhd250", "own"):
        radius = THRESHOLD_POOL_KM if rule == "nbhd250" else 0.0
        return pd.Series(neighbourhood_thresholds(p, event, cities_of_rows, distances, glob, radius)[0],
                         index=distances.index)
    near = np.where(rate_rank.to_numpy() <= 25, 0.0, np.inf)
    np.fill_diagonal(near, 0.0)
    pseudo = pd.DataFrame(near, index=distances.index, columns=distances.index)
    return pd.Series(neighbourhood_thresholds(p, event, cities_of_rows, pseudo, glob, 1.0)[0],
                     index=distances.index)


def compare_rules(val: pd.DataFrame, obs: pd.DataFrame, coords: pd.DataFrame, threshold: int = 200
                  ) -> pd.DataFrame:
    """Contingency counts per (rule, lead, city) on the held-out halves, with persistence's."""
    val = val.copy()
    val["issued"] = pd.to_datetime(val["issued"])
    pers = obs.set_index(["city", "date"])["aqi"]
    val["pers"] = pers.reindex(pd.MultiIndex.from_arrays([val["city"], val["issued"]])).to_numpy()
    val = val[np.isfinite(val["obs_aqi"]) & np.isfinite(val["pers"])].reset_index(drop=True)
    event = (val["obs_aqi"] > threshold).to_numpy(float)
    p = val[f"p_aqi_gt_{threshold}"].to_numpy()
    half = ((val["issued"] - val["issued"].min()).dt.days // 7).to_numpy() % 2
    cities = sorted(val["city"].unique())
    distances = F.distance_matrix_km(coords, cities)
    before = obs[obs["date"] < val["issued"].min()]
    rate = before.groupby("city")["aqi"].apply(lambda x: (x > threshold).mean()).reindex(cities)
    gap = pd.DataFrame(np.abs(rate.to_numpy()[:, None] - rate.to_numpy()[None, :]), index=cities, columns=cities)
    rank = gap.rank(axis=1, method="first")
    out = []
    for rule in RULES:
        for lead in sorted(val["lead_day"].unique()):
            for fold in (0, 1):
                fit = (val["lead_day"].to_numpy() == lead) & (half != fold)
                ev = (val["lead_day"].to_numpy() == lead) & (half == fold)
                thr = rule_thresholds(rule, p[fit], event[fit], val["city"].to_numpy()[fit], distances, rank)
                g = val[ev]
                yes = p[ev] >= thr.reindex(g["city"]).to_numpy()
                pyes = g["pers"].to_numpy() > threshold
                o = event[ev] > 0
                out.append(pd.DataFrame({"rule": rule, "lead_day": lead, "city": g["city"].to_numpy(),
                                         "hits": yes & o, "false_alarms": yes & ~o, "misses": ~yes & o,
                                         "p_hits": pyes & o, "p_false_alarms": pyes & ~o, "p_misses": ~pyes & o}))
    return pd.concat(out).groupby(["rule", "lead_day", "city"]).sum()


def _ts(h, f, m):
    d = h + f + m
    return h / d.where(d > 0)


def _per_lead(series: pd.Series) -> str:
    first = series.unstack("lead_day").iloc[0]  # persistence does not depend on the rule
    return ", ".join(f"D+{int(k)} {v:.3f}" for k, v in first.items())


def report(counts: pd.DataFrame, cities=CITIES_2_26, city: str = "阳泉") -> str:
    ts = _ts(counts["hits"], counts["false_alarms"], counts["misses"])
    pts = _ts(counts["p_hits"], counts["p_false_alarms"], counts["p_misses"])
    mine = ts.index.get_level_values("city").isin(list(cities))
    diff = (ts - pts)[mine]
    pooled = counts[mine].groupby(["rule", "lead_day"]).sum()
    lines = ["mean TS(model) − TS(persistence) over the cities × leads (the criterion):",
             diff.groupby("rule").mean().round(4).to_string(),
             "share of (city, lead) at or above persistence:",
             (diff >= -1e-12).groupby("rule").mean().round(3).to_string(),
             "pooled TS per lead:",
             _ts(pooled["hits"], pooled["false_alarms"], pooled["misses"]).unstack("lead_day").round(3).to_string(),
             "persistence: " + _per_lead(_ts(pooled["p_hits"], pooled["p_false_alarms"], pooled["p_misses"])),
             f"{city} TS per lead:", ts.xs(city, level="city").unstack("lead_day").round(3).to_string(),
             f"{city} persistence: " + _per_lead(pts.xs(city, level="city"))]
    return "\n".join(lines)


def main(argv=None) -> int:
    from forecast.io import read_observations as load_observations
    from forecast.model_cli import station_coordinates

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--obs", action="extend", nargs="+", required=True)
    ap.add_argument("--until", required=True)
    ap.add_argument("--threshold", type=int, default=200)
    ap.add_argument("--city", default="阳泉")
    args = ap.parse_args(argv)
    obs = load_observations(args.obs)
    obs["date"] = pd.to_datetime(obs["date"])
    obs = obs[obs["date"] <= pd.Timestamp(args.until)]
    coords = station_coordinates(None, sorted(obs["city"].unique()))
    model = ForecastModel(name="threshold-study", refit=False)
    model.fit(obs, coords=coords, until=args.until, log=lambda m: print(f"  {m}", flush=True))
    print(report(compare_rules(model.validation_frame_, obs, coords, args.threshold), city=args.city))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
