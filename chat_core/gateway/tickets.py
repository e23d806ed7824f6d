"""One-use tickets for EventSource clients behind a token (a browser cannot send headers).

``POST /api/chat/ticket`` with the bearer token issues one; the seed-style
``GET /api/chat/stream?...&ticket=`` redeems it once, within ``ttl_s``. The
ticket is then bound to the stream it started, and only to it: when the
EventSource reconnects to the same URL with ``Last-Event-ID``, the used ticket
still authorizes resuming that one stream (for as long as the stream can be
resumed) and nothing else. Tickets are kept as digests and never logged.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

MAX_OUTSTANDING = 10_000  # unredeemed tickets; past it, issuing waits for some to expire


@dataclass(slots=True)
class _Ticket:
    client: str
    expires_at: float
    stream_id: str | None = None


def _digest(ticket: str) -> str:
    return hashlib.sha256(ticket.encode("utf-8", "replace")).hexdigest()


class TicketBook:
    """Issues, redeems and checks tickets; ``resume_ttl_s`` is how long a used one resumes."""

    def __init__(
        self, ttl_s: float, resume_ttl_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl_s = ttl_s
        self.resume_ttl_s = resume_ttl_s
        self._clock = clock
        self._tickets: dict[str, _Ticket] = {}

    def __len__(self) -> int:
        return len(self._tickets)

    def _purge(self, now: float) -> None:
        for key in [k for k, t in self._tickets.items() if t.expires_at <= now]:
            del self._tickets[key]

    def issue(self, client: str) -> str | None:
        """A new ticket for ``client``, or None when too many are outstanding."""
        now = self._clock()
        self._purge(now)
        if len(self._tickets) >= MAX_OUTSTANDING:
            return None
        ticket = secrets.token_urlsafe(32)
        self._tickets[_digest(ticket)] = _Ticket(client, now + self.ttl_s)
        return ticket

    def redeem(self, ticket: str) -> str | None:
        """The client a fresh ticket was issued to, once; None when unknown, used or expired."""
        now = self._clock()
        self._purge(now)
        entry = self._tickets.get(_digest(ticket))
        if entry is None or entry.stream_id is not None:
            return None
        entry.stream_id = ""  # used: a second redeem fails even before the stream is bound
        return entry.client

    def bind(self, ticket: str, stream_id: str) -> None:
        """Tie a redeemed ticket to the stream it started, so it can resume that stream."""
        entry = self._tickets.get(_digest(ticket))
        if entry is not None:
            entry.stream_id = stream_id
            entry.expires_at = self._clock() + self.resume_ttl_s

    def resumes(self, ticket: str, stream_id: str) -> str | None:
        """The client, when ``ticket`` started ``stream_id`` (an EventSource reconnecting)."""
        now = self._clock()
        self._purge(now)
        entry = self._tickets.get(_digest(ticket))
        if entry is None or not entry.stream_id or entry.stream_id != stream_id:
            return None
        return entry.client
