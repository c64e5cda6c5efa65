"""Weather-normalised post-episode evaluation: a known injected effect is recovered and detected, none is
not; the Chinese report; the Beijing red alerts of December 2015 on the shared UCI data."""
from __future__ import annotations

import datetime as dt
import html
import json
import re

import numpy as np
import pandas as pd
import pytest

from airwarn.core.errors import InputError
from emergency.evaluation import (
    Episode, StagnationRule, evaluate_episodes, evaluation_summary, load_control_periods, placebo_windows,
)
from emergency.evaluation_report import SECTIONS, evaluation_report_html, write_evaluation

SMALL = {"n_estimators": 120}
RULE = StagnationRule()
INJECTED = 0.8  # −20 % on warning days


def _weather(seed: int, start="2013-03-01", end="2016-02-29", wind=0.3, wind_lag=0.1, noise=0.06):
    rng = np.random.default_rng(seed)
    dates = pd.date_range(start, end, freq="D")
    n = len(dates)
    season = np.cos(2 * np.pi * (dates.day_of_year.to_numpy() - 15) / 365.25)
    lw = np.zeros(n)
    lr = np.zeros(n)
    for i in range(1, n):
        lw[i] = 0.6 * lw[i - 1] + rng.normal(0, 0.35)
        lr[i] = 0.5 * lr[i - 1] + rng.normal(0, 12)
    wspm = 1.6 * np.exp(lw)
    rh = np.clip(55 + lr, 10, 98)
    direction = rng.uniform(0, 2 * np.pi, n)
    met = pd.DataFrame({"date": dates, "temp": 13 - 15 * season + rng.normal(0, 2, n), "rh": rh,
                        "pres": 1015 + 10 * season + rng.normal(0, 4, n), "wspm": wspm,
                        "u": -wspm * np.sin(direction), "v": -wspm * np.cos(direction),
                        "rain": np.where(rng.random(n) < 0.08, rng.exponential(5, n), 0.0)})
    lag = pd.Series(lw).shift(1).fillna(0).to_numpy()
    truth = pd.DataFrame({
        "date": dates,
        "pm25": np.exp(3.9 + 0.4 * season - wind * lw - wind_lag * lag + 0.01 * (rh - 55) + rng.normal(0, noise, n)),
        "no2": np.exp(3.6 + 0.2 * season - 0.5 * lw + rng.normal(0, 0.08, n))})
    return truth, met


def _warnings(met: pd.DataFrame) -> list[tuple[dt.date, dt.date]]:
    """Four-day periods in the cold half-year with at least 3 stagnant days, 20 days apart at least."""
    st = RULE.days(met)
    cold = st.index.month.isin([11, 12, 1, 2])
    out, last = [], None
    for i in range(len(st) - 10):
        d = st.index[i]
        if cold[i] and st.iloc[i:i + 4].sum() >= 3 and st.iloc[i] and (last is None or (d - last).days > 20):
            out.append((d.date(), (d + pd.Timedelta(days=3)).date()))
            last = d
    return out


@pytest.fixture(scope="module")
def synthetic():
    truth, met = _weather(seed=11)
    periods = _warnings(met)
    late = [p for p in periods if p[0] >= dt.date(2015, 12, 1)][:2]
    earlier = [p for p in periods if p[1] < dt.date(2015, 11, 1)]
    assert len(late) == 2 and len(earlier) >= 4
    in_warning = np.zeros(len(truth), dtype=bool)
    for a, b in late + earlier:
        in_warning |= ((truth["date"].dt.date >= a) & (truth["date"].dt.date <= b)).to_numpy()
    treated = truth.copy()
    for p in ("pm25", "no2"):
        treated.loc[in_warning, p] *= INJECTED
    episodes = [Episode(a, b, "red", "示例市") for a, b in late]
    kw = dict(train_start="2013-03-01", train_end=late[0][0] - dt.timedelta(days=1), pollutants=("pm25", "no2"),
              params=SMALL, synthetic=True)
    with_effect = evaluate_episodes(treated, met, episodes, earlier, **kw)
    without = evaluate_episodes(truth, met, episodes, earlier, **kw)
    return {"truth": truth, "met": met, "episodes": episodes, "earlier": earlier, "with": with_effect,
            "without": without}


def _true_relative(truth: pd.DataFrame, ev, pollutant="pm25") -> float:
    """Σ (observed − true BAU) / Σ true BAU over the window: what the estimate should find."""
    t = truth.set_index("date")[pollutant].reindex(pd.to_datetime(ev.days["date"])).to_numpy()
    observed = ev.days[pollutant].to_numpy()
    return 100.0 * (observed.sum() / t.sum() - 1.0)


def test_injected_effect_is_recovered_within_its_band_and_detectable(synthetic):
    for ev in synthetic["with"]:
        pm = ev.pm25
        expected = _true_relative(synthetic["truth"], ev)
        assert -20.0 < expected < -10.0  # −20 % on the 4 warning days of a 6-day window
        assert pm.relative_low <= expected <= pm.relative_high
        assert pm.adjusted_low <= expected <= pm.adjusted_high
        assert abs(pm.adjusted_relative - expected) < 8.0
        assert pm.placebo_n >= 20
        assert pm.verdict == "reduction" and pm.detectable is True and pm.percentile < 5.0
        assert ev.effects["no2"].verdict == "reduction"  # the fast tracer shows it too


def test_no_injected_effect_is_not_detectable(synthetic):
    for ev in synthetic["without"]:
        pm = ev.pm25
        assert pm.verdict == "not_detectable" and pm.detectable is False
        assert 5.0 <= pm.percentile <= 95.0
        assert pm.relative_low <= _true_relative(synthetic["truth"], ev) <= pm.relative_high


def test_bau_does_not_see_the_warning_days(synthetic):
    """With and without the injected effect the BAU is the same: warning days (and 5 after) are not trained on."""
    for a, b in zip(synthetic["with"], synthetic["without"]):
        np.testing.assert_allclose(a.days["pm25_p50"], b.days["pm25_p50"])
        assert (a.days["pm25"] < b.days["pm25"]).sum() == a.episode.days
        assert a.bau["n_excluded"] >= 6 * len(synthetic["earlier"])


def test_placebo_windows_follow_the_rule(synthetic):
    ev = synthetic["with"][0]
    excluded = set()
    for a, b in [*synthetic["earlier"], *[(e.start, e.end) for e in synthetic["episodes"]]]:
        excluded |= {a + dt.timedelta(days=k) for k in range((b - a).days + 6)}
    stagnant = RULE.days(synthetic["met"])
    n = ev.episode.days
    for row in ev.placebo.itertuples():
        days = [row.start + dt.timedelta(days=k) for k in range(n + ev.lag_days)]
        assert days[-1] == row.end
        assert not excluded & set(days)
        assert all(d.month in (10, 11, 12, 1, 2, 3) for d in days)
        assert stagnant.reindex(pd.to_datetime(days[:n])).sum() >= n - 1


def test_placebo_of_a_single_window():
    days = pd.date_range("2014-01-01", periods=8)
    obs = pd.DataFrame({"pm25": [100.0] * 8}, index=days)
    oof = pd.DataFrame({"date": days, "pm25_p50": [80.0] * 8})
    stagnant = pd.Series([True, True, False, True, True, True, True, True], index=days)
    out = placebo_windows(obs, oof, stagnant, n_warning=3, length=5, months=[1], pollutants=["pm25"])
    assert list(out["start"]) == [d.date() for d in days[:4]]  # all have ≥ 2 of 3 stagnant days
    assert out["pm25_relative"].to_numpy() == pytest.approx([25.0] * 4)
    oof.loc[2, "pm25_p50"] = np.nan  # a day without a held-out BAU spoils the windows through it
    out = placebo_windows(obs, oof.dropna(), stagnant, 3, 5, [1], ["pm25"])
    assert list(out["start"]) == [days[3].date()]


def _prose(page: str) -> list[str]:
    body = re.sub(r"<style>.*?</style>", "", page, flags=re.S)
    return [html.unescape(t) for t in re.findall(r"<(?:p|h1|h2|th|td)[^>]*>(.*?)</(?:p|h1|h2|th|td)>", body)]


def test_report_has_five_sections_and_full_width_punctuation(synthetic, tmp_path):
    ev = synthetic["with"][0]
    page = evaluation_report_html(ev)
    found = [page.index(f"<h2>{s}</h2>") for s in SECTIONS]
    assert found == sorted(found) and len(found) == 5
    texts = _prose(page)
    for t in texts:
        plain = re.sub(r"\d:\d", "", t)
        assert not re.search(r"[,;:?!()]", plain), t
    joined = "".join(texts)
    assert "合成示例数据" in joined and "（北京时间）" in joined
    assert "未提供该次预警的预报或建议记录" in joined  # no issue day: timeliness not available
    assert "未提供该次预警期间的督查" in joined and "减排效益模型的预测未提供" in joined
    files = write_evaluation(ev, tmp_path)
    assert [f.name for f in files] == [f"evaluation_{ev.episode.key()}{s}" for s in
                                       (".html", ".json", "_days.csv", "_placebo.csv")]
    summary = evaluation_summary(files[1])
    assert summary == evaluation_summary(ev)
    assert summary["verdict"] == "reduction" and summary["synthetic"] is True
    written = json.loads(files[1].read_text(encoding="utf-8"))
    assert written["effects"]["pm25"]["placebo_n"] == summary["placebo_windows"]


def test_timeliness_compliance_and_benefit_when_given(synthetic):
    truth, met = synthetic["truth"], synthetic["met"]
    e = synthetic["episodes"][0]
    aqi = truth.assign(aqi=np.where((truth["date"].dt.date >= e.start) & (truth["date"].dt.date <= e.end), 260.0,
                                    80.0))
    issued = Episode(e.start, e.end, "orange", "示例市", issued=e.start - dt.timedelta(days=2))
    comp = pd.DataFrame({"date": [e.start, e.start + dt.timedelta(days=1)], "pollutant": ["so2", "so2"],
                         "planned": [10.0, 10.0], "adjusted": [8.0, 6.0], "target": [0.2, 0.2],
                         "planned_ratio": [0.25, 0.25], "adjusted_ratio": [0.2, 0.15]})
    ev = evaluate_episodes(aqi, met, [issued], synthetic["earlier"], train_start="2013-03-01",
                           train_end=e.start - dt.timedelta(days=1), pollutants=("pm25",), params=SMALL,
                           compliance=comp, cut_fractions={"ppm": 0.3, "nox": 0.3})[0]
    t = ev.timeliness
    assert t["kind"] == "hit" and t["lead_days"] == 2 and t["level_right"] is True
    assert t["observed"][0]["start"] == e.start.isoformat()
    row = ev.compliance.iloc[0]
    assert row["days"] == 2 and row["adjusted"] == pytest.approx(7.0) and row["adjusted_ratio"] == pytest.approx(0.175)
    assert ev.benefit["low"] <= ev.benefit["pm25_relative"] <= ev.benefit["high"] < 0
    page = evaluation_report_html(ev)
    assert "预警提前2天发布" in page and "核定减排" in page and "减排效益模型预测" in page


def test_inputs_are_checked():
    with pytest.raises(InputError, match="start ≤ end"):
        Episode(dt.date(2015, 12, 10), dt.date(2015, 12, 7))
    with pytest.raises(InputError, match="yellow, orange or red"):
        Episode(dt.date(2015, 12, 7), dt.date(2015, 12, 10), level="purple")
    with pytest.raises(InputError, match="no warning episode"):
        evaluate_episodes(pd.DataFrame({"date": [], "pm25": []}), pd.DataFrame({"date": []}), [])
    table = load_control_periods("beijing-2013-2015", city="北京")
    assert {(r.start, r.end) for r in table.itertuples()} >= {(dt.date(2015, 12, 7), dt.date(2015, 12, 10)),
                                                             (dt.date(2015, 12, 19), dt.date(2015, 12, 22))}
    assert table["source"].str.len().min() > 10  # every period says where it comes from


def test_beijing_red_alerts_december_2015(shared_data):
    """The first red alert on the shared UCI data (PM2.5 only, small boosters; the full run: docs/evaluation.md)."""
    from emergency.evaluation import prsa_city_inputs

    daily, met = prsa_city_inputs(shared_data / "beijing_multisite_uci")
    assert daily["date"].min() == pd.Timestamp("2013-03-01") and len(daily) == 1096
    known = load_control_periods("beijing-2013-2015")
    ep = Episode(dt.date(2015, 12, 7), dt.date(2015, 12, 10), "red", "北京", issued=dt.date(2015, 12, 7))
    ev = evaluate_episodes(daily, met, [ep], list(zip(known["start"], known["end"])), train_start="2013-03-01",
                           train_end="2015-11-30", pollutants=("pm25",), params={"n_estimators": 100})[0]
    pm = ev.pm25
    assert ev.days["pm25"].iloc[:4].round().tolist() == [178.0, 243.0, 241.0, 102.0]  # the station means
    assert int(ev.days["stagnant"].iloc[:4].sum()) == 3
    assert pm.placebo_n >= 40
    # the BAU under-predicts stagnant winter windows (placebo median > 0); the alert's windows sit inside the null
    assert pm.placebo_p50 > 0
    assert pm.verdict == "not_detectable"
    assert pm.minimum_detectable < -20  # a −11 to −21 % effect is below what these data can show
    assert ev.timeliness["kind"] == "miss" and ev.timeliness["observed"][0]["start"] == "2015-12-06"


def test_a_database_warning_gives_its_episode_exclusions_and_compliance(settings):
    """``airwarn evaluate --warning ID``: the record's period, level and issue day (Beijing), the area's other
    warnings left out of training, the compliance reductions of the warning days' product folders."""
    import argparse

    from airwarn.core.dates import today_beijing
    from airwarn.core.products import COMPLIANCE_REDUCTIONS_CSV, product_path
    from emergency import lifecycle as lc
    from emergency.cli_common import open_engine as _engine
    from emergency.evaluation_cli import _from_warning

    RULES = "national-2019@2019-07-01"
    eng = _engine(settings)
    first = lc.issue(eng, area=settings.city, level="orange", user="c", role="commander",
                     start=dt.date(2015, 11, 27), end=dt.date(2015, 12, 1), rules_version=RULES)
    lc.lift(eng, first.id, user="c", role="commander")
    w = lc.issue(eng, area=settings.city, level="red", user="c", role="commander",
                 start=dt.date(2015, 12, 7), end=dt.date(2015, 12, 10), rules_version=RULES)
    comp = product_path(settings.output_dir, dt.date(2015, 12, 8), COMPLIANCE_REDUCTIONS_CSV)
    comp.parent.mkdir(parents=True, exist_ok=True)
    comp.write_text("date,pollutant,planned,adjusted\n2015-12-08,so2,1.0,0.8\n", encoding="utf-8")
    args = argparse.Namespace(warning=w.id, city=None, compliance=None)
    episodes, others, paths, rules, city, cuts = _from_warning(args, settings)
    assert cuts is None  # no list in force on its start day: the benefit model's prediction is not available
    assert episodes == [Episode(dt.date(2015, 12, 7), dt.date(2015, 12, 10), "red", settings.city, warning_id=w.id,
                                issued=today_beijing())]
    assert others == [(dt.date(2015, 11, 27), dt.date(2015, 12, 1))] and city == settings.city
    assert paths == [comp] and rules == "national-2019"  # the rule set the warning was issued under
    # with a list in force and an inventory, the level's cuts feed the benefit model's prediction
    from airwarn.core.db import create_tables
    from emergency.demo import make_demo_inventory
    from emergency.reductions import compute_reductions, import_inventory
    from enterprise_list.io import import_list
    from enterprise_list.sample import make_sample_list

    create_tables(eng)
    v = import_list(eng, make_sample_list(30, 2015), "30家(合成)", dt.date(2015, 1, 1), synthetic=True)
    from airwarn.core.db import session_scope

    with session_scope(eng) as s:
        red = compute_reductions(s, "red", version=v.version_id)
    inv = settings.data_dir / "inventory.csv"
    make_demo_inventory(red.list_baseline).to_csv(inv, index=False)
    import_inventory(eng, inv, name="示例清单", area=settings.city, year=2015, synthetic=True)
    cuts = _from_warning(args, settings)[5]
    assert set(cuts) >= {"ppm", "nox", "so2", "voc"} and cuts["nh3"] == 0.0 and 0 < cuts["ppm"] < 1
    d = lc.draft(eng, area=settings.city, level="yellow", user="c", role="commander",
                 start=dt.date(2016, 1, 1), end=dt.date(2016, 1, 2))
    with pytest.raises(InputError, match="issued or lifted"):
        _from_warning(argparse.Namespace(warning=d.id, city=None, compliance=None), settings)
