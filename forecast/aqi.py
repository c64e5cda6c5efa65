"""China's Air Quality Index (AQI) under HJ 633-2012 and HJ 633-2026, exact and vectorised.

The breakpoint tables are versioned package data (``forecast/data/aqi_breakpoints_hj633_2012.csv``,
``..._2026.csv``), loaded and validated once at import into :data:`BREAKPOINTS`; the levels, Chinese
categories and official colours are ``forecast/data/aqi_levels.csv``, loaded into :data:`AQI_LEVELS`.

Public functions
----------------
:func:`iaqi`
    The individual AQI of one indicator (``pm25_24h``, ``so2_1h``, …) for scalars, lists, ndarrays,
    pandas Series and xarray DataArrays.
:func:`daily_aqi`
    The daily report (日报): IAQIs, AQI, level, category, primary and exceedance pollutants,
    the standard used (``"auto"``: HJ 633-2012 before 2026-03-01, HJ 633-2026 from that day).
:func:`realtime_aqi`
    The real-time hourly report (实时报).
:func:`aqi_from_concentrations`
    AQI only, for arrays of any shape (the forecast model's quantiles and scenarios).
:func:`primary_pollutants`
    The primary pollutant(s) of daily concentrations (the forecast's median pollutant quantiles).
:func:`aqi_level`, :func:`standard_for_date`
    Level 1–6 of an AQI; the standard that applies on a date.

Exactness
---------
Both standards round every IAQI and AQI **up** to an integer (HJ 633-2012 §6.2, HJ 633-2026 §4.2.6), so
floating-point noise changes results (CO 1 h 65.4 mg/m³ gives 218.00000000000003 in float, IAQI 218).
Every IAQI here is exact:

* The IAQI of a concentration ``C`` with ``d`` decimals is ``ceil((a·N + B) / D)`` with ``N = C·10^d`` and
  integer ``a, B, D`` from the table segment; all operands stay below 2^53, so the float64 division is
  correctly rounded and its ceiling exact. Each indicator keeps a lookup table of these values for every
  concentration with at most 1 decimal (µg/m³) or 3 decimals (CO, mg/m³), built once: published data
  are scored by one table look-up per value.
* HJ 633-2026 rounds other values first (GB/T 8170, to integers and CO to 0.1 mg/m³), then looks them up.
* HJ 633-2012 scores other values (means such as 35.291666…) by float interpolation, exact except within
  2·10⁻⁵ of a whole IAQI; those few are recomputed with integers at 10⁻⁶ or, beyond 6 decimals, with
  :class:`fractions.Fraction`.

A float input stands for the **decimal it was written as**: its shortest round-trip decimal
(``repr``), e.g. ``0.15`` is 0.15, not 0.1499999999999999944… This is what a CSV or a report holds.

Rounding of concentrations (HJ 633-2026 §4.2.2) follows GB/T 8170-2008 (进舍规则, §3.2): a discarded
part below half is dropped, above half rounds up, and exactly half ("5 followed by nothing or only
zeros") rounds to the even last digit (奇进偶舍), i.e. round-half-even on the decimal value, in one step
(no successive rounding, §3.3). So PM2.5 34.5 → 34, 35.5 → 36, 35.50001 → 36; CO 0.15 → 0.2, 0.25 → 0.2,
and the standard's own examples 0.35 → 0.4, 1.050 → 1.0, 10.5002 → 11. (Clause numbers from secondary
sources; the rule itself is quoted identically by all of them.)

Size: about 1,300 lines, over the ~800 guide, for one idea: the index of HJ 633 in its two versions.
About 380 of them are docstrings (the exactness argument above, the standards' worked examples as
doctests). The code is one pipeline over shared private state: the tables loaded at import feed the
exact kernels (``_Kernel``, ``_LutSet`` and their lookup tables, built once), every public function
scores through them (``_score``), and the two reports share the row plan of the two standards
(``_Rows``, ``_evaluate``, ``_assemble``). The split to make when it grows is the exact kernel into a
private module of its own, the tables and the reports staying here.
"""
from __future__ import annotations

import csv
import datetime as dt
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import pandas as pd

from airwarn.core.errors import AirwarnWarning, InputError, UnknownNameError
from airwarn.core.units import CO_UNIT, CONCENTRATION, unit_of, unit_text
from airwarn.core.vocab import AQI_POLLUTANTS, DAILY_POLLUTANTS, HJ633_2026_FROM

__all__ = [
    "AQI_LEVELS",
    "BREAKPOINTS",
    "CATEGORIES",
    "DAILY_OUTPUT_COLUMNS",
    "SWITCH_DATE",
    "AqiLevel",
    "Indicator",
    "Standard",
    "aqi_from_concentrations",
    "aqi_level",
    "daily_aqi",
    "iaqi",
    "primary_pollutants",
    "realtime_aqi",
    "standard_for_date",
]

_DATA = Path(__file__).resolve().parent / "data"


class Standard(StrEnum):
    """Version of the AQI technical regulation (环境空气质量指数（AQI）技术规定)."""

    HJ633_2012 = "HJ633-2012"
    HJ633_2026 = "HJ633-2026"

    @classmethod
    def parse(cls, value: str | Standard) -> Standard:
        """Return the standard for ``"HJ633-2026"``, ``"HJ 633-2026"``, ``"2026"`` or a :class:`Standard`.

        Raises
        ------
        KeyError
            If the value names no standard; the message lists the valid names.
        """
        if isinstance(value, cls):
            return value
        text = str(value).strip().upper().replace(" ", "").replace("_", "-")
        for std in cls:
            if text in (std.value, std.value[-4:], std.value.replace("-", "")):
                return std
        hint = (" ('auto' picks the standard by date: daily_aqi/realtime_aqi take it, or use "
                "standard_for_date)") if text == "AUTO" else ""
        raise UnknownNameError(f"unknown AQI standard {value!r}{hint}; valid names are {[s.value for s in cls]}")


#: First day of HJ 633-2026 (and GB 3095-2026): data from this day on are scored under the 2026 rules
#: (the glossary's :data:`airwarn.core.vocab.HJ633_2026_FROM`).
SWITCH_DATE: dt.date = HJ633_2026_FROM
_SWITCH64 = np.datetime64(SWITCH_DATE.isoformat(), "s")

_FILES = {
    Standard.HJ633_2012: "aqi_breakpoints_hj633_2012.csv",
    Standard.HJ633_2026: "aqi_breakpoints_hj633_2026.csv",
}
#: Units of the breakpoint tables (codes of :mod:`airwarn.core.units`): µg/m³, CO mg/m³.
_TABLE_UNITS = (CONCENTRATION.code, CO_UNIT.code)
#: Concentrations are rounded to these decimals before scoring (HJ 633-2026 §4.2.2); 2012: no rounding.
_ROUND_DECIMALS = {Standard.HJ633_2012: None, Standard.HJ633_2026: {CONCENTRATION.code: 0, CO_UNIT.code: 1}}
_IAQI_ROWS = (0, 50, 100, 150, 200, 300, 400, 500)


@dataclass(frozen=True)
class Indicator:
    """One column of an IAQI breakpoint table.

    Attributes
    ----------
    name : str
        Indicator name, e.g. ``pm25_24h`` or ``so2_1h``.
    standard : Standard
        The regulation the column belongs to.
    unit : str
        ``"ug/m3"`` or ``"mg/m3"`` (CO).
    concentrations : tuple of float
        Breakpoint concentrations [unit], strictly increasing from 0.
    iaqis : tuple of int
        The IAQI at each breakpoint (0, 50, 100, 150, 200, 300, 400, 500, or fewer if the column ends).
    above : str or int
        Beyond the last breakpoint: ``"cap"`` (IAQI 500, flagged as above the table), ``"defer"``
        (no IAQI: the standard scores another indicator) or a fixed IAQI.
    decimals : int or None
        Decimals the concentration is rounded to before scoring (None: no rounding, HJ 633-2012).
    """

    name: str
    standard: Standard
    unit: str
    concentrations: tuple[float, ...]
    iaqis: tuple[int, ...]
    above: str | int
    decimals: int | None

    @property
    def top(self) -> float:
        """The last breakpoint concentration [unit]."""
        return self.concentrations[-1]


def _load_breakpoints(std: Standard) -> dict[str, Indicator]:
    path = _DATA / _FILES[std]
    with open(path, encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.reader(line for line in fh if not line.startswith("#"))]

    def bad(row: int, col: str, expected: str, got: Any) -> ValueError:
        return ValueError(f"{path}: data row {row}, column {col!r}: expected {expected}, got {got!r}")

    header, body = rows[0], rows[1:]
    if header[0] != "iaqi":
        raise bad(0, header[0], "first column 'iaqi'", header[0])
    keys = [r[0] for r in body]
    expected_keys = ["unit", *map(str, _IAQI_ROWS), "above"]
    if keys != expected_keys:
        raise InputError(f"{path}: first column must list {expected_keys}, got {keys}")
    table: dict[str, Indicator] = {}
    for j, name in enumerate(header[1:], start=1):
        cells = [r[j].strip() if j < len(r) else "" for r in body]
        unit, values, above = cells[0], cells[1:-1], cells[-1]
        if unit not in _TABLE_UNITS:
            raise bad(1, name, " or ".join(f"unit {u!r}" for u in _TABLE_UNITS), unit)
        conc: list[float] = []
        for i, cell in enumerate(values):
            if cell == "":
                if any(values[i:]):
                    raise bad(i + 2, name, "no value after an empty cell (a column only ends)", values[i:])
                break
            try:
                c = float(cell)
            except ValueError:
                raise bad(i + 2, name, "a number", cell) from None
            if c != int(c) or (conc and c <= conc[-1]) or (not conc and c != 0):
                raise bad(i + 2, name, "whole numbers increasing from 0", cell)
            conc.append(c)
        if len(conc) < 3:
            raise bad(2, name, "at least three breakpoints", values)
        if above in ("cap", "defer"):
            rule: str | int = above
        else:
            try:
                rule = int(above)
            except ValueError:
                raise bad(len(body), name, "'cap', 'defer' or an IAQI", above) from None
        if rule == "cap" and len(conc) != len(_IAQI_ROWS):
            raise bad(len(body), name, "'cap' only for a column that reaches IAQI 500", above)
        decimals = _ROUND_DECIMALS[std]
        table[name] = Indicator(
            name=name, standard=std, unit=unit, concentrations=tuple(conc),
            iaqis=_IAQI_ROWS[: len(conc)], above=rule,
            decimals=None if decimals is None else decimals[unit],
        )
    return table


#: IAQI breakpoint tables: ``BREAKPOINTS[Standard.HJ633_2026]["pm25_24h"]`` is an :class:`Indicator`.
#: HJ 633-2012 Table 1 and HJ 633-2026 Table 3; µg/m³ except CO in mg/m³. Immutable.
BREAKPOINTS: Mapping[Standard, Mapping[str, Indicator]] = MappingProxyType(
    {std: MappingProxyType(_load_breakpoints(std)) for std in Standard}
)


@dataclass(frozen=True)
class AqiLevel:
    """One AQI level (空气质量指数级别) with its category and official colour.

    Attributes
    ----------
    level : int
        1–6.
    aqi_min, aqi_max : int
        Inclusive AQI range (level 6: 301–500).
    grade : str
        一级 … 六级.
    category : str
        优, 良, 轻度污染, 中度污染, 重度污染, 严重污染.
    category_en : str
        English name.
    colour_name : str
        Chinese colour name (绿色 …).
    colour : str
        Official colour as ``#RRGGBB``.
    rgb, cmyk : tuple of int
        The colour as given in the standard.
    """

    level: int
    aqi_min: int
    aqi_max: int
    grade: str
    category: str
    category_en: str
    colour_name: str
    colour: str
    rgb: tuple[int, int, int]
    cmyk: tuple[int, int, int, int]


def _load_levels() -> dict[int, AqiLevel]:
    path = _DATA / "aqi_levels.csv"
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(line for line in fh if not line.startswith("#")))
    levels = {}
    for i, r in enumerate(rows, start=1):
        lvl = AqiLevel(
            level=int(r["level"]), aqi_min=int(r["aqi_min"]), aqi_max=int(r["aqi_max"]), grade=r["grade"],
            category=r["category"], category_en=r["category_en"], colour_name=r["colour_name"],
            colour=r["colour"], rgb=tuple(map(int, r["rgb"].split())),  # type: ignore[arg-type]
            cmyk=tuple(map(int, r["cmyk"].split())),  # type: ignore[arg-type]
        )
        if lvl.level != i or not (len(lvl.colour) == 7 and lvl.colour.startswith("#")):
            raise InputError(f"{path}: data row {i}: expected level {i} with a #RRGGBB colour, got {r}")
        if "#{:02X}{:02X}{:02X}".format(*lvl.rgb) != lvl.colour:
            raise InputError(f"{path}: data row {i}: colour {lvl.colour} does not match rgb {lvl.rgb}")
        levels[lvl.level] = lvl
    if [lv.aqi_min for lv in levels.values()] != [0, 51, 101, 151, 201, 301]:
        raise InputError(f"{path}: levels must start at AQI 0, 51, 101, 151, 201, 301")
    return levels


#: AQI levels 1–6 (HJ 633-2012 Table 2 = HJ 633-2026 Table 1): ``AQI_LEVELS[5].colour == "#99004C"``.
#: Dashboards and bulletins take names and colours from here. Immutable.
AQI_LEVELS: Mapping[int, AqiLevel] = MappingProxyType(_load_levels())
#: The six categories in level order (优 … 严重污染), the ordered categories of ``category`` columns.
CATEGORIES: tuple[str, ...] = tuple(lv.category for lv in AQI_LEVELS.values())
_LEVEL_EDGES = np.array([lv.aqi_max for lv in AQI_LEVELS.values()][:-1], dtype=float)


# --------------------------------------------------------------------------- exact vectorised kernel

_CHUNK = 1 << 13
_SCALE_2012 = 1e6  # HJ 633-2012 values are scored exactly when they have at most 6 decimals
#: A float IAQI this close to a whole number is recomputed exactly. Scaling to 1e-6 moves a
#: concentration by at most 5e-7, i.e. an IAQI by at most 25 x 5e-7 = 1.25e-5 (steepest slope:
#: CO 24 h, 25 per mg/m³); float interpolation errs by ~1e-13.
_NEAR = 2e-5
#: Scale of the lookup tables: concentrations with at most 1 decimal (µg/m³) or 3 decimals (CO, mg/m³)
#: are looked up; others take the general path.
_LUT_SCALE = {CONCENTRATION.code: 10, CO_UNIT.code: 1000}


class _Kernel:
    """Exact IAQI of one indicator: a lookup table for short decimals, exact arithmetic otherwise.

    ``_unrounded`` computes ``(a N + B) / D`` for integer-valued ``N`` (the concentration at ``scale``:
    10^decimals after the HJ 633-2026 rounding, 10^6 under HJ 633-2012) with the integer coefficients of
    its segment; the ceiling of that is exact. ``lut`` holds those IAQIs for every concentration on the
    ``lut_scale`` grid; ``general`` scores any other value (module docstring).
    """

    def __init__(self, ind: Indicator):
        self.ind = ind
        bp = np.asarray(ind.concentrations, dtype=float)
        ia = np.asarray(ind.iaqis, dtype=float)
        self.bp, self.ia = bp, ia
        scale = float(10 ** ind.decimals) if ind.decimals is not None else _SCALE_2012
        self.scale = scale
        a = ia[1:] - ia[:-1]
        b = bp[1:] - bp[:-1]
        # IAQI = lo_i + a (C - lo_c) / b = (a N + (lo_i b - a lo_c) S) / (b S), N = C S.
        self.inner = bp[1:-1] * scale
        self.a = a
        self.b = (ia[:-1] * b - a * bp[:-1]) * scale
        self.d = b * scale
        self.top = bp[-1] * scale
        # The capped/fixed value above the table (NaN for "defer").
        self.above_value = {"cap": 500.0, "defer": np.nan}.get(ind.above, ind.above)  # type: ignore[arg-type]
        self.lut_scale = float(_LUT_SCALE[ind.unit])
        self._lut: np.ndarray | None = None

    # ---- general path
    def round_gbt8170(self, x: np.ndarray) -> np.ndarray:
        """``x`` rounded half-even on its decimal value, as integers at ``self.scale``."""
        y = x * self.scale if self.scale != 1.0 else x
        n = np.rint(y)
        with np.errstate(invalid="ignore"):
            amb = np.abs(y - n) > 0.5 - 1e-6  # within 1e-6 of a half: decide on the decimal value
        if amb.any():
            k = np.floor(y[amb])
            half = (k + 0.5) / self.scale  # the float nearest to the decimal k.5/scale
            xs = x[amb]
            n[amb] = np.where(xs == half, k + (k % 2 == 1), np.where(xs > half, k + 1, k))
        return n

    def _unrounded(self, n: np.ndarray) -> np.ndarray:
        """``(a N + B) / D`` of integer-valued ``n`` (at ``self.scale``), before the ceiling."""
        seg = np.searchsorted(self.inner, n)
        v = self.a.take(seg) * n
        v += self.b.take(seg)
        v /= self.d.take(seg)
        return v

    def exact_one(self, value: float) -> float:
        """IAQI of one finite in-table value, with Fraction arithmetic on its decimal value."""
        c = Fraction(repr(float(value)))
        conc, ia = self.ind.concentrations, self.ind.iaqis
        for j in range(1, len(conc)):
            if c <= conc[j] or j == len(conc) - 1:
                lo_c, hi_c = Fraction(int(conc[j - 1])), Fraction(int(conc[j]))
                v = ia[j - 1] + (ia[j] - ia[j - 1]) * (c - lo_c) / (hi_c - lo_c)
                return float(math.ceil(v))
        raise AssertionError("unreachable")  # pragma: no cover

    def general(self, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """IAQIs and above-table flags of any float values (NaN and negatives give NaN)."""
        with np.errstate(invalid="ignore", over="ignore"):
            if self.ind.decimals is not None:
                # HJ 633-2026: round (GB/T 8170), then look the rounded value up
                n = self.round_gbt8170(xs)
                k = n * (self.lut_scale / self.scale)
                np.fmax(k, -1.0, out=k)
                np.minimum(k, self.lut_top + 1.0, out=k)
                k += 1.0
                o = self.lut.take(k.astype(np.intp))
                over = n > self.top
            else:
                # HJ 633-2012: float interpolation is exact except within 2e-5 of a whole IAQI; redo
                # those exactly (integer arithmetic at 1e-6 for up to 6 decimals, else Fraction).
                v = np.interp(xs, self.bp, self.ia)
                o = np.ceil(v)
                d = o - v
                near = np.flatnonzero((d < _NEAR) | (d > 1.0 - _NEAR))
                if near.size:
                    xn = xs[near]
                    n = np.rint(xn * self.scale)
                    o[near] = np.ceil(self._unrounded(n))
                    inexact = ((n / self.scale) != xn) & (xn <= self.ind.top) & (xn >= 0)
                    for i in np.flatnonzero(inexact):
                        o[near[i]] = self.exact_one(xn[i])
                # compare the value itself: 2620.0000001 is above the table though N rounds to its top
                over = xs > self.ind.top
            o[over] = self.above_value
            o[xs < 0] = np.nan
        return o, over

    # ---- fast path
    @property
    def lut(self) -> np.ndarray:
        """Lookup table: entry 0 = NaN (missing/negative), entry 1 + k = IAQI of k / lut_scale,
        last entry = the value above the table."""
        if self._lut is None:
            s = int(self.lut_scale)
            k = np.arange(int(self.ind.top * s) + s, dtype=np.int64)  # up to top + 1 (for 2026 rounding)
            if self.ind.decimals is not None:
                e = s // 10 ** self.ind.decimals  # GB/T 8170 half-even rounding from 1/s to 1/10^decimals
                q, r = np.divmod(k, e)
                n = q + ((r > e // 2) | ((r == e // 2) & (q % 2 == 1)))
                if e == 1:
                    n = k
            else:
                n = k * int(self.scale) // s
            n = n.astype(float)
            vals = np.ceil(self._unrounded(n))
            vals[n > self.top] = self.above_value
            last = int(np.flatnonzero(n <= self.top)[-1])  # larger k are above the table
            self._lut = np.concatenate([[np.nan], vals[: last + 1], [self.above_value]])
            self._lut_top = float(last)
        return self._lut

    @property
    def lut_top(self) -> float:
        """The largest scaled concentration inside the lookup table."""
        self.lut  # noqa: B018 - builds the table
        return self._lut_top

    def score(self, x: np.ndarray, out: np.ndarray, above: np.ndarray) -> None:
        """IAQIs of the 1-D float array ``x`` into ``out``; ``above[i]`` set where over the table."""
        _lut_set((self,)).score(x, None, out, above)


class _LutSet:
    """One kernel, or the HJ 633-2012 and HJ 633-2026 kernels of one pollutant, behind one lookup table.

    With two kernels a row's standard (0 = 2012, 1 = 2026) offsets its index into the joint table, so
    rows of both standards are scored in one pass. A missing kernel (``None``: an indicator the other
    standard does not score) gives NaN.
    """

    def __init__(self, kernels: tuple[_Kernel | None, ...]):
        self.kernels = kernels
        scales = {k.lut_scale for k in kernels if k is not None}
        if len(scales) != 1:
            raise InputError(f"kernels of different units cannot share a table: {kernels}")
        self.scale = scales.pop()
        parts, tops, above_idx, offs = [], [], [], []
        off = 0
        for k in kernels:
            lut = np.array([np.nan, np.nan]) if k is None else k.lut
            top = -1.0 if k is None else k.lut_top
            parts.append(lut)
            tops.append(top + 1.0)
            above_idx.append(-1 if k is None else off + int(top) + 2)
            offs.append(off + 1.0)
            off += len(lut)
        self.lut = np.concatenate(parts)
        self.tops = np.array(tops)
        self.above_idx = np.array(above_idx, dtype=np.intp)
        self.offs = np.array(offs)

    def _general(self, xs: np.ndarray, sel: np.ndarray | None, rows: np.ndarray, out: np.ndarray,
                 above: np.ndarray) -> None:
        """General path for ``rows`` (positions in ``xs``), split by standard."""
        for code, kernel in enumerate(self.kernels):
            r = rows if sel is None else rows[sel[rows] == code]
            if kernel is None:
                out[r] = np.nan
            elif r.size:
                o, fl = kernel.general(xs[r])
                out[r] = o
                above[r] = fl

    def score(self, x: np.ndarray, sel: np.ndarray | None, out: np.ndarray, above: np.ndarray) -> None:
        """IAQIs of ``x`` into ``out`` (``sel``: int8 kernel index per row, or None for one kernel)."""
        s = self.scale
        size = min(_CHUNK, x.shape[0])
        buf, chk = np.empty(size), np.empty(size)
        idx = np.empty(size, dtype=np.intp)
        with np.errstate(invalid="ignore", over="ignore"):
            for start in range(0, x.shape[0], _CHUNK):
                xs = x[start:start + _CHUNK]
                m = xs.shape[0]
                n, ix, ck = buf[:m], idx[:m], chk[:m]
                o, ab = out[start:start + m], above[start:start + m]
                sc = None if sel is None else sel[start:start + m]
                np.multiply(xs, s, out=n)
                np.rint(n, out=n)
                np.divide(n, s, out=ck)
                needs = ck != xs  # not a short decimal, or NaN
                n_needs = int(np.count_nonzero(needs))
                if n_needs > m // 2:  # mostly long decimals (unrounded means): general path throughout
                    ab[...] = False
                    self._general(xs, sc, np.arange(m), o, ab)
                    continue
                np.fmax(n, -1.0, out=n)  # NaN and negatives -> -1 (entry 0: NaN)
                if sc is None:
                    np.minimum(n, self.tops[0], out=n)  # above the table -> the last entry
                    n += self.offs[0]
                else:
                    np.minimum(n, self.tops.take(sc), out=n)
                    n += self.offs.take(sc)
                ix[...] = n
                self.lut.take(ix, out=o)
                np.equal(ix, self.above_idx[0] if sc is None else self.above_idx.take(sc), out=ab)
                if n_needs:
                    rows = np.flatnonzero(needs)
                    rows = rows[~np.isnan(xs[rows])]
                    if rows.size:
                        self._general(xs, sc, rows, o, ab)


_LUT_SETS: dict[tuple, _LutSet] = {}


def _lut_set(kernels: tuple[_Kernel | None, ...]) -> _LutSet:
    """The (cached, immutable) joint lookup table of ``kernels``."""
    key = tuple(None if k is None else (k.ind.standard, k.ind.name) for k in kernels)
    if key not in _LUT_SETS:
        _LUT_SETS[key] = _LutSet(kernels)
    return _LUT_SETS[key]


_KERNELS: Mapping[tuple[Standard, str], _Kernel] = MappingProxyType(
    {(std, name): _Kernel(ind) for std, tab in BREAKPOINTS.items() for name, ind in tab.items()}
)

AboveMode = Literal["warn", "ignore", "raise"]


def _indicator(pollutant: str, std: Standard) -> _Kernel:
    try:
        return _KERNELS[(std, pollutant)]
    except KeyError:
        hint = ""
        if pollutant in ("pm25_1h", "pm10_1h") and std is Standard.HJ633_2012:
            hint = (" (HJ 633-2012 scores PM only as 24 h means; its real-time report uses the 24 h moving"
                    " mean, pm25_24h / pm10_24h)")
        raise UnknownNameError(
            f"unknown indicator {pollutant!r} for {std.value}{hint}; valid names are {list(BREAKPOINTS[std])}"
        ) from None


def _as_float_array(values: Any, what: str) -> np.ndarray:
    """``values`` as a 1-D contiguous float64 array (NaN for missing)."""
    if isinstance(values, pd.Series | pd.Index):
        if values.dtype.kind not in "biuf" and not isinstance(values.dtype, pd.api.extensions.ExtensionDtype):
            raise TypeError(f"{what}: expected numbers, got dtype {values.dtype}")
        try:
            arr = values.to_numpy(dtype=float, na_value=np.nan)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{what}: expected numbers, got dtype {values.dtype} ({exc})") from None
    else:
        arr = np.asarray(values)
        if arr.dtype.kind in "biuf":
            arr = arr.astype(float, copy=False)
        elif arr.dtype.kind in "Mm":
            raise TypeError(f"{what}: expected numbers, got {arr.dtype} values")
        else:
            cleaned = []
            objects = arr if isinstance(values, np.ndarray) else np.asarray(values, dtype=object)
            for v in objects.ravel():
                if v is None or v is pd.NA:
                    cleaned.append(np.nan)
                elif isinstance(v, int | float | np.number) and not isinstance(v, bool | np.bool_):
                    cleaned.append(v)
                else:
                    kind = "str" if isinstance(v, str) else type(v).__name__
                    raise TypeError(f"{what}: expected numbers, got {kind} {str(v)!r}")
            arr = np.array(cleaned, dtype=float).reshape(arr.shape)
    return np.ascontiguousarray(arr.ravel())


def _above_message(counts: dict[str, tuple[int, float, str]], where: str) -> str:
    parts = [f"{name}: {n} value(s), max {mx:g} {unit}" for name, (n, mx, unit) in counts.items()]
    return (f"{where}: concentrations above the top of the IAQI table were scored 500 "
            f"(the standard does not define the IAQI there): {'; '.join(parts)}")


def _report_above(counts: dict[str, tuple[int, float, str]], mode: AboveMode, where: str) -> None:
    if not counts or mode == "ignore":
        return
    if mode == "raise":
        raise InputError(_above_message(counts, where))
    if mode != "warn":
        raise UnknownNameError(f"{where}: unknown above mode {mode!r}; valid names are ['warn', 'ignore', 'raise']")
    warnings.warn(_above_message(counts, where), AirwarnWarning, stacklevel=3)


def _score(kernel: _Kernel, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    out = np.empty(x.shape, dtype=float)
    above = np.zeros(x.shape, dtype=bool)
    kernel.score(x, out, above)
    return out, above


def iaqi(
    pollutant: str,
    concentration: Any,
    standard: str | Standard = "HJ633-2026",
    *,
    return_flags: bool = False,
    above: AboveMode = "warn",
) -> Any:
    """Individual air quality index (空气质量分指数, IAQI) of one indicator.

    Parameters
    ----------
    pollutant : str
        Indicator: ``so2_24h so2_1h no2_24h no2_1h co_24h co_1h o3_1h o3_8h pm10_24h pm25_24h``, and under
        HJ 633-2026 also ``pm10_1h pm25_1h`` (real-time report: 1 h PM scored on the daily breakpoints).
    concentration : scalar, sequence, numpy array, pandas Series or xarray DataArray
        Concentrations [µg/m³; CO mg/m³]. NaN/None/pd.NA are missing. A float stands for its shortest
        decimal (``repr``).
    standard : {"HJ633-2026", "HJ633-2012"} or Standard
        The regulation. HJ 633-2026 rounds the concentration first (GB/T 8170, half-even on the decimal
        value: integers, CO to 0.1 mg/m³).
    return_flags : bool
        Also return a boolean array, True where the concentration is above the column's last breakpoint.
    above : {"warn", "ignore", "raise"}
        What to do when a value is above the top of the table and is capped at 500:
        an :class:`airwarn.core.errors.AirwarnWarning`, nothing, or a ValueError.

    Returns
    -------
    float array of whole numbers, of the input's kind
        ``numpy.float64`` for a scalar, ``numpy.ndarray`` (same shape) for a sequence or array,
        ``pandas.Series`` (same index, named ``iaqi_<pollutant>``) for a Series, ``xarray.DataArray``
        (same coordinates; dask-backed input stays lazy) for a DataArray. NaN where the input is
        missing or negative, and where HJ 633-2012 defers to another indicator (SO2 1 h > 800: use the
        24 h IAQI; O3 8 h > 800: use the O3 1 h IAQI). With ``return_flags``: ``(values, flags)``.

    Raises
    ------
    KeyError
        Unknown indicator or standard (the message lists the valid names).
    TypeError
        Concentrations that are not numbers.
    ValueError
        ``above="raise"`` and a value above the table.

    Notes
    -----
    ``IAQI = (IAQI_Hi - IAQI_Lo)/(BP_Hi - BP_Lo) (C - BP_Lo) + IAQI_Lo``, rounded up (HJ 633-2012 §6.2,
    HJ 633-2026 §4.2.6), computed exactly (module docstring). Above the last breakpoint the standards
    define no IAQI except: HJ 633-2026 sets SO2 1 h > 800 to 200 and O3 8 h > 800 to 300; HJ 633-2012
    defers those two to another indicator (NaN here). Every other column above its top (e.g. PM2.5 > 500)
    gives 500 and a flag.

    References
    ----------
    HJ 633-2012 Table 1 and §6.2; HJ 633-2026 Table 3, §4.2.2 and §4.2.6; GB/T 8170-2008 (进舍规则).

    Examples
    --------
    >>> float(iaqi("co_1h", 65.4))
    218.0
    >>> float(iaqi("pm25_24h", 150.2, "HJ633-2012"))
    201.0
    >>> iaqi("pm25_24h", [34.5, 35.5, 60, None])
    array([ 49.,  52., 100.,  nan])
    """
    std = Standard.parse(standard) if str(standard) != "auto" else None
    if std is None:
        raise UnknownNameError(f"iaqi: standard 'auto' needs dates (use daily_aqi); valid names are "
                       f"{[s.value for s in Standard]}")
    kernel = _indicator(pollutant, std)
    if type(concentration).__module__.startswith("xarray"):
        import xarray as xr

        def _apply(block: np.ndarray) -> np.ndarray:
            values, flags = _score(kernel, _as_float_array(block, f"iaqi({pollutant!r})"))
            _report_above(_count_above({pollutant: (kernel, block.ravel(), flags)}), above, "iaqi")
            return values.reshape(block.shape)

        result = xr.apply_ufunc(_apply, concentration, dask="parallelized", output_dtypes=[float],
                                keep_attrs=False)
        result.attrs = {"long_name": f"IAQI of {pollutant}", "units": "1", "standard": std.value}
        result.name = f"iaqi_{pollutant}"
        if return_flags:
            flags = xr.apply_ufunc(
                lambda b: _score(kernel, _as_float_array(b, "iaqi"))[1].reshape(np.shape(b)), concentration,
                dask="parallelized", output_dtypes=[bool])
            return result, flags
        return result
    x = _as_float_array(concentration, f"iaqi({pollutant!r})")
    values, flags = _score(kernel, x)
    _report_above(_count_above({pollutant: (kernel, x, flags)}), above, "iaqi")
    if isinstance(concentration, pd.Series):
        res: Any = pd.Series(values, index=concentration.index, name=f"iaqi_{pollutant}")
        fl: Any = pd.Series(flags, index=concentration.index, name=f"above_{pollutant}")
    elif np.ndim(concentration) == 0:
        res, fl = np.float64(values[0]), np.bool_(flags[0])
    else:
        shape = np.shape(concentration)
        res, fl = values.reshape(shape), flags.reshape(shape)
    return (res, fl) if return_flags else res


def _count_above(items: Mapping[str, tuple[_Kernel, np.ndarray, np.ndarray]]) -> dict:
    """Counts of capped values per indicator (only the ``cap`` rule is a degraded result)."""
    counts = {}
    for name, (kernel, x, flags) in items.items():
        if kernel.ind.above == "cap" and flags.any():
            counts[name] = (int(flags.sum()), float(np.nanmax(x[flags])), unit_text(kernel.ind.unit))
    return counts


# --------------------------------------------------------------------------- levels and standards


def aqi_level(aqi: Any) -> np.ndarray:
    """Level 1–6 of AQI values (HJ 633 level table), as a float array with NaN for missing AQI.

    Examples
    --------
    >>> aqi_level([0, 50, 51, 150, 151, 201, 301, 500])
    array([1., 1., 2., 3., 4., 5., 6., 6.])
    >>> float(aqi_level(201))
    5.0
    """
    a = np.asarray(aqi, dtype=float)
    level = np.searchsorted(_LEVEL_EDGES, a, side="left") + 1.0
    return np.where(np.isnan(a), np.nan, level)


def standard_for_date(date: Any) -> Any:
    """The AQI standard that applies on a date: HJ 633-2012 before 2026-03-01, HJ 633-2026 from then.

    Parameters
    ----------
    date : date-like scalar or array-like of dates
        Day (or time: the date of a time) in Beijing time.

    Returns
    -------
    Standard or numpy array of Standard values (object dtype) for array input.

    Raises
    ------
    ValueError
        A missing or unparseable date.
    """
    if np.ndim(date) == 0 and not isinstance(date, pd.Series | pd.Index | np.ndarray):
        ts = pd.Timestamp(date)
        if pd.isna(ts):
            raise InputError(f"standard_for_date: no date given ({date!r})")
        return Standard.HJ633_2012 if ts.date() < SWITCH_DATE else Standard.HJ633_2026
    is2026 = _is_2026(pd.Series(np.asarray(date)), "standard_for_date")
    return np.where(is2026, Standard.HJ633_2026, Standard.HJ633_2012).astype(object)


def _is_2026(dates: pd.Series, where: str) -> np.ndarray:
    """Boolean array: the row's date is on or after 2026-03-01."""
    if isinstance(dates.dtype, pd.DatetimeTZDtype):
        dates = dates.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
    if dates.dtype.kind != "M":
        try:
            dates = pd.to_datetime(dates, errors="raise", format="mixed")
        except (ValueError, TypeError) as exc:
            parsed = pd.to_datetime(dates, errors="coerce", format="mixed")
            bad = np.flatnonzero(parsed.isna().to_numpy() & dates.notna().to_numpy())
            row = dates.index[bad[0]] if len(bad) else "?"
            got = dates.iloc[bad[0]] if len(bad) else exc
            raise InputError(f"{where}: row {row}, column 'date': expected a date, got {got!r}") from None
    values = dates.to_numpy()
    missing = np.isnat(values)
    if missing.any():
        row = dates.index[np.flatnonzero(missing)[0]]
        raise InputError(f"{where}: row {row}, column 'date': no date, but standard='auto' picks the standard "
                         f"by date; give the date or an explicit standard")
    return values >= _SWITCH64


# --------------------------------------------------------------------------- reports

_NAMES = AQI_POLLUTANTS
_BIT = {name: np.uint8(1 << i) for i, name in enumerate(_NAMES)}
_COMBO_TEXT = np.array(
    [",".join(n for i, n in enumerate(_NAMES) if code >> i & 1) for code in range(1 << len(_NAMES))],
    dtype=object,
)
_DAILY = {
    Standard.HJ633_2012: {"pm25": "pm25_24h", "pm10": "pm10_24h", "so2": "so2_24h", "no2": "no2_24h",
                          "co": "co_24h", "o3_8h": "o3_8h", "o3_1h": "o3_1h"},
    Standard.HJ633_2026: {"pm25": "pm25_24h", "pm10": "pm10_24h", "so2": "so2_24h", "no2": "no2_24h",
                          "co": "co_24h", "o3_8h": "o3_8h"},
}
#: Output columns :func:`daily_aqi` adds (an input column of the same name is kept as ``<name>_input``).
DAILY_OUTPUT_COLUMNS = ("aqi", "aqi_published", "level", "category", "primary_pollutant",
                        "exceedance_pollutants", "standard", "above_table")


_NA_CODE = np.uint8(1 << len(_NAMES))  # code of a missing combination


def _combo_categorical(codes: np.ndarray) -> pd.Categorical:
    """Categorical of comma-joined pollutant names from bit codes (``_NA_CODE``: missing)."""
    used = np.flatnonzero(np.bincount(codes, minlength=len(_COMBO_TEXT) + 1)[: len(_COMBO_TEXT)])
    remap = np.full(len(_COMBO_TEXT) + 1, -1, dtype=np.int8)
    remap[used] = np.arange(len(used), dtype=np.int8)
    return pd.Categorical.from_codes(remap.take(codes), categories=pd.Index(list(_COMBO_TEXT[used]), dtype=object),
                                     validate=False)


# Category code (level - 1) of each whole AQI 0..500, and -1 for NaN: index = AQI + 1, NaN -> 0.
_CAT_LUT = np.concatenate([[-1], np.searchsorted(_LEVEL_EDGES, np.arange(501.0), side="left"),
                           [len(_LEVEL_EDGES)]]).astype(np.int8)


def _category_codes(aqi: np.ndarray) -> np.ndarray:
    """``level - 1`` (int8) of whole AQI values, -1 where NaN."""
    with np.errstate(invalid="ignore"):
        i = np.fmax(aqi, -1.0)  # NaN -> -1
        np.minimum(i, 500.0, out=i)
        i += 1.0
    return _CAT_LUT.take(i.astype(np.intp))


class _Rows:
    """Row-wise standards of a report: one standard for all rows, or a 2012/2026 split."""

    def __init__(self, n: int, standard: str | Standard, dates: pd.Series | None, where: str):
        self.n = n
        if str(standard) == "auto":
            if dates is None:
                raise UnknownNameError(f"{where}: standard='auto' picks the standard by date but the input has no "
                               f"date column; give one or an explicit standard {[s.value for s in Standard]}")
            self.is2026 = _is_2026(dates, where)
        else:
            self.is2026 = np.full(n, Standard.parse(standard) is Standard.HJ633_2026)
        n2026 = int(self.is2026.sum())
        self.present = [s for s, k in ((Standard.HJ633_2012, n - n2026), (Standard.HJ633_2026, n2026)) if k]
        self.mixed = len(self.present) == 2

    def mask(self, std: Standard) -> np.ndarray | slice:
        """Selects the rows of ``std`` (all rows when not mixed)."""
        return self.mask_array(std) if self.mixed else slice(None)

    def mask_array(self, std: Standard) -> np.ndarray:
        """Boolean array of the rows of ``std``."""
        return self.is2026 if std is Standard.HJ633_2026 else ~self.is2026


def _evaluate(
    n: int,
    rows: _Rows,
    plan: Mapping[str, Mapping[Standard, np.ndarray | None]],
    ind_names: Mapping[Standard, Mapping[str, str]],
    above_mode: AboveMode,
    where: str,
) -> tuple[dict[str, np.ndarray], np.ndarray, dict]:
    """IAQI per pollutant over all rows: ``plan[pollutant][std]`` is the concentration array.

    With both standards present, each row is looked up in the joint table of its pollutant's two
    indicators (one pass, whatever the order of the rows).
    """
    iaqis: dict[str, np.ndarray] = {}
    capped = np.zeros(n, dtype=bool)
    counts: dict = {}
    for pollutant, by_std in plan.items():
        jobs: dict[Standard, tuple[_Kernel, np.ndarray]] = {}
        for std in rows.present:
            x, name = by_std.get(std), ind_names[std].get(pollutant)
            if x is not None and name is not None:
                jobs[std] = (_KERNELS[(std, name)], x)
        out = np.empty(n)
        above = np.zeros(n, dtype=bool)
        if not rows.mixed:
            job = jobs.get(rows.present[0]) if rows.present else None
            if job:
                job[0].score(job[1], out, above)
            else:
                out.fill(np.nan)
        else:
            k12, k26 = jobs.get(Standard.HJ633_2012), jobs.get(Standard.HJ633_2026)
            if k12 is None and k26 is None:
                out.fill(np.nan)
            else:
                x12 = k12[1] if k12 else None
                x26 = k26[1] if k26 else None
                x = x12 if x26 is None or x12 is x26 else (x26 if x12 is None else np.where(rows.is2026, x26, x12))
                lut = _lut_set((k12[0] if k12 else None, k26[0] if k26 else None))
                lut.score(np.ascontiguousarray(x), rows.is2026.view(np.int8), out, above)
        for std, (kernel, x) in jobs.items():
            if kernel.ind.above != "cap":
                continue
            flags = above & rows.mask_array(std) if rows.mixed else above
            if flags.any():
                capped |= flags
                counts.update(_count_above({f"{kernel.ind.name} ({std.value})": (kernel, x, flags)}))
        iaqis[pollutant] = out
    _report_above(counts, above_mode, where)
    return iaqis, capped, counts


def _assemble(
    df: pd.DataFrame,
    rows: _Rows,
    iaqis: Mapping[str, np.ndarray],
    capped: np.ndarray,
    complete_set: Mapping[Standard, Sequence[str]],
    where: str,
    reported_only: Sequence[str] = (),
) -> pd.DataFrame:
    """AQI, level, category, primary/exceedance pollutants, standard; appended to ``df``.

    ``reported_only``: pollutants whose IAQI column is kept but which take no part in the AQI, the
    primary and the exceedance pollutants (the O3 8 h of the published real-time AQI).
    """
    n = rows.n
    names = [p for p in iaqis if p not in reported_only]
    with np.errstate(invalid="ignore"):
        aqi = iaqis[names[0]].copy()
        for p in names[1:]:
            np.fmax(aqi, iaqis[p], out=aqi)
        nan_aqi = np.isnan(aqi)
        primary = np.zeros(n, dtype=np.uint8)
        exceed = np.zeros(n, dtype=np.uint8)
        tmp = np.empty(n, dtype=bool)
        for p in names:
            np.equal(iaqis[p], aqi, out=tmp)
            primary |= tmp.view(np.uint8) * _BIT[p]
            np.greater(iaqis[p], 100.0, out=tmp)
            exceed |= tmp.view(np.uint8) * _BIT[p]
        np.less_equal(aqi, 50.0, out=tmp)
        primary[tmp] = 0
        primary[nan_aqi] = _NA_CODE
        exceed[nan_aqi | rows.is2026] = _NA_CODE
        # HJ 633-2026 §5.3: a pollutant missing -> AQI from the rest, published only when > 100.
        published = aqi
        if Standard.HJ633_2026 in rows.present:
            incomplete = np.zeros(n, dtype=bool)
            for p in complete_set[Standard.HJ633_2026]:
                incomplete |= np.isnan(iaqis[p]) if p in iaqis else True
            hide = incomplete & ~(aqi > 100)
            if rows.mixed:
                hide &= rows.is2026
            if hide.any():
                published = aqi.copy()
                published[hide] = np.nan
    codes = _category_codes(aqi)
    new: dict[str, Any] = {f"iaqi_{p}": v for p, v in iaqis.items()}
    new["aqi"] = aqi
    new["aqi_published"] = published
    new["level"] = pd.arrays.IntegerArray(codes + np.int8(1), nan_aqi)
    new["category"] = pd.Categorical.from_codes(codes, categories=pd.Index(CATEGORIES, dtype=object),
                                                ordered=True, validate=False)
    new["primary_pollutant"] = _combo_categorical(primary)
    new["exceedance_pollutants"] = _combo_categorical(exceed)
    new["standard"] = pd.Categorical.from_codes(rows.is2026.view(np.int8),
                                                categories=pd.Index([s.value for s in Standard], dtype=object),
                                                validate=False)
    new["above_table"] = capped
    clash = [c for c in new if c in df.columns]
    if clash:
        df = df.rename(columns={c: f"{c}_input" for c in clash})
        df = df.loc[:, ~df.columns.duplicated(keep="last")]
    return pd.concat([df, pd.DataFrame(new, index=df.index, copy=False)], axis=1)


def _column(df: pd.DataFrame, name: str, where: str) -> np.ndarray:
    s = df[name]
    if s.dtype.kind not in "biuf" and not (isinstance(s.dtype, pd.api.extensions.ExtensionDtype)
                                           and s.dtype.kind in "biuf"):
        coerced = pd.to_numeric(s, errors="coerce")
        bad = np.flatnonzero(coerced.isna().to_numpy() & s.notna().to_numpy())
        if len(bad):
            raise InputError(f"{where}: row {s.index[bad[0]]}, column {name!r}: expected a number "
                             f"[{_unit(name)}], got {s.iloc[bad[0]]!r}")
        s = coerced
    return np.ascontiguousarray(s.to_numpy(dtype=float, na_value=np.nan))


def _unit(name: str) -> str:
    return unit_of(name).text


def daily_aqi(
    df: pd.DataFrame,
    standard: str | Standard = "auto",
    *,
    above: AboveMode = "warn",
) -> pd.DataFrame:
    """Daily AQI report (日报) of each row: IAQIs, AQI, level, category, primary pollutant.

    Parameters
    ----------
    df : DataFrame
        One row per place and day with columns ``pm25 pm10 so2 no2 co o3_8h`` (daily means; ``o3_8h``
        the daily maximum 8 h moving mean) [µg/m³; CO mg/m³], optional ``o3_1h`` (daily maximum 1 h
        mean), and ``date`` (needed for ``standard="auto"``). Other columns (``city`` …) pass through.
    standard : {"auto", "HJ633-2012", "HJ633-2026"}
        ``auto``: per row, HJ 633-2012 before 2026-03-01 and HJ 633-2026 from that day.
    above : {"warn", "ignore", "raise"}
        Values above the top of a table are scored 500 and marked in ``above_table``; by default an
        :class:`airwarn.core.errors.AirwarnWarning` says how many.

    Returns
    -------
    DataFrame
        The input rows (same index and columns) plus:

        ======================  ===================================================================
        ``iaqi_<pollutant>``    IAQI of ``pm25 pm10 so2 no2 co o3_8h`` (+ ``o3_1h`` if given; NaN
                                in HJ 633-2026 rows, whose daily report does not score O3 1 h)
        ``aqi``                 max of the available IAQIs (NaN when none)
        ``aqi_published``       the AQI as published: under HJ 633-2026 §5.3, when a pollutant is
                                missing the AQI of the rest is published only if > 100 (else NaN);
                                HJ 633-2012 has no such rule (= ``aqi``)
        ``level``               1–6 (nullable Int8), from ``aqi``
        ``category``            优 … 严重污染 (ordered categorical)
        ``primary_pollutant``   pollutants whose IAQI equals the AQI, comma-joined in the order
                                pm25,pm10,so2,no2,co,o3_8h,o3_1h; ``""`` when AQI ≤ 50 (categorical)
        ``exceedance_pollutants``  HJ 633-2012 rows: pollutants with IAQI > 100 (``""`` if none);
                                NA in HJ 633-2026 rows (definition deleted)
        ``standard``            ``HJ633-2012`` or ``HJ633-2026`` (categorical)
        ``above_table``         True if some value was above its table and scored 500
        ======================  ===================================================================

        An input column named like one of these is kept, renamed ``<name>_input`` (so the published
        ``aqi`` of a city daily file becomes ``aqi_input``).

    Raises
    ------
    KeyError
        A required column is missing (the message lists them) or the standard is unknown.
    ValueError
        A non-numeric concentration or a missing date under ``auto`` (message names row and column).

    Notes
    -----
    Under HJ 633-2012 an O3 8 h value above 800 µg/m³ gets no IAQI; O3 is then scored by ``o3_1h``
    (a warning says so when that is missing too). HJ 633-2026 sets it to 300. Level, category and
    primary pollutant follow ``aqi``; publish ``aqi_published``.

    Examples
    --------
    >>> df = pd.DataFrame({"date": ["2026-02-28", "2026-03-01"], "pm25": [70, 70], "pm10": [90, 90],
    ...                    "so2": [10, 10], "no2": [30, 30], "co": [0.8, 0.8], "o3_8h": [60, 60]})
    >>> daily_aqi(df)[["aqi", "category", "primary_pollutant", "standard"]]
         aqi category primary_pollutant    standard
    0   94.0        良              pm25  HJ633-2012
    1  110.0     轻度污染              pm25  HJ633-2026
    """
    where = "daily_aqi"
    required = list(DAILY_POLLUTANTS)
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise InputError(f"{where}: input lacks column(s) {missing}; expected {required} (+ optional 'o3_1h', "
                       f"'date'); give unmeasured pollutants as NaN; got columns {list(df.columns)}")
    rows = _Rows(len(df), standard, df["date"] if "date" in df.columns else None, where)
    names = required + (["o3_1h"] if "o3_1h" in df.columns else [])
    values = {p: _column(df, p, where) for p in names}
    plan = {p: {std: values[p] for std in rows.present} for p in names}
    iaqis, capped, _ = _evaluate(len(df), rows, plan, _DAILY, above, where)
    if Standard.HJ633_2012 in rows.present:
        m = rows.mask(Standard.HJ633_2012)
        o3 = values["o3_8h"][m]
        o3_1h = iaqis["o3_1h"][m] if "o3_1h" in iaqis else np.full(o3.shape, np.nan)
        unscored = int(np.sum((o3 > 800) & np.isnan(o3_1h)))
        if unscored:
            warnings.warn(f"{where}: {unscored} row(s) have O3 8 h > 800 {CONCENTRATION.text} under HJ 633-2012, "
                          f"which scores O3 by its 1 h value then, but have no o3_1h: O3 is left out of their AQI",
                          AirwarnWarning, stacklevel=2)
    return _assemble(df, rows, iaqis, capped, {Standard.HJ633_2026: required}, where)


_REALTIME = {
    Standard.HJ633_2012: {"so2": "so2_1h", "no2": "no2_1h", "co": "co_1h", "o3_1h": "o3_1h",
                          "o3_8h": "o3_8h", "pm10": "pm10_24h", "pm25": "pm25_24h"},
    Standard.HJ633_2026: {"so2": "so2_1h", "no2": "no2_1h", "co": "co_1h", "o3_1h": "o3_1h",
                          "pm10": "pm10_1h", "pm25": "pm25_1h"},
}


#: Conventions of the HJ 633-2012 real-time AQI: ``"published"`` (CNEMC's station values: the maximum
#: of the SO2, NO2, CO, O3 1 h and PM10/PM2.5 24 h IAQIs, the O3 8 h moving mean reported beside it
#: but not taken into the maximum) or ``"strict"`` (the text of HJ 633-2012: O3 8 h in the maximum).
REALTIME_CONVENTIONS: tuple[str, ...] = ("published", "strict")


def realtime_aqi(
    df: pd.DataFrame,
    standard: str | Standard = "auto",
    *,
    time: str = "time",
    above: AboveMode = "warn",
    convention: str = "published",
) -> pd.DataFrame:
    """Real-time hourly AQI report (实时报) of each row.

    Parameters
    ----------
    df : DataFrame
        One row per place and hour. 1 h means ``so2 no2 co pm10 pm25`` and ``o3`` (or ``o3_1h``)
        [µg/m³; CO mg/m³]. HJ 633-2012 rows also need the moving means ``o3_8h`` (8 h),
        ``pm10_24h`` and ``pm25_24h`` (24 h), and use ``so2_24h`` (24 h) when SO2 1 h > 800;
        :func:`forecast.aggregate.moving_averages` computes them.
    standard : {"auto", "HJ633-2012", "HJ633-2026"}
        ``auto`` picks per row by the date of ``time``.
    time : str
        Name of the time column (needed for ``auto``).
    above : {"warn", "ignore", "raise"}
        As in :func:`daily_aqi`.
    convention : {"published", "strict"}
        HJ 633-2012 rows only. ``"published"`` (default): the AQI as CNEMC publishes station
        real-time values, the maximum of the SO2, NO2, CO, O3 1 h and PM10/PM2.5 24 h IAQIs; the O3
        8 h IAQI stays in ``iaqi_o3_8h`` but is neither in ``aqi`` nor a primary pollutant.
        ``"strict"``: the O3 8 h moving mean is one of the indicators of the maximum (the standard's
        list of nine real-time indicators read literally). HJ 633-2026 rows have no O3 8 h either way.

    Returns
    -------
    DataFrame
        The input rows plus the columns of :func:`daily_aqi`. ``iaqi_so2 iaqi_no2 iaqi_co iaqi_o3_1h``
        score the 1 h values; ``iaqi_pm10 iaqi_pm25`` the 24 h moving means (2012) or the 1 h values on
        the daily breakpoints (2026); ``iaqi_o3_8h`` the 8 h moving mean (2012 only). The 2012 SO2 1 h
        > 800 rule uses the IAQI of ``so2_24h``; HJ 633-2026 sets it to 200.

    Notes
    -----
    The published convention was checked against published station-hour values (standards notes
    §9): with O3 8 h left out every published value is reproduced, with it ozone afternoons differ.
    See docs/aqi.md.

    References
    ----------
    HJ 633-2012 (real-time report: 9 indicators; Table 1 notes 1–3); HJ 633-2026 (real-time report: the
    six 1 h values, PM on the daily breakpoints; Table 3 notes a–c).
    """
    where = "realtime_aqi"
    if convention not in REALTIME_CONVENTIONS:
        raise InputError(f"{where}: convention must be one of {list(REALTIME_CONVENTIONS)}, got {convention!r}")
    if "o3" in df.columns and "o3_1h" in df.columns:
        raise InputError(f"{where}: both 'o3' and 'o3_1h' given; pass the 1 h ozone once")
    o3col = "o3_1h" if "o3_1h" in df.columns else "o3"
    rows = _Rows(len(df), standard, df[time] if time in df.columns else None, where)
    need = {Standard.HJ633_2026: ["so2", "no2", "co", o3col, "pm10", "pm25"],
            Standard.HJ633_2012: ["so2", "no2", "co", o3col, "o3_8h", "pm10_24h", "pm25_24h"]}
    required: list[str] = []
    for std in rows.present:
        required += [c for c in need[std] if c not in required]
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise InputError(f"{where}: input lacks column(s) {missing} needed for {[s.value for s in rows.present]}; "
                       f"got columns {list(df.columns)} (HJ 633-2012 moving means come from "
                       f"forecast.aggregate.moving_averages)")
    col = {c: _column(df, c, where) for c in required}
    s12, s26 = Standard.HJ633_2012, Standard.HJ633_2026
    plan: dict[str, dict[Standard, np.ndarray | None]] = {
        "pm25": {s12: col.get("pm25_24h"), s26: col.get("pm25")},
        "pm10": {s12: col.get("pm10_24h"), s26: col.get("pm10")},
        "so2": {s12: col["so2"], s26: col["so2"]},
        "no2": {s12: col["no2"], s26: col["no2"]},
        "co": {s12: col["co"], s26: col["co"]},
        "o3_8h": {s12: col.get("o3_8h")},
        "o3_1h": {s12: col[o3col], s26: col[o3col]},
    }
    iaqis, capped, _ = _evaluate(len(df), rows, plan, _REALTIME, above, where)
    if s12 in rows.present:
        m = rows.mask(s12)
        so2 = col["so2"][m]
        deferred = np.isnan(iaqis["so2"][m]) & (so2 > 800)
        if deferred.any():
            rows_2012 = np.flatnonzero(m) if rows.mixed else np.arange(rows.n)
            sel = rows_2012[deferred]
            if "so2_24h" in df.columns:
                iaqis["so2"][sel] = iaqi("so2_24h", _column(df, "so2_24h", where)[sel], s12, above=above)
            else:
                warnings.warn(f"{where}: {len(sel)} row(s) have SO2 1 h > 800 {CONCENTRATION.text} under "
                              f"HJ 633-2012, which scores SO2 by its 24 h mean then, but there is no so2_24h "
                              f"column: SO2 is left out of their AQI", AirwarnWarning, stacklevel=2)
    return _assemble(df, rows, iaqis, capped,
                     {s26: ["so2", "no2", "co", "o3_1h", "pm10", "pm25"]}, where,
                     reported_only=("o3_8h",) if convention == "published" else ())


def aqi_from_concentrations(
    standard: str | Standard,
    /,
    *,
    above: AboveMode = "ignore",
    **concentrations: Any,
) -> Any:
    """Daily AQI only, from arrays of daily concentrations of any (broadcastable) shape.

    Meant for the forecast model's quantiles and scenarios; no primary pollutant, no strings.

    Parameters
    ----------
    standard : {"HJ633-2012", "HJ633-2026"}
        The regulation (see :func:`standard_for_date`).
    above : {"ignore", "warn", "raise"}
        Values above a table's top are scored 500; by default silently.
    **concentrations : array-like or xarray.DataArray
        Any of ``pm25 pm10 so2 no2 co o3_8h`` (+ ``o3_1h`` under HJ 633-2012) [µg/m³; CO mg/m³].
        Pollutants not given are not scored.

    Returns
    -------
    numpy.ndarray (or xarray.DataArray when any input is one)
        The AQI, max of the IAQIs, NaN where every pollutant is missing.

    Raises
    ------
    KeyError
        An unknown pollutant name (the message lists the valid ones) or no pollutant at all.

    Examples
    --------
    >>> aqi_from_concentrations("HJ633-2026", pm25=[59, 61, 151], o3_8h=[100, 100, 100])
    array([ 98., 101., 201.])
    """
    std = Standard.parse(standard)
    valid = list(_DAILY[std])
    unknown = [p for p in concentrations if p not in valid]
    if unknown or not concentrations:
        raise UnknownNameError(f"aqi_from_concentrations: unknown or no pollutant(s) {unknown}; valid names under "
                       f"{std.value} are {valid}")
    if any(type(v).__module__.startswith("xarray") for v in concentrations.values()):
        import xarray as xr

        names = list(concentrations)
        arrays = [v if isinstance(v, xr.DataArray) else xr.DataArray(np.asarray(v, dtype=float))
                  for v in concentrations.values()]
        result = xr.apply_ufunc(
            lambda *blocks: aqi_from_concentrations(std, above=above, **dict(zip(names, blocks))),
            *arrays, dask="parallelized", output_dtypes=[float],
        )
        result.name = "aqi"
        result.attrs = {"long_name": "air quality index", "units": "1", "standard": std.value}
        return result
    arrays = np.broadcast_arrays(*[np.asarray(v, dtype=float) for v in concentrations.values()])
    shape = arrays[0].shape
    aqi = np.full(int(np.prod(shape)), np.nan)
    counts: dict = {}
    o3_8h_deferred = None
    for name, arr in zip(concentrations, arrays):
        kernel = _KERNELS[(std, _DAILY[std][name])]
        x = np.ascontiguousarray(arr.ravel())
        values, flags = _score(kernel, x)
        counts.update(_count_above({name: (kernel, x, flags)}))
        np.fmax(aqi, values, out=aqi)
        if name == "o3_8h" and kernel.ind.above == "defer":
            o3_8h_deferred = flags
    if o3_8h_deferred is not None and o3_8h_deferred.any() and "o3_1h" not in concentrations:
        warnings.warn(f"aqi_from_concentrations: O3 8 h > 800 {CONCENTRATION.text} under HJ 633-2012 is scored "
                      "by O3 1 h, which was not given: O3 is left out there", AirwarnWarning, stacklevel=2)
    _report_above(counts, above, "aqi_from_concentrations")
    return aqi.reshape(shape)


def primary_pollutants(
    concentrations: Mapping[str, Any],
    dates: Any = None,
    standard: str | Standard = "auto",
) -> np.ndarray:
    """Primary pollutant(s) of daily concentrations: the pollutant(s) with the largest IAQI.

    Meant for forecasts: the model's median pollutant quantiles give the primary pollutant of each
    forecast day (the one the median AQI comes from).

    Parameters
    ----------
    concentrations : mapping pollutant → array-like
        Any of ``pm25 pm10 so2 no2 co o3_8h`` (daily values, same shape) [µg/m³; CO mg/m³]; pollutants
        not given are not scored.
    dates : array-like of dates, optional
        The day of each value (needed for ``standard="auto"``).
    standard : {"auto", "HJ633-2012", "HJ633-2026"}

    Returns
    -------
    ndarray of str, the shape of the inputs
        Comma-joined names in the order ``pm25,pm10,so2,no2,co,o3_8h`` (ties give several); ``""`` where
        the AQI is ≤ 50 (no primary pollutant) or nothing could be scored.

    Examples
    --------
    >>> primary_pollutants({"pm25": [160, 30], "o3_8h": [100, 300]}, standard="HJ633-2026")
    array(['pm25', 'o3_8h'], dtype=object)
    """
    required = list(DAILY_POLLUTANTS)
    unknown = [p for p in concentrations if p not in required]
    if unknown or not concentrations:
        raise UnknownNameError(f"primary_pollutants: unknown or no pollutant(s) {unknown}; valid names are {required}")
    arrays = np.broadcast_arrays(*[np.asarray(v, dtype=float) for v in concentrations.values()])
    shape = arrays[0].shape
    frame = pd.DataFrame({p: np.full(arrays[0].size, np.nan) for p in required})
    for name, arr in zip(concentrations, arrays):
        frame[name] = arr.ravel()
    if dates is not None:
        frame["date"] = pd.to_datetime(np.broadcast_to(np.asarray(dates), shape).ravel())
    if frame.empty:
        return np.zeros(shape, dtype=object)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AirwarnWarning)
        report = daily_aqi(frame, standard, above="ignore")
    names = report["primary_pollutant"].astype(object).where(report["primary_pollutant"].notna(), "")
    return names.to_numpy(dtype=object).reshape(shape)
