"""Streamlit's own settings: uploads capped at the import limit, XSRF and CORS protection on,
and ``make run``'s allowed hosts refusing a websocket whose Host is another site's name (what
a DNS-rebinding page sends) while the app's own name connects."""

from __future__ import annotations

import base64
import os
import re
import socket
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from chat_core.settings_sources import SETTING_NAMES
from chat_core.storage.transfer import MAX_IMPORT_BYTES
from tests.support.servers import Server, run_server

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def test_the_config_caps_uploads_at_the_import_limit_and_keeps_xsrf_on() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["server"]
    assert config["maxUploadSize"] * 1024 * 1024 == MAX_IMPORT_BYTES
    assert config["enableXsrfProtection"] is True and config["enableCORS"] is True


def make_run_flags() -> list[str]:
    """The extra flags ``make run`` passes to ``streamlit run`` (its ALLOWED_HOSTS)."""
    line = re.search(r"^ALLOWED_HOSTS := (.+)$", (ROOT / "Makefile").read_text(), re.M)
    assert line is not None, "the Makefile has no ALLOWED_HOSTS for make run"
    return line.group(1).split()


@pytest.fixture(scope="module")
def make_run_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("make-run")
    env = {k: v for k, v in os.environ.items() if k not in SETTING_NAMES}
    env["CHAT_DB_PATH"] = str(workdir / "chats.sqlite3")
    cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "streamlit_app.py"),
           "--server.address", "127.0.0.1", "--server.port", "{port}",
           "--server.headless", "true", "--browser.gatherUsageStats", "false",
           *make_run_flags()]  # fmt: skip
    with run_server(cmd, cwd=workdir, env=env, health_path="/_stcore/health") as server:
        yield server


def websocket_status(server: Server, host: str) -> int:
    """The status line's code for a websocket upgrade to the app with this Host header."""
    url = httpx.URL(server.url)
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET /_stcore/stream HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"Origin: http://{host}\r\n\r\n"
    )
    with socket.create_connection((url.host, url.port), timeout=20) as sock:
        sock.sendall(request.encode())
        head = b""
        while b"\r\n" not in head:
            chunk = sock.recv(1024)
            if not chunk:
                break
            head += chunk
    match = re.match(rb"HTTP/1\.1 (\d{3})", head)
    return int(match.group(1)) if match else 0


def test_make_run_refuses_a_rebound_host_name(make_run_app: Server) -> None:
    port = httpx.URL(make_run_app.url).port
    assert websocket_status(make_run_app, f"127.0.0.1:{port}") == 101
    assert websocket_status(make_run_app, f"localhost:{port}") == 101
    assert websocket_status(make_run_app, f"attacker.example:{port}") != 101
