"""What only the Redis run store does: reaping a lapsed lease once, fencing a stale owner
(alone among the runs written in one flush), a flush sent again after its reply was lost,
and a cancel that reaches the owner through the durable flag alone."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import redis as redis_sync

from chat_core.errors import RunStoreError
from chat_core.events import Done, StreamError, TextDelta
from chat_core.runs import Run
from chat_core.runs.codec import dump_event, load_event
from chat_core.runs.redis_scripts import RunKeys
from chat_core.runs.redis_store import RedisRunStore
from tests.support.fake_source import FakeSource
from tests.support.redis import Redis, run_redis
from tests.support.runs import aiter_run

pytestmark = pytest.mark.integration


@pytest.fixture
def server(redis_server: Redis) -> Redis:
    return redis_server


@pytest.fixture
def plain(server: Redis) -> Iterator[redis_sync.Redis]:
    client = redis_sync.Redis.from_url(server.url)
    yield client
    client.close()


def test_a_lapsed_lease_is_reaped_once_and_the_stale_owner_is_refused(
    server: Redis, plain: redis_sync.Redis
) -> None:
    async def scenario() -> None:
        owner, b, c = (RedisRunStore(server.url, lease_s=1.0) for _ in range(3))
        for store in (owner, b, c):
            await store.open()
        try:
            source = FakeSource([TextDelta("kept")])
            started = await owner.start(source.stream)
            on_b, on_c = await b.attach(started.id), await c.attach(started.id)
            assert on_b is not None and on_c is not None
            while on_b.last_seq < 1:
                await on_b.aread(0, 5)
            plain.delete(RunKeys.of(started.id).lease)  # the owner stalled past its lease
            ends = [[e async for _s, e in aiter_run(run)] for run in (on_b, on_c)]
            assert ends[0] == ends[1]
            assert ends[0][0] == TextDelta("kept")
            assert isinstance(ends[0][1], StreamError) and ends[0][1].code == "connection"
            assert ends[0][2:] == [Done("error")]
            source.queue.put_nowait(TextDelta("stale"))  # the owner wakes up and writes
            await asyncio.wait_for(source.closed.wait(), 5)  # refused: upstream closed
            assert owner.active == 0
        finally:
            for store in (owner, b, c):
                await store.close()
        stored = [load_event(f[b"e"]) for _id, f in plain.xrange(RunKeys.of(started.id).events)]
        assert stored == ends[0]  # one error, one Done, nothing from the stale owner

    asyncio.run(asyncio.wait_for(scenario(), 20))


async def three_runs_past_their_first_event(
    owner: RedisRunStore,
) -> tuple[list[FakeSource], list[Run]]:
    """Three runs of ``owner``, each with ``first i`` written; their sources wait for more."""
    sources = [FakeSource([TextDelta(f"first {i}")]) for i in range(3)]
    runs = [await owner.start(source.stream) for source in sources]
    for run in runs:
        while run.last_seq < 1:
            await run.aread(0, 5)
    return sources, runs


def test_one_flush_for_many_runs_fences_only_the_run_whose_lease_was_lost(
    server: Redis, plain: redis_sync.Redis
) -> None:
    # All of an owner's runs are written by one script call per flush: a lost lease must
    # refuse that run's events alone, in the same call that writes the others'.
    async def scenario() -> None:
        owner = RedisRunStore(server.url)
        await owner.open()
        try:
            sources, runs = await three_runs_past_their_first_event(owner)
            plain.set(RunKeys.of(runs[1].id).lease, "another instance")
            for i, source in enumerate(sources):  # the three appends go out in one flush
                source.queue.put_nowait(TextDelta(f"second {i}"))
                source.queue.put_nowait(Done("stop"))
            await asyncio.wait_for(sources[1].closed.wait(), 5)  # refused: upstream closed
            for i in (0, 2):
                events = [e async for _s, e in aiter_run(runs[i])]
                assert events == [TextDelta(f"first {i}"), TextDelta(f"second {i}"), Done("stop")]
        finally:
            await owner.close()
        for i, run in enumerate(runs):
            keys = RunKeys.of(run.id)
            stored = [load_event(f[b"e"]) for _id, f in plain.xrange(keys.events)]
            if i == 1:
                assert stored == [TextDelta("first 1")]  # nothing after the lease was lost
                assert plain.get(keys.lease) == b"another instance"
            else:
                assert stored == [TextDelta(f"first {i}"), TextDelta(f"second {i}"), Done("stop")]
                assert plain.exists(keys.lease) == 0 and plain.exists(keys.ended) == 1

    asyncio.run(asyncio.wait_for(scenario(), 20))


def test_a_flush_sent_again_after_its_reply_was_lost_finishes_every_run(
    server: Redis, plain: redis_sync.Redis
) -> None:
    # A reply that never came back (a socket timeout on a loaded box) makes the owner send
    # the same flush again, though Redis wrote it. Entries Redis already has are skipped:
    # one run's "ID equal or smaller" must not fail the whole call on every retry and
    # leave every run of the flush unfinished.
    async def scenario() -> None:
        owner = RedisRunStore(server.url)
        await owner.open()
        try:
            sources, runs = await three_runs_past_their_first_event(owner)
            lost = RunKeys.of(runs[1].id).events  # as if run 1's next write went through
            plain.xadd(lost, {"e": dump_event(TextDelta("second 1"))}, id="2-0")
            for i, source in enumerate(sources):  # the three appends go out in one flush
                source.queue.put_nowait(TextDelta(f"second {i}"))
                source.queue.put_nowait(Done("stop"))
            for i, run in enumerate(runs):
                events = [e async for _s, e in aiter_run(run)]
                assert events == [TextDelta(f"first {i}"), TextDelta(f"second {i}"), Done("stop")]
        finally:
            await owner.close()
        for i, run in enumerate(runs):
            stored = [load_event(f[b"e"]) for _id, f in plain.xrange(RunKeys.of(run.id).events)]
            assert stored == [TextDelta(f"first {i}"), TextDelta(f"second {i}"), Done("stop")]

    asyncio.run(asyncio.wait_for(scenario(), 20))


def test_the_durable_cancel_flag_alone_stops_the_owner(
    server: Redis, plain: redis_sync.Redis
) -> None:
    async def scenario() -> None:
        owner = RedisRunStore(server.url, lease_s=1.0)
        await owner.open()
        try:
            source = FakeSource([TextDelta("a")])
            started = await owner.start(source.stream)
            plain.set(RunKeys.of(started.id).cancel, "1")  # no pub/sub message: it was missed
            await asyncio.wait_for(source.closed.wait(), 5)
            events = [e async for _s, e in aiter_run(started)]
            assert events == [TextDelta("a"), Done("cancelled")]
        finally:
            await owner.close()

    asyncio.run(asyncio.wait_for(scenario(), 20))


def test_a_store_whose_redis_is_down_refuses_with_a_clear_error() -> None:
    async def scenario(url: str) -> None:
        store = RedisRunStore(url)
        await store.open()
        try:
            with pytest.raises(RunStoreError):
                await store.start(FakeSource().stream)
            with pytest.raises(RunStoreError):
                await store.attach("a" * 32)
        finally:
            await store.close()

    with run_redis() as gone:
        url = gone.url
    asyncio.run(asyncio.wait_for(scenario(url), 20))
