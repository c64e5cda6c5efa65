"""What a level's measures buy, as the 指挥 page shows it beside the tonnes: PM2.5 with and without the
measures (with its band), P(AQI > 200) with and without, and heavy days avoided
(:func:`emergency.benefit.estimate_benefit` on the newest forecast product and the level's reductions
of :mod:`dashboard.services.reductions`).

Cached per (forecast file and its stamp, list version, inventory and its totals, level, rules, city):
a rewritten forecast, a new list version in force or a re-imported inventory gives a new key, so
nothing needs clearing. The parameters are the bundled ones (``emergency/data/benefit_parameters.yaml``);
those marked unverified are named in Chinese by :func:`unverified_labels`.
"""
from __future__ import annotations

import functools

import pandas as pd

from airwarn.core.settings import Settings
from airwarn.core.vocab import WarningLevel
from dashboard.services import products, reductions
from dashboard.services.context import settings, stamp
from emergency.benefit import BenefitResult, estimate_benefit

#: Chinese names of the parameters (:attr:`emergency.benefit.BenefitParameters.unverified`).
PARAMETER_LABELS = {"beta.ppm": "一次颗粒物响应系数", "beta.nox": "NOx 响应系数", "beta.so2": "SO2 响应系数",
                    "beta.nh3": "氨响应系数", "beta.voc": "VOCs 响应系数", "f_local": "本地排放贡献比例",
                    "lag": "滞后权重"}
#: Columns of :func:`level_comparison`.
COMPARISON_COLUMNS = ("level", "label", "peak_date", "pm25_without", "pm25_with_p05", "pm25_with_p50",
                      "pm25_with_p95", "heavy_days_avoided", "heavy_days_avoided_median")


class _Keyed:
    """The reductions of a level, hashed by what they depend on (for the cache)."""

    def __init__(self, key: tuple, red):
        self.key, self.red = key, red

    def __hash__(self) -> int:
        return hash(self.key)

    def __eq__(self, other) -> bool:
        return isinstance(other, _Keyed) and self.key == other.key


@functools.lru_cache(maxsize=12)
def _benefit(path: str, _stamp: tuple, keyed: _Keyed, city: str) -> BenefitResult:
    return estimate_benefit(path, keyed.red, city=city)


def benefit(level: str, s: Settings | None = None) -> BenefitResult:
    """The benefit of ``level``'s measures on the newest forecast for the settings' city.

    Raises
    ------
    FileNotFoundError
        No forecast product, or no list in force (the page shows the message).
    InputError
        No emission inventory (the cuts have no totals), a forecast without the city.
    """
    s = s or settings()
    lv = WarningLevel.parse(level)
    _, path = products.forecast_path(None, s)
    red = reductions.reductions(lv.key, s)
    totals = None if red.total is None else tuple(sorted(red.total.items()))
    keyed = _Keyed((s.db_url, red.version_id, red.inventory, totals, lv.key, s.rules), red)
    return _benefit(str(path), stamp(path), keyed, s.city)


def benefit_days(level: str, s: Settings | None = None) -> pd.DataFrame:
    """One row per forecast day (:data:`emergency.benefit.DAY_COLUMNS`) of :func:`benefit`."""
    return benefit(level, s).days


def level_comparison(s: Settings | None = None) -> pd.DataFrame:
    """Yellow, orange and red side by side (:data:`COMPARISON_COLUMNS`): on the day of the largest PM2.5
    fall (median draw), PM2.5 without and with (band), and the heavy days avoided."""
    rows = []
    for lv in (WarningLevel.YELLOW, WarningLevel.ORANGE, WarningLevel.RED):
        res = benefit(lv.key, s)
        d = res.days
        peak = d.loc[(d["pm25_without"] - d["pm25_with_p50"]).idxmax()]
        rows.append({"level": lv.key, "label": lv.label, "peak_date": peak["date"].date(),
                     "pm25_without": float(peak["pm25_without"]), "pm25_with_p05": float(peak["pm25_with_p05"]),
                     "pm25_with_p50": float(peak["pm25_with_p50"]), "pm25_with_p95": float(peak["pm25_with_p95"]),
                     "heavy_days_avoided": res.heavy_days_avoided,
                     "heavy_days_avoided_median": res.heavy_days_avoided_median})
    return pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS))


def unverified_labels(res: BenefitResult) -> list[str]:
    """Chinese names of the result's parameters marked unverified."""
    return [PARAMETER_LABELS.get(k, k) for k in res.unverified]
