"""One contract for both run stores (memory, and Redis Streams on a real redis-server).

Each test runs twice. ``owner`` pulls the model; ``reader`` is where a client
reads: the same store for memory, another instance (own connections, own mirrors)
for Redis, as a second gateway behind the same address would be.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest

from chat_core.events import Done, StreamEvent, TextDelta, Usage
from chat_core.runs import MemoryRunStore, RunRegistry, RunStore
from chat_core.runs.redis_store import RedisRunStore
from tests.support.fake_source import FakeSource
from tests.support.redis import Redis
from tests.support.runs import aiter_run

pytestmark = pytest.mark.integration

Pair = Callable[..., "asynccontextmanager[tuple[RunStore, RunStore]]"]
EVENTS: list[StreamEvent] = [
    TextDelta("Hel"),
    TextDelta("lo, "),
    TextDelta("wörld 😀\u2028"),
    Usage(3, 4, 1),
    Done("stop", refused=True, tool_names=("a", "b")),
]


@pytest.fixture(params=["memory", "redis"])
def stores(request: pytest.FixtureRequest, redis_server: Redis) -> Callable[..., object]:
    @asynccontextmanager
    async def pair(ttl_s: float = 60.0) -> AsyncIterator[tuple[RunStore, RunStore]]:
        if request.param == "memory":
            store = MemoryRunStore(RunRegistry(ttl_s=ttl_s))
            yield store, store
            await store.close()
            return
        owner = RedisRunStore(redis_server.url, ttl_s=ttl_s)
        reader = RedisRunStore(redis_server.url, ttl_s=ttl_s)
        await owner.open()
        await reader.open()
        try:
            yield owner, reader
        finally:
            await owner.close()
            await reader.close()

    return pair


def run(scenario: Awaitable[None]) -> None:
    asyncio.run(asyncio.wait_for(scenario, 20))


async def read_all(store: RunStore, run_id: str, after: int = 0) -> list[StreamEvent]:
    run = await store.attach(run_id)
    assert run is not None
    try:
        return [event async for _seq, event in aiter_run(run, after)]
    finally:
        store.detach(run)


def test_events_read_back_exactly_from_any_seq(stores: Pair) -> None:
    async def scenario() -> None:
        async with stores() as (owner, reader):
            started = await owner.start(FakeSource(EVENTS).stream)
            for after in range(len(EVENTS) + 1):
                assert await read_all(reader, started.id, after) == EVENTS[after:]

    run(scenario())


def test_resume_after_a_partial_read_has_no_gap_and_no_duplicate(stores: Pair) -> None:
    async def scenario() -> None:
        async with stores() as (owner, reader):
            source = FakeSource()
            started = await owner.start(source.stream)
            first = await reader.attach(started.id)
            assert first is not None
            seen: list[StreamEvent] = []
            for event in EVENTS[:2]:
                source.queue.put_nowait(event)
                seen += await first.aread(len(seen), 5)
            reader.detach(first)  # the client went away: the run goes on
            for event in EVENTS[2:]:
                source.queue.put_nowait(event)
            assert seen + await read_all(reader, started.id, len(seen)) == EVENTS

    run(scenario())


def test_a_run_has_one_done_and_nothing_after_it(stores: Pair) -> None:
    async def scenario() -> None:
        async with stores() as (owner, reader):
            source = FakeSource([TextDelta("a"), Done("stop"), TextDelta("late")])
            started = await owner.start(source.stream)
            events = await read_all(reader, started.id)
            assert events == [TextDelta("a"), Done("stop")]
            await asyncio.sleep(0.1)
            assert await read_all(reader, started.id) == events
            assert source.closed.is_set()  # pulled no further than its Done

    run(scenario())


def test_cancel_from_the_reader_closes_the_upstream(stores: Pair) -> None:
    async def scenario() -> None:
        async with stores() as (owner, reader):
            source = FakeSource([TextDelta("partial")])
            started = await owner.start(source.stream)
            await read_all_until(reader, started.id, 1)
            result = await reader.cancel(started.id)
            assert result is not None and result.cancelled
            assert result.finish_reason == "cancelled"
            await asyncio.wait_for(source.closed.wait(), 5)
            assert await read_all(reader, started.id) == [TextDelta("partial"), Done("cancelled")]
            again = await reader.cancel(started.id)
            assert again is not None and not again.cancelled

    run(scenario())


async def read_all_until(store: RunStore, run_id: str, count: int) -> None:
    run = await store.attach(run_id)
    assert run is not None
    while run.last_seq < count:
        await run.aread(run.last_seq, 5)
    store.detach(run)


def test_a_finished_run_expires_after_its_ttl(stores: Pair) -> None:
    async def scenario() -> None:
        async with stores(ttl_s=0.3) as (owner, reader):
            started = await owner.start(FakeSource(EVENTS).stream)
            assert await read_all(reader, started.id) == EVENTS
            await asyncio.sleep(0.8)
            assert await reader.attach(started.id) is None

    run(scenario())


def test_unknown_runs_are_none_to_attach_and_to_cancel(stores: Pair) -> None:
    async def scenario() -> None:
        async with stores() as (_owner, reader):
            assert await reader.attach("0" * 32) is None
            assert await reader.attach("not-an-id") is None
            assert await reader.cancel("f" * 32) is None

    run(scenario())
