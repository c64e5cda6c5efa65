"""Fixtures of the list tests; the workbook helpers live in books.py."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.enterprise_list.books import write_book


@pytest.fixture
def good_book(tmp_path) -> Path:
    return write_book(tmp_path / "good.xlsx")


@pytest.fixture
def engine(tmp_path):
    from airwarn.db import create_tables, get_engine
    import enterprise_list.models  # noqa: F401

    eng = get_engine(f"sqlite:///{tmp_path / 'list.sqlite'}")
    create_tables(eng)
    return eng
