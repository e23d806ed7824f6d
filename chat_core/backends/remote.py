"""The remote back end: any server speaking wire protocol v1, or a plain seed-style one.

httpx + httpx-sse open the stream (POST by default, GET for seed-style servers);
``protocol.SSEParser`` reads it, comments included, so the diagnostics page can
see pings. A dropped connection is resumed with ``Last-Event-ID`` after an
exponential, jittered backoff that starts at the server's ``retry:``; the
question is never sent twice. Against a server without ids nothing can be
resumed, so the text so far is kept and the stream ends with
``StreamError("connection")`` (shown as "interrupted").

``_Session`` holds the decisions (what to request, what an event or a drop
means) so that ``stream`` and ``astream`` differ only in how they do I/O.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import ssl
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx
from httpx_sse import aconnect_sse, connect_sse

from chat_core.errors import BackendError, ConfigError
from chat_core.events import Done, StreamError, StreamEvent
from chat_core.messages import Conversation, GenerationParams
from chat_core.protocol import (
    RETRY_MS,
    STREAM_ID_HEADER,
    STREAM_PATH,
    SSEComment,
    SSEParser,
    decode_data,
    format_event_id,
    parse_event_id,
)
from chat_core.settings import Settings

WireKind = Literal["connect", "sse", "reconnect", "comment"]
# Reads wait longer than the gateway's 15 s ping interval, so only a dead link times out.
DEFAULT_TIMEOUT = httpx.Timeout(10.0, read=45.0)
MAX_RECONNECTS = 5
MAX_BACKOFF_S = 30.0
CANCEL_TIMEOUT_S = 2.0


@dataclass(frozen=True, slots=True)
class WireRecord:
    """One thing seen on the wire, for diagnostics: an SSE event, a comment, a (re)connect."""

    kind: WireKind
    event_id: str | None
    data: str
    nbytes: int
    at: float  # time.monotonic()


@dataclass(frozen=True, slots=True)
class _Request:
    method: str
    url: str
    headers: dict[str, str]
    params: dict[str, str] | None = None
    json: dict[str, Any] | None = None

    def kwargs(self) -> dict[str, Any]:
        return {"headers": dict(self.headers), "params": self.params, "json": self.json}


def _error_message(body: bytes) -> str:
    try:
        payload = json.loads(body)
        message = payload["error"]["message"]
        if isinstance(message, str):
            return " ".join(message.split())[:200]
    except (ValueError, KeyError, TypeError):
        pass
    return " ".join(body.decode("utf-8", "replace").split())[:200] or "no details"


def refusal_event(status: int, body: bytes, headers: httpx.Headers) -> StreamError:
    """A StreamError for a non-stream HTTP answer."""
    if status in (401, 403):
        return StreamError(
            "auth",
            f"The remote server refused the request ({status}). Check CHAT_GATEWAY_TOKEN.",
            False,
        )
    if status == 429:
        wait = headers.get("retry-after", "a few")
        return StreamError(
            "rate_limit", f"The remote server is busy (429); retry in {wait} s.", True
        )
    if status >= 500:
        return StreamError(
            "server", f"The remote server failed ({status}). Retry in a moment.", True
        )
    return StreamError(
        "bad_request",
        f"The remote server refused the request ({status}): {_error_message(body)}",
        False,
    )


@dataclass
class _Session:
    """One answer across its connections: what was seen and what to do next."""

    backend: RemoteBackend
    conversation: Conversation
    params: GenerationParams
    stream_id: str | None = None
    last_event_id: str = ""
    last_seq: int = 0
    retry_ms: int = RETRY_MS
    failures: int = 0  # consecutive tries without a new event
    received: int = 0
    done: bool = False
    resuming: bool = False
    parser: SSEParser = field(default_factory=SSEParser)

    # -- requests ----------------------------------------------------------------
    def request(self) -> _Request:
        b = self.backend
        headers = {"Authorization": f"Bearer {b.token}"} if b.token else {}
        if self.resuming:
            headers["Last-Event-ID"] = self.last_event_id or format_event_id(
                self.stream_id or "", 0
            )
            if b.method == "GET":  # what an EventSource does: the same URL, plus the header
                return _Request("GET", b.url, headers, params=self._query())
            return _Request("GET", f"{b.url}/{self.stream_id}", headers)
        if b.method == "GET":
            return _Request("GET", b.url, headers, params=self._query())
        return _Request("POST", b.url, headers, json=self._body())

    def _body(self) -> dict[str, Any]:
        p = self.params
        body: dict[str, Any] = {
            "message": self.conversation.prompt,
            "history": [m.to_dict() for m in self.conversation.messages[:-1]],
            "temperature": p.temperature,
            "max_tokens": p.max_tokens,
        }
        model = p.model or self.backend.model
        if model:
            body["model"] = model
        if p.system:
            body["system"] = p.system
        return body

    def _query(self) -> dict[str, str]:
        return {k: (v if isinstance(v, str) else json.dumps(v)) for k, v in self._body().items()}

    def cancel_request(self) -> _Request | None:
        """The DELETE that stops the server's generation when we stop reading early."""
        if self.done or self.stream_id is None:
            return None
        headers = {"Authorization": f"Bearer {self.backend.token}"} if self.backend.token else {}
        return _Request("DELETE", f"{self.backend.url}/{self.stream_id}", headers)

    # -- responses ---------------------------------------------------------------
    def connected(self, request: _Request, response: httpx.Response) -> bool:
        """Record the connection; True when it is an event stream to read."""
        self.parser = SSEParser()
        self.backend.record(
            "connect",
            self.last_event_id or None,
            f"{request.method} {request.url} -> {response.status_code}",
            0,
        )
        if response.status_code != 200:
            return False
        self.stream_id = self.stream_id or response.headers.get(STREAM_ID_HEADER) or None
        return True

    def refused(self, response: httpx.Response, body: bytes) -> list[StreamEvent] | None:
        """Events ending the stream for a non-200 answer; None to retry (resume only)."""
        status = response.status_code
        if self.resuming and (status == 429 or status >= 500):
            return None
        if self.resuming and status == 204:
            error = StreamError(
                "connection",
                "The connection was lost and the answer could not be resumed (it expired on "
                "the server). The text so far is kept.",
                True,
            )
        elif status == 200:
            kind = response.headers.get("content-type", "none")
            error = StreamError(
                "server",
                f"The remote URL did not answer with an event stream ({kind}). "
                "Check CHAT_REMOTE_URL.",
                False,
            )
        elif status == 204:
            error = StreamError("server", "The remote server sent no stream (204).", True)
        else:
            error = refusal_event(status, body, response.headers)
        self.done = True
        return [error, Done("error")]

    def feed(self, chunk: bytes) -> list[StreamEvent]:
        """Events completed by ``chunk``; sets ``done`` at the end of the stream."""
        out: list[StreamEvent] = []
        for item in self.parser.feed(chunk):
            if isinstance(item, SSEComment):
                self.backend.record("comment", None, item.text, item.nbytes)
                continue
            self.backend.record("sse", item.id or None, item.data, item.nbytes)
            if item.event != "message":
                continue
            if item.id and item.id != self.last_event_id:
                try:
                    stream_id, seq = parse_event_id(item.id)
                except ValueError:  # an opaque id: resumable, but not checkable
                    pass
                else:
                    if seq <= self.last_seq and stream_id == self.stream_id:
                        continue  # already seen (a server replaying too much)
                    if seq != self.last_seq + 1 or stream_id != (self.stream_id or stream_id):
                        return self._end(out, "The server skipped part of the answer on resume.")
                    self.stream_id, self.last_seq = stream_id, seq
                self.last_event_id = item.id
            elif self.resuming and item.id and item.id == self.last_event_id:
                continue  # the last event we had, sent again
            try:
                event = decode_data(item.data)
            except BackendError as exc:
                out += [exc.to_event(), Done("error")]
                self.done = True
                return out
            if event is None:
                continue
            out.append(event)
            self.received += 1
            self.failures = 0
            self.resuming = False
            if isinstance(event, Done):
                self.done = True
                return out
        if self.parser.retry_ms is not None:
            self.retry_ms = self.parser.retry_ms
        return out

    def _end(self, out: list[StreamEvent], message: str) -> list[StreamEvent]:
        self.done = True
        return [*out, StreamError("server", message, True), Done("error")]

    def dropped(self, reason: str) -> float | None:
        """The connection ended without ``done``: seconds to wait before resuming, or None."""
        self.failures += 1
        b = self.backend
        resumable = self.stream_id is not None or (b.method == "GET" and bool(self.last_event_id))
        if not resumable or self.failures > b.max_reconnects:
            return None
        base = min(b.max_backoff_s, self.retry_ms / 1000 * 2.0 ** (self.failures - 1))
        delay = base * b.rng.uniform(1.0, 1.5)  # never sooner than the server's retry:
        self.resuming = True
        b.reconnects += 1
        b.record("reconnect", self.last_event_id or None, f"{reason}; retry in {delay:.2f} s", 0)
        return delay

    def give_up(self, timed_out: bool) -> list[StreamEvent]:
        """The end of a stream that cannot be resumed: the text so far stays."""
        self.done = True
        if self.failures > self.backend.max_reconnects:
            message = (
                f"Lost the connection to the remote server and could not resume after "
                f"{self.backend.max_reconnects} tries. The text so far is kept."
            )
        elif self.received:
            message = "The connection to the remote server was lost; the text so far is kept."
        elif timed_out:
            return [
                StreamError("timeout", "The remote server did not answer in time.", True),
                Done("error"),
            ]
        else:
            message = "Could not reach the remote server. Check CHAT_REMOTE_URL and retry."
        return [StreamError("connection", message, True), Done("error")]


def _reason(exc: httpx.HTTPError) -> str:
    return f"{type(exc).__name__}" + (
        ": cut before done" if isinstance(exc, httpx.ReadError) else ""
    )


class RemoteBackend:
    """Streams from a remote ``/api/chat/stream`` endpoint (protocol v1 or seed-style).

    Args:
        url: the server's base URL or its full stream endpoint.
        method: ``POST`` (JSON body) or ``GET`` (query string, for seed-style servers).
        token: sent as ``Authorization: Bearer``.
        model: the model to ask for (the server's default when None).
        max_reconnects: tries to resume a dropped stream before giving up.
        on_wire: called with a ``WireRecord`` for everything seen on the wire.
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
        self.reconnects = 0  # over the life of this back end
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

    def record(self, kind: WireKind, event_id: str | None, data: str, nbytes: int) -> None:
        if self.on_wire is not None:
            self.on_wire(WireRecord(kind, event_id, data, nbytes, time.monotonic()))

    def _client_options(self) -> dict[str, Any]:
        if self._ssl is None:  # building one costs milliseconds: share it across streams
            self._ssl = httpx.create_ssl_context()
        return {"timeout": self.timeout, "verify": self._ssl}

    def list_models(self) -> list[str]:
        return []  # the protocol has no model list; the server picks its default

    def stream(self, conversation: Conversation, params: GenerationParams) -> Iterator[StreamEvent]:
        s = _Session(self, conversation, params)
        with httpx.Client(**self._client_options()) as client:
            try:
                while True:
                    request = s.request()
                    reason, timed_out = "the stream ended before done", False
                    try:
                        with connect_sse(
                            client, request.method, request.url, **request.kwargs()
                        ) as source:
                            response = source.response
                            if not s.connected(request, response) or not _is_sse(response):
                                ending = s.refused(response, response.read())
                                if ending is not None:
                                    yield from ending
                                    return
                                reason = f"HTTP {response.status_code}"
                            else:
                                for chunk in response.iter_bytes():
                                    yield from s.feed(chunk)
                                    if s.done:
                                        return
                    except httpx.HTTPError as exc:
                        reason, timed_out = _reason(exc), isinstance(exc, httpx.TimeoutException)
                    delay = s.dropped(reason)
                    if delay is None:
                        yield from s.give_up(timed_out)
                        return
                    time.sleep(delay)
            finally:
                if (cancel := s.cancel_request()) is not None:
                    with contextlib.suppress(httpx.HTTPError):
                        client.request(
                            cancel.method,
                            cancel.url,
                            headers=cancel.headers,
                            timeout=CANCEL_TIMEOUT_S,
                        )

    async def astream(
        self, conversation: Conversation, params: GenerationParams
    ) -> AsyncIterator[StreamEvent]:
        s = _Session(self, conversation, params)
        async with httpx.AsyncClient(**self._client_options()) as client:
            try:
                while True:
                    request = s.request()
                    reason, timed_out = "the stream ended before done", False
                    try:
                        async with aconnect_sse(
                            client, request.method, request.url, **request.kwargs()
                        ) as source:
                            response = source.response
                            if not s.connected(request, response) or not _is_sse(response):
                                ending = s.refused(response, await response.aread())
                                if ending is not None:
                                    for event in ending:
                                        yield event
                                    return
                                reason = f"HTTP {response.status_code}"
                            else:
                                async for chunk in response.aiter_bytes():
                                    for event in s.feed(chunk):
                                        yield event
                                    if s.done:
                                        return
                    except httpx.HTTPError as exc:
                        reason, timed_out = _reason(exc), isinstance(exc, httpx.TimeoutException)
                    delay = s.dropped(reason)
                    if delay is None:
                        for event in s.give_up(timed_out):
                            yield event
                        return
                    await asyncio.sleep(delay)
            finally:
                # Stopped early (Stop, a cancelled run): tell the server to stop generating.
                if (cancel := s.cancel_request()) is not None:
                    with contextlib.suppress(httpx.HTTPError):
                        await client.request(
                            cancel.method,
                            cancel.url,
                            headers=cancel.headers,
                            timeout=CANCEL_TIMEOUT_S,
                        )


def _is_sse(response: httpx.Response) -> bool:
    return "text/event-stream" in response.headers.get("content-type", "")
