"""A queue-driven fake model for run-store tests: the test picks each event, sees the close."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from chat_core.events import StreamEvent


class FakeSource:
    """Yields what the test puts in ``queue``; ``closed`` is set when the consumer closes it."""

    def __init__(self, events: list[StreamEvent] | None = None) -> None:
        self.queue: asyncio.Queue[StreamEvent] = asyncio.Queue()
        for event in events or []:
            self.queue.put_nowait(event)
        self.closed = asyncio.Event()
        self.sent = 0

    async def stream(self) -> AsyncIterator[StreamEvent]:
        try:
            while True:
                event = await self.queue.get()
                self.sent += 1
                yield event
        finally:
            self.closed.set()
