"""When the OpenAI back end tries a request again, after how long, and how long it waits.

The SDK's own retries (two, on every timeout included) turn a server that never
answers into three invisible waits: 181 s with its 60 s read timeout. The back
end makes its requests with the SDK's retries off and asks here instead: a
refused or cut connection, a 429, a 5xx or a 408 is tried again after a short
pause, logged as "retrying, 2 of 3"; silence (the first-byte timeout) is not,
because a server that accepted the request and said nothing will most likely
say nothing again, and the person is already waiting.

Silence is measured twice: until the first event (``within``, the first-byte timeout,
``CHAT_FIRST_BYTE_TIMEOUT_S``) and between events (httpx's read timeout, at least
``MID_ANSWER_SILENCE_S``: a reasoning model may think quietly once it has begun).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from typing import TypeVar

import httpx
import openai

from chat_core.backends.openai_errors import refused_cause

log = logging.getLogger("chat_core.backends.openai")
T = TypeVar("T")

MID_ANSWER_SILENCE_S = 60.0  # the SDK's own read timeout: what a started answer may be quiet
MAX_RETRY_AFTER_S = 8.0  # a longer Retry-After is the person's call (Retry), not a silent wait
BACKOFF_S = (0.5, 1.0, 2.0)


def retry_delay(exc: BaseException, attempt: int) -> float | None:
    """Seconds to wait before try ``attempt + 1``, or None when ``exc`` is not worth retrying."""
    if refused_cause(exc) is not None:
        return None  # the address guard: the same answer every time
    backoff = BACKOFF_S[min(attempt - 1, len(BACKOFF_S) - 1)]
    if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException):
        connect = isinstance(exc.__cause__, httpx.ConnectTimeout) or isinstance(
            exc, httpx.ConnectTimeout
        )
        return backoff if connect else None
    if isinstance(exc, openai.APIConnectionError | httpx.TransportError):
        # An unknown host or a TLS mismatch answers the same a second later.
        return None if _settled(exc) else backoff
    if isinstance(exc, openai.RateLimitError):
        if "insufficient_quota" in str(exc.body):
            return None
        return min(_retry_after(exc.response) or backoff, MAX_RETRY_AFTER_S)
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        return backoff if status >= 500 or status in (408, 409) else None
    return None


def _settled(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, ssl.SSLError | socket.gaierror):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("retry-after-ms")
    scale = 1000.0
    if raw is None:
        raw, scale = response.headers.get("retry-after"), 1.0
    try:
        seconds = float(raw) / scale if raw is not None else None
    except ValueError:
        return None  # an HTTP date: rare from model servers; the backoff does
    return seconds if seconds is not None and seconds >= 0 else None


async def within(seconds: float, awaitable: Awaitable[T], url: str) -> T:
    """``awaitable``'s result within ``seconds``, else the SDK's timeout error (named alike)."""
    try:
        return await asyncio.wait_for(awaitable, seconds)
    except TimeoutError as exc:
        raise openai.APITimeoutError(request=httpx.Request("POST", url)) from exc


async def first_within(seconds: float, stream: AsyncIterable[T], url: str) -> AsyncIterator[T]:
    """The items of ``stream``, the first of them within ``seconds``."""
    items = aiter(stream)
    try:
        first = await within(seconds, anext(items), url)
    except StopAsyncIteration:
        return
    yield first
    async for item in items:
        yield item


class Retries:
    """One back end's tries of a request; ``current`` is (try, of) while a retry is under way."""

    def __init__(self, max_retries: int, where: str) -> None:
        self.max_retries = max_retries
        self.where = where
        self.current: tuple[int, int] | None = None

    def call(self, open_once: Callable[[], T]) -> T:
        """``open_once()``, tried again after the failures worth it; the last failure raised."""
        attempt, self.current = 1, None
        while True:
            try:
                opened = open_once()
                self.current = None
                return opened
            except Exception as exc:
                delay = self._delay(exc, attempt)
                if delay is None:
                    self.current = None
                    raise
            time.sleep(delay)
            attempt += 1

    async def acall(self, open_once: Callable[[], Awaitable[T]]) -> T:
        """The async twin of ``call``."""
        attempt, self.current = 1, None
        while True:
            try:
                opened = await open_once()
                self.current = None
                return opened
            except Exception as exc:
                delay = self._delay(exc, attempt)
                if delay is None:
                    self.current = None
                    raise
            await asyncio.sleep(delay)
            attempt += 1

    def _delay(self, exc: Exception, attempt: int) -> float | None:
        if attempt > self.max_retries:
            return None
        delay = retry_delay(exc, attempt)
        if delay is not None:
            self.current = (attempt + 1, self.max_retries + 1)
            log.info(
                "model server at %s: %s; retrying, %d of %d in %.1f s",
                self.where,
                type(exc).__name__,
                *self.current,
                delay,
            )
        return delay


__all__ = [
    "MAX_RETRY_AFTER_S",
    "MID_ANSWER_SILENCE_S",
    "Retries",
    "first_within",
    "retry_delay",
    "within",
]
