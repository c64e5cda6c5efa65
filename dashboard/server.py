"""Serving the dashboard: waitress (production WSGI) or Flask's debug server."""
from __future__ import annotations

import sys

from airwarn.settings import Settings


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8050, debug: bool = False) -> None:
    """Serve the dashboard until interrupted and print its address.

    Parameters
    ----------
    settings : airwarn.settings.Settings
        Database, products and model of the dashboard.
    host : str
        Interface to listen on (``127.0.0.1``: this machine only; ``0.0.0.0``: the office network).
    port : int
        TCP port.
    debug : bool
        Use Dash's debug server (hot reload, error pages) instead of waitress.
    """
    from dashboard.app import create_app

    app = create_app(settings)
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    print(f"airwarn dashboard: http://{shown}:{port}/  (Ctrl+C to stop; "
          f"{'debug server' if debug else 'waitress'})", flush=True)
    if debug:
        app.run(host=host, port=port, debug=True)
        return
    import waitress

    waitress.serve(app.server, host=host, port=port, threads=8, ident="airwarn", _quiet=True)
    sys.stdout.flush()


def make_server(settings: Settings, host: str = "127.0.0.1", port: int = 0):
    """A waitress server for the dashboard, not yet running (tests, bench).

    Call ``.run()`` (e.g. in a thread) and ``.close()``; the bound port is
    ``.effective_port``.
    """
    import waitress

    from dashboard.app import create_app

    app = create_app(settings)
    return waitress.create_server(app.server, host=host, port=port, threads=8, ident="airwarn")
