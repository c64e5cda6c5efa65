"""The 会商 page's recent verification reads the archive of daily products and the configured
observations (a deployment's own files), not only the demo's."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from dashboard.services import observations

ISSUED = dt.date(2026, 1, 10)


def _product_csv(settings, day: dt.date, p50: float) -> None:
    """A daily product's flat forecast (the layout write_forecast gives), for 阳泉, leads 1–3."""
    folder = settings.output_dir / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    rows = [{"city": "阳泉", "issued": day.isoformat(), "lead_day": lead,
             "valid_date": (day + dt.timedelta(days=lead)).isoformat(),
             "aqi_p10": p50 - 30, "aqi_p50": p50 + lead, "aqi_p90": p50 + 40} for lead in (1, 2, 3)]
    pd.DataFrame(rows).to_csv(folder / "forecast.csv", index=False)


def test_archive_and_configured_observations(fresh_env, tmp_path):
    s = fresh_env
    # two archived products before the demo date, one of them for an issue day the demo file also has
    _product_csv(s, ISSUED - dt.timedelta(days=3), 300.0)
    _product_csv(s, ISSUED - dt.timedelta(days=12), 250.0)
    for day in (ISSUED - dt.timedelta(days=3), ISSUED - dt.timedelta(days=12)):  # a product needs its .nc
        (s.output_dir / day.isoformat() / "forecast.nc").write_bytes(
            (s.output_dir / ISSUED.isoformat() / "forecast.nc").read_bytes())
    # the deployment's own observation file, in the city daily layout, with a mark of its own
    days = pd.date_range(ISSUED - dt.timedelta(days=40), ISSUED)
    own = tmp_path / "cnemc_daily.csv"
    pd.DataFrame({"city": "阳泉", "date": days.strftime("%Y-%m-%d"), "aqi": 77.0, "pm25": 50.0, "pm10": 90.0,
                  "so2": 20.0, "no2": 30.0, "co": 0.8, "o3": 60.0}).to_csv(own, index=False)
    s = s.with_(observations=(own,))

    r = observations.recent_verification("阳泉", s)
    assert set(r["lead_day"]) == {1, 2, 3}
    assert (r["observed"] == 77.0).all()  # from the configured file, not the demo's synthetic one
    lead1 = r[r["lead_day"] == 1].set_index("valid_date")
    # the archived product wins over the demo file for the same issue day
    assert lead1.loc[pd.Timestamp(ISSUED - dt.timedelta(days=2)), "aqi_p50"] == 301.0
    assert lead1.loc[pd.Timestamp(ISSUED - dt.timedelta(days=11)), "aqi_p50"] == 251.0
    # the 30 days before the newest issue day and that day, each once per lead (the demo file's lead-1
    # forecasts end the day before; the product of ISSUED − 3 reaches ISSUED at lead 3)
    assert lead1.index.min() == pd.Timestamp(ISSUED - dt.timedelta(days=30))
    assert lead1.index.max() == pd.Timestamp(ISSUED - dt.timedelta(days=1)) and lead1.index.is_unique
    assert r.loc[r["lead_day"] == 3, "valid_date"].max() == pd.Timestamp(ISSUED)

    # the recent errors: every day observed 77, so persistence is perfect and the median's error is known
    scores = observations.recent_scores(r).set_index("lead_day")
    assert list(scores.index) == [1, 2, 3] and (scores["rmse_persistence"] == 0).all()
    g = r[r["lead_day"] == 1]
    assert scores.loc[1, "rmse"] == pytest.approx(np.sqrt(np.mean((g["aqi_p50"] - 77.0) ** 2)))
    assert scores.loc[1, "bias"] == pytest.approx(np.mean(g["aqi_p50"] - 77.0)) and scores.loc[1, "n"] == 30

    # observation files missing: the forecasts still show, without observations
    gone = observations.recent_verification("阳泉", s.with_(observations=(tmp_path / "missing.csv",)))
    assert len(gone) == len(r) and gone["observed"].isna().all()
    assert observations.recent_scores(gone).empty
    # without the demo file, the archive alone
    (s.data_dir / "demo" / "recent_forecasts.csv").unlink()
    alone = observations.recent_verification("阳泉", s)
    assert sorted(alone.loc[alone["lead_day"] == 1, "aqi_p50"]) == [251.0, 301.0]
    assert np.isfinite(alone["observed"]).all()


def test_a_month_of_products_is_read_once(fresh_env, monkeypatch):
    """The callback runs on every city or date change: the month of product files is read once and read
    again only when one of them changes."""
    s = fresh_env
    for k in range(1, 36):  # more products than the per-file cache holds
        day = ISSUED - dt.timedelta(days=k)
        _product_csv(s, day, 100.0 + k)
        (s.output_dir / day.isoformat() / "forecast.nc").write_bytes(
            (s.output_dir / ISSUED.isoformat() / "forecast.nc").read_bytes())
    reads = []
    real = pd.read_csv
    monkeypatch.setattr(pd, "read_csv", lambda *a, **k: reads.append(a[0]) or real(*a, **k))
    first = observations.recent_verification("阳泉", s)
    n_first = len(reads)
    assert n_first >= 30
    again = observations.recent_verification("阳泉", s)
    pd.testing.assert_frame_equal(first, again)
    assert len(reads) == n_first  # nothing read again
    _product_csv(s, ISSUED - dt.timedelta(days=2), 400.0)  # a product rewritten: read anew
    changed = observations.recent_verification("阳泉", s)
    assert len(reads) > n_first
    assert changed.loc[(changed["lead_day"] == 1) & (changed["valid_date"] == pd.Timestamp(ISSUED - dt.timedelta(days=1))),
                       "aqi_p50"].item() == 401.0
