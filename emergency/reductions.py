"""Measures and reductions of a warning level against the targets, and the emission inventory.

:func:`compute_reductions` takes the version's enterprises, lines and the level's measures as columns
from :func:`enterprise_list.frames.list_frames` (cached in the process, stored at import), applies
the policy per line in numpy, sums per enterprise and groups in pandas.

Policy applied to the list's measures (standards notes §3)
----------------------------------------------------------
* Grades A+, A and 引领性 take voluntary measures (自主减排) only: their cuts are reported as
  ``voluntary`` and **not** counted towards the targets.
* 保障类 (livelihood / key-project) enterprises are capped at their livelihood load: their cut on a
  line is at most ``fraction × baseline`` when the measure gives a ``fraction`` (the share of
  production above the livelihood load), and a 'stop' measure for them is reported as a problem.
* Non-compliant plants (``compliant = False``, which are ungraded) take the strictest measure: every
  line stops at every level, so the cut is the line's whole baseline, whatever the list says.
* Everyone else: the list's cut, capped at the line's baseline.

Emission inventory
------------------
Table ``emission_inventory`` (:class:`emergency.models.EmissionInventory`), imported with
:func:`import_inventory` from CSV or xlsx in the layout::

    sector,so2,nox,pm,vocs,unit
    industry,12.5,30.1,18.0,9.2,t/day
    mobile,...

``sector`` is one of industry / mobile / dust / residential / other (or 工业源 / 移动源 / 扬尘源 /
民用源 / 其他); ``unit`` is ``t/day`` or ``t/year`` (t/year is divided by 365), per row or for the whole
file (``unit=`` argument). Chinese headers (部门, 二氧化硫, 氮氧化物, 颗粒物, 挥发性有机物, 单位) are
accepted. The total over sectors is the baseline of the targets: per level and pollutant, from the rule
set's ``reduction_targets`` (default 10/20/30 % for all four; local plans may set one per pollutant).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from airwarn.core.db import session_scope
from airwarn.core.errors import InputError, UnknownNameError
from airwarn.core.units import EMISSION, conversion
from airwarn.core.vocab import EMISSION_LABELS, EMISSION_POLLUTANTS, WarningLevel
from emergency.models import SECTOR_LABELS, SECTORS, EmissionInventory
from emergency.rules import load_rules
from enterprise_list import frames
from enterprise_list.models import GUARANTEE_GRADE, VOLUNTARY_GRADES, resolve_version
from enterprise_list.xlsx_safety import check_xlsx

BY_KEYS: tuple[str, ...] = ("county", "industry", "grade")


@dataclass(frozen=True)
class TargetCheck:
    """Whether the cut of one pollutant reaches the level's target.

    Attributes
    ----------
    pollutant : str
    target : float
        Fraction of total emissions (0.10 = 10 %).
    cut : float
        Counted (mandatory) cut [t/day].
    total : float or None
        Total social emissions from the inventory [t/day]; None without an inventory.
    ratio : float or None
        ``cut / total``.
    met : bool or None
    shortfall : float
        Extra cut needed [t/day] (0 when met).
    shortfall_points : float
        Percentage points missing (0 when met).
    """

    pollutant: str
    target: float
    cut: float
    total: float | None
    ratio: float | None
    met: bool | None
    shortfall: float
    shortfall_points: float


@dataclass(frozen=True)
class Reductions:
    """Cuts of one warning level on one list version.

    Attributes
    ----------
    level : WarningLevel
    version : str
        List version name; ``version_id`` its id.
    cut, voluntary_cut, list_baseline : dict[str, float]
        Per pollutant (so2, nox, pm, vocs) [t/day]: counted cut, voluntary cut of A+/A/引领性,
        baseline emissions of every line on the list.
    total : dict[str, float] or None
        Inventory total per pollutant [t/day].
    inventory : str or None
        Inventory name used.
    ratio : dict[str, float or None]
        ``cut / total``.
    targets : tuple of TargetCheck
    by : dict[str, DataFrame]
        Cuts grouped by ``county``, ``industry`` and ``grade`` (columns ``enterprises``, ``lines``,
        ``cut_<p>``, ``voluntary_<p>``).
    enterprises : DataFrame
        Affected enterprises: ``enterprise_id, credit_code, name, county, industry, grade, compliant,
        contact_person, contact_phone, lines, measures, cut_<p>, voluntary_<p>, baseline_<p>``.
    problems : tuple of str
        Inconsistencies found (保障类 told to stop, cuts above baseline).
    """

    level: WarningLevel
    version: str
    version_id: int
    cut: Mapping[str, float]
    voluntary_cut: Mapping[str, float]
    list_baseline: Mapping[str, float]
    total: Mapping[str, float] | None
    inventory: str | None
    ratio: Mapping[str, float | None]
    targets: tuple[TargetCheck, ...]
    by: Mapping[str, pd.DataFrame] = field(repr=False)
    enterprises: pd.DataFrame = field(repr=False)
    problems: tuple[str, ...] = ()

    @property
    def all_met(self) -> bool | None:
        """True if every pollutant's target is met (None without an inventory)."""
        mets = [t.met for t in self.targets]
        return None if any(m is None for m in mets) else all(mets)

    def to_dict(self, with_enterprises: bool = False) -> dict[str, Any]:
        """JSON-ready summary (groupings as lists of records)."""
        def r(x):
            return None if x is None else round(float(x), 4)
        out = {
            "level": self.level.key, "level_label": self.level.label, "list_version": self.version,
            "inventory": self.inventory,
            "affected_enterprises": int(len(self.enterprises)),
            "affected_lines": int(self.enterprises["measures"].sum()) if len(self.enterprises) else 0,
            "cut_t_per_day": {p: r(v) for p, v in self.cut.items()},
            "voluntary_cut_t_per_day": {p: r(v) for p, v in self.voluntary_cut.items()},
            "list_baseline_t_per_day": {p: r(v) for p, v in self.list_baseline.items()},
            "total_t_per_day": None if self.total is None else {p: r(v) for p, v in self.total.items()},
            "ratio": {p: r(v) for p, v in self.ratio.items()},
            "targets": [{"pollutant": t.pollutant, "target": t.target, "cut": r(t.cut), "total": r(t.total),
                         "ratio": r(t.ratio), "met": t.met, "shortfall_t_per_day": r(t.shortfall),
                         "shortfall_points": r(t.shortfall_points)} for t in self.targets],
            "by": {k: _records(v) for k, v in self.by.items()},
            "problems": list(self.problems),
        }
        if with_enterprises:
            out["enterprises"] = _records(self.enterprises)
        return out


def _records(df: pd.DataFrame) -> list[dict]:
    recs = df.reset_index().to_dict(orient="records")
    return [{k: (round(v, 4) if isinstance(v, float) else v.item() if hasattr(v, "item") else v)
             for k, v in rec.items()} for rec in recs]


def _enterprise_frame(session: Session, version_id: int, level: WarningLevel) -> pd.DataFrame:
    """Per-enterprise baseline and policy-applied cuts at ``level`` (see module notes)."""
    f = frames.list_frames(session, version_id, level.key)
    return _apply_policy(f.enterprises, f.lines, f.measures)


def policy_line_cut(baseline, list_cut, fraction, compliant, voluntary, guarantee) -> np.ndarray:
    """Each line's planned cut [t/d] under the policy (module notes), all arguments arrays per line.

    A plant not meeting its grade's requirements stops (its baseline); a compliant A+/A/引领性 plant
    is left out (0: its cuts are voluntary); a 保障类 plant cuts at most ``fraction`` of its baseline
    (NaN: no cap); every cut is capped at the line's baseline. Used by :func:`compute_reductions` and
    by the compliance check's planned cuts (:func:`emergency.compliance.warning_obligations`).

    >>> policy_line_cut([10, 10, 10, 10], [4, 4, 12, 4], [float("nan"), float("nan"), float("nan"), 0.3],
    ...                 [True, False, True, True], [False, False, False, False], [False, False, False, True]).tolist()
    [4.0, 10.0, 10.0, 3.0]
    """
    base = np.asarray(baseline, dtype=float)
    capped = np.minimum(np.nan_to_num(np.asarray(list_cut, dtype=float)), base)
    frac = np.asarray(fraction, dtype=float)
    gcap = np.where(np.isfinite(frac), np.minimum(capped, base * np.nan_to_num(frac, nan=1.0)), capped)
    return np.where(~np.asarray(compliant, dtype=bool), base,
                    np.where(np.asarray(voluntary, dtype=bool), 0.0, np.where(np.asarray(guarantee, dtype=bool), gcap, capped)))


def _apply_policy(ents: pd.DataFrame, lines: pd.DataFrame, meas: pd.DataFrame) -> pd.DataFrame:
    """Per-line cuts under the policy (module notes), summed per enterprise with ``np.bincount``.

    ``meas`` holds at most one measure per line (the list's unique (line, level)); enterprises
    without lines are left out.
    """
    pols = list(EMISSION_POLLUTANTS)
    n_lines, n_ents = len(lines), len(ents)
    at = pd.Index(lines["line_id"]).get_indexer(meas["line_id"])  # measure → its line's row
    has_m = np.zeros(n_lines, dtype=bool)
    has_m[at] = True

    def per_line(column, fill):
        out = np.full(n_lines, fill, dtype=float)
        out[at] = meas[column].to_numpy(dtype=float)
        return out

    stop = per_line("stop", 0.0) > 0
    frac = per_line("fraction", np.nan)
    owner = pd.Index(ents["enterprise_id"]).get_indexer(lines["enterprise_id"])
    grade = ents["grade"].to_numpy(dtype=object)[owner]
    compliant = ents["compliant"].to_numpy(dtype=bool)[owner]
    vol = np.isin(grade, list(VOLUNTARY_GRADES))
    guar = grade == GUARANTEE_GRADE

    def total(x):
        return np.bincount(owner, weights=np.asarray(x, dtype=float), minlength=n_ents)

    out = {"lines": total(np.ones(n_lines)), "measures": total(has_m),
           "guarantee_stops": total(guar & stop)}
    over = np.zeros(n_lines, dtype=bool)
    for p in pols:
        base = lines[p].to_numpy(dtype=float)
        listcut = np.nan_to_num(per_line(f"cut_{p}", 0.0))
        over |= listcut > base + 1e-9
        out[f"cut_{p}"] = total(policy_line_cut(base, listcut, frac, compliant, vol, guar))
        out[f"voluntary_{p}"] = total(np.where(compliant & vol, np.minimum(listcut, base), 0.0))
        out[f"baseline_{p}"] = total(base)
    out["over_baseline"] = total(over)
    res = ents.assign(**out)
    for c in ("lines", "measures", "guarantee_stops", "over_baseline"):
        res[c] = res[c].astype(np.int64)
    return res[res["lines"] > 0].reset_index(drop=True)  # the frames are ordered by enterprise id


def inventory_totals(session: Session, name: str | None = None) -> tuple[str | None, dict[str, float] | None,
                                                                          pd.DataFrame]:
    """Total emissions per pollutant [t/day] of an inventory (default: the latest imported).

    Returns
    -------
    name : str or None
    totals : dict or None
    by_sector : DataFrame (index sector, columns pollutants)

    Raises
    ------
    UnknownNameError
        Unknown inventory name (the message lists the names).
    """
    c = EmissionInventory.__table__.c
    names = session.execute(select(c.name, func.max(c.imported_at)).group_by(c.name)
                            .order_by(func.max(c.imported_at).desc(), c.name)).all()
    if not names:
        if name is not None:
            raise UnknownNameError(f"no emission inventory {name!r}; none imported (airwarn inventory import FILE)")
        return None, None, pd.DataFrame(columns=list(EMISSION_POLLUTANTS))
    if name is None:
        name = names[0][0]
    elif name not in {n for n, _ in names}:
        raise UnknownNameError(f"no emission inventory {name!r}; inventories are {sorted(n for n, _ in names)}")
    rows = session.execute(select(c.sector, c.pollutant, c.value_t_per_day).where(c.name == name)).all()
    df = pd.DataFrame(rows, columns=["sector", "pollutant", "value"])
    wide = df.pivot_table(index="sector", columns="pollutant", values="value", aggfunc="sum").reindex(
        columns=list(EMISSION_POLLUTANTS)).fillna(0.0)
    return name, {p: float(wide[p].sum()) for p in EMISSION_POLLUTANTS}, wide


def compute_reductions(session: "Session | Engine", level: "WarningLevel | str", version: "int | str | None" = None,
                       by: Sequence[str] = BY_KEYS, inventory: str | None = None,
                       targets: Mapping | None = None, rules: Any = "national-2024") -> Reductions:
    """Cuts of a warning level on a list version, against the emission-reduction targets.

    Parameters
    ----------
    session : Session or Engine
    level : WarningLevel or str
        yellow / orange / red.
    version : int or str, optional
        List version id or name (default: the version in force today, else the latest).
    by : sequence of str
        Groupings to report, from ``county``, ``industry``, ``grade``.
    inventory : str, optional
        Emission inventory name (default: the latest imported). Without any inventory the ratios and
        target checks are None.
    targets : mapping, optional
        Target per level: one fraction for all four pollutants, or a mapping pollutant → fraction
        (``so2 nox pm vocs``); default from ``rules`` (``reduction_targets`` of the rule file, per
        pollutant).
    rules : RuleSet or name
        Rule set the targets come from.

    Returns
    -------
    Reductions

    Raises
    ------
    UnknownNameError, InputError
        Unknown level, version, inventory or grouping (the message lists the valid ones); level none.
    """
    if isinstance(session, Engine):
        with session_scope(session) as s:
            return compute_reductions(s, level, version, by, inventory, targets, rules)
    lvl = WarningLevel.parse(level)
    if lvl == WarningLevel.NONE:
        raise InputError("compute_reductions: level must be yellow, orange or red, got 'none'")
    bad = [b for b in by if b not in BY_KEYS]
    if bad:
        raise UnknownNameError(f"unknown grouping(s) {bad}; valid groupings are {list(BY_KEYS)}")
    if targets is None:
        targets = load_rules(rules).reduction_targets
    level_target = {WarningLevel.parse(k): v for k, v in targets.items()}.get(lvl, 0.0)
    target_of = (level_target if isinstance(level_target, Mapping)
                 else {p: level_target for p in EMISSION_POLLUTANTS})
    v = resolve_version(session, version)
    df = _enterprise_frame(session, v.id, lvl)
    pols = list(EMISSION_POLLUTANTS)
    list_baseline = {p: float(df[f"baseline_{p}"].sum()) for p in pols}
    affected = df[(df["measures"] > 0) | (~df["compliant"])].reset_index(drop=True)
    cut = {p: float(affected[f"cut_{p}"].sum()) for p in pols}
    vol = {p: float(affected[f"voluntary_{p}"].sum()) for p in pols}
    agg = {"enterprises": ("enterprise_id", "count"), "lines": ("measures", "sum")}
    for p in pols:
        agg[f"cut_{p}"] = (f"cut_{p}", "sum")
        agg[f"voluntary_{p}"] = (f"voluntary_{p}", "sum")
    groups = {b: affected.groupby(b, sort=True).agg(**agg) for b in by}
    inv_name, total, _ = inventory_totals(session, inventory)
    ratio: dict[str, float | None] = {}
    checks = []
    for p in pols:
        target = float(target_of.get(p, 0.0))
        t = None if total is None else total[p]
        r = (cut[p] / t) if t else None
        ratio[p] = r
        met = None if r is None else bool(r >= target - 1e-12)
        short = 0.0 if (t is None or met) else target * t - cut[p]
        checks.append(TargetCheck(p, target, cut[p], t, r, met, max(short, 0.0),
                                  0.0 if (r is None or met) else (target - r) * 100))
    problems = []
    for _, row in affected[affected["guarantee_stops"] > 0].head(20).iterrows():
        problems.append(f"{row['name']}({row['credit_code']}):保障类企业被要求停产,已按保障负荷上限计算")
    for _, row in df[df["over_baseline"] > 0].head(20).iterrows():
        problems.append(f"{row['name']}({row['credit_code']}):减排量超过该生产线基准排放,已按基准排放封顶")
    ent = affected.drop(columns=["guarantee_stops", "over_baseline"])
    return Reductions(level=lvl, version=v.name, version_id=v.id, cut=cut, voluntary_cut=vol,
                      list_baseline=list_baseline, total=total, inventory=inv_name, ratio=ratio,
                      targets=tuple(checks), by=groups, enterprises=ent, problems=tuple(problems))


def format_reductions(red: Reductions) -> str:
    """Plain-text table of a :class:`Reductions` (for the CLI)."""
    lines = [f"{red.level.label}  清单版本 {red.version}  排放清单 {red.inventory or '(未导入)'}",
             f"受影响企业 {len(red.enterprises)} 家",
             f"{'污染物':<8}{'减排量' + EMISSION.text:>12}{'自主减排':>10}{'排放总量':>12}{'比例':>9}{'目标':>7}  达标/缺口"]
    for t in red.targets:
        total = "-" if t.total is None else f"{t.total:.2f}"
        ratio = "-" if t.ratio is None else f"{t.ratio:.1%}"
        verdict = "-" if t.met is None else ("达标" if t.met else f"差 {t.shortfall:.2f} {EMISSION.text} ({t.shortfall_points:.1f} 个百分点)")
        lines.append(f"{EMISSION_LABELS[t.pollutant]:<8}{t.cut:>12.2f}{red.voluntary_cut[t.pollutant]:>10.2f}"
                     f"{total:>12}{ratio:>9}{t.target:>7.0%}  {verdict}")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------ inventory
_INV_COLUMNS = {
    "sector": "sector", "部门": "sector", "源类别": "sector", "排放源": "sector", "source": "sector",
    "so2": "so2", "二氧化硫": "so2", "nox": "nox", "氮氧化物": "nox", "pm": "pm", "颗粒物": "pm",
    "tsp": "pm", "vocs": "vocs", "voc": "vocs", "挥发性有机物": "vocs", "unit": "unit", "单位": "unit",
}
_SECTOR_ALIASES = {**{s: s for s in SECTORS}, **{v: k for k, v in SECTOR_LABELS.items()},
                   "工业": "industry", "移动": "mobile", "扬尘": "dust", "民用": "residential", "生活源": "residential"}
#: Inventory units accepted (lower case) → factor to t/d (from the registry :mod:`airwarn.core.units`).
_UNITS = {u: conversion(u, EMISSION)[0] for u in ("t/day", "t/d", "吨/天", "吨/日", "t/year", "t/a", "t/yr", "吨/年")}


def read_inventory(path: "str | os.PathLike", unit: str | None = None) -> pd.DataFrame:
    """Read an emission-inventory file (CSV or xlsx) into a long frame in t/day.

    Returns
    -------
    DataFrame
        ``sector, pollutant, value_t_per_day, unit_in_source``.

    Raises
    ------
    InputError
        Naming the file, row and column: unknown sector, unit or a negative / non-numeric value; missing
        columns (the message lists the expected ones).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"emission inventory file not found: {path}")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        check_xlsx(path)  # a cell far out or a zip bomb would abort calamine (the whole process)
        raw = pd.read_excel(path, dtype=object, engine="calamine")
    elif path.suffix.lower() in (".csv", ".txt"):
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    else:
        raise InputError(f"emission inventory {path}: expected a .csv or .xlsx file, got {path.suffix!r}")
    rename = {}
    for col in raw.columns:
        key = str(col).strip()
        key = key.split("(")[0].split("(")[0].strip()
        mapped = _INV_COLUMNS.get(key.lower(), _INV_COLUMNS.get(key))
        if mapped:
            rename[col] = mapped
    df = raw.rename(columns=rename)
    need = ["sector", *EMISSION_POLLUTANTS]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise InputError(f"emission inventory {path}: missing column(s) {missing}; expected columns {need} "
                       f"(+ optional 'unit'); found {list(raw.columns)}")
    if "unit" not in df.columns and unit is None:
        raise InputError(f"emission inventory {path}: no 'unit' column and no unit given; expected t/day or t/year")
    out = []
    seen = set()
    for i, row in df.iterrows():
        rowno = i + 2
        sec_raw = str(row["sector"]).strip()
        sec = _SECTOR_ALIASES.get(sec_raw.lower(), _SECTOR_ALIASES.get(sec_raw))
        if sec is None:
            raise InputError(f"emission inventory {path}, row {rowno}, column 'sector': expected one of "
                             f"{list(SECTORS)} or {list(SECTOR_LABELS.values())}, got {sec_raw!r}")
        u = str(row["unit"]).strip() if "unit" in df.columns and str(row["unit"]).strip() not in ("", "nan", "None") else unit
        if u is None or u.lower() not in _UNITS:
            raise InputError(f"emission inventory {path}, row {rowno}, column 'unit': expected one of "
                             f"{sorted(_UNITS)}, got {u!r}")
        for p in EMISSION_POLLUTANTS:
            txt = str(row[p]).strip()
            try:
                val = float(txt) if txt not in ("", "nan", "None") else 0.0
            except ValueError:
                raise InputError(f"emission inventory {path}, row {rowno}, column {p!r}: expected a number "
                                 f"[{u}], got {txt!r}") from None
            if not np.isfinite(val) or val < 0:
                raise InputError(f"emission inventory {path}, row {rowno}, column {p!r}: expected a "
                                 f"non-negative number [{u}], got {txt!r}")
            if (sec, p) in seen:
                raise InputError(f"emission inventory {path}, row {rowno}: sector {sec!r} appears twice")
            seen.add((sec, p))
            out.append({"sector": sec, "pollutant": p, "value_t_per_day": val * _UNITS[u.lower()],
                        "unit_in_source": u})
    if not out:
        raise InputError(f"emission inventory {path}: no data rows")
    return pd.DataFrame(out)


def import_inventory(target: "Session | Engine", path: "str | os.PathLike", name: str | None = None,
                     unit: str | None = None, area: str | None = None, year: int | None = None,
                     synthetic: bool = False) -> int:
    """Import an inventory file, replacing any inventory of the same name in one transaction.

    Returns
    -------
    int
        Rows stored.
    """
    df = read_inventory(path, unit=unit)
    name = name or Path(path).stem
    if isinstance(target, Engine):
        with session_scope(target) as s:
            return _store_inventory(s, df, name, area, year, synthetic, str(path))
    return _store_inventory(target, df, name, area, year, synthetic, str(path))


def _store_inventory(s: Session, df, name, area, year, synthetic, source) -> int:
    s.execute(delete(EmissionInventory).where(EmissionInventory.name == name))
    s.add_all([EmissionInventory(name=name, area=area, year=year, sector=r.sector, pollutant=r.pollutant,
                                 value_t_per_day=float(r.value_t_per_day), unit_in_source=r.unit_in_source,
                                 source_file=source, synthetic=synthetic)
               for r in df.itertuples(index=False)])
    s.flush()
    return len(df)
