"""The engine records structured details; emergency.reasons renders every Chinese sentence from them."""
from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from airwarn.core.errors import AirwarnError, InputError
from airwarn.core.vocab import WarningLevel
from emergency.engine import assess, stale_data_warnings
from emergency.forecast_input import read_forecast
from emergency.reasons import data_warning_text, reason_sentences, render_reasons, why_not_text
from emergency.rules import load_rules
from tests.emergency.test_decision import _cal, _dataset
from tests.source import code_strings

ROOT = Path(__file__).resolve().parents[2]
RULES = load_rules("national-2024")
CJK = re.compile("[\u4e00-\u9fff]")


def _rendered(rec) -> tuple[str, ...]:
    """The reasons rendered again from the recommendation's details, after a JSON round trip."""
    details = json.loads(json.dumps(rec.to_dict()["reason_details"], ensure_ascii=False))
    return render_reasons(details, city=rec.city, rules=load_rules(rec.rules_name), level=rec.level)


def _frame(values, primary=None) -> pd.DataFrame:
    df = pd.DataFrame({"city": "阳泉", "valid_date": pd.date_range("2026-01-11", periods=len(values)),
                       "aqi": [float(v) for v in values]})
    if primary is not None:
        df["primary_pollutant"] = primary
    return df


@pytest.mark.parametrize("kwargs", [
    {"forecast": _frame([160, 160, 210, 90, 210, 220, 60, 60, 60])},          # upgrade, merged, later
    {"forecast": _frame([160, 210, 215, 120, 60]), "regional_minimum": "red"},
    {"forecast": _frame([120, 160, 90, 80])},                                  # temporary measures
    {"forecast": _frame([60, 70, 80])},                                        # no warning
    {"forecast": _frame([90, 230, 240, 90], ["pm25", "o3_8h", "pm10", ""])},   # by pollutant
    {"forecast": _frame([120, 160, 170, 90]), "rules": "national-2019"},
])
def test_median_reasons_are_rendered_from_the_details(kwargs):
    rec = assess(**kwargs)
    assert rec.reasons and _rendered(rec) == rec.reasons


def test_probability_reasons_are_rendered_from_the_details():
    members = np.full((30, 10), 80.0)
    members[:12, 0:3] = 240.0
    rec = assess(_dataset(members, float("nan")), RULES, calibration=_cal((0.3, 0.3, 0.3), keep=0.5),
                 in_force="yellow")
    assert rec.decision == "probability" and _rendered(rec) == rec.reasons
    det = next(d for d in rec.reason_details if d["code"] == "decision.probability")
    assert det["issue_aqi"] is None and det["start"] == str(rec.start) and det["condition"]
    # the conclusion, the basis (kept at half the thresholds) and the missing issue-day AQI: one record
    first = reason_sentences(det, city=rec.city, rules=RULES, level=rec.level)
    assert first == rec.reasons[:3]
    assert first[1] == ("决策依据(未来1–3天,经验证期校准):P(黄色预警条件)=0.40≥0.15、P(橙色预警条件)=0.40≥0.15、"
                        "P(红色预警条件)=0.00<0.15;黄色预警持续中,按保持阈值(启动阈值的50%)判断")
    assert first[2] == "提示:预报文件未给出起报日实况AQI,跨起报日的持续过程可能被低估"


def test_handmade_records_give_the_engine_texts():
    ctx = {"city": "阳泉", "rules": RULES, "level": WarningLevel.ORANGE}
    assert reason_sentences({"code": "regional_minimum", "from": "none", "to": "orange"}, **ctx) == (
        "省级区域预警要求不低于橙色预警,按区域预警级别橙色预警执行(由无预警上调)",)
    assert reason_sentences({"code": "episode.later", "level": "red", "start": "2026-01-15", "end": "2026-01-17"},
                            **ctx) == ("另预测2026-01-15至2026-01-17出现红色预警过程",)
    assert reason_sentences({"code": "probability.advisory", "level": "red", "probability": 0.55,
                             "threshold": 0.5}, **ctx) == (
        "概率预报:预报期内达到红色预警启动条件的概率为55%,高于中位数预报给出的橙色预警;建议会商重点研判,必要时提前预警",)
    assert reason_sentences({"code": "by_pollutant.unknown", "colour_warnings": ["pm25"]}, **ctx) == ()
    assert reason_sentences({"code": "no_warning", "max_aqi": 95.0, "by_pollutant": False}, **ctx) == (
        "预报期内未达到任何预警启动条件(最高AQI 95)",)
    with pytest.raises(AirwarnError, match="got 'level_up'"):
        reason_sentences({"code": "level_up"}, **ctx)
    assert why_not_text({"code": "calibration_missing", "model": "m1"}) == "模型目录m1缺少预警决策校准,需重新训练模型"


def test_data_warnings_are_records_too(tmp_path):
    members = np.full((30, 10), 240.0)
    ds = _dataset(members, 240.0).assign(
        last_observed=(("city", "issued"), np.array([["2026-01-07"]], dtype="datetime64[ns]")))
    rec = assess(ds, RULES, calibration=tmp_path)                   # no calibration file: median + fallback
    codes = [d["code"] for d in rec.data_warning_details]
    assert codes == ["data.stale_observations", "data.decision_fallback"]
    assert rec.data_warnings == tuple(data_warning_text(d) for d in rec.data_warning_details)
    assert rec.data_warning_details[0] == {"code": "data.stale_observations", "city": "阳泉",
                                           "last_observed": "2026-01-07", "as_of": "2026-01-10", "age_days": 3}
    assert rec.data_warnings[0] == stale_data_warnings("阳泉", dt.date(2026, 1, 7), dt.date(2026, 1, 10))[0]
    assert f"模型目录{tmp_path.name}缺少预警决策校准" in rec.data_warnings[1]
    assert rec.to_dict()["data_warning_details"][1]["why"] == {"code": "calibration_missing", "model": tmp_path.name}
    decided = next(d for d in rec.reason_details if d["code"] == "decision.median")
    assert decided["why_code"] == "calibration_missing"
    assert decided["why"] == why_not_text(rec.data_warning_details[1]["why"])


@pytest.mark.parametrize("module", ["emergency/engine.py", "emergency/forecast_input.py"])
def test_the_engine_and_its_reader_hold_no_chinese_text(module):
    # every Chinese sentence of a recommendation is written in emergency/reasons.py
    assert [(line, s) for line, s in code_strings(ROOT / module) if CJK.search(s)] == []


def test_a_netcdf_is_read_through_the_product_schema(tmp_path):
    # a file whose 'aqi' lacks the product's dims is refused by forecast.product.open_forecast
    valid = pd.date_range("2026-01-11", periods=3)
    bad = xr.Dataset({"aqi": (("lead_day",), [120.0, 160.0, 170.0])},
                     coords={"lead_day": [1, 2, 3], "valid_date": (("lead_day",), valid)})
    path = tmp_path / "forecast.nc"
    bad.to_netcdf(path)
    with pytest.raises(InputError, match=r"forecast\.nc: variable 'aqi': expected the dims \['city', 'issued', "
                                         r"'lead_day', 'quantile'\]"):
        read_forecast(path)
    # the Dataset object itself is still accepted (a test or notebook series)
    assert read_forecast(bad).aqi.tolist() == [120.0, 160.0, 170.0]
