"""Readers of the observation formats airwarn receives.

Every reader returns a tidy :class:`pandas.DataFrame` whose columns carry the
glossary names and units of :mod:`airwarn.core.vocab` (µg/m³, CO in mg/m³). Each
maps its source's column names through a ``VARIABLE_MAP`` (as
``pvlib.iotools`` does), so drifting headers (``PM2.5``/``pm2.5``/``pm25``)
land on one name. Verbs follow ``pvlib.iotools``: ``read_*`` opens a path,
``parse_*`` takes an open text buffer.

A malformed file raises :class:`ReaderError` (a :class:`ValueError`) naming the
file, the 1-based line number as it appears in the file, the column, what was
expected and what came: undecodable text, a damaged gzip stream, an unreadable
value, a last line cut short (:func:`check_last_line`), two rows for one
station/city and hour/day with different values. Values that parse but are
implausible (negative, not finite, or beyond :data:`PLAUSIBLE_RANGES`) are set
to NaN and reported in one :class:`ReaderWarning` per call naming the file, the
first rows, columns and values; the counts are kept in ``df.attrs["qc"]`` and
the rows (file, row, column, value, problem, city/station, day) in
``df.attrs["qc_rows"]`` (:data:`MAX_QC_ROWS` at most). :func:`qc_notes` turns
them into the sentences of a forecast's data-quality section.

Gridded NWP / reanalysis fields are read by :mod:`forecast.nwp`.
"""

from __future__ import annotations

import csv
import gzip
import os
import re
import warnings
import zlib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Literal

import numpy as np
import pandas as pd

from airwarn.core.vocab import DAILY_POLLUTANTS
from airwarn.core.errors import ReaderError, _as_file_text  # noqa: F401 (ReaderError is part of this module's face)
from airwarn.core.errors import InputError, UnknownNameError

__all__ = [
    "CHINA_SITES_TYPE_MAP",
    "CITY_ALIASES",
    "CITY_DAILY_VARIABLE_MAP",
    "CNEMC_HOURLY_VARIABLE_MAP",
    "HOURLY_POLLUTANTS",
    "PLAUSIBLE_RANGES",
    "PRSA_MULTISITE_VARIABLE_MAP",
    "PRSA_SINGLE_VARIABLE_MAP",
    "PRSA_STATION_CODES",
    "STATION_LIST_VARIABLE_MAP",
    "MAX_QC_ROWS",
    "ReaderError",
    "ReaderWarning",
    "check_last_line",
    "city_coordinates",
    "expand_paths",
    "is_china_sites",
    "is_prsa",
    "prsa_daily",
    "qc_notes",
    "read_observations",
    "read_table",
    "interp_to_points",  # noqa: F822 (forecast.nwp, via __getattr__)
    "open_nwp",  # noqa: F822
    "parse_china_sites",
    "parse_city_daily",
    "parse_cnemc_station_hourly",
    "parse_prsa_multisite",
    "parse_prsa_single",
    "parse_station_list",
    "read_china_sites",
    "read_city_daily",
    "read_cnemc_station_hourly",
    "read_prsa_multisite",
    "read_prsa_single",
    "read_station_list",
]

_NWP_NAMES = ("open_nwp", "interp_to_points", "normalise_nwp")


def __getattr__(name: str):
    """``open_nwp``/``interp_to_points`` live in :mod:`forecast.nwp` (imported on first use)."""
    if name in _NWP_NAMES:
        from forecast import nwp

        return getattr(nwp, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


PathLike = str | os.PathLike

#: Strings that mean "no value" in the formats read here (besides empty fields).
#: ``/`` is the HJ 633-2026 mark for "not covered by the monitoring plan".
NA_VALUES: tuple[str, ...] = ("NA", "N/A", "NaN", "nan", "null", "NULL", "-", "—", "--", "/")

#: Plausible ranges of the glossary variables, ``(low, high)`` inclusive, in the
#: glossary units (µg/m³; CO mg/m³; temperature °C; pressure hPa), for hourly and
#: daily values alike. Values outside are not physical or are instrument or
#: transcription faults (e.g. the ``o3`` values above 1,000 µg/m³ in a few
#: southern cities of the aqistudy file) and become NaN with a
#: :class:`ReaderWarning` naming file, row, column and value. Concentrations are
#: never negative (HJ 818-2018 invalidates negative and out-of-range hours); the
#: upper limits sit at or above the top breakpoint of the HJ 633 IAQI tables
#: (PM2.5 500, SO2 2,620, NO2 24 h 940, CO 24 h 60 mg/m³, O3 1 h 1,200) and
#: above real extremes: dust storms give daily PM10 above 3,000 (Kashgar
#: 8,819), hence PM10 10,000. AQI is 0-500 by definition (HJ 633).
PLAUSIBLE_RANGES: dict[str, tuple[float, float]] = {
    "aqi": (0, 500),
    "pm25": (0, 2000),
    "pm10": (0, 10000),
    "so2": (0, 5000),
    "no2": (0, 2000),
    "co": (0, 100),
    "o3": (0, 1200),
    "o3_1h": (0, 1200),
    "o3_8h": (0, 1000),
    "temp": (-60, 60),
    "dewp": (-80, 45),
    "pres": (500, 1100),
    "rain": (0, 500),
    "wspm": (0, 75),
}

#: Rows of ``attrs["qc_rows"]`` kept per reader call (the counts in ``attrs["qc"]`` are complete).
MAX_QC_ROWS = 200
#: Rows named in one :class:`ReaderWarning` or data-quality sentence (then "and N more").
_NAMED_ROWS = 5


class ReaderWarning(UserWarning):
    """Values were cleaned while reading (implausible values, duplicate rows, zero rows).

    A :class:`UserWarning`, not an :class:`airwarn.core.errors.AirwarnWarning`: cleaning a
    known defect of the source gives a fully usable result.
    """


# --------------------------------------------------------------------------- helpers


def _source_name(path_or_buf: PathLike | IO[str]) -> str:
    if isinstance(path_or_buf, (str, os.PathLike)):
        return str(path_or_buf)
    return str(getattr(path_or_buf, "name", "<buffer>"))


def _read_text_table(path_or_buf: PathLike | IO[str], source: str, **kwargs) -> pd.DataFrame:
    """Read a CSV keeping blank lines, so that index + 2 is the file's line number.

    Columns whose values are all numbers come back numeric; others as strings
    (checked value by value by :func:`_to_numeric`). UTF-8 (with or without
    BOM) first, then GB18030 (bureau spreadsheets are often GBK). ``kwargs`` go to
    :func:`pandas.read_csv` and override the defaults. A path's last line is
    checked by :func:`check_last_line`.
    """
    opts = dict(keep_default_na=False, na_values=["", *NA_VALUES], skip_blank_lines=False, low_memory=False)
    opts.update(kwargs)
    is_path = isinstance(path_or_buf, (str, os.PathLike))
    if is_path:
        check_last_line(path_or_buf, source)
    encodings = ("utf-8-sig", "gb18030") if is_path else (None,)
    last_exc: Exception | None = None
    for encoding in encodings:
        try:
            df = pd.read_csv(path_or_buf, encoding=encoding, **opts)
            break
        except UnicodeDecodeError as exc:
            last_exc = exc
        except pd.errors.EmptyDataError as exc:
            raise ReaderError(source, "the file is empty; expected a CSV header line") from exc
        except pd.errors.ParserError as exc:
            raise ReaderError(source, f"not a readable CSV table: {_one_line(exc)}") from exc
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise ReaderError(source, f"damaged compressed file ({_one_line(exc)}); expected a complete "
                                      f"gzip stream") from exc
        except OSError as exc:  # a folder, no permission, an I/O error
            raise ReaderError(source, f"cannot read the file: {exc.strerror or _one_line(exc)}") from exc
    else:
        raise ReaderError(source, "expected UTF-8 or GB18030 text, got undecodable bytes") from last_exc
    df.columns = [str(c).strip() for c in df.columns]
    # Blank lines are all-empty rows; keep the index (= line - 2) and drop them.
    blank = df.isna().all(axis=1)
    return df.loc[~blank] if blank.any() else df


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


#: A last field cut in the middle of a number: ``12.``, ``1e``, ``1e-``.
_CUT_NUMBER = re.compile(r"[+-]?\d+\.|[+-]?\d*\.?\d+[eE][+-]?")
_TAIL_BYTES = 1 << 16


def check_last_line(path: PathLike, source: str | None = None) -> None:
    """Refuse a CSV file whose last line was cut short (a file truncated while it was written).

    A last line without its newline is fine when it is complete. It is an error when it has fewer
    fields than the header, or when its last field ends in the middle of a number (``12.``,
    ``1e``): :func:`pandas.read_csv` would read the missing fields as empty and the cut number as a
    value. Compressed files are not checked here (a cut gzip stream fails on reading).

    Parameters
    ----------
    path : path-like
        The CSV file.
    source : str, optional
        The name used in the message (default: the path).

    Raises
    ------
    ReaderError
        Naming the file and the row (the file's line number, header = row 1).
    """
    path = Path(path)
    source = source or str(path)
    if path.suffix.lower() in (".gz", ".bz2", ".xz", ".zip", ".zst", ".tar"):
        return
    try:
        size = path.stat().st_size
        if size == 0 or not path.is_file():
            return
        with open(path, "rb") as fh:
            fh.seek(max(0, size - _TAIL_BYTES))
            tail = fh.read()
            if tail.endswith((b"\n", b"\r")):
                return
            fh.seek(0)
            header = fh.readline(_TAIL_BYTES)
            fh.seek(0)
            newlines = sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
    except OSError:
        return  # the reader itself reports an unreadable file
    start = max(tail.rfind(b"\n"), tail.rfind(b"\r")) + 1
    if newlines == 0 or (start == 0 and size > len(tail)):
        return  # the header alone, or a last line longer than the tail read (left to the parser)
    names, last = _csv_fields(header), _csv_fields(tail[start:])
    row = newlines + 1
    if len(last) < len(names):
        raise ReaderError(source, row=row, message=(
            f"the last line is cut short: it ends without a newline and has {len(last)} of the header's "
            f"{len(names)} fields; expected a complete row (was the file truncated while it was written?)"))
    if last and _CUT_NUMBER.fullmatch(last[-1].strip()):
        column = names[len(last) - 1].strip() if len(names) >= len(last) else None
        raise ReaderError(source, row=row, column=column, message=(
            f"the last line is cut short: it ends without a newline in the middle of a number "
            f"({last[-1].strip()!r}); expected a complete row (was the file truncated while it was "
            f"written?)"))


def _csv_fields(line: bytes) -> list[str]:
    """The fields of one CSV line (commas and quotes are ASCII in UTF-8 and GB18030 alike)."""
    return next(csv.reader([line.decode("utf-8-sig", errors="replace").rstrip("\r\n")]), [])


def read_table(path: PathLike, **kwargs) -> pd.DataFrame:
    """Read a CSV file the way the readers here do, for readers elsewhere (``airwarn warn``).

    UTF-8 (with or without BOM) or GB18030; empty cells and the marks of :data:`NA_VALUES` are
    missing; blank lines are dropped but keep their place, so ``index + 2`` is the row as the
    file numbers it (header = row 1); a cut last line is refused (:func:`check_last_line`).

    Parameters
    ----------
    path : path-like
        A ``.csv`` or ``.csv.gz`` file.
    **kwargs
        Passed to :func:`pandas.read_csv` (e.g. ``dtype=str`` to check the cells oneself).

    Returns
    -------
    pandas.DataFrame
        Column names stripped of surrounding spaces.

    Raises
    ------
    FileNotFoundError
        No such file.
    ReaderError
        Empty, undecodable, damaged or cut file, or not a CSV table (the message names the file).
    """
    path = _as_paths(path)[0]
    return _read_text_table(path, str(path), **kwargs)


def _normalise_header(name: str) -> str:
    return str(name).strip().lower().replace(" ", "").replace("_", "").replace(".", "").replace("₂", "2")


def _map_columns(
    df: pd.DataFrame,
    variable_map: Mapping[str, str],
    required: Sequence[str],
    source: str,
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Rename source columns to glossary names; return the frame and glossary → source name.

    Headers match ``variable_map`` keys case-insensitively, ignoring spaces, ``_`` and ``.``.
    Unmapped columns are kept under their own name.
    """
    lookup = {_normalise_header(k): v for k, v in variable_map.items()}
    rename: dict[str, str] = {}
    origin: dict[str, str] = {}
    for col in df.columns:
        target = lookup.get(_normalise_header(col))
        if target is None:
            continue
        if target in origin:
            raise ReaderError(
                source,
                f"columns {origin[target]!r} and {col!r} both map to {target!r}; expected only one of them",
            )
        rename[col] = target
        origin[target] = col
    missing = [name for name in required if name not in origin]
    if missing:
        raise ReaderError(
            source,
            f"missing required column(s) {missing}; expected columns {list(required)} "
            f"(source names such as {_example_names(variable_map, missing)}), found {list(df.columns)}",
        )
    return df.rename(columns=rename), origin


def _example_names(variable_map: Mapping[str, str], targets: Iterable[str]) -> list[str]:
    out = []
    for t in targets:
        names = [k for k, v in variable_map.items() if v == t]
        out.append(" / ".join(names[:3]) if names else t)
    return out


def _first_bad(bad: pd.Series) -> int:
    """Index label of the first True in ``bad``."""
    return bad.index[np.argmax(bad.to_numpy())]


def _to_numeric(df: pd.DataFrame, name: str, source: str, origin: Mapping[str, str]) -> pd.Series:
    """Parse a column to float; the first unreadable value raises :class:`ReaderError`."""
    raw = df[name]
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        return raw.astype("float64")
    values = pd.to_numeric(raw, errors="coerce").astype("float64")
    bad = values.isna() & raw.notna()
    if bad.any():
        # whitespace-only or NA marks surrounded by spaces are missing, anything else is an error
        text = raw[bad].astype(str).str.strip()
        really_bad = ~(text.eq("") | text.isin(NA_VALUES))
        if really_bad.any():
            idx = _first_bad(really_bad)
            raise ReaderError(
                source, row=int(idx) + 2, column=origin.get(name, name), expected="a number", got=raw.loc[idx]
            )
    return values


def _to_datetime(
    df: pd.DataFrame, name: str, source: str, origin: Mapping[str, str], fmt: str | None, expected: str
) -> pd.Series:
    """Parse a column of timestamps; an empty or unreadable value raises :class:`ReaderError`."""
    raw = df[name]
    text = raw if pd.api.types.is_string_dtype(raw) else raw.astype("str").where(raw.notna())
    values = pd.to_datetime(text, format=fmt, errors="coerce")
    bad = values.isna()
    if bad.any():
        stripped = pd.to_datetime(text[bad].str.strip(), format=fmt, errors="coerce")
        values = values.where(~bad, stripped)
        bad = values.isna()
    if bad.any():
        idx = _first_bad(bad)
        got = raw.loc[idx]
        raise ReaderError(
            source,
            row=int(idx) + 2,
            column=origin.get(name, name),
            expected=expected,
            got="" if pd.isna(got) else got,
        )
    return values.astype("datetime64[ns]")


def _to_text(
    df: pd.DataFrame, name: str, source: str, origin: Mapping[str, str], *, required: bool
) -> pd.Series:
    """A text column, stripped, NaN where empty; ``required`` makes an empty value an error."""
    raw = df[name]
    if not pd.api.types.is_string_dtype(raw):
        raw = raw.astype("str").where(raw.notna())
    text = raw.str.strip()
    text = text.where(text != "")
    if required and text.isna().any():
        idx = _first_bad(text.isna())
        raise ReaderError(
            source, row=int(idx) + 2, column=origin.get(name, name), expected="a non-empty name", got=""
        )
    return text


def _key_text(value: object, name: str = "") -> str:
    """A key value as people write it: days as ``YYYY-MM-DD``, hours as ``YYYY-MM-DD HH:MM:SS``."""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d") if name == "date" else value.strftime("%Y-%m-%d %H:%M:%S")
    return _as_file_text(value)


def _add_record(records: list[dict], rec: dict) -> None:
    """Append a QC row; beyond :data:`MAX_QC_ROWS`, count it in a final ``{"file", "more"}`` entry."""
    if len(records) < MAX_QC_ROWS:
        records.append(rec)
    elif records and records[-1].get("more") is not None and records[-1]["file"] == rec["file"]:
        records[-1]["more"] += 1
    else:
        records.append({"file": rec["file"], "row": None, "more": 1})


def _range_check(
    df: pd.DataFrame,
    columns: Iterable[str],
    qc: dict[str, int],
    *,
    source: str | None = None,
    raw: pd.DataFrame | None = None,
    origin: Mapping[str, str] | None = None,
    records: list[dict] | None = None,
    keys: Sequence[str] = (),
) -> pd.DataFrame:
    """NaN the values outside :data:`PLAUSIBLE_RANGES` and the non-finite ones; count them in ``qc``.

    With ``records``, each value set to missing is added (:func:`_add_record`) as a dict ``file,
    row, column, value, problem`` plus ``keys`` (e.g. ``city``, ``date``): ``row`` is ``index + 2``
    (the file's line), ``value`` the cell of ``raw`` (as in the file) or of ``df``.
    """
    updates = {}
    origin = origin or {}
    for name in columns:
        if name not in df.columns or name not in PLAUSIBLE_RANGES:
            continue
        low, high = PLAUSIBLE_RANGES[name]
        values = df[name].astype("float64")
        nonfinite = values.notna() & ~np.isfinite(values.fillna(0))
        below = (values < low) & ~nonfinite
        above = (values > high) & ~nonfinite
        for mask, key in ((nonfinite, f"{name} not finite"), (below, f"{name}<{low:g}"),
                          (above, f"{name}>{high:g}")):
            if mask.any():
                qc[key] = qc.get(key, 0) + int(mask.sum())
        bad = nonfinite | below | above
        if not bad.any():
            continue
        updates[name] = values.mask(bad)
        if records is None:
            continue
        cells = raw[name] if raw is not None and name in raw.columns else values
        for idx in bad.index[bad.to_numpy()]:
            v = values.loc[idx]
            problem = "not a finite number" if not np.isfinite(v) else (
                f"below {low:g}" if v < low else f"above the plausible maximum {high:g}")
            rec = {"file": source, "row": int(idx) + 2, "column": origin.get(name, name),
                   "value": _as_file_text(cells.loc[idx]), "problem": problem}
            rec.update({k: _key_text(df.loc[idx, k], k) for k in keys if k in df.columns})
            _add_record(records, rec)
    return df.assign(**updates) if updates else df


def _record_text(rec: Mapping, source: str | None = None) -> str:
    """One QC row as text: ``row 7, column 'pm25' (阳泉 2016-01-21): '-45.3' (below 0)``."""
    if rec.get("more") is not None:
        return f"{rec['more']} more not listed"
    where = "" if rec.get("file") == source else f"{rec.get('file')} "
    what = " ".join(str(rec[k]) for k in ("city", "station", "date", "time") if rec.get(k))
    text = f"{where}row {rec['row']}" if rec.get("row") is not None else where.strip()
    if rec.get("column"):
        text += f", column {rec['column']!r}"
    if what:
        text += f" ({what})"
    if rec.get("value") is not None:
        text += f": {rec['value']!r}"
    return f"{text} ({rec['problem']})"


def _records_text(records: Sequence[Mapping], source: str | None = None,
                  limit: int | None = _NAMED_ROWS) -> str:
    """The first ``limit`` QC rows (all: None) as text, in file order, then how many more."""
    listed = sorted((r for r in records if r.get("more") is None),
                    key=lambda r: (str(r.get("file")), r.get("row") or 0))
    limit = len(listed) if limit is None else limit
    more = sum(r["more"] for r in records if r.get("more") is not None) + max(0, len(listed) - limit)
    text = "; ".join(_record_text(r, source) for r in listed[:limit])
    return text + (f"; and {more} more" if more else "")


def _warn_qc(source: str, qc: Mapping[str, int], stacklevel: int = 3,
             records: Sequence[Mapping] = ()) -> None:
    if qc or records:
        detail = ", ".join(f"{k}: {v}" for k, v in qc.items())
        text = f"{source}: cleaned while reading ({detail})"
        if records:
            text += f"; set to missing: {_records_text(records, source)}"
        warnings.warn(text, ReaderWarning, stacklevel=stacklevel)


def _same(a: object, b: object) -> bool:
    """Two cells are equal (two missing values are)."""
    a_na, b_na = bool(pd.isna(a)), bool(pd.isna(b))
    if a_na or b_na:
        return a_na and b_na
    return bool(a == b)


def _drop_duplicates(
    df: pd.DataFrame,
    keys: Sequence[str],
    source: str,
    qc: dict[str, int],
    origin: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Drop the rows that repeat an earlier row exactly (counted as ``repeated_rows``).

    A key (e.g. station and hour) repeated with other values raises :class:`ReaderError` naming
    both rows (index + 2) and the differing values: which of the two holds is not for a reader to
    guess.
    """
    keys = list(keys)
    if not df.duplicated(keys).any():
        return df
    exact = df.duplicated(keep="first")
    conflict = df.duplicated(keys, keep="first") & ~exact
    if conflict.any():
        idx = _first_bad(conflict)
        same = (df[keys] == df.loc[idx, keys]).all(axis=1)
        first = _first_bad(same)
        origin = origin or {}

        diffs = [c for c in df.columns if c not in keys and not _same(df.loc[first, c], df.loc[idx, c])]
        detail = ", ".join(f"{origin.get(c, c)} {_as_file_text(df.loc[first, c])!r} vs "
                           f"{_as_file_text(df.loc[idx, c])!r}" for c in diffs[:3])
        where = ", ".join(f"{k}={_key_text(df.loc[idx, k], k)}" for k in keys)
        raise ReaderError(
            source,
            row=int(idx) + 2,
            message=f"duplicate record ({where}) with values different from row {int(first) + 2} ({detail}); "
                    f"expected one row per {'/'.join(keys)}",
        )
    qc["repeated_rows"] = qc.get("repeated_rows", 0) + int(exact.sum())
    return df.loc[~exact]


def _as_paths(path_or_paths: PathLike | Iterable[PathLike]) -> list[Path]:
    if isinstance(path_or_paths, (str, os.PathLike)):
        paths = [Path(path_or_paths)]
    else:
        paths = [Path(p) for p in path_or_paths]
    if not paths:
        raise InputError("no file given; expected a path or a non-empty list of paths")
    for p in paths:
        if not p.exists():
            raise FileNotFoundError(f"no such file: {p}")
    return paths


def _bool_column(df: pd.DataFrame, name: str, source: str, origin: Mapping[str, str]) -> pd.Series:
    """A yes/no column (true/false, 1/0, Y/N, 是/否; empty = false)."""
    raw = df[name]
    if pd.api.types.is_bool_dtype(raw):
        return raw.astype(bool)
    truthy = {"true", "1", "1.0", "y", "yes", "t", "是"}
    falsy = {"false", "0", "0.0", "n", "no", "f", "否", "nan", "<na>"}
    text = raw.astype("str").str.strip().str.lower()
    ok = text.isin(truthy | falsy) | raw.isna()
    if not ok.all():
        idx = _first_bad(~ok)
        raise ReaderError(
            source,
            row=int(idx) + 2,
            column=origin.get(name, name),
            expected="a yes/no flag (true/false, 1/0, Y/N)",
            got=raw.loc[idx],
        )
    return text.isin(truthy)


# --------------------------------------------------------------------------- city daily (aqistudy)

#: Source column name → glossary name of the aqistudy city daily layout
#: (``../shared/data/cn_city_daily_aqistudy``, README §1). The source's ``o3``
#: is the daily maximum 8-h running mean, hence ``o3_8h``.
CITY_DAILY_VARIABLE_MAP: dict[str, str] = {
    "city": "city",
    "城市": "city",
    "date": "date",
    "日期": "date",
    "aqi": "aqi",
    "aqi_range": "aqi_range",
    "范围": "aqi_range",
    "quality_level": "quality_level",
    "质量等级": "quality_level",
    "pm25": "pm25",
    "pm2.5": "pm25",
    "pm10": "pm10",
    "so2": "so2",
    "no2": "no2",
    "co": "co",
    "o3": "o3_8h",
    "o3_8h": "o3_8h",
    "o3-8h": "o3_8h",
    "rank": "rank",
    "排名": "rank",
    "synthetic": "synthetic",
}

#: Columns of :func:`read_city_daily`'s result, in order (``synthetic`` only if the file has it).
CITY_DAILY_COLUMNS: tuple[str, ...] = (
    "city",
    "date",
    "aqi",
    "quality_level",
    *DAILY_POLLUTANTS,
    "aqi_min",
    "aqi_max",
    "rank",
)

_CITY_DAILY_REQUIRED = ("city", "date", "aqi", *DAILY_POLLUTANTS)


def parse_city_daily(
    buf: IO[str], *, zero_rows: Literal["drop", "nan"] = "drop", source: str | None = None
) -> pd.DataFrame:
    """Parse one city daily table in the aqistudy layout from an open text buffer.

    See :func:`read_city_daily` for the layout and the result.
    """
    source = source or _source_name(buf)
    frame, qc, records = _parse_city_daily_table(_read_text_table(buf, source), source, zero_rows)
    _warn_qc(source, qc, records=records)
    frame = frame.drop(columns="_row")
    frame.attrs.update(qc=qc, qc_rows=records)
    return frame


def read_city_daily(
    path_or_paths: PathLike | Iterable[PathLike], *, zero_rows: Literal["drop", "nan"] = "drop"
) -> pd.DataFrame:
    """Read city daily AQI and concentrations in the aqistudy layout.

    Parameters
    ----------
    path_or_paths : path-like or iterable of path-likes
        One or more CSV files (``.csv`` or ``.csv.gz``, UTF-8 or GB18030) with
        the header ``city,date,aqi,aqi_range,quality_level,pm25,pm10,so2,co,no2,o3,rank``
        (any order; ``o3_8h`` accepted for ``o3``; ``aqi_range``, ``quality_level``,
        ``rank`` optional; an extra ``synthetic`` flag column is kept, as in the
        demo's synthetic file). Several files are concatenated in time; a
        (city, date) present in more than one file takes the values of the
        *later* file, and differing values are counted in a :class:`ReaderWarning`.
    zero_rows : {"drop", "nan"}
        What to do with the rows that aqistudy fills with ``aqi = 0`` and all
        pollutants 0 (no data that day): ``"drop"`` (default) removes them so the
        day is absent like the other missing days; ``"nan"`` keeps the row with
        NaN values.

    Returns
    -------
    pandas.DataFrame
        One row per city and day, sorted by ``city, date``, columns

        ==================  ==========================================================
        ``city``            city name in Chinese as in the file (``阳泉``)
        ``date``            day, ``datetime64[ns]`` at midnight (Beijing natural day)
        ``aqi``             published daily AQI (HJ 633-2012) [-]
        ``quality_level``   published category (优 … 严重污染), NaN if empty
        ``pm25 pm10 so2``   daily mean concentrations [µg/m³]
        ``no2``             daily mean [µg/m³]
        ``co``              daily mean [mg/m³]
        ``o3_8h``           daily maximum 8-h running mean of O3 [µg/m³]
        ``aqi_min aqi_max`` the ``aqi_range`` min~max of the hourly AQI (if present)
        ``rank``            daily rank among ranked cities; NaN where 0 (not ranked)
        ``synthetic``       bool, only when the file has the column
        ==================  ==========================================================

        ``df.attrs["qc"]`` counts what was cleaned: ``zero_rows``; isolated zeros
        of one pollutant (``<name>=0``), which are missing values in this source
        (a city-mean of 0 µg/m³ does not happen); values outside
        :data:`PLAUSIBLE_RANGES`; ``conflicts`` between files.

    Raises
    ------
    ReaderError
        If a required column is missing (the message lists expected and found
        columns) or a value cannot be read (file, line, column, value).
    FileNotFoundError
        If a file does not exist.

    Warns
    -----
    ReaderWarning
        Once per call when values were cleaned, with the counts.

    Examples
    --------
    >>> df = read_city_daily("../shared/data/cn_city_daily_aqistudy/"
    ...                      "city_daily_aqi_20131202-20160131.csv.gz")  # doctest: +SKIP
    >>> df.loc[df.city == "阳泉", ["date", "aqi", "pm25", "o3_8h"]].head(1)  # doctest: +SKIP
            date  aqi  pm25  o3_8h
    2013-12-02   89  47.6   37.0
    """
    paths = _as_paths(path_or_paths)
    frames = []
    qc: dict[str, int] = {}
    records: list[dict] = []
    for order, path in enumerate(paths):
        frame, file_qc, file_records = _parse_city_daily_table(_read_text_table(path, str(path)), str(path),
                                                               zero_rows)
        for k, v in file_qc.items():
            qc[k] = qc.get(k, 0) + v
        records += file_records
        frames.append(frame.assign(_order=order))
    data = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if len(frames) > 1:
        data = data.sort_values(["city", "date", "_order"], kind="stable")
        dup = data.duplicated(["city", "date"], keep=False)
        if dup.any():
            values = [c for c in CITY_DAILY_COLUMNS if c in data.columns and c not in ("city", "date")]
            distinct = data.loc[dup].drop_duplicates(["city", "date", *values])
            n_conflicts = int(distinct.duplicated(["city", "date"]).sum())
            if n_conflicts:
                qc["conflicts"] = n_conflicts
                _conflict_records(data.loc[dup], values, paths, records)
            qc["duplicates"] = int(data.loc[dup].duplicated(["city", "date"]).sum())
            data = data.drop_duplicates(["city", "date"], keep="last")
    if "synthetic" in data.columns:
        data["synthetic"] = data["synthetic"].fillna(False).astype(bool)
    data = data.drop(columns=["_order", "_row"]).sort_values(["city", "date"], kind="stable")
    data = data.reset_index(drop=True)
    source = str(paths[0]) if len(paths) == 1 else f"{len(paths)} files ({paths[0].name} …)"
    _warn_qc(source, {k: v for k, v in qc.items() if k != "duplicates"}, records=records)
    data.attrs.update(qc=qc, qc_rows=records)
    return data


def _conflict_records(dup: pd.DataFrame, values: list[str], paths: Sequence[Path],
                      records: list[dict]) -> None:
    """QC rows for the (city, day)s whose row in a later file differs from the one before it."""
    prev = dup.shift(1)
    later = dup.duplicated(["city", "date"], keep="first")
    same = (dup[values].eq(prev[values]) | (dup[values].isna() & prev[values].isna())).all(axis=1)
    for idx in dup.index[(later & ~same).to_numpy()]:
        row, p = dup.loc[idx], prev.loc[idx]
        _add_record(records, {
            "file": str(paths[int(row["_order"])]), "row": int(row["_row"]), "column": None, "value": None,
            "city": row["city"], "date": _key_text(row["date"], "date"),
            "problem": f"differs from {paths[int(p['_order'])]} row {int(p['_row'])}; "
                       f"the later file's values are used"})


def _parse_city_daily_table(
    raw: pd.DataFrame, source: str, zero_rows: Literal["drop", "nan"]
) -> tuple[pd.DataFrame, dict[str, int], list[dict]]:
    """One file's rows (with ``_row``, the file's line), its QC counts and its QC rows."""
    if zero_rows not in ("drop", "nan"):
        raise InputError(f"zero_rows must be 'drop' or 'nan', got {zero_rows!r}")
    df, origin = _map_columns(raw, CITY_DAILY_VARIABLE_MAP, _CITY_DAILY_REQUIRED, source)
    qc: dict[str, int] = {}
    out = pd.DataFrame(index=df.index)
    out["city"] = _to_text(df, "city", source, origin, required=True)
    out["date"] = _to_day(df, source, origin)
    out["aqi"] = _to_numeric(df, "aqi", source, origin)
    if "quality_level" in df.columns:
        out["quality_level"] = _to_text(df, "quality_level", source, origin, required=False)
    else:
        out["quality_level"] = pd.Series(pd.NA, index=df.index, dtype="str")
    for name in DAILY_POLLUTANTS:
        out[name] = _to_numeric(df, name, source, origin)
    out["aqi_min"], out["aqi_max"] = _parse_aqi_range(df, source, origin)
    if "rank" in df.columns:
        rank = _to_numeric(df, "rank", source, origin)
        out["rank"] = rank.mask(rank <= 0)
    else:
        out["rank"] = np.nan
    if "synthetic" in df.columns:
        out["synthetic"] = _bool_column(df, "synthetic", source, origin)

    # Rows of zeros: aqi 0 and every pollutant 0 or empty -> no data that day.
    pollutants = out[list(DAILY_POLLUTANTS)]
    zero = (out["aqi"].fillna(0) == 0) & (pollutants.fillna(0) == 0).all(axis=1)
    if zero.any():
        qc["zero_rows"] = int(zero.sum())
        if zero_rows == "drop":
            out = out.loc[~zero]
        else:
            cols = ["aqi", *DAILY_POLLUTANTS, "aqi_min", "aqi_max", "rank"]
            out.loc[zero, cols] = np.nan
            out.loc[zero, "quality_level"] = pd.NA
    # One row per city and day: exact repeats are dropped, two different rows refused.
    out = _drop_duplicates(out, ["city", "date"], source, qc, origin)
    # Isolated zeros of one pollutant are missing values too.
    updates = {}
    for name in DAILY_POLLUTANTS:
        is_zero = out[name] == 0
        if is_zero.any():
            qc[f"{name}=0"] = int(is_zero.sum())
            updates[name] = out[name].mask(is_zero)
    if updates:
        out = out.assign(**updates)
    records: list[dict] = []
    out = _range_check(out, ["aqi", *DAILY_POLLUTANTS], qc, source=source, raw=df, origin=origin,
                       records=records, keys=("city", "date"))
    out["_row"] = out.index + 2
    return out.reset_index(drop=True), qc, records


def _to_day(df: pd.DataFrame, source: str, origin: Mapping[str, str]) -> pd.Series:
    """``YYYY-MM-DD``; ``YYYY-MM-DD 00:00:00`` (as pandas may write a datetime column) is accepted too."""
    try:
        return _to_datetime(df, "date", source, origin, "%Y-%m-%d", "a date YYYY-MM-DD")
    except ReaderError as strict:
        try:
            values = _to_datetime(df, "date", source, origin, "%Y-%m-%d %H:%M:%S", "a date YYYY-MM-DD")
        except ReaderError:
            raise strict from None
        off = values != values.dt.normalize()
        if off.any():
            idx = _first_bad(off)
            raise ReaderError(
                source,
                row=int(idx) + 2,
                column=origin["date"],
                expected="a date YYYY-MM-DD (a whole day)",
                got=df.loc[idx, "date"],
            ) from None
        return values


def _parse_aqi_range(df: pd.DataFrame, source: str, origin: Mapping[str, str]) -> tuple[pd.Series, pd.Series]:
    """Split ``aqi_range`` ``min~max`` into two float columns."""
    if "aqi_range" not in df.columns:
        nan = pd.Series(np.nan, index=df.index)
        return nan, nan.copy()
    raw = df["aqi_range"]
    present = raw.notna().to_numpy()
    text = np.asarray(raw.astype("str").to_numpy(dtype=object), dtype=str)
    text = np.strings.replace(np.strings.strip(text), "～", "~")
    low, sep, high = np.strings.partition(text, "~")
    lo = pd.to_numeric(pd.Series(low, index=df.index), errors="coerce")
    hi = pd.to_numeric(pd.Series(high, index=df.index), errors="coerce")
    bad = present & ((sep != "~") | lo.isna().to_numpy() | hi.isna().to_numpy())
    if bad.any():
        idx = df.index[np.argmax(bad)]
        raise ReaderError(
            source,
            row=int(idx) + 2,
            column=origin.get("aqi_range", "aqi_range"),
            expected="an AQI range 'min~max'",
            got=raw.loc[idx],
        )
    return lo.where(present).astype("float64"), hi.where(present).astype("float64")


# --------------------------------------------------------------------------- hourly helpers

#: Glossary names of hourly pollutant concentrations (µg/m³; CO mg/m³). The hourly
#: O3 value is ``o3`` (its daily maximum is the daily record's ``o3_1h``).
HOURLY_POLLUTANTS: tuple[str, ...] = ("pm25", "pm10", "so2", "no2", "co", "o3")


def _hourly_grid(df: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """Reindex to a complete hourly time axis (per ``by`` group), NaN for absent hours."""
    if df.empty:
        return df
    if by is None:
        full = pd.date_range(df["time"].min(), df["time"].max(), freq="h", unit="ns")
        return df.set_index("time").reindex(full).rename_axis("time").reset_index()
    start, end = df["time"].min(), df["time"].max()
    full = pd.date_range(start, end, freq="h", unit="ns")
    groups = df[by].drop_duplicates().tolist()
    index = pd.MultiIndex.from_product([groups, full], names=[by, "time"])
    out = df.set_index([by, "time"]).reindex(index).reset_index()
    return out[[c for c in df.columns]]


# --------------------------------------------------------------------------- CNEMC single-station hourly

#: Source column → glossary name of the CNEMC single-station hourly layout
#: (``../shared/data/cnemc_station_hourly``, README §4), plus the names used by
#: other CNEMC exports (``pm2_5``, ``timepoint``, ``stationcode``).
CNEMC_HOURLY_VARIABLE_MAP: dict[str, str] = {
    "datetime": "time",
    "timepoint": "time",
    "time": "time",
    "station": "station",
    "stationcode": "station",
    "pm2.5": "pm25",
    "pm2_5": "pm25",
    "pm25": "pm25",
    "pm10": "pm10",
    "so2": "so2",
    "no2": "no2",
    "co": "co",
    "o3": "o3",
}


def read_cnemc_station_hourly(path: PathLike, station: str | None = None) -> pd.DataFrame:
    """Read one CNEMC station's hourly series (``datetime,PM2.5,O3,NO2,CO,SO2``).

    Parameters
    ----------
    path : path-like
        CSV (``.csv``/``.csv.gz``) with a ``datetime`` column ``YYYY-MM-DD HH:MM:SS``
        (Beijing time, CNEMC *hour-ending* label: 01:00 is the mean of 00:00–01:00)
        and pollutant columns among ``PM2.5, PM10, SO2, NO2, CO, O3`` (µg/m³; CO
        mg/m³). Empty fields are missing.
    station : str, optional
        Station code. Defaults to a ``station`` column if the file has one, else
        the code in the file name (``station_1410A_haikou_….csv.gz`` → ``1410A``).

    Returns
    -------
    pandas.DataFrame
        ``time`` (``datetime64[ns]``, naive Beijing time, hour-ending), ``station``,
        then the pollutants present in the file among :data:`HOURLY_POLLUTANTS`
        (``o3`` is the 1-h O3 concentration). The hours absent from the file are
        added with NaN values so that the time axis is a complete hourly grid
        (``df.attrs["qc"]["absent_hours"]`` counts them).

    Raises
    ------
    ReaderError
        Missing ``datetime`` or pollutant columns, an unreadable timestamp or
        value, a timestamp off the hour or repeated.
    """
    path = _as_paths(path)[0]
    return _cnemc_hourly(path, str(path), station)


def parse_cnemc_station_hourly(buf: IO[str], station: str | None = None) -> pd.DataFrame:
    """Parse a CNEMC station hourly table from an open text buffer (see :func:`read_cnemc_station_hourly`)."""
    return _cnemc_hourly(buf, _source_name(buf), station)


def _cnemc_hourly(src: PathLike | IO[str], source: str, station: str | None) -> pd.DataFrame:
    raw = _read_text_table(src, source)
    df, origin = _map_columns(raw, CNEMC_HOURLY_VARIABLE_MAP, ("time",), source)
    present = [p for p in HOURLY_POLLUTANTS if p in df.columns]
    if not present:
        raise ReaderError(
            source,
            f"no pollutant column; expected some of {['PM2.5', 'PM10', 'SO2', 'NO2', 'CO', 'O3']}, "
            f"found {list(raw.columns)}",
        )
    out = pd.DataFrame(index=df.index)
    out["time"] = _to_datetime(df, "time", source, origin, None, "a timestamp YYYY-MM-DD HH:MM:SS")
    off = out["time"] != out["time"].dt.floor("h")
    if off.any():
        idx = _first_bad(off)
        raise ReaderError(
            source,
            row=int(idx) + 2,
            column=origin["time"],
            expected="a timestamp on the hour",
            got=df.loc[idx, "time"],
        )
    if "station" in df.columns and station is None:
        out["station"] = _to_text(df, "station", source, origin, required=True)
    else:
        out["station"] = station or _station_from_name(source)
    for name in present:
        out[name] = _to_numeric(df, name, source, origin)
    qc: dict[str, int] = {}
    records: list[dict] = []
    out = _drop_duplicates(out, ["station", "time"], source, qc, origin)
    out = _range_check(out, present, qc, source=source, raw=df, origin=origin, records=records,
                       keys=("station", "time"))
    n = len(out)
    out = _hourly_grid(out.sort_values(["station", "time"]), by="station")
    if len(out) > n:
        qc["absent_hours"] = len(out) - n
    out = out.reset_index(drop=True)
    _warn_qc(source, {k: v for k, v in qc.items() if k != "absent_hours"}, records=records)
    out.attrs.update(qc=qc, qc_rows=records, hour_label="end", timezone="Asia/Shanghai")
    return out


def _station_from_name(source: str) -> str:
    import re

    match = re.search(r"(\d{4}A)", Path(source).name)
    if not match:
        raise ReaderError(
            source,
            "no station code: the file has no 'station' column and its name holds no code like '1410A'; "
            "pass station=...",
        )
    return match.group(1)


# ------------------------------------------------------------------ CNEMC national archive (china_sites)

#: ``type`` values of the national archive (``china_sites_YYYYMMDD.csv``) → glossary
#: names. ``_24h`` types are the 24-h moving averages (for O3, the maximum over
#: the past 24 h) that the real-time report carries.
CHINA_SITES_TYPE_MAP: dict[str, str] = {
    "AQI": "aqi",
    "PM2.5": "pm25",
    "PM2.5_24h": "pm25_24h",
    "PM10": "pm10",
    "PM10_24h": "pm10_24h",
    "SO2": "so2",
    "SO2_24h": "so2_24h",
    "NO2": "no2",
    "NO2_24h": "no2_24h",
    "O3": "o3",
    "O3_24h": "o3_24h",
    "O3_8h": "o3_8h",
    "O3_8h_24h": "o3_8h_24h",
    "CO": "co",
    "CO_24h": "co_24h",
}

#: Column of the archive layout → glossary name (the station columns follow).
CHINA_SITES_VARIABLE_MAP: dict[str, str] = {"date": "date", "hour": "hour", "type": "type"}

_CHINA_SITES_RANGE = {
    "pm25_24h": "pm25",
    "pm10_24h": "pm10",
    "so2_24h": "so2",
    "no2_24h": "no2",
    "co_24h": "co",
    "o3_24h": "o3",
    "o3_8h_24h": "o3_8h",
}


def read_china_sites(
    paths: PathLike | Iterable[PathLike], stations: Iterable[str] | None = None
) -> pd.DataFrame:
    """Read CNEMC national archive files (``china_sites_YYYYMMDD.csv``).

    Parameters
    ----------
    paths : path-like or iterable of path-likes
        Daily files in the archive layout: header ``date,hour,type,<station
        codes…>``, one row per hour and ``type`` (see :data:`CHINA_SITES_TYPE_MAP`),
        ``date`` as ``YYYYMMDD``, ``hour`` 0–23 (Beijing time, CNEMC hour-ending
        label), station values in µg/m³ (CO mg/m³), empty where missing.
        Files may list different stations; a (time, type) found in several
        files takes the later file's row.
    stations : iterable of str, optional
        Station codes to keep (e.g. the Yangquan ``1738A``…``1743A``); all by default.
        A requested code in no file raises :class:`KeyError`.

    Returns
    -------
    pandas.DataFrame
        Wide tidy hourly frame sorted by ``station, time``: ``time``
        (``datetime64[ns]``, naive Beijing time, hour-ending), ``station``, then one
        column per type present, in the order of :data:`CHINA_SITES_TYPE_MAP`
        (``aqi``, ``pm25``, ``pm25_24h``, … ``o3`` is 1-h O3). Hours absent from
        the files are added with NaN so every station has a complete hourly grid
        over the span of the files.
    """
    path_list = _as_paths(paths)
    source = str(path_list[0]) if len(path_list) == 1 else f"{len(path_list)} files ({path_list[0].name} …)"
    return _china_sites([(p, str(p)) for p in path_list], stations, source)


def parse_china_sites(buf: IO[str], stations: Iterable[str] | None = None) -> pd.DataFrame:
    """Parse one national archive table from an open text buffer (see :func:`read_china_sites`)."""
    source = _source_name(buf)
    return _china_sites([(buf, source)], stations, source)


def _china_sites(
    sources: list[tuple[PathLike | IO[str], str]], stations: Iterable[str] | None, source: str
) -> pd.DataFrame:
    wanted = None if stations is None else [str(s).strip() for s in stations]
    longs = []
    found: set[str] = set()
    qc: dict[str, int] = {}
    records: list[dict] = []
    for order, (src, name) in enumerate(sources):
        long, in_file = _parse_china_sites_file(src, name, wanted, qc, records)
        longs.append(long.assign(_order=order))
        found.update(in_file)
    data = pd.concat(longs, ignore_index=True)
    if wanted is not None:
        absent = [s for s in wanted if s not in found]
        if absent:
            raise UnknownNameError(
                f"{source}: station(s) {absent} in none of the {len(sources)} file(s); "
                f"stations found: {sorted(found)[:20]}{' …' if len(found) > 20 else ''}"
            )
    data = data.sort_values("_order", kind="stable").drop_duplicates(["time", "type", "station"], keep="last")
    wide = data.pivot(index=["station", "time"], columns="type", values="value")
    order = [v for v in CHINA_SITES_TYPE_MAP.values() if v in wide.columns]
    wide = wide[order].reset_index()
    wide.columns.name = None
    wide = wide[["time", "station", *order]]
    n = len(wide)
    wide = _hourly_grid(wide.sort_values(["station", "time"]), by="station").reset_index(drop=True)
    if len(wide) > n:
        qc["absent_hours"] = len(wide) - n
    _warn_qc(source, {k: v for k, v in qc.items() if k != "absent_hours"}, records=records)
    wide.attrs.update(qc=qc, qc_rows=records, hour_label="end", timezone="Asia/Shanghai")
    return wide


def _parse_china_sites_file(
    src: PathLike | IO[str], source: str, wanted: list[str] | None, qc: dict[str, int], records: list[dict]
) -> tuple[pd.DataFrame, list[str]]:
    """One archive file → (long frame ``time, type, station, value``, the file's station codes).

    Implausible values (:data:`PLAUSIBLE_RANGES` of the type, its 24-h form alike) become NaN,
    counted in ``qc`` and listed in ``records``.
    """
    raw = _read_text_table(src, source, dtype={"date": str, "type": str})
    df, origin = _map_columns(raw, CHINA_SITES_VARIABLE_MAP, ("date", "hour", "type"), source)
    station_cols = [c for c in df.columns if c not in ("date", "hour", "type")]
    if not station_cols:
        raise ReaderError(source, f"no station columns after date,hour,type; found {list(raw.columns)}")
    day = _to_datetime(df, "date", source, origin, "%Y%m%d", "a date YYYYMMDD")
    hour = _to_numeric(df, "hour", source, origin)
    bad = hour.isna() | (hour != hour.round()) | (hour < 0) | (hour > 23)
    if bad.any():
        idx = _first_bad(bad)
        raw_hour = df.loc[idx, "hour"]
        raise ReaderError(
            source,
            row=int(idx) + 2,
            column=origin["hour"],
            expected="an hour 0-23",
            got="" if pd.isna(raw_hour) else raw_hour,
        )
    types = _to_text(df, "type", source, origin, required=True)
    unknown = ~types.isin(list(CHINA_SITES_TYPE_MAP))
    if unknown.any():
        idx = _first_bad(unknown)
        raise ReaderError(
            source,
            row=int(idx) + 2,
            column=origin["type"],
            expected=f"a pollutant type, one of {list(CHINA_SITES_TYPE_MAP)}",
            got=df.loc[idx, "type"],
        )
    keep = station_cols if wanted is None else [c for c in station_cols if c in wanted]
    values = pd.DataFrame({c: _to_numeric(df, c, source, {}) for c in keep}, index=df.index)
    frame = pd.DataFrame(
        {"time": day + pd.to_timedelta(hour, unit="h"), "type": types.map(CHINA_SITES_TYPE_MAP)}
    )
    both = _drop_duplicates(pd.concat([frame, values], axis=1), ["time", "type"], source, qc, origin)
    long = both.assign(_row=both.index + 2).melt(
        id_vars=["time", "type", "_row"], var_name="station", value_name="value"
    )
    base = long["type"].map(lambda t: _CHINA_SITES_RANGE.get(t, t))
    low = base.map(lambda b: PLAUSIBLE_RANGES.get(b, (-np.inf, np.inf))[0])
    high = base.map(lambda b: PLAUSIBLE_RANGES.get(b, (-np.inf, np.inf))[1])
    v = long["value"].astype("float64")
    bad = v.notna() & (~np.isfinite(v.fillna(0)) | (v < low) | (v > high))
    if bad.any():
        for t, k in long.loc[bad, "type"].value_counts(sort=False).items():
            lo, hi = PLAUSIBLE_RANGES.get(_CHINA_SITES_RANGE.get(t, t), (-np.inf, np.inf))
            qc[f"{t} outside {lo:g}..{hi:g}"] = qc.get(f"{t} outside {lo:g}..{hi:g}", 0) + int(k)
        for idx in long.index[bad.to_numpy()]:
            x, lo, hi = v.loc[idx], low.loc[idx], high.loc[idx]
            problem = "not a finite number" if not np.isfinite(x) else (
                f"below {lo:g}" if x < lo else f"above the plausible maximum {hi:g}")
            _add_record(records, {"file": source, "row": int(long.loc[idx, "_row"]),
                                  "column": long.loc[idx, "station"], "value": _as_file_text(x),
                                  "problem": f"{long.loc[idx, 'type']} {problem}",
                                  "station": long.loc[idx, "station"],
                                  "time": _key_text(long.loc[idx, "time"])})
        long["value"] = v.mask(bad)
    return long.drop(columns="_row"), station_cols


# --------------------------------------------------------------------------- UCI PRSA (Beijing)

#: Source column → glossary name of the UCI *Beijing Multi-Site Air-Quality* files.
#: ``CO`` there is µg/m³ and is converted to mg/m³.
PRSA_MULTISITE_VARIABLE_MAP: dict[str, str] = {
    "No": "no",
    "year": "year",
    "month": "month",
    "day": "day",
    "hour": "hour",
    "PM2.5": "pm25",
    "PM10": "pm10",
    "SO2": "so2",
    "NO2": "no2",
    "CO": "co",
    "O3": "o3",
    "TEMP": "temp",
    "PRES": "pres",
    "DEWP": "dewp",
    "RAIN": "rain",
    "wd": "wd",
    "WSPM": "wspm",
    "station": "station",
}

#: UCI station name → CNEMC station code (README §2).
PRSA_STATION_CODES: dict[str, str] = {
    "Aotizhongxin": "1011A",
    "Changping": "1010A",
    "Dingling": "1002A",
    "Dongsi": "1003A",
    "Guanyuan": "1006A",
    "Gucheng": "1012A",
    "Huairou": "1009A",
    "Nongzhanguan": "1005A",
    "Shunyi": "1008A",
    "Tiantan": "1004A",
    "Wanliu": "1007A",
    "Wanshouxigong": "1001A",
}

#: The 16 compass points of the ``wd`` column.
COMPASS_16: tuple[str, ...] = (
    "N",
    "NNE",
    "NE",
    "ENE",
    "E",
    "ESE",
    "SE",
    "SSE",
    "S",
    "SSW",
    "SW",
    "WSW",
    "W",
    "WNW",
    "NW",
    "NNW",
)

_MET = ("temp", "pres", "dewp", "rain", "wspm")


def read_prsa_multisite(paths: PathLike | Iterable[PathLike]) -> pd.DataFrame:
    """Read UCI *Beijing Multi-Site Air-Quality* files (``PRSA_Data_<Station>_….csv``).

    Parameters
    ----------
    paths : path-like or iterable of path-likes
        One or more station files (header ``No,year,month,day,hour,PM2.5,PM10,
        SO2,NO2,CO,O3,TEMP,PRES,DEWP,RAIN,wd,WSPM,station``; ``NA`` missing), or a
        folder holding them.

    Returns
    -------
    pandas.DataFrame
        Hourly rows sorted by ``station, time``: ``time`` (``datetime64[ns]``, naive
        Beijing time from ``year, month, day, hour``; UCI does not say whether
        the hour starts or ends the average), ``station`` (UCI name),
        ``station_code`` (CNEMC code, :data:`PRSA_STATION_CODES`; NaN if unknown),
        ``pm25 pm10 so2 no2 o3`` [µg/m³], ``co`` [mg/m³, converted from the
        file's µg/m³], ``temp`` [°C], ``pres`` [hPa], ``dewp`` [°C], ``rain``
        [mm/h], ``wd`` (16-point compass, ``str``), ``wspm`` [m/s].
    """
    path_list = _expand_dir(paths, "PRSA_Data_*.csv*")
    frames = [_parse_prsa_multisite_file(p, str(p)).assign(_order=k) for k, p in enumerate(path_list)]
    qc: dict[str, int] = {}
    records: list[dict] = []
    for f in frames:
        for k, v in f.attrs.get("qc", {}).items():
            qc[k] = qc.get(k, 0) + v
        records += f.attrs.get("qc_rows", [])
    data = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    dup = data.duplicated(["station", "time"])
    if dup.any():
        idx = _first_bad(dup)
        first = _first_bad((data["station"] == data.loc[idx, "station"])
                           & (data["time"] == data.loc[idx, "time"]))
        raise ReaderError(
            str(path_list[int(data.loc[idx, "_order"])]),
            row=int(data.loc[idx, "_row"]),
            message=f"station {data.loc[idx, 'station']!r} at {_key_text(data.loc[idx, 'time'])} appears in "
                    f"more than one file (also {path_list[int(data.loc[first, '_order'])]} row "
                    f"{int(data.loc[first, '_row'])}); expected each station's hours once",
        )
    data = data.drop(columns=["_order", "_row"])
    data = data.sort_values(["station", "time"], kind="stable").reset_index(drop=True)
    data.attrs.update(qc=qc, qc_rows=records, timezone="Asia/Shanghai")
    return data


def _expand_dir(paths: PathLike | Iterable[PathLike], pattern: str) -> list[Path]:
    if isinstance(paths, (str, os.PathLike)) and Path(paths).is_dir():
        found = sorted(Path(paths).glob(pattern))
        if not found:
            raise FileNotFoundError(f"no file matching {pattern!r} in folder {paths}")
        return found
    return _as_paths(paths)


def _time_from_parts(df: pd.DataFrame, source: str, origin: Mapping[str, str]) -> pd.Series:
    parts = {}
    for name, (low, high) in {
        "year": (1900, 2200),
        "month": (1, 12),
        "day": (1, 31),
        "hour": (0, 23),
    }.items():
        values = _to_numeric(df, name, source, origin)
        bad = values.isna() | (values != values.round()) | (values < low) | (values > high)
        if bad.any():
            idx = _first_bad(bad)
            got = df.loc[idx, name]
            raise ReaderError(
                source,
                row=int(idx) + 2,
                column=origin.get(name, name),
                expected=f"a whole number {low}-{high}",
                got="" if pd.isna(got) else got,
            )
        parts[name] = values.astype("int64")
    time = pd.to_datetime(pd.DataFrame(parts), errors="coerce")
    if time.isna().any():
        idx = _first_bad(time.isna())
        raise ReaderError(
            source,
            row=int(idx) + 2,
            column=origin.get("day", "day"),
            expected="a valid calendar date",
            got=f"{parts['year'][idx]}-{parts['month'][idx]}-{parts['day'][idx]}",
        )
    return time.astype("datetime64[ns]")


def parse_prsa_multisite(buf: IO[str]) -> pd.DataFrame:
    """Parse one UCI multi-site station table from an open text buffer (see :func:`read_prsa_multisite`)."""
    out = _parse_prsa_multisite_file(buf, _source_name(buf)).drop(columns="_row")
    return out.sort_values(["station", "time"], kind="stable").reset_index(drop=True)


def _parse_prsa_multisite_file(src: PathLike | IO[str], source: str) -> pd.DataFrame:
    raw = _read_text_table(src, source)
    required = (
        "year",
        "month",
        "day",
        "hour",
        "pm25",
        "pm10",
        "so2",
        "no2",
        "co",
        "o3",
        *_MET,
        "wd",
        "station",
    )
    df, origin = _map_columns(raw, PRSA_MULTISITE_VARIABLE_MAP, required, source)
    out = pd.DataFrame(index=df.index)
    out["time"] = _time_from_parts(df, source, origin)
    out["station"] = _to_text(df, "station", source, origin, required=True)
    out["station_code"] = out["station"].map(PRSA_STATION_CODES)
    for name in ("pm25", "pm10", "so2", "no2", "co", "o3", *_MET):
        out[name] = _to_numeric(df, name, source, origin)
    out["co"] = out["co"] / 1000.0  # µg/m³ → mg/m³
    wd = _to_text(df, "wd", source, origin, required=False)
    bad = wd.notna() & ~wd.isin(COMPASS_16)
    if bad.any():
        idx = _first_bad(bad)
        raise ReaderError(
            source,
            row=int(idx) + 2,
            column=origin["wd"],
            expected=f"a 16-point compass direction {list(COMPASS_16)}",
            got=df.loc[idx, "wd"],
        )
    out["wd"] = wd
    qc: dict[str, int] = {}
    records: list[dict] = []
    out = _drop_duplicates(out, ["station", "time"], source, qc, origin)
    out = _range_check(out, ("pm25", "pm10", "so2", "no2", "co", "o3", *_MET), qc, source=source, raw=df,
                       origin=origin, records=records, keys=("station", "time"))
    _warn_qc(source, qc, stacklevel=4, records=records)
    out["_row"] = out.index + 2
    out = out.reset_index(drop=True)
    out.attrs.update(qc=qc, qc_rows=records)
    return out


#: Source column → glossary name of the UCI *Beijing PM2.5* file (US Embassy PM2.5,
#: Beijing Capital Airport meteorology). ``cbwd`` is the combined wind direction
#: (``NW``, ``NE``, ``SE``, ``cv`` calm/variable); ``iws`` the cumulated wind speed
#: [m/s]; ``is``/``ir`` the cumulated hours of snow / rain.
PRSA_SINGLE_VARIABLE_MAP: dict[str, str] = {
    "No": "no",
    "year": "year",
    "month": "month",
    "day": "day",
    "hour": "hour",
    "pm2.5": "pm25",
    "DEWP": "dewp",
    "TEMP": "temp",
    "PRES": "pres",
    "cbwd": "cbwd",
    "Iws": "iws",
    "Is": "is",
    "Ir": "ir",
}

CBWD_VALUES: tuple[str, ...] = ("NW", "NE", "SE", "SW", "cv")


def read_prsa_single(path: PathLike) -> pd.DataFrame:
    """Read the UCI *Beijing PM2.5* file (``PRSA_data_2010.1.1-….csv``).

    Returns
    -------
    pandas.DataFrame
        Hourly rows: ``time`` (``datetime64[ns]``, naive Beijing time), ``pm25``
        [µg/m³] (US Embassy), ``dewp`` [°C], ``temp`` [°C], ``pres`` [hPa],
        ``cbwd`` (``NW NE SE SW cv``), ``iws`` [m/s, cumulated], ``is``, ``ir``
        [cumulated hours of snow, rain]. Absent hours are added as NaN rows.
    """
    path = _as_paths(path)[0]
    return _prsa_single(path, str(path))


def parse_prsa_single(buf: IO[str]) -> pd.DataFrame:
    """Parse the UCI *Beijing PM2.5* table from an open text buffer (see :func:`read_prsa_single`)."""
    return _prsa_single(buf, _source_name(buf))


def _prsa_single(src: PathLike | IO[str], source: str) -> pd.DataFrame:
    raw = _read_text_table(src, source)
    required = ("year", "month", "day", "hour", "pm25", "dewp", "temp", "pres", "cbwd", "iws", "is", "ir")
    df, origin = _map_columns(raw, PRSA_SINGLE_VARIABLE_MAP, required, source)
    out = pd.DataFrame(index=df.index)
    out["time"] = _time_from_parts(df, source, origin)
    for name in ("pm25", "dewp", "temp", "pres"):
        out[name] = _to_numeric(df, name, source, origin)
    cbwd = _to_text(df, "cbwd", source, origin, required=False)
    bad = cbwd.notna() & ~cbwd.isin(CBWD_VALUES)
    if bad.any():
        idx = _first_bad(bad)
        raise ReaderError(
            source,
            row=int(idx) + 2,
            column=origin["cbwd"],
            expected=f"a combined wind direction {list(CBWD_VALUES)}",
            got=df.loc[idx, "cbwd"],
        )
    out["cbwd"] = cbwd
    for name in ("iws", "is", "ir"):
        values = _to_numeric(df, name, source, origin)
        neg = values < 0
        if neg.any():
            idx = _first_bad(neg)
            raise ReaderError(
                source,
                row=int(idx) + 2,
                column=origin[name],
                expected="a cumulated value >= 0",
                got=df.loc[idx, name],
            )
        out[name] = values
    qc: dict[str, int] = {}
    records: list[dict] = []
    out = _drop_duplicates(out, ["time"], source, qc, origin)
    out = _range_check(out, ("pm25", "dewp", "temp", "pres"), qc, source=source, raw=df, origin=origin,
                       records=records, keys=("time",))
    n = len(out)
    out = _hourly_grid(out.sort_values("time"))
    if len(out) > n:
        qc["absent_hours"] = len(out) - n
    _warn_qc(source, {k: v for k, v in qc.items() if k != "absent_hours"}, records=records)
    out.attrs.update(qc=qc, qc_rows=records, timezone="Asia/Shanghai")
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------- station list

#: Source column → glossary name of the CNEMC station list (``站点列表``,
#: ``../shared/data/stations``, README §5) and of English exports of it.
STATION_LIST_VARIABLE_MAP: dict[str, str] = {
    "监测点编码": "code",
    "code": "code",
    "stationcode": "code",
    "监测点名称": "name",
    "name": "name",
    "positionname": "name",
    "城市": "city",
    "city": "city",
    "area": "city",
    "经度": "lon",
    "lon": "lon",
    "longitude": "lon",
    "纬度": "lat",
    "lat": "lat",
    "latitude": "lat",
    "对照点": "control",
    "control": "control",
    "省级行政区": "province",
    "province": "province",
    "地级行政区": "prefecture",
    "prefecture": "prefecture",
}


def read_station_list(path: PathLike) -> pd.DataFrame:
    """Read the CNEMC national station list.

    Parameters
    ----------
    path : path-like
        CSV with ``监测点编码,监测点名称,城市,经度,纬度,对照点,省级行政区,地级行政区``
        (or the English names of :data:`STATION_LIST_VARIABLE_MAP`); UTF-8 or
        GB18030. ``对照点``, ``省级行政区`` and ``地级行政区`` are optional.

    Returns
    -------
    pandas.DataFrame
        One row per station, in file order: ``code`` (``1738A``), ``name``,
        ``city`` (short name as in the list, ``阳泉``), ``lon`` [°E], ``lat`` [°N]
        (WGS-84 as published; NaN where the list leaves them blank), ``control``
        (bool, background/control site ``Y``), ``province``, ``prefecture``.

    Raises
    ------
    ReaderError
        Missing columns, an empty or repeated station code, unreadable or
        out-of-range coordinates.
    """
    path = _as_paths(path)[0]
    return _station_list(path, str(path))


def parse_station_list(buf: IO[str]) -> pd.DataFrame:
    """Parse a station list from an open text buffer (see :func:`read_station_list`)."""
    return _station_list(buf, _source_name(buf))


def _station_list(src: PathLike | IO[str], source: str) -> pd.DataFrame:
    raw = _read_text_table(src, source, dtype=str)
    df, origin = _map_columns(raw, STATION_LIST_VARIABLE_MAP, ("code", "name", "city", "lon", "lat"), source)
    out = pd.DataFrame(index=df.index)
    out["code"] = _to_text(df, "code", source, origin, required=True)
    out["name"] = _to_text(df, "name", source, origin, required=False)
    out["city"] = _to_text(df, "city", source, origin, required=True)
    for name, (low, high) in {"lon": (-180, 180), "lat": (-90, 90)}.items():
        values = _to_numeric(df, name, source, origin)
        bad = (values < low) | (values > high)
        if bad.any():
            idx = _first_bad(bad)
            raise ReaderError(
                source,
                row=int(idx) + 2,
                column=origin[name],
                expected=f"a {'longitude' if name == 'lon' else 'latitude'} in degrees {low}..{high}",
                got=df.loc[idx, name],
            )
        out[name] = values
    out["control"] = _bool_column(df, "control", source, origin) if "control" in df.columns else False
    for name in ("province", "prefecture"):
        out[name] = _to_text(df, name, source, origin, required=False) if name in df.columns else pd.NA
    dup = out["code"].duplicated()
    if dup.any():
        idx = _first_bad(dup)
        raise ReaderError(
            source,
            row=int(idx) + 2,
            column=origin["code"],
            expected="a station code not used before",
            got=out.loc[idx, "code"],
        )
    return out.reset_index(drop=True)


#: aqistudy city names that no rule derives from the station list, and why:
#: ``库尔勒`` is the seat of 巴音郭楞州, whose stations are all in Korla;
#: ``博州`` is the usual short name of 博尔塔拉蒙古自治州; ``莱芜`` was merged into
#: 济南 in 2019, its remaining station is listed under 济南 and named 莱芜….
CITY_ALIASES: dict[str, tuple[str, str | None]] = {
    "库尔勒": ("巴音郭楞州", None),
    "博州": ("博尔塔拉蒙古自治州", None),
    "莱芜": ("济南", "莱芜"),
}


def city_coordinates(stations: pd.DataFrame | PathLike, cities: Iterable[str] | None = None) -> pd.DataFrame:
    """City coordinates as the mean lon/lat of the city's stations.

    Parameters
    ----------
    stations : DataFrame or path-like
        The result of :func:`read_station_list`, or the path of a station list.
    cities : iterable of str, optional
        City names to locate, e.g. the aqistudy names (``阳泉``, ``临夏州``,
        ``山南地区``). Names are matched to the list's ``city`` column: exactly;
        through :data:`CITY_ALIASES`; after dropping a ``地区``/``市``/``州``
        suffix, to the one list city or prefecture starting with the rest
        (``临夏州`` → ``临夏回族自治州``, ``山南地区`` → ``山南``). Without
        ``cities``, one row per city of the list.

    Returns
    -------
    pandas.DataFrame
        One row per city, in the order given (or sorted): ``city``, ``lon``,
        ``lat`` [°; mean over the stations with coordinates], ``n_stations``,
        ``matched`` (the list's city name used), ``match`` (``exact``, ``alias``,
        ``suffix``, ``prefecture`` or ``none``). Unmatched cities keep NaN
        coordinates and are counted in a :class:`ReaderWarning`.
    """
    st = stations if isinstance(stations, pd.DataFrame) else read_station_list(stations)
    missing = [c for c in ("city", "lon", "lat") if c not in st.columns]
    if missing:
        raise InputError(
            f"stations lacks column(s) {missing}; expected the columns of read_station_list, "
            f"found {list(st.columns)}"
        )
    located = st.dropna(subset=["lon", "lat"])
    by_city = located.groupby("city", sort=True).agg(
        lon=("lon", "mean"), lat=("lat", "mean"), n_stations=("lon", "size")
    )
    if cities is None:
        out = by_city.reset_index()
        out["matched"] = out["city"]
        out["match"] = "exact"
        return out[["city", "lon", "lat", "n_stations", "matched", "match"]]

    names = sorted(by_city.index)
    prefectures = {}
    if "prefecture" in located.columns:
        prefectures = {
            p: g for p, g in located.dropna(subset=["prefecture"]).groupby("prefecture") if isinstance(p, str)
        }
    rows = []
    for city in cities:
        city = str(city).strip()
        row = {"city": city, "lon": np.nan, "lat": np.nan, "n_stations": 0, "matched": None, "match": "none"}
        group, how, matched = None, "none", None
        if city in by_city.index:
            group, how, matched = located[located.city == city], "exact", city
        elif city in CITY_ALIASES:
            target, name_part = CITY_ALIASES[city]
            g = located[located.city == target]
            if name_part is not None and "name" in g.columns:
                g = g[g["name"].fillna("").str.contains(name_part, regex=False)]
            if len(g):
                group, how, matched = g, "alias", target
        if group is None:
            base = city
            for suffix in ("地区", "市", "州"):
                if base.endswith(suffix) and len(base) > len(suffix) + 1:
                    base = base[: -len(suffix)]
                    break
            if base != city:
                candidates = [n for n in names if n.startswith(base)]
                if len(candidates) == 1:
                    group, how, matched = located[located.city == candidates[0]], "suffix", candidates[0]
            if group is None:
                pref = [p for p in prefectures if p.startswith(base) and len(p) > len(base)]
                if len(pref) == 1:
                    group, how, matched = prefectures[pref[0]], "prefecture", pref[0]
        if group is not None and len(group):
            row.update(
                lon=float(group["lon"].mean()),
                lat=float(group["lat"].mean()),
                n_stations=len(group),
                matched=matched,
                match=how,
            )
        rows.append(row)
    out = pd.DataFrame(rows, columns=["city", "lon", "lat", "n_stations", "matched", "match"])
    unmatched = out.loc[out["match"] == "none", "city"].tolist()
    if unmatched:
        warnings.warn(
            f"city_coordinates: {len(unmatched)} of {len(out)} cities have no station in the list: "
            f"{unmatched[:20]}{' …' if len(unmatched) > 20 else ''}",
            ReaderWarning,
            stacklevel=2,
        )
    return out


# ---------------------------------------------------------------------- observations of any known layout
def is_prsa(path: PathLike) -> bool:
    """Whether ``path`` is a UCI Beijing multi-site file (``PRSA_Data_*``)."""
    return Path(path).name.startswith("PRSA_Data_")


def expand_paths(paths: PathLike | Iterable[PathLike], option: str) -> list[Path]:
    """Paths with folders replaced by the data files inside them (``*.csv``, ``*.csv.gz``, ``*.nc``).

    Raises
    ------
    FileNotFoundError
        Naming ``option`` (the command-line option or setting the paths came from) and the path.
    """
    out = []
    for p in [Path(paths)] if isinstance(paths, (str, os.PathLike)) else [Path(q) for q in paths]:
        if not p.exists():
            raise FileNotFoundError(f"{option}: no such file or folder {p}")
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.name.endswith((".csv", ".csv.gz", ".nc")))
            if not found:
                raise FileNotFoundError(f"{option}: folder {p} holds no .csv, .csv.gz or .nc file")
            out += found
        else:
            out.append(p)
    return out


def prsa_daily(hourly: pd.DataFrame) -> pd.DataFrame:
    """UCI multi-site hourly rows → daily rows per station (``city`` = station name) with the AQI."""
    from forecast.aggregate import hourly_to_daily
    from forecast.aqi import daily_aqi

    pollutants = [c for c in ("pm25", "pm10", "so2", "no2", "co", "o3") if c in hourly.columns]
    daily = hourly_to_daily(hourly[["station", "time", *pollutants]], by="station")
    daily = daily.rename(columns={"station": "city"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = daily_aqi(daily.drop(columns=[c for c in ("o3_1h",) if c in daily.columns]), standard="auto")
    daily["aqi"] = rep["aqi"].to_numpy()
    keep = ["city", "date", "aqi", "pm25", "pm10", "so2", "no2", "co", "o3_8h"]
    return daily[[c for c in keep if c in daily.columns]]


def is_china_sites(path: PathLike) -> bool:
    """Whether ``path`` is a CNEMC national archive file (``china_sites_YYYYMMDD.csv``)."""
    return Path(path).name.startswith("china_sites_")


def read_observations(paths: PathLike | Iterable[PathLike], option: str = "--obs",
                      stations: PathLike | pd.DataFrame | None = None) -> pd.DataFrame:
    """Daily observations from files of the layouts airwarn knows, in the city daily schema.

    What ``airwarn train/forecast/backtest --obs`` and the daily chain (setting ``observations``)
    read, files or folders of them, any mix:

    * city daily files (:func:`read_city_daily`, several concatenated in time);
    * CNEMC national archive files ``china_sites_YYYYMMDD.csv`` (:func:`read_china_sites`): station
      hours → station days → city days (mean of the city's non-control stations) with the AQI, by
      :func:`forecast.aggregate.city_daily_from_stations`; they need the station list ``stations``;
    * UCI Beijing multi-site files (hourly, aggregated to daily per station by :func:`prsa_daily`).

    Implausible values are set to NaN with one :class:`ReaderWarning` per reader naming the file,
    rows, columns and values; the rows are in ``attrs["qc_rows"]`` (with the ``city`` of each, a
    station mapped through the station list), for :func:`qc_notes`. A city and day given by two
    layouts (a city daily file and the national archive, say) takes the later layout's values
    (city daily, then national archive, then UCI), with a warning naming both.

    Raises
    ------
    FileNotFoundError
        If a path does not exist (the message names ``option``).
    ValueError
        If national archive files come without a station list.
    ReaderError
        If a file is malformed (file, line, column, expected, got).
    """
    files = expand_paths(paths, option)
    prsa = [p for p in files if is_prsa(p)]
    sites = [p for p in files if is_china_sites(p)]
    daily = [p for p in files if p not in prsa and p not in sites]
    if sites and stations is None:
        raise InputError(f"{option}: {len(sites)} CNEMC national archive file(s) ({sites[0].name} …) need the "
                         f"station list to map stations to cities (--stations / setting 'stations')")
    frames, records, names = [], [], []
    if daily:
        frames.append(read_city_daily(daily))
        records += frames[-1].attrs.get("qc_rows", [])
        names.append(str(daily[0]) if len(daily) == 1
                     else f"{len(daily)} city daily files ({daily[0].name} …)")
    if sites:
        from forecast.aggregate import city_daily_from_stations

        table = stations if isinstance(stations, pd.DataFrame) else read_station_list(stations)
        hourly = read_china_sites(sites)
        city_of = dict(zip(table["code"].astype(str), table["city"].astype(str)))
        for rec in hourly.attrs.get("qc_rows", []):
            if rec.get("station") is not None:
                rec.setdefault("city", city_of.get(str(rec["station"])))
        records += hourly.attrs.get("qc_rows", [])
        frames.append(city_daily_from_stations(hourly, table))
        names.append(f"the national archive files ({sites[0].name} …)")
    if prsa:
        hourly = read_prsa_multisite(prsa)
        for rec in hourly.attrs.get("qc_rows", []):
            if rec.get("station") is not None:
                rec.setdefault("city", rec["station"])
        records += hourly.attrs.get("qc_rows", [])
        frames.append(prsa_daily(hourly))
        names.append(f"the UCI files ({prsa[0].name} …)")
    obs = pd.concat([f.assign(_layout=k) for k, f in enumerate(frames)], ignore_index=True)
    if len(frames) > 1:
        obs = obs.sort_values(["city", "date", "_layout"], kind="stable")
        twice = obs.duplicated(["city", "date"], keep="last")
        if twice.any():
            kept = obs.drop_duplicates(["city", "date"], keep="last").set_index(["city", "date"])["_layout"]
            shown = []
            for idx in obs.index[twice.to_numpy()][:MAX_QC_ROWS]:
                city, day = obs.loc[idx, "city"], obs.loc[idx, "date"]
                shown.append({"file": names[int(obs.loc[idx, "_layout"])], "row": None, "column": None,
                              "value": None, "city": city, "date": _key_text(day, "date"),
                              "problem": f"also in {names[int(kept.loc[(city, day)])]}, "
                                         f"whose values are used"})
            if twice.sum() > len(shown):
                shown.append({"file": shown[-1]["file"], "row": None, "more": int(twice.sum()) - len(shown)})
            for rec in shown:
                _add_record(records, rec)
            warnings.warn(f"{option}: {int(twice.sum())} city day(s) in more than one layout; the later "
                          f"layout's values are used: {_records_text(shown)}", ReaderWarning, stacklevel=2)
            obs = obs.loc[~twice]
    obs = obs.drop(columns="_layout").sort_values(["city", "date"], kind="stable").reset_index(drop=True)
    obs.attrs = {"qc_rows": records}
    return obs


def qc_notes(obs: pd.DataFrame, cities: Iterable[str] | None = None) -> list[str]:
    """The data-quality sentences of observations read by the readers here.

    Parameters
    ----------
    obs : DataFrame
        The result of :func:`read_observations` (or of a reader): ``attrs["qc_rows"]`` lists the
        values set to missing and the rows replaced.
    cities : iterable of str, optional
        Keep only the rows of these cities (rows whose city is unknown are kept).

    Returns
    -------
    list of str
        One English sentence per file: how many values were set to missing or rows replaced, and
        each of them (row as the file numbers it, column, value, why; :data:`MAX_QC_ROWS` per
        reader, then how many more). Empty when clean.
    """
    rows = list(obs.attrs.get("qc_rows", []))
    if cities is not None:
        wanted = set(map(str, cities))
        rows = [r for r in rows
                if r.get("more") is not None or r.get("city") is None or str(r["city"]) in wanted]
    by_file: dict[str, list[dict]] = {}
    for r in rows:
        by_file.setdefault(str(r.get("file")), []).append(r)
    notes = []
    for file, recs in by_file.items():
        n = sum(r["more"] if r.get("more") is not None else 1 for r in recs)
        dropped = sum(1 for r in recs if r.get("value") is not None)
        what = (f"{n} value(s) set to missing (not used)" if dropped == n
                else f"{n} value(s) or row(s) set aside (not used)")
        notes.append(f"{file}: {what}: {_records_text(recs, file, limit=None)}")
    return notes
