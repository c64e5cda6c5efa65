"""Benchmark of the emergency-reduction list: import, lookup latency, database size.

Prints figures (no assertions on time); run with ``.venv/bin/python bench/bench_list.py``
(``--import-size`` and ``--lookup-size`` change the list sizes; ``--postgresql`` runs it on a
throwaway PostgreSQL server, as the tests do, instead of SQLite files). Targets (issue 4):
import of a 10,000-enterprise xlsx < 20 s; lookup p95 < 20 ms on 100,000 enterprises,
by credit code and by fuzzy name.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from airwarn.core.db import create_tables, get_engine, session_scope  # noqa: E402
from enterprise_list.io import import_list  # noqa: E402
from enterprise_list.lookup import find_enterprises, get_enterprise, policy_sheet  # noqa: E402
from enterprise_list.sample import make_sample_list  # noqa: E402
from enterprise_list.workbook import read_list_workbook, write_list_workbook  # noqa: E402
from tests.postgres import databases  # noqa: E402


def _p(xs: list[float]) -> str:
    a = np.array(xs) * 1000
    return f"p50 {np.percentile(a, 50):.2f} ms, p95 {np.percentile(a, 95):.2f} ms, max {a.max():.2f} ms"


def _db_size_mb(engine) -> float:
    """Size of the database on disk [MB]: the SQLite file, or PostgreSQL's own count."""
    if engine.dialect.name == "sqlite":
        return Path(engine.url.database).stat().st_size / 1e6
    with engine.connect() as con:
        return con.exec_driver_sql("SELECT pg_database_size(current_database())").scalar() / 1e6


def bench_import(folder: Path, n: int, new_url) -> None:
    t = time.perf_counter()
    sample = make_sample_list(n, seed=1)
    gen = time.perf_counter() - t
    path = folder / f"list_{n}.xlsx"
    t = time.perf_counter()
    write_list_workbook(sample, path)
    write = time.perf_counter() - t
    engine = get_engine(new_url(f"import_{n}"))
    t0, c0 = time.perf_counter(), time.process_time()
    parsed = read_list_workbook(path)
    t_read = time.perf_counter() - t0
    res = import_list(engine, parsed, "bench", dt.date(2026, 1, 1), synthetic=True)
    total, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"import {n:,} enterprises ({res.n_lines:,} lines, {res.n_measures:,} measures; "
          f"xlsx {path.stat().st_size / 1e6:.1f} MB): read {t_read:.1f} s, read+validate+store {total:.1f} s "
          f"wall, {cpu:.1f} s CPU (target < 20 s)  [generate {gen:.1f} s, write xlsx {write:.1f} s]")


def bench_lookup(n: int, queries: int, new_url) -> None:
    engine = get_engine(new_url(f"lookup_{n}"))
    create_tables(engine)
    empty = _db_size_mb(engine)  # PostgreSQL's catalogue of an empty database (about 8 MB)
    t = time.perf_counter()
    sample = make_sample_list(n, seed=2)
    t_gen = time.perf_counter() - t
    t = time.perf_counter()
    res = import_list(engine, sample, "bench", dt.date(2026, 1, 1), synthetic=True)
    t_store = time.perf_counter() - t
    print(f"database of {n:,} enterprises ({res.n_lines:,} lines, {res.n_measures:,} measures): "
          f"{_db_size_mb(engine) - empty:.1f} MB over the empty database  [generate {t_gen:.1f} s, validate+store {t_store:.1f} s]")
    rng = random.Random(3)
    ents = sample.records["enterprises"]
    picks = [ents[rng.randrange(n)] for _ in range(queries)]
    with session_scope(engine) as s:
        t = time.perf_counter()
        find_enterprises(s, "预热")
        print(f"  name index built on first use: {time.perf_counter() - t:.2f} s (then cached per version)")
        for label, make_q in (
            ("by credit code", lambda e: e["credit_code"]),
            ("by exact name", lambda e: e["name"]),
            ("by name fragment (2 words + industry)", lambda e: e["name"][2:6] + e["name"][6:8]),
            ("by fuzzy name (one character dropped)", lambda e: e["name"][:4] + e["name"][5:10]),
        ):
            times, found = [], 0
            for e in picks:
                q = make_q(e)
                t = time.perf_counter()
                hits = find_enterprises(s, q, limit=10)
                times.append(time.perf_counter() - t)
                found += any(h.credit_code == e["credit_code"] for h in hits)
            print(f"  find_enterprises {label}: {_p(times)}; target in top 10: {found}/{len(picks)}")
        times = []
        for e in picks[:100]:
            t = time.perf_counter()
            find_enterprises(s, county=e["county"], industry=e["industry"], grade=e["grade"], limit=50)
            times.append(time.perf_counter() - t)
        print(f"  find_enterprises county+industry+grade filter: {_p(times)}")
        times = []
        for e in picks[:100]:
            t = time.perf_counter()
            get_enterprise(s, e["credit_code"])
            policy_sheet(s, e["credit_code"], "red")
            times.append(time.perf_counter() - t)
        print(f"  get_enterprise + policy_sheet by code: {_p(times)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--import-size", type=int, default=10_000)
    ap.add_argument("--lookup-size", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--postgresql", action="store_true",
                    help="on a throwaway PostgreSQL server (tests/postgres.py) instead of SQLite files")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_list_") as d:
        folder = Path(d)
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"bench_list (python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load:.1f}, "
              f"{'PostgreSQL' if args.postgresql else 'SQLite'})")
        with databases(args.postgresql, folder) as new_url:
            bench_import(folder, args.import_size, new_url)
            bench_lookup(args.lookup_size, args.queries, new_url)


if __name__ == "__main__":
    main()
