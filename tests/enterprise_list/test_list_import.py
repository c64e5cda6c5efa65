"""Import in one transaction, export round trip, and version history."""
from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
from sqlalchemy import select

from tests.enterprise_list.books import CODES, dump_db, good_rows, write_book
from enterprise_list.io import ListValidationError, export_list, import_list, load_list
from enterprise_list.lookup import find_enterprises, get_enterprise
from enterprise_list.models import Enterprise, ListVersion, resolve_version, version_on
from enterprise_list.records import ParsedList
from enterprise_list.workbook import read_list_workbook
from airwarn.core.errors import AirwarnError
from airwarn.core.db import session_scope


def _cells(path):
    wb = openpyxl.load_workbook(path)
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb}


def test_import_stores_everything(engine, good_book):
    res = import_list(engine, good_book, "2026年度", dt.date(2026, 1, 1), approved_by="阳泉市生态环境局",
                      approval_doc="阳环发〔2026〕1号")
    assert (res.n_enterprises, res.n_lines, res.n_measures, res.warnings) == (3, 4, 12, [])
    with session_scope(engine) as s:
        v = s.scalars(select(ListVersion)).one()
        # every enterprise of the test book is marked (合成): the version is flagged synthetic though the
        # caller did not say so (a demo list imported by hand must not pass for a real one)
        assert (v.year, v.effective_date, v.approval_doc, v.synthetic) == (2026, dt.date(2026, 1, 1),
                                                                          "阳环发〔2026〕1号", True)
        coke = get_enterprise(s, CODES[0], v)
        assert [ln.line_code for ln in coke.lines] == ["L01", "L02"]
        red = next(m for m in coke.lines[0].measures if m.level == "red")
        assert (red.kind, red.fraction, red.cut_nox) == ("process", 0.33, pytest.approx(0.66))


def test_bad_file_over_a_good_database_changes_nothing(engine, good_book, tmp_path):
    import_list(engine, good_book, "2026年度", dt.date(2026, 1, 1))
    before = dump_db(engine)
    rows = good_rows()
    rows["生产线"][0][7] = -1  # negative baseline
    bad = write_book(tmp_path / "bad.xlsx", rows)
    with pytest.raises(ListValidationError, match=r"1 error\(s\); nothing imported") as info:
        import_list(engine, bad, "2026年度第1次修订", dt.date(2026, 6, 1))
    assert "生产线 row 2, column SO2基准排放量(吨/日): negative baseline" in str(info.value)
    assert dump_db(engine) == before
    # an existing version name: refused before anything is written
    with pytest.raises(ValueError, match="already exists"):
        import_list(engine, good_book, "2026年度", dt.date(2026, 6, 1))
    assert dump_db(engine) == before


def test_database_failure_mid_write_rolls_back_everything(engine, good_book):
    import_list(engine, good_book, "2026年度", dt.date(2026, 1, 1))
    before = dump_db(engine)
    parsed = read_list_workbook(good_book)
    # a level the validator never sees (built in code, not read): the CHECK constraint fails after the
    # version, enterprises and lines were inserted
    parsed.records["measures"].append(dict(parsed.records["measures"][-1], level="purple"))
    with pytest.raises(Exception, match="ck_measure_level|CHECK constraint"):
        import_list(engine, parsed, "broken", dt.date(2026, 6, 1))
    assert dump_db(engine) == before


def test_import_in_a_callers_session_uses_a_savepoint(engine, good_book):
    with session_scope(engine) as s:
        res = import_list(s, good_book, "v-session", dt.date(2026, 1, 1))
        assert s.get(ListVersion, res.version_id) is not None
    with session_scope(engine) as s:
        assert resolve_version(s, "v-session").id == res.version_id


def test_export_import_export_is_identical(engine, tmp_path):
    rows = good_rows()
    rows["企业"][0][1] = "阳泉测试焦化有限公司(合成) "   # messy input: trailing space, text numbers
    rows["生产线"][0][7] = "0.5"
    messy = write_book(tmp_path / "messy.xlsx", rows)
    import_list(engine, messy, "v1", dt.date(2026, 1, 1))
    a = export_list(engine, tmp_path / "a.xlsx", "v1")
    import_list(engine, a, "v2", dt.date(2026, 2, 1))
    b = export_list(engine, tmp_path / "b.xlsx", "v2")
    assert _cells(a) == _cells(b)
    first = _cells(a)
    assert first["企业"][1][0] == CODES[0] and isinstance(first["企业"][1][0], str)
    assert first["生产线"][1][7] == 0.5
    with session_scope(engine) as s:
        for sheet in ("enterprises", "lines", "measures"):
            assert load_list(s, "v1").frame(sheet).equals(load_list(s, "v2").frame(sheet))


def test_two_versions_and_the_list_in_force_on_a_past_day(engine, good_book, tmp_path):
    import_list(engine, good_book, "2026年度", dt.date(2026, 1, 1))
    rows = good_rows()
    rows["企业"][1][4] = "B"  # 创A升B: the cement plant moves up from C to B
    rows["减排措施"][6:9] = [[CODES[1], "L01", "黄色", "运输管控", None, "禁止国四及以下重型货车运输", None, 0, 0, 0, 0],
                         [CODES[1], "L01", "橙色", "限产", 0.2, "限产20%", None, None, None, None, None],
                         [CODES[1], "L01", "红色", "停产", None, "停产", None, None, None, None, None]]
    import_list(engine, write_book(tmp_path / "rev.xlsx", rows), "2026年度第1次修订", dt.date(2026, 7, 1))
    with session_scope(engine) as s:
        assert version_on(s, dt.date(2025, 12, 31)) is None
        march, august = version_on(s, dt.date(2026, 3, 1)), version_on(s, dt.date(2026, 8, 1))
        assert (march.name, august.name) == ("2026年度", "2026年度第1次修订")
        assert get_enterprise(s, CODES[1], dt.date(2026, 3, 1)).grade == "C"
        assert get_enterprise(s, CODES[1], dt.date(2026, 8, 1)).grade == "B"
        assert [h.grade for h in find_enterprises(s, CODES[1], version=march)] == ["C"]
        # history kept: both versions hold their own rows
        assert s.query(Enterprise).count() == 6
        assert resolve_version(s, None).name == "2026年度第1次修订"
        with pytest.raises(AirwarnError, match=r"no list version 'nope'; versions: \['2026年度 \(id 1"):
            resolve_version(s, "nope")


def test_parsed_list_can_be_imported_directly(engine):
    from enterprise_list.sample import make_sample_list

    sample = make_sample_list(20, seed=7)
    assert isinstance(sample, ParsedList)
    res = import_list(engine, sample, "s", dt.date(2026, 1, 1), synthetic=True)
    assert res.n_enterprises == 20
