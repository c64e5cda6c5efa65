"""Subcommands of ``airwarn`` contributed by the ``dashboard`` package.

``airwarn user add NAME --role R [--password-stdin]``, ``airwarn user disable NAME``,
``airwarn user list`` and ``airwarn dashboard [--host 127.0.0.1] [--port 8050] [--debug]``.
"""
from __future__ import annotations

import argparse
import getpass
import sys

from airwarn.core.vocab import Role
from airwarn.core.errors import InputError

#: Every role a user may hold (one source: :class:`airwarn.core.vocab.Role`).
_ROLES = tuple(r.value for r in Role)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this package's subcommands to the ``airwarn`` parser."""
    user = subparsers.add_parser("user", help="dashboard users and roles")
    user_sub = user.add_subparsers(dest="user_command", metavar="ACTION")
    add = user_sub.add_parser("add", help="add a user (or reset an existing user's role and password, "
                                           "which signs it out everywhere)")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=_ROLES)
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from the first line of standard input instead of a prompt")
    add.set_defaults(func=_user_add)
    disable = user_sub.add_parser("disable", help="disable a user (it can no longer sign in or act) and sign it "
                                                  "out everywhere; `user add` enables it again")
    disable.add_argument("name")
    disable.set_defaults(func=_user_disable)
    lst = user_sub.add_parser("list", help="list users and their roles")
    lst.set_defaults(func=_user_list)
    user.set_defaults(func=lambda args, settings: (user.print_help(), 2)[1])

    dash_p = subparsers.add_parser("dashboard", help="serve the web dashboard")
    dash_p.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1; 0.0.0.0 for the LAN)")
    dash_p.add_argument("--port", type=int, default=8050)
    dash_p.add_argument("--debug", action="store_true",
                        help="Dash debug server instead of waitress (127.0.0.1/localhost/::1 only)")
    dash_p.set_defaults(func=_dashboard)


def _read_password(args) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(f"password for {args.name.strip()}: ")
    if getpass.getpass("repeat password: ") != first:
        raise InputError("the two passwords differ")
    return first


def _user_add(args, settings) -> int:
    from airwarn.core import users
    from airwarn.core.db import get_engine, session_scope
    from dashboard.services import context

    name = users.normalise_name(args.name)
    problem = users.name_problem(name)
    if problem:  # before the prompt, which shows the name
        raise InputError(problem)
    settings.ensure_dirs()
    context.ensure_tables(settings)
    password = _read_password(args)
    with session_scope(get_engine(settings.db_url)) as session:
        existed = users.find_user(session, name) is not None
        users.add_user(session, name, args.role, password)
    print(f"user {name} ({args.role}) saved in {_db(settings)}"
          + ("; its open sessions were ended" if existed else ""))
    return 0


def _user_disable(args, settings) -> int:
    from airwarn.core import users
    from airwarn.core.db import get_engine, session_scope
    from dashboard.services import context

    context.ensure_tables(settings)
    with session_scope(get_engine(settings.db_url)) as session:
        ended = users.deactivate_user(session, args.name)
    print(f"user {_shown(users.normalise_name(args.name))} disabled ({ended} open session(s) ended)")
    return 0


def _shown(name: str) -> str:
    """A user name safe to print (names stored before names were checked may hold escapes)."""
    return name if name.isprintable() else name.encode("unicode_escape").decode("ascii")


def _db(settings) -> str:
    from sqlalchemy import make_url

    return make_url(settings.db_url).render_as_string(hide_password=True)


def _user_list(args, settings) -> int:
    from airwarn.core.db import get_engine, session_scope
    from dashboard import auth
    from dashboard.services import context

    context.ensure_tables(settings)
    with session_scope(get_engine(settings.db_url)) as session:
        for u in auth.list_users(session):
            print(f"{_shown(u.name)}\t{u.role}\t{'active' if u.active else 'disabled'}")
    return 0


def _dashboard(args, settings) -> int:
    from dashboard.server import serve

    serve(settings, host=args.host, port=args.port, debug=args.debug)
    return 0
