"""The demo's warning in force and its compliance check (issue 17, item 7): ``emergency.demo.build_demo_warning``."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from airwarn.core.products import COMPLIANCE_CSV, COMPLIANCE_REPORT_HTML, product_path
from tests.emergency.test_engine_inputs import make_dataset

DATE = dt.date(2026, 1, 10)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A small synthetic list (the demo's is 320 plants: slower, the same code), a forecast, the inventory
    and daily chain, the users, then the demo warning."""
    from airwarn.core.db import create_tables, get_engine
    from airwarn.core.settings import load_settings
    from dashboard import demo as dash_demo
    from emergency import demo as emergency_demo
    from enterprise_list.io import import_list
    from enterprise_list.sample import make_sample_list

    root = tmp_path_factory.mktemp("demo-warning")
    settings = load_settings(env={"AIRWARN_DATA_DIR": str(root / "var")}).ensure_dirs()
    engine = get_engine(settings.db_url)
    create_tables(engine)
    import_list(engine, make_sample_list(60, 2026), "60家(合成)", dt.date(2026, 1, 1), synthetic=True)
    folder = settings.output_dir / DATE.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    make_dataset({settings.city: [150, 170, 160, 120, 90, 80, 70, 60, 60, 60]},
                 issued=DATE.isoformat()).to_netcdf(folder / "forecast.nc")
    emergency_demo.build_demo(settings, DATE)
    dash_demo.build_demo(settings, DATE)
    summary = emergency_demo.build_demo_warning(settings, DATE)
    return settings, summary


def test_demo_warning_is_in_force_signed_off_and_audited(demo):
    from airwarn.core.db import get_engine
    from emergency import lifecycle as lc
    from emergency.audit import audit_log
    from emergency.demo import DEMO_WARNING_REASON

    settings, summary = demo
    w = lc.active_warning(get_engine(settings.db_url), settings.city)
    assert w is not None and summary.startswith(f"issued demo warning #{w.id} (yellow")
    assert (w.start, w.end) == (DATE - dt.timedelta(days=1), DATE + dt.timedelta(days=1))
    rows = sorted(audit_log(get_engine(settings.db_url), warning_id=w.id), key=lambda r: r.id)
    assert [(r.action, r.user, r.role) for r in rows][-2:] == [("issue", "commander", "commander"),
                                                              ("approve", "vice-mayor", "vice-mayor")]
    assert all(DEMO_WARNING_REASON in r.reason for r in rows[-2:])
    txt = product_path(settings.output_dir, DATE, "bulletin.txt").read_text(encoding="utf-8")
    assert "（建议稿）" not in txt and f"预警编号 #{w.id}" in txt


def test_demo_warning_has_a_compliance_result_the_panel_shows(demo):
    from dashboard.services.compliance import compliance_view

    settings, summary = demo
    table = pd.read_csv(product_path(settings.output_dir, DATE, COMPLIANCE_CSV), encoding="utf-8-sig")
    assert set(table["date"]) == {DATE.isoformat()}
    counts = table["status"].value_counts()
    assert counts["compliant"] > counts["violation"] > 0 and counts["unverifiable"] > 0
    assert f"violation {counts['violation']}" in summary and "SYNTHETIC" in summary
    assert (settings.data_dir / "demo" / "power_synthetic.csv").exists()
    view = compliance_view(DATE, settings)
    assert view["checked"] and view["report"] and view["judged_day"] == DATE
    assert len(view["violators"]) == counts["violation"] and len(view["unverifiable"]) == counts["unverifiable"]
    assert "合成示例数据" in product_path(settings.output_dir, DATE, COMPLIANCE_REPORT_HTML).read_text(encoding="utf-8")


def test_demo_warning_step_is_idempotent_and_lifts_an_expired_one(demo):
    from airwarn.core.db import get_engine
    from emergency import lifecycle as lc
    from emergency.demo import build_demo_warning

    settings, _ = demo
    engine = get_engine(settings.db_url)
    first = lc.active_warning(engine, settings.city)
    again = build_demo_warning(settings, DATE)
    assert again.startswith(f"kept demo warning #{first.id}")
    # a week later (the demo run again): the old warning ended, so it is lifted and a new one issued
    later = DATE + dt.timedelta(days=7)
    folder = settings.output_dir / later.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    make_dataset({settings.city: [80] * 10}, issued=later.isoformat()).to_netcdf(folder / "forecast.nc")
    from emergency.daily import run_daily

    run_daily(settings, later)
    out = build_demo_warning(settings, later)
    now = lc.active_warning(engine, settings.city)
    assert now.id != first.id and out.startswith(f"issued demo warning #{now.id}")
    assert lc.get_warning(engine, first.id).status == "lifted"
