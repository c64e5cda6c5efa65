"""Reductions of a warning level on the list in force, against the targets, and the enterprises
affected (:func:`emergency.reductions.compute_reductions`).

The reductions are cached per (database, list version in force, emission inventory, level, rules):
a new list version in force or a re-imported inventory gives a new key, so nothing needs clearing.

The affected-enterprise table is filtered and sorted by the page's DataTable itself
(``filter_action="native"``): Dash evaluates the table's own filter grammar in the browser, so the
service sends the level's rows once and has no filter parser of its own.
"""
from __future__ import annotations

import functools

import pandas as pd

from airwarn.core.db import get_engine
from airwarn.core.errors import UnknownNameError
from airwarn.core.settings import Settings
from airwarn.core.vocab import EMISSION_POLLUTANTS
from dashboard.services.context import rules, session, settings
from dashboard.services.lists import in_force_day, version_in_force
from emergency.reductions import compute_reductions, inventory_totals

#: Columns of the affected-enterprise table, in order.
AFFECTED_COLUMNS = ("credit_code", "name", "county", "industry", "grade", "lines", "measures",
                    *(f"cut_{p}" for p in EMISSION_POLLUTANTS))


def _inventory_key(s: Settings) -> tuple:
    """What the reductions depend on of the emission inventory: the latest's name and totals."""
    with session(s) as sess:
        name, totals, _ = inventory_totals(sess)
    return name, None if totals is None else tuple(sorted(totals.items()))


@functools.lru_cache(maxsize=12)
def _reductions(db_url: str, version_id: int, inventory: tuple, level: str, rule_set: str):
    return compute_reductions(get_engine(db_url), level, version=version_id, rules=rules(rule_set))


def reductions(level: str, s: Settings | None = None):
    """Reductions of ``level`` on the list in force today (:func:`emergency.reductions.compute_reductions`).

    Raises
    ------
    FileNotFoundError
        If no list version is in force today (the pages show the message).
    """
    s = s or settings()
    version = version_in_force(s)
    if version is None:
        raise FileNotFoundError(f"no emergency-reduction list in force on {in_force_day()} "
                                "(import one on the 清单管理 page)")
    return _reductions(s.db_url, version[0], _inventory_key(s), level, s.rules)


def reduction_summary(level: str, s: Settings | None = None) -> tuple[pd.DataFrame, float, int, str]:
    """Per-pollutant cut against the target.

    Returns
    -------
    summary : DataFrame
        ``pollutant, baseline, cut, total, ratio, target, met`` (ratio 0 and met False without an inventory).
    target : float
        The level's target fraction.
    n_enterprises : int
        Enterprises with measures at the level.
    version : str
        List version name.
    """
    red = reductions(level, s)
    rows = [{"pollutant": t.pollutant, "baseline": float(red.list_baseline.get(t.pollutant, 0.0)), "cut": t.cut,
             "total": t.total, "ratio": float(t.ratio) if t.ratio is not None else 0.0, "target": t.target,
             "met": bool(t.met)} for t in red.targets]
    target = red.targets[0].target if red.targets else None
    return pd.DataFrame(rows), target, int(len(red.enterprises)), red.version


def reduction_groups(level: str, by: str, s: Settings | None = None) -> pd.DataFrame:
    """Cuts [t/day] per pollutant by ``county``, ``industry`` or ``grade``.

    Raises
    ------
    UnknownNameError
        Unknown grouping (the message lists the valid ones).
    """
    red = reductions(level, s)
    if by not in red.by:
        raise UnknownNameError(f"unknown grouping {by!r}; valid: {sorted(red.by)}")
    return red.by[by].reset_index()


def affected_enterprises(level: str, s: Settings | None = None) -> pd.DataFrame:
    """Enterprises with measures at ``level`` (:data:`AFFECTED_COLUMNS`), cuts rounded to 0.001 t/day."""
    df = reductions(level, s).enterprises
    out = df[[c for c in AFFECTED_COLUMNS if c in df.columns]].copy()
    for c in (f"cut_{p}" for p in EMISSION_POLLUTANTS):
        if c in out:
            out[c] = out[c].astype(float).round(3)
    return out
