"""A deadline for receiving each request, headers and body: slow or silent clients are cut.

uvicorn's HTTP protocols have a keep-alive timeout between requests but none while
a request is arriving, so a client that sends one byte every few seconds, or
nothing at all after connecting, holds its connection (and a file descriptor)
forever. The protocols here start a timer when a connection opens and when the
first byte of each later request arrives, stop it once the whole request is in,
and close the connection when it fires (with a 408 when no response has begun).
Streaming the response is not limited: the request is complete by then.

Two flavours of the same deadline: ``DeadlineHttpToolsProtocol`` over uvicorn's
httptools protocol (the C parser; the default when httptools is installed: under a
burst of 1,000 streams, pure-Python h11 was a third of the gateway's CPU, see
docs/benchmarks.md) and ``DeadlineH11Protocol`` over its h11 protocol.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("chat_core.gateway")

__all__ = [
    "DeadlineH11Protocol",
    "DeadlineHttpToolsProtocol",
    "deadline_protocol",
    "default_parser",
]

_TIMEOUT_BODY = json.dumps(
    {"error": {"code": "request_timeout", "field": None, "message": "The request took too long."}}
).encode()
_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
    + f"content-length: {len(_TIMEOUT_BODY)}\r\n\r\n".encode()
    + _TIMEOUT_BODY
)
# Whole request received (or none will come): no deadline. SEND_BODY and IDLE mean waiting.
_RECEIVED = (h11.DONE, h11.MUST_CLOSE, h11.CLOSED, h11.ERROR)


class _Deadline:
    """The timer both protocols share; each says when a request starts and is complete."""

    request_timeout_s: float = 10.0
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport
    cycle: Any

    def _arm(self) -> None:
        self._disarm()
        self._deadline: asyncio.TimerHandle | None = self.loop.call_later(
            self.request_timeout_s, self._expired
        )

    def _disarm(self) -> None:
        deadline: asyncio.TimerHandle | None = getattr(self, "_deadline", None)
        if deadline is not None:
            deadline.cancel()
            self._deadline = None

    def _request_received(self) -> bool:
        raise NotImplementedError

    def _expired(self) -> None:
        self._deadline = None
        if self._request_received() or self.transport.is_closing():
            return
        log.info("request not received within %.0f s: connection closed", self.request_timeout_s)
        if self.cycle is None or not self.cycle.response_started:
            self.transport.write(_TIMEOUT_RESPONSE)
        self.transport.close()


class DeadlineH11Protocol(_Deadline, H11Protocol):
    """uvicorn's h11 protocol plus a deadline for receiving each request."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._deadline = None
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._deadline is None and self.conn.their_state is h11.IDLE:
            self._arm()  # the first byte of a next request on a kept-alive connection
        super().data_received(data)
        if self.conn.their_state in _RECEIVED:
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _request_received(self) -> bool:
        return self.conn.their_state in _RECEIVED


try:  # httptools is optional: uvicorn's httptools module does not import without it
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    HAVE_HTTPTOOLS = True
except ImportError:  # pragma: no cover - installed wherever the tests run
    HAVE_HTTPTOOLS = False

if HAVE_HTTPTOOLS:

    class DeadlineHttpToolsProtocol(_Deadline, HttpToolsProtocol):
        """uvicorn's httptools protocol plus a deadline for receiving each request.

        The parser's own callbacks mark the request's edges: ``on_message_begin`` (its
        first byte) arms the timer when none runs, ``on_message_complete`` stops it.
        """

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._deadline = None
            self._receiving = True  # a connection that sends nothing is cut too
            self._arm()

        def on_message_begin(self) -> None:
            self._receiving = True
            if self._deadline is None:
                self._arm()  # the first byte of a next request on a kept-alive connection
            super().on_message_begin()

        def on_message_complete(self) -> None:
            self._receiving = False
            self._disarm()
            super().on_message_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _request_received(self) -> bool:
            return not self._receiving


def default_parser() -> str:
    """``"httptools"`` (uvicorn's C parser) when installed, else ``"h11"``."""
    return "httptools" if HAVE_HTTPTOOLS else "h11"


def deadline_protocol(request_timeout_s: float, parser: str | None = None) -> type[Any]:
    """A deadline protocol class with this deadline, for ``uvicorn.Config(http=...)``.

    ``parser``: ``"httptools"`` or ``"h11"``; by default httptools when installed.
    """
    parser = parser or default_parser()
    if parser == "httptools":
        if not HAVE_HTTPTOOLS:
            raise ValueError("the httptools parser is not installed (pip install httptools)")
        base: type[Any] = DeadlineHttpToolsProtocol
    elif parser == "h11":
        base = DeadlineH11Protocol
    else:
        raise ValueError(f"unknown HTTP parser {parser!r} (httptools or h11)")
    return type(base.__name__, (base,), {"request_timeout_s": request_timeout_s})
