"""``streamlit run served_app.py``: the app as an ASGI app whose shared page says noindex."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import httpx
import pytest

from chat_core.settings_sources import SETTING_NAMES
from tests.support.servers import run_server

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def test_served_app_tags_the_shared_page_noindex_and_nothing_else(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in SETTING_NAMES}
    env["CHAT_DB_PATH"] = str(tmp_path / "chats.sqlite3")
    cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "served_app.py")]
    cmd += ["--server.port={port}", "--server.address=127.0.0.1", "--server.headless=true"]
    cmd += ["--browser.gatherUsageStats=false", "--server.fileWatcherType=none"]
    with (
        run_server(cmd, cwd=tmp_path, env=env, health_path="/_stcore/health") as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        shared = client.get("/shared", params={"t": "A" * 43})
        assert shared.status_code == 200 and "text/html" in shared.headers["content-type"]
        assert shared.headers["x-robots-tag"] == "noindex, nofollow"
        home = client.get("/")
        assert home.status_code == 200 and "x-robots-tag" not in home.headers
        assert home.text == shared.text  # one HTML page: the header is what differs
