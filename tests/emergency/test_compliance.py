"""Compliance during a warning from power use and CEMS (issue 17), on synthetic data made here."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from airwarn.core.errors import InputError, ReaderError
from emergency import compliance as cp
from emergency.compliance_io import read_cems, read_power
from tests.compliance_data import profile, series

START = dt.datetime(2026, 1, 15, 8, 0)   # warning start (Beijing); deadline 24 h later
END = dt.datetime(2026, 1, 18, 0, 0)
STEP = pd.Timedelta(minutes=15)
SWITCH = pd.Timestamp("2026-01-15 14:15")


def _times(step=STEP):
    return pd.date_range(pd.Timestamp("2026-01-01"), pd.Timestamp(END) - step, freq=step)




def _after(t, when):
    return np.asarray(t >= when)


@pytest.fixture(scope="module")
def case():
    t = _times()
    frames = []
    # A: stops at SWITCH (power -95 %)
    kw = profile(t, seed=1)
    kw[_after(t, SWITCH)] *= 0.05
    frames.append(series("C1", "A", kw, t))
    # B: ignores its stop order
    frames.append(series("C2", "B", profile(t, seed=2), t))
    # C: limited by 50 %, falls by 55 %
    kw = profile(t, seed=3)
    kw[_after(t, pd.Timestamp("2026-01-15 20:00"))] *= 0.45
    frames.append(series("C3", "C", kw, t))
    # D: limited by 30 %, falls 35 %, but its treatment meter stops while production runs
    kw = profile(t, seed=4)
    kw[_after(t, pd.Timestamp("2026-01-15 20:00"))] *= 0.65
    frames.append(series("C4", "D", kw, t))
    tr = profile(t, level=200, seed=5)
    tr[_after(t, pd.Timestamp("2026-01-16 00:00"))] *= 0.02
    frames.append(series("C4", "D", tr, t, "treatment"))
    # an unmapped meter
    frames.append(series("C9", "X", profile(t, seed=6), t))
    power = pd.concat(frames, ignore_index=True)
    power["meter_kind"] = pd.Categorical(power["meter_kind"], categories=["production", "treatment", "total"])
    obl = pd.DataFrame({
        "credit_code": ["C1", "C2", "C3", "C4", "C5"], "line_id": ["A", "B", "C", "D", "E"],
        "enterprise": ["甲厂", "乙厂", "丙厂", "丁厂", "戊厂"], "county": ["城区"] * 5, "industry": ["焦化"] * 5,
        "level": "orange", "kind": ["stop", "stop", "limit", "limit", "stop"],
        "required_cut": [1.0, 1.0, 0.5, 0.3, 1.0], "execution_hours": np.nan,
        "measure": ["停产", "停产", "限产50%", "限产30%", "停产"],
        "planned_pm": [1.0, 2.0, 0.5, 0.3, 1.0], "baseline_pm": [1.0, 2.0, 1.0, 1.0, 1.0]})
    return power, obl, cp.assess_compliance(power, obl, START, END)


def _status(res, line, day="2026-01-17"):
    r = res.lines[(res.lines["line_id"] == line) & (res.lines["date"] == dt.date.fromisoformat(day))]
    assert len(r) == 1
    return r.iloc[0]


def test_must_show_statuses(case):
    _, _, res = case
    got = [_status(res, x)["status"] for x in "ABCDE"]
    assert got == ["compliant", "violation", "compliant", "violation", "unverifiable"]
    assert _status(res, "A")["achieved_cut"] == pytest.approx(0.95, abs=0.02)
    assert _status(res, "C")["achieved_cut"] == pytest.approx(0.55, abs=0.02)
    assert _status(res, "D")["rule"] == "treatment"
    assert _status(res, "E")["rule"] == "data"
    assert _status(res, "B")["rule"] == "stop_min_fall"


def test_switch_off_within_one_step(case):
    _, _, res = case
    sw = _status(res, "A")["switch_off"]
    assert abs(pd.Timestamp(sw) - SWITCH) <= STEP
    assert pd.isna(_status(res, "B")["switch_off"])


def test_days_before_deadline_not_judged(case):
    _, _, res = case
    assert sorted(set(res.lines["date"])) == [dt.date(2026, 1, 16), dt.date(2026, 1, 17)]
    first = _status(res, "A", "2026-01-16")
    assert first["status"] == "compliant" and pd.Timestamp(first["deadline"]) == pd.Timestamp("2026-01-16 08:00")


def test_late_switch_off_is_violation():
    t = _times()
    kw = profile(t, seed=7)
    kw[_after(t, pd.Timestamp("2026-01-16 14:00"))] *= 0.02  # 6 h after the 24 h deadline
    obl = pd.DataFrame({"credit_code": ["C1"], "line_id": ["A"], "kind": ["stop"], "required_cut": [1.0]})
    res = cp.assess_compliance(series("C1", "A", kw, t), obl, START, END)
    assert _status(res, "A", "2026-01-16")["status"] == "violation"
    assert _status(res, "A", "2026-01-17")["status"] == "compliant"


def test_hourly_data_and_gaps():
    t = _times(pd.Timedelta(hours=1))
    kw = profile(t, seed=8)
    kw[_after(t, SWITCH.floor("h"))] *= 0.1
    keep = ~((t >= pd.Timestamp("2026-01-17 00:00")) & (t < pd.Timestamp("2026-01-17 12:00")))
    obl = pd.DataFrame({"credit_code": ["C1"], "line_id": ["A"], "kind": ["stop"], "required_cut": [1.0]})
    res = cp.assess_compliance(series("C1", "A", kw[keep], t[keep]), obl, START, END)
    assert _status(res, "A", "2026-01-16")["status"] == "compliant"
    day17 = _status(res, "A", "2026-01-17")
    assert day17["status"] == "unverifiable" and day17["rule"] == "gap_share_max"
    assert day17["gap_share"] == pytest.approx(0.5)


def test_baseline_not_computable():
    t = _times()
    m = np.asarray(t >= pd.Timestamp("2026-01-12"))  # only 3 days before the warning
    obl = pd.DataFrame({"credit_code": ["C1"], "line_id": ["A"], "kind": ["stop"], "required_cut": [1.0]})
    res = cp.assess_compliance(series("C1", "A", profile(t)[m], t[m]), obl, START, END)
    assert set(res.lines["status"]) == {"unverifiable"} and set(res.lines["rule"]) == {"baseline_days_min"}


def test_unmapped_and_csv(case, tmp_path):
    _, _, res = case
    assert res.unmapped[["source", "credit_code", "id"]].values.tolist() == [["power", "C9", "X"]]
    path = res.write_csv(tmp_path / "compliance.csv")
    back = pd.read_csv(path, encoding="utf-8-sig", dtype=str)
    assert list(back.columns) == list(cp.CSV_COLUMNS)
    assert back["status"].iloc[0] == "violation"  # violators first
    import json
    ev = json.loads(back[back["line_id"] == "A"]["evidence"].iloc[0])
    assert ev["rule"] == "stop_min_fall" and ev["switch_off"].startswith("2026-01-15 14:")


def test_achieved_reductions(case):
    _, _, res = case
    red = cp.achieved_reductions(res, targets={"pm": 0.2}, totals={"pm": 20.0})
    day = red[(red["date"] == dt.date(2026, 1, 17)) & (red["pollutant"] == "pm")].iloc[0]
    assert day["planned"] == pytest.approx(4.8)
    # A and C count their plan, B (no fall) ~0, D violation at its achieved cut (0.35 × 1, capped at 0.3), E zero
    assert day["adjusted"] == pytest.approx(1.0 + 0.5 + 0.3, abs=0.02)
    assert day["unverifiable_planned"] == pytest.approx(1.0)
    assert day["adjusted_ratio"] == pytest.approx(day["adjusted"] / 20.0)
    assert not day["met"]


def test_cems_rate_must_fall_and_not_exceed():
    t = _times(pd.Timedelta(hours=1))
    kw = profile(t, seed=9)
    kw[_after(t, pd.Timestamp("2026-01-15 20:00"))] *= 0.45  # power falls 55 %: limit 50 % met
    power = series("C3", "C", kw, t)
    flow = np.full(len(t), 1e5)
    conc = np.full(len(t), 50.0)
    cems_ok = pd.DataFrame({"credit_code": "C3", "outlet_id": "DA001", "line_id": "", "time": t,
                            "so2_mg_m3": conc, "nox_mg_m3": np.nan, "pm_mg_m3": np.nan,
                            "flow_m3_h": np.where(_after(t, pd.Timestamp("2026-01-15 20:00")), flow * 0.4, flow)})
    obl = pd.DataFrame({"credit_code": ["C3"], "line_id": ["C"], "kind": ["limit"], "required_cut": [0.5]})
    res = cp.assess_compliance(power, obl, START, END, cems=cems_ok)
    r = _status(res, "C")
    assert r["status"] == "compliant" and r["cems_status"] == "compliant" and r["cems_cut"] == pytest.approx(0.6)
    cems_bad = cems_ok.assign(flow_m3_h=flow)  # emissions do not fall although power does
    r = _status(cp.assess_compliance(power, obl, START, END, cems=cems_bad), "C")
    assert r["status"] == "violation" and r["rule"] == "cems"
    # one hour above the pre-warning level (its highest on the normal days) is a violation although the day's cut is met
    spike = cems_ok.copy()
    spike.loc[spike["time"] == pd.Timestamp("2026-01-17 10:00"), "so2_mg_m3"] = 150.0
    r = _status(cp.assess_compliance(power, obl, START, END, cems=spike), "C")
    assert r["status"] == "violation" and r["rule"] == "cems" and r["cems_cut"] > 0.5


def test_rules_file_and_validation(tmp_path):
    rules = cp.load_compliance_rules()
    assert rules["stop_min_fall"] == 0.75 and rules["execution_hours"] == 24
    assert "limit_tolerance" in rules.unverified and rules.label.startswith("compliance-default@")
    with pytest.raises(InputError, match="stop_min_fall"):
        cp.load_compliance_rules(overrides={"stop_min_fall": 1.5})
    bad = tmp_path / "r.yaml"
    bad.write_text("rules:\n  stop_min_fall: {value: 0.8}\n", encoding="utf-8")
    with pytest.raises(InputError, match="missing rule"):
        cp.load_compliance_rules(bad)
    assert cp.execution_hours("预警发布后12小时内", 24) == 12
    assert cp.execution_hours("预警期间", 24) == 24


def test_obligations_checked():
    with pytest.raises(InputError, match="kind"):
        cp.assess_compliance(pd.DataFrame(columns=["credit_code", "line_id", "meter_kind", "time", "kw"]),
                             pd.DataFrame({"credit_code": ["C"], "line_id": ["L"], "kind": ["transport"],
                                           "required_cut": [0.1]}), START, END)


# ------------------------------------------------------------------------------------ readers
def test_read_power_csv_and_xlsx(tmp_path):
    p = tmp_path / "power.csv"
    p.write_text("credit_code,line_id,time,kw,meter_kind\n"
                 "C1,A,2026-01-10 00:00,100,production\n"
                 "C1,A,2026-01-10T00:15+08:00,90.5,\n"
                 "C1,A,2026-01-10 00:00,5,treatment\n", encoding="utf-8")
    df = read_power(p)
    assert list(df.columns) == ["credit_code", "line_id", "meter_kind", "time", "kw"]
    assert df["meter_kind"].tolist() == ["production", "production", "treatment"]
    assert df["time"].iloc[1] == pd.Timestamp("2026-01-10 00:15")
    x = tmp_path / "power.xlsx"
    pd.DataFrame({"统一社会信用代码": ["C1"], "生产线编号": ["A"], "时间": ["2026-01-10 01:00"], "功率(kW)": [7.0]}) \
        .to_excel(x, index=False)
    assert read_power(x)["kw"].tolist() == [7.0]


@pytest.mark.parametrize("body, row, column", [
    ("C1,A,2026-01-10 00:00,abc\n", 2, "kw"),
    ("C1,A,2026-01-10 00:00,1\nC1,A,2026-01-10 00:15,-3\n", 3, "kw"),
    ("C1,A,not a time,1\n", 2, "time"),
    ("C1,,2026-01-10 00:00,1\n", 2, "line_id"),
    ("C1,A,2026-01-10 00:00,1\nC1,A,2026-01-10 00:00,2\n", 3, "time"),
])
def test_read_power_errors_name_row_and_column(tmp_path, body, row, column):
    p = tmp_path / "power.csv"
    p.write_text("credit_code,line_id,time,kw\n" + body, encoding="utf-8")
    with pytest.raises(ReaderError) as e:
        read_power(p)
    assert e.value.row == row and e.value.column == column
    assert str(p) in str(e.value) and f"row {row}" in str(e.value)


def test_read_power_bad_kind_and_missing_column(tmp_path):
    p = tmp_path / "power.csv"
    p.write_text("credit_code,line_id,time,kw,meter_kind\nC1,A,2026-01-10 00:00,1,lighting\n", encoding="utf-8")
    with pytest.raises(ReaderError, match=r"row 2, column 'meter_kind': expected one of"):
        read_power(p)
    p.write_text("credit_code,time,kw\nC1,2026-01-10 00:00,1\n", encoding="utf-8")
    with pytest.raises(ReaderError, match=r"missing column\(s\) \['line_id'\]"):
        read_power(p)


def test_read_cems(tmp_path):
    p = tmp_path / "cems.csv"
    p.write_text("credit_code,outlet_id,time,so2_mg_m3,nox_mg_m3,pm_mg_m3,flow_m3_h\n"
                 "C1,DA001,2026-01-10 00:00,35,,5,120000\n", encoding="utf-8")
    df = read_cems(p)
    assert df["line_id"].tolist() == [""] and np.isnan(df["nox_mg_m3"].iloc[0])
    p.write_text("credit_code,outlet_id,time,so2_mg_m3,nox_mg_m3,pm_mg_m3,flow_m3_h\n"
                 "C1,DA001,2026-01-10 00:00,35,,5,\n", encoding="utf-8")
    with pytest.raises(ReaderError, match=r"row 2, column 'flow_m3_h'"):
        read_cems(p)


# ------------------------------------------------------------------------------------ database
def _list_and_warning(engine):
    """A four-plant list in force from 2026-01-01 and an orange warning 2026-01-15 … 17."""
    from airwarn.core.db import session_scope
    from emergency import lifecycle as lc
    from enterprise_list.models import Enterprise, ListVersion, Measure, ProductionLine

    P = ("so2", "nox", "pm", "vocs")
    with session_scope(engine) as s:
        v = ListVersion(name="督查测试清单", year=2026, effective_date=dt.date(2026, 1, 1))
        s.add(v)
        s.flush()

        def ent(code, name, grade, ok=True, lines=()):
            e = Enterprise(version_id=v.id, credit_code=code, name=name, county="盂县", industry="焦化",
                           grade=grade, compliant=ok)
            for lc_, kind, frac, timing in lines:
                ln = ProductionLine(line_code=lc_, name=lc_, so2=1.0, nox=2.0, pm=1.0, vocs=0.0)
                if kind:
                    f = frac or 0.0
                    ln.measures.append(Measure(level="orange", kind=kind, fraction=frac, text=f"{kind}", timing=timing,
                                               cut_so2=f, cut_nox=2 * f, cut_pm=f, cut_vocs=0.0))
                e.lines.append(ln)
            return e
        s.add_all([ent("C1", "甲厂", "C", lines=[("A", "stop", 1.0, "预警发布后12小时内")]),
                   ent("C3", "丙厂", "B", lines=[("C", "limit", 0.5, None), ("T", "transport", None, None)]),
                   ent("C6", "己厂", "A", lines=[("V", "voluntary", 0.1, None)]),
                   ent("C7", "庚厂", "未评级", ok=False, lines=[("N", None, None, None)])])
    w = lc.issue(engine, area="盂县", level="orange", user="boss", role="commander", start="2026-01-15",
                 end="2026-01-17", rules_version="national-2024")
    return w


def test_check_warning_from_the_database(engine):
    """Obligations from the list in force (stop/limit at the level; non-compliant plants stop;
    voluntary grades left out), the warning's clock from its issue, the measure's own 执行时间."""
    from airwarn.core.db import session_scope

    w = _list_and_warning(engine)
    with session_scope(engine) as s:
        obl = cp.warning_obligations(s, "orange", dt.date(2026, 1, 15))
    assert obl[["credit_code", "line_id", "kind", "required_cut"]].values.tolist() == [
        ["C1", "A", "stop", 1.0], ["C3", "C", "limit", 0.5], ["C7", "N", "stop", 1.0]]
    assert obl["execution_hours"].tolist() == [12.0, 24.0, 24.0]
    assert obl["planned_nox"].tolist() == [2.0, 1.0, 2.0]
    t = _times()
    kw = profile(t, seed=11)
    kw[np.asarray(t >= pd.Timestamp("2026-01-15 03:00"))] *= 0.05
    power = series("C1", "A", kw, t)
    res = cp.check_warning(engine, w.id, power)
    start = res.start
    assert start >= dt.datetime(2026, 1, 15) and res.end == dt.datetime(2026, 1, 18)
    got = res.lines.groupby("line_id")["status"].agg(set).to_dict()
    assert got["A"] == {"compliant"} and got["C"] == {"unverifiable"} and got["N"] == {"unverifiable"}
    one = cp.check_warning(engine, w.id, power, day=dt.date(2026, 1, 17))
    assert set(one.lines["date"]) == {dt.date(2026, 1, 17)}


def test_cumsum_cost_matches_ruptures_l2():
    import ruptures as rpt
    rng = np.random.default_rng(3)
    for _ in range(20):
        n = int(rng.integers(8, 80))
        k = int(rng.integers(2, n - 2))
        x = np.r_[rng.normal(100, 5, k), rng.normal(rng.uniform(0, 90), 5, n - k)]
        a = rpt.Binseg(model="l2", min_size=1, jump=1).fit(x).predict(n_bkps=1)
        b = rpt.Binseg(custom_cost=cp._l2_cost(), min_size=1, jump=1).fit(x).predict(n_bkps=1)
        assert a == b


def test_cli_sample_then_check(tmp_path, monkeypatch, settings, capsys):
    from airwarn.cli import main
    from airwarn.core.db import create_tables, get_engine

    monkeypatch.setenv("AIRWARN_DATA_DIR", str(settings.data_dir))
    eng = get_engine(settings.db_url)
    create_tables(eng)
    w = _list_and_warning(eng)
    out = tmp_path / "out"
    assert main(["compliance", "sample", "--warning", str(w.id), "--out", str(out)]) == 0
    power = read_power(out / "power_synthetic.csv")
    assert set(power["line_id"]) <= {"A", "C", "N"} and len(power)
    assert (pd.read_csv(out / "power_synthetic.csv")["synthetic"] == True).all()  # noqa: E712
    assert main(["compliance", "check", "--warning", str(w.id), "--power", str(out / "power_synthetic.csv"),
                 "--cems", str(out / "cems_synthetic.csv"), "--date", "2026-01-17", "--out", str(out)]) == 0
    table = pd.read_csv(out / "compliance.csv", encoding="utf-8-sig")
    assert list(table.columns) == list(cp.CSV_COLUMNS) and set(table["date"]) == {"2026-01-17"}
    page = (out / "compliance_report.html").read_text(encoding="utf-8")
    assert "督查日报" in page and "（北京时间）" in page and "合成示例数据" in page and "无法核查的企业" in page
    assert "warning" in capsys.readouterr().out
    assert main(["compliance", "check", "--warning", str(w.id), "--power", str(tmp_path / "none.csv"),
                 "--out", str(out)]) == 2


def test_report_lists_violators_first(case):
    from emergency.compliance_report import compliance_report_html

    _, _, res = case
    page = compliance_report_html(res, reductions=cp.achieved_reductions(res, targets={"pm": 0.2}, totals={"pm": 20.0}))
    assert page.index("乙厂") < page.index("戊厂")  # violators (section 4) before unverifiable (section 5)
    assert "用电量降幅未达到要求" in page and "生产设施运行期间治污设施停运" in page
    assert "颗粒物" in page and "，" in page


def test_excluded_days_leave_the_baseline():
    t = _times()
    m = np.asarray(t >= pd.Timestamp("2026-01-07"))  # 8 baseline days: enough, unless two are excluded
    kw = profile(t, seed=12)
    kw[np.asarray(t >= SWITCH)] *= 0.05
    obl = pd.DataFrame({"credit_code": ["C1"], "line_id": ["A"], "kind": ["stop"], "required_cut": [1.0]})
    power = series("C1", "A", kw[m], t[m])
    assert set(cp.assess_compliance(power, obl, START, END).lines["status"]) == {"compliant"}
    res = cp.assess_compliance(power, obl, START, END, exclude_days=[dt.date(2026, 1, 8), dt.date(2026, 1, 9)])
    assert set(res.lines["rule"]) == {"baseline_days_min"}


def test_report_percentages_never_read_minus_zero():
    from airwarn.core.zh import percent_text as _pct  # what the report and the page use

    assert [_pct(v) for v in (-0.004, 0.0, 0.549, 1.0, -0.03, float("nan"))] == ["0%", "0%", "55%", "100%", "-3%", "—"]
