"""Synthetic power-use series for the compliance tests (made in the tests, never from shared data)."""
from __future__ import annotations

import numpy as np
import pandas as pd


def profile(t: pd.DatetimeIndex, level: float = 1000.0, seed: int = 0) -> np.ndarray:
    """A line's power [kW] at the times ``t``: ``level`` with a daily cycle of ±10 % and 1 % noise."""
    rng = np.random.default_rng(seed)
    hour = t.hour.to_numpy() + t.minute.to_numpy() / 60
    return level * (1 + 0.1 * np.sin(hour / 24 * 2 * np.pi)) + rng.normal(0, level * 0.01, len(t))


def series(code: str, line: str, kw, t, kind: str = "production") -> pd.DataFrame:
    """One meter's rows in the reader's layout (``credit_code, line_id, meter_kind, time, kw``)."""
    return pd.DataFrame({"credit_code": code, "line_id": line, "meter_kind": kind, "time": t, "kw": kw})
