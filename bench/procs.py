"""Server subprocesses on 127.0.0.1 for the benchmarks, and their memory."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.report import ROOT
from chat_core.settings_sources import SETTING_NAMES

PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in SETTING_NAMES
    }  # no developer's key or settings
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def gateway_env(max_streams: int, **extra: str) -> dict[str, str]:
    """Our gateway on the offline model, loaded from this one machine: per-client limits off."""
    return clean_env(
        CHAT_BACKEND="offline",
        CHAT_GATEWAY_MAX_STREAMS=str(max_streams),
        CHAT_GATEWAY_CLIENT_STREAMS="0",
        CHAT_GATEWAY_CLIENT_STARTS="0",
        **extra,
    )


def rss_kb(pid: int, field: str = "VmRSS") -> int:
    """A process's resident memory (VmRSS) or its peak (VmHWM), in KiB; 0 when gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


@dataclass
class Server:
    url: str
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log_tail(self, chars: int = 3000) -> str:
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")[-chars:]
        return ""


class PeakRss:
    """Samples a process's RSS every ``every_s`` in a thread; ``peak_kb`` is the largest seen."""

    def __init__(self, pid: int, every_s: float = 0.1) -> None:
        self.pid, self.every_s, self.peak_kb = pid, every_s, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.wait(self.every_s):
            self.peak_kb = max(self.peak_kb, rss_kb(self.pid))

    def __enter__(self) -> PeakRss:
        self.peak_kb = rss_kb(self.pid)
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(2)
        self.peak_kb = max(self.peak_kb, rss_kb(self.pid))


@contextlib.contextmanager
def server(
    cmd: list[str],
    *,
    workdir: Path,
    env: dict[str, str],
    health_path: str,
    timeout_s: float = 60,
) -> Iterator[Server]:
    """Start ``cmd`` (``{port}`` is filled in), wait until healthy, stop it afterwards."""
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / f"server-{port}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [a.format(port=port) for a in cmd],
            cwd=workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    srv = Server(f"http://127.0.0.1:{port}", port, proc, log_path)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{cmd[:4]} exited early:\n{srv.log_tail()}")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(srv.url + health_path, timeout=2) as response,
            ):
                if response.status == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{cmd[:4]} not healthy in {timeout_s} s:\n{srv.log_tail()}")
            time.sleep(0.2)
        yield srv
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
