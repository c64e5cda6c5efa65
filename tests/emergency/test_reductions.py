"""Reductions checked by hand on a five-enterprise list, and the emission-inventory import."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

import emergency.models  # noqa: F401
from airwarn.core.errors import AirwarnError
from airwarn.core.db import create_tables, get_engine, session_scope
from airwarn.core.vocab import WarningLevel
from emergency.reductions import compute_reductions, import_inventory, read_inventory
from enterprise_list.models import Enterprise, ListVersion, Measure, ProductionLine

P = ("so2", "nox", "pm", "vocs")


def _line(ent, code, base, measures):
    line = ProductionLine(line_code=code, name=f"{ent.name}{code}", **dict(zip(P, base)))
    for level, kind, fraction, cuts in measures:
        line.measures.append(Measure(level=level, kind=kind, fraction=fraction, text=f"{kind} {level}",
                                     **{f"cut_{p}": c for p, c in zip(P, cuts)}))
    ent.lines.append(line)


@pytest.fixture
def engine(db_url):
    eng = get_engine(db_url)
    create_tables(eng)
    with session_scope(eng) as s:
        v = ListVersion(name="五家测试清单", year=2026, effective_date=dt.date(2026, 1, 1))
        s.add(v)
        s.flush()
        mk = lambda code, name, county, ind, grade, ok=True: Enterprise(  # noqa: E731
            version_id=v.id, credit_code=code, name=name, county=county, industry=ind, grade=grade, compliant=ok)
        e1 = mk("E1", "甲焦化", "盂县", "焦化", "B")
        _line(e1, "L1", (2.0, 4.0, 1.0, 0.5), [
            ("yellow", "limit", 0.2, (0.4, 0.8, 0.2, 0.1)),
            ("orange", "limit", 0.4, (0.8, 1.6, 0.4, 0.2)),
            ("red", "stop", 1.0, (2.5, 4.0, 1.0, 0.5))])          # red SO2 cut 2.5 > baseline 2.0 (error)
        e2 = mk("E2", "乙耐材", "郊区", "耐火材料", "C")
        _line(e2, "L1", (1.0, 1.0, 2.0, 0.0), [
            ("yellow", "stop", 1.0, (1.0, 1.0, 2.0, 0.0)),
            ("orange", "stop", 1.0, (1.0, 1.0, 2.0, 0.0)),
            ("red", "stop", 1.0, (1.0, 1.0, 2.0, 0.0))])
        _line(e2, "L2", (0.5, 0.5, 0.5, 0.0), [
            ("orange", "stop", 1.0, (0.5, 0.5, 0.5, 0.0)),
            ("red", "stop", 1.0, (0.5, 0.5, 0.5, 0.0))])
        e3 = mk("E3", "丙焦化", "盂县", "焦化", "A")
        _line(e3, "L1", (3.0, 3.0, 3.0, 3.0), [(lvl, "voluntary", 0.1, (0.3, 0.3, 0.3, 0.3))
                                                for lvl in ("yellow", "orange", "red")])
        e4 = mk("E4", "丁热电", "城区", "热力", "保障类")
        _line(e4, "L1", (2.0, 2.0, 1.0, 0.0), [
            ("yellow", "stop", 0.25, (2.0, 2.0, 1.0, 0.0)),       # stop for 保障类: capped at 25 %
            ("orange", "limit", 0.25, (0.5, 0.5, 0.25, 0.0)),
            ("red", "limit", 0.25, (0.5, 0.5, 0.25, 0.0))])
        e5 = mk("E5", "戊砖瓦", "平定县", "砖瓦窑", "未评级", ok=False)
        _line(e5, "L1", (0.8, 0.6, 1.2, 0.1), [])                 # non-compliant, no measures listed
        s.add_all([e1, e2, e3, e4, e5])
    return eng


@pytest.fixture
def inventory_csv(tmp_path):
    path = tmp_path / "inventory.csv"
    path.write_text(
        "部门,二氧化硫,氮氧化物,颗粒物,挥发性有机物,单位\n"
        "工业源,10,20,15,8,t/day\n"
        "移动源,2,10,1,3,t/day\n"
        "扬尘源,0,0,12,0,t/day\n"
        "民用源,6,2,5,1,t/day\n"
        "其他,730,730,730,730,t/year\n",   # 730 t/year = 2 t/day
        encoding="utf-8")
    return path


def test_yellow_by_hand(engine, inventory_csv):
    import_inventory(engine, inventory_csv, name="测试清单2026")
    r = compute_reductions(engine, "yellow")
    # counted cuts [t/day]:  E1 B limit   E2 C stop L1   E3 A (voluntary)   E4 保障类 capped 25 %   E5 non-compliant = baseline
    # so2  = 0.4 + 1.0 + 0 + min(2.0, 0.25*2.0)=0.5 + 0.8 = 2.7
    # nox  = 0.8 + 1.0 + 0 + min(2.0, 0.25*2.0)=0.5 + 0.6 = 2.9
    # pm   = 0.2 + 2.0 + 0 + min(1.0, 0.25*1.0)=0.25 + 1.2 = 3.65
    # vocs = 0.1 + 0.0 + 0 + 0 + 0.1 = 0.2
    assert r.cut == pytest.approx({"so2": 2.7, "nox": 2.9, "pm": 3.65, "vocs": 0.2})
    assert r.voluntary_cut == pytest.approx({"so2": 0.3, "nox": 0.3, "pm": 0.3, "vocs": 0.3})
    # list baseline: so2 2+1+0.5+3+2+0.8 = 9.3; nox 4+1+0.5+3+2+0.6 = 11.1; pm 1+2+0.5+3+1+1.2 = 8.7; vocs 0.5+3+0.1 = 3.6
    assert r.list_baseline == pytest.approx({"so2": 9.3, "nox": 11.1, "pm": 8.7, "vocs": 3.6})
    # inventory totals: so2 10+2+0+6+2 = 20; nox 20+10+0+2+2 = 34; pm 15+1+12+5+2 = 35; vocs 8+3+0+1+2 = 14
    assert r.total == pytest.approx({"so2": 20, "nox": 34, "pm": 35, "vocs": 14})
    t = {c.pollutant: c for c in r.targets}
    assert t["so2"].ratio == pytest.approx(2.7 / 20) and t["so2"].met            # 13.5 % >= 10 %
    assert not t["nox"].met and t["nox"].shortfall == pytest.approx(3.4 - 2.9)   # needs 0.1*34 = 3.4
    assert t["nox"].shortfall_points == pytest.approx(10 - 2.9 / 34 * 100)       # 1.47 points
    assert t["pm"].met and t["pm"].ratio == pytest.approx(3.65 / 35)              # 10.4 %
    assert not t["vocs"].met and t["vocs"].shortfall == pytest.approx(1.4 - 0.2)
    assert r.all_met is False
    assert sorted(r.enterprises["credit_code"]) == ["E1", "E2", "E3", "E4", "E5"]
    assert int(r.enterprises["measures"].sum()) == 4          # E5 has no measure rows
    county = r.by["county"]
    assert county.loc["盂县", "cut_so2"] == pytest.approx(0.4) and county.loc["盂县", "enterprises"] == 2
    assert county.loc["盂县", "voluntary_so2"] == pytest.approx(0.3)
    assert county.loc["平定县", "cut_pm"] == pytest.approx(1.2)
    grade = r.by["grade"]
    assert grade.loc["保障类", "cut_so2"] == pytest.approx(0.5) and grade.loc["A", "cut_so2"] == 0
    assert any("保障类" in p and "E4" in p for p in r.problems)


def test_orange_and_red_by_hand(engine, inventory_csv):
    import_inventory(engine, inventory_csv, name="测试清单2026")
    o = compute_reductions(engine, WarningLevel.ORANGE, version="五家测试清单")
    # so2 orange = E1 0.8 + E2 (1.0 + 0.5) + E4 0.5 + E5 0.8 = 3.6; target 20 % of 20 = 4.0 -> short 0.4
    assert o.cut["so2"] == pytest.approx(3.6)
    so2 = next(c for c in o.targets if c.pollutant == "so2")
    assert so2.target == 0.20 and not so2.met and so2.shortfall == pytest.approx(0.4)
    r = compute_reductions(engine, "red")
    # so2 red = E1 min(2.5, 2.0) = 2.0 + E2 1.5 + E4 0.5 + E5 0.8 = 4.8; 30 % of 20 = 6.0 -> short 1.2
    assert r.cut["so2"] == pytest.approx(4.8)
    so2 = next(c for c in r.targets if c.pollutant == "so2")
    assert so2.shortfall == pytest.approx(1.2) and so2.ratio == pytest.approx(0.24)
    assert any("超过" in p and "E1" in p for p in r.problems)


def test_without_inventory_and_bad_names(engine):
    r = compute_reductions(engine, "yellow")
    assert r.total is None and r.all_met is None and r.targets[0].ratio is None
    with pytest.raises(AirwarnError, match=r"no list version 'x'; versions: .*五家测试清单"):
        compute_reductions(engine, "yellow", version="x")
    with pytest.raises(AirwarnError, match="unknown warning level 'purple'"):
        compute_reductions(engine, "purple")
    with pytest.raises(AirwarnError, match=r"unknown grouping\(s\) \['city'\]"):
        compute_reductions(engine, "yellow", by=("city",))
    d = r.to_dict()
    assert d["affected_enterprises"] == 5 and d["cut_t_per_day"]["so2"] == pytest.approx(2.7)


def test_inventory_errors_name_file_row_column(tmp_path, engine, inventory_csv):
    bad = tmp_path / "bad.csv"
    bad.write_text("sector,so2,nox,pm,vocs,unit\nindustry,1,2,3,4,t/day\nships,1,1,1,1,t/day\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.csv, row 3, column 'sector': expected one of .*got 'ships'"):
        read_inventory(bad)
    bad.write_text("sector,so2,nox,pm,vocs,unit\nindustry,1,-2,3,4,t/day\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"row 2, column 'nox': expected a non-negative number"):
        read_inventory(bad)
    bad.write_text("sector,so2,nox,pm,vocs,unit\nindustry,1,2,3,4,kg/h\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"row 2, column 'unit'.*got 'kg/h'"):
        read_inventory(bad)
    bad.write_text("sector,so2,nox\nindustry,1,2\n", encoding="utf-8")
    with pytest.raises(AirwarnError, match=r"missing column\(s\) \['pm', 'vocs'\]"):
        read_inventory(bad)
    # a failed import keeps the stored inventory intact; xlsx works too
    import_inventory(engine, inventory_csv, name="inv")
    bad.write_text("sector,so2,nox,pm,vocs,unit\nindustry,1,2,3,x,t/day\n", encoding="utf-8")
    with pytest.raises(ValueError):
        import_inventory(engine, bad, name="inv")
    assert compute_reductions(engine, "yellow", inventory="inv").total["so2"] == pytest.approx(20)
    xlsx = tmp_path / "inv.xlsx"
    pd.DataFrame({"sector": ["industry", "mobile"], "so2": [365, 0], "nox": [0, 365], "pm": [0, 0],
                  "vocs": [0, 0]}).to_excel(xlsx, index=False)
    import_inventory(engine, xlsx, name="inv2", unit="t/year")
    assert compute_reductions(engine, "yellow", inventory="inv2").total == pytest.approx(
        {"so2": 1.0, "nox": 1.0, "pm": 0.0, "vocs": 0.0})


def test_break_1_an_inventory_workbook_with_a_far_cell_is_one_line_not_an_abort(tmp_path):
    """The inventory reader went straight to calamine, which aborts the process (SIGABRT) on a cell at
    XFD1048576; run in a child so an abort would show as a negative return code."""
    import subprocess
    import sys
    import zipfile

    good = tmp_path / "inv.xlsx"
    pd.DataFrame({"sector": ["industry"], "so2": [1.0], "nox": [2.0], "pm": [3.0], "vocs": [4.0],
                  "unit": ["t/day"]}).to_excel(good, index=False)
    bad = tmp_path / "far.xlsx"
    with zipfile.ZipFile(good) as zi, zipfile.ZipFile(bad, "w", zipfile.ZIP_DEFLATED) as zo:
        for item in zi.infolist():
            data = zi.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576" t="inlineStr">'
                                    b'<is><t>x</t></is></c></row></sheetData>')
            zo.writestr(item, data)
    inv = read_inventory(good)
    assert inv.loc[inv["pollutant"] == "nox", "value_t_per_day"].sum() == 2.0
    code = ("import sys\nfrom emergency.reductions import read_inventory\n"
            "try:\n    read_inventory(sys.argv[1])\nexcept ValueError as exc:\n    print(exc); sys.exit(2)\n")
    run = subprocess.run([sys.executable, "-c", code, str(bad)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2, (run.returncode, run.stderr[-500:])
    assert "XFD1048576" in run.stdout and "far.xlsx" in run.stdout and len(run.stdout.strip().splitlines()) == 1
