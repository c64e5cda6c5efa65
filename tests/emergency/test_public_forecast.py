"""The 20:00 public forecast (HJ 633-2026 §5.2.3), written by the daily chain from a forecast the
project's own model made on synthetic observations in tmp_path."""
from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from airwarn.cli import main
from emergency.public_forecast import FILES, POLLUTANT_NAMES, public_forecast
from tests.emergency.test_engine_inputs import make_dataset
from tests.test_chinese_outputs import english_words, html_text

DATE = dt.date(2026, 12, 2)


@pytest.fixture
def chain(settings):
    """The daily chain on synthetic observations: the committed model makes the forecast."""
    from emergency.daily import run_daily
    from forecast.synthetic import DEMO_CITIES, make_city_daily

    obs = make_city_daily(list(DEMO_CITIES), pd.Timestamp(DATE) - pd.Timedelta(days=400), DATE, seed=2026,
                          focus_city="阳泉")
    path = settings.observations[0]
    path.parent.mkdir(parents=True, exist_ok=True)
    obs.assign(date=obs["date"].dt.strftime("%Y-%m-%d")).to_csv(path, index=False)
    return run_daily(settings, DATE)


def test_i15_daily_chain_writes_the_20h_public_forecast(chain):
    res = chain
    assert res.forecast_made
    for name in FILES:
        assert res.folder / name in res.files and (res.folder / name).stat().st_size > 0
    txt = (res.folder / "public_forecast.txt").read_text(encoding="utf-8")
    page = (res.folder / "public_forecast.html").read_text(encoding="utf-8")
    doc = json.loads((res.folder / "public_forecast.json").read_text(encoding="utf-8"))
    assert "发布时间：2026-12-02 20:00（北京时间）" in txt and "2026-12-02 20:00（北京时间）" in page
    assert doc["published_at"] == "2026-12-02T20:00:00+08:00"
    # the next three days, today excluded, each with the range from the model's own quantiles
    assert [d["date"] for d in doc["days"]] == ["2026-12-03", "2026-12-04", "2026-12-05"]
    with xr.open_dataset(res.forecast_path) as ds:
        s = ds.sel(city="阳泉").isel(issued=-1)
        q = s["aqi"].sel(quantile=[0.25, 0.5, 0.75]).values
        primary = [str(p) for p in s["primary_pollutant"].values]
    for j, d in enumerate(doc["days"]):  # lead j+1
        lo, med, hi = q[j]
        assert d["aqi_low"] <= lo and d["aqi_high"] >= hi and d["aqi_low"] % 5 == 0 and d["aqi_high"] % 5 == 0
        assert d["aqi_high"] - d["aqi_low"] < (hi - lo) + 10 + 20 and d["aqi_median"] == round(med)
        assert f"AQI {d['aqi_low']}–{d['aqi_high']}" in txt
        names = "、".join(POLLUTANT_NAMES[k] for k in primary[j].split(",") if k)
        assert d["primary_pollutants"] == [k for k in primary[j].split(",") if k] and names in txt
    assert "细颗粒物（PM2.5）" in txt and "重度污染" in txt and "健康提示：" in txt
    assert english_words(txt) == [] and english_words(html_text(page)) == []
    assert "," not in txt and ":" not in txt.replace("20:00", "")  # full-width punctuation


def test_i15_public_forecast_names_ozone_and_the_level_range():
    ds = make_dataset({"阳泉": [230, 120, 40, 60]}, issued="2026-07-01")
    ds["primary_pollutant"] = (("city", "issued", "lead_day"), np.array([[["o3_8h", "pm25,no2", "", "pm10"]]],
                                                                        dtype=object))
    pf = public_forecast(ds, date="2026-07-01")
    d1, d2, d3 = pf.days
    assert (d1.primary_text, d2.primary_text, d3.primary_text) == ("臭氧（O3）", "细颗粒物（PM2.5）、二氧化氮（NO2）", "无")
    assert d1.level_text == "中度污染至重度污染" and d1.range_text == "AQI 200–260"
    assert d3.level_text == "优" and d3.aqi_high - d3.aqi_low == 20
    assert pf.published_at.isoformat() == "2026-07-01T20:00:00+08:00"
    with pytest.raises(ValueError, match="at least 3 days"):
        public_forecast(ds, date="2026-07-01", days=2)
    with pytest.raises(ValueError, match="reaches only 2 days after 2026-07-03"):
        public_forecast(ds, date="2026-07-03")


def test_i15_public_forecast_cli(settings, monkeypatch, capsys):
    monkeypatch.setenv("AIRWARN_DATA_DIR", str(settings.data_dir))
    assert main(["public-forecast", "--date", "2026-01-10"]) == 2
    assert "run 'airwarn daily --date 2026-01-10' first" in capsys.readouterr().err
    folder = settings.output_dir / "2026-01-10"
    folder.mkdir(parents=True)
    make_dataset({settings.city: [205, 212, 225, 180, 95]}).to_netcdf(folder / "forecast.nc")
    assert main(["public-forecast", "--date", "2026-01-10", "--days", "4"]) == 0
    assert capsys.readouterr().out.split() == [str(folder / n) for n in FILES]
    doc = json.loads((folder / "public_forecast.json").read_text(encoding="utf-8"))
    assert [d["date"] for d in doc["days"]] == ["2026-01-11", "2026-01-12", "2026-01-13", "2026-01-14"]
