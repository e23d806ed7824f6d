"""Wire protocol v1, the decoding side: an incremental SSE parser and the payload-to-event mapping.

The parser follows the WHATWG "event stream interpretation" rules
(https://html.spec.whatwg.org/multipage/server-sent-events.html). It exists
beside httpx-sse, which the remote back end uses for its connection, because
httpx-sse's ``SSEDecoder`` drops comment lines: the diagnostics page shows the
``: ping`` comments a server sends, and counts the bytes of every block as it
came. Streams from a plain seed-style server (only ``chunk`` and ``done``, no
ids) decode too.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias, cast

from chat_core.errors import BackendError
from chat_core.events import (
    ERROR_CODES,
    FINISH_REASONS,
    Done,
    ErrorCode,
    FinishReason,
    ReasoningDelta,
    StreamError,
    StreamEvent,
    TextDelta,
    ToolCallDelta,
    Usage,
)


def _malformed(what: str) -> BackendError:
    return BackendError("server", f"The server sent a malformed event ({what}).", retryable=True)


def decode_payload(payload: Mapping[str, Any]) -> StreamEvent | None:
    """The event of one decoded ``data`` object; None for payloads this version ignores."""
    if "error" in payload:
        error = payload["error"]
        if not isinstance(error, Mapping):
            raise _malformed("error is not an object")
        code = error.get("code")
        message = error.get("message")
        return StreamError(
            cast(ErrorCode, code) if code in ERROR_CODES else "server",
            message if isinstance(message, str) and message else "The server reported an error.",
            bool(error.get("retryable", False)),
        )
    if "chunk" in payload:
        chunk = payload["chunk"]
        if not isinstance(chunk, str):
            raise _malformed("chunk is not a string")
        return TextDelta(chunk)
    if "reasoning" in payload:
        reasoning = payload["reasoning"]
        if not isinstance(reasoning, str):
            raise _malformed("reasoning is not a string")
        return ReasoningDelta(reasoning)
    if "tool_call" in payload:
        return _tool_call(payload["tool_call"])
    if "usage" in payload:
        return _usage(payload["usage"])
    if payload.get("done"):
        return _done(payload)
    return None


def _tool_call(call: Any) -> ToolCallDelta:
    if not isinstance(call, Mapping):
        raise _malformed("tool_call is not an object")
    index = call.get("index", 0)
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise _malformed("tool_call index is not a whole number")
    texts = [call.get(key, "") for key in ("id", "name", "arguments")]
    if not all(isinstance(t, str) for t in texts):
        raise _malformed("tool_call fields are not strings")
    return ToolCallDelta(index, *texts)


def _usage(usage: Any) -> Usage:
    if not isinstance(usage, Mapping):
        raise _malformed("usage is not an object")
    prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
    reasoning = usage.get("reasoning_tokens")
    if not isinstance(prompt, int) or not isinstance(completion, int):
        raise _malformed("usage counts are not integers")
    if reasoning is not None and not isinstance(reasoning, int):
        raise _malformed("reasoning_tokens is not an integer")
    return Usage(prompt, completion, reasoning)


def _done(payload: Mapping[str, Any]) -> Done:
    reason = payload.get("finish_reason", "stop")  # the seed sends only {"done": true}
    names = payload.get("tool_names")
    tools = tuple(n for n in names if isinstance(n, str)) if isinstance(names, list) else ()
    return Done(
        cast(FinishReason, reason) if reason in FINISH_REASONS else "stop",
        refused=payload.get("refused") is True,
        tool_names=tools,
    )


def decode_data(data: str) -> StreamEvent | None:
    """The event of one SSE ``data`` string; BackendError("server") when it is not JSON."""
    try:
        payload = json.loads(data)
    except ValueError as exc:
        raise _malformed("not JSON") from exc
    if not isinstance(payload, dict):
        raise _malformed("not a JSON object")
    return decode_payload(payload)


# -- decode the event stream -------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SSEMessage:
    """A dispatched event: its data, the stream's last event id (\"\" when none), its type."""

    data: str
    id: str
    event: str
    nbytes: int


@dataclass(frozen=True, slots=True)
class SSEComment:
    """A comment line, such as ``: ping``."""

    text: str
    nbytes: int


SSEItem: TypeAlias = SSEMessage | SSEComment


class SSEParser:
    """Incremental event-stream parser: feed bytes split anywhere, get messages and comments.

    Follows the spec: lines end at CRLF, LF or CR; a leading BOM is dropped; an
    event is dispatched at a blank line; an unterminated event at the end of the
    stream is discarded (so a cut connection never yields half an event); the
    last event id only moves when an event is dispatched.
    """

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._tail = ""
        self._skip_lf = False
        self._started = False
        self._data: list[str] = []
        self._event = ""
        self._id_buffer = ""
        self._block_bytes = 0
        self.last_event_id = ""
        self.retry_ms: int | None = None

    def feed(self, chunk: bytes) -> list[SSEItem]:
        """Parse more bytes; returns what they completed."""
        text = self._decoder.decode(chunk)
        if not text:
            return []
        if self._skip_lf:  # the previous chunk ended in CR: a CRLF split in two
            self._skip_lf = False
            text = text[1:] if text[0] == "\n" else text
        if not self._started and text:
            self._started = True
            text = text.removeprefix("\ufeff")
        buf = self._tail + text
        if "\r" in buf:
            self._skip_lf = buf.endswith("\r")
            buf = buf.replace("\r\n", "\n").replace("\r", "\n")
        lines = buf.split("\n")
        self._tail = lines.pop()
        out: list[SSEItem] = []
        for line in lines:
            self._line(line, out)
        return out

    def _line(self, line: str, out: list[SSEItem]) -> None:
        size = (len(line) if line.isascii() else len(line.encode())) + 1
        if not line:
            self._dispatch(size, out)
            return
        if line[0] == ":":
            out.append(SSEComment(line[1:].removeprefix(" "), size))
            return
        self._block_bytes += size
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "id":
            if "\0" not in value:
                self._id_buffer = value
        elif name == "retry":
            if value.isascii() and value.isdigit():
                self.retry_ms = int(value)
        elif name == "event":
            self._event = value

    def _dispatch(self, size: int, out: list[SSEItem]) -> None:
        self.last_event_id = self._id_buffer
        nbytes, self._block_bytes = self._block_bytes + size, 0
        if not self._data:
            self._event = ""
            return
        data, self._data = "\n".join(self._data), []
        event, self._event = self._event or "message", ""
        out.append(SSEMessage(data, self.last_event_id, event, nbytes))
