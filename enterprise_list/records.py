"""The small types every module of the list package shares: a problem, a parsed list, the cut filler.

:class:`Problem` (one problem of a list file, with its sheet, row, column, message and value, and its
Chinese rendering :func:`message_zh`), :class:`ParsedList` (a list as read from a file or generated),
:func:`fill_cuts` (blank cuts derived from a measure's kind and fraction), :func:`errors` and
:func:`format_report`. The reader (:mod:`enterprise_list.workbook`), the validator
(:mod:`enterprise_list.validate`), the guide (:mod:`enterprise_list.guide`) and the sample generator
all import them from here, so none of them imports another for a type.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Literal

import pandas as pd

from airwarn.core.errors import UnknownNameError
from airwarn.core.vocab import EMISSION_POLLUTANTS
from enterprise_list.template import SHEETS

#: How bad a problem is: errors block an import, warnings do not.
Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One problem of a list file.

    Attributes
    ----------
    severity : {'error', 'warning'}
    sheet : str
        Sheet name as in the file (企业, 生产线, 减排措施).
    row : int or None
        Row number as Excel shows it (``None`` for a whole sheet or column).
    column : str or None
        Column header as written in the file.
    message : str
        Why it is a problem: what was expected and what came.
    value : object
        The cell's value as read.
    """

    severity: Severity
    sheet: str
    row: int | None
    column: str | None
    message: str
    value: Any = None
    #: Which rule: ``"shrink"`` for a drop against the version in force (confirmable), else ``""``.
    code: str = ""

    @property
    def severity_zh(self) -> str:
        """``错误`` or ``警告`` (the page's rendering of :attr:`severity`)."""
        return SEVERITY_LABELS.get(self.severity, self.severity)

    def zh(self) -> str:
        """The message in Chinese for the list page (:func:`message_zh`); the CLI keeps the English."""
        return message_zh(self.message)

    def __str__(self) -> str:
        where = self.sheet
        if self.row is not None:
            where += f" row {self.row}"
        if self.column:
            where += f", column {self.column}"
        tail = "" if self.value is None else f" [value: {self.value!r}]"
        return f"{self.severity}: {where}: {self.message}{tail}"


#: Chinese names of the severities.
SEVERITY_LABELS: dict[str, str] = {"error": "错误", "warning": "警告"}

_LEVEL_ZH = {"yellow": "黄色", "orange": "橙色", "red": "红色"}


def _lv(m: re.Match, g: int | str) -> str:
    return _LEVEL_ZH.get(m.group(g), m.group(g))


#: The list checks' messages (validate, workbook, credit_code) in Chinese: (pattern, rendering); the
#: first whose pattern matches the whole message wins. ``{n}`` takes group n; callables get the match.
_MESSAGES_ZH: list[tuple[re.Pattern, "str | Callable[[re.Match], str]"]] = [(re.compile(p, re.S), r) for p, r in [
    (r"missing value \(required\)", "缺少必填值"),
    (r"text too long: expected at most (\d+) characters, got (\d+)", "文本过长：应不超过 {1} 个字符，实际 {2} 个"),
    (r"control character in text: .*", "文本含控制字符（如转义符），请删除后重新保存"),
    (r"invalid credit code: must have 18 characters, has (\d+)", "统一社会信用代码无效：应为 18 位，实际 {1} 位"),
    (r"invalid credit code: character\(s\) (.*) not allowed \(allowed: .*\)", "统一社会信用代码无效：含不允许的字符 {1}"),
    (r"invalid credit code: bad check character: expected (.*), got (.*)", "统一社会信用代码无效：校验码应为 {1}，实际为 {2}"),
    (r"invalid credit code: .*", "统一社会信用代码无效"),
    (r"duplicate enterprise: credit code already on row (\d+)", "企业重复：该统一社会信用代码已在第 {1} 行出现"),
    (r"unknown county; expected one of (.*)", "区县名称无法识别，应为 {1} 之一"),
    (r"duplicate line: (.*) already on row (\d+)", "生产线重复：{1} 已在第 {2} 行出现"),
    (r"implausible baseline: expected at most (\S+) t/day for one line, got (\S+) .*",
     "基准排放量不合理：单条生产线应不超过 {1} 吨/日，实际 {2}（是否误填了吨/年或千克/日？）"),
    (r"unusually large baseline: more than (\S+) t/day for one line, got (\S+) .*",
     "基准排放量偏大：单条生产线超过 {1} 吨/日，实际 {2}（是否误填了吨/年？）"),
    (r"negative capacity: expected ≥ 0, got (\S+)", "产能为负：应不小于 0，实际 {1}"),
    (r"line not on the lines sheet for (.*)", "生产线表中没有企业 {1} 的该生产线"),
    (r"duplicate measure: line (.*) already has a (\w+) measure on row (\d+)",
     lambda m: f"措施重复：生产线 {m.group(1)} 的{_lv(m, 2)}措施已在第 {m.group(3)} 行出现"),
    (r"fraction outside 0–1 .*", "限产比例超出 0–1（20% 的限产写 0.2 或 20%）"),
    (r"限产 \(limit\) needs a fraction or cuts", "限产措施需要填写限产比例或减排量"),
    (r"grade (\S+) must not be told to stop .*", "{1}级企业不得要求停产（仅自主减排）"),
    (r"negative cut .*", "减排量为负（吨/日应不小于 0）"),
    (r"cut (\S+) t/day larger than the line's (\S+) baseline (\S+) t/day",
     "减排量 {1} 吨/日大于该生产线的{2}基准排放量 {3} 吨/日"),
    (r"weaker than the guide for (.*) grade (\S+) at (\w+): guide (.*) \((.*)\) \[.*\], got (.*)",
     lambda m: f"措施弱于技术指南：{m.group(1)}{m.group(2)}级企业{_lv(m, 3)}预警时指南要求{m.group(4)}"
               f"（{m.group(5)}），实际为{m.group(6)}"),
    (r"weaker than the milder level: (\w+) cut (\S+) t/day < (\w+) cut (\S+) t/day",
     lambda m: f"措施弱于较低级别：{_lv(m, 1)}减排量 {m.group(2)} 吨/日小于{_lv(m, 3)}的 {m.group(4)} 吨/日"),
    (r"no production line on the lines sheet", "生产线表中没有该企业的生产线"),
    (r"graded enterprise has no measure for (\S+) \(\w+\)", "已评级企业缺少{1}措施"),
    (r"no enterprises: the list is empty.*", "清单中没有企业（空模板？）；生效版本必须列出全部企业"),
    (r"no baseline column found .*", "未找到基准排放量列（SO2、NOx、颗粒物、VOCs基准排放量（吨/日））"),
    (r"column not found, but (.*) gives (\S+) cuts on (\d+) row\(s\).*",
     "未找到该列，但{1}表有 {3} 行填写了{2}减排量：请补上该列（否则各生产线基准排放量为 0）"),
    (r"column not found: every line's (\S+) baseline is taken as 0.*", "未找到该列：各生产线的{1}基准排放量按 0 计"),
    (r"coordinates checked as degrees only: .*", "未找到本市边界数据，坐标只检查了经纬度取值范围"),
    (r"not a (longitude|latitude): expected (\S+) to (\S+) degrees, got (\S+)",
     lambda m: f"{'经度' if m.group(1) == 'longitude' else '纬度'}无效：应在 {m.group(2)} 至 {m.group(3)} 度之间，"
               f"实际 {m.group(4)}"),
    (r"outside (\S+): expected (\S+) to (\S+) degrees \(.*\), got (\S+)", "不在{1}范围内：应在 {2} 至 {3} 度之间，实际 {4}"),
    (r".* against the version in force .*: (\d+%) dropped, more than the (\d+%) allowed; confirmed",
     "与现行版本相比减少 {1}，超过允许的 {2}；已确认"),
    (r".* against the version in force .*: (\d+%) dropped, more than the (\d+%) allowed; if this is intended.*",
     "与现行版本相比减少 {1}，超过允许的 {2}；如确属调整，请勾选确认后导入"),
    (r"required column not found \(also accepted: (.*)\); headers found: .*", "缺少必填列（也可写作：{1}）"),
    (r"column not in the template; ignored", "模板中没有该列，已忽略"),
    (r"sheet not in the template; ignored", "模板中没有该工作表，已忽略"),
    (r"second sheet for (\S+) \(first: (.*)\)", "{1}表重复（已有：{2}）"),
    (r"sheet not found; .*", "未找到该工作表"),
    (r"formula without a saved value .*", "公式没有保存的计算结果（请在 Excel 中打开并保存，或粘贴为数值）"),
    (r"expected a (?:finite )?number, got (.*)", "应为数值，实际为 {1}"),
    (r"unknown grade (.*); expected one of (.*)", "绩效分级 {1} 无法识别，应为 {2} 之一"),
    (r"unknown warning level (.*); expected .*", "预警级别 {1} 无法识别，应为黄色、橙色或红色"),
    (r"unknown measure kind (.*); expected one of (\[.*?\]).*", "措施类型 {1} 无法识别，应为 {2} 之一"),
    (r"expected 是 or 否, got (.*)", "应填“是”或“否”，实际为 {1}"),
    (r"the credit code was stored as a number by Excel \((.*)\).*",
     "统一社会信用代码被 Excel 存成了数字（{1}）；请把该列设为文本后重新填写"),
]]


def message_zh(message: str) -> str:
    """A list check's message in Chinese (:data:`_MESSAGES_ZH`); one not in the table is given as
    ``数据问题：<the English message>`` so nothing is lost."""
    text = str(message)
    for pattern, rendering in _MESSAGES_ZH:
        m = pattern.fullmatch(text)
        if m:
            if callable(rendering):
                return rendering(m)
            return re.sub(r"\{(\d+)\}", lambda g: m.group(int(g.group(1))) or "", rendering)
    return f"数据问题：{text}"


def errors(problems: Iterable[Problem]) -> list[Problem]:
    """The problems that are errors."""
    return [p for p in problems if p.severity == "error"]


def format_report(problems: Iterable[Problem]) -> str:
    """A plain-text report, errors first, one problem a line, with a count line at the end."""
    problems = list(problems)
    errs = errors(problems)
    warns = [p for p in problems if p.severity == "warning"]
    lines = [str(p) for p in errs + warns]
    lines.append(f"{len(errs)} error(s), {len(warns)} warning(s)")
    return "\n".join(lines)


@dataclass(frozen=True)
class ParsedList:
    """A list as read from a file: canonical records per sheet plus reading problems.

    Attributes
    ----------
    records : dict
        ``{"enterprises": [...], "lines": [...], "measures": [...]}``; each record is
        a dict of canonical column keys (see :data:`enterprise_list.template.SHEETS`)
        plus ``_row`` (the row number as Excel shows it, ``None`` for generated rows)
        and ``_bad`` (keys of cells that could not be read).
    source : str
        The file or folder read (or a description for generated lists).
    problems : list of Problem
        Problems found while reading (unreadable cells, missing columns or sheets).
    headers : dict
        ``{sheet_key: {column_key: header as written in the file}}`` for messages.
    """

    records: dict[str, list[dict[str, Any]]]
    source: str = ""
    problems: list[Problem] = field(default_factory=list)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    sheet_names: dict[str, str] = field(default_factory=dict)

    def frame(self, sheet: str) -> pd.DataFrame:
        """The records of ``sheet`` (``enterprises``, ``lines``, ``measures``) as a DataFrame."""
        if sheet not in self.records:
            raise UnknownNameError(f"no sheet {sheet!r}; valid: {list(self.records)}")
        cols = [c.key for c in _SHEET_BY_KEY[sheet].columns]
        rows = [{k: r.get(k) for k in cols} for r in self.records[sheet]]
        return pd.DataFrame(rows, columns=cols)

    @property
    def enterprises(self) -> pd.DataFrame:
        """Enterprises (one row per enterprise)."""
        return self.frame("enterprises")

    @property
    def lines(self) -> pd.DataFrame:
        """Production lines with baseline emissions [t/day]."""
        return self.frame("lines")

    @property
    def measures(self) -> pd.DataFrame:
        """Measures per line and level with cuts [t/day]."""
        return self.frame("measures")

    def header(self, sheet: str, key: str) -> str:
        """The header of column ``key`` as written in the file (the template's if absent)."""
        return self.headers.get(sheet, {}).get(key) or _SHEET_BY_KEY[sheet].column(key).header


_SHEET_BY_KEY = {s.key: s for s in SHEETS}


def fill_cuts(parsed: ParsedList) -> None:
    """Fill blank cuts of each measure from its kind, fraction and the line's baseline (in place)."""
    base = {(r["credit_code"], r["line_code"]): r for r in parsed.records["lines"]}
    for m in parsed.records["measures"]:
        line = base.get((m.get("credit_code"), m.get("line_code")))
        for pol in EMISSION_POLLUTANTS:
            key = f"cut_{pol}"
            if m.get(key) is not None or key in m.get("_bad", ()):
                continue
            if pol in (line or {}).get("_bad", ()):
                continue  # an unreadable baseline (e.g. a formula without a saved value) is reported once
            b = (line or {}).get(pol) or 0.0
            if b < 0:
                continue  # a negative baseline is reported once; no cut is derived from it
            if m.get("kind") == "stop" and (m.get("fraction") is None or 0 <= m["fraction"] <= 1):
                m[key] = b if m.get("fraction") is None else round(b * m["fraction"], 6)
            elif m.get("kind") == "voluntary" and m.get("fraction") is None:
                m[key] = 0.0
            elif m.get("fraction") is not None and 0 <= m["fraction"] <= 1:
                m[key] = round(b * m["fraction"], 6)
            elif m.get("fraction") is not None or "fraction" in m.get("_bad", ()):
                continue  # a bad fraction is reported once; no cut is derived from it
            else:
                m[key] = 0.0
                if m.get("kind") == "limit":
                    m["_cut_filled"] = True
