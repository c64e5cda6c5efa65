"""Synthetic emergency-reduction lists for the demo, tests and benchmarks.

Everything here is made up by a seeded generator and marked so: every
enterprise name ends in ``(合成)`` and its note says 合成示例数据; the demo
version is flagged ``synthetic=True``. The lists look like Yangquan's: its
districts and counties, its industries (coal washing, coking, power and heating,
refractories, cement, brick and lime kilns, foundry, chemicals, alumina,
coatings and printing), plausible grades (mostly B/C/非引领性, few A, some
保障类), plausible lines and baseline emissions [t/day], valid credit codes, and
measures that pass :func:`enterprise_list.validate.validate` (guide defaults where
the guide gives them).
"""
from __future__ import annotations

import random
from dataclasses import dataclass

from airwarn.core.vocab import EMISSION_POLLUTANTS, YANGQUAN_COUNTIES
from enterprise_list.credit_code import make_code
from enterprise_list.guide import Guide, load_guide
from enterprise_list.models import LEVELS, MEASURE_KIND_LABELS
from enterprise_list.records import ParsedList, fill_cuts
from airwarn.core.errors import InputError

#: Marker of synthetic rows.
SYNTHETIC_NOTE = "合成示例数据"
NAME_SUFFIX = "(合成)"

#: Administrative division codes (高新区 has none of its own: the city's).
DIVISIONS = {"城区": "140302", "矿区": "140303", "郊区": "140311", "平定县": "140321", "盂县": "140322",
             "高新区": "140300"}
_CENTRES = {"城区": (113.60, 37.85), "矿区": (113.56, 37.87), "郊区": (113.58, 37.94),
            "平定县": (113.63, 37.80), "盂县": (113.41, 38.09), "高新区": (113.50, 37.83)}


@dataclass(frozen=True)
class _Line:
    name: str
    process: str
    capacity: tuple[float, float]
    unit: str
    so2: tuple[float, float]
    nox: tuple[float, float]
    pm: tuple[float, float]
    vocs: tuple[float, float]


@dataclass(frozen=True)
class _Industry:
    name: str
    word: str
    weight: float
    grades: dict[str, float]
    lines: tuple[_Line, ...]
    n_lines: tuple[int, int]
    counties: dict[str, float]


_Z = (0.0, 0.0)
_INDUSTRIES: tuple[_Industry, ...] = (
    _Industry("洗煤", "洗煤", 0.13, {"引领性": 0.03, "非引领性": 0.87, "未评级": 0.10},
              (_Line("洗选车间", "重介洗选", (60, 240), "万吨/年", _Z, _Z, (0.02, 0.15), _Z),
               _Line("储煤场", "封闭储煤", (10, 50), "万吨", _Z, _Z, (0.01, 0.08), _Z)), (1, 2),
              {"矿区": 3, "郊区": 2, "平定县": 2, "盂县": 2, "城区": 0.3, "高新区": 0.2}),
    _Industry("焦化", "焦化", 0.08, {"A": 0.05, "B": 0.45, "B-": 0.1, "C": 0.3, "D": 0.1},
              (_Line("焦炉", "顶装焦炉", (60, 150), "万吨/年", (0.1, 0.6), (0.5, 2.5), (0.1, 0.5), (0.1, 0.5)),
               _Line("化产回收", "煤气净化", (60, 150), "万吨/年", (0.01, 0.05), _Z, _Z, (0.1, 0.6))), (1, 3),
              {"郊区": 2, "平定县": 2, "盂县": 3, "矿区": 0.5}),
    _Industry("电力热力", "热电", 0.06, {"保障类": 0.6, "非引领性": 0.3, "引领性": 0.1},
              (_Line("机组", "燃煤发电供热", (30, 135), "万千瓦", (0.2, 1.2), (0.4, 2.0), (0.04, 0.25), _Z),), (1, 2),
              {"城区": 1, "矿区": 1, "郊区": 2, "平定县": 1, "盂县": 2, "高新区": 0.5}),
    _Industry("耐火材料", "耐火材料", 0.14, {"A": 0.02, "B": 0.35, "C": 0.48, "D": 0.15},
              (_Line("隧道窑", "烧成", (2, 10), "万吨/年", (0.02, 0.2), (0.03, 0.3), (0.02, 0.12), _Z),
               _Line("破碎成型", "破碎筛分", (2, 10), "万吨/年", _Z, _Z, (0.01, 0.08), _Z)), (1, 2),
              {"平定县": 4, "郊区": 1, "盂县": 1, "高新区": 0.5}),
    _Industry("水泥", "水泥", 0.04, {"A": 0.1, "B": 0.5, "C": 0.3, "D": 0.1},
              (_Line("熟料生产线", "新型干法回转窑", (60, 200), "万吨/年", (0.05, 0.4), (0.8, 3.0),
                     (0.1, 0.5), _Z),
               _Line("粉磨站", "水泥粉磨", (30, 100), "万吨/年", _Z, _Z, (0.02, 0.15), _Z)), (1, 2),
              {"平定县": 2, "盂县": 1, "郊区": 1}),
    _Industry("砖瓦窑", "砖瓦", 0.08, {"B": 0.3, "C": 0.55, "D": 0.15},
              (_Line("隧道窑", "烧结砖", (3000, 12000), "万块/年", (0.05, 0.4), (0.03, 0.15), (0.01, 0.1), _Z),),
              (1, 1), {"郊区": 2, "平定县": 2, "盂县": 2, "矿区": 0.5}),
    _Industry("石灰窑", "石灰", 0.05, {"B": 0.35, "C": 0.5, "D": 0.15},
              (_Line("石灰窑", "竖窑", (5, 30), "万吨/年", (0.01, 0.08), (0.05, 0.4), (0.03, 0.2), _Z),), (1, 2),
              {"平定县": 2, "盂县": 2, "郊区": 1}),
    _Industry("铸造", "铸造", 0.12, {"A": 0.03, "B": 0.35, "C": 0.52, "D": 0.1},
              (_Line("熔化工序", "中频感应电炉", (0.5, 5), "万吨/年", _Z, (0.0, 0.02), (0.01, 0.06), _Z),
               _Line("造型制芯", "树脂砂造型", (0.5, 5), "万吨/年", _Z, _Z, (0.005, 0.03), (0.01, 0.06))), (1, 2),
              {"高新区": 3, "城区": 0.5, "郊区": 1, "平定县": 1, "盂县": 1}),
    _Industry("化工", "化工", 0.07, {"引领性": 0.08, "非引领性": 0.82, "保障类": 0.1},
              (_Line("合成装置", "合成反应", (1, 20), "万吨/年", (0.0, 0.05), (0.05, 0.3), (0.01, 0.05),
                     (0.05, 0.4)),
               _Line("储罐区", "有机液体储存", (0.5, 5), "万立方米", _Z, _Z, _Z, (0.02, 0.2))), (1, 2),
              {"盂县": 2, "平定县": 1, "高新区": 1, "郊区": 1}),
    _Industry("氧化铝", "铝业", 0.03, {"A": 0.1, "B": 0.6, "C": 0.3},
              (_Line("焙烧炉", "气态悬浮焙烧", (40, 120), "万吨/年", (0.1, 0.8), (0.3, 1.2), (0.05, 0.3), _Z),),
              (1, 2), {"高新区": 1, "盂县": 1, "平定县": 1}),
    _Industry("工业涂装", "涂装", 0.12, {"A": 0.05, "B": 0.3, "C": 0.55, "D": 0.1},
              (_Line("涂装线", "喷涂烘干", (1, 30), "万件/年", _Z, (0.0, 0.01), (0.0, 0.02), (0.01, 0.15)),),
              (1, 2), {"高新区": 3, "城区": 1, "郊区": 1, "矿区": 0.5}),
    _Industry("包装印刷", "印刷", 0.08, {"A": 0.05, "B": 0.3, "C": 0.55, "D": 0.1},
              (_Line("印刷线", "凹版印刷", (500, 5000), "万印/年", _Z, _Z, _Z, (0.01, 0.12)),), (1, 2),
              {"城区": 3, "高新区": 2, "矿区": 1, "郊区": 0.5}),
)

_WORDS = ("宏达", "鑫源", "昌盛", "晋阳", "冀东", "恒泰", "华鑫", "兆丰", "龙泉", "金石", "瑞丰", "广源", "新华",
          "泰和", "永盛", "盛世", "天成", "福瑞", "东升", "聚能", "汇通", "三元", "峰岭", "翔宇", "嘉禾", "顺达",
          "德润", "隆基", "太行", "娘子关", "狮脑", "冠山", "藏山", "桃河", "温河", "南川", "平潭", "荫营", "义井",
          "河底", "西烟", "仙人", "牛村", "秋林", "梁家", "北舁", "路家", "长岭", "锁簧", "岔口")
_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"

#: Per grade: (kind, fraction) at yellow, orange, red when the guide gives nothing.
_DEFAULTS: dict[str, tuple[tuple[str, float | None], ...]] = {
    "A+": (("voluntary", None),) * 3, "A": (("voluntary", None),) * 3, "引领性": (("voluntary", None),) * 3,
    "B": (("limit", 0.1), ("limit", 0.2), ("limit", 0.3)),
    "B-": (("limit", 0.15), ("limit", 0.3), ("limit", 0.5)),
    "C": (("limit", 0.3), ("limit", 0.5), ("stop", None)),
    "D": (("stop", None),) * 3,
    "非引领性": (("limit", 0.2), ("limit", 0.3), ("limit", 0.5)),
    "保障类": (("limit", 0.1), ("limit", 0.2), ("limit", 0.3)),
    "未评级": (("stop", None),) * 3,
}
_TEXT = {"voluntary": "自主采取减排措施", "stop": "停产", "transport": "错峰运输，禁止国四及以下重型货车进出厂",
         "process": "工艺减排"}
_TIMING = {"yellow": "预警发布后24小时内", "orange": "预警发布后12小时内", "red": "预警发布后6小时内"}


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _measure_for(grade: str, industry: str, level_i: int, guide: Guide) -> tuple[str, float | None, str]:
    level = LEVELS[level_i]
    g = guide.lookup(industry, grade, level)
    if g is not None:
        return g.kind, g.fraction, g.text
    kind, frac = _DEFAULTS[grade][level_i]
    if kind == "limit":
        text = f"限产{frac:.0%}" + ("，按保障任务核定生产负荷" if grade == "保障类" else "")
    else:
        text = _TEXT[kind]
    return kind, frac, text


def make_sample_list(n: int = 320, seed: int = 2026, *, guide: Guide | None = None) -> ParsedList:
    """Make a synthetic list of ``n`` enterprises (seeded, marked synthetic).

    Parameters
    ----------
    n : int
        Number of enterprises (≥ 1). The demo uses 320; the benchmark 100,000.
    seed : int
        Seed of the generator: the same ``(n, seed)`` gives the same list.
    guide : Guide, optional
        Guide defaults for the measures (default: the bundled 2020 table).

    Returns
    -------
    ParsedList
        Enterprises, lines and measures (one per line and level) with cuts filled.

    Examples
    --------
    >>> sample = make_sample_list(5, seed=1)
    >>> len(sample.records["enterprises"]), sample.records["enterprises"][0]["name"].endswith("(合成)")
    (5, True)
    """
    if n < 1:
        raise InputError(f"n must be ≥ 1, got {n}")
    guide = guide or load_guide()
    rng = random.Random(seed)
    codes: set[str] = set()
    names: set[str] = set()
    ents, lines, measures = [], [], []
    ind_weights = [i.weight for i in _INDUSTRIES]
    for _ in range(n):
        ind = rng.choices(_INDUSTRIES, weights=ind_weights)[0]
        county = _pick(rng, ind.counties)
        assert county in YANGQUAN_COUNTIES
        grade = _pick(rng, ind.grades)
        code = make_code(rng, DIVISIONS[county])
        while code in codes:
            code = make_code(rng, DIVISIONS[county])
        codes.add(code)
        base = f"阳泉{rng.choice(_WORDS)}{rng.choice(_WORDS)}{ind.word}"
        name, k = f"{base}有限公司{NAME_SUFFIX}", 1
        while name in names:
            k += 1
            name = f"{base}第{k}有限公司{NAME_SUFFIX}"
        names.add(name)
        lon0, lat0 = _CENTRES[county]
        ents.append({
            "_row": None, "_bad": set(), "credit_code": code, "name": name, "county": county,
            "industry": ind.name, "grade": grade, "compliant": grade != "未评级",
            "permit_no": f"{code}001P", "lon": round(lon0 + rng.uniform(-0.06, 0.06), 5),
            "lat": round(lat0 + rng.uniform(-0.05, 0.05), 5),
            "contact_person": f"{rng.choice(_SURNAMES)}某", "contact_phone": f"0353-{rng.randint(2000000, 8999999)}",
            "note": SYNTHETIC_NOTE,
        })
        n_lines = rng.randint(*ind.n_lines)
        size = rng.lognormvariate(0.0, 0.35)
        for j in range(n_lines):
            tpl = ind.lines[j % len(ind.lines)]
            num = j // len(ind.lines) + 1
            line_code = f"L{j + 1:02d}"
            line = {"_row": None, "_bad": set(), "credit_code": code, "line_code": line_code,
                    "name": f"{num}#{tpl.name}" if tpl.name[-1] in "窑炉组线站" or num > 1 else tpl.name,
                    "process": tpl.process, "capacity": round(rng.uniform(*tpl.capacity) * size, 1),
                    "capacity_unit": tpl.unit, "capacity_basis": "环评批复、排污许可与上年实际产量日均值的最小值"}
            for pol in EMISSION_POLLUTANTS:
                lo, hi = getattr(tpl, pol)
                line[pol] = round(rng.uniform(lo, hi) * size, 4) if hi > 0 else 0.0
            if all(line[p] == 0 for p in EMISSION_POLLUTANTS):
                line["pm"] = 0.001
            lines.append(line)
            for li, level in enumerate(LEVELS):
                kind, frac, text = _measure_for(grade, ind.name, li, guide)
                measures.append({"_row": None, "_bad": set(), "credit_code": code, "line_code": line_code,
                                 "level": level, "kind": kind, "fraction": frac, "text": text,
                                 "timing": _TIMING[level],
                                 "cut_so2": None, "cut_nox": None, "cut_pm": None, "cut_vocs": None})
    parsed = ParsedList(records={"enterprises": ents, "lines": lines, "measures": measures},
                        source=f"make_sample_list(n={n}, seed={seed}) — {SYNTHETIC_NOTE}")
    fill_cuts(parsed)
    for m in measures:  # round the derived cuts like an office would (t/day, 4 decimals), never above baseline
        for pol in EMISSION_POLLUTANTS:
            m[f"cut_{pol}"] = round(m[f"cut_{pol}"], 4)
    return parsed


__all__ = ["make_sample_list", "SYNTHETIC_NOTE", "NAME_SUFFIX", "DIVISIONS", "MEASURE_KIND_LABELS"]
