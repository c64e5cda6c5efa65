"""Post-event report: forecast vs observed vs planned cuts."""
from __future__ import annotations

from airwarn.core.errors import AirwarnError
import pandas as pd
import pytest

from emergency.engine import assess
from emergency.report import post_event_report


def test_post_event_report(tmp_path):
    fc = pd.DataFrame({"city": "阳泉", "valid_date": pd.date_range("2026-01-11", periods=4), "aqi": [210, 220, 150, 90]})
    rec = assess(fc)
    obs = pd.DataFrame({"city": ["阳泉"] * 4 + ["太原"], "date": list(pd.date_range("2026-01-11", periods=4)) + ["2026-01-11"],
                        "aqi": [190, 240, 170, 80, 500]})
    rep = post_event_report(rec, obs)
    # errors: 210-190=20, 220-240=-20, 150-170=-20, 90-80=10 -> MAE 17.5, bias -2.5
    assert rep.summary["mae"] == pytest.approx(17.5) and rep.summary["bias"] == pytest.approx(-2.5)
    assert rep.summary["level"] == "orange" and rep.summary["observed_level"] == "orange"  # 240 + 190,170 >150 72 h
    assert rep.table["in_warning"].tolist() == [True, True, False, False]
    files = rep.write(tmp_path)
    assert [f.name for f in files] == ["event_report.csv", "event_report.html"]
    assert "重污染天气过程评估" in files[1].read_text(encoding="utf-8")
    with pytest.raises(AirwarnError, match="missing \\['aqi'\\]"):
        post_event_report(rec, obs.drop(columns="aqi"))
