"""Readers and AQI engine together on real data: recomputed vs published daily AQI.

The published daily AQI of 阳泉, 太原 and 北京 in the aqistudy city daily file is compared
with the AQI that :func:`forecast.aqi.daily_aqi` (HJ 633-2012) computes from the *published
daily concentrations* of the same file, read by :func:`forecast.io.read_city_daily`.

Run ``pytest tests/forecast/test_real_data_agreement.py -s`` to see the table (it is copied
into docs/readers.md).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

CITY_DAILY = "cn_city_daily_aqistudy/city_daily_aqi_20131202-20160131.csv.gz"
CITIES = ("阳泉", "太原", "北京")

#: Lower bounds, a few points under what was measured on the shared file (see docs/readers.md):
#: same level 88.1 / 85.6 / 71.7 %, within ±10 83.6 / 83.3 / 65.4 %, exact 17.4 / 18.2 / 11.9 %.
MIN_SAME_LEVEL = {"阳泉": 0.85, "太原": 0.83, "北京": 0.68}
MIN_WITHIN_10 = {"阳泉": 0.80, "太原": 0.80, "北京": 0.62}
MIN_EXACT = {"阳泉": 0.14, "太原": 0.15, "北京": 0.09}


def _agreement(recomputed: pd.DataFrame) -> pd.DataFrame:
    from forecast.aqi import aqi_level

    ours = recomputed["aqi"].to_numpy(dtype=float)
    published = recomputed["aqi_input"].to_numpy(dtype=float)
    scored = ~np.isnan(ours) & ~np.isnan(published)
    same_level = aqi_level(ours) == aqi_level(published)
    frame = pd.DataFrame(
        {
            "city": recomputed["city"].to_numpy(),
            "scored": scored,
            "exact": scored & (ours == published),
            "within_10": scored & (np.abs(ours - published) <= 10),
            "same_level": scored & same_level,
            "higher": scored & (ours > published),
        }
    )
    table = frame.groupby("city", sort=False).agg(
        days=("scored", "size"),
        scored=("scored", "sum"),
        exact=("exact", "mean"),
        within_10=("within_10", "mean"),
        same_level=("same_level", "mean"),
        ours_higher=("higher", "mean"),
    )
    return table.loc[list(CITIES)]


@pytest.fixture(scope="module")
def recomputed(shared_data):
    """The three cities' rows with the AQI recomputed three ways (o3 as O3-8h, as O3-1h, left out)."""
    from forecast.aqi import daily_aqi
    from forecast.io import ReaderWarning, read_city_daily

    with pytest.warns(ReaderWarning, match=r"o3_8h>1000: 3"):
        obs = read_city_daily(shared_data / CITY_DAILY)
    obs = obs[obs["city"].isin(CITIES)].reset_index(drop=True)
    as_8h = daily_aqi(obs, standard="HJ633-2012", above="ignore")
    as_1h = daily_aqi(
        obs.rename(columns={"o3_8h": "o3_1h"}).assign(o3_8h=np.nan), standard="HJ633-2012", above="ignore"
    )
    no_o3 = daily_aqi(obs.assign(o3_8h=np.nan), standard="HJ633-2012", above="ignore")
    return {"o3 = O3-8h (as documented)": as_8h, "o3 scored as O3-1h": as_1h, "O3 left out": no_o3}


def test_recomputed_daily_aqi_agrees_with_published(recomputed):
    """Agreement of the recomputed HJ 633-2012 daily AQI with the published one.

    What remains, and why exact agreement is low:

    * The published AQI is CNEMC's, computed from each station's hourly data (city values
      from station data, with validity rules per station), while the file's concentrations
      are city means of the stations' daily values as compiled by aqistudy. The mean of
      station IAQIs is not the IAQI of mean concentrations (the IAQI is piecewise linear
      and the AQI a maximum), so the two differ by a few points on most days.
    * The HJ 633-2012 daily report scores seven indicators, O3 1-h daily maximum among
      them; the file lacks O3 1 h. Its ``o3`` column is the daily maximum 8-h mean (read as
      ``o3_8h``), so on summer ozone days the published AQI and ours differ: scoring the
      column against the O3-8h table gives a *higher* AQI than published (Beijing summers
      most of all), while the same numbers scored as O3-1h, or O3 left out, agree better.
      The second table shows this; it is a property of the source, not of the engine.
    * Published concentrations are rounded (0.1 µg/m³, CO 0.001 mg/m³), and the published
      AQI is an integer rounded up from unrounded inputs; a value at a breakpoint moves the
      AQI by one point (also why ~1 % of published categories disagree with the published
      AQI at exactly 50 or 100).
    * December 2013, the first month of the file, agrees least (43–60 % same level): SO2
      and PM in that month's published AQI do not follow the concentrations in the file.

    So the check is statistical: same level on about 86–88 % of days for 阳泉 and 太原
    (an independent recomputation found the same), with lower bounds a little under what
    was measured; exact agreement is expected to stay well below half.
    """
    table = _agreement(recomputed["o3 = O3-8h (as documented)"])
    pd.set_option("display.width", 120)
    print("\nPublished vs recomputed daily AQI (HJ 633-2012), aqistudy 2013-12-02 .. 2016-01-31")
    print(
        (
            table.assign(
                **{
                    c: table[c].map("{:.1%}".format)
                    for c in ("exact", "within_10", "same_level", "ours_higher")
                }
            )
        ).to_string()
    )
    for city in CITIES:
        row = table.loc[city]
        assert row["days"] == 791 and row["scored"] == 791
        assert row["same_level"] >= MIN_SAME_LEVEL[city], (city, row["same_level"])
        assert row["within_10"] >= MIN_WITHIN_10[city], (city, row["within_10"])
        assert row["exact"] >= MIN_EXACT[city], (city, row["exact"])
        # not an identity: the published numbers are not the inputs of the published AQI
        assert row["exact"] < 0.5
    # the Shanxi cities agree as an independent recomputation found (about 86-88 %)
    assert table.loc[["阳泉", "太原"], "same_level"].mean() >= 0.85


def test_ozone_interpretation_explains_the_summer_disagreement(recomputed):
    """Scoring ``o3`` on the O3-8h table overstates summer AQI against the published one.

    The published 2012 AQI takes the larger of the O3-1h and O3-8h IAQIs; on the O3-1h
    table the same value scores lower. Measured: same-level agreement in 北京 rises from
    ~72 % to ~84 % when the column is scored as O3-1h (~86 % with O3 left out), and the
    share of days where ours is higher falls. Which of the two the publisher did cannot be
    decided from this file; the reader keeps the documented meaning (O3-8h). This test
    documents the source; it does not change the reader.
    """
    rows = []
    for label, frame in recomputed.items():
        table = _agreement(frame)
        rows.append(table[["same_level", "within_10", "ours_higher"]].assign(variant=label))
    summary = pd.concat(rows).reset_index().set_index(["variant", "city"])
    print("\nSame level / within ±10 / ours higher, by treatment of the o3 column")
    print(summary.map("{:.1%}".format).to_string())
    documented = summary.loc["o3 = O3-8h (as documented)"]
    as_1h = summary.loc["o3 scored as O3-1h"]
    assert as_1h.loc["北京", "same_level"] >= documented.loc["北京", "same_level"] + 0.05
    assert as_1h.loc["北京", "ours_higher"] < documented.loc["北京", "ours_higher"]
    for city in CITIES:
        assert as_1h.loc[city, "same_level"] >= documented.loc[city, "same_level"]
