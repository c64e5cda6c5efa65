"""Fixtures of the list tests; the workbook helpers live in books.py."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.enterprise_list.books import write_book


@pytest.fixture
def good_book(tmp_path) -> Path:
    return write_book(tmp_path / "good.xlsx")


@pytest.fixture
def engine(db_url):
    """A fresh database with the list tables, on SQLite and on PostgreSQL."""
    from airwarn.core.db import create_tables, get_engine
    import enterprise_list.models  # noqa: F401

    eng = get_engine(db_url)
    create_tables(eng)
    return eng
