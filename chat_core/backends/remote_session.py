"""One answer from a remote server across its connections: what to ask, what it means.

Pure decisions, no I/O: which request to send (the question, or a resume with
``Last-Event-ID``), what a response status or an SSE event means, and what a
dropped connection means (resume after a backoff, or end keeping the text).
``RemoteBackend.stream`` and ``astream`` drive it with httpx, sync and async.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

import httpx

from chat_core.attachments.parts import text_of
from chat_core.attachments.wire import to_wire
from chat_core.backends.endpoints import where
from chat_core.errors import BackendError
from chat_core.events import Done, StreamError, StreamEvent
from chat_core.messages import ChatMessage, Conversation, GenerationParams
from chat_core.wire import (
    RETRY_MS,
    STREAM_ID_HEADER,
    SSEComment,
    SSEParser,
    decode_data,
    error_detail,
    format_event_id,
    parse_event_id,
    status_error,
)

WireKind = Literal["connect", "sse", "reconnect", "comment"]


class RemoteEndpoint(Protocol):
    """What a session reads from its back end: where, how, and the limits."""

    url: str
    method: str
    token: str | None
    model: str | None
    max_reconnects: int
    max_backoff_s: float
    rng: random.Random
    label: str | None


@dataclass(frozen=True, slots=True)
class WireRecord:
    """One thing seen on the wire, for diagnostics: an SSE event, a comment, a (re)connect."""

    kind: WireKind
    event_id: str | None
    data: str
    nbytes: int
    at: float  # time.monotonic()


@dataclass(frozen=True, slots=True)
class WireRequest:
    """One HTTP request to make, in httpx terms."""

    method: str
    url: str
    headers: dict[str, str]
    params: dict[str, str] | None = None
    json: dict[str, Any] | None = None

    def kwargs(self) -> dict[str, Any]:
        return {"headers": dict(self.headers), "params": self.params, "json": self.json}


@dataclass
class RemoteSession:
    """One answer across its connections: what was seen and what to do next."""

    endpoint: RemoteEndpoint
    conversation: Conversation
    params: GenerationParams
    stream_id: str | None = None
    last_event_id: str = ""
    last_seq: int = 0
    retry_ms: int = RETRY_MS
    failures: int = 0  # consecutive tries without a new event
    last_reason: str = ""  # why the last connection ended, named in the final error
    received: int = 0
    done: bool = False
    resuming: bool = False
    reconnects: int = 0
    parser: SSEParser = field(default_factory=SSEParser)
    wire: list[WireRecord] = field(default_factory=list)  # taken by the back end as it goes

    def _record(self, kind: WireKind, event_id: str | None, data: str, nbytes: int) -> None:
        self.wire.append(WireRecord(kind, event_id, data, nbytes, time.monotonic()))

    def take_wire(self) -> list[WireRecord]:
        """The wire records since the last call."""
        records, self.wire = self.wire, []
        return records

    # -- requests ----------------------------------------------------------------
    def request(self) -> WireRequest:
        e = self.endpoint
        headers = {"Authorization": f"Bearer {e.token}"} if e.token else {}
        if self.resuming:
            headers["Last-Event-ID"] = self.last_event_id or format_event_id(
                self.stream_id or "", 0
            )
            if e.method == "GET":  # what an EventSource does: the same URL, plus the header
                return WireRequest("GET", e.url, headers, params=self._query())
            return WireRequest("GET", f"{e.url}/{self.stream_id}", headers)
        if e.method == "GET":
            return WireRequest("GET", e.url, headers, params=self._query())
        return WireRequest("POST", e.url, headers, json=self._body())

    def _body(self, *, files: bool = True) -> dict[str, Any]:
        model = self.params.model or self.endpoint.model
        vision = getattr(self.endpoint, "vision", "auto")
        return wire_body(self.conversation, self.params, model, vision=vision, files=files)

    def _query(self) -> dict[str, str]:
        body = self._body(files=False)  # no files in a URL: a seed-style server gets their text
        return {k: (v if isinstance(v, str) else json.dumps(v)) for k, v in body.items()}

    def cancel_request(self) -> WireRequest | None:
        """The DELETE that stops the server's generation when we stop reading early."""
        if self.done or self.stream_id is None:
            return None
        headers = {"Authorization": f"Bearer {self.endpoint.token}"} if self.endpoint.token else {}
        return WireRequest("DELETE", f"{self.endpoint.url}/{self.stream_id}", headers)

    # -- responses ---------------------------------------------------------------
    def connected(self, request: WireRequest, response: httpx.Response) -> bool:
        """Record the connection; True when it is an event stream to read."""
        self.parser = SSEParser()
        self._record(
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
            error = status_error(
                status, retry_after=response.headers.get("retry-after"), detail=error_detail(body)
            )
        self.done = True
        return [error, Done("error")]

    def feed(self, chunk: bytes) -> list[StreamEvent]:
        """Events completed by ``chunk``; sets ``done`` at the end of the stream."""
        out: list[StreamEvent] = []
        items = self.parser.feed(chunk)
        if self.parser.retry_ms is not None:
            self.retry_ms = self.parser.retry_ms
        for item in items:
            if isinstance(item, SSEComment):
                self._record("comment", None, item.text, item.nbytes)
                continue
            self._record("sse", item.id or None, item.data, item.nbytes)
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
                    # The first id of a server that named no stream sets where its seqs start.
                    first = self.stream_id is None and self.last_seq == 0
                    if not first and (seq != self.last_seq + 1 or stream_id != self.stream_id):
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
        return out

    def _end(self, out: list[StreamEvent], message: str) -> list[StreamEvent]:
        self.done = True
        return [*out, StreamError("server", message, True), Done("error")]

    def dropped(self, reason: str) -> float | None:
        """The connection ended without ``done``: seconds to wait before resuming, or None."""
        self.failures += 1
        self.last_reason = reason
        e = self.endpoint
        resumable = self.stream_id is not None or (e.method == "GET" and bool(self.last_event_id))
        if not resumable or self.failures > e.max_reconnects:
            return None
        base = min(e.max_backoff_s, self.retry_ms / 1000 * 2.0 ** (self.failures - 1))
        delay = base * e.rng.uniform(1.0, 1.5)  # never sooner than the server's retry:
        self.resuming = True
        self.reconnects += 1
        self._record(
            "reconnect", self.last_event_id or None, f"{reason}; retry in {delay:.2f} s", 0
        )
        return delay

    def give_up(self, timed_out: bool) -> list[StreamEvent]:
        """The end of a stream that cannot be resumed: the text so far stays."""
        self.done = True
        if self.failures > self.endpoint.max_reconnects:
            message = (
                f"Lost the connection to the remote server and could not resume after "
                f"{self.endpoint.max_reconnects} tries. The text so far is kept."
            )
        elif self.received:
            message = "The connection to the remote server was lost; the text so far is kept."
        elif timed_out:
            at = self.endpoint.label or f"the remote server at {where(self.endpoint.url)}"
            message = f"No response from {at}: check that it is up, then Retry to try again."
            return [StreamError("timeout", message, True), Done("error")]
        elif self.last_reason == "connection refused" and self.endpoint.label:
            label = self.endpoint.label
            message = (
                f"{label[:1].upper()}{label[1:]} refused the connection: is it running? "
                "Retry to try again."
            )
        elif self.last_reason == "connection refused":
            at = where(self.endpoint.url)
            message = (
                f"{at} refused the connection: is the server running on {at}? "
                "Check CHAT_REMOTE_URL, then Retry to try again."
            )
        else:
            why = self.last_reason or "no answer"
            at = self.endpoint.label or f"the remote server at {where(self.endpoint.url)}"
            message = (
                f"Could not reach {at} ({why}). Check CHAT_REMOTE_URL, then Retry to try again."
            )
        return [StreamError("connection", message, True), Done("error")]


def wire_body(
    conversation: Conversation,
    params: GenerationParams,
    model: str | None,
    *,
    vision: str = "auto",
    files: bool = True,
) -> dict[str, Any]:
    """The wire v1 request body for a conversation (View code shows the same one).

    Wire v1 ``attachments``: the prompt's files (images unless vision is off); what cannot
    go as a file (GET, or images with vision off) goes as text, history too."""
    messages = conversation.messages
    last = messages[-1]
    images = files and vision != "off"
    sent = [a for a in last.attachments if files and (images or not a.is_image)]
    kept = replace(last, attachments=tuple(a for a in last.attachments if a not in sent))

    def item(m: ChatMessage) -> dict[str, Any]:
        wired = m.to_wire()
        if m.attachments:
            wired["content"] = text_of(m)
        return wired

    body: dict[str, Any] = {
        "message": text_of(kept) if kept.attachments else last.content,
        "history": [item(m) for m in messages[:-1]],
        "temperature": params.temperature,
        "max_tokens": params.max_tokens,
    }
    if last.role == "tool":  # a tool loop's next step: the results, no new prompt
        del body["message"]
        body["history"] = [item(m) for m in messages]
    if sent:
        body["attachments"] = to_wire(sent)
    if params.tools:
        body["tools"] = json.loads(params.tools)
    if model:
        body["model"] = model
    if params.system:
        body["system"] = params.system
    return body
