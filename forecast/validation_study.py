"""Which held-out forecasts should fit the calibration? The last fold or blocks cross-fitted over the period.

The calibration (residual quantiles, isotonic probabilities, decision thresholds, scenario
correlation) is fitted on held-out forecasts of the training period
(:func:`forecast.model.validation_folds`): the last 122 days (``last``) or 4 blocks cross-fitted
over the whole period (``blocked``). This study trains one model per scheme up to ``--until``,
backtests both on the issue days after it up to ``--end`` on the 28 "2+26" cities, and prints the
criterion fixed before it was first run (docs/forecast.md): the mean over the cities and leads of
TS(AQI > 200) minus persistence's TS, with the mean Brier skill score of P(AQI > 200), whether the
RMSE beats persistence and climatology at every lead, the pooled scores per lead and one city's TS
per lead. Use a development period inside the training span of
the model you will evaluate (e.g. ``--until 2014-09-30 --end 2015-01-31``), never its test period.

Usage (two trainings and two backtests, about 25 min on 2 cores; a model folder already in
``--out`` is reused)::

    python -m forecast.validation_study --obs FILE --until 2014-09-30 --end 2015-01-31 --out DIR
"""
from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from airwarn.core.vocab import CITIES_2_26
from forecast import verify
from forecast.backtest import backtest_dataset, backtest_frame, score_frame, scored_frame, scores_by_city
from forecast.model import ForecastModel, load_model
from airwarn.core.errors import InputError


def summary(per_city: pd.DataFrame, pooled: pd.DataFrame, city: str = "阳泉") -> dict:
    """The criterion and the figures printed beside it, for one scheme."""
    ts = per_city[per_city["metric"] == "ts_200"].pivot_table(index=["city", "lead_day"], columns="model",
                                                            values="value")
    diff = ts["airwarn"] - ts["persistence"]
    p = pooled.pivot_table(index="lead_day", columns=["metric", "model"], values="value")
    own = ts.xs(city, level="city") if city in ts.index.get_level_values("city") else None
    return {
        "criterion": float(diff.mean()),
        "share_at_or_above": float((diff >= -1e-12).mean()),
        "mean_bss_200": float(p[("bss_200", "airwarn")].mean()),
        "ts_200": p[("ts_200", "airwarn")].round(3).tolist(),
        "ts_200_persistence": p[("ts_200", "persistence")].round(3).tolist(),
        "rmse": p[("rmse", "airwarn")].round(1).tolist(),
        "rmse_persistence": p[("rmse", "persistence")].round(1).tolist(),
        "rmse_climatology": p[("rmse", "climatology")].round(1).tolist(),
        "rmse_below_references_at_every_lead": bool(
            (p[("rmse", "airwarn")] < p[("rmse", "persistence")]).all()
            and (p[("rmse", "airwarn")] < p[("rmse", "climatology")]).all()),
        f"{city}_ts_200": None if own is None else own["airwarn"].round(3).tolist(),
        f"{city}_ts_200_persistence": None if own is None else own["persistence"].round(3).tolist(),
    }


def main(argv=None) -> int:
    from forecast.io import read_observations as load_observations
    from forecast.model_cli import station_coordinates

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--obs", action="extend", nargs="+", required=True)
    ap.add_argument("--until", required=True, help="last training day")
    ap.add_argument("--end", required=True, help="last issue day scored (the first is the day after --until)")
    ap.add_argument("--out", required=True, help="folder for the two models and the result")
    ap.add_argument("--city", default="阳泉")
    ap.add_argument("--folds", type=int, nargs="+", default=[4], help="block counts of the blocked scheme to try")
    args = ap.parse_args(argv)
    obs = load_observations(args.obs)
    obs["date"] = pd.to_datetime(obs["date"])
    until, end = pd.Timestamp(args.until), pd.Timestamp(args.end)
    # nothing after the development period, not even to score its last issue days' later leads
    # (those valid days would fall in the test period that follows it)
    seen = obs[obs["date"] <= end]
    coords = station_coordinates(None, sorted(obs["city"].unique()))
    out = Path(args.out)
    rows = {}
    variants = [("last", "last", None)] + [(f"blocked{k}", "blocked", k) for k in args.folds]
    for name, scheme, folds in variants:
        folder = out / name
        if (folder / "card.json").exists():
            model = load_model(folder)
        else:
            model = ForecastModel(name=f"validation-{name}", validation=scheme, folds=folds or 4)
            model.fit(seen[seen["date"] <= until], coords=coords, until=until,
                      log=lambda m: print(f"  {m}", flush=True))
            model.save(folder)
        if model.validation != scheme or (folds and model.folds != folds):
            raise InputError(f"{folder}: the model there was trained with validation={model.validation!r}, "
                             f"folds={model.folds}, not {scheme!r}, {folds}")
        cities = [c for c in CITIES_2_26 if c in model.cities_]
        forecasts = backtest_frame(backtest_dataset(model, seen, until + pd.Timedelta(days=1), end, cities=cities))
        frame = scored_frame(model, forecasts, seen)
        pooled, _ = score_frame(frame)
        per_city = scores_by_city(frame)
        rows[name] = summary(per_city[per_city["metric"].isin(["ts_200", "bss_200", "rmse"])], pooled,
                             city=args.city)
        # the median instead of the mean as the point forecast (the scorer falls back to aqi_p50)
        median = verify.score_table(frame.drop(columns="aqi_mean"))
        rows[name]["rmse_median"] = (median[(median["metric"] == "rmse") & (median["model"] == "airwarn")]
                                     .sort_values("lead_day")["value"].round(1).tolist())
        print(f"{name}: {rows[name]}", flush=True)
    table = pd.DataFrame(rows).T
    table.to_json(out / "validation_study.json", force_ascii=False, indent=1)
    with pd.option_context("display.width", 200, "display.max_colwidth", 120):
        print(table.to_string())
    best = max(rows, key=lambda s: rows[s]["criterion"])
    print(f"higher criterion: {best}; mean BSS200 " +
          ", ".join(f"{s} {rows[s]['mean_bss_200']:.3f}" for s in rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
