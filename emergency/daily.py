"""The daily chain for the configured city: forecast → recommendation → measures → reductions →
bulletin → notification list, written to ``<settings.output_dir>/<YYYY-MM-DD>/``.

Products (each written atomically: a temp file in the same folder, then ``os.replace``):
``forecast.nc`` + ``forecast.csv`` (only when the chain had to run the model), ``recommendation.json``,
``reductions.json``, ``bulletin.html``, ``bulletin.txt``, ``notifications.xlsx``, ``notifications.csv``.
When the ``power`` setting is given and a warning is in force for the city on the day, the compliance
check of that warning and day writes ``compliance.csv``, ``compliance_reductions.csv`` and
``compliance_report.html`` last (:func:`run_compliance`); its failure does not lose the other products
(it is kept in :attr:`DailyResult.compliance_error`, and ``airwarn daily`` exits non-zero).

After each lifecycle step the products are republished (:func:`republish`): issue, upgrade and
downgrade rewrite them for the decided level (:func:`publish_issued`); a lift replaces the bulletin
with the lift notice (解除通知, also ``lift_notice.html/txt``) and marks the notification list 解除
(:func:`publish_lifted`).
"""
from __future__ import annotations

import datetime as dt
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from airwarn.core.dates import today_beijing
from airwarn.core.db import create_tables, get_engine, session_scope
from airwarn.core.files import atomic_write_text
from airwarn.core.products import (
    BULLETIN_HTML,
    BULLETIN_TXT,
    FORECAST_NC,
    NOTIFICATIONS_CSV,
    NOTIFICATIONS_XLSX,
    RECOMMENDATION_JSON,
    REDUCTIONS_JSON,
    day_dir,
    product_days,
    product_path,
)
from airwarn.core.settings import Settings
from airwarn.core.vocab import WarningLevel
from emergency.decision import WINDOW
from emergency.engine import Recommendation, assess
from emergency.reductions import Reductions, compute_reductions
from enterprise_list.models import list_in_force, resolve_version
from airwarn.core.errors import InputError, ReaderError, UnknownNameError

#: Product files of a day, in the order they are written.
PRODUCTS: tuple[str, ...] = (RECOMMENDATION_JSON, REDUCTIONS_JSON, BULLETIN_HTML, BULLETIN_TXT,
                             NOTIFICATIONS_XLSX, NOTIFICATIONS_CSV)
#: The lift notice (解除通知) a lift writes beside the bulletin it replaces.
LIFT_NOTICE_HTML = "lift_notice.html"
LIFT_NOTICE_TXT = "lift_notice.txt"


@dataclass(frozen=True)
class DailyResult:
    """What :func:`run_daily` did.

    Attributes
    ----------
    date : datetime.date
    city : str
    folder : Path
        ``<output_dir>/<YYYY-MM-DD>``.
    forecast_path : Path
    forecast_made : bool
        True if the chain ran the model (no forecast.nc was there).
    recommendation : Recommendation
    reductions : Reductions or None
        At the recommended level (None without a warning or without a list).
    files : tuple of Path
    seconds : float
    compliance : emergency.compliance_run.ComplianceRun or None
        The compliance check of the warning in force (None when not run: no ``power`` setting, no
        warning in force, or it failed).
    compliance_error : str or None
        Why the compliance check failed (the other products are written).
    """

    date: dt.date
    city: str
    folder: Path
    forecast_path: Path
    forecast_made: bool
    recommendation: Recommendation
    reductions: Reductions | None
    files: tuple[Path, ...]
    seconds: float
    compliance: "object | None" = None
    compliance_error: str | None = None

    def summary(self) -> str:
        """One line for the CLI and the demo."""
        r = self.recommendation
        red = self.reductions
        met = "" if red is None or red.all_met is None else (
            f", targets met {sum(bool(t.met) for t in red.targets)}/{len(red.targets)}")
        ents = "" if red is None else f", {len(red.enterprises)} enterprises"
        period = f" {r.start}..{r.end}" if r.start else ""
        stale = (f"; WARNING observations end {r.observations_through}" if r.data_warnings else "")
        comp = ""
        if self.compliance is not None:
            c = self.compliance.counts()
            comp = (f"; compliance of warning {self.compliance.result.warning_id}: compliant {c['compliant']}, "
                    f"violation {c['violation']}, unverifiable {c['unverifiable']}")
        if self.compliance_error is not None:
            comp = f"; compliance check FAILED: {self.compliance_error}"
        return f"{self.city} {self.date}: {r.level.key}{period}{ents}{met}{stale}{comp} -> {self.folder}"


def _make_forecast(settings: Settings, date: dt.date, nc: Path) -> None:
    """Run the model on the configured observations (setting ``observations``) issued on ``date``."""
    import warnings

    from forecast.inputs import MAX_OBSERVATION_GAP_DAYS, last_observed, too_old
    from forecast.io import ReaderWarning, qc_notes, read_observations
    from forecast.model import load_model
    from forecast.product import write_forecast

    try:
        # the reader's data-quality warnings (values set aside: file, row, column, value) one line each on
        # stderr, as forecast.model_cli.read_obs prints them; qc_notes gives them again for the product
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ReaderWarning)
            obs = read_observations(settings.observations, stations=settings.stations)
        for w in caught:
            if issubclass(w.category, ReaderWarning):
                print(f"warning: {w.message}", file=sys.stderr, flush=True)
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    except (InputError, ReaderError) as exc:  # a malformed file; archive files without a station list
        hint = (": set 'stations' (AIRWARN_STATIONS)"
                if settings.stations is None and not isinstance(exc, ReaderError) else "")
        raise InputError(f"settings 'observations' (AIRWARN_OBS): {exc}{hint}") from None
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"no forecast {nc} to use, and settings 'observations' (AIRWARN_OBS): {exc}; "
                                f"run 'airwarn demo', point the "
                                f"'observations' setting at the daily observation files, or put a forecast.nc "
                                f"there") from None
    model = load_model(settings.model_dir)
    last = pd.Timestamp(last_observed(obs, [settings.city], [pd.Timestamp(date)], model.variables_).item())
    files = ", ".join(map(str, settings.observations))
    if pd.isna(last):
        raise InputError(f"observations ({files}) hold no day of {settings.city} on or before {date}: "
                         f"cannot issue its forecast")
    if too_old(last, pd.Timestamp(date)):
        raise InputError(f"observations ({files}) of {settings.city} end {last.date()}, more than "
                         f"{MAX_OBSERVATION_GAP_DAYS} days before {date}: a forecast from them would not reach "
                         f"the coming days; bring the observations up to date")
    # issued from the last observed day (on or before the product day): a day without observations
    # would leave the predictors empty
    ds = model.predict(obs[obs["date"] <= last], issued=last, cities=[settings.city],
                       met=weather_known_on(forecast_weather(settings, model), last))
    quality = qc_notes(obs, [settings.city])
    ds.attrs["data_quality"] = "\n".join(quality) if quality else "none"
    write_forecast(ds, nc)


def forecast_weather(settings: Settings, model) -> "pd.DataFrame | None":
    """The weather forecast of the ``met`` setting for ``model``, as the daily chain gives it to
    :meth:`forecast.model.ForecastModel.predict` (:func:`forecast.model_cli.load_met`, checked against the
    model's weather variables); None when the model was trained without weather (a ``met`` setting is then
    ignored, said on stderr) or no ``met`` is set (the model forecasts without weather, said on stderr).

    Raises
    ------
    InputError
        A weather file that cannot be read or lacks a variable the model was trained with (the message
        names the setting and the file).
    FileNotFoundError
        A file, folder or glob of the setting that does not exist or matches nothing.
    """
    from airwarn.core.errors import AirwarnError
    from forecast.model_cli import load_met

    if not model.with_met_:
        if settings.met:
            print(f"warning: model {model.name} was trained without weather: settings 'met' (AIRWARN_MET) "
                  f"{', '.join(map(str, settings.met))} ignored", file=sys.stderr, flush=True)
        return None
    if not settings.met:
        print(f"warning: model {model.name} was trained with weather ({', '.join(model.met_variables_)}) and "
              f"settings 'met' (AIRWARN_MET) is not set: {settings.city} is forecast without weather",
              file=sys.stderr, flush=True)
        return None
    from forecast.io import expand_pattern

    try:
        # each entry a file, a folder or a glob (run/*.grib2), in the order given
        paths = [Path(f) for p in settings.met for f in expand_pattern(p, "weather")]
        return model.check_met(load_met(paths, [settings.city], model.coords_))
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"settings 'met' (AIRWARN_MET): {_without_flag(exc)}") from None
    except (AirwarnError, OSError, ValueError, KeyError) as exc:
        raise InputError(f"settings 'met' (AIRWARN_MET): {_without_flag(exc)}") from None


def weather_known_on(met: "pd.DataFrame | None", issued) -> "pd.DataFrame | None":
    """The weather a forecast issued on ``issued`` may use: forecast runs issued on or before it, and
    observed rows (no ``issued``) of days up to it; an observed row of a later day would be a perfect
    forecast of the weather (a station CSV brought up to date, ``airwarn daily --date`` of a past day)."""
    if met is None:
        return None
    day = pd.Timestamp(issued).normalize()
    keep = pd.to_datetime(met["date"]) <= day
    if "issued" in met.columns:
        run = met["issued"].notna()
        keep = (~run & keep) | (run & (pd.to_datetime(met["issued"]) <= day))
    out = met[keep.to_numpy()]
    out.attrs = dict(met.attrs)
    return out


def _without_flag(exc: BaseException) -> str:
    """A reader's message without the ``--met`` of the command line it was written for."""
    text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    return text.removeprefix("--met: ").removeprefix("--met ")


def warning_in_force(settings: Settings, engine, date: dt.date) -> WarningLevel:
    """The level in force for the probability decision's hysteresis: the city's active warning, else the
    previous day's recommended level (its ``recommendation.json``), else none."""
    from emergency.areas import areas_for
    from emergency.lifecycle import active_warning

    w = active_warning(engine, settings.city, areas=areas_for(settings))
    # in force from the days it could have been decided on (its period starts within the decision window
    # D+1 … D+3 of the decision), not on days long before it (a backfill of past products)
    if w is not None and (w.start is None or w.start <= date + dt.timedelta(days=WINDOW[1])):
        return w.level
    previous = product_path(settings.output_dir, date - dt.timedelta(days=1), RECOMMENDATION_JSON)
    try:
        return WarningLevel.parse(json.loads(previous.read_text(encoding="utf-8"))["level"])
    except (OSError, ValueError, KeyError, TypeError):
        return WarningLevel.NONE


def warning_published_on(settings: Settings, engine, date: dt.date):
    """The city's active warning whose bulletin is the day's: decided for the coming days (its start within
    the decision window, as :func:`warning_in_force`) and not yet ended on ``date``; else None."""
    from emergency.areas import areas_for
    from emergency.lifecycle import active_warning

    w = active_warning(engine, settings.city, areas=areas_for(settings))
    if w is None or (w.start is not None and w.start > date + dt.timedelta(days=WINDOW[1])):
        return None
    if w.end is not None and date > w.end:
        return None
    return w


def warning_on_day(settings: Settings, engine, date: dt.date):
    """The city's active warning when ``date`` lies in its period (from its start day to its end day,
    open-ended without one), else None."""
    from emergency.areas import areas_for
    from emergency.lifecycle import active_warning

    w = active_warning(engine, settings.city, areas=areas_for(settings))
    if w is None or w.start is None or date < w.start or (w.end is not None and date > w.end):
        return None
    return w


def run_compliance(settings: Settings, engine, date: dt.date, warning_id: int):
    """The compliance check of a warning on ``date`` from the ``power`` / ``cems`` settings' files, written
    into the day's product folder (:func:`emergency.compliance_run.write_compliance`).

    Raises
    ------
    InputError
        A file of the settings that cannot be read (missing, malformed): the message names the setting.
    """
    from airwarn.core.errors import AirwarnError
    from emergency.compliance_io import read_cems, read_power
    from emergency.compliance_run import write_compliance

    frames = {}
    for name, var, reader, paths in (("power", "AIRWARN_POWER", read_power, settings.power),
                                     ("cems", "AIRWARN_CEMS", read_cems, settings.cems)):
        if not paths:
            frames[name] = None
            continue
        try:
            frames[name] = reader(paths)
        except (AirwarnError, OSError) as exc:
            raise InputError(f"settings {name!r} ({var}): {exc}") from exc
    return write_compliance(engine, warning_id, frames["power"], frames["cems"], date,
                            day_dir(settings.output_dir, date), settings_rules=settings.rules)


def run_daily(settings: Settings, date: "dt.date | str | None" = None, *, rules=None,
              regional_minimum: "WarningLevel | str | None" = None,
              list_version: "int | str | None" = None) -> DailyResult:
    """Run the whole daily chain for ``settings.city`` and write the products.

    Parameters
    ----------
    settings : Settings
    date : date, optional
        Issue date (default: today, Beijing time).
    rules : RuleSet or name, optional
        Default ``settings.rules``.
    regional_minimum : WarningLevel or str, optional
        A provincial regional warning in force.
    list_version : int or str, optional
        List version (default: the one in force on ``date``).

    Returns
    -------
    DailyResult
        With the compliance check of the city's warning in force on ``date`` when the ``power``
        setting is given (:func:`run_compliance`, run after every other product is written; an
        :class:`~airwarn.core.errors.AirwarnError` or ``OSError`` of it is kept in
        ``compliance_error`` and printed on stderr, not raised).
    """
    from emergency import models
    from enterprise_list import models as list_models
    from emergency.bulletin import bulletin_html, bulletin_text
    from emergency.notify import COLUMNS, notification_frame, write_notifications

    t0 = time.perf_counter()
    date = dt.date.fromisoformat(str(date)) if date is not None else today_beijing()
    settings.ensure_dirs()
    folder = day_dir(settings.output_dir, date)
    folder.mkdir(parents=True, exist_ok=True)
    nc = folder / FORECAST_NC
    made = False
    if not nc.exists():
        _make_forecast(settings, date, nc)
        made = True
    engine = get_engine(settings.db_url)
    create_tables(engine, models, list_models)
    rec = assess(nc, rules or settings.rules, city=settings.city, regional_minimum=regional_minimum, as_of=date,
                 calibration=settings.model_dir, in_force=warning_in_force(settings, engine, date))
    red = standby = None
    with session_scope(engine) as s:
        if list_version is not None:
            version = resolve_version(s, list_version)
        else:
            try:
                version = list_in_force(s, date)
            except UnknownNameError:
                version = None
        if version is not None:
            lvl = rec.level if rec.level != WarningLevel.NONE else WarningLevel.YELLOW
            r = compute_reductions(s, lvl, version=version.id, rules=rules or settings.rules)
            if rec.level != WarningLevel.NONE:
                red = r
            else:
                standby = r
        notes = notification_frame(s, red) if red is not None else pd.DataFrame(columns=list(COLUMNS))
    files = [folder / RECOMMENDATION_JSON]
    atomic_write_text(folder / RECOMMENDATION_JSON, rec.to_json(indent=2) + "\n")
    issued = warning_published_on(settings, engine, date) if version is not None else None
    if issued is not None:
        # the day's bulletin, reductions and notification list are those of the warning the command issued,
        # never the recommendation's draft (建议稿): it is not written, not even for a moment
        files += publish_issued(settings, issued, date, rules=rules)
    else:
        if red is not None:
            red_doc = {"active": True, **red.to_dict()}
        else:
            red_doc = {"active": False, "level": "none",
                       "note": ("无预警,以下为黄色预警预案的减排核算(备用)" if standby is not None
                                else "无预警;当日没有生效的应急减排清单"),
                       "standby": standby.to_dict() if standby is not None else None}
        atomic_write_text(folder / REDUCTIONS_JSON, json.dumps(red_doc, ensure_ascii=False, indent=2) + "\n")
        atomic_write_text(folder / BULLETIN_HTML, bulletin_html(rec, red))
        atomic_write_text(folder / BULLETIN_TXT, bulletin_text(rec, red))
        files += [folder / p for p in PRODUCTS[1:4]]
        files += write_notifications(notes, folder / NOTIFICATIONS_XLSX, folder / NOTIFICATIONS_CSV,
                                     title=f"{rec.city} {rec.level.label} 应急减排告知清单")
    from emergency.public_forecast import write_public_forecast  # the 20:00 public forecast (HJ 633-2026 §5.2.3)

    files += write_public_forecast(folder, settings.city, date, nc)
    compliance = error = None
    if settings.power:  # last, so that its failure loses none of the products above
        from airwarn.core.errors import AirwarnError

        w = warning_on_day(settings, engine, date)
        if w is not None:
            try:
                compliance = run_compliance(settings, engine, date, w.id)
                files += list(compliance.files)
            except (AirwarnError, OSError) as exc:
                error = f"warning {w.id}: {exc}"
                print(f"error: compliance check: {error}", file=sys.stderr, flush=True)
    return DailyResult(date, settings.city, folder, nc, made, rec, red, tuple(files), time.perf_counter() - t0,
                       compliance, error)


def latest_product_day(settings: Settings) -> dt.date | None:
    """The newest day under ``settings.output_dir`` that has a forecast (``<YYYY-MM-DD>/forecast.nc``)."""
    days = product_days(settings.output_dir, FORECAST_NC)
    return days[-1] if days else None


def republish(settings: Settings, warning, date: "dt.date | str | None" = None, *, rules=None) -> list[Path]:
    """Republish a day's products after a lifecycle step: :func:`publish_issued` for an issued warning,
    :func:`publish_lifted` for a lifted one (default day: the newest with products,
    :func:`latest_product_day`; nothing without one)."""
    date = dt.date.fromisoformat(str(date)) if date is not None else latest_product_day(settings)
    if date is None:
        return []
    if warning.status == "lifted":
        return publish_lifted(settings, warning, date)
    return publish_issued(settings, warning, date, rules=rules)


def publish_lifted(settings: Settings, warning, date: "dt.date | str | None" = None) -> list[Path]:
    """After a lift: the bulletin becomes the lift notice (解除通知), and the notification list tells the
    enterprises of the lifted level that the measures end (状态 解除).

    Writes, atomically, in ``<output_dir>/<date>/``: ``lift_notice.html`` and ``lift_notice.txt``, the
    same as ``bulletin.html`` / ``bulletin.txt`` (what the pages offer for download),
    ``notifications.xlsx`` / ``.csv`` (:func:`emergency.notify.lifted_frame`) and ``reductions.json``
    (no measures in force).

    Parameters
    ----------
    warning : emergency.lifecycle.WarningState
        The lifted warning.
    date : date, optional
        Day of the products (default: today, Beijing time).
    """
    from emergency.bulletin import lift_notice_html, lift_notice_text
    from emergency.notices import current
    from emergency.notify import COLUMNS, lifted_frame, notification_frame, write_notifications

    date = dt.date.fromisoformat(str(date)) if date is not None else today_beijing()
    folder = day_dir(settings.output_dir, date)
    folder.mkdir(parents=True, exist_ok=True)
    engine = get_engine(settings.db_url)
    province = current(engine, warning.area)
    province = province if province is not None and province.kind == "lift" else None
    with session_scope(engine) as s:
        try:
            version = list_in_force(s, date)
        except UnknownNameError:
            version = None
        if version is not None:
            red = compute_reductions(s, warning.level, version=version.id, rules=settings.rules)
            notes = notification_frame(s, red)
        else:
            notes = pd.DataFrame(columns=list(COLUMNS))
    city = settings.city
    html_doc = lift_notice_html(city, warning, province=province)
    text_doc = lift_notice_text(city, warning, province=province)
    files = []
    for name, doc in ((LIFT_NOTICE_HTML, html_doc), (LIFT_NOTICE_TXT, text_doc),
                      (BULLETIN_HTML, html_doc), (BULLETIN_TXT, text_doc)):
        atomic_write_text(folder / name, doc)
        files.append(folder / name)
    red_doc = {"active": False, "level": "none", "lifted_warning": warning.id,
               "note": f"预警 #{warning.id}（{warning.level.label}）已解除，应急减排措施停止执行"}
    atomic_write_text(folder / REDUCTIONS_JSON, json.dumps(red_doc, ensure_ascii=False, indent=2) + "\n")
    files.append(folder / REDUCTIONS_JSON)
    return files + write_notifications(lifted_frame(notes, warning), folder / NOTIFICATIONS_XLSX,
                                       folder / NOTIFICATIONS_CSV,
                                       title=f"{city} {warning.level.label} 解除通知清单")


def publish_issued(settings: Settings, warning, date: "dt.date | str | None" = None, *, rules=None) -> list[Path]:
    """Rewrite a day's bulletin, reductions and notification list for the warning the command issued.

    :func:`run_daily` writes the products for the *recommended* level as a draft (建议稿). Once a
    commander issues, upgrades or downgrades a warning (:mod:`emergency.lifecycle`), the bulletin must
    state the decided level, period and signer, and the enterprises must be told the measures of
    that level; this rewrites those products (atomically) in ``<output_dir>/<date>/``.

    Parameters
    ----------
    settings : Settings
    warning : emergency.lifecycle.WarningState
        The issued warning (its level, start, end, issued_by, issued_at, id).
    date : date, optional
        Day of the products (default: today, Beijing time). Its ``forecast.nc`` must exist.

    Raises
    ------
    FileNotFoundError
        If the day has no forecast (run :func:`run_daily` first).
    UnknownNameError
        If no list version is in force on that day (:func:`enterprise_list.models.list_in_force`).
    """
    from emergency.bulletin import bulletin_html, bulletin_text
    from emergency.notify import notification_frame, write_notifications

    date = dt.date.fromisoformat(str(date)) if date is not None else today_beijing()
    folder = day_dir(settings.output_dir, date)
    nc = folder / FORECAST_NC
    if not nc.exists():
        raise FileNotFoundError(f"no forecast for {date} at {nc}; run 'airwarn daily --date {date}' first")
    rec = assess(nc, rules or settings.rules, city=settings.city, as_of=date, calibration=settings.model_dir,
                 in_force=warning.level)
    with session_scope(get_engine(settings.db_url)) as s:
        version = list_in_force(s, date)
        red = compute_reductions(s, warning.level, version=version.id, rules=rules or settings.rules)
        notes = notification_frame(s, red)
    doc = {"active": True, "issued_warning": warning.id, **red.to_dict()}
    atomic_write_text(folder / REDUCTIONS_JSON, json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
    # the commander's edit before sign-off, if any, is what is published (emergency.bulletin.edit_bulletin)
    from emergency.bulletin import apply_edit

    html_doc, text_doc = apply_edit(get_engine(settings.db_url), warning, bulletin_html(rec, red, issued=warning),
                                    bulletin_text(rec, red, issued=warning))
    atomic_write_text(folder / BULLETIN_HTML, html_doc)
    atomic_write_text(folder / BULLETIN_TXT, text_doc)
    files = [folder / REDUCTIONS_JSON, folder / BULLETIN_HTML, folder / BULLETIN_TXT]
    return files + write_notifications(notes, folder / NOTIFICATIONS_XLSX, folder / NOTIFICATIONS_CSV,
                                       title=f"{rec.city} {warning.level.label} 应急减排告知清单")
