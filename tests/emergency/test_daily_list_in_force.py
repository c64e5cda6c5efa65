"""The daily chain reads the list in force on its day as :func:`enterprise_list.models.list_in_force` does.

The cases where the callers used to disagree: a version effective after the day (approved, not yet in
force) and a version imported later with an earlier effective date.
"""
from __future__ import annotations

import datetime as dt
import json

from airwarn.core.db import get_engine, session_scope
from airwarn.core.products import REDUCTIONS_JSON, product_path
from emergency.daily import run_daily
from enterprise_list.io import import_list
from enterprise_list.models import list_in_force, resolve_version
from enterprise_list.sample import make_sample_list
from tests.emergency.test_daily_cli import DATE, write_forecast

QUIET = [80, 90, 120, 140, 95, 80, 70, 60, 60, 60]  # no warning: the chain writes the standby reductions


def _import(settings, name: str, effective: dt.date, seed: int) -> None:
    import_list(get_engine(settings.db_url), make_sample_list(8, seed=seed), name, effective,
                counties=None, bounds=False, allow_shrink=True)


def test_daily_chain_agrees_with_list_in_force(settings):
    _import(settings, "2026年度", dt.date(2026, 1, 1), 1)
    _import(settings, "2026年度第1次修订", DATE + dt.timedelta(days=20), 2)  # effective after the day
    _import(settings, "2025年度", dt.date(2025, 6, 1), 3)  # imported last, effective earliest
    write_forecast(settings, QUIET)
    res = run_daily(settings, DATE)
    red = json.loads(product_path(settings.output_dir, DATE, REDUCTIONS_JSON).read_text(encoding="utf-8"))
    with session_scope(get_engine(settings.db_url)) as s:
        in_force = list_in_force(s, DATE).name
        assert resolve_version(s, DATE).name == in_force == "2026年度"
    assert res.reductions is None and red["standby"]["list_version"] == in_force


def test_daily_chain_with_only_a_future_version_has_no_list(settings):
    _import(settings, "2026年度第1次修订", DATE + dt.timedelta(days=20), 2)
    write_forecast(settings, QUIET)
    run_daily(settings, DATE)
    red = json.loads(product_path(settings.output_dir, DATE, REDUCTIONS_JSON).read_text(encoding="utf-8"))
    assert red["standby"] is None and red["note"] == "无预警;当日没有生效的应急减排清单"
