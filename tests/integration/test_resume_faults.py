"""Fault injection: 50 concurrent streams through a TCP proxy that resets each
connection at a random point. Every client resumes with Last-Event-ID and ends with exactly the
text of an uncut run; the upstream model (the OpenAI stub) is asked once per message."""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Iterator

import httpx
import pytest

from chat_core.backends.openai import OpenAIBackend
from chat_core.backends.remote import RemoteBackend, WireRecord
from chat_core.events import Done, StreamEvent, answer_text
from chat_core.gateway import GatewayConfig, create_app
from chat_core.messages import GenerationParams, build_conversation
from chat_core.openai_stub import create_app as create_stub
from chat_core.wire import parse_event_id
from tests.support.servers import serve_app
from tests.support.tcp_proxy import Cut, CutMode, tcp_proxy

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CLIENTS = 50
WORDS = [
    "héllo", "wörld", "😀", "한국어", "日本語", "naïve", "🚀🔥", "Ελληνικά", "\u2028", "𝔘𝔫𝔦",
    "plain", "ascii", "text", "€uro", "👩‍👩‍👧", "ça", "Ωmega", "done", "data:", "\\n",
]  # fmt: skip
MODES: tuple[CutMode, ...] = ("anywhere", "boundary", "escape", "surrogate")


def prompt_for(i: int) -> str:
    rng = random.Random(i)
    return "/echo " + " ".join(rng.choice(WORDS) for _ in range(rng.randint(40, 90)))


@pytest.fixture(scope="module")
def gateway_and_stub() -> Iterator[tuple[str, str]]:
    with serve_app(create_stub(tokens_per_second=400)) as stub_url:
        backend = OpenAIBackend(
            api_key="test-key", base_url=stub_url + "/v1", model="gpt-test", max_retries=0
        )
        # One test client opens all the streams: the per-client limits are for real clients.
        config = GatewayConfig(retry_ms=50, client_streams=0, client_starts=0)
        with serve_app(create_app(backend=backend, config=config)) as gateway_url:
            yield gateway_url, stub_url


async def run_all(url: str, records: list[list[WireRecord]]) -> list[list[StreamEvent]]:
    async def one(i: int) -> list[StreamEvent]:
        remote = RemoteBackend(url, max_reconnects=10, on_wire=records[i].append)
        conversation = build_conversation(prompt_for(i))
        return [e async for e in remote.astream(conversation, GenerationParams(max_tokens=4000))]

    return list(await asyncio.gather(*(one(i) for i in range(CLIENTS))))


def test_fifty_cut_streams_all_resume_to_the_exact_uncut_text(
    gateway_and_stub: tuple[str, str],
) -> None:
    gateway_url, stub_url = gateway_and_stub
    uncut_records: list[list[WireRecord]] = [[] for _ in range(CLIENTS)]
    uncut = asyncio.run(run_all(gateway_url, uncut_records))
    assert all(events[-1] == Done("stop") for events in uncut)
    assert not any(r.kind == "reconnect" for rs in uncut_records for r in rs)
    httpx.post(stub_url + "/_stub/reset").raise_for_status()

    rng = random.Random(2024)

    def policy(index: int, head: bytes) -> Cut | None:
        # Every first connection is cut; a third of the resumed ones are cut again.
        if head.startswith(b"POST ") or rng.random() < 0.33:
            return Cut(rng.randint(0, 2500), MODES[index % len(MODES)])
        return None

    records: list[list[WireRecord]] = [[] for _ in range(CLIENTS)]
    with tcp_proxy(gateway_url, policy) as proxy:
        cut = asyncio.run(run_all(proxy.url, records))

    for i in range(CLIENTS):
        events, wire = cut[i], records[i]
        text = answer_text(events)
        assert text.encode() == answer_text(uncut[i]).encode(), i  # byte-identical
        assert events == uncut[i]  # same events too: usage, one done
        assert sum(isinstance(e, Done) for e in events) == 1
        seqs = [parse_event_id(r.event_id)[1] for r in wire if r.kind == "sse" and r.event_id]
        assert seqs == list(range(1, len(seqs) + 1)), i  # on the wire: no gap, no duplicate
        assert sum('"done": true' in r.data for r in wire if r.kind == "sse") == 1
        assert any(r.kind == "reconnect" for r in wire), i  # it was cut, and resumed

    stats = httpx.get(stub_url + "/_stub/stats").json()
    assert stats["requests"] == CLIENTS  # asked exactly once per message
    assert stats["streams_completed"] == CLIENTS and stats["streams_disconnected"] == 0

    posts = [c for c in proxy.cuts if c.request_line.startswith("POST ")]
    assert len(posts) == CLIENTS and len(proxy.cuts) > CLIENTS  # resumes were cut too
    assert {c.mode for c in proxy.cuts} >= set(MODES)
    assert any(c.mode == "anywhere" and not c.before.endswith(b"\n\n") for c in proxy.cuts)
    high_surrogate = re.compile(rb"\\ud[89ab][0-9a-f]{2}$")
    assert any(high_surrogate.search(c.before) for c in proxy.cuts)  # between an emoji's halves
    assert any(c.mode == "escape" and c.before[-4:-2] == b"\\u" for c in proxy.cuts)
