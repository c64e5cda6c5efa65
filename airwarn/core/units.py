"""The one registry of units: the code written in files, the text shown, the CF name, conversions.

Every glossary variable has one unit (:func:`unit_of`); a :class:`Unit` knows three spellings:

==========  ==========  ============  ===========================================================
``code``    ``text``    ``cf``        used for
==========  ==========  ============  ===========================================================
``ug/m3``   ``µg/m³``   ``ug m-3``    pollutant concentrations (PM2.5, PM10, SO2, NO2, O3)
``mg/m3``   ``mg/m³``   ``mg m-3``    CO
``1``       (empty)     ``1``         AQI, IAQI, probabilities, fractions 0–1
``t/d``     ``t/d``     ``t d-1``     emissions and emission cuts of the enterprise list (吨/日)
``degC``    ``°C``      ``degC``      temperature, dew point
``%``       ``%``       ``%``         relative humidity
``hPa``     ``hPa``     ``hPa``       pressure
``m/s``     ``m/s``     ``m s-1``     wind speed and components
``mm``      ``mm``      ``mm``        precipitation
``m``       ``m``       ``m``         boundary-layer and geopotential height
==========  ==========  ============  ===========================================================

* ``code`` is the spelling in airwarn's own files (the breakpoint tables' ``unit`` row, CSV headers).
* ``text`` is for people: axis labels, messages, reports. It uses U+00B5 MICRO SIGN (``µ``), never the
  Greek mu U+03BC, and the superscript ``³``. ``zh`` is the Chinese name (微克/立方米, 吨/日) for
  official texts that spell a unit out.
* ``cf`` is the CF / UDUNITS-2 name, for the ``units`` attribute of netCDF variables.

:func:`convert` converts between units of one quantity (CO in µg/m³ of the PRSA files → mg/m³, K →
°C, Pa → hPa, m → mm of precipitation, t/a → t/d). :func:`parse` accepts any known spelling,
including the CF spellings of gridded sources (``m s**-1``, ``kelvin``, ``millibars``), which
:mod:`forecast.nwp` converts from.

The floor: this module imports nothing of the project but :mod:`airwarn.core.errors` and the pollutant
names of :mod:`airwarn.core.vocab`.

Examples
--------
>>> unit_of("co").code, unit_of("pm25_24h").text, unit_of("pm25").cf
('mg/m3', 'µg/m³', 'ug m-3')
>>> unit_text("ug/m3")
'µg/m³'
>>> convert([300.0, 1500.0], "ug/m3", "mg/m3").tolist()
[0.3, 1.5]
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from types import MappingProxyType
from typing import Any, Mapping


from airwarn.core.errors import InputError, UnknownNameError
from airwarn.core.vocab import AQI_POLLUTANTS, EMISSION_POLLUTANTS, HOURLY_POLLUTANTS

__all__ = [
    "AQI", "CO_UNIT", "CONCENTRATION", "EMISSION", "UNITS", "VARIABLE_UNITS", "Unit",
    "conversion", "convert", "get", "parse", "unit_of", "unit_text",
]


@dataclass(frozen=True)
class Unit:
    """One unit of the registry.

    Attributes
    ----------
    code : str
        Spelling in airwarn's files (``"ug/m3"``).
    text : str
        Display text (``"µg/m³"``; empty for a dimensionless number).
    cf : str
        CF / UDUNITS-2 name for netCDF ``units`` attributes (``"ug m-3"``).
    zh : str
        Chinese name for official texts (``"微克/立方米"``).
    quantity : str
        What it measures; :func:`convert` converts only within one quantity.
    scale : Fraction
        Size of the unit in the quantity's base unit (``mg/m3``: 1000 ``ug/m3``).
    offset : float
        Zero of the unit in the base unit (``K``: −273.15 °C); ``base = value * scale + offset``.
    """

    code: str
    text: str
    cf: str
    zh: str
    quantity: str
    scale: Fraction = Fraction(1)
    offset: float = 0.0

    def __str__(self) -> str:
        return self.code


def _u(code: str, text: str, cf: str, zh: str, quantity: str, scale: Any = 1, offset: float = 0.0) -> Unit:
    return Unit(code, text, cf, zh, quantity, Fraction(scale), offset)


_ALL: tuple[Unit, ...] = (
    # mass concentration (base: µg/m³)
    _u("ug/m3", "µg/m³", "ug m-3", "微克/立方米", "mass concentration"),
    _u("mg/m3", "mg/m³", "mg m-3", "毫克/立方米", "mass concentration", 1000),
    # dimensionless (base: 1)
    _u("1", "", "1", "", "dimensionless"),
    _u("%", "%", "%", "%", "dimensionless", Fraction(1, 100)),
    # emission rate (base: t/d)
    _u("t/d", "t/d", "t d-1", "吨/日", "emission rate"),
    _u("t/a", "t/a", "t year-1", "吨/年", "emission rate", Fraction(1, 365)),
    _u("kg/d", "kg/d", "kg d-1", "千克/日", "emission rate", Fraction(1, 1000)),
    _u("kg/h", "kg/h", "kg h-1", "千克/小时", "emission rate", Fraction(24, 1000)),
    # temperature (base: °C)
    _u("degC", "°C", "degC", "摄氏度", "temperature"),
    _u("K", "K", "K", "开尔文", "temperature", 1, -273.15),
    # pressure (base: hPa)
    _u("hPa", "hPa", "hPa", "百帕", "pressure"),
    _u("Pa", "Pa", "Pa", "帕", "pressure", Fraction(1, 100)),
    # speed (base: m/s)
    _u("m/s", "m/s", "m s-1", "米/秒", "speed"),
    _u("km/h", "km/h", "km h-1", "千米/小时", "speed", Fraction(1000, 3600)),
    # length (base: mm, so that m → mm of precipitation is a whole factor)
    _u("mm", "mm", "mm", "毫米", "length"),
    _u("m", "m", "m", "米", "length", 1000),
    _u("km", "km", "km", "千米", "length", 1000000),
    # the rest of what gridded (NWP) sources hold: kept, never converted
    _u("degree", "°", "degree", "度", "angle"),
    _u("m2/s2", "m²/s²", "m2 s-2", "平方米/平方秒", "geopotential"),
    _u("kg/kg", "kg/kg", "kg kg-1", "千克/千克", "mass fraction"),
    _u("Pa/s", "Pa/s", "Pa s-1", "帕/秒", "pressure tendency"),
    _u("W/m2", "W/m²", "W m-2", "瓦/平方米", "irradiance"),
    _u("J/m2", "J/m²", "J m-2", "焦/平方米", "radiant exposure"),
    _u("kg/m2", "kg/m²", "kg m-2", "千克/平方米", "area density"),
    _u("day", "d", "days", "天", "time"),
)

#: The registry: code → :class:`Unit`. Immutable.
UNITS: Mapping[str, Unit] = MappingProxyType({u.code: u for u in _ALL})

#: Units of the pollutant concentrations: µg/m³, and mg/m³ for CO.
CONCENTRATION: Unit = UNITS["ug/m3"]
CO_UNIT: Unit = UNITS["mg/m3"]
#: Stack-gas concentrations of online monitoring (CEMS outlets) are mg/m³.
STACK_CONCENTRATION: Unit = UNITS["mg/m3"]
#: The AQI and IAQI are dimensionless.
AQI: Unit = UNITS["1"]
#: Emissions and emission cuts of the enterprise list and of the reduction targets [t/d].
EMISSION: Unit = UNITS["t/d"]

#: Other spellings accepted by :func:`parse` (sources' CF spellings, the list's Chinese headers).
_ALIASES: dict[str, str] = {
    "µg/m³": "ug/m3", "μg/m³": "ug/m3", "µg/m3": "ug/m3", "μg/m3": "ug/m3", "ug/m³": "ug/m3",
    "ug m**-3": "ug/m3", "微克/立方米": "ug/m3",
    "mg/m³": "mg/m3", "mg m**-3": "mg/m3", "毫克/立方米": "mg/m3",
    "(0 - 1)": "1", "percent": "%",
    "t/day": "t/d", "吨/日": "t/d", "吨/天": "t/d", "t/a": "t/a", "t/yr": "t/a", "t/year": "t/a",
    "吨/年": "t/a",
    "kelvin": "K", "degK": "K", "C": "degC", "celsius": "degC", "degrees_Celsius": "degC", "°C": "degC",
    "℃": "degC",
    "mbar": "hPa", "millibars": "hPa", "millibar": "hPa", "mb": "hPa",
    "m s**-1": "m/s", "m s^-1": "m/s",
    "gpm": "m",
    "m**2 s**-2": "m2/s2", "m^2 s^-2": "m2/s2", "m^2/s^2": "m2/s2",
    "kg kg**-1": "kg/kg", "Pa s**-1": "Pa/s", "W m**-2": "W/m2", "J m**-2": "J/m2", "kg m**-2": "kg/m2",
    "degrees": "degree",
}
_SPELLINGS: dict[str, str] = {
    **{u.code: u.code for u in _ALL}, **{u.cf: u.code for u in _ALL if u.cf},
    **{u.text: u.code for u in _ALL if u.text}, **_ALIASES,
}

#: Unit code of every glossary variable (the names the readers give their columns). Indicator and
#: window suffixes (``_1h``, ``_8h``, ``_24h``) and quantile suffixes (``_p50``) take the unit of the
#: variable (``pm25_24h``, ``co_p50``); ``iaqi_<pollutant>`` and ``p_aqi_gt_<t>`` are dimensionless.
VARIABLE_UNITS: Mapping[str, str] = MappingProxyType({
    **{p: "mg/m3" if p == "co" else "ug/m3" for p in (*AQI_POLLUTANTS, *HOURLY_POLLUTANTS)},
    "aqi": "1", "iaqi": "1", "probability": "1",
    "emission": "t/d", "cut": "t/d", "baseline": "t/d",
    **{f"cut_{p}": "t/d" for p in EMISSION_POLLUTANTS},
    **{v: "degC" for v in ("temp", "dewp", "t2m", "d2m")},
    "rh": "%",
    **{v: "hPa" for v in ("pres", "sp", "msl")},
    **{v: "mm" for v in ("rain", "tp")},
    **{v: "m/s" for v in ("wspm", "ws", "u", "v", "u10", "v10")},
    "wd": "degree",
    **{v: "m" for v in ("blh", "gh")},
    "z": "m2/s2",
})
_SUFFIX = re.compile(r"_(?:1h|8h|24h|p\d\d)$")


def get(unit: "str | Unit") -> Unit:
    """The :class:`Unit` of a code (``"ug/m3"``), a CF name (``"ug m-3"``), a display text or an alias.

    Raises
    ------
    UnknownNameError
        If no unit is spelled so; the message lists the codes.

    Examples
    --------
    >>> get("ug m-3").code, get("μg/m³").text, get("吨/天").code
    ('ug/m3', 'µg/m³', 't/d')
    """
    if isinstance(unit, Unit):
        return unit
    text = str(unit).strip()
    code = _SPELLINGS.get(text)
    if code is None:
        raise UnknownNameError(f"unknown unit {unit!r}; expected one of {sorted(UNITS)} "
                               "(or their CF names, display texts, common aliases)")
    return UNITS[code]


#: :func:`parse` is :func:`get` under the name a reader looks for.
parse = get


def unit_of(variable: str) -> Unit:
    """The unit of a glossary variable.

    Parameters
    ----------
    variable : str
        A glossary name (``pm25``, ``co``, ``o3_8h``, ``aqi``, ``temp``, ``cut_so2`` …), an indicator
        or moving mean (``pm25_24h``, ``co_1h``), a quantile column (``co_p50``), ``iaqi_<pollutant>``
        or ``p_aqi_gt_<threshold>``.

    Raises
    ------
    UnknownNameError
        If the variable has no unit in the glossary.

    Examples
    --------
    >>> unit_of("co_24h").text, unit_of("o3_8h").code, unit_of("iaqi_pm25").cf, unit_of("cut_vocs").zh
    ('mg/m³', 'ug/m3', '1', '吨/日')
    """
    name = str(variable).strip().lower()
    if name.startswith(("iaqi_", "p_aqi_gt_")) or name.startswith("aqi_p"):
        return AQI
    for candidate in (name, _SUFFIX.sub("", name)):
        if candidate in VARIABLE_UNITS:
            return UNITS[VARIABLE_UNITS[candidate]]
    raise UnknownNameError(f"no unit known for the variable {variable!r}; "
                           f"the glossary variables are {sorted(VARIABLE_UNITS)}")


def unit_text(unit: "str | Unit") -> str:
    """Display text of a unit (``"µg/m³"`` for ``"ug/m3"``), from any spelling :func:`get` knows.

    Examples
    --------
    >>> unit_text("mg/m3"), unit_text("degC"), unit_text("m s-1")
    ('mg/m³', '°C', 'm/s')
    """
    return get(unit).text


def conversion(from_unit: "str | Unit", to_unit: "str | Unit") -> tuple[float, float]:
    """``(factor, offset)`` with ``value_to = value_from * factor + offset``.

    Raises
    ------
    InputError
        If the units measure different quantities.

    Examples
    --------
    >>> conversion("Pa", "hPa"), conversion("K", "degC"), conversion("m", "mm")
    ((0.01, 0.0), (1.0, -273.15), (1000.0, 0.0))
    """
    factor, offset = _ratio(from_unit, to_unit)
    return float(factor), float(offset)


def _ratio(from_unit: "str | Unit", to_unit: "str | Unit") -> tuple[Fraction, float]:
    """The exact factor and the offset from one unit to another of the same quantity."""
    a, b = get(from_unit), get(to_unit)
    if a.quantity != b.quantity:
        raise InputError(f"cannot convert {a.code} ({a.quantity}) to {b.code} ({b.quantity}): "
                         f"expected a unit of {a.quantity}")
    return a.scale / b.scale, (a.offset - b.offset) / b.scale


def convert(values: Any, from_unit: "str | Unit", to_unit: "str | Unit") -> Any:
    """Convert values between two units of one quantity.

    A whole factor multiplies and the reciprocal of a whole number divides, so that the result is
    the correctly rounded decimal (300 µg/m³ → exactly 0.3 mg/m³, as ``300 / 1000``).

    Parameters
    ----------
    values : scalar, array-like, Series or DataArray
        Values in ``from_unit``; pandas and xarray objects keep their kind, index and coordinates
        (lists and tuples become ndarrays).
    from_unit, to_unit : str or Unit
        Any spelling :func:`get` knows.

    Raises
    ------
    InputError
        If the units measure different quantities (µg/m³ and °C); :func:`get` names an unknown unit.

    Examples
    --------
    >>> convert(2.5, "mg/m3", "ug/m3")
    2500.0
    >>> convert([0.0, 15.5], "degC", "K").tolist()
    [273.15, 288.65]
    >>> convert(365.0, "t/a", "t/d")
    1.0
    """
    factor, offset = _ratio(from_unit, to_unit)
    if isinstance(values, (list, tuple)):
        import numpy as np  # here, not at import: the floor stays light for `airwarn --help`

        values = np.asarray(values, dtype=float)
    if factor == 1:
        out = values * 1.0
    elif factor.denominator == 1:
        out = values * float(factor.numerator)
    elif factor.numerator == 1:
        out = values / float(factor.denominator)
    else:
        out = values * float(factor)
    return out + offset if offset else out
