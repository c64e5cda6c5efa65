"""Subcommands of ``airwarn`` contributed by the ``dashboard`` package."""
from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this package's subcommands to the ``airwarn`` parser."""
