"""The whole warning flow in headless Chromium against the real server (issue 15, Must show): a
commander issues, upgrades and lifts; the page follows the level; after the lift the downloaded
bulletin is the 解除通知 and the notification list says 解除.

Screenshots of the command page at each step go to ``<tmp_path>/lift-screenshots`` and, when
``AIRWARN_SCREENSHOTS`` is set, into that folder too.
"""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pandas as pd
import pytest

from dashboard.demo import read_demo_users
from tests.dashboard.test_browser import _sign_in, _wait, driver  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser


@pytest.fixture
def snap(tmp_path):
    folders = [tmp_path / "lift-screenshots"]
    if os.environ.get("AIRWARN_SCREENSHOTS"):
        folders.append(Path(os.environ["AIRWARN_SCREENSHOTS"]))
    for f in folders:
        f.mkdir(parents=True, exist_ok=True)

    def take(drv, name):
        drv.execute_script("window.scrollTo(0, 0)")
        first = folders[0] / f"{name}.png"
        drv.save_screenshot(str(first))
        for f in folders[1:]:
            shutil.copy(first, f / first.name)
    take.folder = folders[0]
    return take


#: The open dropdown's options (dash 4 draws them in a popover outside the component).
_OPTIONS = ".dash-dropdown-option"


def _choose(drv, dropdown_id, label):
    """Pick an option of a dcc.Dropdown by its label."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    drv.find_element(By.CSS_SELECTOR, f"#{dropdown_id}").click()
    WebDriverWait(drv, 10).until(lambda d: any(o.text == label for o in d.find_elements(
        By.CSS_SELECTOR, _OPTIONS)))
    for o in drv.find_elements(By.CSS_SELECTOR, _OPTIONS):
        if o.text == label:
            o.click()
            return
    raise AssertionError(f"{dropdown_id}: no option {label!r}")


def _act(drv, expect_ok):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    drv.find_element(By.ID, "cmd-action-button").click()
    WebDriverWait(drv, 15).until(ec.alert_is_present()).accept()
    _wait(drv, "#cmd-action-ok", expect_ok, timeout=30)


def _download(drv, button_id, folder: Path, name: str, timeout=20) -> Path:
    from selenium.webdriver.common.by import By

    target = folder / name
    if target.exists():
        target.unlink()
    drv.find_element(By.ID, button_id).click()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if target.exists() and not list(folder.glob("*.crdownload")):
            return target
        time.sleep(0.2)
    raise AssertionError(f"{name} was not downloaded into {folder}")


def _action_labels(drv):
    from selenium.webdriver.common.by import By

    drv.find_element(By.CSS_SELECTOR, "#cmd-action").click()
    time.sleep(0.5)
    labels = [o.text for o in drv.find_elements(By.CSS_SELECTOR, _OPTIONS)]
    drv.find_element(By.TAG_NAME, "h2").click()  # close it
    return labels


def test_i15_commander_issue_upgrade_lift_then_lift_notice_and_list_say_lifted(live_server, driver, snap,  # noqa: F811
                                                                              tmp_path):
    from selenium.webdriver.common.by import By

    url, settings = live_server.url, live_server.settings
    users = read_demo_users(settings)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})

    _sign_in(driver, url, "commander", users["commander"][1], "/command")
    _wait(driver, "#cmd-active-level", "当前无预警")
    _wait(driver, "#cmd-table-count", "共")
    assert _action_labels(driver) == ["发布预警"]  # nothing to upgrade or lift yet
    snap(driver, "lift-1-before")

    driver.find_element(By.ID, "cmd-action-reason").send_keys("会商结论：启动橙色预警")
    _act(driver, "已发布橙色预警")
    _wait(driver, "#cmd-active-level", "橙色预警")
    _wait(driver, "#cmd-signoff", "待副市长签批")
    assert driver.find_element(By.ID, "cmd-action-reason").get_attribute("value") == ""  # cleared
    assert _action_labels(driver) == ["升级预警", "降级预警", "解除预警"]  # no 发布预警 while one is active
    snap(driver, "lift-2-issued")

    _choose(driver, "cmd-action", "升级预警")
    _choose(driver, "cmd-action-level", "红色预警")
    _act(driver, "已升级为红色预警")
    _wait(driver, "#cmd-active-level", "红色预警")
    _wait(driver, "#cmd-signoff", "待市长签批")
    # the reductions and the affected-enterprise table follow the warning's level
    _wait(driver, "#cmd-red-level", "红色预警")
    assert "红色预警" in driver.execute_script(
        "return document.querySelector('#cmd-red-targets .js-plotly-plot').layout.title.text")
    snap(driver, "lift-3-upgraded")

    _choose(driver, "cmd-action", "解除预警")
    _act(driver, "已解除预警")
    _wait(driver, "#cmd-active-level", "当前无预警")
    _wait(driver, "#cmd-action-ok", "已发布解除通知")
    assert _action_labels(driver) == ["发布预警"]
    frame = driver.find_element(By.ID, "cmd-bulletin").get_attribute("srcdoc")
    assert "预警解除通知" in frame and "（北京时间）" in frame
    snap(driver, "lift-4-lifted")

    bulletin = _download(driver, "cmd-dl-bulletin", downloads, "bulletin.html").read_text(encoding="utf-8")
    assert "重污染天气预警解除通知" in bulletin and "解除红色预警" in bulletin
    notes = pd.read_excel(_download(driver, "cmd-dl-notify", downloads, "notifications.xlsx"))
    assert len(notes) > 0 and set(notes["状态"]) == {"解除"}
    assert set(notes["预警级别"]) == {"红色预警（已解除）"}
