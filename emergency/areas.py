"""The areas a warning may be issued for: the configured city and its districts/counties.

A warning is stored under its area's canonical name, and ``warning_active`` holds one row per area,
so the names must be canonical for "one active warning per area" to mean anything: ``阳泉``,
``"阳泉 "``, ``" 阳泉"`` and ``阳泉市`` are one area. :meth:`AreaList.canonical` maps a name given by a
user to the canonical one and refuses anything else (:class:`UnknownAreaError`, one line listing
the valid areas). Names are compared after NFKC normalisation (full-width letters and spaces become
half-width) with every space removed; ``<city>市`` is the city, and a county may be prefixed by the
city (``阳泉市盂县``); other spellings come from the area file's aliases.

Where the list comes from (:func:`areas_for`):

* the settings key ``areas`` (``AIRWARN_AREAS``): a YAML file ``{city: 太原, counties: [...],
  aliases: {太原市区: 太原, ...}}`` whose city must be the settings' city;
* else, for a city with a bundled file (阳泉: ``emergency/data/areas_yangquan.yaml``), that file's
  aliases and the glossary's county list (``airwarn.core.vocab.YANGQUAN_COUNTIES``, which the enterprise-list
  validator uses too: one list for both);
* else the city alone.
"""
from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import yaml

from airwarn.core.errors import InputError, UnknownNameError
from airwarn.core.settings import load_settings
from airwarn.core.vocab import YANGQUAN_COUNTIES

DATA_DIR = Path(__file__).resolve().parent / "data"
#: Bundled area files by city, with the county list each one uses (the glossary's).
BUNDLED: dict[str, tuple[Path, tuple[str, ...]]] = {
    "阳泉": (DATA_DIR / "areas_yangquan.yaml", YANGQUAN_COUNTIES),
}


class UnknownAreaError(UnknownNameError):
    """A name that is not one of the configured areas."""


def normalise(name: object) -> str:
    """NFKC-normalised text with every space (half- or full-width) removed."""
    return "".join(unicodedata.normalize("NFKC", str(name if name is not None else "")).split())


@dataclass(frozen=True)
class AreaList:
    """The configured city, its districts/counties and the aliases of both.

    Attributes
    ----------
    city : str
        Canonical name of the city (the settings' ``city``).
    counties : tuple of str
        Canonical names of its districts and counties.
    aliases : mapping
        Normalised alias → canonical name.
    source : str
        Where the list came from (a file path, or "city only"), for messages.
    """

    city: str
    counties: tuple[str, ...] = ()
    aliases: Mapping[str, str] = field(default_factory=dict)
    source: str = "the settings' city alone (no 'areas' setting)"

    @property
    def names(self) -> tuple[str, ...]:
        """The canonical areas: the city, then its counties."""
        return (self.city, *self.counties)

    def canonical(self, area: object) -> str:
        """The canonical name of ``area``.

        Raises
        ------
        UnknownAreaError
            ``area`` is none of the areas (the message lists them).
        """
        key = normalise(area)
        names = self.names
        if key in names:
            return key
        if key in self.aliases:
            return self.aliases[key]
        for prefix in (f"{self.city}市", self.city):
            if key == prefix:
                return self.city
            if key.startswith(prefix) and key[len(prefix):] in self.counties:
                return key[len(prefix):]
        raise UnknownAreaError(
            f"unknown area {str(area)!r}; valid areas are {', '.join(names)} (aliases: "
            f"{', '.join(sorted(self.aliases)) or 'none'}; list from {self.source})")


def load_areas(path: "str | Path", city: str, counties: tuple[str, ...] | None = None,
               source: str | None = None) -> AreaList:
    """Read an area file (YAML: ``city``, ``counties``, ``aliases``).

    Parameters
    ----------
    path : path-like
        The file.
    city : str
        The settings' city; the file's ``city`` must be the same.
    counties : tuple of str, optional
        The county list to use instead of the file's (bundled files take the glossary's).
    source : str, optional
        How messages name the list (default: the file's path).

    Raises
    ------
    FileNotFoundError, InputError
        Missing file; unreadable YAML, another city, counties missing, or an alias to an unknown area
        (one line naming the file).
    """
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise FileNotFoundError(f"area file {path} not found (settings key 'areas')") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InputError(f"area file {path}: not readable UTF-8 YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(doc, dict):
        raise InputError(f"area file {path}: expected a mapping with city, counties, aliases, got {type(doc).__name__}")
    if normalise(doc.get("city")) != normalise(city):
        raise InputError(f"area file {path}: its city is {doc.get('city')!r}, the settings' city is {city!r}")
    if counties is None:
        listed = doc.get("counties")
        if not isinstance(listed, list) or not all(isinstance(c, str) and normalise(c) for c in listed):
            raise InputError(f"area file {path}: 'counties' must be a list of names, got {listed!r}")
        counties = tuple(normalise(c) for c in listed)
    elif "counties" in doc:
        raise InputError(f"area file {path}: its counties come from airwarn.core.vocab; remove 'counties'")
    result = AreaList(normalise(city), tuple(counties), {}, str(path))
    aliases = doc.get("aliases") or {}
    if not isinstance(aliases, dict):
        raise InputError(f"area file {path}: 'aliases' must be a mapping alias: area, got {aliases!r}")
    table = {}
    for alias, target in aliases.items():
        if normalise(target) not in result.names:
            raise InputError(f"area file {path}: alias {alias!r} points to {target!r}, which is not one of "
                             f"{', '.join(result.names)}")
        table[normalise(alias)] = normalise(target)
    return AreaList(result.city, result.counties, table, source or str(path))


def areas_for(settings) -> AreaList:
    """The areas of ``settings`` (``city`` and ``areas``); see the module notes."""
    path = getattr(settings, "areas", None)
    stamp = Path(path).stat().st_mtime_ns if path is not None and Path(path).exists() else None
    return _areas(settings.city, str(path) if path is not None else None, stamp)


@functools.lru_cache(maxsize=16)
def _areas(city: str, path: str | None, _stamp) -> AreaList:
    if path is not None:
        return load_areas(path, city, source=f"settings 'areas' file {path}")
    bundled = BUNDLED.get(normalise(city))
    if bundled is not None:
        return load_areas(bundled[0], city, bundled[1], source=f"the bundled list of {normalise(city)}")
    return AreaList(normalise(city))


def default_areas() -> AreaList:
    """The areas of the settings read from the file and environment (``airwarn.core.settings.load_settings``)."""
    return areas_for(load_settings())
