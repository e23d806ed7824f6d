"""``python -m chat_core.gateway`` as a real process: it serves, and its INFO log holds no
prompt, history or answer (not even uvicorn's access log of a seed-style GET)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import httpx
import pytest

from tests.support.servers import free_port

pytestmark = pytest.mark.integration


def test_gateway_process_serves_and_logs_ids_not_text(tmp_path: object) -> None:
    port = free_port()
    env = {
        **os.environ,
        "CHAT_BACKEND": "offline",
        "CHAT_OFFLINE_TPS": "2000",
        "CHAT_GATEWAY_MAX_STREAMS": "7",
    }
    env.pop("CHAT_GATEWAY_TOKEN", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "chat_core.gateway", "--host", "127.0.0.1", "--port", str(port)],
        cwd=tmp_path,  # no .env from the repository
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    secret, past = "PROMPT-SECRET-42", "HISTORY-SECRET-7"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, "the gateway exited early"
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the gateway did not start"
            time.sleep(0.1)
        with httpx.Client(base_url=base, timeout=10) as client:
            history = json.dumps([{"role": "user", "content": past}])
            seed = client.get("/api/chat/stream", params={"message": secret, "history": history})
            assert seed.status_code == 200 and b'"done": true' in seed.content
            posted = client.post("/api/chat/stream", json={"message": f"/echo {secret}"})
            assert posted.status_code == 200
            assert client.post("/api/chat/stream", json={"message": ""}).status_code == 422
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=15)
    assert "stream " in out and "end finish=stop" in out  # INFO lines about streams exist
    assert "GET /api/chat/stream?..." in out  # the access log is there, its query is not
    assert secret not in out and past not in out
    assert "SECRET" not in out
