"""Wire protocol v1 of ``/api/chat/stream``, encoding: pure functions, one per thing on the wire.

Every event is an unnamed SSE event (``onmessage`` fires for it, as in the seed)
whose ``data`` is one JSON object, ASCII-escaped so that no model text (U+2028,
CR, ``\\n\\ndata: ...``) can split a line or forge an event::

    retry: 1000                      first event of a connection only
    id: <stream_id>:<seq>            seq counts from 1, no gaps
    data: {"chunk": "Hel"}           or reasoning / tool_call / usage / error / done

A tool call streams as ``{"tool_call": {"index": 0, "id": "call_1", "name":
"get_weather", "arguments": "{\"ci"}}``: ``id`` and ``name`` with a call's first
piece, then only ``index`` and ``arguments`` (a seed-style client ignores it).

``decode`` is the other side, for clients.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring_ascii

from chat_core.events import (
    Done,
    ReasoningDelta,
    StreamError,
    StreamEvent,
    TextDelta,
    ToolCallDelta,
    Usage,
)

STREAM_PATH = "/api/chat/stream"
RETRY_MS = 1000
PING_INTERVAL_S = 15.0
# A comment line without a blank line after it: after an id has been seen, a blank
# line makes httpx-sse (florimondmanca/httpx-sse#35) and other clients dispatch an
# empty ``data`` event, which a seed-style ``json.loads(data)`` handler chokes on.
PING = b": ping\n"
STREAM_ID_HEADER = "X-Stream-Id"


def payload_json(event: StreamEvent) -> str:
    """The JSON text of one event's ``data``, ASCII-escaped."""
    if isinstance(event, TextDelta):  # the hot path: one C call, no dict
        return '{"chunk": ' + encode_basestring_ascii(event.text) + "}"
    if isinstance(event, ReasoningDelta):  # a seed-style client ignores this payload
        return '{"reasoning": ' + encode_basestring_ascii(event.text) + "}"
    if isinstance(event, Usage):
        extra = (
            ""
            if event.reasoning_tokens is None
            else f', "reasoning_tokens": {int(event.reasoning_tokens)}'
        )
        return (
            f'{{"usage": {{"prompt_tokens": {int(event.prompt_tokens)}, '
            f'"completion_tokens": {int(event.completion_tokens)}{extra}}}}}'
        )
    if isinstance(event, ToolCallDelta):
        call: dict[str, object] = {"index": event.index}
        if event.id:
            call["id"] = event.id
        if event.name:
            call["name"] = event.name
        if event.arguments:
            call["arguments"] = event.arguments
        return json.dumps({"tool_call": call})
    if isinstance(event, StreamError):
        error = {"code": event.code, "message": event.message, "retryable": event.retryable}
        return json.dumps({"error": error})
    return _done_json(event)


def _done_json(event: Done) -> str:
    # ``refused`` and ``tool_names`` only when set, so a plain answer's done is the seed's shape.
    text = '{"done": true, "finish_reason": ' + encode_basestring_ascii(event.finish_reason)
    if event.refused:
        text += ', "refused": true'
    if event.tool_names:
        text += ', "tool_names": ' + json.dumps(list(event.tool_names))
    return text + "}"


def encode_event(
    stream_id: str, seq: int, event: StreamEvent, *, retry_ms: int | None = None
) -> bytes:
    """The bytes of one SSE event; ``retry_ms`` adds the ``retry:`` line (first event only)."""
    head = f"retry: {retry_ms}\n" if retry_ms is not None else ""
    return f"{head}id: {stream_id}:{seq}\ndata: {payload_json(event)}\n\n".encode("ascii")


def encode_marker(stream_id: str, seq: int, *, retry_ms: int | None = None) -> bytes:
    """An id without data: sets the client's Last-Event-ID without dispatching an event.

    Used when a connection is cut before its first event (``/drop after 0``), so an
    EventSource still resumes instead of asking the question again.
    """
    head = f"retry: {retry_ms}\n" if retry_ms is not None else ""
    return f"{head}id: {stream_id}:{seq}\n\n".encode("ascii")


def encode_comment(text: str = "ping") -> bytes:
    """A comment line (``: ping``): keeps proxies and read timeouts from closing an idle stream."""
    return f": {' '.join(text.splitlines())}\n".encode("ascii", "backslashreplace")


def format_event_id(stream_id: str, seq: int) -> str:
    """``<stream_id>:<seq>``."""
    return f"{stream_id}:{seq}"


def parse_event_id(value: str) -> tuple[str, int]:
    """Split ``<stream_id>:<seq>``; ValueError when it is not one."""
    stream_id, sep, seq = value.strip().rpartition(":")
    if not sep or not stream_id or not seq.isascii() or not seq.isdigit() or len(seq) > 9:
        raise ValueError(f"not a <stream_id>:<seq> event id: {value[:80]!r}")
    return stream_id, int(seq)
