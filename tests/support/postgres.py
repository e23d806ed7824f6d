"""A real PostgreSQL server for the tests: initdb in a temporary folder, a free port on 127.0.0.1.

Debian keeps the server binaries out of PATH, in ``/usr/lib/postgresql/<major>/bin``.
``initdb`` and ``pg_ctl`` refuse to run as root, so under root (CI containers)
they run as the ``postgres`` user through ``runuser``, in a folder that user owns.
Trust authentication is fine: the server listens on 127.0.0.1 only, and its unix
socket sits in the temporary folder.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.servers import free_port

SERVER_GLOB = "/usr/lib/postgresql/*/bin"


def find_binary(name: str) -> Path | None:
    """The newest installed PostgreSQL's ``name`` binary, or None when none is installed."""
    found = [Path(d) / name for d in Path("/").glob(SERVER_GLOB.lstrip("/"))]
    found = [p for p in found if os.access(p, os.X_OK)]
    found.sort(key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    return found[-1] if found else (Path(w) if (w := shutil.which(name)) else None)


@dataclass
class Postgres:
    """A running server; ``new_database()`` gives each test its own empty database."""

    host: str
    port: int
    folder: Path
    _names: Iterator[int] = field(default_factory=itertools.count)
    _pg_ctl: list[str] = field(default_factory=list)  # pg_ctl -D <data>, as the server user
    _start_args: list[str] = field(default_factory=list)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@{self.host}:{self.port}/{database}"

    def new_database(self) -> str:
        """CREATE DATABASE a fresh one; returns its SQLAlchemy URL."""
        import psycopg

        name = f"test_{os.getpid()}_{next(self._names)}"
        conninfo = f"host={self.host} port={self.port} user=postgres dbname=postgres"
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")
        return self.url(name)

    def stop(self, timeout_s: float = 60) -> None:
        """Stop the server as a managed database's restart does: clients cut, data kept.

        ``fast``, not ``immediate``: with ``fsync`` and ``synchronous_commit`` off (speed),
        an immediate stop may lose the last commits, which no restart of a real one does.
        """
        subprocess.run([*self._pg_ctl, "-m", "fast", "-w", "stop"], **_checked(timeout_s))

    def start(self, timeout_s: float = 60) -> None:
        """Start it again on the same port and data; returns once it accepts connections."""
        if self.running():
            return
        timeout = ["-t", str(int(timeout_s))]
        subprocess.run([*self._pg_ctl, *self._start_args, *timeout, "start"], **_checked(timeout_s))

    def running(self) -> bool:
        """Whether the server is up (``pg_ctl status``: 0 running, 3 not)."""
        status = subprocess.run([*self._pg_ctl, "status"], capture_output=True, timeout=30)
        return status.returncode == 0

    def log_tail(self, chars: int = 3000) -> str:
        with contextlib.suppress(OSError):
            return (self.folder / "server.log").read_text(errors="replace")[-chars:]
        return ""


def _checked(timeout_s: float) -> dict[str, object]:
    return {"check": True, "capture_output": True, "text": True, "timeout": timeout_s}


def _as_server_user(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@contextlib.contextmanager
def run_postgres(timeout_s: float = 60) -> Iterator[Postgres]:
    """initdb, start, yield, stop (immediate: the data is thrown away), remove the folder."""
    initdb, pg_ctl = find_binary("initdb"), find_binary("pg_ctl")
    if initdb is None or pg_ctl is None:
        raise FileNotFoundError("PostgreSQL's initdb/pg_ctl are not installed")
    # not under pytest's tmp folder: it is private to root, and the server runs as postgres
    folder = Path(tempfile.mkdtemp(prefix="chat-test-pg-"))
    data, sockets = folder / "data", folder / "sockets"
    sockets.mkdir()
    if os.geteuid() == 0:
        for path in (folder, sockets):
            shutil.chown(path, "postgres", "postgres")
    server = Postgres("127.0.0.1", free_port(), folder)
    run = {"check": True, "capture_output": True, "text": True, "timeout": timeout_s}
    started = False
    initdb_args = ["-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C"]
    options = (
        f"-p {server.port} -c listen_addresses={server.host} -k {sockets}"
        " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    )
    start_args = ["-o", options, "-l", str(folder / "server.log"), "-w"]
    server._pg_ctl = _as_server_user([str(pg_ctl), "-D", str(data)])
    server._start_args = start_args
    try:
        try:
            subprocess.run(_as_server_user([str(initdb), *initdb_args, "--no-sync"]), **run)
            timeout = ["-t", str(int(timeout_s))]
            subprocess.run([*server._pg_ctl, *start_args, *timeout, "start"], **run)
        except subprocess.CalledProcessError as exc:
            raise RuntimeError(
                f"PostgreSQL did not start: {exc.stderr or exc.stdout}\n{server.log_tail()}"
            ) from exc
        started = True
        yield server
    finally:
        if started:
            subprocess.run(
                _as_server_user([str(pg_ctl), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                capture_output=True,
                timeout=timeout_s,
            )
        shutil.rmtree(folder, ignore_errors=True)
