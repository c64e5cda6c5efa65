"""Make the helper modules of this folder importable by the other test modules."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pytest  # noqa: E402


@pytest.fixture
def engine(db_url):
    """An engine on every table (SQLite, and PostgreSQL where ``db_url`` is parametrised so)."""
    import emergency.models  # noqa: F401  (registers the tables)
    from airwarn.core.db import create_tables, get_engine

    eng = get_engine(db_url)
    create_tables(eng)
    return eng
