"""The committed model scores a later year from that year's observation files alone, as an independent
evaluation will: `airwarn backtest --model models/aqistudy-2016 --obs LATER.csv ...` writes
recommendations.csv (the product's warning decision) and the event scores."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from airwarn.cli import main
from forecast.synthetic import make_city_daily
from tests.forecast._model_fixtures import write_subset_csv

MODEL = Path(__file__).resolve().parents[2] / "models" / "aqistudy-2016"
CITIES = ("阳泉", "太原", "晋中", "石家庄", "邢台", "长治", "保定", "北京")


def test_committed_model_backtests_a_later_year_from_its_files_alone(tmp_path, capsys):
    decision = json.loads((MODEL / "warning_decision.json").read_text(encoding="utf-8"))
    assert "national-2024" in decision["rule_sets"]
    obs = make_city_daily(CITIES, start="2026-09-01", end="2026-12-31", seed=7, episode_at_end=False)
    later = tmp_path / "later.csv"
    write_subset_csv(obs, later)
    out = tmp_path / "bt"
    rc = main(["backtest", "--model", str(MODEL), "--obs", str(later), "--start", "2026-11-01", "--end",
               "2026-12-20", "--cities", "阳泉,太原", "--out", str(out)])
    assert rc == 0
    recs = pd.read_csv(out / "recommendations.csv", keep_default_na=False)
    assert len(recs) == 2 * 50 and set(recs["decision"]) == {"probability"}
    thresholds = decision["rule_sets"]["national-2024"]["thresholds"]
    # a recommendation is on when (and only when) its yellow probability reaches the start threshold, or
    # the keep threshold the day after a warning
    keep = decision["rule_sets"]["national-2024"]["keep_ratio"] * thresholds["yellow"]
    on = recs["level"] != "none"
    assert (recs.loc[on, "p_yellow"] >= keep - 1e-4).all()
    assert (recs.loc[recs["p_yellow"] >= thresholds["yellow"] + 1e-4, "level"] != "none").all()
    scores = pd.read_csv(out / "event_scores.csv")
    assert {"airwarn", "median", "persistence"} <= set(scores["model"])
    assert "warning events (national-2024" in capsys.readouterr().out
