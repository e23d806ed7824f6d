"""A run's reasoning as the chat page shows it: live, in its own element above the answer.

Reasoning streams under the same cost rules as the answer (``render``): coalesced
per frame and split at finished markdown blocks, so a long reasoning does not
bring back the quadratic websocket cost. It ends where the answer begins (the
first answer text, an error or the end): ``ReasoningStream.position`` is then the
seq for ``render_run`` to pick up from, so every event is rendered exactly once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from chat_core.chat.render import (
    FRAME_S,
    STOP,
    Position,
    RenderChunk,
    answer_blocks,
    coalesced_frames,
)
from chat_core.events import (
    Done,
    ReasoningDelta,
    StreamError,
    StreamEvent,
    TextDelta,
    ToolCallDelta,
)
from chat_core.metrics import measure
from chat_core.runs import Run


def _starts(event: StreamEvent) -> str | None:
    """What an event begins: "reasoning", "answer" (text, an error, the end), or None."""
    if isinstance(event, ReasoningDelta) and event.text:
        return "reasoning"
    if (isinstance(event, TextDelta) and event.text) or isinstance(
        event, ToolCallDelta | StreamError | Done
    ):
        return "answer"  # a tool call ends the thinking too
    return None  # usage, an empty (role-only) delta: not yet known


def reasoning_first(
    run: Run, after: int = 0, *, idle_s: float = 0.1, on_idle: Callable[[], Any] | None = None
) -> bool:
    """Wait for the run's first content after ``after``; True when it is reasoning."""
    seq = after
    while True:
        batch = run.read(seq, idle_s)
        for event in batch:
            if (kind := _starts(event)) is not None:
                return kind == "reasoning"
        seq += len(batch)
        if not batch and on_idle is not None:
            on_idle()


def _reasoning_text(event: StreamEvent) -> str | object | None:
    if _starts(event) == "answer":
        return STOP
    return event.text if isinstance(event, ReasoningDelta) else None


class ReasoningStream:
    """Chunks of a run's reasoning for ``st.write_stream``, until the answer begins."""

    def __init__(
        self,
        run: Run,
        after: int = 0,
        *,
        frame_s: float = FRAME_S,
        idle_s: float = 0.1,
        on_idle: Callable[[], Any] | None = None,
        on_event: Callable[[int, StreamEvent], Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.run = run
        self.position = Position(after)
        self._options = (frame_s, idle_s, on_idle, on_event, clock)

    @property
    def seq(self) -> int:
        """The last seq consumed: ``render_run(run, after=seq)`` shows the answer from there."""
        return self.position.seq

    @property
    def thinking_s(self) -> float | None:
        """How long the reasoning went on before the answer began (or until now)."""
        run = self.run
        return measure(
            run.created_at, run.events, run.arrival_times, now=time.monotonic()
        ).thinking_s

    def __iter__(self) -> Iterator[RenderChunk]:
        return coalesced_frames(self.run, self.position, _reasoning_text, *self._options)


def render_reasoning(run: Run, after: int = 0, **options: Any) -> ReasoningStream:
    """A run's reasoning as chunks for ``st.write_stream`` (options as ``render_run``)."""
    return ReasoningStream(run, after, **options)


def thinking_label(seconds: float | None, *, streaming: bool = False) -> str:
    """The reasoning element's label: "Thinking..." while it streams, "Thought for 12 s" after."""
    if streaming:
        return "Thinking..."
    if seconds is None or seconds < 1:
        return "Thought for a moment"
    return f"Thought for {seconds:.0f} s"


def reasoning_blocks(text: str) -> list[str]:
    """A finished answer's reasoning, made safe and cut into pieces of whole blocks."""
    return answer_blocks(text)
