"""The synthetic sample list and the demo step."""
from __future__ import annotations

import collections
import datetime as dt

from airwarn.core.db import get_engine, session_scope
from airwarn.core.vocab import YANGQUAN_COUNTIES
from enterprise_list import credit_code as cc
from enterprise_list.demo import DEMO_VERSION, build_demo
from enterprise_list.io import count_rows
from enterprise_list.models import resolve_version
from enterprise_list.sample import make_sample_list
from enterprise_list.validate import validate

INDUSTRIES = {"洗煤", "焦化", "电力热力", "耐火材料", "水泥", "砖瓦窑", "石灰窑", "铸造", "化工", "氧化铝", "工业涂装",
              "包装印刷"}


def test_sample_is_valid_realistic_and_marked_synthetic():
    sample = make_sample_list(320, seed=2026)
    assert validate(sample) == []  # no error and no weaker-than-guide warning
    ents = sample.records["enterprises"]
    codes = [e["credit_code"] for e in ents]
    assert len(set(codes)) == 320 and all(cc.is_valid(c) for c in codes)
    assert {e["county"] for e in ents} == set(YANGQUAN_COUNTIES)
    assert {e["industry"] for e in ents} == INDUSTRIES
    grades = collections.Counter(e["grade"] for e in ents)
    assert grades["B"] + grades["C"] + grades["非引领性"] > 0.6 * 320
    assert 0 < grades["A"] < 0.1 * 320 and grades["保障类"] > 0
    assert all(e["name"].endswith("(合成)") and e["note"] == "合成示例数据" for e in ents)
    voluntary = {e["credit_code"] for e in ents if e["grade"] in ("A", "A+", "引领性")}
    assert {m["kind"] for m in sample.records["measures"] if m["credit_code"] in voluntary} == {"voluntary"}
    lines = sample.lines
    assert (lines[["so2", "nox", "pm", "vocs"]].sum(axis=1) > 0).all()
    coke = lines.merge(sample.enterprises[["credit_code", "industry"]])
    coke = coke[coke.industry == "焦化"]
    assert 0.3 < coke["nox"].max() < 5  # a coke oven emits tenths to a few t/day of NOx


def test_sample_is_deterministic_per_seed():
    a, b, c = make_sample_list(30, 1), make_sample_list(30, 1), make_sample_list(30, 2)
    assert a.enterprises.equals(b.enterprises) and a.measures.equals(b.measures)
    assert not a.enterprises.equals(c.enterprises)


def test_demo_step_is_idempotent(settings):
    first = build_demo(settings, dt.date(2026, 11, 28))
    second = build_demo(settings, dt.date(2026, 11, 28))
    assert first.startswith(f"imported synthetic list version {DEMO_VERSION}: 320 enterprises")
    assert second.startswith(f"list version {DEMO_VERSION} already present: 320 enterprises")
    with session_scope(get_engine(settings.db_url)) as s:
        v = resolve_version(s, dt.date(2026, 11, 28))
        assert (v.name, v.synthetic, v.effective_date) == (DEMO_VERSION, True, dt.date(2026, 1, 1))
        assert count_rows(s, v)[0] == 320


def test_demo_list_imports_when_another_city_is_configured(settings, monkeypatch):
    """The synthetic sample is 阳泉's; a demo for 太原 (settings and environment) still imports it."""
    monkeypatch.setenv("AIRWARN_CITY", "太原")
    summary = build_demo(settings.with_(city="太原"), dt.date(2026, 11, 28))
    assert summary.startswith(f"imported synthetic list version {DEMO_VERSION}: 320 enterprises")
