"""The gateway under uvicorn on 127.0.0.1 with the offline back end: wire bytes, refusals, auth,
CORS, logs."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from httpx_sse import connect_sse

from chat_core.backends.offline import OfflineBackend
from chat_core.events import StreamEvent
from chat_core.gateway import GatewayConfig, create_app
from chat_core.gateway.config import MAX_BODY_BYTES
from chat_core.messages import (
    MAX_HISTORY_ITEMS,
    MAX_MESSAGE_CHARS,
    MAX_SYSTEM_CHARS,
    Conversation,
    GenerationParams,
    build_conversation,
)
from chat_core.wire import SSEMessage, SSEParser, encode_event
from tests.support.servers import serve_app

pytestmark = pytest.mark.integration

PATH = "/api/chat/stream"


class CountingBackend:
    """The offline model, counting how often it is asked (refusals must not ask it)."""

    name = "offline"

    def __init__(self, tokens_per_second: float = 2000) -> None:
        self.inner = OfflineBackend(tokens_per_second)
        self.calls = 0

    def stream(self, conversation: Conversation, params: GenerationParams) -> Iterator[StreamEvent]:
        self.calls += 1
        return self.inner.stream(conversation, params)

    def astream(
        self, conversation: Conversation, params: GenerationParams
    ) -> AsyncIterator[StreamEvent]:
        self.calls += 1
        return self.inner.astream(conversation, params)

    def list_models(self) -> list[str]:
        return self.inner.list_models()


def body_text(body: bytes) -> str:
    """The answer text in a raw event stream."""
    items = SSEParser().feed(body)
    return "".join(json.loads(m.data).get("chunk", "") for m in items if isinstance(m, SSEMessage))


def planned(prompt: str, history: list[dict[str, str]] | None = None) -> list[StreamEvent]:
    conversation = build_conversation(prompt, history or [])
    return [e for _, e in OfflineBackend().plan(conversation, GenerationParams())]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, CountingBackend]]:
    backend = CountingBackend()
    with serve_app(create_app(backend=backend, config=GatewayConfig())) as url:
        yield url, backend


@pytest.fixture
def gateway(served: tuple[str, CountingBackend]) -> Iterator[tuple[httpx.Client, CountingBackend]]:
    url, backend = served
    backend.calls = 0
    with httpx.Client(base_url=url, timeout=10) as client:
        yield client, backend


def test_post_streams_the_exact_bytes_of_protocol_v1(
    gateway: tuple[httpx.Client, CountingBackend],
) -> None:
    client, backend = gateway
    prompt = '/echo Hello \u2028 wörld 😀\n\ndata: {"done": true}'
    with client.stream("POST", PATH, json={"message": prompt}) as response:
        body = response.read()
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    assert "access-control-allow-origin" not in response.headers
    stream_id = response.headers["x-stream-id"]
    expected = b"".join(
        encode_event(stream_id, seq, event, retry_ms=1000 if seq == 1 else None)
        for seq, event in enumerate(planned(prompt), 1)
    )
    assert body == expected
    assert body.startswith(b"retry: 1000\nid: " + stream_id.encode() + b":1\ndata: ")
    assert body.endswith(b'data: {"done": true, "finish_reason": "stop"}\n\n')
    assert backend.calls == 1


def test_seed_client_over_get_reads_chunks_until_done(
    gateway: tuple[httpx.Client, CountingBackend],
) -> None:
    """What the seed's front end does: EventSource GET, onmessage, `chunk` and `done` only."""
    client, _ = gateway
    history = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    prompt = "What is SSE, in one line?"
    params = {"message": prompt, "history": json.dumps(history)}
    text, dones, ids = "", 0, []
    with connect_sse(client, "GET", PATH, params=params) as source:
        for sse in source.iter_sse():
            payload = json.loads(sse.data)  # every event's data is one JSON object
            ids.append(sse.id)
            if "chunk" in payload:
                text += payload["chunk"]
            if payload.get("done"):
                dones += 1
                break
    expected = planned(prompt, history)
    assert text == "".join(getattr(e, "text", "") for e in expected)
    assert "after 2 earlier messages" in text  # the history reached the model
    assert dones == 1
    stream_id = ids[0].split(":")[0]
    assert ids == [f"{stream_id}:{i}" for i in range(1, len(expected) + 1)]


def test_health_and_openapi_docs(gateway: tuple[httpx.Client, CountingBackend]) -> None:
    client, _ = gateway
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["backend"] == "offline"
    schema = client.get("/openapi.json").json()
    post = schema["paths"][PATH]["post"]
    body = post["requestBody"]["content"]["application/json"]["schema"]
    assert {"message", "history", "tools"} <= set(body["properties"])
    assert {"get", "post"} <= set(schema["paths"][PATH])
    documented = {p["name"] for p in schema["paths"][PATH]["get"]["parameters"]}
    assert {"message", "history", "ticket", "Last-Event-ID"} <= documented
    assert "delete" in schema["paths"][PATH + "/{stream_id}"]
    assert client.get("/docs").status_code == 200


LONG = "x" * (MAX_MESSAGE_CHARS + 1)
REFUSALS: list[tuple[str, dict[str, Any], int, str | None]] = [
    ("POST", {"content": b"{not json"}, 422, "body"),
    ("POST", {"json": ["a", "list"]}, 422, "body"),
    ("POST", {"json": {"history": []}}, 422, "message"),
    ("POST", {"json": {"message": "   "}}, 422, "message"),
    ("POST", {"json": {"message": 42}}, 422, "message"),
    ("POST", {"json": {"message": LONG}}, 413, "message"),
    ("POST", {"json": {"message": "hi", "history": "nope"}}, 422, "history"),
    (
        "POST",
        {
            "json": {
                "message": "hi",
                "history": [{"role": "user", "content": "a"}] * (MAX_HISTORY_ITEMS + 1),
            }
        },
        413,
        "history",
    ),
    (
        "POST",
        {"json": {"message": "hi", "history": [{"role": "wizard", "content": "a"}]}},
        422,
        "history[0].role",
    ),
    (
        "POST",
        {"json": {"message": "hi", "history": [{"role": "user", "content": LONG}]}},
        413,
        "history[0].content",
    ),
    (
        "POST",
        {"json": {"message": "hi", "history": [{"role": "user", "content": "a", "x": 1}]}},
        422,
        "history[0]",
    ),
    ("POST", {"json": {"message": "hi", "history": ["text"]}}, 422, "history[0]"),
    ("POST", {"json": {"message": "hi", "stream": True}}, 422, "stream"),
    ("POST", {"json": {"message": "hi", "temperature": 5}}, 422, "temperature"),
    ("POST", {"json": {"message": "hi", "temperature": "hot"}}, 422, "temperature"),
    ("POST", {"json": {"message": "hi", "max_tokens": 0}}, 422, "max_tokens"),
    ("POST", {"json": {"message": "hi", "max_tokens": 1.5}}, 422, "max_tokens"),
    ("POST", {"json": {"message": "hi", "model": 7}}, 422, "model"),
    ("POST", {"json": {"message": "hi", "system": "s" * (MAX_SYSTEM_CHARS + 1)}}, 413, "system"),
    ("POST", {"content": b" " * (MAX_BODY_BYTES + 1)}, 413, "body"),
    ("GET", {"params": {"history": "[]"}}, 422, "message"),
    ("GET", {"params": {"message": "hi", "history": "[{oops"}}, 422, "history"),
    ("GET", {"params": {"message": "hi", "history": '{"role": "user"}'}}, 422, "history"),
    ("GET", {"params": {"message": "hi", "temperature": "warm"}}, 422, "temperature"),
    ("GET", {"params": {"message": "hi", "max_tokens": "many"}}, 422, "max_tokens"),
    ("GET", {"params": {"message": "hi", "max_tokens": "999999"}}, 422, "max_tokens"),
]


@pytest.mark.parametrize(("method", "request_kwargs", "status", "field"), REFUSALS)
def test_bad_input_is_refused_before_the_back_end_is_asked(
    gateway: tuple[httpx.Client, CountingBackend],
    method: str,
    request_kwargs: dict[str, Any],
    status: int,
    field: str | None,
) -> None:
    client, backend = gateway
    response = client.request(method, PATH, **request_kwargs)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["field"] == field
    assert error["code"] == ("too_large" if status == 413 else "invalid")
    assert error["message"] and "Traceback" not in error["message"]
    assert backend.calls == 0
    assert client.get("/healthz").json()["active_streams"] == 0


def test_bearer_token_is_required_when_configured() -> None:
    backend = CountingBackend()
    app = create_app(backend=backend, config=GatewayConfig(token="s3cret"))
    with serve_app(app) as url, httpx.Client(base_url=url, timeout=10) as client:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret"}):
            response = client.post(PATH, json={"message": "hi"}, headers=headers)
            assert response.status_code == 401
            assert response.headers["www-authenticate"] == "Bearer"
            assert response.json()["error"]["field"] == "authorization"
        assert client.get(PATH, params={"message": "hi"}).status_code == 401
        assert client.get(PATH + "/abc", headers={"Last-Event-ID": "abc:1"}).status_code == 401
        assert client.delete(PATH + "/abc").status_code == 401
        assert backend.calls == 0
        assert client.get("/healthz").status_code == 200  # health checks need no token
        good = {"Authorization": "Bearer s3cret"}
        with client.stream("POST", PATH, json={"message": "/echo ok"}, headers=good) as response:
            assert response.status_code == 200
            assert b'"done": true' in response.read()
        assert backend.calls == 1


def test_no_cors_headers_unless_origins_are_configured(
    gateway: tuple[httpx.Client, CountingBackend],
) -> None:
    client, _ = gateway
    foreign = {"Origin": "https://evil.example"}
    with client.stream("POST", PATH, json={"message": "/echo x"}, headers=foreign) as response:
        response.read()
    assert not [h for h in response.headers if h.startswith("access-control-")]
    preflight = client.options(PATH, headers={**foreign, "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in preflight.headers


def test_configured_origins_get_cors_without_credentials() -> None:
    config = GatewayConfig(cors_origins=("https://app.example",))
    app = create_app(backend=CountingBackend(), config=config)
    with serve_app(app) as url, httpx.Client(base_url=url, timeout=10) as client:
        ok = client.post(
            PATH, json={"message": "/echo x"}, headers={"Origin": "https://app.example"}
        )
        assert ok.headers["access-control-allow-origin"] == "https://app.example"
        assert "x-stream-id" in ok.headers["access-control-expose-headers"].lower()
        assert "access-control-allow-credentials" not in ok.headers
        preflight = client.options(
            PATH,
            headers={
                "Origin": "https://app.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://app.example"
        evil = client.post(
            PATH, json={"message": "/echo x"}, headers={"Origin": "https://evil.example"}
        )
        assert "access-control-allow-origin" not in evil.headers


def test_concurrency_cap_answers_429_with_retry_after() -> None:
    backend = CountingBackend(tokens_per_second=20)
    app = create_app(backend=backend, config=GatewayConfig(max_streams=1))
    with serve_app(app) as url, httpx.Client(base_url=url, timeout=10) as client:
        with client.stream("POST", PATH, json={"message": "/lorem 200"}) as first:
            assert first.status_code == 200
            second = client.post(PATH, json={"message": "hi"})
            assert second.status_code == 429
            assert second.headers["retry-after"] == "1"
            assert second.json()["error"]["code"] == "busy"
            assert backend.calls == 1
            stream_id = first.headers["x-stream-id"]
            assert client.delete(f"{PATH}/{stream_id}").json()["cancelled"] is True
        third = client.post(PATH, json={"message": "/echo ok"})
        assert third.status_code == 200 and backend.calls == 2


def test_prompts_history_and_answers_never_reach_the_logs(
    gateway: tuple[httpx.Client, CountingBackend], caplog: pytest.LogCaptureFixture
) -> None:
    client, _ = gateway
    secret, past, answer = "PROMPT-SECRET-42", "HISTORY-SECRET-7", "ANSWER-SECRET-9"
    history = json.dumps([{"role": "user", "content": past}])
    with caplog.at_level(logging.DEBUG):
        with client.stream(
            "POST",
            PATH,
            json={"message": f"/echo {answer} {secret}", "history": json.loads(history)},
        ) as response:
            body = response.read()
            stream_id = response.headers["x-stream-id"]
        client.get(PATH, params={"message": secret, "history": history}).read()
        client.post(PATH, json={"message": secret, "temperature": 9})
        client.post(PATH, json={"message": secret, secret: 1})
    assert answer in body_text(body)  # the answer did stream
    # Everything the server side logged (the test's own httpx client logs its URLs).
    logged = "\n".join(
        f"{r.name} {r.getMessage()}" for r in caplog.records if not r.name.startswith("http")
    )
    assert stream_id in logged and "start" in logged and "end finish=stop" in logged
    assert "refused status=422" in logged
    for text in (secret, past, answer):
        assert text not in logged
