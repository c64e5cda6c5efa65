"""Rules by primary pollutant (环大气〔2024〕6号), per-pollutant reduction targets and the region data."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from airwarn.core.errors import AirwarnError
from airwarn.cli import main
from airwarn.core.vocab import WarningLevel
from emergency.engine import assess
from emergency.rules import load_rules
from emergency.reductions import compute_reductions, import_inventory
from tests.emergency.test_decision import _cal, _dataset
from tests.emergency.test_reductions import engine, inventory_csv  # noqa: F401  (fixtures)

RULES = load_rules("national-2024")
SERIES = [120, 210, 230, 215, 90, 80, 70]  # three days > 200: orange by AQI alone


def _csv(tmp_path, primary, name="f.csv"):
    df = pd.DataFrame({"city": "阳泉", "issued": "2026-07-01",
                       "valid_date": pd.date_range("2026-07-02", periods=len(SERIES)).strftime("%Y-%m-%d"),
                       "aqi": SERIES, "primary_pollutant": primary})
    path = tmp_path / name
    df.to_csv(path, index=False)
    return path


def _warn(capsys, path, *extra):
    rc = main(["warn", "--forecast", str(path), "--rules", "national-2024", "--decision", "median", *extra])
    out, err = capsys.readouterr()
    return rc, out, err


def test_i15_warn_on_an_ozone_led_series_recommends_no_colour_warning_and_says_why(tmp_path, capsys):
    rc, out, err = _warn(capsys, _csv(tmp_path, "o3_8h"))
    assert rc == 0, err
    rec = json.loads(out)
    assert rec["level"] == "none" and rec["start"] is None
    why = next(r for r in rec["reasons"] if "臭氧" in r)
    assert "健康提示" in why and "VOCs" in why and "NOx" in why and "不启动颜色预警" in why
    assert "2026-07-03 AQI 210（首要污染物O3-8h）" in why
    assert [a["pollutant"] for a in rec["advisories"]] == ["o3_8h"]
    assert rec["advisories"][0]["dates"] == ["2026-07-03", "2026-07-04", "2026-07-05"]
    assert rec["probability"] == {"yellow": 0.0, "orange": 0.0, "red": 0.0}
    assert not any("未达到任何预警启动条件" in r for r in rec["reasons"])  # it was reached, by ozone
    assert rec["forecast"]["aqi"] == SERIES  # the AQI shown is the forecast's, ozone days included


def test_i15_warn_on_the_same_series_led_by_pm25_recommends_the_level(tmp_path, capsys):
    rc, out, _ = _warn(capsys, _csv(tmp_path, "PM2.5"))
    rec = json.loads(out)
    assert rc == 0 and rec["level"] == "orange" and (rec["start"], rec["end"]) == ("2026-07-03", "2026-07-05")
    assert rec["advisories"] == [] and rec["primary_pollutants"][1] == "pm25"
    # without the column the rules cannot tell: every day counts (as before), and the details say so
    df = pd.read_csv(_csv(tmp_path, "pm25")).drop(columns="primary_pollutant")
    df.to_csv(tmp_path / "none.csv", index=False)
    rec = json.loads(_warn(capsys, tmp_path / "none.csv")[1])
    assert rec["level"] == "orange" and {"code": "by_pollutant.unknown", "colour_warnings": ["pm25"]} in \
        rec["reason_details"]
    # the 2019 grading has no by-pollutant rule: ozone days count there
    rec = json.loads(_warn(capsys, _csv(tmp_path, "o3_8h"), "--rules", "national-2019")[1])
    assert rec["level"] == "orange"


def test_i15_mixed_days_dust_and_ties(tmp_path, capsys):
    # PM2.5 days on both sides of an ozone day; a dust day; a tie PM2.5/O3 counts for PM2.5
    path = _csv(tmp_path, ["pm25", "pm25", "o3_8h", "pm25，o3_8h", "", "pm10", "pm10"])
    rec = json.loads(_warn(capsys, path)[1])
    assert rec["level"] == "yellow"  # 210 and 215 alone (> 200 on a day), merged over the ozone day
    assert rec["primary_pollutants"][3] == "pm25,o3_8h"
    assert [a["pollutant"] for a in rec["advisories"]] == ["o3_8h"]
    dust = pd.DataFrame({"city": "阳泉", "issued": "2026-03-31", "valid_date": ["2026-04-01", "2026-04-02"], "aqi": [320, 260],
                         "primary_pollutant": ["pm10", "pm10"]})
    r = assess(dust, RULES)
    assert r.level.key == "none" and r.advisories[0]["pollutant"] == "pm10"
    assert any("扬尘管控" in x and "健康提示" in x for x in r.reasons)


def test_i15_a_bad_primary_pollutant_cell_is_one_line_naming_row_and_column(tmp_path, capsys):
    path = _csv(tmp_path, ["pm25", "pm25", "ozone", "pm25", "pm25", "pm25", "pm25"])
    rc, out, err = _warn(capsys, path)
    assert rc == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "f.csv: row 4, column 'primary_pollutant'" in err and "got 'ozone'" in err and "pm25" in err


def test_i15_probability_decision_counts_only_pm25_led_member_days():
    # every member has D+2..D+3 above 200: orange by AQI; with those days ozone-led, no colour warning
    members = np.full((40, 10), 90.0)
    members[:, 1:3] = np.linspace(210, 260, 40)[:, None]
    ds = _dataset(members, 120.0)
    assert assess(ds, RULES, calibration=_cal()).level.key == "orange"
    primary = np.array(["pm25"] * 10, dtype=object)
    primary[1:3] = "o3_8h"
    with_o3 = ds.assign(primary_pollutant=(("city", "issued", "lead_day"), primary[None, None]))
    r = assess(with_o3, RULES, calibration=_cal())
    assert r.decision == "probability" and r.level.key == "none"
    assert r.probability == {"yellow": 0.0, "orange": 0.0, "red": 0.0}
    assert r.advisories and r.advisories[0]["pollutant"] == "o3_8h"
    assert any("臭氧" in x for x in r.reasons)
    pm = ds.assign(primary_pollutant=(("city", "issued", "lead_day"), np.array(["pm25"] * 10, dtype=object)[None, None]))
    assert assess(pm, RULES, calibration=_cal()).level.key == "orange"


def test_i15_dataset_without_the_variable_takes_the_primary_from_the_median_pollutant_quantiles():
    members = np.full((40, 10), 90.0)
    members[:, 1:3] = 240.0
    ds = _dataset(members, 120.0)
    qs = ds["quantile"].values
    o3 = np.full((1, 1, 10, qs.size), 100.0)
    o3[:, :, 1:3] = 330.0          # O3 8 h 330 µg/m³ (2026): IAQI 240, the day's largest
    pm = np.full((1, 1, 10, qs.size), 50.0)
    dims = ("city", "issued", "lead_day", "quantile")
    ds = ds.assign(o3_8h=(dims, o3), pm25=(dims, pm))
    r = assess(ds, RULES, decision="median")
    assert r.primary_pollutants[1] == "o3_8h" and r.level.key == "none"
    ds["pm25"][:, :, 1:3] = 200.0  # PM2.5 200 µg/m³: IAQI 250 > the ozone's
    r = assess(ds, RULES, decision="median")
    assert r.primary_pollutants[1] == "pm25" and r.level.key == "orange"


def test_i15_by_pollutant_rule_validation(tmp_path):
    base = "name: t\nlevels:\n  yellow: {above: 200, hours: 24}\n  orange: {above: 200, hours: 48}\n" \
           "  red: {above: 300, hours: 72}\n"
    p = tmp_path / "r.yaml"
    p.write_text(base + "by_pollutant: {colour_warnings: [pm2.5]}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"by_pollutant.colour_warnings: expected a non-empty list .* got \['pm2.5'\]"):
        load_rules(p)
    p.write_text(base + "by_pollutant: {colour_warnings: [pm25, pm10], advice: {dust: x}}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"by_pollutant.advice"):
        load_rules(p)
    p.write_text(base + "by_pollutant: {colour_warnings: [pm25, pm10]}\n", encoding="utf-8")
    r = load_rules(p)
    assert r.counts_for_colour("pm10") and not r.counts_for_colour("o3_8h") and r.counts_for_colour("")
    assert "不启动颜色预警" in r.advice("o3_8h")[1]


def test_i15_per_pollutant_targets_in_the_rules_are_used_by_the_reductions(tmp_path, engine, inventory_csv):  # noqa: F811
    import_inventory(engine, inventory_csv, name="测试清单2026")
    city = tmp_path / "city.yaml"
    city.write_text("name: city\nextends: national-2024\nreduction_targets:\n  yellow: {so2: 0.15, vocs: 0.01}\n",
                    encoding="utf-8")
    rules = load_rules(city)
    assert rules.reduction_targets[WarningLevel.YELLOW] == {
        "so2": 0.15, "nox": 0.10, "pm": 0.10, "vocs": 0.01}
    t = {c.pollutant: c for c in compute_reductions(engine, "yellow", rules=rules).targets}
    # yellow cuts (test_reductions): so2 2.7 of 20 = 13.5 %, vocs 0.2 of 14 = 1.4 %, nox 2.9 of 34 = 8.5 %
    assert t["so2"].target == 0.15 and not t["so2"].met
    assert t["so2"].shortfall == pytest.approx(0.15 * 20 - 2.7)
    assert t["vocs"].target == 0.01 and t["vocs"].met
    assert t["nox"].target == 0.10 and not t["nox"].met
    # one fraction per pollutant given directly works as well
    t2 = {c.pollutant: c for c in compute_reductions(
        engine, "yellow", targets={"yellow": {"so2": 0.1, "nox": 0.05, "pm": 0.1, "vocs": 0.1}}).targets}
    assert t2["nox"].met and t2["nox"].target == 0.05
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: b\nextends: national-2024\nreduction_targets:\n  red: {so2: 0.3, nh3: 0.1}\n",
                   encoding="utf-8")
    with pytest.raises(AirwarnError, match=r"reduction_targets.red: expected the pollutants \['so2', 'nox', 'pm', 'vocs'\]"):
        load_rules(bad)


def test_i15_yangquan_is_in_the_fenwei_plain_and_2_26_is_the_historic_set():
    from airwarn.core.vocab import CITIES_2_26, FENWEI_PLAIN_CITIES, REGIONAL_OFFICES, key_region_of

    assert key_region_of("阳泉") == key_region_of("阳泉市") == "汾渭平原" and "阳泉" in FENWEI_PLAIN_CITIES
    assert REGIONAL_OFFICES[key_region_of("阳泉")] == "汾渭平原大气污染防治协作小组办公室"
    assert {"太原", "阳泉", "长治", "晋城"} <= set(FENWEI_PLAIN_CITIES) and key_region_of("海口") is None
    assert "阳泉" in CITIES_2_26 and len(CITIES_2_26) == 28  # the historic scoring set stays


@pytest.mark.slow  # trains a small model (about a minute alone, longer on a busy machine)
def test_i15_the_model_forecast_carries_the_primary_pollutant_into_nc_csv_and_warn(shared_data, tmp_path, capsys):
    import forecast.model as M
    from forecast.aqi import primary_pollutants
    from forecast.product import write_forecast
    from tests.forecast._model_fixtures import SMALL_PARAMS, coordinates, read_subset

    subset = read_subset(shared_data, cities=("阳泉", "太原", "晋中", "石家庄"), end="2015-02-28")
    m = M.ForecastModel(name="small", params=SMALL_PARAMS, max_rows=8_000, valid_days=60)
    m.fit(subset, coords=coordinates(shared_data, ("阳泉", "太原", "晋中", "石家庄")), until="2014-12-31")
    ds = m.predict(subset, issued="2015-01-20", cities=["阳泉"])
    assert ds["primary_pollutant"].dims == ("city", "issued", "lead_day")
    med = {p: ds[p].sel(quantile=0.5).values.ravel() for p in m.pollutants_}
    expected = primary_pollutants(med, dates=ds["valid_date"].values.ravel())
    assert list(ds["primary_pollutant"].values.ravel()) == list(expected)
    assert all(p in ("", *m.pollutants_) or "," in p for p in expected)
    nc, csv = write_forecast(ds, tmp_path / "forecast.nc")
    table = pd.read_csv(csv, keep_default_na=False)
    assert list(table["primary_pollutant"]) == list(expected)
    assert assess(nc, RULES, decision="median").primary_pollutants == tuple(expected)
    assert main(["warn", "--forecast", str(csv), "--decision", "median"]) == 0
    assert tuple(json.loads(capsys.readouterr().out)["primary_pollutants"]) == tuple(expected)
    # the validation fold's scenarios carry each lead's primary pollutant too: the decision is
    # calibrated on them graded as this forecast is graded (emergency.decision.calibrate)
    scen = m.validation_scenarios_
    assert scen.primary.shape == scen.observed.shape
    names = set(scen.primary.ravel())
    assert names <= {"", *m.pollutants_} | {n for n in names if "," in n} and "pm25" in names
