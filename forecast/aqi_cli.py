"""``airwarn aqi``: the daily AQI report of a CSV of daily concentrations.

Input: a UTF-8 CSV (a BOM is fine) with a header holding ``pm25 pm10 so2 no2 co o3_8h`` [µg/m³; CO mg/m³],
optional ``o3_1h``, and ``date`` (YYYY-MM-DD; needed by ``--standard auto``). Header names are matched
case-insensitively, ignoring spaces, dots and dashes (``PM2.5``, ``O3-8h``). A column ``o3`` is read as
``o3_8h`` only when the file has neither ``o3_8h`` nor ``o3_1h`` (as in the aqistudy city daily layout,
whose ``o3`` is the daily maximum 8 h mean); the command says so on stderr. Empty cells, ``NA``, ``/`` and
``-`` are missing values. Other columns pass through. A value that is not a number, negative, not finite
or beyond the plausible range of :data:`forecast.io.PLAUSIBLE_RANGES` is refused, and so is a last line
cut short (no newline at its end and fields missing or a number cut, :func:`forecast.io.check_last_line`):
the message names the file, the line, the column and the value.

Output: the input rows with the columns of :func:`forecast.aqi.daily_aqi` (IAQIs and AQI as whole
numbers), written atomically (a temporary file, then renamed).
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import warnings
from pathlib import Path

from airwarn.core.files import atomic_path
from airwarn.core.errors import InputError
from airwarn.core.units import CO_UNIT, CONCENTRATION, unit_of
from airwarn.core.vocab import AQI_POLLUTANTS, DAILY_POLLUTANTS, HJ633_2026_FROM

#: Cells read as missing values.
MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "/", "-", "—", "null", "none"})
_NUMERIC = AQI_POLLUTANTS


def _canonical(name: str) -> str:
    key = re.sub(r"[\s.\-]", "", str(name).strip().lower())
    return {"pm25": "pm25", "pm10": "pm10", "so2": "so2", "no2": "no2", "co": "co", "o38h": "o3_8h",
            "o3_8h": "o3_8h", "o31h": "o3_1h", "o3_1h": "o3_1h", "o3": "o3", "date": "date"}.get(key, str(name))


def read_daily_csv(path: str | os.PathLike, *, notes: list[str] | None = None):
    """Read and check a CSV of daily concentrations for :func:`forecast.aqi.daily_aqi`.

    Parameters
    ----------
    path : path-like
        The CSV file (layout in the module docstring).
    notes : list, optional
        Receives human-readable notes on how columns were read.

    Returns
    -------
    DataFrame
        Glossary column names; concentrations as float (NaN where missing), ``date`` as datetime64.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        A bad cell: the message names the file, the line (header = line 1), the column, what was
        expected and what came; a last line cut short; an empty or unreadable file.
    """
    import numpy as np
    import pandas as pd

    from forecast.io import PLAUSIBLE_RANGES, check_last_line

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    check_last_line(path)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", skip_blank_lines=False)
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: expected UTF-8 text, got undecodable bytes ({exc.reason})") from None
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: the file is empty; expected a CSV header line") from None
    except pd.errors.ParserError as exc:
        raise InputError(f"{path}: not a readable CSV: {' '.join(str(exc).split())}") from None
    # blank lines keep their place, so that index + 2 is the file's line number
    raw = raw.loc[~raw.apply(lambda c: c.str.strip().eq("")).all(axis=1)]
    renamed = {c: _canonical(c) for c in raw.columns}
    names = list(renamed.values())
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputError(f"{path}: line 1: column(s) {dupes} appear more than once (after matching names "
                         f"like 'PM2.5' to 'pm25'); expected each once")
    df = raw.rename(columns=renamed)
    if "o3" in df.columns:
        if "o3_8h" in df.columns or "o3_1h" in df.columns:
            if notes is not None:
                notes.append("column 'o3' left as it is (the file has o3_8h/o3_1h)")
        else:
            df = df.rename(columns={"o3": "o3_8h"})
            if notes is not None:
                notes.append("column 'o3' read as o3_8h (daily maximum 8 h mean, as in the city daily layout)")
    for col in _NUMERIC:
        if col not in df.columns:
            continue
        text = df[col].str.strip()
        missing = text.str.lower().isin(MISSING_TOKENS).to_numpy()
        values = pd.to_numeric(text.where(~missing), errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(~missing & (np.isnan(values) | ~np.isfinite(values)))
        unit = unit_of(col).text
        if bad.size:
            i = bad[0]
            raise InputError(f"{path}: line {df.index[i] + 2}, column {col!r}: expected a number [{unit}] or an "
                             f"empty cell, got {df[col].iloc[i]!r}")
        neg = np.flatnonzero(values < 0)
        if neg.size:
            i = neg[0]
            raise InputError(f"{path}: line {df.index[i] + 2}, column {col!r}: expected a concentration >= 0 "
                             f"[{unit}] (leave missing values empty), got {df[col].iloc[i]!r}")
        high = PLAUSIBLE_RANGES[col][1]
        above = np.flatnonzero(values > high)
        if above.size:
            i = above[0]
            raise InputError(f"{path}: line {df.index[i] + 2}, column {col!r}: expected a plausible daily "
                             f"concentration 0-{high:g} [{unit}], got {df[col].iloc[i]!r}")
        df[col] = values
    if "date" in df.columns:
        text = df["date"].str.strip()
        missing = text.str.lower().isin(MISSING_TOKENS).to_numpy()
        dates = pd.to_datetime(text.where(~missing), errors="coerce", format="ISO8601")
        bad = np.flatnonzero(~missing & dates.isna().to_numpy())
        if bad.size:
            i = bad[0]
            raise InputError(f"{path}: line {df.index[i] + 2}, column 'date': expected a date YYYY-MM-DD, got "
                             f"{df['date'].iloc[i]!r}")
        df["date"] = dates
    return df.reset_index(drop=True)


def _handler(args: argparse.Namespace, settings) -> int:
    from airwarn.core.errors import AirwarnWarning
    from forecast.aqi import daily_aqi

    notes: list[str] = []
    df = read_daily_csv(args.input, notes=notes)
    for note in notes:
        print(f"airwarn aqi: note: {note}", file=sys.stderr)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", AirwarnWarning)
            out = daily_aqi(df, args.standard, above=args.above)
    except (KeyError, ValueError) as exc:
        message = exc.args[0] if exc.args else exc
        raise type(exc)(f"{args.input}: {message}") from None
    for w in caught:
        print(f"airwarn aqi: warning: {w.message}", file=sys.stderr)
    whole = [c for c in out.columns if c.startswith("iaqi_") or c in ("aqi", "aqi_published")]
    out = out.astype({c: "Int64" for c in whole})
    if "date" in out.columns:
        out["date"] = out["date"].dt.strftime("%Y-%m-%d")
    with atomic_path(args.out) as tmp:
        out.to_csv(tmp, index=False, encoding="utf-8")
    counts = out["category"].value_counts(sort=False)
    summary = ", ".join(f"{k} {v}" for k, v in counts.items() if v)
    standards = ", ".join(sorted(out["standard"].astype(str).unique()))
    print(f"wrote {len(out)} rows to {args.out} ({standards}; {summary or 'no AQI'})")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``airwarn aqi`` to the ``airwarn`` parser."""
    p = subparsers.add_parser(
        "aqi", help="daily AQI report of a CSV of daily concentrations (HJ 633-2012 / HJ 633-2026)",
        description="Compute IAQIs, AQI, level, category and primary pollutant for each row of IN.csv "
        f"(columns date, {', '.join(DAILY_POLLUTANTS)} [{CONCENTRATION.text}; CO {CO_UNIT.text}], optional o3_1h).",
    )
    p.add_argument("input", metavar="IN.csv", help="CSV of daily concentrations")
    p.add_argument("--out", required=True, metavar="OUT.csv", help="output CSV (written atomically)")
    p.add_argument("--standard", default="auto", choices=["auto", "HJ633-2012", "HJ633-2026"],
                   help=f"auto: HJ633-2012 before {HJ633_2026_FROM}, HJ633-2026 from then (default)")
    p.add_argument("--above", default="warn", choices=["warn", "ignore", "raise"],
                   help="values above the top of an IAQI table are scored 500: warn (default), ignore, "
                   "or fail")
    p.set_defaults(func=_handler)
