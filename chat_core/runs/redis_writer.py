"""The owning side of Redis runs: batched, fenced appends and lease renewal.

Events a run's producer appends wait in its ``pending`` list; one flush task per
process sends every dirty run's events (one loop tick's worth, or what gathered
while the previous flush was in flight) in one call of the ``APPEND`` script,
which writes each run's events only while that run's lease is the writer's.
A refused append (fenced) or a refused renewal stops the producer, which closes
its upstream response, and hands the run to the follower, which reads what Redis
has. Only what Redis confirmed reaches the run's local mirror, so readers never
see an event Redis does not have.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field

from redis.asyncio import Redis
from redis.exceptions import RedisError

from chat_core.events import Done, StreamEvent
from chat_core.runs.codec import dump_event
from chat_core.runs.redis_follow import STORE_DOWN, Follower, end_locally
from chat_core.runs.redis_scripts import APPEND, RENEW, RunKeys
from chat_core.runs.run import Run

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Owned:
    """A run this process pulls: its mirror, its next seq, events not yet in Redis."""

    run: Run
    keys: RunKeys
    seq: int = 0
    pending: list[tuple[int, StreamEvent]] = field(default_factory=list)
    task: asyncio.Task[None] | None = None
    fenced: bool = False  # lost its lease: write nothing more
    writing: bool = False  # an append is in flight (its Done may have ended the lease)


class Writer:
    """This process's owned runs: their appends, their leases."""

    def __init__(
        self,
        redis: Redis,
        follower: Follower,
        *,
        owner: str,
        ttl_ms: int,
        max_events: int,
        lease_s: float,
    ) -> None:
        self.redis = redis
        self.follower = follower
        self.owner = owner
        self.ttl_ms = ttl_ms
        self.max_events = max_events
        self.lease_s = lease_s
        self.owned: dict[str, Owned] = {}
        self._append = redis.register_script(APPEND)
        self._renew = redis.register_script(RENEW)
        self._dirty: dict[str, Owned] = {}
        self._flusher: asyncio.Task[None] | None = None
        self._last_ok = time.monotonic()

    def add(self, run: Run) -> Owned:
        """Own ``run`` (its lease is already taken); forgotten once it has its Done."""
        owned = Owned(run, RunKeys.of(run.id))
        self.owned[run.id] = owned
        run.add_finish_callback(lambda r: self.owned.pop(r.id, None))
        return owned

    async def close(self) -> None:
        """Stop flushing (after the runs' last events had their chance)."""
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher

    def enqueue(self, owned: Owned, event: StreamEvent) -> None:
        if owned.fenced:
            return
        owned.seq += 1
        owned.pending.append((owned.seq, event))
        self._dirty[owned.run.id] = owned
        if self._flusher is None:  # flushes next tick: appends from all runs in one pipeline
            self._flusher = asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        try:
            while self._dirty:
                batch = [(owned, owned.pending) for owned in self._dirty.values()]
                self._dirty = {}
                keys: list[str] = []
                args: list[str | int | bytes] = [self.owner, self.max_events, self.ttl_ms]
                for owned, events in batch:
                    owned.pending = []
                    owned.writing = True
                    keys += [owned.keys.events, owned.keys.lease, owned.keys.ended]
                    args += ["1" if isinstance(events[-1][1], Done) else "0", len(events)]
                    for seq, event in events:
                        args += [seq, dump_event(event)]
                try:
                    results = await self._append(keys=keys, args=args)
                except RedisError as exc:
                    for owned, events in batch:  # keep them, in order, for the next try
                        owned.writing = False
                        owned.pending = events + owned.pending
                        self._dirty.setdefault(owned.run.id, owned)
                    self._store_failed(exc)
                    await asyncio.sleep(0.1)
                    continue
                self._last_ok = time.monotonic()
                for (owned, events), result in zip(batch, results, strict=True):
                    owned.writing = False
                    if result == 1:
                        for _seq, event in events:
                            owned.run.append(event)
                    else:
                        self.fence(owned, result)
        finally:
            self._flusher = None

    def fence(self, owned: Owned, why: object) -> None:
        """This process lost the run's lease: stop pulling, read what Redis has instead."""
        if owned.fenced:
            return
        owned.fenced = True
        self._dirty.pop(owned.run.id, None)
        self.owned.pop(owned.run.id, None)
        if owned.task is not None:
            owned.task.cancel()  # closes the upstream response
        log.warning("run %s: lease lost (%s); stopped pulling", owned.run.id, why)
        self.follower.follow(owned.run)

    def _store_failed(self, exc: Exception) -> None:
        if time.monotonic() - self._last_ok <= self.lease_s:
            log.warning("run store: Redis command failed, retrying: %s", exc)
            return
        # Our leases have lapsed by now: nothing we write would be accepted.
        for owned in list(self.owned.values()):
            owned.fenced = True
            self.owned.pop(owned.run.id, None)
            if owned.task is not None:
                owned.task.cancel()
            end_locally(owned.run, STORE_DOWN)
        self._dirty = {}

    async def renew_loop(self) -> None:
        lease_ms = int(self.lease_s * 1000)
        while True:
            await asyncio.sleep(self.lease_s / 4)
            owned = list(self.owned.values())
            if not owned:
                continue
            keys = [key for item in owned for key in (item.keys.lease, item.keys.cancel)]
            try:
                results = await self._renew(keys=keys, args=[self.owner, lease_ms])
            except RedisError as exc:
                self._store_failed(exc)
                continue
            self._last_ok = time.monotonic()
            for item, result in zip(owned, results, strict=True):
                if result == 2 and item.task is not None:
                    item.task.cancel()  # a cancel whose message this process missed
                elif result != 1 and not (item.run.finished or item.pending or item.writing):
                    self.fence(item, f"renewal refused: {result!r}")
