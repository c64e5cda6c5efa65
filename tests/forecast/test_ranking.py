"""The county composite index, its ranking and the target tracking (issue 19, items 3 and 4).

The worked example of standards-notes §4 is recomputed by hand; ties, the change rate with the same S_i,
sand-dust days, the HJ 663-2013 percentile, the target tracking and the station daily reader's errors are
checked on small hand-made data; the real UCI Beijing stations are ranked by district for December 2015.
"""
from __future__ import annotations

import io
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from airwarn.core.errors import InputError, ReaderError, UnknownNameError
from forecast.io.county_daily import UCI_BEIJING_DISTRICTS, parse_county_daily, read_county_daily
from forecast.ranking import (change_rates, composite_index, county_daily, hj663_percentile, load_limits,
                              ranking, remove_dust, required_rest_mean, round_gbt8170, target_probability)

NOV = pd.date_range("2026-11-01", "2026-11-30")


def _month(county: str = "甲县", days=NOV, **values) -> pd.DataFrame:
    """County daily values over ``days``; each pollutant a constant or a sequence."""
    base = {"pm25": 21.0, "pm10": 39.0, "so2": 9.0, "no2": 15.0, "co": 0.7, "o3_8h": 192.0}
    base.update(values)
    df = pd.DataFrame({"county": county, "date": days})
    for k, v in base.items():
        df[k] = np.resize(np.asarray(v, dtype=float), len(days))
    return df


def _worked_example_days() -> pd.DataFrame:
    """30 November days whose statistics are those of the worked example, the percentiles not trivial."""
    o3 = np.r_[np.linspace(100, 180, 26), 191, 201, 205, 210]  # sorted; HJ 663 k = 1 + 29·0.9 = 27.1
    co = np.r_[np.linspace(0.3, 0.5, 27), 0.6, 0.8, 0.9]  # k = 1 + 29·0.95 = 28.55
    rng = np.random.default_rng(1)
    return _month(pm25=[20.0, 22.0], pm10=[38.0, 40.0], so2=[8.0, 10.0], no2=[14.0, 16.0],
                  o3_8h=rng.permutation(o3), co=rng.permutation(co))


def test_worked_example_recomputed_by_hand():
    """standards-notes §4: 21/35 + 39/70 + 9/60 + 15/40 + 192/160 + 0.7/4 = 3.06.

    Rounding as the standard's practice (GB/T 8170): the statistics C_i published (O3 191 + 0.1·(201 − 191)
    = 192; CO 0.6 + 0.55·(0.8 − 0.6) = 0.71 → 0.7), the terms not rounded, their sum rounded to two decimals.
    """
    out = composite_index(_worked_example_days(), "2026-11")
    row = out.iloc[0]
    assert (row["c_pm25"], row["c_pm10"], row["c_so2"], row["c_no2"], row["c_o3_8h"], row["c_co"]) == \
        (21, 39, 9, 15, 192, 0.7)
    by_hand = Fraction(21, 35) + Fraction(39, 70) + Fraction(9, 60) + Fraction(15, 40) + Fraction(192, 160) \
        + Fraction(7, 40)
    assert float(by_hand) == pytest.approx(3.0571428571)
    assert row["index_exact"] == pytest.approx(float(by_hand), abs=1e-12)
    assert row["composite_index"] == 3.06 == round_gbt8170(float(by_hand), 2)
    terms = [row[f"term_{p}"] for p in ("so2", "no2", "pm10", "pm25", "co", "o3_8h")]
    assert terms == pytest.approx([9 / 60, 15 / 40, 39 / 70, 21 / 35, 0.7 / 4, 192 / 160])
    # rounding each term first would publish 3.07: the sum is rounded, not the terms
    assert round(sum(round_gbt8170(t, 2) for t in terms), 2) == 3.07
    assert row["standard"] == "GB3095-2012" and bool(row["limits_verified"]) and row["rank"] == 1
    assert bool(row["complete"])  # 30 valid days ≥ 27


def test_percentile_follows_hj663():
    # HJ 663-2013's rule: k = 1 + (n − 1)·p, m = X(s) + (X(s+1) − X(s))·(k − s); its example gives 6.5
    assert hj663_percentile([3, 4, 8, 2, 5, 4], 90) == 6.5
    assert hj663_percentile([7.0], 95) == 7.0 and np.isnan(hj663_percentile([np.nan], 90))
    x = np.random.default_rng(3).gamma(3, 30, 61)
    k = 1 + 60 * 0.9
    s = int(k)
    xs = np.sort(x)
    assert hj663_percentile(x, 90) == pytest.approx(xs[s - 1] + (xs[s] - xs[s - 1]) * (k - s))
    assert hj663_percentile(x, 95) == pytest.approx(np.percentile(x, 95))  # numpy's "linear" is the same rule
    # the O3 term uses it, not the nearest rank: 192, not 191 or 201
    assert composite_index(_worked_example_days(), "2026-11")["c_o3_8h"].iloc[0] == 192


def test_ties_share_the_smallest_rank_on_the_two_decimal_index():
    days = pd.concat([
        _month("甲县", pm25=21.0),            # 3.0571 → 3.06
        _month("乙县", o3_8h=193.0),          # 3.0634 → 3.06 (exact sums differ, published indices equal)
        _month("丙县", pm25=10.0),            # best
        _month("丁县", pm25=40.0),            # worst
    ], ignore_index=True)
    out = composite_index(days, "2026-11").set_index("county")
    assert out.loc["甲县", "index_exact"] != out.loc["乙县", "index_exact"]
    assert out.loc["甲县", "composite_index"] == out.loc["乙县", "composite_index"] == 3.06
    assert out["rank"].to_dict() == {"丙县": 1, "甲县": 2, "乙县": 2, "丁县": 4}


def test_change_rate_uses_the_same_limits_for_both_years():
    last = _month(days=pd.date_range("2025-11-01", "2025-11-30"), pm25=42.0, pm10=80.0)
    now = _month(pm25=28.0, pm10=60.0)
    days = pd.concat([last, now], ignore_index=True)
    out = ranking(days, "2026-11", standard="GB3095-2026", allow_unverified=True).iloc[0]
    s = {"so2": 60, "no2": 40, "pm10": 60, "pm25": 30, "co": 4, "o3_8h": 160}  # GB 3095-2026 transitional
    i_now = 9 / s["so2"] + 15 / s["no2"] + 60 / s["pm10"] + 28 / s["pm25"] + 0.7 / s["co"] + 192 / s["o3_8h"]
    i_last = 9 / s["so2"] + 15 / s["no2"] + 80 / s["pm10"] + 42 / s["pm25"] + 0.7 / s["co"] + 192 / s["o3_8h"]
    assert out["index_exact"] == pytest.approx(i_now)
    assert out["change_rate"] == round_gbt8170((i_now - i_last) / i_last * 100, 1) == -17.3
    # the rate depends on the S_i: under GB 3095-2012 both years give -16.2 %
    assert ranking(days, "2026-11").iloc[0]["change_rate"] == -16.2
    assert out["standard"] == "GB3095-2026" and not out["limits_verified"]
    # last year's index under its own 2012 limits would give another (wrong) rate; mixing is refused
    before_2012 = composite_index(days, "2025-11", "GB3095-2012")
    now_2026 = composite_index(days, "2026-11", "GB3095-2026", allow_unverified=True)
    with pytest.raises(InputError, match="same S_i"):
        change_rates(now_2026, before_2012)


def test_gb3095_2026_limits_refused_unless_allowed():
    with pytest.raises(InputError, match="unverified"):
        load_limits("GB3095-2026")
    assert load_limits("GB3095-2026", allow_unverified=True).limits["pm25"] == 30
    assert load_limits("GB3095-2026-final", allow_unverified=True).limits["so2"] == 20
    with pytest.raises(UnknownNameError, match="GB3095-2012"):
        load_limits("GB3095-1996")
    weighted = composite_index(_worked_example_days(), "2026-11", weighted=True).iloc[0]
    assert weighted["term_pm25"] == pytest.approx(3 * 21 / 35) and weighted["term_no2"] == pytest.approx(2 * 15 / 40)


def test_sand_dust_days_leave_particles_out():
    station = _month(pm10=39.0).assign(station="S1", dust=False)
    station.loc[5, ["pm10", "pm25", "dust"]] = [900.0, 120.0, True]  # a dust day
    with_dust = composite_index(station.drop(columns="dust").assign(county="甲县"), "2026-11").iloc[0]
    assert with_dust["c_pm10"] == round_gbt8170((39 * 29 + 900) / 30, 0)
    cleaned = county_daily(station)
    row = composite_index(cleaned, "2026-11").iloc[0]
    assert (row["c_pm10"], row["c_pm25"], row["n_days_pm10"], row["n_days_so2"]) == (39, 21, 29, 30)
    assert row["c_so2"] == 9 and cleaned.attrs["dust_station_days"] == 1
    # the same by a list of dates
    by_date = remove_dust(station.assign(dust=False), dust_dates=["2026-11-06"])
    assert by_date["pm10"].isna().sum() == 1 and by_date["so2"].notna().all()


def test_target_tracking_by_hand():
    """273 days at 38 µg/m³ against 35: the 92 days left must average (35·365 − 38·273)/92 = 26.1."""
    days = pd.date_range("2026-01-01", "2026-09-30")
    t = required_rest_mean(pd.Series(38.0, index=days), 35.0, "2026-09-30")
    assert (t.observed_days, t.remaining_days) == (273, 92)
    assert t.required_mean == pytest.approx((35 * 365 - 38 * 273) / 92) and round(t.required_mean, 1) == 26.1
    assert not t.on_track and t.feasible
    # too far behind: the rest would have to be negative
    late = required_rest_mean(pd.Series(80.0, index=days), 35.0, "2026-09-30")
    assert late.required_mean < 0 and not late.feasible


def test_percentile_target_probability_by_hand():
    """O3 90th percentile ≤ 160: this year Jan–Nov (334 days) has 36 days at 170 and 298 at 100.

    Two past Decembers: one clean (31 days at 60) and one with 31 days at 175. With the clean December the
    sorted year is 31 × 60, 298 × 100 (positions 32–329), 36 × 170; k = 1 + 364·0.9 = 328.6, so the 90th
    percentile is 100: met. With the polluted one 67 days exceed and positions 299–365 hold 170 or 175:
    the percentile is 170, not met. Each past year is drawn with probability 1/2.
    """
    this = pd.Series(np.r_[np.full(36, 170.0), np.full(298, 100.0)], index=pd.date_range("2026-01-01", "2026-11-30"))
    dec_a = pd.Series(60.0, index=pd.date_range("2024-12-01", "2024-12-31"))
    dec_b = pd.Series(175.0, index=pd.date_range("2025-12-01", "2025-12-31"))
    values = pd.concat([dec_a, dec_b, this])
    res = target_probability(values, 160.0, "2026-11-30", "p90", n_sims=4000, seed=1, adjust_level=False)
    assert res["pool_years"] == [2024, 2025] and res["remaining_days"] == 31
    assert res["probability"] == pytest.approx(0.5, abs=0.03)
    assert sorted({round(res["p05"]), round(res["p95"])}) == [100, 170]
    # the mean target through the same bootstrap: both Decembers keep 35 out of reach of a 100 µg/m³ year
    assert target_probability(values, 35.0, "2026-11-30", n_sims=200, adjust_level=False)["probability"] == 0.0
    with pytest.raises(InputError, match="no past year"):
        target_probability(this, 160.0, "2026-11-30", "p90")


CSV = "county,station,date,pm25,pm10,so2,no2,co,o3_8h\n城区,Y01A,2026-11-01,40,70,12,30,0.9,80\n"


def test_reader_reads_and_names_file_row_column_expected_got(tmp_path):
    ok = parse_county_daily(io.StringIO(CSV + "城区,Y01A,2026-11-02,45,,12,30,0.9,80\n"))
    assert list(ok["county"]) == ["城区", "城区"] and np.isnan(ok.loc[1, "pm10"]) and not ok["dust"].any()
    cases = {
        "城区,Y01A,2026/11/02,45,70,12,30,0.9,80": ("row 3", "column 'date'", "expected a date YYYY-MM-DD",
                                                   "got '2026/11/02'"),
        "城区,Y01A,2026-11-02,45,七十,12,30,0.9,80": ("row 3", "column 'pm10'", "expected a number", "got '七十'"),
        "矿区,Y01A,2026-11-02,45,70,12,30,0.9,80": ("row 3", "column 'county'", "county '城区' given for station",
                                                   "got '矿区'"),
        ",Y02A,2026-11-02,45,70,12,30,0.9,80": ("row 3", "column 'county'", "expected a non-empty name", "got ''"),
        "城区,Y01A,2026-11-01,41,70,12,30,0.9,80": ("row 3",),  # the same station and day with other values
    }
    for line, parts in cases.items():
        path = tmp_path / "bad.csv"
        path.write_text(CSV + line + "\n", encoding="utf-8")
        with pytest.raises(ReaderError) as err:
            read_county_daily(path)
        text = str(err.value)
        assert text.startswith(str(path)), text
        for p in parts:
            assert p in text, (line, text)
    path = tmp_path / "nocol.csv"
    path.write_text("county,date,pm25\n城区,2026-11-01,40\n", encoding="utf-8")
    with pytest.raises(ReaderError, match=r"missing required column\(s\) \['station'\]"):
        read_county_daily(path)


def test_station_list_county_column():
    from forecast.io import parse_station_list

    text = ("监测点编码,监测点名称,城市,经度,纬度,对照点,区县\n"
            "1738A,平坦垴,阳泉,113.55,37.87,N,城区\n1739A,大阳泉,阳泉,113.57,37.86,N,\n")
    st = parse_station_list(io.StringIO(text))
    assert st.loc[0, "county"] == "城区" and pd.isna(st.loc[1, "county"])


@pytest.fixture(scope="module")
def beijing(shared_data):
    """The 12 UCI Beijing stations, Nov 2014 – Dec 2015, as station days with their districts."""
    from forecast.io import read_prsa_multisite
    from forecast.ranking import station_daily_from_hourly

    hourly = read_prsa_multisite(shared_data / "beijing_multisite_uci")
    hourly = hourly[(hourly["time"] >= "2014-12-01") & (hourly["time"] < "2016-01-01")]
    return hourly, station_daily_from_hourly(hourly, UCI_BEIJING_DISTRICTS, hour_label="start")


def test_real_beijing_stations_ranked_by_district(beijing):
    from forecast.aggregate import hourly_to_daily

    hourly, days = beijing
    out = ranking(county_daily(days), "2015-12").set_index("county")
    assert sorted(out.index) == sorted(set(UCI_BEIJING_DISTRICTS.values())) and len(out) == 8
    assert (out["rank"] == out["composite_index"].rank(method="min").astype(int)).all()
    assert out["composite_index"].is_monotonic_increasing  # listed best first
    # 东城 by hand: the days of Dongsi and Tiantan (GB 3095 validity), averaged per day, then the statistics
    st = hourly[hourly["station"].isin(["Dongsi", "Tiantan"])]
    d = hourly_to_daily(st[["time", "station", "pm25", "pm10", "so2", "no2", "co", "o3"]], by="station")
    d = d[(d["date"] >= "2015-12-01") & (d["date"] <= "2015-12-31")].groupby("date").mean(numeric_only=True)
    c = {p: round_gbt8170(d[p].mean(), 0) for p in ("pm25", "pm10", "so2", "no2")}
    c["o3_8h"] = round_gbt8170(np.percentile(d["o3_8h"].dropna(), 90), 0)
    c["co"] = round_gbt8170(np.percentile(d["co"].dropna(), 95), 1)
    by_hand = c["so2"] / 60 + c["no2"] / 40 + c["pm10"] / 70 + c["pm25"] / 35 + c["co"] / 4 + c["o3_8h"] / 160
    dc = out.loc["东城"]
    assert dc["index_exact"] == pytest.approx(by_hand) and dc["c_pm25"] == c["pm25"]
    assert 100 < dc["c_pm25"] < 200  # December 2015: the month of Beijing's two red alerts
    # every district worse than December 2014 (change rate > 0), the terms sum to the index
    assert (out["change_rate"] > 0).all()
    terms = out[[f"term_{p}" for p in ("so2", "no2", "pm10", "pm25", "co", "o3_8h")]].sum(axis=1)
    assert np.allclose(terms, out["index_exact"])


def test_rank_cli_writes_the_table_and_the_report(tmp_path):
    from airwarn.cli import main
    from forecast.synthetic_counties import make_county_station_daily

    data = make_county_station_daily(start="2025-01-01", end="2026-11-30")
    path = tmp_path / "county.csv"
    data.assign(date=data["date"].dt.strftime("%Y-%m-%d")).to_csv(path, index=False)
    assert main(["rank", "--obs", str(path), "--period", "2026-11", "--out", str(tmp_path / "out")]) == 0
    table = pd.read_csv(tmp_path / "out" / "ranking.csv")
    assert list(table.columns[:10]) == ["county", "composite_index", "rank", "change_rate", "term_so2", "term_no2",
                                        "term_pm10", "term_pm25", "term_co", "term_o3_8h"]
    assert sorted(table["county"]) == sorted(["城区", "矿区", "郊区", "平定县", "盂县", "高新区"])
    assert table["synthetic"].all() and (table["standard"] == "GB3095-2012").all()
    report = (tmp_path / "out" / "ranking_report.html").read_text(encoding="utf-8")
    assert "【合成数据】" in report and "（北京时间）" in report and "2026年11月" in report
    assert "PM₂.₅年均浓度" in report and "其余天数须保持的均值" in report and "GB 3095-2012" in report
    ytd = tmp_path / "ytd"
    assert main(["rank", "--obs", str(path), "--period", "2026-11", "--ytd", "--out", str(ytd)]) == 0
    assert pd.read_csv(ytd / "ranking.csv")["period_start"].iloc[0] == "2026-01-01"
    assert main(["rank", "--obs", str(path), "--period", "2026-11", "--standard", "GB3095-2026",
                 "--out", str(tmp_path / "x")]) == 2  # unverified limits refused


def test_cnemc_station_hourly_mapped_to_its_county(shared_data, tmp_path):
    """The real CNEMC file of 1410A (海南大学, 海口) through a station list with a 区县 column: station days by the
    hour-ending GB 3095 rules; without PM10 in the file the index is not defined (no rank)."""
    from forecast.aggregate import hourly_to_daily
    from forecast.io import read_cnemc_station_hourly
    from forecast.ranking_cli import read_station_days

    src = shared_data / "cnemc_station_hourly" / "station_1410A_haikou_20140513-20220330.csv.gz"
    stations = tmp_path / "stations.csv"
    stations.write_text("监测点编码,监测点名称,城市,经度,纬度,对照点,区县\n1410A,海南大学,海口,110.3232,20.0574,N,美兰区\n",
                        encoding="utf-8")
    days, kind = read_station_days([src], str(stations))
    assert kind == "cnemc" and set(days["county"]) == {"美兰区"} and set(days["station"]) == {"1410A"}
    hourly = read_cnemc_station_hourly(src)
    direct = hourly_to_daily(hourly[["time", "station", "pm25", "so2", "no2", "co", "o3"]], by="station",
                             hour_label="end").set_index("date")
    jan = days.set_index("date").loc["2021-01-01":"2021-01-31"]
    assert np.allclose(jan["pm25"], direct.loc["2021-01-01":"2021-01-31", "pm25"], equal_nan=True)
    out = composite_index(county_daily(days), "2021-01").iloc[0]
    assert np.isnan(out["composite_index"]) and out["rank"] == -1 and out["n_days_pm10"] == 0
    assert 0 < out["c_pm25"] < 60 and out["n_days_pm25"] >= 27
    no_county = tmp_path / "plain.csv"
    no_county.write_text("监测点编码,监测点名称,城市,经度,纬度\n1410A,海南大学,海口,110.3232,20.0574\n", encoding="utf-8")
    with pytest.raises(InputError, match="no county"):
        read_station_days([src], str(no_county))
