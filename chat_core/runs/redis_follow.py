"""Following runs that another instance pulls: one multiplexed XREAD for all of them, and reaping.

Each reader of a run owned elsewhere reads a local mirror (a ``Run`` without a
producer); this process keeps one task that tails every followed run's stream with
one ``XREAD BLOCK`` over all of them (one Redis connection, however many readers)
and appends what arrives to the mirrors. About once a second it also runs the
reap script for each followed run: when a run's lease has lapsed (its owner died)
and it has no Done, exactly one instance appends an error and a Done, so every
reader ends "interrupted" instead of waiting forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import RedisError

from chat_core.events import Done, StreamError
from chat_core.runs.codec import dump_event, load_event
from chat_core.runs.redis_scripts import REAP, RunKeys
from chat_core.runs.run import Run

log = logging.getLogger(__name__)

OWNER_GONE = StreamError(
    "connection",
    "The server that was streaming this answer stopped; the partial answer is kept.",
    True,
)
STORE_DOWN = StreamError(
    "connection", "The run store (Redis) is unreachable; the partial answer is kept.", True
)


def end_locally(run: Run, error: StreamError) -> None:
    """End a mirror here only (Redis cannot be written): an error, then ``Done("error")``."""
    if not run.finished:
        run.append(error)
        run.append(Done("error"))


def entry_seq(entry_id: bytes | str) -> int:
    """The seq of a stream entry id ``<seq>-0``."""
    raw = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return int(raw.partition("-")[0])


class Follower:
    """Tails the streams of runs owned elsewhere into their local mirrors."""

    def __init__(self, redis: Redis, *, ttl_ms: int, give_up_s: float, block_ms: int = 200) -> None:
        self._redis = redis
        self._reap: AsyncScript = redis.register_script(REAP)
        self._ttl_ms = ttl_ms
        self._give_up_s = give_up_s  # Redis unreachable this long: end the mirrors here
        self._block_ms = block_ms
        self._runs: dict[str, Run] = {}
        self._keys: dict[str, str] = {}  # run id -> its events key, built once, not every XREAD
        self._task: asyncio.Task[None] | None = None

    def follow(self, run: Run) -> None:
        """Keep ``run`` (a mirror) up to date until it has its Done."""
        if run.finished:
            return
        self._runs[run.id] = run
        self._keys[run.id] = RunKeys.of(run.id).events
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._loop())

    def unfollow(self, run_id: str) -> None:
        """Stop following (nobody reads it here any more)."""
        self._runs.pop(run_id, None)
        self._keys.pop(run_id, None)

    async def close(self) -> None:
        """Stop the tailing task."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _loop(self) -> None:
        next_reap = time.monotonic() + 1.0
        down_since: float | None = None
        while self._runs:
            runs = dict(self._runs)
            keys = self._keys
            streams: dict[Any, Any] = {keys[rid]: f"{run.last_seq}-0" for rid, run in runs.items()}
            try:
                reply = await self._redis.xread(streams, count=1000, block=self._block_ms)
                if time.monotonic() >= next_reap:
                    next_reap = time.monotonic() + 1.0
                    await self._reap_lapsed(list(runs.values()))
                down_since = None
            except RedisError as exc:
                now = time.monotonic()
                if down_since is None:
                    log.warning("run store: Redis unreachable while following runs: %s", exc)
                    down_since = now
                if now - down_since > self._give_up_s:
                    for run in runs.values():
                        end_locally(run, STORE_DOWN)
                await asyncio.sleep(0.2)
            else:
                self._deliver(reply, runs)
            for rid in [rid for rid, run in self._runs.items() if run.finished]:
                del self._runs[rid]
                self._keys.pop(rid, None)

    def _deliver(self, reply: Any, runs: dict[str, Run]) -> None:
        # RESP2 gives [[key, entries], ...]; RESP3 a {key: entries} mapping.
        items = reply.items() if isinstance(reply, dict) else (reply or [])
        for key, entries in items:
            name = key.decode() if isinstance(key, bytes) else str(key)
            run = runs.get(name[name.index("{") + 1 : name.index("}")])
            if run is None:
                continue
            for entry_id, fields in entries:
                if entry_seq(entry_id) == run.last_seq + 1 and not run.finished:
                    run.append(load_event(fields[b"e"]))

    async def _reap_lapsed(self, runs: list[Run]) -> None:
        pipe = self._redis.pipeline(transaction=False)
        error, done = dump_event(OWNER_GONE), dump_event(Done("error"))
        pending = [run for run in runs if not run.finished]
        for run in pending:
            keys = RunKeys.of(run.id)
            await self._reap(
                keys=[keys.events, keys.lease, keys.ended],
                args=[self._ttl_ms, error, done, run.last_seq],
                client=pipe,
            )
        if pending:
            for run, reaped in zip(pending, await pipe.execute(), strict=True):
                if reaped:
                    log.warning("run %s: its owner's lease lapsed; ended it as interrupted", run.id)
