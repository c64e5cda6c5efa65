"""Look enterprises up on a list version, and the one-factory-one-policy (一厂一策) sheet.

Search by credit code (exact or a prefix of ≥ 6 characters), by name (exact,
substring, then fuzzy Chinese matching with rapidfuzz's ``partial_ratio`` on
NFKC-normalised names, averaged with the share of the query's characters found
in order in the name), filtered by county, industry and grade. Name search runs
on an in-memory index of one version (built on first use, then cached: a
version's rows never change after import), so it stays within milliseconds on
100,000 enterprises: a per-character posting list narrows the candidates before
the fuzzy scorer runs.
"""
from __future__ import annotations

import datetime as dt
import threading
import unicodedata
from collections import OrderedDict
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import LCSseq
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from airwarn.core.units import EMISSION
from airwarn.core.vocab import EMISSION_LABELS, EMISSION_POLLUTANTS, WarningLevel
from enterprise_list.models import (
    MEASURE_KIND_LABELS, Enterprise, ListVersion, ProductionLine, resolve_version,
)
from airwarn.core.errors import InputError, UnknownNameError

#: Fuzzy matches below this partial-ratio score are dropped.
FUZZY_CUTOFF = 60.0
#: Candidates passed to the fuzzy scorer after the character pre-filter.
_MAX_CANDIDATES = 1000
_CACHE_SIZE = 8


@dataclass(frozen=True)
class EnterpriseHit:
    """One search result.

    Attributes
    ----------
    id, version_id : int
        Database ids of the enterprise row and its list version.
    credit_code, name, county, industry, grade : str
    permit_no : str or None
    score : float
        100 for an exact code or name, 95 for a name containing the query, else the
        fuzzy score (0–100).
    """

    id: int
    version_id: int
    credit_code: str
    name: str
    county: str
    industry: str
    grade: str
    permit_no: str | None
    score: float

    def as_dict(self) -> dict[str, Any]:
        """The hit as a plain dict (for tables and JSON)."""
        return asdict(self)


def _norm(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).lower()


class _NameIndex:
    """In-memory columns of one version with a character posting index over names."""

    def __init__(self, rows: list[tuple], version_id: int):
        self.version_id = version_id
        self.ids = np.array([r[0] for r in rows], dtype=np.int64)
        self.codes = [r[1] for r in rows]
        self.names = [r[2] for r in rows]
        self.norm = [_norm(r[2]) for r in rows]
        self.county = [r[3] for r in rows]
        self.industry = [r[4] for r in rows]
        self.grade = [r[5] for r in rows]
        # categories as small integer codes, so filters are vectorised integer comparisons
        self.categories: dict[str, tuple[dict[str, int], np.ndarray]] = {}
        for field, values in (("county", self.county), ("industry", self.industry), ("grade", self.grade)):
            codes: dict[str, int] = {}
            arr = np.fromiter((codes.setdefault(x, len(codes)) for x in values), dtype=np.int32, count=len(values))
            self.categories[field] = (codes, arr)
        self.exact: dict[str, list[int]] = {}
        for i, name in enumerate(self.norm):
            self.exact.setdefault(name, []).append(i)
        self.permit = [r[6] for r in rows]
        order = sorted(range(len(rows)), key=self.codes.__getitem__)
        self.code_order = np.array(order, dtype=np.int64)
        self.sorted_codes = np.array([self.codes[i] for i in order], dtype=object)
        postings: dict[str, list[int]] = {}
        for i, name in enumerate(self.norm):
            for ch in set(name):
                postings.setdefault(ch, []).append(i)
        self.postings = {ch: np.array(v, dtype=np.int64) for ch, v in postings.items()}

    def hit(self, i: int, score: float) -> EnterpriseHit:
        return EnterpriseHit(int(self.ids[i]), self.version_id, self.codes[i], self.names[i], self.county[i],
                             self.industry[i], self.grade[i], self.permit[i], float(score))

    def mask(self, county: str | None, industry: str | None, grade: str | None) -> np.ndarray | None:
        m = None
        for field, want in (("county", county), ("industry", industry), ("grade", grade)):
            if want is not None:
                codes, arr = self.categories[field]
                mm = arr == codes.get(want, -1)
                m = mm if m is None else (m & mm)
        return m

    def by_code(self, code: str) -> list[int]:
        lo = int(np.searchsorted(self.sorted_codes, code, side="left"))
        if len(code) == 18:
            ok = lo < len(self.sorted_codes) and self.sorted_codes[lo] == code
            return [int(self.code_order[lo])] if ok else []
        hi = int(np.searchsorted(self.sorted_codes, code + "\uffff", side="left"))
        return [int(i) for i in self.code_order[lo:hi]]

    def by_name(self, query: str, allowed: np.ndarray | None, limit: int) -> list[tuple[int, float]]:
        q = _norm(query)
        exact = [i for i in self.exact.get(q, []) if allowed is None or allowed[i]]
        if exact:
            return [(i, 100.0) for i in exact[:limit]]
        chars = [ch for ch in set(q) if ch in self.postings]
        if not chars:
            return []
        # characters most names share (阳, 泉, 有限公司 …) do not tell names apart: count the rarer ones
        common = len(self.norm) // 4
        rare = [ch for ch in chars if len(self.postings[ch]) <= common] or chars
        counts = np.bincount(np.concatenate([self.postings[ch] for ch in rare]), minlength=len(self.norm))
        if allowed is not None:
            counts = np.where(allowed, counts, 0)
        need = max(1, int(np.ceil(0.5 * len(rare))))
        cand = np.flatnonzero(counts >= need)
        if cand.size > _MAX_CANDIDATES:
            top = np.argpartition(-counts[cand], _MAX_CANDIDATES)[:_MAX_CANDIDATES]
            cand = cand[top]
        scored: dict[int, float] = {}
        for i in cand:
            name = self.norm[i]
            if name == q:
                scored[int(i)] = 100.0
            elif q in name:
                scored[int(i)] = 95.0
        names = [self.norm[i] for i in cand]
        if names:
            partial = process.cdist([q], names, scorer=fuzz.partial_ratio, dtype=np.float32)[0]
            lcs = process.cdist([q], names, scorer=LCSseq.similarity, dtype=np.int32)[0]
            fuzzy = 0.5 * partial + 50.0 * lcs / len(q)
            keep = np.flatnonzero(fuzzy >= FUZZY_CUTOFF)
            for j in keep[np.argsort(-fuzzy[keep], kind="stable")][: max(limit * 4, 50)]:
                i = int(cand[j])
                if i not in scored:
                    scored[i] = round(min(float(fuzzy[j]), 94.0), 1)
        ranked = sorted(scored.items(), key=lambda kv: (-kv[1], len(self.norm[kv[0]]), kv[0]))
        return ranked[:limit]


_CACHE: "OrderedDict[tuple, _NameIndex]" = OrderedDict()
_LOCK = threading.Lock()


def _index(session: Session, version: ListVersion) -> _NameIndex:
    bind = session.get_bind()
    key = (str(bind.url), id(bind), version.id, version.name, str(version.created_at))
    with _LOCK:
        idx = _CACHE.get(key)
        if idx is not None:
            _CACHE.move_to_end(key)
            return idx
    rows = list(session.execute(
        select(Enterprise.id, Enterprise.credit_code, Enterprise.name, Enterprise.county, Enterprise.industry,
               Enterprise.grade, Enterprise.permit_no)
        .where(Enterprise.version_id == version.id).order_by(Enterprise.id)))
    idx = _NameIndex([tuple(r) for r in rows], version.id)
    with _LOCK:
        _CACHE[key] = idx
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return idx


def clear_cache() -> None:
    """Forget the cached name indexes (e.g. after deleting and re-creating a database)."""
    with _LOCK:
        _CACHE.clear()


def _looks_like_code(q: str) -> bool:
    return len(q) >= 6 and q.isascii() and q.isalnum() and any(c.isdigit() for c in q)


def find_enterprises(session: Session, query: str | None = None, county: str | None = None,
                     industry: str | None = None, grade: str | None = None,
                     version: "ListVersion | int | str | dt.date | None" = None,
                     limit: int = 50) -> list[EnterpriseHit]:
    """Search one list version.

    Parameters
    ----------
    session : Session
    query : str, optional
        A credit code (or its first ≥ 6 characters) or a name or part of one
        (fuzzy: 阳泉宏达焦化 finds 阳泉宏达鑫源焦化有限公司). ``None`` lists everything
        that passes the filters.
    county, industry, grade : str, optional
        Exact filters (e.g. ``"平定县"``, ``"焦化"``, ``"B"``).
    version : ListVersion, id, name, date or None
        See :func:`enterprise_list.models.resolve_version` (default: in force today).
    limit : int
        Most hits returned.

    Returns
    -------
    list of EnterpriseHit
        Best first: exact, substring, then fuzzy by score; without a query, import order.
    """
    v = resolve_version(session, version)
    idx = _index(session, v)
    allowed = idx.mask(county, industry, grade)
    if query is None or not str(query).strip():
        pos = np.arange(len(idx.names)) if allowed is None else np.flatnonzero(allowed)
        return [idx.hit(int(i), 100.0) for i in pos[:limit]]
    q = "".join(unicodedata.normalize("NFKC", str(query)).split())
    if _looks_like_code(q):
        hits = [i for i in idx.by_code(q.upper()) if allowed is None or allowed[i]]
        if hits or len(q) == 18:
            return [idx.hit(i, 100.0) for i in hits[:limit]]
    return [idx.hit(i, s) for i, s in idx.by_name(q, allowed, limit)]


def get_enterprise(session: Session, code_or_name: str,
                   version: "ListVersion | int | str | dt.date | None" = None) -> Enterprise:
    """One enterprise, with its lines and measures loaded.

    Parameters
    ----------
    code_or_name : str
        Credit code, exact name, or a name fragment that picks out one enterprise.

    Raises
    ------
    KeyError
        If nothing matches, or a fragment matches several (the message lists the best candidates).
    """
    v = resolve_version(session, version)
    q = "".join(unicodedata.normalize("NFKC", str(code_or_name)).split())
    opts = selectinload(Enterprise.lines).selectinload(ProductionLine.measures)
    if _looks_like_code(q) and len(q) == 18:
        ent = session.scalars(select(Enterprise).options(opts).where(
            Enterprise.version_id == v.id, Enterprise.credit_code == q.upper())).first()
        if ent is None:
            raise UnknownNameError(f"no enterprise with credit code {q.upper()} on list version {v.name!r}")
        return ent
    hits = find_enterprises(session, q, version=v, limit=5)
    if not hits:
        raise UnknownNameError(f"no enterprise matches {code_or_name!r} on list version {v.name!r}")
    exact = [h for h in hits if h.score == 100.0]
    best = exact if exact else [h for h in hits if h.score == hits[0].score]
    if len(best) != 1 or (not exact and hits[0].score < 90):
        listed = "; ".join(f"{h.name} {h.credit_code} ({h.score:.0f})" for h in hits)
        raise UnknownNameError(f"{code_or_name!r} matches several enterprises on list version {v.name!r}; "
                       f"give the credit code. Candidates: {listed}")
    return session.scalars(select(Enterprise).options(opts).where(Enterprise.id == best[0].id)).one()


def policy_sheet(session: Session, credit_code: str, level: "str | WarningLevel",
                 version: "ListVersion | int | str | dt.date | None" = None) -> dict[str, Any]:
    """The 一厂一策 sheet of an enterprise at one warning level.

    Parameters
    ----------
    credit_code : str
        Credit code (a name that picks out one enterprise works too).
    level : str or WarningLevel
        ``yellow``/``orange``/``red`` (or 黄色 …).

    Returns
    -------
    dict
        ``version`` (name, id, effective_date), ``level`` (key), ``level_label`` (黄色预警 …),
        ``response`` (III级响应 …), ``enterprise`` (credit_code, name, county, industry, grade,
        permit_no, contact_person, contact_phone, lon, lat), ``lines`` (one dict per line:
        line_code, name, process, capacity, capacity_unit, ``baseline`` {so2, nox, pm, vocs} and
        ``measure`` — kind, kind_label, fraction, text, timing, ``cut`` {so2 …} — or ``None`` if
        the line has no measure at that level), ``total_baseline`` and ``total_cut`` [t/day],
        ``units`` (``"t/d"``, :data:`airwarn.core.units.EMISSION`).

    Raises
    ------
    KeyError
        Unknown enterprise or level.
    ValueError
        For level ``none``.
    """
    lvl = WarningLevel.parse(level)
    if lvl is WarningLevel.NONE:
        raise InputError("policy_sheet: level must be yellow, orange or red, got 'none'")
    ent = get_enterprise(session, credit_code, version)
    lines_out = []
    total_base = dict.fromkeys(EMISSION_POLLUTANTS, 0.0)
    total_cut = dict.fromkeys(EMISSION_POLLUTANTS, 0.0)
    for line in sorted(ent.lines, key=lambda ln: ln.line_code):
        base = {p: float(getattr(line, p) or 0.0) for p in EMISSION_POLLUTANTS}
        meas = next((m for m in line.measures if m.level == lvl.key), None)
        m_out = None
        if meas is not None:
            cut = {p: float(getattr(meas, f"cut_{p}") or 0.0) for p in EMISSION_POLLUTANTS}
            m_out = {"kind": meas.kind, "kind_label": MEASURE_KIND_LABELS.get(meas.kind, meas.kind),
                     "fraction": meas.fraction, "text": meas.text, "timing": meas.timing, "cut": cut}
            for p in EMISSION_POLLUTANTS:
                total_cut[p] += cut[p]
        for p in EMISSION_POLLUTANTS:
            total_base[p] += base[p]
        lines_out.append({"line_code": line.line_code, "name": line.name, "process": line.process,
                          "capacity": line.capacity, "capacity_unit": line.capacity_unit, "baseline": base,
                          "measure": m_out})
    v = ent.version
    return {
        "version": {"name": v.name, "id": v.id, "effective_date": v.effective_date.isoformat(),
                    "synthetic": bool(v.synthetic)},
        "level": lvl.key, "level_label": lvl.label, "response": lvl.response,
        "enterprise": {k: getattr(ent, k) for k in ("credit_code", "name", "county", "industry", "grade",
                                                    "compliant", "permit_no", "contact_person", "contact_phone",
                                                    "lon", "lat")},
        "lines": lines_out,
        "total_baseline": {p: round(x, 6) for p, x in total_base.items()},
        "total_cut": {p: round(x, 6) for p, x in total_cut.items()},
        "units": EMISSION.code,
        "pollutant_labels": dict(EMISSION_LABELS),
    }


def format_policy_sheet(sheet: dict[str, Any]) -> str:
    """The 一厂一策 sheet as plain Chinese text (for ``airwarn list show``)."""
    e = sheet["enterprise"]
    lab = sheet["pollutant_labels"]
    out = [f"{e['name']}  统一社会信用代码 {e['credit_code']}",
           f"区县 {e['county']}  行业 {e['industry']}  绩效分级 {e['grade']}  排污许可证 {e['permit_no'] or '-'}",
           f"联系人 {e['contact_person'] or '-'} {e['contact_phone'] or ''}",
           f"{sheet['level_label']}（{sheet['response']}）一厂一策，清单版本 {sheet['version']['name']}"]
    for ln in sheet["lines"]:
        out.append(f"  [{ln['line_code']}] {ln['name']}（{ln['process'] or '-'}）")
        m = ln["measure"]
        if m is None:
            out.append("      本级别无措施")
            continue
        frac = "" if m["fraction"] is None else f" {m['fraction']:.0%}"
        cuts = "，".join(f"{lab[p]} {c:.4g}" for p, c in m["cut"].items() if c)
        out.append(f"      {m['kind_label']}{frac}：{m['text']}；执行时间 {m['timing'] or '-'}；"
                   f"减排量 {cuts or '0'} {EMISSION.zh}")
    tot = "，".join(f"{lab[p]} {sheet['total_cut'][p]:.4g}/{sheet['total_baseline'][p]:.4g}" for p in lab)
    out.append(f"  合计 减排量/基准排放量（{EMISSION.zh}）：{tot}")
    return "\n".join(out)
