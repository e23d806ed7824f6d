"""Resume with Last-Event-ID, cancel with DELETE, ``/drop``: the gateway over the offline model."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from chat_core.backends.offline import OfflineBackend
from chat_core.gateway import GatewayConfig, create_app
from chat_core.messages import GenerationParams, build_conversation
from chat_core.wire import SSEMessage, SSEParser
from tests.support.servers import serve_app

pytestmark = pytest.mark.integration

PATH = "/api/chat/stream"
Event = tuple[int, dict[str, Any]]


def iter_events(response: httpx.Response) -> Iterator[Event]:
    """(seq, payload) of each event as it arrives."""
    parser = SSEParser()
    for chunk in response.iter_raw():
        for item in parser.feed(chunk):
            if isinstance(item, SSEMessage):
                yield int(item.id.rsplit(":", 1)[1]), json.loads(item.data)


def read_events(response: httpx.Response, limit: int | None = None) -> list[Event]:
    """The first ``limit`` events (all when None); the caller then hangs up."""
    return list(itertools.islice(iter_events(response), limit))


def text_of(events: list[Event]) -> str:
    return "".join(p.get("chunk", "") for _, p in events)


def offline_text(prompt: str) -> str:
    plan = OfflineBackend().plan(build_conversation(prompt), GenerationParams())
    return "".join(getattr(e, "text", "") for _, e in plan)


class Calls(OfflineBackend):
    """The offline model, counting how often a generation starts."""

    def __init__(self, tokens_per_second: float) -> None:
        super().__init__(tokens_per_second)
        self.calls = 0

    def astream(self, conversation: Any, params: Any) -> Any:
        self.calls += 1
        return super().astream(conversation, params)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, Calls]]:
    backend = Calls(tokens_per_second=200)
    config = GatewayConfig(ttl_s=600)
    with serve_app(create_app(backend=backend, config=config)) as url:
        yield url, backend


@pytest.fixture
def client(served: tuple[str, Calls]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served[0], timeout=10) as c:
        yield c


def start(client: httpx.Client, prompt: str, read: int) -> tuple[str, list[Event]]:
    """Start a stream, read ``read`` events, then hang up."""
    with client.stream("POST", PATH, json={"message": prompt}) as response:
        assert response.status_code == 200
        return response.headers["x-stream-id"], read_events(response, read)


def test_resume_mid_stream_replays_the_rest_then_goes_live(
    client: httpx.Client, served: tuple[str, Calls]
) -> None:
    calls_before = served[1].calls
    prompt = "/lorem 120"
    stream_id, first = start(client, prompt, 5)
    assert [s for s, _ in first] == [1, 2, 3, 4, 5]
    headers = {"Last-Event-ID": f"{stream_id}:5"}
    with client.stream("GET", f"{PATH}/{stream_id}", headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["x-stream-id"] == stream_id
        rest = read_events(response)
    seqs = [s for s, _ in first + rest]
    assert seqs == list(range(1, len(seqs) + 1))  # no gap, no duplicate
    assert rest[-1][1] == {"done": True, "finish_reason": "stop"}
    assert text_of(first + rest) == offline_text(prompt)
    assert served[1].calls == calls_before + 1  # the model was asked once


def test_client_disconnect_is_not_a_cancel(client: httpx.Client) -> None:
    stream_id, first = start(client, "/lorem 60", 2)
    time.sleep(0.6)  # the run goes on with nobody reading
    with client.stream(
        "GET", f"{PATH}/{stream_id}", headers={"Last-Event-ID": f"{stream_id}:2"}
    ) as r:
        rest = read_events(r)
    assert rest[-1][1]["finish_reason"] == "stop"
    assert text_of(first + rest) == offline_text("/lorem 60")


def test_the_original_get_with_last_event_id_resumes_without_asking_again(
    client: httpx.Client, served: tuple[str, Calls]
) -> None:
    """What a browser EventSource does on its own after a drop."""
    params = {"message": "/lorem 80", "history": "[]"}
    with client.stream("GET", PATH, params=params) as response:
        stream_id = response.headers["x-stream-id"]
        first = read_events(response, 3)
    calls = served[1].calls
    with client.stream(
        "GET", PATH, params=params, headers={"Last-Event-ID": f"{stream_id}:3"}
    ) as r:
        assert r.headers["x-stream-id"] == stream_id
        rest = read_events(r)
    assert next(s for s, _ in rest) == 4
    assert text_of(first + rest) == offline_text("/lorem 80")
    assert served[1].calls == calls
    with client.stream("GET", PATH, params=params, headers={"Last-Event-ID": ""}) as fresh:
        assert fresh.headers["x-stream-id"] != stream_id  # an empty id is a new question
        assert read_events(fresh)[-1][1]["done"] is True


def test_resume_after_the_run_finished_and_at_its_end(client: httpx.Client) -> None:
    with client.stream("POST", PATH, json={"message": "/echo one two three"}) as response:
        stream_id = response.headers["x-stream-id"]
        everything = read_events(response)
    last = everything[-1][0]
    with client.stream(
        "GET", f"{PATH}/{stream_id}", headers={"Last-Event-ID": f"{stream_id}:1"}
    ) as r:
        assert read_events(r) == everything[1:]
    with client.stream("GET", f"{PATH}/{stream_id}") as r:  # no header: from the start
        assert read_events(r) == everything
    at_end = client.get(f"{PATH}/{stream_id}", headers={"Last-Event-ID": f"{stream_id}:{last}"})
    assert at_end.status_code == 204  # nothing left: an EventSource stops reconnecting


def test_unknown_stream_is_204(client: httpx.Client) -> None:
    assert client.get(f"{PATH}/nope", headers={"Last-Event-ID": "nope:3"}).status_code == 204
    assert client.get(f"{PATH}/nope").status_code == 204
    original = client.get(PATH, params={"message": "hi"}, headers={"Last-Event-ID": "nope:3"})
    assert original.status_code == 204
    assert client.delete(f"{PATH}/nope").status_code == 404


@pytest.mark.parametrize("value", ["garbage", "abc", "abc:", "abc:-1", "abc:x", "other:1"])
def test_malformed_last_event_id_is_400(client: httpx.Client, value: str) -> None:
    stream_id, _ = start(client, "/echo x", 1)
    response = client.get(f"{PATH}/{stream_id}", headers={"Last-Event-ID": value})
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "Last-Event-ID"
    if value != "other:1":
        original = client.get(PATH, params={"message": "x"}, headers={"Last-Event-ID": value})
        assert original.status_code == 400
    ahead = client.get(f"{PATH}/{stream_id}", headers={"Last-Event-ID": f"{stream_id}:9999"})
    assert ahead.status_code == 400


def test_delete_cancels_and_the_cancelled_run_can_still_be_resumed(client: httpx.Client) -> None:
    stream_id, first = start(client, "/lorem 400", 3)
    cancelled = client.delete(f"{PATH}/{stream_id}")
    assert cancelled.status_code == 200
    assert cancelled.json() == {
        "stream_id": stream_id,
        "cancelled": True,
        "finish_reason": "cancelled",
    }
    with client.stream(
        "GET", f"{PATH}/{stream_id}", headers={"Last-Event-ID": f"{stream_id}:3"}
    ) as r:
        rest = read_events(r)
    assert rest[-1][1] == {"done": True, "finish_reason": "cancelled"}
    assert sum(1 for _, p in rest if "done" in p) == 1
    partial = text_of(first + rest)
    assert partial and offline_text("/lorem 400").startswith(partial)
    assert len(partial) < len(offline_text("/lorem 400"))
    again = client.delete(f"{PATH}/{stream_id}").json()
    assert again["cancelled"] is False and again["finish_reason"] == "cancelled"


def test_drop_directive_cuts_the_first_connection_once(client: httpx.Client) -> None:
    prompt = "/drop after 4\n/echo a b c d e f g h"
    with client.stream("POST", PATH, json={"message": prompt}) as response:
        stream_id = response.headers["x-stream-id"]
        first = read_events(response)  # reads to the end of the body
    assert [s for s, _ in first] == [1, 2, 3, 4]  # cut: no done
    with client.stream(
        "GET", f"{PATH}/{stream_id}", headers={"Last-Event-ID": f"{stream_id}:4"}
    ) as r:
        rest = read_events(r)
    assert rest[-1][1]["done"] is True
    assert text_of(first + rest) == offline_text(prompt)


def test_drop_after_zero_still_tells_the_client_where_to_resume(client: httpx.Client) -> None:
    with client.stream("POST", PATH, json={"message": "/drop\n/echo hi"}) as response:
        body = response.read()
    stream_id = response.headers["x-stream-id"]
    assert body == f"retry: 1000\nid: {stream_id}:0\n\n".encode()
    with client.stream(
        "GET", f"{PATH}/{stream_id}", headers={"Last-Event-ID": f"{stream_id}:0"}
    ) as r:
        assert text_of(read_events(r)) == "hi"


def test_finished_runs_expire_after_the_ttl() -> None:
    with (
        serve_app(create_app(backend=OfflineBackend(5000), config=GatewayConfig(ttl_s=1.0))) as url,
        httpx.Client(base_url=url, timeout=10) as c,
    ):
        with c.stream("POST", PATH, json={"message": "/echo bye"}) as response:
            stream_id = response.headers["x-stream-id"]
            read_events(response)
        assert c.get(f"{PATH}/{stream_id}").status_code == 200
        time.sleep(1.2)
        assert c.get(f"{PATH}/{stream_id}").status_code == 204


def test_idle_streams_get_ping_comments() -> None:
    config = GatewayConfig(ping_interval_s=0.05)
    app = create_app(backend=OfflineBackend(1000), config=config)
    with serve_app(app) as url, httpx.Client(base_url=url, timeout=10) as c:
        body = c.post(PATH, json={"message": "/stall 0.3 after 1\n/echo a b"}).content
    first, second = body.index(b'{"chunk": "a"}'), body.index(b'{"chunk": " b"}')
    assert body.count(b": ping\n", first, second) >= 2  # during the stall, between events
    assert body.endswith(b'"finish_reason": "stop"}\n\n')
