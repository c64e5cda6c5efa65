from airwarn.core.errors import AirwarnError
from pathlib import Path

import pytest

from airwarn.cli import main
from airwarn.core.settings import Settings, load_settings
from airwarn.core.vocab import WarningLevel


def test_env_overrides_file(tmp_path):
    cfg = tmp_path / "airwarn.toml"
    cfg.write_text('city = "太原"\ndata_dir = "%s"\n' % (tmp_path / "d").as_posix(), encoding="utf-8")
    s = load_settings(cfg, env={"AIRWARN_DB": "postgresql://u@localhost/airwarn"})
    assert s.city == "太原"
    assert s.db_url == "postgresql://u@localhost/airwarn"
    assert s.output_dir == tmp_path / "d" / "products"


def test_default_db_is_sqlite_under_data_dir(tmp_path):
    s = load_settings(env={"AIRWARN_DATA_DIR": str(tmp_path)})
    assert s.db_url == f"sqlite:///{tmp_path / 'airwarn.sqlite'}"


def test_observations_default_file_list_and_env(tmp_path):
    import os

    s = load_settings(env={"AIRWARN_DATA_DIR": str(tmp_path)})
    assert s.observations == (tmp_path / "demo" / "synthetic_city_daily.csv",)
    # the same default for settings built directly (it used to be an empty tuple there)
    assert Settings(data_dir=tmp_path, db_url="sqlite:///x.sqlite", output_dir=tmp_path, model_dir=tmp_path,
                    city="阳泉", rules="national-2024").observations == s.observations
    cfg = tmp_path / "airwarn.toml"
    cfg.write_text('observations = ["obs/2025.csv", "obs/2026.csv"]\n', encoding="utf-8")
    assert [p.name for p in load_settings(cfg, env={}).observations] == ["2025.csv", "2026.csv"]
    env = {"AIRWARN_OBS": os.pathsep.join(["/data/cnemc", "/data/extra.csv"])}
    assert load_settings(cfg, env=env).observations == (Path("/data/cnemc"), Path("/data/extra.csv"))
    assert load_settings(cfg, env={}).stations is None
    assert load_settings(cfg, env={"AIRWARN_STATIONS": "/data/sites.csv"}).stations == Path("/data/sites.csv")
    cfg.write_text("observations = 3\n", encoding="utf-8")
    with pytest.raises(ValueError, match="observations must be a path or a list of paths, got 3"):
        load_settings(cfg, env={})


def test_unknown_settings_key_lists_valid_keys(tmp_path):
    cfg = tmp_path / "airwarn.toml"
    cfg.write_text('cty = "阳泉"\n', encoding="utf-8")
    with pytest.raises(AirwarnError, match=r"unknown key\(s\) \['cty'\].*valid keys"):
        load_settings(cfg, env={})


def test_bad_db_url(tmp_path):
    with pytest.raises(ValueError, match="must be a SQLAlchemy URL"):
        load_settings(env={"AIRWARN_DB": "airwarn.sqlite"})


@pytest.mark.parametrize("text,level", [("yellow", 1), ("橙色预警", 2), ("红色", 3), ("none", 0), (2, 2)])
def test_warning_level_parse(text, level):
    assert WarningLevel.parse(text) == level


def test_warning_level_parse_unknown():
    with pytest.raises(AirwarnError, match="unknown warning level 'purple'"):
        WarningLevel.parse("purple")


def test_cli_help_lists_commands(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    assert "demo" in capsys.readouterr().out


def test_help_loads_no_heavy_library():
    """`airwarn --help` builds every subcommand's parser without numpy, pandas or SQLAlchemy (issue 18:
    lazy imports inside the command handlers); it took 1.4 s when the list commands loaded them."""
    import subprocess
    import sys

    code = ("import sys; from airwarn.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'numpy', 'pandas', 'sqlalchemy', 'xarray'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"
