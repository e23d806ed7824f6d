"""A deadline for receiving each request, headers and body: slow or silent clients are cut.

uvicorn's h11 protocol has a keep-alive timeout between requests but none while a
request is arriving, so a client that sends one byte every few seconds, or
nothing at all after connecting, holds its connection (and a file descriptor)
forever. ``DeadlineH11Protocol`` starts a timer when a connection opens and when
the first byte of each later request arrives, stops it once h11 has the whole
request (``their_state`` DONE), and closes the connection when it fires (with a
408 when no response has begun). Streaming the response is not limited: the
request is complete by then.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("chat_core.gateway")

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


class DeadlineH11Protocol(H11Protocol):
    """uvicorn's h11 protocol plus a deadline for receiving each request."""

    request_timeout_s: float = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._deadline: asyncio.TimerHandle | None = None
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

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.request_timeout_s, self._expired)

    def _disarm(self) -> None:
        deadline: asyncio.TimerHandle | None = getattr(self, "_deadline", None)
        if deadline is not None:
            deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if self.conn.their_state in _RECEIVED or self.transport.is_closing():
            return
        log.info("request not received within %.0f s: connection closed", self.request_timeout_s)
        if self.cycle is None or not self.cycle.response_started:
            self.transport.write(_TIMEOUT_RESPONSE)
        self.transport.close()


def deadline_protocol(request_timeout_s: float) -> type[Any]:
    """A ``DeadlineH11Protocol`` class with this deadline, for ``uvicorn.Config(http=...)``."""
    return type(
        "DeadlineH11Protocol", (DeadlineH11Protocol,), {"request_timeout_s": request_timeout_s}
    )
