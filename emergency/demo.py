"""``airwarn demo`` step of the warning engine: a synthetic emission inventory, then the daily chain.

The inventory is SYNTHETIC (clearly marked in its name, file and rows): the industrial sector is the
demo list's baseline emissions scaled up by 1.2 (the list covers about 83 % of industrial emissions),
and the other sectors follow plausible shares of a North-China coal and coking city per pollutant
(:data:`SECTOR_SHARES`). With the demo list's measures the targets come out partly met, partly not,
which is what the demo should show.

:func:`build_demo_warning` then gives the demo a warning in force, so that the 指挥 page has one to
command and its 督查 panel a result: a yellow warning from the day before the demo day to the day after,
issued by the demo commander and approved by the demo vice-mayor (audited as any other; its reason says
it is a demo), the warning's bulletin, reductions and notification list, and the compliance check of the
demo day on SYNTHETIC power-use and CEMS data (:func:`emergency.compliance_cli.sample_data`: most lines
comply, some ignore the order, a treatment meter stops, some meters send nothing).
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from airwarn.core.errors import UnknownNameError
from airwarn.core.dates import today_beijing
from airwarn.core.db import create_tables, get_engine, session_scope
from airwarn.core.files import atomic_write_text
from airwarn.core.products import day_dir
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


#: Level of the demo's warning.
DEMO_WARNING_LEVEL = "yellow"
#: Reason recorded with each of its lifecycle steps (the audit trail says it is a demo).
DEMO_WARNING_REASON = "演示：合成数据上的示例预警（非真实预警）"
#: Seed of the demo's synthetic power-use and CEMS data.
DEMO_COMPLIANCE_SEED = 17


def build_demo_warning(settings: Settings, date: dt.date | None = None) -> str:
    """A demo warning in force on ``date``, its products and its compliance check (module notes).

    Idempotent: a warning of the city already in force on ``date`` is kept (and checked again); one
    that ended before ``date`` (an earlier demo) is lifted first, audited. Needs the list (the
    ``enterprise_list`` step), the day's products (the ``emergency`` step) and the demo users.
    """
    from emergency import lifecycle as lc
    from emergency import models
    from emergency.areas import areas_for
    from emergency.compliance import warning_obligations, warning_start_instant
    from emergency.compliance_cli import sample_data
    from emergency.compliance_io import read_cems, read_power
    from emergency.compliance_run import write_compliance
    from emergency.daily import publish_issued
    from emergency.rules import load_rules
    from enterprise_list.models import list_in_force

    date = date or today_beijing()
    engine = get_engine(settings.db_url)
    create_tables(engine, models)
    with session_scope(engine) as s:
        try:
            list_in_force(s, date)
        except UnknownNameError:
            return "no list in force: no demo warning"
    areas = areas_for(settings)
    w = lc.active_warning(engine, settings.city, areas=areas)
    kept = w is not None and w.start is not None and w.start <= date and (w.end is None or date <= w.end)
    if w is not None and not kept:
        lc.lift(engine, w.id, user="commander", role="commander", reason=DEMO_WARNING_REASON + "，已到期")
        w = None
    if w is None:
        w = lc.issue(engine, user="commander", role="commander", area=settings.city, level=DEMO_WARNING_LEVEL,
                     start=date - dt.timedelta(days=1), end=date + dt.timedelta(days=1),
                     reason=DEMO_WARNING_REASON, rules_version=load_rules(settings.rules).version, areas=areas)
        w = lc.approve(engine, w.id, user="vice-mayor", role="vice-mayor", reason=DEMO_WARNING_REASON)
    publish_issued(settings, w, date)
    with session_scope(engine) as s:
        obligations = warning_obligations(s, w.level, w.start)
    power, cems = sample_data(obligations, warning_start_instant(w), date, seed=DEMO_COMPLIANCE_SEED)
    folder = Path(settings.data_dir) / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(folder / "power_synthetic.csv", power.to_csv(index=False))
    atomic_write_text(folder / "cems_synthetic.csv", cems.to_csv(index=False))
    # read back through the readers, as the daily chain reads the platforms' exports
    run = write_compliance(engine, w.id, read_power([folder / "power_synthetic.csv"]),
                           read_cems([folder / "cems_synthetic.csv"]), date, day_dir(settings.output_dir, date),
                           settings_rules=settings.rules)
    c = run.counts()
    return (f"{'kept' if kept else 'issued'} demo warning #{w.id} ({w.level.key}, {w.start} to {w.end}); "
            f"compliance on {date} (SYNTHETIC power/CEMS in {folder}): compliant {c['compliant']}, "
            f"violation {c['violation']}, unverifiable {c['unverifiable']}")
