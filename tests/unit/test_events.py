"""The event types: reasoning kept apart from the answer, defaults that old code relies on."""

from __future__ import annotations

from chat_core import Done, ReasoningDelta, TextDelta, Usage, answer_text, reasoning_text
from chat_core.events import FINISH_REASONS, StreamEvent


def test_reasoning_is_never_answer_text() -> None:
    events: list[StreamEvent] = [
        ReasoningDelta("The user asks "),
        ReasoningDelta("about rivers."),
        TextDelta("The Nile."),
        Done(),
    ]
    assert answer_text(events) == "The Nile."
    assert reasoning_text(events) == "The user asks about rivers."


def test_new_fields_default_to_the_old_meaning() -> None:
    assert Done() == Done("stop", refused=False, tool_names=())
    assert Usage(3, 4).reasoning_tokens is None
    assert Usage(3, 4, reasoning_tokens=2) != Usage(3, 4)


def test_provider_finish_reasons_are_kept() -> None:
    assert {"content_filter", "tool_calls"} <= set(FINISH_REASONS)
    assert Done("tool_calls", tool_names=("get_weather",)).tool_names == ("get_weather",)
