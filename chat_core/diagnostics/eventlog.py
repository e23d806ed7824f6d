"""The event log: what a browser's EventStream tab shows, one row per event.

For in-process back ends a row is one event, its data as protocol v1 would put
it on the wire; for the remote back end a row is one record of what was
received (``on_wire``), as it came.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from chat_core.events import Done, ReasoningDelta, StreamError, TextDelta, ToolCallDelta, Usage
from chat_core.runs import Run
from chat_core.wire import encode_event, format_event_id, payload_json


class WireLike(Protocol):
    """What the log reads from the remote back end's ``WireRecord``."""

    @property
    def kind(self) -> str: ...
    @property
    def event_id(self) -> str | None: ...
    @property
    def data(self) -> str: ...
    @property
    def nbytes(self) -> int: ...
    @property
    def at(self) -> float: ...


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One row of the event log; ``t_ms`` counts from the start of the stream."""

    seq: int
    id: str
    type: str
    data: str
    t_ms: float
    nbytes: int


_EVENT_TYPES = {
    TextDelta: "chunk",
    ReasoningDelta: "reasoning",
    ToolCallDelta: "tool_call",
    Usage: "usage",
    StreamError: "error",
    Done: "done",
}


def event_records(run: Run) -> list[LogRecord]:
    """A run's events as rows; bytes are what the event takes on the wire (protocol v1)."""
    n = min(len(run.events), len(run.arrival_times))
    pairs = zip(run.events[:n], run.arrival_times[:n], strict=True)
    return [
        LogRecord(
            seq,
            format_event_id(run.id, seq),
            _EVENT_TYPES[type(event)],
            payload_json(event),
            (at - run.created_at) * 1000,
            len(encode_event(run.id, seq, event)),
        )
        for seq, (event, at) in enumerate(pairs, 1)
    ]


def wire_records(records: Sequence[WireLike], started_at: float) -> list[LogRecord]:
    """What the remote back end received, one row per wire record, as it came."""
    return [
        LogRecord(i, r.event_id or "", r.kind, r.data, (r.at - started_at) * 1000, r.nbytes)
        for i, r in enumerate(records, 1)
    ]
