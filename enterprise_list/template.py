"""The documented spreadsheet template of the list, and the header mapping.

A list workbook has three sheets, 企业 (enterprises), 生产线 (production lines)
and 减排措施 (measures), plus an optional 说明 sheet explaining each column
(ignored on reading). Each sheet has one header row (a title row above it, or a
two-row header with merged group cells such as 基准排放量（吨/日） over SO2 / NOx /
颗粒物 / VOCs, are both recognised).

Headers drift between offices, so a header matches a column when, after
:func:`normalise_header` (NFKC, so full-width letters and brackets become ASCII;
lower case; spaces, punctuation and a trailing 单位 in brackets dropped), it equals
the normalised Chinese header, an English alias or a synonym of that column.
Columns the template does not know (an office's 填表说明 or 审核意见 column) are
ignored and reported as warnings.

The table :data:`SHEETS` is the single source of the columns; the docs
(``docs/enterprise_list.md``) and the 说明 sheet are generated from it.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal
from airwarn.core.errors import InputError
from airwarn.core.units import EMISSION

ColumnKind = Literal["text", "code", "number", "fraction", "bool", "level", "kind", "grade"]


@dataclass(frozen=True)
class Column:
    """One column of a template sheet.

    Attributes
    ----------
    key : str
        Canonical (database) name, e.g. ``credit_code``.
    header : str
        Chinese header written by the template and the export.
    aliases : tuple of str
        English names and synonyms also accepted on reading.
    kind : str
        How a cell is parsed: ``text``, ``code`` (credit code), ``number`` (float;
        numbers stored as text and full-width digits accepted), ``fraction`` (0–1 or
        a percentage such as ``20%``), ``bool`` (是/否), ``level``, ``kind``, ``grade``.
    required : bool
        Whether a blank cell is an error.
    help : str
        Explanation written to the 说明 sheet.
    """

    key: str
    header: str
    aliases: tuple[str, ...]
    kind: ColumnKind
    required: bool
    help: str


@dataclass(frozen=True)
class Sheet:
    """One sheet of the template: its name, accepted names and columns."""

    key: str
    name: str
    aliases: tuple[str, ...]
    columns: tuple[Column, ...]

    @property
    def headers(self) -> list[str]:
        """The Chinese headers in template order."""
        return [c.header for c in self.columns]

    def column(self, key: str) -> Column:
        """The column with canonical name ``key`` (KeyError lists the valid names)."""
        for col in self.columns:
            if col.key == key:
                return col
        raise InputError(f"sheet {self.name}: no column {key!r}; valid: {[c.key for c in self.columns]}")


_CODE = Column("credit_code", "统一社会信用代码", ("credit code", "credit_code", "uscc", "社会信用代码",
                                             "信用代码", "统一代码"), "code", True,
               "18位统一社会信用代码 (GB 32100-2015)，校验位必须正确；全角字符自动转换")
_LINE_CODE = Column("line_code", "生产线编号", ("line code", "line_code", "line id", "生产线代码", "产线编号",
                                            "生产线序号", "工序编号"), "text", True,
                    "企业内唯一的生产线或工序编号，如 L01")

ENTERPRISES = Sheet("enterprises", "企业", ("enterprises", "enterprise", "企业信息", "企业清单", "企业基本信息"), (
    _CODE,
    Column("name", "企业名称", ("name", "enterprise name", "单位名称", "企业全称"), "text", True, "营业执照上的企业名称"),
    Column("county", "所在区县", ("county", "district", "区县", "所属区县", "县区", "所在县区", "行政区"),
           "text", True, "所在区县，须为本市区县之一（阳泉：城区、矿区、郊区、平定县、盂县、高新区）"),
    Column("industry", "行业", ("industry", "所属行业", "行业类别", "行业名称"), "text", True,
           "行业，优先使用2020年技术指南的重点行业名称（如 焦化、水泥、耐火材料、砖瓦窑、石灰窑、铸造）"),
    Column("grade", "绩效分级", ("grade", "performance grade", "绩效等级", "绩效级别", "分级", "企业分级",
                                "绩效评级"), "grade", True,
           "A+、A、B、B-、C、D、引领性、非引领性、保障类、未评级（可写“A级”“B-级”）"),
    Column("compliant", "是否稳定达标", ("compliant", "达标排放", "是否达标", "稳定达标"), "bool", False,
           "是/否，空白视为“是”"),
    Column("permit_no", "排污许可证编号", ("permit no", "permit_no", "permit number", "排污许可证号",
                                      "许可证编号", "排污许可编号"), "text", False, "全国排污许可证管理信息平台的许可证编号"),
    Column("lon", "经度", ("lon", "longitude"), "number", False, "十进制度"),
    Column("lat", "纬度", ("lat", "latitude"), "number", False, "十进制度"),
    Column("contact_person", "联系人", ("contact", "contact person", "contact_person", "环保负责人", "负责人"),
           "text", False, "应急减排负责人"),
    Column("contact_phone", "联系电话", ("phone", "contact phone", "contact_phone", "电话", "手机"), "text", False,
           "负责人电话"),
    Column("note", "备注", ("note", "notes", "remark", "remarks"), "text", False, "备注（原样保存）"),
))

#: Unit of the emissions and cuts in the Chinese headers (吨/日, :data:`airwarn.core.units.EMISSION`).
_T = EMISSION.zh
_BASE_HELP = f"正常工况下的基准排放量，{_T}；空白按0计，四项全空为错误；不得为负"
LINES = Sheet("lines", "生产线", ("lines", "production lines", "line", "生产线信息", "生产工序", "工序",
                                "生产线（工序）"), (
    _CODE,
    _LINE_CODE,
    Column("name", "生产线名称", ("line name", "name", "生产线", "工序名称", "装置名称"), "text", True,
           "生产线或工序名称，如 2#焦炉"),
    Column("process", "工艺", ("process", "工艺类型", "生产工艺", "主要工艺"), "text", False, "工艺，如 焦炉、回转窑"),
    Column("capacity", "产能", ("capacity", "设计产能", "核定产能"), "number", False, "产能数值"),
    Column("capacity_unit", "产能单位", ("capacity unit", "capacity_unit", "单位"), "text", False, "如 万吨/年"),
    Column("capacity_basis", "产能核定依据", ("capacity basis", "capacity_basis", "核定依据", "基准依据"), "text", False,
           "限产基数取环评批复产能、排污许可产能和上年实际产量日均值的最小值"),
    Column("so2", f"SO2基准排放量({_T})", ("so2", "baseline so2", "so2 baseline", "二氧化硫", "二氧化硫基准排放量",
                                  "基准排放量so2", "so2排放量"), "number", False, _BASE_HELP),
    Column("nox", f"NOx基准排放量({_T})", ("nox", "baseline nox", "nox baseline", "氮氧化物", "氮氧化物基准排放量",
                                  "基准排放量nox", "nox排放量"), "number", False, _BASE_HELP),
    Column("pm", f"颗粒物基准排放量({_T})", ("pm", "baseline pm", "pm baseline", "颗粒物", "烟粉尘", "基准排放量颗粒物",
                                   "颗粒物排放量"), "number", False, _BASE_HELP),
    Column("vocs", f"VOCs基准排放量({_T})", ("vocs", "baseline vocs", "vocs baseline", "挥发性有机物",
                                    "基准排放量vocs", "vocs排放量"), "number", False, _BASE_HELP),
))

_CUT_HELP = f"该级别措施的减排量，{_T}；空白时按措施推算：停产=基准排放量，限产等=比例×基准排放量，自主减排=0"
MEASURES = Sheet("measures", "减排措施", ("measures", "measure", "措施", "应急减排措施", "减排措施表",
                                       "一厂一策"), (
    _CODE,
    _LINE_CODE,
    Column("level", "预警级别", ("level", "warning level", "预警等级", "响应级别", "级别"), "level", True,
           "黄色、橙色、红色（或 yellow/orange/red、III级响应/II级响应/I级响应）"),
    Column("kind", "措施类型", ("kind", "measure kind", "type", "措施类别", "管控类型"), "kind", True,
           "停产、限产、运输管控、工艺措施、自主减排（或 stop/limit/transport/process/voluntary）"),
    Column("fraction", "限产比例", ("fraction", "ratio", "减排比例", "停限产比例", "比例", "限产比例%"), "fraction",
           False, "0–1 之间的小数或百分数（20%）；停产可空白（视为1）"),
    Column("text", "措施内容", ("text", "measure", "measure text", "具体措施", "措施", "管控措施"), "text", False,
           "措施的文字描述，通知企业时原样使用"),
    Column("timing", "执行时间", ("timing", "time", "执行时限", "落实时间"), "text", False, "如 预警发布后24小时内"),
    Column("cut_so2", f"SO2减排量({_T})", ("cut so2", "cut_so2", "so2 cut", "二氧化硫减排量", "减排量so2"), "number", False,
           _CUT_HELP),
    Column("cut_nox", f"NOx减排量({_T})", ("cut nox", "cut_nox", "nox cut", "氮氧化物减排量", "减排量nox"), "number", False,
           _CUT_HELP),
    Column("cut_pm", f"颗粒物减排量({_T})", ("cut pm", "cut_pm", "pm cut", "烟粉尘减排量", "减排量颗粒物"), "number", False,
           _CUT_HELP),
    Column("cut_vocs", f"VOCs减排量({_T})", ("cut vocs", "cut_vocs", "vocs cut", "挥发性有机物减排量", "减排量vocs"),
           "number", False, _CUT_HELP),
))

#: The data sheets in template order.
SHEETS: tuple[Sheet, ...] = (ENTERPRISES, LINES, MEASURES)
#: Name of the explanation sheet (written by the template, ignored on reading).
README_SHEET = "说明"

#: Bracketed units and similar tails removed from a header before the second match attempt.
_UNIT_TAIL = re.compile(r"\((吨|t|万吨|单位|%|％|吨/日|t/d|t/day|吨/天)[^)]*\)$")
_DROP = re.compile(r"[\s()\[\]{}<>《》【】（）、,，.。:：;；'\"“”‘’_\-—/\\|*#＃]+")


def normalise_header(text: object) -> str:
    """Normalise a header for matching: NFKC, lower case, no spaces or punctuation.

    Examples
    --------
    >>> normalise_header(" 统一社会信用代码 ")
    '统一社会信用代码'
    >>> normalise_header("ＳＯ２ 基准排放量（吨/日）")
    'so2基准排放量吨日'
    """
    if text is None:
        return ""
    s = unicodedata.normalize("NFKC", str(text)).strip().lower()
    return _DROP.sub("", s)


def _strip_unit(text: object) -> str:
    if text is None:
        return ""
    s = unicodedata.normalize("NFKC", str(text)).strip().lower()
    s = re.sub(r"\s+", "", s)
    prev = None
    while prev != s:
        prev = s
        s = re.sub(r"\([^()]*\)$", "", s)  # drop a trailing bracketed unit or remark
    s = re.sub(r"(吨/日|吨/天|t/d|t/day|\(%\)|%)$", "", s)
    return _DROP.sub("", s)


def _index(sheet: Sheet) -> dict[str, str]:
    out: dict[str, str] = {}
    for col in sheet.columns:
        for name in (col.header, col.key, *col.aliases):
            out.setdefault(normalise_header(name), col.key)
            out.setdefault(_strip_unit(name), col.key)
    return out


_INDEXES = {s.key: _index(s) for s in SHEETS}


def match_header(sheet: Sheet, text: object) -> str | None:
    """The canonical column key a header names on ``sheet``, or ``None``."""
    index = _INDEXES.get(sheet.key)
    if index is None:
        index = _INDEXES.setdefault(sheet.key, _index(sheet))
    for candidate in (normalise_header(text), _strip_unit(text)):
        if candidate and candidate in index:
            return index[candidate]
    return None


def match_sheet(name: str) -> Sheet | None:
    """The template sheet a workbook sheet name stands for, or ``None`` (e.g. 说明)."""
    norm = normalise_header(name)
    for sheet in SHEETS:
        if norm in {normalise_header(n) for n in (sheet.name, sheet.key, *sheet.aliases)}:
            return sheet
    return None
