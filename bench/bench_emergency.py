"""Benchmarks of the warning engine; prints figures (no assertions).

1. Measures and reductions for a 100,000-enterprise list (2 lines each, measures at 3 levels),
   per level: ``compute_reductions``, target < 1 s. The list is written with bulk inserts, then its
   columnar frames are stored as ``import_list`` does; "first" is the first call of a level in a
   fresh process cache (frames read from the database), "cached" a repeated call.
2. ``airwarn daily`` end to end on the demo (list, inventory, a forecast file), target < 30 s.

Run: ``.venv/bin/python bench/bench_emergency.py [--n 100000] [--postgresql]`` (``--postgresql``: the
reductions on a throwaway PostgreSQL server, as the tests use, instead of an SQLite file).
"""
from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.postgres import databases  # noqa: E402


def build_list(engine, n: int, seed: int = 1) -> int:
    """Bulk-insert a synthetic list with Core inserts (fast)."""
    from sqlalchemy import insert

    from enterprise_list.models import Enterprise, ListVersion, Measure, ProductionLine

    rng = np.random.default_rng(seed)
    counties = ["城区", "矿区", "郊区", "平定县", "盂县", "高新区"]
    industries = ["焦化", "耐火材料", "砖瓦窑", "石灰窑", "铸造", "铁合金", "工业涂装", "洗煤"]
    grades = ["A", "B", "C", "D", "引领性", "非引领性", "保障类", "未评级"]
    gp = [0.05, 0.25, 0.3, 0.1, 0.03, 0.17, 0.05, 0.05]
    with engine.begin() as conn:
        vid = conn.execute(insert(ListVersion).values(name="bench", year=2026, effective_date=dt.date(2026, 1, 1))
                           ).inserted_primary_key[0]
        g = rng.choice(grades, n, p=gp)
        conn.execute(insert(Enterprise), [
            {"id": i + 1, "version_id": vid, "credit_code": f"B{i:017d}", "name": f"企业{i}",
             "county": counties[i % 6], "industry": industries[i % 8], "grade": str(g[i]),
             "compliant": not (g[i] == "未评级" and i % 2 == 0)} for i in range(n)])
        base = rng.gamma(2.0, 0.05, size=(2 * n, 4))
        conn.execute(insert(ProductionLine), [
            {"id": j + 1, "enterprise_id": j // 2 + 1, "line_code": f"L{j % 2}", "name": "line",
             "so2": base[j, 0], "nox": base[j, 1], "pm": base[j, 2], "vocs": base[j, 3]} for j in range(2 * n)])
        rows = []
        for k, (lvl, frac) in enumerate((("yellow", 0.2), ("orange", 0.4), ("red", 0.7))):
            for j in range(2 * n):
                rows.append({"line_id": j + 1, "level": lvl, "kind": "limit", "fraction": frac, "text": "限产",
                             "cut_so2": base[j, 0] * frac, "cut_nox": base[j, 1] * frac,
                             "cut_pm": base[j, 2] * frac, "cut_vocs": base[j, 3] * frac})
        conn.execute(insert(Measure), rows)
    return vid


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--postgresql", action="store_true",
                    help="the reductions on a throwaway PostgreSQL server (tests/postgres.py) instead of SQLite")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench_emergency_"))
    with databases(args.postgresql, tmp) as new_url:
        bench_reductions(new_url("bench"), args.n)
    bench_daily(tmp)


def bench_reductions(url: str, n: int) -> None:
    import emergency.models  # noqa: F401
    from airwarn.core.db import create_tables, get_engine, session_scope
    from emergency.notify import notification_frame
    from emergency.reductions import compute_reductions

    engine = get_engine(url)
    create_tables(engine)
    print(f"database: {engine.dialect.name}")
    t = time.perf_counter()
    vid = build_list(engine, n)
    print(f"list of {n:,} enterprises, {2 * n:,} lines, {6 * n:,} measures built in "
          f"{time.perf_counter() - t:.1f} s")
    from enterprise_list.frames import store_frames

    t = time.perf_counter()
    with session_scope(engine) as s:  # as enterprise_list.io.import_list does, in its transaction
        store_frames(s, vid)
    print(f"  columnar frames stored in {time.perf_counter() - t:.1f} s")
    from sqlalchemy import delete, func, select

    from enterprise_list.frames import clear_cache
    from enterprise_list.models import ListFrame

    with session_scope(engine) as s:
        stored = s.execute(select(func.sum(func.length(ListFrame.payload)))).scalar()
    print(f"  stored frames (written with the list, as import_list does): {stored / 1e6:.0f} MB")
    clear_cache()
    for lvl in ("yellow", "orange", "red"):
        times = []
        for _ in range(2):  # first call of the level reads the frames, second uses the process cache
            with session_scope(engine) as s:
                t = time.perf_counter()
                red = compute_reductions(s, lvl, version="bench")
                times.append(time.perf_counter() - t)
        with session_scope(engine) as s:
            t = time.perf_counter()
            notes = notification_frame(s, red)
            dt_note = time.perf_counter() - t
        print(f"  {lvl:<6} reductions: first {times[0]:.2f} s, cached {times[1]:.2f} s (target < 1 s); "
              f"{len(red.enterprises):,} affected, SO2 cut {red.cut['so2']:.1f} t/d; "
              f"notification list with measure texts: {dt_note:.2f} s ({len(notes):,} rows)")
    with session_scope(engine) as s:  # without the stored frames: the tables are read row by row
        s.execute(delete(ListFrame))
    clear_cache()
    firsts = []
    for lvl in ("yellow", "orange", "red"):
        with session_scope(engine) as s:
            t = time.perf_counter()
            compute_reductions(s, lvl, version="bench")
            firsts.append(time.perf_counter() - t)
    print("  without stored frames (tables read row by row), first call per level: "
          + ", ".join(f"{lv} {x:.2f} s" for lv, x in zip(("yellow", "orange", "red"), firsts)))


def bench_daily(tmp: Path) -> None:
    """``airwarn daily`` end to end on the demo list + inventory + a forecast file in the pinned layout."""
    from tests.emergency.test_engine_inputs import make_dataset

    from airwarn.core.settings import load_settings

    data = tmp / "var"
    settings = load_settings(env={"AIRWARN_DATA_DIR": str(data)}).ensure_dirs()
    from enterprise_list.demo import build_demo as list_demo

    list_demo(settings, dt.date(2026, 1, 10))
    date = dt.date(2026, 1, 10)
    folder = settings.output_dir / date.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(3)
    med = np.array([205, 212, 225, 180, 95, 80, 70, 60, 60, 60], float)
    members = np.clip(med[None, :] * np.exp(rng.normal(0, 0.25, (50, 1)) + rng.normal(0, 0.1, (50, 10))), 10, 500)
    make_dataset({"阳泉": list(med)}, {"阳泉": members}, issued=date.isoformat()).to_netcdf(folder / "forecast.nc")
    from emergency.demo import build_demo

    build_demo(settings, date)  # imports the synthetic inventory
    env = {"AIRWARN_DATA_DIR": str(data), "PATH": "/usr/bin:/bin"}
    t = time.perf_counter()
    out = subprocess.run([str(REPO / ".venv" / "bin" / "airwarn"), "daily", "--date", date.isoformat()],
                         capture_output=True, text=True, env=env, cwd=tmp)
    wall = time.perf_counter() - t
    print(f"airwarn daily end to end (new process, forecast file present): {wall:.1f} s (target < 30 s); "
          f"exit {out.returncode}: {out.stdout.splitlines()[0] if out.stdout else out.stderr.strip()}")


if __name__ == "__main__":
    main()
