"""The replay of many forecasts (emergency.decision.forecast_recommendations, the backtest path) applies
the rule set's by-pollutant rule exactly as emergency.engine.assess does for one forecast: an O3_8h-led
exceedance starts no colour warning in either, a PM2.5-led one the same level in both. Before, the
replay graded the AQI alone and recommended a colour warning the engine refused."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from emergency.engine import assess
from emergency.rules import load_rules
from emergency.decision import DecisionCalibration, colour_mask, forecast_recommendations, rules_signature
from emergency.replay import replay

RULES = load_rules("national-2024")


def _cal() -> DecisionCalibration:
    ident = {"x": [0.0, 1.0], "y": [0.0, 1.0]}
    tables = {span: {k: ident for k in ("yellow", "orange", "red")} for span in ("window", "horizon")}
    return DecisionCalibration("national-2024", RULES.version, rules_signature(RULES), (1, 3), tables,
                               {"yellow": 0.3, "orange": 0.3, "red": 0.3}, 1.0)


def _dataset(primary: list[str] | None, seed: int = 0) -> xr.Dataset:
    """One city, one issue day; AQI 230–260 on D+1 … D+4 (orange under the 2024 rules), clean after."""
    rng = np.random.default_rng(seed)
    base = np.array([240, 250, 260, 230, 90, 80, 70, 60, 60, 60], dtype=float)
    members = np.clip(base * np.exp(rng.normal(0, 0.08, (40, 10))), 10, 500)
    qs = np.array([0.05, 0.25, 0.5, 0.75, 0.95])
    q = np.quantile(members, qs, axis=0).T
    issued = pd.DatetimeIndex(["2026-07-10"])
    valid = issued.values[:, None] + (np.arange(1, 11) * np.timedelta64(1, "D"))[None]
    data = {"aqi": (("city", "issued", "lead_day", "quantile"), q[None, None]),
            "aqi_scenario": (("city", "issued", "lead_day", "member"), members.T[None, None]),
            "aqi_issue_day": (("city", "issued"), np.array([[150.0]]))}
    if primary is not None:
        data["primary_pollutant"] = (("city", "issued", "lead_day"), np.array(primary, dtype=object)[None, None])
    return xr.Dataset(data, coords={"city": ["阳泉"], "issued": issued, "lead_day": np.arange(1, 11),
                                    "quantile": qs, "member": np.arange(40),
                                    "valid_date": (("issued", "lead_day"), valid)})


def _agree(ds: xr.Dataset) -> tuple[str, str]:
    rows = forecast_recommendations(ds, RULES, _cal()).set_index("decision")
    for decision in ("probability", "median"):
        r = assess(ds, RULES, calibration=_cal(), decision=decision)
        row = rows.loc[decision]
        assert r.level.key == row["level"], decision
        assert (str(r.start or ""), str(r.end or "")) == (row["start"], row["end"]), decision
    return rows.loc["probability", "level"], rows.loc["median", "level"]


def test_i15_replay_and_assess_agree_no_colour_warning_on_o3_led_days():
    ds = _dataset(["o3_8h"] * 4 + ["pm25"] * 6)
    assert _agree(ds) == ("none", "none")
    r = assess(ds, RULES, calibration=_cal())
    assert any("臭氧" in t for t in r.reasons)                    # the advice says why
    # the same AQI without the pollutant column: every day counts, as before
    assert _agree(_dataset(None)) == ("orange", "orange")


def test_i15_replay_and_assess_agree_on_the_level_of_pm25_led_days():
    assert _agree(_dataset(["pm25"] * 4 + [""] * 6)) == ("orange", "orange")
    assert _agree(_dataset(["pm25,o3_8h", "pm25", "pm25", "pm25"] + ["o3_8h"] * 6)) == ("orange", "orange")


@pytest.mark.parametrize("seed", range(4))
def test_i15_replay_and_assess_agree_on_mixed_pollutants(seed):
    rng = np.random.default_rng(100 + seed)
    primary = list(rng.choice(["pm25", "o3_8h", "pm10", ""], size=10))
    _agree(_dataset(primary, seed))


def test_i15_colour_mask_reads_the_column_or_the_pollutant_quantiles():
    ds = _dataset(["o3_8h", "pm25", "", "pm10"] + ["pm25"] * 6)
    assert colour_mask(ds, RULES)[0, :4].tolist() == [False, True, True, False]
    assert colour_mask(ds, load_rules("national-2019")) is None   # no by_pollutant: every day counts
    # no column: the AQI engine on the median pollutant quantiles (O3 8 h 300 µg/m³ leads; PM2.5 160 leads)
    plain = _dataset(None)
    o3 = np.where(np.arange(10) < 2, 300.0, 20.0)
    pm = np.where(np.arange(10) < 2, 20.0, 160.0)
    for name, v in (("o3_8h", o3), ("pm25", pm)):
        plain[name] = (("city", "issued", "lead_day", "quantile"),
                       np.broadcast_to(v[:, None], (10, plain.sizes["quantile"]))[None, None].copy())
    assert colour_mask(plain, RULES)[0].tolist() == [False, False] + [True] * 8


def test_i15_observed_replay_applies_the_pollutant_rule_when_asked():
    days = pd.date_range("2015-07-01", periods=20)
    aqi = np.where((days >= "2015-07-05") & (days <= "2015-07-08"), 240.0, 80.0)
    daily = pd.DataFrame({"city": "阳泉", "date": days, "aqi": aqi, "primary_pollutant": "o3_8h"})
    seasons = {"summer": ("2015-07-01", "2015-07-20")}
    kept = replay(daily, ["阳泉"], ["national-2024"], seasons, by_pollutant=True)
    assert kept.empty                                          # O3-led: no colour warning
    assert replay(daily, ["阳泉"], ["national-2024"], seasons)["level"].tolist() == ["orange"]
    pm = replay(daily.assign(primary_pollutant="pm25"), ["阳泉"], ["national-2024"], seasons, by_pollutant=True)
    assert pm["level"].tolist() == ["orange"]
