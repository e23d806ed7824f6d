"""Reading a whole run in tests, through its one reader pair (``read`` / ``aread``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from chat_core.events import StreamEvent
from chat_core.runs import Run


def iter_run(run: Run, after: int = 0) -> Iterator[tuple[int, StreamEvent]]:
    """``(seq, event)`` after ``after``, blocking; ends after ``Done``."""
    seq = after
    while True:
        for event in run.read(seq, 0.1):
            seq += 1
            yield seq, event
        if run.finished and seq >= run.last_seq:
            return


async def aiter_run(run: Run, after: int = 0) -> AsyncIterator[tuple[int, StreamEvent]]:
    """Async twin of ``iter_run``."""
    seq = after
    while True:
        for event in await run.aread(seq, None):
            seq += 1
            yield seq, event
        if run.finished and seq >= run.last_seq:
            return
