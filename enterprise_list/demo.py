"""``airwarn demo`` step of the list: the synthetic 2026 list in the demo database."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from airwarn.core.db import create_tables, get_engine, session_scope
from airwarn.core.settings import Settings

#: Name, effective date, size and seed of the demo list version.
DEMO_VERSION = "2026年度(合成示例)"
DEMO_EFFECTIVE = dt.date(2026, 1, 1)
DEMO_SIZE = 320
DEMO_SEED = 2026


def build_demo(settings: Settings, date: dt.date | None = None) -> str:
    """Create the tables and import the synthetic list as version "2026年度(合成示例)" if absent.

    Idempotent: a second run finds the version and leaves it alone.

    Parameters
    ----------
    settings : Settings
        Where the database is.
    date : date, optional
        The demo's issue date (unused: the version is effective from 2026-01-01).

    Returns
    -------
    str
        One-line summary.
    """
    from airwarn.core.vocab import YANGQUAN_COUNTIES
    from enterprise_list.io import count_rows, import_list
    from enterprise_list.models import ListVersion
    from enterprise_list.sample import SYNTHETIC_NOTE, make_sample_list

    settings.ensure_dirs()
    engine = get_engine(settings.db_url)
    create_tables(engine)
    with session_scope(engine) as session:
        version = session.scalars(select(ListVersion).where(ListVersion.name == DEMO_VERSION)).first()
        if version is not None:
            n_e, n_l, n_m = count_rows(session, version)
            return (f"list version {DEMO_VERSION} already present: {n_e} enterprises, {n_l} lines, "
                    f"{n_m} measures (synthetic)")
        # the synthetic sample is 阳泉's, whatever city is configured: checked against 阳泉's counties and box
        result = import_list(session, make_sample_list(DEMO_SIZE, DEMO_SEED), DEMO_VERSION, DEMO_EFFECTIVE,
                             counties=YANGQUAN_COUNTIES, bounds="阳泉",
                             approved_by="阳泉市重污染天气应急指挥部(合成)", approval_doc="合成示例，无真实文号",
                             note=f"{SYNTHETIC_NOTE}：由 enterprise_list.sample.make_sample_list"
                                  f"({DEMO_SIZE}, seed={DEMO_SEED}) 生成", synthetic=True)
    return (f"imported synthetic list version {DEMO_VERSION}: {result.n_enterprises} enterprises, "
            f"{result.n_lines} lines, {result.n_measures} measures")
