"""Several gateway processes over one real Redis: resume, Stop and failures across instances.

Gateways are real subprocesses (``python -m chat_core.gateway``) pulling from the
OpenAI stub (a subprocess too, so its disconnect counter sees each upstream close).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from chat_core.backends.remote import RemoteBackend, WireRecord
from chat_core.events import Done, StreamEvent, answer_text
from chat_core.messages import GenerationParams, build_conversation
from chat_core.settings_sources import SETTING_NAMES
from chat_core.wire import SSEMessage, SSEParser, parse_event_id
from tests.support.polling import wait_for
from tests.support.redis import Redis, run_redis
from tests.support.servers import PYTHON, Server, run_server
from tests.support.tcp_proxy import Cut, tcp_proxy

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PATH = "/api/chat/stream"


def gateway_env(redis_url: str, stub_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SETTING_NAMES}
    env.update(
        CHAT_REDIS_URL=redis_url,
        CHAT_BACKEND="openai",
        OPENAI_BASE_URL=stub_url + "/v1",
        OPENAI_API_KEY="test-key",
        CHAT_MODEL="gpt-test",
        # every client here is 127.0.0.1: per-client limits are tested elsewhere
        CHAT_GATEWAY_CLIENT_STREAMS="0",
        CHAT_GATEWAY_CLIENT_STARTS="0",
    )
    return env


@contextlib.contextmanager
def gateway(tmp: Path, env: dict[str, str], *extra: str) -> Iterator[Server]:
    cmd = [PYTHON, "-m", "chat_core.gateway", "--port", "{port}", "--log-level", "info"]
    with run_server([*cmd, *extra], cwd=tmp, env=env, health_path="/healthz") as server:
        yield server


@pytest.fixture(scope="module")
def tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gateways")


@pytest.fixture(scope="module")
def stub(tmp: Path) -> Iterator[Server]:
    cmd = [PYTHON, "-m", "chat_core.openai_stub", "--port", "{port}", "--tps", "100"]
    cmd += ["--log-level", "warning"]
    with run_server(cmd, cwd=tmp, env=dict(os.environ), health_path="/healthz") as server:
        yield server


@pytest.fixture(scope="module")
def redis(redis_server: Redis) -> Redis:
    return redis_server


@pytest.fixture(scope="module")
def pair(tmp: Path, stub: Server, redis: Redis) -> Iterator[tuple[Server, Server]]:
    env = gateway_env(redis.url, stub.url)
    with gateway(tmp, env) as a, gateway(tmp, env) as b:
        yield a, b


def blocks(raw: bytes) -> list[str]:
    """The event blocks of an SSE body, without the per-connection ``retry:`` line and pings."""
    out = []
    for block in raw.decode().split("\n\n"):
        lines = [ln for ln in block.split("\n") if ln and not ln.startswith(("retry:", ":"))]
        if lines:
            out.append("\n".join(lines))
    return out


def read_events(
    response: httpx.Response, limit: int | None = None
) -> tuple[bytes, list[SSEMessage]]:
    """Raw bytes and parsed events of a streaming response, up to ``limit`` events."""
    parser, raw, events = SSEParser(), b"", []
    for chunk in response.iter_raw():
        raw += chunk
        events += [item for item in parser.feed(chunk) if isinstance(item, SSEMessage)]
        if limit is not None and len(events) >= limit:
            break
    return raw, events


def start(url: str, prompt: str, first: int) -> tuple[str, bytes, list[SSEMessage]]:
    """POST a prompt, read ``first`` events, hang up; the stream id, bytes and events read."""
    with (
        httpx.Client(timeout=20) as client,
        client.stream("POST", url + PATH, json={"message": prompt}) as response,
    ):
        assert response.status_code == 200
        raw, events = read_events(response, first)
        return response.headers["x-stream-id"], raw, events


def resume(url: str, last_event_id: str) -> tuple[bytes, list[SSEMessage]]:
    stream_id = last_event_id.rpartition(":")[0]
    headers = {"Last-Event-ID": last_event_id}
    with (
        httpx.Client(timeout=25) as client,
        client.stream("GET", f"{url}{PATH}/{stream_id}", headers=headers) as response,
    ):
        assert response.status_code == 200
        return read_events(response)


def payloads(events: list[SSEMessage]) -> list[dict[str, object]]:
    return [json.loads(e.data) for e in events]


def test_a_stream_started_on_a_resumes_on_b_byte_identical(pair: tuple[Server, Server]) -> None:
    a, b = pair
    stream_id, head, first = start(a.url, "/lorem 80", 10)
    assert len(first) >= 10 and first[-1].id is not None
    cut = first[-1].id
    tail_raw, tail = resume(b.url, cut)
    assert payloads(tail)[-1]["done"] is True
    assert parse_event_id(tail[0].id or "")[1] == parse_event_id(cut)[1] + 1
    whole_on_b, _ = resume(b.url, f"{stream_id}:0")
    whole_on_a, _ = resume(a.url, f"{stream_id}:0")
    cut_blocks = blocks(head)[: len(first)]
    assert cut_blocks + blocks(tail_raw) == blocks(whole_on_b) == blocks(whole_on_a)


def test_a_delete_sent_to_b_stops_a_run_owned_by_a(
    pair: tuple[Server, Server], stub: Server
) -> None:
    a, b = pair
    httpx.post(stub.url + "/_stub/reset").raise_for_status()
    stream_id, _, first = start(a.url, "/lorem 3000", 3)
    assert httpx.get(stub.url + "/_stub/stats").json()["active_streams"] == 1
    stopped = httpx.delete(f"{b.url}{PATH}/{stream_id}", timeout=10)
    assert stopped.status_code == 200
    assert stopped.json() == {
        "stream_id": stream_id,
        "cancelled": True,
        "finish_reason": "cancelled",
    }
    assert wait_for(
        lambda: httpx.get(stub.url + "/_stub/stats").json()["streams_disconnected"] == 1, 10
    )
    _, rest = resume(a.url, first[-1].id or "")
    assert payloads(rest)[-1] == {"done": True, "finish_reason": "cancelled"}


def test_the_owner_killed_mid_stream_ends_the_stream_interrupted_on_b(
    tmp: Path, stub: Server, redis: Redis, pair: tuple[Server, Server]
) -> None:
    _, b = pair
    with gateway(tmp, gateway_env(redis.url, stub.url)) as doomed:
        stream_id, _, first = start(doomed.url, "/lorem 3000", 5)
        assert doomed.proc is not None
        doomed.proc.send_signal(signal.SIGKILL)
        doomed.proc.wait(10)
    # Everything buffered, then an error and a done; the httpx timeout bounds the wait.
    _, rest = resume(b.url, f"{stream_id}:0")
    got = payloads(rest)
    assert payloads(first) == got[: len(first)]
    assert all("chunk" in p for p in got[:-2])
    error = got[-2]["error"]
    assert isinstance(error, dict) and error["code"] == "connection"
    assert got[-1] == {"done": True, "finish_reason": "error"}
    seqs = [parse_event_id(e.id or "")[1] for e in rest]
    assert seqs == list(range(1, len(rest) + 1))


def test_redis_restarted_mid_stream_ends_it_with_a_clear_error(tmp: Path, stub: Server) -> None:
    with run_redis() as redis, gateway(tmp, gateway_env(redis.url, stub.url)) as solo:
        with (
            httpx.Client(timeout=25) as client,
            client.stream("POST", solo.url + PATH, json={"message": "/lorem 3000"}) as response,
        ):
            parser, events = SSEParser(), []
            for chunk in response.iter_raw():
                events += [i for i in parser.feed(chunk) if isinstance(i, SSEMessage)]
                if len(events) == 5:
                    redis.restart()
        got = payloads(events)
        error = got[-2]["error"]
        assert isinstance(error, dict) and error["code"] == "connection"
        assert "Redis" in str(error["message"]) or "stopped" in str(error["message"])
        assert got[-1] == {"done": True, "finish_reason": "error"}
        assert httpx.get(solo.url + "/healthz").json()["active_streams"] == 0


WORDS = ["héllo", "wörld", "😀", "한국어", "naïve", "\u2028", "plain", "€uro", "data:", "\\n"]


def echo_prompt(i: int) -> str:
    rng = random.Random(i)
    return "/echo " + " ".join(rng.choice(WORDS) for _ in range(rng.randint(30, 60)))


async def run_clients(
    url: str, count: int, records: list[list[WireRecord]]
) -> list[list[StreamEvent]]:
    async def one(i: int) -> list[StreamEvent]:
        remote = RemoteBackend(url, max_reconnects=10, on_wire=records[i].append)
        conversation = build_conversation(echo_prompt(i))
        return [e async for e in remote.astream(conversation, GenerationParams(max_tokens=4000))]

    return list(await asyncio.gather(*(one(i) for i in range(count))))


def test_two_workers_resume_thirty_cut_streams_byte_identical(
    tmp: Path, stub: Server, redis: Redis
) -> None:
    clients = 30
    env = gateway_env(redis.url, stub.url)
    with gateway(tmp, env, "--workers", "2") as workers:
        uncut = asyncio.run(run_clients(workers.url, clients, [[] for _ in range(clients)]))
        assert all(events[-1] == Done("stop") for events in uncut)
        rng = random.Random(16)

        def policy(index: int, head: bytes) -> Cut | None:
            if head.startswith(b"POST ") or rng.random() < 0.3:
                return Cut(rng.randint(0, 1500), "anywhere" if index % 2 else "boundary")
            return None

        records: list[list[WireRecord]] = [[] for _ in range(clients)]
        with tcp_proxy(workers.url, policy) as proxy:
            cut = asyncio.run(run_clients(proxy.url, clients, records))
        log = workers.log_tail(200_000)
    for i in range(clients):
        assert answer_text(cut[i]).encode() == answer_text(uncut[i]).encode(), i
        assert cut[i] == uncut[i], i
        seqs = [parse_event_id(r.event_id)[1] for r in records[i] if r.kind == "sse" and r.event_id]
        assert seqs == list(range(1, len(seqs) + 1)), i
        assert any(r.kind == "reconnect" for r in records[i]), i
    assert len([c for c in proxy.cuts if c.request_line.startswith("POST ")]) == clients
    assert log.count("Started server process") == 2  # two workers served them
