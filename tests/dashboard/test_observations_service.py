"""The dashboard's observations service names the setting to fix when the files cannot be used."""
from __future__ import annotations

import pytest

from airwarn.core.errors import InputError
from dashboard.services.context import stamps
from dashboard.services.observations import read_all


def test_archive_files_without_a_station_list_name_the_settings(tmp_path):
    archive = tmp_path / "china_sites_20150101.csv"
    archive.write_text("date,hour,type,1001A\n", encoding="utf-8")
    read_all.cache_clear()
    with pytest.raises(InputError, match=r"^settings 'observations': 1 CNEMC national archive file\(s\) .* "
                                         r"none was given: set 'stations' \(AIRWARN_STATIONS\)$"):
        read_all(stamps([archive]), None)


def test_a_malformed_file_names_the_settings(tmp_path):
    bad = tmp_path / "obs.csv"
    bad.write_text("city,date,aqi,pm25,pm10,so2,no2,co,o3_8h\n阳泉,2026-13-45,80,50,70,10,30,0.8,60\n", encoding="utf-8")
    read_all.cache_clear()
    with pytest.raises(InputError, match=r"^settings 'observations': .*obs\.csv, row 2, column 'date'.*2026-13-45'$"):
        read_all(stamps([bad]), None)
