"""End to end in headless Chromium against the real server (waitress, SQLite file, demo-like data).

Screenshots of each page go to ``$AIRWARN_ARTIFACTS/dashboard`` if set, else to
``<tmp_path>/screenshots`` (the path is printed).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from dashboard.demo import read_demo_users

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")

pytestmark = pytest.mark.browser


@pytest.fixture
def driver(tmp_path):
    if not (CHROMIUM and CHROMEDRIVER):
        if os.environ.get("CI"):
            pytest.fail("chromium and chromedriver are required in CI (make browser installs them)")
        pytest.skip("chromium/chromedriver not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'chromium-profile'}",
                "--window-size=1440,2200", "--lang=zh-CN"):
        opts.add_argument(arg)
    drv = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    drv.set_page_load_timeout(30)
    yield drv
    drv.quit()


@pytest.fixture
def shots(tmp_path):
    base = os.environ.get("AIRWARN_ARTIFACTS")
    folder = Path(base) / "dashboard" if base else tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {folder}")
    return folder


def _wait(drv, css: str, text: str | None = None, timeout: float = 20):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(drv, timeout)
    if text is None:
        return wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, css)))
    wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, css), text))
    return drv.find_element(By.CSS_SELECTOR, css)


def _plots_drawn(drv, container_ids, timeout: float = 20):
    from selenium.webdriver.support.ui import WebDriverWait

    script = ("return arguments[0].every(id => { const g = document.querySelector('#' + id + ' .js-plotly-plot');"
              " return g && g.querySelector('.main-svg') && g.data && g.data.length > 0; });")
    WebDriverWait(drv, timeout).until(lambda d: d.execute_script(script, list(container_ids)))


def _sign_in(drv, url, name, password, next_path):
    from selenium.webdriver.common.by import By

    drv.get(f"{url}/login?next={next_path}")
    drv.find_element(By.ID, "username").send_keys(name)
    drv.find_element(By.ID, "password").send_keys(password)
    drv.find_element(By.ID, "login-submit").click()


def test_commander_issues_then_enterprise_looks_up_its_measures(live_server, driver, shots):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    from dashboard.services import lists

    url, settings = live_server.url, live_server.settings
    users = read_demo_users(settings)

    driver.get(f"{url}/login")
    _wait(driver, "#login-form")
    driver.save_screenshot(str(shots / "0-login.png"))

    # --- commander: recommendation, issue, cuts and targets
    _sign_in(driver, url, "commander", users["commander"][1], "/command")
    _wait(driver, "#cmd-reco-level", "橙色预警")
    assert "III级响应" not in driver.find_element(By.ID, "cmd-reco-level").text
    reasons = driver.find_element(By.ID, "cmd-reco-reasons").text
    assert "日AQI>200" in reasons
    # the decision basis: each level's calibrated probability against its threshold
    basis = _wait(driver, "#cmd-reco-basis", "P(橙色预警条件) = 0.80 ≥ 0.35").text
    assert "P(红色预警条件) = 0.18 < 0.3" in basis and "结论：橙色预警" in basis
    _wait(driver, "#cmd-active-level", "当前无预警")
    # the past year's events of the recorded backtest on a timeline
    _wait(driver, "#cmd-events-text", "命中 6（等级正确 6），漏报 4")
    _plots_drawn(driver, ["cmd-red-targets", "cmd-red-groups", "cmd-events-timeline"])
    _wait(driver, "#cmd-table-count", "共")
    driver.save_screenshot(str(shots / "1-command-before.png"))

    driver.find_element(By.ID, "cmd-action-reason").send_keys("会商结论：静稳天气持续，启动橙色预警")
    driver.find_element(By.ID, "cmd-action-button").click()
    alert = WebDriverWait(driver, 15).until(ec.alert_is_present())
    assert "橙色预警" in alert.text and "commander" in alert.text and "目标 20%" in alert.text
    alert.accept()
    _wait(driver, "#cmd-action-ok", "已发布橙色预警")
    _wait(driver, "#cmd-active-level", "橙色预警")
    _wait(driver, "#cmd-reco-basis", "橙色预警生效中：阈值取保持阈值")  # the warning in force is kept
    met = _wait(driver, "#cmd-red-met").text
    assert "达标" in met
    targets_text = driver.execute_script(
        "const g = document.querySelector('#cmd-red-targets .js-plotly-plot');"
        " return g.layout.title.text + ' ' + g.layout.annotations.map(a => a.text).join(' ');")
    assert "橙色预警" in targets_text and "目标 20%" in targets_text
    history = driver.find_element(By.ID, "cmd-history").text
    assert "橙色预警" in history and "commander" in history
    driver.execute_script("window.scrollTo(0, 0)")
    driver.save_screenshot(str(shots / "2-command-issued.png"))

    # --- consultation page renders its figures
    driver.get(f"{url}/consult")
    _plots_drawn(driver, ["consult-fan", "consult-prob", "consult-pollutants", "consult-level-prob"], timeout=30)
    _wait(driver, "#consult-level-basis", "P(橙色预警条件) = 0.80 ≥ 0.26")  # the keep threshold: orange in force
    driver.save_screenshot(str(shots / "3-consult.png"))
    driver.find_element(By.ID, "consult-tab-verify").click()
    _plots_drawn(driver, ["consult-recent", "consult-scorecard"])
    _wait(driver, "#consult-cma-table", "等级评分")
    driver.save_screenshot(str(shots / "3-consult-verify.png"))
    driver.find_element(By.ID, "consult-tab-events").click()
    _wait(driver, "#consult-events-region-table", "0.73（0.62–0.83）")
    _wait(driver, "#consult-events-city-table", "0.43")
    _wait(driver, "#consult-live-summary", "阳泉每日建议 2026-01-10 – 2026-01-10")
    driver.save_screenshot(str(shots / "3-consult-events.png"))
    driver.find_element(By.ID, "consult-tab-map").click()
    _plots_drawn(driver, ["consult-map"])
    driver.save_screenshot(str(shots / "3-consult-map.png"))

    # --- sign out, then the public enterprise lookup
    driver.find_element(By.ID, "nav-signout").click()
    WebDriverWait(driver, 15).until(lambda d: "/login" in d.current_url)  # signing out lands on the sign-in page
    driver.get(f"{live_server.url}/enterprise")
    _wait(driver, "#nav-signin", "登录")
    code = lists.find_enterprises("焦化", limit=1, s=settings)[0]["credit_code"]
    sheet = lists.enterprise_sheet(code, "orange", s=settings)
    box = _wait(driver, "#ent-query")
    box.send_keys(code)
    driver.find_element(By.ID, "ent-search").click()
    _wait(driver, "#ent-measures")
    assert "橙色预警" in driver.find_element(By.ID, "ent-level-badge").text
    table = driver.find_element(By.ID, "ent-measures").text
    measured = [r for r in sheet["rows"] if r["kind"] != "—"]
    assert measured and all(r["text"] in table for r in measured)
    assert sheet["enterprise"]["name"] in driver.find_element(By.ID, "ent-name").text
    driver.save_screenshot(str(shots / "4-enterprise.png"))

    driver.get(f"{url}/sheet/{code}?level=orange")
    _wait(driver, ".sheet-measures")
    driver.save_screenshot(str(shots / "5-sheet.png"))

    # --- list management (list-admin) and the refusal for others
    driver.get(f"{url}/list")
    _wait(driver, "#signin-link")
    _sign_in(driver, url, "list-admin", users["list-admin"][1], "/list")
    _wait(driver, "#list-versions", "2026年度")
    driver.save_screenshot(str(shots / "6-list.png"))
    assert len(list(shots.glob("*.png"))) == 10
