"""An exact event codec for run stores that keep events outside the process (Redis).

The wire's ``payload_json`` is for clients and leaves out what they do not read
(``Usage.reasoning_tokens``, ``Done.refused``/``tool_names``); a run store must give
every reader the events the producer appended, field for field, so it has its own
tagged JSON. Pure functions, no I/O.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from json.encoder import encode_basestring_ascii
from typing import Any

from chat_core.events import (
    Done,
    ReasoningDelta,
    StreamError,
    StreamEvent,
    TextDelta,
    ToolCallDelta,
    Usage,
)

_KINDS: dict[str, type[StreamEvent]] = {
    "text": TextDelta,
    "reasoning": ReasoningDelta,
    "tool_call": ToolCallDelta,
    "usage": Usage,
    "error": StreamError,
    "done": Done,
}
_TAGS = {cls: tag for tag, cls in _KINDS.items()}


def dump_event(event: StreamEvent) -> bytes:
    """One event as compact tagged JSON bytes."""
    if isinstance(event, TextDelta):  # the hot path: one C call, no asdict (it deep-copies)
        return b'["text",{"text":' + encode_basestring_ascii(event.text).encode() + b"}]"
    return json.dumps([_TAGS[type(event)], asdict(event)], separators=(",", ":")).encode()


def load_event(raw: bytes | str) -> StreamEvent:
    """The event ``dump_event`` wrote; ValueError for anything else."""
    try:
        tag, fields = json.loads(raw)
        cls = _KINDS[tag]
        values: dict[str, Any] = dict(fields)
        if cls is Done:
            values["tool_names"] = tuple(values.get("tool_names", ()))
        return cls(**values)
    except (TypeError, KeyError, ValueError) as exc:
        raise ValueError("not a stored run event") from exc
