"""Warning-grading rules as versioned data, and their evaluation on an AQI series.

A rule set is a YAML file shipped in ``emergency/data/warning_rules_<name>_<yyyy-mm-dd>.yaml``
(or any user file in the same layout). :func:`load_rules` takes a bundled name (``national-2024``,
``national-2019``, ``yangquan-example``) or a path, resolves ``extends:`` (a city override on top of a
national set) and validates everything on load.

File layout
-----------
``name``, ``title``, ``source``, ``issued`` (date), ``status``, optional ``extends`` and ``note``;
``levels`` with keys ``yellow``/``orange``/``red``, each a *condition*; optional
``temporary_measures`` (a condition, below yellow); ``lifting: {hours}``;
``merge: {gap_shorter_than_hours}``; ``reduction_targets: {yellow, orange, red}``, each one fraction
for all four pollutants (``0.10``) or one per pollutant (``{so2: 0.20, nox: 0.20, pm: 0.20, vocs: 0.15}``;
a city file may override single pollutants of its base); optional ``decision: {cost_loss_ratio: C/L}``
(one fraction, or one per level): the probability decision's thresholds then maximise the relative
economic value at that ratio instead of the event CSI (:mod:`emergency.decision`); optional
``by_pollutant: {colour_warnings: [pm25], advice: {o3_8h: 文字, pm10: 文字, other: 文字}}``: only days whose
primary pollutant is one of ``colour_warnings`` count toward the level conditions (and the temporary
measures); the others get the advice of their pollutant (环大气〔2024〕6号: colour warnings for
PM2.5-led episodes, O3-led → health advice and VOCs/NOx supervision, dust → health advice and dust
control). Without the key every day counts, whatever its primary pollutant.

A *condition* is a leaf ``{above: X, hours: H}`` (daily AQI strictly greater than X on consecutive
24-h periods lasting at least H hours), ``{at_least: X, hours: H}`` (AQI >= X), or a combination
``{any_of: [...]}`` / ``{all_of: [...]}``.

Series semantics
----------------
A series is a sequence of AQI values at a fixed step: 24 h (daily AQI, one value per day) or 1 h
(the rolling 24-h AQI ending at each hour, so a "day" may cross midnight). A run of *n* consecutive
exceeding values covers ``(n - 1) * step + 24`` hours; for a daily series that is ``24 n``.

* A leaf marks every point of each run that lasts at least ``hours``.
* ``any_of`` marks the union of its children's marks.
* ``all_of`` marks the runs of the union of its children's marks that contain marks of *every*
  child (e.g. red 2024: a run above 200 of >= 72 h that contains a day above 300).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Union

import numpy as np
import yaml

from airwarn.core.vocab import DAILY_POLLUTANTS, EMISSION_POLLUTANTS, POLLUTANT_LABELS, WarningLevel
from airwarn.core.errors import InputError, UnknownNameError

DATA_DIR = Path(__file__).resolve().parent / "data"
_FILE_RE = re.compile(r"^warning_rules_(?P<name>.+)_(?P<date>\d{4}-\d{2}-\d{2})\.ya?ml$")

#: Keys a rule file may have at its top level.
TOP_KEYS: tuple[str, ...] = (
    "name", "title", "source", "issued", "status", "extends", "note", "indicator", "levels",
    "temporary_measures", "lifting", "merge", "reduction_targets", "decision", "by_pollutant",
    "signoff",  # who approves each level and by when: emergency.signoff
)
#: Pollutant names of ``by_pollutant`` (the daily AQI pollutants of :mod:`airwarn.core.vocab`).
PRIMARY_NAMES: tuple[str, ...] = DAILY_POLLUTANTS
#: Warning levels a rule file may grade, mildest first.
LEVEL_KEYS: tuple[str, ...] = ("yellow", "orange", "red")
_LEAF_KEYS = ("above", "at_least", "hours")
_COMBINATORS = ("any_of", "all_of")


# --------------------------------------------------------------------------------------- conditions
@dataclass(frozen=True)
class Threshold:
    """Daily AQI above (or at least) ``value`` for at least ``hours`` hours."""

    value: float
    hours: int
    inclusive: bool = False

    def describe(self) -> str:
        """Chinese wording, e.g. ``日AQI>200持续≥48小时``."""
        op = "≥" if self.inclusive else ">"
        if self.hours <= 24:
            return f"日AQI{op}{self.value:g}"
        return f"日AQI{op}{self.value:g}持续≥{self.hours}小时"

    def key(self) -> str:
        """English key, e.g. ``aqi_gt_200_48h``."""
        return f"aqi_{'ge' if self.inclusive else 'gt'}_{self.value:g}_{self.hours}h"

    def exceeds(self, values: np.ndarray) -> np.ndarray:
        """Boolean mask of the values meeting the threshold (NaN never does)."""
        with np.errstate(invalid="ignore"):
            return values >= self.value if self.inclusive else values > self.value

    def leaves(self) -> tuple["Threshold", ...]:
        return (self,)


@dataclass(frozen=True)
class AnyOf:
    """Any of the conditions."""

    items: tuple["Condition", ...]

    def describe(self) -> str:
        return "或".join(i.describe() if not isinstance(i, AllOf) else f"({i.describe()})"
                        for i in self.items)

    def leaves(self) -> tuple[Threshold, ...]:
        return tuple(leaf for i in self.items for leaf in i.leaves())


@dataclass(frozen=True)
class AllOf:
    """All of the conditions, within one run."""

    items: tuple["Condition", ...]

    def describe(self) -> str:
        return "且".join(i.describe() if not isinstance(i, AnyOf) else f"({i.describe()})"
                        for i in self.items)

    def leaves(self) -> tuple[Threshold, ...]:
        return tuple(leaf for i in self.items for leaf in i.leaves())


Condition = Union[Threshold, AnyOf, AllOf]


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Half-open index ranges ``(start, stop)`` of the runs of True in a 1-D mask."""
    m = np.asarray(mask, dtype=bool)
    if m.size == 0:
        return []
    d = np.diff(np.concatenate(([0], m.astype(np.int8), [0])))
    starts = np.flatnonzero(d == 1)
    stops = np.flatnonzero(d == -1)
    return list(zip(starts.tolist(), stops.tolist()))


def run_hours(n: int, step_hours: float) -> float:
    """Hours covered by ``n`` consecutive 24-h AQI values at ``step_hours`` apart."""
    return (n - 1) * step_hours + 24.0 if n > 0 else 0.0


def mark(condition: Condition, values: np.ndarray, step_hours: float = 24.0) -> np.ndarray:
    """Points of a series that belong to a run meeting ``condition``.

    Parameters
    ----------
    condition : Threshold, AnyOf or AllOf
    values : ndarray, shape (n,)
        AQI series (daily, or the rolling 24-h AQI at each hour). NaN never exceeds.
    step_hours : float
        24 for a daily series, 1 for an hourly rolling series.

    Returns
    -------
    ndarray of bool, shape (n,)
    """
    values = np.asarray(values, dtype=float)
    if isinstance(condition, Threshold):
        exceed = condition.exceeds(values)
        out = np.zeros(values.shape, dtype=bool)
        for a, b in runs(exceed):
            if run_hours(b - a, step_hours) >= condition.hours - 1e-9:
                out[a:b] = True
        return out
    child = [mark(c, values, step_hours) for c in condition.items]
    if isinstance(condition, AnyOf):
        return np.logical_or.reduce(child)
    union = np.logical_or.reduce(child)
    out = np.zeros(values.shape, dtype=bool)
    for a, b in runs(union):
        if all(c[a:b].any() for c in child):
            out[a:b] = True
    return out


# --------------------------------------------------------------------------------------- rule set
@dataclass(frozen=True)
class RuleSet:
    """A validated warning-grading rule set.

    Attributes
    ----------
    name : str
        Rule-set name (``national-2024``).
    version : str
        Name plus issue date (``national-2024@2024-01-31``), stored with every decision.
    title, source, status : str
    issued : datetime.date
    levels : dict[WarningLevel, Condition]
        Start condition of each level.
    temporary_measures : Condition or None
        Below-yellow condition allowing temporary control measures.
    lifting_hours : float
        Hours below the yellow condition needed before a warning may be lifted.
    merge_gap_hours : float
        Episodes separated by a gap shorter than this are merged.
    reduction_targets : dict[WarningLevel, dict[str, float]]
        Cut of each emission pollutant (``so2 nox pm vocs``) as a fraction of total emissions, per level.
    colour_pollutants : tuple of str or None
        Primary pollutants whose days count toward the level conditions (``by_pollutant.colour_warnings``);
        None: every day counts.
    pollutant_advice : dict[str, str]
        Chinese advice for exceedances led by another pollutant, by pollutant name or ``other``.
    cost_loss : dict[WarningLevel, float] or None
        Cost–loss ratio C/L of acting at each level (``decision.cost_loss_ratio``), or None.
    path : Path or None
        File the rules came from; ``sha256`` its content hash (with the files it extends).
    """

    name: str
    version: str
    title: str
    source: str
    status: str
    issued: dt.date
    levels: Mapping[WarningLevel, Condition]
    temporary_measures: Condition | None
    lifting_hours: float
    merge_gap_hours: float
    reduction_targets: Mapping[WarningLevel, Mapping[str, float]]
    path: Path | None = None
    cost_loss: Mapping[WarningLevel, float] | None = None
    sha256: str = ""
    extends: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    colour_pollutants: tuple[str, ...] | None = None
    pollutant_advice: Mapping[str, str] = field(default_factory=dict)

    def describe(self, level: WarningLevel) -> str:
        """Chinese wording of a level's start condition."""
        return self.levels[WarningLevel.parse(level)].describe()

    def target(self, level: "WarningLevel | str", pollutant: str) -> float:
        """Reduction target of one emission pollutant at a level (0 when the rules set none)."""
        return float(self.reduction_targets.get(WarningLevel.parse(level), {}).get(pollutant, 0.0))

    def counts_for_colour(self, primary: str | None) -> bool:
        """Whether a day with this primary pollutant (comma-joined names) counts toward the levels.

        True without ``by_pollutant``, for an unknown primary pollutant (``None`` or ``""``: the
        forecast does not say, so the day may be PM2.5-led) and when any of its primary pollutants is
        one of :attr:`colour_pollutants`.
        """
        if self.colour_pollutants is None or not primary:
            return True
        return any(p in self.colour_pollutants for p in primary.split(","))

    def advice(self, primary: str) -> tuple[str, str]:
        """``(key, Chinese advice)`` for a day led by a pollutant that starts no colour warning."""
        for p in primary.split(","):
            if p in self.pollutant_advice:
                return p, self.pollutant_advice[p]
        label = "、".join(POLLUTANT_LABELS.get(p, p) for p in primary.split(","))
        return "other", self.pollutant_advice.get(
            "other", f"以{label}为首要污染物的污染过程不启动颜色预警：发布健康提示，报会商研判")


def bundled_rules() -> dict[str, Path]:
    """Bundled rule sets by name (the latest dated file of each name)."""
    found: dict[str, tuple[str, Path]] = {}
    for p in sorted(DATA_DIR.glob("warning_rules_*.y*ml")):
        m = _FILE_RE.match(p.name)
        if m and (m["name"] not in found or m["date"] > found[m["name"]][0]):
            found[m["name"]] = (m["date"], p)
    return {k: v[1] for k, v in sorted(found.items())}


def load_rules(name_or_path: "str | os.PathLike | RuleSet" = "national-2024") -> RuleSet:
    """Load and validate a rule set by bundled name or file path.

    Parameters
    ----------
    name_or_path : str or path-like or RuleSet
        A bundled name (see :func:`bundled_rules`) or the path of a YAML file in the same layout.
        A RuleSet is returned as is.

    Returns
    -------
    RuleSet

    Raises
    ------
    UnknownNameError
        Unknown rule-set name, or unknown keys / levels in the file (the message lists the valid ones).
    InputError
        Bad values (negative thresholds, hours not a positive number, targets outside 0-1, a cycle
        of ``extends``).
    FileNotFoundError
        If a path does not exist.

    Examples
    --------
    >>> load_rules("national-2024").describe("orange")
    '日AQI>200持续≥48小时或日AQI>150持续≥72小时'
    """
    if isinstance(name_or_path, RuleSet):
        return name_or_path
    raw, path, chain = _read_chain(name_or_path, ())
    return _build(raw, path, chain)


def _resolve(name_or_path: "str | os.PathLike") -> Path:
    text = os.fspath(name_or_path)
    bundled = bundled_rules()
    if text in bundled:
        return bundled[text]
    p = Path(text)
    if p.suffix.lower() in (".yaml", ".yml") or os.sep in text or "/" in text:
        if not p.exists():
            raise FileNotFoundError(f"warning rules file not found: {p}")
        return p
    raise UnknownNameError(f"unknown warning rule set {text!r}; bundled rule sets are {sorted(bundled)} "
                   f"(or give the path of a .yaml file)")


def _read_chain(name_or_path, seen: tuple[str, ...]) -> tuple[dict, Path, tuple[Path, ...]]:
    path = _resolve(name_or_path)
    key = str(path.resolve())
    if key in seen:
        raise InputError(f"warning rules {path}: 'extends' forms a cycle through {list(seen)}")
    with open(path, encoding="utf-8") as fh:
        try:
            raw = yaml.safe_load(fh)
        except yaml.YAMLError as exc:
            raise InputError(f"warning rules {path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise InputError(f"warning rules {path}: expected a mapping at the top level, got {type(raw).__name__}")
    unknown = set(raw) - set(TOP_KEYS)
    if unknown:
        raise InputError(f"warning rules {path}: unknown key(s) {sorted(unknown)}; valid keys are {list(TOP_KEYS)}")
    chain: tuple[Path, ...] = (path,)
    if raw.get("extends"):
        base, _, base_chain = _read_chain(raw["extends"], seen + (key,))
        merged = dict(base)
        for k, v in raw.items():
            if k == "reduction_targets" and isinstance(v, dict):
                merged[k] = dict(base.get(k) or {})
                for lvl, t in v.items():  # a city may override single pollutants of a level
                    b = _per_pollutant(merged[k].get(lvl))
                    merged[k][lvl] = {**b, **t} if isinstance(t, dict) and isinstance(b, dict) else t
            elif k in ("levels", "lifting", "merge", "by_pollutant") and isinstance(v, dict):
                merged[k] = {**(base.get(k) or {}), **v}
            else:
                merged[k] = v
        raw = merged
        chain = chain + base_chain
    return raw, path, chain


def _parse_condition(node: Any, where: str) -> Condition:
    if not isinstance(node, dict):
        raise InputError(f"{where}: expected a condition mapping such as {{above: 200, hours: 24}}, got {node!r}")
    keys = set(node)
    if keys & set(_COMBINATORS):
        if len(keys) != 1:
            raise InputError(f"{where}: a combination takes exactly one key of {list(_COMBINATORS)}, got {sorted(keys)}")
        (comb,) = keys
        items = node[comb]
        if not isinstance(items, list) or not items:
            raise InputError(f"{where}.{comb}: expected a non-empty list of conditions, got {items!r}")
        parsed = tuple(_parse_condition(it, f"{where}.{comb}[{i}]") for i, it in enumerate(items))
        return AnyOf(parsed) if comb == "any_of" else AllOf(parsed)
    unknown = keys - set(_LEAF_KEYS)
    if unknown:
        raise InputError(f"{where}: unknown key(s) {sorted(unknown)}; valid keys are "
                       f"{list(_LEAF_KEYS) + list(_COMBINATORS)}")
    if ("above" in node) == ("at_least" in node):
        raise InputError(f"{where}: give exactly one of 'above' or 'at_least', got {node!r}")
    value = node.get("above", node.get("at_least"))
    hours = node.get("hours", 24)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= 1000:
        raise InputError(f"{where}: threshold must be an AQI value in 0-1000, got {value!r}")
    if not isinstance(hours, (int, float)) or isinstance(hours, bool) or hours < 24:
        raise InputError(f"{where}: hours must be a number >= 24 (one 24-h period), got {hours!r}")
    return Threshold(float(value), int(hours), inclusive="at_least" in node)


def _build(raw: dict, path: Path, chain: tuple[Path, ...]) -> RuleSet:
    where = f"warning rules {path}"
    for req in ("name", "levels"):
        if req not in raw:
            raise InputError(f"{where}: missing required key {req!r}; a rule file needs {['name', 'levels']}")
    levels_raw = raw["levels"]
    if not isinstance(levels_raw, dict):
        raise InputError(f"{where}: 'levels' must map {list(LEVEL_KEYS)} to conditions")
    unknown = set(levels_raw) - set(LEVEL_KEYS)
    if unknown:
        raise UnknownNameError(f"{where}: unknown level(s) {sorted(unknown)}; valid levels are {list(LEVEL_KEYS)}")
    missing = [k for k in LEVEL_KEYS if k not in levels_raw]
    if missing:
        raise InputError(f"{where}: level(s) {missing} have no condition; every one of {list(LEVEL_KEYS)} needs one")
    levels = {WarningLevel.parse(k): _parse_condition(v, f"{where}: levels.{k}") for k, v in levels_raw.items()}
    temp = raw.get("temporary_measures")
    temp_c = _parse_condition(temp, f"{where}: temporary_measures") if temp else None
    lifting = raw.get("lifting") or {}
    merge = raw.get("merge") or {}
    for sect, d, keys in (("lifting", lifting, ("hours",)), ("merge", merge, ("gap_shorter_than_hours",))):
        if not isinstance(d, dict):
            raise InputError(f"{where}: {sect!r} must be a mapping with keys {list(keys)}, got {d!r}")
        bad = set(d) - set(keys)
        if bad:
            raise InputError(f"{where}: {sect}: unknown key(s) {sorted(bad)}; valid keys are {list(keys)}")
    lifting_hours = float(lifting.get("hours", 36))
    merge_gap = float(merge.get("gap_shorter_than_hours", lifting_hours))
    if lifting_hours <= 0 or merge_gap < 0:
        raise InputError(f"{where}: lifting.hours must be > 0 and merge gap >= 0, got {lifting_hours}, {merge_gap}")
    targets_raw = raw.get("reduction_targets") or {}
    if not isinstance(targets_raw, dict):
        raise InputError(f"{where}: 'reduction_targets' must map levels to fractions, got {targets_raw!r}")
    bad = set(targets_raw) - set(LEVEL_KEYS)
    if bad:
        raise UnknownNameError(f"{where}: reduction_targets: unknown level(s) {sorted(bad)}; valid levels are {list(LEVEL_KEYS)}")
    targets = {}
    for k, v in targets_raw.items():
        per = _per_pollutant(v)
        if not isinstance(per, dict):
            raise InputError(f"{where}: reduction_targets.{k} must be a fraction in 0-1 (0.10 for 10 %) or a "
                             f"mapping of {list(EMISSION_POLLUTANTS)} to fractions, got {v!r}")
        bad = set(per) - set(EMISSION_POLLUTANTS)
        missing = [p for p in EMISSION_POLLUTANTS if p not in per]
        if bad or missing:
            raise InputError(f"{where}: reduction_targets.{k}: expected the pollutants {list(EMISSION_POLLUTANTS)}, "
                           f"got {sorted(per)}")
        for p, x in per.items():
            if not isinstance(x, (int, float)) or isinstance(x, bool) or not 0 <= x <= 1:
                name = f"reduction_targets.{k}.{p}" if isinstance(v, dict) else f"reduction_targets.{k}"
                raise InputError(f"{where}: {name} must be a fraction in 0-1 (0.10 for 10 %), got {x!r}")
        targets[WarningLevel.parse(k)] = {p: float(per[p]) for p in EMISSION_POLLUTANTS}
    colour, advice = _parse_by_pollutant(raw.get("by_pollutant"), where)
    cost_loss = _parse_cost_loss(raw.get("decision"), where)
    issued = raw.get("issued")
    if isinstance(issued, str):
        try:
            issued = dt.date.fromisoformat(issued)
        except ValueError as exc:
            raise InputError(f"{where}: issued must be a date YYYY-MM-DD, got {issued!r}") from exc
    if not isinstance(issued, dt.date):
        m = _FILE_RE.match(path.name)
        issued = dt.date.fromisoformat(m["date"]) if m else dt.date(1970, 1, 1)
    digest = hashlib.sha256()
    for p in chain:
        digest.update(p.read_bytes())
    name = str(raw["name"])
    return RuleSet(
        name=name, version=f"{name}@{issued.isoformat()}", title=str(raw.get("title", name)),
        source=str(raw.get("source", "")), status=str(raw.get("status", "")), issued=issued,
        levels=levels, temporary_measures=temp_c, lifting_hours=lifting_hours, merge_gap_hours=merge_gap,
        reduction_targets=targets, path=path, sha256=digest.hexdigest(), extends=raw.get("extends"), raw=raw,
        cost_loss=cost_loss, colour_pollutants=colour, pollutant_advice=advice,
    )


def _per_pollutant(value: Any) -> Any:
    """A level's target as a per-pollutant mapping (one number → the same for all four); other values as is."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {p: value for p in EMISSION_POLLUTANTS}
    return value


def _parse_by_pollutant(node: Any, where: str) -> tuple[tuple[str, ...] | None, dict[str, str]]:
    """``by_pollutant: {colour_warnings: [...], advice: {...}}`` → (colour pollutants or None, advice)."""
    if node is None:
        return None, {}
    keys = ("colour_warnings", "advice")
    if not isinstance(node, dict) or set(node) - set(keys):
        raise InputError(f"{where}: by_pollutant: expected a mapping with the keys {list(keys)}, got {node!r}")
    colour = node.get("colour_warnings")
    if not isinstance(colour, list) or not colour or any(p not in PRIMARY_NAMES for p in colour):
        raise InputError(f"{where}: by_pollutant.colour_warnings: expected a non-empty list of pollutant names "
                         f"from {list(PRIMARY_NAMES)}, got {colour!r}")
    advice = node.get("advice") or {}
    if not isinstance(advice, dict):
        raise InputError(f"{where}: by_pollutant.advice: expected a mapping of pollutant names to texts, got {advice!r}")
    bad = set(advice) - set(PRIMARY_NAMES) - {"other"}
    if bad or not all(isinstance(t, str) and t.strip() for t in advice.values()):
        raise InputError(f"{where}: by_pollutant.advice: expected texts keyed by {list(PRIMARY_NAMES) + ['other']}, "
                         f"got {advice!r}")
    return tuple(dict.fromkeys(colour)), {k: str(v).strip() for k, v in advice.items()}


def _parse_cost_loss(node: Any, where: str) -> dict[WarningLevel, float] | None:
    """``decision: {cost_loss_ratio: x | {yellow: x, orange: y, red: z}}`` → ratio per level (None: absent)."""
    if node is None:
        return None
    if not isinstance(node, dict) or set(node) - {"cost_loss_ratio"}:
        raise InputError(f"{where}: decision: expected a mapping with the key 'cost_loss_ratio', got {node!r}")
    value = node.get("cost_loss_ratio")
    if value is None:
        return None
    values = value if isinstance(value, dict) else {k: value for k in LEVEL_KEYS}
    bad = set(values) - set(LEVEL_KEYS)
    if bad:
        raise UnknownNameError(f"{where}: decision.cost_loss_ratio: unknown level(s) {sorted(bad)}; valid levels are "
                       f"{list(LEVEL_KEYS)}")
    out = {}
    for k in LEVEL_KEYS:
        v = values.get(k)
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not 0 < v < 1:
            raise InputError(f"{where}: decision.cost_loss_ratio.{k} must be a fraction strictly between 0 and 1 "
                             f"(cost of acting over the loss avoided), got {v!r}")
        out[WarningLevel.parse(k)] = float(v)
    return out
