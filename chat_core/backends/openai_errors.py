"""SDK and transport exceptions -> ``StreamError``, with messages safe and short to show."""

from __future__ import annotations

import httpx
import openai

from chat_core.errors import EndpointRefusedError
from chat_core.events import StreamError

MAX_MESSAGE_CHARS = 200


def shorten(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """One line of at most ``limit`` characters, cut at a word boundary with an ellipsis."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    if " " in cut and flat[limit - 1] != " ":
        cut = cut[: cut.rindex(" ")]  # never end mid-word
    return cut.rstrip(" ,;:-") + "\u2026"


def api_message(exc: openai.APIError) -> str:
    """The provider's own message of an error, shortened."""
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return shorten(str(inner["message"]))
    return shorten(str(exc.message))


def refused_cause(exc: BaseException) -> EndpointRefusedError | None:
    """The address guard's refusal behind an SDK or httpx exception, if that is what it was."""
    seen: BaseException | None = exc
    for _ in range(10):  # a chain is short; a cycle must not spin
        if seen is None:
            return None
        if isinstance(seen, EndpointRefusedError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def error_event(exc: BaseException, *, show_body: bool = True) -> StreamError:
    """Map an SDK or transport exception to a StreamError with a stable code.

    ``show_body=False`` (a visitor's endpoint) keeps the server's words out of the message.
    """
    if (refused := refused_cause(exc)) is not None:
        return StreamError("connection", str(refused), False)
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return StreamError(
            "auth",
            f"The API key was rejected ({exc.status_code}). Check OPENAI_API_KEY "
            "or the key in the sidebar.",
            False,
        )
    if isinstance(exc, openai.RateLimitError):
        if isinstance(exc.body, dict) and "insufficient_quota" in str(exc.body):
            return StreamError(
                "rate_limit", "The account is out of quota (429). Check its billing.", False
            )
        return StreamError(
            "rate_limit",
            "Rate limited by the model provider (429). Wait a moment, then retry.",
            True,
        )
    if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException):
        return StreamError("timeout", "The model took too long to answer. Retry.", True)
    if isinstance(exc, openai.APIConnectionError | httpx.TransportError):
        return StreamError(
            "connection", "The connection to the model server failed or was cut. Retry.", True
        )
    if isinstance(exc, openai.APIStatusError):
        if exc.status_code >= 500:
            return StreamError(
                "server", f"The model server failed ({exc.status_code}). Retry in a moment.", True
            )
        if exc.status_code == 408:
            return StreamError("timeout", "The model server timed out (408). Retry.", True)
        detail = f": {api_message(exc)}" if show_body else "."
        return StreamError(
            "bad_request", f"The request was refused ({exc.status_code}){detail}", False
        )
    if isinstance(exc, openai.APIError):  # an error event inside the stream
        detail = f": {api_message(exc)}" if show_body else "."
        return StreamError("server", f"The model server reported an error{detail}", True)
    return StreamError("internal", "Unexpected error while streaming; see the server log.", False)
