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
from typing import Any, Literal, Protocol

from chat_core.backends.offline import Plan
from chat_core.events import Done, ReasoningDelta, StreamError, TextDelta, ToolCallDelta, Usage
from chat_core.openai_stub.wire import sse
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


class StreamShaper(Protocol):
    """What ``play`` asks of a dialect: the payloads of each step of a plan."""

    named: bool  # SSE events named after their payload's "type" (the Responses API)
    done_marker: bytes | None  # Chat Completions ends with ``data: [DONE]``

    def start(self) -> list[dict[str, Any]]: ...
    def reasoning(self, text: str) -> list[dict[str, Any]]: ...
    def text(self, text: str) -> list[dict[str, Any]]: ...
    def tool_call(self, delta: ToolCallDelta) -> list[dict[str, Any]]: ...
    def error(self, error: StreamError) -> list[dict[str, Any]]: ...
    def finish(self, reason: str, usage: Usage | None) -> list[dict[str, Any]]: ...


def _events(shaper: StreamShaper, payloads: list[dict[str, Any]]) -> list[bytes]:
    return [sse(p, p.get("type") if shaper.named else None) for p in payloads]


async def play(
    plan: Plan,
    shaper: StreamShaper,
    *,
    drop_after: int | None,
    stats: StubStats,
) -> AsyncGenerator[bytes, None]:
    """The SSE body for a plan: the dialect's first chunks, one chunk per token, then the end."""
    stats.streams_started += 1
    stats.active_streams += 1
    outcome: Outcome = "disconnected"  # unless the body runs to its end (or is dropped)
    loop = asyncio.get_running_loop()
    start = loop.time()
    chunks = 0
    usage: Usage | None = None
    try:
        for data in _events(shaper, shaper.start()):
            yield data
        for offset, event in plan:
            if drop_after is not None and chunks >= drop_after:
                log.info("dropping the connection after %d chunks (directive)", chunks)
                raise ConnectionDropped
            delay = start + offset - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if isinstance(event, TextDelta | ReasoningDelta):
                shaped = shaper.text if isinstance(event, TextDelta) else shaper.reasoning
                for data in _events(shaper, shaped(event.text)):
                    yield data
                chunks += 1
            elif isinstance(event, ToolCallDelta):
                for data in _events(shaper, shaper.tool_call(event)):
                    yield data
                chunks += 1
            elif isinstance(event, Usage):
                usage = event
            elif isinstance(event, StreamError):
                if event.code == "connection":
                    raise ConnectionDropped
                for data in _events(shaper, shaper.error(event)):
                    yield data
                break  # the SDK raises on the error event; nothing follows it
            elif isinstance(event, Done):
                for data in _events(shaper, shaper.finish(event.finish_reason, usage)):
                    yield data
                if shaper.done_marker is not None:
                    yield shaper.done_marker
        outcome = "completed"
    except ConnectionDropped:
        outcome = "dropped"
        raise
    finally:
        stats.ended(outcome)
