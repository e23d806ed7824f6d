"""When the OpenAI back end tries a request again, and after how long. Pure.

The SDK's own retries (two, on every timeout included) turn a server that never
answers into three invisible waits: 181 s with its 60 s read timeout. The back
end makes its requests with the SDK's retries off and asks here instead: a
refused or cut connection, a 429, a 5xx or a 408 is tried again after a short
pause, logged as "retrying, 2 of 3"; silence (the first-byte timeout) is not,
because a server that accepted the request and said nothing will most likely
say nothing again, and the person is already waiting.
"""

from __future__ import annotations

import httpx
import openai

from chat_core.backends.openai_errors import refused_cause

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
        return backoff
    if isinstance(exc, openai.RateLimitError):
        if "insufficient_quota" in str(exc.body):
            return None
        return min(_retry_after(exc.response) or backoff, MAX_RETRY_AFTER_S)
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        return backoff if status >= 500 or status in (408, 409) else None
    return None


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


__all__ = ["MAX_RETRY_AFTER_S", "retry_delay"]
