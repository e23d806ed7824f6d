"""A real Redis server for the tests: ``redis-server`` on a free 127.0.0.1 port, no persistence."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.servers import free_port, stop_process


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


@dataclass
class Redis:
    """A running server; ``url`` for redis-py (``redis://127.0.0.1:PORT/0``)."""

    host: str
    port: int
    folder: Path

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def log_tail(self, chars: int = 3000) -> str:
        with contextlib.suppress(OSError):
            return (self.folder / "redis.log").read_text(errors="replace")[-chars:]
        return ""


@contextlib.contextmanager
def run_redis(timeout_s: float = 20) -> Iterator[Redis]:
    """Start ``redis-server`` (no RDB, no AOF), wait for PONG, yield, stop it."""
    binary = find_binary()
    if binary is None:
        raise FileNotFoundError("redis-server is not installed")
    folder = Path(tempfile.mkdtemp(prefix="chat-test-redis-"))
    server = Redis("127.0.0.1", free_port(), folder)
    cmd = [str(binary), "--port", str(server.port), "--bind", server.host, "--dir", str(folder)]
    cmd += ["--save", "", "--appendonly", "no", "--daemonize", "no"]
    cmd += ["--logfile", str(folder / "redis.log")]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"redis-server exited early:\n{server.log_tail()}")
            with contextlib.suppress(OSError):
                if command(server, "PING", timeout_s=1).startswith(b"+PONG"):
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server not up in {timeout_s} s:\n{server.log_tail()}")
            time.sleep(0.05)
        yield server
    finally:
        stop_process(proc)
        shutil.rmtree(folder, ignore_errors=True)
