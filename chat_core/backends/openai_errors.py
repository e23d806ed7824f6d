"""SDK and transport exceptions -> ``StreamError``, with messages safe and short to show."""

from __future__ import annotations

import socket
import ssl

import httpx
import openai

from chat_core.backends.endpoints import host_name, lacks_v1, where, with_v1
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


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and len(chain) < 10:  # a chain is short; a cycle must not spin
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    return chain


def connect_failure(
    exc: BaseException, base_url: str | None, label: str | None = None
) -> str | None:
    """What a failed connection means, naming the server: refused, unknown host, TLS.

    ``label`` names the server in place of its address (a deployed app's own server).
    """
    at = label or where(base_url)
    for cause in _causes(exc):
        if isinstance(cause, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in str(cause):
            return (
                f"The TLS handshake with {at} failed: check that the server speaks https "
                "on that port (or use http://) and that its certificate is valid."
            )
        if isinstance(cause, socket.gaierror) or "Name or service not known" in str(cause):
            host = f"of {label}" if label else host_name(base_url)
            return (
                f"The host {host} was not found: check the spelling of the "
                "Base URL (and the network)."
            )
        if isinstance(cause, ConnectionRefusedError) or "Connection refused" in str(cause):
            if label:
                return f"{_lead(label)} refused the connection: is it running?"
            return f"{at} refused the connection: is the server running on {at}?"
    return None


def error_event(
    exc: BaseException,
    *,
    show_body: bool = True,
    base_url: str | None = None,
    first_byte_s: float | None = None,
    label: str | None = None,
) -> StreamError:
    """Map an SDK or transport exception to a StreamError with a stable code.

    ``show_body=False`` (a visitor's endpoint) keeps the server's words out of the message;
    ``base_url`` is named in the message (where to look), never with credentials, unless
    ``label`` names the server instead (a deployed app does not tell visitors its address).
    """
    at = label or where(base_url)
    lead = _lead(label) if label else at
    if (refused := refused_cause(exc)) is not None:
        return StreamError("connection", str(refused), False)
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return StreamError(
            "auth",
            f"{lead} rejected the API key ({exc.status_code}). Check OPENAI_API_KEY "
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
            f"{lead} is rate limiting requests (429). Wait a moment, then Retry to try again.",
            True,
        )
    if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException):
        if any(isinstance(c, httpx.ConnectTimeout) for c in _causes(exc)):
            return StreamError(
                "timeout",
                f"{lead} did not accept a connection: check the address and that the server "
                "is up, then Retry to try again.",
                True,
            )
        waited = f" in {first_byte_s:g} s" if first_byte_s else ""
        return StreamError(
            "timeout",
            f"No response from {at}{waited}: check that the server is up and its model is "
            "loaded (CHAT_FIRST_BYTE_TIMEOUT_S sets the wait). Retry to try again.",
            True,
        )
    if isinstance(exc, openai.APIConnectionError | httpx.TransportError):
        named = connect_failure(exc, base_url, label)
        if named is not None:
            return StreamError("connection", f"{named} Retry to try again.", True)
        return StreamError(
            "connection",
            f"The connection to {at} failed or was cut. Retry to try again.",
            True,
        )
    if isinstance(exc, openai.APIStatusError):
        if exc.status_code >= 500:
            return StreamError(
                "server",
                f"{_lead(label) if label else f'The model server at {at}'} failed "
                f"({exc.status_code}). Retry in a moment.",
                True,
            )
        if exc.status_code == 408:
            return StreamError("timeout", f"{lead} timed out (408). Retry to try again.", True)
        if exc.status_code == 404:
            return _not_found(exc, base_url, show_body, label)
        detail = f": {api_message(exc)}" if show_body else "."
        return StreamError(
            "bad_request", f"The request was refused ({exc.status_code}){detail}", False
        )
    if isinstance(exc, openai.APIError):  # an error event inside the stream
        detail = f": {api_message(exc)}" if show_body else "."
        return StreamError("server", f"The model server reported an error{detail}", True)
    return StreamError("internal", "Unexpected error while streaming; see the server log.", False)


def _lead(label: str) -> str:
    """A label at the start of a sentence."""
    return label[:1].upper() + label[1:]


def _not_found(
    exc: openai.APIStatusError, base_url: str | None, show_body: bool, label: str | None
) -> StreamError:
    at = label or where(base_url)
    lead = _lead(label) if label else at
    said = api_message(exc)
    if "model" in said.lower():  # Ollama: 'model "x" not found, try pulling it first'
        detail = f" ({said})" if show_body else ""
        return StreamError(
            "bad_request",
            f"{lead} does not serve that model{detail}: pick one it lists in the Model field.",
            False,
        )
    if lacks_v1(base_url) and label is None:
        return StreamError(
            "bad_request",
            f"{at} answered 404 (not found): OpenAI-compatible servers usually end in /v1; "
            f"try {with_v1(base_url or '')} as the Base URL.",
            False,
        )
    return StreamError(
        "bad_request", f"{lead} answered 404 (not found): check the Base URL's path.", False
    )
