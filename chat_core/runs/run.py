"""A run: one generation that outlives its consumer.

A ``Run`` pulls events from a back end's async stream into a seq-numbered
buffer (seq counts from 1, no gaps) whether or not anyone reads. Consumers
read from any seq with one pair of twins, ``read`` (blocking, for Streamlit's
script thread) and ``aread`` (async, for the gateway), and detach freely: a
disconnect or a rerun is not a cancel. Only ``cancel()`` stops the generation,
by cancelling the pulling task, which closes the upstream HTTP response at once.

Threading: the producer always runs on one asyncio loop (the gateway's own, or
for the Streamlit app the process's ``BackgroundLoop`` thread); readers may be on
any thread. The buffer is guarded by one ``threading.Condition``; async readers
park a future on their own loop, woken thread-safely by ``append``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future as ThreadFuture
from typing import Any, cast

from chat_core.backends.base import Resuming
from chat_core.events import (
    ERROR_CODES,
    FINISH_REASONS,
    Done,
    FinishReason,
    ReasoningDelta,
    StreamError,
    StreamEvent,
    TextDelta,
    ToolCallDelta,
    Usage,
    answer_text,
)

log = logging.getLogger(__name__)


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
        self._source: AsyncIterator[StreamEvent] | None = None
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

    @property
    def reconnects(self) -> int:
        """How many times the source resumed its stream (only remote streams do)."""
        source = self._source
        return source.reconnects if isinstance(source, Resuming) else 0

    # -- producer ----------------------------------------------------------------
    def append(self, event: StreamEvent) -> int:
        """Add an event; returns its seq. Nothing may follow ``Done``.

        The finish callbacks run before anyone can see the ``Done``: a reader that sees
        the end of a run also sees what the callbacks did (the stored answer).
        """
        with self._cond:
            if self.finished:
                return self.last_seq
            self.events.append(event)
            self.arrival_times.append(time.monotonic())
            if isinstance(event, TextDelta):
                self.text_bytes += len(event.text)
            if isinstance(event, Done):
                while self._on_finish:  # a callback may add another
                    callbacks, self._on_finish = self._on_finish, []
                    for callback in callbacks:
                        self._call(callback)
                self.finished_at = self.arrival_times[-1]
            seq = len(self.events)
            self._cond.notify_all()
            waiters, self._async_waiters = self._async_waiters, []
        for loop, fut in waiters:
            _wake(loop, fut)
        return seq

    def _call(self, callback: Callable[[Run], Any]) -> None:
        try:
            callback(self)
        except Exception:  # a failed store write must not break the stream or its caller
            log.exception("run %s: finish callback failed", self.id)

    def add_finish_callback(self, callback: Callable[[Run], Any]) -> None:
        """Call ``callback(run)`` once the run has its ``Done`` (at once if it has)."""
        with self._cond:
            if not self.finished:
                self._on_finish.append(callback)
                return
        self._call(callback)

    def start(self, source: AsyncIterator[StreamEvent]) -> None:
        """Start pulling ``source`` on the running loop (call from inside it)."""
        self._loop = asyncio.get_running_loop()
        self._source = source
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
            except Exception:  # a back end that cannot even begin must not leave a run hanging
                log.exception("run %s: back end failed to start", self.id)
                self.fail()
            finally:
                ready.set_result(None)

        loop.call_soon_threadsafe(_start)
        ready.result(timeout=10)

    async def _pump(self, source: AsyncIterator[StreamEvent]) -> None:
        await pump(source, self.append, self.id)

    def _on_task_done(self, _task: asyncio.Task[None]) -> None:
        if not self.finished:  # cancelled before it ever ran
            self.append(Done("cancelled"))

    def fail(self, message: str = "Unexpected error while streaming.") -> bool:
        """End the run now with ``StreamError("internal")`` + ``Done("error")``; False if finished.

        For what goes wrong outside the pump (a source that cannot start, a page that
        cannot show the answer): the run finishes, so no consumer or session waits on it.
        """
        with self._cond:
            if self.finished:
                return False
            self.append(StreamError("internal", message, False))
            self.append(Done("error"))
        task, loop = self._task, self._loop
        if task is not None and loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(task.cancel)  # stop pulling; the pump's Done is ignored
        return True

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
    def read(self, after: int, timeout: float | None) -> list[StreamEvent]:
        """The events after seq ``after``, waiting up to ``timeout`` for one; empty if none came."""
        with self._cond:
            if len(self.events) <= after and not self.finished:
                self._cond.wait(timeout)
            return self.events[after:]

    async def aread(self, after: int, timeout: float | None) -> list[StreamEvent]:
        """Async twin of ``read``: the events after ``after``, empty when ``timeout`` passed."""
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

    def approx_bytes(self) -> int:
        """Rough memory held by the buffer."""
        return self.text_bytes + 150 * len(self.events)


def _checked(event: object) -> StreamEvent:
    """The event, or TypeError for what no consumer can show (a list as text, say)."""
    if isinstance(event, TextDelta | ReasoningDelta):
        usable = isinstance(event.text, str)
    elif isinstance(event, ToolCallDelta):
        texts = (event.id, event.name, event.arguments)
        usable = isinstance(event.index, int) and all(isinstance(t, str) for t in texts)
    elif isinstance(event, Usage):
        counts = (event.prompt_tokens, event.completion_tokens, event.reasoning_tokens or 0)
        usable = all(isinstance(n, int) for n in counts)
    elif isinstance(event, StreamError):
        usable = event.code in ERROR_CODES and isinstance(event.message, str)
    elif isinstance(event, Done):
        usable = event.finish_reason in FINISH_REASONS and isinstance(event.tool_names, tuple)
    else:
        usable = False
    if not usable:
        raise TypeError(f"a back end yielded {type(event).__name__} with unusable content")
    return cast(StreamEvent, event)


async def pump(
    source: AsyncIterator[StreamEvent], append: Callable[[StreamEvent], object], run_id: str
) -> None:
    """Pull ``source`` into ``append`` until its ``Done``; every ending becomes one ``Done``.

    A cancel becomes ``Done("cancelled")``; a source that stops early or raises becomes
    ``StreamError("internal")`` + ``Done("error")``. The source is closed in every case,
    which closes an upstream HTTP response at once.
    """
    try:
        async for event in source:
            append(_checked(event))
            if isinstance(event, Done):
                return
        append(StreamError("internal", "The stream ended without finishing.", True))
        append(Done("error"))
    except asyncio.CancelledError:
        append(Done("cancelled"))
    except Exception:
        log.exception("run %s: back end raised", run_id)
        append(StreamError("internal", "Unexpected error while streaming.", False))
        append(Done("error"))
    finally:
        aclose = getattr(source, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()


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
