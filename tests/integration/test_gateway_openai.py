"""The gateway over the OpenAI back end (AsyncOpenAI) against the OpenAI stub, both under
uvicorn on 127.0.0.1: the stub counts requests and sees every upstream connection close."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from chat_core.backends.offline import OfflineBackend
from chat_core.backends.openai import OpenAIBackend
from chat_core.backends.remote import RemoteBackend
from chat_core.gateway import GatewayConfig, create_app
from chat_core.messages import GenerationParams, build_conversation
from chat_core.openai_stub import create_app as create_stub
from chat_core.runs import RunRegistry, start_run
from chat_core.wire import encode_event
from tests.integration.test_resume import iter_events, read_events, text_of
from tests.support.polling import wait_for
from tests.support.servers import serve_app

pytestmark = pytest.mark.integration

PATH = "/api/chat/stream"


@pytest.fixture(scope="module")
def urls() -> Iterator[tuple[str, str]]:
    with serve_app(create_stub(tokens_per_second=150)) as stub_url:
        backend = OpenAIBackend(
            api_key="test-key", base_url=stub_url + "/v1", model="gpt-test", max_retries=0
        )
        with serve_app(create_app(backend=backend, config=GatewayConfig())) as gateway_url:
            yield gateway_url, stub_url


@pytest.fixture
def clients(urls: tuple[str, str]) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    gateway_url, stub_url = urls
    with (
        httpx.Client(base_url=gateway_url, timeout=10) as gateway,
        httpx.Client(base_url=stub_url, timeout=10) as stub,
    ):
        stub.post("/_stub/reset").raise_for_status()
        yield gateway, stub


def stats(stub: httpx.Client) -> dict[str, int]:
    result: dict[str, int] = stub.get("/_stub/stats").json()
    return result


def test_exact_events_through_asyncopenai_and_the_stub(
    clients: tuple[httpx.Client, httpx.Client],
) -> None:
    gateway, stub = clients
    prompt = "/echo Hello wörld 😀 \u2028 한국어"
    with gateway.stream("POST", PATH, json={"message": prompt}) as response:
        body = response.read()
    stream_id = response.headers["x-stream-id"]
    plan = [e for _, e in OfflineBackend().plan(build_conversation(prompt), GenerationParams())]
    expected = b"".join(
        encode_event(stream_id, seq, event, retry_ms=1000 if seq == 1 else None)
        for seq, event in enumerate(plan, 1)
    )
    assert body == expected  # chunks, the usage the stub reported, done
    assert stats(stub)["requests"] == 1 and stats(stub)["streams_completed"] == 1


def test_refusals_never_reach_the_stub(clients: tuple[httpx.Client, httpx.Client]) -> None:
    gateway, stub = clients
    bad: list[dict[str, Any]] = [
        {"json": {"message": ""}},
        {"json": {"message": "hi", "history": [{"role": "robot", "content": "x"}]}},
        {"json": {"message": "hi", "max_tokens": 10**9}},
        {"content": b"{"},
    ]
    for kwargs in bad:
        assert gateway.post(PATH, **kwargs).status_code == 422
    assert gateway.get(PATH, params={"message": "hi", "history": "]["}).status_code == 422
    assert stats(stub)["requests"] == 0


def test_delete_closes_the_upstream_connection_and_keeps_the_partial_answer(
    clients: tuple[httpx.Client, httpx.Client],
) -> None:
    gateway, stub = clients
    with gateway.stream("POST", PATH, json={"message": "/lorem 600"}) as response:
        stream_id = response.headers["x-stream-id"]
        events = iter_events(response)
        first = list(itertools.islice(events, 3))
        assert stats(stub)["active_streams"] == 1
        cancelled = gateway.delete(f"{PATH}/{stream_id}").json()
        assert cancelled["cancelled"] is True and cancelled["finish_reason"] == "cancelled"
        # the stub saw its client (the gateway's AsyncOpenAI) go away: no more tokens billed
        assert wait_for(lambda: stats(stub)["streams_disconnected"] == 1)
        assert stats(stub)["active_streams"] == 0
        rest = list(events)  # the attached client gets the end too
    assert rest[-1] == (rest[-1][0], {"done": True, "finish_reason": "cancelled"})
    partial = text_of(first + rest)
    assert len(partial) >= len(text_of(first)) > 0
    headers = {"Last-Event-ID": f"{stream_id}:0"}
    with gateway.stream("GET", f"{PATH}/{stream_id}", headers=headers) as again:
        assert text_of(read_events(again)) == partial  # kept as received
    assert stats(stub)["requests"] == 1


def test_a_client_disconnect_alone_leaves_the_upstream_running(
    clients: tuple[httpx.Client, httpx.Client],
) -> None:
    gateway, stub = clients
    prompt = "/lorem 60"
    with gateway.stream("POST", PATH, json={"message": prompt}) as response:
        stream_id = response.headers["x-stream-id"]
        first = read_events(response, 2)
    # hung up after two events: the stub still streams to its end
    assert wait_for(lambda: stats(stub)["streams_completed"] == 1)
    assert stats(stub)["streams_disconnected"] == 0
    headers = {"Last-Event-ID": f"{stream_id}:2"}
    with gateway.stream("GET", f"{PATH}/{stream_id}", headers=headers) as again:
        rest = read_events(again)
    plan = OfflineBackend().plan(build_conversation(prompt), GenerationParams())
    assert text_of(first + rest) == "".join(getattr(e, "text", "") for _, e in plan)
    assert rest[-1][1] == {"done": True, "finish_reason": "stop"}


def test_upstream_errors_are_in_band_and_followed_by_one_done(
    clients: tuple[httpx.Client, httpx.Client],
) -> None:
    gateway, _ = clients
    for prompt, code in (("/error server after 3\n/lorem 20", "server"), ("/error auth", "auth")):
        with gateway.stream("POST", PATH, json={"message": prompt}) as response:
            events = read_events(response)
        payloads = [p for _, p in events]
        errors = [p["error"] for p in payloads if "error" in p]
        assert len(errors) == 1 and errors[0]["code"] == code
        assert "Traceback" not in json.dumps(errors)
        assert payloads[-1] == {"done": True, "finish_reason": "error"}
        assert sum("done" in p for p in payloads) == 1
        assert [s for s, _ in events] == list(range(1, len(events) + 1))


def test_stop_in_the_app_closes_the_stub_connection_through_remote_and_gateway(
    clients: tuple[httpx.Client, httpx.Client], urls: tuple[str, str]
) -> None:
    """The whole Stop path: app Run -> RemoteBackend -> gateway -> AsyncOpenAI -> stub."""
    _, stub = clients
    remote = RemoteBackend(urls[0])
    conversation = build_conversation("/lorem 600")
    run = start_run(
        lambda: remote.astream(conversation, GenerationParams()), registry=RunRegistry()
    )
    assert wait_for(lambda: len(run.events) >= 3)
    assert stats(stub)["active_streams"] == 1
    run.cancel()
    assert wait_for(lambda: run.finished) and run.finish_reason == "cancelled"
    assert wait_for(lambda: stats(stub)["streams_disconnected"] == 1)
    assert stats(stub)["active_streams"] == 0 and stats(stub)["requests"] == 1
    plan = OfflineBackend().plan(conversation, GenerationParams())
    full = "".join(getattr(e, "text", "") for _, e in plan)
    assert run.text and full.startswith(run.text) and len(run.text) < len(full)  # partial kept
