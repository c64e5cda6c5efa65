"""Warning grading on many series at once: marks, point levels and merged episodes along the last axis.

The rule semantics are those of :mod:`emergency.rules` (runs of consecutive 24-h AQI values above a
threshold lasting at least a number of hours; ``any_of`` / ``all_of`` combinations) and
:func:`emergency.engine.find_episodes` (runs of points at a level ≥ yellow, merged across gaps
shorter than ``rules.merge_gap_hours``; an episode takes the highest level of its points). Here they
are evaluated on arrays of shape ``(..., n)``, one series per leading index (forecast members, issue
days, cities), with a loop over the ``n`` time steps only, so that the scenario members of a year
of forecasts for every city are graded in seconds. :func:`emergency.rules.mark` and
:func:`emergency.engine.find_episodes` evaluate one series and are checked against these functions
in the tests.

Functions
---------
:func:`mark_nd`
    Points belonging to a run that meets a condition.
:func:`point_levels_nd`
    Highest level whose condition marks each point.
:func:`episode_levels_nd`
    For each point inside a (merged) episode, the level of that episode; 0 outside episodes.
"""
from __future__ import annotations

import numpy as np

from airwarn.core.vocab import WarningLevel
from emergency.rules import AllOf, AnyOf, Condition, RuleSet, Threshold

#: Levels graded, as integers (1 yellow, 2 orange, 3 red); 0 is no warning.
LEVEL_CODES: tuple[int, ...] = (1, 2, 3)


def _run_lengths(mask: np.ndarray) -> np.ndarray:
    """Length of the run of True that contains each point (0 where False), along the last axis."""
    n = mask.shape[-1]
    fwd = np.zeros(mask.shape, dtype=np.int16)
    bwd = np.zeros(mask.shape, dtype=np.int16)
    run = np.zeros(mask.shape[:-1], dtype=np.int16)
    for t in range(n):
        run = np.where(mask[..., t], run + 1, 0).astype(np.int16)
        fwd[..., t] = run
    run = np.zeros(mask.shape[:-1], dtype=np.int16)
    for t in range(n - 1, -1, -1):
        run = np.where(mask[..., t], run + 1, 0).astype(np.int16)
        bwd[..., t] = run
    return np.where(mask, fwd + bwd - 1, 0)


def run_contains(union: np.ndarray, marks: np.ndarray) -> np.ndarray:
    """Points of ``union``'s runs that contain at least one point of ``marks``."""
    n = union.shape[-1]
    seen_before = np.zeros(union.shape, dtype=bool)
    seen_after = np.zeros(union.shape, dtype=bool)
    cur = np.zeros(union.shape[:-1], dtype=bool)
    for t in range(n):
        cur = union[..., t] & (cur | marks[..., t])
        seen_before[..., t] = cur
    cur = np.zeros(union.shape[:-1], dtype=bool)
    for t in range(n - 1, -1, -1):
        cur = union[..., t] & (cur | marks[..., t])
        seen_after[..., t] = cur
    return seen_before | seen_after


def mark_nd(condition: Condition, values: np.ndarray, step_hours: float = 24.0) -> np.ndarray:
    """Points of each series (last axis) that belong to a run meeting ``condition``.

    Parameters
    ----------
    condition : Threshold, AnyOf or AllOf
    values : ndarray, shape (..., n)
        AQI series; NaN never exceeds.
    step_hours : float
        24 for daily series, 1 for hourly rolling 24-h AQI.

    Returns
    -------
    ndarray of bool, shape (..., n)
    """
    values = np.asarray(values)
    if isinstance(condition, Threshold):
        exceed = condition.exceeds(values)
        lengths = _run_lengths(exceed)
        # a run of k points covers (k - 1) * step + 24 hours
        needed = int(np.ceil((condition.hours - 24.0) / step_hours - 1e-9)) + 1
        return exceed & (lengths >= max(needed, 1))
    children = [mark_nd(c, values, step_hours) for c in condition.items]
    union = np.logical_or.reduce(children)
    if isinstance(condition, AnyOf):
        return union
    if isinstance(condition, AllOf):
        out = union.copy()
        for child in children:
            out &= run_contains(union, child)
        return out
    raise TypeError(f"not a condition: {type(condition).__name__}")


def point_levels_nd(values: np.ndarray, rules: RuleSet, step_hours: float = 24.0) -> np.ndarray:
    """Highest level (0 none, 1 yellow, 2 orange, 3 red) whose condition marks each point."""
    values = np.asarray(values)
    out = np.zeros(values.shape, dtype=np.int8)
    for code in LEVEL_CODES:
        out[mark_nd(rules.levels[WarningLevel(code)], values, step_hours)] = code
    return out


def merge_gap_points(rules: RuleSet, step_hours: float = 24.0) -> int:
    """Longest gap (in points) between two runs that still merges them into one episode."""
    # a gap of g points lasts g * step hours; it merges when that is shorter than merge_gap_hours
    g = int(np.ceil(rules.merge_gap_hours / step_hours)) - 1
    return max(g, 0)


def episode_levels_nd(levels: np.ndarray, max_gap: int) -> np.ndarray:
    """Level of the merged episode each point belongs to (0 outside episodes).

    Parameters
    ----------
    levels : ndarray of int, shape (..., n)
        Point levels (:func:`point_levels_nd`).
    max_gap : int
        Gaps of at most this many points between marked points are bridged
        (:func:`merge_gap_points`).

    Returns
    -------
    ndarray of int8, shape (..., n)
        The episode's level (the highest of its points) on every point of the episode, including
        the bridged gaps.
    """
    levels = np.asarray(levels, dtype=np.int8)
    n = levels.shape[-1]
    marked = levels > 0
    inside = marked.copy()
    if max_gap > 0 and n > 2:
        big = np.int16(n + max_gap + 1)
        since = np.full(levels.shape[:-1], big, dtype=np.int16)   # points since the last marked one
        before = np.empty(levels.shape, dtype=np.int16)
        for t in range(n):
            since = np.where(marked[..., t], 0, np.minimum(since + 1, big)).astype(np.int16)
            before[..., t] = since
        until = np.full(levels.shape[:-1], big, dtype=np.int16)   # points until the next marked one
        after = np.empty(levels.shape, dtype=np.int16)
        for t in range(n - 1, -1, -1):
            until = np.where(marked[..., t], 0, np.minimum(until + 1, big)).astype(np.int16)
            after[..., t] = until
        # a gap point between two marked points whose gap (before + after - 1 points) is short enough
        inside |= (~marked) & (before < big) & (after < big) & (before + after - 1 <= max_gap)
    # highest level over each run of `inside`: running maxima forwards and backwards within runs
    fwd = np.zeros(levels.shape, dtype=np.int8)
    cur = np.zeros(levels.shape[:-1], dtype=np.int8)
    for t in range(n):
        cur = np.where(inside[..., t], np.maximum(cur, levels[..., t]), 0).astype(np.int8)
        fwd[..., t] = cur
    out = np.zeros(levels.shape, dtype=np.int8)
    cur = np.zeros(levels.shape[:-1], dtype=np.int8)
    for t in range(n - 1, -1, -1):
        cur = np.where(inside[..., t], np.maximum(cur, fwd[..., t]), 0).astype(np.int8)
        out[..., t] = cur
    return out


def episode_levels_of(values: np.ndarray, rules: RuleSet, step_hours: float = 24.0) -> np.ndarray:
    """:func:`episode_levels_nd` of the point levels of ``values`` under ``rules``."""
    return episode_levels_nd(point_levels_nd(values, rules, step_hours), merge_gap_points(rules, step_hours))
