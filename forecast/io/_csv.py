"""The CSV reading and data-quality (QC) machinery every reader of :mod:`forecast.io` shares.

Private to the package: the readers import it, :mod:`forecast.io` re-exports its public names
(:func:`check_last_line`, :func:`read_table`, :class:`ReaderWarning`, :data:`PLAUSIBLE_RANGES`,
:data:`MAX_QC_ROWS`, :func:`qc_notes`, :data:`HOURLY_POLLUTANTS`), and :mod:`forecast.nwp` takes
:class:`ReaderWarning` from here.

- Reading: :func:`_read_text_table` (UTF-8 then GB18030, blank lines kept so that ``index + 2`` is
  the file's line number, a cut last line refused by :func:`check_last_line`), :func:`read_table`.
- Columns: :func:`_map_columns` (source header → glossary name through a reader's variable map),
  :func:`_to_numeric`, :func:`_to_datetime`, :func:`_to_text`, :func:`_bool_column`: the first
  unreadable value raises :class:`~airwarn.core.errors.ReaderError` naming file, row, column,
  expected and got.
- Cleaning: :func:`_range_check` (values outside :data:`PLAUSIBLE_RANGES` → NaN),
  :func:`_drop_duplicates` (exact repeats dropped, conflicting ones refused), :func:`_hourly_grid`.
- QC records: the rows set to missing (:func:`_add_record`, at most :data:`MAX_QC_ROWS` per call),
  their text (:func:`_records_text`), the one :class:`ReaderWarning` per call (:func:`_warn_qc`)
  and the data-quality sentences of a forecast (:func:`qc_notes`).
"""

from __future__ import annotations

import csv
import glob
import gzip
import os
import re
import warnings
import zlib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from airwarn.core.errors import InputError, ReaderError, _as_file_text
from airwarn.core.vocab import HOURLY_POLLUTANTS

__all__ = [
    "HOURLY_POLLUTANTS",
    "MAX_QC_ROWS",
    "NA_VALUES",
    "PLAUSIBLE_RANGES",
    "PathLike",
    "ReaderWarning",
    "check_last_line",
    "qc_notes",
    "read_table",
]

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


def _require_known(values: pd.Series, allowed: Iterable[str], df: pd.DataFrame, name: str, source: str,
                   origin: Mapping[str, str], expected: str) -> None:
    """Raise :class:`ReaderError` at the first value of ``values`` (text, NaN allowed) not in ``allowed``,
    naming the row, the column as in the file, ``expected`` and the value read from ``df[name]``."""
    bad = values.notna() & ~values.isin(list(allowed))
    if bad.any():
        idx = _first_bad(bad)
        raise ReaderError(source, row=int(idx) + 2, column=origin[name], expected=expected, got=df.loc[idx, name])


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


# HOURLY_POLLUTANTS (re-exported from airwarn.core.vocab): glossary names of hourly pollutant
# concentrations (µg/m³; CO mg/m³). The hourly O3 value is ``o3`` (its daily maximum is ``o3_1h``).


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


def qc_notes(obs: pd.DataFrame, cities: Iterable[str] | None = None) -> list[str]:
    """The data-quality sentences of observations read by the readers of :mod:`forecast.io`.

    Parameters
    ----------
    obs : DataFrame
        The result of :func:`forecast.io.read_observations` (or of a reader): ``attrs["qc_rows"]`` lists the
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


def expand_pattern(paths: PathLike | Iterable[PathLike], kind: str) -> list[str]:
    """The files meant by a path, a glob pattern (``run/*.grib2``) or a list of paths, in order.

    ``kind`` names the files in the messages (``"netCDF"``, ``"GRIB"``).

    Raises
    ------
    FileNotFoundError
        A pattern that matches nothing, or a path that does not exist.
    InputError
        An empty list.
    """
    if isinstance(paths, (str, os.PathLike)):
        text = str(paths)
        if any(ch in text for ch in "*?["):
            found = sorted(glob.glob(text))
            if not found:
                raise FileNotFoundError(f"no {kind} file matches {text!r}")
            return found
        items = [text]
    else:
        items = [str(p) for p in paths]
    if not items:
        raise InputError(f"no file given; expected a {kind} path, a glob pattern or a non-empty list of paths")
    for p in items:
        if not Path(p).exists():
            raise FileNotFoundError(f"no such file: {p}")
    return items
