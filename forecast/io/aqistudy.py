"""Reader of the aqistudy city daily layout: published daily AQI and concentrations per city.

The layout of ``../shared/data/cn_city_daily_aqistudy`` (README §1): one row per city and day,
``city,date,aqi,aqi_range,quality_level,pm25,pm10,so2,co,no2,o3,rank``. The source's ``o3`` is
the daily maximum 8-h running mean (``o3_8h``). Rows that aqistudy fills with zeros (no data that
day) and isolated zeros of one pollutant are missing values; :func:`read_city_daily` concatenates
several files in time (a later file's day wins, the differences are reported).

- :data:`CITY_DAILY_VARIABLE_MAP`: source column → glossary name.
- :func:`read_city_daily` (paths), :func:`parse_city_daily` (an open text buffer).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Literal

import numpy as np
import pandas as pd

from airwarn.core.errors import InputError, ReaderError
from airwarn.core.vocab import DAILY_POLLUTANTS
from forecast.io._csv import (
    PathLike,
    _add_record,
    _as_paths,
    _bool_column,
    _drop_duplicates,
    _first_bad,
    _key_text,
    _map_columns,
    _range_check,
    _read_text_table,
    _source_name,
    _to_datetime,
    _to_numeric,
    _to_text,
    _warn_qc,
)

__all__ = ["CITY_DAILY_COLUMNS", "CITY_DAILY_VARIABLE_MAP", "parse_city_daily", "read_city_daily"]

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
