"""The model with meteorological predictors (UCI Beijing station meteorology as a perfect forecast)."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd

from airwarn.cli import main

PRSA = "beijing_multisite_uci"


def test_cli_train_and_forecast_with_met(shared_data, tmp_path):
    files = sorted((shared_data / PRSA).glob("PRSA_Data_*"))[:2]
    out = tmp_path / "models" / "met"
    args = ["train"] + sum((["--obs", str(f)] for f in files), []) + sum((["--met", str(f)] for f in files), [])
    rc = main(args + ["--until", "2014-06-30", "--max-rows", "4000", "--n-estimators", "10", "--out", str(out)])
    assert rc == 0
    card = json.loads((out / "card.json").read_text(encoding="utf-8"))
    assert card["with_met"] and {"temp", "dewp", "pres", "rain", "wspm", "u", "v", "rh"} <= set(card["met_variables"])
    assert "met_u" in card["features"] and "met_dpres" in card["features"]
    nc = tmp_path / "f.nc"
    args = ["forecast", "--model", str(out)] + sum((["--obs", str(f)] for f in files), [])
    args += sum((["--met", str(f)] for f in files), []) + ["--issued", "2014-08-01", "--out", str(nc)]
    assert main(args) == 0
    f = pd.read_csv(nc.with_suffix(".csv"))
    assert f["city"].nunique() == 2 and len(f) == 20
    assert np.isfinite(f["aqi_p50"]).all()
