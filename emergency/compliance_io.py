"""Readers of the compliance inputs: power use per production line and CEMS outlet data.

Power use (分表计电 platforms' export), CSV or xlsx::

    credit_code,line_id,time,kw[,meter_kind][,synthetic]
    91140300MA0XXXXXX1,L01,2026-01-08 00:00,812.5,production

``line_id`` is the list's 生产线编号 (``production_line.line_code``); ``meter_kind`` is ``production``
(default when the column is absent or the cell empty), ``treatment`` (a pollution-treatment facility
of the line) or ``total`` (the line's whole supply, used when it has no production meter). Samples
are 15-min or hourly mean power [kW]. An optional ``synthetic`` column (true/false) marks made-up rows
(``airwarn compliance sample``); the frame keeps it, so a report made from them says so.

CEMS (online monitoring of outlets), CSV or xlsx, hourly::

    credit_code,outlet_id,time,so2_mg_m3,nox_mg_m3,pm_mg_m3,flow_m3_h[,line_id]

Concentrations [mg/m³] (the registry's ``mg/m3``), flow [m³/h]; an empty concentration cell is a
missing value (a pollutant the outlet does not measure). ``line_id`` maps the outlet to a line of the
list; without it an outlet of a plant with one checked line is taken as that line's.

Times are Beijing time: a naive time is Beijing time, an aware one (``+08:00``, ``Z``) is converted
to Beijing time; the frames hold naive Beijing times. Chinese headers are accepted (统一社会信用代码,
生产线编号, 时间, 功率, 表计类型, 排口编号, 二氧化硫, 氮氧化物, 颗粒物, 流量).

Every problem is a :class:`airwarn.core.errors.ReaderError` naming the file, the row (the header is
row 1), the column, what was expected and what was found; reading is vectorised (a file of three
million rows is read in seconds) and the first bad row of a column is reported.
"""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from airwarn.core.dates import BEIJING
from airwarn.core.errors import ReaderError
from airwarn.core.units import STACK_CONCENTRATION
from enterprise_list.xlsx_safety import check_xlsx

#: Meter kinds of the power file.
METER_KINDS: tuple[str, ...] = ("production", "treatment", "total")
POWER_COLUMNS: tuple[str, ...] = ("credit_code", "line_id", "time", "kw")
CEMS_COLUMNS: tuple[str, ...] = ("credit_code", "outlet_id", "time", "so2_mg_m3", "nox_mg_m3", "pm_mg_m3",
                                 "flow_m3_h")
#: CEMS concentration columns and their pollutant (the list's emission pollutants).
CEMS_POLLUTANTS: dict[str, str] = {"so2_mg_m3": "so2", "nox_mg_m3": "nox", "pm_mg_m3": "pm"}

_ALIASES = {
    "统一社会信用代码": "credit_code", "信用代码": "credit_code", "生产线编号": "line_id", "产线编号": "line_id",
    "时间": "time", "监测时间": "time", "datetime": "time", "timestamp": "time",
    "功率": "kw", "有功功率": "kw", "power_kw": "kw", "kw": "kw", "表计类型": "meter_kind", "电表类型": "meter_kind",
    "排口编号": "outlet_id", "排放口编号": "outlet_id", "二氧化硫": "so2_mg_m3", "氮氧化物": "nox_mg_m3",
    "颗粒物": "pm_mg_m3", "烟尘": "pm_mg_m3", "流量": "flow_m3_h", "废气流量": "flow_m3_h", "标干流量": "flow_m3_h",
}
_KIND_ALIASES = {"production": "production", "生产": "production", "生产设施": "production",
                 "treatment": "treatment", "治污": "treatment", "治污设施": "treatment", "环保设施": "treatment",
                 "total": "total", "总表": "total", "总": "total"}


def _read_raw(path: Path, what: str, id_columns: Sequence[str]) -> pd.DataFrame:
    if not path.exists():
        raise FileNotFoundError(f"{what} file not found: {path}")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        check_xlsx(path)
        raw = pd.read_excel(path, dtype=object, engine="calamine")
    elif suffix in (".csv", ".txt"):
        try:
            raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        except pd.errors.EmptyDataError:
            raise ReaderError(str(path), "empty file; expected a header row") from None
    else:
        raise ReaderError(str(path), expected="a .csv or .xlsx file", got=path.suffix)
    rename = {}
    for col in raw.columns:
        key = str(col).strip().split("(")[0].split("(")[0].strip()
        rename[col] = _ALIASES.get(key, _ALIASES.get(key.lower(), key.lower()))
    return raw.rename(columns=rename)


def _need(df: pd.DataFrame, path: Path, columns: Sequence[str], optional: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ReaderError(str(path), f"missing column(s) {missing}; expected columns {list(columns)}"
                          f"{optional}; found {list(df.columns)}")


def _stripped(col: pd.Series) -> pd.Series:
    """The column as stripped text ('' for a missing cell), stripping each distinct value once (an export
    repeats a few codes over millions of rows)."""
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    text = np.array([str(v).strip() for v in uniques] + [""], dtype=object)
    return pd.Series(text[codes], index=col.index, dtype=object)


def _text(df: pd.DataFrame, path: Path, column: str, required: bool = True) -> pd.Series:
    s = _stripped(df[column])
    if required:
        bad = np.flatnonzero(s.eq("").to_numpy())
        if len(bad):
            raise ReaderError(str(path), row=int(bad[0]) + 2, column=column, expected="a non-empty value", got="")
    return s


def _number(df: pd.DataFrame, path: Path, column: str, unit: str, missing_ok: bool = False) -> np.ndarray:
    raw = df[column]
    vals = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, copy=True)
    empty = np.zeros(len(vals), dtype=bool)
    unparsed = np.flatnonzero(~np.isfinite(vals))  # only these can be empty cells
    if len(unparsed):
        cells = raw.iloc[unparsed]
        empty[unparsed] = (cells.isna().to_numpy()
                           | cells.astype(str).str.strip().isin(["", "nan", "NaN", "None"]).to_numpy())
    bad = ~np.isfinite(vals) & ~(empty & missing_ok)
    bad |= np.isfinite(vals) & (vals < 0)
    idx = np.flatnonzero(bad)
    if len(idx):
        i = int(idx[0])
        raise ReaderError(str(path), row=i + 2, column=column,
                          expected=f"a non-negative number [{unit}]" + (" or an empty cell" if missing_ok else ""),
                          got=raw.iloc[i])
    vals[empty] = np.nan
    return vals


def _times(df: pd.DataFrame, path: Path, column: str = "time") -> np.ndarray:
    """Naive Beijing times (datetime64[ns]) of a column; aware times are converted."""
    raw = df[column]
    if pd.api.types.is_datetime64_any_dtype(raw):
        ts = pd.to_datetime(raw)
    else:
        txt = _stripped(raw)
        try:
            ts = pd.to_datetime(txt, errors="coerce", format="ISO8601")
        except (ValueError, TypeError):  # mixed naive and aware times: one at a time
            ts = pd.Series([_one_time(v) for v in txt], index=txt.index)
            ts = pd.to_datetime(ts, errors="coerce")
        if getattr(ts.dt, "tz", None) is not None:
            ts = ts.dt.tz_convert(BEIJING).dt.tz_localize(None)
    bad = np.flatnonzero(ts.isna().to_numpy())
    if len(bad):
        i = int(bad[0])
        raise ReaderError(str(path), row=i + 2, column=column,
                          expected="a time such as 2026-01-10 08:15 (Beijing time)", got=raw.iloc[i])
    return ts.to_numpy(dtype="datetime64[ns]")


def _one_time(text: str):
    try:
        t = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if t.tzinfo is not None:
        t = t.astimezone(BEIJING).replace(tzinfo=None)
    return t


def _duplicates(df: pd.DataFrame, path: Path, keys: Sequence[str]) -> None:
    dup = df.duplicated(list(keys), keep=False).to_numpy()
    if dup.any():
        idx = np.flatnonzero(dup)
        first = df.iloc[idx[0]]
        same = idx[(df.iloc[idx][list(keys)] == first[list(keys)]).all(axis=1).to_numpy()]
        raise ReaderError(str(path), row=int(same[1]) + 2, column=keys[-1],
                          message=f"duplicate sample: {dict((k, str(first[k])) for k in keys)} also on row "
                                  f"{int(same[0]) + 2}; expected one value per {'/'.join(keys)}")


_TRUE = ("true", "1", "yes", "y", "是")
_FALSE = ("false", "0", "no", "n", "否", "")


def _flags(df: pd.DataFrame, path: Path, column: str) -> np.ndarray:
    """A yes/no column (true/false, 1/0, yes/no, 是/否; an empty cell is no) as bools."""
    text = df[column].astype(str).str.strip().str.lower().mask(df[column].isna(), "")
    yes, no = text.isin(_TRUE).to_numpy(), text.isin(_FALSE).to_numpy()
    bad = np.flatnonzero(~(yes | no))
    if len(bad):
        raise ReaderError(str(path), row=int(bad[0]) + 2, column=column, expected="true or false",
                          got=df[column].iloc[int(bad[0])])
    return yes


def _paths(paths) -> list[Path]:
    if isinstance(paths, (str, os.PathLike)):
        return [Path(paths)]
    return [Path(p) for p in paths]


def read_power(paths: "str | os.PathLike | Iterable[str | os.PathLike]") -> pd.DataFrame:
    """Read one or more power-use files (module notes) into one frame.

    Parameters
    ----------
    paths : path or iterable of paths
        CSV or xlsx files; their rows are concatenated.

    Returns
    -------
    DataFrame
        ``credit_code, line_id, meter_kind, time`` (naive Beijing, datetime64), ``kw`` (float), and
        ``synthetic`` (bool) when a file has that column (False for the rows of the other files),
        sorted by credit code, line, meter kind and time.

    Raises
    ------
    ReaderError
        A missing column, an empty identifier, a time that cannot be read, a negative or non-numeric
        power, an unknown meter kind or the same sample twice (naming file, row, column, expected, got).
    FileNotFoundError
        A file that does not exist.
    """
    frames = []
    for path in _paths(paths):
        df = _read_raw(path, "power-use", ("credit_code", "line_id"))
        _need(df, path, POWER_COLUMNS, " (+ optional 'meter_kind')")
        out = pd.DataFrame({"credit_code": _text(df, path, "credit_code"), "line_id": _text(df, path, "line_id")})
        if "meter_kind" in df.columns:
            kind = _text(df, path, "meter_kind", required=False)
            names = {k: "production" if k == "" else _KIND_ALIASES.get(k.lower(), _KIND_ALIASES.get(k))
                     for k in kind.unique()}
            mapped = kind.map(names)
            bad = np.flatnonzero(mapped.isna().to_numpy())
            if len(bad):
                raise ReaderError(str(path), row=int(bad[0]) + 2, column="meter_kind",
                                  expected=f"one of {list(METER_KINDS)}", got=kind.iloc[int(bad[0])])
            out["meter_kind"] = mapped
        else:
            out["meter_kind"] = "production"
        out["time"] = _times(df, path)
        out["kw"] = _number(df, path, "kw", "kW")
        if "synthetic" in df.columns:
            out["synthetic"] = _flags(df, path, "synthetic")
        _duplicates(out, path, ("credit_code", "line_id", "meter_kind", "time"))
        frames.append(out)
    if not frames:
        raise ReaderError("power-use", "no file given")
    res = pd.concat(frames, ignore_index=True)
    if "synthetic" in res.columns:  # rows of files without the column are not synthetic
        res["synthetic"] = res["synthetic"].astype("boolean").fillna(False).astype(bool)
    res["meter_kind"] = pd.Categorical(res["meter_kind"], categories=list(METER_KINDS))
    return res.sort_values(["credit_code", "line_id", "meter_kind", "time"], kind="stable").reset_index(drop=True)


def read_cems(paths: "str | os.PathLike | Iterable[str | os.PathLike]") -> pd.DataFrame:
    """Read one or more CEMS files (module notes) into one frame.

    Returns
    -------
    DataFrame
        ``credit_code, outlet_id, line_id`` ('' when not given), ``time`` (naive Beijing),
        ``so2_mg_m3, nox_mg_m3, pm_mg_m3`` (NaN where empty), ``flow_m3_h``.

    Raises
    ------
    ReaderError
        As :func:`read_power` (a concentration may be empty; the flow may not).
    """
    frames = []
    for path in _paths(paths):
        df = _read_raw(path, "CEMS", ("credit_code", "outlet_id", "line_id"))
        _need(df, path, CEMS_COLUMNS, " (+ optional 'line_id')")
        out = pd.DataFrame({"credit_code": _text(df, path, "credit_code"),
                            "outlet_id": _text(df, path, "outlet_id")})
        out["line_id"] = _text(df, path, "line_id", required=False) if "line_id" in df.columns else ""
        out["time"] = _times(df, path)
        for c in CEMS_POLLUTANTS:
            out[c] = _number(df, path, c, STACK_CONCENTRATION.text, missing_ok=True)
        out["flow_m3_h"] = _number(df, path, "flow_m3_h", "m³/h")
        _duplicates(out, path, ("credit_code", "outlet_id", "time"))
        frames.append(out)
    if not frames:
        raise ReaderError("CEMS", "no file given")
    res = pd.concat(frames, ignore_index=True)
    return res.sort_values(["credit_code", "outlet_id", "time"], kind="stable").reset_index(drop=True)
