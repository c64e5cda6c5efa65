"""Reading a product CSV the daily chain or a command wrote (督查, 排名), for the pages.

The product files are read as text, checked for the columns a page needs, and their numbers parsed,
each problem an :class:`~airwarn.core.errors.InputError` with a Chinese message that names the
product day and the file (never the server's path), the row and the column: the pages show it as it is.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from airwarn.core.errors import InputError

__all__ = ["file_error", "parse_numbers", "read_text_csv"]


def file_error(what: str, path: Path, row: int | None, column: str | None, expected: str, got) -> InputError:
    """``{what} 2026-01-10/compliance.csv 第 3 行 “kw”列：应为…，实际为 …`` (``what``: 督查文件, 排名文件 …)."""
    where = (f"{what} {path.parent.name}/{path.name}" + (f" 第 {row} 行" if row is not None else "")
             + (f" “{column}”列" if column else ""))
    return InputError(f"{where}：应为{expected}，实际为 {got!r}")


def read_text_csv(what: str, path: Path, columns: Iterable[str]) -> pd.DataFrame:
    """The file's cells as text (UTF-8, with or without BOM), refused without one of ``columns``."""
    columns = tuple(columns)
    try:
        df = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise file_error(what, path, None, None, f"UTF-8 编码的 CSV 文件（{path.name}）", type(exc).__name__) from None
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise file_error(what, path, 1, None, f"表头包含 {'、'.join(columns)}", "缺少 " + "、".join(missing))
    return df


def parse_numbers(what: str, df: pd.DataFrame, path: Path, columns: Iterable[str]) -> None:
    """Parse ``columns`` of ``df`` in place as floats (an empty cell is NaN; anything else is an error)."""
    for c in columns:
        raw = df[c].str.strip()
        val = pd.to_numeric(raw.replace("", np.nan), errors="coerce")
        bad = val.isna() & (raw != "")
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise file_error(what, path, i + 2, c, "数字或空值", df[c].iloc[i])
        df[c] = val.astype(float)
