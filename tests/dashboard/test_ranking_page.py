"""考核排名 page (issue 19): the real server renders the demo ranking for a signed-in user: the table, the bar
chart of the index by its terms, the target-tracking figure, the synthetic mark; anonymous visitors are asked
to sign in."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.dashboard.conftest import LiveServer
from tests.dashboard.test_server import Browser

DEMO_DAY = dt.date(2026, 12, 2)


@pytest.fixture(scope="module")
def ranking_server(tmp_path_factory):
    """A server on settings of its own holding one viewer and the demo ranking (as ``airwarn demo`` writes it)."""
    from airwarn.core.settings import load_settings
    from dashboard import auth
    from dashboard.demo import demo_password
    from dashboard.services import context
    from forecast.synthetic_counties import build_ranking_demo

    root = tmp_path_factory.mktemp("ranking-env")
    settings = load_settings(env={"AIRWARN_DATA_DIR": str(root / "var")}).ensure_dirs()
    context.ensure_tables(settings)
    password = demo_password("viewer", "viewer")
    with context.session(settings) as session:
        auth.add_user(session, "viewer", "viewer", password)
    build_ranking_demo(settings, DEMO_DAY)
    srv = LiveServer(settings)
    srv.password = password
    yield srv
    srv.close()


def _render(browser: Browser, path: str) -> dict:
    """POST the Dash pages callback for ``path`` as dash-renderer does; the page's component tree."""
    body = {"output": ".._pages_content.children..._pages_store.data..",
            "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                       {"id": "_pages_location", "property": "search", "value": ""}],
            "changedPropIds": ["_pages_location.pathname"]}
    headers = {"Content-Type": "application/json", "X-CSRFToken": browser.cookie("_csrf_token")}
    status, text, _ = browser.request("/_dash-update-component", json.dumps(body).encode(), headers)
    assert status == 200, text[:500]
    return json.loads(text)["response"]["_pages_content"]["children"]


def _find(tree, wanted: str):
    if isinstance(tree, list):
        return next((f for t in tree if (f := _find(t, wanted)) is not None), None)
    if not isinstance(tree, dict):
        return None
    props = tree.get("props", {})
    if props.get("id") == wanted:
        return props
    return _find(props.get("children"), wanted)


def _text(tree) -> str:
    if isinstance(tree, (str, int, float)):
        return str(tree)
    if isinstance(tree, list):
        return " ".join(_text(t) for t in tree)
    if isinstance(tree, dict):
        return _text(tree.get("props", {}).get("children"))
    return ""


def test_ranking_page_renders_the_demo_ranking(ranking_server):
    import pandas as pd

    from airwarn.core.products import RANKING_CSV, product_path

    viewer = Browser(ranking_server.url)
    _, home, _ = viewer.request("/")  # the CSRF cookie
    assert viewer.sign_in("viewer", ranking_server.password) == 302
    page = _render(viewer, "/ranking")
    text = _text(page)
    assert "区县空气质量考核排名" in text and "评价时段：2026年11月" in text and "GB 3095-2012" in text
    assert "【合成数据】" in text and "（北京时间）" in text
    expected = pd.read_csv(product_path(ranking_server.settings.output_dir, DEMO_DAY, RANKING_CSV))
    table = _find(page, "rank-table")
    assert [r["county"] for r in table["data"]] == list(expected["county"])
    assert [r["composite_index"] for r in table["data"]] == [f"{v:.2f}" for v in expected["composite_index"]]
    assert [r["rank"] for r in table["data"]] == list(expected["rank"])
    bar = _find(page, "rank-bar")["figure"]
    assert [t["name"] for t in bar["data"]] == ["SO₂", "NO₂", "PM₁₀", "PM₂.₅", "CO", "O₃-8h"]
    stacked = [sum(t["y"][i] for t in bar["data"]) for i in range(len(expected))]
    assert stacked == pytest.approx(list(expected["composite_index"]), abs=0.04)  # terms shown to 2 decimals
    tracking = _find(page, "rank-tracking")["figure"]
    names = [t["name"] for t in tracking["data"]]
    assert names[:2] == ["月均浓度", "年初至今累计均值"] and len(tracking["data"][0]["x"]) == 11  # Jan–Nov
    assert any(s["y0"] == 35 for s in tracking["layout"]["shapes"])  # 阳泉's target
    rest = next(t for t in tracking["data"] if t["name"] == "其余天数须保持的均值")
    meta = json.loads((product_path(ranking_server.settings.output_dir, DEMO_DAY, "ranking_tracking.json"))
                      .read_text(encoding="utf-8"))
    city = next(e for e in meta["tracking"]["targets"] if e["area"] == "阳泉" and e["indicator"] == "pm25_mean")
    assert rest["x"] == ["12月"] and rest["y"] == [pytest.approx(city["required_rest_mean"])]
    assert city["remaining_days"] == 31 and city["observed_days"] == 334 - 3  # Jan–Nov less the 3 sand-dust days
    targets = _text(_find(page, "rank-targets")) + json.dumps(_find(page, "rank-targets")["data"], ensure_ascii=False)
    assert "阳泉" in targets and "PM₂.₅ 年均浓度" in targets and "需全省 119 个区县数据" in targets


def test_ranking_page_asks_anonymous_visitors_to_sign_in(ranking_server):
    anon = Browser(ranking_server.url)
    anon.request("/")
    text = _text(_render(anon, "/ranking"))
    assert "本页面需要登录" in text and "综合指数" not in text
