"""Official outputs and pages are Chinese only (issue 15, "Language" and "Must show").

Every generated document (the daily chain on the demo data: bulletin html/txt before and after a
commander's issue and lift, any notice written beside them, the notification list's headers, the
post-event report) and every page's text (the Dash layouts and the command page's status callback as a
signed-in commander, walked through the component tree: children, placeholders, labels, options, table
columns and cells, figure titles and hovers; the error pages through the real Flask app) is searched
for English words. Allowed: units, pollutant symbols and the few Latin tokens Chinese official texts use
(:data:`ALLOWED`). Each offending word is reported with where it came from. The technical appendix
(技术附录) of the HTML bulletin is exempt: it holds file names and fingerprints on purpose.
"""
from __future__ import annotations

import datetime as dt
import html as htmllib
import json
import re
from pathlib import Path

import pandas as pd
import pytest

#: Tokens allowed in Chinese official text.
ALLOWED = re.compile(
    r"AQI|IAQI|PM2\.5|PM10|O3(?:[-_]?8h|[-_]?1h)?|SO2|NO2|NOx|CO|VOCs|ID|SHA-256|"
    # file formats named in instructions and buttons
    r"CSV|csv|xlsx?|XLSX|zip|ZIP|HTML|html|TXT|txt|GRIB2|netCDF|"
    # verification scores as Chinese forecast verification writes them (TS评分, 命中率 POD …)
    r"TS|ETS|POD|FAR|CSI|MAE|RMSE|CRPS|Brier|"
    # the security token a refused request names (pinned by the issue-14 tests)
    r"CSRF|"
    r"I{1,3}|IV|[A-D]\+?|P|p\*?|D\+\d+|T\d+m?|[0-9A-HJ-NPQRTUWXY]{18}")
#: Account names (login names are identifiers, not language): the demo users.
ACCOUNTS = ("list-admin", "commander", "forecaster", "viewer")
#: Units removed before the words are looked at.
UNITS = re.compile(r"[µμ]g/m³|mg/m³|t/d(?:ay)?|(?<![A-Za-z])(?:km|h|hPa)(?![A-Za-z])")
WORD = re.compile(r"[A-Za-z][A-Za-z0-9_.+\-*]*")


def english_words(text: str) -> list[str]:
    """The words of ``text`` that are English (not in :data:`ALLOWED`)."""
    text = UNITS.sub(" ", str(text))
    text = re.sub(r"\{[a-z_]+\}", " ", text)  # placeholders of widget texts: 已选 {num_selected} 项
    for name in ACCOUNTS:
        text = re.sub(rf"(?<![A-Za-z]){re.escape(name)}(?![A-Za-z])", " ", text)
    return [w.rstrip(".-") for w in WORD.findall(text) if not ALLOWED.fullmatch(w.rstrip(".-"))]


def html_text(page: str) -> str:
    """The visible text of an HTML document, without the technical appendix."""
    page = re.sub(r"(?s)<style.*?</style>|<script.*?</script>", " ", page)
    page = re.sub(r'(?s)<section class="appendix".*?</section>', " ", page)
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", page))


class Findings:
    """Offending words by source."""

    def __init__(self):
        self.found: dict[str, set[str]] = {}

    def check(self, where: str, text: str) -> None:
        words = english_words(text)
        if words:
            self.found.setdefault(where, set()).update(words)

    def report(self) -> str:
        return "\n".join(f"{where}: {sorted(words)}" for where, words in sorted(self.found.items()))


# --------------------------------------------------------------------------- documents
DATE = dt.date(2026, 1, 10)


@pytest.fixture(scope="module")
def products(tmp_path_factory):
    """The demo's daily products, then again after a commander issued and lifted a warning."""
    from airwarn.core.db import get_engine
    from airwarn.core.settings import load_settings
    from emergency import daily, lifecycle
    from enterprise_list.demo import build_demo
    from tests.emergency.test_engine_inputs import make_dataset

    root = tmp_path_factory.mktemp("zh-docs")
    settings = load_settings(env={"AIRWARN_DATA_DIR": str(root / "var")}).ensure_dirs()
    build_demo(settings, DATE)
    folder = settings.output_dir / DATE.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    make_dataset({settings.city: [205, 212, 225, 180, 95, 80, 70, 60, 60, 60]},
                 issued=DATE.isoformat()).to_netcdf(folder / "forecast.nc")
    docs: dict[str, str] = {}

    def collect(stage: str) -> None:
        for p in sorted(folder.iterdir()):
            if p.suffix == ".html":
                docs[f"{stage}/{p.name}"] = html_text(p.read_text(encoding="utf-8"))
            elif p.suffix == ".txt":
                docs[f"{stage}/{p.name}"] = p.read_text(encoding="utf-8")
            elif p.name.startswith("notifications") and p.suffix in (".csv", ".xlsx"):
                frame = (pd.read_csv(p, encoding="utf-8-sig") if p.suffix == ".csv"
                         else pd.read_excel(p, engine="calamine"))
                level_cols = [c for c in frame.columns if "级别" in str(c) or "状态" in str(c)]
                docs[f"{stage}/{p.name} (headers, level)"] = " ".join(map(str, frame.columns)) + " " + " ".join(
                    str(v) for c in level_cols for v in frame[c].unique())

    res = daily.run_daily(settings, DATE)
    collect("daily")
    eng = get_engine(settings.db_url)
    w = lifecycle.issue(eng, user="张伟", role="commander", area=settings.city, level="orange",
                        start=dt.date(2026, 1, 11), end=dt.date(2026, 1, 14), reason="会商决定", rules_version="national-2024")
    publish = getattr(daily, "republish", None) or daily.publish_issued
    publish(settings, w, DATE)
    collect("issued")
    w = lifecycle.lift(eng, w.id, user="张伟", role="commander", reason="空气质量好转",
                       expected_revision=w.revision)
    if hasattr(daily, "republish"):
        daily.republish(settings, w, DATE)
        collect("lifted")
    # the post-event report
    from emergency.report import post_event_report

    obs = pd.DataFrame({"city": settings.city, "date": pd.to_datetime(list(res.recommendation.dates)),
                        "aqi": [190, 230, 240, 170, 90, 80, 75, 60, 55, 50]})
    rep = post_event_report(res.recommendation, obs, res.reductions)
    out = rep.write(root / "report")
    docs["report/event_report.html"] = html_text(out[1].read_text(encoding="utf-8"))
    docs["report/event_report.csv (headers)"] = " ".join(pd.read_csv(out[0], encoding="utf-8-sig").columns)
    return docs


def test_i15_documents_have_no_english_words(products):
    findings = Findings()
    for where, text in products.items():
        findings.check(where, text)
    assert {"daily/bulletin.html", "daily/bulletin.txt", "issued/bulletin.txt"} <= set(products)
    assert not findings.found, "English words in official documents:\n" + findings.report()


def test_i15_bulletin_keeps_file_and_fingerprint_in_the_appendix_only(products, tmp_path):
    txt = products["issued/bulletin.txt"]
    assert "forecast.nc" not in txt and "sha256" not in txt.lower()
    assert "if AQI on" not in txt and "若第" in txt  # sensitivity in Chinese
    assert "日AQI>200:" not in txt and "（2024）：" in txt  # full-width punctuation


def test_i15_checker_reports_english_with_its_source():
    findings = Findings()
    findings.check("bulletin.txt", "若第2天AQI为150 (if AQI on 2026-01-12 were 150)，SO2 1.2 t/d，PM2.5 80 µg/m³，A级")
    assert findings.found == {"bulletin.txt": {"if", "on", "were"}}
    assert "bulletin.txt: ['if', 'on', 'were']" in findings.report()


# --------------------------------------------------------------------------- pages
_TEXT_PROPS = ("children", "placeholder", "label", "title", "summary", "labels", "options", "columns", "data",
               "figure", "filter_options", "srcDoc", "alt")


def _walk(obj, where: str, out: list[tuple[str, str]]) -> None:
    """Collect (where, text) of a Dash component tree (and of figures and table data inside it)."""
    from dash.development.base_component import Component

    if obj is None or isinstance(obj, (bool, int, float)):
        return
    if isinstance(obj, str):
        out.append((where, html_text(obj) if obj.lstrip()[:9].lower() in ("<!doctype", "<html>") else obj))
    elif isinstance(obj, Component):
        here = f"{where}>{type(obj).__name__}" + (f"#{obj.id}" if isinstance(getattr(obj, "id", None), str) else "")
        for prop in _TEXT_PROPS:
            value = getattr(obj, prop, None)
            if prop == "srcDoc" and isinstance(value, str):
                out.append((f"{here}.srcDoc", html_text(value)))
            elif prop == "data" and isinstance(value, list):  # table cells (strings only)
                for row in value[:50]:
                    out.extend((f"{here}.data", str(v)) for v in row.values() if isinstance(v, str))
            elif prop == "figure" and value is not None:
                _walk_figure(value, f"{here}.figure", out)
            elif prop == "columns" and isinstance(value, list):
                out.extend((f"{here}.columns", str(c.get("name", ""))) for c in value if isinstance(c, dict))
            elif prop == "options" and isinstance(value, list):
                out.extend((f"{here}.options", o["label"] if isinstance(o, dict) else str(o)) for o in value
                           if not isinstance(o, dict) or isinstance(o.get("label"), str))
            elif prop in ("labels", "filter_options") and isinstance(value, dict):
                out.extend((f"{here}.{prop}", str(v)) for v in value.values())
            elif prop not in ("labels", "filter_options", "options", "columns", "data"):
                _walk(value, f"{here}.{prop}" if prop != "children" else here, out)
        if isinstance(obj, __import__("dash").dcc.Dropdown):
            if getattr(obj, "labels", None) is None:
                out.append((f"{here}.labels", "Search"))  # Dash's English default texts
        if type(obj).__name__ == "DataTable" and getattr(obj, "filter_action", None) not in (None, "none"):
            if not (getattr(obj, "filter_options", None) or {}).get("placeholder_text"):
                out.append((f"{here}.filter_options", "filter data"))  # Dash's default
    elif isinstance(obj, (list, tuple)):
        for c in obj:
            _walk(c, where, out)
    elif isinstance(obj, dict):
        for v in obj.values():
            _walk(v, where, out)


def _strip_template(text: str) -> str:
    return re.sub(r"%\{[^}]*\}|<extra>.*?</extra>|</?[a-z]+\s*/?>", " ", text)


def _walk_figure(fig, where: str, out: list[tuple[str, str]]) -> None:
    fig = fig.to_plotly_json() if hasattr(fig, "to_plotly_json") else fig
    if not isinstance(fig, dict):
        return
    for tr in fig.get("data", []) or []:
        for key in ("name", "hovertemplate", "text", "legendgrouptitle"):
            v = tr.get(key)
            if isinstance(v, str):
                out.append((f"{where}.trace.{key}", _strip_template(v)))
            elif isinstance(v, dict) and isinstance(v.get("text"), str):
                out.append((f"{where}.trace.{key}", v["text"]))
    layout = fig.get("layout", {}) or {}

    def texts(node, path):
        if isinstance(node, dict):
            for k, v in node.items():
                if k in ("text", "title") and isinstance(v, str):
                    out.append((f"{where}.layout.{path}", _strip_template(v)))
                elif k not in ("template", "font", "mapbox", "geo"):
                    texts(v, f"{path}.{k}" if path else k)
        elif isinstance(node, list):
            for v in node:
                texts(v, path)
    texts(layout, "")


@pytest.fixture(scope="module")
def page_env(tmp_path_factory):
    from dashboard.app import create_app
    from tests.dashboard.dash_env import build_env

    settings = build_env(tmp_path_factory.mktemp("zh-pages"))
    return settings, create_app(settings)


def _signed_in(app, name: str):
    from contextlib import contextmanager

    from sqlalchemy import select

    from dashboard import auth
    from dashboard.services import context, products, warnings as warning_service

    @contextmanager
    def ctx():
        with app.server.test_request_context("/"):
            with context.session() as s:
                auth.begin_session(s, s.scalars(select(auth.User).where(auth.User.name == name)).one())
            yield
    return ctx()


def test_i15_pages_have_no_english_words(page_env):
    from dashboard.services import context, products, warnings as warning_service
    from dashboard.pages import command, consult, enterprise, home, listadmin

    settings, app = page_env
    texts: list[tuple[str, str]] = []
    with _signed_in(app, "commander"):
        warning_service.warning_action("issue", "orange", user="commander", role="commander", reason="会商决定",
                            s=settings, seen=warning_service.warning_seen(settings))
        for name, mod in (("home", home), ("consult", consult), ("command", command), ("enterprise", enterprise)):
            _walk(mod.layout(), f"/{name}", texts)
        _walk(list(command.show_status(0)), "/command:show_status", texts)
        city, day = settings.city, str(products.resolve_date(None, settings))
        # the 督查 panel before and after a compliance check of the product day (issue 17)
        from tests.dashboard.test_compliance_panel import write_check
        _walk(list(command.show_compliance(0)), "/command:show_compliance (no check)", texts)
        write_check(settings.output_dir / day, "911403000000000099")
        _walk(list(command.show_compliance(0)), "/command:show_compliance", texts)
        _walk(consult.update_weather(city, day), "/consult:update_weather", texts)  # one component, not a tuple
        for cb, args in ((consult.update_outlook, (city, day)), (consult.update_level_outlook, (city, day))):
            try:
                _walk(list(cb(*args)), f"/consult:{cb.__name__}", texts)
            except Exception as exc:  # noqa: BLE001  (a callback whose tab is not shown: PreventUpdate)
                if type(exc).__name__ != "PreventUpdate":
                    raise
    with _signed_in(app, "list-admin"):
        _walk(listadmin.layout(), "/list", texts)
    findings = Findings()
    for where, text in texts:
        findings.check(where, text)
    assert texts, "no page text collected"
    assert not findings.found, "English words in pages:\n" + findings.report()


def test_i15_error_pages_are_chinese(page_env):
    settings, app = page_env
    client = app.server.test_client()
    findings = Findings()
    for path, method in (("/sheet/000000000000000000?level=red", "get"), ("/sheet/x?level=purple", "get"),
                         ("/assets/no-such-file.css", "get"), ("/sheet/x", "post")):
        resp = getattr(client, method)(path)
        assert resp.status_code >= 400, path
        body = resp.get_data(as_text=True)
        findings.check(f"{method.upper()} {path} ({resp.status_code})", html_text(body))
        assert re.search(r"[\u4e00-\u9fff]", body), (path, body[:200])
    assert not findings.found, "English words in error pages:\n" + findings.report()
