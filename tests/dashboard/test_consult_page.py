"""会商 page (issue 15): observed days into the fan, the product day, readable bands, range wording and
primary pollutant, hovers without "%%", a skill note per lead naming the scored model, two issue days
compared, notes with Beijing time and history."""
from __future__ import annotations

import datetime as dt

import pytest

from dashboard.services import notes, scores
from tests.dashboard.test_callbacks import _find, _texts, signed_in


def test_i15_fan_has_observed_days_product_day_and_plain_hovers(app):
    from dashboard.pages import consult

    with signed_in(app, "forecaster"):
        fan, *_ = consult.update_outlook("阳泉", "2026-01-10")
    observed = next(t for t in fan.data if t.name == "实况 AQI")
    assert 25 <= len(observed.y) <= 30 and max(observed.x) <= "2026-01-10"  # the last 30 days that have data
    assert any(a.text == "起报日 01-10" for a in fan.layout.annotations)
    hovers = " ".join(t.hovertemplate or "" for t in fan.data)
    assert "25–75% 区间：" in hovers and "%%" not in hovers
    bands = [s for s in fan.layout.shapes if s.type == "rect"]
    assert bands and all(s.layer == "below" and s.opacity >= 0.3 for s in bands)
    median = next(t for t in fan.data if t.name == "中位数")
    words, primary = median.customdata[2]
    assert words.startswith("AQI ") and "–" in words and "，" in words and primary == "PM2.5"


def test_i15_second_issue_day_overlays_its_run(fresh_env):
    from dashboard.app import create_app
    from dashboard.pages import consult
    from tests.dashboard.dash_env import make_forecast

    day = dt.date(2026, 1, 8)
    out = fresh_env.output_dir / day.isoformat()
    out.mkdir(parents=True)
    make_forecast(issued=day, seed=3).to_netcdf(out / "forecast.nc")
    app = create_app(fresh_env)
    with signed_in(app, "viewer"):
        fan, *_ = consult.update_outlook("阳泉", "2026-01-10", "2026-01-08")
        alone, *_ = consult.update_outlook("阳泉", "2026-01-10", "")
    names = [t.name for t in fan.data]
    assert "中位数（01-08 起报）" in names and not any("起报）" in (t.name or "") for t in alone.data)


def test_i15_days_table_and_skill_note_name_the_scored_model(app, env):
    from dashboard.pages import consult

    with signed_in(app, "viewer"):
        view = consult.update_days("阳泉", "2026-01-10")
    text = _texts(view)
    assert "首要污染物" in text and "PM2.5" in text and "重度污染" in text or "中度污染" in text
    note = _texts(_find(view, "consult-skill-note"))
    assert "预报技巧" in note and "气候平均" in note and "评分模型" in note


def test_i15_skill_note_says_when_the_scored_model_is_not_the_running_one():
    import pandas as pd

    from dashboard.services import notes, scores
    from dashboard.pages import consult

    skill = pd.DataFrame({"lead_day": range(1, 11), "grade": ["clear"] + ["some"] * 5 + ["none"] * 4})
    note = consult.skill_note(skill, {"scored_model": "aqistudy-2015", "running_model": "aqistudy-2016",
                                      "same": False, "scope": "all", "period": ["2015-02-01", "2016-01-31"],
                                      "scored_label": scores.model_label(["2013-12-02", "2015-01-31"]),
                                      "running_label": scores.model_label(["2013-12-02", "2016-01-31"])})
    assert note.startswith("第1天预报技巧明显优于气候平均；第2–6天预报技巧略优于气候平均；第7–10天预报技巧接近气候平均")
    assert ("评分模型为训练期 2013-12-02 至 2015-01-31 的模型，当前运行的是训练期 2013-12-02 至 2016-01-31 的模型"
            in note)
    assert "aqistudy" not in note  # a model's id is a file name, not a word of the page


def test_i15_note_history_in_beijing_time(fresh_env):
    from dashboard.app import create_app
    from dashboard.pages import consult

    app = create_app(fresh_env)
    with signed_in(app, "forecaster"):
        consult.save_note(1, "2026-01-10", "阳泉", "第一稿")
        consult.save_note(2, "2026-01-10", "阳泉", "第二稿：建议橙色预警")
        view = consult.update_note_history("2026-01-10", "阳泉")
    text = _texts(view)
    assert "2 次保存" in text and text.index("第二稿") < text.index("第一稿")
    assert text.count("（北京时间）") == 2 and "forecaster" in text
    saved = notes.note_history("2026-01-10", "阳泉", fresh_env)[0]["saved_at"]
    assert saved.utcoffset() == dt.timedelta(0)  # aware UTC
    assert abs((dt.datetime.now(dt.timezone.utc) - saved).total_seconds()) < 120
