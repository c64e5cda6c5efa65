"""The forecast product schema (forecast.product): names, the Dataset writer, the CSV and the reader."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from airwarn.core.errors import InputError
from forecast import product as P


def test_names_of_the_schema():
    assert P.p_var(200) == "p_aqi_gt_200" and P.decision_var(150) == "decision_threshold_gt_150"
    assert P.quantile_column(0.05) == "aqi_p05" and P.quantile_column(0.5) == "aqi_p50"
    assert list(P.QUANTILE_COLUMNS.values()) == ["aqi_p05", "aqi_p10", "aqi_p25", "aqi_p50", "aqi_p75",
                                                 "aqi_p90", "aqi_p95"]
    assert P.THRESHOLDS == (150, 200, 300) and P.LEADS == tuple(range(1, 11))
    assert P.STANDARD_2026_FROM == pd.Timestamp("2026-03-01")
    assert list(P.standard_for(pd.to_datetime(["2026-02-28", "2026-03-01"]))) == ["HJ633-2012", "HJ633-2026"]


class _Model:
    """What forecast_dataset reads of a model."""
    name = "stub"
    train_span_ = ("2014-01-01", "2014-12-31")
    threshold_pool_km = 250.0
    coords_ = pd.DataFrame({"city": ["阳泉", "太原"], "lon": [113.6, 112.5], "lat": [37.9, 37.9]})

    def decision_thresholds(self, t, cities):
        return np.full((len(cities), len(P.LEADS)), 0.3)


def _dataset(n_members=4):
    cities, issued = ["太原", "阳泉"], pd.Timestamp("2026-02-25")
    keys = pd.DataFrame({"city": cities, "issued": [issued] * 2})
    table = pd.DataFrame([(c, issued, L, issued + pd.Timedelta(days=L)) for c in cities for L in P.LEADS],
                         columns=["city", "issued", "lead_day", "valid_date"])
    n = len(table)
    base = np.linspace(40, 260, n)[:, None] * np.linspace(0.6, 1.4, len(P.QUANTILES))[None, :]
    conc = {"pm25": base, "pm10": base * 1.3}
    probs = {t: np.clip(base[:, 3] / (2 * t), 0, 1) for t in P.THRESHOLDS}
    members = np.repeat(base[:, 3].reshape(2, len(P.LEADS))[:, None, :], n_members, axis=1)
    crit = {c.key: np.array([0.1, 0.2]) for c in P.CRITERIA}
    return P.forecast_dataset(_Model(), table, keys, conc, base * 1.1, probs, members, crit,
                              aqi_mean=base[:, 3])


def test_dataset_layout_and_csv(tmp_path):
    ds = _dataset()
    assert ds["aqi"].dims == P.QUANTILE_DIMS and ds[P.p_var(200)].dims == P.DAILY_DIMS
    assert ds["aqi_scenario"].dims == P.MEMBER_DIMS and ds.sizes["criterion"] == len(P.CRITERIA)
    assert set(ds["aqi_standard"].values.ravel()) == {"HJ633-2012", "HJ633-2026"}
    nc, csv = P.write_forecast(ds, tmp_path / "2026-02-25" / "forecast.nc")
    frame = pd.read_csv(csv)
    assert list(frame.columns[:15]) == ["city", "issued", "lead_day", "valid_date", *P.QUANTILE_COLUMNS.values(),
                                        *P.P_VARS, "aqi_mean"]
    assert list(frame.columns[15:]) == ["pm25_p50", "pm10_p50", "aqi_standard", "primary_pollutant"]
    assert len(frame) == 2 * len(P.LEADS)
    back = P.open_forecast(nc)
    xr.testing.assert_identical(back, xr.load_dataset(nc))
    assert back[P.p_var(300)].dims == P.DAILY_DIMS


def test_open_forecast_names_the_file_and_what_is_missing(tmp_path):
    with pytest.raises(InputError, match=r"nowhere\.nc: no such file"):
        P.open_forecast(tmp_path / "nowhere.nc")
    bad = tmp_path / "bad.nc"
    bad.write_text("not netcdf")
    with pytest.raises(InputError, match=r"bad\.nc: not a readable netCDF"):
        P.open_forecast(bad)
    ds = _dataset().drop_vars("aqi")
    path = tmp_path / "noaqi.nc"
    ds.to_netcdf(path)
    with pytest.raises(InputError, match=r"noaqi\.nc: expected the variable\(s\) \['aqi'\]"):
        P.open_forecast(path)
    full = tmp_path / "full.nc"
    _dataset().to_netcdf(full)
    with pytest.raises(InputError, match=r"\['p_aqi_gt_500'\]"):
        P.open_forecast(full, require=("aqi", "p_aqi_gt_500"))
