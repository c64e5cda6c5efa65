"""Fixtures of the dashboard tests: a demo-like environment (see ``dash_env``) and a live server."""
from __future__ import annotations

import socket
import threading
import time

import pytest
from tests.dashboard.dash_env import build_env


@pytest.fixture(scope="session")
def env(tmp_path_factory):
    """Shared read-mostly environment (tests that change state use ``fresh_env``)."""
    return build_env(tmp_path_factory.mktemp("dash-env"))


@pytest.fixture
def fresh_env(tmp_path):
    """An environment of one's own, for tests that issue warnings or import lists."""
    return build_env(tmp_path)


@pytest.fixture(scope="session")
def app(env):
    """The Dash app on the shared environment."""
    from dashboard.app import create_app

    return create_app(env)


class LiveServer:
    """The real dashboard served by waitress in a thread on 127.0.0.1 and a free port."""

    def __init__(self, settings):
        from dashboard.server import make_server

        self.settings = settings
        self.server = make_server(settings, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.server.effective_port}"
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.server.effective_port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.05)

    def close(self):
        self.server.close()
        self.thread.join(timeout=5)


@pytest.fixture
def live_server(fresh_env):
    """A running server on a fresh environment."""
    srv = LiveServer(fresh_env)
    yield srv
    srv.close()



@pytest.fixture(scope="session")
def shared_server(env):
    """A running server on the shared (read-mostly) environment."""
    srv = LiveServer(env)
    yield srv
    srv.close()
