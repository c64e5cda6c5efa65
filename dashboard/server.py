"""Serving the dashboard: waitress (production WSGI) or Flask's debug server (this machine only)."""
from __future__ import annotations

import errno
import sys

from airwarn.core.settings import Settings
from airwarn.core.errors import InputError

#: Hosts the debug server may listen on: this machine only.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8050, debug: bool = False) -> None:
    """Serve the dashboard until interrupted and print its address.

    Parameters
    ----------
    settings : airwarn.core.settings.Settings
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
        If ``debug`` is asked for on a host other than this machine's loopback, or if the port is
        taken (one line naming ``--port``; checked before the address is printed).
    """
    if debug and host not in LOOPBACK_HOSTS:
        raise InputError(f"--debug serves only this machine ({', '.join(LOOPBACK_HOSTS)}), not host {host!r}: "
                         f"the debug server is for development; use waitress (no --debug) on a network")
    from dashboard import auth
    from dashboard.app import create_app

    app = create_app(settings)
    server = None
    if debug:
        _check_port_free(host, port)
    else:
        import waitress

        try:  # binds now: a taken port is reported before the address is printed
            server = waitress.create_server(app.server, host=host, port=port, threads=8, ident="airwarn",
                                            max_request_body_size=auth.MAX_REQUEST_BYTES)
        except OSError as exc:
            raise InputError(_busy_message(host, port, exc)) from None
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    print(f"airwarn dashboard: http://{shown}:{port}/  (Ctrl+C to stop; "
          f"{'debug server' if debug else 'waitress'})", flush=True)
    if debug:
        # dev_tools_prune_errors=False: Dash would otherwise send every client the Werkzeug traceback page
        # (dashboard.auth's error handler shows a traceback to signed-in users only)
        app.run(host=host, port=port, debug=True, dev_tools_prune_errors=False, use_debugger=False)
        return
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    sys.stdout.flush()


def _busy_message(host: str, port: int, exc: OSError) -> str:
    """One line for a port that cannot be listened on, naming ``--port``."""
    why = "is already in use" if exc.errno == errno.EADDRINUSE else f"cannot be listened on ({exc.strerror or exc})"
    return (f"port {port} on {host} {why} (another airwarn dashboard or demo running?); "
            f"stop it or choose a free port with --port, e.g. --port {port + 1}")


def _check_port_free(host: str, port: int) -> None:
    """Raise :class:`ValueError` (:func:`_busy_message`) if ``host:port`` cannot be bound now."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise InputError(_busy_message(host, port, exc)) from None


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
