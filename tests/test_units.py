"""The one registry of units (airwarn.core.units) and the glossary constants every package takes from
airwarn.core.vocab: pollutants, AQI thresholds, the HJ 633-2026 switch date."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from airwarn.core import units, vocab
from airwarn.core.errors import AirwarnError, InputError, UnknownNameError
from airwarn.core.units import convert, conversion, get, unit_of, unit_text
from tests.source import code_strings

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("airwarn", "forecast", "emergency", "enterprise_list", "dashboard")


# --------------------------------------------------------------------------- the registry


def test_codes_texts_and_cf_names():
    assert [unit_of(p).code for p in vocab.DAILY_POLLUTANTS] == ["ug/m3"] * 4 + ["mg/m3", "ug/m3"]
    assert unit_of("pm25").text == "\u00b5g/m\u00b3"  # MICRO SIGN, never the Greek mu U+03BC
    assert unit_of("co").text == "mg/m\u00b3"
    assert [unit_of(p).cf for p in ("pm25", "co", "aqi")] == ["ug m-3", "mg m-3", "1"]
    assert unit_of("cut_so2") is units.EMISSION and units.EMISSION.code == "t/d" and units.EMISSION.zh == "吨/日"
    # indicators, moving means, quantile columns and IAQIs take the unit of their variable
    assert unit_of("co_24h").code == unit_of("co_1h").code == unit_of("co_p50").code == "mg/m3"
    assert unit_of("pm25_24h").code == unit_of("o3_8h").code == unit_of("o3").code == "ug/m3"
    assert unit_of("iaqi_co").code == unit_of("p_aqi_gt_200").code == unit_of("aqi_p50").code == "1"
    met = {v: unit_of(v).cf for v in ("temp", "dewp", "rh", "pres", "rain", "wspm", "u", "blh")}
    assert met == {"temp": "degC", "dewp": "degC", "rh": "%", "pres": "hPa", "rain": "mm", "wspm": "m s-1",
                   "u": "m s-1", "blh": "m"}
    for unit in units.UNITS.values():
        assert "\u03bc" not in unit.text and get(unit.code) is unit and get(unit.cf) is unit


def test_any_spelling_finds_the_unit():
    for spelling in ("ug/m3", "ug m-3", "µg/m³", "μg/m³", "µg/m3", "微克/立方米"):
        assert get(spelling) is units.CONCENTRATION, spelling
    assert unit_text("μg/m3") == "µg/m³"
    assert get("吨/天") is get("t/day") is get("吨/日") is units.EMISSION
    assert get("kelvin").code == "K" and get("m s**-1").code == "m/s" and get("millibars").code == "hPa"


def test_unknown_names_are_airwarn_errors_that_say_what_is_known():
    with pytest.raises(UnknownNameError, match=r"unknown unit 'furlongs'; expected one of \[.*'ug/m3'"):
        get("furlongs")
    with pytest.raises(UnknownNameError, match=r"no unit known for the variable 'colour'; .*'pm25'"):
        unit_of("colour")
    with pytest.raises(InputError, match=r"cannot convert ug/m3 \(mass concentration\) to degC \(temperature\)"):
        convert(1.0, "ug/m3", "degC")
    assert issubclass(UnknownNameError, AirwarnError) and issubclass(InputError, ValueError)


def test_conversions_are_exact_where_the_decimals_are():
    # CO of the PRSA files: µg/m³ → mg/m³ by a division, so 300 is exactly 0.3 (300 * 0.001 is too)
    x = np.array([300.0, 1500.0, 100.0, 3.0])
    assert convert(x, "ug/m3", "mg/m3").tolist() == (x / 1000.0).tolist() == [0.3, 1.5, 0.1, 0.003]
    assert convert(0.3, "mg/m3", "ug/m3") == 300.0
    assert conversion("Pa", "hPa") == (0.01, 0.0) and convert(85000.0, "Pa", "hPa") == 850.0
    assert conversion("K", "degC") == (1.0, -273.15) and convert(273.15, "K", "degC") == 0.0
    assert conversion("m", "mm") == (1000.0, 0.0)
    assert convert(365.0, "t/a", "t/d") == 1.0 and convert(1000.0, "kg/d", "t/d") == 1.0
    assert convert(50.0, "%", "1") == 0.5
    # pandas and xarray keep their kind, index and coordinates
    s = pd.Series([500.0, 2000.0], index=["a", "b"], name="co")
    out = convert(s, "ug/m3", "mg/m3")
    assert isinstance(out, pd.Series) and out.index.tolist() == ["a", "b"] and out.tolist() == [0.5, 2.0]
    da = xr.DataArray([290.0], dims="x", coords={"x": [7]})
    assert convert(da, "K", "degC")["x"].item() == 7


# --------------------------------------------------------------------------- its users


def test_every_user_takes_its_units_from_the_registry():
    from forecast import aqi, nwp
    from forecast.io import prsa  # noqa: F401  (imports the registry's convert)

    assert {ind.unit for table in aqi.BREAKPOINTS.values() for ind in table.values()} == {"ug/m3", "mg/m3"}
    assert not hasattr(aqi, "_UNIT_TEXT")
    # the NWP conversions: every target is the registry's CF name of the glossary unit
    targets = {t for t, _, _ in nwp.UNIT_CONVERSIONS.values()}
    assert {"degC", "hPa", "m s-1", "mm", "m"} <= targets <= {u.cf for u in units.UNITS.values()}
    assert nwp.UNIT_CONVERSIONS["K"] == ("degC", 1.0, -273.15) and nwp.UNIT_CONVERSIONS["Pa"] == ("hPa", 0.01, 0.0)


def test_figures_label_axes_with_the_registry_texts():
    from dashboard.figures import groups_figure, pollutant_figure

    table = pd.DataFrame({"valid_date": ["2025-01-02", "2025-01-03"], "pm25_p50": [80.0, 120.0],
                          "co_p50": [1.2, 1.8]})
    fig = pollutant_figure(table)
    assert fig.layout.yaxis.title.text == "浓度 (µg/m³)" and fig.layout.yaxis2.title.text == "CO (mg/m³)"
    groups = pd.DataFrame({"county": ["城区"], **{f"cut_{p}": [1.0] for p in vocab.EMISSION_POLLUTANTS}})
    assert groups_figure(groups, "county", "t").layout.yaxis.title.text == "减排量 (t/d)"


def test_inventory_units_come_from_the_registry(tmp_path):
    from emergency.reductions import read_inventory

    path = tmp_path / "inv.csv"
    path.write_text("sector,so2,nox,pm,vocs,unit\nindustry,365,730,0,0,吨/年\nmobile,1,2,3,4,吨/日\n",
                    encoding="utf-8")
    inv = read_inventory(path).set_index(["sector", "pollutant"])["value_t_per_day"]
    assert inv[("industry", "so2")] == pytest.approx(1.0) and inv[("industry", "nox")] == pytest.approx(2.0)
    assert inv[("mobile", "vocs")] == 4.0  # 吨/日, the list's spelling, is t/d too


# --------------------------------------------------------------------------- glossary constants


def test_switch_date_thresholds_and_pollutants_have_one_owner():
    from forecast import aggregate, aqi, product
    from forecast.io import _csv

    assert vocab.HJ633_2026_FROM == dt.date(2026, 3, 1)
    assert aqi.SWITCH_DATE is vocab.HJ633_2026_FROM
    assert product.STANDARD_2026_FROM == pd.Timestamp(vocab.HJ633_2026_FROM)
    assert aqi.standard_for_date(vocab.HJ633_2026_FROM) == aqi.Standard.HJ633_2026
    assert aqi.standard_for_date(vocab.HJ633_2026_FROM - dt.timedelta(days=1)) == aqi.Standard.HJ633_2012
    assert vocab.AQI_THRESHOLDS == (vocab.AQI_MODERATE, vocab.AQI_HEAVY, vocab.AQI_SEVERE) == (150, 200, 300)
    assert product.THRESHOLDS is vocab.AQI_THRESHOLDS
    assert {c.threshold for c in product.CRITERIA} == set(vocab.AQI_THRESHOLDS)
    # the thresholds are the lower AQI bounds of the levels 4-6 (中度/重度/严重污染), exceeded strictly
    assert [aqi.AQI_LEVELS[lv].aqi_min - 1 for lv in (4, 5, 6)] == list(vocab.AQI_THRESHOLDS)
    assert aggregate.HOURLY_POLLUTANTS is _csv.HOURLY_POLLUTANTS is vocab.HOURLY_POLLUTANTS
    assert vocab.AQI_POLLUTANTS[:6] == vocab.DAILY_POLLUTANTS and vocab.AQI_POLLUTANTS[6:] == ("o3_1h",)


def _modules():
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            if "migrations" not in path.parts:  # revisions are frozen snapshots of the schema
                yield path


def test_no_module_spells_a_concentration_unit_or_the_switch_date_itself():
    unit = re.compile(r"µg|μg|ug/m3|mg/m3|mg/m³|ug m-3|mg m-3")
    found = [f"{p.relative_to(ROOT)}:{line}: {text[:60]!r}" for p in _modules() if p.name != "units.py"
             for line, text in code_strings(p) if unit.search(text)]
    assert found == []
    greek_mu = [f"{p.relative_to(ROOT)}" for p in _modules() if p.name != "units.py"
                and re.search(r"μg", p.read_text(encoding="utf-8"))]
    assert greek_mu == []
    date = re.compile(r"date\(\s*2026\s*,\s*3\s*,\s*1\s*\)")
    assert [p.relative_to(ROOT).as_posix() for p in _modules()
            if date.search(p.read_text(encoding="utf-8"))] == ["airwarn/core/vocab.py"]


def test_no_module_spells_the_emission_or_daily_pollutants_again():
    emission = re.compile(r"""[("\[]\s*['"]so2['"]\s*,\s*['"]nox['"]\s*,\s*['"]pm['"]\s*,\s*['"]vocs['"]""")
    daily = re.compile(r"""['"]pm25['"]\s*,\s*['"]pm10['"]\s*,\s*['"]so2['"]\s*,\s*['"]no2['"]\s*,\s*['"]co['"]""")
    found = [f"{p.relative_to(ROOT)}" for p in _modules() if p.name != "vocab.py"
             and (emission.search(p.read_text(encoding="utf-8")) or daily.search(p.read_text(encoding="utf-8")))]
    assert found == []
