"""Warning areas (issue 14, break 13): one canonical name per area, one active warning per area, any
other name refused; on a real SQLite file (and PostgreSQL) and through the real CLI."""
from __future__ import annotations

import json

import pytest

import emergency.models  # noqa: F401  (registers the tables)
from airwarn.cli import main
from airwarn.core.db import create_tables, get_engine, session_scope
from airwarn.core.settings import load_settings
from airwarn.core.vocab import YANGQUAN_COUNTIES
from emergency import lifecycle as lc
from emergency.areas import AreaList, UnknownAreaError, areas_for, load_areas

#: A warning's period and rule set: lifecycle.issue refuses a warning without them.
PERIOD = {"start": "2026-12-03", "end": "2026-12-05", "rules_version": "national-2024"}

PASSWORD = "Commander-pass-1"


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    """A data folder with a commander, and the CLI's environment pointing at it."""
    import airwarn.core.users as users

    monkeypatch.setenv("AIRWARN_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("AIRWARN_AREAS", raising=False)
    monkeypatch.delenv("AIRWARN_CITY", raising=False)
    settings = load_settings(env={"AIRWARN_DATA_DIR": str(tmp_path / "var")}).ensure_dirs()
    eng = get_engine(settings.db_url)
    create_tables(eng)
    with session_scope(eng) as s:
        users.add_user(s, "wang", "commander", PASSWORD)
    monkeypatch.setenv("AIRWARN_PASSWORD", PASSWORD)
    return settings


def test_break_13_four_spellings_of_one_city_give_one_active_warning(cli_env, capsys):
    """`--area 阳泉`, `"阳泉 "`, `" 阳泉"` and `阳泉市` gave four active warnings for one city."""
    base = ["warning", "issue", "--level", "yellow", "--start", "2026-12-03", "--end", "2026-12-05", "--user", "wang", "--role", "commander", "--area"]
    assert main([*base, "阳泉"]) == 0
    assert json.loads(capsys.readouterr().out)["area"] == "阳泉"
    for spelling in ("阳泉 ", " 阳泉", "阳泉市", "阳泉\u3000"):
        assert main([*base, spelling]) == 2, spelling
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "area '阳泉' already has an active warning" in err
    eng = get_engine(cli_env.db_url)
    active = [w for w in lc.history(eng) if w.status == "issued"]
    assert [(w.area, w.level.key) for w in active] == [("阳泉", "yellow")]
    refused = lc.refusals(eng)
    assert [r.area for r in refused] == ["阳泉"] * 4  # the area the attempt was about
    assert all(r.user == "wang" and r.action == "issue" and "already has an active" in r.reason for r in refused)
    # the canonical name is stored, and reading by an alias finds it
    assert lc.active_warning(eng, "阳泉市").area == "阳泉"
    assert main(["warning", "show", "--area", " 阳泉市 "]) == 0
    assert json.loads(capsys.readouterr().out)["revision"] == 2


def test_break_13_any_other_string_is_refused_with_the_valid_areas(cli_env, capsys):
    assert main(["warning", "issue", "--level", "yellow", "--start", "2026-12-03", "--end", "2026-12-05", "--user", "wang", "--role", "commander",
                 "--area", "阳泉县城"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "unknown area '阳泉县城'; valid areas are 阳泉, 城区, 矿区, 郊区, 平定县, 盂县, 高新区" in err
    eng = get_engine(cli_env.db_url)
    assert lc.history(eng) == []
    assert [(r.action, r.area, r.user) for r in lc.refusals(eng)] == [("issue", "阳泉县城", "wang")]


def test_break_13_the_lifecycle_itself_refuses_unknown_areas_and_stores_canonical_names(engine):
    """Enforced server side (draft and issue), whatever the caller: the dashboard, a script, the CLI."""
    with pytest.raises(UnknownAreaError, match="unknown area 'Beijing'"):
        lc.issue(engine, area="Beijing", level="red", user="c", role="commander")
    with pytest.raises(UnknownAreaError, match="unknown area ''"):
        lc.draft(engine, area="", level="yellow", user="f", role="forecaster")
    assert lc.history(engine) == []
    w = lc.issue(engine, area="阳泉市", level="yellow", user="c", role="commander", **PERIOD)
    assert w.area == "阳泉"
    for spelling in ("阳泉", "阳泉 ", " 阳泉", "阳泉市", "阳泉\t"):
        with pytest.raises(lc.WarningConflictError, match="already has an active warning"):
            lc.issue(engine, area=spelling, level="orange", user="c", role="commander", **PERIOD)
    d = lc.draft(engine, area="平定", level="yellow", user="f", role="forecaster", **PERIOD)
    assert d.area == "平定县"
    assert lc.issue(engine, d.id, user="c", role="commander").area == "平定县"
    assert lc.issue(engine, area="阳泉市盂县", level="orange", user="c", role="commander", **PERIOD).area == "盂县"
    assert sorted(w.area for w in lc.history(engine) if w.status == "issued") == ["平定县", "盂县", "阳泉"]
    assert [r.area for r in lc.refusals(engine)] == ["Beijing", "", "阳泉", "阳泉 ", " 阳泉", "阳泉市", "阳泉\t"]


def test_area_names_are_normalised_and_counties_have_one_source(settings):
    areas = areas_for(settings)
    assert areas.city == "阳泉" and areas.counties == YANGQUAN_COUNTIES  # the list validator's list
    assert areas.canonical("\u3000阳泉市\u3000") == "阳泉"        # full-width spaces
    assert areas.canonical("平 定") == "平定县" and areas.canonical("盂县") == "盂县"
    assert areas.canonical("阳泉高新区") == "高新区" and areas.canonical("阳泉郊区") == "郊区"
    with pytest.raises(UnknownAreaError) as err:
        areas.canonical("太原")
    assert "\n" not in str(err.value) and "the bundled list of 阳泉" in str(err.value)


def test_other_cities_take_their_area_file_or_the_city_alone(tmp_path):
    alone = areas_for(load_settings(env={"AIRWARN_DATA_DIR": str(tmp_path), "AIRWARN_CITY": "太原"}))
    assert alone == AreaList("太原", (), {}, alone.source)
    assert alone.canonical("太原市") == "太原"
    with pytest.raises(UnknownAreaError, match=r"valid areas are 太原 \(aliases: none; list from the settings' city alone"):
        alone.canonical("小店区")
    f = tmp_path / "areas.yaml"
    f.write_text("city: 太原\ncounties: [小店区, 迎泽区, 清徐县]\naliases:\n  清徐: 清徐县\n", encoding="utf-8")
    areas = areas_for(load_settings(env={"AIRWARN_DATA_DIR": str(tmp_path), "AIRWARN_CITY": "太原",
                                         "AIRWARN_AREAS": str(f)}))
    assert areas.names == ("太原", "小店区", "迎泽区", "清徐县")
    assert areas.canonical("清徐") == "清徐县" and areas.canonical("太原市迎泽区") == "迎泽区"


@pytest.mark.parametrize("body, message", [
    ("city: 太原\ncounties: [小店区]\n", "its city is '太原', the settings' city is '阳泉'"),
    ("city: 阳泉\ncounties: [城区]\naliases:\n  平定: 平定县\n", "alias '平定' points to '平定县', which is not one of 阳泉, 城区"),
    ("city: 阳泉\n", "'counties' must be a list of names, got None"),
    ("city: [阳泉\n", "not readable UTF-8 YAML"),
])
def test_bad_area_files_are_refused_in_one_line(tmp_path, body, message):
    f = tmp_path / "areas.yaml"
    f.write_text(body, encoding="utf-8")
    with pytest.raises(ValueError) as err:
        load_areas(f, "阳泉")
    assert message in str(err.value) and str(f) in str(err.value) and "\n" not in str(err.value)
