"""Messy spreadsheets as offices produce them, each with the exact message expected."""
from __future__ import annotations

import openpyxl
import pytest

from tests.enterprise_list.books import CODES, HEADERS, good_rows, write_book
from enterprise_list.template import SHEETS, match_header, normalise_header
from enterprise_list.records import errors, format_report
from enterprise_list.validate import validate
from enterprise_list.workbook import read_list_workbook, write_template


def _messages(problems):
    return [str(p) for p in problems]


def test_clean_book_reads_without_problems(good_book):
    parsed = read_list_workbook(good_book)
    assert validate(parsed) == []
    assert len(parsed.records["enterprises"]) == 3 and len(parsed.records["lines"]) == 4
    assert len(parsed.records["measures"]) == 12
    ent = parsed.enterprises.set_index("credit_code").loc[CODES[0]]
    assert ent["grade"] == "B" and ent["county"] == "矿区" and bool(ent["compliant"]) is True
    # blank cuts derived from the measure: limit 10 % of the coke oven's 2.0 t/day NOx
    m = parsed.measures
    row = m[(m.credit_code == CODES[0]) & (m.line_code == "L01") & (m.level == "yellow")].iloc[0]
    assert row["kind"] == "limit" and row["cut_nox"] == pytest.approx(0.2)
    stop_half = m[(m.credit_code == CODES[1]) & (m.level == "yellow")].iloc[0]
    assert stop_half["cut_so2"] == pytest.approx(0.15)  # 停产50% of 0.3
    assert m[m.credit_code == CODES[2]]["cut_vocs"].tolist() == [0.0, 0.0, 0.0]


def test_merged_title_row_and_two_row_header_and_merged_codes(tmp_path):
    rows = good_rows()
    lines_hdr_top = ["统一社会信用代码", "生产线编号", "生产线名称", "工艺", "产能", "产能单位", "产能核定依据",
                     "基准排放量（吨/日）", None, None, None]
    lines_hdr = [None, None, None, None, None, None, None, "SO2", "NOx", "颗粒物", "VOCs"]
    # the coke plant's two lines share one merged credit-code cell, as offices do
    rows["生产线"][1][0] = None
    path = write_book(
        tmp_path / "merged.xlsx", rows,
        headers={"生产线": lines_hdr},
        above={"企业": [["阳泉市2026年重污染天气应急减排清单（企业）"]], "生产线": [lines_hdr_top]},
        merges={"企业": ["A1:L1"], "生产线": ["H1:K1", "A1:A2", "B1:B2", "C1:C2", "D1:D2", "E1:E2", "F1:F2",
                                          "G1:G2", "A3:A4"]},
    )
    parsed = read_list_workbook(path)
    assert _messages(validate(parsed)) == []
    lines = parsed.lines
    assert lines["credit_code"].tolist()[:2] == [CODES[0], CODES[0]]
    assert lines[["so2", "nox", "pm", "vocs"]].iloc[0].tolist() == [0.5, 2.0, 0.4, 0.3]
    assert parsed.headers["lines"]["so2"] == "基准排放量（吨/日） / SO2"
    assert parsed.records["enterprises"][0]["_row"] == 3  # title row, header row, then data


def test_trailing_spaces_full_width_headers_and_digits(tmp_path):
    rows = good_rows()
    rows["企业"][0][0] = "".join(chr(ord(c) + 0xFEE0) for c in CODES[0]) + "  "  # full-width code
    rows["企业"][0][3] = "焦化 "
    rows["企业"][0][4] = "Ｂ级"
    rows["生产线"][0][7] = "０．５"  # full-width digits, stored as text
    headers = {"企业": ["统一社会信用代码 ", "企业名称  ", " 所在区县", "行 业", "绩效分级", "是否稳定达标",
                      "排污许可证编号", "经度", "纬度", "联系人", "联系电话", "备注"],
               "生产线": ["统一社会信用代码", "生产线编号", "生产线名称", "工艺", "产能", "产能单位", "产能核定依据",
                       "ＳＯ２基准排放量（吨／日）", "NOx 基准排放量 (t/d)", "颗粒物", "VOCs"]}
    parsed = read_list_workbook(write_book(tmp_path / "fw.xlsx", rows, headers=headers))
    assert _messages(validate(parsed)) == []
    e = parsed.records["enterprises"][0]
    assert (e["credit_code"], e["industry"], e["grade"]) == (CODES[0], "焦化", "B")
    assert parsed.records["lines"][0]["so2"] == 0.5


def test_numbers_stored_as_text_are_accepted_non_numbers_are_errors(tmp_path):
    rows = good_rows()
    rows["生产线"][0][7] = "0.50"
    rows["生产线"][0][8] = " 2 "
    rows["生产线"][1][7] = "约0.02"
    rows["减排措施"][0][4] = "10%"
    parsed = read_list_workbook(write_book(tmp_path / "text.xlsx", rows))
    assert parsed.records["lines"][0]["so2"] == 0.5 and parsed.records["lines"][0]["nox"] == 2.0
    assert parsed.records["measures"][0]["fraction"] == pytest.approx(0.1)
    assert _messages(validate(parsed)) == [
        "error: 生产线 row 3, column SO2基准排放量(吨/日): expected a number, got '约0.02' [value: '约0.02']"]


def test_blank_row_mid_sheet_keeps_excel_row_numbers(tmp_path):
    rows = good_rows()
    rows["企业"].insert(1, [None] * 12)
    rows["企业"][2][2] = "阳泉县"  # the cement plant, now on Excel row 4
    parsed = read_list_workbook(write_book(tmp_path / "blank.xlsx", rows))
    assert len(parsed.records["enterprises"]) == 3
    assert _messages(validate(parsed)) == [
        "error: 企业 row 4, column 所在区县: unknown county; expected one of "
        "['城区', '平定县', '盂县', '矿区', '郊区', '高新区'] [value: '阳泉县']"]


def test_extra_notes_column_is_ignored_with_a_warning(tmp_path):
    rows = good_rows()
    for r in rows["企业"]:
        r.append("请于3月底前报送")
    headers = {"企业": HEADERS["企业"] + ["填表说明"]}
    parsed = read_list_workbook(write_book(tmp_path / "notes.xlsx", rows, headers=headers))
    problems = validate(parsed)
    assert _messages(problems) == ["warning: 企业 row 1, column 填表说明: column not in the template; ignored"]
    assert errors(problems) == []
    assert "填表说明" not in parsed.enterprises.columns


def test_english_aliases_and_sheet_names(tmp_path):
    rows = good_rows()
    english = {"enterprises": rows["企业"], "lines": rows["生产线"], "measures": rows["减排措施"]}
    headers = {"enterprises": ["credit code", "name", "county", "industry", "grade", "compliant", "permit no",
                               "lon", "lat", "contact", "phone", "note"],
               "lines": ["credit_code", "line code", "line name", "process", "capacity", "capacity unit",
                         "capacity basis", "SO2", "NOx", "PM", "VOCs"],
               "measures": ["credit code", "line code", "level", "kind", "fraction", "text", "timing",
                            "cut so2", "cut nox", "cut pm", "cut vocs"]}
    parsed = read_list_workbook(write_book(tmp_path / "en.xlsx", english, headers=headers))
    assert _messages(validate(parsed)) == []
    assert parsed.records["lines"][0]["so2"] == 0.5


def test_missing_sheet_and_missing_required_column(tmp_path):
    rows = good_rows()
    del rows["减排措施"]
    headers = {"企业": ["统一社会信用代码", "名录", "所在区县", "行业", "绩效分级", "是否稳定达标", "排污许可证编号",
                      "经度", "纬度", "联系人", "联系电话", "备注"]}
    parsed = read_list_workbook(write_book(tmp_path / "miss.xlsx", rows, headers=headers))
    msgs = _messages(errors(validate(parsed, guide=False)))
    assert msgs == [
        "error: 企业, column 企业名称: required column not found (also accepted: name, enterprise name, 单位名称, "
        "企业全称); headers found: ['统一社会信用代码', '名录', '所在区县', '行业', '绩效分级', '是否稳定达标', "
        "'排污许可证编号', '经度', '纬度', '联系人', '联系电话', '备注']",
        "error: 减排措施: sheet not found; the file has ['企业', '生产线'] (expected 减排措施 or measures)",
    ]


def test_unknown_grade_level_kind_and_bad_bool_are_reported_with_cells(tmp_path):
    rows = good_rows()
    rows["企业"][0][4] = "E"
    rows["企业"][1][5] = "也许"
    rows["减排措施"][0][2] = "紫色"
    rows["减排措施"][1][3] = "关停"
    msgs = _messages(read_list_workbook(write_book(tmp_path / "bad.xlsx", rows)).problems)
    assert msgs == [
        "error: 企业 row 2, column 绩效分级: unknown grade 'E'; expected one of "
        "['A+', 'A', 'B', 'B-', 'C', 'D', '引领性', '非引领性', '保障类', '未评级'] [value: 'E']",
        "error: 企业 row 3, column 是否稳定达标: expected 是 or 否, got '也许' [value: '也许']",
        "error: 减排措施 row 2, column 预警级别: unknown warning level '紫色'; expected 黄色/橙色/红色 or "
        "['yellow', 'orange', 'red'] [value: '紫色']",
        "error: 减排措施 row 3, column 措施类型: unknown measure kind '关停'; expected one of "
        "['停产', '限产', '运输管控', '工艺措施', '自主减排'] or "
        "['stop', 'limit', 'transport', 'process', 'voluntary'] [value: '关停']",
    ]


def test_csv_folder_in_gbk_reads_like_the_workbook(tmp_path):
    import csv

    folder = tmp_path / "csv"
    folder.mkdir()
    for name, data in good_rows().items():
        with open(folder / f"{name}.csv", "w", newline="", encoding="gb18030") as fh:
            w = csv.writer(fh)
            w.writerow(HEADERS[name])
            w.writerows(data)
    from_csv = read_list_workbook(folder / "企业.csv")
    from_xlsx = read_list_workbook(write_book(tmp_path / "same.xlsx"))
    assert validate(from_csv) == []
    for sheet in ("enterprises", "lines", "measures"):
        assert from_csv.frame(sheet).equals(from_xlsx.frame(sheet)), sheet


def test_not_a_workbook_and_missing_file(tmp_path):
    bad = tmp_path / "x.xlsx"
    bad.write_text("not a zip")
    with pytest.raises(ValueError, match=r"x.xlsx: not a readable xlsx workbook"):
        read_list_workbook(bad)
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_list_workbook(tmp_path / "nope.xlsx")
    with pytest.raises(ValueError, match=r"expected an .xlsx workbook, a .csv file or a folder"):
        read_list_workbook(tmp_path.joinpath("a.txt").resolve() if tmp_path.joinpath("a.txt").write_text("x")
                           else None)


def test_template_has_the_three_sheets_and_an_explanation(tmp_path):
    path = write_template(tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["企业", "生产线", "减排措施", "说明"]
    for sheet in SHEETS:
        assert [c.value for c in wb[sheet.name][1]] == sheet.headers
        assert wb[sheet.name].max_row == 1
    readme = [[c.value for c in r] for r in wb["说明"].iter_rows()]
    assert readme[0] == ["工作表", "列名", "英文名/别名", "必填", "类型", "说明"]
    assert len([r for r in readme if r[0] in ("企业", "生产线", "减排措施")]) == sum(len(s.columns) for s in SHEETS)
    parsed = read_list_workbook(path)  # the empty template reads with no error
    assert errors(parsed.problems) == []


def test_header_mapping_examples():
    ents, lines, meas = SHEETS
    assert normalise_header("ＳＯ２ 基准排放量（吨/日）") == "so2基准排放量吨日"
    assert match_header(lines, "ＳＯ２ 基准排放量（吨/日）") == "so2"
    assert match_header(meas, "限产比例(%)") == "fraction"
    assert match_header(ents, "单位名称") == "name"
    assert match_header(ents, "审核意见") is None
    assert "error(s)" in format_report([])
