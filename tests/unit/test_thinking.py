"""Reasoning rendered live: the answer's coalescing and block rules, then a hand-over."""

from __future__ import annotations

from chat_core.chat import reasoning_first, render_reasoning, render_run, thinking_label
from chat_core.chat.render import NEW_BLOCK
from chat_core.events import Done, ReasoningDelta, StreamError, StreamEvent, TextDelta, Usage
from tests.unit.test_render import ScriptedRun, tokens_at


def shown(pieces: list[object]) -> str:
    return "".join(p for p in pieces if isinstance(p, str))


def test_reasoning_streams_then_hands_over_to_the_answer_once_each() -> None:
    script: list[tuple[float, StreamEvent]] = [
        (0.0, TextDelta("")),  # a role-only first chunk
        (0.1, ReasoningDelta("First, ")),
        (0.2, ReasoningDelta("the sum.\n\nThen")),
        (0.3, ReasoningDelta(" the check.")),
        (1.0, TextDelta("4")),
        (1.1, ReasoningDelta("late")),  # interleaved after the answer began: not live
        (1.2, TextDelta(".")),
        (1.2, Usage(1, 5, 3)),
        (1.2, Done()),
    ]
    run = ScriptedRun(script)
    assert reasoning_first(run)  # type: ignore[arg-type]
    seen: list[int] = []
    thoughts = render_reasoning(run, clock=run.clock, on_event=lambda s, _e: seen.append(s))  # type: ignore[arg-type]
    pieces = list(thoughts)
    assert shown(pieces) == "First, the sum.\n\nThen the check."
    assert NEW_BLOCK in pieces  # block-split like an answer
    assert thoughts.seq == 4 and seen == [1, 2, 3, 4]  # stops before the answer's first text
    answer = list(
        render_run(run, thoughts.seq, clock=run.clock, on_event=lambda s, _e: seen.append(s))
    )  # type: ignore[arg-type]
    assert shown(answer) == "4."
    assert seen == list(range(1, len(script) + 1))  # every event consumed exactly once


def test_long_reasoning_is_coalesced_per_frame() -> None:
    words = [f" w{i}" for i in range(480)]  # 2 s at 240 tokens/s
    script = [(t, ReasoningDelta(e.text)) for t, e in tokens_at(240, words)]  # type: ignore[union-attr]
    script += [(2.0, TextDelta("ok")), (2.0, Done())]
    run = ScriptedRun(script)  # type: ignore[arg-type]
    pieces = list(render_reasoning(run, clock=run.clock, frame_s=0.04))  # type: ignore[arg-type]
    texts = [p for p in pieces if isinstance(p, str)]
    assert shown(texts) == "".join(words)
    assert 40 <= len(texts) <= 52  # one update a frame, not one a token


def test_no_reasoning_means_no_thinking_element() -> None:
    for first in (TextDelta("Hi"), StreamError("server", "x", True), Done()):
        run = ScriptedRun([(0.0, Usage(1, 1)), (0.2, first), (0.3, Done())])
        assert not reasoning_first(run)  # type: ignore[arg-type]


def test_reasoning_that_ends_in_an_error_leaves_the_error_to_the_answer() -> None:
    script = [
        (0.0, ReasoningDelta("hm")),
        (0.1, StreamError("server", "x", True)),
        (0.1, Done("error")),
    ]
    run = ScriptedRun(script)  # type: ignore[arg-type]
    thoughts = render_reasoning(run, clock=run.clock)  # type: ignore[arg-type]
    assert shown(list(thoughts)) == "hm" and thoughts.seq == 1
    events: list[StreamEvent] = []
    list(render_run(run, thoughts.seq, clock=run.clock, on_event=lambda _s, e: events.append(e)))  # type: ignore[arg-type]
    assert events == [script[1][1], Done("error")]


def test_reasoning_images_are_inert() -> None:
    run = ScriptedRun([(0.0, ReasoningDelta("see ![x](http://outside/p.png)")), (0.1, Done())])
    assert shown(list(render_reasoning(run, clock=run.clock))) == "see !\\[x](http://outside/p.png)"  # type: ignore[arg-type]


def test_labels() -> None:
    assert thinking_label(None, streaming=True) == "Thinking..."
    assert thinking_label(12.4) == "Thought for 12 s"
    assert thinking_label(0.3) == thinking_label(None) == "Thought for a moment"
