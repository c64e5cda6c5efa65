"""Coverage against the permit register, and the ``airwarn list`` commands end to end."""
from __future__ import annotations

import csv
import datetime as dt

import openpyxl
import pytest

from airwarn.cli import main
from airwarn.core.db import get_engine, session_scope
from tests.enterprise_list.books import CODES, good_rows, write_book
from enterprise_list.coverage import check_coverage, read_permit_register
from enterprise_list.credit_code import make_code
from enterprise_list.io import import_list

import random

EXTRA = [make_code(random.Random(100 + k), "140322") for k in range(3)]


def _register(path, rows):
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        w = csv.writer(fh)
        w.writerow(["统一社会信用代码", "单位名称", "许可证编号", "是否涉气"])
        w.writerows(rows)
    return path


def _permit_rows():
    c1, c2, c3 = CODES
    return [
        [c1, "阳泉测试焦化有限公司(合成)", f"{c1}001P", "是"],
        [c2, "阳泉测试水泥有限公司(合成)", f"{c2}002P", "是"],       # list says …001P
        # c3 (the coating plant) holds no permit in the register
        [EXTRA[0], "阳泉漏报铸造有限公司(合成)", f"{EXTRA[0]}001P", "是"],
        [EXTRA[1], "阳泉漏报化工有限公司(合成)", f"{EXTRA[1]}001P", "是"],
        [EXTRA[2], "阳泉无组织废水厂(合成)", f"{EXTRA[2]}001P", "否"],  # not air-emitting: not required
    ]


def test_coverage_reports_missing_holders_and_mismatched_permits(engine, good_book, tmp_path):
    import_list(engine, good_book, "2026年度", dt.date(2026, 1, 1))
    reg = _register(tmp_path / "permits.csv", _permit_rows())
    with session_scope(engine) as s:
        rep = check_coverage(s, reg)
    assert rep.missing["credit_code"].tolist() == EXTRA[:2]
    assert rep.mismatched[["credit_code", "reason"]].values.tolist() == [
        [CODES[1], "permit number differs from the register"], [CODES[2], "not in the permit register"]]
    assert (rep.n_register_air, rep.n_list, rep.complete) == (4, 3, False)
    text = rep.format()
    assert "未纳入清单的涉气持证单位 2 家" in text and "许可证编号不符的清单企业 2 家" in text


def test_permit_register_errors_name_file_row_and_column(tmp_path):
    rows = _permit_rows()
    rows[1][3] = "大概"
    rows[2][0] = None
    with pytest.raises(ValueError) as info:
        read_permit_register(_register(tmp_path / "p.csv", rows))
    assert str(info.value).splitlines()[1:] == [
        "error: p.csv row 3, column 是否涉气: expected 是 or 否, got '大概' [value: '大概']",
        "error: p.csv row 4, column 统一社会信用代码: missing value (required)"]


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AIRWARN_DB", raising=False)
    monkeypatch.delenv("AIRWARN_SETTINGS", raising=False)
    monkeypatch.setenv("AIRWARN_DATA_DIR", str(tmp_path / "var"))
    return tmp_path


def test_cli_end_to_end(cli_env, capsys):
    tmp = cli_env
    assert main(["list", "template", str(tmp / "t.xlsx")]) == 0
    assert openpyxl.load_workbook(tmp / "t.xlsx").sheetnames == ["企业", "生产线", "减排措施", "说明"]
    assert main(["list", "sample", str(tmp / "s.xlsx"), "--size", "40"]) == 0
    assert main(["list", "validate", str(tmp / "s.xlsx")]) == 0
    assert "0 error(s), 0 warning(s)" in capsys.readouterr().out

    rows = good_rows()
    rows["企业"][0][2] = "太原"
    bad = write_book(tmp / "bad.xlsx", rows)
    assert main(["list", "validate", str(bad)]) == 1
    assert main(["list", "import", str(bad), "--name", "bad"]) == 1
    err = capsys.readouterr().err
    assert "1 error(s); nothing imported" in err and "企业 row 2, column 所在区县: unknown county" in err

    assert main(["list", "import", str(tmp / "s.xlsx"), "--name", "2026年度", "--effective", "2026-01-01",
                 "--approved-by", "阳泉市生态环境局"]) == 0
    assert "imported list version '2026年度' (id 1, effective 2026-01-01): 40 enterprises" in capsys.readouterr().out
    assert main(["list", "import", str(tmp / "s.xlsx"), "--name", "2026年度"]) == 2
    assert "already exists" in capsys.readouterr().err

    assert main(["list", "versions"]) == 0
    assert "2026年度  year 2026  effective 2026-01-01" in capsys.readouterr().out
    assert main(["list", "find", "--grade", "C", "--limit", "1"]) == 0
    code = capsys.readouterr().out.split()[0]
    assert main(["list", "show", code, "--level", "red"]) == 0
    assert "红色预警（I级响应）一厂一策" in capsys.readouterr().out
    assert main(["list", "show", code, "--json"]) == 0
    import json

    sheets = json.loads(capsys.readouterr().out)
    assert [sh["level"] for sh in sheets] == ["yellow", "orange", "red"]
    assert main(["list", "show", "不存在的企业名"]) == 2

    assert main(["list", "export", str(tmp / "e.xlsx"), "--version", "2026-06-01"]) == 0
    s_cells = [list(r) for r in openpyxl.load_workbook(tmp / "s.xlsx")["减排措施"].iter_rows(values_only=True)]
    e_cells = [list(r) for r in openpyxl.load_workbook(tmp / "e.xlsx")["减排措施"].iter_rows(values_only=True)]
    assert s_cells == e_cells

    engine = get_engine(f"sqlite:///{tmp / 'var' / 'airwarn.sqlite'}")
    with session_scope(engine) as s:
        from enterprise_list.io import load_list

        ents = load_list(s).records["enterprises"]
    reg = _register(tmp / "permits.csv", [[e["credit_code"], e["name"], e["permit_no"], "是"] for e in ents])
    capsys.readouterr()
    assert main(["list", "coverage", str(reg)]) == 0
    assert "未纳入清单的涉气持证单位 0 家" in capsys.readouterr().out
    reg = _register(tmp / "permits2.csv", [[e["credit_code"], e["name"], e["permit_no"], "是"] for e in ents]
                    + [[EXTRA[0], "阳泉漏报铸造有限公司(合成)", "X", "是"]])
    assert main(["list", "coverage", str(reg)]) == 1
    assert EXTRA[0] in capsys.readouterr().out
