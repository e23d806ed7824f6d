"""Run stores: where a server keeps its runs, so that any reader finds them.

MemoryRunStore   one process (the default): a ``RunRegistry`` of ``Run`` objects
RedisRunStore    several workers or instances: Redis Streams (``redis_store``), ``CHAT_REDIS_URL``

Both hand readers a ``Run`` and its one reader pair (``read`` / ``aread``); what
differs is who pulls the model (always the instance that took the request) and
how a cancel reaches it. ``make_run_store`` picks one from the settings.
"""

from __future__ import annotations

import asyncio
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Collection
from dataclasses import dataclass

from chat_core.events import FinishReason, StreamEvent
from chat_core.runs.registry import RunRegistry
from chat_core.runs.run import Run

log = logging.getLogger(__name__)

CANCEL_WAIT_S = 2.0  # how long a cancel waits for the run's Done before answering


@dataclass(frozen=True, slots=True)
class CancelResult:
    """What a cancel did: whether it stopped a run, and how the run finished (if it has)."""

    cancelled: bool
    finish_reason: FinishReason | None


class RunStore(ABC):
    """Starts runs, finds them for readers, cancels them; ``open``/``close`` bracket its life."""

    name: str
    shared = False  # whether other processes read these runs (then ``reading`` says so)

    async def open(self) -> None:  # noqa: B027 - a store without connections has nothing to do
        """Connect (called once on the server's loop before the first request)."""

    @abstractmethod
    async def close(self) -> None:
        """Cancel the runs this process pulls (their upstream responses close) and disconnect."""

    @property
    @abstractmethod
    def active(self) -> int:
        """How many runs this process is pulling now."""

    @abstractmethod
    async def start(self, source: Callable[[], AsyncIterator[StreamEvent]]) -> Run:
        """A new run pulling ``source()`` here; CapacityError, before any call, when too many."""

    @abstractmethod
    async def attach(self, run_id: str) -> Run | None:
        """The run to read, or None when unknown or expired; pair it with ``detach``."""

    def detach(self, run: Run) -> None:  # noqa: B027 - only a store with mirrors keeps count
        """A reader of ``run`` went away."""

    async def reading(self, run_ids: Collection[str], ttl_s: float) -> None:  # noqa: B027
        """Note for ``ttl_s`` that clients here read ``run_ids`` (for owners elsewhere)."""

    async def read_elsewhere(self, run_id: str) -> bool:
        """Whether a client of another process noted reading ``run_id`` lately."""
        return False

    @abstractmethod
    async def cancel(self, run_id: str) -> CancelResult | None:
        """Stop a run wherever it is pulled; None when unknown. Waits briefly for its Done."""


async def wait_finished(run: Run, timeout_s: float) -> None:
    """Wait up to ``timeout_s`` for ``run`` to have its ``Done``."""
    deadline = time.monotonic() + timeout_s
    while not run.finished and (left := deadline - time.monotonic()) > 0:
        await run.aread(run.last_seq, left)


class MemoryRunStore(RunStore):
    """Runs in this process's memory: bounded in count and bytes, finished ones kept for a TTL."""

    name = "memory"

    def __init__(self, registry: RunRegistry | None = None) -> None:
        self.registry = registry if registry is not None else RunRegistry()

    @property
    def active(self) -> int:
        return self.registry.active

    async def start(self, source: Callable[[], AsyncIterator[StreamEvent]]) -> Run:
        run = self.registry.create()
        try:
            run.start(source())
        except Exception:  # the stream still gets its error and done, never a cut
            log.exception("run %s: back end failed to start", run.id)
            run.fail()
        return run

    async def attach(self, run_id: str) -> Run | None:
        return self.registry.get(run_id)

    async def cancel(self, run_id: str) -> CancelResult | None:
        run = self.registry.get(run_id)
        if run is None:
            return None
        cancelled = run.cancel()
        await wait_finished(run, CANCEL_WAIT_S)
        return CancelResult(cancelled, run.finish_reason)

    async def close(self) -> None:
        if self.registry.cancel_all():
            for _ in range(100):  # let the cancelled runs close their upstream responses
                if self.registry.active == 0:
                    break
                await asyncio.sleep(0.01)


def make_run_store(
    redis_url: str | None, *, max_active: int = 2000, ttl_s: float = 600.0
) -> RunStore:
    """Redis Streams when ``redis_url`` (``CHAT_REDIS_URL``) is set, else memory."""
    if redis_url:
        from chat_core.runs.redis_store import RedisRunStore  # redis-py only when asked for

        return RedisRunStore(redis_url, max_active=max_active, ttl_s=ttl_s)
    return MemoryRunStore(RunRegistry(max_active=max_active, ttl_s=ttl_s))
