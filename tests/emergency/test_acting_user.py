"""Who the command line acts as (issue 14, break 14) and the revision it decides on (break 16): only an
existing, active user holding the role, authenticated by password; every refusal logged. Through the
real CLI on a real SQLite file (``main([...])`` and a subprocess of ``.venv/bin/airwarn``)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from airwarn.cli import main

COMMANDER = "Commander-pass-1"
FORECASTER = "Forecaster-pass-1"
AIRWARN = Path(sys.executable).parent / "airwarn"


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A database with a commander (wang), a forecaster (li) and a disabled commander (old)."""
    import emergency.models  # noqa: F401
    from airwarn.core import users
    from airwarn.core.db import create_tables, get_engine, session_scope
    from airwarn.core.settings import load_settings

    for var in ("AIRWARN_PASSWORD", "AIRWARN_DB", "AIRWARN_SETTINGS", "AIRWARN_CITY", "AIRWARN_AREAS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AIRWARN_DATA_DIR", str(tmp_path / "var"))
    settings = load_settings(env={"AIRWARN_DATA_DIR": str(tmp_path / "var")}).ensure_dirs()
    eng = get_engine(settings.db_url)
    create_tables(eng)
    with session_scope(eng) as s:
        users.add_user(s, "wang", "commander", COMMANDER)
        users.add_user(s, "li", "forecaster", FORECASTER)
        users.add_user(s, "old", "commander", "Retired-chief-1")
        users.deactivate_user(s, "old")
    return settings


def _rows(settings):
    from airwarn.core.db import get_engine
    from emergency import lifecycle as lc

    eng = get_engine(settings.db_url)
    return lc.history(eng), lc.audit_log(eng), lc.refusals(eng)


ISSUE = ["warning", "issue", "--level", "orange", "--start", "2026-12-03", "--end", "2026-12-05", "--reason", "会商"]


@pytest.mark.parametrize("user, role, password, message", [
    ("ghost", "commander", "Whatever-pass-1", "user 'ghost': unknown user, disabled user or wrong password"),
    ("wang", "commander", "Wrong-password-1", "user 'wang': unknown user, disabled user or wrong password"),
    ("old", "commander", "Retired-chief-1", "user 'old': unknown user, disabled user or wrong password"),
    ("li", "commander", FORECASTER, "user 'li' holds the role forecaster, not commander"),
    ("li", "governor", FORECASTER, "unknown role 'governor'"),
])
def test_break_14_the_cli_acts_only_as_an_existing_user_with_that_role(env, capsys, monkeypatch, user, role,
                                                                         password, message):
    """`--user ghost --role commander` was accepted: the CLI trusted whatever user and role it was told."""
    monkeypatch.setenv("AIRWARN_PASSWORD", password)
    assert main([*ISSUE, "--user", user, "--role", role]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err
    warnings, audit, refused = _rows(env)
    assert warnings == [] and audit == []
    assert [(r.user, r.role, r.action, r.area, r.warning_id) for r in refused] == [(user, role, "issue", "阳泉", None)]
    assert message in refused[0].reason


def test_break_14_without_a_password_nothing_is_done(env, capsys):
    """No AIRWARN_PASSWORD, no --password-stdin and no terminal: refused, saying how to authenticate."""
    assert main([*ISSUE, "--user", "wang", "--role", "commander"]) == 2
    assert "a password is needed to act as commander (type it at the prompt, or set AIRWARN_PASSWORD)" in \
        capsys.readouterr().err
    assert _rows(env)[0] == []


def test_an_authenticated_commander_acts_and_refusals_are_listed(env, capsys, monkeypatch):
    monkeypatch.setenv("AIRWARN_PASSWORD", COMMANDER)
    assert main([*ISSUE, "--user", "wang", "--role", "commander"]) == 0
    w = json.loads(capsys.readouterr().out)
    assert (w["area"], w["level"], w["status"], w["issued_by"], w["revision"]) == ("阳泉", "orange", "issued", "wang", 2)
    monkeypatch.setenv("AIRWARN_PASSWORD", FORECASTER)
    assert main(["warning", "lift", "--user", "li", "--role", "forecaster", "--id", str(w["id"]),
                 "--revision", "2"]) == 2  # a forecaster, authenticated, may not lift
    assert "role 'forecaster' may not lift" in capsys.readouterr().err
    assert main(["warning", "log", "--refusals"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and "refused lift" in out[0] and "li(forecaster)" in out[0] and "#1" in out[0]
    assert main(["warning", "log"]) == 0
    assert [line.split()[4] for line in capsys.readouterr().out.strip().splitlines()] == ["issue"]


def test_password_from_stdin_in_a_real_process(env):
    run_env = {**os.environ, "AIRWARN_DATA_DIR": str(env.data_dir)}
    run_env.pop("AIRWARN_PASSWORD", None)
    cmd = [str(AIRWARN), *ISSUE, "--user", "wang", "--role", "commander", "--password-stdin"]
    bad = subprocess.run(cmd, input="Not-the-password-1\n", capture_output=True, text=True, env=run_env, timeout=120)
    assert bad.returncode == 2 and "wrong password" in bad.stderr and "Traceback" not in bad.stderr
    ok = subprocess.run(cmd, input=COMMANDER + "\n", capture_output=True, text=True, env=run_env, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["status"] == "issued"
    helped = subprocess.run([str(AIRWARN), "warning", "issue", "--help"], capture_output=True, text=True,
                            env=run_env, timeout=120)
    assert "AIRWARN_PASSWORD" in helped.stdout and "--password-stdin" in helped.stdout


def test_break_16_the_cli_carries_the_revision_and_refuses_a_stale_one(env, capsys, monkeypatch):
    """Two commanders one after the other on one warning: upgrade to red, then a lift decided on the old
    revision. Both won before; now the second is refused, naming what changed."""
    monkeypatch.setenv("AIRWARN_PASSWORD", COMMANDER)
    assert main([*ISSUE, "--user", "wang", "--role", "commander"]) == 0
    w = json.loads(capsys.readouterr().out)
    seen = ["--id", str(w["id"]), "--revision", str(w["revision"])]
    # without the revision the CLI refuses and shows the current state
    assert main(["warning", "lift", "--user", "wang", "--role", "commander"]) == 2
    err = capsys.readouterr().err
    assert "give --id and --revision" in err and '"revision": 2' in err
    assert main(["warning", "upgrade", "--level", "red", "--user", "wang", "--role", "commander", *seen]) == 0
    capsys.readouterr()
    assert main(["warning", "lift", "--user", "wang", "--role", "commander", *seen, "--reason", "好转"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert (f"warning #{w['id']} (阳泉) changed since revision 2 that the action was decided on: it is now red "
            f"and issued at revision 3, after upgrade by wang (commander) at ") in err
    assert main(["warning", "show"]) == 0
    now = json.loads(capsys.readouterr().out)
    assert (now["level"], now["status"], now["revision"]) == ("red", "issued", 3)
    refused = _rows(env)[2]
    assert [(r.action, r.warning_id) for r in refused] == [("lift", w["id"])]
    assert "changed since revision 2" in refused[0].reason
