"""The post-episode evaluations (总结评估) of the city's warnings as the 指挥 page lists them.

``airwarn evaluate`` writes each episode's ``evaluation_<start>_<level>.json`` (with its Chinese
report ``.html``) into ``<output_dir>/evaluations`` (:func:`airwarn.core.products.evaluations_dir`).
:func:`evaluation_rows` reads them (each cached on its file stamp) through
:func:`emergency.evaluation.evaluation_summary` and gives one row per episode, newest first, in the
page's Chinese wording. A file that cannot be read is listed as such, never an error of the page.
"""
from __future__ import annotations

from pathlib import Path

from airwarn.core.products import evaluations_dir
from airwarn.core.settings import Settings
from airwarn.core.vocab import WarningLevel
from dashboard.services.context import cached_by_stamp, settings
from emergency.evaluation import evaluation_summary
from emergency.evaluation_report import VERDICT_ZH

__all__ = ["EVALUATION_COLUMNS", "evaluation_rows"]

#: Columns of :func:`evaluation_rows` (Chinese, as shown).
EVALUATION_COLUMNS = ("时段", "级别", "PM2.5 相对业务照常情景", "置信区间", "判定", "对照窗口数", "效益模型预估", "备注")


def _pct(x) -> str:
    return "—" if x is None else f"{x:+.1f}%"


@cached_by_stamp()
def _summary(path: Path) -> dict:
    return evaluation_summary(path)


def evaluation_rows(s: Settings | None = None, city: str | None = None, limit: int = 20) -> list[dict]:
    """One row per evaluated episode of ``city`` (default the settings' city), newest first (module notes)."""
    s = s or settings()
    city = city or s.city
    folder = evaluations_dir(s.output_dir)
    if not folder.is_dir():
        return []
    rows = []
    for path in sorted(folder.glob("evaluation_*.json"), key=lambda p: p.name, reverse=True):
        try:
            d = _summary(str(path))
        except (OSError, ValueError, KeyError, TypeError):
            rows.append({c: "" for c in EVALUATION_COLUMNS} | {"时段": path.stem, "备注": "文件无法读取"})
            continue
        if d.get("city") != city:
            continue
        try:
            level = WarningLevel.parse(d["level"]).label
        except (ValueError, KeyError):
            level = str(d.get("level", ""))
        rows.append({"时段": f"{d['start']} 至 {d['end']}", "级别": level, "PM2.5 相对业务照常情景": _pct(d["pm25_relative"]),
                     "置信区间": f"{_pct(d['pm25_relative_low'])} ～ {_pct(d['pm25_relative_high'])}",
                     "判定": VERDICT_ZH.get(d.get("verdict"), str(d.get("verdict") or "—")),
                     "对照窗口数": d.get("placebo_windows") or 0,
                     "效益模型预估": _pct(d.get("benefit_pm25_relative")),
                     "备注": "合成示例数据" if d.get("synthetic") else ""})
        if len(rows) >= limit:
            break
    return rows
