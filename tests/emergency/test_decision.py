"""The probability decision (emergency.decision): shares, periods, hysteresis, calibration, thresholds, and
that one recommendation (assess) and the replay of many (forecast_recommendations) agree."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from emergency.engine import assess
from emergency.rules import load_rules
from emergency.decision import (DECISION_FILE, KEEP_GRID, MAX_FAR, DecisionCalibration, calibrate,
                                first_episodes, forecast_recommendations, level_shares, load_calibration, periods,
                                rules_signature, save_calibrations)
from emergency.engine import find_episodes
from forecast.model import ValidationScenarios

RULES = load_rules("national-2024")
CLEAN = [80.0] * 10


def test_level_shares_window_horizon_and_issue_day():
    members = np.array([
        CLEAN,
        [80, 210] + [80] * 8,                 # one day > 200 on D+2: yellow in the window
        [160, 160] + [80] * 8,                # > 150 for 48 h on D+1..D+2: yellow
        [80] * 4 + [210, 210] + [80] * 4,     # orange on D+5..D+6: outside the window, inside the horizon
    ], dtype=float)[None]
    sh = level_shares(members, np.array([80.0]), RULES)
    np.testing.assert_allclose(sh.window[0], [0.5, 0.0, 0.0])
    np.testing.assert_allclose(sh.horizon[0], [0.75, 0.25, 0.0])
    # the issue day (D+0) is read with the forecast: 170 today and 160 tomorrow is 48 h > 150
    one = np.array([[160] + [80] * 9], dtype=float)[None]
    assert level_shares(one, np.array([170.0]), RULES).window[0, 0] == 1.0
    assert level_shares(one, np.array([np.nan]), RULES).window[0, 0] == 0.0
    # inside: days of episodes touching the window (D+0 is the issue day)
    np.testing.assert_allclose(sh.inside[0, :4], [0.0, 0.25, 0.5, 0.0])
    assert sh.inside[0, 5] == 0.0  # the D+5 episode does not touch the window


def test_periods_half_maximum_around_the_window():
    inside = np.array([[0.0, 0.2, 0.6, 0.5, 0.35, 0.1, 0, 0, 0, 0, 0],
                       [0.0, 0.0, 0.0, 0.1, 0.9, 0.9, 0, 0, 0, 0, 0]])
    start, end = periods(inside, np.array([True, True]))
    assert (start[0], end[0]) == (2, 4)       # ≥ 0.3 around D+2
    assert (start[1], end[1]) == (3, 5)       # anchored on the window's D+3, then the run of ≥ 0.45
    start, end = periods(inside, np.array([False, True]))
    assert start[0] == -1 and end[0] == -1


def _cal(thresholds=(0.3, 0.3, 0.3), keep=1.0) -> DecisionCalibration:
    ident = {"x": [0.0, 1.0], "y": [0.0, 1.0]}
    tables = {span: {k: ident for k in ("yellow", "orange", "red")} for span in ("window", "horizon")}
    return DecisionCalibration("national-2024", RULES.version, rules_signature(RULES), (1, 3), tables,
                               dict(zip(("yellow", "orange", "red"), thresholds)), keep)


def test_levels_gate_on_yellow_and_hysteresis():
    cal = _cal((0.4, 0.2, 0.5), keep=0.5)
    p = np.array([[0.45, 0.25, 0.1], [0.3, 0.3, 0.0], [0.3, 0.1, 0.0]])
    assert cal.levels(p).tolist() == [2, 0, 0]          # orange needs a warning at all (yellow's threshold)
    assert cal.levels(p, [1, 1, 0]).tolist() == [2, 2, 0]  # in force: kept at 0.5·p*
    keys = pd.DataFrame({"city": ["a", "a", "a", "b"],
                         "issued": pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-04", "2026-01-02"])})
    pw = np.array([[0.45, 0, 0], [0.25, 0, 0], [0.25, 0, 0], [0.25, 0, 0]])
    # a: warned on 01-01, kept on 01-02 (0.25 ≥ 0.2), not on 01-04 (a day in between); b: never started
    assert cal.sequential_levels(keys, pw).tolist() == [1, 1, 0, 0]


def test_first_episodes_is_todays_engine():
    rng = np.random.default_rng(1)
    series = np.clip(150 * np.exp(np.cumsum(rng.normal(0, 0.3, (300, 10)), axis=1)), 20, 500)
    level, first, last = first_episodes(series, RULES)
    for i in range(len(series)):
        eps = find_episodes(series[i], RULES)
        if eps:
            assert (level[i], first[i], last[i]) == (int(eps[0].level), eps[0].start_index, eps[0].stop_index - 1)
        else:
            assert (level[i], first[i]) == (0, -1)
    assert (level == 0).any() and (level == 3).any()


def _synthetic_fold(n_cities=30, days=120, seed=0):
    """Validation scenarios whose members know the truth in part: the observed series plus noise."""
    rng = np.random.default_rng(seed)
    issued = pd.date_range("2014-10-02", periods=days)
    obs_rows, keys, members, observed, issue = [], [], [], [], []
    for c in range(n_cities):
        z = np.cumsum(rng.normal(0, 0.25, days + 12))
        aqi = np.clip(120 * np.exp(z - z.mean() + 0.3 * np.sin(np.arange(days + 12) / 9)), 15, 500)
        obs_rows.append(pd.DataFrame({"city": f"c{c}", "date": pd.date_range(issued[0], periods=days + 12),
                                      "aqi": aqi}))
        for i, d in enumerate(issued):
            truth = aqi[i + 1:i + 11]
            noise = rng.normal(0, 0.25 * np.sqrt(np.arange(1, 11)), (40, 10))
            keys.append((f"c{c}", d))
            members.append(truth * np.exp(noise + rng.normal(0, 0.15, (40, 1))))
            observed.append(truth)
            issue.append(aqi[i])
    scen = ValidationScenarios(keys=pd.DataFrame(keys, columns=["city", "issued"]),
                               members=np.asarray(members, "float32"), observed=np.asarray(observed, "float32"),
                               issue_aqi=np.asarray(issue))
    return scen, pd.concat(obs_rows, ignore_index=True)


def test_calibrate_on_a_fold_and_round_trip(tmp_path):
    scen, obs = _synthetic_fold()
    cal = calibrate(scen, obs, RULES, fold={"span": ["2014-10-02", "2015-01-31"], "scheme": "last"})
    for span in ("window", "horizon"):
        for k, tab in cal.tables[span].items():
            assert np.all(np.diff(tab["y"]) >= 0), (span, k)  # isotonic
    chosen = cal.validation["thresholds"]["yellow"]
    assert cal.keep_ratio in KEEP_GRID
    assert chosen["event_far"] <= MAX_FAR and chosen["event_csi"] > 0.3
    assert cal.validation["event_scores"]["far"] == pytest.approx(chosen["event_far"], abs=1e-4)
    # out-of-fold reliability within ±0.1 in the well-filled deciles
    for row in cal.validation["reliability_out_of_fold"]["window"]["yellow"]:
        if row["n"] >= 200:
            assert abs(row["mean_probability"] - row["observed_frequency"]) <= 0.1, row
    assert cal.validation["brier_out_of_fold"]["window"]["yellow"]["bss"] > 0
    # saved in the model folder and found again by the grading signature
    (tmp_path / "card.json").write_text(json.dumps({"name": "m"}), encoding="utf-8")
    save_calibrations(tmp_path, [cal])
    card = json.loads((tmp_path / "card.json").read_text(encoding="utf-8"))
    assert card["warning_decision"]["file"] == DECISION_FILE
    back = load_calibration(tmp_path, "national-2024")
    assert back.thresholds == cal.thresholds and back.keep_ratio == cal.keep_ratio
    assert load_calibration(tmp_path, "national-2019") is None       # other criteria: not calibrated
    assert load_calibration(tmp_path, "yangquan-example") is None    # its yellow condition differs
    assert load_calibration(tmp_path / "nowhere", "national-2024") is None


def test_calibrate_grades_the_fold_by_primary_pollutant_as_a_forecast_is_graded():
    """Under a by-pollutant rule set a day led by ozone starts no colour warning in a forecast
    (forecast_recommendations, assess); the fold's scenarios must be graded alike, or the thresholds are
    chosen on shares the product never sees (a bug: the fold was graded on every day)."""
    import dataclasses

    scen, obs = _synthetic_fold(n_cities=12, days=60)
    plain = calibrate(scen, obs, RULES)
    all_o3 = dataclasses.replace(scen, primary=np.full(scen.observed.shape, "o3_8h", dtype=object))
    led = calibrate(all_o3, obs, RULES)
    # no member day may count: the raw shares are all 0, the calibrated window probability one constant
    assert len(set(plain.tables["window"]["yellow"]["y"])) > 2
    assert len(set(led.tables["window"]["yellow"]["y"])) == 1
    assert led.validation["brier_out_of_fold"]["window"]["yellow"]["bss"] <= 0.0 \
        < plain.validation["brier_out_of_fold"]["window"]["yellow"]["bss"]
    # PM2.5-led days count as before; a rule set without by_pollutant ignores the names
    pm25 = dataclasses.replace(scen, primary=np.full(scen.observed.shape, "pm25", dtype=object))
    assert calibrate(pm25, obs, RULES).tables == plain.tables
    r2019 = load_rules("national-2019")
    assert calibrate(all_o3, obs, r2019).tables == calibrate(scen, obs, r2019).tables
    assert led.fold["colour_days_by_primary_pollutant"] is True
    assert calibrate(all_o3, obs, r2019).fold["colour_days_by_primary_pollutant"] is False
    # scenarios without primary pollutants under a by-pollutant rule set: said, not silent
    with pytest.warns(RuntimeWarning, match="no primary pollutants"):
        calibrate(scen, obs, RULES)


def test_the_grading_signature_includes_the_colour_pollutants(tmp_path):
    """A rule set that differs only in by_pollutant grades the fold otherwise: it needs its own
    calibration (a by-pollutant calibration must not be loaded for a rule set without the rule)."""
    import dataclasses

    without = dataclasses.replace(RULES, colour_pollutants=None)
    other = dataclasses.replace(RULES, colour_pollutants=("pm25", "pm10"))
    assert len({rules_signature(RULES), rules_signature(without), rules_signature(other)}) == 3
    scen, obs = _synthetic_fold(n_cities=6, days=40)
    scen = dataclasses.replace(scen, primary=np.full(scen.observed.shape, "pm25", dtype=object))
    (tmp_path / "card.json").write_text(json.dumps({"name": "m"}), encoding="utf-8")
    save_calibrations(tmp_path, [calibrate(scen, obs, RULES)])
    assert load_calibration(tmp_path, RULES) is not None and load_calibration(tmp_path, without) is None


def _dataset(members: np.ndarray, issue_aqi: float, issued="2026-01-10") -> xr.Dataset:
    """A one-city, one-issue-day forecast Dataset in the model's layout."""
    issued = pd.DatetimeIndex([issued])
    m = members.shape[0]
    qs = np.array([0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95])
    q = np.quantile(members, qs, axis=0).T  # (lead, quantile)
    valid = issued.values[:, None] + (np.arange(1, 11) * np.timedelta64(1, "D"))[None]
    return xr.Dataset(
        {"aqi": (("city", "issued", "lead_day", "quantile"), q[None, None]),
         "aqi_scenario": (("city", "issued", "lead_day", "member"), members.T[None, None]),
         "aqi_issue_day": (("city", "issued"), np.array([[issue_aqi]]))},
        coords={"city": ["阳泉"], "issued": issued, "lead_day": np.arange(1, 11), "quantile": qs,
                "member": np.arange(m), "valid_date": (("issued", "lead_day"), valid)})


@pytest.mark.parametrize("seed", range(6))
def test_assess_agrees_with_the_replay(seed):
    rng = np.random.default_rng(seed)
    base = np.clip(rng.uniform(60, 260) * np.exp(np.cumsum(rng.normal(0, 0.25, 10))), 20, 500)
    members = np.clip(base * np.exp(rng.normal(0, 0.35, (50, 10))), 10, 500)
    ds = _dataset(members, float(rng.uniform(80, 240)))
    cal = _cal((0.35, 0.3, 0.25), keep=0.5)
    rows = forecast_recommendations(ds, RULES, cal).set_index("decision")
    r = assess(ds, RULES, calibration=cal)
    row = rows.loc["probability"]
    assert r.decision == "probability" and r.level.key == row["level"]
    assert (str(r.start or ""), str(r.end or "")) == (row["start"], row["end"])
    assert r.probability["yellow"] == pytest.approx(row["p_yellow"], abs=1e-4)
    med = assess(ds, RULES, decision="median")
    assert med.decision == "median" and med.level.key == rows.loc["median", "level"]
    assert (str(med.start or ""), str(med.end or "")) == (rows.loc["median", "start"], rows.loc["median", "end"])


def test_assess_states_its_basis_and_falls_back_to_the_median():
    members = np.full((40, 10), 90.0)
    members[:, 1:3] = np.linspace(150, 260, 40)[:, None]  # D+2..D+3 above 200 for the upper members
    ds = _dataset(members, 120.0)
    r = assess(ds, RULES, calibration=_cal((0.3, 0.3, 0.3)))
    above = int((np.linspace(150, 260, 40) > 200).sum())  # members with two days > 200
    assert r.level.key == "orange" and r.probability["orange"] == pytest.approx(above / 40)
    assert any("决策依据" in x and "P(橙色预警条件)=0.55≥0.3、" in x for x in r.reasons)
    assert r.to_dict()["decision"]["thresholds"]["orange"] == 0.3
    held = assess(ds, RULES, calibration=_cal((0.6, 0.6, 0.6), keep=0.75), in_force="yellow")
    assert held.level.key == "orange"    # 0.55 ≥ 0.75 · 0.6 while a warning is in force
    # started afresh, orange needs 0.6: yellow (two days > 150 in nearly every member)
    assert assess(ds, RULES, calibration=_cal((0.6, 0.6, 0.6), keep=0.75)).level.key == "yellow"
    # no calibration: the median decision, and the reasons say why
    m = assess(ds, RULES)
    assert m.decision == "median" and any("决策依据:按中位数" in x for x in m.reasons)
    with pytest.raises(ValueError, match="probability decision is not possible"):
        assess(ds, RULES, decision="probability")


def test_cost_loss_ratio_sets_the_thresholds(tmp_path):
    f = tmp_path / "warning_rules_costly_2026-03-01.yaml"
    f.write_text("name: costly\nextends: national-2024\ndecision: {cost_loss_ratio: 0.2}\n", encoding="utf-8")
    rules = load_rules(f)
    assert rules.cost_loss is not None and set(rules.cost_loss.values()) == {0.2}
    assert rules_signature(rules) != rules_signature(RULES)
    scen, obs = _synthetic_fold(n_cities=20)
    cal = calibrate(scen, obs, rules)
    assert cal.keep_ratio == 1.0
    assert cal.validation["thresholds"]["yellow"]["rule"].startswith("maximises the relative economic value")
    # for calibrated probabilities the best threshold of a cost-loss ratio α is α itself
    assert abs(cal.thresholds["yellow"] - 0.2) <= 0.1
    bad = tmp_path / "warning_rules_bad_2026-03-01.yaml"
    bad.write_text("name: bad\nextends: national-2024\ndecision: {cost_loss_ratio: 1.5}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        load_rules(bad)


def test_probability_path_keeps_advisories_and_its_basis_under_a_regional_minimum():
    members = np.full((40, 10), 90.0)
    members[:, 1] = 180.0                          # one day > 150 everywhere: temporary measures only
    ds = _dataset(members, 90.0)
    r = assess(ds, RULES, calibration=_cal((0.3, 0.3, 0.3)))
    assert r.level.key == "none" and r.temporary_measures and any("临时管控" in x for x in r.reasons)
    up = assess(ds, RULES, calibration=_cal((0.3, 0.3, 0.3)), regional_minimum="orange")
    basis = next(d for d in up.reason_details if d["code"] == "decision.probability")
    assert up.level.key == "orange" and basis["probability"]["orange"] == 0.0  # the forecast's own, not 1.0


def test_periods_start_after_the_issue_day():
    members = np.full((30, 10), 240.0)             # an episode running today and the next ten days
    ds = _dataset(members, 240.0)
    r = assess(ds, RULES, calibration=_cal((0.3, 0.3, 0.3)))
    assert str(r.start) == "2026-01-11"            # the day after the issue day, as the median rule
    row = forecast_recommendations(ds, RULES, _cal((0.3, 0.3, 0.3))).set_index("decision")
    assert row.loc["probability", "start"] == row.loc["persistence", "start"] == "2026-01-11"


def test_a_broken_calibration_file_falls_back_with_a_data_warning(tmp_path):
    (tmp_path / DECISION_FILE).write_text("{not json", encoding="utf-8")
    members = np.full((30, 10), 240.0)
    ds = _dataset(members, 240.0)
    r = assess(ds, RULES, calibration=tmp_path)
    assert r.decision == "median" and any("无法读取" in w for w in r.data_warnings)
    assert assess(ds, RULES, decision="median", calibration=tmp_path).data_warnings == ()
