"""Per-client limits: concurrent streams and starts per minute, by token or else address.

A client is whoever holds one bearer token, or, on a gateway without one, one
address. Pure bookkeeping with an injectable clock: ``admit`` either records a
start or says which limit refused it and when to retry (HTTP 429 + Retry-After).
"""

from __future__ import annotations

import hashlib
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

WINDOW_S = 60.0


@dataclass(frozen=True, slots=True)
class Refusal:
    """Which limit refused a start, the message, and the seconds to wait."""

    limit: str
    message: str
    retry_after_s: int


def client_key(token: str | None, address: str | None) -> str:
    """Who a request is from: a digest of its token (never the token), else its address."""
    if token:
        return "token:" + hashlib.sha256(token.encode()).hexdigest()[:16]
    return f"address:{address or 'unknown'}"


class ClientLimits:
    """Concurrent streams and starts per minute for each client; 0 turns a limit off."""

    def __init__(
        self, streams: int, starts_per_minute: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.streams = streams
        self.starts_per_minute = starts_per_minute
        self._clock = clock
        self._active: dict[str, int] = {}
        self._starts: dict[str, deque[float]] = {}

    def active(self, client: str) -> int:
        """Streams the client has running now."""
        return self._active.get(client, 0)

    def admit(self, client: str) -> Refusal | None:
        """Record a start for ``client``, or the refusal when a limit is reached."""
        now = self._clock()
        starts = self._starts.setdefault(client, deque())
        while starts and now - starts[0] >= WINDOW_S:
            starts.popleft()
        if self.streams and self.active(client) >= self.streams:
            return Refusal(
                "CHAT_GATEWAY_CLIENT_STREAMS",
                f"This client already has {self.streams} streams running; wait for one to end.",
                1,
            )
        if self.starts_per_minute and len(starts) >= self.starts_per_minute:
            wait = max(1, math.ceil(WINDOW_S - (now - starts[0])))
            return Refusal(
                "CHAT_GATEWAY_CLIENT_STARTS",
                f"This client started {self.starts_per_minute} streams in the last minute; "
                f"retry in {wait} s.",
                wait,
            )
        starts.append(now)
        self._active[client] = self.active(client) + 1
        return None

    def finished(self, client: str) -> None:
        """A stream of ``client`` ended (or never started): free its slot."""
        left = self.active(client) - 1
        if left > 0:
            self._active[client] = left
            return
        self._active.pop(client, None)
        starts = self._starts.get(client)
        if starts is not None and (not starts or self._clock() - starts[-1] >= WINDOW_S):
            del self._starts[client]  # forget idle clients: the table stays small
