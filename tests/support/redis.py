"""A real Redis server for the tests: ``redis-server`` on a free 127.0.0.1 port, no persistence.

The session fixture (``tests/conftest.py``) shares one; a test that restarts Redis
mid-stream starts its own with ``run_redis``. A server that cannot start raises: the
run fails, never skips.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from tests.support.servers import free_port


def find_binary() -> Path | None:
    """``redis-server``, or None when it is not installed."""
    found = shutil.which("redis-server") or shutil.which("redis-server", path="/usr/bin:/usr/sbin")
    return Path(found) if found else None


def command(redis: Redis, name: str, *args: str, timeout_s: float = 5) -> bytes:
    """Send one command in RESP and return the raw reply (enough to check a server is up)."""
    parts = [name, *args]
    payload = f"*{len(parts)}\r\n" + "".join(f"${len(p.encode())}\r\n{p}\r\n" for p in parts)
    with socket.create_connection((redis.host, redis.port), timeout=timeout_s) as sock:
        sock.sendall(payload.encode())
        return sock.recv(65536)


class Redis:
    """One ``redis-server`` on a fixed 127.0.0.1 port; ``url`` for redis-py.

    ``restart`` kills it and starts it again on the same port: with no persistence its
    data is lost, as in a real restart.
    """

    def __init__(self, port: int | None = None) -> None:
        binary = find_binary()
        if binary is None:
            raise FileNotFoundError("redis-server is not installed (make deps installs it)")
        self.binary = binary
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="chat-test-redis-"))
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def log_tail(self, chars: int = 3000) -> str:
        with contextlib.suppress(OSError):
            return (self.folder / "redis.log").read_text(errors="replace")[-chars:]
        return ""

    def start(self, timeout_s: float = 20) -> None:
        """Start it (no RDB, no AOF) and wait for PONG."""
        cmd = [str(self.binary), "--port", str(self.port), "--bind", self.host]
        cmd += ["--dir", str(self.folder), "--save", "", "--appendonly", "no"]
        cmd += ["--daemonize", "no", "--logfile", str(self.folder / "redis.log")]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout_s
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited early:\n{self.log_tail()}")
            with contextlib.suppress(OSError):
                if command(self, "PING", timeout_s=1).startswith(b"+PONG"):
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server not up in {timeout_s} s:\n{self.log_tail()}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()  # no persistence: a kill is a restart's data loss
            self.proc.wait(10)
            self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()


@contextlib.contextmanager
def run_redis() -> Iterator[Redis]:
    """Start a server, yield it, stop it and remove its folder."""
    server = Redis()
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.folder, ignore_errors=True)
