"""Packaging: a wheel built without setuptools warnings, installed non-editable, runs the demo.

The slow test (marker ``install``, about half a minute) builds a wheel of a clean copy of the
package sources with the test environment's setuptools (``pip wheel --no-build-isolation``: no
download), installs it into a temporary virtual environment that sees the test environment's
third-party packages but not the editable install of this checkout (its ``.pth`` finder is not
read there), checks the wheel's contents and runs ``airwarn demo --no-serve`` from that install,
every output and the database in the temporary folder: so the installed default model and data
files are found where the package looks for them.

The fast tests check ``setup.cfg`` against the tree: every package folder (data folders too) is
listed, every data file is matched by ``[options.package_data]``, and the settings find the bundled
models through the ``airwarn_models`` package.
"""
from __future__ import annotations

import configparser
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from airwarn.core import products
from airwarn.core.settings import DEFAULT_MODEL, MODELS_PACKAGE, load_settings, models_dir

REPO = Path(__file__).resolve().parent.parent
#: The demo's issue date (a heating-season day, as in tests/test_postgresql.py).
DATE = dt.date(2026, 1, 10)
#: The products the demo's daily chain writes into ``<output_dir>/<date>/``.
DEMO_PRODUCTS = (products.FORECAST_NC, products.FORECAST_CSV, products.RECOMMENDATION_JSON,
                 products.REDUCTIONS_JSON, products.BULLETIN_HTML, products.BULLETIN_TXT,
                 products.NOTIFICATIONS_XLSX, products.NOTIFICATIONS_CSV)
#: Files at the top of the repository that a build reads.
BUILD_FILES = ("setup.cfg", "pyproject.toml", "README.md", "MANIFEST.in")


# ------------------------------------------------------------------------------ setup.cfg

def _options() -> configparser.ConfigParser:
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.optionxform = str  # package names as written
    cfg.read(REPO / "setup.cfg", encoding="utf-8")
    return cfg


def _lines(value: str) -> list[str]:
    return [v.strip() for v in value.splitlines() if v.strip() and not v.strip().startswith("#")]


def _packages() -> dict[str, Path]:
    """The packages of ``setup.cfg`` → their folders in the checkout (``package_dir`` applied)."""
    cfg = _options()
    mapping = dict(line.replace(" ", "").split("=", 1) for line in _lines(cfg["options"]["package_dir"]))
    out = {}
    for name in _lines(cfg["options"]["packages"]):
        top, _, rest = name.partition(".")
        folder = REPO / mapping.get(top, top)
        out[name] = folder.joinpath(*rest.split(".")) if rest else folder
    return out


def _package_data() -> dict[str, list[str]]:
    section = _options()["options.package_data"]
    return {name: [p.strip() for p in value.split(",") if p.strip()] for name, value in section.items()}


def _source_files(folder: Path):
    """Files under ``folder`` but bytecode, caches and hidden files."""
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        hidden = "__pycache__" in rel.parts or any(p.startswith(".") for p in rel.parts)
        if path.is_file() and not hidden and path.suffix != ".pyc":
            yield path


def test_setup_cfg_lists_every_package_folder():
    """Every folder Python can import under the packages (code or data) is listed, and only those."""
    listed = _packages()
    for name, folder in listed.items():
        assert folder.is_dir(), f"setup.cfg [options] packages: {name} has no folder {folder}"
    tops = {name.split(".")[0]: folder for name, folder in listed.items() if "." not in name}
    for top, folder in tops.items():
        for sub in sorted(p for p in folder.rglob("*") if p.is_dir()):
            rel = sub.relative_to(folder)
            if not all(part.isidentifier() for part in rel.parts) or not any(_source_files(sub)):
                continue  # not importable (a model folder such as aqistudy-2016), or empty
            name = ".".join((top, *rel.parts))
            assert name in listed, (f"setup.cfg [options] packages: the folder {sub.relative_to(REPO)} is "
                                    f"not listed; add {name} (setuptools ignores it and warns)")


def test_package_data_covers_every_data_file():
    """Every file of a package folder that is not Python source is installed (matched by a pattern)."""
    listed, data = _packages(), _package_data()
    matched = set()
    for name, folder in listed.items():
        for pattern in data.get(name, []) + data.get("*", []):
            matched.update(p for p in folder.glob(pattern) if p.is_file())
    for name, folder in listed.items():
        if "." in name:
            continue
        for path in _source_files(folder):
            if path.suffix != ".py":
                assert path in matched, (f"setup.cfg [options.package_data]: {path.relative_to(REPO)} is not "
                                         f"installed; add a pattern for it")


def test_default_model_found_through_the_models_package():
    """``models_dir()`` is the folder of the ``airwarn_models`` package (the repo's ``models/``)."""
    assert MODELS_PACKAGE in _packages() and _packages()[MODELS_PACKAGE] == REPO / "models"
    assert (models_dir() / DEFAULT_MODEL / "card.json").is_file()
    assert models_dir().resolve() == (REPO / "models").resolve()
    assert load_settings(env={}).model_dir == models_dir() / DEFAULT_MODEL


def test_models_dir_without_the_package_is_the_source_tree(monkeypatch):
    """A source tree run without installing it (no ``airwarn_models``) falls back to ``<repo>/models``."""
    from airwarn.core import settings as settings_module

    monkeypatch.setattr(settings_module, "MODELS_PACKAGE", "airwarn_models_not_installed")
    assert settings_module.models_dir() == REPO / "models"


# ------------------------------------------------------------------------------ the install

def _run(cmd, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=600, **kw)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """Build the wheel from a clean copy of the sources and install it into a temporary venv.

    Returns a dict: ``root`` (the temporary folder), ``wheel``, ``build_log`` (pip's and
    setuptools' output), ``python`` and ``airwarn`` (the venv's interpreter and console script).
    """
    root = tmp_path_factory.mktemp("install")
    src = root / "src"
    src.mkdir()
    for name in BUILD_FILES:
        if (REPO / name).exists():
            shutil.copy2(REPO / name, src / name)
    # A copy, not the checkout: an in-tree build keeps build/lib, whose stale files (modules since
    # removed) would go into the next wheel. The package folders only: no tests, var/ or .venv.
    for folder in sorted({f.relative_to(REPO).parts[0] for f in _packages().values()}):
        shutil.copytree(REPO / folder, src / folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # else build_py warns
    build = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-v",
                  "-w", root / "dist", src], cwd=root, env=env)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    wheel = next((root / "dist").glob("airwarn-*.whl"))

    venv = root / "venv"
    made = _run([sys.executable, "-m", "venv", "--without-pip", venv])
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    where = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
    purelib = Path(where.stdout.strip())
    # The test environment's third-party packages (numpy, lightgbm, dash ...) by a plain path line:
    # site reads no .pth file of a folder added this way, so the checkout's editable finder stays out.
    deps = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    (purelib / "_airwarn_test_deps.pth").write_text("\n".join(deps) + "\n", encoding="utf-8")
    install = _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-compile",
                    wheel], cwd=root)
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    return {"root": root, "wheel": wheel, "build_log": build.stdout + build.stderr, "python": python,
            "airwarn": venv / "bin" / "airwarn", "purelib": purelib}


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment without the project's settings and import paths, plus ``extra``."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AIRWARN_") and k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}
    env.update(extra)
    return env


@pytest.mark.slow
@pytest.mark.install
def test_wheel_builds_without_setuptools_warnings(installed):
    """No warning or deprecation from pip or setuptools (the data folders are declared packages)."""
    noisy = []
    for line in installed["build_log"].splitlines():
        text = line.strip()
        if re.match(r"(copying|adding|creating|removing) ", text):
            continue  # file operations: names such as warning_rules_*.yaml
        if re.search(r"warn|deprecat|would be ignored|absent from the .packages.",
                     text.replace("airwarn", ""), re.IGNORECASE):
            noisy.append(text)
    assert noisy == [], "setuptools/pip warned while building the wheel:\n" + "\n".join(noisy)


@pytest.mark.slow
@pytest.mark.install
def test_wheel_holds_every_module_data_file_and_the_default_model(installed):
    with zipfile.ZipFile(installed["wheel"]) as zf:
        names = set(zf.namelist())
        card = json.loads(zf.read(f"{MODELS_PACKAGE}/{DEFAULT_MODEL}/card.json"))
    model = f"{MODELS_PACKAGE}/{DEFAULT_MODEL}"
    for file in [*card["files"], card["climatology"]["file"], "card.json", "README.md"]:
        assert f"{model}/{file}" in names, f"the wheel lacks the default model's {file}"
    expected = set()
    for name, folder in _packages().items():
        if "." in name:
            continue
        for path in _source_files(folder):
            expected.add("/".join((name, *path.relative_to(folder).parts)))
    missing = sorted(expected - names)
    assert missing == [], f"the wheel lacks {len(missing)} file(s) of the source tree: {missing[:20]}"
    for must in ("emergency/data/warning_rules_national-2024_2024-01-31.yaml", "forecast/data/aqi_levels.csv",
                 "airwarn/core/migrations/script.py.mako", "dashboard/assets/vendor/plotly-basic.min.js"):
        assert must in names


@pytest.mark.slow
@pytest.mark.install
def test_installed_copy_is_the_one_imported(installed):
    """The venv imports airwarn from the install, not from this checkout, and finds the model there."""
    code = ("import airwarn, airwarn_models, forecast.io, dashboard.services\n"
            "from airwarn.core.settings import load_settings\n"
            "print(airwarn.__file__); print(airwarn_models.__file__); print(forecast.io.__file__)\n"
            "print(dashboard.services.__file__); print(load_settings(env={}).model_dir)\n")
    done = _run([installed["python"], "-c", code], cwd=installed["root"], env=_clean_env())
    assert done.returncode == 0, done.stderr
    paths = [Path(p) for p in done.stdout.split("\n") if p]
    assert len(paths) == 5
    for path in paths:
        assert path.is_relative_to(installed["purelib"]), f"{path} is not under {installed['purelib']}"
    assert paths[-1] == installed["purelib"] / MODELS_PACKAGE / DEFAULT_MODEL


@pytest.mark.slow
@pytest.mark.install
def test_installed_demo_runs_on_the_bundled_model(installed):
    """``airwarn demo --no-serve`` from the install: every path in the temporary folder, default model."""
    run = installed["root"] / "run"
    run.mkdir()
    env = _clean_env(AIRWARN_DATA_DIR=str(run / "var"), AIRWARN_OUTPUT_DIR=str(run / "products"),
                     AIRWARN_DB=f"sqlite:///{run / 'airwarn.sqlite'}")
    done = _run([installed["airwarn"], "demo", "--no-serve", "--date", DATE.isoformat()], cwd=run, env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for name in DEMO_PRODUCTS:
        path = products.product_path(run / "products", DATE, name)
        assert path.is_file() and path.stat().st_size > 0, f"the demo did not write {path}"
    assert (run / "airwarn.sqlite").is_file()
    import xarray as xr

    with xr.open_dataset(products.product_path(run / "products", DATE, products.FORECAST_NC)) as ds:
        # the bundled default model plus the demo city's weather add-on made the forecast, with the GRIB2 run
        assert ds.attrs["model"] == "model-weather" and ds.attrs["weather_used"] == "yes"
        assert "synthetic_nwp_" in ds.attrs["weather_sources"]
    import json

    card = json.loads((run / "var" / "demo" / "model-weather" / "card.json").read_text(encoding="utf-8"))
    assert card["weather"]["scores_of"] == DEFAULT_MODEL
