"""The remote back end over real HTTP on 127.0.0.1: against the gateway, against a seed-style
server written here, and against servers that drop, refuse or misbehave."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from chat_core.backends import make_backend
from chat_core.backends.offline import OfflineBackend
from chat_core.backends.remote import RemoteBackend, WireRecord
from chat_core.events import Done, StreamError, StreamEvent, TextDelta, answer_text
from chat_core.gateway import GatewayConfig, create_app
from chat_core.messages import ChatMessage, GenerationParams, build_conversation
from chat_core.metrics import answer_status
from chat_core.runs import RunRegistry, start_run
from chat_core.settings import Settings
from tests.support.polling import wait_for
from tests.support.servers import free_port, serve_app

pytestmark = pytest.mark.integration

PARAMS = GenerationParams()


def planned(prompt: str, history: list[ChatMessage] | None = None) -> list[StreamEvent]:
    conversation = build_conversation(prompt, history or [])
    return [e for _, e in OfflineBackend().plan(conversation, PARAMS)]


def collect(backend: RemoteBackend, prompt: str, history: list[ChatMessage] | None = None) -> Any:
    return list(backend.stream(build_conversation(prompt, history or []), PARAMS))


def acollect(backend: RemoteBackend, prompt: str) -> list[StreamEvent]:
    async def main() -> list[StreamEvent]:
        return [e async for e in backend.astream(build_conversation(prompt), PARAMS)]

    return asyncio.run(main())


@pytest.fixture(scope="module")
def gateway() -> Iterator[tuple[str, Any]]:
    app = create_app(backend=OfflineBackend(1000), config=GatewayConfig(retry_ms=20))
    with serve_app(app) as url:
        yield url, app.state.gateway


# -- against the gateway -----------------------------------------------------------
def test_post_end_to_end_gives_the_back_end_s_exact_events(gateway: tuple[str, Any]) -> None:
    records: list[WireRecord] = []
    remote = RemoteBackend(gateway[0], on_wire=records.append)
    history = [ChatMessage("user", "hi"), ChatMessage("assistant", "hello")]
    prompt = "/echo wörld 😀 \u2028 done"
    assert collect(remote, prompt, history) == planned(prompt, history)
    assert acollect(remote, prompt) == planned(prompt)
    kinds = [r.kind for r in records]
    assert kinds.count("connect") == 2 and "reconnect" not in kinds
    sse = [r for r in records if r.kind == "sse"]
    stream_id = sse[0].event_id.split(":")[0]  # type: ignore[union-attr]
    first_stream = sse[: len(planned(prompt, history))]
    assert [r.event_id for r in first_stream] == [
        f"{stream_id}:{i}" for i in range(1, len(first_stream) + 1)
    ]
    assert json.loads(first_stream[0].data) == {"chunk": "wörld"}
    assert all(r.nbytes > len(r.data) for r in sse)


def test_a_run_reports_its_own_reconnects(gateway: tuple[str, Any]) -> None:
    remote = RemoteBackend(gateway[0])
    conversation = build_conversation("/drop after 3\n/lorem 20")
    dropped = start_run(lambda: remote.astream(conversation, PARAMS), registry=RunRegistry())
    whole = start_run(lambda: remote.astream(build_conversation("/lorem 5"), PARAMS))
    assert wait_for(lambda: dropped.finished and whole.finished)
    assert dropped.finish_reason == "stop" and dropped.reconnects == 1
    assert whole.reconnects == 0  # the same back end: counts are per stream, not per back end


def test_get_mode_against_the_gateway(gateway: tuple[str, Any]) -> None:
    remote = RemoteBackend(gateway[0] + "/api/chat/stream", method="GET")
    history = [ChatMessage("user", "earlier")]
    assert collect(remote, "/lorem 30", history) == planned("/lorem 30", history)


def test_a_drop_is_resumed_from_the_last_id_without_asking_again(gateway: tuple[str, Any]) -> None:
    for method in ("POST", "GET"):
        records: list[WireRecord] = []
        remote = RemoteBackend(gateway[0], method=method, on_wire=records.append)
        prompt = "/drop after 5\n/lorem 40"
        registry = gateway[1].store.registry
        before = registry.active + len(registry)
        assert collect(remote, prompt) == planned(prompt)
        assert len(registry) + registry.active == before + 1  # one run
        kinds = [r.kind for r in records]
        assert kinds.count("connect") == 2 and kinds.count("reconnect") == 1
        reconnect = next(r for r in records if r.kind == "reconnect")
        assert reconnect.event_id is not None and reconnect.event_id.endswith(":5")
        second = [r for r in records if r.kind == "connect"][1]
        assert second.event_id == reconnect.event_id and second.data.startswith("GET ")


def test_token_is_sent_as_a_bearer_header() -> None:
    config = GatewayConfig(token="t0ken")
    with serve_app(create_app(backend=OfflineBackend(1000), config=config)) as url:
        assert collect(RemoteBackend(url, token="t0ken"), "/echo ok") == planned("/echo ok")
        events = collect(RemoteBackend(url), "/echo ok")
    assert events[0].code == "auth" and not events[0].retryable
    assert events[1:] == [Done("error")]


def test_refusals_map_to_stream_errors(gateway: tuple[str, Any]) -> None:
    base = gateway[0]
    not_found = collect(RemoteBackend(base + "/nowhere"), "hi")
    assert not_found[0].code == "bad_request" and "404" in not_found[0].message
    with serve_app(
        create_app(backend=OfflineBackend(5), config=GatewayConfig(max_streams=1))
    ) as url:
        remote = RemoteBackend(url)
        slow = remote.stream(build_conversation("/lorem 50"), PARAMS)
        assert isinstance(next(slow), TextDelta)
        busy = collect(RemoteBackend(url), "hi")
        assert busy[0] == StreamError("rate_limit", busy[0].message, True)
        assert "retry in 1 s" in busy[0].message
        slow.close()  # stopping early cancels the run on the server


def test_stopping_early_cancels_the_run_on_the_server() -> None:
    app = create_app(backend=OfflineBackend(30), config=GatewayConfig())
    registry = app.state.gateway.store.registry
    records: list[WireRecord] = []

    def last_stream_id() -> str:
        return next(r for r in reversed(records) if r.event_id).event_id.split(":")[0]  # type: ignore[union-attr]

    with serve_app(app) as url:
        remote = RemoteBackend(url, on_wire=records.append)
        sync = remote.stream(build_conversation("/lorem 300"), PARAMS)
        assert isinstance(next(sync), TextDelta)
        sync.close()
        assert registry.get(last_stream_id()).finish_reason == "cancelled"

        # The Streamlit Stop path: the app's Run pulls remote.astream; cancel closes it.
        app_run = start_run(
            lambda: remote.astream(build_conversation("/lorem 301"), PARAMS),
            registry=RunRegistry(),
        )
        assert app_run.read(0, 5)
        server_run = registry.get(last_stream_id())
        assert not server_run.finished
        app_run.cancel()
        assert wait_for(lambda: app_run.finished)
        assert app_run.finish_reason == "cancelled"
        assert wait_for(lambda: server_run.finished)
        assert server_run.finish_reason == "cancelled"
        assert registry.active == 0


def test_idle_pings_reach_on_wire_as_comments() -> None:
    app = create_app(backend=OfflineBackend(1000), config=GatewayConfig(ping_interval_s=0.05))
    records: list[WireRecord] = []
    with serve_app(app) as url:
        events = collect(
            RemoteBackend(url, on_wire=records.append), "/stall 0.3 after 1\n/echo a b"
        )
    assert answer_text(events) == "a b"
    comments = [r for r in records if r.kind == "comment"]
    assert len(comments) >= 2 and comments[0].data == "ping" and comments[0].nbytes == 7


# -- against servers written here --------------------------------------------------
@dataclass
class FakeServer:
    """A tiny SSE server whose behaviour each test scripts; it counts what it was asked."""

    requests: list[Request] = field(default_factory=list)
    resumes: list[str] = field(default_factory=list)
    queries: list[dict[str, str]] = field(default_factory=list)

    def app(
        self,
        first: Callable[[], AsyncIterator[bytes]] | None = None,
        resume: Callable[[str], Response] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Starlette:
        async def stream(request: Request) -> Response:
            self.requests.append(request)
            self.queries.append(dict(request.query_params))
            if "last-event-id" in request.headers and resume is not None:
                self.resumes.append(request.headers["last-event-id"])
                return resume(request.headers["last-event-id"])
            assert first is not None
            return StreamingResponse(first(), media_type="text/event-stream", headers=headers)

        async def resumed(request: Request) -> Response:
            self.resumes.append(request.headers.get("last-event-id", ""))
            assert resume is not None
            return resume(request.headers.get("last-event-id", ""))

        return Starlette(
            routes=[
                Route("/api/chat/stream", stream, methods=["GET", "POST"]),
                Route("/api/chat/stream/{sid}", resumed, methods=["GET"]),
            ]
        )


def seed_body(chunks: list[str], done: bool = True) -> Callable[[], AsyncIterator[bytes]]:
    """The seed's wire format: unnamed events, raw UTF-8 JSON, no ids, no retry."""

    async def body() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield f"data: {json.dumps({'chunk': chunk}, ensure_ascii=False)}\n\n".encode()
            await asyncio.sleep(0)
        if done:
            yield b'data: {"done": true}\n\n'

    return body


def test_against_a_seed_style_server() -> None:
    server = FakeServer()
    chunks = ["Hel", "lo ", "wörld ", "😀"]
    with serve_app(server.app(seed_body(chunks))) as url:
        remote = RemoteBackend(url, method="GET")
        history = [ChatMessage("user", "q1"), ChatMessage("assistant", "a1")]
        events = collect(remote, "tell me", history)
    assert events == [*(TextDelta(c) for c in chunks), Done("stop")]
    query = server.queries[0]
    assert query["message"] == "tell me"
    assert json.loads(query["history"]) == [
        {"role": "user", "content": "q1"},
        {"role": "assistant", "content": "a1"},
    ]


def test_a_seed_style_drop_keeps_the_text_and_never_asks_again() -> None:
    server = FakeServer()
    records: list[WireRecord] = []
    with serve_app(server.app(seed_body(["Par", "tial"], done=False))) as url:
        events = collect(RemoteBackend(url, method="GET", on_wire=records.append), "q")
    assert events[:2] == [TextDelta("Par"), TextDelta("tial")]
    assert isinstance(events[2], StreamError) and events[2].code == "connection"
    assert events[3:] == [Done("error")]
    assert answer_status(events) == "interrupted"
    assert answer_text(events) == "Partial"  # no " [connection lost]" in the text
    assert len(server.requests) == 1  # the question was not sent again
    assert not [r for r in records if r.kind == "reconnect"]


def v1_body(stream_id: str, texts: list[str], retry_ms: int) -> Callable[[], AsyncIterator[bytes]]:
    """A v1 server that sends some events and then hangs up (no done)."""

    async def body() -> AsyncIterator[bytes]:
        yield f"retry: {retry_ms}\n".encode()
        for seq, text in enumerate(texts, 1):
            yield f"id: {stream_id}:{seq}\ndata: {json.dumps({'chunk': text})}\n\n".encode()

    return body


def sse_response(blocks: list[str]) -> Response:
    return Response("".join(blocks), media_type="text/event-stream")


def test_reconnects_are_bounded_with_growing_jittered_backoff() -> None:
    server = FakeServer()
    records: list[WireRecord] = []
    app = server.app(
        v1_body("s", ["kept"], retry_ms=10),
        resume=lambda _id: Response("down", status_code=503),
        headers={"X-Stream-Id": "s"},
    )
    with serve_app(app) as url:
        remote = RemoteBackend(url, max_reconnects=3, on_wire=records.append, rng=random.Random(1))
        events = collect(remote, "q")
    assert events[0] == TextDelta("kept")
    assert events[1].code == "connection" and "3 tries" in events[1].message
    assert events[2:] == [Done("error")]
    assert server.resumes == ["s:1", "s:1", "s:1"]
    delays = [
        float(r.data.split("retry in ")[1].split(" s")[0]) for r in records if r.kind == "reconnect"
    ]
    assert len(delays) == 3
    for n, delay in enumerate(delays):  # the server's retry: 10 ms, doubled each try, + <50%
        assert 0.01 * 2**n <= delay <= 0.015 * 2**n + 0.005


def test_resume_of_an_expired_stream_is_interrupted() -> None:
    server = FakeServer()
    app = server.app(v1_body("s", ["a", "b"], 5), resume=lambda _id: Response(status_code=204))
    with serve_app(app) as url:
        events = collect(RemoteBackend(url), "q")
    assert answer_text(events) == "ab"
    assert events[-2].code == "connection" and "expired" in events[-2].message
    assert answer_status(events) == "interrupted"
    assert server.resumes == ["s:2"]  # the id came from the events (no X-Stream-Id header)


def test_a_server_that_replays_too_much_is_deduplicated() -> None:
    server = FakeServer()
    full = [
        'id: s:1\ndata: {"chunk": "a"}\n\n',
        'id: s:2\ndata: {"chunk": "b"}\n\n',
        'id: s:3\ndata: {"chunk": "c"}\n\n',
        'id: s:4\ndata: {"done": true, "finish_reason": "stop"}\n\n',
    ]
    app = server.app(v1_body("s", ["a", "b"], 5), resume=lambda _id: sse_response(full))
    with serve_app(app) as url:
        events = collect(RemoteBackend(url), "q")
    assert events == [TextDelta("a"), TextDelta("b"), TextDelta("c"), Done("stop")]


def test_a_gap_on_resume_ends_the_stream_with_an_error() -> None:
    server = FakeServer()
    gap = ['id: s:5\ndata: {"chunk": "z"}\n\n']
    app = server.app(v1_body("s", ["a"], 5), resume=lambda _id: sse_response(gap))
    with serve_app(app) as url:
        events = collect(RemoteBackend(url), "q")
    assert events[0] == TextDelta("a") and events[1].code == "server"
    assert events[-1] == Done("error") and "z" not in answer_text(events)


def test_malformed_events_and_non_streams_are_server_errors() -> None:
    async def garbage() -> AsyncIterator[bytes]:
        yield b'data: {"chunk": "ok"}\n\ndata: {not json\n\n'

    server = FakeServer()
    with serve_app(server.app(garbage)) as url:
        events = collect(RemoteBackend(url), "q")
    assert events[0] == TextDelta("ok") and events[1].code == "server"
    assert events[2:] == [Done("error")]

    json_app = Starlette(routes=[Route("/x", lambda r: JSONResponse({"a": 1}), methods=["POST"])])
    with serve_app(json_app) as url:
        events = collect(RemoteBackend(url + "/x"), "q")
    assert events[0].code == "server" and "event stream" in events[0].message


def test_an_unreachable_server_is_a_connection_error_naming_it() -> None:
    port = free_port()
    events = acollect(RemoteBackend(f"http://127.0.0.1:{port}"), "q")
    assert events[0].code == "connection"
    assert f"is the server running on 127.0.0.1:{port}?" in events[0].message
    assert events[1:] == [Done("error")]


def test_from_settings_and_the_factory() -> None:
    settings = Settings(
        remote_url="http://127.0.0.1:9/", remote_method="get", gateway_token="tok", model="m1"
    )
    remote = make_backend(settings)
    assert isinstance(remote, RemoteBackend)
    assert remote.url == "http://127.0.0.1:9/api/chat/stream"
    assert (remote.method, remote.token, remote.model) == ("GET", "tok", "m1")
    assert remote.list_models() == []
    assert RemoteBackend("https://h.example/custom/path").url == "https://h.example/custom/path"
