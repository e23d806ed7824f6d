"""Runs that no client reads any more: cancelled after ``CHAT_GATEWAY_ORPHAN_S``.

A dropped connection does not stop a run, so that its client can resume it; but a
client that never comes back would leave the model generating, billed, for nobody,
and hold its client's slot until the end. So when the last response attached to a
run in this process closes, a timer starts; if no client is reading the run when it
rings, the run is cancelled wherever it is pulled, which closes its upstream.

With several instances (the Redis run store) a client may resume on another one:
every instance notes in Redis, every third of the window, which runs its clients
read (``RunStore.reading``), and a timer that finds such a note waits another window.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from chat_core.errors import RunStoreError
from chat_core.runs import Run, RunStore

log = logging.getLogger("chat_core.gateway")


class Orphans:
    """Counts the responses reading each run here; cancels a run left unread for ``window_s``."""

    def __init__(self, store: RunStore, window_s: float) -> None:
        self.store = store
        self.window_s = window_s  # 0: never cancel
        self._readers: dict[str, int] = {}  # run id -> responses attached in this process
        self._tasks: set[asyncio.Task[None]] = set()
        self._noting: asyncio.Task[None] | None = None

    def attached(self, run: Run) -> None:
        """A response started reading ``run``."""
        self._readers[run.id] = self._readers.get(run.id, 0) + 1
        if self.window_s > 0 and self.store.shared:
            self._spawn(self._note([run.id]))  # at once: the owner's timer may ring soon
            if self._noting is None or self._noting.done():
                self._noting = asyncio.get_running_loop().create_task(self._note_every())

    def closed(self, run: Run) -> None:
        """A response reading ``run`` went away; the last one starts the window."""
        left = self._readers.pop(run.id, 1) - 1
        if left:
            self._readers[run.id] = left
        elif not run.finished and self.window_s > 0:
            self._start_window(run)

    async def aclose(self) -> None:
        """Stop noting readers and drop pending checks (the server is shutting down)."""
        tasks = [*self._tasks, *([self._noting] if self._noting else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _start_window(self, run: Run) -> None:
        asyncio.get_running_loop().call_later(self.window_s, self._window_over, run)

    def _window_over(self, run: Run) -> None:
        if not run.finished and not self._readers.get(run.id):
            self._spawn(self._cancel_unless_read(run))

    async def _cancel_unless_read(self, run: Run) -> None:
        try:
            if await self.store.read_elsewhere(run.id):  # resumed on another instance
                if not run.finished:
                    self._start_window(run)
                return
            if run.finished or self._readers.get(run.id):  # back while we asked
                return
            log.info("stream %s: no client for %.0f s, cancelled", run.id, self.window_s)
            await self.store.cancel(run.id)
        except RunStoreError:  # Redis away: its lease lapses and ends the run as interrupted
            log.warning("stream %s: orphan check failed, the run store is unreachable", run.id)

    async def _note(self, run_ids: list[str]) -> None:
        try:
            await self.store.reading(run_ids, self.window_s)
        except RunStoreError:
            log.warning("could not note this instance's readers, the run store is unreachable")

    async def _note_every(self) -> None:
        while self._readers:
            await self._note(list(self._readers))
            await asyncio.sleep(self.window_s / 3)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)  # a task nobody holds may be collected mid-way
        task.add_done_callback(self._tasks.discard)
