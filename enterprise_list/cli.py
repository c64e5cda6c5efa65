"""Subcommands of ``airwarn`` contributed by the ``enterprise_list`` package: ``airwarn list …``.

=====================================  ===================================================================
``list template OUT.xlsx``             write the empty template (with the 说明 sheet)
``list validate FILE``                 report every problem of a list file (exit 1 on errors, 2 unreadable)
``list import FILE``                   validate and import as a new version (exit 1 + report on errors)
``list export OUT.xlsx [--version V]`` write a stored version in the template
``list show CODE_OR_NAME [--level L]`` the 一厂一策 sheet (all levels, or one)
``list find [QUERY]``                  search by code or (fuzzy) name, county, industry, grade
``list versions``                      the stored versions
``list sample OUT.xlsx [--size N]``    a synthetic list in the template
``list coverage PERMITS_FILE``         coverage against the discharge-permit register (exit 1 on gaps)
=====================================  ===================================================================

``validate`` and ``import`` compare the file with the version in force (today's; the import's: on its
effective date) and refuse a version that drops more than
:data:`enterprise_list.limits.MAX_SHRINK` of its enterprises, lines or a pollutant's baseline
unless ``--allow-shrink`` is given; coordinates are checked against the bounds of ``settings.city``.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path

from airwarn.core.dates import today_beijing
from airwarn.core.errors import InputError


def _version_arg(text: str | None):
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        pass
    return int(text) if text.isdigit() else text


def _counties(args, settings):
    if args.any_county:
        return None
    if args.counties:
        return [c.strip() for c in args.counties.split(",") if c.strip()]
    from enterprise_list.validate import default_counties

    return default_counties(settings)


def _engine(settings):
    from airwarn.core.db import create_tables, get_engine

    settings.ensure_dirs()
    engine = get_engine(settings.db_url)
    from enterprise_list import models

    create_tables(engine, models)
    return engine


def _template(args, settings) -> int:
    from enterprise_list.workbook import write_template

    print(f"wrote the empty list template to {write_template(args.out)}")
    return 0


def _in_force(settings):
    """The size of the version in force today, if a list database is there (none is created)."""
    from sqlalchemy import inspect, make_url

    from airwarn.core.db import get_engine, session_scope
    from enterprise_list.io import totals_in_force

    url = make_url(settings.db_url)
    if url.get_backend_name() == "sqlite" and (not url.database or not Path(url.database).is_file()):
        return None
    engine = get_engine(settings.db_url)
    if not inspect(engine).has_table("list_version"):
        return None
    with session_scope(engine) as session:
        return totals_in_force(session)


def _validate(args, settings) -> int:
    from enterprise_list.records import errors, format_report
    from enterprise_list.validate import compare_totals, format_changes, list_totals, validate
    from enterprise_list.workbook import read_list_workbook

    parsed = read_list_workbook(args.file)
    previous = _in_force(settings)
    problems = validate(parsed, counties=_counties(args, settings), bounds=settings.city, previous=previous,
                        allow_shrink=args.allow_shrink)
    print(f"{args.file}: {len(parsed.records['enterprises'])} enterprises, {len(parsed.records['lines'])} lines, "
          f"{len(parsed.records['measures'])} measures")
    if previous is not None:
        print(format_changes(compare_totals(list_totals(parsed), previous), previous))
    print(format_report(problems))
    return 1 if errors(problems) else 0


def _import(args, settings) -> int:
    import sys

    from enterprise_list.io import ListValidationError, import_list

    effective = args.effective or today_beijing()
    name = args.name or f"{args.year or effective.year}年度"
    try:
        result = import_list(_engine(settings), args.file, name, effective, year=args.year,
                             approved_by=args.approved_by, approval_doc=args.approval_doc, note=args.note,
                             synthetic=args.synthetic, counties=_counties(args, settings), bounds=settings.city,
                             allow_shrink=args.allow_shrink)
    except ListValidationError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(result.summary())
    for w in result.warnings:
        print(f"  {w}")
    return 0


def _export(args, settings) -> int:
    from enterprise_list.io import export_list

    print(f"wrote {export_list(_engine(settings), args.out, _version_arg(args.version))}")
    return 0


def _show(args, settings) -> int:
    from airwarn.core.db import session_scope
    from enterprise_list.lookup import format_policy_sheet, get_enterprise, policy_sheet

    levels = [args.level] if args.level else ["yellow", "orange", "red"]
    with session_scope(_engine(settings)) as session:
        ent = get_enterprise(session, args.code_or_name, _version_arg(args.version))
        sheets = [policy_sheet(session, ent.credit_code, lvl, ent.version) for lvl in levels]
    if args.json:
        print(json.dumps(sheets if len(sheets) > 1 else sheets[0], ensure_ascii=False, indent=1))
    else:
        print("\n\n".join(format_policy_sheet(s) for s in sheets))
    return 0


def _find(args, settings) -> int:
    from airwarn.core.db import session_scope
    from enterprise_list.lookup import find_enterprises

    with session_scope(_engine(settings)) as session:
        hits = find_enterprises(session, args.query, county=args.county, industry=args.industry,
                                grade=args.grade, version=_version_arg(args.version), limit=args.limit)
    for h in hits:
        print(f"{h.credit_code}  {h.name}  {h.county}  {h.industry}  {h.grade}  ({h.score:.0f})")
    print(f"{len(hits)} match(es)")
    return 0 if hits else 1


def _versions(args, settings) -> int:
    from airwarn.core.db import session_scope
    from enterprise_list.io import count_rows
    from enterprise_list.models import list_versions

    with session_scope(_engine(settings)) as session:
        versions = list_versions(session)
        for v in versions:
            n_e, n_l, n_m = count_rows(session, v)
            flag = " [synthetic]" if v.synthetic else ""
            print(f"{v.id:>3}  {v.name}  year {v.year}  effective {v.effective_date}  "
                  f"approved {v.approved_by or '-'} {v.approval_doc or ''}  {n_e} enterprises, {n_l} lines, "
                  f"{n_m} measures{flag}")
    if not versions:
        print("no list version imported yet (airwarn list import FILE)")
    return 0


def _sample(args, settings) -> int:
    from enterprise_list.sample import make_sample_list
    from enterprise_list.workbook import write_list_workbook

    if args.size < 1:
        raise InputError(f"--size must be ≥ 1, got {args.size}")
    out = write_list_workbook(make_sample_list(args.size, args.seed), args.out)
    print(f"wrote a synthetic list of {args.size} enterprises (seed {args.seed}, marked 合成) to {out}")
    return 0


def _coverage(args, settings) -> int:
    from airwarn.core.db import session_scope
    from enterprise_list.coverage import check_coverage

    with session_scope(_engine(settings)) as session:
        report = check_coverage(session, args.permits_file, _version_arg(args.version))
    print(report.format())
    return 0 if report.complete else 1


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``airwarn list …`` to the ``airwarn`` parser."""
    from enterprise_list.limits import MAX_SHRINK

    p = subparsers.add_parser("list", help="the emergency emission-reduction list (应急减排清单)",
                              description="Import, validate, export and look up the emergency-reduction list.")
    sub = p.add_subparsers(dest="list_command", metavar="SUBCOMMAND", required=True)

    def county_opts(q):
        q.add_argument("--counties", help="comma-separated valid counties (default: the configured city's)")
        q.add_argument("--any-county", action="store_true", help="accept any county")

    q = sub.add_parser("template", help="write the empty template")
    q.add_argument("out", metavar="OUT.xlsx")
    q.set_defaults(func=_template)

    def shrink_opt(q):
        q.add_argument("--allow-shrink", action="store_true",
                       help=f"confirm that the new version drops more than {MAX_SHRINK:.0%} of the enterprises, "
                            f"lines or a pollutant's baseline of the version in force")

    q = sub.add_parser("validate", help="report every problem of a list file (exit 1 on errors, 2 if unreadable)")
    q.add_argument("file", metavar="FILE", help=".xlsx, a CSV folder or one of its CSV files")
    county_opts(q)
    shrink_opt(q)
    q.set_defaults(func=_validate)

    q = sub.add_parser("import", help="validate and import a list file as a new version (exit 1 on errors)")
    q.add_argument("file", metavar="FILE", help=".xlsx, a CSV folder or one of its CSV files")
    q.add_argument("--name", help="version name (default '<year>年度')")
    q.add_argument("--year", type=int, help="list year (default: the effective date's)")
    q.add_argument("--effective", type=dt.date.fromisoformat, help="effective date YYYY-MM-DD (default today)")
    q.add_argument("--approved-by", help="approving authority")
    q.add_argument("--approval-doc", help="approval document number")
    q.add_argument("--note")
    q.add_argument("--synthetic", action="store_true", help="flag the version as synthetic")
    county_opts(q)
    shrink_opt(q)
    q.set_defaults(func=_import)

    q = sub.add_parser("export", help="write a stored version to xlsx in the template")
    q.add_argument("out", metavar="OUT.xlsx")
    q.add_argument("--version", help="version name, id or a date (the version in force); default: today's")
    q.set_defaults(func=_export)

    q = sub.add_parser("show", help="an enterprise's 一厂一策 sheet")
    q.add_argument("code_or_name", metavar="CODE_OR_NAME")
    q.add_argument("--level", choices=["yellow", "orange", "red"])
    q.add_argument("--version", help="version name, id or a date; default: today's")
    q.add_argument("--json", action="store_true", help="print JSON")
    q.set_defaults(func=_show)

    q = sub.add_parser("find", help="search by credit code or (fuzzy) name, county, industry, grade")
    q.add_argument("query", nargs="?", metavar="QUERY")
    q.add_argument("--county")
    q.add_argument("--industry")
    q.add_argument("--grade")
    q.add_argument("--version")
    q.add_argument("--limit", type=int, default=20)
    q.set_defaults(func=_find)

    q = sub.add_parser("versions", help="list the stored versions")
    q.set_defaults(func=_versions)

    q = sub.add_parser("sample", help="write a synthetic list (marked 合成) in the template")
    q.add_argument("out", metavar="OUT.xlsx")
    q.add_argument("--size", type=int, default=320)
    q.add_argument("--seed", type=int, default=2026)
    q.set_defaults(func=_sample)

    q = sub.add_parser("coverage", help="check the list against the discharge-permit register (exit 1 on gaps)")
    q.add_argument("permits_file", metavar="PERMITS_FILE", help="CSV or xlsx: credit code, name, permit no, 是否涉气")
    q.add_argument("--version")
    q.set_defaults(func=_coverage)
