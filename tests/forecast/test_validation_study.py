"""The calibration-scheme study: its criterion is the mean per-city TS gain over persistence."""
from __future__ import annotations

import pandas as pd
import pytest

from forecast.validation_study import summary


def _long(rows):
    return pd.DataFrame(rows, columns=["city", "lead_day", "metric", "model", "value"])


def test_summary_criterion_is_the_mean_per_city_ts_gain():
    per_city = _long([
        ("阳泉", 1, "ts_200", "airwarn", 0.30), ("阳泉", 1, "ts_200", "persistence", 0.20),
        ("阳泉", 2, "ts_200", "airwarn", 0.00), ("阳泉", 2, "ts_200", "persistence", 0.10),
        ("太原", 1, "ts_200", "airwarn", 0.50), ("太原", 1, "ts_200", "persistence", 0.40),
        ("太原", 2, "ts_200", "airwarn", 0.20), ("太原", 2, "ts_200", "persistence", 0.20),
    ])
    pooled = _long([(None, L, m, mod, v) for L in (1, 2) for m, mod, v in
                    [("ts_200", "airwarn", 0.4), ("ts_200", "persistence", 0.3), ("bss_200", "airwarn", 0.1 * L),
                     ("rmse", "airwarn", 50.0 + L), ("rmse", "persistence", 60.0), ("rmse", "climatology", 52.5)]]
                   ).drop(columns="city")
    s = summary(per_city, pooled, city="阳泉")
    assert s["criterion"] == pytest.approx((0.1 - 0.1 + 0.1 + 0.0) / 4)
    assert s["share_at_or_above"] == pytest.approx(0.75)
    assert s["mean_bss_200"] == pytest.approx(0.15)
    assert s["阳泉_ts_200"] == [0.3, 0.0] and s["阳泉_ts_200_persistence"] == [0.2, 0.1]
    assert s["rmse"] == [51.0, 52.0] and s["rmse_below_references_at_every_lead"]
    assert s["rmse_climatology"] == [52.5, 52.5] and s["rmse_persistence"] == [60.0, 60.0]
