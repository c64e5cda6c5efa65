"""Serving the dashboard: waitress (production WSGI) or Flask's debug server (this machine only)."""
from __future__ import annotations

import sys

from airwarn.settings import Settings

#: Hosts the debug server may listen on: this machine only.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


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
        Use Dash's debug server (hot reload, callback errors in the page) instead of waitress; only on
        a loopback host (:data:`LOOPBACK_HOSTS`). The Werkzeug interactive debugger is never enabled
        and only a signed-in user sees a traceback (``dashboard.auth``).

    Raises
    ------
    ValueError
        If ``debug`` is asked for on a host other than this machine's loopback.
    """
    if debug and host not in LOOPBACK_HOSTS:
        raise ValueError(f"--debug serves only this machine ({', '.join(LOOPBACK_HOSTS)}), not host {host!r}: "
                         f"the debug server is for development; use waitress (no --debug) on a network")
    from dashboard import auth
    from dashboard.app import create_app

    app = create_app(settings)
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    print(f"airwarn dashboard: http://{shown}:{port}/  (Ctrl+C to stop; "
          f"{'debug server' if debug else 'waitress'})", flush=True)
    if debug:
        # dev_tools_prune_errors=False: Dash would otherwise send every client the Werkzeug traceback page
        # (dashboard.auth's error handler shows a traceback to signed-in users only)
        app.run(host=host, port=port, debug=True, dev_tools_prune_errors=False, use_debugger=False)
        return
    import waitress

    waitress.serve(app.server, host=host, port=port, threads=8, ident="airwarn", _quiet=True,
                   max_request_body_size=auth.MAX_REQUEST_BYTES)
    sys.stdout.flush()


def make_server(settings: Settings, host: str = "127.0.0.1", port: int = 0):
    """A waitress server for the dashboard, not yet running (tests, bench).

    Call ``.run()`` (e.g. in a thread) and ``.close()``; the bound port is
    ``.effective_port``.
    """
    import waitress

    from dashboard import auth
    from dashboard.app import create_app

    app = create_app(settings)
    return waitress.create_server(app.server, host=host, port=port, threads=8, ident="airwarn",
                                  max_request_body_size=auth.MAX_REQUEST_BYTES)
