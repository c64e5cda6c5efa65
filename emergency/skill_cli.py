"""``airwarn train`` and ``airwarn backtest``: the forecast model with its warning decision.

::

    airwarn train --obs FILE ... [--until D] [--rules national-2024 ...] --out models/NAME
    airwarn backtest --model models/NAME --obs FILE ... --start D --end D [--cities ...] [--rules R] --out DIR

The forecast part of both commands is :mod:`forecast.model_cli` (:func:`~forecast.model_cli.train_model`,
:func:`~forecast.model_cli.run_backtest`). This module adds what needs the rule sets, which live one
layer up:

* ``train`` calibrates the warning decision of each rule set on the model's validation scenarios
  (:func:`emergency.decision.calibrate`) and writes ``warning_decision.json`` in the model folder;
* ``backtest`` replays the decision on every city and issue day (:func:`emergency.decision.forecast_recommendations`)
  and verifies it as events (:func:`emergency.events.score_decisions`), writing
  ``recommendations.csv`` (the product's decision, one row per city and issue day),
  ``recommendations_references.csv`` (the median and persistence decisions), ``warning_events.csv``,
  ``event_scores.csv`` (and ``event_scores_by_city.csv`` with ``--by-city``), and the scores of the
  calibrated level probabilities per span of lead days, ``level_probability_scores.csv`` and
  ``level_probability_reliability.csv``.

The modules doing the work (the decision, the events, the rule sets: numpy, pandas, the model) are
imported inside the handlers, so that ``airwarn --help`` stays fast; :mod:`forecast.model_cli` and
the floor import no heavy library at module level.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from airwarn.core.files import atomic_write_text
from forecast.model_cli import add_backtest_arguments, add_train_arguments, run_backtest, train_model

#: Rule sets whose decision ``airwarn train`` calibrates by default (with the settings' own).
DEFAULT_CALIBRATED_RULES: tuple[str, ...] = ("national-2024", "national-2019")


def _train(args, settings) -> int:
    model, obs = train_model(args)
    calibrate_model(model, obs, args.rules or [*DEFAULT_CALIBRATED_RULES, str(settings.rules)], args.out)
    return 0


def calibrate_model(model, obs, rule_sets, out) -> Path:
    """Calibrate the warning decision of each rule set on a freshly fitted model's validation scenarios
    and write ``warning_decision.json`` into its folder ``out`` (rule sets grading alike are calibrated
    once)."""
    import pandas as pd

    from emergency.decision import calibrate, rules_signature, save_calibrations
    from emergency.rules import load_rules

    names = list(dict.fromkeys(str(r) for r in rule_sets))
    seen, cals = set(), []
    until = pd.Timestamp(model.train_span_[1])
    observed = obs.assign(date=pd.to_datetime(obs["date"]))
    observed = observed[observed["date"] <= until]
    for name in names:
        rules = load_rules(name)
        if rules_signature(rules) in seen:  # grades and decides as one already calibrated
            continue
        seen.add(rules_signature(rules))
        t0 = time.perf_counter()
        cal = calibrate(model.validation_scenarios_, observed, rules,
                        fold={"span": list(model.validation_span_), "scheme": model.validation})
        cals.append(cal)
        c = cal.validation["event_scores"]
        print(f"  warning decision ({rules.name}): thresholds "
              + ", ".join(f"{k} {v:.3f}" for k, v in cal.thresholds.items())
              + f", keep ratio {cal.keep_ratio:g}; on the validation fold POD {c['pod']:.2f}, FAR {c['far']:.2f}, "
                f"CSI {c['csi']:.2f} ({time.perf_counter() - t0:.0f} s)", flush=True)
    path = save_calibrations(out, cals)
    print(f"warning decision calibrated for {len(cals)} rule set(s) → {path}")
    return path


def _backtest(args, settings) -> int:
    from emergency.decision import forecast_recommendations, load_calibration
    from emergency.events import RECOMMENDATION_COLUMNS, score_decisions
    from emergency.rules import load_rules

    rules = load_rules(args.rules or settings.rules)
    cal = load_calibration(args.model, rules)  # before the long run: a broken file stops it at once
    res = run_backtest(args)
    t0 = time.perf_counter()
    if cal is None:
        print(f"warning: model {args.model} has no warning decision calibrated for {rules.name} "
              f"(warning_decision.json; retrain with `airwarn train`): recommendations.csv holds the median "
              f"decision", file=sys.stderr, flush=True)
    recs, p_scores, p_rel = forecast_recommendations(res["dataset"], rules, cal, observations=res["observations"])
    events, scores, by_city = score_decisions(recs, res["observations"], rules, args.start, args.end,
                                              by_city=args.by_city)
    out = Path(args.out)
    product = "probability" if cal is not None else "median"
    cols = list(RECOMMENDATION_COLUMNS)
    files = {"recommendations": (out / "recommendations.csv", recs[recs["decision"] == product][cols]),
             "recommendations_references": (out / "recommendations_references.csv",
                                            recs[recs["decision"] != product][cols]),
             "warning_events": (out / "warning_events.csv", events),
             "event_scores": (out / "event_scores.csv", scores)}
    if by_city is not None:
        files["event_scores_by_city"] = (out / "event_scores_by_city.csv", by_city)
    if len(p_scores):
        files["level_probability_scores"] = (out / "level_probability_scores.csv", p_scores)
        files["level_probability_reliability"] = (out / "level_probability_reliability.csv", p_rel)
    for path, table in files.values():
        atomic_write_text(path, table.to_csv(index=False, float_format="%.6g"))
    if args.record_in:
        from emergency.events import record_event_scores

        record_event_scores(args.record_in, {k: v[0] for k, v in files.items()
                                             if k.startswith(("event", "warning_events", "level_probability"))}, rules)
    w = scores[scores["metric"].isin(["pod", "far", "csi", "level_right_share"])]
    print(f"warning events ({rules.name}, {time.perf_counter() - t0:.0f} s) → {out / 'event_scores.csv'}")
    for metric, g in w.groupby("metric", sort=False):
        cells = [f"{r.model} {r.value:.3f} [{r.lo:.3f}, {r.hi:.3f}]" for r in g.itertuples()
                 if "-minus-" not in r.model]
        print(f"  {metric}: " + "; ".join(cells))
    if len(p_scores):
        print("Brier skill of the calibrated level probabilities (level_probability_scores.csv):")
        for span, g in p_scores.groupby("span", sort=False):
            print(f"  {span}: " + ", ".join(f"{r.level} {r.bss:+.3f}" for r in g.itertuples()))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``train`` and ``backtest``."""
    p = subparsers.add_parser("train", help="train the probabilistic forecast model on city daily observations "
                                            "and calibrate its warning decision")
    add_train_arguments(p)
    p.add_argument("--rules", action="extend", nargs="+", metavar="RULES",
                   help=f"rule sets whose warning decision is calibrated (default: "
                        f"{', '.join(DEFAULT_CALIBRATED_RULES)} and the settings' rules)")
    p.set_defaults(func=_train)

    p = subparsers.add_parser("backtest", help="rolling-origin backtest against persistence and climatology, "
                                               "with the warnings verified as events")
    add_backtest_arguments(p)
    p.add_argument("--rules", help="rule set of the warning decision and the observed episodes (default from "
                                   "settings)")
    p.set_defaults(func=_backtest)
