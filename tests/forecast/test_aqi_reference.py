"""An independent, slow reference IAQI, and checks of it against the standards' worked facts.

The reference shares nothing with :mod:`forecast.aqi`: its breakpoint tables are typed here from
the standards (HJ 633-2012 Table 1, HJ 633-2026 Table 3, as transcribed in
``../shared/docs/standards-notes.md`` §1.1–1.2), concentrations are taken as ``decimal.Decimal``
from their text (``repr`` of a float), HJ 633-2026 rounding is ``Decimal.quantize`` with
``ROUND_HALF_EVEN`` (GB/T 8170-2008 §3.3), and the IAQI is a :class:`fractions.Fraction` rounded up
with :func:`math.ceil`. The other AQI tests and ``bench/bench_aqi.py`` import it from here.
"""
from __future__ import annotations

import math
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

import pytest

IAQI_STEPS = (0, 50, 100, 150, 200, 300, 400, 500)

#: HJ 633-2012 Table 1 [µg/m³; CO mg/m³]; a column shorter than IAQI_STEPS ends there.
TABLE_2012: dict[str, tuple[int, ...]] = {
    "so2_24h": (0, 50, 150, 475, 800, 1600, 2100, 2620),
    "so2_1h": (0, 150, 500, 650, 800),
    "no2_24h": (0, 40, 80, 180, 280, 565, 750, 940),
    "no2_1h": (0, 100, 200, 700, 1200, 2340, 3090, 3840),
    "pm10_24h": (0, 50, 150, 250, 350, 420, 500, 600),
    "co_24h": (0, 2, 4, 14, 24, 36, 48, 60),
    "co_1h": (0, 5, 10, 35, 60, 90, 120, 150),
    "o3_1h": (0, 160, 200, 300, 400, 800, 1000, 1200),
    "o3_8h": (0, 100, 160, 215, 265, 800),
    "pm25_24h": (0, 35, 75, 115, 150, 250, 350, 500),
}
#: HJ 633-2026 Table 3: PM10 and PM2.5 changed, PM 1 h (real-time) scored on the daily columns.
TABLE_2026: dict[str, tuple[int, ...]] = {
    **TABLE_2012,
    "pm10_24h": (0, 50, 120, 250, 350, 420, 500, 600),
    "pm25_24h": (0, 35, 60, 115, 150, 250, 350, 500),
    "pm10_1h": (0, 50, 120, 250, 350, 420, 500, 600),
    "pm25_1h": (0, 35, 60, 115, 150, 250, 350, 500),
}
TABLES = {"HJ633-2012": TABLE_2012, "HJ633-2026": TABLE_2026}
NAN = float("nan")


def reference_iaqi(indicator: str, value, standard: str) -> tuple[float, bool]:
    """IAQI of one value and whether it lies above the table, by the standards' text.

    ``value`` is a number or its text; NaN/None give NaN. Above the table: 2012 SO2 1 h and O3 8 h
    give NaN (the standard scores another indicator), 2026 gives 200 / 300, every other column 500.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NAN, False
    text = repr(float(value)) if isinstance(value, float) else str(value)
    c = Decimal(text)
    if c < 0:
        return NAN, False
    if standard == "HJ633-2026":
        c = c.quantize(Decimal("0.1") if indicator.startswith("co") else Decimal("1"), rounding=ROUND_HALF_EVEN)
    bps = TABLES[standard][indicator]
    c = Fraction(c)
    if c > bps[-1]:
        special = {
            ("HJ633-2012", "so2_1h"): NAN, ("HJ633-2012", "o3_8h"): NAN,
            ("HJ633-2026", "so2_1h"): 200.0, ("HJ633-2026", "o3_8h"): 300.0,
        }
        return special.get((standard, indicator), 500.0), True
    for j in range(1, len(bps)):
        if c <= bps[j]:
            lo_c, hi_c, lo_i, hi_i = bps[j - 1], bps[j], IAQI_STEPS[j - 1], IAQI_STEPS[j]
            return float(math.ceil(lo_i + Fraction(hi_i - lo_i, hi_c - lo_c) * (c - lo_c))), False
    raise AssertionError("unreachable")


# --------------------------------------------------------------------------- the reference itself


@pytest.mark.parametrize(
    "indicator, value, standard, expected",
    [
        ("co_1h", 65.4, "HJ633-2026", 218),  # float maths gives 218.00000000000003 -> 219
        ("co_24h", 2.2, "HJ633-2012", 55),  # float gives 56
        ("pm25_24h", 4.9, "HJ633-2012", 7),  # float gives 8
        ("pm25_24h", 150.2, "HJ633-2012", 201),  # python-aqi gives 200
    ],
)
def test_reference_reproduces_the_float_traps(indicator, value, standard, expected):
    assert reference_iaqi(indicator, value, standard) == (expected, False)


def test_reference_rounds_half_even_on_the_decimal_text():
    # 34.5 -> 34 (4 is even), 35.5 -> 36, 0.15 -> 0.2 (1 is odd), 0.25 -> 0.2, 0.35 -> 0.4
    assert reference_iaqi("pm25_24h", 34.5, "HJ633-2026")[0] == math.ceil(Fraction(50 * 34, 35))
    assert reference_iaqi("pm25_24h", 35.5, "HJ633-2026")[0] == 52  # 36 -> 50 + 50/25
    assert reference_iaqi("co_24h", 0.15, "HJ633-2026")[0] == 5  # 0.2 mg/m³ -> 0.2 * 25
    assert reference_iaqi("co_24h", 0.25, "HJ633-2026")[0] == 5
    assert reference_iaqi("co_24h", 0.35, "HJ633-2026")[0] == 10


def test_reference_tables_have_the_2026_changes_only_in_pm():
    changed = {k for k in TABLE_2012 if TABLE_2012[k] != TABLE_2026[k]}
    assert changed == {"pm10_24h", "pm25_24h"}
    assert TABLE_2026["pm25_24h"][2] == 60 and TABLE_2026["pm10_24h"][2] == 120
