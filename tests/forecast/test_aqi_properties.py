"""Property tests of the AQI engine (hypothesis): exactness, monotonicity, continuity, report logic."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from forecast.aqi import AQI_LEVELS, aqi_from_concentrations, daily_aqi, iaqi
from tests.forecast.test_aqi_reference import IAQI_STEPS, TABLES, reference_iaqi

INDICATORS = [(std, ind) for std, table in TABLES.items() for ind in table]
FAST = settings(max_examples=150, deadline=None)


def concentrations(bps: tuple[int, ...], size: int = 40):
    """Lists of concentrations as they arrive: decimals with 0–7 places, GB/T 8170 halves, values a hair
    off a breakpoint (including the top), arbitrary floats and NaN."""
    upper = round(bps[-1] * 1.05, 1)
    decimal = st.integers(0, 7).flatmap(
        lambda p: st.decimals(min_value=0, max_value=upper, places=p, allow_nan=False, allow_infinity=False)
    ).map(lambda d: float(d))
    halves = st.integers(0, int(upper * 10)).map(lambda k: (2 * k + 1) / 20)  # x.x5: halves of CO tenths
    near = st.tuples(st.sampled_from(bps), st.sampled_from([-1, 1]), st.integers(1, 7)).map(
        lambda t: max(0.0, float(f"{t[0] + t[1] * 10.0 ** -t[2]:.{t[2]}f}")))
    anyfloat = st.floats(min_value=0, max_value=upper, allow_nan=False)
    return st.lists(st.one_of(decimal, halves, near, anyfloat, st.just(float("nan"))), min_size=1, max_size=size)


@FAST
@given(data=st.data())
def test_engine_equals_the_fraction_reference(data):
    std, ind = data.draw(st.sampled_from(INDICATORS))
    values = data.draw(concentrations(TABLES[std][ind]))
    got, flags = iaqi(ind, values, std, return_flags=True, above="ignore")
    ref = [reference_iaqi(ind, v, std) for v in values]
    np.testing.assert_array_equal(got, [r[0] for r in ref], err_msg=f"{std} {ind} {values}")
    np.testing.assert_array_equal(flags, [r[1] for r in ref])


@FAST
@given(data=st.data())
def test_iaqi_never_falls_as_concentration_rises(data):
    std, ind = data.draw(st.sampled_from(INDICATORS))
    values = sorted(v for v in data.draw(concentrations(TABLES[std][ind], 60)) if not math.isnan(v))
    got = iaqi(ind, values, std, above="ignore")
    scored = got[~np.isnan(got)]  # 2012 SO2 1 h / O3 8 h above 800: another indicator scores them
    assert np.all(np.diff(scored) >= 0), (std, ind, values, got)
    assert np.all((scored >= 0) & (scored <= 500) & (scored == np.round(scored)))


@FAST
@given(data=st.data())
def test_iaqi_is_continuous_at_breakpoints(data):
    std, ind = data.draw(st.sampled_from(INDICATORS))
    bps = TABLES[std][ind]
    j = data.draw(st.integers(1, len(bps) - 2))  # an inner breakpoint
    eps = data.draw(st.decimals(min_value="0.000001", max_value="1", places=6)).__float__()
    bp, step = bps[j], IAQI_STEPS[j]
    right_slope = (IAQI_STEPS[j + 1] - step) / (bps[j + 1] - bps[j])
    assert iaqi(ind, bp, std) == step
    above = iaqi(ind, bp + eps, std)
    below = iaqi(ind, bp - eps, std)
    assert step <= above <= step + math.ceil(right_slope * (eps + 0.5))  # +0.5: 2026 rounding
    assert below <= step


pollutant_values = st.fixed_dictionaries({
    "pm25": st.floats(0, 520), "pm10": st.floats(0, 620), "so2": st.floats(0, 2700),
    "no2": st.floats(0, 960), "co": st.floats(0, 62), "o3_8h": st.floats(0, 800),
})


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(pollutant_values, min_size=1, max_size=30),
       date=st.sampled_from(["2015-06-01", "2026-02-28", "2026-03-01", "2030-01-01"]))
def test_daily_report_logic(rows, date):
    df = pd.DataFrame(rows).assign(date=date)
    out = daily_aqi(df, above="ignore")
    names = ["pm25", "pm10", "so2", "no2", "co", "o3_8h"]
    iaqis = out[[f"iaqi_{p}" for p in names]].to_numpy()
    aqi = out["aqi"].to_numpy()
    np.testing.assert_array_equal(aqi, np.nanmax(iaqis, axis=1))
    for i, a in enumerate(aqi):
        lv = AQI_LEVELS[int(out["level"].iloc[i])]
        assert lv.aqi_min <= a <= lv.aqi_max and out["category"].iloc[i] == lv.category
        expected = ",".join(p for p, v in zip(names, iaqis[i]) if v == a) if a > 50 else ""
        assert out["primary_pollutant"].iloc[i] == expected
    # the AQI-only function agrees
    np.testing.assert_array_equal(
        aqi_from_concentrations(out["standard"].iloc[0], **{p: df[p].to_numpy() for p in names}), aqi)


@settings(max_examples=80, deadline=None)
@given(row=pollutant_values, which=st.sampled_from(["pm25", "pm10", "so2", "no2", "co", "o3_8h"]),
       more=st.floats(0, 300), std=st.sampled_from(["HJ633-2012", "HJ633-2026"]))
def test_raising_a_concentration_never_lowers_the_aqi(row, which, more, std):
    # 2012 scores O3 by its 1 h value above 800 (not given here), so O3 would drop out
    assume(not (std == "HJ633-2012" and which == "o3_8h" and row["o3_8h"] + more > 800))
    base = aqi_from_concentrations(std, **{k: [v] for k, v in row.items()})[0]
    higher = aqi_from_concentrations(std, **{k: [v + (more if k == which else 0)] for k, v in row.items()})[0]
    assert higher >= base
