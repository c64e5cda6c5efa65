"""Subcommands of ``airwarn`` contributed by the ``forecast`` package.

``aqi`` lives in :mod:`forecast.aqi_cli`; ``train``, ``forecast`` and
``backtest`` in :mod:`forecast.model_cli`.
"""
from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this package's subcommands to the ``airwarn`` parser."""
    from forecast import aqi_cli, model_cli

    aqi_cli.register(subparsers)
    model_cli.register(subparsers)
    from forecast import ranking_cli  # airwarn rank (county composite-index ranking)
    ranking_cli.register(subparsers)
    from forecast import met_cli  # airwarn met extract (daily weather predictors)
    met_cli.register(subparsers)
