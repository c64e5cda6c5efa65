"""Placeholder: subcommands registered here are being written."""
from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add subcommands to the ``airwarn`` parser."""
