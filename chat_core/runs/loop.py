"""Where a sync app's runs pull from back ends: one asyncio loop in a daemon thread per process."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable

from chat_core.events import StreamEvent
from chat_core.runs.registry import RunRegistry
from chat_core.runs.run import Run


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
