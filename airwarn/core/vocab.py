"""One glossary of names, levels, thresholds and dates shared by every package.

Every reader maps its source's column names onto these names, and every
function documents its inputs in the units of :mod:`airwarn.core.units` (the
one registry of units, which reads its pollutant names from here). Nothing here
depends on any other airwarn module but :mod:`airwarn.core.errors`.
"""
from __future__ import annotations

import datetime as dt
from enum import Enum, IntEnum

from airwarn.core.errors import InputError, UnknownNameError

#: The six pollutants of a daily AQI (HJ 633-2026 daily report).
DAILY_POLLUTANTS: tuple[str, ...] = ("pm25", "pm10", "so2", "no2", "co", "o3_8h")
#: Every pollutant a daily AQI may score, in the order primary pollutants are listed: the six, then
#: ``o3_1h`` (the daily maximum 1 h O3, scored by HJ 633-2012 only).
AQI_POLLUTANTS: tuple[str, ...] = (*DAILY_POLLUTANTS, "o3_1h")
#: The pollutants of an hourly record (1 h means); the hourly O3 is ``o3``, its daily maximum ``o3_1h``.
HOURLY_POLLUTANTS: tuple[str, ...] = ("pm25", "pm10", "so2", "no2", "co", "o3")

#: First day of HJ 633-2026 (and GB 3095-2026): data from this day on are scored under the 2026 rules,
#: earlier data under HJ 633-2012.
HJ633_2026_FROM: dt.date = dt.date(2026, 3, 1)

#: AQI bounds of the heavy-pollution categories (HJ 633 levels), the thresholds of the warning criteria
#: and of the forecast's exceedance probabilities (exceeded strictly): above 150 中度污染 (level 4),
#: above 200 重度污染 (level 5), above 300 严重污染 (level 6).
AQI_MODERATE: int = 150
AQI_HEAVY: int = 200
AQI_SEVERE: int = 300
#: The three, in increasing order (``p_aqi_gt_150/200/300`` of the forecast product).
AQI_THRESHOLDS: tuple[int, ...] = (AQI_MODERATE, AQI_HEAVY, AQI_SEVERE)

#: Human-readable labels for the dashboard and reports.
POLLUTANT_LABELS: dict[str, str] = {
    "pm25": "PM2.5",
    "pm10": "PM10",
    "so2": "SO2",
    "no2": "NO2",
    "co": "CO",
    "o3_8h": "O3-8h",
    "o3_1h": "O3-1h",
}

#: Pollutants of the emission inventory and reduction targets [t/d, :data:`airwarn.core.units.EMISSION`].
EMISSION_POLLUTANTS: tuple[str, ...] = ("so2", "nox", "pm", "vocs")
EMISSION_LABELS: dict[str, str] = {"so2": "SO2", "nox": "NOx", "pm": "颗粒物", "vocs": "VOCs"}


class WarningLevel(IntEnum):
    """Heavy-pollution warning level; the order is the severity."""

    NONE = 0
    YELLOW = 1
    ORANGE = 2
    RED = 3

    @property
    def key(self) -> str:
        """Lower-case English key used in files and the CLI (``none``, ``yellow`` …)."""
        return self.name.lower()

    @property
    def label(self) -> str:
        """Chinese name of the warning (黄色预警 …)."""
        return _LEVEL_LABELS[self]

    @property
    def response(self) -> str:
        """Chinese name of the emergency response level (III级响应 …)."""
        return _RESPONSE_LABELS[self]

    @classmethod
    def parse(cls, value: "str | int | WarningLevel") -> "WarningLevel":
        """Return the level for ``'yellow'``, ``'黄色'``, ``1`` or a level.

        Raises
        ------
        KeyError
            If the value names no level; the message lists the valid names.
        """
        if isinstance(value, cls):
            return value
        if isinstance(value, int):
            return cls(value)
        text = str(value).strip().lower()
        for level in cls:
            if text in (level.key, level.label, level.label[:2], level.response):
                return level
        raise UnknownNameError(
            f"unknown warning level {value!r}; expected one of "
            f"{[lvl.key for lvl in cls]} or {[lvl.label for lvl in cls]}"
        )


_LEVEL_LABELS = {
    WarningLevel.NONE: "无预警",
    WarningLevel.YELLOW: "黄色预警",
    WarningLevel.ORANGE: "橙色预警",
    WarningLevel.RED: "红色预警",
}
_RESPONSE_LABELS = {
    WarningLevel.NONE: "无",
    WarningLevel.YELLOW: "III级响应",
    WarningLevel.ORANGE: "II级响应",
    WarningLevel.RED: "I级响应",
}


class Role(str, Enum):
    """Role of a user: what the dashboard shows and what the warning lifecycle allows."""

    VIEWER = "viewer"
    FORECASTER = "forecaster"
    COMMANDER = "commander"
    LIST_ADMIN = "list-admin"
    #: approve (sign off) warnings the commander issued (issue 15: 副市长 for yellow/orange by default)
    VICE_MAYOR = "vice-mayor"
    #: approve red warnings (市长)
    MAYOR = "mayor"

    @property
    def label(self) -> str:
        """Chinese name of the role."""
        return _ROLE_LABELS[self]

    @classmethod
    def parse(cls, value: "str | Role") -> "Role":
        """Return the role named ``value``.

        Raises
        ------
        KeyError
            If no role has that name; the message lists the valid names.
        """
        if isinstance(value, cls):
            return value
        for role in cls:
            if str(value).strip().lower() in (role.value, role.name.lower()):
                return role
        raise UnknownNameError(f"unknown role {value!r}; valid roles are {[r.value for r in cls]}")


_ROLE_LABELS = {
    Role.VIEWER: "查看",
    Role.FORECASTER: "预报员",
    Role.COMMANDER: "应急指挥",
    Role.LIST_ADMIN: "清单管理员",
    Role.VICE_MAYOR: "副市长",
    Role.MAYOR: "市长",
}


#: Colours of the warning levels (the dashboard and bulletins use these).
LEVEL_COLOURS: dict[WarningLevel, str] = {
    WarningLevel.NONE: "#9E9E9E",
    WarningLevel.YELLOW: "#F2C200",
    WarningLevel.ORANGE: "#FF7E00",
    WarningLevel.RED: "#E00000",
}

#: Yangquan's districts and counties, plus the high-tech zone named in the city plan.
YANGQUAN_COUNTIES: tuple[str, ...] = ("城区", "矿区", "郊区", "平定县", "盂县", "高新区")

#: The historic "2+26" cities of the Beijing–Tianjin–Hebei transport channel (2017–2023). Only the
#: scoring set of the North-China backtests (2015–17 data): since 国发〔2023〕24号 太原、阳泉、长治、晋城
#: belong to 汾渭平原 (:data:`FENWEI_PLAIN_CITIES`), not to this group.
CITIES_2_26: tuple[str, ...] = (
    "北京", "天津", "石家庄", "唐山", "廊坊", "保定", "沧州", "衡水", "邢台", "邯郸",
    "太原", "阳泉", "长治", "晋城", "济南", "淄博", "济宁", "德州", "聊城", "滨州", "菏泽",
    "郑州", "开封", "安阳", "鹤壁", "新乡", "焦作", "濮阳",
)

#: 汾渭平原 under 国发〔2023〕24号《空气质量持续改善行动计划》 (2023-11-30) [S]: the 11 earlier cities plus
#: 太原、阳泉、长治、晋城 moved from 京津冀及周边; 杨凌示范区 is a zone, not a city. A key region: the 2024 key-region
#: warning grading applies; regional linkage is coordinated by :data:`REGIONAL_OFFICES`.
FENWEI_PLAIN_CITIES: tuple[str, ...] = (
    "太原", "阳泉", "长治", "晋城", "晋中", "运城", "临汾", "吕梁",
    "洛阳", "三门峡", "西安", "铜川", "宝鸡", "咸阳", "渭南",
)

#: Key regions (重点区域) whose membership is encoded, with their cities. The 2023 京津冀及周边
#: ("2+36") list is not encoded (not verified here); :data:`CITIES_2_26` is the historic group.
KEY_REGIONS: dict[str, tuple[str, ...]] = {"汾渭平原": FENWEI_PLAIN_CITIES}

#: The office that coordinates a key region's regional warnings (standards notes §9).
REGIONAL_OFFICES: dict[str, str] = {"汾渭平原": "汾渭平原大气污染防治协作小组办公室"}


def key_region_of(city: str) -> str | None:
    """The key region (重点区域) a city belongs to (``"汾渭平原"`` for 阳泉), None if none encoded holds it."""
    name = str(city).strip().removesuffix("市")
    return next((region for region, cities in KEY_REGIONS.items() if name in cities), None)
