"""How old and how long the observations behind a forecast are (``forecast.inputs``), on real data."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from airwarn.cli import main
from forecast.inputs import HISTORY_DAYS, input_warnings, last_observed, too_old
from forecast.model import load_model
from forecast.product import forecast_frame
from tests.forecast._model_fixtures import CITY_DAILY, read_subset, write_subset_csv

MODEL = Path(__file__).resolve().parents[2] / "models" / "aqistudy-2016"


def test_last_observed_per_city_and_issue_day():
    obs = pd.DataFrame({"city": ["a", "a", "a", "b"],
                        "date": pd.to_datetime(["2016-01-01", "2016-01-02", "2016-01-05", "2016-01-03"]),
                        "pm25": [10.0, np.nan, 30.0, 5.0], "aqi": [20.0, np.nan, 40.0, 9.0]})
    got = last_observed(obs, ["a", "b", "c"], pd.to_datetime(["2016-01-02", "2016-01-04", "2016-01-06"]),
                        ["pm25", "aqi"])
    want = [["2016-01-01", "2016-01-01", "2016-01-05"],   # a: the 2nd is all NaN, the 5th counts from then
            ["NaT", "2016-01-03", "2016-01-03"],           # b: nothing before the 3rd
            ["NaT", "NaT", "NaT"]]                         # c: no rows at all
    np.testing.assert_array_equal(got.values, np.array(want, dtype="datetime64[ns]"))
    assert got.dims == ("city", "issued")


def test_forecast_says_how_old_its_data_are(shared_data):
    obs = read_subset(shared_data, ("阳泉", "太原", "晋中", "石家庄"), end="2016-01-31")
    stale = obs[~((obs["city"] == "阳泉") & (obs["date"] > "2016-01-17"))]
    model = load_model(MODEL)
    ds = model.predict(stale, issued="2016-01-20", cities=["阳泉", "太原"])
    through = pd.DatetimeIndex(ds["last_observed"].sel(issued="2016-01-20").values)
    assert dict(zip(ds["city"].values, through.date.astype(str))) == {"阳泉": "2016-01-17", "太原": "2016-01-20"}

    # the flat table carries it too, and the warnings name the stale city alone
    frame = forecast_frame(ds)
    assert dict(frame.drop_duplicates("city")[["city", "last_observed"]].values) == {
        "阳泉": "2016-01-17", "太原": "2016-01-20"}
    notes = input_warnings(stale, frame, model.variables_)
    assert notes == ["1 forecast(s) of 阳泉 were issued 3 day(s) after the city's last observation: the issue "
                     "day has no data, so their most recent predictors are empty"]
    # a day missing is already worth saying (the CLI issues on the day given; lag 0 is then empty)
    one_day = obs[~((obs["city"] == "太原") & (obs["date"] == "2016-01-20"))]
    frame = forecast_frame(model.predict(one_day, issued=["2016-01-19", "2016-01-20"], cities=["太原"]))
    assert input_warnings(one_day, frame, model.variables_) == [
        "1 forecast(s) of 太原 were issued 1 day(s) after the city's last observation: the issue day has no "
        "data, so their most recent predictors are empty"]


def test_input_warnings_short_history_and_no_data(shared_data):
    obs = read_subset(shared_data, ("阳泉", "太原"), end="2015-03-31")
    obs = obs[(obs["city"] == "太原") | (obs["date"] >= "2015-03-01")]  # 阳泉 from 1 March only
    model = load_model(MODEL)
    frame = forecast_frame(model.predict(obs, issued=["2015-03-10", "2015-03-31"], cities=["阳泉", "太原"]))
    assert input_warnings(obs, frame, model.variables_) == [
        f"1 forecast(s) of 阳泉 were issued with fewer than {HISTORY_DAYS} days from the city's first observation to "
        "the issue day (the last on 2015-03-10): their predictors look back over a shorter history (add earlier "
        "observations)"]
    # sound inputs: nothing to say
    full = read_subset(shared_data, ("阳泉", "太原"), end="2015-03-31")
    ok = forecast_frame(model.predict(full, issued="2015-03-31", cities=["阳泉", "太原"]))
    assert input_warnings(full, ok, model.variables_) == []
    # a city with nothing on or before the issue day
    none = pd.DataFrame({"city": ["阳泉"], "issued": ["2015-03-10"], "last_observed": [np.nan]})
    assert input_warnings(obs, none, model.variables_)[-1].startswith(
        "1 forecast(s) of 阳泉 were issued with no observation of the city on or before the issue day")


def test_input_warnings_name_cities_the_model_never_saw(shared_data):
    obs = read_subset(shared_data, ("阳泉", "太原"), end="2015-03-31")
    model = load_model(MODEL)
    frame = forecast_frame(model.predict(obs, issued="2015-03-31", cities=["阳泉", "太原"]))
    assert input_warnings(obs, frame, model.variables_, trained=model.cities_) == []
    assert input_warnings(obs, frame, model.variables_, trained=["太原"]) == [
        "the model was not trained on 阳泉: their forecasts run without the city's statics and have no "
        "verified skill (retrain with their observations)"]


def test_too_old():
    issued = np.datetime64("2016-02-10")
    last = np.array(["2016-02-10", "2016-02-03", "2016-02-02", "NaT"], dtype="datetime64[D]")
    assert too_old(last, issued).tolist() == [False, False, True, True]  # 7 days is the last allowed


def test_cli_forecast_refuses_old_data_and_warns_on_stale(shared_data, tmp_path, capsys):
    obs = tmp_path / "obs.csv"
    write_subset_csv(read_subset(shared_data, ("阳泉", "太原"), end="2016-01-31"), obs)
    out = tmp_path / "fc.nc"
    rc = main(["forecast", "--model", str(MODEL), "--obs", str(obs), "--issued", "2016-02-09", "--out", str(out)])
    assert rc == 2 and not out.exists()
    err = capsys.readouterr().err
    assert "hold no day of 太原, 阳泉 within 7 days before 2016-02-09" in err
    rc = main(["forecast", "--model", str(MODEL), "--obs", str(obs), "--issued", "2016-02-02", "--out", str(out)])
    assert rc == 0 and out.exists()
    assert "warning: 2 forecast(s) of 太原, 阳泉 were issued 2 day(s) after" in capsys.readouterr().err
    csv = pd.read_csv(out.with_suffix(".csv"))
    assert set(csv["last_observed"]) == {"2016-01-31"}
    # one city's data too old, or far too old (nothing in the 45 days the predictors read): the others
    # are forecast, that one is named and left out
    part = read_subset(shared_data, ("阳泉", "太原"), end="2016-01-31")
    for last in ("2016-01-20", "2015-11-30"):
        write_subset_csv(part[(part["city"] == "太原") | (part["date"] <= last)], obs)
        rc = main(["forecast", "--model", str(MODEL), "--obs", str(obs), "--issued", "2016-01-31", "--out", str(out)])
        assert rc == 0
        assert "hold no day of 阳泉 within 7 days before 2016-01-31: not forecast" in capsys.readouterr().err
        assert set(pd.read_csv(out.with_suffix(".csv"))["city"]) == {"太原"}
    # asked for that city alone: refused by name, nothing written
    out.unlink()
    rc = main(["forecast", "--model", str(MODEL), "--obs", str(obs), "--issued", "2016-01-31", "--cities", "阳泉",
               "--out", str(out)])
    assert rc == 2 and not out.exists()
    assert "hold no day of 阳泉 within 7 days before 2016-01-31: a forecast from them" in capsys.readouterr().err
