"""The gateway's defences over real sockets on 127.0.0.1: no public bind without a token,
a deadline for receiving each request (raw-socket tricklers and silent clients are cut),
per-client limits (429 for one client while another gets 200), the model allow-list and
max_tokens cap, and one-use tickets for EventSource clients that still resume."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from chat_core.backends.offline import OfflineBackend
from chat_core.gateway import GatewayConfig, create_app
from chat_core.gateway.deadline import deadline_protocol, default_parser
from chat_core.settings_sources import SETTING_NAMES
from tests.support.servers import run_server, serve_app

pytestmark = pytest.mark.integration
TOKEN = "gw-token-for-tests"
CUT_WITHIN_S = 20.0  # generous: the deadline is 1 s; only "it was cut at all" is asserted


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SETTING_NAMES}
    return {**env, "CHAT_BACKEND": "offline", "CHAT_OFFLINE_TPS": "2000", **extra}


@contextlib.contextmanager
def gateway(
    request_timeout_s: float = 10.0, parser: str | None = None, **config: object
) -> Iterator[str]:
    app = create_app(
        backend=OfflineBackend(tokens_per_second=2000),
        config=GatewayConfig(request_timeout_s=request_timeout_s, **config),  # type: ignore[arg-type]
    )
    with serve_app(app, http=deadline_protocol(request_timeout_s, parser)) as url:
        yield url


def address(url: str) -> tuple[str, int]:
    parsed = httpx.URL(url)
    return parsed.host, parsed.port or 80


# -- no token, no public bind ----------------------------------------------------------
def test_a_public_host_without_a_token_exits_before_binding(tmp_path: Path) -> None:
    with socket.socket() as held:  # had it tried to bind, it would fail with "in use"
        held.bind(("0.0.0.0", 0))
        port = held.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "chat_core.gateway", "--host", "0.0.0.0", "--port", str(port)],
            cwd=tmp_path,
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode != 0
    assert "without CHAT_GATEWAY_TOKEN" in done.stderr and "--insecure-no-auth" in done.stderr
    assert "in use" not in done.stderr + done.stdout and "Uvicorn running" not in done.stderr


def test_insecure_no_auth_warns_loudly_then_binds(tmp_path: Path) -> None:
    with socket.socket() as held:  # held, so the bind that follows fails: nothing is served
        held.bind(("0.0.0.0", 0))
        port = held.getsockname()[1]
        cmd = [sys.executable, "-m", "chat_core.gateway", "--host", "0.0.0.0", "--port", str(port)]
        done = subprocess.run(
            [*cmd, "--insecure-no-auth"],
            cwd=tmp_path,
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert "INSECURE" in done.stderr and "NO AUTHENTICATION" in done.stderr
    assert "in use" in done.stderr  # it went on to bind: the flag was honoured


# -- the request deadline --------------------------------------------------------------
# The same deadline over both of uvicorn's parsers: httptools (C, the default when
# installed) and h11 (pure Python).
PARSERS = pytest.mark.parametrize("parser", ["httptools", "h11"])


def cut(sock: socket.socket, trickle: bytes, every_s: float) -> tuple[bool, bytes, int]:
    """Send ``trickle`` one byte at a time; (closed by the server, what it said, bytes sent)."""
    sock.settimeout(every_s)
    deadline = time.monotonic() + CUT_WITHIN_S
    sent, received = 0, b""
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(4096)
        except TimeoutError:
            chunk = None
        except ConnectionResetError:
            return True, received, sent
        if chunk == b"":
            return True, received, sent
        if chunk:
            received += chunk
            continue
        if sent < len(trickle):
            try:
                sock.sendall(trickle[sent : sent + 1])
            except (BrokenPipeError, ConnectionResetError):
                return True, received, sent
            sent += 1
    return False, received, sent


@PARSERS
def test_a_silent_client_is_cut_with_a_408(parser: str) -> None:
    with (
        gateway(request_timeout_s=1.0, parser=parser) as url,
        socket.create_connection(address(url)) as sock,
    ):
        closed, said, _ = cut(sock, b"", 0.2)
    assert closed, "a client that sends nothing kept its connection"
    assert said.startswith(b"HTTP/1.1 408")


@PARSERS
def test_a_client_trickling_its_headers_is_cut(parser: str) -> None:
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 200 + b"\r\n\r\n"
    with (
        gateway(request_timeout_s=1.0, parser=parser) as url,
        socket.create_connection(address(url)) as sock,
    ):
        closed, said, sent = cut(sock, request, 0.3)
    assert closed, "a trickling client kept its connection"
    assert sent < len(request) and b"200 OK" not in said


@PARSERS
def test_a_client_trickling_its_body_is_cut_before_any_stream_starts(parser: str) -> None:
    body = json.dumps({"message": "/lorem 5"}).encode() + b" " * 100
    head = (
        b"POST /api/chat/stream HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
    )
    with (
        gateway(request_timeout_s=1.0, parser=parser) as url,
        socket.create_connection(address(url)) as sock,
    ):
        sock.sendall(head)
        closed, said, sent = cut(sock, body, 0.3)
        health = httpx.get(url + "/healthz").json()
    assert closed and sent < len(body)
    assert b"text/event-stream" not in said and health["active_streams"] == 0


@PARSERS
def test_a_prompt_client_and_a_kept_alive_connection_are_not_cut(parser: str) -> None:
    """The deadline is per request: a long stream and a later request on the same
    connection are fine."""
    with gateway(request_timeout_s=1.0, parser=parser) as url, httpx.Client(base_url=url) as client:
        assert client.get("/healthz").status_code == 200
        streamed = client.post("/api/chat/stream", json={"message": "/stall 1.5\n/lorem 3"})
        assert b'"done": true' in streamed.content
        assert client.get("/healthz").status_code == 200


def test_the_cli_gateway_applies_its_configured_deadline(tmp_path: Path) -> None:
    env = clean_env(CHAT_GATEWAY_REQUEST_TIMEOUT_S="1")
    cmd = [sys.executable, "-m", "chat_core.gateway", "--host", "127.0.0.1", "--port", "{port}"]
    with (
        run_server(cmd, cwd=tmp_path, env=env, health_path="/healthz") as server,
        socket.create_connection(address(server.url)) as sock,
    ):
        closed, said, _ = cut(sock, b"GET /healthz HTTP/1.1\r\n", 0.3)
    assert closed and said.startswith(b"HTTP/1.1 408")


def test_the_cli_gateway_parses_with_httptools_when_installed() -> None:
    """The default entry point takes uvicorn's C parser (a third of the CPU under a burst
    was pure-Python h11), still with the deadline."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    protocol = deadline_protocol(1.0, default_parser())
    assert default_parser() == "httptools" and issubclass(protocol, HttpToolsProtocol)
    with pytest.raises(ValueError, match="parser"):
        deadline_protocol(1.0, "picohttp")


# -- per-client limits -----------------------------------------------------------------
def from_address(url: str, local: str) -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=local)
    return httpx.Client(base_url=url, transport=transport, timeout=30)


def test_concurrent_streams_are_limited_per_client() -> None:
    with (
        gateway(client_streams=2, client_starts=0) as url,
        from_address(url, "127.0.0.1") as first,
        from_address(url, "127.0.0.2") as second,
        contextlib.ExitStack() as held,
    ):
        for _ in range(2):  # two long answers held open by the first client
            response = held.enter_context(
                first.stream("POST", "/api/chat/stream", json={"message": "/stall 30"})
            )
            assert response.status_code == 200
        refused = first.post("/api/chat/stream", json={"message": "hi"})
        other = second.post("/api/chat/stream", json={"message": "/lorem 3"})
        assert other.status_code == 200 and b'"done": true' in other.content
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    error = refused.json()["error"]
    assert error["limit"] == "CHAT_GATEWAY_CLIENT_STREAMS" and error["code"] == "client_limit"


def test_starts_per_minute_are_limited_per_client() -> None:
    with (
        gateway(client_streams=0, client_starts=3) as url,
        from_address(url, "127.0.0.1") as first,
        from_address(url, "127.0.0.3") as second,
    ):
        statuses = [
            first.post("/api/chat/stream", json={"message": "hi"}).status_code for _ in range(3)
        ]
        refused = first.post("/api/chat/stream", json={"message": "hi"})
        assert second.post("/api/chat/stream", json={"message": "hi"}).status_code == 200
    assert statuses == [200, 200, 200]
    assert refused.status_code == 429 and 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.json()["error"]["limit"] == "CHAT_GATEWAY_CLIENT_STARTS"


# -- what clients may ask --------------------------------------------------------------
def test_the_model_allow_list_and_the_max_tokens_cap() -> None:
    with (
        gateway(models=("offline-scripted",), max_tokens=5) as url,
        httpx.Client(base_url=url) as c,
    ):
        refused = c.post("/api/chat/stream", json={"message": "hi", "model": "gpt-5-pro"})
        seed = c.get("/api/chat/stream", params={"message": "hi", "model": "o3"})
        capped = c.post(
            "/api/chat/stream",
            json={
                "message": "/echo " + "word " * 50,
                "model": "offline-scripted",
                "max_tokens": 4000,
            },
        )
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "model"
    assert "offline-scripted" in refused.json()["error"]["message"]
    assert seed.status_code == 422 and seed.json()["error"]["field"] == "model"
    assert capped.status_code == 200
    assert b'"finish_reason": "length"' in capped.content
    assert capped.text.count('"chunk"') == 5


# -- tickets for EventSource -----------------------------------------------------------
def take_ticket(client: httpx.Client) -> str:
    response = client.post("/api/chat/ticket", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200 and response.json()["expires_in"] == 60
    assert response.headers["cache-control"] == "no-store"
    ticket: str = response.json()["ticket"]
    return ticket


def test_a_ticket_starts_one_stream_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="chat_core.gateway")
    with gateway(token=TOKEN) as url, httpx.Client(base_url=url, timeout=30) as client:
        assert client.post("/api/chat/ticket").status_code == 401
        assert client.get("/api/chat/stream", params={"message": "hi"}).status_code == 401
        ticket = take_ticket(client)
        query = {"message": "/lorem 5", "ticket": ticket}
        first = client.get("/api/chat/stream", params=query)
        again = client.get("/api/chat/stream", params=query)
        forged = client.get("/api/chat/stream", params={**query, "ticket": ticket[:-2] + "xx"})
    assert first.status_code == 200 and b'"done": true' in first.content
    assert again.status_code == 401 and forged.status_code == 401
    assert ticket not in caplog.text and "/lorem" not in caplog.text


def test_a_ticket_expires() -> None:
    with gateway(token=TOKEN, ticket_ttl_s=0.3) as url, httpx.Client(base_url=url) as client:
        ticket = take_ticket_any(client)
        time.sleep(0.6)
        late = client.get("/api/chat/stream", params={"message": "hi", "ticket": ticket})
    assert late.status_code == 401 and "expired" in late.json()["error"]["message"]


def take_ticket_any(client: httpx.Client) -> str:
    response = client.post("/api/chat/ticket", headers={"Authorization": f"Bearer {TOKEN}"})
    ticket: str = response.json()["ticket"]
    return ticket


def test_a_used_ticket_resumes_its_own_stream_and_no_other() -> None:
    """What an EventSource does after ``/drop``: the same URL again, plus Last-Event-ID."""
    with gateway(token=TOKEN) as url, httpx.Client(base_url=url, timeout=30) as client:
        ticket = take_ticket(client)
        query = {"message": "/drop after 3\n/lorem 12", "ticket": ticket}
        cut_short = client.get("/api/chat/stream", params=query)
        ids = [line[4:] for line in cut_short.text.splitlines() if line.startswith("id: ")]
        assert len(ids) == 3 and b'"done"' not in cut_short.content
        resumed = client.get("/api/chat/stream", params=query, headers={"Last-Event-ID": ids[-1]})
        other = client.post(
            "/api/chat/stream", json={"message": "hi"}, headers={"Authorization": f"Bearer {TOKEN}"}
        )
        other_id = other.headers["x-stream-id"]
        stolen = client.get(
            "/api/chat/stream", params=query, headers={"Last-Event-ID": f"{other_id}:1"}
        )
    assert resumed.status_code == 200 and b'"done": true' in resumed.content
    assert f"id: {ids[0].split(':')[0]}:4" in resumed.text  # right after the last one seen
    assert stolen.status_code == 401
