"""The weather behind a forecast as the 会商 page shows it: whether the product used weather, from which
files, and the predictors per forecast day (boundary-layer height, 10 m wind, humidity, the inversion
proxy, the stagnation flag); and whether the scorecard's scores are those of a weather add-on's base model.

Read from the forecast product (:func:`forecast.product.weather_info`, :func:`forecast.product.weather_frame`)
and the model card (``weather.scores_of``); plain data out, the page writes the texts.
"""
from __future__ import annotations

import pandas as pd

from forecast.product import weather_frame, weather_info

#: The quantities of the panel and the product's predictor names that carry each, in order of preference
#: (the daily predictors of ``forecast.met`` first, then the UCI station names of ``forecast.features``).
QUANTITIES: dict[str, tuple[str, ...]] = {
    "blh": ("blh",),
    "wind": ("ws10", "wspm"),
    "rh": ("rh",),
    "inversion": ("inversion_850", "inversion_925"),
    "stagnation": ("stagnation",),
}
#: A source whose name holds this word is synthetic (the demo's weather): the rule for products written
#: before they carried ``weather_synthetic`` only (:func:`is_synthetic`).
SYNTHETIC_MARK = "synthetic"


def forecast_weather(ds, city: str) -> dict:
    """What weather the forecast of ``city`` (its newest issue day in ``ds``) used.

    Parameters
    ----------
    ds : xarray.Dataset
        A forecast product (:func:`dashboard.services.products.load_forecast`).
    city : str

    Returns
    -------
    dict
        ``used`` (the product used weather for some city), ``city_used`` (for this city), ``sources``
        (file names), ``synthetic`` (the weather is synthetic: :func:`is_synthetic`), ``days`` (DataFrame
        ``lead_day, valid_date`` and one column per key of :data:`QUANTITIES`, NaN where the product lacks
        it; empty when the city has no weather), ``present`` (the keys with a value), ``inversion_level``
        (850 or 925: the level of the inversion proxy shown, None without one).
    """
    info = weather_info(ds)
    # a city absent from the day's product (an older product of the home city only) has no weather there
    frame = weather_frame(ds, city) if info["used"] and city in ds["city"].values else pd.DataFrame()
    days = pd.DataFrame({"lead_day": frame.get("lead_day", pd.Series(dtype=int)),
                         "valid_date": frame.get("valid_date", pd.Series(dtype="datetime64[ns]"))})
    present, level = [], None
    for key, names in QUANTITIES.items():
        name = next((n for n in names if n in frame.columns and frame[n].notna().any()), None)
        days[key] = frame[name].to_numpy(float) if name is not None else float("nan")
        if name is not None:
            present.append(key)
            if key == "inversion":
                level = int(name.rsplit("_", 1)[1])
    return {"used": info["used"], "city_used": not frame.empty, "sources": list(info["sources"]),
            "synthetic": is_synthetic(ds, info),
            "days": days, "present": present, "inversion_level": level}


def is_synthetic(ds, info: dict | None = None) -> bool:
    """Whether the weather a product used is synthetic (the demo's seeded weather).

    The product's own record (``weather_synthetic``, :func:`forecast.product.weather_info`) when it has
    the attribute; a product written before the attribute existed falls back to the file names (a source
    whose name holds :data:`SYNTHETIC_MARK`), the only sign such a product carries.
    """
    info = weather_info(ds) if info is None else info
    if "weather_synthetic" in ds.attrs:
        return bool(info["synthetic"])
    # an old product (no weather_synthetic attribute): the file-name rule
    return any(SYNTHETIC_MARK in s.lower() for s in info["sources"])


#: Kinds of weather source by file name (checked in order): suffixes or a name prefix → the page's words.
SOURCE_KINDS: tuple[tuple[tuple[str, ...], str], ...] = (
    ((".grib2", ".grb2", ".grib", ".grb"), "GRIB2 数值预报"),
    ((".nc", ".nc4", ".netcdf"), "netCDF 格点气象"),
    (("PRSA_Data_",), "站点逐时气象"),
    ((".csv", ".csv.gz", ".txt"), "城市/站点气象 CSV"),
)


def source_kind(name: str) -> str:
    """The words of the page for a weather file (:data:`SOURCE_KINDS`; "其他气象文件" otherwise)."""
    low = str(name).rsplit("/", 1)[-1]
    for marks, label in SOURCE_KINDS:
        if any(low.startswith(m) if not m.startswith(".") else low.lower().endswith(m) for m in marks):
            return label
    return "其他气象文件"


def describe_sources(sources) -> str:
    """The sources in words, by kind with their counts: "GRIB2 数值预报 2 个文件、城市/站点气象 CSV 1 个文件"
    (the file names themselves are technical detail: the page puts them in a tooltip)."""
    counts: dict[str, int] = {}
    for name in sources:
        kind = source_kind(name)
        counts[kind] = counts.get(kind, 0) + 1
    return "、".join(f"{kind} {n} 个文件" for kind, n in counts.items())


def scores_base(card: dict) -> str | None:
    """The model whose backtest the scorecard shows when the running model is a weather add-on scored by
    its base (the card's ``weather.scores_of``: a name, or a dict with ``name`` or ``model``); else None."""
    base = (card.get("weather") or {}).get("scores_of") if isinstance(card.get("weather"), dict) else None
    if isinstance(base, dict):
        base = base.get("name") or base.get("model")
    return str(base) if base else None
