"""Every answer shape (reasoning, refusal, tool call, content filter, length, empty with
reasoning) through the gateway and the remote back end over HTTP on 127.0.0.1, and every
path's answer to an exception mid-stream: an error payload and a done, never a cut."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from chat_core.backends.remote import RemoteBackend
from chat_core.events import (
    Done,
    ReasoningDelta,
    StreamError,
    StreamEvent,
    TextDelta,
    answer_text,
    reasoning_text,
)
from chat_core.gateway import GatewayConfig, create_app
from chat_core.messages import ChatMessage, GenerationParams, build_conversation
from chat_core.metrics import answer_status
from chat_core.runs import RunRegistry, start_run
from chat_core.wire import SSEMessage, SSEParser, decode_data
from tests.support.fakes import SHAPES, ScriptedBackend
from tests.support.polling import wait_for
from tests.support.servers import serve_app

pytestmark = pytest.mark.integration

PATH = "/api/chat/stream"
PARAMS = GenerationParams()


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, ScriptedBackend]]:
    backend = ScriptedBackend()
    with serve_app(create_app(backend=backend, config=GatewayConfig(retry_ms=20))) as url:
        yield url, backend


def sse_events(body: bytes) -> list[StreamEvent]:
    items = SSEParser().feed(body)
    decoded = [decode_data(m.data) for m in items if isinstance(m, SSEMessage)]
    return [e for e in decoded if e is not None]


def post(url: str, message: str) -> httpx.Response:
    with httpx.Client(base_url=url, timeout=10) as client:
        return client.post(PATH, json={"message": message})


# -- the gateway -------------------------------------------------------------------
@pytest.mark.parametrize("shape", SHAPES)
def test_each_shape_through_the_gateway(served: tuple[str, ScriptedBackend], shape: str) -> None:
    response = post(served[0], shape)
    assert response.status_code == 200
    assert sse_events(response.content) == SHAPES[shape]
    # What a seed-style client sees: only chunk and done count; it skips the rest.
    payloads = [
        json.loads(m.data) for m in SSEParser().feed(response.content) if isinstance(m, SSEMessage)
    ]
    seed_text = "".join(p.get("chunk", "") for p in payloads)
    assert seed_text == answer_text(SHAPES[shape])
    assert sum(bool(p.get("done")) for p in payloads) == 1 and payloads[-1]["done"] is True


def test_the_done_payload_names_the_finish_and_its_details(
    served: tuple[str, ScriptedBackend],
) -> None:
    def done_of(shape: str) -> dict[str, Any]:
        items = SSEParser().feed(post(served[0], shape).content)
        return json.loads([m for m in items if isinstance(m, SSEMessage)][-1].data)

    assert done_of("tool_call") == {
        "done": True,
        "finish_reason": "tool_calls",
        "tool_names": ["get_weather"],
    }
    assert done_of("refusal") == {"done": True, "finish_reason": "stop", "refused": True}
    assert done_of("content_filter") == {"done": True, "finish_reason": "content_filter"}
    usage = [
        json.loads(m.data)
        for m in SSEParser().feed(post(served[0], "reasoning").content)
        if isinstance(m, SSEMessage) and "usage" in m.data
    ]
    assert usage == [
        {"usage": {"prompt_tokens": 12, "completion_tokens": 30, "reasoning_tokens": 24}}
    ]


@pytest.mark.parametrize("prompt", ["raise", "raise_at_start", "mistral"])
def test_an_exception_in_the_back_end_ends_the_sse_body_with_error_and_done(
    served: tuple[str, ScriptedBackend], prompt: str
) -> None:
    response = post(served[0], prompt)
    assert response.status_code == 200
    events = sse_events(response.content)
    assert events[-2:] == [
        StreamError("internal", events[-2].message, False),  # type: ignore[union-attr]
        Done("error"),
    ]
    assert "Boom" not in response.text and "Traceback" not in response.text
    # Nothing is left streaming on the gateway, and it answers the next request.
    assert httpx.get(served[0] + "/healthz", timeout=5).json()["active_streams"] == 0
    assert sse_events(post(served[0], "length").content) == SHAPES["length"]


# -- the remote back end -------------------------------------------------------------
@pytest.mark.parametrize("shape", SHAPES)
def test_each_shape_through_the_remote_back_end(
    served: tuple[str, ScriptedBackend], shape: str
) -> None:
    remote = RemoteBackend(served[0])
    conversation = build_conversation(shape)
    assert list(remote.stream(conversation, PARAMS)) == SHAPES[shape]

    async def main() -> list[StreamEvent]:
        return [e async for e in remote.astream(conversation, PARAMS)]

    assert asyncio.run(main()) == SHAPES[shape]


def test_reasoning_is_not_sent_back_in_the_history(served: tuple[str, ScriptedBackend]) -> None:
    """The remote back end sends only texts; the gateway's model never sees reasoning."""
    url, backend = served
    events = list(RemoteBackend(url).stream(build_conversation("reasoning"), PARAMS))
    history = [ChatMessage("user", "reasoning"), ChatMessage("assistant", answer_text(events))]
    list(RemoteBackend(url).stream(build_conversation("again", history), PARAMS))
    sent = json.dumps(backend.histories[-1])
    assert "2 + 2 = 4." in sent and reasoning_text(events) not in sent
    assert "The user asks" not in sent


@pytest.mark.parametrize("prompt", ["raise", "raise_at_start", "mistral"])
def test_a_remote_run_over_a_failing_back_end_finishes_as_an_error(
    served: tuple[str, ScriptedBackend], prompt: str
) -> None:
    remote = RemoteBackend(served[0])
    run = start_run(
        lambda: remote.astream(build_conversation(prompt), PARAMS), registry=RunRegistry()
    )
    assert wait_for(lambda: run.finished)
    assert answer_status(run.events) == "error" and run.error is not None
    assert run.error.code == "internal"


def garbage_app(body: list[bytes]) -> Starlette:
    async def stream(_request: Request) -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            for chunk in body:
                yield chunk
                await asyncio.sleep(0)

        return StreamingResponse(chunks(), media_type="text/event-stream")

    return Starlette(routes=[Route(PATH, stream, methods=["POST"])])


GARBAGE = {
    "not json": b"data: {oops\n\n",
    "binary": b"data: \xff\xfe\x00\x9c\n\n",
    "typed parts as chunk": b'data: {"chunk": [{"type": "text", "text": "x"}]}\n\n',
    "reasoning not text": b'data: {"reasoning": {"a": 1}}\n\n',
    "done not an object": b"data: [true]\n\n",
}


@pytest.mark.parametrize("garbage", GARBAGE, ids=list(GARBAGE))
def test_a_server_sending_garbage_mid_stream_ends_with_an_error_and_done(garbage: str) -> None:
    body = [
        b'id: s:1\ndata: {"reasoning": "hm"}\n\n',
        b'id: s:2\ndata: {"chunk": "Hi"}\n\n',
        GARBAGE[garbage],
        b'id: s:9\ndata: {"chunk": "never shown"}\n\n',
    ]
    with serve_app(garbage_app(body)) as url:
        remote = RemoteBackend(url)
        events = list(remote.stream(build_conversation("q"), PARAMS))
        run = start_run(lambda: remote.astream(build_conversation("q"), PARAMS))
        assert wait_for(lambda: run.finished)
    assert events[:2] == [ReasoningDelta("hm"), TextDelta("Hi")]
    assert isinstance(events[2], StreamError) and events[2].code == "server"
    assert events[3:] == [Done("error")]
    assert run.events == events and answer_status(run.events) == "error"
