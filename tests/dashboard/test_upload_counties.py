"""An upload is checked against the counties of the dashboard's own settings, not of the environment."""
from __future__ import annotations

from airwarn.core.vocab import YANGQUAN_COUNTIES
from dashboard.services.isolated import read_and_check
from enterprise_list.sample import make_sample_list
from enterprise_list.workbook import write_list_workbook


def test_the_upload_check_uses_the_counties_it_is_given_whatever_the_environment_says(tmp_path, monkeypatch):
    path = write_list_workbook(make_sample_list(12, seed=3), tmp_path / "list.xlsx")
    monkeypatch.setenv("AIRWARN_CITY", "太原")  # another city in the environment than the app's settings
    _, problems = read_and_check(str(path), "阳泉", YANGQUAN_COUNTIES, None, False)
    assert [p for p in problems if p.severity == "error"] == []
    _, problems = read_and_check(str(path), "阳泉", ("小店区", "迎泽区"), None, False)
    wrong = [p for p in problems if p.severity == "error" and p.value in YANGQUAN_COUNTIES]
    assert wrong, "a county outside the given ones must be an error"
