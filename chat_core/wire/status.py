"""What an HTTP status from a wire-protocol server means, as a ``StreamError`` safe to show.

One table for every client of the protocol: the remote back end and the load test.
"""

from __future__ import annotations

import json

from chat_core.events import ErrorCode, StreamError

MAX_DETAIL_CHARS = 200


def error_detail(body: bytes) -> str:
    """The server's own short message from a JSON error body, else its text; one line."""
    try:
        message = json.loads(body)["error"]["message"]
        if isinstance(message, str):
            return " ".join(message.split())[:MAX_DETAIL_CHARS]
    except (ValueError, KeyError, TypeError):
        pass
    return " ".join(body.decode("utf-8", "replace").split())[:MAX_DETAIL_CHARS] or "no details"


def status_error(
    status: int,
    *,
    server: str = "The remote server",
    retry_after: str | None = None,
    detail: str = "",
) -> StreamError:
    """The error for a response that is not an event stream; ``detail`` is the body's message."""
    if status in (401, 403):
        return StreamError(
            "auth", f"{server} refused the request ({status}). Check CHAT_GATEWAY_TOKEN.", False
        )
    if status == 429:
        return StreamError(
            "rate_limit", f"{server} is busy (429); retry in {retry_after or 'a few'} s.", True
        )
    if status == 204:
        return StreamError("connection", f"{server} sent no stream (204): it expired.", True)
    if status >= 500:
        return StreamError("server", f"{server} failed ({status}). Retry in a moment.", True)
    code: ErrorCode = "bad_request"
    suffix = f": {detail}" if detail else "."
    return StreamError(code, f"{server} refused the request ({status}){suffix}", False)
