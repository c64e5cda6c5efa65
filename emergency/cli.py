"""Subcommands of ``airwarn`` contributed by the ``emergency`` package.

``airwarn warn``, ``airwarn reductions``, ``airwarn daily``, ``airwarn inventory import``,
``airwarn warning draft|issue|upgrade|downgrade|lift|cancel|show|log|verify`` and ``airwarn replay``.
The package's modules are imported inside the handlers: they bring SQLAlchemy, numpy and pandas,
and ``airwarn --help`` must stay fast; at module level only the standard library and the floor.
"""
from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import os
import sys
from pathlib import Path

from airwarn.core.dates import format_beijing, today_beijing
from airwarn.core.errors import AirwarnError, InputError, UnknownNameError
from airwarn.core.products import BULLETIN_TXT, FORECAST_NC, day_dir, product_path
from airwarn.core.vocab import EMISSION_POLLUTANTS
from emergency import skill_cli
from emergency import benefit_cli
from emergency import evaluation_cli
from emergency.cli_common import open_engine

#: What the acting user's check (:func:`airwarn.core.users.check_actor`) and the area lookup raise for
#: a refusal: our own errors and the role check's PermissionError (anything else is a bug).
_REFUSED = (AirwarnError, PermissionError)


def _warn(args, settings) -> int:
    from emergency.engine import assess

    rec = assess(args.forecast, args.rules or settings.rules, city=args.city,
                 regional_minimum=args.regional_minimum, issued=args.issued, decision=args.decision,
                 calibration=args.model or settings.model_dir, in_force=args.in_force)
    print(json.dumps(rec.to_dict(), ensure_ascii=False, indent=2 if args.pretty else None))
    return 0


def _reductions(args, settings) -> int:
    from emergency.reductions import compute_reductions, format_reductions

    red = compute_reductions(open_engine(settings), args.level, version=args.list_version, inventory=args.inventory,
                             rules=args.rules or settings.rules)
    if args.json:
        print(json.dumps(red.to_dict(with_enterprises=args.enterprises), ensure_ascii=False, indent=2))
    else:
        print(format_reductions(red))
        for key, frame in red.by.items():
            cols = [f"cut_{p}" for p in EMISSION_POLLUTANTS]
            print(f"\n按{ {'county': '区县', 'industry': '行业', 'grade': '绩效分级'}[key] }:")
            print(frame[["enterprises", "lines", *cols]].round(3).to_string())
        for p in red.problems:
            print(f"注意:{p}")
    return 0


def _daily(args, settings) -> int:
    from emergency.daily import run_daily

    res = run_daily(settings, args.date, rules=args.rules, regional_minimum=args.regional_minimum,
                    list_version=args.list_version)
    print(res.summary())
    for f in res.files:
        print(f"  {f}")
    return 1 if res.compliance_error else 0  # the products are written; the compliance check failed


def _inventory_import(args, settings) -> int:
    from emergency.reductions import import_inventory

    n = import_inventory(open_engine(settings), args.file, name=args.name, unit=args.unit, area=args.area,
                         year=args.year)
    print(f"imported {n} inventory rows from {args.file} as {args.name or args.file.rsplit('/', 1)[-1].rsplit('.', 1)[0]!r}")
    return 0


def _state_dict(w) -> dict:
    return {"id": w.id, "area": w.area, "level": w.level.key, "status": w.status, "revision": w.revision,
            "start": str(w.start) if w.start else None, "end": str(w.end) if w.end else None,
            "issued_by": w.issued_by, "lifted_by": w.lifted_by, "rules_version": w.rules_version,
            "forecast_ref": w.forecast_ref,
            # stored in UTC, shown in Beijing time with its label (airwarn.core.dates)
            "issued_at": format_beijing(w.issued_at, seconds=True) or None,
            "lifted_at": format_beijing(w.lifted_at, seconds=True) or None}


def _print_state(w) -> None:
    print(json.dumps(_state_dict(w), ensure_ascii=False))


#: Actions that change a warning, and those of them that act on an existing warning (they need its id
#: and the revision the decision was made on).
_ACTING = ("draft", "issue", "upgrade", "downgrade", "lift", "cancel", "approve")
_ON_EXISTING = ("upgrade", "downgrade", "lift", "cancel", "approve")
#: Steps after which the day's bulletin and notification list are republished.
_REPUBLISH = ("issue", "upgrade", "downgrade", "lift")

_AUTH_HELP = """\
The command acts only as an existing, active user holding the role given (airwarn user add), and
authenticates that user by password: --password-stdin reads it from the first line of standard input,
else the environment variable AIRWARN_PASSWORD, else an interactive prompt when standard input is a
terminal. upgrade, downgrade, lift and cancel name the warning and the revision the decision was made
on (--id, --revision; airwarn warning show prints both): if the warning changed since, the action is
refused, naming what changed. Every refusal is logged (airwarn warning log --refusals)."""


def _password(args) -> str | None:
    """The acting user's password: --password-stdin, else $AIRWARN_PASSWORD, else a prompt on a terminal."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if os.environ.get("AIRWARN_PASSWORD"):
        return os.environ["AIRWARN_PASSWORD"]
    if sys.stdin.isatty():
        return getpass.getpass(f"password for {args.user}: ")
    return None


def _check_actor(eng, args) -> str:
    """The role the acting user holds (checked: existing, active, that role, right password)."""
    from airwarn.core.db import session_scope
    from airwarn.core.users import check_actor

    password = _password(args)
    with session_scope(eng) as s:
        return check_actor(s, args.user, args.role, password).role


def _warning(args, settings) -> int:
    from emergency import lifecycle as lc
    from emergency.areas import areas_for

    act = args.action
    if act == "verify":  # as the database is: no create_tables, which would put dropped triggers back first
        from airwarn.core.db import get_engine
        from sqlalchemy import inspect

        eng = get_engine(settings.db_url)
        if not inspect(eng).has_table("warning_audit"):
            print("audit chain intact: 0 rows (no warning tables yet)")
            return 0
        return _verify(eng)
    eng = open_engine(settings)
    if act == "log":
        return _log(lc, eng, args, settings)
    areas = areas_for(settings)
    if act == "show":
        w = lc.get_warning(eng, args.id) if args.id is not None else lc.active_warning(
            eng, areas.canonical(args.area or settings.city), areas=areas)
        if w is None:
            print(json.dumps({"area": areas.canonical(args.area or settings.city), "active": None}, ensure_ascii=False))
        else:
            print(json.dumps(_show_dict(lc, eng, w, settings), ensure_ascii=False))
        return 0
    if act == "notice":
        return _notice(eng, args, settings, areas)
    if act == "edit-bulletin":
        return _edit_bulletin(eng, args, settings)
    if act in _ON_EXISTING and (args.id is None or args.revision is None):
        now = None
        if act != "cancel":
            now = lc.active_warning(eng, areas.canonical(args.area or settings.city), areas=areas)
        seen = f"; the area's active warning now: {json.dumps(_state_dict(now), ensure_ascii=False)}" if now else ""
        raise InputError(f"warning {act}: give --id and --revision of the warning as you decided on it "
                         f"(airwarn warning show prints them){seen}")
    try:
        area = areas.canonical(args.area) if args.area else areas.city
        role = _check_actor(eng, args)
    except _REFUSED as exc:
        lc.record_refusal(eng, action=act, user=args.user, role=args.role, reason=exc, warning_id=args.id,
                          area=args.area or (None if args.id is not None else settings.city))
        raise
    rec = None
    if getattr(args, "forecast", None):
        from emergency.engine import assess

        active = lc.active_warning(eng, area, areas=areas)
        rec = assess(args.forecast, args.rules or settings.rules, city=area, calibration=settings.model_dir,
                     in_force=active.level if active is not None else None)
    who = {"user": args.user, "role": role, "reason": args.reason}
    if act == "draft":
        level = args.level or (rec.level.key if rec is not None else None)
        if level is None:
            raise InputError("warning draft: give --level or --forecast")
        w = lc.draft(eng, area=area, level=level, recommendation=rec, start=args.start, end=args.end, areas=areas,
                     **who)
    elif act == "issue":
        if args.id is None and args.level is None and rec is None:
            raise InputError("warning issue: give --id of a draft, or --level / --forecast to issue directly")
        rules_version = None
        if rec is None and args.id is None:
            from emergency.notices import current
            from emergency.rules import load_rules

            province = current(eng, area, areas=areas)
            province = province if province is not None and province.in_force else None
            if (args.start is None and province is None) or (args.end is None and (province is None or
                                                                                   province.end is None)):
                raise InputError("warning issue: without --forecast a warning needs its period: give --start and "
                                 "--end (YYYY-MM-DD)")
            rules_version = load_rules(args.rules or settings.rules).version
        w = lc.issue(eng, args.id, area=area, level=args.level or (rec.level.key if rec is not None else None),
                     start=args.start, end=args.end, recommendation=rec, expected_revision=args.revision,
                     areas=areas, rules_version=rules_version, **who)
    elif act in ("upgrade", "downgrade"):
        fn = lc.upgrade if act == "upgrade" else lc.downgrade
        w = fn(eng, args.id, args.level, recommendation=rec, expected_revision=args.revision, **who)
    elif act == "lift":
        w = lc.lift(eng, args.id, expected_revision=args.revision, **who)
    elif act == "approve":
        from emergency.signoff import signoff_config

        w = lc.approve(eng, args.id, expected_revision=args.revision, config=signoff_config(settings.rules), **who)
    else:
        w = lc.cancel(eng, args.id, expected_revision=args.revision, **who)
    out = _state_dict(w)
    if act in _REPUBLISH:
        out.update(_republished(settings, w))
    print(json.dumps(out, ensure_ascii=False))
    return 0


def _republished(settings, w) -> dict:
    """Republish the warning's products: ``{"republished": [paths]}``, or, when they could not be
    rewritten (no product folder, no forecast), the empty list and ``republish_error``: the step stands."""
    from emergency.daily import republish

    try:
        return {"republished": [str(p) for p in republish(settings, w)]}
    except (FileNotFoundError, UnknownNameError) as exc:
        return {"republished": [], "republish_error": str(exc)}


def _show_dict(lc, eng, w, settings) -> dict:
    """``warning show``: the state, its sign-off (2 h clock, overdue flag) and provincial notice."""
    from emergency.notices import notice_of_warning
    from emergency.signoff import signoff_config, signoff_state

    out = _state_dict(w)
    state = signoff_state(lc.audit_log(eng, warning_id=w.id), signoff_config(settings.rules))
    out["signoff"] = state.to_dict() if state is not None else None
    n = notice_of_warning(eng, w.id)
    out["province_notice"] = None if n is None else {"id": n.id, "doc_number": n.doc_number,
                                                      "issuing_body": n.issuing_body, "level": n.level,
                                                      "start": str(n.start) if n.start else None}
    return out


def _notice(eng, args, settings, areas) -> int:
    """``warning notice record|list``."""
    from emergency import notices
    from emergency.audit import record_refusal

    area = areas.canonical(args.area) if args.area else areas.city
    if args.notice_action == "list":
        for n in notices.notices(eng, area, areas=areas):
            print(f"#{n.id} {n.area} {n.kind} {n.level or '-'} {n.start or '-'}..{n.end or '-'} "
                  f"{n.issuing_body} {n.doc_number} received {format_beijing(n.received_at)} "
                  f"by {n.recorded_by}")
        return 0
    try:
        role = _check_actor(eng, args)
    except _REFUSED as exc:
        record_refusal(eng, action="notice", user=args.user, role=args.role, reason=exc, area=area)
        raise
    n = notices.record(eng, area=area, kind=args.kind, level=args.level, start=args.start, end=args.end,
                       issuing_body=args.body, doc_number=args.doc, received_at=args.received_at,
                       note=args.reason, user=args.user, role=role, areas=areas)
    print(json.dumps({"id": n.id, "area": n.area, "kind": n.kind, "level": n.level,
                      "start": str(n.start) if n.start else None, "end": str(n.end) if n.end else None,
                      "issuing_body": n.issuing_body, "doc_number": n.doc_number,
                      "received_at": format_beijing(n.received_at)}, ensure_ascii=False))
    return 0


def _log(lc, eng, args, settings) -> int:
    from emergency.areas import areas_for

    areas = areas_for(settings)
    if args.refusals:  # every refusal, or those about --area (as claimed: it may be no area at all)
        for r in lc.refusals(eng):
            if args.area is None or r.area is not None and _same_area(areas, r.area, args.area):
                print(f"{format_beijing(r.at, seconds=True)}  refused {r.action:<9} {r.user or '-'}({r.role or '-'})  "
                      f"area {r.area or '-'}  #{r.warning_id or '-'}  {r.reason}")
        return 0
    area = None if args.all else areas.canonical(args.area or settings.city)
    for a in lc.audit_log(eng, area=area):
        print(f"{format_beijing(a.at, seconds=True)}  #{a.warning_id} {a.area}  {a.action:<9} {a.user}({a.role})  "
              f"{a.level_from or '-'}→{a.level_to or '-'}  {a.status_from or '-'}→{a.status_to}  "
              f"rev {a.revision}  rules {a.rules_version or '-'}  {a.reason}")
    return 0


def _same_area(areas, a: str, b: str) -> bool:
    from emergency.areas import UnknownAreaError, normalise

    try:
        return areas.canonical(a) == areas.canonical(b)
    except UnknownAreaError:
        return normalise(a) == normalise(b)


def _verify(eng) -> int:
    from emergency.verify import verify

    res = verify(eng)
    if res.ok:
        print(f"audit chain intact: {res.rows} rows (head {res.head or '-'})")
        return 0
    print(f"audit chain broken: {res.problems[0]}")
    for p in res.problems[1:]:
        print(f"  also: {p}")
    return 1


def _edit_bulletin(eng, args, settings) -> int:
    """``warning edit-bulletin``: save the commander's edited bulletin text (before sign-off), audited,
    and republish the day's products with it."""
    from emergency import lifecycle as lc
    from emergency.edits import edit_bulletin
    from emergency.daily import latest_product_day
    from emergency.signoff import signoff_config

    try:
        text = Path(args.file).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{args.file}: cannot read the edited bulletin as UTF-8 text "
                         f"({getattr(exc, 'strerror', None) or exc.__class__.__name__})") from None
    try:
        role = _check_actor(eng, args)
    except _REFUSED as exc:
        lc.record_refusal(eng, action="edit", user=args.user, role=args.role, reason=exc, warning_id=args.id)
        raise
    day = latest_product_day(settings)
    current = product_path(settings.output_dir, day, BULLETIN_TXT) if day is not None else None
    edit = edit_bulletin(eng, args.id, text, user=args.user, role=role, expected_revision=args.revision,
                         reason=args.reason, config=signoff_config(settings.rules),
                         current_text=current.read_text(encoding="utf-8") if current and current.exists() else None)
    w = lc.get_warning(eng, args.id)
    out = {"warning": args.id, "edit": edit.id, "revision": edit.revision, "user": edit.user,
           "at": format_beijing(edit.at, seconds=True), "before_sha256": edit.before_hash,
           "after_sha256": edit.after_hash}
    out.update(_republished(settings, w))
    print(json.dumps(out, ensure_ascii=False))
    return 0


def _public_forecast(args, settings) -> int:
    """``public-forecast``: write the day's 20:00 public forecast from its forecast.nc."""
    from emergency.public_forecast import write_public_forecast

    date = args.date or today_beijing()
    folder = day_dir(settings.output_dir, date)
    nc = Path(args.forecast) if args.forecast else product_path(settings.output_dir, date, FORECAST_NC)
    if not nc.exists():
        raise FileNotFoundError(f"no forecast for {date} at {nc}; run 'airwarn daily --date {date}' first")
    folder.mkdir(parents=True, exist_ok=True)
    for p in write_public_forecast(folder, args.city or settings.city, date, nc, days=args.days):
        print(p)
    return 0


def _replay(args, settings) -> int:
    from emergency.replay import DEFAULT_SEASONS, format_markdown, replay_files

    table = replay_files(args.files, cities=args.cities, rules=args.rules_sets, seasons=DEFAULT_SEASONS)
    print(format_markdown(table) if args.markdown else table.to_string(index=False))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add this package's subcommands to the ``airwarn`` parser."""
    skill_cli.register(subparsers)
    benefit_cli.register(subparsers)
    evaluation_cli.register(subparsers)
    p = subparsers.add_parser("warn", help="recommend a warning level from a forecast (prints JSON)")
    p.add_argument("--forecast", required=True, help="forecast netCDF, or CSV with city,valid_date,aqi "
                   "(+ optional p_aqi_gt_150/200/300, aqi_pNN)")
    p.add_argument("--city", help="city (default: the only one in the file)")
    p.add_argument("--rules", help="bundled rule set (national-2024, national-2019, yangquan-example) or a "
                   "YAML path; default from settings")
    p.add_argument("--regional-minimum", choices=["yellow", "orange", "red"],
                   help="level of a provincial regional warning in force")
    p.add_argument("--issued", help="issue date to use when the file holds several (default: latest)")
    p.add_argument("--decision", choices=["probability", "median"],
                   help="probability: calibrated P(level criteria in D+1..D+3) against the model's thresholds "
                        "(needs scenario members); median: the first episode of the median series (default: "
                        "probability when possible)")
    p.add_argument("--model", help="model folder whose warning_decision.json calibrates the decision (default "
                                   "from settings)")
    p.add_argument("--in-force", choices=["yellow", "orange", "red"],
                   help="level of the warning in force (kept at the lower keep threshold)")
    p.add_argument("--pretty", action="store_true", help="indent the JSON")
    p.set_defaults(func=_warn)

    p = subparsers.add_parser("reductions", help="cuts per pollutant of a warning level against the targets")
    p.add_argument("--level", required=True, choices=["yellow", "orange", "red"])
    p.add_argument("--list-version", help="list version name or id (default: the one in force today)")
    p.add_argument("--inventory", help="emission inventory name (default: the latest imported)")
    p.add_argument("--rules", help="rule set the targets come from (default from settings)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--enterprises", action="store_true", help="with --json: include the affected enterprises")
    p.set_defaults(func=_reductions)

    p = subparsers.add_parser("daily", help="run the daily chain for the configured city and write the products")
    p.add_argument("--date", type=dt.date.fromisoformat, help="issue date (default: today, Beijing time)")
    p.add_argument("--rules", help="rule set (default from settings)")
    p.add_argument("--regional-minimum", choices=["yellow", "orange", "red"])
    p.add_argument("--list-version", help="list version (default: the one in force on the date)")
    p.set_defaults(func=_daily)

    p = subparsers.add_parser("inventory", help="emission inventory (baseline of the reduction targets)")
    sub = p.add_subparsers(dest="inventory_command", metavar="ACTION", required=True)
    q = sub.add_parser("import", help="import a CSV/xlsx inventory: sector,so2,nox,pm,vocs,unit")
    q.add_argument("file")
    q.add_argument("--name", help="inventory name (default: the file name)")
    q.add_argument("--unit", choices=["t/day", "t/year"], help="unit when the file has no unit column")
    q.add_argument("--area")
    q.add_argument("--year", type=int)
    q.set_defaults(func=_inventory_import)

    p = subparsers.add_parser("warning", help="warning lifecycle: draft, issue, upgrade, downgrade, lift, cancel, "
                              "show, log, verify", description=_AUTH_HELP,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    helps = {"show": "the area's active warning (or --id N)", "log": "the audit trail (--refusals: refused attempts)",
             "verify": "check the audit trail's hash chain and the warning tables against it (exit 1 if broken)"}
    helps["approve"] = ("approve (sign off) the warning's latest issue/upgrade/downgrade, as the role its level "
                        "needs (default vice-mayor for yellow/orange, mayor for red), within 2 h")
    for action in (*_ACTING, "show", "log", "verify"):
        q = sub.add_parser(action, help=helps.get(action, f"{action} a warning"),
                           description=_AUTH_HELP if action in _ACTING else helps[action],
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        if action != "verify":
            q.add_argument("--area", help="city or county (default: settings city); aliases such as 阳泉市 are accepted")
        if action in _ACTING:
            q.add_argument("--user", required=True, help="who acts: an existing user (airwarn user add)")
            q.add_argument("--role", required=True, help="the role the user acts in and holds: viewer, forecaster, "
                                                         "commander or list-admin")
            q.add_argument("--password-stdin", action="store_true",
                           help="read the user's password from the first line of standard input (else "
                                "$AIRWARN_PASSWORD, else a prompt on a terminal)")
            q.add_argument("--reason", default="", help="reason recorded in the audit trail")
        if action in (*_ON_EXISTING, "issue", "show"):
            q.add_argument("--id", type=int, help="warning id" + (" (required)" if action in _ON_EXISTING else
                                                                  " of a draft" if action == "issue" else ""))
        if action in (*_ON_EXISTING, "issue"):
            q.add_argument("--revision", type=int,
                           help="the warning's revision the decision was made on (required; a stale one is refused)"
                           if action in _ON_EXISTING else "the draft's revision the decision was made on")
        if action in ("draft", "issue", "upgrade", "downgrade"):
            q.add_argument("--level", choices=["yellow", "orange", "red"], required=action in ("upgrade", "downgrade"))
            q.add_argument("--forecast", help="forecast file: its recommendation, hash and rules are recorded")
            q.add_argument("--rules", help="rule set (default from settings)")
        if action in ("draft", "issue"):
            q.add_argument("--start", type=dt.date.fromisoformat)
            q.add_argument("--end", type=dt.date.fromisoformat)
        if action == "log":
            q.add_argument("--all", action="store_true", help="every area")
            q.add_argument("--refusals", action="store_true", help="the refused attempts instead of the audit trail")
        q.set_defaults(func=_warning)

    q = sub.add_parser("notice", help="provincial notices (调度令): record one (commander) or list them")
    nsub = q.add_subparsers(dest="notice_action", metavar="NOTICE_ACTION", required=True)
    r = nsub.add_parser("record", help="record a provincial notice: it sets the minimum level and the start; a "
                                       "warning started on it is lifted only after its lift notice",
                        description=_AUTH_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    r.add_argument("--area", help="city or county (default: settings city)")
    r.add_argument("--kind", required=True, choices=["issue", "change", "lift"])
    r.add_argument("--level", choices=["yellow", "orange", "red"], help="minimum level (issue, change)")
    r.add_argument("--start", type=dt.date.fromisoformat, help="start date (issue, change)")
    r.add_argument("--end", type=dt.date.fromisoformat)
    r.add_argument("--body", required=True, help="issuing body, e.g. 山西省生态环境厅")
    r.add_argument("--doc", required=True, help="document number, e.g. 晋环应急调度〔2026〕12号")
    r.add_argument("--received-at", help="when it was received, YYYY-MM-DDTHH:MM Beijing time (default now)")
    r.add_argument("--user", required=True)
    r.add_argument("--role", required=True)
    r.add_argument("--password-stdin", action="store_true")
    r.add_argument("--reason", default="", help="note recorded with the notice")
    r.set_defaults(func=_warning, action="notice")
    r = nsub.add_parser("list", help="the area's provincial notices in the order recorded")
    r.add_argument("--area")
    r.set_defaults(func=_warning, action="notice")

    q = sub.add_parser("edit-bulletin", help="save an edited bulletin text of an issued warning before its sign-off "
                       "(commander; audited, hash-chained) and republish with it",
                       description=_AUTH_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    q.add_argument("--id", type=int, required=True, help="warning id")
    q.add_argument("--revision", type=int, required=True, help="the warning's revision the edit was made on")
    q.add_argument("--file", required=True, help="the whole edited bulletin, UTF-8 plain text (first line: title)")
    q.add_argument("--user", required=True)
    q.add_argument("--role", required=True)
    q.add_argument("--password-stdin", action="store_true")
    q.add_argument("--reason", default="", help="why the text was edited (kept with the edit)")
    q.set_defaults(func=_warning, action="edit-bulletin")

    p = subparsers.add_parser("public-forecast", help="write the day's 20:00 public forecast (>= 3 days ahead, "
                              "primary pollutant, health advice) into its product folder")
    p.add_argument("--date", type=dt.date.fromisoformat, help="product day (default: today, Beijing time)")
    p.add_argument("--forecast", help="forecast netCDF (default: <output_dir>/<date>/forecast.nc)")
    p.add_argument("--city", help="city (default from settings)")
    p.add_argument("--days", type=int, default=3, help="days ahead, at least 3 (default 3)")
    p.set_defaults(func=_public_forecast)

    p = subparsers.add_parser("replay", help="replay winters with observed daily AQI as a perfect forecast")
    p.add_argument("files", nargs="+", help="city daily files (aqistudy layout, read by forecast.io.read_city_daily)")
    p.add_argument("--cities", nargs="+", default=["阳泉", "太原"])
    p.add_argument("--rules-sets", nargs="+", default=["national-2024", "national-2019"])
    p.add_argument("--markdown", action="store_true", help="print a Markdown table")
    p.set_defaults(func=_replay)
