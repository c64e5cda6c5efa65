"""airwarn.core.users: names, the password policy, server-side sessions and sign-in throttling (issue 14,
breaks 8, 9 and 12), on a real SQLite file."""
from __future__ import annotations

import datetime as dt
import io
import logging

import pytest
from sqlalchemy import func, select, update

from airwarn.core import users
from airwarn.core.db import create_tables, get_engine, session_scope


@pytest.fixture
def engine(settings):
    engine = get_engine(settings.db_url)
    create_tables(engine)
    return engine


@pytest.mark.parametrize("password, rule", [
    ("password", "at least 12 characters"),
    ("Password", "at least 12 characters"),
    ("Password2026!", "most common passwords"),      # a common password with digits and a symbol added
    ("qwertyuiop12", "most common passwords"),
    ("abcdefghijklmn", "two kinds of character"),
    ("84736251908172", "two kinds of character"),
    ("zhao-Commander-7", "user name"),
])
def test_break_12_password_policy_for_roles_that_act(engine, password, rule):
    """'password' (and other weak ones) was accepted for a commander; each refusal names its rule."""
    with session_scope(engine) as s:
        for role in ("commander", "forecaster", "list-admin", "vice-mayor", "mayor"):
            with pytest.raises(ValueError, match=rule):
                users.add_user(s, "zhao", role, password)
        assert users.list_users(s) == []


def test_password_policy_accepts_strong_and_keeps_viewers_at_8(engine):
    with session_scope(engine) as s:
        users.add_user(s, "zhao", "commander", "Taihang-Mountain-37")
        users.add_user(s, "qian", "forecaster", "correct horse battery")  # lower case and spaces: two kinds
        users.add_user(s, "sun", "viewer", "password")                  # viewers: at least 8 characters
        with pytest.raises(ValueError, match="at least 8"):
            users.add_user(s, "li", "viewer", "short")
    assert len(users.common_passwords()) >= 990 and "password" in users.common_passwords()


@pytest.mark.parametrize("name, rule", [
    ("\x1b[31mroot\x1b[0m", "control characters or escapes; it has a control character"),
    ("li si", "without spaces"),
    ("zhang\n", None),   # surrounding white space is stripped: accepted as 'zhang'
    ("", "1-64 characters"),
    ("x" * 65, "1-64 characters"),
    ("a/b", "the character '/'"),
    ("bell\x07", "control character"),
])
def test_break_12_user_names_validated(engine, name, rule):
    """A user name could hold terminal escape codes (they reached `user list` and the logs)."""
    with session_scope(engine) as s:
        if rule is None:
            assert users.add_user(s, name, "viewer", "long enough").name == name.strip()
        else:
            with pytest.raises(ValueError, match=rule):
                users.add_user(s, name, "viewer", "long enough")


def test_user_names_are_nfkc_normalised(engine):
    with session_scope(engine) as s:
        assert users.add_user(s, "ｚｈａｎｇ", "viewer", "long enough").name == "zhang"   # full-width letters
        assert users.add_user(s, "张三.li_2-a", "viewer", "long enough").name == "张三.li_2-a"
    with session_scope(engine) as s:
        assert users.authenticate(s, "ｚｈａｎｇ", "long enough").name == "zhang"


def test_break_12_cli_refuses_weak_commander_password_and_escaped_names(settings, monkeypatch, capsys):
    from airwarn.cli import main

    monkeypatch.setenv("AIRWARN_DATA_DIR", str(settings.data_dir))
    monkeypatch.setattr("sys.stdin", io.StringIO("password\n"))
    assert main(["user", "add", "boss", "--role", "commander", "--password-stdin"]) == 2
    err = capsys.readouterr().err
    assert "at least 12 characters" in err and len(err.strip().splitlines()) == 1
    monkeypatch.setattr("sys.stdin", io.StringIO("Taihang-Mountain-37\n"))
    assert main(["user", "add", "evil\x1b]0;pwned\x07", "--role", "viewer", "--password-stdin"]) == 2
    err = capsys.readouterr().err
    assert "control character" in err and "\x1b" not in err
    with session_scope(get_engine(settings.db_url)) as s:
        assert users.list_users(s) == []


def test_break_8_sessions_end_on_reset_role_change_disable_and_expiry(engine):
    with session_scope(engine) as s:
        user = users.add_user(s, "zhao", "commander", "Taihang-Mountain-37")
        tokens = [users.start_session(s, user, "10.0.0.1") for _ in range(2)]
    with session_scope(engine) as s:
        assert all(users.session_user(s, t).name == "zhao" for t in tokens)
        stored = set(s.scalars(select(users.UserSession.token_hash)))
        assert not stored & set(tokens)  # only hashes are stored
    with session_scope(engine) as s:  # password reset: every session of the user ends
        users.add_user(s, "zhao", "commander", "Another-Long-Pass-9")
    with session_scope(engine) as s:
        assert [users.session_user(s, t) for t in tokens] == [None, None]
        assert set(s.scalars(select(users.UserSession.end_reason))) == {"password reset"}
        token = users.start_session(s, users.authenticate(s, "zhao", "Another-Long-Pass-9"))
    with session_scope(engine) as s:  # role change
        users.add_user(s, "zhao", "forecaster", "Another-Long-Pass-9")
    with session_scope(engine) as s:
        assert users.session_user(s, token) is None
        token = users.start_session(s, users.authenticate(s, "zhao", "Another-Long-Pass-9"))
    with session_scope(engine) as s:
        assert users.deactivate_user(s, "zhao") == 1
    with session_scope(engine) as s:
        assert users.session_user(s, token) is None
        users.add_user(s, "zhao", "forecaster", "Another-Long-Pass-9")  # enabled again
        token = users.start_session(s, users.authenticate(s, "zhao", "Another-Long-Pass-9"))
        idle = users.start_session(s, users.authenticate(s, "zhao", "Another-Long-Pass-9"))
        assert users.end_session(s, users.start_session(s, users.authenticate(s, "zhao", "Another-Long-Pass-9")))
    with session_scope(engine) as s:
        old = users._now() - users.SESSION_LIFETIME - dt.timedelta(minutes=1)
        s.execute(update(users.UserSession).where(users.UserSession.token_hash == users._hash(token))
                  .values(created_at=old))
        s.execute(update(users.UserSession).where(users.UserSession.token_hash == users._hash(idle))
                  .values(last_seen=users._now() - users.SESSION_IDLE_TIMEOUT - dt.timedelta(minutes=1)))
    with session_scope(engine) as s:
        assert users.session_user(s, token) is None and users.session_user(s, idle) is None
        assert users.session_user(s, "forged-token") is None and users.session_user(s, None) is None


def _failures(engine) -> int:
    with session_scope(engine) as s:
        return s.scalar(select(func.count(users.LoginFailure.id)))


def test_break_9_sign_in_throttled_per_name_even_with_the_right_password(engine, caplog):
    with session_scope(engine) as s:
        users.add_user(s, "zhao", "commander", "Taihang-Mountain-37")
    caplog.set_level(logging.WARNING, logger="airwarn.core.users")
    refused = 0
    for _ in range(60):
        try:
            with session_scope(engine) as s:
                assert users.sign_in(s, "zhao", "wrong password", "10.0.0.9") is None
        except users.SignInThrottled:
            refused += 1
    assert refused == 60 - users.MAX_FAILURES_PER_NAME
    with session_scope(engine) as s, pytest.raises(users.SignInThrottled, match="too many failed sign-ins") as exc:
        users.sign_in(s, "zhao", "Taihang-Mountain-37", "10.0.0.10")  # another address: the name is locked
    assert 0 < exc.value.retry_after <= users.FAILURE_WINDOW.total_seconds() + 1
    assert any("refused" in r.message and "'zhao'" in r.message and "10.0.0.10" in r.message for r in caplog.records)
    # the window passes: accepted, and the name's failures are cleared
    with session_scope(engine) as s:
        s.execute(update(users.LoginFailure).values(at=users._now() - users.FAILURE_WINDOW - dt.timedelta(seconds=5)))
    with session_scope(engine) as s:
        assert users.sign_in(s, "zhao", "Taihang-Mountain-37", "10.0.0.10").name == "zhao"
    assert _failures(engine) == 0


def test_break_9_sign_in_throttled_per_address_and_unknown_names_count(engine):
    with session_scope(engine) as s:
        users.add_user(s, "zhao", "commander", "Taihang-Mountain-37")
    for i in range(users.MAX_FAILURES_PER_ADDRESS):
        with session_scope(engine) as s:
            assert users.sign_in(s, f"guess{i}", "x", "10.0.0.7") is None
    with session_scope(engine) as s, pytest.raises(users.SignInThrottled, match="address"):
        users.sign_in(s, "zhao", "Taihang-Mountain-37", "10.0.0.7")
    with session_scope(engine) as s:  # another address is not affected
        assert users.sign_in(s, "zhao", "Taihang-Mountain-37", "10.0.0.8").name == "zhao"


def test_break_9_check_actor_counts_failures_through_the_callers_rollback(engine):
    """The command line's password check is throttled like the page, and a failure is stored even
    though the caller's transaction rolls back on the PermissionError."""
    with session_scope(engine) as s:
        users.add_user(s, "zhao", "commander", "Taihang-Mountain-37")
    for _ in range(users.MAX_FAILURES_PER_NAME):
        with pytest.raises(PermissionError, match="wrong password"):
            with session_scope(engine) as s:
                users.check_actor(s, "zhao", "commander", "guess")
    assert _failures(engine) == users.MAX_FAILURES_PER_NAME
    with pytest.raises(users.SignInThrottled, match="too many failed sign-ins"):
        with session_scope(engine) as s:
            users.check_actor(s, "zhao", "commander", "Taihang-Mountain-37")
    with pytest.raises(PermissionError, match="a password is needed"):
        with session_scope(engine) as s:
            users.check_actor(s, "zhao", "commander", None)


def test_break_9_concurrent_wrong_passwords_are_counted_before_the_next_is_checked(engine):
    """A review found that eight sign-ins at once (waitress's eight threads) from eight addresses all
    passed the throttle before any failure was counted: 8 passwords checked where 5 are allowed."""
    import threading
    from collections import Counter

    with session_scope(engine) as s:
        users.add_user(s, "alice", "commander", "Correct-Horse-42x")
    results: list[str] = []

    def guess(i: int) -> None:
        try:
            with session_scope(engine) as s:
                results.append("checked" if users.sign_in(s, "alice", f"wrong-{i}", f"10.0.0.{i}") is None else "in")
        except users.SignInThrottled:
            results.append("throttled")

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert Counter(results) == {"checked": users.MAX_FAILURES_PER_NAME, "throttled": 8 - users.MAX_FAILURES_PER_NAME}
