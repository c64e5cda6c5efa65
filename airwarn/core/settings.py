"""Runtime settings: one small frozen object read from a file and the environment.

Precedence (highest first): environment variables, the settings file, defaults.
The settings file is TOML, found at ``$AIRWARN_SETTINGS`` or ``./airwarn.toml``;
its keys are the field names of :class:`Settings`.

=====================  ======================  ==========================================
field                  environment             default
=====================  ======================  ==========================================
``data_dir``           ``AIRWARN_DATA_DIR``    ``./var``
``db_url``             ``AIRWARN_DB``          ``sqlite:///<data_dir>/airwarn.sqlite``
``output_dir``         ``AIRWARN_OUTPUT_DIR``  ``<data_dir>/products``
``model_dir``          ``AIRWARN_MODEL``       ``aqistudy-2016`` (bundled, see below)
``city``               ``AIRWARN_CITY``        ``阳泉``
``rules``              ``AIRWARN_RULES``       ``national-2024``
``observations``       ``AIRWARN_OBS``         ``<data_dir>/demo/synthetic_city_daily.csv``
``stations``           ``AIRWARN_STATIONS``    none
``areas``              ``AIRWARN_AREAS``       none (阳泉: bundled; else the city alone)
``power``              ``AIRWARN_POWER``       none
``cems``               ``AIRWARN_CEMS``        none
``met``                ``AIRWARN_MET``         none
=====================  ======================  ==========================================

``observations`` lists the daily observation files the daily chain forecasts from and the dashboard
compares forecasts with: any layout :func:`forecast.io.read_observations` knows, files or folders,
several concatenated in time. They must hold the configured city *and its neighbours* (the model's
regional predictors are distance-weighted means of the other cities). In the settings file it is a
path or a list of paths; in ``AIRWARN_OBS`` paths are separated by ``os.pathsep`` (``:`` on Linux).
The default is the demo's synthetic file. ``stations`` is the CNEMC station list (code, city,
coordinates) that maps the stations of national archive files (``china_sites_YYYYMMDD.csv``) among
the observations to their cities; it is needed only for those files. ``areas`` is a YAML file of the
areas a warning may be issued for (the city, its counties, aliases; ``emergency.areas``).
``power`` and ``cems`` list the power-use (分表计电) and CEMS files the daily chain checks the warning
in force with (``emergency.compliance_io``; no check when ``power`` is empty); in the settings file a
path or a list of paths, in ``AIRWARN_POWER`` / ``AIRWARN_CEMS`` paths separated by commas or
``os.pathsep``.
``met`` lists the weather forecast files (GRIB2 runs, NWP netCDF, a tidy city/station CSV or UCI
``PRSA_Data_*`` files; :func:`forecast.model_cli.load_met`) the daily chain gives a model trained with
weather; a path, a glob (``/data/nwp/*.grib2``) or a list of them, in ``AIRWARN_MET`` separated by commas
or ``os.pathsep``. Without it such a model forecasts without weather (said on stderr); a model trained
without weather ignores it. Only what is known on the issue day is used: runs issued on or before it,
and rows without an ``issued`` column (observations) of days up to it, so a CSV forecast must carry
``issued``.
``secure_cookies`` (``AIRWARN_SECURE_COOKIES``: 1/0, true/false, yes/no, on/off; default false) marks
the dashboard's cookies ``Secure``; it must be true when the dashboard is served over HTTPS.

``model_dir`` is a model folder, or the name of a bundled model: a folder of the repository's
top-level ``models/``, which is installed with the package as the data package ``airwarn_models``
(``setup.cfg``: ``package_dir``), so an installed copy, editable or not, finds its default model
through :mod:`importlib.resources` (:func:`models_dir`). A path that exists wins over a bundled
model of the same name.
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields, replace
from importlib import resources
from pathlib import Path
from typing import Any, Mapping
from airwarn.core.errors import InputError
from airwarn.core.vocab import YANGQUAN_COUNTIES

#: The data package that carries the committed trained models: the repository's top-level
#: ``models/`` folder, installed under this name (``setup.cfg``: ``package_dir``, ``package_data``).
MODELS_PACKAGE = "airwarn_models"
#: The bundled model used when ``model_dir`` is not set.
DEFAULT_MODEL = "aqistudy-2016"


def models_dir() -> Path:
    """The folder of the bundled trained models (one sub-folder per model).

    It is the folder of the data package :data:`MODELS_PACKAGE`, found with
    :func:`importlib.resources.files`: ``site-packages/airwarn_models`` in a regular install, the
    repository's ``models/`` in an editable one. A source tree used without installing it
    (``PYTHONPATH=<repo>``, or an editable install made before the package was declared) has no
    such package; there it is the ``models/`` folder beside the packages.

    Returns
    -------
    Path
        A folder on the file system (LightGBM reads the boosters from real files, so airwarn is
        not run from a zip archive).
    """
    try:
        return Path(str(resources.files(MODELS_PACKAGE)))
    except ModuleNotFoundError:
        return Path(__file__).resolve().parents[2] / "models"


_ENV = {
    "data_dir": "AIRWARN_DATA_DIR",
    "db_url": "AIRWARN_DB",
    "output_dir": "AIRWARN_OUTPUT_DIR",
    "model_dir": "AIRWARN_MODEL",
    "city": "AIRWARN_CITY",
    "rules": "AIRWARN_RULES",
    "observations": "AIRWARN_OBS",
    "stations": "AIRWARN_STATIONS",
    "areas": "AIRWARN_AREAS",
    "power": "AIRWARN_POWER",
    "cems": "AIRWARN_CEMS",
    "met": "AIRWARN_MET",
    "secure_cookies": "AIRWARN_SECURE_COOKIES",
}


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Validated runtime settings.

    Attributes
    ----------
    data_dir : Path
        Folder for the embedded database, demo data and caches.
    db_url : str
        SQLAlchemy URL of the database (SQLite by default, PostgreSQL works).
    output_dir : Path
        Folder for daily products (forecasts, bulletins, notification lists).
    model_dir : Path
        Folder of the trained forecast model (booster files and ``card.json``).
    city : str
        The city the daily chain runs for, by its Chinese name (``阳泉``).
    rules : str
        Name of a bundled warning-rule set or a path to one.
    observations : tuple of Path
        Daily observation files or folders (see the module notes); default the demo's
        ``<data_dir>/demo/synthetic_city_daily.csv``.
    stations : Path or None
        CNEMC station list for national archive files among the observations.
    areas : Path or None
        YAML file of the warning areas (city, counties, aliases); see :mod:`emergency.areas`.
    power : tuple of Path
        Power-use files (CSV/xlsx, ``emergency.compliance_io.read_power``) of the obligated lines; when
        given, the daily chain checks the compliance of the warning in force. Default none.
    cems : tuple of Path
        CEMS outlet files (``emergency.compliance_io.read_cems``) for the same check. Default none.
    met : tuple of Path
        Weather forecast files, folders or globs given to a model trained with weather by the daily
        chain (``emergency.daily``); default none.
    secure_cookies : bool
        Mark the dashboard's cookies ``Secure`` (sent over HTTPS only). Off by default because the
        demo serves plain http on localhost; it must be on when the dashboard is served over HTTPS.
    """

    data_dir: Path
    db_url: str
    output_dir: Path
    model_dir: Path
    city: str
    rules: str
    observations: tuple[Path, ...] = ()
    stations: Path | None = None
    areas: Path | None = None
    power: tuple[Path, ...] = ()
    cems: tuple[Path, ...] = ()
    met: tuple[Path, ...] = ()
    secure_cookies: bool = False

    def __post_init__(self) -> None:
        if not self.city or not isinstance(self.city, str):
            raise InputError(f"settings: city must be a non-empty string, got {self.city!r}")
        if "://" not in self.db_url:
            raise InputError(
                f"settings: db_url must be a SQLAlchemy URL such as "
                f"'sqlite:///var/airwarn.sqlite' or 'postgresql://user@host/db', got {self.db_url!r}"
            )
        if not self.observations:  # the one place the default is made (frozen: set through object)
            object.__setattr__(self, "observations", (self.data_dir / "demo" / "synthetic_city_daily.csv",))

    @property
    def counties(self) -> tuple[str, ...] | None:
        """The configured city's districts and counties where its profile is held here (阳泉's,
        :data:`~airwarn.core.vocab.YANGQUAN_COUNTIES`, high-tech zone included), else None."""
        return YANGQUAN_COUNTIES if self.city.strip().removesuffix("市") == "阳泉" else None

    def ensure_dirs(self) -> "Settings":
        """Create the data and output folders (and the SQLite file's folder)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.output_dir.mkdir(parents=True, exist_ok=True)
        if self.db_url.startswith("sqlite:///"):
            Path(self.db_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        return self

    def with_(self, **changes: Any) -> "Settings":
        """A copy with some fields changed."""
        return replace(self, **changes)


def load_settings(
    path: str | os.PathLike | None = None, env: Mapping[str, str] | None = None
) -> Settings:
    """Read settings from a TOML file and environment overrides.

    Parameters
    ----------
    path : path-like, optional
        Settings file. Defaults to ``$AIRWARN_SETTINGS`` or ``./airwarn.toml`` if it exists.
    env : mapping, optional
        Environment to read overrides from (defaults to ``os.environ``).

    Raises
    ------
    KeyError
        If the file has a key that is not a setting; the message lists the valid keys.
    ValueError
        If a value is invalid.
    """
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    if path is None:
        path = env.get("AIRWARN_SETTINGS") or ("airwarn.toml" if Path("airwarn.toml").exists() else None)
    if path is not None:
        with open(path, "rb") as fh:
            try:
                values = tomllib.load(fh)
            except tomllib.TOMLDecodeError as exc:
                raise InputError(f"settings file {path}: not valid TOML: {exc}") from exc
        unknown = set(values) - {f.name for f in fields(Settings)}
        if unknown:
            raise InputError(
                f"settings file {path}: unknown key(s) {sorted(unknown)}; "
                f"valid keys are {[f.name for f in fields(Settings)]}"
            )
    for name, var in _ENV.items():
        if env.get(var):
            values[name] = env[var]
    data_dir = Path(values.get("data_dir", "var"))
    model = values.get("model_dir", DEFAULT_MODEL)
    model_dir = Path(model)
    if not model_dir.exists() and (models_dir() / model).is_dir():
        model_dir = models_dir() / model
    return Settings(
        data_dir=data_dir,
        db_url=str(values.get("db_url", f"sqlite:///{data_dir / 'airwarn.sqlite'}")),
        output_dir=Path(values.get("output_dir", data_dir / "products")),
        model_dir=model_dir,
        city=str(values.get("city", "阳泉")),
        rules=str(values.get("rules", "national-2024")),
        observations=_paths(values.get("observations")),
        stations=Path(values["stations"]) if values.get("stations") else None,
        areas=Path(values["areas"]) if values.get("areas") else None,
        power=_paths(values.get("power"), "power", commas=True),
        cems=_paths(values.get("cems"), "cems", commas=True),
        met=_paths(values.get("met"), "met", commas=True),
        secure_cookies=_flag("secure_cookies", values.get("secure_cookies", False)),
    )


def _flag(name: str, value: Any) -> bool:
    """A boolean setting: TOML true/false, or 1/0, true/false, yes/no, on/off from the environment."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise InputError(f"settings: {name} must be true or false (1/0, yes/no, on/off), got {value!r}")


def _paths(value: Any, name: str = "observations", commas: bool = False) -> tuple[Path, ...]:
    """A path, a list of paths or an ``os.pathsep``-separated string (also comma-separated with
    ``commas``) → a tuple of paths (empty: the default of :class:`Settings`)."""
    if value is None or value == "" or value == []:
        return ()
    if isinstance(value, str):
        parts = value.replace(",", os.pathsep).split(os.pathsep) if commas else value.split(os.pathsep)
        value = [v.strip() for v in parts if v.strip()]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, (str, os.PathLike)) for v in value):
        raise InputError(f"settings: {name} must be a path or a list of paths, got {value!r}")
    return tuple(Path(v) for v in value)
