"""A throwaway PostgreSQL server for the tests that run on both databases.

The settings accept any SQLAlchemy URL, and the bureau's production database is PostgreSQL, so the
list, lifecycle and reductions tests run on a real server as well as on SQLite. The server is
Debian's (``make test`` installs the ``postgresql`` package when it is missing): a new cluster in a
temporary folder, listening on a Unix socket only (no TCP port), stopped and removed when the test
session ends. ``initdb`` refuses to run as root, so under root the cluster belongs to the
``postgres`` system user the package creates.
"""
from __future__ import annotations

import glob
import itertools
import os
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

#: Why the PostgreSQL tests cannot run, when no server is installed.
NO_SERVER = "no PostgreSQL server (initdb, pg_ctl) installed; `make test` installs Debian's postgresql"


def fresh_url(request, folder) -> str:
    """The URL of a fresh database for a fixture parametrized ``["sqlite", "postgresql"]``: an SQLite
    file in ``folder``, or a new database on the session's server (fixture ``postgres_server``)."""
    if request.param == "sqlite":
        return f"sqlite:///{Path(folder) / 'airwarn.sqlite'}"
    return request.getfixturevalue("postgres_server").new_database()


def binaries() -> Path | None:
    """Folder of ``initdb`` and ``pg_ctl`` (PATH first, then Debian's ``/usr/lib/postgresql/<v>/bin``)."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).resolve().parent
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    return None


class Server:
    """A running cluster; :meth:`new_database` gives the SQLAlchemy URL of a fresh, empty database."""

    def __init__(self, bin_dir: Path):
        self.bin = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="airwarn-pg-"))
        self.data = self.root / "data"
        self.user = "airwarn"
        self._as = []
        if os.geteuid() == 0:  # initdb will not run as root: run the cluster as the package's user
            self._as = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.root, user="postgres")
        self._names = itertools.count(1)

    def _run(self, *args: str) -> None:
        proc = subprocess.run([*self._as, *args], capture_output=True, text=True, timeout=120)
        if proc.returncode:
            raise RuntimeError(f"{' '.join(args[:2])} failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}")

    def start(self) -> "Server":
        """initdb and start; on failure nothing is left running or on disk."""
        try:
            self._run(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", self.user,
                      "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
            options = f"-k {self.root} -c listen_addresses='' -c fsync=off -c full_page_writes=off"
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-l",
                      str(self.root / "server.log"), "-w", "-t", "60", "start")
        except BaseException:
            self.stop()
            raise
        return self

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{self.user}@/{database}?host={self.root}"

    def new_database(self) -> str:
        """Create an empty database and return its URL."""
        import psycopg

        name = f"t{next(self._names)}"
        with psycopg.connect(host=str(self.root), user=self.user, dbname="postgres", autocommit=True) as con:
            con.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


@contextmanager
def databases(postgresql: bool, folder: Path) -> Iterator[Callable[[str], str]]:
    """``new_url(name)`` → the URL of a fresh database: an SQLite file ``folder/name.sqlite``, or (with
    ``postgresql``) a new database on a throwaway server, stopped on exit (the benchmarks' option)."""
    if not postgresql:
        yield lambda name: f"sqlite:///{Path(folder) / name}.sqlite"
        return
    bin_dir = binaries()
    if bin_dir is None:
        raise RuntimeError(NO_SERVER)
    server = Server(bin_dir).start()
    try:
        yield lambda name: server.new_database()
    finally:
        server.stop()
