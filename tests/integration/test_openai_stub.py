"""The OpenAI stub on the wire: raw HTTP against a real uvicorn server on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from chat_core import GenerationParams, OfflineBackend, answer_text, build_conversation
from chat_core.backends.offline_models import OFFLINE_MODEL_NAMES
from chat_core.messages import MAX_TOKENS_LIMIT
from chat_core.openai_stub import create_app
from chat_core.openai_stub.app import MAX_BODY_BYTES
from tests.support.servers import serve_app

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serve_app(create_app(tokens_per_second=1000)) as url:
        yield url


@pytest.fixture
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=10) as c:
        assert c.post("/_stub/reset").status_code == 200
        yield c


def body(prompt: str, **extra: Any) -> dict[str, Any]:
    return {"model": "gpt-test", "messages": [{"role": "user", "content": prompt}], **extra}


def offline_text(prompt: str, max_tokens: int = MAX_TOKENS_LIMIT) -> str:
    plan = OfflineBackend().plan(
        build_conversation(prompt), GenerationParams(max_tokens=max_tokens)
    )
    return answer_text([e for _, e in plan])


def sse_payloads(text: str) -> list[Any]:
    """The data of every SSE event, JSON-decoded except ``[DONE]``."""
    out: list[Any] = []
    for block in text.split("\n\n"):
        if block:
            assert block.startswith("data: "), block
            data = block[len("data: ") :]
            out.append(data if data == "[DONE]" else json.loads(data))
    return out


def content_of(chunks: list[Any]) -> str:
    return "".join(
        c["choices"][0]["delta"].get("content", "")
        for c in chunks
        if isinstance(c, dict) and c.get("choices")
    )


def stats(client: httpx.Client) -> dict[str, int]:
    result: dict[str, int] = client.get("/_stub/stats").json()
    return result


def wait_for(client: httpx.Client, name: str, value: int, timeout_s: float = 5.0) -> dict[str, int]:
    deadline = time.monotonic() + timeout_s
    while (current := stats(client))[name] != value and time.monotonic() < deadline:
        time.sleep(0.02)
    return current


def test_stream_with_usage(client: httpx.Client) -> None:
    prompt = "How do streams end?"
    r = client.post(
        "/v1/chat/completions",
        json=body(prompt, stream=True, stream_options={"include_usage": True}),
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    assert r.headers["cache-control"] == "no-cache"
    *chunks, usage_chunk, done = sse_payloads(r.text)
    assert done == "[DONE]"
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert chunks[-1]["choices"][0] == {
        "index": 0,
        "delta": {},
        "logprobs": None,
        "finish_reason": "stop",
    }
    assert all(c["choices"][0]["finish_reason"] is None for c in chunks[:-1])
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
    assert {c["id"] for c in [*chunks, usage_chunk]} == {chunks[0]["id"]}
    assert {c["model"] for c in chunks} == {"gpt-test"}
    assert all(c["usage"] is None for c in chunks)
    assert content_of(chunks) == offline_text(prompt)
    assert usage_chunk["choices"] == []
    usage = usage_chunk["usage"]
    assert usage["completion_tokens"] == len(chunks) - 2  # one chunk per token
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert stats(client) == {
        "requests": 1,
        "streams_started": 1,
        "streams_completed": 1,
        "streams_disconnected": 0,
        "streams_dropped": 0,
        "active_streams": 0,
    }


def test_stream_without_usage_has_no_usage_chunk(client: httpx.Client) -> None:
    r = client.post("/v1/chat/completions", json=body("hi", stream=True))
    *chunks, done = sse_payloads(r.text)
    assert done == "[DONE]"
    assert all("usage" not in c for c in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


def test_non_streaming_completion(client: httpx.Client) -> None:
    prompt = "What is a completion?"
    r = client.post("/v1/chat/completions", json=body(prompt))
    assert r.status_code == 200
    data = r.json()
    assert data["object"] == "chat.completion"
    choice = data["choices"][0]
    assert choice["message"]["role"] == "assistant"
    assert choice["message"]["content"] == offline_text(prompt)
    assert choice["finish_reason"] == "stop"
    assert data["usage"]["total_tokens"] == sum(
        data["usage"][k] for k in ("prompt_tokens", "completion_tokens")
    )
    assert stats(client)["streams_started"] == 0


@pytest.mark.parametrize("name", ["max_tokens", "max_completion_tokens"])
def test_max_tokens_finishes_with_length(client: httpx.Client, name: str) -> None:
    r = client.post("/v1/chat/completions", json=body("Tell me a long story", **{name: 5}))
    choice = r.json()["choices"][0]
    assert choice["finish_reason"] == "length"
    assert choice["message"]["content"] == offline_text("Tell me a long story", 5)
    r = client.post("/v1/chat/completions", json=body("story", stream=True, **{name: 3}))
    *chunks, _ = sse_payloads(r.text)
    assert len(chunks) == 1 + 3 + 1  # role, three tokens, finish
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"


def test_system_messages_parts_and_trailing_assistant(client: httpx.Client) -> None:
    messages = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": [{"type": "text", "text": "Why is the sky blue?"}]},
        {"role": "assistant", "content": "Partial ans"},
    ]
    r = client.post("/v1/chat/completions", json={"model": "m", "messages": messages})
    assert r.json()["choices"][0]["message"]["content"] == offline_text("Why is the sky blue?")


@pytest.mark.parametrize(
    ("payload", "param", "code"),
    [
        ({"messages": [{"role": "user", "content": "x"}]}, None, None),
        ({"model": "m"}, "messages", "missing_required_parameter"),
        ({"model": "m", "messages": []}, "messages", "empty_array"),
        ({"model": "m", "messages": "hi"}, "messages", "invalid_type"),
        ({"model": "m", "messages": ["hi"]}, "messages[0]", "invalid_type"),
        (
            {"model": "m", "messages": [{"role": "bot", "content": "x"}]},
            "messages[0].role",
            "invalid_value",
        ),
        (
            {"model": "m", "messages": [{"role": "user", "content": 3}]},
            "messages[0].content",
            "invalid_type",
        ),
        ({"model": "m", "messages": [{"role": "system", "content": "x"}]}, "messages", None),
        ({**body("x"), "model": 7}, "model", "invalid_type"),
        ({**body("x"), "temperature": 3}, "temperature", "decimal_above_max_value"),
        ({**body("x"), "temperature": "hot"}, "temperature", "invalid_type"),
        ({**body("x"), "max_tokens": 0}, "max_tokens", "integer_below_min_value"),
        ({**body("x"), "max_tokens": 10**9}, "max_tokens", "invalid_value"),
        ({**body("x"), "stream": "yes"}, "stream", "invalid_type"),
        (
            {**body("x"), "stream_options": {"include_usage": True}},
            "stream_options",
            "invalid_value",
        ),
        ({**body("x"), "n": 2}, "n", "invalid_value"),
        ({**body("x"), "bogus": 1}, None, None),
        ([1, 2], None, "invalid_type"),
    ],
)
def test_bad_bodies_get_openai_shaped_400s(
    client: httpx.Client, payload: Any, param: str | None, code: str | None
) -> None:
    r = client.post("/v1/chat/completions", json=payload)
    assert r.status_code == 400
    error = r.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "invalid_request_error"
    assert (error["param"], error["code"]) == (param, code)
    assert error["message"]
    assert stats(client)["requests"] == 1  # refused requests are still counted


def test_invalid_json_and_oversized_bodies(client: httpx.Client) -> None:
    r = client.post(
        "/v1/chat/completions", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert r.status_code == 400
    assert "JSON" in r.json()["error"]["message"]
    r = client.post("/v1/chat/completions", content=b"x" * (MAX_BODY_BYTES + 1))
    assert r.status_code == 413
    assert r.json()["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize(
    ("kind", "status", "type_", "code"),
    [
        ("auth", 401, "invalid_request_error", "invalid_api_key"),
        ("rate_limit", 429, "requests", "rate_limit_exceeded"),
        ("server", 500, "server_error", None),
        ("bad_request", 400, "invalid_request_error", None),
        ("timeout", 408, "timeout", None),
    ],
)
@pytest.mark.parametrize("stream", [True, False])
def test_error_directives_become_http_errors(
    client: httpx.Client, kind: str, status: int, type_: str, code: str | None, stream: bool
) -> None:
    r = client.post("/v1/chat/completions", json=body(f"/error {kind}\nhi", stream=stream))
    assert r.status_code == status
    error = r.json()["error"]
    assert (error["type"], error["code"], error["param"]) == (type_, code, None)
    assert "simulated" in error["message"]
    if kind == "rate_limit":
        assert r.headers["retry-after"] == "1"
        assert r.headers["retry-after-ms"] == "50"
    assert stats(client)["streams_started"] == 0


def test_error_times_k_fails_the_first_k_requests(client: httpx.Client) -> None:
    payload = body("/error server times 2\nthe times test", stream=True)
    codes = [client.post("/v1/chat/completions", json=payload).status_code for _ in range(3)]
    assert codes == [500, 500, 200]
    assert stats(client)["requests"] == 3


def test_error_after_n_is_an_in_stream_error_event(client: httpx.Client) -> None:
    r = client.post("/v1/chat/completions", json=body("/error rate_limit after 3\nhi", stream=True))
    assert r.status_code == 200
    *chunks, last = sse_payloads(r.text)
    assert len(chunks) == 1 + 3  # role chunk, then three tokens, then the error; no [DONE]
    assert (
        content_of(chunks)
        == offline_text("/error rate_limit after 3\nhi")[: len(content_of(chunks))]
    )
    assert last["error"]["code"] == "rate_limit_exceeded"
    assert "simulated" in last["error"]["message"]
    assert stats(client)["streams_completed"] == 1


@pytest.mark.parametrize("prompt", ["/drop after 2\nhi", "/error connection after 2\nhi"])
def test_drop_cuts_the_connection_mid_body(client: httpx.Client, prompt: str) -> None:
    received = b""
    with client.stream("POST", "/v1/chat/completions", json=body(prompt, stream=True)) as r:
        assert r.status_code == 200
        with pytest.raises(httpx.RemoteProtocolError):
            for part in r.iter_bytes():
                received += part
    chunks = sse_payloads(received.decode())
    assert len(chunks) == 3  # role chunk and two tokens; no finish chunk, no [DONE]
    assert chunks[-1]["choices"][0]["finish_reason"] is None
    assert wait_for(client, "streams_dropped", 1)["streams_dropped"] == 1


def test_drop_without_streaming_cuts_before_the_body(client: httpx.Client) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        client.post("/v1/chat/completions", json=body("/drop\nhi"))


def test_client_going_away_during_a_stall_is_seen_at_once(client: httpx.Client) -> None:
    payload = body("/stall 60 after 2\n/lorem 10", stream=True)
    with client.stream("POST", "/v1/chat/completions", json=payload) as r:
        lines = r.iter_lines()
        assert (
            json.loads(next(lines)[len("data: ") :])["choices"][0]["delta"]["role"] == "assistant"
        )
        assert stats(client)["active_streams"] == 1
    after = wait_for(client, "streams_disconnected", 1)
    assert after["streams_disconnected"] == 1
    assert after["active_streams"] == 0
    assert after["streams_completed"] == 0


def test_stats_reset(client: httpx.Client) -> None:
    client.post("/v1/chat/completions", json=body("one", stream=True))
    assert stats(client)["streams_completed"] == 1
    assert client.post("/_stub/reset").json() == dict.fromkeys(stats(client), 0)
    assert set(stats(client).values()) == {0}


def test_models_health_and_unknown_paths(client: httpx.Client) -> None:
    models = client.get("/v1/models").json()
    assert models["object"] == "list"
    assert [m["id"] for m in models["data"]] == list(OFFLINE_MODEL_NAMES)  # named characters
    assert models["data"][0]["object"] == "model"
    assert client.get("/healthz").json() == {"status": "ok"}
    r = client.get("/v1/nothing")
    assert r.status_code == 404
    assert r.json()["error"]["message"] == "Invalid URL (GET /v1/nothing)"
    assert client.get("/v1/chat/completions").status_code == 405


def test_prompts_are_not_logged(client: httpx.Client, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        client.post("/v1/chat/completions", json=body("zebra-secret-prompt", stream=True))
        client.post("/v1/chat/completions", json=body("/error auth\nokapi-secret-prompt"))
        with pytest.raises(httpx.RemoteProtocolError):
            client.post("/v1/chat/completions", json=body("/drop after 1\ntapir", stream=True))
    assert "chat completion" in caplog.text  # the stub did log, just not the prompt
    for secret in ("zebra", "okapi", "tapir"):
        assert secret not in caplog.text
