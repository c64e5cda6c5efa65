"""The ``airwarn`` command line.

Each application package contributes its subcommands through a
``register(subparsers)`` function in its own ``cli`` module; the handlers
receive ``(args, settings)`` and return an exit code. This module is the top
layer: it imports the packages, nothing imports it.
"""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

from airwarn import __version__
from airwarn.settings import load_settings

#: Modules that contribute subcommands, in the order of ``airwarn --help``.
_COMMAND_MODULES = (
    "forecast.cli",
    "enterprise_list.cli",
    "emergency.cli",
    "dashboard.cli",
    "airwarn.demo",
)


class CommandError(Exception):
    """An error to report to the user as one line, with exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every package's subcommands."""
    import importlib

    parser = argparse.ArgumentParser(
        prog="airwarn",
        description="Heavy-pollution-weather emergency decision support (AQI, forecast, warnings, "
        "emergency-reduction list, dashboard).",
    )
    parser.add_argument("--version", action="version", version=f"airwarn {__version__}")
    parser.add_argument("--settings", help="settings file (TOML); default $AIRWARN_SETTINGS or ./airwarn.toml")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``airwarn`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        settings = load_settings(args.settings)
        return int(args.func(args, settings) or 0)
    except (CommandError, ValueError, KeyError, FileNotFoundError, PermissionError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"airwarn {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
