"""Runs: a seq-numbered buffer filled by its own task, consumers that come and go, cancel."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator

import pytest

from chat_core.errors import CapacityError
from chat_core.events import Done, ReasoningDelta, StreamError, StreamEvent, TextDelta, Usage
from chat_core.runs import Run, RunRegistry, start_run
from tests.support.polling import wait_for
from tests.support.runs import aiter_run, iter_run


class Gate:
    """A source that yields one event each time the test opens the gate (no clocks)."""

    def __init__(self, events: list[StreamEvent]) -> None:
        self.events = events
        self.opened = asyncio.Semaphore(0)
        self.closed = False

    def open(self, n: int = 1) -> None:
        for _ in range(n):
            self.opened.release()

    async def source(self) -> AsyncIterator[StreamEvent]:
        try:
            for event in self.events:
                await self.opened.acquire()
                yield event
        finally:
            self.closed = True  # what closing the upstream response looks like


EVENTS: list[StreamEvent] = [TextDelta("a"), TextDelta("b"), Usage(1, 2), Done("stop")]


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_events_are_numbered_and_a_late_consumer_gets_them_all() -> None:
    async def main() -> None:
        gate = Gate(EVENTS)
        run = Run()
        run.start(gate.source())
        gate.open(4)
        await settle()
        assert run.finished and run.finish_reason == "stop" and run.text == "ab"
        got = [(seq, e) async for seq, e in aiter_run(run)]
        assert got == list(enumerate(EVENTS, 1))
        assert [(s, e) async for s, e in aiter_run(run, 2)] == [(3, EVENTS[2]), (4, EVENTS[3])]
        assert len(run.arrival_times) == 4

    asyncio.run(main())


def test_aread_times_out_empty_then_wakes_on_the_next_event() -> None:
    async def main() -> None:
        gate = Gate(EVENTS)
        run = Run()
        run.start(gate.source())
        assert await run.aread(0, 0.01) == []  # a ping would go out here
        waiter = asyncio.ensure_future(run.aread(0, 10))
        await settle()
        assert not waiter.done()
        gate.open()
        assert await waiter == [TextDelta("a")]
        gate.open(3)
        await settle()
        assert await run.aread(1, 10) == EVENTS[1:]
        assert await run.aread(4, 10) == []  # finished: returns at once

    asyncio.run(main())


def test_consumer_going_away_does_not_stop_the_run() -> None:
    async def main() -> None:
        gate = Gate(EVENTS)
        run = Run()
        run.start(gate.source())
        consumer = asyncio.ensure_future(run.aread(0, None))
        await settle()
        consumer.cancel()  # the HTTP client disconnected
        gate.open(4)
        await settle()
        assert run.finish_reason == "stop" and not run.cancel_requested

    asyncio.run(main())


def test_cancel_closes_the_source_at_once_and_keeps_the_partial_answer() -> None:
    async def main() -> None:
        gate = Gate(EVENTS)
        run = Run()
        finished: list[str | None] = []
        run.add_finish_callback(lambda r: finished.append(r.finish_reason))
        run.start(gate.source())
        gate.open()
        await settle()
        assert run.cancel() is True
        await settle()
        assert gate.closed
        assert run.events == [TextDelta("a"), Done("cancelled")]
        assert finished == ["cancelled"]
        assert run.cancel() is False  # already finished

    asyncio.run(main())


def test_finish_callback_added_after_the_end_runs_at_once() -> None:
    run = Run()
    run.append(Done("stop"))
    seen: list[Run] = []
    run.add_finish_callback(seen.append)
    assert seen == [run]


def test_a_source_that_raises_or_ends_early_still_ends_with_done() -> None:
    async def boom() -> AsyncIterator[StreamEvent]:
        yield TextDelta("x")
        raise RuntimeError("secret internals")

    async def short() -> AsyncIterator[StreamEvent]:
        yield TextDelta("y")

    async def main() -> None:
        for source, last in ((boom(), Done("error")), (short(), Done("error"))):
            run = Run()
            run.start(source)
            await settle()
            assert run.events[-1] == last
            assert isinstance(run.error, StreamError) and "secret" not in run.error.message

    asyncio.run(main())


def test_sync_consumer_on_another_thread_sees_every_event() -> None:
    gate_events = [TextDelta(str(i)) for i in range(50)] + [Done("stop")]

    async def source() -> AsyncIterator[StreamEvent]:
        for event in gate_events:
            await asyncio.sleep(0)
            yield event

    run = start_run(source, registry=RunRegistry())
    got: list[int] = []
    reader = threading.Thread(target=lambda: got.extend(s for s, _ in iter_run(run)))
    reader.start()
    reader.join(10)
    assert got == list(range(1, 52))
    assert run.read(51, 0) == []
    assert run.read(50, 0) == [Done("stop")]


def test_registry_caps_active_runs_and_frees_the_slot_when_one_finishes() -> None:
    registry = RunRegistry(max_active=2)
    first, second = registry.create(), registry.create()
    assert registry.active == 2
    with pytest.raises(CapacityError):
        registry.create()
    first.append(Done("stop"))
    assert registry.active == 1
    third = registry.create()
    assert registry.get(third.id) is third and registry.get(second.id) is second
    assert registry.cancel_all() == 2
    assert registry.active == 0
    assert second.finish_reason == "cancelled"


def test_registry_forgets_finished_runs_after_the_ttl() -> None:
    registry = RunRegistry(ttl_s=0.05)
    run = registry.create()
    assert registry.get(run.id) is run
    run.append(Done("stop"))
    assert run.finished_at is not None
    run.finished_at -= 1.0  # as if it finished a second ago
    assert registry.get(run.id) is None
    assert registry.get("no-such-run") is None


def test_registry_drops_oldest_finished_runs_over_its_bounds() -> None:
    registry = RunRegistry(max_runs=3)
    runs = [registry.create() for _ in range(3)]
    for run in runs:
        run.append(Done("stop"))
    newest = registry.create()
    assert registry.get(runs[0].id) is None
    assert registry.get(newest.id) is newest
    assert len(registry) <= 3


def test_a_reader_that_sees_done_sees_what_the_finish_callbacks_did() -> None:
    stored: list[str] = []

    def slow_store(run: Run) -> None:
        time.sleep(0.05)  # a database write, racing the reader below
        stored.append(run.text)

    async def source() -> AsyncIterator[StreamEvent]:
        yield TextDelta("kept")
        yield Done("stop")

    for _ in range(5):
        stored.clear()
        run = start_run(source, registry=RunRegistry())
        run.add_finish_callback(slow_store)
        seen = [e for _, e in iter_run(run)]
        assert seen[-1] == Done("stop")
        assert stored == ["kept"], "the reader saw the end before the answer was stored"


@pytest.mark.parametrize(
    "bad",
    [
        TextDelta([{"type": "text", "text": "x"}]),  # type: ignore[arg-type]
        ReasoningDelta(None),  # type: ignore[arg-type]
        Usage("3", 4),  # type: ignore[arg-type]
        StreamError("weird", "x", True),  # type: ignore[arg-type]
        Done("mystery"),  # type: ignore[arg-type]
        "a plain string",
    ],
    ids=["list-text", "none-reasoning", "str-usage", "bad-code", "bad-finish", "not-an-event"],
)
def test_an_event_no_consumer_can_show_ends_the_run_as_an_internal_error(bad: object) -> None:
    async def source() -> AsyncIterator[StreamEvent]:
        yield TextDelta("ok")
        yield bad  # type: ignore[misc]
        yield TextDelta("never")
        yield Done()

    run = start_run(source, registry=RunRegistry())
    assert wait_for(lambda: run.finished)
    assert run.events[0] == TextDelta("ok")
    assert [type(e) for e in run.events[1:]] == [StreamError, Done]
    assert run.error is not None and run.error.code == "internal"
    assert run.finish_reason == "error" and run.text == "ok"


def test_a_source_that_fails_to_start_and_fail_itself() -> None:
    def broken() -> AsyncIterator[StreamEvent]:
        raise RuntimeError("no stream for you")

    run = start_run(broken, registry=RunRegistry())
    assert run.finished and run.finish_reason == "error" and run.error.code == "internal"
    finished = Run()
    finished.append(Done())
    assert finished.fail() is False and finished.events == [Done()]
    calls: list[str] = []
    live = Run()
    live.add_finish_callback(lambda r: calls.append(r.finish_reason or ""))
    live.add_finish_callback(lambda r: 1 / 0)  # a failing callback breaks nothing
    assert live.fail("could not show it") is True
    assert live.events == [StreamError("internal", "could not show it", False), Done("error")]
    assert calls == ["error"]
    live.add_finish_callback(lambda r: 1 / 0)  # at once, still caught
