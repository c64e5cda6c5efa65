"""Concentration caps a measure names (issue 17, item 2): CEMS hourly concentrations against the measure's text."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from emergency import compliance as cp
from tests.compliance_data import profile, series
from tests.emergency.test_compliance import END, START, _after, _status, _times


@pytest.mark.parametrize("text, caps", [
    ("颗粒物排放浓度不高于10mg/m³", {"pm_mg_m3": 10.0}),
    ("限产30%；二氧化硫、氮氧化物排放浓度分别不高于35、50毫克/立方米", {"so2_mg_m3": 35.0, "nox_mg_m3": 50.0}),
    ("颗粒物、SO2、NOx排放浓度均不超过20 mg/m3", {"pm_mg_m3": 20.0, "so2_mg_m3": 20.0, "nox_mg_m3": 20.0}),
    ("烟尘不高于10mg/Nm³，二氧化硫不高于35mg/Nm³。", {"pm_mg_m3": 10.0, "so2_mg_m3": 35.0}),
    ("NOx 控制在 100 mg/m3 以内", {"nox_mg_m3": 100.0}),
    ("颗粒物、二氧化硫分别不高于10、20、30mg/m³", {}),   # three numbers, two pollutants: no cap read
    ("停产（预警发布后24小时内）", {}),
    ("颗粒物排放浓度下降30%", {}),                    # a fall, not a cap
])
def test_measure_caps_reads_the_forms_of_a_sheet(text, caps):
    assert cp.measure_caps(text) == caps


def _case(pm_after: float, measure: str):
    t = _times(pd.Timedelta(hours=1))
    kw = profile(t, seed=11)
    after = _after(t, pd.Timestamp("2026-01-15 20:00"))
    kw[after] *= 0.45  # power falls 55 %: a 50 % limit met
    power = series("C7", "G", kw, t)
    flow = np.where(after, 0.4e5, 1e5)  # emission rates fall 60 %
    cems = pd.DataFrame({"credit_code": "C7", "outlet_id": "DA001", "line_id": "G", "time": t,
                         "so2_mg_m3": 30.0, "nox_mg_m3": np.nan, "pm_mg_m3": 8.0, "flow_m3_h": flow})
    cems.loc[cems["time"] == pd.Timestamp("2026-01-17 03:00"), "pm_mg_m3"] = pm_after
    obl = pd.DataFrame({"credit_code": ["C7"], "line_id": ["G"], "kind": ["limit"], "required_cut": [0.5],
                        "measure": [measure]})
    return cp.assess_compliance(power, obl, START, END, cems=cems)


def test_one_hour_above_the_measures_cap_is_a_violation_with_its_evidence():
    measure = "限产50%，颗粒物排放浓度不高于10mg/m³"
    ok = _status(_case(9.5, measure), "G")  # the hour is below the cap (and below the pre-warning rate)
    assert ok["status"] == "compliant"
    res = _case(12.5, measure)
    rows = res.lines.set_index("date")
    day = rows.loc[pd.Timestamp("2026-01-17").date()]
    assert day["status"] == "violation" and day["rule"] == "concentration_cap"
    assert day["cap_exceeded"] == "pm_mg_m3 12.5 > 10" and "10" in day["reason"]
    # the other days keep their own status; the evidence of the CSV carries the worst hour
    assert rows.loc[pd.Timestamp("2026-01-16").date(), "status"] == "compliant"
    ev = res.table().set_index("date").loc["2026-01-17", "evidence"]
    assert '"cap_exceeded": "pm_mg_m3 12.5 > 10"' in ev and '"rule": "concentration_cap"' in ev


def test_without_a_cap_in_the_measure_the_same_hour_is_judged_by_the_rate_rules_only():
    # 12.5 mg/m³ with the flow down 60 % is a rate still under its pre-warning level: no cap, no violation
    assert _status(_case(12.5, "限产50%"), "G")["status"] == "compliant"
