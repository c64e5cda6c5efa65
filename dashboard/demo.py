"""``airwarn demo`` step of the dashboard: one demo user per role.

Each user gets a random password keeping the password rules of its role
(:func:`airwarn.core.users.password_problem`), written with the user names to
``<data_dir>/demo/demo_users.txt`` (permissions 0600) so that the person running
the demo and the end-to-end test can sign in. Outside the demo there is no user
and no default password (``airwarn user add``).
"""
from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path

from airwarn.core.files import atomic_write_bytes
from airwarn.core.settings import Settings
from airwarn.core.users import password_problem

#: Demo user name per role (the name is the role).
DEMO_USERS: dict[str, str] = {"viewer": "viewer", "forecaster": "forecaster", "commander": "commander",
                              "list-admin": "list-admin", "vice-mayor": "vice-mayor", "mayor": "mayor"}
USERS_FILE = "demo_users.txt"


def users_file(settings: Settings) -> Path:
    """``<data_dir>/demo/demo_users.txt``."""
    return Path(settings.data_dir) / "demo" / USERS_FILE


def read_demo_users(settings: Settings) -> dict[str, tuple[str, str]]:
    """``{name: (role, password)}`` from the demo users file (empty if absent)."""
    path = users_file(settings)
    out: dict[str, tuple[str, str]] = {}
    if not path.exists():
        return out
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) == 3:
            out[parts[0]] = (parts[1], parts[2])
    return out


def demo_password(name: str, role: str) -> str:
    """A random 16-character password that keeps the rules of ``role``."""
    while True:
        password = secrets.token_urlsafe(12)
        if password_problem(name, role, password) is None:
            return password


def build_demo(settings: Settings, date: dt.date | None = None) -> str:
    """Create the demo users (idempotent: existing users keep their passwords).

    Parameters
    ----------
    settings : Settings
        Where the database and the data folder are.
    date : date, optional
        Unused (the users do not depend on the day).

    Returns
    -------
    str
        One line naming the users, their passwords and the file they are kept in.
    """
    from dashboard import auth
    from dashboard.services import context

    settings.ensure_dirs()
    context.ensure_tables(settings)
    known = read_demo_users(settings)
    final: dict[str, tuple[str, str]] = {}
    created = 0
    with context.session(settings) as session:
        for role, name in DEMO_USERS.items():
            password = known.get(name, (role, ""))[1]
            user = auth.authenticate(session, name, password) if password else None
            if user is not None and user.role == role and password_problem(name, role, password) is None:
                final[name] = (role, password)
                continue
            password = demo_password(name, role)
            auth.add_user(session, name, role, password)
            final[name] = (role, password)
            created += 1
    text = ("# airwarn demo users (SYNTHETIC DEMO ONLY; random passwords made by dashboard.demo)\n"
            "# name\trole\tpassword\n" + "".join(f"{n}\t{r}\t{p}\n" for n, (r, p) in final.items()))
    atomic_write_bytes(users_file(settings), text.encode("utf-8"), mode=0o600)
    pairs = ", ".join(f"{n}/{p}" for n, (_, p) in final.items())
    return (f"demo users {'created' if created else 'kept'} ({created} new): {pairs} "
            f"(saved in {users_file(settings)}, mode 0600)")
