"""One compliance check written to a folder: the step shared by ``airwarn compliance check`` and the daily chain.

:func:`write_compliance` judges a stored warning on power-use (and CEMS) frames
(:func:`emergency.compliance.check_warning`), computes the achieved reductions against the warning
level's targets and the inventory totals (:func:`emergency.compliance.achieved_reductions`), and
writes ``compliance.csv``, ``compliance_reductions.csv`` and the Chinese report
``compliance_report.html`` (:mod:`emergency.compliance_report`) into one folder.
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from airwarn.core.errors import AirwarnError
from airwarn.core.products import COMPLIANCE_CSV, COMPLIANCE_REDUCTIONS_CSV, COMPLIANCE_REPORT_HTML
from emergency.compliance import ComplianceResult, achieved_reductions, check_warning


@dataclass(frozen=True)
class ComplianceRun:
    """What :func:`write_compliance` judged and wrote.

    Attributes
    ----------
    result : ComplianceResult
    reductions : DataFrame
        :func:`emergency.compliance.achieved_reductions` of the result.
    targets : dict or None
        The warning level's reduction targets (None when its rule set cannot be loaded).
    synthetic : bool
        The power data were marked synthetic (their ``synthetic`` column).
    files : tuple of Path
        ``compliance.csv``, ``compliance_reductions.csv``, ``compliance_report.html``.
    """

    result: ComplianceResult
    reductions: pd.DataFrame
    targets: dict | None
    synthetic: bool
    files: tuple[Path, ...]

    def counts(self) -> dict[str, int]:
        """Rows per status (:meth:`ComplianceResult.counts`)."""
        return self.result.counts()

    def summary(self) -> str:
        """One line: the counts of the judged line-days and the unmapped meters/outlets."""
        c = self.counts()
        return (f"warning {self.result.warning_id}: {len(self.result.lines)} line-days judged — compliant "
                f"{c['compliant']}, violation {c['violation']}, unverifiable {c['unverifiable']}; unmapped "
                f"meters/outlets {len(self.result.unmapped)}")


def warning_targets(warning, default_rules: str) -> dict | None:
    """The reduction targets (pollutant → fraction) of the warning's level in the rule set it was issued
    under (its ``rules_version``, else ``default_rules``); None when that rule set is no longer known."""
    from emergency.rules import load_rules

    name = warning.rules_version.split("@")[0] if warning.rules_version else default_rules
    try:
        return dict(load_rules(name).reduction_targets[warning.level])
    except (AirwarnError, KeyError, FileNotFoundError):  # a rule set no longer bundled: no targets
        return None


def is_synthetic(power: pd.DataFrame) -> bool:
    """True when the power frame has rows marked synthetic (the ``synthetic`` column that
    ``airwarn compliance sample`` writes and :func:`emergency.compliance_io.read_power` keeps)."""
    return "synthetic" in power.columns and bool(len(power)) and bool(power["synthetic"].astype(bool).any())


def write_compliance(engine, warning_id: int, power: pd.DataFrame, cems: pd.DataFrame | None,
                     day: dt.date | None, out_dir: "str | os.PathLike", *, rules=None,
                     settings_rules: str = "national-2024") -> ComplianceRun:
    """Check a warning's compliance and write the three compliance files into ``out_dir``.

    Parameters
    ----------
    engine : sqlalchemy.engine.Engine
    warning_id : int
    power : DataFrame
        :func:`emergency.compliance_io.read_power`'s frame.
    cems : DataFrame or None
        :func:`emergency.compliance_io.read_cems`'s frame.
    day : date or None
        Only this day (default: every judged day).
    out_dir : path-like
        Created if missing.
    rules : ComplianceRules or path, optional
        Compliance rules (default: the bundled ones).
    settings_rules : str
        Warning-rule set whose targets are used when the warning records none (``settings.rules``).

    Returns
    -------
    ComplianceRun
    """
    from airwarn.core.db import session_scope
    from airwarn.core.files import atomic_write_text
    from emergency.compliance_report import compliance_report_html
    from emergency.lifecycle import get_warning
    from emergency.reductions import inventory_totals

    res = check_warning(engine, warning_id, power, cems=cems, day=day, rules=rules)
    targets = warning_targets(get_warning(engine, warning_id), settings_rules)
    with session_scope(engine) as s:
        _, totals, _ = inventory_totals(s)
    red = achieved_reductions(res, targets=targets, totals=totals)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    res.write_csv(out / COMPLIANCE_CSV)
    atomic_write_text(out / COMPLIANCE_REDUCTIONS_CSV, red.to_csv(index=False))
    synthetic = is_synthetic(power)
    atomic_write_text(out / COMPLIANCE_REPORT_HTML,
                      compliance_report_html(res, day=day, reductions=red, synthetic=synthetic))
    files = (out / COMPLIANCE_CSV, out / COMPLIANCE_REDUCTIONS_CSV, out / COMPLIANCE_REPORT_HTML)
    return ComplianceRun(res, red, targets, synthetic, files)
