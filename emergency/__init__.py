"""The warning engine: grading rules, recommendation, lifecycle, measures and reductions, bulletins.

Public names: :func:`assess` and :class:`Recommendation` (:mod:`emergency.engine`),
:func:`load_rules` and :class:`RuleSet` (:mod:`emergency.rules`). Lifecycle, reductions, bulletin,
notification list, post-event report, daily chain and replay live in their own modules.
"""
from emergency.engine import Recommendation, assess, find_episodes, read_forecast
from emergency.rules import RuleSet, bundled_rules, load_rules

__all__ = ["Recommendation", "RuleSet", "assess", "bundled_rules", "find_episodes", "load_rules", "read_forecast"]
