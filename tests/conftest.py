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
    from airwarn.settings import load_settings

    return load_settings(env={"AIRWARN_DATA_DIR": str(tmp_path / "var")}).ensure_dirs()
