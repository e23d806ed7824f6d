"""Playing an offline plan as an OpenAI SSE stream, and counting how streams end.

The stream keeps the plan's timing (token rate, ``/stall``), turns a planned
``StreamError`` into the in-stream ``{"error": ...}`` event the SDK raises as
``APIError``, and ``/drop`` (or a ``connection`` error) into a connection closed
mid-body with no terminating chunk, which a client sees as an incomplete read.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator
from dataclasses import asdict, dataclass
from typing import Literal

from chat_core.backends.offline import Plan
from chat_core.events import Done, StreamError, TextDelta, Usage
from chat_core.openai_stub.wire import (
    HTTP_ERRORS,
    SSE_DONE,
    CompletionMeta,
    chunk,
    error_body,
    sse,
    usage_chunk,
)
from chat_core.wire.response import SSEResponse

log = logging.getLogger(__name__)

Outcome = Literal["completed", "disconnected", "dropped"]


class ConnectionDropped(Exception):
    """Raised mid-response so the server closes the connection without finishing the body."""


class _HideDrops(logging.Filter):
    """uvicorn logs every exception that ends a response; a directive's drop is on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, ConnectionDropped)


_HIDE_DROPS = _HideDrops()


def hide_drop_tracebacks() -> None:
    """Keep intended drops out of uvicorn's error log (idempotent)."""
    logging.getLogger("uvicorn.error").addFilter(_HIDE_DROPS)


@dataclass
class StubStats:
    """Counters behind ``GET /_stub/stats``; other tools rely on these names.

    ``streams_started == completed + disconnected + dropped + active_streams``.
    """

    requests: int = 0
    streams_started: int = 0
    streams_completed: int = 0
    streams_disconnected: int = 0
    streams_dropped: int = 0
    active_streams: int = 0

    def snapshot(self) -> dict[str, int]:
        return asdict(self)

    def reset(self) -> None:
        """Zero the counters; ``active_streams`` is a live gauge and stays true."""
        active = self.active_streams
        for name in self.snapshot():
            setattr(self, name, 0)
        self.active_streams = active

    def ended(self, outcome: Outcome) -> None:
        self.active_streams -= 1
        name = f"streams_{outcome}"
        setattr(self, name, getattr(self, name) + 1)


def PlanStream(body: AsyncGenerator[bytes, None]) -> SSEResponse:
    """An SSE response that closes its body at once when the client goes (counted promptly)."""
    return SSEResponse(body)


async def drop_now() -> AsyncGenerator[bytes, None]:
    """A body that ends the connection before its first byte (headers already sent)."""
    raise ConnectionDropped
    yield b""  # pragma: no cover - makes this an async generator


def _error_event(error: StreamError) -> bytes:
    _, type_, code = HTTP_ERRORS.get(error.code, (500, "server_error", None))
    return sse(error_body(error.message, type_, None, code or error.code))


async def play(
    plan: Plan,
    meta: CompletionMeta,
    *,
    include_usage: bool,
    drop_after: int | None,
    stats: StubStats,
) -> AsyncGenerator[bytes, None]:
    """The SSE body for a plan: a role chunk, one chunk per token, then the end."""
    stats.streams_started += 1
    stats.active_streams += 1
    outcome: Outcome = "disconnected"  # unless the body runs to its end (or is dropped)
    loop = asyncio.get_running_loop()
    start = loop.time()
    text_chunks = 0
    usage: Usage | None = None
    try:
        yield sse(chunk(meta, {"role": "assistant", "content": ""}, include_usage=include_usage))
        for offset, event in plan:
            if drop_after is not None and text_chunks >= drop_after:
                log.info("dropping the connection after %d chunks (directive)", text_chunks)
                raise ConnectionDropped
            delay = start + offset - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if isinstance(event, TextDelta):
                yield sse(chunk(meta, {"content": event.text}, include_usage=include_usage))
                text_chunks += 1
            elif isinstance(event, Usage):
                usage = event
            elif isinstance(event, StreamError):
                if event.code == "connection":
                    raise ConnectionDropped
                yield _error_event(event)
                break  # the SDK raises on the error event; nothing follows it
            elif isinstance(event, Done):
                reason = event.finish_reason
                yield sse(chunk(meta, {}, reason, include_usage=include_usage))
                if include_usage and usage is not None:
                    yield sse(usage_chunk(meta, usage))
                yield SSE_DONE
        outcome = "completed"
    except ConnectionDropped:
        outcome = "dropped"
        raise
    finally:
        stats.ended(outcome)
