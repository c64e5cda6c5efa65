"""Each validation rule on a small list, with the exact message; every problem reported at once."""
from __future__ import annotations

from airwarn.core.errors import AirwarnError
import pytest

from tests.enterprise_list.books import CODES, good_rows, write_book
from enterprise_list.records import errors
from enterprise_list.validate import validate
from enterprise_list.workbook import read_list_workbook

C1, C2, C3 = CODES


def _check(tmp_path, rows, **kw):
    return [str(p) for p in validate(read_list_workbook(write_book(tmp_path / "t.xlsx", rows)), **kw)]


def test_bad_check_character_and_duplicates(tmp_path):
    rows = good_rows()
    bad = C2[:17] + ("0" if C2[17] != "0" else "1")
    rows["企业"][1][0] = bad
    rows["企业"].append(list(rows["企业"][0]))          # duplicate enterprise, row 5
    rows["生产线"].append(list(rows["生产线"][0]))        # duplicate line, row 6
    msgs = _check(tmp_path, rows)
    assert f"error: 企业 row 3, column 统一社会信用代码: invalid credit code: bad check character: expected " \
           f"{C2[17]!r}, got {bad[17]!r} [value: {bad!r}]" in msgs
    assert f"error: 企业 row 5, column 统一社会信用代码: duplicate enterprise: credit code already on row 2 " \
           f"[value: {C1!r}]" in msgs
    assert f"error: 生产线 row 6, column 生产线编号: duplicate line: {C1} L01 already on row 2 [value: 'L01']" in msgs
    # the cement plant's lines and measures now point at a code not on the enterprises sheet
    assert f"error: 生产线 row 4, column 统一社会信用代码: enterprise not on the enterprises sheet [value: {C2!r}]" \
        in msgs


def test_missing_and_negative_baseline(tmp_path):
    rows = good_rows()
    rows["生产线"][3][7:11] = [None, None, None, None]
    rows["生产线"][2][10] = -0.1
    msgs = _check(tmp_path, rows)
    assert "error: 生产线 row 4, column VOCs基准排放量(吨/日): negative baseline (t/day must be ≥ 0) [value: -0.1]" in msgs
    assert "error: 生产线 row 5, column SO2基准排放量(吨/日): missing baseline: SO2, NOx, 颗粒物 and VOCs are all blank" \
        in msgs


def test_graded_enterprise_without_a_red_measure(tmp_path):
    rows = good_rows()
    rows["减排措施"] = [r for r in rows["减排措施"] if not (r[0] == C2 and r[2] == "红色")]
    assert _check(tmp_path, rows) == [
        "error: 企业 row 3, column 绩效分级: graded enterprise has no measure for 红色预警 (red) [value: 'C']"]


def test_fraction_outside_0_1_and_cut_larger_than_baseline(tmp_path):
    rows = good_rows()
    rows["减排措施"][0][4] = 20            # meant 20 %
    rows["减排措施"][2][7] = 0.8           # SO2 cut above the 0.5 t/day baseline
    msgs = _check(tmp_path, rows)
    assert "error: 减排措施 row 2, column 限产比例: fraction outside 0–1 (write 0.2 or 20% for a 20% cut) " \
           "[value: 20.0]" in msgs
    assert "error: 减排措施 row 4, column SO2减排量(吨/日): cut 0.8 t/day larger than the line's SO2 baseline " \
           "0.5 t/day [value: 0.8]" in msgs


def test_stricter_level_with_weaker_cut(tmp_path):
    rows = good_rows()
    # coke oven L01: orange cuts 0.5 t/day NOx, red only 0.3
    rows["减排措施"][1][8] = 0.5
    rows["减排措施"][2][8] = 0.3
    msgs = _check(tmp_path, rows)
    assert msgs == ["error: 减排措施 row 4, column NOx减排量(吨/日): weaker than the milder level: red cut 0.3 t/day "
                    "< orange cut 0.5 t/day [value: 0.3]"]


def test_grade_a_must_not_be_told_to_stop(tmp_path):
    rows = good_rows()
    rows["减排措施"][-1][3] = "停产"
    msgs = _check(tmp_path, rows)
    assert msgs == ["error: 减排措施 row 13, column 措施类型: grade A must not be told to stop (voluntary measures "
                    "only) [value: '停产']"]


def test_weaker_than_guide_is_a_warning_not_an_error(tmp_path):
    rows = good_rows()
    rows["减排措施"][7][3:5] = ["限产", 0.5]   # cement C at orange: guide says stop
    problems = validate(read_list_workbook(write_book(tmp_path / "w.xlsx", rows)))
    assert errors(problems) == []
    assert [str(p) for p in problems] == [
        "warning: 减排措施 row 9, column 措施类型: weaker than the guide for 水泥 grade C at orange: guide 停产 "
        "(停产，禁止使用国四及以下排放标准重型载货车辆运输) [S], got 限产 50% [value: 'limit']"]
    assert validate(read_list_workbook(write_book(tmp_path / "w2.xlsx", rows)), guide=False) == []


def test_every_problem_at_once_in_sheet_and_row_order(tmp_path):
    rows = good_rows()
    rows["企业"][0][2] = "太原"
    rows["生产线"][1][8] = "n/a"
    rows["减排措施"][4][4] = 1.5
    msgs = _check(tmp_path, rows)
    assert [m.split(":")[1] for m in msgs] == [" 企业 row 2, column 所在区县", " 生产线 row 3, column NOx基准排放量(吨/日)",
                                               " 减排措施 row 6, column 限产比例"]


def test_counties_are_configurable(tmp_path):
    rows = good_rows()
    rows["企业"][0][2] = "小店区"
    assert _check(tmp_path, rows, counties=None) == []
    assert _check(tmp_path, rows, counties=["小店区", "平定县", "高新区"]) == []


def test_prefill_measures_from_the_guide(tmp_path):
    from enterprise_list.guide import load_guide, prefill_measures

    rows = good_rows()
    rows["企业"][1][4] = "B"  # the cement plant, graded B, with no measures at all
    rows["减排措施"] = [r for r in rows["减排措施"] if r[0] != C2]
    parsed = read_list_workbook(write_book(tmp_path / "p.xlsx", rows))
    assert [str(p) for p in errors(validate(parsed))][:1] == [
        "error: 企业 row 3, column 绩效分级: graded enterprise has no measure for 黄色预警 (yellow) [value: 'B']"]
    filled = prefill_measures(parsed)
    assert validate(filled) == []
    added = [m for m in filled.records["measures"] if m["credit_code"] == C2]
    assert [(m["level"], m["kind"], m["fraction"]) for m in added] == [
        ("yellow", "transport", None), ("orange", "limit", 0.2), ("red", "stop", None)]
    assert [m["cut_nox"] for m in added] == [0.0, pytest.approx(0.4), 2.0]
    guide = load_guide()
    assert guide.lookup("水泥", "B", "orange").provenance == "S"
    assert guide.lookup("任意行业", "A", "red").kind == "voluntary"
    assert guide.lookup("焦化", "C", "red") is None


def test_guide_loader_names_bad_rows(tmp_path):
    from enterprise_list.guide import load_guide

    bad = tmp_path / "g.csv"
    bad.write_text("industry,grade,level,kind,fraction,text,provenance,note\n水泥,B,orange,limit,1.2,x,S,\n",
                   encoding="utf-8")
    with pytest.raises(ValueError, match=r"g.csv row 2, column fraction: expected 0–1, got 1.2"):
        load_guide(bad)
    with pytest.raises(AirwarnError, match=r"unknown guide 'nope'; bundled: \['guide_measures_2020'\]"):
        load_guide("nope")
