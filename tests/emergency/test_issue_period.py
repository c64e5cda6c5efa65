"""A warning always has its period and its rule set: lifecycle.issue itself refuses one without them
(before, only the CLI and the page checked, and a direct call stored an active warning with null
start, end and rules)."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

import emergency.models  # noqa: F401  (registers the tables)
from airwarn.core.db import create_tables, get_engine
from emergency import lifecycle as lc


@pytest.fixture
def engine(tmp_path):
    eng = get_engine(f"sqlite:///{tmp_path / 'airwarn.core.db'}")
    create_tables(eng)
    return eng


WHO = {"user": "wang", "role": "commander"}


@pytest.mark.parametrize("kwargs, message", [
    ({}, r"needs its period: expected start and end .* got start None, end None"),
    ({"start": "2026-12-03", "rules_version": "national-2024"}, r"got start 2026-12-03, end None"),
    ({"start": "2026-12-05", "end": "2026-12-03", "rules_version": "national-2024"},
     r"expected an end on or after the start 2026-12-03|on or after the start 2026-12-05, got 2026-12-03"),
    ({"start": "2026-12-03", "end": "2026-12-05"}, r"needs the rule set it was decided on"),
])
def test_i15_issue_refuses_a_warning_without_period_or_rules(engine, kwargs, message):
    with pytest.raises(ValueError, match=message) as info:
        lc.issue(engine, area="阳泉", level="orange", **WHO, **kwargs)
    assert "\n" not in str(info.value)                     # one line
    assert lc.active_warning(engine, "阳泉") is None         # nothing stored
    assert lc.history(engine) == []
    assert [r.action for r in lc.refusals(engine)] == ["issue"]  # the refusal is recorded


def test_i15_issue_of_a_draft_without_period_is_refused_and_the_draft_stays(engine):
    d = lc.draft(engine, area="阳泉", level="yellow", user="li", role="forecaster")
    with pytest.raises(ValueError, match=rf"draft #{d.id} needs its period"):
        lc.issue(engine, d.id, **WHO)
    assert lc.active_warning(engine, "阳泉") is None
    assert [h.status for h in lc.history(engine)] == ["draft"]


def test_i15_issue_records_period_and_rules_from_the_arguments_or_the_recommendation(engine):
    from emergency.engine import assess

    w = lc.issue(engine, area="阳泉", level="orange", start="2026-12-03", end="2026-12-05",
                 rules_version="national-2024", **WHO)
    assert (w.start, w.end) == (dt.date(2026, 12, 3), dt.date(2026, 12, 5))
    assert next(h for h in lc.history(engine) if h.id == w.id).rules_version == "national-2024"
    lc.lift(engine, w.id, expected_revision=w.revision, **WHO)
    # a draft without a rule set takes the one given at issue
    d = lc.draft(engine, area="盂县", level="yellow", user="li", role="forecaster", start="2026-12-03",
                 end="2026-12-04")
    lc.issue(engine, d.id, rules_version="national-2019", **WHO)
    assert next(h for h in lc.history(engine) if h.id == d.id).rules_version == "national-2019"
    # the recommendation gives both
    rec = assess(pd.DataFrame({"city": "阳泉", "valid_date": pd.date_range("2026-12-03", periods=4),
                               "aqi": [160, 170, 175, 90]}), "national-2024", decision="median")
    assert rec.level.key == "orange" and rec.start is not None
    w = lc.issue(engine, area="阳泉", level=rec.level, recommendation=rec, **WHO)
    assert (w.start, w.end) == (rec.start, rec.end)
    assert next(h for h in lc.history(engine) if h.id == w.id).rules_version == rec.rules_version
