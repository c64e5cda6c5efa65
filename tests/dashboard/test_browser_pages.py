"""会商 and 清单管理 in headless Chromium against the real server (issue 15): the fan chart runs the
observed days into the forecast, the regional map draws city boundaries, a second issue day can be
compared; the list admin downloads the template and uploads a zip of the three CSV files.

Screenshots go to ``$AIRWARN_ARTIFACTS/pages`` (else ``<tmp_path>/pages-screenshots``) and, when
``AIRWARN_SCREENSHOTS`` is set, into that folder too (``test_browser.py`` owns ``…/dashboard``).
"""
from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import zipfile
from pathlib import Path

import pytest

from dashboard.demo import read_demo_users
from tests.dashboard.test_browser import _plots_drawn, _sign_in, _wait, driver  # noqa: F401  (fixture)
from tests.dashboard.test_browser_lift import _choose, _download

pytestmark = pytest.mark.browser


@pytest.fixture
def snap(tmp_path):
    base = os.environ.get("AIRWARN_ARTIFACTS")
    folders = [Path(base) / "pages" if base else tmp_path / "pages-screenshots"]
    if os.environ.get("AIRWARN_SCREENSHOTS"):
        folders.append(Path(os.environ["AIRWARN_SCREENSHOTS"]))
    for f in folders:
        f.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {folders[0]}")

    def take(drv, name):
        first = folders[0] / f"{name}.png"
        drv.save_screenshot(str(first))
        for f in folders[1:]:
            shutil.copy(first, f / first.name)
    return take


def _figure_js(drv, container: str, expr: str):
    return drv.execute_script(f"const g = document.querySelector('#{container} .js-plotly-plot'); return {expr};")


def test_i15_consult_and_list_pages_in_chromium(live_server, driver, snap, tmp_path):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from dashboard.services import context
    from tests.dashboard.dash_env import ISSUED, make_forecast

    url, settings = live_server.url, live_server.settings
    users = read_demo_users(settings)
    earlier = ISSUED - dt.timedelta(days=1)  # a second issue day to compare with
    (settings.output_dir / earlier.isoformat()).mkdir(parents=True, exist_ok=True)
    make_forecast(issued=earlier, seed=11).to_netcdf(settings.output_dir / earlier.isoformat() / "forecast.nc")

    # --- forecaster: 会商, fan chart with the observed days, compare an earlier issue day, the map
    _sign_in(driver, url, "forecaster", users["forecaster"][1], "/consult")
    _plots_drawn(driver, ["consult-fan"], timeout=30)
    names = _figure_js(driver, "consult-fan", "g.data.map(t => t.name)")
    assert "实况 AQI" in names, names
    observed = _figure_js(driver, "consult-fan", "g.data.find(t => t.name === '实况 AQI').x.length")
    assert observed >= 20  # the last 30 days of observations run into the fan
    snap(driver, "1-consult-outlook")
    _choose(driver, "consult-compare-date", earlier.isoformat())
    WebDriverWait(driver, 20).until(lambda d: d.execute_script(
        "const g = document.querySelector('#consult-fan .js-plotly-plot');"
        " return g && g.data.some(t => (t.name || '').includes('起报'));"))
    snap(driver, "2-consult-compare")

    driver.find_element(By.ID, "consult-tab-map").click()
    _plots_drawn(driver, ["consult-map"], timeout=30)
    WebDriverWait(driver, 20).until(lambda d: d.execute_script(
        "return document.querySelectorAll('#consult-map path.js-fill').length >= 8;"))
    fills = driver.execute_script(
        "return Array.from(document.querySelectorAll('#consult-map path.js-fill'))"
        ".map(p => p.getAttribute('d').length);")
    assert len(fills) >= 8 and min(fills) > 100  # each city a real polygon, not a marker
    labels = driver.execute_script("return Array.from(document.querySelectorAll('#consult-map .textpoint'))"
                                   ".map(t => t.textContent);")
    assert "阳泉" in labels and "郑州" in labels
    assert "汾渭平原" in _figure_js(driver, "consult-map", "g.layout.title.text")
    snap(driver, "3-consult-map")

    # --- list admin: template download and a zip of the three CSV files
    driver.find_element(By.ID, "nav-signout").click()
    WebDriverWait(driver, 15).until(lambda d: "/consult" not in d.current_url)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    _sign_in(driver, url, "list-admin", users["list-admin"][1], "/list")
    _wait(driver, "#list-template")
    template = _download(driver, "list-template", downloads, "应急减排清单模板.xlsx")
    assert template.stat().st_size > 1000 and template.read_bytes()[:2] == b"PK"
    snap(driver, "4-list")

    from enterprise_list.io import load_list
    from enterprise_list.workbook import write_list_workbook

    with context.session(settings) as s:
        folder = write_list_workbook(load_list(s), tmp_path / "csv")
    archive = tmp_path / "清单2026.zip"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for f in sorted(folder.glob("*.csv")):
            zf.write(f, f"清单/{f.name}")
    archive.write_bytes(buf.getvalue())
    driver.find_element(By.CSS_SELECTOR, "#list-upload input[type=file]").send_keys(str(archive))
    _wait(driver, "#list-report", "校验通过", timeout=40)
    assert "清单2026.zip" in driver.find_element(By.ID, "list-report").text
    snap(driver, "5-list-uploaded")
