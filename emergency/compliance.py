"""Were the measures carried out? Compliance of each line and day of a warning from power use and CEMS.

Inputs: the power-use and CEMS frames of :mod:`emergency.compliance_io`, and the *obligations* of the
warning: one row per production line that must stop or limit production at the warning's level
(:func:`warning_obligations` builds them from the database: the list version in force on the
warning's start day, its 'stop' and 'limit' measures at the level; a non-compliant plant's lines stop
whatever the list says, as in :mod:`emergency.reductions`). Measures of other kinds (transport,
process, voluntary) cannot be seen in a line's power use and are not judged here.

Rules (``emergency/data/compliance_rules.yaml``, :func:`load_compliance_rules`; each number names its
source or is marked unverified):

* **baseline**: per line and hour of day, the median hourly power over the *normal days* among the
  ``baseline_days_max`` (14) days before the warning's start day: days with at most ``gap_share_max``
  missing samples, not excluded (other warnings' days) and with production (daily mean at least
  ``production_day_share`` of the line's median daily mean). Fewer than ``baseline_days_min`` (7)
  normal days → unverifiable.
* **clock**: the measure's execution time (``预警发布后24小时内`` → 24 h, else ``execution_hours``)
  counts from the warning's start instant; a day is judged on its hours after that deadline (a day
  wholly before the deadline is not judged and gives no row).
* **power**: achieved cut = 1 − observed / baseline over the judged hours with data. 'stop' complies
  when it is at least ``stop_min_fall`` (0.75), 'limit x' when at least x − ``limit_tolerance``.
  More than ``gap_share_max`` missing samples in the judged hours → unverifiable.
* **treatment**: a treatment meter below ``treatment_min_share`` of its baseline in an hour when the
  production meter runs (≥ ``treatment_running_share`` of its baseline) for more than
  ``treatment_max_hours`` hours of a day → violation.
* **switch-off**: the change point of the line's power around the start, found with ``ruptures``
  (binary segmentation, L2 cost) on the hourly series from 12 h before the start to 12 h after the
  deadline, then on the samples within two hours of it; accepted when the mean after is at most
  1 − ``switch_min_fall`` of the mean before. A switch-off later than the deadline by more than
  ``late_tolerance_hours`` makes the days up to it violations.
* **CEMS**: emission rate = concentration × flow, summed over the line's outlets per hour; per
  pollutant measured, the cut against the same-hour baseline must reach the line's required cut
  (``stop_min_fall`` for a stop) minus ``cems_tolerance``, and no judged hour may exceed its
  pre-warning level (the highest rate of that hour on the normal days) by more than ``cems_exceed_share``.
* **Concentration caps**: where a line's measure names one (:func:`measure_caps`: ``颗粒物排放浓度不高于
  10mg/m³``), no judged hour's mean concentration at any of its outlets may exceed it (rule
  ``concentration_cap``; the worst hour is the evidence ``cap_exceeded``).

Status of a line and day: ``violation`` if a check fails, else ``compliant`` if the power check (or
the CEMS check) passed, else ``unverifiable`` (no data, baseline not computable, gaps).

Times are naive Beijing times throughout (the readers' convention).

Size: about 920 lines, over the ~800 guide, a third of them docstrings and comments: one idea (the
judgement of a warning's lines), whose rules, grid computation, switch-off detection, CEMS and cap checks and
database glue share the same arrays and would only pass them between modules if split.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import yaml

from airwarn.core.dates import to_beijing
from airwarn.core.errors import InputError, UnknownNameError
from airwarn.core.vocab import EMISSION_POLLUTANTS, WarningLevel

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_RULES = "compliance_rules.yaml"
STATUSES: tuple[str, ...] = ("compliant", "violation", "unverifiable")
#: Rule keys (all required in a rules file; each ``{value, meaning, source | unverified}``).
RULE_KEYS: tuple[str, ...] = (
    "stop_min_fall", "limit_tolerance", "baseline_days_min", "baseline_days_max", "production_day_share",
    "execution_hours", "gap_share_max", "treatment_running_share", "treatment_min_share",
    "treatment_max_hours", "switch_min_fall", "late_tolerance_hours", "cems_tolerance", "cems_exceed_share")
_FRACTIONS = ("stop_min_fall", "limit_tolerance", "production_day_share", "gap_share_max",
              "treatment_running_share", "treatment_min_share", "switch_min_fall", "cems_tolerance")
#: Columns of the obligations frame.
OBLIGATION_COLUMNS: tuple[str, ...] = ("credit_code", "line_id", "enterprise", "county", "industry", "level",
                                       "kind", "required_cut", "execution_hours", "measure")
#: Columns of the compliance CSV (issue 17), after ``date``.
CSV_COLUMNS: tuple[str, ...] = ("date", "credit_code", "enterprise", "county", "industry", "line_id", "level", "measure",
                                "required_cut", "baseline_kw", "observed_kw", "achieved_cut", "status", "evidence")
#: Its columns of text from the list, escaped against spreadsheet formulas when written.
TEXT_COLUMNS: tuple[str, ...] = ("credit_code", "enterprise", "county", "industry", "line_id", "measure")
_HOURS_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(?:小时|个小时|h\b|hours?)")
_NS_HOUR = np.int64(3_600_000_000_000)
#: Pollutant names a measure's text may cap, → the CEMS column of the capped concentration.
CAP_POLLUTANTS: dict[str, str] = {
    "二氧化硫": "so2_mg_m3", "SO2": "so2_mg_m3", "SO₂": "so2_mg_m3",
    "氮氧化物": "nox_mg_m3", "NOx": "nox_mg_m3", "NOX": "nox_mg_m3",
    "颗粒物": "pm_mg_m3", "烟尘": "pm_mg_m3", "粉尘": "pm_mg_m3", "PM": "pm_mg_m3"}
_CAP_POL = "|".join(sorted(map(re.escape, CAP_POLLUTANTS), key=len, reverse=True))
_CAP_NUM = r"\d+(?:\.\d+)?"
_CAP_RE = re.compile(
    rf"((?:{_CAP_POL})(?:\s*[、，,和及与/]\s*(?:{_CAP_POL}))*)[^。；;]*?"
    rf"(?:不高于|不超过|不大于|低于|小于|≤|<=|<|控制在)\s*({_CAP_NUM}(?:\s*[、，,/]\s*{_CAP_NUM})*)\s*"
    rf"(?:mg/N?m³|mg/N?m3|毫克/(?:标准)?立方米)")


# ------------------------------------------------------------------------------------------ rules
@dataclass(frozen=True)
class ComplianceRules:
    """A validated compliance rule set.

    Attributes
    ----------
    name, version : str
    values : mapping str → float
        One number per :data:`RULE_KEYS`.
    unverified : tuple of str
        Keys whose value is marked ``unverified: true``.
    sha256 : str
        Of the file's bytes.
    """

    name: str
    version: str
    values: Mapping[str, float]
    unverified: tuple[str, ...] = ()
    sha256: str = ""

    def __getitem__(self, key: str) -> float:
        return self.values[key]

    @property
    def label(self) -> str:
        """``name@version``, recorded with every result."""
        return f"{self.name}@{self.version}"


def load_compliance_rules(source: "str | os.PathLike | ComplianceRules | None" = None,
                          overrides: Mapping[str, float] | None = None) -> ComplianceRules:
    """Load and validate a compliance rule file (default: the bundled ``compliance_rules.yaml``).

    Parameters
    ----------
    source : path, ComplianceRules or None
    overrides : mapping, optional
        Values replacing the file's (e.g. a stricter ``stop_min_fall``), validated alike.

    Raises
    ------
    InputError
        Missing or unknown keys, a value without ``source`` nor ``unverified: true``, a fraction
        outside 0–1, negative hours, ``baseline_days_min`` above ``baseline_days_max``.
    """
    if isinstance(source, ComplianceRules):
        rules = source
    else:
        path = DATA_DIR / DEFAULT_RULES if source in (None, "default") else Path(source)
        if not path.exists():
            raise UnknownNameError(f"compliance rules {source!r}: no such file; the bundled rules are 'default'")
        raw = path.read_bytes()
        doc = yaml.safe_load(raw) or {}
        where = f"compliance rules {path}"
        body = doc.get("rules")
        if not isinstance(body, dict):
            raise InputError(f"{where}: expected a mapping 'rules', got {type(body).__name__}")
        unknown = sorted(set(body) - set(RULE_KEYS))
        missing = [k for k in RULE_KEYS if k not in body]
        if unknown or missing:
            raise InputError(f"{where}: unknown rule(s) {unknown}, missing rule(s) {missing}; expected {list(RULE_KEYS)}")
        values, unver = {}, []
        for k in RULE_KEYS:
            entry = body[k]
            if not isinstance(entry, dict) or "value" not in entry:
                raise InputError(f"{where}, rule {k!r}: expected a mapping with 'value', got {entry!r}")
            if not entry.get("source") and entry.get("unverified") is not True:
                raise InputError(f"{where}, rule {k!r}: expected a 'source' or 'unverified: true', got neither")
            if entry.get("unverified") is True:
                unver.append(k)
            values[k] = entry["value"]
        rules = ComplianceRules(str(doc.get("name", path.stem)), str(doc.get("version", "?")), values,
                                tuple(unver), hashlib.sha256(raw).hexdigest())
    values = dict(rules.values)
    if overrides:
        bad = sorted(set(overrides) - set(RULE_KEYS))
        if bad:
            raise InputError(f"compliance rules: unknown override(s) {bad}; expected {list(RULE_KEYS)}")
        values.update(overrides)
    for k, v in values.items():
        try:
            f = float(v)
        except (TypeError, ValueError):
            raise InputError(f"compliance rules, rule {k!r}: expected a number, got {v!r}") from None
        if not np.isfinite(f) or f < 0 or (k in _FRACTIONS and f > 1):
            raise InputError(f"compliance rules, rule {k!r}: expected "
                             f"{'a fraction 0–1' if k in _FRACTIONS else 'a non-negative number'}, got {v!r}")
        values[k] = f
    if values["baseline_days_min"] > values["baseline_days_max"] or values["baseline_days_min"] < 1:
        raise InputError(f"compliance rules: expected 1 <= baseline_days_min <= baseline_days_max, got "
                         f"{values['baseline_days_min']} and {values['baseline_days_max']}")
    return ComplianceRules(rules.name, rules.version, values, rules.unverified, rules.sha256)


def measure_caps(text: "str | None") -> dict[str, float]:
    """The concentration caps [mg/m³] a measure's text names, by CEMS column.

    Reads the forms a 一厂一策 sheet uses: ``颗粒物排放浓度不高于10mg/m³``, ``二氧化硫、氮氧化物排放浓度分别不
    高于35、50毫克/立方米`` (the numbers in the pollutants' order), ``NOx 控制在 100 mg/m3 以内``. A list whose
    numbers do not pair with its pollutants (neither one number nor one per pollutant) names no cap.

    >>> measure_caps("限产50%，颗粒物、二氧化硫、氮氧化物排放浓度分别不高于10、35、50mg/m³")
    {'pm_mg_m3': 10.0, 'so2_mg_m3': 35.0, 'nox_mg_m3': 50.0}
    >>> measure_caps("停产")
    {}
    """
    caps: dict[str, float] = {}
    for pols, nums in _CAP_RE.findall(text or ""):
        names = re.findall(_CAP_POL, pols)
        values = [float(v) for v in re.findall(_CAP_NUM, nums)]
        if len(values) == 1:
            values = values * len(names)
        if len(values) != len(names):
            continue
        for name, v in zip(names, values):
            col = CAP_POLLUTANTS[name]
            caps[col] = min(v, caps.get(col, np.inf))
    return caps


def execution_hours(timing: "str | None", default: float) -> float:
    """Hours a measure's 执行时间 text allows (``预警发布后24小时内`` → 24), else ``default``."""
    if timing:
        m = _HOURS_RE.search(str(timing))
        if m:
            return float(m.group(1))
    return float(default)


# ----------------------------------------------------------------------------------------- result
@dataclass(frozen=True)
class ComplianceResult:
    """Compliance of every obligated line and judged day.

    Attributes
    ----------
    lines : DataFrame
        One row per line and judged day: ``date, credit_code, enterprise, county, industry, line_id, level,
        kind, measure, required_cut, baseline_kw, observed_kw, achieved_cut, gap_share, switch_off,
        deadline, treatment_hours, cems_status, cems_cut, status, rule, reason``.
    unmapped : DataFrame
        Meters and outlets of the inputs that name no obligated line: ``source, credit_code, id, rows``.
    start, end : datetime
        The warning's start instant and the end of the judged period (naive Beijing).
    rules : ComplianceRules
    warning_id : int or None
    """

    lines: pd.DataFrame
    unmapped: pd.DataFrame
    start: dt.datetime
    end: dt.datetime
    rules: ComplianceRules
    warning_id: int | None = None
    level: str | None = None
    obligations: pd.DataFrame = field(default=None, repr=False)

    def counts(self) -> dict[str, int]:
        """Rows per status."""
        vc = self.lines["status"].value_counts()
        return {s: int(vc.get(s, 0)) for s in STATUSES}

    def table(self) -> pd.DataFrame:
        """The rows in the CSV layout (:data:`CSV_COLUMNS`), violators first; ``evidence`` is JSON."""
        df = self.lines
        ev = [json.dumps({k: _jsonable(v) for k, v in rec.items()}, ensure_ascii=False)
              for rec in df[["baseline_kw", "observed_kw", "achieved_cut", "gap_share", "switch_off", "deadline",
                             "treatment_hours", "cems_status", "cems_cut", "cap_exceeded", "rule", "reason"]]
              .to_dict(orient="records")]
        out = df.assign(evidence=ev, date=df["date"].astype(str))
        order = out["status"].map({"violation": 0, "unverifiable": 1, "compliant": 2})
        out = out.assign(_o=order).sort_values(["_o", "date", "credit_code", "line_id"], kind="stable")
        return out[list(CSV_COLUMNS)].reset_index(drop=True)

    def write_csv(self, path: "str | os.PathLike") -> Path:
        """Write :meth:`table` as UTF-8 CSV (with BOM, for spreadsheet programs); returns the path."""
        from airwarn.core.files import atomic_write_text, csv_escape
        path = Path(path)
        t = self.table()
        for c in TEXT_COLUMNS:
            t[c] = t[c].map(csv_escape)
        for c in ("baseline_kw", "observed_kw"):
            t[c] = t[c].round(2)
        t["achieved_cut"] = t["achieved_cut"].round(4)
        atomic_write_text(path, "\ufeff" + t.to_csv(index=False))
        return path


def _jsonable(v):
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return None
    if isinstance(v, (pd.Timestamp, dt.datetime)):
        return None if pd.isna(v) else pd.Timestamp(v).strftime("%Y-%m-%d %H:%M")
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float):
        return round(v, 4)
    return v


# ------------------------------------------------------------------------------------------ core
def _grid_sum(li, hi, values, n_lines, n_hours):
    flat = li.astype(np.int64) * n_hours + hi
    s = np.bincount(flat, weights=values, minlength=n_lines * n_hours).reshape(n_lines, n_hours)
    c = np.bincount(flat, minlength=n_lines * n_hours).reshape(n_lines, n_hours)
    return s, c


def _nanmedian(a, axis):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(a, axis=axis)


def _nanmean(a, axis):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(a, axis=axis)


def _baseline(hourly, normal, n_base):
    """Same-hour median over the normal baseline days: (L, D, 24), (L, n_base) → (L, 24)."""
    b = hourly[:, :n_base, :].copy()
    b[~normal] = np.nan
    return _nanmedian(b, axis=1)


def _normal_days(hourly, cnt, sph, n_base, excluded, rules):
    """Normal production days of the baseline window: (L, n_base) bool."""
    c = cnt[:, :n_base, :].sum(-1) / (24 * sph[:, None])
    valid = (1 - c) <= rules["gap_share_max"] + 1e-12
    daily = _nanmean(hourly[:, :n_base, :], axis=-1)
    daily = np.where(valid, daily, np.nan)
    med = _nanmedian(daily, axis=1)
    prod = daily >= rules["production_day_share"] * med[:, None]
    return valid & prod & ~excluded[None, :] & np.isfinite(daily)


def assess_compliance(power: pd.DataFrame, obligations: pd.DataFrame, start: dt.datetime,
                      end: dt.datetime | None = None, *, cems: pd.DataFrame | None = None,
                      days: Sequence[dt.date] | None = None, exclude_days: Sequence[dt.date] = (),
                      rules: "ComplianceRules | str | None" = None, detect_switch: bool = True,
                      warning_id: int | None = None) -> ComplianceResult:
    """Judge every obligated line on every day of the warning (module notes).

    Parameters
    ----------
    power : DataFrame
        :func:`emergency.compliance_io.read_power` layout.
    obligations : DataFrame
        :data:`OBLIGATION_COLUMNS` (``kind`` stop / limit, ``required_cut`` a fraction, ``execution_hours``
        NaN for the rule default), one row per (credit_code, line_id).
    start : datetime
        The warning's start instant (naive Beijing).
    end : datetime, optional
        End of the judged period (exclusive); default the last power sample's hour + 1 h.
    cems : DataFrame, optional
        :func:`emergency.compliance_io.read_cems` layout.
    days : sequence of date, optional
        Only these days are reported.
    exclude_days : sequence of date
        Days not normal for the baseline (other warnings, holidays).
    rules : ComplianceRules, path or None
    detect_switch : bool
        Find switch-off times (``ruptures``).

    Returns
    -------
    ComplianceResult

    Raises
    ------
    InputError
        Missing obligation columns, a line twice, an unknown kind, a required cut outside 0–1, an end
        before the start.
    """
    rules = load_compliance_rules(rules)
    obl = _check_obligations(obligations)
    with np.errstate(invalid="ignore", divide="ignore"):  # NaN of missing hours is expected
        return _assess(power, obl, start, end, cems, days, exclude_days, rules, detect_switch, warning_id)


def _assess(power, obl, start, end, cems, days, exclude_days, rules, detect_switch, warning_id) -> ComplianceResult:
    start = pd.Timestamp(start).to_pydatetime().replace(tzinfo=None)
    if end is None:
        last = power["time"].max() if len(power) else pd.NaT
        end = (pd.Timestamp(last).floor("h") + pd.Timedelta(hours=1)).to_pydatetime() if pd.notna(last) else start
    end = pd.Timestamp(end).to_pydatetime().replace(tzinfo=None)
    if end < start:
        raise InputError(f"assess_compliance: expected end after start {start:%Y-%m-%d %H:%M}, got {end:%Y-%m-%d %H:%M}")
    n_base = int(rules["baseline_days_max"])
    day0 = pd.Timestamp(start.date()) - pd.Timedelta(days=n_base)
    n_days = n_base + (pd.Timestamp(end - dt.timedelta(microseconds=1)).normalize() - pd.Timestamp(start.date())).days + 1
    n_days = max(n_days, n_base + 1)
    H = n_days * 24
    L = len(obl)
    t0 = day0.value
    key = pd.MultiIndex.from_arrays([obl["credit_code"].astype(str), obl["line_id"].astype(str)])

    # ---- power onto the hour grid
    li = key.get_indexer(pd.MultiIndex.from_arrays([power["credit_code"].astype(str), power["line_id"].astype(str)])) \
        if len(power) else np.zeros(0, dtype=np.int64)
    tns = power["time"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
    hi = (tns - t0) // _NS_HOUR
    inside = (li >= 0) & (hi >= 0) & (hi < H)
    kind = power["meter_kind"].astype(str).to_numpy()
    kw = power["kw"].to_numpy(dtype=float)
    grids = {}
    for k in ("production", "total", "treatment"):
        m = inside & (kind == k)
        grids[k] = _grid_sum(li[m], hi[m], kw[m], L, H)
    has_prod = grids["production"][1].sum(1) > 0
    s = np.where(has_prod[:, None], grids["production"][0], grids["total"][0])
    c = np.where(has_prod[:, None], grids["production"][1], grids["total"][1])
    main_kind = np.where(has_prod, "production", "total")
    sph = np.maximum(c.max(axis=1), 1).astype(float)  # samples per hour: 4 for 15-min data, 1 for hourly
    with np.errstate(invalid="ignore", divide="ignore"):
        hourly = np.where(c > 0, s / np.maximum(c, 1), np.nan).reshape(L, n_days, 24)
    cnt = c.reshape(L, n_days, 24)
    excluded = np.array([(day0 + pd.Timedelta(days=i)).date() in set(exclude_days) for i in range(n_base)], dtype=bool)
    normal = _normal_days(hourly, cnt, sph, n_base, excluded, rules)
    n_normal = normal.sum(1)
    base = _baseline(hourly, normal, n_base)  # (L, 24)

    # ---- judged hours
    exec_h = np.where(np.isfinite(obl["execution_hours"].to_numpy(dtype=float)),
                      obl["execution_hours"].to_numpy(dtype=float), rules["execution_hours"])
    start_ns = pd.Timestamp(start).value
    deadline_ns = start_ns + (exec_h * 3600e9).astype(np.int64)
    hour_ns = t0 + np.arange(H, dtype=np.int64) * _NS_HOUR
    end_ns = pd.Timestamp(end).value
    judged = ((hour_ns[None, :] >= deadline_ns[:, None]) & (hour_ns[None, :] + _NS_HOUR <= end_ns)).reshape(L, n_days, 24)
    in_warning = ((hour_ns >= start_ns) & (hour_ns + _NS_HOUR <= end_ns))[None, :].reshape(1, n_days, 24)
    present = judged & (cnt > 0)
    n_judged = judged.sum(-1)
    n_present = present.sum(-1)
    gap = np.where(n_judged > 0, 1 - (cnt * judged).sum(-1) / (n_judged * sph[:, None]), np.nan)
    obs = np.where(n_present > 0, np.where(present, hourly, 0).sum(-1) / np.maximum(n_present, 1), np.nan)
    bb = np.broadcast_to(base[:, None, :], hourly.shape)
    bpres = present & np.isfinite(bb)
    base_kw = np.where(bpres.sum(-1) > 0, np.where(bpres, bb, 0).sum(-1) / np.maximum(bpres.sum(-1), 1), np.nan)
    obs_b = np.where(bpres.sum(-1) > 0, np.where(bpres, hourly, 0).sum(-1) / np.maximum(bpres.sum(-1), 1), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        achieved = np.where(base_kw > 0, 1 - obs_b / base_kw, np.nan)

    # ---- treatment meters
    ts_, tc_ = grids["treatment"]
    with np.errstate(invalid="ignore", divide="ignore"):
        thourly = np.where(tc_ > 0, ts_ / np.maximum(tc_, 1), np.nan).reshape(L, n_days, 24)
    tbase = _baseline(thourly, normal, n_base)
    with np.errstate(invalid="ignore"):
        running = hourly >= rules["treatment_running_share"] * bb
        tstopped = thourly < rules["treatment_min_share"] * tbase[:, None, :]
    tr_hours = (running & tstopped & in_warning & (cnt > 0)).sum(-1)
    has_tr = (tc_.sum(1) > 0) & np.isfinite(tbase).any(1)
    tr_bad = has_tr[:, None] & (tr_hours > rules["treatment_max_hours"])

    # ---- statuses (L, D)
    kinds = obl["kind"].to_numpy(dtype=object)
    req = obl["required_cut"].to_numpy(dtype=float)
    threshold = np.where(kinds == "stop", rules["stop_min_fall"], np.maximum(req - rules["limit_tolerance"], 0.0))
    has_data = c.sum(1) > 0
    status = np.full((L, n_days), "unverifiable", dtype=object)
    rule = np.full((L, n_days), "data", dtype=object)
    reason = np.full((L, n_days), "无电量数据", dtype=object)
    ok_base = has_data & (n_normal >= rules["baseline_days_min"])
    no_base = has_data[:, None] & ~ok_base[:, None] & np.ones((1, n_days), bool)
    rule[no_base] = "baseline_days_min"
    reason[no_base] = "基准期正常生产日不足，无法计算基准"
    gappy = ok_base[:, None] & ((gap > rules["gap_share_max"] + 1e-12) | ~np.isfinite(achieved))
    rule[gappy] = "gap_share_max"
    reason[gappy] = "数据缺失比例超过上限"
    judgeable = ok_base[:, None] & ~gappy
    passed = judgeable & (achieved >= threshold[:, None] - 1e-9)
    failed = judgeable & ~passed
    status[passed] = "compliant"
    rule[passed] = np.broadcast_to(np.where(kinds == "stop", "stop_min_fall", "limit_tolerance")[:, None], passed.shape)[passed]
    reason[passed] = "用电量降幅达到要求"
    status[failed] = "violation"
    rule[failed] = np.broadcast_to(np.where(kinds == "stop", "stop_min_fall", "limit_tolerance")[:, None], failed.shape)[failed]
    reason[failed] = "用电量降幅未达到要求"
    status[tr_bad] = "violation"
    rule[tr_bad] = "treatment"
    reason[tr_bad] = "生产设施运行期间治污设施停运"

    # ---- switch-off times
    switch = np.full(L, np.iinfo(np.int64).min, dtype=np.int64)
    if detect_switch and len(power):
        switch = _switch_off(power, li, inside, kind, main_kind, hourly.reshape(L, H), t0, start_ns, deadline_ns,
                             end_ns, threshold, ok_base, rules)
    found = switch != np.iinfo(np.int64).min
    late = found & (switch > deadline_ns + int(rules["late_tolerance_hours"] * 3600e9))
    day_start_ns = t0 + np.arange(n_days, dtype=np.int64) * 24 * _NS_HOUR
    late_day = late[:, None] & (day_start_ns[None, :] <= switch[:, None]) & (n_judged > 0) & judgeable
    status[late_day] = "violation"
    rule[late_day] = "late_tolerance_hours"
    reason[late_day] = "未在执行时限内停限产"

    # ---- CEMS
    cems_status = np.full((L, n_days), "", dtype=object)
    cems_cut = np.full((L, n_days), np.nan)
    cap_over = np.full((L, n_days), "", dtype=object)
    unmapped_cems = pd.DataFrame(columns=["source", "credit_code", "id", "rows"])
    if cems is not None and len(cems):
        cems_status, cems_cut, unmapped_cems, cap_over = _cems_check(cems, obl, key, t0, H, n_days, n_base, normal,
                                                                     judged, in_warning, kinds, req, rules)
        cv = cems_status == "violation"
        status[cv] = "violation"
        rule[cv] = "cems"
        reason[cv] = "在线监测排放速率未按要求下降或超过预警前水平"
        cok = (cems_status == "compliant") & (status == "unverifiable")
        status[cok] = "compliant"
        rule[cok] = "cems"
        reason[cok] = "在线监测排放速率降幅达到要求（无可用电量数据）"
        capped = cap_over != ""
        status[capped] = "violation"
        rule[capped] = "concentration_cap"
        reason[capped] = "在线监测小时浓度超过措施规定的限值（" + cap_over[capped].astype(str) + "）"

    # ---- rows
    day_dates = np.array([(day0 + pd.Timedelta(days=i)).date() for i in range(n_days)], dtype=object)
    keep = n_judged > 0
    keep[:, :n_base] = False
    if days is not None:
        want = set(days)
        keep &= np.array([d in want for d in day_dates])[None, :]
    ll, dd = np.nonzero(keep)
    sw = pd.to_datetime(np.where(found, switch, np.iinfo(np.int64).min)[ll])
    rows = pd.DataFrame({
        "date": day_dates[dd],
        "credit_code": obl["credit_code"].to_numpy()[ll], "enterprise": obl["enterprise"].to_numpy()[ll],
        "county": obl["county"].to_numpy()[ll], "industry": obl["industry"].to_numpy()[ll],
        "line_id": obl["line_id"].to_numpy()[ll], "level": obl["level"].to_numpy()[ll],
        "kind": kinds[ll], "measure": obl["measure"].to_numpy()[ll], "required_cut": req[ll],
        "baseline_kw": base_kw[ll, dd], "observed_kw": obs[ll, dd], "achieved_cut": achieved[ll, dd],
        "gap_share": gap[ll, dd], "switch_off": sw, "deadline": pd.to_datetime(deadline_ns[ll]),
        "treatment_hours": np.where(has_tr[ll], tr_hours[ll, dd], -1), "cems_status": cems_status[ll, dd],
        "cems_cut": cems_cut[ll, dd], "cap_exceeded": cap_over[ll, dd], "status": status[ll, dd],
        "rule": rule[ll, dd], "reason": reason[ll, dd],
    })
    um = _unmapped_power(power, li)
    unmapped = pd.concat([x for x in (um, unmapped_cems) if len(x)], ignore_index=True) if (len(um) or len(unmapped_cems)) \
        else pd.DataFrame(columns=["source", "credit_code", "id", "rows"])
    lvl = str(obl["level"].iloc[0]) if len(obl) else None
    return ComplianceResult(rows, unmapped, start, end, rules, warning_id, lvl, obl)


def _check_obligations(obligations: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in ("credit_code", "line_id", "kind", "required_cut") if c not in obligations.columns]
    if missing:
        raise InputError(f"obligations: missing column(s) {missing}; expected {list(OBLIGATION_COLUMNS)}")
    obl = obligations.reset_index(drop=True).copy()
    for c, default in (("enterprise", ""), ("county", ""), ("industry", ""), ("level", ""), ("measure", ""),
                       ("execution_hours", np.nan)):
        if c not in obl.columns:
            obl[c] = default
    obl["credit_code"] = obl["credit_code"].astype(str)
    obl["line_id"] = obl["line_id"].astype(str)
    dup = obl.duplicated(["credit_code", "line_id"])
    if dup.any():
        r = obl[dup].iloc[0]
        raise InputError(f"obligations: line {r['credit_code']}/{r['line_id']} appears twice; expected one row per line")
    bad = ~obl["kind"].isin(["stop", "limit"])
    if bad.any():
        raise InputError(f"obligations, row {int(np.flatnonzero(bad)[0])}, column 'kind': expected 'stop' or 'limit', "
                         f"got {obl['kind'][bad].iloc[0]!r}")
    req = obl["required_cut"].to_numpy(dtype=float)
    badr = ~np.isfinite(req) | (req < 0) | (req > 1)
    if badr.any():
        i = int(np.flatnonzero(badr)[0])
        raise InputError(f"obligations, row {i}, column 'required_cut': expected a fraction 0–1, got {req[i]!r}")
    return obl


def _unmapped_power(power: pd.DataFrame, li: np.ndarray) -> pd.DataFrame:
    m = li < 0
    if not m.any():
        return pd.DataFrame(columns=["source", "credit_code", "id", "rows"])
    g = power[m].groupby(["credit_code", "line_id"], observed=True).size().reset_index(name="rows")
    return pd.DataFrame({"source": "power", "credit_code": g["credit_code"], "id": g["line_id"], "rows": g["rows"]})


def _l2_cost():
    """A ruptures cost: the L2 cost of ``CostL2`` from cumulative sums, O(1) per segment instead of a
    variance over the segment (the same change points, an order of magnitude faster)."""
    from ruptures.base import BaseCost

    class CostL2Cumsum(BaseCost):
        model = "l2-cumsum"
        min_size = 1

        def fit(self, signal):
            x = np.asarray(signal, dtype=float).reshape(len(signal), -1)
            self.signal = x
            self.s1 = np.concatenate([np.zeros((1, x.shape[1])), np.cumsum(x, axis=0)])
            self.s2 = np.concatenate([np.zeros((1, x.shape[1])), np.cumsum(x * x, axis=0)])
            return self

        def error(self, start, end):
            n = end - start
            d1 = self.s1[end] - self.s1[start]
            return float((self.s2[end] - self.s2[start] - d1 * d1 / n).sum())

    return CostL2Cumsum()


def _ffill(x: np.ndarray) -> np.ndarray:
    """Forward-fill NaN (then back-fill the leading ones) of a 1-D array."""
    ok = np.isfinite(x)
    if ok.all() or not ok.any():
        return x
    idx = np.where(ok, np.arange(len(x)), 0)
    np.maximum.accumulate(idx, out=idx)
    y = x[idx]
    first = np.flatnonzero(ok)[0]
    y[:first] = x[first]
    return y


def _switch_off(power, li, inside, kind, main_kind, hourly, t0, start_ns, deadline_ns, end_ns, threshold, ok_base,
                rules) -> np.ndarray:
    """Switch-off instant per line (int ns, or int64 min): ruptures Binseg on hourly then native samples."""
    import ruptures as rpt

    L, H = hourly.shape
    out = np.full(L, np.iinfo(np.int64).min, dtype=np.int64)
    m = inside & (kind == main_kind[np.maximum(li, 0)])
    order = np.lexsort((power["time"].to_numpy(dtype="datetime64[ns]").astype(np.int64)[m], li[m]))
    lim = li[m][order]
    tim = power["time"].to_numpy(dtype="datetime64[ns]").astype(np.int64)[m][order]
    kwm = power["kw"].to_numpy(dtype=float)[m][order]
    bounds = np.searchsorted(lim, np.arange(L + 1))
    h_start = int((start_ns - t0) // _NS_HOUR)
    keep_ratio = 1 - rules["switch_min_fall"]
    cost = _l2_cost()
    for l in np.flatnonzero(ok_base & (threshold > 0)):
        lo = max(h_start - 12, 0)
        hi = min(int((deadline_ns[l] - t0) // _NS_HOUR) + 12, H, int((end_ns - t0) // _NS_HOUR))
        seg = _ffill(hourly[l, lo:hi])
        if len(seg) < 4 or not np.isfinite(seg).all():
            continue
        k = rpt.Binseg(custom_cost=cost, min_size=1, jump=1).fit(seg).predict(n_bkps=1)[0]
        before, after = seg[:k].mean(), seg[k:].mean()
        if not (before > 0 and after <= keep_ratio * before):
            continue
        # refine on the samples within two hours of the hourly change point
        a, b = bounds[l], bounds[l + 1]
        t_l, x_l = tim[a:b], kwm[a:b]
        centre = t0 + (lo + k) * _NS_HOUR
        i0, i1 = np.searchsorted(t_l, [centre - 2 * _NS_HOUR, centre + 2 * _NS_HOUR])
        if i1 - i0 >= 3:
            kk = rpt.Binseg(custom_cost=cost, min_size=1, jump=1).fit(x_l[i0:i1]).predict(n_bkps=1)[0]
            out[l] = t_l[i0 + kk] if i0 + kk < len(t_l) else centre
        else:
            out[l] = centre
    return out


def _cems_check(cems, obl, key, t0, H, n_days, n_base, normal, judged, in_warning, kinds, req, rules):
    L = len(obl)
    lid = cems["line_id"].astype(str).to_numpy()
    li = np.full(len(cems), -1, dtype=np.int64)
    named = lid != ""
    if named.any():
        li[named] = key.get_indexer(pd.MultiIndex.from_arrays([cems["credit_code"].astype(str)[named], lid[named]]))
    # an outlet without line_id: the plant's only obligated line
    per_plant = obl.groupby("credit_code").size()
    single = per_plant[per_plant == 1].index
    only = pd.Series(np.arange(L), index=obl["credit_code"])[lambda s: s.index.isin(single)]
    if (~named).any():
        li[~named] = only.reindex(cems["credit_code"].astype(str)[~named]).fillna(-1).to_numpy(dtype=np.int64)
    tns = cems["time"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
    hi = (tns - t0) // _NS_HOUR
    ok = (li >= 0) & (hi >= 0) & (hi < H)
    flow = cems["flow_m3_h"].to_numpy(dtype=float)
    status = np.full((L, n_days), "unverifiable", dtype=object)
    cut_min = np.full((L, n_days), np.nan)
    any_pol = np.zeros((L, n_days), dtype=bool)
    bad = np.zeros((L, n_days), dtype=bool)
    thr = np.where(kinds == "stop", rules["stop_min_fall"], req) - rules["cems_tolerance"]
    for col in ("so2_mg_m3", "nox_mg_m3", "pm_mg_m3"):
        rate = cems[col].to_numpy(dtype=float) * flow * 1e-6  # mg/m³ × m³/h → kg/h
        m = ok & np.isfinite(rate)
        if not m.any():
            continue
        # mean per outlet-hour first, then summed over the line's outlets
        g = pd.DataFrame({"li": li[m], "hi": hi[m], "o": cems["outlet_id"].to_numpy()[m], "r": rate[m]}) \
            .groupby(["li", "hi", "o"], sort=False)["r"].mean().reset_index()
        s, c = _grid_sum(g["li"].to_numpy(), g["hi"].to_numpy(), g["r"].to_numpy(), L, H)
        hr = np.where(c > 0, s, np.nan).reshape(L, n_days, 24)
        nb = normal if normal.any() else np.ones((L, n_base), bool)
        base = _baseline(hr, nb, n_base)
        bb = np.broadcast_to(base[:, None, :], hr.shape)
        pres = judged & np.isfinite(hr) & np.isfinite(bb)
        n = pres.sum(-1)
        bsum = np.where(pres, bb, 0).sum(-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            cut = np.where((n > 0) & (bsum > 0), 1 - np.where(pres, hr, 0).sum(-1) / bsum, np.nan)
            # the pre-warning level of an hour: its highest rate on the normal days (noise of single hours
            # above the median is not an exceedance)
            top = hr[:, :n_base, :].copy()
            top[~nb] = np.nan
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                top = np.nanmax(top, axis=1)
            tb = np.broadcast_to(top[:, None, :], hr.shape)
            exceed = (judged & np.isfinite(hr) & (tb > 0) & (hr > tb * (1 + rules["cems_exceed_share"]))).any(-1)
        has = np.isfinite(cut)
        any_pol |= has
        bad |= has & ((cut < thr[:, None] - 1e-9) | exceed)
        cut_min = np.where(has, np.fmin(cut_min, cut), cut_min)
    status[any_pol] = "compliant"
    status[bad] = "violation"
    status[~any_pol & ~bad] = "unverifiable"
    um = ~(li >= 0)
    unmapped = pd.DataFrame(columns=["source", "credit_code", "id", "rows"])
    if um.any():
        g = cems[um].groupby(["credit_code", "outlet_id"]).size().reset_index(name="rows")
        unmapped = pd.DataFrame({"source": "cems", "credit_code": g["credit_code"], "id": g["outlet_id"],
                                 "rows": g["rows"]})
    has_cems = np.bincount(li[ok], minlength=L) > 0
    status[~has_cems] = ""
    return status, cut_min, unmapped, _cap_check(cems, obl, li, hi, ok, judged, L, H, n_days)


def _cap_check(cems, obl, li, hi, ok, judged, L, H, n_days) -> np.ndarray:
    """Per line and day, the caps its measure names (:func:`measure_caps`) that a judged hour's mean
    concentration exceeded at any of its outlets: ``"pm_mg_m3 18.2 > 10"`` (the worst hour), else ''."""
    caps = [measure_caps(t) for t in obl["measure"]]
    over = np.full((L, n_days), "", dtype=object)
    for col in ("so2_mg_m3", "nox_mg_m3", "pm_mg_m3"):
        cap = np.array([c.get(col, np.nan) for c in caps])
        if not np.isfinite(cap).any():
            continue
        conc = cems[col].to_numpy(dtype=float)
        m = ok & np.isfinite(conc)
        m[m] = np.isfinite(cap[li[m]])
        if not m.any():
            continue
        g = pd.DataFrame({"k": li[m] * H + hi[m], "o": cems["outlet_id"].to_numpy()[m], "c": conc[m]}) \
            .groupby(["k", "o"], sort=False)["c"].mean()
        worst = np.full(L * H, -np.inf)
        np.maximum.at(worst, g.index.get_level_values("k").to_numpy(), g.to_numpy())
        hr = np.where(judged, worst.reshape(L, n_days, 24), -np.inf).max(-1)
        hit = hr > cap[:, None]
        for i, d in zip(*np.nonzero(hit & (over == ""))):
            over[i, d] = f"{col} {hr[i, d]:g} > {cap[i]:g}"
    return over


# ----------------------------------------------------------------------------- achieved reductions
def achieved_reductions(result: ComplianceResult, obligations: pd.DataFrame | None = None,
                        targets: Mapping[str, float] | None = None,
                        totals: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Planned and compliance-adjusted cuts [t/d] per judged day and pollutant.

    Parameters
    ----------
    result : ComplianceResult
    obligations : DataFrame, optional
        With ``planned_<p>`` (the line's planned cut, t/d) and ``baseline_<p>`` (its emissions, t/d)
        per pollutant (default: the result's obligations).
    targets : mapping pollutant → fraction, optional
    totals : mapping pollutant → t/d, optional
        Inventory totals (the targets' baseline).

    Returns
    -------
    DataFrame
        ``date, pollutant, planned, adjusted, unverifiable_planned, violation_planned, target, total,
        planned_ratio, adjusted_ratio, met``. A compliant line counts its planned cut, a violating line
        its achieved cut (``achieved_cut × baseline``, at most its planned cut, at least 0), an
        unverifiable line zero (its planned cut is in ``unverifiable_planned``).
    """
    obl = result.obligations if obligations is None else obligations
    df = result.lines.merge(obl[["credit_code", "line_id", *[c for c in obl.columns if c.startswith(("planned_", "baseline_"))]]],
                            on=["credit_code", "line_id"], how="left")
    out = []
    for p in EMISSION_POLLUTANTS:
        if f"planned_{p}" not in df.columns:
            continue
        planned = df[f"planned_{p}"].fillna(0.0).to_numpy(dtype=float)
        baseline = df.get(f"baseline_{p}", pd.Series(planned)).fillna(0.0).to_numpy(dtype=float)
        ach = np.clip(np.nan_to_num(df["achieved_cut"].to_numpy(dtype=float)), 0, 1) * baseline
        st = df["status"].to_numpy()
        adj = np.where(st == "compliant", planned, np.where(st == "violation", np.minimum(ach, planned), 0.0))
        t = pd.DataFrame({"date": df["date"], "planned": planned, "adjusted": adj,
                          "unverifiable_planned": np.where(st == "unverifiable", planned, 0.0),
                          "violation_planned": np.where(st == "violation", planned, 0.0)}) \
            .groupby("date", sort=True).sum().reset_index()
        t.insert(1, "pollutant", p)
        tgt = None if targets is None else targets.get(p)
        tot = None if totals is None else totals.get(p)
        t["target"] = tgt
        t["total"] = tot
        t["planned_ratio"] = t["planned"] / tot if tot else np.nan
        t["adjusted_ratio"] = t["adjusted"] / tot if tot else np.nan
        t["met"] = (t["adjusted_ratio"] >= tgt - 1e-12) if (tot and tgt is not None) else None
        out.append(t)
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(
        columns=["date", "pollutant", "planned", "adjusted", "unverifiable_planned", "violation_planned", "target",
                 "total", "planned_ratio", "adjusted_ratio", "met"])


# ------------------------------------------------------------------------------------- database
def warning_start_instant(warning) -> dt.datetime:
    """The instant a warning's measures count from (naive Beijing).

    Its issue time when that falls on its start day (Beijing time), else the start day's midnight
    (a warning issued the day before for the next day, or recorded afterwards).
    """
    if warning.start is None:
        raise InputError(f"warning {warning.id}: has no start day; expected an issued warning")
    t = dt.datetime.combine(warning.start, dt.time())
    if warning.issued_at is not None:
        issued = to_beijing(warning.issued_at).replace(tzinfo=None)
        if issued.date() == warning.start:
            t = issued
    return t


def warning_obligations(session, level: "WarningLevel | str", day: dt.date,
                        rules: "ComplianceRules | None" = None) -> pd.DataFrame:
    """The lines that must stop or limit at ``level`` on the list in force on ``day``.

    Returns
    -------
    DataFrame
        :data:`OBLIGATION_COLUMNS` plus ``planned_<p>`` (policy-capped planned cut, t/d) and
        ``baseline_<p>`` (line emissions, t/d). Voluntary grades (A+/A/引领性) are left out (their cuts
        are voluntary); a non-compliant plant's lines stop; a 保障类 plant's cut is capped at its
        fraction, as in :mod:`emergency.reductions`.
    """
    from sqlalchemy import select

    from emergency.reductions import policy_line_cut
    from enterprise_list.models import (
        GUARANTEE_GRADE, VOLUNTARY_GRADES, Enterprise, Measure, ProductionLine, list_in_force)

    rules = load_compliance_rules(rules)
    lvl = WarningLevel.parse(level)
    v = list_in_force(session, day)
    e, l, m = Enterprise.__table__.c, ProductionLine.__table__.c, Measure.__table__.c
    pols = list(EMISSION_POLLUTANTS)
    stmt = (select(e.credit_code, e.name, e.county, e.industry, e.grade, e.compliant, l.line_code, l.id,
                   *[l[p] for p in pols], m.kind, m.fraction, m.text, m.timing, *[m[f"cut_{p}"] for p in pols])
            .join(ProductionLine.__table__, l.enterprise_id == e.id)
            .outerjoin(Measure.__table__, (m.line_id == l.id) & (m.level == lvl.key))
            .where(e.version_id == v.id).order_by(e.id, l.id))
    cols = ["credit_code", "enterprise", "county", "industry", "grade", "compliant", "line_id", "line_pk", *pols,
            "kind", "fraction", "measure", "timing", *[f"cut_{p}" for p in pols]]
    df = pd.DataFrame(session.execute(stmt).all(), columns=cols)
    comp = df["compliant"].astype(bool)
    df.loc[~comp, "kind"] = "stop"
    df = df[df["kind"].isin(["stop", "limit"]) & (~df["grade"].isin(list(VOLUNTARY_GRADES)) | ~comp)].copy()
    guar = (df["grade"] == GUARANTEE_GRADE).to_numpy()
    frac = pd.to_numeric(df["fraction"], errors="coerce").to_numpy(dtype=float)
    stop = (df["kind"] == "stop").to_numpy()
    req = np.where(stop, 1.0, np.nan_to_num(frac, nan=0.0))
    req = np.where(guar & np.isfinite(frac), np.minimum(req, frac), req)
    df["required_cut"] = req
    df["kind"] = np.where(stop & ~(guar & np.isfinite(frac) & (frac < 1)), "stop", "limit")
    df["execution_hours"] = [execution_hours(t, rules["execution_hours"]) for t in df["timing"]]
    df["level"] = lvl.key
    df["measure"] = df["measure"].fillna("").astype(str)
    df.loc[df["measure"] == "", "measure"] = np.where(df.loc[df["measure"] == "", "kind"] == "stop", "停产", "限产")
    voluntary = df["grade"].isin(list(VOLUNTARY_GRADES)).to_numpy()  # left here only if not compliant: they stop
    for p in pols:
        b = df[p].astype(float).to_numpy()
        df[f"planned_{p}"] = policy_line_cut(b, df[f"cut_{p}"].astype(float).to_numpy(), frac,
                                             df["compliant"].astype(bool).to_numpy(), voluntary, guar)
        df[f"baseline_{p}"] = b
    keep = [*OBLIGATION_COLUMNS, *[f"planned_{p}" for p in pols], *[f"baseline_{p}" for p in pols]]
    return df[keep].drop_duplicates(["credit_code", "line_id"]).reset_index(drop=True)


def check_warning(target, warning_id: int, power: pd.DataFrame, cems: pd.DataFrame | None = None,
                  day: dt.date | None = None, rules: "ComplianceRules | str | None" = None,
                  end: dt.datetime | None = None) -> ComplianceResult:
    """Compliance of a stored warning (:func:`emergency.lifecycle.get_warning`) on the power/CEMS frames.

    The judged period runs from the warning's start instant to the end of its end day (or of ``day``,
    or the last sample); ``day`` limits the rows to one day. The days of the area's other issued or
    lifted warnings are left out of the baseline.
    """
    from sqlalchemy.engine import Engine

    from airwarn.core.db import session_scope
    from emergency.lifecycle import get_warning, history

    w = get_warning(target, warning_id)
    if w.level == WarningLevel.NONE or w.start is None:
        raise InputError(f"warning {warning_id}: expected an issued warning with a level and a start day, got "
                         f"level {w.level.key!r}, start {w.start}")
    rules = load_compliance_rules(rules)
    start = warning_start_instant(w)
    if end is None:
        last_day = w.end or day
        end = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time()) if last_day else None
        if day is not None and end is not None:
            end = min(end, dt.datetime.combine(day + dt.timedelta(days=1), dt.time()))
    if isinstance(target, Engine):
        with session_scope(target) as s:
            obl = warning_obligations(s, w.level, w.start, rules)
    else:
        obl = warning_obligations(target, w.level, w.start, rules)
    # the days of the area's other warnings are not normal days of the baseline
    excluded = set()
    for h in history(target, area=w.area):
        if h.id != w.id and h.status in ("issued", "lifted") and h.start is not None:
            last = h.end or h.start
            excluded.update(h.start + dt.timedelta(days=i) for i in range((last - h.start).days + 1))
    return assess_compliance(power, obl, start, end, cems=cems, days=None if day is None else [day], rules=rules,
                             exclude_days=sorted(excluded), warning_id=warning_id)
