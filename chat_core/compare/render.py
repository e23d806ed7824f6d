"""Every lane's new text per frame, from one loop: how one page streams 2-4 runs at once.

A Streamlit session runs one script at a time (fragments included: they queue on the
same script thread), so a blocking ``st.write_stream`` per lane would show lane 2 only
after lane 1 ended. The runs themselves never wait for the page (each pulls on the
background loop); this loop only reads what each has buffered, without blocking, once
per frame, and hands the page each lane's chunks. The chunks are the chat's: coalesced
per frame, cut at finished markdown blocks (``BlockStream``: only the growing tail of
each lane crosses the websocket), images made inert; reasoning apart from the answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from chat_core.chat.render import FRAME_S, BlockStream, RenderChunk
from chat_core.events import Done, ReasoningDelta, TextDelta
from chat_core.runs import Run


@dataclass(frozen=True)
class LaneFrame:
    """One lane's new chunks in a frame; ``finished`` once its run has ended."""

    lane: int
    reasoning: list[RenderChunk]
    answer: list[RenderChunk]
    finished: bool


@dataclass
class _Lane:
    run: Run
    seq: int = 0
    answer: BlockStream = field(default_factory=BlockStream)
    reasoning: BlockStream = field(default_factory=BlockStream)
    finished: bool = False

    def take(self, index: int) -> LaneFrame | None:
        events = self.run.read(self.seq, 0.0)
        if not events:
            return None
        self.seq += len(events)
        said = "".join(e.text for e in events if isinstance(e, TextDelta))
        thought = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
        self.finished = any(isinstance(e, Done) for e in events)
        return LaneFrame(
            index,
            self.reasoning.feed(thought) if thought else [],
            self.answer.feed(said) if said else [],
            self.finished,
        )


def lane_frames(
    runs: Sequence[Run | None],
    *,
    frame_s: float = FRAME_S,
    on_idle: Callable[[], Any] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Any] = time.sleep,
) -> Iterator[list[LaneFrame]]:
    """Per frame, the lanes with news (index = position in ``runs``); ends when all are done.

    A ``None`` run (a lane already finished) is skipped. ``on_idle`` is called every frame
    (the page passes a yield point, so a Stop click is seen while the lanes stream).
    """
    lanes = {i: _Lane(run) for i, run in enumerate(runs) if run is not None}
    while any(not lane.finished for lane in lanes.values()):
        started = clock()
        frames = []
        for i, lane in lanes.items():
            if lane.finished:
                continue
            if (frame := lane.take(i)) is not None:
                frames.append(frame)
        if frames:
            yield frames
        if on_idle is not None:
            on_idle()
        if any(not lane.finished for lane in lanes.values()):
            sleep(max(0.0, started + frame_s - clock()))


__all__ = ["LaneFrame", "lane_frames"]
