"""Lookup on the 320-enterprise synthetic demo list: codes, fuzzy names, filters, the 一厂一策 sheet."""
from __future__ import annotations

import datetime as dt

import pytest

from airwarn.core.errors import AirwarnError
from airwarn.core.db import create_tables, get_engine, session_scope
from airwarn.core.vocab import WarningLevel
from enterprise_list.io import import_list
from enterprise_list.lookup import find_enterprises, format_policy_sheet, get_enterprise, policy_sheet
from enterprise_list.sample import make_sample_list
from tests.postgres import fresh_url


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def demo(request, tmp_path_factory):
    url = fresh_url(request, tmp_path_factory.mktemp("lookup"))
    engine = get_engine(url)
    create_tables(engine)
    sample = make_sample_list(320, seed=2026)
    import_list(engine, sample, "demo", dt.date(2026, 1, 1), synthetic=True)
    with session_scope(engine) as s:
        yield s, sample


def test_by_exact_code_and_prefix(demo):
    s, sample = demo
    ent = sample.records["enterprises"][17]
    hits = find_enterprises(s, ent["credit_code"])
    assert [(h.credit_code, h.name, h.score) for h in hits] == [(ent["credit_code"], ent["name"], 100.0)]
    prefix = ent["credit_code"][:9]
    expected = sorted(e["credit_code"] for e in sample.records["enterprises"] if e["credit_code"].startswith(prefix))
    assert sorted(h.credit_code for h in find_enterprises(s, prefix, limit=500)) == expected
    assert find_enterprises(s, ent["credit_code"][:17] + "0" if ent["credit_code"][17] != "0" else
                            ent["credit_code"][:17] + "1") == []


def test_fuzzy_chinese_names(demo):
    s, sample = demo
    ent = next(e for e in sample.records["enterprises"] if e["industry"] == "焦化")
    name = ent["name"]                                # 阳泉<w1><w2>焦化有限公司(合成)
    w = name[2:6]
    # exact name (full-width brackets typed), a fragment, and a query with a character dropped
    assert find_enterprises(s, name.replace("(", "（").replace(")", "）"))[0].credit_code == ent["credit_code"]
    frag = find_enterprises(s, w + "焦化", limit=10)
    assert ent["credit_code"] in [h.credit_code for h in frag[:3]]
    typo = find_enterprises(s, name[:4] + name[5:9], limit=5)
    assert typo[0].credit_code == ent["credit_code"] and 60 <= typo[0].score < 100
    assert find_enterprises(s, "完全无关的名字XYZ") == []


def test_filters_agree_with_the_data(demo):
    s, sample = demo
    ents = sample.records["enterprises"]
    for county, industry, grade in (("平定县", None, None), (None, "焦化", "B"), ("盂县", "焦化", None)):
        hits = find_enterprises(s, county=county, industry=industry, grade=grade, limit=1000)
        expected = [e["credit_code"] for e in ents if (county is None or e["county"] == county)
                    and (industry is None or e["industry"] == industry) and (grade is None or e["grade"] == grade)]
        assert [h.credit_code for h in hits] == expected and expected
    hits = find_enterprises(s, "耐火", county="平定县", limit=1000)
    assert hits and all(h.county == "平定县" and "耐火" in h.name for h in hits)


def test_get_enterprise_ambiguous_name_lists_candidates(demo):
    s, _ = demo
    with pytest.raises(AirwarnError, match="matches several enterprises on list version 'demo'; give the credit code"):
        get_enterprise(s, "焦化")
    with pytest.raises(AirwarnError, match="no enterprise with credit code 911403030000000000"):
        get_enterprise(s, "911403030000000000")


def test_policy_sheet_totals_and_levels(demo):
    s, sample = demo
    ent = next(e for e in sample.records["enterprises"] if e["grade"] == "C" and e["industry"] == "水泥")
    sheets = {lvl: policy_sheet(s, ent["credit_code"], lvl) for lvl in ("yellow", "orange", WarningLevel.RED)}
    red = sheets[WarningLevel.RED]
    assert red["level"] == "red" and red["response"] == "I级响应" and red["enterprise"]["grade"] == "C"
    meas = [m for m in sample.records["measures"] if m["credit_code"] == ent["credit_code"]]
    for lvl, sheet in sheets.items():
        key = WarningLevel.parse(lvl).key
        for p in ("so2", "nox", "pm", "vocs"):
            want = sum(m[f"cut_{p}"] for m in meas if m["level"] == key)
            assert sheet["total_cut"][p] == pytest.approx(want)
            assert sheet["total_cut"][p] <= sheet["total_baseline"][p] + 1e-9
    assert all(ln["measure"]["kind"] == "stop" for ln in red["lines"])  # cement C at red: stop
    assert sheets["yellow"]["total_cut"]["nox"] <= sheets["orange"]["total_cut"]["nox"] <= red["total_cut"]["nox"]
    text = format_policy_sheet(red)
    assert "红色预警（I级响应）一厂一策" in text and ent["name"] in text
    with pytest.raises(ValueError, match="level must be yellow, orange or red"):
        policy_sheet(s, ent["credit_code"], "none")
    with pytest.raises(AirwarnError, match="unknown warning level 'purple'"):
        policy_sheet(s, ent["credit_code"], "purple")
