"""The list as columns: frames stored at import equal the tables; stale or missing frames fall back to the tables."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import delete, insert, select

from airwarn.core.errors import AirwarnError
from airwarn.core.db import session_scope
from enterprise_list import frames
from enterprise_list.io import import_list
from enterprise_list.models import LEVELS, Enterprise, ListFrame, ListVersion, Measure, ProductionLine
from enterprise_list.sample import make_sample_list


@pytest.fixture
def sample_db(engine):
    res = import_list(engine, make_sample_list(60, seed=7), "2026年度", dt.date(2026, 1, 1), synthetic=True,
                      counties=None)
    frames.clear_cache()
    yield engine, res.version_id
    frames.clear_cache()


def _from_tables(session, vid, level):
    return [frames._read_tables(session, vid, p) for p in ("enterprises", "lines", f"measures:{level}")]


def test_import_stores_every_frame_and_they_equal_the_tables(sample_db):
    engine, vid = sample_db
    with session_scope(engine) as s:
        parts = set(s.scalars(select(ListFrame.part).where(ListFrame.version_id == vid)))
        assert parts == {"enterprises", "lines", *[f"measures:{lv}" for lv in LEVELS]}
        for level in LEVELS:
            frames.clear_cache()
            got = frames.list_frames(s, vid, level)
            for a, b in zip(got, _from_tables(s, vid, level)):
                pd.testing.assert_frame_equal(a, b)
        ents, lines, meas = frames.list_frames(s, vid, "red")
    assert len(ents) == 60 and lines["enterprise_id"].isin(ents["enterprise_id"]).all()
    assert ents["contact_person"].map(type).isin([str, type(None)]).all()
    assert meas["line_id"].is_unique and set(meas["stop"].unique()) <= {0.0, 1.0}
    assert meas["fraction"].dropna().between(0, 1).all()


def test_frames_read_from_storage_not_tables(sample_db):
    engine, vid = sample_db
    with session_scope(engine) as s:  # a stored frame that differs from the tables is what comes back
        row = s.scalars(select(ListFrame).where(ListFrame.version_id == vid, ListFrame.part == "lines")).one()
        lines = frames._decode(row.payload)
        lines["so2"] = 123.0
        row.payload = frames._encode(lines)
    with session_scope(engine) as s:
        assert (frames.list_frames(s, vid, "yellow").lines["so2"] == 123.0).all()


def test_rows_changed_after_storing_make_the_stored_frames_stale(sample_db):
    engine, vid = sample_db
    with session_scope(engine) as s:
        before = frames.list_frames(s, vid, "orange")
    with session_scope(engine) as s:  # an edit in place, outside the import: one more enterprise and line
        eid = s.execute(insert(Enterprise).values(version_id=vid, credit_code="91140300MA0XXXXXXX",
                                                  name="后补企业", county="盂县", industry="焦化", grade="C",
                                                  compliant=True)).inserted_primary_key[0]
        s.execute(insert(ProductionLine).values(enterprise_id=eid, line_code="L01", name="焦炉",
                                                so2=1.0, nox=2.0, pm=0.5, vocs=0.1))
    with session_scope(engine) as s:
        after = frames.list_frames(s, vid, "orange")
    assert len(after.enterprises) == len(before.enterprises) + 1
    assert "后补企业" in set(after.enterprises["name"])
    assert after.lines["so2"].sum() == pytest.approx(before.lines["so2"].sum() + 1.0)


def test_a_measure_removed_in_place_makes_both_caches_stale(sample_db):
    engine, vid = sample_db
    with session_scope(engine) as s:
        before = frames.list_frames(s, vid, "orange").measures
    gone = int(before["line_id"].iloc[0])
    with session_scope(engine) as s:  # lines and enterprises unchanged: only the measures tell
        s.execute(delete(Measure).where(Measure.line_id == gone, Measure.level == "orange"))
    with session_scope(engine) as s:
        after = frames.list_frames(s, vid, "orange").measures
    assert len(after) == len(before) - 1 and gone not in set(after["line_id"])


def test_missing_frames_read_from_the_tables_and_deleted_with_the_version(sample_db):
    engine, vid = sample_db
    with session_scope(engine) as s:
        expected = _from_tables(s, vid, "yellow")
        s.execute(delete(ListFrame).where(ListFrame.part == "enterprises"))
    with session_scope(engine) as s:
        for a, b in zip(frames.list_frames(s, vid, "yellow"), expected):
            pd.testing.assert_frame_equal(a, b)
    with session_scope(engine) as s:
        s.delete(s.get(ListVersion, vid))
    with session_scope(engine) as s:
        assert s.scalars(select(ListFrame)).all() == []
    with pytest.raises(AirwarnError, match="unknown level"):
        with session_scope(engine) as s:
            frames.list_frames(s, vid, "purple")


def test_codec_keeps_missing_text_and_numbers():
    df = pd.DataFrame({"enterprise_id": np.array([3, 1], dtype=np.int64), "name": ["甲", None],
                       "compliant": [True, False], "fraction": [0.5, np.nan]})
    back = frames._decode(frames._encode(df))
    pd.testing.assert_frame_equal(back, df)
