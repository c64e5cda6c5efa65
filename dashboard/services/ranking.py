"""The county ranking (考核排名) as the page shows it: the newest ranking product of the output folder.

``airwarn rank --out <output_dir>/<YYYY-MM-DD>`` and the demo (:func:`forecast.synthetic_counties.build_ranking_demo`)
leave ``ranking.csv``, ``ranking_tracking.json`` and ``ranking_report.html`` in a product day's folder
(:mod:`airwarn.core.products`). :func:`ranking_view` reads the newest day holding a ``ranking.csv`` (each file
cached on its stamp, :func:`dashboard.services.context.cached_by_stamp`) and returns the table, the period,
the standard, the synthetic mark and the target tracking. No ranking yet is not an error (``available`` is
False with a message); a file that cannot be read raises :class:`~airwarn.core.errors.InputError` with a
Chinese message naming the file, row and column.

The ranking is not compliance data: every signed-in role may see it (the page checks the sign-in).
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd

from airwarn.core.errors import InputError
from airwarn.core.files import csv_unescape
from airwarn.core.products import RANKING_CSV, RANKING_REPORT_HTML, RANKING_TRACKING_JSON, product_days, product_path
from airwarn.core.settings import Settings
from dashboard.services.context import cached_by_stamp, settings
from dashboard.services.product_csv import file_error, parse_numbers, read_text_csv
from forecast.ranking import INDEX_POLLUTANTS

#: Columns the page needs from ``ranking.csv``.
REQUIRED_COLUMNS: tuple[str, ...] = ("county", "composite_index", "rank", "change_rate",
                                     *[f"term_{p}" for p in INDEX_POLLUTANTS])
#: How the messages name these files.
_WHAT = "排名文件"
_NUMBERS = ("composite_index", "change_rate", "index_last_year", *[f"term_{p}" for p in INDEX_POLLUTANTS],
            *[f"c_{p}" for p in INDEX_POLLUTANTS])


def _bad(path: Path, row: int | None, column: str | None, expected: str, got) -> InputError:
    return file_error(_WHAT, path, row, column, expected, got)


@cached_by_stamp(maxsize=8)
def read_ranking(path: Path) -> pd.DataFrame:
    """The rows of a ``ranking.csv`` (numbers as floats, ``rank`` int, sorted by rank).

    Raises
    ------
    InputError
        Not a CSV, a missing column, a bad number or rank (the message names file, row, column).
    """
    df = read_text_csv(_WHAT, path, REQUIRED_COLUMNS)
    parse_numbers(_WHAT, df, path, [c for c in _NUMBERS if c in df.columns])
    rank = pd.to_numeric(df["rank"].str.strip(), errors="coerce")
    if rank.isna().any() or (rank != rank.round()).any():
        i = int(np.flatnonzero((rank.isna() | (rank != rank.round())).to_numpy())[0])
        raise _bad(path, i + 2, "rank", "整数名次（无名次为 -1）", df["rank"].iloc[i])
    df["rank"] = rank.astype(int)
    df["county"] = df["county"].map(csv_unescape)
    for c in ("synthetic", "limits_verified", "complete", "weighted"):
        if c in df.columns:
            df[c] = df[c].str.strip().str.lower().isin(["true", "1", "yes"])
    order = np.where(df["rank"] > 0, df["rank"], np.iinfo(np.int32).max)
    return df.iloc[np.lexsort((df["county"].to_numpy(), order))].reset_index(drop=True)


@cached_by_stamp(maxsize=8)
def read_tracking(path: Path) -> dict:
    """The ``ranking_tracking.json`` of a ranking (period, standard, synthetic, targets, monthly PM2.5).

    Raises
    ------
    InputError
        Not a JSON object (the message names the file).
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _bad(path, None, None, "JSON 对象", type(exc).__name__) from None
    if not isinstance(data, dict):
        raise _bad(path, None, None, "JSON 对象", type(data).__name__)
    return data


def ranking_days(s: Settings | None = None) -> list[dt.date]:
    """The product days holding a ranking, newest first."""
    s = s or settings()
    return sorted(product_days(s.output_dir, RANKING_CSV), reverse=True)


def ranking_view(day: "dt.date | str | None" = None, s: Settings | None = None) -> dict:
    """What the 考核排名 page shows of the newest ranking (or the one of product day ``day``).

    Returns
    -------
    dict
        ``available`` (False: no ranking yet, then ``message`` says so), ``day``, ``days`` (all, newest first),
        ``table`` (:func:`read_ranking`), ``meta`` (:func:`read_tracking`, ``{}`` without the file),
        ``tracking`` (``meta["tracking"]``), ``synthetic``, ``standard``, ``period_zh``, ``report`` (the
        report file exists), ``message``.
    """
    s = s or settings()
    days = ranking_days(s)
    if not days:
        return {"available": False, "day": None, "days": [], "table": pd.DataFrame(columns=list(REQUIRED_COLUMNS)),
                "meta": {}, "tracking": {}, "synthetic": False, "standard": "", "period_zh": "", "report": False,
                "message": f"尚无考核排名结果（{s.output_dir}）：请先运行 airwarn rank --out <产品日目录> 或 airwarn demo。"}
    if day is not None:
        wanted = dt.date.fromisoformat(day) if isinstance(day, str) else day
        pday = wanted if wanted in days else days[0]
    else:
        pday = days[0]
    table = read_ranking(product_path(s.output_dir, pday, RANKING_CSV))
    tpath = product_path(s.output_dir, pday, RANKING_TRACKING_JSON)
    meta = read_tracking(tpath) if tpath.exists() else {}
    synthetic = bool(meta.get("synthetic")) or bool("synthetic" in table.columns and table["synthetic"].any())
    standard = str(meta.get("standard") or (table["standard"].iloc[0] if "standard" in table.columns and len(table)
                                             else ""))
    return {"available": True, "day": pday, "days": days, "table": table, "meta": meta,
            "tracking": meta.get("tracking") or {}, "synthetic": synthetic, "standard": standard,
            "period_zh": str(meta.get("period_zh") or (table["period"].iloc[0] if "period" in table.columns
                                                       and len(table) else "")),
            "report": product_path(s.output_dir, pday, RANKING_REPORT_HTML).exists(), "message": ""}
