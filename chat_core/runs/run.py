"""Runs: a generation that outlives its consumer.

A ``Run`` pulls events from a back end's async stream into a seq-numbered
buffer (seq counts from 1, no gaps) whether or not anyone reads. Consumers
attach from any seq, sync (``iter_events``, for Streamlit's script thread) or
async (``aiter_events``, for the gateway), and detach freely: a disconnect or a
rerun is not a cancel. Only ``cancel()`` stops the generation, by cancelling
the pulling task, which closes the upstream HTTP response at once.

The producer always runs on an asyncio loop: the gateway's own, or for the
Streamlit app a ``BackgroundLoop`` thread shared by the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import Future as ThreadFuture
from typing import Any

from chat_core.errors import ChatError
from chat_core.events import Done, FinishReason, StreamError, StreamEvent, TextDelta, answer_text

log = logging.getLogger(__name__)


class CapacityError(ChatError):
    """Too many runs are active; try again shortly."""


class Run:
    """One generation's seq-numbered event buffer, its producer task and its waiters."""

    def __init__(self, run_id: str | None = None) -> None:
        self.id = run_id or uuid.uuid4().hex
        self.created_at = time.monotonic()
        self.finished_at: float | None = None
        self.events: list[StreamEvent] = []
        self.arrival_times: list[float] = []  # monotonic, one per event
        self.text_bytes = 0
        self._cond = threading.Condition()
        self._async_waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._on_finish: list[Callable[[Run], Any]] = []
        self.cancel_requested = False

    # -- state -------------------------------------------------------------------
    @property
    def last_seq(self) -> int:
        return len(self.events)

    @property
    def finished(self) -> bool:
        return self.finished_at is not None

    @property
    def finish_reason(self) -> FinishReason | None:
        last = self.events[-1] if self.events else None
        return last.finish_reason if isinstance(last, Done) else None

    @property
    def error(self) -> StreamError | None:
        return next((e for e in self.events if isinstance(e, StreamError)), None)

    @property
    def text(self) -> str:
        return answer_text(self.events)

    # -- producer ----------------------------------------------------------------
    def append(self, event: StreamEvent) -> int:
        """Add an event; returns its seq. Nothing may follow ``Done``."""
        with self._cond:
            if self.finished:
                return self.last_seq
            self.events.append(event)
            self.arrival_times.append(time.monotonic())
            if isinstance(event, TextDelta):
                self.text_bytes += len(event.text)
            if isinstance(event, Done):
                self.finished_at = time.monotonic()
            seq = len(self.events)
            self._cond.notify_all()
            waiters, self._async_waiters = self._async_waiters, []
            callbacks = self._on_finish if isinstance(event, Done) else []
        for loop, fut in waiters:
            _wake(loop, fut)
        for callback in callbacks:
            try:
                callback(self)
            except Exception:
                log.exception("run %s: finish callback failed", self.id)
        return seq

    def add_finish_callback(self, callback: Callable[[Run], Any]) -> None:
        """Call ``callback(run)`` once the run has its ``Done`` (at once if it has)."""
        with self._cond:
            if not self.finished:
                self._on_finish.append(callback)
                return
        callback(self)

    def start(self, source: AsyncIterator[StreamEvent]) -> None:
        """Start pulling ``source`` on the running loop (call from inside it)."""
        self._loop = asyncio.get_running_loop()
        self._task = self._loop.create_task(self._pump(source))
        self._task.add_done_callback(self._on_task_done)

    def start_in(
        self, loop: asyncio.AbstractEventLoop, source: Callable[[], AsyncIterator[StreamEvent]]
    ) -> None:
        """Start pulling on another thread's loop; returns once the task exists."""
        ready: ThreadFuture[None] = ThreadFuture()

        def _start() -> None:
            try:
                self.start(source())
            finally:
                ready.set_result(None)

        loop.call_soon_threadsafe(_start)
        ready.result(timeout=10)

    async def _pump(self, source: AsyncIterator[StreamEvent]) -> None:
        try:
            async for event in source:
                self.append(event)
                if isinstance(event, Done):
                    return
            self.append(StreamError("internal", "The stream ended without finishing.", True))
            self.append(Done("error"))
        except asyncio.CancelledError:
            self.append(Done("cancelled"))
        except Exception:
            log.exception("run %s: back end raised", self.id)
            self.append(StreamError("internal", "Unexpected error while streaming.", False))
            self.append(Done("error"))
        finally:
            aclose = getattr(source, "aclose", None)
            if aclose is not None:
                with contextlib.suppress(Exception):
                    await aclose()

    def _on_task_done(self, _task: asyncio.Task[None]) -> None:
        if not self.finished:  # cancelled before it ever ran
            self.append(Done("cancelled"))

    def cancel(self) -> bool:
        """Stop the generation now; the upstream connection closes. False if already finished."""
        if self.finished:
            return False
        self.cancel_requested = True
        task, loop = self._task, self._loop
        if task is None or loop is None:
            self.append(Done("cancelled"))
            return True
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            task.cancel()
        else:
            loop.call_soon_threadsafe(task.cancel)
        return True

    # -- consumers ---------------------------------------------------------------
    def wait(self, after: int, timeout: float | None) -> list[StreamEvent]:
        """The events after seq ``after``, waiting up to ``timeout`` for one; may be empty."""
        with self._cond:
            if len(self.events) <= after and not self.finished:
                self._cond.wait(timeout)
            return self.events[after:]

    async def await_events(self, after: int, timeout: float | None) -> list[StreamEvent]:
        """Async twin of ``wait``: the events after ``after``, empty when ``timeout`` passed."""
        with self._cond:
            batch = self.events[after:]
            if batch or self.finished:
                return batch
            loop = asyncio.get_running_loop()
            fut: asyncio.Future[None] = loop.create_future()
            self._async_waiters.append((loop, fut))
        timer = None if timeout is None else loop.call_later(timeout, _settle, fut)
        try:
            await fut
        finally:
            if timer is not None:
                timer.cancel()
            if not fut.done():  # our caller was cancelled: forget the waiter
                fut.cancel()
        with self._cond:
            return self.events[after:]

    def iter_events(
        self,
        after: int = 0,
        *,
        idle_s: float = 0.1,
        on_idle: Callable[[], Any] | None = None,
    ) -> Iterator[tuple[int, StreamEvent]]:
        """Yield ``(seq, event)`` after ``after``, blocking; ends after ``Done``.

        ``on_idle`` is called every ``idle_s`` while waiting (Streamlit uses it as a
        yield point, so a Stop click is handled during a stall).
        """
        seq = after
        while True:
            with self._cond:
                while len(self.events) <= seq and not self.finished:
                    if not self._cond.wait(idle_s) and on_idle is not None:
                        self._cond.release()
                        try:
                            on_idle()
                        finally:
                            self._cond.acquire()
                batch = self.events[seq:]
            for event in batch:
                seq += 1
                yield seq, event
            if self.finished and seq >= len(self.events):
                return

    async def aiter_events(self, after: int = 0) -> AsyncIterator[tuple[int, StreamEvent]]:
        """Yield ``(seq, event)`` after ``after``; ends after ``Done``."""
        seq = after
        loop = asyncio.get_running_loop()
        while True:
            with self._cond:
                batch = self.events[seq:]
                fut: asyncio.Future[None] | None = None
                if not batch and not self.finished:
                    fut = loop.create_future()
                    self._async_waiters.append((loop, fut))
            if fut is not None:
                await fut
                continue
            for event in batch:
                seq += 1
                yield seq, event
            if self.finished and seq >= len(self.events):
                return

    def approx_bytes(self) -> int:
        """Rough memory held by the buffer."""
        return self.text_bytes + 150 * len(self.events)


def _settle(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


def _wake(loop: asyncio.AbstractEventLoop, fut: asyncio.Future[None]) -> None:
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        _settle(fut)
    elif not loop.is_closed():
        loop.call_soon_threadsafe(_settle, fut)


class RunRegistry:
    """Holds runs by id, bounded in count, active runs and buffered bytes; expires finished ones."""

    def __init__(
        self,
        *,
        max_active: int = 2000,
        max_runs: int = 10_000,
        max_buffer_bytes: int = 256 * 1024 * 1024,
        ttl_s: float = 600.0,
    ) -> None:
        self.max_active = max_active
        self.max_runs = max_runs
        self.max_buffer_bytes = max_buffer_bytes
        self.ttl_s = ttl_s
        self._runs: OrderedDict[str, Run] = OrderedDict()
        self._active: set[str] = set()  # kept by finish callbacks: ``create`` stays O(1)
        self._lock = threading.Lock()
        self._pruned_at = float("-inf")

    def __len__(self) -> int:
        return len(self._runs)

    @property
    def active(self) -> int:
        return len(self._active)

    def create(self, run_id: str | None = None) -> Run:
        """A new registered run; CapacityError when ``max_active`` runs are going."""
        with self._lock:
            self._prune_locked()
            if len(self._active) >= self.max_active:
                raise CapacityError("Too many answers are streaming right now; retry shortly.")
            run = Run(run_id)
            self._runs[run.id] = run
            self._active.add(run.id)
        run.add_finish_callback(self._finished)
        return run

    def _finished(self, run: Run) -> None:
        with self._lock:
            self._active.discard(run.id)

    def get(self, run_id: str) -> Run | None:
        with self._lock:
            run = self._runs.get(run_id)
            if run is not None and self._expired(run, time.monotonic()):
                del self._runs[run_id]
                return None
            return run

    def cancel_all(self) -> int:
        """Cancel every active run (a server shutting down); returns how many."""
        with self._lock:
            runs = [self._runs[rid] for rid in self._active if rid in self._runs]
        return sum(run.cancel() for run in runs)

    def _expired(self, run: Run, now: float) -> bool:
        return run.finished_at is not None and now - run.finished_at > self.ttl_s

    def _prune_locked(self) -> None:
        # A full pass is O(runs): under a burst of creates do it at most once a second.
        now = time.monotonic()
        if now - self._pruned_at < 1.0 and len(self._runs) < self.max_runs:
            return
        self._pruned_at = now
        for rid in [rid for rid, r in self._runs.items() if self._expired(r, now)]:
            del self._runs[rid]
        total = sum(r.approx_bytes() for r in self._runs.values())
        finished = [rid for rid, r in self._runs.items() if r.finished]  # oldest first
        while finished and (len(self._runs) >= self.max_runs or total > self.max_buffer_bytes):
            total -= self._runs.pop(finished.pop(0)).approx_bytes()


class BackgroundLoop:
    """An asyncio loop in a daemon thread: where a sync app's runs pull from back ends."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._loop.is_closed():
                loop = asyncio.new_event_loop()
                threading.Thread(
                    target=loop.run_forever, name="chat-core-runs", daemon=True
                ).start()
                self._loop = loop
            return self._loop


_background = BackgroundLoop()
_registry = RunRegistry()


def start_run(
    source: Callable[[], AsyncIterator[StreamEvent]],
    *,
    registry: RunRegistry | None = None,
) -> Run:
    """Start a run from sync code: the source is pulled on the shared background loop."""
    run = (registry or _registry).create()
    run.start_in(_background.loop, source)
    return run
