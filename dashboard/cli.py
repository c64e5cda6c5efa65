"""Subcommands of ``airwarn`` contributed by the ``dashboard`` package.

``airwarn user add NAME --role R [--password-stdin]``, ``airwarn user list`` and
``airwarn dashboard [--host 127.0.0.1] [--port 8050] [--debug]``.
"""
from __future__ import annotations

import argparse
import getpass
import sys

_ROLES = ("viewer", "forecaster", "commander", "list-admin")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this package's subcommands to the ``airwarn`` parser."""
    user = subparsers.add_parser("user", help="dashboard users and roles")
    user_sub = user.add_subparsers(dest="user_command", metavar="ACTION")
    add = user_sub.add_parser("add", help="add a user (or reset an existing user's role and password)")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=_ROLES)
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from the first line of standard input instead of a prompt")
    add.set_defaults(func=_user_add)
    lst = user_sub.add_parser("list", help="list users and their roles")
    lst.set_defaults(func=_user_list)
    user.set_defaults(func=lambda args, settings: (user.print_help(), 2)[1])

    dash_p = subparsers.add_parser("dashboard", help="serve the web dashboard")
    dash_p.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1; 0.0.0.0 for the LAN)")
    dash_p.add_argument("--port", type=int, default=8050)
    dash_p.add_argument("--debug", action="store_true", help="Dash debug server instead of waitress")
    dash_p.set_defaults(func=_dashboard)


def _read_password(args) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(f"password for {args.name}: ")
    if getpass.getpass("repeat password: ") != first:
        raise ValueError("the two passwords differ")
    return first


def _user_add(args, settings) -> int:
    from airwarn.db import get_engine, session_scope
    from dashboard import auth, data

    settings.ensure_dirs()
    data.ensure_tables(settings)
    password = _read_password(args)
    with session_scope(get_engine(settings.db_url)) as session:
        auth.add_user(session, args.name, args.role, password)
    print(f"user {args.name} ({args.role}) saved in {settings.db_url}")
    return 0


def _user_list(args, settings) -> int:
    from airwarn.db import get_engine, session_scope
    from dashboard import auth, data

    data.ensure_tables(settings)
    with session_scope(get_engine(settings.db_url)) as session:
        for u in auth.list_users(session):
            print(f"{u.name}\t{u.role}\t{'active' if u.active else 'disabled'}")
    return 0


def _dashboard(args, settings) -> int:
    from dashboard.server import serve

    serve(settings, host=args.host, port=args.port, debug=args.debug)
    return 0
