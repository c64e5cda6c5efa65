"""The compliance check in the daily chain (issue 17 item 6): the ``power`` / ``cems`` settings, the three
files in the product day's folder for the warning in force, errors naming the setting."""
from __future__ import annotations

import datetime as dt
import os

import pandas as pd
import pytest

from airwarn.core.products import (COMPLIANCE_CSV, COMPLIANCE_REDUCTIONS_CSV, COMPLIANCE_REPORT_HTML,
                                   product_path)
from airwarn.core.settings import load_settings
from emergency import compliance as cp
from emergency.daily import PRODUCTS, run_daily
from tests.emergency.test_engine_inputs import make_dataset

DATE = dt.date(2026, 1, 10)
FILES = (COMPLIANCE_CSV, COMPLIANCE_REDUCTIONS_CSV, COMPLIANCE_REPORT_HTML)


@pytest.fixture
def chain(settings):
    """The demo list, a quiet forecast on DATE, and the synthetic inventory (no warning yet)."""
    from airwarn.core.db import create_tables, get_engine
    from enterprise_list.demo import build_demo

    build_demo(settings, DATE)
    folder = settings.output_dir / DATE.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    make_dataset({settings.city: [80, 90, 70, 60, 60, 60, 60, 60, 60, 60]},
                 issued=DATE.isoformat()).to_netcdf(folder / "forecast.nc")
    from emergency.demo import build_demo as inventory_and_chain

    inventory_and_chain(settings, DATE)  # the synthetic inventory (the targets' totals); the chain without power
    engine = get_engine(settings.db_url)
    create_tables(engine)
    return settings, engine


def _issue(settings, engine, start=DATE - dt.timedelta(days=1)):
    from emergency import lifecycle as lc

    return lc.issue(engine, area=settings.city, level="orange", user="boss", role="commander",
                    start=start.isoformat(), end=(start + dt.timedelta(days=3)).isoformat(),
                    rules_version="national-2024")


def _sample(settings, engine, w, tmp_path):
    from airwarn.core.db import session_scope
    from emergency.compliance_cli import sample_data

    with session_scope(engine) as s:
        obl = cp.warning_obligations(s, w.level, w.start)
    power, cems = sample_data(obl, cp.warning_start_instant(w), DATE, seed=7)
    p, c = tmp_path / "power_synthetic.csv", tmp_path / "cems_synthetic.csv"
    power.to_csv(p, index=False)
    cems.to_csv(c, index=False)
    return obl, p, c


def test_settings_power_and_cems(tmp_path):
    s = load_settings(env={"AIRWARN_DATA_DIR": str(tmp_path)})
    assert s.power == () and s.cems == ()
    s = load_settings(env={"AIRWARN_DATA_DIR": str(tmp_path), "AIRWARN_POWER": "a.csv, b.xlsx",
                           "AIRWARN_CEMS": f"c.csv{os.pathsep}d.csv"})
    assert [str(p) for p in s.power] == ["a.csv", "b.xlsx"]
    assert [p.name for p in s.cems] == ["c.csv", "d.csv"]
    toml = tmp_path / "airwarn.toml"
    toml.write_text('power = ["p1.csv", "p2.csv"]\ncems = "c1.csv"\n', encoding="utf-8")
    s = load_settings(toml, env={})
    assert [p.name for p in s.power] == ["p1.csv", "p2.csv"] and [p.name for p in s.cems] == ["c1.csv"]
    toml.write_text("power = 3\n", encoding="utf-8")
    with pytest.raises(ValueError, match="power must be a path"):
        load_settings(toml, env={})


def test_chain_writes_the_compliance_of_the_warning_in_force(chain, tmp_path):
    settings, engine = chain
    w = _issue(settings, engine)
    obl, p, c = _sample(settings, engine, w, tmp_path)
    res = run_daily(settings.with_(power=(p,), cems=(c,)), DATE)
    assert res.compliance_error is None and res.compliance is not None
    counts = res.compliance.counts()
    assert sum(counts.values()) == len(res.compliance.result.lines) > 0
    assert counts["compliant"] and counts["violation"]  # the sample has both
    assert "compliance of warning" in res.summary() and f"violation {counts['violation']}" in res.summary()
    for name in (*PRODUCTS, *FILES):
        path = product_path(settings.output_dir, DATE, name)
        assert path.stat().st_size > 0, name
    for name in FILES:
        assert product_path(settings.output_dir, DATE, name) in res.files
    table = pd.read_csv(product_path(settings.output_dir, DATE, COMPLIANCE_CSV), encoding="utf-8-sig")
    assert list(table.columns) == list(cp.CSV_COLUMNS) and set(table["date"]) == {DATE.isoformat()}
    assert set(table["line_id"]) <= set(obl["line_id"])
    red = pd.read_csv(product_path(settings.output_dir, DATE, COMPLIANCE_REDUCTIONS_CSV))
    assert red["target"].notna().all() and red["total"].notna().all()  # targets and the inventory were found
    page = product_path(settings.output_dir, DATE, COMPLIANCE_REPORT_HTML).read_text(encoding="utf-8")
    assert "督查日报" in page and "合成示例数据" in page  # the synthetic column, not the file name
    # the same data under a name without "synthetic": still marked synthetic
    q = tmp_path / "meters.csv"
    q.write_bytes(p.read_bytes())
    run_daily(settings.with_(power=(q,)), DATE)
    page = product_path(settings.output_dir, DATE, COMPLIANCE_REPORT_HTML).read_text(encoding="utf-8")
    assert "合成示例数据" in page


def test_malformed_power_file_names_the_setting_and_keeps_the_products(chain, tmp_path, monkeypatch, capsys):
    settings, engine = chain
    _issue(settings, engine)
    bad = tmp_path / "power.csv"
    bad.write_text("credit_code,line_id,time,kw\nC1,L1,2026-01-10 00:00,abc\n", encoding="utf-8")
    res = run_daily(settings.with_(power=(bad,)), DATE)
    assert res.compliance is None
    assert "settings 'power' (AIRWARN_POWER)" in res.compliance_error and str(bad) in res.compliance_error
    assert "row 2" in res.compliance_error or "'kw'" in res.compliance_error
    assert "compliance check FAILED" in res.summary()
    for name in PRODUCTS:
        assert product_path(settings.output_dir, DATE, name).stat().st_size > 0, name
    for name in FILES:
        assert not product_path(settings.output_dir, DATE, name).exists()
    missing = run_daily(settings.with_(power=(bad,), cems=(tmp_path / "none.csv",)), DATE)
    assert "settings 'power' (AIRWARN_POWER)" in missing.compliance_error
    bad.write_text("credit_code,line_id,time,kw\n", encoding="utf-8")
    missing = run_daily(settings.with_(power=(bad,), cems=(tmp_path / "none.csv",)), DATE)
    assert "settings 'cems' (AIRWARN_CEMS)" in missing.compliance_error and "none.csv" in missing.compliance_error
    # the command: products written, the failure reported, exit status 1
    from airwarn.cli import main

    monkeypatch.setenv("AIRWARN_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("AIRWARN_POWER", str(tmp_path / "none.csv"))
    assert main(["daily", "--date", DATE.isoformat()]) == 1
    err = capsys.readouterr().err
    assert "settings 'power' (AIRWARN_POWER)" in err


def test_no_warning_in_force_writes_no_compliance_files(chain, tmp_path):
    settings, engine = chain
    w = _issue(settings, engine)
    _, p, c = _sample(settings, engine, w, tmp_path)
    from emergency import lifecycle as lc

    lc.lift(engine, w.id, user="boss", role="commander")
    res = run_daily(settings.with_(power=(p,), cems=(c,)), DATE)
    assert res.compliance is None and res.compliance_error is None
    for name in FILES:
        assert not product_path(settings.output_dir, DATE, name).exists()
    # a warning whose period has not begun on the product day is not in force either
    _issue(settings, engine, start=DATE + dt.timedelta(days=1))
    early = run_daily(settings.with_(power=(p,)), DATE)
    assert early.compliance is None and early.compliance_error is None


def test_read_power_keeps_the_synthetic_column(tmp_path):
    from airwarn.core.errors import ReaderError
    from emergency.compliance_io import read_power
    from emergency.compliance_run import is_synthetic

    a = tmp_path / "a.csv"
    a.write_text("credit_code,line_id,time,kw,synthetic\nC1,A,2026-01-10 00:00,100,true\n", encoding="utf-8")
    b = tmp_path / "b.csv"
    b.write_text("credit_code,line_id,time,kw\nC1,B,2026-01-10 00:00,100\n", encoding="utf-8")
    df = read_power([a, b])
    assert df["synthetic"].tolist() == [True, False] and df["synthetic"].dtype == bool
    assert is_synthetic(df) and not is_synthetic(read_power(b))
    a.write_text("credit_code,line_id,time,kw,synthetic\nC1,A,2026-01-10 00:00,100,maybe\n", encoding="utf-8")
    with pytest.raises(ReaderError, match="synthetic"):
        read_power(a)
