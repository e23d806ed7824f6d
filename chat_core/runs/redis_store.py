"""Runs in Redis Streams, shared by every worker and instance (``CHAT_REDIS_URL``).

The instance that took the request owns the run: it pulls the model, holds the
run's lease (``SET NX PX``, renewed every quarter of its life) and writes events
through one script call per flush for all its runs (one loop tick's worth), which
writes each run's events only while its lease is this instance's (fencing,
``redis_scripts``). Readers everywhere read
a local ``Run`` mirror filled only with what Redis confirmed, so an event is
visible to a client only once Redis has it, and the seq is the stream entry id,
so ``Last-Event-ID`` is the cursor on any instance. A cancel sets a durable flag
and publishes the run id; the owner closes the upstream at once (pub/sub) or at
its next renewal (the flag). If the owner dies, its lease lapses and a follower
reaps the run (``redis_follow``); if Redis itself is gone for a lease's length,
every local run ends with a ``connection`` error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable, Collection
from functools import partial

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import RedisError

from chat_core.errors import CapacityError, RunStoreError
from chat_core.events import Done, StreamError, StreamEvent
from chat_core.runs.codec import load_event
from chat_core.runs.redis_follow import Follower, entry_seq
from chat_core.runs.redis_scripts import CANCEL_CHANNEL, RunKeys
from chat_core.runs.redis_writer import Owned, Writer
from chat_core.runs.run import Run, pump
from chat_core.runs.store import CANCEL_WAIT_S, CancelResult, RunStore, wait_finished

log = logging.getLogger(__name__)

_RUN_ID = re.compile(r"[0-9a-f]{32}")
_UNREACHABLE = "The run store (Redis) is unreachable; retry shortly."


class RedisRunStore(RunStore):
    """Runs as Redis streams: one per run, seq = entry id, leased by the instance pulling it."""

    name = "redis"
    shared = True

    def __init__(
        self,
        url: str,
        *,
        max_active: int = 2000,
        ttl_s: float = 600.0,
        max_events: int = 100_000,
        lease_s: float = 10.0,  # a busy 2-core box stalled loops ~3 s; a death shows in ~11 s
    ) -> None:
        self.url = url
        self.max_active = max_active
        self.ttl_ms = int(ttl_s * 1000)
        self.max_events = max_events  # MAXLEN ~: a runaway answer cannot fill Redis
        self.lease_s = lease_s
        self.owner = uuid.uuid4().hex  # this process's lease token
        self._mirrors: dict[str, tuple[Run, int]] = {}  # runs owned elsewhere: mirror, readers
        self._tasks: list[asyncio.Task[None]] = []
        self._client: Redis | None = None
        self._follower: Follower | None = None
        self._writer: Writer | None = None

    @property
    def active(self) -> int:
        return len(self._owned)

    @property
    def _owned(self) -> dict[str, Owned]:
        return self._writer.owned if self._writer is not None else {}

    @property
    def redis(self) -> Redis:
        if self._client is None:
            raise RuntimeError("RedisRunStore.open() was not awaited")
        return self._client

    async def open(self) -> None:
        # A bounded pool that waits for a free connection: a burst of 1,000 streams must
        # queue its commands, not open 1,000 sockets (their connects time out on a busy box).
        pool = BlockingConnectionPool.from_url(
            self.url,
            max_connections=64,
            timeout=10,
            socket_connect_timeout=2,
            socket_timeout=5,
            retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), 2),
        )
        self._client = Redis.from_pool(pool)
        self._follower = Follower(self.redis, ttl_ms=self.ttl_ms, give_up_s=self.lease_s * 2)
        self._writer = Writer(
            self.redis,
            self._follower,
            owner=self.owner,
            ttl_ms=self.ttl_ms,
            max_events=self.max_events,
            lease_s=self.lease_s,
        )
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._writer.renew_loop()),
            loop.create_task(self._listen()),
        ]
        try:
            await self.redis.ping()
        except RedisError as exc:
            log.warning("run store: Redis at the configured URL is unreachable now: %s", exc)

    async def close(self) -> None:
        for owned in list(self._owned.values()):
            if owned.task is not None:
                owned.task.cancel()  # closes the upstream; its Done("cancelled") is flushed
        deadline = time.monotonic() + 1.0
        while self._owned and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._writer is not None:
            await self._writer.close()
        if self._follower is not None:
            await self._follower.close()
        if self._client is not None:
            await self._client.aclose()

    # -- owning ------------------------------------------------------------------
    async def start(self, source: Callable[[], AsyncIterator[StreamEvent]]) -> Run:
        if len(self._owned) >= self.max_active:
            raise CapacityError("Too many answers are streaming right now; retry shortly.")
        run = Run()
        keys = RunKeys.of(run.id)
        try:
            await self.redis.set(keys.lease, self.owner, nx=True, px=int(self.lease_s * 1000))
        except RedisError as exc:
            raise RunStoreError(_UNREACHABLE) from exc
        writer = self._writer
        assert writer is not None  # set by open(), like the client
        owned = writer.add(run)
        owned.task = asyncio.get_running_loop().create_task(
            _produce(source, partial(writer.enqueue, owned), run.id)
        )
        return run

    async def _listen(self) -> None:
        """Cancel messages from any instance: close the upstream of a run pulled here."""
        while True:
            try:
                async with self.redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(CANCEL_CHANNEL)
                    async for message in pubsub.listen():
                        data = message.get("data")
                        run_id = data.decode() if isinstance(data, bytes) else str(data)
                        owned = self._owned.get(run_id)
                        if owned is not None and owned.task is not None:
                            owned.task.cancel()
            except RedisError:
                await asyncio.sleep(0.5)  # resubscribe; the durable flag covers the gap

    # -- reading -----------------------------------------------------------------
    async def attach(self, run_id: str) -> Run | None:
        if (owned := self._owned.get(run_id)) is not None:
            return owned.run
        if _RUN_ID.fullmatch(run_id) is None:
            return None
        if (mirror := self._take_mirror(run_id)) is not None:
            return mirror
        keys = RunKeys.of(run_id)
        try:
            pipe = self.redis.pipeline(transaction=False)
            pipe.xrange(keys.events, "-", "+")
            pipe.exists(keys.lease)
            entries, leased = await pipe.execute()
        except RedisError as exc:
            raise RunStoreError(_UNREACHABLE) from exc
        if not entries and not leased:
            return None
        if entries and entry_seq(entries[0][0]) != 1:
            return None  # trimmed by MAXLEN: the replay is gone, as if expired
        if (mirror := self._take_mirror(run_id)) is not None:  # another reader raced us
            return mirror
        run = Run(run_id)
        for _entry_id, fields in entries:
            run.append(load_event(fields[b"e"]))
        self._mirrors[run_id] = (run, 1)
        if self._follower is not None:
            self._follower.follow(run)
        return run

    def _take_mirror(self, run_id: str) -> Run | None:
        entry = self._mirrors.get(run_id)
        if entry is None:
            return None
        self._mirrors[run_id] = (entry[0], entry[1] + 1)
        return entry[0]

    def detach(self, run: Run) -> None:
        entry = self._mirrors.get(run.id)
        if entry is None or entry[0] is not run:
            return
        if entry[1] > 1:
            self._mirrors[run.id] = (run, entry[1] - 1)
            return
        del self._mirrors[run.id]
        if self._follower is not None:
            self._follower.unfollow(run.id)

    async def reading(self, run_ids: Collection[str], ttl_s: float) -> None:
        if not run_ids:
            return
        try:
            pipe = self.redis.pipeline(transaction=False)
            for run_id in run_ids:
                pipe.set(RunKeys.of(run_id).readers, "1", px=max(1, int(ttl_s * 1000)))
            await pipe.execute()
        except RedisError as exc:
            raise RunStoreError(_UNREACHABLE) from exc

    async def read_elsewhere(self, run_id: str) -> bool:
        try:
            return bool(await self.redis.exists(RunKeys.of(run_id).readers))
        except RedisError as exc:
            raise RunStoreError(_UNREACHABLE) from exc

    async def cancel(self, run_id: str) -> CancelResult | None:
        if (owned := self._owned.get(run_id)) is not None:
            cancelled = not owned.run.finished
            if owned.task is not None:
                owned.task.cancel()
            await wait_finished(owned.run, CANCEL_WAIT_S)
            return CancelResult(cancelled, owned.run.finish_reason)
        run = await self.attach(run_id)
        if run is None:
            return None
        try:
            if run.finished:
                return CancelResult(False, run.finish_reason)
            keys = RunKeys.of(run_id)
            try:
                await self.redis.set(keys.cancel, "1", px=self.ttl_ms)
                await self.redis.publish(CANCEL_CHANNEL, run_id)
            except RedisError as exc:
                raise RunStoreError(_UNREACHABLE) from exc
            await wait_finished(run, CANCEL_WAIT_S)
            return CancelResult(True, run.finish_reason)
        finally:
            self.detach(run)


async def _produce(
    source: Callable[[], AsyncIterator[StreamEvent]],
    append: Callable[[StreamEvent], object],
    run_id: str,
) -> None:
    try:
        stream = source()
    except Exception:  # the stream still gets its error and done, never a cut
        log.exception("run %s: back end failed to start", run_id)
        append(StreamError("internal", "Unexpected error while streaming.", False))
        append(Done("error"))
        return
    await pump(stream, append, run_id)
