"""``airwarn demo`` step of the warning engine: a synthetic emission inventory, then the daily chain.

The inventory is SYNTHETIC (clearly marked in its name, file and rows): the industrial sector is the
demo list's baseline emissions scaled up by 1.2 (the list covers about 83 % of industrial emissions),
and the other sectors follow plausible shares of a North-China coal and coking city per pollutant
(:data:`SECTOR_SHARES`). With the demo list's measures the targets come out partly met, partly not,
which is what the demo should show.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from airwarn.core.errors import UnknownNameError
from airwarn.core.dates import today_beijing
from airwarn.core.db import create_tables, get_engine, session_scope
from airwarn.core.files import atomic_write_text
from airwarn.core.settings import Settings
from airwarn.core.vocab import EMISSION_POLLUTANTS

#: Name of the demo inventory.
DEMO_INVENTORY = "阳泉2026排放清单(合成示例)"
#: Share of each sector in total emissions, per pollutant (synthetic, plausible for a coking city).
SECTOR_SHARES: dict[str, dict[str, float]] = {
    "so2": {"industry": 0.72, "mobile": 0.03, "dust": 0.0, "residential": 0.22, "other": 0.03},
    "nox": {"industry": 0.55, "mobile": 0.38, "dust": 0.0, "residential": 0.04, "other": 0.03},
    "pm": {"industry": 0.38, "mobile": 0.04, "dust": 0.40, "residential": 0.15, "other": 0.03},
    "vocs": {"industry": 0.45, "mobile": 0.25, "dust": 0.0, "residential": 0.12, "other": 0.18},
}
#: Industrial emissions = list baseline × this factor.
LIST_COVERAGE_FACTOR = 1.2


def make_demo_inventory(list_baseline: dict[str, float]) -> pd.DataFrame:
    """Synthetic inventory (sector × pollutant, t/day) from the list's baseline emissions."""
    rows = []
    for sector in ("industry", "mobile", "dust", "residential", "other"):
        row = {"sector": sector}
        for p in EMISSION_POLLUTANTS:
            industry = list_baseline[p] * LIST_COVERAGE_FACTOR
            total = industry / SECTOR_SHARES[p]["industry"] if industry > 0 else 0.0
            row[p] = round(industry if sector == "industry" else total * SECTOR_SHARES[p][sector], 3)
        row["unit"] = "t/day"
        rows.append(row)
    return pd.DataFrame(rows)


def build_demo(settings: Settings, date: dt.date | None = None) -> str:
    """Import the synthetic inventory (replacing its previous import) and run the daily chain.

    Idempotent: the inventory of the same name is replaced; the day's products are rewritten.
    """
    from emergency import models
    from emergency.daily import run_daily
    from emergency.reductions import compute_reductions, import_inventory
    from enterprise_list.models import list_in_force

    date = date or today_beijing()
    settings.ensure_dirs()
    engine = get_engine(settings.db_url)
    create_tables(engine, models)
    with session_scope(engine) as s:
        try:
            version = list_in_force(s, date)
        except UnknownNameError:
            version = None
        baseline = compute_reductions(s, "yellow", version=version.id).list_baseline if version else None
    inv = ""
    if baseline is not None:
        df = make_demo_inventory(baseline)
        path = Path(settings.data_dir) / "demo" / "synthetic_emission_inventory.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        df["note"] = "SYNTHETIC demo inventory (合成示例), not real Yangquan emissions"

        atomic_write_text(path, df.to_csv(index=False))
        import_inventory(engine, path, name=DEMO_INVENTORY, area=settings.city, year=date.year, synthetic=True)
        inv = f"inventory '{DEMO_INVENTORY}' imported; "
    result = run_daily(settings, date)
    return inv + result.summary()
