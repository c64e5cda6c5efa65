"""Backtest (dask) and the pinned train / forecast / backtest CLI end to end on a tiny real subset."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from airwarn.cli import main
from forecast import backtest as B
from forecast import model as M
from forecast import model_store as S
from tests.forecast._model_fixtures import SMALL_PARAMS, coordinates, read_subset, write_subset_csv

CITIES = ("阳泉", "太原", "晋中", "石家庄", "邢台", "长治")


@pytest.fixture(scope="module")
def subset(shared_data):
    return read_subset(shared_data, CITIES, end="2015-03-31")


@pytest.fixture(scope="module")
def small_model(subset, shared_data):
    m = M.ForecastModel(name="bt", params=SMALL_PARAMS, max_rows=10_000, valid_days=90)
    return m.fit(subset, coords=coordinates(shared_data, CITIES), until="2014-12-31")


def test_backtest_refuses_overlap(small_model, subset):
    with pytest.raises(ValueError, match="overlaps the training span"):
        B.run_backtest(small_model, subset, "2014-12-20", "2015-01-20")
    with pytest.raises(ValueError, match="before start"):
        B.check_period(small_model, "2015-02-10", "2015-02-01")


def test_backtest_threads_equals_synchronous_and_scores(small_model, subset):
    kw = dict(cities=["阳泉", "太原"], chunk_days=5, n_members=20)
    a = B.backtest_dataset(small_model, subset, "2015-01-05", "2015-01-14", scheduler="threads", **kw)
    b = B.backtest_dataset(small_model, subset, "2015-01-05", "2015-01-14", scheduler="synchronous", **kw)
    xr.testing.assert_identical(a, b)
    assert a.sizes["issued"] == 10
    # each issue day is forecast from observations up to that day only: same as a single predict
    one = small_model.predict(subset[subset["date"] <= "2015-01-09"], issued="2015-01-09",
                              cities=["阳泉", "太原"], n_members=20)
    xr.testing.assert_allclose(a.sel(issued=["2015-01-09"]), one)
    fc, scores, rel = B.run_backtest(small_model, subset, "2015-01-05", "2015-02-20", **kw)
    assert list(fc.columns[:10]) == list(B.FORECAST_COLUMNS)
    assert set(scores["model"]) == {"airwarn", "persistence", "climatology"}
    assert set(scores["lead_day"]) == set(range(1, 11))
    rm = scores[scores["metric"] == "rmse"]
    assert np.isfinite(rm["value"]).all() and (rm["value"] > 0).all()
    assert {"lead_day", "threshold", "mean_probability", "observed_frequency"} <= set(rel.columns)


def test_backtest_on_a_distributed_cluster_equals_threads(small_model, subset):
    """``--scheduler ADDRESS``: the chunks run in the worker processes of a real dask.distributed
    cluster (the model and observations are pickled to them) and give the same Dataset."""
    from distributed import LocalCluster

    kw = dict(cities=["阳泉", "太原"], chunk_days=4, n_members=20)
    local = B.backtest_dataset(small_model, subset, "2015-01-05", "2015-01-12", **kw)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        address = cluster.scheduler_address
        remote = B.backtest_dataset(small_model, subset, "2015-01-05", "2015-01-12", scheduler=address, **kw)
        xr.testing.assert_identical(local, remote)
        # host:port without the protocol, as a user types it
        bare = "localhost:" + address.rsplit(":", 1)[1]
        xr.testing.assert_identical(local, B.backtest_dataset(small_model, subset, "2015-01-05", "2015-01-12",
                                                              scheduler=bare, **kw))
    # dask's own names stay local; anything else that is no address is refused by name
    xr.testing.assert_identical(local, B.backtest_dataset(small_model, subset, "2015-01-05", "2015-01-12",
                                                          scheduler="threading", **kw))
    with pytest.raises(ValueError, match="neither one of dask's .* nor a dask.distributed address"):
        B.backtest_dataset(small_model, subset, "2015-01-05", "2015-01-12", scheduler="thread", **kw)


def test_cli_train_forecast_backtest(subset, tmp_path, shared_data, capsys):
    obs = tmp_path / "obs.csv"
    write_subset_csv(subset, obs)
    out = tmp_path / "models" / "tiny"
    rc = main(["train", "--obs", str(obs), "--until", "2014-12-31", "--max-rows", "8000",
               "--n-estimators", "30", "--stations", str(shared_data / "stations/cnemc_station_list_NewSiteList.csv"),
               "--out", str(out)])
    assert rc == 0
    card = json.loads((out / "card.json").read_text(encoding="utf-8"))
    assert card["train_span"][1] == "2014-12-31" and sorted(card["cities"]) == sorted(CITIES)
    # the warning decision is calibrated on the validation fold, for the default rule sets
    decision = json.loads((out / "warning_decision.json").read_text(encoding="utf-8"))
    assert {"national-2024", "national-2019"} <= set(decision["rule_sets"])
    entry = decision["rule_sets"]["national-2024"]
    assert entry["fold"]["span"] == card["validation_span"]
    assert 0 < entry["thresholds"]["yellow"] < 1 and set(entry["calibration"]) == {"window", "4-6", "7-10", "horizon"}
    assert card["warning_decision"]["rule_sets"]["national-2024"]["thresholds"] == entry["thresholds"]

    nc = tmp_path / "fc" / "out.nc"
    rc = main(["forecast", "--model", str(out), "--obs", str(obs), "--issued", "2015-02-10",
               "--cities", "阳泉,太原", "--out", str(nc)])
    assert rc == 0 and nc.exists() and nc.with_suffix(".csv").exists()
    ds = xr.open_dataset(nc)
    assert sorted(ds["city"].values.tolist()) == ["太原", "阳泉"] and ds.sizes["lead_day"] == 10
    ds.close()
    csv = pd.read_csv(nc.with_suffix(".csv"))
    assert len(csv) == 20 and (csv["valid_date"] > csv["issued"]).all()

    bt = tmp_path / "bt"
    rc = main(["backtest", "--model", str(out), "--obs", str(obs), "--start", "2015-01-01", "--end",
               "2015-01-20", "--cities", "阳泉", "--out", str(bt)])
    assert rc == 0
    f = pd.read_csv(bt / "forecasts.csv")
    assert list(f.columns[:10]) == ["city", "issued", "lead_day", "valid_date", "aqi_p10", "aqi_p50", "aqi_p90",
                                    "p_aqi_gt_150", "p_aqi_gt_200", "p_aqi_gt_300"]
    s = pd.read_csv(bt / "scores.csv")
    assert list(s.columns) == ["lead_day", "metric", "model", "value"]
    iv = pd.read_csv(bt / "skill_intervals.csv")
    rmse = iv[(iv["metric"] == "rmse") & (iv["reference"] == "persistence")].set_index("lead_day")
    got = s[(s["metric"] == "rmse") & (s["model"] == "airwarn")].set_index("lead_day")["value"]
    np.testing.assert_allclose(rmse["airwarn"], got.loc[rmse.index], rtol=1e-5)
    assert (rmse["advantage_lo"] <= rmse["advantage_hi"]).all()
    printed = capsys.readouterr().out
    assert "TS(AQI > 200) minus persistence's" in printed and "warning events (national-2024" in printed
    # the warning decision replayed on every issue day and verified as events
    recs = pd.read_csv(bt / "recommendations.csv", keep_default_na=False)
    assert list(recs.columns) == ["city", "issued", "level", "start", "end", "p_yellow", "p_orange", "p_red",
                                  "decision"]
    assert len(recs) == 20 and set(recs["decision"]) == {"probability"}
    assert set(recs["level"]) <= {"none", "yellow", "orange", "red"}
    on = recs["level"] != "none"
    assert (recs.loc[on, "start"] <= recs.loc[on, "end"]).all() and (recs.loc[~on, "start"] == "").all()
    refs = pd.read_csv(bt / "recommendations_references.csv")
    assert set(refs["decision"]) == {"median", "persistence"}
    ev = pd.read_csv(bt / "event_scores.csv")
    assert list(ev.columns) == ["model", "metric", "value", "lo", "hi"]
    assert {"airwarn", "median", "persistence"} <= set(ev["model"])
    assert {"pod", "far", "csi", "level_right_share", "median_lead_days", "warning_days",
            "false_warning_days"} <= set(ev["metric"])
    assert set(pd.read_csv(bt / "warning_events.csv")["kind"]) <= {"hit", "miss", "false_alarm", "run"}
    ps = pd.read_csv(bt / "level_probability_scores.csv")
    assert set(ps["span"]) == {"window", "4-6", "7-10", "horizon"}

    # --record-in keeps the scorecard and its intervals with the model the dashboard shows
    rc = main(["backtest", "--model", str(out), "--obs", str(obs), "--start", "2015-01-01", "--end",
               "2015-01-20", "--cities", "阳泉", "--out", str(bt), "--record-in", str(out), "--by-city"])
    assert rc == 0
    card = json.loads((out / "card.json").read_text(encoding="utf-8"))
    assert card["backtest"]["intervals_file"] == "backtest_skill_intervals.csv"
    assert card["backtest"]["events"]["event_scores_file"] == "backtest_event_scores.csv"
    pd.testing.assert_frame_equal(pd.read_csv(out / "backtest_event_scores.csv"), ev)
    assert (out / "backtest_event_scores_by_city.csv").exists() and (out / "backtest_warning_events.csv").exists()
    assert card["backtest"]["scores_by_city_file"] == "backtest_scores_by_city.csv"
    pd.testing.assert_frame_equal(pd.read_csv(out / "backtest_skill_intervals.csv"), iv)
    # one city: its own scorecard is the whole scorecard
    own = pd.read_csv(out / "backtest_scores_by_city.csv")
    assert set(own["city"]) == {"阳泉"}
    pd.testing.assert_frame_equal(own.drop(columns="city"), s)
    own_iv = pd.read_csv(out / "backtest_skill_intervals_by_city.csv")
    pd.testing.assert_frame_equal(own_iv.drop(columns="city"), iv)

    # observations in two files after one --obs: the same backtest
    early, late = tmp_path / "early.csv", tmp_path / "late.csv"
    write_subset_csv(subset[subset["date"] <= "2014-12-31"], early)
    write_subset_csv(subset[subset["date"] > "2014-12-31"], late)
    rc = main(["backtest", "--model", str(out), "--obs", str(early), str(late), "--start", "2015-01-01", "--end",
               "2015-01-20", "--cities", "阳泉", "--out", str(tmp_path / "two")])
    assert rc == 0
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "two" / "scores.csv"), s)
    assert "warning" not in capsys.readouterr().err

    # the test period alone: the climatology reference comes from the model folder, so the references
    # score as before; the forecasts lack history, and the CLI says so
    rc = main(["backtest", "--model", str(out), "--obs", str(late), "--start", "2015-01-01", "--end",
               "2015-01-20", "--cities", "阳泉", "--out", str(tmp_path / "late")])
    assert rc == 0
    alone = pd.read_csv(tmp_path / "late" / "scores.csv")
    refs = ["persistence", "climatology"]
    pd.testing.assert_frame_equal(alone[alone["model"].isin(refs)].reset_index(drop=True),
                                  s[s["model"].isin(refs)].reset_index(drop=True))
    err = capsys.readouterr().err
    assert "warning: 20 forecast(s) of 阳泉 were issued with fewer than 30 days from the city's first observation" in err
    # a city the model never saw is forecast, named, and left out of the scores
    other = subset[(subset["city"] == "阳泉") & (subset["date"] > "2014-12-31")].assign(city="新城")
    write_subset_csv(pd.concat([subset[subset["date"] > "2014-12-31"], other]), late)
    rc = main(["backtest", "--model", str(out), "--obs", str(early), str(late), "--start", "2015-01-01", "--end",
               "2015-01-20", "--cities", "阳泉,新城", "--out", str(tmp_path / "new")])
    assert rc == 0
    err = capsys.readouterr().err
    assert "the model was not trained on 新城" in err and "新城: not scored" in err
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "new" / "scores.csv"), s)
    write_subset_csv(subset[subset["date"] > "2014-12-31"], late)
    # a model saved without its climatology recomputes it from the training period's observations,
    # to the same scores; without them it stops before the long run
    (out / S.CLIMATOLOGY_FILE).unlink()
    with pytest.warns(UserWarning, match="climatology.csv.gz named in card.json is missing"):
        M.load_model(out)
    rc = main(["backtest", "--model", str(out), "--obs", str(early), str(late), "--start", "2015-01-01", "--end",
               "2015-01-20", "--cities", "阳泉", "--out", str(tmp_path / "recomputed")])
    assert rc == 0
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "recomputed" / "scores.csv"), s)
    rc = main(["backtest", "--model", str(out), "--obs", str(late), "--start", "2015-01-01", "--end",
               "2015-01-20", "--cities", "阳泉", "--out", str(tmp_path / "noclim")])
    assert rc == 2
    assert "pass the training-period observations too" in capsys.readouterr().err
    assert not (tmp_path / "noclim").exists()

    rc = main(["backtest", "--model", str(out), "--obs", str(obs), "--start", "2014-12-01", "--end",
               "2015-01-20", "--out", str(tmp_path / "bad")])
    assert rc == 2
    assert "overlaps the training span" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()
