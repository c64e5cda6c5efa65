"""Post-event report: forecast AQI vs observed AQI vs the planned cuts, per day of the episode.

:func:`post_event_report` takes the recommendation the warning was based on, the observed daily AQI
(``city, date, aqi`` as :func:`forecast.io.read_city_daily` gives) and the planned reductions, and
returns an :class:`EventReport` with a per-day table, a summary (MAE and bias of the forecast, the
level the observed series would have triggered under the same rules) and HTML/CSV writers.
"""
from __future__ import annotations

import html
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from airwarn.core.files import atomic_path, atomic_write_text
from airwarn.core.vocab import EMISSION_LABELS, EMISSION_POLLUTANTS, WarningLevel
from emergency.engine import Recommendation, find_episodes
from emergency.reductions import Reductions
from emergency.rules import load_rules
from airwarn.core.errors import InputError


#: Chinese column names of the written report (the table keeps the English keys).
COLUMN_LABELS: dict[str, str] = {
    "date": "日期", "forecast_aqi": "预报AQI", "observed_aqi": "实况AQI", "error": "误差（预报−实况）",
    "in_warning": "预警期内", **{f"cut_{p}": f"计划减排{EMISSION_LABELS[p]}（吨/天）" for p in EMISSION_POLLUTANTS}}


def _num(x: float, fmt: str) -> str:
    """A number for the report text, ``—`` when missing."""
    return "—" if x is None or not np.isfinite(x) else format(x, fmt)


@dataclass(frozen=True)
class EventReport:
    """Per-day comparison and summary of one warning episode.

    Attributes
    ----------
    table : DataFrame
        ``date, forecast_aqi, observed_aqi, error, in_warning, cut_so2, cut_nox, cut_pm, cut_vocs``
        (cuts [t/day] on warning days).
    summary : dict
        ``city, level, start, end, days, mae, bias, observed_max, observed_level``.
    """

    table: pd.DataFrame
    summary: Mapping[str, Any]

    def shown(self) -> pd.DataFrame:
        """The table as written: Chinese column names (:data:`COLUMN_LABELS`), 是/否 for ``in_warning``."""
        t = self.table.copy()
        t["in_warning"] = t["in_warning"].map({True: "是", False: "否"})
        return t.rename(columns=COLUMN_LABELS)

    def to_csv(self, path: "str | os.PathLike") -> Path:
        """Write the table (:meth:`shown`) as CSV (UTF-8 with BOM) atomically."""

        path = Path(path)
        with atomic_path(path) as tmp:
            self.shown().to_csv(tmp, index=False, encoding="utf-8-sig")
        return path

    def to_html(self) -> str:
        """A printable HTML page."""
        s = self.summary
        table = self.shown()
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns)
        rows = "".join("<tr>" + "".join(f"<td>{'' if pd.isna(v) else html.escape(str(round(v, 3) if isinstance(v, float) else v))}</td>"
                                        for v in r) + "</tr>" for r in table.itertuples(index=False))
        period = f"{s['start']} 至 {s['end']}（{s['days']} 天）" if s["days"] else "未发布预警"
        return (f"<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{html.escape(s['city'])}"
                f"重污染过程总结</title></head><body><h1>{html.escape(s['city'])}重污染天气过程评估</h1>"
                f"<p>预警级别 {html.escape(s['level_label'])}，{period}；"
                f"预报平均绝对误差 {_num(s['mae'], '.1f')}，平均偏差 {_num(s['bias'], '+.1f')}；"
                f"观测最高 AQI {_num(s['observed_max'], '.0f')}；"
                f"按相同规则观测序列对应级别：{html.escape(s['observed_level_label'])}。</p>"
                f"<table border=\"1\" cellspacing=\"0\" cellpadding=\"3\"><tr>{head}</tr>{rows}</table></body></html>")

    def write(self, folder: "str | os.PathLike", stem: str = "event_report") -> list[Path]:
        """Write ``<stem>.csv`` and ``<stem>.html`` into ``folder``."""

        folder = Path(folder)
        out = [self.to_csv(folder / f"{stem}.csv")]
        atomic_write_text(folder / f"{stem}.html", self.to_html())
        return out + [folder / f"{stem}.html"]


def post_event_report(rec: Recommendation, observed: pd.DataFrame, reductions: Reductions | None = None,
                      rules: Any = None) -> EventReport:
    """Compare the forecast behind a warning with what was observed.

    Parameters
    ----------
    rec : Recommendation
        The recommendation the warning was based on (its ``dates`` and ``aqi`` are the forecast).
    observed : DataFrame
        ``city, date, aqi`` observed daily AQI (other cities are ignored).
    reductions : Reductions, optional
        Planned cuts of the warning level.
    rules : RuleSet or name, optional
        Rules to grade the observed series (default: the recommendation's rule set).

    Raises
    ------
    KeyError
        Missing columns in ``observed``.
    """
    missing = [c for c in ("date", "aqi") if c not in observed.columns]
    if missing:
        raise InputError(f"post_event_report: observed data need columns ['city', 'date', 'aqi']; missing {missing}")
    obs = observed
    if "city" in obs.columns:
        obs = obs[obs["city"].astype(str) == rec.city]
    obs = obs.assign(date=pd.to_datetime(obs["date"]).dt.normalize()).set_index("date")["aqi"]
    dates = pd.to_datetime(list(rec.dates)).normalize()
    fc = np.asarray(rec.aqi, dtype=float)
    ob = obs.reindex(dates).to_numpy(dtype=float)
    in_warn = np.zeros(len(dates), dtype=bool)
    if rec.start is not None:
        in_warn = (dates >= pd.Timestamp(rec.start).normalize()) & (dates <= pd.Timestamp(rec.end).normalize())
    table = pd.DataFrame({"date": [d.date().isoformat() for d in dates], "forecast_aqi": fc, "observed_aqi": ob,
                          "error": fc - ob, "in_warning": in_warn})
    for p in EMISSION_POLLUTANTS:
        cut = reductions.cut[p] if reductions is not None else 0.0
        table[f"cut_{p}"] = np.where(in_warn, cut, 0.0)
    rs = load_rules(rules or rec.rules_name or "national-2024")
    eps = find_episodes(ob, rs)
    obs_level = max((e.level for e in eps), default=WarningLevel.NONE)
    err = table["error"].dropna()
    summary = {"city": rec.city, "level": rec.level.key, "level_label": rec.level.label,
               "start": str(rec.start), "end": str(rec.end), "days": rec.duration_days,
               "mae": float(err.abs().mean()) if len(err) else float("nan"),
               "bias": float(err.mean()) if len(err) else float("nan"),
               "observed_max": float(np.nanmax(ob)) if np.isfinite(ob).any() else float("nan"),
               "observed_level": obs_level.key, "observed_level_label": obs_level.label,
               "planned_cut_t_per_day": {EMISSION_LABELS[p]: (reductions.cut[p] if reductions else 0.0)
                                         for p in EMISSION_POLLUTANTS}}
    return EventReport(table, summary)
