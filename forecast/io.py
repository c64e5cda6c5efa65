"""Readers of the observation formats airwarn receives.

Every reader returns a tidy :class:`pandas.DataFrame` whose columns carry the
glossary names and units of :mod:`airwarn.vocab` (µg/m³, CO in mg/m³). Each
maps its source's column names through a ``VARIABLE_MAP`` (as
``pvlib.iotools`` does), so drifting headers (``PM2.5``/``pm2.5``/``pm25``)
land on one name. Verbs follow ``pvlib.iotools``: ``read_*`` opens a path,
``parse_*`` takes an open text buffer.

A malformed file raises :class:`ReaderError` (a :class:`ValueError`) naming the
file, the 1-based line number as it appears in the file, the column, what was
expected and what came. Values that parse but are implausible (negative, or
beyond :data:`PLAUSIBLE_RANGES`) are set to NaN and counted in one
:class:`ReaderWarning` per call; the counts are also kept in ``df.attrs["qc"]``.

Gridded NWP / reanalysis fields are read by :mod:`forecast.nwp`.
"""
from __future__ import annotations

import io
import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Literal

import numpy as np
import pandas as pd

from airwarn.vocab import DAILY_POLLUTANTS

__all__ = [
    "CITY_DAILY_VARIABLE_MAP",
    "PLAUSIBLE_RANGES",
    "ReaderError",
    "ReaderWarning",
    "parse_city_daily",
    "read_city_daily",
]

PathLike = str | os.PathLike

#: Strings that mean "no value" in the formats read here (besides empty fields).
#: ``/`` is the HJ 633-2026 mark for "not covered by the monitoring plan".
NA_VALUES: tuple[str, ...] = ("NA", "N/A", "NaN", "nan", "null", "NULL", "-", "—", "--", "/")

#: Plausible ranges of the glossary variables, ``(low, high)`` inclusive, in the
#: glossary units (µg/m³; CO mg/m³; temperature °C; pressure hPa). Values
#: outside are not physical or are instrument/transcription faults (e.g. the
#: ``o3`` values above 1,000 µg/m³ in a few southern cities of the aqistudy
#: file) and become NaN with a :class:`ReaderWarning`. The upper limits are
#: generous: real dust storms give daily PM10 above 3,000 (Kashgar 8,819).
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


class ReaderError(ValueError):
    """A file does not have the expected layout or holds a value that cannot be read.

    Attributes
    ----------
    source : str
        The file (or buffer name).
    row : int or None
        1-based line number in the file (the header is line 1).
    column : str or None
        The column as named in the file.
    expected, got : str or None
        What the reader expected and what it found.
    """

    def __init__(
        self,
        source: str,
        message: str | None = None,
        *,
        row: int | None = None,
        column: str | None = None,
        expected: str | None = None,
        got: object = None,
    ) -> None:
        self.source, self.row, self.column, self.expected, self.got = source, row, column, expected, got
        where = [str(source)]
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        text = ", ".join(where) + ": "
        if message:
            text += message
        else:
            text += f"expected {expected}, got {got!r}"
        super().__init__(text)


class ReaderWarning(UserWarning):
    """Values were cleaned while reading (implausible values, duplicate rows, zero rows).

    A :class:`UserWarning`, not an :class:`airwarn.AirwarnWarning`: cleaning a
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
    BOM) first, then GB18030 (bureau spreadsheets are often GBK).
    """
    kwargs = dict(
        keep_default_na=False, na_values=["", *NA_VALUES], skip_blank_lines=False, low_memory=False, **kwargs
    )
    encodings = ("utf-8-sig", "gb18030") if isinstance(path_or_buf, (str, os.PathLike)) else (None,)
    last_exc: Exception | None = None
    for encoding in encodings:
        try:
            df = pd.read_csv(path_or_buf, encoding=encoding, **kwargs)
            break
        except UnicodeDecodeError as exc:
            last_exc = exc
        except pd.errors.EmptyDataError as exc:
            raise ReaderError(source, "the file is empty; expected a CSV header line") from exc
        except pd.errors.ParserError as exc:
            raise ReaderError(source, f"not a readable CSV table: {exc}") from exc
    else:
        raise ReaderError(source, "expected UTF-8 or GB18030 text, got undecodable bytes") from last_exc
    df.columns = [str(c).strip() for c in df.columns]
    # Blank lines are all-empty rows; keep the index (= line - 2) and drop them.
    blank = df.isna().all(axis=1)
    return df.loc[~blank] if blank.any() else df


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


def _to_text(df: pd.DataFrame, name: str, source: str, origin: Mapping[str, str], *, required: bool) -> pd.Series:
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


def _range_check(df: pd.DataFrame, columns: Iterable[str], qc: dict[str, int]) -> pd.DataFrame:
    """NaN the values outside :data:`PLAUSIBLE_RANGES`; count them in ``qc``."""
    updates = {}
    for name in columns:
        if name not in df.columns or name not in PLAUSIBLE_RANGES:
            continue
        low, high = PLAUSIBLE_RANGES[name]
        values = df[name]
        below = values < low
        above = values > high
        if below.any():
            qc[f"{name}<{low:g}"] = int(below.sum())
        if above.any():
            qc[f"{name}>{high:g}"] = int(above.sum())
        if below.any() or above.any():
            updates[name] = values.mask(below | above)
    return df.assign(**updates) if updates else df


def _warn_qc(source: str, qc: Mapping[str, int], stacklevel: int = 3) -> None:
    if qc:
        detail = ", ".join(f"{k}: {v}" for k, v in qc.items())
        warnings.warn(f"{source}: cleaned while reading ({detail})", ReaderWarning, stacklevel=stacklevel)


def _as_paths(path_or_paths: PathLike | Iterable[PathLike]) -> list[Path]:
    if isinstance(path_or_paths, (str, os.PathLike)):
        paths = [Path(path_or_paths)]
    else:
        paths = [Path(p) for p in path_or_paths]
    if not paths:
        raise ValueError("no file given; expected a path or a non-empty list of paths")
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
    "city", "date", "aqi", "quality_level", *DAILY_POLLUTANTS, "aqi_min", "aqi_max", "rank",
)

_CITY_DAILY_REQUIRED = ("city", "date", "aqi", *DAILY_POLLUTANTS)


def parse_city_daily(
    buf: IO[str], *, zero_rows: Literal["drop", "nan"] = "drop", source: str | None = None
) -> pd.DataFrame:
    """Parse one city daily table in the aqistudy layout from an open text buffer.

    See :func:`read_city_daily` for the layout and the result.
    """
    source = source or _source_name(buf)
    frame, qc = _parse_city_daily_table(_read_text_table(buf, source), source, zero_rows)
    _warn_qc(source, qc)
    frame.attrs["qc"] = qc
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
    for order, path in enumerate(paths):
        frame, file_qc = _parse_city_daily_table(_read_text_table(path, str(path)), str(path), zero_rows)
        for k, v in file_qc.items():
            qc[k] = qc.get(k, 0) + v
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
            qc["duplicates"] = int(data.loc[dup].duplicated(["city", "date"]).sum())
            data = data.drop_duplicates(["city", "date"], keep="last")
    if "synthetic" in data.columns:
        data["synthetic"] = data["synthetic"].fillna(False).astype(bool)
    data = data.drop(columns="_order").sort_values(["city", "date"], kind="stable").reset_index(drop=True)
    source = str(paths[0]) if len(paths) == 1 else f"{len(paths)} files ({paths[0].name} …)"
    _warn_qc(source, {k: v for k, v in qc.items() if k != "duplicates"})
    data.attrs["qc"] = qc
    return data


def _parse_city_daily_table(
    raw: pd.DataFrame, source: str, zero_rows: Literal["drop", "nan"]
) -> tuple[pd.DataFrame, dict[str, int]]:
    if zero_rows not in ("drop", "nan"):
        raise ValueError(f"zero_rows must be 'drop' or 'nan', got {zero_rows!r}")
    df, origin = _map_columns(raw, CITY_DAILY_VARIABLE_MAP, _CITY_DAILY_REQUIRED, source)
    qc: dict[str, int] = {}
    out = pd.DataFrame(index=df.index)
    out["city"] = _to_text(df, "city", source, origin, required=True)
    out["date"] = _to_datetime(df, "date", source, origin, "%Y-%m-%d", "a date YYYY-MM-DD")
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
    # Isolated zeros of one pollutant are missing values too.
    updates = {}
    for name in DAILY_POLLUTANTS:
        is_zero = out[name] == 0
        if is_zero.any():
            qc[f"{name}=0"] = int(is_zero.sum())
            updates[name] = out[name].mask(is_zero)
    if updates:
        out = out.assign(**updates)
    out = _range_check(out, ["aqi", *DAILY_POLLUTANTS], qc)
    return out.reset_index(drop=True), qc


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
