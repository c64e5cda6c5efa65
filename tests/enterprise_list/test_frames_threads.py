"""The list frames cache is shared by the dashboard's threads: reads and evictions at once stay correct."""
from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor


from airwarn.core.db import get_engine, session_scope
from enterprise_list import frames
from enterprise_list.demo import build_demo
from enterprise_list.models import list_in_force


def test_list_frames_from_many_threads_with_a_tiny_cache(settings, monkeypatch):
    build_demo(settings, dt.date(2026, 11, 28))
    engine = get_engine(settings.db_url)
    with session_scope(engine) as s:
        version_id = list_in_force(s, dt.date(2026, 11, 28)).id
    monkeypatch.setattr(frames, "_CACHE_MAX", 2)  # every call evicts what another thread is reading
    frames.clear_cache()

    def one(k: int) -> tuple[int, int, int]:
        level = frames.LEVELS[k % len(frames.LEVELS)]
        with session_scope(engine) as s:
            f = frames.list_frames(s, version_id, level)
        return len(f.enterprises), len(f.lines), len(f.measures)

    with ThreadPoolExecutor(8) as pool:
        sizes = list(pool.map(one, range(200)))
    assert {(e, l) for e, l, _ in sizes} == {(320, 484)}
    assert all(m > 0 for _, _, m in sizes)


def test_one_engine_per_url_when_threads_ask_at_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'a.sqlite'}"
    with ThreadPoolExecutor(8) as pool:
        engines = list(pool.map(lambda _: get_engine(url), range(32)))
    assert len({id(e) for e in engines}) == 1
