"""Wire protocol v1 of ``/api/chat/stream``.

encode     pure functions: one event (or ping, or id marker) to its SSE bytes; event ids
decode     an incremental SSE parser and the payload-to-event mapping, for clients
status     an HTTP status that is not an event stream, as a ``StreamError``
response   ``SSEResponse``: the Starlette response that owns the SSE headers and closes its body
"""

from __future__ import annotations

from chat_core.wire.decode import (
    SSEComment,
    SSEItem,
    SSEMessage,
    SSEParser,
    decode_data,
    decode_payload,
)
from chat_core.wire.encode import (
    PING,
    PING_INTERVAL_S,
    RETRY_MS,
    STREAM_ID_HEADER,
    STREAM_PATH,
    encode_comment,
    encode_event,
    encode_marker,
    format_event_id,
    parse_event_id,
    payload_json,
)
from chat_core.wire.status import error_detail, status_error

__all__ = [
    "PING",
    "PING_INTERVAL_S",
    "RETRY_MS",
    "STREAM_ID_HEADER",
    "STREAM_PATH",
    "SSEComment",
    "SSEItem",
    "SSEMessage",
    "SSEParser",
    "decode_data",
    "decode_payload",
    "encode_comment",
    "encode_event",
    "encode_marker",
    "error_detail",
    "format_event_id",
    "parse_event_id",
    "payload_json",
    "status_error",
]
