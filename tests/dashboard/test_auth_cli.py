"""Users, roles, the session key, the CLI and the demo users."""
from __future__ import annotations

import io
import os
import stat

import pytest

from airwarn.core.errors import AirwarnError
from airwarn.core.db import get_engine, session_scope
from dashboard import auth
from dashboard.services import context


def test_password_is_hashed_and_checked(settings):
    context.ensure_tables(settings)
    with session_scope(get_engine(settings.db_url)) as s:
        user = auth.add_user(s, "zhang", "forecaster", "correct horse")
        assert "correct horse" not in user.password_hash
        assert user.password_hash.startswith(("scrypt:", "pbkdf2:"))
    with session_scope(get_engine(settings.db_url)) as s:
        assert auth.authenticate(s, "zhang", "correct horse").role == "forecaster"
        assert auth.authenticate(s, "zhang", "wrong password") is None
        assert auth.authenticate(s, "nobody", "correct horse") is None


def test_bad_role_name_and_password(settings):
    context.ensure_tables(settings)
    with session_scope(get_engine(settings.db_url)) as s:
        with pytest.raises(AirwarnError, match="valid roles are .*commander.*list-admin"):
            auth.add_user(s, "li", "admin", "long enough")
        with pytest.raises(ValueError, match="at least 8"):
            auth.add_user(s, "li", "viewer", "short")
        with pytest.raises(ValueError, match="without spaces"):
            auth.add_user(s, "li si", "viewer", "long enough")


def test_secret_key_made_once_with_0600(tmp_path):
    key = auth.secret_key(tmp_path)
    path = tmp_path / auth.SECRET_KEY_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert len(key) >= 32
    assert auth.secret_key(tmp_path) == key  # stable: sessions survive a restart


def test_cli_user_add_reads_password_from_stdin(settings, monkeypatch, capsys):
    from airwarn.cli import main

    monkeypatch.setenv("AIRWARN_DATA_DIR", str(settings.data_dir))
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-pass-2026\n"))
    assert main(["user", "add", "wang", "--role", "commander", "--password-stdin"]) == 0
    assert "wang (commander)" in capsys.readouterr().out
    with session_scope(get_engine(settings.db_url)) as s:
        assert auth.authenticate(s, "wang", "s3cret-pass-2026").role == "commander"
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["user", "add", "wang2", "--role", "viewer", "--password-stdin"]) == 2
    assert "at least 8" in capsys.readouterr().err


def test_demo_users_idempotent(settings):
    from dashboard import demo

    first = demo.build_demo(settings)
    users = demo.read_demo_users(settings)
    assert sorted(r for r, _ in users.values()) == ["commander", "forecaster", "list-admin", "mayor", "vice-mayor",
                                                   "viewer"]
    assert stat.S_IMODE(os.stat(demo.users_file(settings)).st_mode) == 0o600
    assert "6 new" in first
    second = demo.build_demo(settings)
    assert "0 new" in second
    assert demo.read_demo_users(settings) == users  # passwords kept
    with session_scope(get_engine(settings.db_url)) as s:
        for name, (role, password) in users.items():
            assert auth.authenticate(s, name, password).role == role


def test_user_add_offers_every_role_including_the_approvers(settings, monkeypatch, capsys):
    """The sign-off roles existed in the lifecycle but `user add --role mayor` was refused by argparse."""
    import io

    from airwarn.cli import main

    monkeypatch.setenv("AIRWARN_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("AIRWARN_DB", settings.db_url)
    monkeypatch.setattr("sys.stdin", io.StringIO("Mayoralty-pass-2026\n"))
    assert main(["user", "add", "qian", "--role", "mayor", "--password-stdin"]) == 0
    with session_scope(get_engine(settings.db_url)) as s:
        assert auth.authenticate(s, "qian", "Mayoralty-pass-2026").role == "mayor"
