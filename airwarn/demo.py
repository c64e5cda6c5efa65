"""``airwarn demo``: build the embedded demo and run the daily chain on it.

Every package contributes one step, a ``build_demo(settings, date)`` function in
its own ``demo`` module that returns a one-line summary; the steps run in the
order of :func:`demo_steps` (observations and model, the enterprise list, the
daily warning chain, the dashboard's users), then the demo's warning in force with its compliance
check (``emergency.demo.build_demo_warning``: it needs the users). All demo inputs are synthetic and
marked so; none of the third-party data in ``../shared/data`` is copied.
"""
from __future__ import annotations

import argparse
import datetime as dt
import time

from airwarn.core.dates import today_beijing
from airwarn.core.settings import Settings


def demo_steps() -> dict:
    """The demo steps (each package's ``demo.build_demo``, then the demo warning), in the order they run (imported here, not at
    the top, so that ``airwarn --help`` does not load numpy, pandas and the model)."""
    import dashboard.demo
    import emergency.demo
    import enterprise_list.demo
    import forecast.demo

    return {"forecast": forecast.demo.build_demo, "enterprise_list": enterprise_list.demo.build_demo,
            "emergency": emergency.demo.build_demo, "dashboard": dashboard.demo.build_demo,
            "warning": emergency.demo.build_demo_warning}


def run_demo(settings: Settings, *, date: dt.date | None = None, serve: bool = True,
             host: str = "127.0.0.1", port: int = 8050) -> None:
    """Build the demo database and data, run the daily chain, then serve the dashboard."""
    settings.ensure_dirs()
    date = date or today_beijing()
    print(f"airwarn demo for {settings.city} on {date} (database {settings.db_url})", flush=True)
    for name, step in demo_steps().items():
        start = time.perf_counter()
        summary = step(settings, date=date)
        print(f"  [{name:>15}] {summary} ({time.perf_counter() - start:.1f} s)", flush=True)
    if serve:
        from dashboard.server import serve as serve_dashboard

        serve_dashboard(settings, host=host, port=port)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``airwarn demo``."""
    p = subparsers.add_parser("demo", help="build the demo (database, synthetic data, model), run the "
                              "daily chain and serve the dashboard")
    p.add_argument("--no-serve", action="store_true", help="stop after building; do not serve the dashboard")
    p.add_argument("--date", type=dt.date.fromisoformat, help="issue date (default: today, Beijing time)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8050)
    p.set_defaults(func=lambda args, settings: run_demo(
        settings, date=args.date, serve=not args.no_serve, host=args.host, port=args.port))
