"""The benefit of a level's measures (issue 19 item 1): the three published checks with the default
parameters, the Monte Carlo band, the lag kernel, zero cut, the parameter file's validation and the
``airwarn benefit`` JSON on a demo-like database (the synthetic demo list, a synthetic inventory made
as ``emergency.demo`` makes it, a forecast product in the pinned layout)."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import yaml

from airwarn.core.errors import InputError, UnknownNameError
from emergency.benefit import (BETA_KEYS, DAY_COLUMNS, estimate_benefit, load_benefit_parameters,
                               relative_response, steady_state_reduction)

ISSUED = dt.date(2026, 1, 10)
QUANTILES = np.array([0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95])
ALL_FIVE = BETA_KEYS
LIST_FOUR = ("ppm", "nox", "so2", "voc")  # the list's SO2, NOx, 颗粒物, VOCs: no NH3


def product(median_pm25, members: int = 200, sigma: float = 0.25, seed: int = 3) -> xr.Dataset:
    """One city's forecast in the product layout: lognormal PM2.5 (quantiles exact, members seeded,
    correlated across days), the other pollutants tied to it, AQI by HJ 633-2012 (January 2026)."""
    from forecast.aqi import aqi_from_concentrations
    from scipy import stats

    med = np.asarray(median_pm25, dtype=float)
    n = med.size
    rng = np.random.default_rng(seed)
    eps = np.empty((members, n))
    eps[:, 0] = rng.standard_normal(members)
    for j in range(1, n):
        eps[:, j] = 0.8 * eps[:, j - 1] + 0.6 * rng.standard_normal(members)

    def others(pm):
        return {"pm10": pm * 1.4, "so2": 20 + 0 * pm, "no2": 35 + 0.15 * pm, "co": 0.8 + 0.01 * pm,
                "o3_8h": np.clip(90 - 0.2 * pm, 15, None)}

    pm_m = med[None, :] * np.exp(sigma * eps)
    pm_q = med[None, :] * np.exp(sigma * stats.norm.ppf(QUANTILES))[:, None]  # (quantile, lead)
    aqi_m = aqi_from_concentrations("HJ633-2012", pm25=pm_m, **others(pm_m))
    aqi_q = aqi_from_concentrations("HJ633-2012", pm25=pm_q, **others(pm_q))
    leads = np.arange(1, n + 1)
    iss = np.array([np.datetime64(ISSUED, "ns")])
    data = {"pm25": pm_q, "aqi": aqi_q, **others(pm_q)}
    ds = xr.Dataset({k: (("city", "issued", "lead_day", "quantile"), v.T[None, None]) for k, v in data.items()},
                    coords={"city": ["阳泉"], "issued": iss, "lead_day": leads, "quantile": QUANTILES,
                            "member": np.arange(members),
                            "valid_date": (("issued", "lead_day"),
                                           iss[:, None] + leads[None].astype("timedelta64[D]"))})
    ds["aqi_scenario"] = (("city", "issued", "lead_day", "member"), aqi_m.T[None, None])
    return ds


@pytest.fixture(scope="module")
def flat150():
    return product([150.0] * 10)


def uniform(keys, cut):
    return {k: cut for k in keys}


# ----------------------------------------------------------------------------------- published checks
def test_beijing_red_alert_2015(flat150):
    """Primary emissions −36 % → PM2.5 −11 to −21 %: a uniform 36 % cut of all five, at steady state."""
    assert 0.11 <= steady_state_reduction(uniform(ALL_FIVE, 0.36)) <= 0.21
    res = estimate_benefit(flat150, fractions=uniform(ALL_FIVE, 0.36), n_draws=2000)
    steady = res.days.iloc[2:]  # the kernel is 3 days long: from the third day on Σ g = 1
    drop = 1 - steady["pm25_with_default"] / steady["pm25_without"]
    assert np.allclose(drop, 0.5 * 0.68 * 0.36) and ((drop >= 0.11) & (drop <= 0.21)).all()


def test_2plus26_warnings_2019(flat150):
    """−2 to −9 % on typical episode days: the list's four pollutants cut by the 10/20/30 % targets."""
    for cut in (0.10, 0.20, 0.30):
        assert 0.02 <= steady_state_reduction(uniform(LIST_FOUR, cut)) <= 0.09, cut
        res = estimate_benefit(flat150, fractions=uniform(LIST_FOUR, cut), n_draws=1000)
        drop = 1 - res.days["pm25_with_default"].iloc[2:] / res.days["pm25_without"].iloc[2:]
        assert ((drop >= 0.02) & (drop <= 0.09)).all(), cut


def test_rule_of_thumb_150_day(flat150):
    """A 10/20/30 % cut on a 150 µg/m³ day gives about −5/−10/−15 µg/m³ (within 10 %)."""
    for cut, expected in ((0.10, 5.0), (0.20, 10.0), (0.30, 15.0)):
        res = estimate_benefit(flat150, fractions=uniform(ALL_FIVE, cut), n_draws=1000)
        assert res.days["pm25_without"].iloc[5] == pytest.approx(150.0)
        delta = res.days["delta_pm25_default"].iloc[2:]
        assert (abs(delta - expected) <= 0.1 * expected).all(), (cut, delta.tolist())


# ----------------------------------------------------------------------------------- Monte Carlo, lag, zero
def test_band_contains_the_default_value_and_is_a_band(flat150):
    res = estimate_benefit(flat150, fractions=uniform(LIST_FOUR, 0.2), n_draws=10_000, seed=5)
    d = res.days
    assert res.n_draws == 10_000 and res.n_members == 200 and res.pm25_method == "quantile-mapping"
    assert ((d["pm25_with_p05"] <= d["pm25_with_default"]) & (d["pm25_with_default"] <= d["pm25_with_p95"])).all()
    assert (d["pm25_with_p05"] < d["pm25_with_p95"]).all() and (d["pm25_with_p95"] < d["pm25_without"]).all()
    # seeded: the same seed gives the same band, another seed nearly the same
    again = estimate_benefit(flat150, fractions=uniform(LIST_FOUR, 0.2), n_draws=10_000, seed=5)
    other = estimate_benefit(flat150, fractions=uniform(LIST_FOUR, 0.2), n_draws=10_000, seed=6)
    assert again.days.equals(d)
    assert np.allclose(other.days["pm25_with_p50"], d["pm25_with_p50"], atol=0.2)


def test_lag_kernel_moves_the_effect_to_the_next_days(flat150):
    active = np.zeros(10, dtype=bool)
    active[3] = True  # measures on the fourth day only
    res = estimate_benefit(flat150, fractions=uniform(ALL_FIVE, 0.3), n_draws=500, active=active)
    delta = res.days["delta_pm25_default"].to_numpy()
    full = 150 * 0.5 * 0.68 * 0.3
    assert np.allclose(delta[:3], 0) and np.allclose(delta[6:], 0)
    assert np.allclose(delta[3:6], [0.6 * full, 0.3 * full, 0.1 * full])
    # the pure function: a cut on day 1 only, one draw
    r = np.zeros((5, 4))
    r[0, 1] = 1.0
    assert np.allclose(relative_response(r, np.array([[0.3, 0, 0, 0, 0]]), np.array([0.5]), (0.6, 0.3, 0.1)),
                       [[0, 0.09, 0.045, 0.015]])


def test_zero_cut_gives_zero_effect():
    ds = product([90, 170, 230, 250, 180, 120, 80, 70, 60, 60])
    res = estimate_benefit(ds, fractions={}, n_draws=3000)
    d = res.days
    for c in ("pm25_with_p05", "pm25_with_p50", "pm25_with_p95", "pm25_with_default"):
        assert np.array_equal(d[c], d["pm25_without"]), c
    assert np.array_equal(d["p_aqi_gt_200_with"], d["p_aqi_gt_200_without"])
    assert np.array_equal(d["aqi_median_with"], d["aqi_median_without"])
    assert res.heavy_days_avoided == 0 and res.heavy_days_avoided_median == 0
    assert d["p_aqi_gt_200_without"].max() > 0.5  # the episode is there to be avoided


def test_episode_probabilities_fall_and_heavy_days_are_avoided():
    ds = product([90, 152, 155, 215, 180, 120, 80, 70, 60, 60])
    res = estimate_benefit(ds, fractions=uniform(LIST_FOUR, 0.3), n_draws=10_000)
    d = res.days
    assert (d["p_aqi_gt_200_with"] <= d["p_aqi_gt_200_without"] + 1e-12).all()
    assert res.heavy_days_avoided == pytest.approx((d["p_aqi_gt_200_without"] - d["p_aqi_gt_200_with"]).sum())
    assert res.heavy_days_avoided > 0.2
    # days 2 and 3: median PM2.5 152 and 155 µg/m³, AQI just above 200 (HJ 633-2012); about −7 % on day 2
    # (0.9 of the steady state) and −8 % on day 3 bring them to about 142 µg/m³, AQI ≤ 200
    assert (d["aqi_median_without"].iloc[1:3] > 200).all() and (d["aqi_median_with"].iloc[1:3] <= 200).all()
    assert (d["aqi_median_with"].iloc[3:5] > 200).all()  # 215 and 180 µg/m³ stay heavy
    assert res.heavy_days_avoided_median == 2


def test_csv_forecast_of_aqi_inverts_the_pm25_iaqi(tmp_path):
    """Without pm25 quantiles PM2.5 is taken as primary: AQI 200 ↔ 150 µg/m³, 150 ↔ 115 (HJ 633-2012)."""
    f = tmp_path / "f.csv"
    pd.DataFrame({"city": "阳泉", "issued": "2026-01-10", "valid_date": ["2026-01-11", "2026-01-12", "2026-01-13"],
                  "aqi": [150, 200, 100]}).to_csv(f, index=False)
    res = estimate_benefit(f, fractions=uniform(ALL_FIVE, 0.2), n_draws=200)
    assert res.pm25_method == "inverse-iaqi" and res.member_method == "deterministic"
    assert res.days["pm25_without"].tolist() == pytest.approx([115.0, 150.0, 75.0])
    assert res.days["p_aqi_gt_200_without"].tolist() == [0.0, 0.0, 0.0]


# ----------------------------------------------------------------------------------- parameters
def test_bundled_parameters_are_the_issue_defaults():
    p = load_benefit_parameters()
    assert p.label == "benefit-default@1" and p.sources
    got = {k: (t.default, t.low, t.high) for k, t in p.beta.items()}
    assert got == {"ppm": (0.30, 0.15, 0.45), "nox": (0.10, -0.10, 0.33), "so2": (0.08, 0.03, 0.15),
                   "nh3": (0.15, 0.14, 0.31), "voc": (0.05, 0.0, 0.10)}
    assert (p.f_local.default, p.f_local.low, p.f_local.high) == (0.5, 0.35, 0.65) and p.lag == (0.6, 0.3, 0.1)
    assert set(p.unverified) == {"beta.ppm", "beta.so2", "beta.voc", "f_local", "lag"}
    assert dict(p.list_pollutants) == {"pm": "ppm", "nox": "nox", "so2": "so2", "vocs": "voc"}


@pytest.mark.parametrize("change, message", [
    (lambda d: d["beta"]["ppm"].update(default=0.5), r"beta\.ppm.*low <= default <= high, got 0.15, 0.5, 0.45"),
    (lambda d: d["beta"]["nox"].pop("source"), r"beta\.nox.*'source' or 'unverified: true'"),
    (lambda d: d["beta"]["nh3"].update(source="nowhere"), r"source 'nowhere' is not a key of 'sources'"),
    (lambda d: d["beta"].pop("voc"), r"missing key\(s\) \['voc'\]"),
    (lambda d: d["lag"].update(values=[0.6, 0.3]), r"lag\.values.*summing to 1, got \[0.6, 0.3\]"),
    (lambda d: d["f_local"].update(high=1.2), r"f_local.*within 0…1"),
    (lambda d: d["list_pollutants"].pop("vocs"), r"unmapped \['vocs'\]"),
    (lambda d: d.pop("version"), r"missing key 'version'"),
])
def test_parameter_file_is_validated_on_load(tmp_path, change, message):
    from emergency.benefit import DATA_DIR, DEFAULT_PARAMETERS

    doc = yaml.safe_load((DATA_DIR / DEFAULT_PARAMETERS).read_text(encoding="utf-8"))
    change(doc)
    f = tmp_path / "p.yaml"
    f.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputError, match=message) as err:
        load_benefit_parameters(f)
    assert str(f) in str(err.value)
    with pytest.raises(UnknownNameError, match="no such file"):
        load_benefit_parameters(tmp_path / "missing.yaml")


# ----------------------------------------------------------------------------------- the CLI on a demo-like database
@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The synthetic demo list, a synthetic inventory (``emergency.demo``) and an episode forecast.nc."""
    from airwarn.core.db import get_engine
    from airwarn.core.settings import load_settings
    from emergency.demo import make_demo_inventory
    from emergency.reductions import compute_reductions, import_inventory
    from enterprise_list.demo import build_demo

    root = tmp_path_factory.mktemp("benefit")
    settings = load_settings(env={"AIRWARN_DATA_DIR": str(root / "var")}).ensure_dirs()
    build_demo(settings, ISSUED)
    engine = get_engine(settings.db_url)
    inv = root / "inventory.csv"
    make_demo_inventory(compute_reductions(engine, "yellow", version=ISSUED).list_baseline).to_csv(inv, index=False)
    import_inventory(engine, inv, name="合成清单", synthetic=True)
    folder = settings.output_dir / ISSUED.isoformat()
    folder.mkdir(parents=True)
    product([90, 170, 205, 215, 180, 120, 80, 70, 60, 60]).to_netcdf(folder / "forecast.nc")
    return settings


def _run(settings, capsys, *argv) -> tuple[int, str, str]:
    from airwarn.cli import main

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIRWARN_DATA_DIR", str(settings.data_dir))
        code = main(["benefit", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_json_schema_and_levels(demo, capsys):
    results = {}
    for level in ("yellow", "orange", "red"):
        code, out, err = _run(demo, capsys, "--level", level, "--date", ISSUED.isoformat(), "--json")
        assert code == 0, err
        results[level] = doc = json.loads(out)
        assert isinstance(doc["days"], list) and len(doc["days"]) == 10
        assert isinstance(doc["heavy_days_avoided"], float)
        for i, day in enumerate(doc["days"]):
            assert {"date", "pm25_without", "pm25_with_p05", "pm25_with_p50", "pm25_with_p95",
                    "p_aqi_gt_200_without", "p_aqi_gt_200_with"} <= set(day)
            assert set(day) == set(DAY_COLUMNS)
            assert day["date"] == (ISSUED + dt.timedelta(days=i + 1)).isoformat()
            assert day["pm25_with_p05"] <= day["pm25_with_p50"] <= day["pm25_with_p95"] <= day["pm25_without"]
            assert 0 <= day["p_aqi_gt_200_with"] <= day["p_aqi_gt_200_without"] <= 1
        assert doc["level"] == level and doc["list_version"] and doc["inventory"] == "合成清单"
        assert doc["n_draws"] == 10_000 and "f_local" in doc["unverified_parameters"]
        shares = [p["share"] for p in doc["plants"]]
        assert shares == sorted(shares, reverse=True) and 0 < sum(shares) <= 1.0001
    # stronger measures buy more
    assert (results["yellow"]["heavy_days_avoided"] <= results["orange"]["heavy_days_avoided"]
            <= results["red"]["heavy_days_avoided"]) and results["red"]["heavy_days_avoided"] > 0
    peak = [max(d["pm25_without"] - d["pm25_with_p50"] for d in results[lv]["days"])
            for lv in ("yellow", "orange", "red")]
    assert peak == sorted(peak) and peak[0] > 0


def test_cli_matches_the_library_and_the_cut_ratios(demo, capsys):
    from airwarn.core.db import get_engine
    from emergency.reductions import compute_reductions

    code, out, _ = _run(demo, capsys, "--level", "orange", "--date", ISSUED.isoformat(), "--json", "--draws", "2000")
    assert code == 0
    doc = json.loads(out)
    red = compute_reductions(get_engine(demo.db_url), "orange", version=ISSUED)
    lib = estimate_benefit(demo.output_dir / ISSUED.isoformat() / "forecast.nc", red, n_draws=2000, city="阳泉")
    assert doc == json.loads(lib.to_json())
    # r_p is the list's cut over the inventory's total, mapped pm → ppm, vocs → voc; no NH3
    assert doc["cut_fraction"] == {"ppm": round(red.ratio["pm"], 4), "nox": round(red.ratio["nox"], 4),
                                   "so2": round(red.ratio["so2"], 4), "nh3": 0.0, "voc": round(red.ratio["vocs"], 4)}
    # the top plant's share is its β-weighted cut over the list's
    beta = {"pm": 0.30, "nox": 0.10, "so2": 0.08, "vocs": 0.05}
    ent = red.enterprises
    w = sum(beta[p] * ent[f"cut_{p}"] / red.total[p] for p in beta)
    top = doc["plants"][0]
    row = ent.index[ent["credit_code"] == top["credit_code"]][0]
    assert top["share"] == pytest.approx(w[row] / w.sum(), abs=1e-4) and w[row] == w.max()


def test_cli_table_and_errors(demo, capsys, tmp_path):
    code, out, _ = _run(demo, capsys, "--level", "red", "--date", ISSUED.isoformat(), "--draws", "500")
    assert code == 0 and "红色预警措施效益" in out and "避免重污染天数" in out and "参数未经本地验证" in out
    code, _, err = _run(demo, capsys, "--level", "red", "--date", "2026-02-01")
    assert code == 2 and "no forecast product" in err
    code, _, err = _run(demo, capsys, "--level", "red", "--date", "10/01/2026")
    assert code == 2 and "--date: expected a date YYYY-MM-DD, got '10/01/2026'" in err
    code, _, err = _run(demo, capsys, "--level", "red", "--date", ISSUED.isoformat(), "--parameters",
                        str(tmp_path / "nope.yaml"))
    assert code == 2 and "no such file" in err


def test_reductions_without_inventory_are_refused(demo):
    import dataclasses

    from airwarn.core.db import get_engine
    from emergency.reductions import compute_reductions

    red = compute_reductions(get_engine(demo.db_url), "red", version=ISSUED)
    nc = demo.output_dir / ISSUED.isoformat() / "forecast.nc"
    with pytest.raises(InputError, match="no emission inventory is imported"):
        estimate_benefit(nc, dataclasses.replace(red, total=None, ratio={p: None for p in red.ratio}))
    with pytest.raises(InputError, match="give the level's reductions or the cut fractions"):
        estimate_benefit(nc)
    with pytest.raises(InputError, match="active: expected 10 values"):
        estimate_benefit(nc, red, active=[True] * 3)
