"""The remote back end: any server speaking wire protocol v1, or a plain seed-style one.

httpx + httpx-sse open the stream (POST by default, GET for seed-style servers);
``wire.SSEParser`` reads it, comments included, so the diagnostics page can
see pings. A dropped connection is resumed with ``Last-Event-ID`` after an
exponential, jittered backoff that starts at the server's ``retry:``; the
question is never sent twice. Against a server without ids nothing can be
resumed, so the text so far is kept and the stream ends with
``StreamError("connection")`` (shown as "interrupted").

``remote_session.RemoteSession`` holds the decisions (what to request, what an
event or a drop means), so ``stream`` and ``astream`` differ only in their I/O.
What the session saw comes back as values: its wire records (passed to
``on_wire``) and its reconnect count (``RemoteStream.reconnects``).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import ssl
import time
from collections.abc import AsyncGenerator, Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
from httpx_sse import aconnect_sse, connect_sse

from chat_core.backends.remote_session import RemoteSession, WireKind, WireRecord
from chat_core.backends.visitor_http import avisitor_client, visitor_client
from chat_core.errors import ConfigError, EndpointRefusedError
from chat_core.events import Done, StreamError, StreamEvent
from chat_core.messages import Conversation, GenerationParams
from chat_core.settings import Settings, VisitorEndpoints
from chat_core.wire import STREAM_PATH

__all__ = ["RemoteBackend", "RemoteStream", "WireKind", "WireRecord"]

# Reads wait longer than the gateway's 15 s ping interval, so only a dead link times out.
DEFAULT_TIMEOUT = httpx.Timeout(10.0, read=45.0)
MAX_RECONNECTS = 5
MAX_BACKOFF_S = 30.0
CANCEL_TIMEOUT_S = 2.0


def _reason(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.ConnectError):
        cause: BaseException | None = exc
        while cause is not None:  # httpx keeps the OSError as a cause or context
            if isinstance(cause, ConnectionRefusedError) or "refused" in str(cause).lower():
                return "connection refused"  # nothing listens there: the one users can fix
            cause = cause.__cause__ or cause.__context__
        return "could not connect"
    return type(exc).__name__  # e.g. RemoteProtocolError: the body was cut mid-chunk


class RemoteBackend:
    """Streams from a remote ``/api/chat/stream`` endpoint (protocol v1 or seed-style).

    Args:
        url: the server's base URL or its full stream endpoint.
        method: ``POST`` (JSON body) or ``GET`` (query string, for seed-style servers).
        token: sent as ``Authorization: Bearer``.
        model: the model to ask for (the server's default when None).
        max_reconnects: tries to resume a dropped stream before giving up.
        on_wire: called with a ``WireRecord`` for everything seen on the wire.
        visitor: the URL was typed by a visitor: a client that takes nothing from the
            environment, follows no redirects and obeys this policy; no error bodies shown.
    """

    name = "remote"

    def __init__(
        self,
        url: str,
        *,
        method: str = "POST",
        token: str | None = None,
        model: str | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        max_reconnects: int = MAX_RECONNECTS,
        max_backoff_s: float = MAX_BACKOFF_S,
        on_wire: Callable[[WireRecord], None] | None = None,
        rng: random.Random | None = None,
        visitor: VisitorEndpoints | None = None,
        label: str | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"CHAT_REMOTE_URL must be an http(s) URL, not {url!r}")
        self.url = url.rstrip("/") + (STREAM_PATH if parts.path in ("", "/") else "")
        self.method = method.upper()
        if self.method not in ("GET", "POST"):
            raise ConfigError("CHAT_REMOTE_METHOD must be GET or POST")
        self.token = token or None
        self.model = model
        self.timeout = timeout
        self.max_reconnects = max_reconnects
        self.max_backoff_s = max_backoff_s
        self.on_wire = on_wire
        self.rng = rng or random.Random()
        self.visitor = visitor
        self.label = label  # names the server in messages in place of its host:port
        self._ssl: ssl.SSLContext | None = None

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> RemoteBackend:
        """The remote back end ``CHAT_REMOTE_URL`` and friends describe."""
        if not settings.remote_url:
            raise ConfigError("The remote back end needs CHAT_REMOTE_URL.")
        return cls(
            settings.remote_url,
            method=settings.remote_method,
            token=settings.gateway_token,
            model=settings.model,
            **options,
        )

    def _flush(self, session: RemoteSession) -> None:
        records = session.take_wire()
        if self.on_wire is not None:
            for record in records:
                self.on_wire(record)

    def _client(self) -> httpx.Client:
        if self.visitor is not None:
            return visitor_client(self.visitor, timeout=self.timeout)
        if self._ssl is None:  # building one costs milliseconds: share it across streams
            self._ssl = httpx.create_ssl_context()
        return httpx.Client(timeout=self.timeout, verify=self._ssl)

    def _aclient(self) -> httpx.AsyncClient:
        if self.visitor is not None:
            return avisitor_client(self.visitor, timeout=self.timeout)
        if self._ssl is None:
            self._ssl = httpx.create_ssl_context()
        return httpx.AsyncClient(timeout=self.timeout, verify=self._ssl)

    async def _abody(self, response: httpx.Response) -> bytes:
        # A visitor's server chose its error text: show its status, never its words.
        return b"" if self.visitor is not None else await response.aread()

    async def aclose(self) -> None:
        """Nothing is kept between streams."""

    def list_models(self) -> list[str]:
        return []  # the protocol has no model list; the server picks its default

    def stream(self, conversation: Conversation, params: GenerationParams) -> Iterator[StreamEvent]:
        s = RemoteSession(self, conversation, params)
        try:
            yield from self._pump(s)
        finally:
            self._flush(s)

    def _pump(self, s: RemoteSession) -> Iterator[StreamEvent]:
        with self._client() as client:
            try:
                while True:
                    request = s.request()
                    reason, timed_out = "the stream ended before done", False
                    try:
                        with connect_sse(
                            client, request.method, request.url, **request.kwargs()
                        ) as source:
                            response = source.response
                            connected = s.connected(request, response)
                            self._flush(s)
                            if not connected or not _is_sse(response):
                                body = b"" if self.visitor is not None else response.read()
                                ending = s.refused(response, body)
                                if ending is not None:
                                    yield from ending
                                    return
                                reason = f"HTTP {response.status_code}"
                            else:
                                for chunk in response.iter_bytes():
                                    events = s.feed(chunk)
                                    self._flush(s)
                                    yield from events
                                    if s.done:
                                        return
                    except EndpointRefusedError as exc:
                        yield from _refused(s, exc)
                        return
                    except httpx.HTTPError as exc:
                        reason, timed_out = _reason(exc), isinstance(exc, httpx.TimeoutException)
                    delay = s.dropped(reason)
                    self._flush(s)
                    if delay is None:
                        yield from s.give_up(timed_out)
                        return
                    time.sleep(delay)
            finally:
                if (cancel := s.cancel_request()) is not None:
                    with contextlib.suppress(httpx.HTTPError, OSError, RuntimeError):  # best effort
                        client.request(
                            cancel.method,
                            cancel.url,
                            headers=cancel.headers,
                            timeout=CANCEL_TIMEOUT_S,
                        )

    def astream(self, conversation: Conversation, params: GenerationParams) -> RemoteStream:
        return RemoteStream(self, RemoteSession(self, conversation, params))

    async def _apump(self, s: RemoteSession) -> AsyncGenerator[StreamEvent, None]:
        async with self._aclient() as client:
            try:
                while True:
                    request = s.request()
                    reason, timed_out = "the stream ended before done", False
                    try:
                        async with aconnect_sse(
                            client, request.method, request.url, **request.kwargs()
                        ) as source:
                            response = source.response
                            connected = s.connected(request, response)
                            self._flush(s)
                            if not connected or not _is_sse(response):
                                ending = s.refused(response, await self._abody(response))
                                if ending is not None:
                                    for event in ending:
                                        yield event
                                    return
                                reason = f"HTTP {response.status_code}"
                            else:
                                async for chunk in response.aiter_bytes():
                                    events = s.feed(chunk)
                                    self._flush(s)
                                    for event in events:
                                        yield event
                                    if s.done:
                                        return
                    except EndpointRefusedError as exc:
                        for event in _refused(s, exc):
                            yield event
                        return
                    except httpx.HTTPError as exc:
                        reason, timed_out = _reason(exc), isinstance(exc, httpx.TimeoutException)
                    delay = s.dropped(reason)
                    self._flush(s)
                    if delay is None:
                        for event in s.give_up(timed_out):
                            yield event
                        return
                    await asyncio.sleep(delay)
            finally:
                # Stopped early (Stop, a cancelled run): tell the server to stop generating.
                if (cancel := s.cancel_request()) is not None:
                    with contextlib.suppress(httpx.HTTPError, OSError, RuntimeError):  # best effort
                        await client.request(
                            cancel.method,
                            cancel.url,
                            headers=cancel.headers,
                            timeout=CANCEL_TIMEOUT_S,
                        )
                self._flush(s)


def _refused(s: RemoteSession, exc: EndpointRefusedError) -> list[StreamEvent]:
    s.done = True  # nothing was sent: nothing to cancel
    return [StreamError("connection", str(exc), False), Done("error")]


def _is_sse(response: httpx.Response) -> bool:
    return "text/event-stream" in response.headers.get("content-type", "")


class RemoteStream:
    """What ``RemoteBackend.astream`` returns: the events, and how often the stream was resumed."""

    def __init__(self, backend: RemoteBackend, session: RemoteSession) -> None:
        self._session = session
        self._events = backend._apump(session)

    @property
    def reconnects(self) -> int:
        """Resumes so far (each a new connection with Last-Event-ID)."""
        return self._session.reconnects

    def __aiter__(self) -> RemoteStream:
        return self

    async def __anext__(self) -> StreamEvent:
        return await self._events.__anext__()

    async def aclose(self) -> None:
        """Stop reading: closes the connection and asks the server to stop (DELETE)."""
        await self._events.aclose()
