"""A ``redis-server`` that a test can restart on the same port mid-stream (data lost, as in a
real restart without persistence); other tests use the session server of ``tests/support/redis``.
A server that cannot start raises: the run fails, never skips.
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


class RedisServer:
    """One ``redis-server`` process on a fixed port; ``url`` for redis-py."""

    def __init__(self, port: int | None = None) -> None:
        binary = shutil.which("redis-server") or shutil.which("redis-server", path="/usr/sbin")
        if binary is None:
            raise RuntimeError("redis-server is not installed (make deps installs it)")
        self.binary = binary
        self.port = port or free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="chat-test-redis-"))
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def log_tail(self, chars: int = 3000) -> str:
        with contextlib.suppress(OSError):
            return (self.folder / "redis.log").read_text(errors="replace")[-chars:]
        return ""

    def start(self, timeout_s: float = 20) -> None:
        cmd = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        cmd += ["--save", "", "--appendonly", "no", "--dir", str(self.folder)]
        cmd += ["--logfile", str(self.folder / "redis.log")]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout_s
        while not self.ping():
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited early:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server not up in {timeout_s} s:\n{self.log_tail()}")
            time.sleep(0.05)

    def ping(self) -> bool:
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock,
        ):
            sock.sendall(b"*1\r\n$4\r\nPING\r\n")
            return sock.recv(64).startswith(b"+PONG")
        return False

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()  # no persistence: a kill is a restart's data loss
            self.proc.wait(10)
            self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()


@contextlib.contextmanager
def run_redis() -> Iterator[RedisServer]:
    """Start a server, yield it, stop it and remove its folder."""
    server = RedisServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.folder, ignore_errors=True)
