"""Shared test fixtures.

The real third-party data live in ``../shared/data`` beside the checkout (CI lays
it there too); ``AIRWARN_SHARED_DATA`` points elsewhere. Nothing from it is
copied into the repository.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# The suite runs on every core (pytest-xdist), so two trainings often share the 2 cores: OpenMP threads
# that spin while they wait then make a 2-thread LightGBM fit up to 8 times slower than sleeping ones
# (bench/bench_threads.py). Set before any test imports LightGBM; inherited by the servers and CLIs the
# tests start. An explicit setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def _shared_data_dir() -> Path:
    return Path(os.environ.get("AIRWARN_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Folder of the real shared data; fails in CI, skips elsewhere, if it is absent."""
    path = _shared_data_dir()
    if not (path / "README.md").exists():
        if os.environ.get("CI"):
            pytest.fail(f"shared data not found at {path}; CI must lay ../shared beside the checkout")
        pytest.skip(f"shared data not found at {path} (set AIRWARN_SHARED_DATA)")
    return path


@pytest.fixture
def settings(tmp_path):
    """Settings pointing at a fresh SQLite database and folders under tmp_path."""
    from airwarn.core.settings import load_settings

    return load_settings(env={"AIRWARN_DATA_DIR": str(tmp_path / "var")}).ensure_dirs()


@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL server (tests/postgres.py); fails in CI, skips elsewhere, if none is installed."""
    from tests import postgres

    bin_dir = postgres.binaries()
    missing = None
    if bin_dir is None:
        missing = postgres.NO_SERVER
    else:
        try:
            import psycopg  # noqa: F401
        except ImportError:
            missing = "the psycopg driver is not installed (pip install -e '.[test]')"
    if missing:
        if os.environ.get("CI"):
            pytest.fail(missing)
        pytest.skip(missing)
    server = postgres.Server(bin_dir).start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """The URL of a fresh, empty database: an SQLite file, then a database on the PostgreSQL server."""
    from tests.postgres import fresh_url

    return fresh_url(request, tmp_path)
