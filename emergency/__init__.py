"""The warning engine: grading rules, recommendation, lifecycle, measures and reductions, bulletins.

Public names: :func:`assess`, :class:`Recommendation`, :func:`read_forecast`, :func:`find_episodes`
(:mod:`emergency.engine`), :func:`load_rules`, :func:`bundled_rules`, :class:`RuleSet`
(:mod:`emergency.rules`). Lifecycle, reductions, bulletin, notification list, post-event report,
daily chain and replay live in their own modules. Names are imported lazily so that
``airwarn --help`` (which imports :mod:`emergency.cli`) does not load numpy and pandas.
"""
from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Recommendation": "emergency.engine", "assess": "emergency.engine", "find_episodes": "emergency.engine",
    "read_forecast": "emergency.engine", "RuleSet": "emergency.rules", "bundled_rules": "emergency.rules",
    "load_rules": "emergency.rules",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'emergency' has no attribute {name!r}")
